//! What a file is: its format, text encoding, delimiter, and what it holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Format {
    /// Comma- (or otherwise) separated values with a header row.
    #[default]
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file name's extension implies (`.csv`, `.tsv`, `.txt`, `.jsonl`, `.ndjson`, `.json`).
    pub fn from_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "jsonl" | "ndjson" | "json" => Ok(Self::Jsonl),
            other => Err(Error::Unknown(format!(
                "unknown format {other:?}: use csv or jsonl"
            ))),
        }
    }
}

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum TextEncoding {
    /// UTF-8, with or without a byte-order mark.
    #[default]
    Utf8,
    /// GB18030, a superset of GBK and GB2312: what Chinese spreadsheet tools save as "ANSI".
    Gb18030,
}

impl TextEncoding {
    /// The encoding's usual name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Gb18030 => "GB18030",
        }
    }
}

impl FromStr for TextEncoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "utf8" => Ok(Self::Utf8),
            "gb18030" | "gbk" | "gb2312" | "cp936" => Ok(Self::Gb18030),
            other => Err(Error::Unknown(format!(
                "unknown encoding {other:?}: use utf-8 or gb18030 (which reads GBK and GB2312)"
            ))),
        }
    }
}

/// A CSV delimiter: one ASCII character. Written as that character, or
/// `tab` (also `\t`) for a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiter(pub u8);

impl FromStr for Delimiter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "tab" | "\\t" | "\t" => Ok(Self(b'\t')),
            d if d.len() == 1 && d.is_ascii() => Ok(Self(d.as_bytes()[0])),
            d => Err(Error::Unknown(format!(
                "delimiter {d:?}: give one ASCII character, or `tab`"
            ))),
        }
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\t' => f.write_str("tab"),
            c => write!(f, "{}", c as char),
        }
    }
}

impl Serialize for Delimiter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Delimiter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum ImportKind {
    /// Customer dossiers.
    #[default]
    Customers,
    /// Purchases, each naming its customer.
    Purchases,
    /// Interactions, each naming its customer.
    Interactions,
    /// Feedback and complaints, each naming its customer.
    Feedback,
    /// Consent events, each naming its customer.
    Consents,
}

impl ImportKind {
    /// What one record of this kind is called ("purchase").
    pub fn record_name(self) -> &'static str {
        match self {
            Self::Customers => "customer",
            Self::Purchases => "purchase",
            Self::Interactions => "interaction",
            Self::Feedback => "feedback",
            Self::Consents => "consent",
        }
    }
}

impl FromStr for ImportKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "customers" | "customer" => Self::Customers,
            "purchases" | "purchase" => Self::Purchases,
            "interactions" | "interaction" => Self::Interactions,
            "feedback" | "feedbacks" => Self::Feedback,
            "consents" | "consent" => Self::Consents,
            other => {
                return Err(Error::Unknown(format!(
                    "unknown kind {other:?}: use customers, purchases, interactions, feedback or consents"
                )))
            }
        })
    }
}

/// Names read as data go through the same parsers as names typed on a command line.
macro_rules! from_text {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                s.parse()
            }
        }
    )*};
}
from_text!(Format, TextEncoding, ImportKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!("tab".parse::<Delimiter>().unwrap(), Delimiter(b'\t'));
        assert_eq!(";".parse::<Delimiter>().unwrap(), Delimiter(b';'));
        assert!(";;".parse::<Delimiter>().is_err());
        assert_eq!(
            "GBK".parse::<TextEncoding>().unwrap(),
            TextEncoding::Gb18030
        );
        assert_eq!(
            serde_json::from_str::<Delimiter>("\"tab\"").unwrap(),
            Delimiter(b'\t')
        );
        assert_eq!(Format::from_name("a.ndjson"), Some(Format::Jsonl));
    }
}
