//! Backups: one file holding every table of a book as stored (so sealed
//! values stay sealed), taken from one read transaction (a consistent
//! snapshot while the book is in use), ending in a blake3 checksum — keyed
//! with a key derived from the book key when the book is encrypted, so the
//! file cannot be changed and re-checksummed without the key. A restore
//! checks the whole file before it writes anything.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use kehu_store::{BackupSummary, Error, Result};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::tables::{
    backend, ACTORS, AUDIT, CHANGES, CUSTOMERS, DOCS, INDEX, KEYS, KEY_SETS, META, RELATED,
};
use crate::{MakeCodec, RedbStore, SEAL_HEADER};

const MAGIC: &[u8; 12] = b"KEHU-BACKUP\n";
const VERSION: u8 = 1;

/// Maps an I/O error on `path` to a backend error naming the file.
pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Backend(format!("{}: {e}", path.display()))
}

/// A writer that hashes what it writes and counts it.
struct Hashing<W: Write> {
    inner: W,
    hash: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn hasher(key: Option<[u8; 32]>) -> blake3::Hasher {
    match key {
        Some(k) => blake3::Hasher::new_keyed(&k),
        None => blake3::Hasher::new_derive_key("kehu 2026-11 backup checksum"),
    }
}

/// The tables, numbered in the file.
#[derive(Clone, Copy)]
pub(crate) enum T {
    Meta = 1,
    Customers,
    Index,
    KeySets,
    Related,
    Changes,
    Docs,
    Keys,
    Audit,
    Actors,
}

pub(crate) const ALL: [T; 10] = [
    T::Meta,
    T::Customers,
    T::Index,
    T::KeySets,
    T::Related,
    T::Changes,
    T::Docs,
    T::Keys,
    T::Audit,
    T::Actors,
];

fn record(w: &mut impl Write, t: T, key: &[u8], value: &[u8]) -> std::io::Result<()> {
    w.write_all(&[t as u8])?;
    w.write_all(&(key.len() as u32).to_le_bytes())?;
    w.write_all(key)?;
    w.write_all(&(value.len() as u32).to_le_bytes())?;
    w.write_all(value)
}

impl RedbStore {
    /// Writes a backup of the book to `path` (replacing a file there).
    pub fn write_backup(&self, path: &Path) -> Result<BackupSummary> {
        let key = self.codec.backup_key();
        let file = File::create(path).map_err(io(path))?;
        let mut w = Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            hash: hasher(key),
            bytes: 0,
        };
        let txn = self.db().begin_read().map_err(backend)?;
        let header = {
            let meta = txn.open_table(META).map_err(backend)?;
            let h = meta.get(SEAL_HEADER).map_err(backend)?;
            h.map(|v| v.value().to_vec()).unwrap_or_default()
        };
        let err = io(path);
        w.write_all(MAGIC).map_err(&err)?;
        w.write_all(&[VERSION, u8::from(key.is_some())])
            .map_err(&err)?;
        w.write_all(&(header.len() as u32).to_le_bytes())
            .map_err(&err)?;
        w.write_all(&header).map_err(&err)?;
        let mut entries = 0u64;
        let mut sink = |t: T, k: &[u8], v: &[u8]| record(&mut w, t, k, v).map_err(DumpError::Io);
        for t in ALL {
            entries += dump(&txn, t, &mut sink).map_err(|e| e.on(path))?;
        }
        w.write_all(&[0]).map_err(&err)?;
        let sum = *w.hash.finalize().as_bytes();
        let mut inner = w.inner;
        inner.write_all(&sum).map_err(&err)?;
        inner.flush().map_err(&err)?;
        inner
            .into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(&err)?;
        Ok(BackupSummary {
            entries,
            bytes: w.bytes + 32,
            keyed: key.is_some(),
        })
    }

