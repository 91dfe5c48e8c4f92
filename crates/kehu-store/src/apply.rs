use std::collections::BTreeMap;

use kehu_model::{diff, Customer, CustomerId, RecordId, Related, Timestamp};

use crate::{index_keys, Batch, Change, ChangeOp, Error, IndexKey, Result, Write};

/// The largest dossier a store accepts, in bytes of text ([`Customer::text_size`]).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// A customer's keys in the named keyed indexes, kept so they can be replaced or removed.
pub type KeySets = BTreeMap<String, Vec<Vec<u8>>>;

/// The table operations of one write transaction, as a backend provides them.
///
/// [`apply_batch`] builds every write on these, so versions, indexes and the
/// change log behave the same in every backend.
pub trait WriteTx {
    /// Reads a dossier inside the transaction.
    fn customer(&mut self, id: CustomerId) -> Result<Option<Customer>>;
    /// Whether a dossier exists; a backend can answer without decoding it.
    fn contains_customer(&mut self, id: CustomerId) -> Result<bool> {
        Ok(self.customer(id)?.is_some())
    }
    /// Writes a dossier as given and returns the one it replaced (one tree
    /// walk instead of a read and a write; on a conflict the caller aborts).
    fn put_customer(&mut self, customer: &Customer) -> Result<Option<Customer>>;
    /// Removes a dossier.
    fn remove_customer(&mut self, id: CustomerId) -> Result<()>;
    /// The form in which the backend stores a lookup key (after its codec).
    fn stored_key(&self, key: &IndexKey) -> Vec<u8> {
        key.encode()
    }
    /// Maps a key, in its stored form, to the customer.
    fn index_insert(&mut self, stored: &[u8], id: CustomerId) -> Result<()>;
    /// Unmaps a key, in its stored form, from the customer.
    fn index_remove(&mut self, stored: &[u8], id: CustomerId) -> Result<()>;
    /// The customer's keyed-index keys.
    fn key_sets(&mut self, id: CustomerId) -> Result<KeySets>;
    /// Replaces the customer's keyed-index keys (empty: forget them).
    fn put_key_sets(&mut self, id: CustomerId, sets: &KeySets) -> Result<()>;
    /// Writes a related record (replacing one with the same id and time).
    fn put_related(&mut self, record: &Related) -> Result<()>;
    /// Removes one related record, returning it if it was there.
    fn remove_related(
        &mut self,
        customer_id: CustomerId,
        at: Timestamp,
        id: RecordId,
    ) -> Result<Option<Related>>;
    /// Writes a document into a space.
    fn put_doc(
        &mut self,
        space: &str,
        key: &[u8],
        owner: Option<CustomerId>,
        value: &[u8],
    ) -> Result<()>;
    /// Removes a document from a space.
    fn delete_doc(&mut self, space: &str, key: &[u8]) -> Result<()>;
    /// Removes every related record of a customer.
    fn remove_related_of(&mut self, id: CustomerId) -> Result<()>;
    /// The next change-log sequence number (one more than the last one handed out).
    fn next_seq(&mut self) -> Result<u64>;
    /// Appends an entry to a customer's change log.
    fn append_change(&mut self, change: &Change) -> Result<()>;
    /// Removes a customer's change log.
    fn remove_changes_of(&mut self, id: CustomerId) -> Result<()>;
    /// Removes the documents a customer owns.
    fn remove_docs_of(&mut self, id: CustomerId) -> Result<()>;
    /// The audit trail's last entry number and hash.
    fn audit_head(&mut self) -> Result<Option<(u64, [u8; 32])>>;
    /// Appends an entry to the audit trail (and records it as the head).
    fn append_audit(&mut self, entry: &crate::AuditEntry) -> Result<()>;
    /// Destroys a customer's data key, where the store keeps one.
    fn destroy_owner_key(&mut self, _id: CustomerId) -> Result<()> {
        Ok(())
    }
}

/// Applies a batch through a backend's transaction. On error the caller
/// must abort the transaction: nothing of the batch may be kept.
pub fn apply_batch(tx: &mut dyn WriteTx, batch: Batch) -> Result<()> {
    apply_batches(tx, &mut std::iter::once(batch)).map(|_| ())
}

/// Applies batches one after the other in one transaction, as
/// [`apply_batch`] does one; returns whether any of them asked to be durable.
pub fn apply_batches(
    tx: &mut dyn WriteTx,
    batches: &mut dyn Iterator<Item = Batch>,
) -> Result<bool> {
    let mut index = IndexOps::default();
    let mut durable = false;
    for batch in batches {
        durable |= batch.durable;
        apply_writes(tx, batch, &mut index)?;
        if index.ops.len() >= INDEX_RUN {
            index.apply(tx)?;
        }
    }
    index.apply(tx)?;
    Ok(durable)
}

