//! The duplicate check of a write: each record against the book (through the
//! keys the book keeps) and against the records before it in the same write.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use kehu_dedupe::{Decision, Key, Keyer, Matcher, Prepared, RowKeys};
use kehu_model::catalogue::Field;
use kehu_model::{Customer, CustomerId};
use kehu_store::{IndexKey, Snapshot};

use crate::ahead::Ahead;
use crate::duplicates::keys::{index_key, Runs, RUNS};
use crate::policy::viewer::Viewer;
use crate::{Book, DuplicateAction, DuplicateCandidate, Error};

/// The most dossiers of the book one record is scored against.
const BOOK_CANDIDATES: usize = 64;

/// What a row of the check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowOf {
    /// A dossier of the book.
    Book(CustomerId),
    /// A record of this write, by its position, with the id it was written as.
    Batch { index: usize, id: CustomerId },
}

/// A dossier (or earlier record) a record may duplicate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub of: RowOf,
    pub row: u32,
    pub probability: f64,
    pub action: DuplicateAction,
}

impl Candidate {
    /// The dossier it is (an earlier record of the write is as it was written).
    pub fn id(&self) -> CustomerId {
        match self.of {
            RowOf::Book(id) | RowOf::Batch { id, .. } => id,
        }
    }
}

/// What the check found for one record.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The record's row in the check.
    pub row: u32,
    /// Its blocking keys.
    pub keys: RowKeys,
    /// Every candidate scored, most likely first (those below the review
    /// threshold as `Allow`).
    pub candidates: Vec<Candidate>,
    /// For a principal's check, the keys of what it may compare: the row is
    /// indexed under these, not under `keys` (which the store keeps).
    seen_keys: Option<Vec<Key>>,
}

impl Found {
    /// The candidates at or above the review threshold.
    pub fn matches(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.action != DuplicateAction::Allow)
    }

    /// The strongest match, if it is a sure one.
    pub fn sure(&self) -> Option<&Candidate> {
        self.candidates
            .first()
            .filter(|c| c.action == DuplicateAction::Block)
    }
}

/// A write's duplicate check. A principal's sees the book as the principal
/// does: the dossiers in its scope, compared on the fields it may filter on
/// ([`Viewer::compared_columns`]) — what it learns of a check never depends
/// on a value it could not test in a condition.
pub(crate) struct Check<'b> {
    store: &'b dyn kehu_store::Store,
    snap: Box<dyn Snapshot + 'b>,
    /// The principal's view: who it reaches and the columns it compares.
    viewer: Option<(&'b Viewer, Vec<bool>)>,
    matcher: Matcher,
    runs: Runs,
    /// What was read of the book ahead, for the block being checked.
    ahead: Ahead,
    rows: Vec<RowOf>,
    book_rows: HashMap<CustomerId, u32>,
    /// The dossiers this write admitted: rows of the check already, never
    /// taken again as the book's (once committed, the book has them too).
    admitted: std::collections::HashSet<CustomerId>,
    /// Whether the book had dossiers when the check looked (else it is not asked).
    book_has_dossiers: bool,
}

impl<'b> Check<'b> {
    /// A check against the book as it is now, scoring by the book's model
    /// (or `model`, when the caller has a better one for this write).
    pub fn new(book: &'b Book, model: Option<kehu_dedupe::Model>) -> Result<Self, Error> {
        Self::saving(book, model, true)
    }

    /// [`Check::new`] that writes nothing to the book (a model it learns is
    /// not stored): for a stage of a write that already holds the book.
    pub fn without_writes(book: &'b Book) -> Result<Self, Error> {
        Self::saving(book, None, false)
    }

