//! The default [`Store`]: one file, on [redb](https://www.redb.org).
//!
//! Values are kehu's own versioned bytes (a format byte, then postcard), never
//! redb's value encodings, so the file format is ours to migrate. Personal
//! fields and every lookup value pass through the store's [`FieldCodec`].
//! redb locks the file: open one `RedbStore` per file per process.

#![warn(missing_docs)]

mod actors;
mod backup;
mod compact;
mod feed;
mod keys;
mod read;
mod sorted;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use kehu_model::{Customer, CustomerId, RecordId, Related, RelatedKind, Timestamp};
use kehu_store::{
    apply_batches, Batch, Change, Doc, Error, FieldCodec, IndexKey, KeySets, PlainCodec, Result,
    Snapshot, Store, WriteTx, FORMAT_VERSION, OLDEST_FORMAT,
};
use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableHandle, WriteTransaction,
};

use feed::{FeedChanges, FeedOrder};
use kehu_store::stored::{
    self as encoding, decode_change, decode_customer, decode_doc, decode_related, encode_customer,
    encode_doc, encode_related, related_key, related_prefix, KeyCache, Sealer,
};
use keys::KeyTable;
use read::SharedRead;
use sorted::Sorted;
use tables::{
    backend, ACTORS, AUDIT, CHANGES, CUSTOMERS, DOCS, INDEX, KEYS, KEY_SETS, META, RELATED,
};

/// How to open a [`RedbStore`].
#[derive(Clone)]
pub struct RedbOptions {
    /// redb's page cache, in bytes. Servers want hundreds of MiB; phones a few.
    pub cache_bytes: usize,
    /// The codec for personal fields and lookup values.
    pub codec: Arc<dyn FieldCodec>,
}

impl Default for RedbOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 256 << 20,
            codec: Arc::new(PlainCodec),
        }
    }
}

impl std::fmt::Debug for RedbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbOptions")
            .field("cache_bytes", &self.cache_bytes)
            .finish_non_exhaustive()
    }
}

/// A store kept in one redb file.
pub struct RedbStore {
    /// The open file; swapped for a fresh one by [`Store::compact`], which
    /// holds the lock for writing while every commit holds it for reading.
    db: RwLock<Arc<Database>>,
    path: PathBuf,
    cache_bytes: usize,
    codec: Arc<dyn FieldCodec>,
    keys: KeyCache,
    /// The change feed's order, built from the change log on first use and
    /// kept by this handle's commits (a redb book has one writing process).
    feed: std::sync::Mutex<FeedOrder>,
    /// Commits counted for subscribers.
    commits: kehu_store::Commits,
    /// One builder of the feed's order at a time.
    building: std::sync::Mutex<()>,
    /// Commits one at a time, each with its update of the feed's order, so
    /// the order never shows a later commit's changes before an earlier one's.
    writer: std::sync::Mutex<()>,
    /// The read transaction the snapshots since the last commit share.
    read: std::sync::Mutex<Option<Arc<SharedRead>>>,
}

