//! The one write pipeline: every dossier a write puts in the book — add,
//! add_many, update, import, merge, unmerge, revert, every binding call —
//! goes through normalise → validate → duplicate check (against the book and
//! the batch) → access policy → store.

use serde::{Deserialize, Serialize};

/// What becomes of a record that duplicates a dossier already in the book
/// or an earlier record of the same write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum OnDuplicate {
    /// A sure match is not written and is listed; a possible one is written and listed.
    #[default]
    Report,
    /// Neither a sure nor a possible match is written; both are listed.
    Skip,
    /// A sure match is merged into the dossier it matches (by the
    /// survivorship policy) and listed; a possible one is written and listed.
    Merge,
    /// Everything is written, nothing is checked: a load the caller knows is clean.
    Allow,
}

impl std::str::FromStr for OnDuplicate {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "report" => Self::Report,
            "skip" => Self::Skip,
            "merge" => Self::Merge,
            "allow" => Self::Allow,
            other => {
                return Err(crate::Error::Usage(format!(
                    "unknown duplicate policy {other:?}: use report, skip, merge or allow"
                )))
            }
        })
    }
}

impl TryFrom<String> for OnDuplicate {
    type Error = crate::Error;
    fn try_from(s: String) -> Result<Self, crate::Error> {
        s.parse()
    }
}