    fn saving(
        book: &'b Book,
        model: Option<kehu_dedupe::Model>,
        save: bool,
    ) -> Result<Self, Error> {
        let snap = book.store.snapshot()?;
        let book_has_dossiers = snap.customer_count()? > 0;
        let (model, settings) = match model {
            Some(m) => (Some(m), crate::duplicates::model::book_settings()),
            None if book_has_dossiers => {
                let m = book.duplicate_model_saving(save)?;
                (Some(m.model.clone()), m.settings.clone())
            }
            None => (None, crate::duplicates::model::book_settings()),
        };
        let matcher = Matcher::new(model, &settings)?;
        let runs = if book_has_dossiers {
            Runs::load(&*snap)?
        } else {
            Runs::default()
        };
        Ok(Self {
            store: &**book.store,
            snap,
            viewer: book.viewer().map(|v| (v, v.compared_columns())),
            matcher,
            runs,
            ahead: Ahead::default(),
            rows: Vec::new(),
            book_rows: HashMap::new(),
            admitted: Default::default(),
            book_has_dossiers,
        })
    }

    /// Looks at the book as it is now (a write in several transactions, at
    /// each: what others committed in between is checked against too). The
    /// records admitted before stay rows of the check, and the runs of keys
    /// the write itself added (`own_runs`) are not read.
    pub fn look_again(&mut self, own_runs: &[u32]) -> Result<(), Error> {
        self.snap = self.store.snapshot()?;
        self.book_has_dossiers = self.snap.customer_count()? > 0;
        self.runs = if self.book_has_dossiers {
            Runs::load(&*self.snap)?
        } else {
            Runs::default()
        };
        self.runs.list.retain(|r| !own_runs.contains(&r.id));
        self.ahead.clear();
        Ok(())
    }

    /// The matcher: its model, its rows.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Scores by another model from now on.
    pub fn set_model(&mut self, model: kehu_dedupe::Model) -> Result<(), Error> {
        Ok(self.matcher.set_model(model)?)
    }

    /// Checks a (normalised) record against the book and the records admitted
    /// before it; `exclude` names dossiers it is not compared with (itself,
    /// the dossiers a merge joins).
    pub fn check(&mut self, c: &Customer, exclude: &[CustomerId]) -> Result<Found, Error> {
        let prepared = Keyer::shared().prepare(c);
        self.read_ahead([(c, &prepared)])?;
        self.check_prepared(c, prepared, exclude, false)
    }

