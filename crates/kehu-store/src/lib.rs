//! Where dossiers live: the [`Store`] trait, the write logic every backend
//! shares, an in-memory store, and the conformance suite each backend passes.
//!
//! A store is narrow and transactional. Reads go through a [`Snapshot`], a
//! consistent view; writes go through [`Store::commit`], one [`Batch`] that
//! commits whole or not at all. Versions, secondary indexes and the change log
//! are kept by [`apply_batch`], written once for every backend: a backend only
//! says how to read and write its tables ([`WriteTx`]).

#![warn(missing_docs)]

mod apply;
mod audit;
mod batch;
mod codec;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
pub mod feed;
mod index;
mod memory;
pub mod stored;

pub use apply::{apply_batch, apply_batches, KeySets, WriteTx, MAX_RECORD_BYTES};
pub use audit::{verify_trail, AuditEntry, AuditEvent, AuditProblem};
pub use batch::{Batch, Change, ChangeOp, Doc, Write};
pub use codec::{DataKey, FieldCodec, KeyRing, PlainCodec};
pub use error::{Error, Result};
pub use feed::{Commits, FeedItem, Subscription};
pub use index::{index_keys, IndexKey};
pub use memory::MemoryStore;

use kehu_model::{Customer, CustomerId, Related, RelatedKind};

/// The version of the stored format that this build reads and writes.
/// A backend records it in its file and refuses a file with a newer one.
/// 2: audit entries stored without their number and the previous entry's
/// hash (both implied by the trail), their time as seconds and nanoseconds.
/// 3: dossiers stored without what they repeat (value format 5).
/// 4: changes and audit entries may name their actor by number in a table
/// of actors (redb does; PostgreSQL writes every name out).
pub const FORMAT_VERSION: u32 = 4;

/// The oldest format this build opens. A book of a format from this one up
/// is brought to [`FORMAT_VERSION`] when it opens: its marker moves, and
/// nothing else is rewritten (every stored value carries its own format
/// byte; values written before are read as they were written).
pub const OLDEST_FORMAT: u32 = 1;

/// A place that keeps customer dossiers. Object-safe: `Box<dyn Store>` works.
pub trait Store: Send + Sync {
    /// A consistent read view: later commits do not show through it.
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>>;

    /// Applies every write of the batch in one transaction, or none of them.
    fn commit(&self, batch: Batch) -> Result<()> {
        self.commit_all(&mut std::iter::once(batch))
    }

    /// Applies the batches, as they come, in one transaction, or none of them:
    /// a bulk writer streams a large transaction without holding it all in
    /// memory. It is durable if any of its batches asks to be. The store
    /// pulls the first batch only once it holds its write lock, so a batch
    /// built as it is pulled may read the store (a fresh snapshot) and see
    /// every commit before its own — of this handle, and of any other.
    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()>;

    /// How many times, as far as this handle can tell now, writers other than
    /// this handle changed the store (other processes sharing a book): what
    /// a caller built from the store (a cache) is stale once it moves. A
    /// store that only this handle writes answers 0, and costs nothing.
    fn changes_elsewhere(&self) -> Result<u64> {
        Ok(0)
    }

    /// How many transactions the store has committed, by any writer, as far
    /// as this handle can tell now (a shared store reads it from the book);
    /// none when it cannot tell. A writer that saw `n` before its own commit
    /// and sees `n + 1` after it knows that no one else wrote in between.
    fn commit_count(&self) -> Result<Option<u64>> {
        Ok(None)
    }

    /// A subscription that wakes when the store commits — this handle's
    /// commits and, for a shared store, any process's. A store that cannot
    /// tell answers one that wakes after each timeout (a poll).
    fn subscribe(&self) -> Result<Box<dyn Subscription + '_>> {
        Ok(Box::new(feed::Poll))
    }

    /// Writes a backup — a consistent snapshot of everything, as stored — to
    /// the file at `path`. Stores that cannot make one say so.
    fn backup(&self, _path: &std::path::Path) -> Result<BackupSummary> {
        Err(Error::Backend("this store does not make backups".into()))
    }

    /// Rewrites the store so that it keeps only what is live: no freed page,
    /// no old copy of a value that was changed or erased, is left in its file.
    /// Readers and writers wait while it runs. A store with no file to
    /// compact answers at once.
    fn compact(&self) -> Result<CompactSummary> {
        Ok(CompactSummary::default())
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompactSummary {
    /// The file's size before, in bytes (0: the store keeps no file).
    pub bytes_before: u64,
    /// The file's size after, in bytes.
    pub bytes_after: u64,
    /// Entries copied, over every table.
    pub entries: u64,
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackupSummary {
    /// Entries written, over every table.
    pub entries: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Whether the checksum is keyed by the book key (an encrypted book).
    pub keyed: bool,
}

/// A consistent, read-only view of a store.
pub trait Snapshot {
    /// The dossier with this id.
    fn customer(&self, id: CustomerId) -> Result<Option<Customer>>;

    /// Every dossier, in id (creation) order.
    fn customers(&self) -> Result<Box<dyn Iterator<Item = Result<Customer>> + '_>>;

    /// How many dossiers there are.
    fn customer_count(&self) -> Result<u64>;

    /// The customers a secondary index maps this key to, in id order.
    fn lookup(&self, key: &IndexKey) -> Result<Vec<CustomerId>>;

    /// A customer's related records of one kind (or all kinds), oldest first.
    fn related(&self, id: CustomerId, kind: Option<RelatedKind>) -> Result<Vec<Related>>;

    /// A customer's change log, oldest first; kept after the customer is deleted.
    fn history(&self, id: CustomerId) -> Result<Vec<Change>>;

    /// The document stored under `key` in `space`.
    fn doc(&self, space: &str, key: &[u8]) -> Result<Option<Doc>>;

    /// The documents of a space whose keys start with `prefix`, in key order.
    fn docs(&self, space: &str, prefix: &[u8]) -> Result<Vec<Doc>>;

    /// The audit trail from entry `from` on (1: all of it), in order.
    fn audit(&self, from: u64) -> Result<Vec<AuditEntry>>;

    /// The last entry's number and hash, as recorded apart from the entries.
    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>>;

    /// The change feed after sequence number `after` (0: from the start):
    /// at most `limit` items, in sequence order — every committed change of
    /// every dossier, and a tombstone for each erasure ([`feed`]).
    fn feed(&self, after: u64, limit: usize) -> Result<Vec<FeedItem>>;

    /// [`Snapshot::customer`] of each id, in the order asked: one request
    /// for many where the store is across a network.
    fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Option<Customer>>> {
        ids.iter().map(|&id| self.customer(id)).collect()
    }

    /// [`Snapshot::lookup`] of each key, in the order asked: one request
    /// for many where the store is across a network.
    fn lookup_many(&self, keys: &[IndexKey]) -> Result<Vec<Vec<CustomerId>>> {
        keys.iter().map(|k| self.lookup(k)).collect()
    }

    /// [`Snapshot::doc`] of each key of one space, in the order asked: one
    /// request for many where the store is across a network.
    fn docs_by_key(&self, space: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Doc>>> {
        keys.iter().map(|k| self.doc(space, k)).collect()
    }
}
