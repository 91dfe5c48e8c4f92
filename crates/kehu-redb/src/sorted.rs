//! Writes of a transaction held back and applied in key order. A bulk write
//! puts its dossiers, changes and index entries in the order its rows come,
//! which is nearly the key order for dossiers (ids are time-ordered, but
//! rows are prepared in parallel) and random for index entries; redb splits
//! a full leaf in the middle, so nearly sorted inserts leave half-empty
//! leaves behind, and random ones touch a leaf per entry. Applied in order,
//! a few thousand at a time, they fill leaves and visit each once.

use std::collections::BTreeMap;

/// How many writes a table holds back before they are applied.
const HELD: usize = 16_384;

/// The latest write of each key not yet applied: a value, or a removal.
pub(crate) struct Sorted<K: Ord, V> {
    held: BTreeMap<K, Option<V>>,
}

impl<K: Ord, V> Default for Sorted<K, V> {
    fn default() -> Self {
        Self {
            held: BTreeMap::new(),
        }
    }
}

impl<K: Ord, V> Sorted<K, V> {
    /// What the held writes say of `key`: none when they do not name it,
    /// `Some(None)` when it was removed.
    pub(crate) fn get(&self, key: &K) -> Option<Option<&V>> {
        self.held.get(key).map(Option::as_ref)
    }

    /// Holds a write of `key` (a value or, with `None`, a removal); returns
    /// what an earlier held write of it said.
    pub(crate) fn put(&mut self, key: K, value: Option<V>) -> Option<Option<V>> {
        self.held.insert(key, value)
    }

    /// Whether it holds enough to be applied.
    pub(crate) fn full(&self) -> bool {
        self.held.len() >= HELD
    }

    /// The held writes in key order, leaving none.
    pub(crate) fn take(&mut self) -> BTreeMap<K, Option<V>> {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kehu_store::{Batch, Store};

    use crate::RedbStore;

    #[test]
    fn the_last_write_of_a_key_wins_and_they_come_out_in_order() {
        let mut s: Sorted<u32, &str> = Sorted::default();
        assert_eq!(s.put(3, Some("c")), None);
        assert_eq!(s.put(1, Some("a")), None);
        assert_eq!(s.put(3, None), Some(Some("c")));
        assert_eq!(s.get(&3), Some(None));
        assert_eq!(s.get(&1), Some(Some(&"a")));
        assert_eq!(s.get(&2), None);
        let out: Vec<(u32, Option<&str>)> = s.take().into_iter().collect();
        assert_eq!(out, vec![(1, Some("a")), (3, None)]);
        assert!(s.get(&1).is_none());
    }

    /// Dossiers held back and applied within one transaction read back as
    /// written, before and after they reach the table: an update late in a
    /// transaction finds a dossier its start created (past the table's last
    /// id, applied since), and a removed one stays gone.
    #[test]
    fn a_transaction_reads_the_dossiers_it_holds_and_applied() {
        use kehu_model::Customer;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbStore::open(dir.path().join("held.kehu")).expect("open");
        let put = |c: &Customer, expected: u64| {
            Batch::new("tester", chrono::Utc::now()).with(kehu_store::Write::Put {
                customer: c.clone(),
                expected,
            })
        };
        let old = Customer::person("Before", "All");
        store.commit(put(&old, 0)).expect("one before");
        let made: Vec<Customer> = (0..40_000)
            .map(|i| Customer::person(format!("Held{i}"), "Back"))
            .collect();
        let mut batches: Vec<Batch> = made.iter().map(|c| put(c, 0)).collect();
        let mut changed = made[0].clone();
        changed.job_title = Some("changed after the flush".into());
        changed.version = 1;
        batches.push(put(&changed, 1));
        batches.push(put(&made[39_999], 1));
        batches.push(
            Batch::new("tester", chrono::Utc::now()).with(kehu_store::Write::Delete {
                id: made[20_000].id,
                expected: 1,
            }),
        );
        batches.push(put(&old, 1));
        store
            .commit_all(&mut batches.into_iter())
            .expect("one transaction");
        let snap = store.snapshot().expect("snap");
        assert_eq!(snap.customer_count().expect("count"), 40_000);
        let first = snap.customer(made[0].id).expect("read").expect("kept");
        assert_eq!(first.job_title.as_deref(), Some("changed after the flush"));
        assert_eq!(first.version, 2);
        assert_eq!(
            snap.customer(made[39_999].id)
                .expect("read")
                .expect("kept")
                .version,
            2
        );
        assert!(snap.customer(made[20_000].id).expect("read").is_none());
        assert_eq!(
            snap.customer(old.id).expect("read").expect("kept").version,
            2
        );
        assert_eq!(snap.history(made[0].id).expect("history").len(), 2);
    }
}
