//! The change feed's order on redb: sequence number → customer, built from
//! the change log on first use and kept by the handle's commits (a redb book
//! has one writing process).

use std::sync::PoisonError;

use kehu_model::CustomerId;
use kehu_store::{Error, Result};
use redb::{ReadableDatabase, ReadableTable};

use crate::tables::{backend, CHANGES};
use crate::RedbStore;

/// The feed's order: sequence number → customer.
#[derive(Default)]
pub(crate) struct FeedOrder {
    order: Option<std::collections::BTreeMap<u64, CustomerId>>,
    /// Set while it is being built: what commits changed meanwhile.
    missed: Option<Vec<FeedChanges>>,
}

/// What a transaction changed of the feed's order.
#[derive(Default)]
pub(crate) struct FeedChanges {
    pub(crate) appended: Vec<(u64, CustomerId)>,
    pub(crate) removed: Vec<CustomerId>,
}

impl RedbStore {
    /// Keeps the feed's order current after a commit (when it was built,
    /// or noted for the builder while it is being built).
    pub(crate) fn fed(&self, changes: FeedChanges) {
        let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(order) = feed.order.as_mut() {
            apply_feed(order, changes);
        } else if let Some(missed) = feed.missed.as_mut() {
            missed.push(changes);
        }
    }

    /// The feed's order after `after`: at most `limit` entries. Built from
    /// the change log the first time, without holding the order's lock while
    /// it reads (commits note what they change meanwhile).
    pub(crate) fn feed_order(&self, after: u64, limit: usize) -> Result<Vec<(u64, CustomerId)>> {
        let take = |order: &std::collections::BTreeMap<u64, CustomerId>| {
            order
                .range(after.saturating_add(1)..)
                .take(limit)
                .map(|(s, id)| (*s, *id))
                .collect::<Vec<_>>()
        };
        if let Some(order) = &self
            .feed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .order
        {
            return Ok(take(order));
        }
        let _one_builder = self.building.lock().unwrap_or_else(PoisonError::into_inner);
        {
            let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(order) = &feed.order {
                return Ok(take(order));
            }
            feed.missed = Some(Vec::new());
        }
        let built = (|| {
            let txn = self.current_db().begin_read().map_err(backend)?;
            let table = txn.open_table(CHANGES).map_err(backend)?;
            let mut order = std::collections::BTreeMap::new();
            for entry in table.iter().map_err(backend)? {
                let (k, _) = entry.map_err(backend)?;
                let k = k.value();
                if k.len() == 24 {
                    let mut id = [0u8; 16];
                    id.copy_from_slice(&k[..16]);
                    let mut seq = [0u8; 8];
                    seq.copy_from_slice(&k[16..]);
                    order.insert(u64::from_be_bytes(seq), CustomerId::from_bytes(id));
                }
            }
            Ok::<_, Error>(order)
        })();
        let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        let missed = feed.missed.take().unwrap_or_default();
        let mut order = built?;
        // What committed while the log was read: applied again, harmlessly.
        for changes in missed {
            apply_feed(&mut order, changes);
        }
        let answer = take(&order);
        feed.order = Some(order);
        Ok(answer)
    }
}

/// Applies a commit's changes to the feed's order.
fn apply_feed(order: &mut std::collections::BTreeMap<u64, CustomerId>, changes: FeedChanges) {
    if !changes.removed.is_empty() {
        order.retain(|_, id| !changes.removed.contains(id));
    }
    order.extend(changes.appended);
}
