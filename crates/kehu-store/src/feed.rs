//! The change feed: every committed change of every dossier, in the order of
//! its store-wide sequence number, for integrations that follow a book.
//!
//! The feed is the change log read by sequence number instead of by
//! customer, plus a tombstone for each erasure (an erasure removes the
//! customer's log, so what it erased is no longer in the feed; the
//! tombstone, which holds no value, says that it happened). Tombstones are
//! documents of [`ERASED_SPACE`], keyed by their sequence number, so every
//! backend keeps, backs up and compacts them as it does documents.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kehu_model::{CustomerId, Timestamp};

use crate::{Change, Error, Result};

/// The document space of erasure tombstones (key: sequence number, big-endian).
pub const ERASED_SPACE: &str = "kehu.feed.erased";

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    /// A change of a dossier, as its change log holds it.
    Change(Change),
    /// A customer was erased: its dossier, records and log are gone.
    Erased {
        /// The sequence number of the erasure.
        seq: u64,
        /// The customer.
        customer_id: CustomerId,
        /// When.
        at: Timestamp,
    },
}

impl FeedItem {
    /// Its sequence number.
    pub fn seq(&self) -> u64 {
        match self {
            FeedItem::Change(c) => c.seq,
            FeedItem::Erased { seq, .. } => *seq,
        }
    }
}

/// A tombstone's document key and value.
pub fn tombstone(seq: u64, id: CustomerId, at: Timestamp) -> ([u8; 8], Vec<u8>) {
    let mut value = id.to_bytes().to_vec();
    value.extend_from_slice(&at.timestamp_micros().to_be_bytes());
    (seq.to_be_bytes(), value)
}

/// Reads a tombstone document back.
pub fn read_tombstone(key: &[u8], value: &[u8]) -> Result<FeedItem> {
    let bad = || Error::Corrupt("an erasure tombstone of the change feed".into());
    let seq = u64::from_be_bytes(key.try_into().map_err(|_| bad())?);
    if value.len() != 24 {
        return Err(bad());
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&value[..16]);
    let micros = i64::from_be_bytes(value[16..24].try_into().map_err(|_| bad())?);
    let at = Timestamp::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok(FeedItem::Erased {
        seq,
        customer_id: CustomerId::from_bytes(id),
        at,
    })
}

/// Merges changes and tombstones (each in sequence order, each after
/// `after`) into the first `limit` items of the feed.
pub fn merge(changes: Vec<Change>, tombstones: Vec<FeedItem>, limit: usize) -> Vec<FeedItem> {
    let mut out: Vec<FeedItem> = changes
        .into_iter()
        .map(FeedItem::Change)
        .chain(tombstones)
        .collect();
    out.sort_by_key(FeedItem::seq);
    out.truncate(limit);
    out
}

/// The tombstones after `after`, in order, at most `limit`, from a snapshot.
pub fn tombstones_after(
    snap: &dyn crate::Snapshot,
    after: u64,
    limit: usize,
) -> Result<Vec<FeedItem>> {
    let mut out = Vec::new();
    for doc in snap.docs(ERASED_SPACE, b"")? {
        let item = read_tombstone(&doc.key, &doc.value)?;
        if item.seq() > after {
            out.push(item);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// What wakes a consumer of the feed when there may be more.
pub trait Subscription {
    /// Waits until something was committed since the subscription was made
    /// or last woke, or until `timeout`; answers whether it woke for a commit
    /// (it may wake for a commit that changed nothing the consumer follows).
    fn wait(&mut self, timeout: Duration) -> Result<bool>;
}

/// The subscription of a store that cannot tell: each wait is a sleep.
pub struct Poll;

impl Subscription for Poll {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        std::thread::sleep(timeout);
        Ok(true)
    }
}

/// A count of an in-process store's commits that subscribers wait on.
#[derive(Default)]
pub struct Commits {
    count: Mutex<u64>,
    moved: Condvar,
}

impl Commits {
    /// How many commits were counted.
    pub fn count(&self) -> u64 {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a commit and wakes every waiting subscriber.
    pub fn committed(&self) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.moved.notify_all();
    }

    /// A subscription from now on.
    pub fn subscribe(&self) -> CommitWatch<'_> {
        let seen = *self.count.lock().unwrap_or_else(PoisonError::into_inner);
        CommitWatch {
            commits: self,
            seen,
        }
    }
}

/// A subscription to an in-process store's commits.
pub struct CommitWatch<'a> {
    commits: &'a Commits,
    seen: u64,
}

impl Subscription for CommitWatch<'_> {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        let mut count = self
            .commits
            .count
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *count == self.seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            count = self
                .commits
                .moved
                .wait_timeout(count, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        self.seen = *count;
        Ok(true)
    }
}
