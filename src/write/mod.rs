//! The one write pipeline: every dossier a write puts in the book — add,
//! add_many, update, import, merge — goes through normalise → validate →
//! duplicate check (against the book and the earlier records of the same
//! write) → access policy → store; unmerge and revert restore states the
//! pipeline admitted before, and go to the store through the same commit,
//! which keeps every dossier's blocking keys current.

mod check;

use std::collections::{HashMap, HashSet};

use kehu_model::{Customer, CustomerId, Timestamp};
use kehu_rules::Report;
use kehu_store::{Batch, Write};
use serde::{Deserialize, Serialize};

pub(crate) use check::{Check, RowOf};

use crate::duplicates::keys::{self, Runs};
use crate::policy::Operation;
use crate::{Book, DuplicateAction, DuplicateCandidate, Error};

/// A write of more dossiers than this keeps their keys as a run (see `dedupe::keys`).
pub(crate) const RUN_AT: usize = 256;
/// How many records a bulk write reads ahead for at once (as an import's block).
const AHEAD: usize = 1024;

/// What becomes of a record that duplicates a dossier already in the book
/// or an earlier record of the same write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum OnDuplicate {
    /// A sure match is not written and is listed; a possible one is written and listed.
    #[default]
    Report,
    /// Neither a sure nor a possible match is written; both are listed.
    Skip,
    /// A sure match is merged into the dossier it matches (by the
    /// survivorship policy) and listed; a possible one is written and listed.
    Merge,
    /// Everything is written, nothing is checked: a load the caller knows is clean.
    Allow,
}

impl std::str::FromStr for OnDuplicate {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "report" => Self::Report,
            "skip" => Self::Skip,
            "merge" => Self::Merge,
            "allow" => Self::Allow,
            other => {
                return Err(Error::Usage(format!(
                    "unknown duplicate policy {other:?}: use report, skip, merge or allow"
                )))
            }
        })
    }
}

impl TryFrom<String> for OnDuplicate {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

/// What a write did with a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteStatus {
    /// Written as a new dossier.
    #[default]
    Added,
    /// An existing dossier was changed.
    Updated,
    /// Merged into the dossier it duplicates ([`Saved::merged_into`]).
    Merged,
    /// Not written: it duplicates a dossier ([`Saved::duplicates`] says which).
    Skipped,
}

/// A dossier as a write left it, with the warnings its check produced and
/// the dossiers it may duplicate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saved {
    /// The dossier as stored: normalised, with its new version (as it
    /// would have been stored, when skipped; the merged dossier, when merged).
    pub customer: Customer,
    /// Warnings that did not block the write (never errors: those reject it).
    pub report: Report,
    /// Dossiers in the book, or earlier records of the same write, that this
    /// one may duplicate, most likely first.
    pub duplicates: Vec<DuplicateCandidate>,
    /// What the write did with it.
    pub status: WriteStatus,
    /// The dossier it was merged into, when it was.
    pub merged_into: Option<CustomerId>,
}

/// How a batch of new dossiers is written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchOptions {
    /// What becomes of a record that duplicates a dossier or an earlier record.
    pub on_duplicate: OnDuplicate,
    /// How a sure duplicate is merged, with `on_duplicate = "merge"`.
    pub survivorship: kehu_dedupe::Survivorship,
}

impl Book {
    /// Commits a batch: every dossier it puts gets its blocking keys in the
    /// same transaction (unless the batch sets them), and the segments
    /// kept current hear of every customer it touched. Every write of the
    /// facade goes to the store through here (imports stream through
    /// [`Book::commit_stream`]).
    pub(crate) fn commit(&self, batch: Batch) -> Result<(), Error> {
        self.commit_keyed(batch, false)
    }