impl RedbStore {
    /// Opens the book at `path` with default options, creating it if missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, RedbOptions::default())
    }

    /// Opens the book at `path`, creating it if missing. A file that is not a
    /// kehu book, or one in a format this build does not read, is an error.
    pub fn open_with(path: impl AsRef<Path>, options: RedbOptions) -> Result<Self> {
        let mut store = Self::open_unchecked(path.as_ref(), options.cache_bytes)?;
        guard(|| {
            if options.codec.key_ring().is_some() {
                return Err(Error::Codec(
                    "a codec with per-customer keys opens a book through RedbStore::open_sealed"
                        .into(),
                ));
            }
            if store.meta_value(SEAL_HEADER)?.is_some() {
                return Err(Error::Codec(
                    "the book is encrypted: open it with its passphrase or key".into(),
                ));
            }
            store.codec = options.codec;
            Ok(store)
        })
    }

    /// The open database (a poisoned lock still holds a whole database: a
    /// compaction swaps it in one step, after the fresh file is complete).
    fn db(&self) -> RwLockReadGuard<'_, Arc<Database>> {
        self.db.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_or_init_format(&self) -> Result<()> {
        let txn = self.db().begin_write().map_err(backend)?;
        let found = {
            let has_tables = txn.list_tables().map_err(backend)?.next().is_some();
            let meta = txn.open_table(META).map_err(backend)?;
            let found = meta
                .get("format")
                .map_err(backend)?
                .map(|v| v.value().to_vec());
            match found {
                Some(bytes) => Some(tables::format_version(&bytes)?),
                None if has_tables => {
                    return Err(Error::NotABook(
                        "a redb database without kehu's format marker".into(),
                    ))
                }
                None => None,
            }
        };
        match found {
            Some(v) if (OLDEST_FORMAT..=FORMAT_VERSION).contains(&v) => {
                // Books made before documents existed get their (empty) table.
                let has_docs = txn
                    .list_tables()
                    .map_err(backend)?
                    .any(|t| t.name() == DOCS.name());
                if has_docs && v == FORMAT_VERSION {
                    return txn.abort().map_err(backend);
                }
                txn.open_table(DOCS).map_err(backend)?;
                // An older format moves on: its values read as they are.
                txn.open_table(META)
                    .map_err(backend)?
                    .insert("format", FORMAT_VERSION.to_le_bytes().as_slice())
                    .map_err(backend)?;
                txn.commit().map_err(backend)
            }
            Some(found) => Err(Error::UnsupportedFormat {
                found,
                supported: FORMAT_VERSION,
            }),
            None => {
                {
                    let mut meta = txn.open_table(META).map_err(backend)?;
                    meta.insert("format", FORMAT_VERSION.to_le_bytes().as_slice())
                        .map_err(backend)?;
                    txn.open_table(CUSTOMERS).map_err(backend)?;
                    txn.open_table(INDEX).map_err(backend)?;
                    txn.open_table(KEY_SETS).map_err(backend)?;
                    txn.open_table(RELATED).map_err(backend)?;
                    txn.open_table(CHANGES).map_err(backend)?;
                    txn.open_table(DOCS).map_err(backend)?;
                    txn.open_table(ACTORS).map_err(backend)?;
                }
                txn.commit().map_err(backend)
            }
        }
    }

    /// Opens the book at `path` sealed by a codec made from the book's key
    /// header: `make(header, new)` gets the stored header (none for a new,
    /// empty book) and returns the codec and the header to store for a new
    /// book. It checks the key; a wrong one is its error, and nothing is written.
    pub fn open_sealed(
        path: impl AsRef<Path>,
        cache_bytes: usize,
        make: &mut MakeCodec<'_>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let mut store = Self::open_unchecked(path, cache_bytes)?;
        guard(|| {
            let header = store.meta_value(SEAL_HEADER)?;
            let new = header.is_none();
            if new && store.has_customers()? {
                return Err(Error::Codec(
                    "this book is not encrypted; it cannot be opened with a key".into(),
                ));
            }
            let (codec, header_out) = make(header.as_deref())?;
            if new {
                let txn = store.db().begin_write().map_err(backend)?;
                {
                    let mut meta = txn.open_table(META).map_err(backend)?;
                    meta.insert(SEAL_HEADER, header_out.as_slice())
                        .map_err(backend)?;
                    txn.open_table(KEYS).map_err(backend)?;
                }
                txn.commit().map_err(backend)?;
                store.drop_shared_read();
            }
            store.codec = codec;
            Ok(store)
        })
    }

    /// Opens the file and checks its format, without the sealed-book check.
    fn open_unchecked(path: &Path, cache_bytes: usize) -> Result<Self> {
        guard(|| {
            let db = redb::Builder::new()
                .set_cache_size(cache_bytes)
                .create(path)
                .map_err(tables::open_error)?;
            let store = Self {
                db: RwLock::new(Arc::new(db)),
                path: path.to_path_buf(),
                cache_bytes,
                codec: Arc::new(PlainCodec),
                keys: KeyCache::default(),
                feed: Default::default(),
                building: Default::default(),
                commits: Default::default(),
                writer: Default::default(),
                read: Default::default(),
            };
            store.check_or_init_format()?;
            Ok(store)
        })
        .map_err(|e| match e {
            Error::Corrupt(msg) => Error::NotABook(msg),
            Error::Locked { holder: None } => Error::Locked {
                holder: tables::lock_holder(path),
            },
            other => other,
        })
    }

    fn meta_value(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let txn = self.db().begin_read().map_err(backend)?;
        let meta = txn.open_table(META).map_err(backend)?;
        let value = meta.get(name).map_err(backend)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn has_customers(&self) -> Result<bool> {
        let txn = self.db().begin_read().map_err(backend)?;
        let table = txn.open_table(CUSTOMERS).map_err(backend)?;
        Ok(!table.is_empty().map_err(backend)?)
    }

    /// The key header of the sealed book at `path` (none for a plain book).
    pub fn seal_header(path: impl AsRef<Path>) -> Result<Option<Vec<u8>>> {
        let store = Self::open_unchecked(path.as_ref(), 1 << 20)?;
        guard(|| store.meta_value(SEAL_HEADER))
    }

    /// Puts a sealed book under a new key in one transaction (an interruption
    /// leaves it under the old one): every customer's wrapped data key is
    /// replaced by `rewrap(owner, wrapped)` and the key header by `header`.
    /// Returns how many keys were re-wrapped.
    pub fn rewrap_keys(
        path: impl AsRef<Path>,
        cache_bytes: usize,
        header: &[u8],
        rewrap: &mut Rewrap<'_>,
    ) -> Result<u64> {
        let store = Self::open_unchecked(path.as_ref(), cache_bytes)?;
        guard(|| {
            if store.meta_value(SEAL_HEADER)?.is_none() {
                return Err(Error::Codec("the book is not encrypted".into()));
            }
            let txn = store.db().begin_write().map_err(backend)?;
            let mut n = 0u64;
            {
                let mut keys = txn.open_table(KEYS).map_err(backend)?;
                let mut all = Vec::new();
                for entry in keys.iter().map_err(backend)? {
                    let (k, v) = entry.map_err(backend)?;
                    all.push((k.value(), v.value().to_vec()));
                }
                for (k, wrapped) in all {
                    let owner = CustomerId::from_bytes(k.to_be_bytes());
                    let new = rewrap(owner, &wrapped)?;
                    keys.insert(k, new.as_slice()).map_err(backend)?;
                    n += 1;
                }
                let mut meta = txn.open_table(META).map_err(backend)?;
                meta.insert(SEAL_HEADER, header).map_err(backend)?;
            }
            txn.commit().map_err(backend)?;
            Ok(n)
        })
    }

    /// Whether the book at `path` is sealed (opened with a key). Reads the file only.
    pub fn is_sealed(path: impl AsRef<Path>) -> Result<bool> {
        let store = Self::open_unchecked(path.as_ref(), 1 << 20)?;
        guard(|| Ok(store.meta_value(SEAL_HEADER)?.is_some()))
    }
}

