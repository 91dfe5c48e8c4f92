use kehu_model::{Customer, CustomerId, FieldChange, RecordId, Related, RelatedKind, Timestamp};
use serde::{Deserialize, Serialize};

/// Writes that commit together, on behalf of one actor at one moment.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Who writes: a user name, a service, "import:2026-11-23".
    pub actor: String,
    /// When; recorded in the change log.
    pub at: Timestamp,
    /// The writes, applied in order.
    pub writes: Vec<Write>,
    /// Whether the batch must be on disk when `commit` returns (the default).
    /// A bulk writer clears it on all but every few batches: a crash then
    /// loses the batches since the last durable one, each of them whole.
    pub durable: bool,
}

impl Batch {
    /// An empty batch.
    pub fn new(actor: impl Into<String>, at: Timestamp) -> Self {
        Self {
            actor: actor.into(),
            at,
            writes: Vec::new(),
            durable: true,
        }
    }

    /// Adds a write (builder style).
    pub fn with(mut self, write: Write) -> Self {
        self.writes.push(write);
        self
    }

    /// Adds a write.
    pub fn push(&mut self, write: Write) {
        self.writes.push(write);
    }
}

/// One write of a [`Batch`].
#[derive(Debug, Clone)]
// Most writes are `Put`s, so boxing the dossier would only add an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum Write {
    /// Creates or replaces a dossier. The store's current version must equal
    /// `expected` (0: the dossier must not exist yet); it stores `expected + 1`.
    Put {
        /// The dossier as it should be.
        customer: Customer,
        /// The version the writer read.
        expected: u64,
    },
    /// Deletes a dossier with its indexes and related records; its history stays.
    Delete {
        /// The customer.
        id: CustomerId,
        /// The version the writer read.
        expected: u64,
    },
    /// Adds (or replaces, by record id) a related record of an existing customer.
    Relate(Related),
    /// Removes one related record; the customer and the record must exist.
    Unrelate {
        /// The customer.
        customer_id: CustomerId,
        /// The record's time.
        at: Timestamp,
        /// The record's id.
        id: RecordId,
    },
    /// Stores a document in a named space: bookkeeping that engines and tools
    /// keep beside the dossiers (import journals, saved segments, merge history).
    PutDoc {
        /// The space, such as "import".
        space: String,
        /// The key within the space; documents are listed in key order.
        key: Vec<u8>,
        /// The customer whose personal data the document holds, if any: it is
        /// sealed for that customer, like the dossier.
        owner: Option<CustomerId>,
        /// The document's bytes.
        value: Vec<u8>,
    },
    /// Removes a document (nothing happens if there is none).
    DeleteDoc {
        /// The space.
        space: String,
        /// The key.
        key: Vec<u8>,
    },
    /// Erases a customer: the dossier, its index entries and keys, related
    /// records, change log and the documents it owns, and (on a store that
    /// seals per customer) its data key, so copies of its sealed values no
    /// longer open. Nothing is logged for it; the caller keeps a tombstone.
    Forget {
        /// The customer (need not exist any more).
        id: CustomerId,
    },
    /// Records an event in the audit trail (writes are recorded by themselves).
    Audit(crate::AuditEvent),
    /// Replaces a customer's keys in a named keyed index (such as dedupe blocking keys).
    SetKeys {
        /// The customer.
        id: CustomerId,
        /// The index's name.
        index: String,
        /// The keys; empty removes the customer from the index.
        keys: Vec<Vec<u8>>,
    },
}

/// A stored document, as [`Snapshot::docs`](crate::Snapshot::docs) lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Its key within the space.
    pub key: Vec<u8>,
    /// The customer it was sealed for, if any.
    pub owner: Option<CustomerId>,
    /// Its bytes.
    pub value: Vec<u8>,
}

/// What a change log entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// The dossier was created. No field list: the first version's values are
    /// the current ones rolled back through the `before` of each later update.
    Created,
    /// The dossier was changed.
    Updated,
    /// The dossier was deleted.
    Deleted,
    /// A related record was added.
    Related {
        /// Which kind.
        kind: RelatedKind,
        /// Its id.
        record: RecordId,
    },
    /// A related record was removed.
    Unrelated {
        /// Which kind.
        kind: RelatedKind,
        /// Its id.
        record: RecordId,
    },
}

/// One entry in a dossier's story: who did what, when, to which fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// A store-wide sequence number; later changes have larger ones.
    pub seq: u64,
    /// The customer.
    pub customer_id: CustomerId,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What happened.
    pub op: ChangeOp,
    /// Field-level before/after, for updates (empty for the other operations).
    pub fields: Vec<FieldChange>,
}
