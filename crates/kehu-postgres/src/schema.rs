//! The book's tables in PostgreSQL, created on first open and checked on
//! every open by the format version in `kehu_meta`.
//!
//! Every value is kehu's own bytes ([`kehu_store::stored`]), sealed as in
//! any other backend: in an encrypted book the server holds ciphertext,
//! blind index keys and wrapped keys only. Keys are `bytea`, which sorts
//! byte by byte, so ranges (a customer's related records, its changes, a
//! space's documents) are index range scans.

use kehu_store::{Error, Result, FORMAT_VERSION, OLDEST_FORMAT};

use crate::session::Session;

/// The tables, in a schema of their own or the connection's default one.
const TABLES: &str = "
CREATE TABLE kehu_meta (name text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE kehu_customers (id bytea PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE kehu_index (key bytea NOT NULL, id bytea NOT NULL, PRIMARY KEY (key, id));
CREATE TABLE kehu_key_sets (id bytea PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE kehu_related (key bytea PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE kehu_changes (key bytea PRIMARY KEY, body bytea NOT NULL);
CREATE INDEX kehu_changes_seq ON kehu_changes (substring(key from 17));
CREATE TABLE kehu_docs (space text NOT NULL, key bytea NOT NULL, owner bytea, body bytea NOT NULL,
    PRIMARY KEY (space, key));
CREATE INDEX kehu_docs_owner ON kehu_docs (owner) WHERE owner IS NOT NULL;
CREATE TABLE kehu_audit (seq bigint PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE kehu_keys (id bytea PRIMARY KEY, wrapped bytea NOT NULL);
";

/// The meta row whose lock is the book's write lock (it holds the last change number).
pub const SEQ: &str = "seq";
/// The meta row counting committed write transactions (how a handle tells
/// that another one wrote).
pub const COMMITS: &str = "commits";
/// The meta row of the audit trail's head.
pub const AUDIT_HEAD: &str = "audit_head";
/// The meta row of a sealed book's key header.
pub const SEAL: &str = "seal";

/// Creates the tables in an empty schema, or checks the format of a book's.
/// Two processes opening a new book at once: one creates, the other waits
/// (an advisory lock for this schema) and then finds the book made.
pub fn create_or_check(s: &Session) -> Result<()> {
    s.batch("BEGIN")?;
    let outcome = (|| {
        s.execute(
            "SELECT pg_advisory_xact_lock(1801807989, hashtext(current_schema()))",
            &[],
        )?;
        let exists = s
            .query("SELECT to_regclass('kehu_meta') IS NOT NULL", &[])?
            .first()
            .is_some_and(|r| r.get::<_, bool>(0));
        if !exists {
            if !s
                .query(
                    "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'kehu\\_%'",
                    &[],
                )?
                .is_empty()
            {
                return Err(Error::NotABook(
                    "the schema has kehu tables but no kehu_meta table".into(),
                ));
            }
            s.batch(TABLES)?;
            let format = FORMAT_VERSION.to_le_bytes();
            let seq = 0u64.to_le_bytes();
            s.execute(
                "INSERT INTO kehu_meta (name, value) VALUES ('format', $1), ('seq', $2)",
                &[&format.as_slice(), &seq.as_slice()],
            )?;
            return Ok(());
        }
        match meta(s, "format")? {
            None => Err(Error::NotABook(
                "a kehu_meta table without kehu's format marker".into(),
            )),
            Some(bytes) => {
                let arr: [u8; 4] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::Corrupt("format marker is not 4 bytes".into()))?;
                let found = u32::from_le_bytes(arr);
                if (OLDEST_FORMAT..=FORMAT_VERSION).contains(&found) {
                    if found < FORMAT_VERSION {
                        // An older format moves on: its values read as they are.
                        s.execute(
                            "UPDATE kehu_meta SET value = $1 WHERE name = 'format'",
                            &[&FORMAT_VERSION.to_le_bytes().as_slice()],
                        )?;
                    }
                    // The change feed's order, for books made before it (only
                    // then: a role that may only read and write opens the book).
                    let missing = s
                        .query("SELECT to_regclass('kehu_changes_seq') IS NULL", &[])?
                        .first()
                        .is_some_and(|r| r.get::<_, bool>(0));
                    if missing {
                        s.batch(
                            "CREATE INDEX kehu_changes_seq ON kehu_changes (substring(key from 17))",
                        )?;
                    }
                    Ok(())
                } else {
                    Err(Error::UnsupportedFormat {
                        found,
                        supported: FORMAT_VERSION,
                    })
                }
            }
        }
    })();
    match outcome {
        Ok(()) => s.batch("COMMIT"),
        Err(e) => {
            let _ = s.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A meta value.
pub fn meta(s: &Session, name: &str) -> Result<Option<Vec<u8>>> {
    s.bytes("SELECT value FROM kehu_meta WHERE name = $1", &[&name])
}

/// How many write transactions the book has committed.
pub fn commits(s: &Session) -> Result<u64> {
    Ok(meta(s, COMMITS)?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map_or(0, u64::from_le_bytes))
}

/// Writes a meta value.
pub fn put_meta(s: &Session, name: &str, value: &[u8]) -> Result<()> {
    s.execute(
        "INSERT INTO kehu_meta (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&name, &value],
    )?;
    Ok(())
}

/// The first key after every key that starts with `prefix` (none: no such key).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_ends_are_the_next_key_after_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
