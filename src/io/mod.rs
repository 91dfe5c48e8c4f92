//! Import and export: CSV (any delimiter, UTF-8 or GB18030) and JSON Lines,
//! with a row-by-row report, a rejects file, an import journal and revert;
//! and files read as dedupe records. Reading and mapping a file is kehu-table's.

#[cfg(feature = "arrow")]
pub mod arrow;
mod export;
mod import;
mod journal;
mod tables;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use kehu_model::{Currency, CustomerId, RecordId, Timestamp};
use kehu_rules::Severity;
use serde::{Deserialize, Serialize};

pub use export::{ConsentFilter, ExportFilter, ExportOptions};
pub use journal::{ImportStatus, ImportSummary, RevertReport};
/// Why a file cannot be read as a table, or a name of a format, encoding or kind is unknown.
pub use kehu_table::Error as TableError;
pub use kehu_table::{
    field_names, ColumnUse, Delimiter, Format, ImportKind, TextEncoding, TextRows,
};
pub use tables::{
    append_link, append_link_rows, dataset_from_files, dataset_from_rows, read_dataset,
};

use crate::Error;

/// What an import does with a row whose customer is already in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Mode {
    /// Adds new customers; a row whose key is already in the book is skipped.
    #[default]
    Create,
    /// Changes existing customers; a row whose key is not in the book is skipped.
    Update,
    /// Changes existing customers and adds the rest.
    Upsert,
}

impl FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "create" => Self::Create,
            "update" => Self::Update,
            "upsert" => Self::Upsert,
            other => {
                return Err(Error::Usage(format!(
                    "unknown mode {other:?}: use create, update or upsert"
                )))
            }
        })
    }
}

/// A field that identifies a customer across systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum NaturalKey {
    /// The kehu id (`kehu_id` column), as exported.
    Id,
    /// The id in the source system.
    ExternalId,
    /// The primary e-mail address.
    Email,
    /// The primary phone number (E.164).
    Phone,
    /// The resident ID (居民身份证号), in its 18-character form.
    ResidentId,
    /// The unified social credit code (统一社会信用代码).
    CreditCode,
}

impl NaturalKey {
    /// The catalogue field it reads, none for the kehu id.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Self::Id => None,
            Self::ExternalId => Some("external_id"),
            Self::Email => Some("emails"),
            Self::Phone => Some("phones"),
            Self::ResidentId => Some("resident_id"),
            Self::CreditCode => Some("credit_code"),
        }
    }
}

impl FromStr for NaturalKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(
            match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "id" | "kehu_id" => Self::Id,
                "external_id" | "external" => Self::ExternalId,
                "email" => Self::Email,
                "phone" => Self::Phone,
                "resident_id" => Self::ResidentId,
                "credit_code" => Self::CreditCode,
                other => {
                    return Err(Error::Usage(format!(
                        "unknown key {other:?}: use external_id, email, phone, resident_id, \
                         credit_code or id"
                    )))
                }
            },
        )
    }
}

impl TryFrom<String> for Mode {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl TryFrom<String> for NaturalKey {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl fmt::Display for NaturalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Id => "kehu_id",
            Self::ExternalId => "external_id",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::ResidentId => "resident_id",
            Self::CreditCode => "credit_code",
        })
    }
}

