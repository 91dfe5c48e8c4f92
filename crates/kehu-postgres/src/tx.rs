//! A write transaction: READ COMMITTED, holding the book's write lock (the
//! `seq` row of `kehu_meta`, locked FOR UPDATE) from its first statement to
//! its commit. Writers of one book go one at a time, on any machine, so
//! versions are checked against the latest commit and the audit trail stays
//! one chain; readers are never blocked.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use kehu_model::{Customer, CustomerId, RecordId, Related, Timestamp};
use kehu_store::stored::{self, Sealer};
use kehu_store::{Change, Error, IndexKey, KeySets, Result, WriteTx};

use crate::pending::{Pending, Table};
use crate::schema::{self, AUDIT_HEAD, SEQ};
use crate::session::Session;

pub struct PgTx<'t> {
    pub session: Rc<Session>,
    pub sealer: Sealer<'t>,
    seq: u64,
    /// The book's commit count before this transaction.
    pub commits: u64,
    audit_head: Option<(u64, [u8; 32])>,
    /// Writes held back, sent in bulk.
    pending: Pending,
    /// Whether dossiers this transaction wrote or read exist.
    exists: HashMap<CustomerId, bool>,
    /// Dossiers this transaction created: they had no key sets before it.
    created: HashSet<CustomerId>,
}

impl<'t> PgTx<'t> {
    /// Begins: takes the write lock and reads the last change number and audit head.
    pub fn begin(session: Rc<Session>, sealer: Sealer<'t>) -> Result<Self> {
        session.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        let seq = session
            .bytes(
                "SELECT value FROM kehu_meta WHERE name = 'seq' FOR UPDATE",
                &[],
            )?
            .ok_or_else(|| Error::Corrupt("the book has no change counter".into()))?;
        let seq = u64::from_le_bytes(
            seq.as_slice()
                .try_into()
                .map_err(|_| Error::Corrupt("sequence number is not 8 bytes".into()))?,
        );
        let commits = schema::commits(&session)?;
        let audit_head = schema::meta(&session, AUDIT_HEAD)?
            .map(|b| stored::decode_audit_head(&b))
            .transpose()?;
        Ok(Self {
            session,
            sealer,
            seq,
            commits,
            audit_head,
            pending: Pending::default(),
            exists: HashMap::new(),
            created: HashSet::new(),
        })
    }

    /// Records the counters the batches moved (before the commit).
    pub fn finish(&mut self) -> Result<()> {
        self.pending.flush(&self.session)?;
        self.session.drain()?;
        self.settle(self.pending.conflict())?;
        schema::put_meta(&self.session, SEQ, &self.seq.to_le_bytes())?;
        schema::put_meta(
            &self.session,
            schema::COMMITS,
            &(self.commits + 1).to_le_bytes(),
        )?;
        if let Some((seq, hash)) = self.audit_head {
            schema::put_meta(
                &self.session,
                AUDIT_HEAD,
                &stored::encode_audit_head(seq, &hash),
            )?;
        }
        Ok(())
    }
}

impl PgTx<'_> {
    /// A created dossier found in the book when the held ones were sent (as
    /// far as the sends have run) is the conflict the write would have met
    /// at once.
    fn settle(&mut self, conflict: Option<[u8; 16]>) -> Result<()> {
        let Some(id) = conflict else {
            return Ok(());
        };
        let id = CustomerId::from_bytes(id);
        let found = self.customer(id)?.map_or(0, |c| c.version);
        Err(Error::Conflict {
            id,
            expected: 0,
            found,
        })
    }

    /// Sends what is held once there is enough of it.
    fn maybe_flush(&mut self) -> Result<()> {
        self.pending.maybe_flush(&self.session)?;
        self.settle(self.pending.conflict())
    }

    /// Sends the held dossiers before a statement that reads or deletes them.
    fn flush_customers(&mut self) -> Result<()> {
        self.pending.flush_table(&self.session, Table::Customers)?;
        self.session.drain()?;
        self.settle(self.pending.conflict())
    }
}

