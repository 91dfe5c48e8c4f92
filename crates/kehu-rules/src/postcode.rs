//! Postcodes per country: the canonical form and the pattern it must match.

use std::borrow::Cow;

use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

use regex::Regex;

/// Built-in patterns for the canonical forms [`normalize_postcode`] produces.
const PATTERNS: &[(&str, &str)] = &[
    ("CN", r"^[0-9]{6}$"),
    ("US", r"^[0-9]{5}(-[0-9]{4})?$"),
    (
        "GB",
        r"^(GIR 0AA|[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][ABD-HJLNP-UW-Z]{2})$",
    ),
    ("DE", r"^[0-9]{5}$"),
    ("FR", r"^[0-9]{5}$"),
    ("JP", r"^[0-9]{3}-[0-9]{4}$"),
    ("AU", r"^[0-9]{4}$"),
    (
        "CA",
        r"^[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] [0-9][ABCEGHJ-NPRSTV-Z][0-9]$",
    ),
    ("NL", r"^[1-9][0-9]{3} [A-Z]{2}$"),
    ("IT", r"^[0-9]{5}$"),
    ("ES", r"^[0-9]{5}$"),
    ("IN", r"^[1-9][0-9]{5}$"),
    ("KR", r"^[0-9]{5}$"),
    ("TW", r"^[0-9]{3}([0-9]{2,3})?$"),
    ("SG", r"^[0-9]{6}$"),
    ("CH", r"^[0-9]{4}$"),
    ("AT", r"^[0-9]{4}$"),
];

static COMPILED: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .filter_map(|(c, p)| Regex::new(p).ok().map(|r| (*c, r)))
        .collect()
});

/// The built-in pattern for a country's postcodes, if kehu knows one.
pub fn postcode_pattern(country: &str) -> Option<&'static Regex> {
    COMPILED.iter().find(|(c, _)| *c == country).map(|(_, r)| r)
}

/// The canonical form of a postcode for a country: upper case, and the
/// country's spacing (`SW1A 1AA`, `K1A 0B1`, `100-0001`, `1012 AB`).
pub fn normalize_postcode<'a>(postcode: &'a str, country: Option<&str>) -> Cow<'a, str> {
    let trimmed = postcode.trim().trim_start_matches('〒').trim();
    let plain = trimmed.len() == postcode.len()
        && postcode
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'-');
    if plain && !matches!(country, Some("GB" | "CA" | "NL" | "JP")) {
        return Cow::Borrowed(postcode);
    }
    // Upper-casing can leave text that is no longer NFKC (Ϊ̀ → Ϊ̀): compose again.
    let upper: String = if trimmed.is_ascii() {
        trimmed.to_uppercase()
    } else {
        trimmed.to_uppercase().nfkc().collect()
    };
    let compact: String = upper.chars().filter(|c| !c.is_whitespace()).collect();
    let split_at = |s: &str, tail: usize, sep: char| {
        if s.len() > tail && s.is_ascii() {
            format!("{}{sep}{}", &s[..s.len() - tail], &s[s.len() - tail..])
        } else {
            s.to_string()
        }
    };
    let out = match country {
        Some("GB" | "CA") => split_at(&compact, 3, ' '),
        Some("NL") => split_at(&compact, 2, ' '),
        Some("JP") if compact.len() == 7 && compact.bytes().all(|b| b.is_ascii_digit()) => {
            split_at(&compact, 4, '-')
        }
        Some("US" | "CN" | "DE" | "FR" | "AU" | "JP" | "IT" | "ES" | "IN" | "KR" | "SG") => compact,
        _ => upper,
    };
    if out == postcode {
        Cow::Borrowed(postcode)
    } else {
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(country: &str, raw: &str) -> bool {
        let n = normalize_postcode(raw, Some(country));
        postcode_pattern(country).is_some_and(|p| p.is_match(&n))
    }

    #[test]
    fn each_country_has_its_form() {
        assert!(ok("CN", "100080"));
        assert!(!ok("CN", "10008"));
        assert!(ok("US", "94105"));
        assert!(ok("US", "94105-1234"));
        assert!(!ok("US", "9410"));
        assert!(ok("GB", "sw1a1aa"));
        assert_eq!(normalize_postcode("sw1a1aa", Some("GB")), "SW1A 1AA");
        assert!(ok("GB", "EC1A 1BB"));
        assert!(!ok("GB", "12345"));
        assert!(ok("DE", "10115"));
        assert!(ok("FR", "75008"));
        assert!(!ok("FR", "7500"));
        assert_eq!(normalize_postcode("〒1000001", Some("JP")), "100-0001");
        assert!(ok("JP", "100-0001"));
        assert!(ok("AU", "2000"));
        assert!(!ok("AU", "20000"));
        assert!(ok("CA", "k1a0b1"));
        assert!(!ok("CA", "D1A 0B1"));
        assert_eq!(normalize_postcode(" ab-12 ", Some("ZZ")), "AB-12");
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        let once = normalize_postcode("ῒ", None).into_owned();
        assert_eq!(normalize_postcode(&once, None), once);
        for (c, raw) in [
            ("GB", "sw1a1aa"),
            ("CA", "k1a 0b1"),
            ("JP", "1000001"),
            ("NL", "1012ab"),
        ] {
            let once = normalize_postcode(raw, Some(c));
            assert_eq!(normalize_postcode(&once, Some(c)), once);
        }
    }
}
