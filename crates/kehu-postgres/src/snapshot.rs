//! A read view: one REPEATABLE READ, READ ONLY transaction on a connection
//! of its own, so it sees one committed state and never blocks a writer.

use std::rc::Rc;

use kehu_model::{Customer, CustomerId, Related, RelatedKind};
use kehu_store::stored::{self, Sealer};
use kehu_store::{Change, Doc, IndexKey, Result, Snapshot};

use crate::schema::{self, prefix_end, AUDIT_HEAD};
use crate::session::Session;
use crate::PgStore;

/// How many dossiers a scan reads per round trip.
const PAGE: i64 = 1024;

pub struct PgSnapshot<'s> {
    pub store: &'s PgStore,
    pub session: Rc<Session>,
    pub sealer: Sealer<'s>,
}

impl Drop for PgSnapshot<'_> {
    fn drop(&mut self) {
        if self.session.batch("ROLLBACK").is_ok() {
            if let Some(conn) = self.session.take() {
                self.store.pool.give(conn);
            }
        }
    }
}

impl PgSnapshot<'_> {
    fn page(&self, after: &[u8]) -> Result<Vec<Customer>> {
        let rows = self.session.query(
            "SELECT body FROM kehu_customers WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &PAGE],
        )?;
        rows.iter()
            .map(|r| stored::decode_customer(r.get::<_, &[u8]>(0), &self.sealer))
            .collect()
    }
}

/// A stored dossier, read by a snapshot or a write transaction.
pub fn read_customer(s: &Session, sealer: &Sealer<'_>, id: CustomerId) -> Result<Option<Customer>> {
    let key = id.to_bytes();
    s.bytes(
        "SELECT body FROM kehu_customers WHERE id = $1",
        &[&key.as_slice()],
    )?
    .map(|b| stored::decode_customer(&b, sealer))
    .transpose()
}

