use kehu_model::{CustomerId, RecordId};

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Someone else wrote the record first: the version found is not the one expected.
    #[error("version conflict on customer {id}: expected version {expected}, found {found}")]
    Conflict {
        /// The customer.
        id: CustomerId,
        /// The version the writer based its change on (0: the record must not exist yet).
        expected: u64,
        /// The version in the store (0: no such record).
        found: u64,
    },
    /// No customer with this id.
    #[error("no customer with id {0}")]
    NotFound(CustomerId),
    /// No related record with this id (at this time) for the customer.
    #[error("customer {customer} has no related record {record}")]
    RecordNotFound {
        /// The customer.
        customer: CustomerId,
        /// The record.
        record: RecordId,
    },
    /// The record is larger than a store accepts.
    #[error("record of {bytes} bytes is over the limit of {limit} bytes")]
    TooLarge {
        /// The record's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The file is not a kehu book (another program's file, or damaged beyond reading).
    #[error("not a kehu book: {0}")]
    NotABook(String),
    /// The file was written in a format this build does not read.
    #[error(
        "store format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedFormat {
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// Stored bytes that do not decode.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// Sealing or opening personal fields failed (for example, the wrong key).
    #[error("field codec: {0}")]
    Codec(String),
    /// The customer was erased: its data key is gone, so its data cannot be read.
    #[error("customer {0} was erased")]
    Erased(CustomerId),
    /// Another process holds the book (an embedded store is one process per file).
    #[error("the book is open in another process{}; close that program and try again (a book several processes share belongs in a PostgreSQL store)", holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Locked {
        /// The process holding it, where the platform tells: `pid 1234, kehu`.
        holder: Option<String>,
    },
    /// The backend failed (I/O, locks, the database engine).
    #[error("storage backend: {0}")]
    Backend(String),
}

/// Results of store calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