    /// Reads ahead what checking these records will ask of the book: the
    /// index entries and run buckets of their keys and the dossiers those
    /// name, in a request or two each for all of them (a book across a
    /// network answers a block of records in a few round trips, not a few
    /// per record). What was read for the records before is forgotten.
    pub fn read_ahead<'c>(
        &mut self,
        records: impl IntoIterator<Item = (&'c Customer, &'c Prepared)>,
    ) -> Result<(), Error> {
        self.ahead.clear();
        if !self.book_has_dossiers {
            return Ok(());
        }
        let mut probes = Vec::new();
        let (mut keys, mut buckets) = (Vec::new(), Vec::new());
        for (c, prepared) in records {
            let stored = match self.seen(c) {
                Some(seen) => seen.keys.stored,
                None => prepared.keys.stored.clone(),
            };
            keys.extend(self.lookup_keys(c, &stored));
            for &k in &stored {
                buckets.extend(self.runs.buckets(k));
            }
            probes.push((c, stored));
        }
        self.ahead.read_lookups(&*self.snap, keys)?;
        self.ahead.read_docs(&*self.snap, RUNS, buckets)?;
        let mut ids = Vec::new();
        for (c, stored) in &probes {
            ids.extend(
                self.book_candidates(c, stored)?
                    .into_iter()
                    .map(|(id, _)| id)
                    .filter(|id| !self.book_rows.contains_key(id) && !self.admitted.contains(id)),
            );
        }
        self.ahead.read_customers(&*self.snap, ids)
    }

    /// A principal's view of a record: its normal forms and keys of the
    /// fields the principal compares.
    fn seen(&self, c: &Customer) -> Option<Prepared> {
        self.viewer
            .as_ref()
            .map(|(_, cols)| Keyer::shared().prepare_seen(c, cols))
    }

    /// [`Check::check`] of a record prepared beforehand ([`Keyer::prepare`],
    /// on any thread); with `first_sure`, it stops at the first sure match (a
    /// bulk write needs no more to decide), trying the candidates that share
    /// the most keys first.
    pub fn check_prepared(
        &mut self,
        c: &Customer,
        prepared: Prepared,
        exclude: &[CustomerId],
        first_sure: bool,
    ) -> Result<Found, Error> {
        let seen = self.seen(c);
        let probe = seen.as_ref().unwrap_or(&prepared);
        let row = self.push_row(c.id, probe);
        let mut book = Vec::new();
        if self.book_has_dossiers {
            for (id, n) in self.book_candidates(c, &probe.keys.stored)? {
                if exclude.contains(&id) || self.admitted.contains(&id) {
                    continue;
                }
                if let Some(r) = self.book_row(id)? {
                    book.push((r, n));
                }
            }
        }
        let mut candidates = scored(
            &self.matcher,
            &self.rows,
            row,
            self.matcher.candidates(&probe.keys.all),
            book,
            exclude,
            first_sure,
        );
        by_probability(&mut candidates);
        Ok(Found {
            row,
            keys: prepared.keys,
            candidates,
            seen_keys: seen.map(|p| p.keys.all),
        })
    }

    /// Adds a record as a row of the check (not yet one others are checked against).
    fn push_row(&mut self, id: CustomerId, prepared: &Prepared) -> u32 {
        let row = self.matcher.push(&id.to_string(), prepared);
        self.rows.push(RowOf::Batch {
            index: usize::MAX,
            id,
        });
        row
    }

    /// Makes a checked record one later records are checked against, as the
    /// record at `index` of the write.
    pub fn admit(&mut self, found: &Found, index: usize, id: CustomerId) {
        self.rows[found.row as usize] = RowOf::Batch { index, id };
        self.admitted.insert(id);
        let keys = found.seen_keys.as_ref().unwrap_or(&found.keys.all);
        self.matcher.index(found.row, keys);
    }

    /// The rows of the records this write admitted.
    pub fn written_rows(&self) -> Vec<u32> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r, RowOf::Batch { index, .. } if *index != usize::MAX))
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Every candidate as the API lists them, each with its explanation.
    pub fn explained(&self, found: &Found) -> Vec<DuplicateCandidate> {
        self.explain_all(found.row, found.candidates.iter())
    }

    /// The candidates at or above the review threshold, explained.
    pub fn explained_matches(&self, found: &Found) -> Vec<DuplicateCandidate> {
        self.explain_all(found.row, found.matches())
    }

    fn explain_all<'a>(
        &self,
        row: u32,
        candidates: impl Iterator<Item = &'a Candidate>,
    ) -> Vec<DuplicateCandidate> {
        candidates
            .map(|c| DuplicateCandidate {
                id: c.id(),
                index: match c.of {
                    RowOf::Batch { index, .. } if index != usize::MAX => Some(index),
                    _ => None,
                },
                probability: c.probability,
                action: c.action,
                explanation: self.matcher.explain(row, c.row),
            })
            .collect()
    }

    /// The index keys of a record the book is asked for: its e-mail
    /// addresses and phone numbers (those the check compares) and its
    /// blocking keys.
    fn lookup_keys(&self, c: &Customer, stored: &[Key]) -> Vec<IndexKey> {
        let mut keys: Vec<IndexKey> = Vec::new();
        if self.compares(Field::Emails) {
            keys.extend(
                c.emails
                    .iter()
                    .filter(|e| !e.address.is_empty())
                    .map(|e| IndexKey::email(&e.address)),
            );
        }
        if self.compares(Field::Phones) {
            keys.extend(
                c.phones
                    .iter()
                    .filter(|p| !p.number.is_empty())
                    .map(|p| IndexKey::Phone(p.number.clone())),
            );
        }
        keys.extend(stored.iter().map(|&k| index_key(k)));
        keys
    }

    /// The dossiers of the book that share a key with the record and how
    /// many keys, most shared first.
    fn book_candidates(
        &self,
        c: &Customer,
        stored: &[Key],
    ) -> Result<Vec<(CustomerId, u32)>, Error> {
        let mut hits: HashMap<CustomerId, u32> = HashMap::new();
        for key in &self.lookup_keys(c, stored) {
            for &id in self.ahead.lookup(&*self.snap, key)?.iter() {
                *hits.entry(id).or_default() += 1;
            }
        }
        let mut ids = Vec::new();
        for &k in stored {
            ids.clear();
            for bucket in self.runs.buckets(k) {
                if let Some(entries) = self.ahead.doc(&*self.snap, RUNS, &bucket)? {
                    Runs::entries_under(&entries, k, &mut ids);
                }
            }
            for &id in &ids {
                *hits.entry(id).or_default() += 1;
            }
        }
        hits.remove(&c.id);
        let mut out: Vec<(CustomerId, u32)> = hits.into_iter().collect();
        out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(BOOK_CANDIDATES);
        Ok(out)
    }

    /// Whether the check compares a field (a principal's only those it may).
    fn compares(&self, field: Field) -> bool {
        self.viewer.as_ref().is_none_or(|(_, cols)| {
            kehu_dedupe::dossier::matched_fields()
                .zip(cols)
                .any(|(f, &seen)| seen && f == field)
        })
    }

    /// The row of a book dossier, pushed on first use; none when it is gone
    /// or outside a principal's scope.
    fn book_row(&mut self, id: CustomerId) -> Result<Option<u32>, Error> {
        if let Some(&r) = self.book_rows.get(&id) {
            return Ok(Some(r));
        }
        let Some(c) = self.ahead.customer(&*self.snap, id)? else {
            return Ok(None);
        };
        let prepared = match &self.viewer {
            None => Keyer::shared().prepare(&c),
            Some((v, _)) if !v.in_scope(&c) => return Ok(None),
            Some((_, cols)) => Keyer::shared().prepare_seen(&c, cols),
        };
        let r = self.matcher.push(&id.to_string(), &prepared);
        self.rows.push(RowOf::Book(id));
        self.book_rows.insert(id, r);
        Ok(Some(r))
    }
}