/// Makes a sealed book's codec from its stored key header (none: a new book),
/// returning the codec and the header to store.
pub type MakeCodec<'a> = dyn FnMut(Option<&[u8]>) -> Result<(Arc<dyn FieldCodec>, Vec<u8>)> + 'a;

/// Re-wraps one customer's wrapped data key under a new book key.
pub type Rewrap<'a> = dyn FnMut(CustomerId, &[u8]) -> Result<Vec<u8>> + 'a;

/// The meta entry of a sealed book's key header (salt, key check).
const SEAL_HEADER: &str = "seal";

impl Store for RedbStore {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        guard(|| {
            let read = self.shared_read()?;
            // Opened on the first key the shared cache lacks.
            let keys = self.codec.key_ring().map(|_| {
                Box::new(KeyTable::Unopened(read.txn.clone()))
                    as Box<dyn kehu_store::stored::WrappedKeys>
            });
            Ok(Box::new(RedbSnapshot {
                read,
                sealer: Sealer::new(&*self.codec, keys).with_cache(&self.keys),
                store: self,
            }) as Box<dyn Snapshot>)
        })
    }

    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        guard(|| self.commit_unguarded(batches))
    }

    fn backup(&self, path: &Path) -> Result<kehu_store::BackupSummary> {
        guard(|| self.write_backup(path))
    }

    fn subscribe(&self) -> Result<Box<dyn kehu_store::Subscription + '_>> {
        Ok(Box::new(self.commits.subscribe()))
    }

    /// The file is this process's alone while it is open: its commits are
    /// every commit since the open.
    fn commit_count(&self) -> Result<Option<u64>> {
        Ok(Some(self.commits.count()))
    }

    fn compact(&self) -> Result<kehu_store::CompactSummary> {
        guard(|| self.rewrite())
    }
}

impl RedbStore {
    fn commit_unguarded(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        // Held to the end of the commit, so a compaction never copies a file
        // that a commit is still changing.
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.drop_shared_read();
        let db = self.db();
        let _committing = Committing::enter(self, &db);
        let mut txn = db.begin_write().map_err(backend)?;
        let (outcome, keys, feed) = {
            let mut tx = RedbTx::new(&txn, &*self.codec, &self.keys)?;
            let outcome =
                apply_batches(&mut tx, batches).and_then(|durable| tx.finish().map(|()| durable));
            (outcome, tx.sealer.outcome(), std::mem::take(&mut tx.feed))
        };
        match outcome {
            Ok(durable) => {
                if !durable {
                    txn.set_durability(redb::Durability::None)
                        .map_err(|e| Error::Backend(e.to_string()))?;
                }
                txn.commit().map_err(backend)?;
                self.keys.committed(keys);
                drop(_committing);
                drop(db);
                // Still the one writer: the order follows the commits' order.
                self.fed(feed);
                self.commits.committed();
                Ok(())
            }
            Err(e) => {
                txn.abort().map_err(backend)?;
                Err(e)
            }
        }
    }
}

thread_local! {
    /// The databases this thread is committing to, by store: a snapshot a
    /// batch takes while it is pulled reads the same database without
    /// asking for the lock again (a compaction waiting for it would
    /// otherwise keep both waiting).
    static COMMITTING: std::cell::RefCell<Vec<(usize, Arc<Database>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// This thread's mark of a commit in progress, taken off when it ends.
struct Committing(usize);

impl Committing {
    fn enter(store: &RedbStore, db: &Arc<Database>) -> Self {
        let key = store as *const RedbStore as usize;
        COMMITTING.with(|c| c.borrow_mut().push((key, Arc::clone(db))));
        Committing(key)
    }
}

impl Drop for Committing {
    fn drop(&mut self) {
        COMMITTING.with(|c| {
            let mut c = c.borrow_mut();
            if let Some(i) = c.iter().rposition(|(k, _)| *k == self.0) {
                c.remove(i);
            }
        });
    }
}

impl RedbStore {
    /// The database to read: the one this thread is committing to, if it
    /// is, else the store's (under the lock compaction takes).
    fn current_db(&self) -> Arc<Database> {
        let key = self as *const RedbStore as usize;
        COMMITTING
            .with(|c| {
                c.borrow()
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == key)
                    .map(|(_, db)| Arc::clone(db))
            })
            .unwrap_or_else(|| Arc::clone(&self.db()))
    }
}

/// Runs a redb call, turning a panic inside redb (which some damaged files
/// still cause) into a [`Error::Corrupt`], so a bad file is an error, not a crash.
fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".into());
        Err(Error::Corrupt(format!(
            "the database file is damaged ({what})"
        )))
    })
}

