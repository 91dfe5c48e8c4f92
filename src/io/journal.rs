//! The import journal: what each import wrote, kept in the book so it can be reverted.

use kehu_model::{Customer, CustomerId, RecordId, Timestamp};
use kehu_store::{Doc, Write};
use serde::{Deserialize, Serialize};

use super::{ImportKind, Mode};
use crate::Error;

/// The document space of import summaries (key: the import id).
pub(crate) const SUMMARIES: &str = "import";
/// The document space of journal batches (key: import id, batch number).
pub(crate) const BATCHES: &str = "import.batch";
/// The document space of dossiers as they were before an import changed them
/// (key: import id, customer id), sealed for their customer.
pub(crate) const BEFORE: &str = "import.before";

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Batches are being written (or the import was stopped midway: what the
    /// counts say was committed, whole).
    Running,
    /// Every row was handled.
    Done,
    /// The import stopped on an error after committing some batches.
    Failed,
    /// Everything it did has been undone.
    Reverted,
}

/// An import as the book remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The import's id.
    pub id: RecordId,
    /// The input's name.
    pub source: String,
    /// What the file held.
    pub kind: ImportKind,
    /// Create, update or upsert.
    pub mode: Mode,
    /// Who imported.
    pub actor: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it last committed.
    pub updated_at: Timestamp,
    /// Where it stands.
    pub status: ImportStatus,
    /// Rows handled in committed batches.
    pub rows: u64,
    /// New records written.
    pub imported: u64,
    /// Dossiers changed.
    pub updated: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Rows left alone.
    pub skipped: u64,
    /// Journal batches written.
    pub batches: u32,
}

/// What one committed batch of an import wrote.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct JournalBatch {
    /// Dossiers it created (their ids).
    pub created: Vec<u128>,
    /// Dossiers it changed, with the version it left them at.
    pub updated: Vec<(u128, u64)>,
    /// Related records it added: customer, time (seconds, nanoseconds), record id.
    pub related: Vec<(u128, i64, u32, u128)>,
}

impl JournalBatch {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.related.is_empty()
    }
}

/// What a revert undid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevertReport {
    /// The import.
    pub import_id: RecordId,
    /// Dossiers it had created, now removed.
    pub removed: u64,
    /// Dossiers it had changed, now as they were.
    pub restored: u64,
    /// Related records it had added, now removed.
    pub unrelated: u64,
}

pub(crate) fn id_u128(id: CustomerId) -> u128 {
    u128::from_be_bytes(id.to_bytes())
}

pub(crate) fn customer_id(v: u128) -> CustomerId {
    CustomerId::from_bytes(v.to_be_bytes())
}

pub(crate) fn batch_key(import: RecordId, batch: u32) -> Vec<u8> {
    let mut key = import.to_bytes().to_vec();
    key.extend_from_slice(&batch.to_be_bytes());
    key
}

pub(crate) fn before_key(import: RecordId, customer: CustomerId) -> Vec<u8> {
    let mut key = import.to_bytes().to_vec();
    key.extend_from_slice(&customer.to_bytes());
    key
}

pub(crate) fn summary_write(summary: &ImportSummary) -> Result<Write, Error> {
    Ok(Write::PutDoc {
        space: SUMMARIES.into(),
        key: summary.id.to_bytes().to_vec(),
        owner: None,
        value: serde_json::to_vec(summary).map_err(|e| Error::Corrupt(e.to_string()))?,
    })
}

pub(crate) fn batch_write(import: RecordId, n: u32, batch: &JournalBatch) -> Result<Write, Error> {
    Ok(Write::PutDoc {
        space: BATCHES.into(),
        key: batch_key(import, n),
        owner: None,
        value: postcard::to_stdvec(batch).map_err(|e| Error::Corrupt(e.to_string()))?,
    })
}

