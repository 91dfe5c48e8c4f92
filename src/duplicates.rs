//! The dedupe engine wired to a book: a duplicate check at entry, a dedupe
//! of the whole book, merges with a receipt, and unmerge.
//!
//! Every dossier carries blocking keys in the store's `dedupe` index (kept
//! by every write), so the check at entry reads a handful of index entries
//! and scores only those dossiers. The model the scores come from is learned
//! from the book itself (by [`Book::dedupe`], or on the first check) and kept
//! in the book.

use std::sync::{Arc, OnceLock};

use kehu_dedupe::{
    BlockingRule, Dataset, Decision, Deduper, Explanation, Model, Progress, Settings, Survivorship,
};
use kehu_model::{Customer, CustomerId, RecordId, Related, Timestamp};
use kehu_store::{IndexKey, Write};
use serde::{Deserialize, Serialize};

use crate::{Book, Error, Saved};

/// The store index holding each dossier's blocking keys.
pub const DEDUPE_INDEX: &str = "dedupe";
const SPACE: &str = "dedupe";
const MODEL_KEY: &[u8] = b"model";
/// Set when dossiers were written without their keys (by an import).
const STALE_KEY: &[u8] = b"keys-stale";
const MERGES: &str = "merges";
/// The most dossiers one entry check scores.
const MAX_CANDIDATES: usize = 256;

use kehu_dedupe::dossier::{self, dataset};

/// The blocking rules kept in the index: the default rules for dossiers
/// but e-mail and phone, which the store indexes anyway.
fn index_rules() -> &'static [BlockingRule] {
    static RULES: OnceLock<Vec<BlockingRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let ds = Dataset::new(dossier::fields());
        kehu_dedupe::block::default_rules(&ds)
            .iter()
            .filter(|r| *r != "email" && *r != "phone")
            .filter_map(|r| BlockingRule::parse(r, &ds).ok())
            .collect()
    })
}

/// A dossier's blocking keys: a rule number, then the rule's key.
fn entry_keys(c: &Customer) -> Vec<Vec<u8>> {
    let ds = dataset([c]);
    index_rules()
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            rule.key(&ds, 0).map(|k| {
                let mut key = vec![i as u8];
                key.extend_from_slice(&k.to_be_bytes());
                key
            })
        })
        .collect()
}

/// The write that keeps a dossier's blocking keys current.
pub(crate) fn keys_write(c: &Customer) -> Write {
    Write::SetKeys {
        id: c.id,
        index: DEDUPE_INDEX.into(),
        keys: entry_keys(c),
    }
}

/// The write that notes that some dossiers lack their blocking keys.
pub(crate) fn keys_stale() -> Write {
    Write::PutDoc {
        space: SPACE.into(),
        key: STALE_KEY.to_vec(),
        owner: None,
        value: Vec::new(),
    }
}

/// What to do with a new dossier that looks like one already in the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateAction {
    /// Almost surely the same customer: [`Book::add`] refuses it.
    Block,
    /// Possibly the same: added, with a warning.
    Warn,
    /// Not the same customer.
    Allow,
}

/// A dossier in the book that a draft may duplicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicateCandidate {
    /// The dossier in the book.
    pub id: CustomerId,
    /// The match probability.
    pub probability: f64,
    /// Block, warn or allow, by the book's thresholds.
    pub action: DuplicateAction,
    /// Field by field, why.
    pub explanation: Explanation,
}

/// The model a book scores duplicates with, and the settings it was learned under.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct BookModel {
    settings: Settings,
    model: Model,
    /// How many dossiers the book held when the model was learned.
    trained_on: u64,
}

/// A pair of dossiers a dedupe of the book scored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BookPair {
    /// The first dossier.
    pub id_l: CustomerId,
    /// The second dossier.
    pub id_r: CustomerId,
    /// The match probability.
    pub probability: f64,
    /// Match or review, by the thresholds.
    pub decision: Decision,
    /// Whether the pair was joined in a cluster.
    pub clustered: bool,
}

/// A dedupe of a whole book.
#[derive(Clone, Debug, Serialize)]
pub struct BookDedupe {
    /// Pairs at or above the review threshold, strongest first.
    pub pairs: Vec<BookPair>,
    /// Groups of dossiers that are one customer, largest first.
    pub clusters: Vec<Vec<CustomerId>>,
    /// What the run noticed.
    pub warnings: Vec<String>,
    /// Counts and timings.
    pub stats: kehu_dedupe::Stats,
}