impl Snapshot for PgSnapshot<'_> {
    fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        read_customer(&self.session, &self.sealer, id)
    }

    fn customers(&self) -> Result<Box<dyn Iterator<Item = Result<Customer>> + '_>> {
        let mut page = self.page(&[])?.into_iter();
        let mut last: Option<CustomerId> = None;
        let mut done = false;
        Ok(Box::new(std::iter::from_fn(move || loop {
            if let Some(c) = page.next() {
                last = Some(c.id);
                return Some(Ok(c));
            }
            if done {
                return None;
            }
            let after = last?.to_bytes();
            match self.page(&after) {
                Ok(next) => {
                    done = (next.len() as i64) < PAGE;
                    if next.is_empty() {
                        return None;
                    }
                    page = next.into_iter();
                }
                Err(e) => {
                    done = true;
                    page = Vec::new().into_iter();
                    return Some(Err(e));
                }
            }
        })))
    }

    fn customer_count(&self) -> Result<u64> {
        let rows = self
            .session
            .query("SELECT count(*) FROM kehu_customers", &[])?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }

    fn lookup(&self, key: &IndexKey) -> Result<Vec<CustomerId>> {
        let stored = self.sealer.codec().index_key(key.encode());
        let rows = self.session.query(
            "SELECT id FROM kehu_index WHERE key = $1 ORDER BY id",
            &[&stored.as_slice()],
        )?;
        rows.iter().map(|r| crate::customer_id(r.get(0))).collect()
    }

    fn related(&self, id: CustomerId, kind: Option<RelatedKind>) -> Result<Vec<Related>> {
        let (start, end) = stored::related_prefix(id);
        let rows = self.session.query(
            "SELECT body FROM kehu_related WHERE key >= $1 AND key < $2 ORDER BY key",
            &[&start.as_slice(), &end.as_slice()],
        )?;
        let mut out = Vec::new();
        for row in &rows {
            let record = stored::decode_related(row.get::<_, &[u8]>(0), id, &self.sealer)?;
            if kind.is_none_or(|k| record.kind() == k) {
                out.push(record);
            }
        }
        Ok(out)
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Change>> {
        let (start, end) = stored::change_range(id);
        let rows = self.session.query(
            "SELECT body FROM kehu_changes WHERE key >= $1 AND key <= $2 ORDER BY key",
            &[&start.as_slice(), &end.as_slice()],
        )?;
        rows.iter()
            .map(|r| {
                stored::decode_change(r.get::<_, &[u8]>(0), id, &self.sealer, &stored::NoActors)
            })
            .collect()
    }

    fn doc(&self, space: &str, key: &[u8]) -> Result<Option<Doc>> {
        let body = self.session.bytes(
            "SELECT body FROM kehu_docs WHERE space = $1 AND key = $2",
            &[&space, &key],
        )?;
        body.map(|b| {
            let (owner, value) = stored::decode_doc(&b, &self.sealer)?;
            Ok(Doc {
                key: key.to_vec(),
                owner,
                value,
            })
        })
        .transpose()
    }

    fn docs(&self, space: &str, prefix: &[u8]) -> Result<Vec<Doc>> {
        let end = prefix_end(prefix);
        let rows = self.session.query(
            "SELECT key, body FROM kehu_docs WHERE space = $1 AND key >= $2 \
             AND ($3::bytea IS NULL OR key < $3) ORDER BY key",
            &[&space, &prefix, &end],
        )?;
        rows.iter()
            .map(|r| {
                let (owner, value) = stored::decode_doc(r.get::<_, &[u8]>(1), &self.sealer)?;
                Ok(Doc {
                    key: r.get::<_, Vec<u8>>(0),
                    owner,
                    value,
                })
            })
            .collect()
    }

    fn audit(&self, from: u64) -> Result<Vec<kehu_store::AuditEntry>> {
        // From the entry before: it gives the first its previous hash.
        let before = i64::try_from(from.saturating_sub(1)).unwrap_or(i64::MAX);
        let rows = self.session.query(
            "SELECT seq, body FROM kehu_audit WHERE seq >= $1 ORDER BY seq",
            &[&before],
        )?;
        let rows = rows.iter().map(|r| {
            let seq = u64::try_from(r.get::<_, i64>(0))
                .map_err(|_| kehu_store::Error::Corrupt("a negative audit entry number".into()))?;
            Ok((seq, r.get::<_, &[u8]>(1).to_vec()))
        });
        // Every actor in full: PostgreSQL keeps no table of actors.
        stored::decode_audit_trail(rows, from, &self.sealer, &stored::NoActors)
    }

    fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Option<Customer>>> {
        let keys: Vec<[u8; 16]> = ids.iter().map(|id| id.to_bytes()).collect();
        let asked: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
        let rows = self.session.query(
            "SELECT id, body FROM kehu_customers WHERE id = ANY($1)",
            &[&asked],
        )?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let id = crate::customer_id(row.get(0))?;
            found.insert(
                id,
                stored::decode_customer(row.get::<_, &[u8]>(1), &self.sealer)?,
            );
        }
        Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
    }

    fn lookup_many(&self, keys: &[IndexKey]) -> Result<Vec<Vec<CustomerId>>> {
        let stored: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| self.sealer.codec().index_key(k.encode()))
            .collect();
        let asked: Vec<&[u8]> = stored.iter().map(Vec::as_slice).collect();
        let rows = self.session.query(
            "SELECT key, id FROM kehu_index WHERE key = ANY($1) ORDER BY key, id",
            &[&asked],
        )?;
        let mut found: std::collections::HashMap<&[u8], Vec<CustomerId>> =
            std::collections::HashMap::new();
        for row in &rows {
            let key: &[u8] = row.get(0);
            found
                .entry(key)
                .or_default()
                .push(crate::customer_id(row.get(1))?);
        }
        Ok(stored
            .iter()
            .map(|k| found.get(k.as_slice()).cloned().unwrap_or_default())
            .collect())
    }

    fn docs_by_key(&self, space: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Doc>>> {
        let asked: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let rows = self.session.query(
            "SELECT key, body FROM kehu_docs WHERE space = $1 AND key = ANY($2)",
            &[&space, &asked],
        )?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let (owner, value) = stored::decode_doc(row.get::<_, &[u8]>(1), &self.sealer)?;
            let key: Vec<u8> = row.get(0);
            found.insert(key.clone(), Doc { key, owner, value });
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn feed(&self, after: u64, limit: usize) -> Result<Vec<kehu_store::FeedItem>> {
        // The change key is the customer id, then the sequence number
        // big-endian: its tail sorts as the number does (an index on it).
        let after_key = after.to_be_bytes();
        let n = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.session.query(
            "SELECT key, body FROM kehu_changes WHERE substring(key from 17) > $1 \
             ORDER BY substring(key from 17) LIMIT $2",
            &[&after_key.as_slice(), &n],
        )?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            let key: &[u8] = row.get(0);
            let owner = crate::customer_id(key.get(..16).unwrap_or_default())?;
            changes.push(stored::decode_change(
                row.get::<_, &[u8]>(1),
                owner,
                &self.sealer,
                &stored::NoActors,
            )?);
        }
        let tombstones = kehu_store::feed::tombstones_after(self, after, limit)?;
        Ok(kehu_store::feed::merge(changes, tombstones, limit))
    }

    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>> {
        schema::meta(&self.session, AUDIT_HEAD)?
            .map(|b| stored::decode_audit_head(&b))
            .transpose()
    }
}
