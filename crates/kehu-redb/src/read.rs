//! The read transaction the snapshots taken between two commits share.

use std::sync::{Arc, OnceLock, PoisonError};

use kehu_store::Result;
use redb::{Database, ReadOnlyTable, ReadTransaction, ReadableDatabase};

use crate::tables::backend;
use crate::RedbStore;

/// One read transaction and its open tables, shared by every snapshot taken
/// until the next commit: a lookup pays for no transaction of its own. Taken
/// out of the store when a commit starts, so it never holds back the pages
/// later commits free (a snapshot still open does, as any read does).
pub(crate) struct SharedRead {
    pub(crate) customers: OnceLock<ReadOnlyTable<u128, &'static [u8]>>,
    pub(crate) index: OnceLock<ReadOnlyTable<&'static [u8], ()>>,
    /// The book's actors by number, read on first need.
    pub(crate) actors: OnceLock<std::collections::HashMap<u32, String>>,
    pub(crate) txn: Arc<ReadTransaction>,
    /// The database read, kept open past a compaction that swaps it out
    /// (dropped last, after the transaction and its tables).
    pub(crate) db: Arc<Database>,
    /// The store's commit count when the transaction began.
    pub(crate) commits: u64,
}

impl SharedRead {
    fn begin(db: Arc<Database>, commits: u64) -> Result<Self> {
        Ok(Self {
            customers: OnceLock::new(),
            index: OnceLock::new(),
            actors: OnceLock::new(),
            txn: Arc::new(db.begin_read().map_err(backend)?),
            db,
            commits,
        })
    }
}

impl RedbStore {
    /// The read transaction of the book as of its last commit: the one the
    /// snapshots since share, or a new one. The commit count is read before
    /// the transaction begins and moves only once a commit is visible, so a
    /// shared transaction never predates the count it is kept under (one
    /// begun during a commit is kept under the count before it).
    pub(crate) fn shared_read(&self) -> Result<Arc<SharedRead>> {
        let commits = self.commits.count();
        let db = self.current_db();
        let mut slot = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(read) = slot.as_ref() {
            if read.commits == commits && Arc::ptr_eq(&read.db, &db) {
                return Ok(Arc::clone(read));
            }
        }
        let read = Arc::new(SharedRead::begin(db, commits)?);
        *slot = Some(Arc::clone(&read));
        Ok(read)
    }

    /// Lets go of the shared read transaction (before a write).
    pub(crate) fn drop_shared_read(&self) {
        self.read
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

#[cfg(test)]
mod tests {
    use kehu_store::{Batch, Store};

    use crate::RedbStore;

    /// The read transaction snapshots share is let go when a commit starts:
    /// a book read once and then written many times grows no more than one
    /// never read (a transaction kept would hold back every page freed since).
    #[test]
    fn the_shared_read_holds_back_no_page() {
        use kehu_model::Customer;
        let dir = tempfile::tempdir().expect("tempdir");
        let size_after_writes = |name: &str, read_first: bool| {
            let path = dir.path().join(name);
            let store = RedbStore::open(&path).expect("open");
            let mut c = Customer::person("Shared", "Read");
            let batch = |c: &Customer, expected: u64| {
                Batch::new("tester", chrono::Utc::now()).with(kehu_store::Write::Put {
                    customer: c.clone(),
                    expected,
                })
            };
            store.commit(batch(&c, 0)).expect("create");
            if read_first {
                assert!(store
                    .snapshot()
                    .expect("snap")
                    .customer(c.id)
                    .expect("read")
                    .is_some());
            }
            for v in 1..300 {
                c.version = v;
                c.job_title = Some(format!("title {v} {}", "x".repeat(3000)));
                store.commit(batch(&c, v)).expect("update");
            }
            drop(store);
            std::fs::metadata(&path).expect("size").len()
        };
        let plain = size_after_writes("plain.kehu", false);
        let read = size_after_writes("read.kehu", true);
        assert!(
            read <= plain + (64 << 10),
            "read first: {read} bytes, never read: {plain}"
        );
    }
}
