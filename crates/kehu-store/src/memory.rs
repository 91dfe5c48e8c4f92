use std::sync::{Mutex, PoisonError, RwLock};

use imbl::{OrdMap, OrdSet};
use kehu_model::{Customer, CustomerId, RecordId, Related, RelatedKind, Timestamp};

use crate::{
    apply_batches, Batch, Change, Doc, IndexKey, KeySets, Result, Snapshot, Store, WriteTx,
};

type RelatedKey = (CustomerId, Timestamp, RecordId);

/// Everything the memory store holds. Persistent maps: a clone is O(1) and
/// shares structure, so a snapshot is a clone and a transaction is a draft
/// clone that replaces the state only when the whole batch succeeded.
#[derive(Clone, Default)]
struct State {
    customers: OrdMap<CustomerId, Customer>,
    index: OrdMap<Vec<u8>, OrdSet<CustomerId>>,
    key_sets: OrdMap<CustomerId, KeySets>,
    related: OrdMap<RelatedKey, Related>,
    changes: OrdMap<(CustomerId, u64), Change>,
    docs: OrdMap<(String, Vec<u8>), Doc>,
    seq: u64,
    audit: imbl::Vector<crate::AuditEntry>,
    audit_head: Option<(u64, [u8; 32])>,
}

/// A store in memory: for tests, scratch work and short-lived tools.
/// Nothing is written to disk, so no codec applies.
#[derive(Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    writer: Mutex<()>,
    commits: crate::Commits,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn current(&self) -> State {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Store for MemoryStore {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        Ok(Box::new(self.current()))
    }

    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut draft = self.current();
        apply_batches(&mut draft, batches)?;
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = draft;
        self.commits.committed();
        Ok(())
    }

    fn subscribe(&self) -> Result<Box<dyn crate::Subscription + '_>> {
        Ok(Box::new(self.commits.subscribe()))
    }

    fn commit_count(&self) -> Result<Option<u64>> {
        Ok(Some(self.commits.count()))
    }
}

fn related_range(id: CustomerId) -> std::ops::RangeInclusive<RelatedKey> {
    (id, Timestamp::MIN_UTC, RecordId::from_bytes([0; 16]))
        ..=(id, Timestamp::MAX_UTC, RecordId::from_bytes([0xff; 16]))
}