struct RedbSnapshot<'s> {
    store: &'s RedbStore,
    sealer: Sealer<'s>,
    /// Dropped after the sealer, whose key table reads through it.
    read: Arc<SharedRead>,
}

impl RedbSnapshot<'_> {
    fn customers_table(&self) -> Result<&ReadOnlyTable<u128, &'static [u8]>> {
        if let Some(t) = self.read.customers.get() {
            return Ok(t);
        }
        let table = self.read.txn.open_table(CUSTOMERS).map_err(backend)?;
        Ok(self.read.customers.get_or_init(|| table))
    }

    fn index(&self) -> Result<&ReadOnlyTable<&'static [u8], ()>> {
        if let Some(t) = self.read.index.get() {
            return Ok(t);
        }
        let table = self.read.txn.open_table(INDEX).map_err(backend)?;
        Ok(self.read.index.get_or_init(|| table))
    }
}

impl Snapshot for RedbSnapshot<'_> {
    fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        guard(|| self.customer_unguarded(id))
    }

    fn customers(&self) -> Result<Box<dyn Iterator<Item = Result<Customer>> + '_>> {
        let mut inner = guard(|| self.customers_unguarded())?;
        Ok(Box::new(std::iter::from_fn(move || {
            guard(|| Ok(inner.next())).unwrap_or_else(|e| Some(Err(e)))
        })))
    }

    fn customer_count(&self) -> Result<u64> {
        guard(|| self.customers_table()?.len().map_err(backend))
    }

    fn lookup(&self, key: &IndexKey) -> Result<Vec<CustomerId>> {
        guard(|| self.lookup_unguarded(key))
    }

    fn related(&self, id: CustomerId, kind: Option<RelatedKind>) -> Result<Vec<Related>> {
        guard(|| self.related_unguarded(id, kind))
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Change>> {
        guard(|| self.history_unguarded(id))
    }

    fn doc(&self, space: &str, key: &[u8]) -> Result<Option<Doc>> {
        guard(|| {
            let table = self.read.txn.open_table(DOCS).map_err(backend)?;
            let value = table
                .get(tables::doc_key(space, key).as_slice())
                .map_err(backend)?;
            value
                .map(|v| {
                    let (owner, value) = decode_doc(v.value(), &self.sealer)?;
                    Ok(Doc {
                        key: key.to_vec(),
                        owner,
                        value,
                    })
                })
                .transpose()
        })
    }

    fn audit(&self, from: u64) -> Result<Vec<kehu_store::AuditEntry>> {
        guard(|| self.audit_unguarded(from))
    }

    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>> {
        guard(|| self.audit_head_unguarded())
    }

    fn feed(&self, after: u64, limit: usize) -> Result<Vec<kehu_store::FeedItem>> {
        guard(|| {
            let table = self.read.txn.open_table(CHANGES).map_err(backend)?;
            let mut changes = Vec::new();
            for (seq, id) in self.store.feed_order(after, limit)? {
                // The order may run ahead of this snapshot: later commits
                // are not in it, so the feed as of it ends at the first one.
                let key = tables::change_key(id, seq);
                let Some(v) = table.get(key.as_slice()).map_err(backend)? else {
                    break;
                };
                changes.push(decode_change(v.value(), id, &self.sealer, self)?);
            }
            let tombstones = kehu_store::feed::tombstones_after(self, after, limit)?;
            Ok(kehu_store::feed::merge(changes, tombstones, limit))
        })
    }

    fn docs(&self, space: &str, prefix: &[u8]) -> Result<Vec<Doc>> {
        guard(|| {
            let table = self.read.txn.open_table(DOCS).map_err(backend)?;
            let start = tables::doc_key(space, prefix);
            let skip = space.len() + 1;
            let mut out = Vec::new();
            for entry in table.range(start.as_slice()..).map_err(backend)? {
                let (k, v) = entry.map_err(backend)?;
                if !k.value().starts_with(&start) {
                    break;
                }
                let (owner, value) = decode_doc(v.value(), &self.sealer)?;
                out.push(Doc {
                    key: k.value()[skip..].to_vec(),
                    owner,
                    value,
                });
            }
            Ok(out)
        })
    }
}

