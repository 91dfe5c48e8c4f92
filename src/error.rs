use kehu_model::{CustomerId, RecordId};
use kehu_rules::Report;

/// What can go wrong when using a [`Book`](crate::Book).
///
/// Every error has a stable [`code`](Error::code), the one the Python
/// exceptions and the uniffi error carry; messages name fields and what is
/// wrong with their values, never the values of a dossier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The record broke the entry rules; nothing was written. The report lists every problem.
    #[error("record rejected{}: {report}", index.map(|i| format!(" (item {i})")).unwrap_or_default())]
    Invalid {
        /// The position of the offending record in a batch, if it came in one.
        index: Option<usize>,
        /// Every violation found.
        report: Report,
    },
    /// No customer with this id.
    #[error("no customer with id {0}")]
    NotFound(CustomerId),
    /// Someone else changed the dossier since it was read; read it again and retry.
    #[error("version conflict on customer {id}: expected version {expected}, found {found}")]
    Conflict {
        /// The customer.
        id: CustomerId,
        /// The version the change was based on.
        expected: u64,
        /// The version in the store.
        found: u64,
    },
    /// The rule set does not compile.
    #[error(transparent)]
    Rules(#[from] kehu_rules::Error),
    /// The store failed: I/O, a file that is not a book, one another process holds, a corrupt value.
    #[error(transparent)]
    Store(kehu_store::Error),
    /// An input file cannot be imported at all (binary, empty, no customer column).
    #[error("{file}: {message}")]
    Input {
        /// The file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A name of a format, an encoding, a kind of record or a delimiter that kehu does not know.
    #[error(transparent)]
    Table(#[from] kehu_table::Error),
    /// A segment condition does not parse or does not fit the book's fields.
    #[error("{0}")]
    Segment(#[from] kehu_segment::ParseError),
    /// Dedupe settings or a survivorship policy that cannot be used.
    #[error(transparent)]
    Dedupe(#[from] kehu_dedupe::Error),
    /// An option or argument is not one the library accepts.
    #[error("{0}")]
    Usage(String),
    /// An option has a value the library does not accept; `option` names it
    /// (`cache_mb`, `mapping`, `rfm.recency_days`).
    #[error("{option}: {message}")]
    InvalidOption {
        /// The option, by its path in the options.
        option: String,
        /// What is wrong with its value.
        message: String,
    },
    /// The new dossier matches one already in the book; the candidates say
    /// which and why (add it anyway with `Book::add_allowing_duplicates`).
    #[error("a likely duplicate of {}", candidates.iter().map(|c| format!("{} (probability {:.3})", c.id, c.probability)).collect::<Vec<_>>().join(", "))]
    Duplicate {
        /// The dossiers it matches, most likely first.
        candidates: Vec<crate::DuplicateCandidate>,
    },
    /// The principal's roles do not allow this operation (recorded in the audit trail).
    #[error("permission denied: {user} may not {operation}")]
    Denied {
        /// The user.
        user: String,
        /// The operation refused.
        operation: String,
    },
    /// The key does not open the book, is missing, or its provider failed; nothing was written.
    #[error("{0}")]
    Key(String),
    /// Bookkeeping stored in the book does not decode.
    #[error("corrupt book data: {0}")]
    Corrupt(String),
    /// No saved segment with this name.
    #[error("no saved segment named {0:?}")]
    SegmentNotFound(String),
    /// No import with this id in the book.
    #[error("no import with id {0} in this book (`kehu imports` lists them)")]
    ImportNotFound(RecordId),
    /// The import was reverted already.
    #[error("import {0} was already reverted")]
    AlreadyReverted(RecordId),
    /// Dossiers the import wrote were changed since; reverting would lose those changes.
    #[error("cannot revert import {import}: {} of the dossiers it wrote changed since (first: {}); revert nothing", changed.len(), changed.iter().take(3).map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    RevertConflict {
        /// The import.
        import: RecordId,
        /// The dossiers changed since.
        changed: Vec<CustomerId>,
    },
    /// No merge with this receipt in the book.
    #[error("no merge with receipt {0} in this book (`kehu merge` printed it)")]
    MergeNotFound(RecordId),
    /// The merge was undone already.
    #[error("merge {0} was already undone")]
    AlreadyUnmerged(RecordId),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The error's stable code: `invalid`, `not_found`, `conflict`, `rules`,
    /// `storage`, `locked`, `not_a_book`, `corrupt`, `input`, `usage`,
    /// `invalid_option`, `filter_syntax`, `dedupe_settings`, `duplicate`, `denied`, `key`,
    /// `segment_not_found`, `import_not_found`, `merge_not_found`,
    /// `already_reverted`, `already_unmerged`, `revert_conflict`, `io`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid",
            Self::NotFound(_) => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Rules(_) => "rules",
            Self::Store(e) => match e {
                kehu_store::Error::Locked { .. } => "locked",
                kehu_store::Error::NotABook(_) | kehu_store::Error::UnsupportedFormat { .. } => {
                    "not_a_book"
                }
                kehu_store::Error::Corrupt(_) => "corrupt",
                kehu_store::Error::TooLarge { .. } => "invalid",
                kehu_store::Error::Codec(_) => "key",
                _ => "storage",
            },
            Self::Input { .. } => "input",
            Self::Table(kehu_table::Error::Input(_)) => "input",
            Self::Table(_) => "usage",
            Self::Segment(_) => "filter_syntax",
            Self::Dedupe(kehu_dedupe::Error::Input(_)) => "input",
            Self::Dedupe(_) => "dedupe_settings",
            Self::Usage(_) => "usage",
            Self::InvalidOption { .. } => "invalid_option",
            Self::Duplicate { .. } => "duplicate",
            Self::Denied { .. } => "denied",
            Self::Key(_) => "key",
            Self::Corrupt(_) => "corrupt",
            Self::SegmentNotFound(_) => "segment_not_found",
            Self::ImportNotFound(_) => "import_not_found",
            Self::MergeNotFound(_) => "merge_not_found",
            Self::AlreadyReverted(_) => "already_reverted",
            Self::AlreadyUnmerged(_) => "already_unmerged",
            Self::RevertConflict { .. } => "revert_conflict",
            Self::Io { .. } => "io",
        }
    }

    /// An option with a value the library does not accept.
    pub fn option(option: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidOption {
            option: option.into(),
            message: message.into(),
        }
    }

    /// A file that could not be read or written.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

impl From<kehu_store::Error> for Error {
    fn from(e: kehu_store::Error) -> Self {
        match e {
            kehu_store::Error::Conflict {
                id,
                expected,
                found,
            } => Self::Conflict {
                id,
                expected,
                found,
            },
            kehu_store::Error::NotFound(id) => Self::NotFound(id),
            other => Self::Store(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn errors_keep_their_source_and_have_codes() {
        let e = Error::io("book.kehu", std::io::Error::other("disk full"));
        assert_eq!(e.code(), "io");
        assert!(e.source().is_some());
        let e = Error::from(kehu_store::Error::Locked { holder: None });
        assert_eq!(e.code(), "locked");
        assert!(e.to_string().contains("another process"), "{e}");
        let e = Error::from(kehu_dedupe::Error::Settings("x".into()));
        assert_eq!(e.code(), "dedupe_settings");
    }
}