    /// [`Book::commit`] of a batch completed by `late` once the store holds
    /// its write lock: what `late` reads through a fresh snapshot is what
    /// the commit changes, since no writer — in this process or another on
    /// a shared book — commits in between. Read-modify-writes of the book's
    /// own documents (the dedupe runs, the merge receipts) go this way.
    pub(crate) fn commit_late(
        &self,
        batch: Batch,
        runs: bool,
        late: &mut dyn FnMut() -> Result<Vec<Write>, Error>,
    ) -> Result<(), Error> {
        self.commit_keyed_late(batch, runs, Some(late))
    }

    /// [`Book::commit`] of a batch whose new dossiers' keys are in it already
    /// (as a run, when `runs`: no index entry is added for them).
    pub(crate) fn commit_keyed(&self, batch: Batch, runs: bool) -> Result<(), Error> {
        self.commit_keyed_late(batch, runs, None)
    }

    fn commit_keyed_late(
        &self,
        mut batch: Batch,
        runs: bool,
        late: Option<&mut dyn FnMut() -> Result<Vec<Write>, Error>>,
    ) -> Result<(), Error> {
        let keyed: HashSet<CustomerId> = batch
            .writes
            .iter()
            .filter_map(|w| match w {
                Write::SetKeys { id, index, .. } if index == keys::DEDUPE_INDEX => Some(*id),
                _ => None,
            })
            .collect();
        let keyer = kehu_dedupe::Keyer::shared();
        let mut extra = Vec::new();
        for w in &batch.writes {
            if let Write::Put { customer, expected } = w {
                let in_run = runs && *expected == 0;
                if !(keyed.contains(&customer.id) || in_run) {
                    extra.push(keys::keys_write(customer.id, &keyer.stored_keys(customer)));
                }
            }
        }
        if !extra.is_empty() && !self.keys_recorded()? {
            extra.push(keys::format_write());
        }
        batch.writes.extend(extra);
        let touched = touched_by(&batch.writes);
        let Some(late) = late else {
            self.store.commit(batch)?;
            return self.touched(touched);
        };
        // The store pulls the batch after taking its write lock (a `Store` promise).
        let mut failure = None;
        let mut batch = Some(batch);
        let mut pull = std::iter::from_fn(|| {
            let mut batch = batch.take()?;
            match late() {
                Ok(writes) => {
                    batch.writes.extend(writes);
                    Some(batch)
                }
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        });
        let outcome = self.store.commit_all(&mut pull);
        if let Some(e) = failure {
            return Err(e);
        }
        outcome?;
        self.touched(touched)
    }

    /// Whether the book records this build's key format (a book of an
    /// earlier version keyed its dossiers otherwise and is keyed anew first).
    fn keys_recorded(&self) -> Result<bool, Error> {
        let snap = self.store.snapshot()?;
        Ok(snap.doc(keys::SPACE, b"key-format")?.is_some())
    }

    /// Normalises and checks; the dossier on success, every violation on failure.
    pub(crate) fn prepare(
        &self,
        mut customer: Customer,
        index: Option<usize>,
    ) -> Result<(Customer, Report), Error> {
        let report = self.rules.check(&mut customer, self.now());
        if report.is_ok() {
            Ok((customer, report))
        } else {
            Err(Error::Invalid { index, report })
        }
    }

    /// A duplicate check against the book as it is now.
    pub(crate) fn duplicate_check(&self) -> Result<Check<'_>, Error> {
        self.key_book_if_needed()?;
        Check::new(self, None)
    }

    /// Keys a book written by an earlier version before its first check.
    pub(crate) fn key_book_if_needed(&self) -> Result<(), Error> {
        if !keys::keys_current(&*self.store.snapshot()?)? {
            self.index_duplicates()?;
        }
        Ok(())
    }

    /// The dossiers in the book this draft may duplicate, most likely first,
    /// each with a probability, an action and an explanation. Writes nothing
    /// (the first check in a book learns its model, and keeps it).
    pub fn check_duplicates(&self, draft: &Customer) -> Result<Vec<DuplicateCandidate>, Error> {
        self.allow(Operation::Read, None)?;
        let mut draft = self.drafted(draft.clone())?;
        self.rules.check(&mut draft, self.now());
        let mut check = self.duplicate_check()?;
        let found = check.check(&draft, &[])?;
        Ok(self.shown_candidates(check.explained(&found)))
    }

