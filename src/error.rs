use kehu_model::{CustomerId, RecordId};
use kehu_rules::Report;

/// What can go wrong when using a [`Book`](crate::Book).
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
    /// The store failed: I/O, a file that is not a book, a corrupt value.
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
    /// A segment condition does not parse or does not fit the book's fields.
    #[error("{0}")]
    Segment(#[from] kehu_segment::ParseError),
    /// An option or argument is not one the library knows.
    #[error("{0}")]
    Usage(String),
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
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
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
