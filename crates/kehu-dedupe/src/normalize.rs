//! Normalisation per field type: the form values are compared and blocked in.
//!
//! Text is folded to lower-case ASCII: accents go (`Müller` → `muller`),
//! full-width and compatibility forms go, and Chinese characters become
//! pinyin syllables (`张伟` → `zhang wei`), so a name entered in characters and
//! one entered in pinyin meet. Punctuation becomes a space.

use chrono::{Datelike, NaiveDate};

use crate::FieldType;

/// Lower-case ASCII words separated by single spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let push = |text: &str, out: &mut String| {
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(b.to_ascii_lowercase() as char);
            } else if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        }
    };
    if s.is_ascii() {
        push(s, &mut out);
    } else {
        for c in s.chars() {
            if c.is_ascii() {
                push(c.encode_utf8(&mut [0; 4]), &mut out);
            } else if let Some(t) = deunicode::deunicode_char(c) {
                // Each CJK syllable is its own word: 张伟 → "zhang wei".
                let cjk =
                    matches!(u32::from(c), 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF);
                if cjk && !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                push(t, &mut out);
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A name part as one word: `Xiu Yun`, `xiuyun` and `秀云` all give `xiuyun`;
/// `O'Brien` gives `obrien`.
pub fn name_word(s: &str) -> String {
    let mut f = fold(s);
    f.retain(|c| c != ' ');
    f
}

/// A whole person's name as its words in sorted order, so that
/// `Wei Zhang` and `Zhang Wei` are the same.
pub fn person_name(s: &str) -> String {
    let f = fold(s);
    let mut words: Vec<&str> = f.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.join(" ")
}

/// An e-mail address trimmed and lower-cased, without a `mailto:` prefix.
pub fn email(s: &str) -> String {
    let t = s.trim().to_lowercase();
    match t.strip_prefix("mailto:") {
        Some(rest) => rest.to_string(),
        None => t,
    }
}

/// The last nine digits of a phone number: the part every national and
/// international way of writing it shares (`+86 138 0013 8000`,
/// `0086 13800138000`, `138-0013-8000`). Fewer than six digits is no number.
pub fn phone(s: &str) -> String {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() < 6 {
        return String::new();
    }
    let start = digits.len().saturating_sub(9);
    String::from_utf8_lossy(&digits[start..]).into_owned()
}

/// A date in any common format as `YYYYMMDD`: `19900102`, `1990-01-02`,
/// `1990/1/2`, `02/01/1990` (day first unless the first number cannot be a
/// day… or the second cannot be a month), `02.01.1990`, `1990年1月2日`.
pub fn date_key(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let nums: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let (y, m, d) = match nums.as_slice() {
        [one] if one.len() == 8 => {
            let v: u32 = one.parse().ok()?;
            let (a, b, c) = (v / 10_000, v / 100 % 100, v % 100);
            if a >= 1000 {
                (a as i32, b, c)
            } else {
                // DDMMYYYY
                (v as i32 % 10_000, v / 10_000 % 100, v / 1_000_000)
            }
        }
        [a, b, c] if a.len() == 4 => (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?),
        [a, b, c] if c.len() == 4 => {
            let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
            let y = c.parse().ok()?;
            if a > 12 || b <= 12 {
                (y, b, a)
            } else {
                (y, a, b)
            }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    if !(1800..=2200).contains(&date.year()) {
        return None;
    }
    Some(date.year() as u32 * 10_000 + date.month() * 100 + date.day())
}

/// A postcode as upper-case letters and digits: `sw1a 1aa` → `SW1A1AA`.
pub fn postcode(s: &str) -> String {
    fold(s)
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase() as char)
        .collect()
}

/// Street words written out or abbreviated, mapped to one form.
const STREET_WORDS: &[(&str, &str)] = &[
    ("street", "st"),
    ("str", "st"),
    ("strasse", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("road", "rd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("boulevard", "blvd"),
    ("place", "pl"),
    ("apartment", "apt"),
    ("suite", "ste"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("crescent", "cres"),
    ("terrace", "tce"),
    ("highway", "hwy"),
    ("square", "sq"),
    ("circuit", "cct"),
    ("parade", "pde"),
    ("close", "cl"),
    ("mount", "mt"),
    ("saint", "st"),
    ("lu", "lu"),
    ("dao", "lu"),
];

/// Address text folded, with street words in one form (`Street` ~ `St`,
/// `Straße` ~ `Str.`); `#` ~ `Apt`.
pub fn address(s: &str) -> String {
    let s = s.replace('#', " apt ");
    let f = fold(&s);
    let map = |w: &str| -> String {
        STREET_WORDS
            .iter()
            .find(|(long, _)| *long == w)
            .map_or(w, |(_, short)| short)
            .to_string()
    };
    let mut words: Vec<String> = Vec::new();
    for w in f.split(' ').filter(|w| !w.is_empty()) {
        // German compounds: "hauptstrasse" → "haupt st". A stem that ends
        // like a street word itself stays whole, so a second pass changes
        // nothing; a stem is mapped like any word ("streetstr" → "st st").
        match w.strip_suffix("strasse").or_else(|| w.strip_suffix("str")) {
            Some(stem)
                if !stem.is_empty() && !stem.ends_with("str") && !stem.ends_with("strasse") =>
            {
                words.push(map(stem));
                words.push("st".into());
            }
            _ => words.push(map(w)),
        }
    }
    words.join(" ")
}

/// Legal-form words that say nothing about which organisation it is.
const ORG_WORDS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "plc",
    "gmbh",
    "ag",
    "co",
    "corp",
    "corporation",
    "company",
    "group",
    "kg",
    "sa",
    "bv",
    "pty",
    "the",
    "and",
];

/// An organisation's name without its legal form (`Acme Inc.` ~ `ACME`,
/// `华为技术有限公司` ~ `华为技术`), `&` read as `and`.
pub fn org_name(s: &str) -> String {
    let mut s = s.replace('&', " and ");
    for suffix in ["股份有限公司", "有限责任公司", "有限公司", "集团", "公司"] {
        if let Some(stem) = s.trim_end().strip_suffix(suffix) {
            s = stem.to_string();
        }
    }
    let f = fold(&s);
    let words: Vec<&str> = f
        .split(' ')
        .filter(|w| !w.is_empty() && !ORG_WORDS.contains(w))
        .collect();
    words.join(" ")
}

/// The normal form of a value of the given type; empty means missing.
pub fn normalize(kind: FieldType, raw: &str) -> String {
    match kind {
        FieldType::GivenName | FieldType::FamilyName => name_word(raw),
        FieldType::PersonName => person_name(raw),
        FieldType::OrgName => org_name(raw),
        FieldType::Email => email(raw),
        FieldType::Phone => phone(raw),
        FieldType::Date => date_key(raw).map(|d| d.to_string()).unwrap_or_default(),
        FieldType::Postcode => postcode(raw),
        FieldType::Address => address(raw),
        FieldType::Number | FieldType::Identifier => postcode(raw),
        FieldType::City | FieldType::Text | FieldType::Category => fold(raw),
        FieldType::Ignore => String::new(),
    }
}

/// English given names and their usual short forms, as (short, full).
const NICKNAMES: &[(&str, &str)] = &[
    ("abby", "abigail"),
    ("al", "albert"),
    ("alex", "alexander"),
    ("andy", "andrew"),
    ("barb", "barbara"),
    ("becky", "rebecca"),
    ("ben", "benjamin"),
    ("beth", "elizabeth"),
    ("bill", "william"),
    ("billy", "william"),
    ("bob", "robert"),
    ("bobby", "robert"),
    ("cathy", "catherine"),
    ("charlie", "charles"),
    ("chris", "christopher"),
    ("chuck", "charles"),
    ("cindy", "cynthia"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("dave", "david"),
    ("deb", "deborah"),
    ("debbie", "deborah"),
    ("dick", "richard"),
    ("don", "donald"),
    ("dot", "dorothy"),
    ("doug", "douglas"),
    ("drew", "andrew"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("franzi", "franziska"),
    ("fred", "frederick"),
    ("fritz", "friedrich"),
    ("greg", "gregory"),
    ("hannes", "johannes"),
    ("hans", "johann"),
    ("jackie", "jacqueline"),
    ("jake", "jacob"),
    ("jamie", "james"),
    ("jeff", "jeffrey"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("jerry", "gerald"),
    ("jess", "jessica"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("jon", "jonathan"),
    ("josh", "joshua"),
    ("judy", "judith"),
    ("kate", "katherine"),
    ("kathi", "katharina"),
    ("kathy", "katherine"),
    ("katie", "katherine"),
    ("ken", "kenneth"),
    ("kim", "kimberly"),
    ("kit", "christopher"),
    ("larry", "lawrence"),
    ("liz", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("maggie", "margaret"),
    ("matt", "matthew"),
    ("meg", "margaret"),
    ("mike", "michael"),
    ("mikey", "michael"),
    ("nate", "nathan"),
    ("nick", "nicholas"),
    ("pam", "pamela"),
    ("pat", "patricia"),
    ("peggy", "margaret"),
    ("pete", "peter"),
    ("phil", "philip"),
    ("ray", "raymond"),
    ("rich", "richard"),
    ("rick", "richard"),
    ("rob", "robert"),
    ("ron", "ronald"),
    ("sam", "samuel"),
    ("sandy", "sandra"),
    ("steve", "stephen"),
    ("sue", "susan"),
    ("ted", "edward"),
    ("terry", "theresa"),
    ("tim", "timothy"),
    ("tina", "christina"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("tony", "anthony"),
    ("tori", "victoria"),
    ("trish", "patricia"),
    ("vicky", "victoria"),
    ("will", "william"),
    ("wolf", "wolfgang"),
    ("zach", "zachary"),
];

/// Full names that share a short form, read as one.
const SAME_NAMES: &[(&str, &str)] = &[
    ("steven", "stephen"),
    ("phillip", "philip"),
    ("kathryn", "katherine"),
    ("catherine", "katherine"),
    ("christine", "christina"),
    ("alexandra", "alexander"),
    ("samantha", "samuel"),
    ("johannes", "johann"),
];

/// The full form of a given name when it is a known short form (`bill` →
/// `william`); otherwise the name itself.
pub fn canonical_given(name: &str) -> &str {
    let full = NICKNAMES
        .binary_search_by(|(short, _)| short.cmp(&name))
        .map_or(name, |i| NICKNAMES[i].1);
    SAME_NAMES
        .iter()
        .find(|(a, _)| *a == full)
        .map_or(full, |(_, b)| b)
}

/// American Soundex of the first word's letters (`Robert` and `Rupert` →
/// `R163`); `None` when it has no letter.
pub fn soundex(s: &str) -> Option<[u8; 4]> {
    let mut letters = s.bytes().filter(u8::is_ascii_alphabetic);
    let first = letters.next()?.to_ascii_uppercase();
    let code = |b: u8| match b.to_ascii_lowercase() {
        b'b' | b'f' | b'p' | b'v' => b'1',
        b'c' | b'g' | b'j' | b'k' | b'q' | b's' | b'x' | b'z' => b'2',
        b'd' | b't' => b'3',
        b'l' => b'4',
        b'm' | b'n' => b'5',
        b'r' => b'6',
        b'h' | b'w' => b'-',
        _ => b'0',
    };
    let mut out = [first, b'0', b'0', b'0'];
    let mut last = code(first);
    let mut n = 1;
    for b in letters {
        let c = code(b);
        if c == b'-' {
            continue;
        }
        if c != b'0' && c != last {
            out[n] = c;
            n += 1;
            if n == 4 {
                break;
            }
        }
        last = c;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding() {
        assert_eq!(fold("  Müller-Lüdenscheidt "), "muller ludenscheidt");
        assert_eq!(fold("ＡＢＣ　Ｄ"), "abc d");
        assert_eq!(fold("张伟"), "zhang wei");
        assert_eq!(name_word("Xiu Yun"), name_word("秀云"));
        assert_eq!(name_word("O'Brien"), "obrien");
        assert_eq!(person_name("Zhang Wei"), person_name("Wei  ZHANG"));
        assert_eq!(person_name("张伟"), person_name("Wei Zhang"));
    }

    #[test]
    fn contacts() {
        assert_eq!(email(" John.Smith@Gmail.COM "), "john.smith@gmail.com");
        assert_eq!(email("mailto:a@b.cn"), "a@b.cn");
        let same = [
            "+86 138 0013 8000",
            "0086 13800138000",
            "138-0013-8000",
            "13800138000",
        ];
        for p in same {
            assert_eq!(phone(p), "800138000", "{p}");
        }
        assert_eq!(phone("07529 424515"), phone("+44 7529 424515"));
        assert_eq!(phone("12-34"), "");
    }

    #[test]
    fn dates_in_any_common_format() {
        for s in [
            "19900102",
            "1990-01-02",
            "1990/1/2",
            "02/01/1990",
            "02.01.1990",
            "1990年1月2日",
        ] {
            assert_eq!(date_key(s), Some(19900102), "{s}");
        }
        assert_eq!(date_key("12/31/1990"), Some(19901231));
        assert_eq!(date_key("1990-02-30"), None);
        assert_eq!(date_key("hello"), None);
        assert_eq!(date_key(""), None);
    }

    #[test]
    fn addresses_and_organisations() {
        assert_eq!(address("12 Main Street"), address("12 main st."));
        assert_eq!(address("Hauptstraße 5"), address("Hauptstr. 5"));
        assert_eq!(address("Apt. 3"), address("# 3"));
        for tricky in ["xstrstr", "austrstrasse", "str", "strasse strasse"] {
            assert_eq!(address(&address(tricky)), address(tricky), "{tricky}");
        }
        assert_eq!(org_name("Acme Inc."), org_name("ACME"));
        assert_eq!(org_name("Smith and Sons"), org_name("Smith & Sons"));
        assert_eq!(org_name("华为技术有限公司"), org_name("华为技术"));
        assert_eq!(postcode("sw1a 1aa"), "SW1A1AA");
    }

    #[test]
    fn nicknames_and_phonetics() {
        assert_eq!(canonical_given("bill"), "william");
        assert_eq!(canonical_given("william"), "william");
        assert_eq!(canonical_given("steve"), canonical_given("steven"));
        assert_eq!(canonical_given("zara"), "zara");
        assert!(NICKNAMES.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        assert_eq!(soundex("Robert"), Some(*b"R163"));
        assert_eq!(soundex("Rupert"), Some(*b"R163"));
        assert_eq!(soundex("Ashcraft"), Some(*b"A261"));
        assert_eq!(soundex("Tymczak"), Some(*b"T522"));
        assert_eq!(soundex("123"), None);
    }

    proptest! {
        #[test]
        fn street_words_are_fixed_points(s in "(str|strasse|street|st|a|x|#| |\\.){0,10}") {
            let a = address(&s);
            prop_assert_eq!(address(&a), a);
        }

        #[test]
        fn normal_forms_are_fixed_points(s in any::<String>()) {
            let f = fold(&s);
            prop_assert_eq!(fold(&f), f.clone());
            prop_assert!(f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' '));
            let p = person_name(&s);
            prop_assert_eq!(person_name(&p), p);
            let a = address(&s);
            prop_assert_eq!(address(&a), a);
            if let Some(d) = date_key(&s) {
                prop_assert_eq!(date_key(&d.to_string()), Some(d));
            }
        }
    }
}
