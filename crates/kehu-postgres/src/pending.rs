//! Writes a transaction holds back and sends many rows at a time, so a bulk
//! write costs a few statements per few thousand rows, not one per table
//! row. Only tables the transaction does not read back are held: new
//! dossiers (whose reads consult what is held first; one that was there
//! after all is a version conflict when they are sent), index entries,
//! changes, audit entries, related records, documents and key sets (whose
//! reads consult what is held first). Before a statement that deletes from
//! one of them, what is held for it is sent.
//!
//! Rows new to their tables — the bulk of an import — go in by `COPY … FROM
//! STDIN BINARY` inside a savepoint; when one was there already (a change
//! rewritten by an erasure, a dossier another writer created, an index
//! entry twice) the savepoint is undone and they go again by upserts of
//! arrays (`unnest`), which keep what is there. A bulk write sends ahead:
//! a thread of the session runs the statements while the writer prepares
//! the next rows ([`Session::send`]), so the server's work and the
//! pipeline's overlap.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use kehu_store::Result;
use postgres::types::{ToSql, Type};

use crate::session::{Conn, Session};

/// How many held rows make the transaction send them.
const HOLD: usize = 4096;

/// A document held: its owner and its stored bytes, by space and key.
type HeldDocs = BTreeMap<(String, Vec<u8>), (Option<[u8; 16]>, Vec<u8>)>;

/// The slot where a send notes a created dossier found in the book already.
type ConflictSlot = Arc<Mutex<Option<[u8; 16]>>>;

/// Held writes, per table.
#[derive(Default)]
pub struct Pending {
    held: Sent,
    rows: usize,
    /// A created dossier a send found in the book already.
    conflict: ConflictSlot,
}

/// A table whose held rows are sent before a statement that reads or
/// deletes from it.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Customers,
    Changes,
    Related,
    Docs,
}

impl Pending {
    pub fn customer(&mut self, id: [u8; 16], body: Vec<u8>) {
        self.held.customers.insert(id, body);
        self.rows += 1;
    }

    /// A created dossier's bytes, if it is held.
    pub fn held_customer(&self, id: &[u8; 16]) -> Option<&[u8]> {
        self.held.customers.get(id).map(Vec::as_slice)
    }

    pub fn index(&mut self, insert: bool, key: &[u8], id: [u8; 16]) {
        self.held.index.push((insert, key.to_vec(), id));
        self.rows += 1;
    }

    pub fn change(&mut self, key: [u8; 24], body: Vec<u8>) {
        self.held.changes.insert(key, body);
        self.rows += 1;
    }

    pub fn audit(&mut self, seq: i64, body: Vec<u8>) {
        self.held.audit.push((seq, body));
        self.rows += 1;
    }

    pub fn related(&mut self, key: [u8; 40], body: Vec<u8>) {
        self.held.related.insert(key, body);
        self.rows += 1;
    }

    pub fn doc(&mut self, space: &str, key: &[u8], owner: Option<[u8; 16]>, body: Vec<u8>) {
        self.held
            .docs
            .insert((space.to_string(), key.to_vec()), (owner, body));
        self.rows += 1;
    }

    pub fn key_sets(&mut self, id: [u8; 16], body: Option<Vec<u8>>) {
        self.held.key_sets.insert(id, body);
        self.rows += 1;
    }

    /// The key sets held for a customer: `Some(None)` when they are to be deleted.
    pub fn held_key_sets(&self, id: &[u8; 16]) -> Option<Option<&[u8]>> {
        self.held.key_sets.get(id).map(|b| b.as_deref())
    }

    /// Sends everything once enough is held, to run while the caller goes on
    /// ([`Session::send`] ahead).
    pub fn maybe_flush(&mut self, s: &Session) -> Result<()> {
        if self.rows >= HOLD {
            return self.flush_ahead(s, true);
        }
        Ok(())
    }

    /// Sends everything held (ahead of the caller if earlier sends still run).
    pub fn flush(&mut self, s: &Session) -> Result<()> {
        self.flush_ahead(s, false)
    }

    fn flush_ahead(&mut self, s: &Session, ahead: bool) -> Result<()> {
        self.rows = 0;
        let all = std::mem::take(&mut self.held);
        self.send(s, all, ahead)
    }

    /// Sends one table's held rows (before a statement that reads or deletes from it).
    pub fn flush_table(&mut self, s: &Session, table: Table) -> Result<()> {
        let (held, mut sent) = (&mut self.held, Sent::default());
        match table {
            Table::Customers => sent.customers = std::mem::take(&mut held.customers),
            Table::Changes => sent.changes = std::mem::take(&mut held.changes),
            Table::Related => sent.related = std::mem::take(&mut held.related),
            Table::Docs => sent.docs = std::mem::take(&mut held.docs),
        }
        self.send(s, sent, false)
    }

