//! Dedupe settings: plain data, read from TOML or JSON, every part optional.

use serde::{Deserialize, Serialize};

use crate::field::FieldSpec;
use crate::Error;

/// How to dedupe: which fields, how to block, when a pair is a match.
///
/// ```toml
/// id_column = "rec_id"
/// match_threshold = 0.9
/// blocking = ["email", "surname:soundex & date_of_birth:year"]
///
/// [[fields]]
/// name = "surname"
/// type = "family_name"
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The column holding record ids (default: one named `id`, `rec_id`,
    /// `customer_id`, `客户编号` or the like, else the line number).
    pub id_column: Option<String>,
    /// The fields to match on and their types; empty: every column, typed
    /// from its header and values.
    pub fields: Vec<FieldSpec>,
    /// Blocking rules (`field[:exact|initial|soundex|year|first_word|canonical]`
    /// joined by `&`; `a+b:kind` reads two fields in either order; or
    /// `sorted a+b [window N]`, a sorted neighbourhood); empty: chosen from
    /// the field types.
    pub blocking: Vec<String>,
    /// The match probability from which a pair is a match.
    pub match_threshold: f64,
    /// The probability from which a pair is worth a person's review.
    pub review_threshold: f64,
    /// Blocks of more records than this are skipped, with a warning.
    pub max_block: usize,
    /// Weigh exact agreement on names and cities by how common the value is.
    pub term_frequency: bool,
    /// Groups of fields that veto a match when all of them clearly differ;
    /// `None`: a given name and a date, when the records have both.
    pub veto: Option<Vec<Vec<String>>>,
    /// How many random pairs estimate the starting u probabilities.
    pub sample_pairs: usize,
    /// The seed of the random pairs: same seed, same scores.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            id_column: None,
            fields: Vec::new(),
            blocking: Vec::new(),
            match_threshold: 0.9,
            review_threshold: 0.5,
            max_block: 1_000,
            term_frequency: true,
            veto: None,
            sample_pairs: 200_000,
            seed: 42,
        }
    }
}

impl Settings {
    /// Reads settings from TOML.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let s: Settings = toml::from_str(text).map_err(|e| Error::Settings(e.to_string()))?;
        s.check()
    }

    /// Reads settings from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let s: Settings = serde_json::from_str(text).map_err(|e| Error::Settings(e.to_string()))?;
        s.check()
    }

    /// Reads settings from a file's text, JSON when it starts with `{`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.trim_start().starts_with('{') {
            Self::from_json(text)
        } else {
            Self::from_toml(text)
        }
    }

    /// The settings with another match threshold (a probability from 0 to
    /// 1); the review threshold comes down with it when it was above.
    pub fn with_match_threshold(mut self, threshold: f64) -> Result<Self, Error> {
        self.match_threshold = threshold;
        self.review_threshold = self.review_threshold.min(threshold);
        self.check()
    }

    /// The settings, if their thresholds and limits are usable.
    pub fn check(self) -> Result<Self, Error> {
        let p = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::Settings(format!(
                    "{name} must be between 0 and 1, not {v}"
                )))
            }
        };
        p("match_threshold", self.match_threshold)?;
        p("review_threshold", self.review_threshold)?;
        if self.review_threshold > self.match_threshold {
            return Err(Error::Settings(
                "review_threshold must not be above match_threshold".into(),
            ));
        }
        if self.max_block < 2 {
            return Err(Error::Settings("max_block must be at least 2".into()));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldType;

    #[test]
    fn toml_and_json() {
        let s = Settings::from_toml(
            "id_column = \"rec_id\"\nmatch_threshold = 0.8\n[[fields]]\nname = \"sn\"\ntype = \"family_name\"\n",
        )
        .unwrap();
        assert_eq!(s.id_column.as_deref(), Some("rec_id"));
        assert_eq!(s.fields[0].kind, FieldType::FamilyName);
        assert_eq!(s.match_threshold, 0.8);
        let j = Settings::parse(r#"{"blocking": ["email"], "veto": []}"#).unwrap();
        assert_eq!(j.blocking, ["email"]);
        assert_eq!(j.veto, Some(vec![]));
        assert!(Settings::parse("match_threshold = 2.0").is_err());
        assert!(Settings::parse("nonsense = 1").is_err());
        assert!(Settings::parse("[[fields]]\nname = \"x\"\ntype = \"shoe_size\"").is_err());
    }
}
