//! Text normalisation: Unicode NFKC (full-width → half-width), control
//! characters removed, white space trimmed and collapsed. Idempotent.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

fn is_clean_ascii(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first().is_some_and(|c| *c == b' ') || b.last().is_some_and(|c| *c == b' ') {
        return false;
    }
    let mut prev_space = false;
    for &c in b {
        if !(0x20..0x7f).contains(&c) {
            return false;
        }
        let space = c == b' ';
        if space && prev_space {
            return false;
        }
        prev_space = space;
    }
    true
}

fn is_clean_unicode(s: &str) -> bool {
    let mut prev_space = true;
    for c in s.chars() {
        if c.is_control() {
            return false;
        }
        if c.is_whitespace() {
            if c != ' ' || prev_space {
                return false;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
    }
    (!prev_space || s.is_empty()) && is_nfkc_quick(s.chars()) == IsNormalized::Yes
}

/// One line of text: NFKC, control characters dropped, every run of white space
/// one space, trimmed. Returns `None` when it was already clean (no allocation).
pub fn clean_text(s: &str) -> Option<String> {
    if is_clean_ascii(s) || is_clean_unicode(s) {
        return None;
    }
    let nfkc: String = if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        s.to_string()
    } else {
        s.nfkc().collect()
    };
    let mut out = String::with_capacity(nfkc.len());
    for word in nfkc.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        let word: String = word.chars().filter(|c| !c.is_control()).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    (out != s).then_some(out)
}

/// A block of text (a note, a summary): NFKC, control characters other than
/// line breaks and tabs dropped, each line's end trimmed, the whole trimmed.
pub fn clean_block(s: &str) -> Option<String> {
    let nfkc: String = if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        s.to_string()
    } else {
        s.nfkc().collect()
    };
    let lines: Vec<String> = nfkc
        .split('\n')
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    let out = lines.join("\n").trim().to_string();
    (out != s).then_some(out)
}

/// Cleans a string in place with `f`.
pub(crate) fn tidy(s: &mut String, f: fn(&str) -> Option<String>) {
    if let Some(clean) = f(s) {
        *s = clean;
    }
}

/// Cleans an optional string in place; one that ends empty becomes `None`.
pub(crate) fn tidy_opt(s: &mut Option<String>) {
    if let Some(v) = s {
        tidy(v, clean_text);
        if v.is_empty() {
            *s = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clean(s: &str) -> String {
        clean_text(s).unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn full_width_and_spaces() {
        assert_eq!(clean("  Ｗｅｉ　　Ｚｈａｎｇ "), "Wei Zhang");
        assert_eq!(clean("张\u{3000}伟"), "张 伟");
        assert_eq!(clean("a\u{0}b\tc\n"), "ab c");
        assert_eq!(clean_text("already clean"), None);
        assert_eq!(clean("１２３－４５"), "123-45");
    }

    #[test]
    fn blocks_keep_lines() {
        assert_eq!(
            clean_block("  line one  \n\u{7}line two\r\n").as_deref(),
            Some("line one\nline two")
        );
    }

    proptest! {
        #[test]
        fn clean_text_is_idempotent(s in any::<String>()) {
            let once = clean(&s);
            prop_assert_eq!(clean_text(&once), None, "{:?} -> {:?}", s, once);
        }

        #[test]
        fn clean_block_is_idempotent(s in any::<String>()) {
            let once = clean_block(&s).unwrap_or(s);
            prop_assert_eq!(clean_block(&once), None);
        }
    }
}
