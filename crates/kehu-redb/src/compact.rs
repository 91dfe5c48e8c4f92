//! Compaction: the book rewritten into a fresh file beside it, which then
//! takes its place. redb reuses freed pages but never wipes them, so the old
//! bytes of a changed or erased dossier (and an erased customer's wrapped
//! key) stay in the file until a page happens to be reused; a fresh file holds
//! only the live entries, and the old file's blocks go back to the file system.
//!
//! Crash safety: the fresh file is complete and synced before it is renamed
//! over the book (an atomic step), so the path always names one whole book;
//! a leftover `.compacting` file from an interrupted run is replaced by the
//! next one. The fresh database is open, holding the file lock, before the
//! rename, so no other process can open the book in between.

use std::path::{Path, PathBuf};
use std::sync::PoisonError;

use kehu_store::{CompactSummary, Error, Result};
use redb::ReadableDatabase;

use crate::backup::{dump, io, DumpError, Tables, ALL, T};
use crate::tables::backend;
use crate::RedbStore;

/// The file the fresh copy is written to, beside the book.
fn sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".compacting");
    path.with_file_name(name)
}

impl RedbStore {
    /// Rewrites the book into a fresh file and swaps it in. Commits and new
    /// reads wait; a snapshot taken before goes on reading the old file (its
    /// blocks, no longer named by the book's path, are freed when it ends).
    pub(crate) fn rewrite(&self) -> Result<CompactSummary> {
        let mut slot = self.db.write().unwrap_or_else(PoisonError::into_inner);
        let bytes_before = std::fs::metadata(&self.path).map_err(io(&self.path))?.len();
        let tmp = sibling(&self.path);
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
            _ => {}
        }
        let mut fresh = redb::Builder::new()
            .set_cache_size(self.cache_bytes)
            .create(&tmp)
            .map_err(backend)?;
        let copied = (|| {
            let from = slot.begin_read().map_err(backend)?;
            let txn = fresh.begin_write().map_err(backend)?;
            let mut entries = 0u64;
            {
                let mut tables = Tables::open(&txn)?;
                let mut sink =
                    |t: T, k: &[u8], v: &[u8]| tables.insert(t as u8, k, v).map_err(DumpError::Db);
                for t in ALL {
                    entries += dump(&from, t, &mut sink).map_err(|e| e.on(&tmp))?;
                }
            }
            txn.commit().map_err(backend)?;
            // The copy grew the file by doublings; moved down, its free tail goes.
            fresh.compact().map_err(|e| Error::Backend(e.to_string()))?;
            Ok(entries)
        })();
        // Closed and opened again: redb keeps room it grew into while copying
        // until the database closes, which trims the file to what it holds.
        drop(fresh);
        let fresh = copied.and_then(|n| {
            let db = redb::Builder::new()
                .set_cache_size(self.cache_bytes)
                .open(&tmp)
                .map_err(backend)?;
            Ok((n, db))
        });
        let (entries, fresh) = match fresh {
            Ok(done) => done,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename itself made durable (where the platform can sync a directory).
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        // The old file closes when the last snapshot of it is dropped.
        *slot = std::sync::Arc::new(fresh);
        drop(slot);
        // Nor does the transaction the last snapshots shared.
        self.drop_shared_read();
        let bytes_after = std::fs::metadata(&self.path).map_err(io(&self.path))?.len();
        Ok(CompactSummary {
            bytes_before,
            bytes_after,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kehu_model::{Customer, CustomerId, Email};
    use kehu_store::{Batch, Store, Write};

    fn put(c: Customer) -> Batch {
        Batch::new("tester", chrono::Utc::now()).with(Write::Put {
            customer: c,
            expected: 0,
        })
    }

    fn delete(id: CustomerId) -> Batch {
        Batch::new("tester", chrono::Utc::now()).with(Write::Delete { id, expected: 1 })
    }

    fn file_has(path: &Path, needle: &[u8]) -> bool {
        let bytes = std::fs::read(path).expect("read the file");
        bytes.windows(needle.len()).any(|w| w == needle)
    }

    fn person(email: &str) -> Customer {
        let mut c = Customer::person("Canary", "Person");
        c.emails.push(Email::new(email));
        c
    }

    #[test]
    fn a_removed_dossier_leaves_nothing_in_the_file_after_compaction() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("book.kehu");
        let store = RedbStore::open(&path).expect("open");
        let gone = person("zqgonecanary@example.com");
        let kept = person("zqkeptcanary@example.com");
        let (gone_id, kept_id) = (gone.id, kept.id);
        store.commit(put(gone)).expect("insert");
        store.commit(put(kept)).expect("insert");
        store.commit(delete(gone_id)).expect("remove");
        assert!(
            file_has(&path, b"zqgonecanary"),
            "the test bites: redb leaves a removed value in freed pages"
        );
        let before = std::fs::metadata(&path).expect("size").len();
        let summary = store.compact().expect("compact");
        assert!(summary.entries > 0 && summary.bytes_after > 0);
        // The sizes it reports are the file's, before and after (it once
        // reported the fresh file's length before redb trimmed it on closing).
        assert_eq!(summary.bytes_before, before);
        assert_eq!(
            summary.bytes_after,
            std::fs::metadata(&path).expect("size").len()
        );
        assert!(!file_has(&path, b"zqgonecanary"));
        assert!(file_has(&path, b"zqkeptcanary"));
        assert!(!sibling(&path).exists());
        // The store goes on reading and writing the fresh file, and it reopens.
        let snap = store.snapshot().expect("snapshot");
        assert!(snap.customer(gone_id).expect("read").is_none());
        assert!(snap.customer(kept_id).expect("read").is_some());
        drop(snap);
        store
            .commit(put(person("zqlatercanary@example.com")))
            .expect("a commit after compaction");
        drop(store);
        let again = RedbStore::open(&path).expect("reopen");
        assert_eq!(
            again
                .snapshot()
                .expect("snap")
                .customer_count()
                .expect("count"),
            2
        );
    }

    #[test]
    fn a_snapshot_taken_before_compaction_keeps_its_view() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("book.kehu");
        let store = RedbStore::open(&path).expect("open");
        let c = person("zqsnapshot@example.com");
        let id = c.id;
        store.commit(put(c)).expect("insert");
        let before = store.snapshot().expect("snapshot");
        store.compact().expect("compact");
        assert!(before
            .customer(id)
            .expect("an old snapshot still reads")
            .is_some());
    }

    #[test]
    fn a_leftover_partial_copy_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("book.kehu");
        std::fs::write(sibling(&path), b"half a copy").expect("leftover");
        let store = RedbStore::open(&path).expect("open");
        store.compact().expect("compact over a leftover");
        assert!(!sibling(&path).exists());
    }

    /// The fresh file holds what the book holds, not the room the copy grew
    /// into: redb grows a file by doublings and keeps a tail smaller than
    /// half, so a copy left as written is often much larger than its pages.
    #[test]
    fn the_fresh_file_is_no_larger_than_its_pages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("book.kehu");
        let store = RedbStore::open(&path).expect("open");
        let mut batches = (0..100_000).map(|i| put(person(&format!("zq{i}@example.com"))));
        store.commit_all(&mut batches).expect("one transaction");
        let summary = store.compact().expect("compact");
        let db = store.db();
        let write = db.begin_write().expect("write");
        let stats = write.stats().expect("stats");
        let pages = stats.allocated_pages() * stats.page_size() as u64;
        write.abort().expect("abort");
        assert!(
            summary.bytes_after <= pages + (pages / 10).max(1 << 20),
            "{} bytes for {pages} bytes of pages",
            summary.bytes_after
        );
    }
}
