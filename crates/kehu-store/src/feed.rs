//! The change feed: every committed change of every dossier, in the order of
//! its store-wide sequence number, for integrations that follow a book.
//!
//! The feed is the change log read by sequence number instead of by
//! customer, plus a tombstone for each erasure (an erasure removes the
//! customer's log, so what it erased is no longer in the feed; the
//! tombstone, which holds no value, says that it happened). Tombstones are
//! documents of [`ERASED_SPACE`], keyed by their sequence number, so every
//! backend keeps, backs up and compacts them as it does documents.

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
