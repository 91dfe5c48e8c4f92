//! The change feed of a book, as a handle may read it: every committed
//! change in order, by a cursor a consumer keeps — for integrations (a
//! search index, a mail tool, a phone that syncs) that follow a book.

use kehu_model::{CustomerId, RecordId, RelatedKind, Timestamp};
use kehu_store::{ChangeOp, FeedItem};
use serde::{Deserialize, Serialize};

use crate::{Book, Error, Operation};

/// What happened to a dossier, in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// Created.
    Created,
    /// Changed: `fields` names the field paths.
    Updated,
    /// Deleted (its history stays).
    Deleted,
    /// A related record was added.
    Related,
    /// A related record was removed.
    Unrelated,
    /// Erased: the dossier, its records and its history are gone.
    Erased,
}

impl FeedKind {
    /// Its name, as JSON spells it: `created`, `updated`, `deleted`,
    /// `related`, `unrelated`, `erased`.
    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Created => "created",
            FeedKind::Updated => "updated",
            FeedKind::Deleted => "deleted",
            FeedKind::Related => "related",
            FeedKind::Unrelated => "unrelated",
            FeedKind::Erased => "erased",
        }
    }
}

/// One entry of the feed: which dossier, what happened, which fields —
/// never a value (read the dossier, through the policy, for those).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// The store-wide sequence number: the consumer's cursor.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// The dossier.
    pub customer_id: CustomerId,
    /// What happened.
    pub kind: FeedKind,
    /// The related record's kind, for `related` and `unrelated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_kind: Option<RelatedKind>,
    /// The related record, for `related` and `unrelated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<RecordId>,
    /// The field paths an update changed (those the handle may see).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Who (none for an erasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

impl Book {
    /// [`Book::changes_since`], waiting up to `timeout` for there to be
    /// any: it answers as soon as a commit (of this process, or of any
    /// process on a shared book: PostgreSQL's LISTEN/NOTIFY) brings one, and
    /// with none when the time is up. A consumer loops on it with its cursor.
    pub fn wait_for_changes(
        &self,
        after: u64,
        limit: usize,
        timeout: std::time::Duration,
    ) -> Result<Vec<FeedEntry>, Error> {
        let deadline = std::time::Instant::now() + timeout;
        // Subscribed before the first look, so a commit between the two wakes it.
        let mut subscription = self.store.subscribe()?;
        loop {
            let found = self.changes_since(after, limit)?;
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if !found.is_empty() || left.is_zero() {
                return Ok(found);
            }
            subscription.wait(left)?;
        }
    }

    /// The changes after sequence number `after` (0: from the start), at
    /// most `limit`, in commit order. A consumer that stores the last `seq`
    /// it handled and asks again from there sees every change once, across
    /// restarts and whichever process wrote. Erasures come as tombstones
    /// (the erased customer's earlier entries leave the feed with it). A
    /// principal sees the dossiers it reaches now, and of an update the
    /// fields it may see; deletions and erasures are the owner's to see.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<FeedEntry>, Error> {
        self.allow(Operation::Read, None)?;
        let items = self.store.snapshot()?.feed(after, limit.max(1))?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let entry = match item {
                FeedItem::Erased {
                    seq,
                    customer_id,
                    at,
                } => FeedEntry {
                    seq,
                    at,
                    customer_id,
                    kind: FeedKind::Erased,
                    related_kind: None,
                    record_id: None,
                    fields: Vec::new(),
                    actor: None,
                },
                FeedItem::Change(change) => {
                    let change = match self.viewer() {
                        None => change,
                        Some(v) => {
                            if self.reach(Operation::Read, change.customer_id).is_err() {
                                continue;
                            }
                            v.history(vec![change]).remove(0)
                        }
                    };
                    let (kind, related_kind, record_id) = match change.op {
                        ChangeOp::Created => (FeedKind::Created, None, None),
                        ChangeOp::Updated => (FeedKind::Updated, None, None),
                        ChangeOp::Deleted => (FeedKind::Deleted, None, None),
                        ChangeOp::Related { kind, record } => {
                            (FeedKind::Related, Some(kind), Some(record))
                        }
                        ChangeOp::Unrelated { kind, record } => {
                            (FeedKind::Unrelated, Some(kind), Some(record))
                        }
                    };
                    FeedEntry {
                        seq: change.seq,
                        at: change.at,
                        customer_id: change.customer_id,
                        kind,
                        related_kind,
                        record_id,
                        fields: change.fields.into_iter().map(|f| f.path).collect(),
                        actor: Some(change.actor),
                    }
                }
            };
            if self.viewer().is_some() && matches!(entry.kind, FeedKind::Erased | FeedKind::Deleted)
            {
                continue;
            }
            out.push(entry);
        }
        Ok(out)
    }
}