/// A merge as stored: the dossiers before, and the related records moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeReceipt {
    /// The receipt's id, for [`Book::unmerge`].
    pub id: RecordId,
    /// When the merge was made.
    pub at: Timestamp,
    /// Who made it.
    pub actor: String,
    /// The dossier that stayed.
    pub survivor: CustomerId,
    /// The survivor's version after the merge: unmerge needs it unchanged.
    pub merged_version: u64,
    /// Every dossier as it was before, the survivor first.
    pub before: Vec<Customer>,
    /// Related records moved to the survivor: (record, its customer before).
    pub moved: Vec<(RecordId, CustomerId)>,
    /// Whether it was undone.
    pub unmerged: bool,
}

/// The answer of a merge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Merged {
    /// The merged dossier (as it would be stored, on a dry run).
    pub customer: Customer,
    /// The receipt; `None` on a dry run.
    pub receipt: Option<MergeReceipt>,
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(v).map_err(|e| Error::Corrupt(e.to_string()))
}

fn dedupe_error(e: kehu_dedupe::Error) -> Error {
    Error::Usage(e.to_string())
}

impl Book {
    /// The dossiers in the book this draft may duplicate, most likely first,
    /// each with a probability, an action and an explanation. Writes nothing
    /// (the first check in a book learns its model, and keeps it).
    pub fn check_duplicates(&self, draft: &Customer) -> Result<Vec<DuplicateCandidate>, Error> {
        let mut draft = draft.clone();
        self.rules.check(&mut draft, self.now());
        if self.store.snapshot()?.doc(SPACE, STALE_KEY)?.is_some() {
            self.index_duplicates()?;
        }
        let snap = self.store.snapshot()?;
        // Which dossiers share a key with the draft, most shared keys first.
        let mut hits: std::collections::HashMap<CustomerId, u32> = Default::default();
        let mut keys: Vec<IndexKey> = Vec::new();
        keys.extend(draft.emails.iter().map(|e| IndexKey::email(&e.address)));
        keys.extend(
            draft
                .phones
                .iter()
                .map(|p| IndexKey::Phone(p.number.clone())),
        );
        keys.extend(entry_keys(&draft).into_iter().map(|key| IndexKey::Keyed {
            index: DEDUPE_INDEX.into(),
            key,
        }));
        for key in &keys {
            for id in snap.lookup(key)? {
                if id != draft.id {
                    *hits.entry(id).or_default() += 1;
                }
            }
        }
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids: Vec<(CustomerId, u32)> = hits.into_iter().collect();
        ids.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ids.truncate(MAX_CANDIDATES);
        let mut found = vec![draft];
        for (id, _) in ids {
            if let Some(c) = snap.customer(id)? {
                found.push(c);
            }
        }
        drop(snap);
        let book_model = self.duplicate_model()?;
        let mut dd =
            Deduper::new(dataset(&found), book_model.settings.clone()).map_err(dedupe_error)?;
        dd.set_model(book_model.model.clone())
            .map_err(dedupe_error)?;
        let mut out: Vec<DuplicateCandidate> = (1..found.len() as u32)
            .map(|row| {
                let explanation = dd.explain_rows(0, row);
                DuplicateCandidate {
                    id: found[row as usize].id,
                    probability: explanation.probability,
                    action: match explanation.decision {
                        Decision::Match => DuplicateAction::Block,
                        Decision::Review => DuplicateAction::Warn,
                        Decision::NonMatch => DuplicateAction::Allow,
                    },
                    explanation,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// Adds a dossier unless it duplicates one in the book: a match at the
    /// block threshold is refused with [`Error::Duplicate`]; possible
    /// duplicates are added and listed in [`Saved::duplicates`].
    pub fn add(&self, customer: Customer) -> Result<Saved, Error> {
        let candidates = self.check_duplicates(&customer)?;
        if candidates
            .iter()
            .any(|c| c.action == DuplicateAction::Block)
        {
            return Err(Error::Duplicate {
                candidates: candidates
                    .into_iter()
                    .filter(|c| c.action != DuplicateAction::Allow)
                    .collect(),
            });
        }
        let mut saved = self.add_allowing_duplicates(customer)?;
        saved.duplicates = candidates
            .into_iter()
            .filter(|c| c.action == DuplicateAction::Warn)
            .collect();
        Ok(saved)
    }

    /// The model duplicates are scored with: kept in memory, read from the
    /// book, or learned from it (and stored) when there is none yet or the
    /// book has doubled since.
    fn duplicate_model(&self) -> Result<Arc<BookModel>, Error> {
        let count = self.count()?;
        let mut cached = self.dedupe_model.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = |m: &BookModel| count < 64 || m.trained_on * 2 >= count;
        if let Some(m) = cached.as_ref() {
            if fresh(m) {
                return Ok(m.clone());
            }
        }
        // A stored model learned by another version of the engine may
        // compare other fields: learn again rather than fail.
        let compatible = |m: &BookModel| {
            Deduper::new(dataset([]), m.settings.clone())
                .is_ok_and(|d| d.comparisons() == m.model.comparisons.as_slice())
        };
        let stored = self.store.snapshot()?.doc(SPACE, MODEL_KEY)?;
        let stored: Option<BookModel> = stored.and_then(|d| serde_json::from_slice(&d.value).ok());
        let model = match stored {
            Some(m) if compatible(&m) && fresh(&m) => m,
            other => {
                let settings = other.map(|m| m.settings).unwrap_or_else(book_settings);
                let learned = self.learn_model(settings)?;
                if count >= 64 {
                    self.store.commit(self.batch().with(Write::PutDoc {
                        space: SPACE.into(),
                        key: MODEL_KEY.to_vec(),
                        owner: None,
                        value: json(&learned)?,
                    }))?;
                }
                learned
            }
        };
        let model = Arc::new(model);
        *cached = Some(model.clone());
        Ok(model)
    }

    fn learn_model(&self, settings: Settings) -> Result<BookModel, Error> {
        let (ds, ids) = self.book_dataset()?;
        let mut dd = Deduper::new(ds, settings.clone()).map_err(dedupe_error)?;
        dd.run(&mut |_| {}).map_err(dedupe_error)?;
        let model = dd
            .model()
            .cloned()
            .ok_or_else(|| Error::Corrupt("dedupe learned no model".into()))?;
        Ok(BookModel {
            settings,
            model,
            trained_on: ids.len() as u64,
        })
    }

    /// Every dossier of the book as a record, read in one pass (the
    /// dossiers themselves are not kept), and their ids by row.
    fn book_dataset(&self) -> Result<(Dataset, Vec<CustomerId>), Error> {
        let snap = self.store.snapshot()?;
        let mut ds = Dataset::new(dossier::fields());
        let mut ids = Vec::new();
        for c in snap.customers()? {
            let c = c?;
            dossier::push(&mut ds, &c);
            ids.push(c.id);
        }
        Ok((ds, ids))
    }

    /// Finds the duplicates in the whole book: pairs, clusters and what the
    /// run noticed. The model it learns is kept for checks at entry.
    /// `settings` may leave the fields empty (a book's fields are fixed).
    pub fn dedupe(
        &self,
        settings: &Settings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<BookDedupe, Error> {
        let mut settings = settings.clone();
        settings.fields = Vec::new();
        settings.term_frequency = false;
        let (ds, ids) = self.book_dataset()?;
        let mut dd = Deduper::new(ds, settings.clone()).map_err(dedupe_error)?;
        let out = dd.run(progress).map_err(dedupe_error)?;
        if let Some(model) = dd.model() {
            let kept = BookModel {
                settings,
                model: model.clone(),
                trained_on: ids.len() as u64,
            };
            self.store.commit(self.batch().with(Write::PutDoc {
                space: SPACE.into(),
                key: MODEL_KEY.to_vec(),
                owner: None,
                value: json(&kept)?,
            }))?;
            *self.dedupe_model.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(kept));
        }
        let mut groups: std::collections::BTreeMap<u32, Vec<CustomerId>> = Default::default();
        for (row, &c) in out.clusters.of.iter().enumerate() {
            groups.entry(c).or_default().push(ids[row]);
        }
        let mut clusters: Vec<Vec<CustomerId>> =
            groups.into_values().filter(|g| g.len() > 1).collect();
        clusters.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        Ok(BookDedupe {
            pairs: out
                .pairs
                .iter()
                .map(|p| BookPair {
                    id_l: ids[p.a as usize],
                    id_r: ids[p.b as usize],
                    probability: p.probability,
                    decision: p.decision,
                    clustered: p.clustered,
                })
                .collect(),
            clusters,
            warnings: out.warnings,
            stats: out.stats,
        })
    }

    /// Why two dossiers of the book score as they do.
    pub fn explain_duplicate(&self, a: CustomerId, b: CustomerId) -> Result<Explanation, Error> {
        let (ca, cb) = (self.get(a)?, self.get(b)?);
        let book_model = self.duplicate_model()?;
        let mut dd =
            Deduper::new(dataset([&ca, &cb]), book_model.settings.clone()).map_err(dedupe_error)?;
        dd.set_model(book_model.model.clone())
            .map_err(dedupe_error)?;
        Ok(dd.explain_rows(0, 1))
    }

    /// Writes every dossier's blocking keys, in transactions of 100,000
    /// dossiers (memory stays bounded; a run cut short is simply run
    /// again). An import leaves its dossiers to this (the first duplicate
    /// check after it runs it), as does a book written before the keys were
    /// kept. Returns how many dossiers it keyed.
    pub fn index_duplicates(&self) -> Result<u64, Error> {
        use rayon::prelude::*;
        const CHUNK: usize = 100_000;
        let snap = self.store.snapshot()?;
        let mut customers = snap.customers()?;
        let mut n = 0u64;
        loop {
            let chunk: Vec<Customer> = customers.by_ref().take(CHUNK).collect::<Result<_, _>>()?;
            let last = chunk.len() < CHUNK;
            n += chunk.len() as u64;
            let mut batch = self.batch();
            batch.writes = chunk.par_iter().map(keys_write).collect();
            if last {
                batch.push(Write::DeleteDoc {
                    space: SPACE.into(),
                    key: STALE_KEY.to_vec(),
                });
            }
            self.store.commit(batch)?;
            if last {
                return Ok(n);
            }
        }
    }

    /// Merges dossiers into the first (the survivor) by a survivorship
    /// policy: the merged dossier passes the rules like any write, related
    /// records move to the survivor, the others are removed, and a receipt
    /// keeps everything [`Book::unmerge`] needs. A dry run writes nothing.
    pub fn merge(
        &self,
        ids: &[CustomerId],
        policy: &Survivorship,
        dry_run: bool,
    ) -> Result<Merged, Error> {
        let mut unique = ids.to_vec();
        unique.dedup();
        if unique.len() < 2
            || unique
                .iter()
                .enumerate()
                .any(|(i, x)| unique[..i].contains(x))
        {
            return Err(Error::Usage(
                "a merge needs two or more different dossiers".into(),
            ));
        }
        let snap = self.store.snapshot()?;
        let mut before = Vec::new();
        for &id in &unique {
            before.push(snap.customer(id)?.ok_or(Error::NotFound(id))?);
        }
        let mut moved_records: Vec<Related> = Vec::new();
        for c in &before[1..] {
            moved_records.extend(snap.related(c.id, None)?);
        }
        drop(snap);
        let merged = kehu_dedupe::merge(&before, policy).map_err(dedupe_error)?;
        let now = self.now();
        let (mut merged, _report) = self.prepare(merged, None)?;
        merged.updated_at = now;
        let survivor = before[0].clone();
        if dry_run {
            merged.version = survivor.version;
            return Ok(Merged {
                customer: merged,
                receipt: None,
            });
        }
        let mut batch = self.batch();
        batch.push(Write::Put {
            customer: merged.clone(),
            expected: survivor.version,
        });
        batch.push(keys_write(&merged));
        let mut moved = Vec::new();
        for r in &moved_records {
            let from = r.customer_id();
            batch.push(Write::Unrelate {
                customer_id: from,
                at: r.at(),
                id: r.id(),
            });
            let mut r = r.clone();
            r.set_customer_id(survivor.id);
            batch.push(Write::Relate(r.clone()));
            moved.push((r.id(), from));
        }
        for c in &before[1..] {
            batch.push(Write::Delete {
                id: c.id,
                expected: c.version,
            });
        }
        merged.version = survivor.version + 1;
        let receipt = MergeReceipt {
            id: RecordId::new(),
            at: now,
            actor: self.actor.clone(),
            survivor: survivor.id,
            merged_version: merged.version,
            before,
            moved,
            unmerged: false,
        };
        batch.push(Write::PutDoc {
            space: MERGES.into(),
            key: receipt.id.to_bytes().to_vec(),
            owner: Some(survivor.id),
            value: json(&receipt)?,
        });
        batch.push(Write::Audit(kehu_store::AuditEvent {
            op: "merge".into(),
            target: Some(survivor.id),
            fields: Vec::new(),
            note: Some(format!(
                "receipt {}; merged {}",
                receipt.id,
                receipt
                    .before
                    .iter()
                    .skip(1)
                    .map(|c| c.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }));
        self.store.commit(batch)?;
        let touched: Vec<CustomerId> = receipt.before.iter().map(|c| c.id).collect();
        self.touched(touched)?;
        Ok(Merged {
            customer: merged,
            receipt: Some(receipt),
        })
    }

    /// The merge receipts of this book, oldest first.
    pub fn merges(&self) -> Result<Vec<MergeReceipt>, Error> {
        let snap = self.store.snapshot()?;
        let mut out = Vec::new();
        for d in snap.docs(MERGES, &[])? {
            out.push(serde_json::from_slice(&d.value).map_err(|e| Error::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }

    /// One merge receipt.
    pub fn merge_receipt(&self, id: RecordId) -> Result<MergeReceipt, Error> {
        let doc = self
            .store
            .snapshot()?
            .doc(MERGES, &id.to_bytes())?
            .ok_or_else(|| Error::Usage(format!("no merge with receipt {id} in this book")))?;
        serde_json::from_slice(&doc.value).map_err(|e| Error::Corrupt(e.to_string()))
    }

    /// Undoes a merge: the dossiers come back as they were (their fields,
    /// ids and creation times; versions move on), the moved records go
    /// back, in one transaction. Refused whole when the survivor changed
    /// since the merge or a merged-away id is in use again.
    pub fn unmerge(&self, receipt: RecordId) -> Result<Vec<Customer>, Error> {
        let mut r = self.merge_receipt(receipt)?;
        if r.unmerged {
            return Err(Error::Usage(format!("merge {receipt} was already undone")));
        }
        let snap = self.store.snapshot()?;
        let current = snap
            .customer(r.survivor)?
            .ok_or(Error::NotFound(r.survivor))?;
        if current.version != r.merged_version {
            return Err(Error::Conflict {
                id: r.survivor,
                expected: r.merged_version,
                found: current.version,
            });
        }
        for c in &r.before[1..] {
            if let Some(again) = snap.customer(c.id)? {
                return Err(Error::Conflict {
                    id: c.id,
                    expected: 0,
                    found: again.version,
                });
            }
        }
        let on_survivor = snap.related(r.survivor, None)?;
        drop(snap);
        let mut batch = self.batch();
        batch.push(Write::Put {
            customer: r.before[0].clone(),
            expected: current.version,
        });
        batch.push(keys_write(&r.before[0]));
        for c in &r.before[1..] {
            let mut c = c.clone();
            c.version = 0;
            batch.push(Write::Put {
                customer: c.clone(),
                expected: 0,
            });
            batch.push(keys_write(&c));
        }
        for (record, from) in &r.moved {
            if let Some(rec) = on_survivor.iter().find(|x| x.id() == *record) {
                batch.push(Write::Unrelate {
                    customer_id: r.survivor,
                    at: rec.at(),
                    id: rec.id(),
                });
                let mut back = rec.clone();
                back.set_customer_id(*from);
                batch.push(Write::Relate(back));
            }
        }
        r.unmerged = true;
        batch.push(Write::PutDoc {
            space: MERGES.into(),
            key: r.id.to_bytes().to_vec(),
            owner: Some(r.survivor),
            value: json(&r)?,
        });
        batch.push(Write::Audit(kehu_store::AuditEvent {
            op: "unmerge".into(),
            target: Some(r.survivor),
            fields: Vec::new(),
            note: Some(format!("receipt {}", r.id)),
        }));
        self.store.commit(batch)?;
        let ids: Vec<CustomerId> = r.before.iter().map(|c| c.id).collect();
        self.touched(ids.clone())?;
        ids.into_iter().map(|id| self.get(id)).collect()
    }
}

/// The settings a book's duplicate model starts from.
fn book_settings() -> Settings {
    Settings {
        term_frequency: false,
        ..Settings::default()
    }
}