/// How to import a file. Plain data (serde): the CLI, Python and the FFI
/// fill it and the core checks it ([`ImportOptions::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportOptions {
    /// What the file holds.
    pub kind: ImportKind,
    /// CSV or JSON Lines; from the file name or its first byte when unset.
    pub format: Option<Format>,
    /// The text encoding; detected when unset.
    pub encoding: Option<TextEncoding>,
    /// The CSV delimiter (one character, or `tab`); the most frequent of `,`
    /// `;` tab `|` in the header when unset.
    pub delimiter: Option<Delimiter>,
    /// Explicit column → field pairs (`手机` → `phone`); other columns are
    /// mapped by their headers. As data: an object `{"手机": "phone"}`.
    #[serde(with = "column_map")]
    pub mapping: Vec<(String, String)>,
    /// Create, update or upsert.
    pub mode: Mode,
    /// The keys that find a row's customer in the book and in the file, tried in order.
    pub keys: Vec<NaturalKey>,
    /// For related records: the key their customer column holds.
    pub customer_key: NaturalKey,
    /// For purchases without a currency column.
    pub currency: Option<Currency>,
    /// What becomes of a row that duplicates a dossier already in the book or
    /// an earlier row of the file (found by the duplicate check, not by a key).
    pub on_duplicate: crate::OnDuplicate,
    /// How a row is merged into the dossier it duplicates, with `on_duplicate = "merge"`.
    pub survivorship: kehu_dedupe::Survivorship,
    /// Read, check and report; write nothing to the book.
    pub dry_run: bool,
    /// Records written per transaction (default 1,000,000). A transaction is
    /// streamed to the store, so memory grows with its index entries (under
    /// 200 bytes a record), not with its dossiers; a crash keeps every
    /// committed transaction whole and nothing of the one in flight.
    pub batch_size: usize,
    /// Where to write rejected rows, in the input's own format, for fixing and importing again.
    pub rejects: Option<PathBuf>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            kind: ImportKind::Customers,
            format: None,
            encoding: None,
            delimiter: None,
            mapping: Vec::new(),
            mode: Mode::Create,
            keys: vec![NaturalKey::Id, NaturalKey::ExternalId],
            customer_key: NaturalKey::ExternalId,
            currency: None,
            on_duplicate: crate::OnDuplicate::Report,
            survivorship: kehu_dedupe::Survivorship::default(),
            dry_run: false,
            batch_size: 1_000_000,
            rejects: None,
        }
    }
}

impl ImportOptions {
    /// Checks the options: a mapping names fields the kind of file has, a
    /// batch holds at least one record, the survivorship policy names dossier
    /// fields. The import runs this first; a binding need not.
    pub fn check(&self) -> Result<(), Error> {
        if self.batch_size == 0 {
            return Err(Error::option(
                "batch_size",
                "a transaction holds at least one record",
            ));
        }
        for (col, field) in &self.mapping {
            if kehu_table::field_named(self.kind, field).is_none() {
                return Err(Error::option(
                    "mapping",
                    format!(
                        "unknown field {field:?} in the mapping of column {col:?}; the fields are: {}",
                        field_names(self.kind).join(", ")
                    ),
                ));
            }
        }
        self.survivorship.clone().checked()?;
        Ok(())
    }

    /// Reads options from JSON (the names and values of the fields above).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let options: Self = crate::options::from_json("import options", text)?;
        options.check()?;
        Ok(options)
    }
}

/// A column mapping as data: an object `{"column": "field"}` (or a list of pairs).
mod column_map {
    use serde::de::{MapAccess, SeqAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, String)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of column to field names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    out.push(pair);
                }
                Ok(out)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = seq.next_element()? {
                    out.push(pair);
                }
                Ok(out)
            }
        }
        d.deserialize_any(Pairs)
    }
}

/// A problem with one row: where, what, and how bad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The line the row starts on.
    pub line: u64,
    /// The column at fault, if one is.
    pub column: Option<String>,
    /// The value as read (shortened), if a column is at fault.
    pub value: Option<String>,
    /// A stable code: a rule code (`format.email`, `required`) or an import code
    /// (`row.fields`, `encoding`, `json`, `duplicate.in_file`, `exists`, `not_found`).
    pub code: String,
    /// Error (the row was rejected) or warning (imported, or skipped).
    pub severity: Severity,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        if let Some(v) = &self.value {
            write!(f, " ({v:?})")?;
        }
        write!(f, ": {} [{}]", self.message, self.code)
    }
}

/// Where an import stands, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Rows read so far.
    pub rows: u64,
    /// Rows in all, when known.
    pub rows_total: Option<u64>,
    /// Bytes of input read so far.
    pub bytes: u64,
    /// Bytes of input in all, when known (a file; not a pipe).
    pub bytes_total: Option<u64>,
}

