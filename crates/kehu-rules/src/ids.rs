//! The two identifiers a Chinese customer file carries: the resident
//! identity card number (居民身份证号, GB 11643) and the unified social credit
//! code of an organisation (统一社会信用代码, GB 32100).

use chrono::{Datelike, NaiveDate};
use kehu_model::Customer;

use crate::{Report, Severity};
use serde::{Deserialize, Serialize};

/// An identifier scheme a field's values are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identifier {
    /// 居民身份证号: 18 characters, the last an ISO 7064 MOD 11-2 check
    /// character (`X` allowed), a region prefix and a real birth date inside;
    /// 15-digit numbers of the first generation are read and upgraded.
    CnResidentId,
    /// 统一社会信用代码: 18 characters of the GB 32100 alphabet (digits and
    /// capitals without I, O, Z, S, V), the last a MOD 31 check character.
    CnCreditCode,
}

/// What a check of an identifier found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdProblem {
    /// Not the length or characters the scheme has.
    Form(String),
    /// The check character does not fit the others.
    CheckDigit,
    /// The first digits name no province-level region.
    Region,
    /// The birth date inside is no real date, or lies ahead.
    BirthDate,
}

impl IdProblem {
    /// The violation code a report gives it.
    pub fn code(&self) -> &'static str {
        match self {
            IdProblem::Form(_) => "id.form",
            IdProblem::CheckDigit => "id.check",
            IdProblem::Region => "id.region",
            IdProblem::BirthDate => "id.date",
        }
    }
}

impl std::fmt::Display for IdProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdProblem::Form(why) => f.write_str(why),
            IdProblem::CheckDigit => f.write_str("its check character does not fit the others"),
            IdProblem::Region => f.write_str("its first two digits name no province-level region"),
            IdProblem::BirthDate => f.write_str("the birth date inside it is not a real past date"),
        }
    }
}

/// A resident ID read: the 18-character form and the birth date inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentId {
    /// The number in its 18-character form (`x` as `X`; a 15-digit number upgraded).
    pub number: String,
    /// The birth date it holds.
    pub birth_date: NaiveDate,
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Province-level region codes: the mainland, then 71 Taiwan, 81 Hong Kong,
/// 82 Macao and 83 (residence permits of Taiwan residents).
const ID_REGIONS: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// The check character of a resident ID's first 17 digits.
fn id_check(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK[(sum % 11) as usize]
}

/// Reads a resident ID (spaces ignored, `x` read as `X`): its 18-character
/// form and birth date, or what is wrong with it. `today` bounds the date.
pub fn check_resident_id(text: &str, today: NaiveDate) -> Result<ResidentId, IdProblem> {
    let mut s: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() == 15 && s.iter().all(u8::is_ascii_digit) {
        // The first generation: 6 region digits, YYMMDD in the 1900s, 3 more.
        s.splice(6..6, *b"19");
        s.push(id_check(&s));
    }
    let well_formed = s.len() == 18
        && s[..17].iter().all(u8::is_ascii_digit)
        && (s[17].is_ascii_digit() || s[17] == b'X');
    if !well_formed {
        return Err(IdProblem::Form(
            "a resident ID has 18 characters: 17 digits and a digit or X".into(),
        ));
    }
    if id_check(&s[..17]) != s[17] {
        return Err(IdProblem::CheckDigit);
    }
    let region = (s[0] - b'0') * 10 + (s[1] - b'0');
    if !ID_REGIONS.contains(&region) {
        return Err(IdProblem::Region);
    }
    let number = String::from_utf8(s).map_err(|_| IdProblem::CheckDigit)?;
    let birth_date = NaiveDate::parse_from_str(&number[6..14], "%Y%m%d")
        .ok()
        .filter(|d| *d <= today && d.year() >= 1800)
        .ok_or(IdProblem::BirthDate)?;
    Ok(ResidentId { number, birth_date })
}