    /// Adds a dossier unless it duplicates one in the book: a match at the
    /// block threshold is refused with [`Error::Duplicate`]; possible
    /// duplicates are added and listed in [`Saved::duplicates`].
    pub fn add(&self, customer: Customer) -> Result<Saved, Error> {
        self.allow(Operation::Add, None)?;
        let customer = self.drafted(customer)?;
        self.shown_saved(self.add_checked(customer))
    }

    fn add_checked(&self, customer: Customer) -> Result<Saved, Error> {
        let (customer, report) = self.prepare(customer, None)?;
        let mut check = self.duplicate_check()?;
        let found = check.check(&customer, &[])?;
        let mut duplicates = check.explained_matches(&found);
        if found.sure().is_some() {
            return Err(Error::Duplicate {
                candidates: duplicates,
            });
        }
        duplicates.retain(|c| c.action == DuplicateAction::Warn);
        let batch = self.batch();
        let (write, customer) = creation(customer, batch.at);
        self.commit(batch.with(write))?;
        Ok(Saved {
            customer,
            report,
            duplicates,
            status: WriteStatus::Added,
            merged_into: None,
        })
    }

    /// Adds a new dossier without the duplicate check of [`Book::add`]. It
    /// is normalised and checked first; on any error nothing is written and
    /// the report says why.
    pub fn add_allowing_duplicates(&self, customer: Customer) -> Result<Saved, Error> {
        self.allow(Operation::Add, None)?;
        let customer = self.drafted(customer)?;
        let (customer, report) = self.prepare(customer, None)?;
        let batch = self.batch();
        let (write, customer) = creation(customer, batch.at);
        self.commit(batch.with(write))?;
        self.shown_saved(Ok(Saved {
            customer,
            report,
            duplicates: Vec::new(),
            status: WriteStatus::Added,
            merged_into: None,
        }))
    }

    /// Adds many new dossiers in one transaction, each checked for
    /// duplicates against the book and the ones before it: a sure duplicate
    /// is not written ([`WriteStatus::Skipped`], its candidates listed), a
    /// possible one is written and listed. Nothing is written if any dossier
    /// breaks the rules (the error names its position) or the store fails.
    /// One answer per dossier, in order.
    pub fn add_many(
        &self,
        customers: impl IntoIterator<Item = Customer>,
    ) -> Result<Vec<Saved>, Error> {
        self.add_many_with(customers, &BatchOptions::default())
    }

