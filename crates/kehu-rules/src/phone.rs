//! Phone numbers to E.164, with libphonenumber's metadata (via `rlibphonenumber`).

use rlibphonenumber::{PhoneNumberFormat, Region, PHONE_NUMBER_UTIL};

/// What became of a phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneOutcome {
    /// A valid number, in E.164 form.
    Valid(String),
    /// The number could not be read as a valid number; the text is kept as given.
    Invalid {
        /// Why, and what to do, as a sentence for a person to read.
        reason: String,
    },
}

/// Parses `text` (already cleaned) with `region` as the country of a number
/// written without a country code, and formats it as E.164.
pub fn normalize_phone(text: &str, region: Option<&str>) -> PhoneOutcome {
    let region_code = region.and_then(|r| Region::from_code(r).ok());
    let mut candidate = text;
    let converted;
    if let Some(rest) = text.strip_prefix("00") {
        // An international call prefix used in most of the world.
        converted = format!("+{rest}");
        candidate = &converted;
    }
    match PHONE_NUMBER_UTIL.parse(candidate, region_code) {
        Ok(number) if is_valid(&number, region_code) => {
            PhoneOutcome::Valid(number.format_as(PhoneNumberFormat::E164).to_string())
        }
        Ok(_) => PhoneOutcome::Invalid {
            reason: match region {
                Some(r) if !text.starts_with('+') => {
                    format!("it is not a valid number in region {r}; check its digits or write it with its country code (+86 …)")
                }
                _ => "it is not a valid phone number; check its digits".into(),
            },
        },
        Err(_) if region_code.is_none() && !candidate.starts_with('+') => PhoneOutcome::Invalid {
            reason: "it has no country code and nothing in the record says which country: write it with one (+86 138 0013 8000) or set default_region in the rules".into(),
        },
        Err(e) => PhoneOutcome::Invalid {
            reason: format!("it cannot be read as a phone number ({e})"),
        },
    }
}

/// The same answer as `number.is_valid()`, faster: libphonenumber's general
/// check tries every region that shares the country code (two dozen for +1),
/// so the likely region (the one the record implies, else the code's main
/// region) is tried alone first.
fn is_valid(number: &rlibphonenumber::PhoneNumber, implied: Option<Region>) -> bool {
    let code = number.country_code;
    let likely = implied
        .filter(|r| PHONE_NUMBER_UTIL.get_country_code_for_region(*r) == Some(code))
        .or_else(|| PHONE_NUMBER_UTIL.get_region_for_country_code(code));
    if likely.is_some_and(|r| number.is_valid_for_region(r)) {
        return true;
    }
    // Where one region alone uses the code, the check above was the whole answer.
    let shared = PHONE_NUMBER_UTIL
        .get_regions_for_country_calling_code(code)
        .is_some_and(|regions| regions.len() > 1);
    (likely.is_none() || shared) && number.is_valid()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(text: &str, region: Option<&str>) -> Option<String> {
        match normalize_phone(text, region) {
            PhoneOutcome::Valid(n) => Some(n),
            PhoneOutcome::Invalid { .. } => None,
        }
    }

    #[test]
    fn formats_in_many_countries() {
        assert_eq!(
            e164("138 1234 5678", Some("CN")).as_deref(),
            Some("+8613812345678")
        );
        assert_eq!(
            e164("+86 138-1234-5678", None).as_deref(),
            Some("+8613812345678")
        );
        assert_eq!(
            e164("0086 13812345678", None).as_deref(),
            Some("+8613812345678")
        );
        assert_eq!(
            e164("(415) 555-2671", Some("US")).as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            e164("020 7946 0018", Some("GB")).as_deref(),
            Some("+442079460018")
        );
        assert_eq!(
            e164("030 901820", Some("DE")).as_deref(),
            Some("+4930901820")
        );
        assert_eq!(
            e164("+8613812345678", Some("US")).as_deref(),
            Some("+8613812345678")
        );
    }

    #[test]
    fn unreadable_numbers_say_why() {
        assert_eq!(e164("12345", Some("CN")), None);
        assert_eq!(e164("call me", Some("CN")), None);
        match normalize_phone("13812345678", None) {
            PhoneOutcome::Invalid { reason } => assert!(reason.contains("no country"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
