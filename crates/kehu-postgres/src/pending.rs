//! Writes a transaction holds back and sends many rows to a statement
//! (`unnest` of arrays), so a bulk write costs a round trip per dossier, not
//! one per table row. Only tables the transaction does not read back are
//! held: new dossiers (whose reads consult what is held first; one that was
//! there after all is a version conflict when they are sent), index
//! entries, changes, audit entries, related records, documents and key sets
//! (whose reads consult what is held first). Before a statement that deletes
//! from one of them, what is held for it is sent.

use std::collections::BTreeMap;

use kehu_store::Result;

use crate::session::Session;

/// How many held rows make the transaction send them.
const HOLD: usize = 4096;

/// A document held: its owner and its stored bytes, by space and key.
type HeldDocs = BTreeMap<(String, Vec<u8>), (Option<[u8; 16]>, Vec<u8>)>;

/// Held writes, per table.
#[derive(Default)]
pub struct Pending {
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
    rows: usize,
}

impl Pending {
    pub fn customer(&mut self, id: [u8; 16], body: Vec<u8>) {
        self.customers.insert(id, body);
        self.rows += 1;
    }

    /// A created dossier's bytes, if it is held.
    pub fn held_customer(&self, id: &[u8; 16]) -> Option<&[u8]> {
        self.customers.get(id).map(Vec::as_slice)
    }

    pub fn index(&mut self, insert: bool, key: &[u8], id: [u8; 16]) {
        self.index.push((insert, key.to_vec(), id));
        self.rows += 1;
    }

    pub fn change(&mut self, key: [u8; 24], body: Vec<u8>) {
        self.changes.insert(key, body);
        self.rows += 1;
    }

    pub fn audit(&mut self, seq: i64, body: Vec<u8>) {
        self.audit.push((seq, body));
        self.rows += 1;
    }

    pub fn related(&mut self, key: [u8; 40], body: Vec<u8>) {
        self.related.insert(key, body);
        self.rows += 1;
    }

    pub fn doc(&mut self, space: &str, key: &[u8], owner: Option<[u8; 16]>, body: Vec<u8>) {
        self.docs
            .insert((space.to_string(), key.to_vec()), (owner, body));
        self.rows += 1;
    }

    pub fn key_sets(&mut self, id: [u8; 16], body: Option<Vec<u8>>) {
        self.key_sets.insert(id, body);
        self.rows += 1;
    }

    /// The key sets held for a customer: `Some(None)` when they are to be deleted.
    pub fn held_key_sets(&self, id: &[u8; 16]) -> Option<Option<&[u8]>> {
        self.key_sets.get(id).map(|b| b.as_deref())
    }

    /// Sends everything once enough is held; see [`Pending::flush`].
    pub fn maybe_flush(&mut self, s: &Session) -> Result<Option<[u8; 16]>> {
        if self.rows >= HOLD {
            return self.flush(s);
        }
        Ok(None)
    }

    /// Sends everything held. Answers the id of a created dossier that was
    /// in the book already (the transaction must then fail with a conflict).
    pub fn flush(&mut self, s: &Session) -> Result<Option<[u8; 16]>> {
        let conflict = self.flush_customers(s)?;
        if conflict.is_some() {
            return Ok(conflict);
        }
        self.flush_index(s)?;
        self.flush_changes(s)?;
        self.flush_related(s)?;
        self.flush_docs(s)?;
        self.flush_key_sets(s)?;
        if !self.audit.is_empty() {
            let seqs: Vec<i64> = self.audit.iter().map(|a| a.0).collect();
            let bodies: Vec<&[u8]> = self.audit.iter().map(|a| a.1.as_slice()).collect();
            s.execute(
                "INSERT INTO kehu_audit (seq, body) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                &[&seqs, &bodies],
            )?;
            self.audit.clear();
        }
        self.rows = 0;
        Ok(None)
    }