/// How many index changes a transaction gathers before it applies them: runs
/// this long keep the index's pages hot, and applying them as the batches come
/// (not all at the end) lets a bulk writer's reader keep working meanwhile.
const INDEX_RUN: usize = 1 << 18;

/// Index changes gathered over part of a transaction and applied in runs, in
/// the order of their stored keys: random keys (e-mails, phones) then reach
/// each page of the index once per run instead of once per record. Keys live
/// in one buffer, so many of them cost a few allocations. Runs are applied in
/// order and sorted stably: an insert and a removal of the same entry keep
/// their order.
#[derive(Default)]
struct IndexOps {
    keys: Vec<u8>,
    ops: Vec<IndexOp>,
}

struct IndexOp {
    /// The key's first eight bytes, big-endian: most comparisons end here.
    prefix: u64,
    start: u32,
    len: u32,
    id: CustomerId,
    insert: bool,
}

impl IndexOps {
    fn push(&mut self, tx: &dyn WriteTx, key: &IndexKey, id: CustomerId, insert: bool) {
        let stored = tx.stored_key(key);
        // Offsets are u32: a transaction's keys stay well under 4 GiB.
        let start = self.keys.len() as u32;
        self.keys.extend_from_slice(&stored);
        let mut head = [0u8; 8];
        let n = stored.len().min(8);
        head[..n].copy_from_slice(&stored[..n]);
        self.ops.push(IndexOp {
            prefix: u64::from_be_bytes(head),
            start,
            len: stored.len() as u32,
            id,
            insert,
        });
    }

    fn key(&self, op: &IndexOp) -> &[u8] {
        &self.keys[op.start as usize..(op.start + op.len) as usize]
    }

    /// Applies the gathered changes in key order and forgets them.
    fn apply(&mut self, tx: &mut dyn WriteTx) -> Result<()> {
        let mut ops = std::mem::take(&mut self.ops);
        // Equal prefixes of keys shorter than eight bytes are not equal keys:
        // the full comparison settles them (and keeps "a" before "a\0").
        ops.sort_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then_with(|| (self.key(a), a.id).cmp(&(self.key(b), b.id)))
        });
        for op in &ops {
            if op.insert {
                tx.index_insert(self.key(op), op.id)?;
            } else {
                tx.index_remove(self.key(op), op.id)?;
            }
        }
        self.keys.clear();
        Ok(())
    }
}

/// Removes a dossier with its index entries, keyed-index keys and related records.
fn remove_all(tx: &mut dyn WriteTx, index: &mut IndexOps, old: &Customer) -> Result<()> {
    let id = old.id;
    for key in index_keys(old) {
        index.push(tx, &key, id, false);
    }
    for (name, keys) in tx.key_sets(id)? {
        for key in keys {
            let key = IndexKey::Keyed {
                index: name.clone(),
                key,
            };
            index.push(tx, &key, id, false);
        }
    }
    tx.put_key_sets(id, &KeySets::new())?;
    tx.remove_related_of(id)?;
    tx.remove_customer(id)
}