impl RedbSnapshot<'_> {
    fn audit_unguarded(&self, from: u64) -> Result<Vec<kehu_store::AuditEntry>> {
        let table = match self.read.txn.open_table(AUDIT) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(backend(e)),
        };
        // From the entry before: it gives the first its previous hash.
        let rows = table
            .range(from.saturating_sub(1)..)
            .map_err(backend)?
            .map(|entry| {
                let (k, v) = entry.map_err(backend)?;
                Ok((k.value(), v.value().to_vec()))
            });
        encoding::decode_audit_trail(rows, from, &self.sealer, self)
    }

    fn audit_head_unguarded(&self) -> Result<Option<(u64, [u8; 32])>> {
        let meta = self.read.txn.open_table(META).map_err(backend)?;
        let value = meta.get(AUDIT_HEAD).map_err(backend)?;
        value
            .map(|v| encoding::decode_audit_head(v.value()))
            .transpose()
    }
}

/// The meta entry of the audit trail's head.
const AUDIT_HEAD: &str = "audit_head";

/// The reads, each wrapped by [`guard`] in the `Snapshot` impl above.
impl RedbSnapshot<'_> {
    fn customer_unguarded(&self, id: CustomerId) -> Result<Option<Customer>> {
        let table = self.customers_table()?;
        let value = table.get(tables::id_key(id)).map_err(backend)?;
        value
            .map(|v| decode_customer(v.value(), &self.sealer))
            .transpose()
    }

    fn customers_unguarded(&self) -> Result<Box<dyn Iterator<Item = Result<Customer>> + '_>> {
        let table = self.customers_table()?;
        let iter = table.iter().map_err(backend)?;
        Ok(Box::new(iter.map(|entry| {
            let (_, v) = entry.map_err(backend)?;
            decode_customer(v.value(), &self.sealer)
        })))
    }

    fn lookup_unguarded(&self, key: &IndexKey) -> Result<Vec<CustomerId>> {
        let key = self.sealer.codec().index_key(key.encode());
        let index = self.index()?;
        let start = encoding::index_entry(&key, CustomerId::from_bytes([0; 16]));
        let end = encoding::index_entry(&key, CustomerId::from_bytes([0xff; 16]));
        let mut out = Vec::new();
        for entry in index
            .range(start.as_slice()..=end.as_slice())
            .map_err(backend)?
        {
            let (k, _) = entry.map_err(backend)?;
            let k = k.value();
            // Within the range, an entry of exactly this length has exactly this key.
            if k.len() == start.len() {
                let mut id = [0u8; 16];
                id.copy_from_slice(&k[key.len()..]);
                out.push(CustomerId::from_bytes(id));
            }
        }
        Ok(out)
    }

    fn related_unguarded(&self, id: CustomerId, kind: Option<RelatedKind>) -> Result<Vec<Related>> {
        let table = self.read.txn.open_table(RELATED).map_err(backend)?;
        let (start, end) = related_prefix(id);
        let mut out = Vec::new();
        for entry in table
            .range(start.as_slice()..end.as_slice())
            .map_err(backend)?
        {
            let (_, v) = entry.map_err(backend)?;
            let record = decode_related(v.value(), id, &self.sealer)?;
            if kind.is_none_or(|k| record.kind() == k) {
                out.push(record);
            }
        }
        Ok(out)
    }

    fn history_unguarded(&self, id: CustomerId) -> Result<Vec<Change>> {
        let table = self.read.txn.open_table(CHANGES).map_err(backend)?;
        let start = tables::change_key(id, 0);
        let end = tables::change_key(id, u64::MAX);
        let mut out = Vec::new();
        for entry in table
            .range(start.as_slice()..=end.as_slice())
            .map_err(backend)?
        {
            let (_, v) = entry.map_err(backend)?;
            out.push(decode_change(v.value(), id, &self.sealer, self)?);
        }
        Ok(out)
    }
}

/// One write transaction's open tables.
struct RedbTx<'t> {
    sealer: Sealer<'t>,
    meta: Table<'t, &'static str, &'static [u8]>,
    customers: Table<'t, u128, &'static [u8]>,
    index: Table<'t, &'static [u8], ()>,
    key_sets: Table<'t, u128, &'static [u8]>,
    related: Table<'t, &'static [u8], &'static [u8]>,
    changes: Table<'t, &'static [u8], &'static [u8]>,
    docs: Table<'t, &'static [u8], &'static [u8]>,
    audit: Table<'t, u64, &'static [u8]>,
    audit_head: Option<(u64, [u8; 32])>,
    seq: u64,
    feed: FeedChanges,
    /// Dossiers and changes written, applied in key order when many are
    /// held and at the end (index entries come sorted from `apply`).
    held_customers: Sorted<u128, Vec<u8>>,
    held_changes: Sorted<[u8; 24], Vec<u8>>,
    /// The book's actor table, and its names' numbers once read.
    actors: Table<'t, u32, &'static [u8]>,
    actor_numbers: Option<std::collections::HashMap<String, u32>>,
    /// Above the largest id in the table when the transaction began: an id
    /// past it is new without a lookup (ids are time-ordered, so an import's are).
    past_last: Option<u128>,
}

