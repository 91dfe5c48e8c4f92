//! The rule set as plain data: what TOML and JSON files hold.

use std::collections::BTreeMap;

use kehu_model::{CustomType, Kind, LifecycleStage};
use serde::{Deserialize, Serialize};

use crate::{Error, Severity};

/// Entry rules, as loaded from TOML or JSON. Every field has a default, so
/// an empty file is the built-in rule set without its required-field rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSet {
    /// A name for people to read.
    pub name: Option<String>,
    /// The region (ISO 3166-1 alpha-2) of phone numbers written without a country
    /// code when the record implies none (see `infer_region`).
    pub default_region: Option<String>,
    /// Which clues of a record imply the region of its numbers written
    /// without a country code, before `default_region` (all on by default).
    pub infer_region: crate::InferRegion,
    /// Whether a person's full name held alone is split into family and
    /// given name (张伟 → 张 + 伟, 欧阳娜娜 → 欧阳 + 娜娜, `ZHANG, Wei`); on by
    /// default. The full name as entered stays.
    pub split_names: bool,
    /// Whether a one-line mainland address held in the street line alone
    /// (`广东省深圳市南山区科技园路1号`) is split into region (广东省), city
    /// (深圳市) and street (南山区科技园路1号), the line kept as `raw`; on by default.
    pub split_addresses: bool,
    /// The largest dossier accepted, in bytes of text.
    pub max_record_bytes: usize,
    /// How much each built-in check matters.
    pub severity: BuiltinSeverities,
    /// The accepted age range for birth dates.
    pub birth_date: BirthDateRule,
    /// Postcode patterns by country, adding to or replacing the built-in ones.
    pub postcodes: BTreeMap<String, String>,
    /// Fields that must be present, under conditions.
    pub required: Vec<RequiredRule>,
    /// Format rules on fields: length, pattern, allowed values, numeric range.
    pub fields: Vec<FieldRule>,
    /// The custom fields the business declares.
    pub custom: Vec<CustomField>,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            name: None,
            default_region: None,
            infer_region: crate::InferRegion::default(),
            split_names: true,
            split_addresses: true,
            max_record_bytes: 1 << 20,
            severity: BuiltinSeverities::default(),
            birth_date: BirthDateRule::default(),
            postcodes: BTreeMap::new(),
            required: Vec::new(),
            fields: Vec::new(),
            custom: Vec::new(),
        }
    }
}

impl RuleSet {
    /// The rule set kehu ships: built-in format checks plus "a person needs a
    /// name", "an organisation needs a name (and should have an industry)" and
    /// "a customer at stage `new` or later needs a phone or an e-mail".
    pub fn standard() -> Self {
        let when_kind = |kind| Condition {
            kind: Some(kind),
            ..Condition::default()
        };
        Self {
            name: Some("kehu standard".into()),
            required: vec![
                RequiredRule {
                    id: "person.name".into(),
                    when: when_kind(Kind::Person),
                    any_of: vec!["name".into()],
                    message: Some("a person needs a name".into()),
                    ..RequiredRule::default()
                },
                RequiredRule {
                    id: "organization.name".into(),
                    when: when_kind(Kind::Organization),
                    fields: vec!["organization.name".into()],
                    message: Some("an organization needs a name".into()),
                    ..RequiredRule::default()
                },
                RequiredRule {
                    id: "organization.industry".into(),
                    when: when_kind(Kind::Organization),
                    fields: vec!["organization.industry".into()],
                    severity: Severity::Warning,
                    message: Some("an organization should have an industry".into()),
                    ..RequiredRule::default()
                },
                RequiredRule {
                    id: "customer.contact".into(),
                    when: Condition {
                        stage_at_least: Some(LifecycleStage::New),
                        ..Condition::default()
                    },
                    any_of: vec!["emails".into(), "phones".into()],
                    message: Some(
                        "a customer at stage new or later needs a phone or an e-mail".into(),
                    ),
                    ..RequiredRule::default()
                },
            ],
            ..Self::default()
        }
    }

    /// Reads a rule set from TOML.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str(text).map_err(|e| Error::Toml(e.to_string()))
    }

    /// Reads a rule set from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::Json(e.to_string()))
    }

    /// Writes the rule set as TOML.
    pub fn to_toml(&self) -> Result<String, Error> {
        toml::to_string_pretty(self).map_err(|e| Error::Toml(e.to_string()))
    }

    /// Writes the rule set as JSON.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json(e.to_string()))
    }
}

