//! kehu (客户, "customer"): the data core of a CRM, as a library.
//!
//! A [`Book`] keeps customer dossiers in a [`Store`] (a redb file by default,
//! or memory), runs every write through the entry [`Rules`], and keeps each
//! dossier's related records and history.
//!
//! ```
//! use kehu::{Book, Customer};
//!
//! let book = Book::in_memory();
//! let saved = book.add(Customer::person("Wei", "Zhang").with_email("wei@example.com"))?;
//! assert_eq!(book.find_by_email("WEI@example.com")?[0].id, saved.customer.id);
//! # Ok::<(), kehu::Error>(())
//! ```

#![warn(missing_docs)]

mod ahead;
mod book;
mod duplicates;
mod error;
mod feed;
pub mod io;
mod open;
mod options;
pub mod page;
pub mod policy;
mod privacy;
mod reports;
mod saved;
mod segments;
mod write;

pub use book::{Book, Clock};
pub use duplicates::{
    BookDedupe, BookPair, DuplicateAction, DuplicateCandidate, MergeReceipt, Merged, DEDUPE_INDEX,
};
pub use error::Error;
pub use feed::{FeedEntry, FeedKind};
pub use open::{display_address, is_book_url};
pub use options::OpenOptions;
pub use policy::{FieldAccess, Operation, Policy, Principal, Role, Scope};
pub use write::{BatchOptions, OnDuplicate, Saved, WriteStatus};

pub use kehu_crypt::{KeyFile, KeyProvider, Passphrase, RawKey};
/// Feedback records (re-exported from [`kehu_model`]).
pub use kehu_model::Feedback;
pub use kehu_model::{
    Address, Consent, ConsentStatus, Currency, CustomValue, Customer, CustomerId, Decimal,
    Direction, Email, FeedbackKind, FeedbackStatus, FieldChange, Interaction, InteractionChannel,
    Kind, LifecycleStage, Money, NameSplit, Note, Organization, PersonName, Phone, Purchase,
    RecordId, Related, RelatedKind, Score, ScoreScale, Timestamp,
};
pub use kehu_postgres::PgStore;
pub use kehu_redb::{RedbOptions, RedbStore};
pub use kehu_rules::{
    Clue, ImpliedRegion, InferRegion, Report, RuleSet, Rules, Severity, Violation,
};
pub use kehu_store::{AuditEntry, AuditProblem};
pub use kehu_store::{Change, ChangeOp, IndexKey, MemoryStore, Snapshot, Store};
pub use privacy::{AuditCheck, Erasure, SubjectExport};

/// The dedupe engine (the `kehu-dedupe` crate).
pub use kehu_dedupe as dedupe;
pub use kehu_dedupe::{Rule as SurvivorshipRule, Survivorship};
/// The dossier types (the `kehu-model` crate).
pub use kehu_model as model;
/// Entry rules (the `kehu-rules` crate).
pub use kehu_rules as rules;
/// Segments: the filter language (the `kehu-segment` crate).
pub use kehu_segment as segment;
pub use kehu_segment::{Explanation, Segment};
/// The store trait and the in-memory store (the `kehu-store` crate).
pub use kehu_store as store;
pub use reports::{BookReport, BookStats};
pub use saved::{Listener, SavedSegment, SegmentEvent};
pub use segments::{Classes, ClassifyOptions};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
