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
}