/// The severity of each built-in check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuiltinSeverities {
    /// A malformed e-mail address (default: error).
    pub email: Severity,
    /// A phone number that cannot be read as valid (default: warning; the raw value is kept).
    pub phone: Severity,
    /// A postcode that does not fit its country (default: error).
    pub postcode: Severity,
    /// A country that is not a known name or code (default: warning).
    pub country: Severity,
    /// A birth date in the future or outside the age range (default: error).
    pub birth_date: Severity,
    /// A custom field the rule set does not declare (default: error).
    pub unknown_custom: Severity,
    /// A resident ID (the `resident_id` field) that is not a valid one:
    /// its form, check character, region or birth date (default: error).
    pub resident_id: Severity,
    /// A credit code (the `credit_code` field) that is not a valid one (default: error).
    pub credit_code: Severity,
    /// A resident ID whose birth date differs from the dossier's (default: warning).
    pub id_birth_date: Severity,
}

impl Default for BuiltinSeverities {
    fn default() -> Self {
        Self {
            email: Severity::Error,
            phone: Severity::Warning,
            postcode: Severity::Error,
            country: Severity::Warning,
            birth_date: Severity::Error,
            unknown_custom: Severity::Error,
            resident_id: Severity::Error,
            credit_code: Severity::Error,
            id_birth_date: Severity::Warning,
        }
    }
}

/// The accepted age range, in whole years, for birth dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BirthDateRule {
    /// The youngest accepted age.
    pub min_age: Option<u32>,
    /// The oldest accepted age (default 130).
    pub max_age: Option<u32>,
}

impl Default for BirthDateRule {
    fn default() -> Self {
        Self {
            min_age: None,
            max_age: Some(130),
        }
    }
}

/// When a rule applies; every condition given must hold (none given: always).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Condition {
    /// The record is of this kind.
    pub kind: Option<Kind>,
    /// The record's explicit lifecycle stage is one of these.
    pub stage: Option<Vec<LifecycleStage>>,
    /// The record's explicit lifecycle stage is this one or later.
    pub stage_at_least: Option<LifecycleStage>,
    /// A field path the next two conditions look at.
    pub field: Option<String>,
    /// The field has this value (for a list such as `tags`: contains it).
    pub equals: Option<String>,
    /// The field is present (true) or absent (false).
    pub present: Option<bool>,
}

/// Fields that must be present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequiredRule {
    /// A stable id, reported with each violation.
    pub id: String,
    /// When the rule applies.
    pub when: Condition,
    /// Every one of these paths must be present.
    pub fields: Vec<String>,
    /// At least one of these paths must be present.
    pub any_of: Vec<String>,
    /// Error (blocks the write) or warning.
    pub severity: Severity,
    /// The message to report instead of the generated one.
    pub message: Option<String>,
}

/// Format constraints on the values at a path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldRule {
    /// A stable id, reported with each violation.
    pub id: String,
    /// The field path the rule constrains.
    pub path: String,
    /// When the rule applies.
    pub when: Condition,
    /// Error (blocks the write) or warning.
    pub severity: Severity,
    /// The fewest characters a text value may have.
    pub min_length: Option<usize>,
    /// The most characters a text value may have.
    pub max_length: Option<usize>,
    /// A regular expression each text value must match.
    pub pattern: Option<String>,
    /// The values a text value may take.
    pub one_of: Vec<String>,
    /// The smallest accepted number.
    pub min: Option<f64>,
    /// The largest accepted number.
    pub max: Option<f64>,
    /// An identifier scheme each text value must pass (`cn_resident_id`, `cn_credit_code`).
    pub identifier: Option<crate::Identifier>,
    /// The message to report instead of the generated one.
    pub message: Option<String>,
}

/// A custom field the business declares: its type, whether it is required, its format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomField {
    /// The field's name, as in `custom.<name>`.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: CustomType,
    /// Whether every record must have it.
    pub required: bool,
    /// For `enum`: the allowed values.
    pub values: Vec<String>,
    /// The fewest characters of a text value.
    pub min_length: Option<usize>,
    /// The most characters of a text value.
    pub max_length: Option<usize>,
    /// A regular expression text values must match.
    pub pattern: Option<String>,
    /// The smallest accepted number.
    pub min: Option<f64>,
    /// The largest accepted number.
    pub max: Option<f64>,
    /// For dates and datetimes: not after today.
    pub not_future: bool,
    /// For text: an identifier scheme its values must pass, and the form
    /// they are normalised to (`cn_resident_id`: 18 characters, a 15-digit
    /// number upgraded, `x` as `X`; `cn_credit_code`: upper case).
    pub identifier: Option<crate::Identifier>,
    /// Whether the field holds personal data (to be sealed at rest).
    pub personal: bool,
}