impl<'t> RedbTx<'t> {
    fn new(
        txn: &'t WriteTransaction,
        codec: &'t dyn FieldCodec,
        cache: &'t KeyCache,
    ) -> Result<Self> {
        let meta = txn.open_table(META).map_err(backend)?;
        let seq = match meta.get("seq").map_err(backend)? {
            Some(v) => tables::seq_value(v.value())?,
            None => 0,
        };
        let keys = match codec.key_ring() {
            Some(_) => Some(
                Box::new(KeyTable::Write(txn.open_table(KEYS).map_err(backend)?))
                    as Box<dyn kehu_store::stored::WrappedKeys + 't>,
            ),
            None => None,
        };
        let audit_head = meta
            .get(AUDIT_HEAD)
            .map_err(backend)?
            .map(|v| encoding::decode_audit_head(v.value()))
            .transpose()?;
        Ok(Self {
            sealer: Sealer::new(codec, keys).with_cache(cache),
            audit: txn.open_table(AUDIT).map_err(backend)?,
            audit_head,
            meta,
            customers: txn.open_table(CUSTOMERS).map_err(backend)?,
            index: txn.open_table(INDEX).map_err(backend)?,
            key_sets: txn.open_table(KEY_SETS).map_err(backend)?,
            related: txn.open_table(RELATED).map_err(backend)?,
            changes: txn.open_table(CHANGES).map_err(backend)?,
            docs: txn.open_table(DOCS).map_err(backend)?,
            seq,
            feed: FeedChanges::default(),
            held_customers: Sorted::default(),
            held_changes: Sorted::default(),
            past_last: None,
            actors: txn.open_table(ACTORS).map_err(backend)?,
            actor_numbers: None,
        })
    }

    /// Applies the held writes, each table's in key order.
    fn apply_held(&mut self) -> Result<()> {
        for (k, v) in self.held_customers.take() {
            match v {
                Some(bytes) => {
                    // What the table holds now moves the mark past it.
                    if let Some(l) = self.past_last.as_mut() {
                        *l = (*l).max(k.saturating_add(1));
                    }
                    self.customers.insert(k, bytes.as_slice()).map(drop)
                }
                None => self.customers.remove(k).map(drop),
            }
            .map_err(backend)?;
        }
        for (k, v) in self.held_changes.take() {
            match v {
                Some(bytes) => self
                    .changes
                    .insert(k.as_slice(), bytes.as_slice())
                    .map(drop),
                None => self.changes.remove(k.as_slice()).map(drop),
            }
            .map_err(backend)?;
        }
        Ok(())
    }

    /// Whether `key` is past every id the table held when the transaction
    /// began (the table's last key, read once; held writes are looked at first).
    fn is_past_last(&mut self, key: u128) -> Result<bool> {
        let last = match self.past_last {
            Some(l) => l,
            None => {
                let last = self.customers.last().map_err(backend)?;
                let l = last.map_or(0, |(k, _)| k.value().saturating_add(1));
                self.past_last = Some(l);
                l
            }
        };
        Ok(key >= last)
    }

    /// Applies the held writes once a table holds many.
    fn apply_if_full(&mut self) -> Result<()> {
        if self.held_customers.full() || self.held_changes.full() {
            self.apply_held()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.apply_held()?;
        self.meta
            .insert("seq", self.seq.to_le_bytes().as_slice())
            .map_err(backend)?;
        if let Some((seq, hash)) = self.audit_head {
            self.meta
                .insert(
                    AUDIT_HEAD,
                    encoding::encode_audit_head(seq, &hash).as_slice(),
                )
                .map_err(backend)?;
        }
        Ok(())
    }
}

impl WriteTx for RedbTx<'_> {
    fn customer(&mut self, id: CustomerId) -> Result<Option<Customer>> {
        let key = tables::id_key(id);
        if let Some(held) = self.held_customers.get(&key) {
            return held.map(|v| decode_customer(v, &self.sealer)).transpose();
        }
        if self.is_past_last(key)? {
            return Ok(None);
        }
        let value = self.customers.get(key).map_err(backend)?;
        value
            .map(|v| decode_customer(v.value(), &self.sealer))
            .transpose()
    }

    fn contains_customer(&mut self, id: CustomerId) -> Result<bool> {
        let key = tables::id_key(id);
        if let Some(held) = self.held_customers.get(&key) {
            return Ok(held.is_some());
        }
        if self.is_past_last(key)? {
            return Ok(false);
        }
        Ok(self.customers.get(key).map_err(backend)?.is_some())
    }

    fn put_customer(&mut self, customer: &Customer) -> Result<Option<Customer>> {
        let old = self.customer(customer.id)?;
        let bytes = encode_customer(customer, &self.sealer)?;
        self.held_customers
            .put(tables::id_key(customer.id), Some(bytes));
        self.apply_if_full()?;
        Ok(old)
    }

    fn remove_customer(&mut self, id: CustomerId) -> Result<()> {
        self.held_customers.put(tables::id_key(id), None);
        self.apply_if_full()
    }

