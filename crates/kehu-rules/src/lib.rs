//! Entry rules (录入标准): normalisation, field formats, required fields that
//! depend on the record, and a [`Report`] with every violation at once.
//!
//! A [`RuleSet`] is plain data, loaded from TOML or JSON and identical on every
//! platform. [`Rules`] is the compiled form that checks records:
//!
//! ```
//! use kehu_model::Customer;
//! use kehu_rules::{Rules, RuleSet};
//!
//! let rules = Rules::new(RuleSet::from_toml(r#"default_region = "CN""#)?)?;
//! let mut wei = Customer::person_named("张伟").with_phone("138 1234 5678").with_email("bad@");
//! let report = rules.check(&mut wei, chrono::Utc::now());
//! assert_eq!(wei.phones[0].number, "+8613812345678");
//! assert_eq!(report.errors().next().unwrap().path, "emails[0].address");
//! # Ok::<(), kehu_rules::Error>(())
//! ```

#![warn(missing_docs)]

mod address;
mod country;
mod email;
mod error;
mod ids;
mod names;
mod normalize;
mod path;
mod phone;
mod places;
mod postcode;
mod region;
mod report;
mod rules;
mod ruleset;

pub use address::{split_district, split_mainland_address, MainlandAddress};
pub use country::country_code;
pub use email::is_valid_email;
pub use error::Error;
pub use ids::{check_credit_code, check_resident_id, IdProblem, Identifier, ResidentId};
/// The type a custom field's values must have (defined with the dossier types).
pub use kehu_model::CustomType;
pub use names::split_name;
pub use normalize::{clean_block, clean_text};
pub use path::FieldPath;
pub use phone::{normalize_phone, PhoneOutcome};
pub use postcode::{normalize_postcode, postcode_pattern};
pub use region::{Clue, ImpliedRegion, InferRegion};
pub use report::{Report, Severity, Violation};
pub use rules::Rules;
pub use ruleset::{
    BirthDateRule, BuiltinSeverities, Condition, CustomField, FieldRule, RequiredRule, RuleSet,
};