impl WriteTx for PgTx<'_> {
    fn customer(&mut self, id: CustomerId) -> Result<Option<Customer>> {
        let key = id.to_bytes();
        if let Some(body) = self.pending.held_customer(&key) {
            return stored::decode_customer(body, &self.sealer).map(Some);
        }
        crate::snapshot::read_customer(&self.session, &self.sealer, id)
    }

    fn contains_customer(&mut self, id: CustomerId) -> Result<bool> {
        if let Some(known) = self.exists.get(&id) {
            return Ok(*known);
        }
        let key = id.to_bytes();
        let found = !self
            .session
            .query(
                "SELECT 1 FROM kehu_customers WHERE id = $1",
                &[&key.as_slice()],
            )?
            .is_empty();
        self.exists.insert(id, found);
        Ok(found)
    }

    fn put_customer(&mut self, customer: &Customer) -> Result<Option<Customer>> {
        let body = stored::encode_customer(customer, &self.sealer)?;
        let key = customer.id.to_bytes();
        if let Some(old) = self.pending.held_customer(&key) {
            // Created earlier in this transaction: still held.
            let old = stored::decode_customer(old, &self.sealer)?;
            self.pending.customer(key, body);
            return Ok(Some(old));
        }
        // A creation (version 1) of a dossier this transaction has not seen
        // is held: were it there after all, sending it fails the transaction
        // with the conflict the write would have met.
        if customer.version == 1 && self.exists.get(&customer.id) != Some(&true) {
            self.pending.customer(key, body);
            self.exists.insert(customer.id, true);
            self.created.insert(customer.id);
            return self.maybe_flush().map(|()| None);
        }
        // The statements of one WITH see one snapshot: `old` is the row before the upsert.
        let old = self.session.bytes(
            "WITH old AS (SELECT body FROM kehu_customers WHERE id = $1), \
                 up AS (INSERT INTO kehu_customers (id, body) VALUES ($1, $2) \
                        ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body) \
                 SELECT body FROM old",
            &[&key.as_slice(), &body.as_slice()],
        )?;
        self.exists.insert(customer.id, true);
        if old.is_none() {
            self.created.insert(customer.id);
        }
        old.map(|b| stored::decode_customer(&b, &self.sealer))
            .transpose()
    }

    fn remove_customer(&mut self, id: CustomerId) -> Result<()> {
        self.flush_customers()?;
        let key = id.to_bytes();
        self.session.execute(
            "DELETE FROM kehu_customers WHERE id = $1",
            &[&key.as_slice()],
        )?;
        self.exists.insert(id, false);
        Ok(())
    }

    fn stored_key(&self, key: &IndexKey) -> Vec<u8> {
        self.sealer.codec().index_key(key.encode())
    }

    fn index_insert(&mut self, stored: &[u8], id: CustomerId) -> Result<()> {
        self.pending.index(true, stored, id.to_bytes());
        self.maybe_flush()
    }

    fn index_remove(&mut self, stored: &[u8], id: CustomerId) -> Result<()> {
        self.pending.index(false, stored, id.to_bytes());
        self.maybe_flush()
    }

    fn key_sets(&mut self, id: CustomerId) -> Result<KeySets> {
        let key = id.to_bytes();
        match self.pending.held_key_sets(&key) {
            Some(Some(b)) => return stored::decode_key_sets(b, id, &self.sealer),
            Some(None) => return Ok(KeySets::new()),
            None if self.created.contains(&id) => return Ok(KeySets::new()),
            None => {}
        }
        match self.session.bytes(
            "SELECT body FROM kehu_key_sets WHERE id = $1",
            &[&key.as_slice()],
        )? {
            Some(b) => stored::decode_key_sets(&b, id, &self.sealer),
            None => Ok(KeySets::new()),
        }
    }

    fn put_key_sets(&mut self, id: CustomerId, sets: &KeySets) -> Result<()> {
        let body = if sets.is_empty() {
            None
        } else {
            Some(stored::encode_key_sets(sets, id, &self.sealer)?)
        };
        self.pending.key_sets(id.to_bytes(), body);
        self.maybe_flush()
    }

    fn put_related(&mut self, record: &Related) -> Result<()> {
        let body = stored::encode_related(record, &self.sealer)?;
        self.pending.related(stored::related_key(record), body);
        self.maybe_flush()
    }

    fn remove_related(
        &mut self,
        customer_id: CustomerId,
        at: Timestamp,
        id: RecordId,
    ) -> Result<Option<Related>> {
        let key = stored::related_key_of(customer_id, at, id);
        self.pending.flush_table(&self.session, Table::Related)?;
        self.session
            .bytes(
                "DELETE FROM kehu_related WHERE key = $1 RETURNING body",
                &[&key.as_slice()],
            )?
            .map(|b| stored::decode_related(&b, customer_id, &self.sealer))
            .transpose()
    }

    fn put_doc(
        &mut self,
        space: &str,
        key: &[u8],
        owner: Option<CustomerId>,
        value: &[u8],
    ) -> Result<()> {
        let body = stored::encode_doc(owner, value, &self.sealer)?;
        self.pending
            .doc(space, key, owner.map(|o| o.to_bytes()), body);
        self.maybe_flush()
    }

    fn delete_doc(&mut self, space: &str, key: &[u8]) -> Result<()> {
        self.pending.flush_table(&self.session, Table::Docs)?;
        self.session.execute(
            "DELETE FROM kehu_docs WHERE space = $1 AND key = $2",
            &[&space, &key],
        )?;
        Ok(())
    }

    fn remove_related_of(&mut self, id: CustomerId) -> Result<()> {
        let (start, end) = stored::related_prefix(id);
        self.pending.flush_table(&self.session, Table::Related)?;
        self.session.execute(
            "DELETE FROM kehu_related WHERE key >= $1 AND key < $2",
            &[&start.as_slice(), &end.as_slice()],
        )?;
        Ok(())
    }

    fn next_seq(&mut self) -> Result<u64> {
        self.seq += 1;
        Ok(self.seq)
    }

    fn append_change(&mut self, change: &Change) -> Result<()> {
        let key = stored::change_key(change.customer_id, change.seq);
        let body = stored::encode_change(change, &self.sealer)?;
        self.pending.change(key, body);
        self.maybe_flush()
    }

    fn remove_changes_of(&mut self, id: CustomerId) -> Result<()> {
        let (start, end) = stored::change_range(id);
        self.pending.flush_table(&self.session, Table::Changes)?;
        self.session.execute(
            "DELETE FROM kehu_changes WHERE key >= $1 AND key <= $2",
            &[&start.as_slice(), &end.as_slice()],
        )?;
        Ok(())
    }

    fn remove_docs_of(&mut self, id: CustomerId) -> Result<()> {
        let owner = id.to_bytes();
        self.pending.flush_table(&self.session, Table::Docs)?;
        self.session.execute(
            "DELETE FROM kehu_docs WHERE owner = $1",
            &[&owner.as_slice()],
        )?;
        Ok(())
    }

    fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>> {
        Ok(self.audit_head)
    }

    fn append_audit(&mut self, entry: &kehu_store::AuditEntry) -> Result<()> {
        let body = stored::encode_audit(entry, &self.sealer)?;
        let seq = i64::try_from(entry.seq)
            .map_err(|_| Error::Corrupt("audit entry number out of range".into()))?;
        self.pending.audit(seq, body);
        self.audit_head = Some((entry.seq, entry.hash));
        self.maybe_flush()
    }

    fn destroy_owner_key(&mut self, id: CustomerId) -> Result<()> {
        self.sealer.destroy(id)
    }
}