    fn stored_key(&self, key: &IndexKey) -> Vec<u8> {
        self.sealer.codec().index_key(key.encode())
    }

    fn index_insert(&mut self, stored: &[u8], id: CustomerId) -> Result<()> {
        let entry = encoding::index_entry(stored, id);
        self.index.insert(entry.as_slice(), ()).map_err(backend)?;
        Ok(())
    }

    fn index_remove(&mut self, stored: &[u8], id: CustomerId) -> Result<()> {
        let entry = encoding::index_entry(stored, id);
        self.index.remove(entry.as_slice()).map_err(backend)?;
        Ok(())
    }

    fn key_sets(&mut self, id: CustomerId) -> Result<KeySets> {
        let value = self.key_sets.get(tables::id_key(id)).map_err(backend)?;
        match value {
            Some(v) => encoding::decode_key_sets(v.value(), id, &self.sealer),
            None => Ok(KeySets::new()),
        }
    }

    fn put_key_sets(&mut self, id: CustomerId, sets: &KeySets) -> Result<()> {
        if sets.is_empty() {
            self.key_sets.remove(tables::id_key(id)).map_err(backend)?;
        } else {
            let bytes = encoding::encode_key_sets(sets, id, &self.sealer)?;
            self.key_sets
                .insert(tables::id_key(id), bytes.as_slice())
                .map_err(backend)?;
        }
        Ok(())
    }