    /// [`Book::add_many`] with another duplicate policy: skip possible
    /// duplicates too, merge sure ones into the dossier they match, or
    /// write everything unchecked.
    pub fn add_many_with(
        &self,
        customers: impl IntoIterator<Item = Customer>,
        options: &BatchOptions,
    ) -> Result<Vec<Saved>, Error> {
        options.survivorship.clone().checked()?;
        self.allow(Operation::Add, None)?;
        if options.on_duplicate == OnDuplicate::Merge {
            self.allow(Operation::Merge, None)?;
        }
        let mut batch = self.batch();
        let now = batch.at;
        let mut check = match options.on_duplicate {
            OnDuplicate::Allow => None,
            _ => Some(self.duplicate_check()?),
        };
        let mut saved: Vec<Saved> = Vec::new();
        // A merge target's pending write: its position in the batch and its dossier.
        let mut pending: HashMap<CustomerId, usize> = HashMap::new();
        let mut keyed: Vec<(kehu_dedupe::Key, CustomerId)> = Vec::new();
        let mut input = customers.into_iter().enumerate();
        loop {
            // A block of records is normalised and checked against the
            // rules, then what their duplicate check asks of the book is read
            // at once (a book across a network: a few requests per block).
            let block = input
                .by_ref()
                .take(AHEAD)
                .map(|(i, customer)| {
                    let (customer, report) = self.prepare(self.drafted(customer)?, Some(i))?;
                    Ok((i, customer, report))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            if block.is_empty() {
                break;
            }
            let mut prepared: Vec<Option<kehu_dedupe::Prepared>> = Vec::new();
            if let Some(c) = &mut check {
                let keyer = kehu_dedupe::Keyer::shared();
                prepared = block
                    .iter()
                    .map(|(_, c, _)| Some(keyer.prepare(c)))
                    .collect();
                c.read_ahead(
                    block
                        .iter()
                        .zip(&prepared)
                        .filter_map(|((_, c, _), p)| Some((c, p.as_ref()?))),
                )?;
            }
            prepared.resize_with(block.len(), || None);
            for ((i, customer, report), prepared) in block.into_iter().zip(prepared) {
                let found = match (&mut check, prepared) {
                    (Some(c), Some(p)) => Some(c.check_prepared(&customer, p, &[], false)?),
                    _ => None,
                };
                let duplicates = match (&check, &found) {
                    (Some(c), Some(f)) => c.explained_matches(f),
                    _ => Vec::new(),
                };
                let sure = found.as_ref().and_then(|f| f.sure().copied());
                let skip = match options.on_duplicate {
                    OnDuplicate::Report => sure.is_some(),
                    OnDuplicate::Skip => !duplicates.is_empty(),
                    // A principal's check finds only dossiers it reaches: each
                    // sure match is one it may merge into.
                    OnDuplicate::Merge | OnDuplicate::Allow => false,
                };
                if skip {
                    saved.push(Saved {
                        customer,
                        report,
                        duplicates,
                        status: WriteStatus::Skipped,
                        merged_into: None,
                    });
                    continue;
                }
                if let (OnDuplicate::Merge, Some(target)) = (options.on_duplicate, sure) {
                    let into = target.id();
                    let merged = self.merge_into(
                        &mut batch,
                        &mut pending,
                        into,
                        customer,
                        &options.survivorship,
                        now,
                    )?;
                    saved.push(Saved {
                        customer: merged,
                        report,
                        duplicates,
                        status: WriteStatus::Merged,
                        merged_into: Some(into),
                    });
                    continue;
                }
                let (write, customer) = creation(customer, now);
                if let (Some(c), Some(f)) = (&mut check, &found) {
                    c.admit(f, i, customer.id);
                    keyed.extend(f.keys.stored.iter().map(|&k| (k, customer.id)));
                }
                pending.insert(customer.id, batch.writes.len());
                batch.push(write);
                saved.push(Saved {
                    customer,
                    report,
                    duplicates,
                    status: WriteStatus::Added,
                    merged_into: None,
                });
            }
        }
        let added = saved
            .iter()
            .filter(|s| s.status == WriteStatus::Added)
            .count();
        if check.is_some() && added >= RUN_AT {
            // Many new dossiers: their keys as one run, not one index entry each.
            if !self.keys_recorded()? {
                batch.push(keys::format_write());
            }
            let mut keyed = Some(keyed);
            let mut crowded = false;
            self.commit_late(batch, true, &mut || {
                let runs = Runs::load(&*self.store.snapshot()?)?;
                let (writes, runs) = runs.add(keyed.take().unwrap_or_default())?;
                crowded = runs.crowded();
                Ok(writes)
            })?;
            if crowded {
                self.compact_runs()?;
            }
        } else {
            self.commit(batch)?;
        }
        saved.into_iter().map(|s| self.shown_saved(Ok(s))).collect()
    }

    /// Merges a record into the dossier `into` (in the book, or written
    /// earlier in this batch) within the batch; returns the merged dossier.
    fn merge_into(
        &self,
        batch: &mut Batch,
        pending: &mut HashMap<CustomerId, usize>,
        into: CustomerId,
        record: Customer,
        policy: &kehu_dedupe::Survivorship,
        now: Timestamp,
    ) -> Result<Customer, Error> {
        let (base, expected, at) = match pending.get(&into) {
            Some(&at) => match &batch.writes[at] {
                Write::Put { customer, expected } => (customer.clone(), *expected, Some(at)),
                _ => {
                    return Err(Error::Corrupt(
                        "a merge target is not a dossier write".into(),
                    ))
                }
            },
            None => {
                let c = self.stored(into)?;
                let v = c.version;
                (c, v, None)
            }
        };
        let mut merged = kehu_dedupe::merge(&[base, record], policy)?;
        self.rules.check(&mut merged, now);
        merged.updated_at = now;
        merged.version = expected;
        let write = Write::Put {
            customer: merged.clone(),
            expected,
        };
        match at {
            Some(at) => batch.writes[at] = write,
            None => {
                pending.insert(into, batch.writes.len());
                batch.push(write);
            }
        }
        merged.version = expected + 1;
        Ok(merged)
    }

    /// Saves a changed dossier. Its `version` must be the stored one (else
    /// [`Error::Conflict`]); the stored dossier gets the next version. A
    /// change to what dossiers are matched on is checked for duplicates: the
    /// dossiers it may now duplicate are listed in [`Saved::duplicates`]
    /// (the update is made; merge them if they are one customer).
    pub fn update(&self, customer: Customer) -> Result<Saved, Error> {
        let current = self.reach(Operation::Update, customer.id)?;
        let customer = self.kept(&current, customer)?;
        self.shown_saved(self.update_checked(current, customer))
    }

    fn update_checked(&self, current: Customer, mut customer: Customer) -> Result<Saved, Error> {
        for e in &mut customer.emails {
            let stored = current
                .emails
                .iter()
                .map(|s| (s.address.as_str(), s.raw.as_str()));
            refresh_raw(&e.address, &mut e.raw, stored);
        }
        for p in &mut customer.phones {
            let stored = current
                .phones
                .iter()
                .map(|s| (s.number.as_str(), s.raw.as_str()));
            refresh_raw(&p.number, &mut p.raw, stored);
        }
        let (mut customer, report) = self.prepare(customer, None)?;
        customer.created_at = current.created_at;
        customer.updated_at = self.now();
        let matched_on = kehu_dedupe::dossier::values;
        let duplicates = if matched_on(&customer) == matched_on(&current) {
            Vec::new()
        } else {
            let mut check = self.duplicate_check()?;
            let found = check.check(&customer, &[customer.id])?;
            check.explained_matches(&found)
        };
        let expected = customer.version;
        self.commit(self.batch().with(Write::Put {
            customer: customer.clone(),
            expected,
        }))?;
        customer.version = expected + 1;
        Ok(Saved {
            customer,
            report,
            duplicates,
            status: WriteStatus::Updated,
            merged_into: None,
        })
    }
}

/// The write that creates a checked dossier, and the dossier as it will be stored.
pub(crate) fn creation(mut customer: Customer, now: Timestamp) -> (Write, Customer) {
    customer.created_at = now;
    customer.updated_at = now;
    customer.version = 0;
    let write = Write::Put {
        customer: customer.clone(),
        expected: 0,
    };
    customer.version = 1;
    (write, customer)
}

/// The customers a batch of writes touches.
pub(crate) fn touched_by(writes: &[Write]) -> Vec<CustomerId> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Put { customer, .. } => Some(customer.id),
            Write::Delete { id, .. } | Write::Forget { id } => Some(*id),
            Write::Relate(r) => Some(r.customer_id()),
            Write::Unrelate { customer_id, .. } => Some(*customer_id),
            _ => None,
        })
        .collect()
}

/// Keeps `raw` "as entered": a value the caller changed without setting its
/// raw form was entered as it now stands.
fn refresh_raw<'a>(
    value: &str,
    raw: &mut String,
    stored: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) {
    if stored.clone().any(|(v, _)| v == value) {
        return;
    }
    if raw.is_empty() || stored.into_iter().any(|(_, r)| r == raw) {
        *raw = value.to_string();
    }
}