/// `row` scored against `found` (rows and how many keys each shares) and
/// `book` (rows of book dossiers, likewise), each row once, leaving out
/// `exclude`: the most shared first and, with `first_sure` (a bulk write),
/// none below the review threshold and none after the first sure match.
fn scored(
    matcher: &Matcher,
    rows: &[RowOf],
    row: u32,
    found: Vec<(u32, u32)>,
    book: Vec<(u32, u32)>,
    exclude: &[CustomerId],
    first_sure: bool,
) -> Vec<Candidate> {
    let mut shared: FxHashMap<u32, u32> = found.into_iter().collect();
    for (r, n) in book {
        let e = shared.entry(r).or_default();
        *e = (*e).max(n);
    }
    let mut order: Vec<(u32, u32)> = shared
        .into_iter()
        .filter(|&(r, _)| r != row && !exclude.contains(&rows[r as usize].id()))
        .collect();
    order.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut candidates = Vec::with_capacity(order.len());
    for (r, _) in order {
        let s = if first_sure {
            // A bulk write lists only what reaches the review threshold.
            match matcher.score_if_close(row, r) {
                Some(s) => s,
                None => continue,
            }
        } else {
            matcher.score(row, r)
        };
        let action = match s.decision {
            Decision::Match => DuplicateAction::Block,
            Decision::Review => DuplicateAction::Warn,
            Decision::NonMatch => DuplicateAction::Allow,
        };
        candidates.push(Candidate {
            of: rows[r as usize],
            row: r,
            probability: s.probability,
            action,
        });
        if first_sure && action == DuplicateAction::Block {
            break;
        }
    }
    candidates
}

/// Most likely first; ties by dossier id.
fn by_probability(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.id().cmp(&b.id()))
    });
}

impl RowOf {
    fn id(&self) -> CustomerId {
        match self {
            RowOf::Book(id) | RowOf::Batch { id, .. } => *id,
        }
    }
}