impl Snapshot for State {
    fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        Ok(self.customers.get(&id).cloned())
    }

    fn customers(&self) -> Result<Box<dyn Iterator<Item = Result<Customer>> + '_>> {
        Ok(Box::new(self.customers.values().cloned().map(Ok)))
    }

    fn customer_count(&self) -> Result<u64> {
        Ok(self.customers.len() as u64)
    }

    fn lookup(&self, key: &IndexKey) -> Result<Vec<CustomerId>> {
        Ok(self
            .index
            .get(&key.encode())
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default())
    }

    fn related(&self, id: CustomerId, kind: Option<RelatedKind>) -> Result<Vec<Related>> {
        Ok(self
            .related
            .range(related_range(id))
            .map(|(_, r)| r)
            .filter(|r| kind.is_none_or(|k| r.kind() == k))
            .cloned()
            .collect())
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Change>> {
        Ok(self
            .changes
            .range((id, 0)..=(id, u64::MAX))
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn doc(&self, space: &str, key: &[u8]) -> Result<Option<Doc>> {
        Ok(self.docs.get(&(space.to_string(), key.to_vec())).cloned())
    }

    fn audit(&self, from: u64) -> Result<Vec<crate::AuditEntry>> {
        Ok(self
            .audit
            .iter()
            .filter(|e| e.seq >= from)
            .cloned()
            .collect())
    }

    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>> {
        Ok(self.audit_head)
    }

    fn feed(&self, after: u64, limit: usize) -> Result<Vec<crate::FeedItem>> {
        let mut changes: Vec<Change> = self
            .changes
            .values()
            .filter(|c| c.seq > after)
            .cloned()
            .collect();
        changes.sort_by_key(|c| c.seq);
        changes.truncate(limit);
        let tombstones = crate::feed::tombstones_after(self, after, limit)?;
        Ok(crate::feed::merge(changes, tombstones, limit))
    }

    fn docs(&self, space: &str, prefix: &[u8]) -> Result<Vec<Doc>> {
        let start = (space.to_string(), prefix.to_vec());
        Ok(self
            .docs
            .range(start..)
            .take_while(|((s, k), _)| s == space && k.starts_with(prefix))
            .map(|(_, d)| d.clone())
            .collect())
    }
}

impl WriteTx for State {
    fn customer(&mut self, id: CustomerId) -> Result<Option<Customer>> {
        Ok(self.customers.get(&id).cloned())
    }

    fn put_customer(&mut self, customer: &Customer) -> Result<Option<Customer>> {
        Ok(self.customers.insert(customer.id, customer.clone()))
    }

    fn remove_customer(&mut self, id: CustomerId) -> Result<()> {
        self.customers.remove(&id);
        Ok(())
    }

    fn index_insert(&mut self, key: &[u8], id: CustomerId) -> Result<()> {
        self.index.entry(key.to_vec()).or_default().insert(id);
        Ok(())
    }

    fn index_remove(&mut self, key: &[u8], id: CustomerId) -> Result<()> {
        if let Some(ids) = self.index.get_mut(key) {
            ids.remove(&id);
            if ids.is_empty() {
                self.index.remove(key);
            }
        }
        Ok(())
    }

    fn key_sets(&mut self, id: CustomerId) -> Result<KeySets> {
        Ok(self.key_sets.get(&id).cloned().unwrap_or_default())
    }

    fn put_key_sets(&mut self, id: CustomerId, sets: &KeySets) -> Result<()> {
        if sets.is_empty() {
            self.key_sets.remove(&id);
        } else {
            self.key_sets.insert(id, sets.clone());
        }
        Ok(())
    }

    fn put_related(&mut self, record: &Related) -> Result<()> {
        let key = (record.customer_id(), record.at(), record.id());
        self.related.insert(key, record.clone());
        Ok(())
    }

    fn remove_related(
        &mut self,
        customer_id: CustomerId,
        at: Timestamp,
        id: RecordId,
    ) -> Result<Option<Related>> {
        Ok(self.related.remove(&(customer_id, at, id)))
    }

    fn put_doc(
        &mut self,
        space: &str,
        key: &[u8],
        owner: Option<CustomerId>,
        value: &[u8],
    ) -> Result<()> {
        let doc = Doc {
            key: key.to_vec(),
            owner,
            value: value.to_vec(),
        };
        self.docs.insert((space.to_string(), key.to_vec()), doc);
        Ok(())
    }

    fn delete_doc(&mut self, space: &str, key: &[u8]) -> Result<()> {
        self.docs.remove(&(space.to_string(), key.to_vec()));
        Ok(())
    }

    fn remove_related_of(&mut self, id: CustomerId) -> Result<()> {
        let keys: Vec<RelatedKey> = self
            .related
            .range(related_range(id))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            self.related.remove(&key);
        }
        Ok(())
    }

    fn next_seq(&mut self) -> Result<u64> {
        self.seq += 1;
        Ok(self.seq)
    }

    fn append_change(&mut self, change: &Change) -> Result<()> {
        self.changes
            .insert((change.customer_id, change.seq), change.clone());
        Ok(())
    }

    fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>> {
        Ok(self.audit_head)
    }

    fn append_audit(&mut self, entry: &crate::AuditEntry) -> Result<()> {
        self.audit.push_back(entry.clone());
        self.audit_head = Some((entry.seq, entry.hash));
        Ok(())
    }

    fn remove_changes_of(&mut self, id: CustomerId) -> Result<()> {
        let keys: Vec<(CustomerId, u64)> = self
            .changes
            .range((id, 0)..=(id, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            self.changes.remove(&key);
        }
        Ok(())
    }

    fn remove_docs_of(&mut self, id: CustomerId) -> Result<()> {
        let keys: Vec<(String, Vec<u8>)> = self
            .docs
            .iter()
            .filter(|(_, d)| d.owner == Some(id))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            self.docs.remove(&key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    crate::conformance_tests!(|| Box::new(super::MemoryStore::new()) as Box<dyn crate::Store>);
}