    /// A created dossier that was in the book already, found by a send that
    /// ran (the transaction must then fail with a conflict).
    pub fn conflict(&self) -> Option<[u8; 16]> {
        self.conflict
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn send(&self, s: &Session, sent: Sent, ahead: bool) -> Result<()> {
        if sent.is_empty() {
            return Ok(());
        }
        let conflict = self.conflict.clone();
        s.send(Box::new(move |c| sent.run(c, &conflict)), ahead)
    }
}

/// Rows held, per table, and sent together.
#[derive(Default)]
struct Sent {
    /// Dossiers created, by id: their stored bytes.
    customers: BTreeMap<[u8; 16], Vec<u8>>,
    /// Index entries to insert (true) or remove, in order.
    index: Vec<(bool, Vec<u8>, [u8; 16])>,
    changes: BTreeMap<[u8; 24], Vec<u8>>,
    audit: Vec<(i64, Vec<u8>)>,
    related: BTreeMap<[u8; 40], Vec<u8>>,
    docs: HeldDocs,
    /// A customer's key sets to write (none: to delete).
    key_sets: BTreeMap<[u8; 16], Option<Vec<u8>>>,
}

const BYTEA2: [Type; 2] = [Type::BYTEA, Type::BYTEA];

impl Sent {
    fn is_empty(&self) -> bool {
        self.customers.is_empty()
            && self.index.is_empty()
            && self.changes.is_empty()
            && self.audit.is_empty()
            && self.related.is_empty()
            && self.docs.is_empty()
            && self.key_sets.is_empty()
    }

    /// Writes the rows: the new ones by COPY, else (one was there) by upserts.
    fn run(self, c: &mut Conn, conflict: &ConflictSlot) -> Result<()> {
        let copies = !self.customers.is_empty()
            || self.index.iter().any(|o| o.0)
            || !self.changes.is_empty()
            || !self.audit.is_empty()
            || !self.related.is_empty();
        if !(copies && c.unless_duplicate(|c| self.copy(c))?) {
            self.upsert(c, conflict)?;
        }
        self.upsert_docs(c)?;
        self.upsert_key_sets(c)
    }

    /// The rows new to their tables, by COPY (index removals in their place).
    fn copy(&self, c: &mut Conn) -> std::result::Result<(), postgres::Error> {
        copy_pairs(
            c,
            "COPY kehu_customers (id, body) FROM STDIN BINARY",
            &self.customers,
        )?;
        for run in self.index.chunk_by(|a, b| a.0 == b.0) {
            if run[0].0 {
                c.copy_in(
                    "COPY kehu_index (key, id) FROM STDIN BINARY",
                    &BYTEA2,
                    |w| {
                        run.iter()
                            .try_for_each(|o| w.write(&[&o.1, &o.2.as_slice()]))
                    },
                )?;
            } else {
                remove_index(c, run)?;
            }
        }
        copy_pairs(
            c,
            "COPY kehu_changes (key, body) FROM STDIN BINARY",
            &self.changes,
        )?;
        copy_pairs(
            c,
            "COPY kehu_related (key, body) FROM STDIN BINARY",
            &self.related,
        )?;
        if !self.audit.is_empty() {
            c.copy_in(
                "COPY kehu_audit (seq, body) FROM STDIN BINARY",
                &[Type::INT8, Type::BYTEA],
                |w| {
                    self.audit
                        .iter()
                        .try_for_each(|(seq, body)| w.write(&[seq as &(dyn ToSql + Sync), body]))
                },
            )?;
        }
        Ok(())
    }