/// What an import did, row by row. `imported + updated + rejected + skipped == rows`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The import's id, for `revert`; none for a dry run.
    pub import_id: Option<RecordId>,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// The input's name.
    pub source: String,
    /// What the file held.
    pub kind: ImportKind,
    /// Create, update or upsert.
    pub mode: Mode,
    /// The format read.
    pub format: Format,
    /// The text encoding read.
    pub encoding: TextEncoding,
    /// The CSV delimiter used.
    pub delimiter: Option<char>,
    /// Every column and the field it filled.
    pub columns: Vec<ColumnUse>,
    /// Columns no field was found for: not imported (map them with `--map`, or
    /// declare them as custom fields in the rule set).
    pub unknown_columns: Vec<String>,
    /// Rows read.
    pub rows: u64,
    /// New records written.
    pub imported: u64,
    /// Existing dossiers changed.
    pub updated: u64,
    /// Rows refused: unreadable, or breaking the rules.
    pub rejected: u64,
    /// Rows left alone: duplicates in the file, keys already in (or missing from) the book, no change.
    pub skipped: u64,
    /// Of the skipped: rows whose key an earlier row of the file already had.
    pub duplicates_in_file: u64,
    /// Of the skipped: rows the duplicate check found to be a dossier of the
    /// book or an earlier row (by `on_duplicate`).
    pub duplicates: u64,
    /// Of the updated: rows merged into the dossier they duplicate (`on_duplicate = "merge"`).
    pub merged: u64,
    /// Of the skipped: rows that would not change their dossier.
    pub unchanged: u64,
    /// Warnings on rows that were written (a phone kept as entered, …).
    pub warnings: u64,
    /// Every problem of every rejected or skipped row, and the first warnings.
    pub problems: Vec<RowProblem>,
    /// Every row the duplicate check matched to a dossier of the book or an
    /// earlier row, what became of it, and its candidates.
    pub duplicate_rows: Vec<RowDuplicate>,
    /// The rejects file, if one was written.
    pub rejects_file: Option<String>,
    /// When the import started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
}

impl ImportReport {
    /// Whether every row was accounted for: `imported + updated + rejected + skipped == rows`.
    pub fn balances(&self) -> bool {
        self.imported + self.updated + self.rejected + self.skipped == self.rows
    }

    /// The one-line summary: rows read and where each went.
    pub fn summary(&self) -> String {
        let what = if self.dry_run { "would be " } else { "" };
        let merged = if self.merged > 0 {
            format!(" ({} merged into the dossiers they duplicate)", self.merged)
        } else {
            String::new()
        };
        format!(
            "{} rows read = {} {what}imported + {} {what}updated{merged} + {} rejected + {} skipped ({} duplicates of customers in the book or the file, {} repeated keys, {} unchanged)",
            self.rows,
            self.imported,
            self.updated,
            self.rejected,
            self.skipped,
            self.duplicates,
            self.duplicates_in_file,
            self.unchanged
        )
    }
}

/// A row the duplicate check matched, what became of it, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDuplicate {
    /// The row's line.
    pub line: u64,
    /// Skipped (a sure match; with `on_duplicate = "skip"` a possible one
    /// too), added (a possible match), or merged.
    pub outcome: crate::WriteStatus,
    /// The dossiers and earlier rows it matches, most likely first.
    pub candidates: Vec<RowMatch>,
}

/// A dossier (or an earlier row of the file) a row matches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowMatch {
    /// The dossier: in the book, or the one an earlier row was imported as.
    pub id: CustomerId,
    /// The earlier row's line, when the match is a row of the same file.
    pub line: Option<u64>,
    /// The match probability.
    pub probability: f64,
    /// Block (a sure match) or warn (a possible one).
    pub action: crate::DuplicateAction,
}

/// The customers of a natural key's value in a book, to say which one a row means.
pub(crate) fn key_label(key: NaturalKey, value: &str) -> String {
    format!("{key} {value:?}")
}