    /// Sends the created dossiers; answers one that was there already.
    pub fn flush_customers(&mut self, s: &Session) -> Result<Option<[u8; 16]>> {
        if self.customers.is_empty() {
            return Ok(None);
        }
        let held = std::mem::take(&mut self.customers);
        let ids: Vec<&[u8]> = held.keys().map(|k| k.as_slice()).collect();
        let bodies: Vec<&[u8]> = held.values().map(Vec::as_slice).collect();
        let inserted = s.query(
            "INSERT INTO kehu_customers (id, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (id) DO NOTHING RETURNING id",
            &[&ids, &bodies],
        )?;
        if inserted.len() == held.len() {
            return Ok(None);
        }
        let done: std::collections::HashSet<Vec<u8>> =
            inserted.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect();
        Ok(held
            .keys()
            .find(|id| !done.contains(id.as_slice()))
            .copied())
    }

    /// Sends the held index entries, each run of inserts or removals in one statement.
    pub fn flush_index(&mut self, s: &Session) -> Result<()> {
        let ops = std::mem::take(&mut self.index);
        for run in ops.chunk_by(|a, b| a.0 == b.0) {
            let keys: Vec<&[u8]> = run.iter().map(|o| o.1.as_slice()).collect();
            let ids: Vec<&[u8]> = run.iter().map(|o| o.2.as_slice()).collect();
            if run[0].0 {
                s.execute(
                    "INSERT INTO kehu_index (key, id) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT DO NOTHING",
                    &[&keys, &ids],
                )?;
            } else {
                s.execute(
                    "DELETE FROM kehu_index i USING unnest($1::bytea[], $2::bytea[]) AS d(key, id) \
                     WHERE i.key = d.key AND i.id = d.id",
                    &[&keys, &ids],
                )?;
            }
        }
        Ok(())
    }

    /// Sends the held changes.
    pub fn flush_changes(&mut self, s: &Session) -> Result<()> {
        upsert(
            s,
            "INSERT INTO kehu_changes (key, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body",
            std::mem::take(&mut self.changes),
        )
    }

    /// Sends the held related records.
    pub fn flush_related(&mut self, s: &Session) -> Result<()> {
        upsert(
            s,
            "INSERT INTO kehu_related (key, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body",
            std::mem::take(&mut self.related),
        )
    }

    /// Sends the held documents.
    pub fn flush_docs(&mut self, s: &Session) -> Result<()> {
        if self.docs.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.docs);
        let spaces: Vec<&str> = held.keys().map(|k| k.0.as_str()).collect();
        let keys: Vec<&[u8]> = held.keys().map(|k| k.1.as_slice()).collect();
        let owners: Vec<Option<&[u8]>> = held
            .values()
            .map(|v| v.0.as_ref().map(|o| o.as_slice()))
            .collect();
        let bodies: Vec<&[u8]> = held.values().map(|v| v.1.as_slice()).collect();
        s.execute(
            "INSERT INTO kehu_docs (space, key, owner, body) \
             SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bytea[]) \
             ON CONFLICT (space, key) DO UPDATE SET owner = EXCLUDED.owner, body = EXCLUDED.body",
            &[&spaces, &keys, &owners, &bodies],
        )?;
        Ok(())
    }

    /// Sends the held key sets: writes, then deletions.
    pub fn flush_key_sets(&mut self, s: &Session) -> Result<()> {
        if self.key_sets.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.key_sets);
        let (put, gone): (Vec<_>, Vec<_>) = held.iter().partition(|(_, b)| b.is_some());
        if !put.is_empty() {
            let ids: Vec<&[u8]> = put.iter().map(|(id, _)| id.as_slice()).collect();
            let bodies: Vec<&[u8]> = put.iter().filter_map(|(_, b)| b.as_deref()).collect();
            s.execute(
                "INSERT INTO kehu_key_sets (id, body) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                &[&ids, &bodies],
            )?;
        }
        if !gone.is_empty() {
            let ids: Vec<&[u8]> = gone.iter().map(|(id, _)| id.as_slice()).collect();
            s.execute(
                "DELETE FROM kehu_key_sets WHERE id = ANY($1::bytea[])",
                &[&ids],
            )?;
        }
        Ok(())
    }
}

/// Sends held keys and bodies through an upsert of two arrays.
fn upsert<const N: usize>(
    s: &Session,
    sql: &'static str,
    held: BTreeMap<[u8; N], Vec<u8>>,
) -> Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let keys: Vec<&[u8]> = held.keys().map(|k| k.as_slice()).collect();
    let bodies: Vec<&[u8]> = held.values().map(Vec::as_slice).collect();
    s.execute(sql, &[&keys, &bodies])?;
    Ok(())
}