    /// The same rows by upserts that keep what is there (the conflict of a
    /// created dossier noted).
    fn upsert(&self, c: &mut Conn, conflict: &ConflictSlot) -> Result<()> {
        if !self.customers.is_empty() {
            let ids: Vec<&[u8]> = self.customers.keys().map(|k| k.as_slice()).collect();
            let bodies: Vec<&[u8]> = self.customers.values().map(Vec::as_slice).collect();
            let inserted = c.query(
                "INSERT INTO kehu_customers (id, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (id) DO NOTHING RETURNING id",
                &[&ids, &bodies],
            )?;
            if inserted.len() < self.customers.len() {
                let done: std::collections::HashSet<Vec<u8>> =
                    inserted.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect();
                let first = self
                    .customers
                    .keys()
                    .find(|id| !done.contains(id.as_slice()));
                let mut slot = conflict.lock().unwrap_or_else(PoisonError::into_inner);
                *slot = slot.or(first.copied());
            }
        }
        for run in self.index.chunk_by(|a, b| a.0 == b.0) {
            if run[0].0 {
                let keys: Vec<&[u8]> = run.iter().map(|o| o.1.as_slice()).collect();
                let ids: Vec<&[u8]> = run.iter().map(|o| o.2.as_slice()).collect();
                c.execute(
                    "INSERT INTO kehu_index (key, id) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT DO NOTHING",
                    &[&keys, &ids],
                )?;
            } else {
                remove_index(c, run).map_err(crate::session::db)?;
            }
        }
        upsert_pairs(
            c,
            "INSERT INTO kehu_changes (key, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body",
            &self.changes,
        )?;
        upsert_pairs(
            c,
            "INSERT INTO kehu_related (key, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body",
            &self.related,
        )?;
        if !self.audit.is_empty() {
            let seqs: Vec<i64> = self.audit.iter().map(|a| a.0).collect();
            let bodies: Vec<&[u8]> = self.audit.iter().map(|a| a.1.as_slice()).collect();
            c.execute(
                "INSERT INTO kehu_audit (seq, body) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                &[&seqs, &bodies],
            )?;
        }
        Ok(())
    }

    /// Documents, which a bulk write rewrites (its run list): by upsert.
    fn upsert_docs(&self, c: &mut Conn) -> Result<()> {
        if self.docs.is_empty() {
            return Ok(());
        }
        let spaces: Vec<&str> = self.docs.keys().map(|k| k.0.as_str()).collect();
        let keys: Vec<&[u8]> = self.docs.keys().map(|k| k.1.as_slice()).collect();
        let owners: Vec<Option<&[u8]>> = self
            .docs
            .values()
            .map(|v| v.0.as_ref().map(|o| o.as_slice()))
            .collect();
        let bodies: Vec<&[u8]> = self.docs.values().map(|v| v.1.as_slice()).collect();
        c.execute(
            "INSERT INTO kehu_docs (space, key, owner, body) \
             SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bytea[]) \
             ON CONFLICT (space, key) DO UPDATE SET owner = EXCLUDED.owner, body = EXCLUDED.body",
            &[&spaces, &keys, &owners, &bodies],
        )?;
        Ok(())
    }

    /// Key sets, which writes of a few dossiers replace: writes, then deletions.
    fn upsert_key_sets(&self, c: &mut Conn) -> Result<()> {
        let (put, gone): (Vec<_>, Vec<_>) = self.key_sets.iter().partition(|(_, b)| b.is_some());
        if !put.is_empty() {
            let ids: Vec<&[u8]> = put.iter().map(|(id, _)| id.as_slice()).collect();
            let bodies: Vec<&[u8]> = put.iter().filter_map(|(_, b)| b.as_deref()).collect();
            c.execute(
                "INSERT INTO kehu_key_sets (id, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                &[&ids, &bodies],
            )?;
        }
        if !gone.is_empty() {
            let ids: Vec<&[u8]> = gone.iter().map(|(id, _)| id.as_slice()).collect();
            c.execute(
                "DELETE FROM kehu_key_sets WHERE id = ANY($1::bytea[])",
                &[&ids],
            )?;
        }
        Ok(())
    }
}

/// Keys and bodies into a table of two bytea columns, by COPY.
fn copy_pairs<const N: usize>(
    c: &mut Conn,
    sql: &'static str,
    rows: &BTreeMap<[u8; N], Vec<u8>>,
) -> std::result::Result<(), postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    c.copy_in(sql, &BYTEA2, |w| {
        rows.iter()
            .try_for_each(|(k, body)| w.write(&[&k.as_slice(), body]))
    })
}

/// Keys and bodies through an upsert of two arrays.
fn upsert_pairs<const N: usize>(
    c: &mut Conn,
    sql: &'static str,
    rows: &BTreeMap<[u8; N], Vec<u8>>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let keys: Vec<&[u8]> = rows.keys().map(|k| k.as_slice()).collect();
    let bodies: Vec<&[u8]> = rows.values().map(Vec::as_slice).collect();
    c.execute(sql, &[&keys, &bodies])?;
    Ok(())
}

/// Removes a run of index entries.
fn remove_index(
    c: &mut Conn,
    run: &[(bool, Vec<u8>, [u8; 16])],
) -> std::result::Result<(), postgres::Error> {
    let keys: Vec<&[u8]> = run.iter().map(|o| o.1.as_slice()).collect();
    let ids: Vec<&[u8]> = run.iter().map(|o| o.2.as_slice()).collect();
    c.execute_raw(
        "DELETE FROM kehu_index i USING unnest($1::bytea[], $2::bytea[]) AS d(key, id) \
         WHERE i.key = d.key AND i.id = d.id",
        &[&keys, &ids],
    )
    .map(drop)
}