pub(crate) fn before_write(import: RecordId, before: &Customer) -> Result<Write, Error> {
    Ok(Write::PutDoc {
        space: BEFORE.into(),
        key: before_key(import, before.id),
        owner: Some(before.id),
        value: serde_json::to_vec(before).map_err(|e| Error::Corrupt(e.to_string()))?,
    })
}

pub(crate) fn read_summary(doc: &Doc) -> Result<ImportSummary, Error> {
    serde_json::from_slice(&doc.value).map_err(|e| Error::Corrupt(format!("import summary: {e}")))
}

pub(crate) fn read_batch(doc: &Doc) -> Result<JournalBatch, Error> {
    postcard::from_bytes(&doc.value).map_err(|e| Error::Corrupt(format!("import journal: {e}")))
}

pub(crate) fn read_before(doc: &Doc) -> Result<Customer, Error> {
    serde_json::from_slice(&doc.value).map_err(|e| Error::Corrupt(format!("import journal: {e}")))
}

pub(crate) fn instant(t: Timestamp) -> (i64, u32) {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

pub(crate) fn from_instant(secs: i64, nanos: u32) -> Result<Timestamp, Error> {
    Timestamp::from_timestamp(secs, nanos)
        .ok_or_else(|| Error::Corrupt("import journal: a time out of range".into()))
}

impl crate::Book {
    /// Every import this book remembers, oldest first.
    pub fn imports(&self) -> Result<Vec<ImportSummary>, Error> {
        self.allow(crate::Operation::Read, None)?;
        let snap = self.store.snapshot()?;
        snap.docs(SUMMARIES, b"")?
            .iter()
            .map(read_summary)
            .collect()
    }

    /// One import's summary.
    pub fn import_summary(&self, id: RecordId) -> Result<ImportSummary, Error> {
        self.allow(crate::Operation::Read, None)?;
        let snap = self.store.snapshot()?;
        let doc = snap
            .doc(SUMMARIES, &id.to_bytes())?
            .ok_or(Error::ImportNotFound(id))?;
        read_summary(&doc)
    }

    /// Undoes everything an import did, in one transaction: the dossiers it
    /// created are removed (with their related records), the ones it changed
    /// are put back as they were, the related records it added are removed.
    /// Refused, with nothing changed, when any of those dossiers changed since.
    pub fn revert_import(&self, id: RecordId) -> Result<RevertReport, Error> {
        self.whole_book(crate::Operation::Import, "revert an import")?;
        let snap = self.store.snapshot()?;
        let mut summary = read_summary(
            &snap
                .doc(SUMMARIES, &id.to_bytes())?
                .ok_or(Error::ImportNotFound(id))?,
        )?;
        if summary.status == ImportStatus::Reverted {
            return Err(Error::AlreadyReverted(id));
        }
        let mut created = Vec::new();
        let mut updated = Vec::new();
        let mut related = Vec::new();
        for doc in snap.docs(BATCHES, &id.to_bytes())? {
            let batch = read_batch(&doc)?;
            created.extend(batch.created.into_iter().map(customer_id));
            updated.extend(batch.updated.into_iter().map(|(c, v)| (customer_id(c), v)));
            related.extend(batch.related);
        }
        let mut changed = Vec::new();
        let mut writes = Vec::new();
        let removed: std::collections::HashSet<CustomerId> = created.iter().copied().collect();
        let mut present: std::collections::HashMap<CustomerId, Vec<RecordId>> = Default::default();
        for (c, secs, nanos, record) in related {
            let customer = customer_id(c);
            if removed.contains(&customer) {
                continue; // removed with its customer
            }
            let id = RecordId::from_bytes(record.to_be_bytes());
            if let std::collections::hash_map::Entry::Vacant(slot) = present.entry(customer) {
                slot.insert(
                    snap.related(customer, None)?
                        .iter()
                        .map(|r| r.id())
                        .collect(),
                );
            }
            if !present[&customer].contains(&id) {
                changed.push(customer); // the record (or its customer) is gone since
                continue;
            }
            writes.push(Write::Unrelate {
                customer_id: customer,
                at: from_instant(secs, nanos)?,
                id,
            });
        }
        let unrelated = writes.len() as u64;
        // A dossier changed by several rows (merged into more than once) is
        // restored once, from the version the import left it at.
        let mut last: std::collections::HashMap<CustomerId, u64> = Default::default();
        for (c, v) in &updated {
            let e = last.entry(*c).or_insert(*v);
            *e = (*e).max(*v);
        }
        updated.retain(|(c, v)| last.get(c) == Some(v));
        // A dossier the import created and then changed (a later row merged
        // into it) is removed at the version the import left it at.
        let mut last_version: std::collections::HashMap<CustomerId, u64> =
            created.iter().map(|c| (*c, 1)).collect();
        for (cid, version) in &updated {
            if let Some(v) = last_version.get_mut(cid) {
                *v = (*v).max(*version);
                continue;
            }
            match snap.customer(*cid)? {
                Some(c) if c.version == *version => {}
                _ => {
                    changed.push(*cid);
                    continue;
                }
            }
            let before = snap.doc(BEFORE, &before_key(id, *cid))?.ok_or_else(|| {
                Error::Corrupt(format!("import {id}: no earlier version of {cid}"))
            })?;
            let customer = read_before(&before)?;
            writes.push(Write::Put {
                customer,
                expected: *version,
            });
            writes.push(Write::DeleteDoc {
                space: BEFORE.into(),
                key: before_key(id, *cid),
            });
        }
        for cid in &created {
            let version = last_version[cid];
            match snap.customer(*cid)? {
                Some(c) if c.version == version => writes.push(Write::Delete {
                    id: *cid,
                    expected: version,
                }),
                _ => changed.push(*cid),
            }
        }
        drop(snap);
        if !changed.is_empty() {
            return Err(Error::RevertConflict {
                import: id,
                changed,
            });
        }
        summary.status = ImportStatus::Reverted;
        summary.updated_at = self.now();
        writes.push(summary_write(&summary)?);
        let mut batch = kehu_store::Batch::new(format!("{} (revert {id})", self.actor), self.now());
        batch.writes = writes;
        self.commit(batch)?;
        self.record_audit(
            "revert_import",
            None,
            Some(format!(
                "import {id}: {} removed, {} restored",
                created.len(),
                updated.iter().filter(|(c, _)| !created.contains(c)).count()
            )),
        )?;
        Ok(RevertReport {
            import_id: id,
            removed: created.len() as u64,
            restored: updated.iter().filter(|(c, _)| !created.contains(c)).count() as u64,
            unrelated,
        })
    }
}

/// The document space of book-wide settings.
const SETTINGS: &str = "book";

impl crate::Book {
    /// The rule set saved in this book (by [`save_rules`](Self::save_rules)), if any.
    pub fn saved_rules(&self) -> Result<Option<kehu_rules::RuleSet>, Error> {
        let snap = self.store.snapshot()?;
        match snap.doc(SETTINGS, b"rules")? {
            Some(doc) => serde_json::from_slice(&doc.value)
                .map(Some)
                .map_err(|e| Error::Corrupt(format!("saved rules: {e}"))),
            None => Ok(None),
        }
    }

    /// Saves a rule set in the book, so that tools opening it later check by
    /// the same rules; a rule set that does not compile is refused.
    pub fn save_rules(&self, rules: &kehu_rules::RuleSet) -> Result<(), Error> {
        self.owner_only("the book's rules")?;
        kehu_rules::Rules::new(rules.clone())?;
        let value = serde_json::to_vec(rules).map_err(|e| Error::Corrupt(e.to_string()))?;
        let batch = kehu_store::Batch::new(self.actor.clone(), self.now()).with(Write::PutDoc {
            space: SETTINGS.into(),
            key: b"rules".to_vec(),
            owner: None,
            value,
        });
        self.store.commit(batch)?;
        Ok(())
    }
}
