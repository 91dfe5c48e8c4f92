//! Merges of dossiers by survivorship, with a receipt that unmerge undoes.

use kehu_model::{Customer, CustomerId, RecordId, Related};
use kehu_store::Write;

use super::{MergeReceipt, Merged};
use crate::{Book, Error, Survivorship};

const MERGES: &str = "merges";

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(v).map_err(|e| Error::Corrupt(e.to_string()))
}

impl Book {
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
        for &id in ids {
            self.reach_id(crate::Operation::Merge, id)?;
        }
        let merged = self.merge_stored(ids, policy, dry_run)?;
        Ok(match self.viewer() {
            None => merged,
            Some(v) => Merged {
                customer: v.customer(merged.customer),
                receipt: merged.receipt.and_then(|r| self.shown_receipt(r)),
                duplicates: self.shown_candidates(merged.duplicates),
            },
        })
    }

    fn merge_stored(
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
        let merged = kehu_dedupe::merge(&before, policy)?;
        let now = self.now();
        let (mut merged, _report) = self.prepare(merged, None)?;
        merged.updated_at = now;
        let survivor = before[0].clone();
        // The merged dossier may duplicate others still in the book: listed.
        let mut check = self.duplicate_check()?;
        let found = check.check(&merged, &unique)?;
        let duplicates = check.explained_matches(&found);
        drop(check);
        if dry_run {
            merged.version = survivor.version;
            return Ok(Merged {
                customer: merged,
                receipt: None,
                duplicates,
            });
        }
        let mut batch = self.batch();
        batch.push(Write::Put {
            customer: merged.clone(),
            expected: survivor.version,
        });
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
        self.commit(batch)?;
        Ok(Merged {
            customer: merged,
            receipt: Some(receipt),
            duplicates,
        })
    }

    /// The merge receipts of this book, oldest first.
    pub fn merges(&self) -> Result<Vec<MergeReceipt>, Error> {
        self.allow(crate::Operation::Read, None)?;
        Ok(self
            .stored_merges()?
            .into_iter()
            .filter_map(|r| self.shown_receipt(r))
            .collect())
    }

    /// The writes that take erased customers out of the merge receipts that
    /// keep their dossiers from before a merge into another (a receipt of an
    /// erased survivor goes with its documents): the dossiers and their
    /// moved-record entries leave the receipt, so nothing personal of them
    /// stays and an unmerge cannot bring them back.
    pub(crate) fn scrub_receipts(&self, ids: &[CustomerId]) -> Result<Vec<Write>, Error> {
        let mut writes = Vec::new();
        for mut r in self.stored_merges()? {
            if ids.contains(&r.survivor) || !r.before.iter().any(|c| ids.contains(&c.id)) {
                continue;
            }
            r.before.retain(|c| !ids.contains(&c.id));
            r.moved.retain(|(_, from)| !ids.contains(from));
            writes.push(Write::PutDoc {
                space: MERGES.into(),
                key: r.id.to_bytes().to_vec(),
                owner: Some(r.survivor),
                value: json(&r)?,
            });
        }
        Ok(writes)
    }

    /// The merge (not undone) that took `id` into a survivor, when `id` has
    /// no dossier of its own now.
    pub(crate) fn merged_into(&self, id: CustomerId) -> Result<Option<MergeReceipt>, Error> {
        if self.store.snapshot()?.customer(id)?.is_some() {
            return Ok(None);
        }
        Ok(self
            .stored_merges()?
            .into_iter()
            .find(|r| !r.unmerged && r.before.iter().skip(1).any(|c| c.id == id)))
    }

    /// Every customer merged (by merges not undone) into `id`, or into one
    /// of those, that has no dossier of its own now.
    pub(crate) fn merged_away(&self, id: CustomerId) -> Result<Vec<CustomerId>, Error> {
        let receipts = self.stored_merges()?;
        let snap = self.store.snapshot()?;
        let (mut out, mut next) = (Vec::new(), vec![id]);
        while let Some(survivor) = next.pop() {
            for r in receipts
                .iter()
                .filter(|r| !r.unmerged && r.survivor == survivor)
            {
                for c in r.before.iter().skip(1) {
                    if c.id != id && !out.contains(&c.id) && snap.customer(c.id)?.is_none() {
                        out.push(c.id);
                        next.push(c.id);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Every receipt as stored.
    pub(crate) fn stored_merges(&self) -> Result<Vec<MergeReceipt>, Error> {
        let snap = self.store.snapshot()?;
        let mut out = Vec::new();
        for d in snap.docs(MERGES, &[])? {
            out.push(serde_json::from_slice(&d.value).map_err(|e| Error::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }

    /// One merge receipt (for a principal: of a survivor in its scope, masked).
    pub fn merge_receipt(&self, id: RecordId) -> Result<MergeReceipt, Error> {
        self.allow(crate::Operation::Read, None)?;
        self.shown_receipt(self.stored_receipt(id)?)
            .ok_or(Error::MergeNotFound(id))
    }

    fn stored_receipt(&self, id: RecordId) -> Result<MergeReceipt, Error> {
        let doc = self
            .store
            .snapshot()?
            .doc(MERGES, &id.to_bytes())?
            .ok_or(Error::MergeNotFound(id))?;
        serde_json::from_slice(&doc.value).map_err(|e| Error::Corrupt(e.to_string()))
    }

    /// A receipt as the handle may see it: none when its survivor is outside
    /// the scope; the dossiers before the merge masked.
    pub(crate) fn shown_receipt(&self, mut r: MergeReceipt) -> Option<MergeReceipt> {
        let Some(v) = self.viewer() else {
            return Some(r);
        };
        if !self.reaches_receipt(&r) {
            return None;
        }
        r.before = r.before.into_iter().map(|c| v.customer(c)).collect();
        Some(r)
    }

    /// Whether the receipt's survivor (as it was merged) is one the handle reaches.
    fn reaches_receipt(&self, r: &MergeReceipt) -> bool {
        self.viewer().is_none() || r.before.first().is_some_and(|s| self.reaches(s))
    }

    /// Undoes a merge: the dossiers come back as they were (their fields,
    /// ids and creation times; versions move on), the moved records go
    /// back, in one transaction. Refused whole when the survivor changed
    /// since the merge or a merged-away id is in use again.
    pub fn unmerge(&self, receipt: RecordId) -> Result<Vec<Customer>, Error> {
        self.allow(crate::Operation::Merge, None)?;
        let mut r = self.stored_receipt(receipt)?;
        if !self.reaches_receipt(&r) {
            return Err(Error::MergeNotFound(receipt));
        }
        if r.unmerged {
            return Err(Error::AlreadyUnmerged(receipt));
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
        for c in &r.before[1..] {
            let mut c = c.clone();
            c.version = 0;
            batch.push(Write::Put {
                customer: c.clone(),
                expected: 0,
            });
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
        self.commit(batch)?;
        r.before.iter().map(|c| self.get(c.id)).collect()
    }
}
