//! Reads of the book asked ahead for a block of records at once: a few
//! requests for the block instead of a few per record, which is what a book
//! across a network needs. The duplicate check of a write and an import's
//! search for the dossiers its rows update read this way.

use std::borrow::Cow;
use std::collections::HashMap;

use kehu_model::{Customer, CustomerId};
use kehu_store::{IndexKey, Snapshot};

use crate::Error;

/// Reads made ahead of one snapshot; what is asked and found here is not
/// asked of the store. Each answer is as of that snapshot, so it never goes
/// stale while the snapshot is the one read.
#[derive(Default)]
pub(crate) struct Ahead {
    lookups: HashMap<IndexKey, Vec<CustomerId>>,
    docs: HashMap<(&'static str, Vec<u8>), Option<Vec<u8>>>,
    customers: HashMap<CustomerId, Option<Customer>>,
}

impl Ahead {
    /// Forgets what was read for the block before.
    pub fn clear(&mut self) {
        self.lookups.clear();
        self.docs.clear();
        self.customers.clear();
    }

    /// Reads these index keys, each once, in one request.
    pub fn read_lookups(
        &mut self,
        snap: &dyn Snapshot,
        mut keys: Vec<IndexKey>,
    ) -> Result<(), Error> {
        unread(&mut keys, |k| self.lookups.contains_key(k));
        if !keys.is_empty() {
            let found = snap.lookup_many(&keys)?;
            self.lookups.extend(keys.into_iter().zip(found));
        }
        Ok(())
    }

    /// Reads these documents of a space, each once, in one request.
    pub fn read_docs(
        &mut self,
        snap: &dyn Snapshot,
        space: &'static str,
        mut keys: Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        unread(&mut keys, |k| self.docs.contains_key(&(space, k.clone())));
        if !keys.is_empty() {
            let found = snap.docs_by_key(space, &keys)?;
            self.docs.extend(
                keys.into_iter()
                    .zip(found)
                    .map(|(k, d)| ((space, k), d.map(|d| d.value))),
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
        unread(&mut ids, |id| self.customers.contains_key(id));
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

    /// A document's value: as read ahead, or asked now.
    pub fn doc(
        &self,
        snap: &dyn Snapshot,
        space: &'static str,
        key: &[u8],
    ) -> Result<Option<Cow<'_, [u8]>>, Error> {
        match self.docs.get(&(space, key.to_vec())) {
            Some(value) => Ok(value.as_deref().map(Cow::Borrowed)),
            None => Ok(snap.doc(space, key)?.map(|d| Cow::Owned(d.value))),
        }
    }

    /// A dossier, taken from what was read ahead (each is read for one use),
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

/// Leaves in `asked` each thing once, and none already `read`.
fn unread<K: Ord>(asked: &mut Vec<K>, read: impl Fn(&K) -> bool) {
    asked.sort_unstable();
    asked.dedup();
    asked.retain(|k| !read(k));
}