    /// Restores the backup at `backup` into a new book file at `target`
    /// (which must not exist). The whole backup is checked first — its
    /// checksum, keyed by the book key when it is encrypted (`make` builds the
    /// codec from the backup's key header, checking the key) — and nothing
    /// is written when it fails. Returns the restored store.
    pub fn restore(
        backup: &Path,
        target: &Path,
        cache_bytes: usize,
        make: Option<&mut MakeCodec<'_>>,
    ) -> Result<Self> {
        if target.exists() {
            return Err(Error::Backend(format!(
                "{}: exists already; restore writes a new file",
                target.display()
            )));
        }
        let err = io(backup);
        // Pass 1: the header, then the checksum over the whole file.
        let len = std::fs::metadata(backup).map_err(&err)?.len();
        if len < (MAGIC.len() + 2 + 4 + 1 + 32) as u64 {
            return Err(Error::Corrupt("the backup is truncated".into()));
        }
        let mut r = BufReader::with_capacity(1 << 20, File::open(backup).map_err(&err)?);
        let mut head = [0u8; 18];
        r.read_exact(&mut head).map_err(&err)?;
        if &head[..12] != MAGIC {
            return Err(Error::Corrupt("not a kehu backup".into()));
        }
        if head[12] != VERSION {
            return Err(Error::Corrupt(format!(
                "backup version {} is not supported",
                head[12]
            )));
        }
        let keyed = head[13] == 1;
        let hlen = u32::from_le_bytes([head[14], head[15], head[16], head[17]]) as u64;
        if hlen > len {
            return Err(Error::Corrupt("the backup is truncated".into()));
        }
        let mut header = vec![0u8; hlen as usize];
        r.read_exact(&mut header).map_err(&err)?;
        let codec = match (keyed, make) {
            (false, _) => None,
            (true, Some(make)) => Some(make(Some(&header))?),
            (true, None) => {
                return Err(Error::Codec(
                    "the backup is of an encrypted book: restore it with its key".into(),
                ))
            }
        };
        let key = codec.as_ref().and_then(|(c, _)| c.backup_key());
        let mut h = hasher(key);
        h.update(&head);
        h.update(&header);
        let body = len - 18 - hlen - 32;
        let mut left = body;
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            r.read_exact(&mut buf[..n]).map_err(&err)?;
            h.update(&buf[..n]);
            left -= n as u64;
        }
        let mut sum = [0u8; 32];
        r.read_exact(&mut sum).map_err(&err)?;
        if h.finalize().as_bytes() != &sum {
            return Err(Error::Corrupt(
                "the backup's checksum does not match: it is damaged, truncated or was changed"
                    .into(),
            ));
        }
        // Pass 2: the entries, into a new file.
        let mut r = BufReader::with_capacity(1 << 20, File::open(backup).map_err(&err)?);
        let mut skip = vec![0u8; 18 + hlen as usize];
        r.read_exact(&mut skip).map_err(&err)?;
        let db = redb::Builder::new()
            .set_cache_size(cache_bytes)
            .create(target)
            .map_err(backend)?;
        let txn = db.begin_write().map_err(backend)?;
        {
            let mut tables = Tables::open(&txn)?;
            loop {
                let mut t = [0u8; 1];
                r.read_exact(&mut t).map_err(&err)?;
                if t[0] == 0 {
                    break;
                }
                let key = read_block(&mut r).map_err(&err)?;
                let value = read_block(&mut r).map_err(&err)?;
                tables.insert(t[0], &key, &value)?;
            }
        }
        txn.commit().map_err(backend)?;
        drop(db);
        match codec {
            Some((c, _)) => {
                let mut store = Self::open_unchecked(target, cache_bytes)?;
                store.codec = c;
                Ok(store)
            }
            None => Self::open(target),
        }
    }
}