fn apply_writes(tx: &mut dyn WriteTx, batch: Batch, index: &mut IndexOps) -> Result<()> {
    let Batch {
        actor, at, writes, ..
    } = batch;
    let audit = |tx: &mut dyn WriteTx,
                 op: &str,
                 target: Option<CustomerId>,
                 fields: Vec<String>,
                 note: Option<String>|
     -> Result<()> {
        let head = tx.audit_head()?;
        let event = crate::AuditEvent {
            op: op.to_string(),
            target,
            fields,
            note,
        };
        tx.append_audit(&crate::AuditEntry::next(head, at, &actor, event))
    };
    let log = |tx: &mut dyn WriteTx, customer_id, op, fields| -> Result<()> {
        let seq = tx.next_seq()?;
        tx.append_change(&Change {
            seq,
            customer_id,
            at,
            actor: actor.clone(),
            op,
            fields,
        })
    };
    for write in writes {
        match write {
            Write::Put {
                mut customer,
                expected,
            } => {
                let bytes = customer.text_size();
                if bytes > MAX_RECORD_BYTES {
                    return Err(Error::TooLarge {
                        bytes,
                        limit: MAX_RECORD_BYTES,
                    });
                }
                customer.version = expected + 1;
                let old = tx.put_customer(&customer)?;
                check_version(customer.id, old.as_ref(), expected)?;
                let old_keys = old.as_ref().map(index_keys).unwrap_or_default();
                let new_keys = index_keys(&customer);
                for key in old_keys
                    .iter()
                    .filter(|k| new_keys.binary_search(k).is_err())
                {
                    index.push(tx, key, customer.id, false);
                }
                for key in new_keys
                    .iter()
                    .filter(|k| old_keys.binary_search(k).is_err())
                {
                    index.push(tx, key, customer.id, true);
                }
                match old {
                    None => {
                        audit(tx, "create", Some(customer.id), Vec::new(), None)?;
                        log(tx, customer.id, ChangeOp::Created, Vec::new())?;
                    }
                    Some(old) => {
                        let fields = diff(&old, &customer);
                        let paths = fields.iter().map(|f| f.path.clone()).collect();
                        audit(tx, "update", Some(customer.id), paths, None)?;
                        log(tx, customer.id, ChangeOp::Updated, fields)?;
                    }
                }
            }
            Write::Delete { id, expected } => {
                let old = tx.customer(id)?.ok_or(Error::NotFound(id))?;
                check_version(id, Some(&old), expected)?;
                remove_all(tx, index, &old)?;
                audit(tx, "delete", Some(id), Vec::new(), None)?;
                log(tx, id, ChangeOp::Deleted, Vec::new())?;
            }
            Write::Forget { id } => {
                // A customer whose key is already gone has nothing left to read.
                match tx.customer(id) {
                    Ok(Some(old)) => remove_all(tx, index, &old)?,
                    Ok(None) | Err(Error::Erased(_)) => {}
                    Err(e) => return Err(e),
                }
                tx.put_key_sets(id, &KeySets::new())?;
                tx.remove_related_of(id)?;
                tx.remove_changes_of(id)?;
                tx.remove_docs_of(id)?;
                tx.destroy_owner_key(id)?;
                let seq = tx.next_seq()?;
                let (key, value) = crate::feed::tombstone(seq, id, at);
                tx.put_doc(crate::feed::ERASED_SPACE, &key, None, &value)?;
                audit(tx, "forget", Some(id), Vec::new(), None)?;
            }
            Write::Audit(event) => {
                audit(tx, &event.op, event.target, event.fields, event.note)?;
            }
            Write::Relate(record) => {
                let id = record.customer_id();
                if !tx.contains_customer(id)? {
                    return Err(Error::NotFound(id));
                }
                tx.put_related(&record)?;
                let kind = record.kind();
                let op = ChangeOp::Related {
                    kind,
                    record: record.id(),
                };
                audit(
                    tx,
                    "relate",
                    Some(id),
                    vec![format!("{kind:?}").to_lowercase()],
                    None,
                )?;
                log(tx, id, op, Vec::new())?;
            }
            Write::Unrelate {
                customer_id,
                at: when,
                id,
            } => {
                let record =
                    tx.remove_related(customer_id, when, id)?
                        .ok_or(Error::RecordNotFound {
                            customer: customer_id,
                            record: id,
                        })?;
                let kind = record.kind();
                let op = ChangeOp::Unrelated { kind, record: id };
                audit(
                    tx,
                    "unrelate",
                    Some(customer_id),
                    vec![format!("{kind:?}").to_lowercase()],
                    None,
                )?;
                log(tx, customer_id, op, Vec::new())?;
            }
            Write::PutDoc {
                space,
                key,
                owner,
                value,
            } => tx.put_doc(&space, &key, owner, &value)?,
            Write::DeleteDoc { space, key } => tx.delete_doc(&space, &key)?,
            Write::SetKeys {
                id,
                index: name,
                keys,
            } => {
                if !tx.contains_customer(id)? {
                    return Err(Error::NotFound(id));
                }
                let mut sets = tx.key_sets(id)?;
                let mut keys = keys;
                keys.sort();
                keys.dedup();
                let old = sets.remove(&name).unwrap_or_default();
                for key in old.iter().filter(|k| keys.binary_search(k).is_err()) {
                    let key = IndexKey::Keyed {
                        index: name.clone(),
                        key: key.clone(),
                    };
                    index.push(tx, &key, id, false);
                }
                for key in keys.iter().filter(|k| old.binary_search(k).is_err()) {
                    let key = IndexKey::Keyed {
                        index: name.clone(),
                        key: key.clone(),
                    };
                    index.push(tx, &key, id, true);
                }
                if !keys.is_empty() {
                    sets.insert(name, keys);
                }
                tx.put_key_sets(id, &sets)?;
            }
        }
    }
    Ok(())
}

fn check_version(id: CustomerId, current: Option<&Customer>, expected: u64) -> Result<()> {
    let found = current.map_or(0, |c| c.version);
    if found == expected {
        Ok(())
    } else {
        Err(Error::Conflict {
            id,
            expected,
            found,
        })
    }
}