/// The GB 32100 alphabet: a character's value is its place.
const CODE_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn code_value(c: u8) -> Option<u32> {
    CODE_ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character of a credit code's first 17 characters (all of the alphabet).
fn code_check(chars: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (&c, w) in chars.iter().zip(CODE_WEIGHTS) {
        sum += code_value(c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    Some(CODE_ALPHABET[v as usize])
}

/// Reads a unified social credit code (spaces ignored, letters upper-cased):
/// its 18-character form, or what is wrong with it.
pub fn check_credit_code(text: &str) -> Result<String, IdProblem> {
    let s: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if s.len() != 18 || s.iter().any(|&c| code_value(c).is_none()) {
        return Err(IdProblem::Form(
            "a credit code has 18 characters of digits and capitals other than I, O, Z, S and V"
                .into(),
        ));
    }
    if code_check(&s[..17]) != Some(s[17]) {
        return Err(IdProblem::CheckDigit);
    }
    String::from_utf8(s).map_err(|_| IdProblem::CheckDigit)
}

impl Identifier {
    /// The canonical form of a valid identifier (`x` as `X`, spaces
    /// dropped, a 15-digit resident ID upgraded); none for an invalid one.
    /// Any date will do to read the form: the check proper runs in validation.
    pub fn canonical(self, text: &str) -> Option<String> {
        match self {
            Identifier::CnResidentId => check_resident_id(text, NaiveDate::MAX)
                .ok()
                .map(|r| r.number),
            Identifier::CnCreditCode => check_credit_code(text).ok(),
        }
    }

    /// Puts a valid identifier in its canonical form in place (an invalid one stays as entered).
    pub(crate) fn canonicalize(self, s: &mut String) {
        if let Some(c) = self.canonical(s) {
            if *s != c {
                *s = c;
            }
        }
    }
}

/// Where and how an identifier's problems are reported.
pub(crate) struct IdCheck<'a> {
    pub path: String,
    pub rule: &'a str,
    pub severity: Severity,
    /// The severity of a resident ID whose birth date is not the dossier's.
    pub birth_date: Severity,
    /// A message that replaces the check's own.
    pub message: Option<&'a str>,
}

impl IdCheck<'_> {
    /// Checks `text` against the scheme: its form and check character, and
    /// for a resident ID its region, its birth date and the dossier's.
    pub fn run(
        self,
        id: Identifier,
        text: &str,
        c: &Customer,
        today: NaiveDate,
        report: &mut Report,
    ) {
        let problem = match id {
            Identifier::CnResidentId => match check_resident_id(text, today) {
                Ok(read) => {
                    if c.birth_date.is_some_and(|b| b != read.birth_date) {
                        report.push(
                            self.birth_date,
                            self.path.clone(),
                            "id.birth_date",
                            self.rule,
                            "the birth date inside the resident ID is not the dossier's birth date",
                        );
                    }
                    None
                }
                Err(p) => Some((format!("not a valid resident ID: {p}"), p)),
            },
            Identifier::CnCreditCode => check_credit_code(text)
                .err()
                .map(|p| (format!("not a valid credit code: {p}"), p)),
        };
        if let Some((message, p)) = problem {
            let message = self.message.map_or(message, str::to_string);
            report.push(self.severity, self.path, p.code(), self.rule, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn the_published_examples_pass() {
        // GB 11643-1999's own examples.
        for id in [
            "11010519491231002X",
            "440524188001010014",
            "11010519491231002x",
        ] {
            let r = check_resident_id(id, today()).unwrap();
            assert_eq!(r.number, id.to_uppercase());
        }
        assert_eq!(
            check_resident_id("11010519491231002X", today())
                .unwrap()
                .birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        // GB 32100-2015's example.
        assert_eq!(
            check_credit_code("91350100M000100Y43").unwrap(),
            "91350100M000100Y43"
        );
        assert_eq!(
            check_credit_code("9135 0100 m000 100y 43").unwrap(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn what_is_wrong_is_said() {
        let id = |s: &str| check_resident_id(s, today()).unwrap_err();
        assert_eq!(id("110105194912310021"), IdProblem::CheckDigit);
        assert!(matches!(id("11010519491231002"), IdProblem::Form(_)));
        assert!(matches!(id("1101051949123100AX"), IdProblem::Form(_)));
        // 99 is no region; 19491331 no date; 20991231 ahead of today (check digits right).
        let fix = |head: &str| {
            let mut s = head.as_bytes().to_vec();
            let c = id_check(&s);
            s.push(c);
            String::from_utf8(s).unwrap()
        };
        assert_eq!(id(&fix("99010519491231002")), IdProblem::Region);
        assert_eq!(id(&fix("11010519491331002")), IdProblem::BirthDate);
        assert_eq!(id(&fix("11010520991231002")), IdProblem::BirthDate);
        assert_eq!(
            check_credit_code("91350100M000100Y44").unwrap_err(),
            IdProblem::CheckDigit
        );
        assert!(matches!(
            check_credit_code("91350100I000100Y43").unwrap_err(),
            IdProblem::Form(_)
        ));
    }

    #[test]
    fn a_first_generation_number_is_upgraded() {
        // 15 digits: 110105 491231 002 → 110105 19491231 002 X.
        let r = check_resident_id("110105491231002", today()).unwrap();
        assert_eq!(r.number, "11010519491231002X");
    }

    fn with_check(body: &[u8], check: fn(&[u8]) -> u8) -> Vec<u8> {
        let mut s = body.to_vec();
        let c = check(&s);
        s.push(c);
        s
    }

    proptest! {
        /// A number made with its right check character passes; any one
        /// character changed fails.
        #[test]
        fn a_right_check_passes_and_any_changed_digit_fails(
            region in prop::sample::select(ID_REGIONS),
            rest in "[0-9]{4}",
            days in 0i64..40_000,
            seq in "[0-9]{3}",
            at in 0usize..18,
            to in 0u8..10,
        ) {
            let born = NaiveDate::from_ymd_opt(1910, 1, 1).unwrap() + chrono::TimeDelta::days(days);
            let body = format!("{region:02}{rest}{}{seq}", born.format("%Y%m%d"));
            let good = with_check(body.as_bytes(), id_check);
            let text = String::from_utf8(good.clone()).unwrap();
            let read = check_resident_id(&text, today()).unwrap();
            prop_assert_eq!(read.birth_date, born);
            let mut bad = good.clone();
            bad[at] = if at == 17 && to == 0 { b'X' } else { b'0' + to };
            prop_assume!(bad != good);
            let bad = String::from_utf8(bad).unwrap();
            prop_assert!(check_resident_id(&bad, today()).is_err(), "{} passed", bad);
        }

        #[test]
        fn a_credit_code_with_its_check_passes_and_a_change_fails(
            body in "[0-9A-HJ-NP-RTUW-Y]{17}",
            at in 0usize..18,
            to in 0usize..31,
        ) {
            let good = with_check(body.as_bytes(), |b| code_check(b).unwrap_or(b'0'));
            let text = String::from_utf8(good.clone()).unwrap();
            prop_assert_eq!(check_credit_code(&text).unwrap(), text.clone());
            let mut bad = good.clone();
            bad[at] = CODE_ALPHABET[to];
            prop_assume!(bad != good);
            let bad = String::from_utf8(bad).unwrap();
            prop_assert!(check_credit_code(&bad).is_err(), "{} passed", bad);
        }
    }
}
