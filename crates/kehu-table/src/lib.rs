//! Reading and mapping customer files: the one file reader of kehu.
//!
//! A [`Source`] settles a file's format (CSV or JSON Lines), text encoding
//! (UTF-8, or GB18030 as Chinese spreadsheet tools save it) and delimiter,
//! then yields rows of cells. [`Columns`] maps each column to a field of the
//! catalogue ([`kehu_model::catalogue`]) by its header, in any language the
//! catalogue knows. [`cells`] turns a row's cells into a dossier or a related
//! record, and a dossier back into cells. Pure: no book, no store.

#![warn(missing_docs)]

pub mod cells;
mod columns;
mod kinds;
mod source;
mod table;
pub mod values;

pub use columns::{field_label, field_named, field_names, guess, ColumnUse, Columns, Target};
pub use kinds::{Delimiter, Format, ImportKind, TextEncoding};
pub use source::{decode, encode, RawRow, Row, RowIssue, Source, SourceHints, TextRows};
pub use table::{Table, TableHints};

/// What can go wrong reading a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input cannot be read as a table at all (binary, empty, UTF-16, no header).
    #[error("{0}")]
    Input(String),
    /// A name of a format, encoding, kind or delimiter that is not one kehu knows.
    #[error("{0}")]
    Unknown(String),
}
