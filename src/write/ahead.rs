//! What a write's duplicate check reads of the book, asked ahead for a block
//! of records at once: a few requests for the block instead of a few per
//! record, which is what a book across a network needs.

use std::borrow::Cow;
use std::collections::HashMap;

use kehu_model::{Customer, CustomerId};
use kehu_store::{IndexKey, Snapshot};

use crate::duplicates::keys::RUNS;
use crate::Error;

/// Reads made ahead; what a check asks and finds here it does not ask the
/// store. Each answer is as of the check's snapshot, so it never goes stale.
#[derive(Default)]
pub(crate) struct Ahead {
    lookups: HashMap<IndexKey, Vec<CustomerId>>,
    buckets: HashMap<Vec<u8>, Option<Vec<u8>>>,
    customers: HashMap<CustomerId, Option<Customer>>,
}

impl Ahead {
    /// Forgets what was read for the block before.
    pub fn clear(&mut self) {
        self.lookups.clear();
        self.buckets.clear();
        self.customers.clear();
    }

    /// Reads these index keys and run buckets, each once, in one request each.
    pub fn read_keys(
        &mut self,
        snap: &dyn Snapshot,
        mut keys: Vec<IndexKey>,
        mut buckets: Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        keys.sort_unstable();
        keys.dedup();
        keys.retain(|k| !self.lookups.contains_key(k));
        if !keys.is_empty() {
            let found = snap.lookup_many(&keys)?;
            self.lookups.extend(keys.into_iter().zip(found));
        }
        buckets.sort_unstable();
        buckets.dedup();
        buckets.retain(|b| !self.buckets.contains_key(b));
        if !buckets.is_empty() {
            let found = snap.docs_by_key(RUNS, &buckets)?;
            self.buckets.extend(
                buckets
                    .into_iter()
                    .zip(found.into_iter().map(|d| d.map(|d| d.value))),
            );
        }
        Ok(())
    }

    /// Reads these dossiers, each once, in one request.
    pub fn read_customers(
        &mut self,
        snap: &dyn Snapshot,
        mut ids: Vec<CustomerId>,
    ) -> Result<(), Error> {
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|id| !self.customers.contains_key(id));
        if !ids.is_empty() {
            let found = snap.customers_by_id(&ids)?;
            self.customers.extend(ids.into_iter().zip(found));
        }
        Ok(())
    }

    /// The customers an index maps a key to: as read ahead, or asked now.
    pub fn lookup(
        &self,
        snap: &dyn Snapshot,
        key: &IndexKey,
    ) -> Result<Cow<'_, [CustomerId]>, Error> {
        match self.lookups.get(key) {
            Some(ids) => Ok(Cow::Borrowed(ids)),
            None => Ok(Cow::Owned(snap.lookup(key)?)),
        }
    }

    /// A run's bucket: as read ahead, or asked now.
    pub fn bucket(&self, snap: &dyn Snapshot, key: &[u8]) -> Result<Option<Cow<'_, [u8]>>, Error> {
        match self.buckets.get(key) {
            Some(b) => Ok(b.as_deref().map(Cow::Borrowed)),
            None => Ok(snap.doc(RUNS, key)?.map(|d| Cow::Owned(d.value))),
        }
    }

    /// A dossier, taken from what was read ahead (a check reads each once),
    /// or asked now.
    pub fn customer(
        &mut self,
        snap: &dyn Snapshot,
        id: CustomerId,
    ) -> Result<Option<Customer>, Error> {
        match self.customers.remove(&id) {
            Some(c) => Ok(c),
            None => Ok(snap.customer(id)?),
        }
    }
}