fn read_block(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut n = [0u8; 4];
    r.read_exact(&mut n)?;
    let mut v = vec![0u8; u32::from_le_bytes(n) as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Why a dump stopped: the sink's I/O or the database.
pub(crate) enum DumpError {
    Io(std::io::Error),
    Db(Error),
}

impl DumpError {
    /// The store error, an I/O failure naming the file written.
    pub(crate) fn on(self, path: &Path) -> Error {
        match self {
            Self::Io(e) => io(path)(e),
            Self::Db(e) => e,
        }
    }
}

impl From<std::io::Error> for DumpError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Hands every entry of table `t` to `sink` (table number, key, value), as stored.
pub(crate) fn dump(
    txn: &redb::ReadTransaction,
    t: T,
    sink: &mut impl FnMut(T, &[u8], &[u8]) -> std::result::Result<(), DumpError>,
) -> std::result::Result<u64, DumpError> {
    let db = |e: redb::Error| DumpError::Db(backend(e));
    let mut n = 0u64;
    macro_rules! each {
        ($def:expr, $key:expr) => {
            each!($def, $key, |v: &[u8]| v.to_vec())
        };
        ($def:expr, $key:expr, $val:expr) => {{
            let table = match txn.open_table($def) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(db(e.into())),
            };
            for entry in table.iter().map_err(|e| db(e.into()))? {
                let (k, v) = entry.map_err(|e| db(e.into()))?;
                let key = $key(k.value());
                let value: Vec<u8> = $val(v.value());
                sink(t, &key, &value)?;
                n += 1;
            }
        }};
    }
    match t {
        T::Meta => each!(META, |k: &str| k.as_bytes().to_vec()),
        T::Customers => each!(CUSTOMERS, |k: u128| k.to_be_bytes().to_vec()),
        T::Index => each!(INDEX_VALUES, |k: &[u8]| k.to_vec(), |_: ()| Vec::new()),
        T::KeySets => each!(KEY_SETS, |k: u128| k.to_be_bytes().to_vec()),
        T::Related => each!(RELATED, |k: &[u8]| k.to_vec()),
        T::Changes => each!(CHANGES, |k: &[u8]| k.to_vec()),
        T::Docs => each!(DOCS, |k: &[u8]| k.to_vec()),
        T::Keys => each!(KEYS, |k: u128| k.to_be_bytes().to_vec()),
        T::Audit => each!(AUDIT, |k: u64| k.to_be_bytes().to_vec()),
        T::Actors => each!(ACTORS, |k: u32| k.to_be_bytes().to_vec()),
    }
    Ok(n)
}

/// The index table read with empty values (its value type is the unit).
const INDEX_VALUES: TableDefinition<&[u8], ()> = INDEX;

/// Every table of a book, open for writing.
pub(crate) struct Tables<'t> {
    meta: redb::Table<'t, &'static str, &'static [u8]>,
    customers: redb::Table<'t, u128, &'static [u8]>,
    index: redb::Table<'t, &'static [u8], ()>,
    key_sets: redb::Table<'t, u128, &'static [u8]>,
    related: redb::Table<'t, &'static [u8], &'static [u8]>,
    changes: redb::Table<'t, &'static [u8], &'static [u8]>,
    docs: redb::Table<'t, &'static [u8], &'static [u8]>,
    keys: redb::Table<'t, u128, &'static [u8]>,
    audit: redb::Table<'t, u64, &'static [u8]>,
    actors: redb::Table<'t, u32, &'static [u8]>,
}

fn u128_key(k: &[u8]) -> Result<u128> {
    let a: [u8; 16] = k
        .try_into()
        .map_err(|_| Error::Corrupt("backup: a key is not 16 bytes".into()))?;
    Ok(u128::from_be_bytes(a))
}

impl<'t> Tables<'t> {
    pub(crate) fn open(txn: &'t redb::WriteTransaction) -> Result<Self> {
        Ok(Self {
            meta: txn.open_table(META).map_err(backend)?,
            customers: txn.open_table(CUSTOMERS).map_err(backend)?,
            index: txn.open_table(INDEX).map_err(backend)?,
            key_sets: txn.open_table(KEY_SETS).map_err(backend)?,
            related: txn.open_table(RELATED).map_err(backend)?,
            changes: txn.open_table(CHANGES).map_err(backend)?,
            docs: txn.open_table(DOCS).map_err(backend)?,
            keys: txn.open_table(KEYS).map_err(backend)?,
            audit: txn.open_table(AUDIT).map_err(backend)?,
            actors: txn.open_table(ACTORS).map_err(backend)?,
        })
    }

    /// Inserts one entry of table number `t`, as stored.
    pub(crate) fn insert(&mut self, t: u8, k: &[u8], v: &[u8]) -> Result<()> {
        let r = match t {
            1 => {
                let k = std::str::from_utf8(k)
                    .map_err(|_| Error::Corrupt("backup: a meta key is not text".into()))?;
                self.meta.insert(k, v).map(drop)
            }
            2 => self.customers.insert(u128_key(k)?, v).map(drop),
            3 => self.index.insert(k, ()).map(drop),
            4 => self.key_sets.insert(u128_key(k)?, v).map(drop),
            5 => self.related.insert(k, v).map(drop),
            6 => self.changes.insert(k, v).map(drop),
            7 => self.docs.insert(k, v).map(drop),
            8 => self.keys.insert(u128_key(k)?, v).map(drop),
            9 => {
                let a: [u8; 8] = k
                    .try_into()
                    .map_err(|_| Error::Corrupt("backup: an audit key is not 8 bytes".into()))?;
                self.audit.insert(u64::from_be_bytes(a), v).map(drop)
            }
            10 => {
                let a: [u8; 4] = k
                    .try_into()
                    .map_err(|_| Error::Corrupt("backup: an actor key is not 4 bytes".into()))?;
                self.actors.insert(u32::from_be_bytes(a), v).map(drop)
            }
            other => return Err(Error::Corrupt(format!("backup: unknown table {other}"))),
        };
        r.map_err(backend)
    }
}