    fn put_related(&mut self, record: &Related) -> Result<()> {
        let key = related_key(record);
        let bytes = encode_related(record, &self.sealer)?;
        self.related
            .insert(key.as_slice(), bytes.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    fn remove_related(
        &mut self,
        customer_id: CustomerId,
        at: Timestamp,
        id: RecordId,
    ) -> Result<Option<Related>> {
        let key = encoding::related_key_of(customer_id, at, id);
        let old = self.related.remove(key.as_slice()).map_err(backend)?;
        old.map(|v| decode_related(v.value(), customer_id, &self.sealer))
            .transpose()
    }

    fn put_doc(
        &mut self,
        space: &str,
        key: &[u8],
        owner: Option<CustomerId>,
        value: &[u8],
    ) -> Result<()> {
        let bytes = encode_doc(owner, value, &self.sealer)?;
        self.docs
            .insert(tables::doc_key(space, key).as_slice(), bytes.as_slice())
            .map_err(backend)?;
        Ok(())
    }

    fn delete_doc(&mut self, space: &str, key: &[u8]) -> Result<()> {
        self.docs
            .remove(tables::doc_key(space, key).as_slice())
            .map_err(backend)?;
        Ok(())
    }

    fn remove_related_of(&mut self, id: CustomerId) -> Result<()> {
        let (start, end) = related_prefix(id);
        self.related
            .retain_in(start.as_slice()..end.as_slice(), |_, _| false)
            .map_err(backend)?;
        Ok(())
    }

    fn next_seq(&mut self) -> Result<u64> {
        self.seq += 1;
        Ok(self.seq)
    }

    fn append_change(&mut self, change: &Change) -> Result<()> {
        self.feed.appended.push((change.seq, change.customer_id));
        let key = tables::change_key(change.customer_id, change.seq);
        let actor = self.actor_number(&change.actor)?;
        let bytes = encoding::encode_change_by_number(change, actor, &self.sealer)?;
        self.held_changes.put(key, Some(bytes));
        self.apply_if_full()
    }

    fn remove_changes_of(&mut self, id: CustomerId) -> Result<()> {
        self.feed.removed.push(id);
        self.apply_held()?;
        let start = tables::change_key(id, 0);
        let end = tables::change_key(id, u64::MAX);
        self.changes
            .retain_in(start.as_slice()..=end.as_slice(), |_, _| false)
            .map_err(backend)?;
        Ok(())
    }

    fn remove_docs_of(&mut self, id: CustomerId) -> Result<()> {
        let mut owned = Vec::new();
        for entry in self.docs.iter().map_err(backend)? {
            let (k, v) = entry.map_err(backend)?;
            if encoding::doc_owner(v.value())? == Some(id) {
                owned.push(k.value().to_vec());
            }
        }
        for key in owned {
            self.docs.remove(key.as_slice()).map_err(backend)?;
        }
        Ok(())
    }

    fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>> {
        Ok(self.audit_head)
    }

    fn append_audit(&mut self, entry: &kehu_store::AuditEntry) -> Result<()> {
        let actor = self.actor_number(&entry.actor)?;
        let bytes = encoding::encode_audit_by_number(entry, actor, &self.sealer)?;
        self.audit
            .insert(entry.seq, bytes.as_slice())
            .map_err(backend)?;
        self.audit_head = Some((entry.seq, entry.hash));
        Ok(())
    }

    fn destroy_owner_key(&mut self, id: CustomerId) -> Result<()> {
        self.sealer.destroy(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store in a temporary directory that lives as long as the store
    /// (compaction writes a fresh file beside the book).
    struct TempStore {
        store: RedbStore,
        _dir: tempfile::TempDir,
    }

    impl Store for TempStore {
        fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
            self.store.snapshot()
        }
        fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
            self.store.commit_all(batches)
        }
        fn backup(&self, path: &Path) -> Result<kehu_store::BackupSummary> {
            self.store.backup(path)
        }
        fn compact(&self) -> Result<kehu_store::CompactSummary> {
            self.store.compact()
        }
    }

    fn temp_store() -> Box<dyn Store> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbStore::open(dir.path().join("t.kehu")).expect("open");
        Box::new(TempStore { store, _dir: dir })
    }

    kehu_store::conformance_tests!(temp_store);

    /// The same suite on a sealed store: per-customer keys, blind indexes.
    mod sealed {
        use super::*;

        fn open_sealed(path: &Path) -> RedbStore {
            let key = kehu_crypt::RawKey::new([9; 32]);
            RedbStore::open_sealed(path, 1 << 24, &mut |header| {
                let (codec, header) = kehu_crypt::BookCodec::open(&key, header)?;
                Ok((Arc::new(codec) as Arc<dyn FieldCodec>, header))
            })
            .expect("open sealed")
        }

        fn temp_sealed() -> Box<dyn Store> {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = open_sealed(&dir.path().join("s.kehu"));
            Box::new(TempStore { store, _dir: dir })
        }

        kehu_store::conformance_tests!(temp_sealed);
        kehu_store::persistence_tests!(|path: &Path| Box::new(open_sealed(path)) as Box<dyn Store>);
    }
    kehu_store::persistence_tests!(|path: &Path| {
        Box::new(RedbStore::open(path).expect("open")) as Box<dyn Store>
    });

    #[test]
    fn a_foreign_file_is_not_a_book() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "name,email\nWei,wei@example.com\n".repeat(200)).expect("write");
        let err = RedbStore::open(&text).err().expect("refused");
        assert!(matches!(err, Error::NotABook(_)), "{err}");
        let noise = dir.path().join("noise.bin");
        let bytes: Vec<u8> = (0..1u32 << 16)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&noise, bytes).expect("write");
        let err = RedbStore::open(&noise).err().expect("refused");
        assert!(matches!(err, Error::NotABook(_)), "{err}");
    }

    #[test]
    fn another_redb_database_is_not_a_book() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.redb");
        {
            let db = Database::create(&path).expect("create");
            let txn = db.begin_write().expect("write");
            {
                let def: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("theirs");
                txn.open_table(def)
                    .expect("table")
                    .insert("k", &1)
                    .expect("insert");
            }
            txn.commit().expect("commit");
        }
        let err = RedbStore::open(&path).err().expect("refused");
        assert!(matches!(err, Error::NotABook(_)), "{err}");
    }

    #[test]
    fn damaged_files_give_errors_not_panics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.kehu");
        {
            let store = RedbStore::open(&path).expect("create");
            let mut b = Batch::new("t", chrono::Utc::now());
            for i in 0..200 {
                let c = Customer::person(format!("P{i}"), "Test")
                    .with_email(format!("p{i}@example.com"));
                b.push(kehu_store::Write::Put {
                    customer: c,
                    expected: 0,
                });
            }
            store.commit(b).expect("fill");
        }
        let original = std::fs::read(&path).expect("read");
        let step = (original.len() / 40).max(1);
        for offset in (0..original.len()).step_by(step) {
            let mut bytes = original.clone();
            bytes
                .iter_mut()
                .skip(offset)
                .take(32)
                .for_each(|b| *b ^= 0xa5);
            std::fs::write(&path, &bytes).expect("write");
            let outcome = std::panic::catch_unwind(|| -> Result<usize> {
                let store = RedbStore::open(&path)?;
                let snap = store.snapshot()?;
                let n = snap.customers()?.filter(Result::is_ok).count();
                Ok(n)
            });
            assert!(outcome.is_ok(), "a panic escaped at offset {offset}");
        }
    }

    #[test]
    fn a_book_open_elsewhere_names_who_holds_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("held.kehu");
        let _first = RedbStore::open(&path).expect("open");
        let err = RedbStore::open(&path).err().expect("refused");
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        let said = err.to_string();
        assert!(said.contains("open in another process"), "{said}");
        if cfg!(target_os = "linux") {
            assert!(
                said.contains(&format!("pid {}", std::process::id())),
                "{said}"
            );
        }
    }

    #[test]
    fn a_newer_format_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("future.kehu");
        drop(RedbStore::open(&path).expect("create"));
        {
            let db = Database::create(&path).expect("open raw");
            let txn = db.begin_write().expect("write");
            txn.open_table(META)
                .expect("meta")
                .insert("format", 99u32.to_le_bytes().as_slice())
                .expect("insert");
            txn.commit().expect("commit");
        }
        let err = RedbStore::open(&path).err().expect("refused");
        assert!(
            matches!(
                err,
                Error::UnsupportedFormat {
                    found: 99,
                    supported: FORMAT_VERSION
                }
            ),
            "{err}"
        );
    }
}
