//! Table definitions, keys and the mapping of redb's errors.

use kehu_model::CustomerId;
use kehu_store::Error;
use redb::TableDefinition;

/// "format" → the store format version (u32 LE); "seq" → the last change number (u64 LE).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("kehu_meta");
/// Customer id (as a big-endian u128, so it sorts like the id) → encoded dossier.
pub const CUSTOMERS: TableDefinition<u128, &[u8]> = TableDefinition::new("kehu_customers");
/// Encoded index key (through the codec) followed by a customer id → nothing.
/// A plain table with composite keys: inserts are cheaper than in a multimap.
pub const INDEX: TableDefinition<&[u8], ()> = TableDefinition::new("kehu_index");
/// Customer id → sealed keyed-index keys, so they can be replaced and removed.
pub const KEY_SETS: TableDefinition<u128, &[u8]> = TableDefinition::new("kehu_key_sets");
/// Customer id + time + record id → encoded related record.
pub const RELATED: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kehu_related");
/// Customer id + sequence number → encoded change.
pub const CHANGES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kehu_changes");

/// Audit entry number → the entry (postcard), sealed for the book.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("kehu_audit");

/// Actor number → the actor's name, sealed for the book: changes and audit
/// entries name their actor by number (store format 4).
pub const ACTORS: TableDefinition<u32, &[u8]> = TableDefinition::new("kehu_actors");

/// Customer id → its data key, wrapped by the book key (books with a key ring only).
pub const KEYS: TableDefinition<u128, &[u8]> = TableDefinition::new("kehu_keys");

/// Space name, a zero byte, key → owner flag (0 or 1, then the owner's id) and the sealed document.
pub const DOCS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kehu_docs");

/// The key of a document: its space, a zero byte, its key.
pub fn doc_key(space: &str, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(space.len() + 1 + key.len());
    out.extend_from_slice(space.as_bytes());
    out.push(0);
    out.extend_from_slice(key);
    out
}

/// A customer id as a table key: a u128 compares in one instruction, where
/// redb compares a `[u8; 16]` byte by byte through its generic key trait.
pub fn id_key(id: CustomerId) -> u128 {
    u128::from_be_bytes(id.to_bytes())
}

pub use kehu_store::stored::change_key;

/// Reads the format version stored in the meta table.
pub fn format_version(bytes: &[u8]) -> Result<u32, Error> {
    let arr: [u8; 4] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt("format marker is not 4 bytes".into()))?;
    Ok(u32::from_le_bytes(arr))
}

/// Reads the last sequence number stored in the meta table.
pub fn seq_value(bytes: &[u8]) -> Result<u64, Error> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt("sequence number is not 8 bytes".into()))?;
    Ok(u64::from_le_bytes(arr))
}

/// Maps any redb error to a backend error.
pub fn backend(err: impl Into<redb::Error>) -> Error {
    Error::Backend(err.into().to_string())
}

/// The process that holds a lock on the file, as Linux tells it
/// (`/proc/locks`): its id and program name, never its arguments (they may
/// hold secrets). None elsewhere, or when it cannot be told.
pub fn lock_holder(path: &std::path::Path) -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(path).ok()?.ino();
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": pid, then major:minor:inode.
        let pid = locks.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = fields.iter().position(|f| f.matches(':').count() == 2)?;
            let ino: u64 = fields[at].rsplit(':').next()?.parse().ok()?;
            let pid: u32 = fields.get(at.checked_sub(1)?)?.parse().ok()?;
            (ino == inode).then_some(pid)
        })?;
        if pid == std::process::id() {
            return Some(format!("pid {pid}, this process"));
        }
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok();
        Some(match name {
            Some(n) => format!("pid {pid}, {}", n.trim()),
            None => format!("pid {pid}"),
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// Maps an error from opening a file: a file redb does not recognise is not a book.
pub fn open_error(err: redb::DatabaseError) -> Error {
    use redb::{DatabaseError, StorageError};
    match err {
        DatabaseError::Storage(StorageError::Corrupted(msg)) => Error::NotABook(msg),
        DatabaseError::DatabaseAlreadyOpen => Error::Locked { holder: None },
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            Error::NotABook(io.to_string())
        }
        other => backend(other),
    }
}
