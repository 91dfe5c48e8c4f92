//! The reading side of an import: rows read, built, normalised, checked
//! against the rules and for duplicates, and handed to the writer in chunks.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, SyncSender};

use kehu_dedupe::{Key, Prepared};
use kehu_model::catalogue::RelatedField;
use kehu_model::{Customer, CustomerId, RecordId};
use kehu_rules::{normalize_phone, PhoneOutcome, Report, Severity};
use kehu_store::{IndexKey, Snapshot, Write};
use kehu_table::cells::{merge, related_from_cells, RelatedContext, RowCustomer};
use kehu_table::{Columns, RawRow, Row, Target, TextEncoding};

use super::prepare::{Block, Built};
use super::rejects::RejectsFile;
use super::{Counts, Pending, CHUNK_ROWS, LISTED_WARNINGS, QUOTE_CHARS};
use crate::io::journal::{self, id_u128, instant, JournalBatch};
use crate::io::{ImportKind, ImportOptions, Mode, NaturalKey, RowDuplicate, RowMatch, RowProblem};
use crate::write::{Check, RowOf};
use crate::{Book, Error, OnDuplicate, WriteStatus};

/// A new book's model is learned from the first rows of its first import,
/// this many (a uniform sample of a shuffled file; fewer when the file is).
pub(super) const LEARN_FROM: usize = 50_000;

/// The reading side of an import.
pub(super) struct RowReader<'b> {
    pub book: &'b Book,
    pub options: &'b ImportOptions,
    pub snapshot: Box<dyn Snapshot + 'b>,
    /// The input's columns (a JSON Lines file names more as it goes).
    pub columns: Columns,
    pub encoding: TextEncoding,
    /// How far the input has been read, in bytes.
    pub position: u64,
    pub rejects: Option<RejectsFile>,
    pub report: Counts,
    pub problems: Vec<RowProblem>,
    /// Every row the duplicate check matched, with its candidates.
    pub duplicate_rows: Vec<RowDuplicate>,
    pub listed_warnings: usize,
    /// Natural key values already in the file, with the line that had them first.
    pub seen: HashMap<(NaturalKey, String), u64>,
    /// Existing dossiers an earlier row of the file already matched.
    pub touched: HashSet<CustomerId>,
    /// The customers that related rows named, resolved once.
    pub customers: HashMap<String, Result<CustomerId, (&'static str, String)>>,
    pub empty_book: bool,
    pub import_id: RecordId,
    /// The duplicate check (none for related records and `on_duplicate = allow`).
    pub check: Option<Check<'b>>,
    /// Rows held back while the model they are checked with is learned.
    pub learning: Option<Vec<(Row, Box<Customer>, Prepared)>>,
    /// Whether the model was learned from this import's rows.
    pub learned: bool,
    /// With `on_duplicate = merge`: the dossiers this import wrote, as it left them.
    pub written: HashMap<CustomerId, Customer>,
}

/// What the reading thread hands back.
pub(super) type ReadResult = (
    Option<RejectsFile>,
    Counts,
    Vec<RowProblem>,
    Vec<RowDuplicate>,
    Option<crate::duplicates::model::BookModel>,
    Result<(), Error>,
);

/// What became of one row (one per row, moved at once: not worth a box).
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// A write (and the one to make before it: the dossier's earlier version
    /// kept for revert), an update or a related record.
    Written(Write, Option<Write>),
    /// A new dossier, checked, with the keys it is found by.
    Created(Customer, Vec<Key>),
    /// A new dossier, still to be checked for duplicates, and its normal forms.
    Checking(Box<Customer>, Prepared),
    Rejected(Vec<RowProblem>),
    /// Left alone; `true` when an earlier row had the same natural key.
    Skipped(RowProblem, bool),
    /// Not written: the duplicate check found it in the book or the file.
    Duplicate(RowProblem),
    Unchanged,
}

/// The writes and journal of the chunk being filled.
struct Chunk {
    writes: Vec<Write>,
    journal: JournalBatch,
    keys: Vec<(Key, CustomerId)>,
    rows: usize,
}

impl Chunk {
    fn new(size: usize) -> Self {
        Self {
            writes: Vec::with_capacity(size.min(1 << 16)),
            journal: JournalBatch::default(),
            keys: Vec::new(),
            rows: 0,
        }
    }

    fn records(&self) -> usize {
        self.journal.created.len() + self.journal.updated.len() + self.journal.related.len()
    }
}

impl RowReader<'_> {
    /// Takes the blocks the first stage reads and builds, row by row, and
    /// hands their writes to the writer in chunks.
    pub fn run(
        &mut self,
        blocks: Receiver<Result<Block, Error>>,
        tx: &SyncSender<Pending>,
    ) -> Result<(), Error> {
        let mut chunk = Chunk::new(self.options.batch_size.clamp(1, CHUNK_ROWS));
        for block in blocks {
            let block = block?;
            if let Some(columns) = block.columns {
                self.columns = columns;
            }
            self.position = block.position;
            for (row, built) in block.rows {
                self.report.rows += 1;
                let outcome = self.handle(&row, built);
                if let Outcome::Checking(c, prepared) = outcome {
                    if let Some(held) = &mut self.learning {
                        held.push((row, c, prepared));
                        if held.len() >= LEARN_FROM && !self.learn(&mut chunk, tx)? {
                            return Ok(());
                        }
                        continue;
                    }
                    let outcome = self.decide(&row, *c, prepared);
                    self.settle(&row, outcome, &mut chunk)?;
                } else {
                    self.settle(&row, outcome, &mut chunk)?;
                }
                chunk.rows += 1;
                if !self.send_if_full(&mut chunk, tx) {
                    return Ok(());
                }
            }
        }
        if self.learning.is_some() && !self.learn(&mut chunk, tx)? {
            return Ok(());
        }
        let _ = tx.send(self.pending(chunk, true));
        Ok(())
    }

    /// Hands a full chunk to the writer; false when the writer stopped (on
    /// an error it reports).
    fn send_if_full(&self, chunk: &mut Chunk, tx: &SyncSender<Pending>) -> bool {
        let batch_size = self.options.batch_size.clamp(1, CHUNK_ROWS);
        if chunk.records() >= batch_size || chunk.rows >= batch_size * 4 {
            let full = std::mem::replace(chunk, Chunk::new(batch_size));
            return tx.send(self.pending(full, false)).is_ok();
        }
        true
    }

    fn pending(&self, chunk: Chunk, last: bool) -> Pending {
        Pending {
            writes: chunk.writes,
            journal: chunk.journal,
            keys: chunk.keys,
            counts: self.report,
            bytes: self.position,
            last,
        }
    }

    /// Learns the model from the rows held back, then checks them with it;
    /// false when the writer stopped.
    fn learn(&mut self, chunk: &mut Chunk, tx: &SyncSender<Pending>) -> Result<bool, Error> {
        let Some(held) = self.learning.take() else {
            return Ok(true);
        };
        if let Some(check) = &mut self.check {
            let ds = kehu_dedupe::dossier::dataset(held.iter().map(|(_, c, _)| &**c));
            let settings = crate::duplicates::model::book_settings();
            let mut dd = kehu_dedupe::Deduper::new(ds, settings)?;
            check.set_model(dd.train()?.clone())?;
        }
        for (row, c, prepared) in held {
            let outcome = self.decide(&row, *c, prepared);
            self.settle(&row, outcome, chunk)?;
            chunk.rows += 1;
            if !self.send_if_full(chunk, tx) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Counts a row's outcome and adds its writes to the chunk.
    fn settle(&mut self, row: &Row, outcome: Outcome, chunk: &mut Chunk) -> Result<(), Error> {
        match outcome {
            Outcome::Created(customer, keys) => {
                self.report.imported += 1;
                chunk.journal.created.push(id_u128(customer.id));
                chunk
                    .keys
                    .extend(keys.into_iter().map(|k| (k, customer.id)));
                if self.options.on_duplicate == OnDuplicate::Merge {
                    let mut kept = customer.clone();
                    kept.version = 1;
                    self.written.insert(customer.id, kept);
                }
                chunk.writes.push(Write::Put {
                    customer,
                    expected: 0,
                });
            }
            Outcome::Written(write, before) => {
                match &write {
                    Write::Put { customer, expected } => {
                        self.report.updated += 1;
                        chunk
                            .journal
                            .updated
                            .push((id_u128(customer.id), expected + 1));
                    }
                    Write::Relate(r) => {
                        self.report.imported += 1;
                        let (secs, nanos) = instant(r.at());
                        chunk.journal.related.push((
                            id_u128(r.customer_id()),
                            secs,
                            nanos,
                            u128::from_be_bytes(r.id().to_bytes()),
                        ));
                    }
                    _ => {}
                }
                chunk.writes.extend(before);
                let keys = match &write {
                    Write::Put { customer, .. } => Some(crate::duplicates::keys::keys_write(
                        customer.id,
                        &kehu_dedupe::Keyer::shared().stored_keys(customer),
                    )),
                    _ => None,
                };
                chunk.writes.push(write);
                chunk.writes.extend(keys);
            }
            Outcome::Checking(c, prepared) => {
                let outcome = self.decide(row, *c, prepared);
                return self.settle(row, outcome, chunk);
            }
            Outcome::Rejected(problems) => {
                self.report.rejected += 1;
                if let Some(rejects) = &mut self.rejects {
                    rejects.write(row, &problems, self.encoding)?;
                }
                self.problems.extend(problems);
            }
            Outcome::Skipped(problem, in_file) => {
                self.report.skipped += 1;
                if in_file {
                    self.report.in_file += 1;
                }
                self.problems.push(problem);
            }
            Outcome::Duplicate(problem) => {
                self.report.skipped += 1;
                self.report.duplicates += 1;
                self.problems.push(problem);
            }
            Outcome::Unchanged => {
                self.report.skipped += 1;
                self.report.unchanged += 1;
            }
        }
        Ok(())
    }

    /// The duplicate check of a new dossier, and what the options make of it.
    fn decide(&mut self, row: &Row, c: Customer, prepared: Prepared) -> Outcome {
        let Some(check) = &mut self.check else {
            return Outcome::Created(c, prepared.keys.stored);
        };
        let found = match check.check_prepared(&c, prepared, &[], true) {
            Ok(f) => f,
            Err(e) => {
                let problem = self.problem(row, None, "store", Severity::Error, e.to_string());
                return Outcome::Rejected(vec![problem]);
            }
        };
        let sure = found.sure().copied();
        let matches: Vec<RowMatch> = found
            .matches()
            .map(|m| RowMatch {
                id: m.id(),
                line: match m.of {
                    RowOf::Batch { index, .. } => Some(index as u64),
                    RowOf::Book(_) => None,
                },
                probability: m.probability,
                action: m.action,
            })
            .collect();
        let policy = self.options.on_duplicate;
        let skip = match policy {
            OnDuplicate::Report => sure.is_some(),
            OnDuplicate::Skip => !matches.is_empty(),
            OnDuplicate::Merge | OnDuplicate::Allow => false,
        };
        let what = matches.first().map(describe).unwrap_or_default();
        if skip {
            let message = format!(
                "{} {what}: not imported (--on-duplicate allow imports it, merge merges it)",
                if sure.is_some() {
                    "a sure duplicate of"
                } else {
                    "a possible duplicate of"
                }
            );
            self.duplicate_rows.push(RowDuplicate {
                line: row.line,
                outcome: WriteStatus::Skipped,
                candidates: matches,
            });
            return Outcome::Duplicate(self.problem(
                row,
                None,
                "duplicate",
                Severity::Warning,
                message,
            ));
        }
        if let (OnDuplicate::Merge, Some(target)) = (policy, sure) {
            let into = target.id();
            match self.merged(into, c) {
                Ok((merged, before)) => {
                    self.report.merged += 1;
                    self.duplicate_rows.push(RowDuplicate {
                        line: row.line,
                        outcome: WriteStatus::Merged,
                        candidates: matches,
                    });
                    let message = format!("a sure duplicate of {what}: merged into it");
                    let problem =
                        self.problem(row, None, "duplicate.merged", Severity::Warning, message);
                    self.note(problem);
                    let expected = merged.version;
                    return Outcome::Written(
                        Write::Put {
                            customer: merged,
                            expected,
                        },
                        before,
                    );
                }
                Err(message) => {
                    let problem =
                        self.problem(row, None, "duplicate.merge", Severity::Error, message);
                    return Outcome::Rejected(vec![problem]);
                }
            }
        }
        if !matches.is_empty() {
            let message = format!("a possible duplicate of {what}: imported");
            let problem = self.problem(row, None, "duplicate.possible", Severity::Warning, message);
            self.note(problem);
            self.duplicate_rows.push(RowDuplicate {
                line: row.line,
                outcome: WriteStatus::Added,
                candidates: matches,
            });
        }
        if let Some(check) = &mut self.check {
            check.admit(&found, row.line as usize, c.id);
        }
        Outcome::Created(c, found.keys.stored)
    }

    /// A row merged into the dossier it duplicates (in the book, or written
    /// by this import), and the earlier version to keep for revert; or why not.
    fn merged(
        &mut self,
        into: CustomerId,
        record: Customer,
    ) -> Result<(Customer, Option<Write>), String> {
        let now = self.book.now();
        let (base, before) = match self.written.get(&into) {
            Some(c) => (c.clone(), None),
            None => match self.snapshot.customer(into) {
                Ok(Some(c)) => {
                    let before = journal::before_write(self.import_id, &c)
                        .map_err(|e| format!("cannot keep the earlier version: {e}"))?;
                    (c, Some(before))
                }
                Ok(None) => return Err(format!("customer {into} is gone")),
                Err(e) => return Err(e.to_string()),
            },
        };
        let version = base.version;
        let mut merged = kehu_dedupe::merge(&[base, record], &self.options.survivorship)
            .map_err(|e| e.to_string())?;
        let report = self.book.rules.check(&mut merged, now);
        if !report.is_ok() {
            return Err(format!("the merged dossier breaks the rules: {report}"));
        }
        merged.updated_at = now;
        merged.version = version;
        self.touched.insert(into);
        let mut kept = merged.clone();
        kept.version = version + 1;
        self.written.insert(into, kept);
        Ok((merged, before))
    }

    /// Lists a warning of a written row, while the list has room.
    fn note(&mut self, problem: RowProblem) {
        self.report.warnings += 1;
        if self.listed_warnings < LISTED_WARNINGS {
            self.listed_warnings += 1;
            self.problems.push(problem);
        }
    }

    fn handle(&mut self, row: &Row, built: Option<Box<Built>>) -> Outcome {
        if let Some(issue) = &row.issue {
            let column = issue.column;
            return Outcome::Rejected(vec![self.problem(
                row,
                column,
                issue.code,
                Severity::Error,
                issue.message.clone(),
            )]);
        }
        match built {
            Some(built) => self.customer_row(row, *built),
            None => self.related_row(row),
        }
    }

    fn customer_row(&mut self, row: &Row, built: Built) -> Outcome {
        let book = self.book;
        let Built {
            row: built,
            report,
            now,
            dedupe,
        } = built;
        if !built.problems.is_empty() {
            let mut problems: Vec<RowProblem> = built
                .problems
                .iter()
                .map(|p| {
                    let message = p.message.clone();
                    self.problem(row, Some(p.column), p.code, Severity::Error, message)
                })
                .collect();
            problems.extend(self.violations(row, &built, &report, Severity::Error));
            return Outcome::Rejected(problems);
        }
        let keys = self.key_values(&built);
        let earlier = keys
            .iter()
            .find_map(|k| self.seen.get(k).map(|line| (k, *line)));
        if let Some(((key, value), first)) = earlier {
            let message = format!(
                "the same {} as line {first}: not imported twice",
                crate::io::key_label(*key, value)
            );
            return Outcome::Skipped(
                self.problem(row, None, "duplicate.in_file", Severity::Warning, message),
                true,
            );
        }
        let existing = match self.find_existing(&keys) {
            Ok(e) => e,
            Err(message) => {
                return Outcome::Rejected(vec![self.problem(
                    row,
                    None,
                    "key.ambiguous",
                    Severity::Error,
                    message,
                )])
            }
        };
        let line = row.line;
        let remember = |seen: &mut HashMap<(NaturalKey, String), u64>| {
            for k in keys.iter().cloned() {
                seen.entry(k).or_insert(line);
            }
        };
        match (self.options.mode, existing) {
            (Mode::Create, Some((existing, key))) => {
                remember(&mut self.seen);
                let message = format!(
                    "a customer with {} is already in the book ({}); import with --mode upsert to update it",
                    key,
                    existing.id
                );
                Outcome::Skipped(
                    self.problem(row, None, "exists", Severity::Warning, message),
                    false,
                )
            }
            (Mode::Update, None) => {
                let message = if keys.is_empty() {
                    format!(
                        "the row has none of the keys ({}) to find its customer by",
                        self.key_names()
                    )
                } else {
                    "no customer in the book has this row's key".to_string()
                };
                Outcome::Skipped(
                    self.problem(row, None, "not_found", Severity::Warning, message),
                    false,
                )
            }
            (_, Some((existing, key))) => {
                if !self.touched.insert(existing.id) {
                    let message =
                        format!("an earlier row of the file already updated this customer ({key})");
                    return Outcome::Skipped(
                        self.problem(row, None, "duplicate.in_file", Severity::Warning, message),
                        true,
                    );
                }
                remember(&mut self.seen);
                let mut merged = match &row.dossier {
                    Some(_) => {
                        let mut c = built.customer.clone();
                        c.id = existing.id;
                        c.created_at = existing.created_at;
                        c
                    }
                    None => merge(&existing, &built),
                };
                merged.version = existing.version;
                let report = book.rules.check(&mut merged, now);
                if !report.is_ok() {
                    return self.rejected(row, &built, &report);
                }
                merged.updated_at = existing.updated_at;
                if merged == existing {
                    return Outcome::Unchanged;
                }
                merged.updated_at = now;
                self.note_warnings(row, &built, &report);
                let before = match journal::before_write(self.import_id, &existing) {
                    Ok(w) => w,
                    Err(e) => {
                        let message = format!("cannot keep the earlier version: {e}");
                        let problem = self.problem(row, None, "journal", Severity::Error, message);
                        return Outcome::Rejected(vec![problem]);
                    }
                };
                Outcome::Written(
                    Write::Put {
                        customer: merged,
                        expected: existing.version,
                    },
                    Some(before),
                )
            }
            (_, None) => {
                if !report.is_ok() {
                    return self.rejected(row, &built, &report);
                }
                remember(&mut self.seen);
                self.note_warnings(row, &built, &report);
                // Created and updated times come from the file when it has them (a restore), else now.
                let mut c = built.customer;
                c.version = 0;
                let prepared = dedupe.unwrap_or_else(|| kehu_dedupe::Keyer::shared().prepare(&c));
                Outcome::Checking(Box::new(c), prepared)
            }
        }
    }

    fn related_row(&mut self, row: &Row) -> Outcome {
        let Some((col, text)) = row
            .cells
            .iter()
            .find(|(c, _)| {
                self.columns.target(*c) == Some(&Target::Related(RelatedField::Customer))
            })
            .map(|(c, t)| (*c, t.trim().to_string()))
        else {
            return Outcome::Rejected(vec![self.problem(
                row,
                None,
                "required",
                Severity::Error,
                "the row names no customer".into(),
            )]);
        };
        let customer = match self.resolve_customer(&text) {
            Ok(id) => id,
            Err((code, message)) => {
                return Outcome::Rejected(vec![self.problem(
                    row,
                    Some(col),
                    code,
                    Severity::Error,
                    message,
                )])
            }
        };
        let ctx = RelatedContext {
            kind: self.options.kind,
            customer,
            currency: self.options.currency,
        };
        let mut record = match related_from_cells(&row.cells, &self.columns, &ctx) {
            Ok(r) => r,
            Err(problems) => {
                let problems = problems
                    .into_iter()
                    .map(|p| {
                        let column = (p.column != usize::MAX).then_some(p.column);
                        self.problem(row, column, p.code, Severity::Error, p.message)
                    })
                    .collect();
                return Outcome::Rejected(problems);
            }
        };
        let report = self.book.rules.check_related(&mut record, self.book.now());
        if !report.is_ok() {
            let problems = report
                .violations
                .iter()
                .map(|v| {
                    self.problem(
                        row,
                        None,
                        &v.code,
                        v.severity,
                        format!("{}: {}", v.path, v.message),
                    )
                })
                .collect();
            return Outcome::Rejected(problems);
        }
        let named = |field: Target| {
            row.cells
                .iter()
                .find(|(c, t)| self.columns.target(*c) == Some(&field) && !t.trim().is_empty())
        };
        let source_id = named(Target::Related(RelatedField::RecordId)).or_else(|| {
            (self.options.kind == ImportKind::Purchases)
                .then(|| named(Target::Related(RelatedField::Reference)))
                .flatten()
        });
        if let Some((_, source_id)) = source_id {
            let key = (NaturalKey::Id, source_id.trim().to_string());
            if let Some(first) = self.seen.get(&key) {
                let message =
                    format!("the same record id {source_id:?} as line {first}: not imported twice");
                return Outcome::Skipped(
                    self.problem(row, None, "duplicate.in_file", Severity::Warning, message),
                    true,
                );
            }
            self.seen.insert(key, row.line);
        }
        Outcome::Written(Write::Relate(record), None)
    }

    /// The customer a related row names, by the import's customer key.
    fn resolve_customer(&mut self, text: &str) -> Result<CustomerId, (&'static str, String)> {
        if let Some(found) = self.customers.get(text) {
            return found.clone();
        }
        let key = self.options.customer_key;
        let ids = match key {
            NaturalKey::Id => match text.parse::<CustomerId>() {
                Ok(id) => match self.snapshot.customer(id) {
                    Ok(Some(_)) => vec![id],
                    Ok(None) => vec![],
                    Err(e) => return Err(("store", e.to_string())),
                },
                Err(_) => return Err(("format.id", format!("{text:?} is not a kehu id"))),
            },
            _ => {
                let index_key = match key {
                    NaturalKey::Email => IndexKey::email(text),
                    NaturalKey::Phone => {
                        let region = self.book.rules.rule_set().default_region.as_deref();
                        match normalize_phone(text, region) {
                            PhoneOutcome::Valid(e164) => IndexKey::Phone(e164),
                            PhoneOutcome::Invalid { .. } => IndexKey::Phone(text.to_string()),
                        }
                    }
                    _ => IndexKey::ExternalId(text.to_string()),
                };
                self.snapshot
                    .lookup(&index_key)
                    .map_err(|e| ("store", e.to_string()))?
            }
        };
        let found = match ids.as_slice() {
            [id] => Ok(*id),
            [] => Err((
                "customer.not_found",
                format!(
                    "no customer with {} in the book; import the customers first",
                    crate::io::key_label(key, text)
                ),
            )),
            many => Err((
                "customer.ambiguous",
                format!(
                    "{} customers have {}; name the customer by another key (--customer-key)",
                    many.len(),
                    crate::io::key_label(key, text)
                ),
            )),
        };
        self.customers.insert(text.to_string(), found.clone());
        found
    }

    fn key_names(&self) -> String {
        self.options
            .keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The row's values of the import's natural keys, normalised.
    fn key_values(&self, built: &RowCustomer) -> Vec<(NaturalKey, String)> {
        let c = &built.customer;
        let mut out = Vec::new();
        for key in &self.options.keys {
            let value = match key {
                NaturalKey::Id => built.has_kehu_id.then(|| c.id.to_string()),
                NaturalKey::ExternalId => c.external_id.clone().filter(|x| !x.is_empty()),
                NaturalKey::Email => c.primary_email().map(|e| e.address.to_lowercase()),
                NaturalKey::Phone => c.primary_phone().map(|p| p.number.clone()),
            };
            if let Some(v) = value {
                out.push((*key, v));
            }
        }
        out
    }

    /// The dossier the row's first matching key finds in the book, with that key.
    fn find_existing(
        &self,
        keys: &[(NaturalKey, String)],
    ) -> Result<Option<(Customer, String)>, String> {
        if self.empty_book {
            return Ok(None);
        }
        for (key, value) in keys {
            let ids = match key {
                NaturalKey::Id => match value.parse::<CustomerId>() {
                    Ok(id) => vec![id],
                    Err(_) => continue,
                },
                NaturalKey::ExternalId => self.lookup(IndexKey::ExternalId(value.clone()))?,
                NaturalKey::Email => self.lookup(IndexKey::email(value))?,
                NaturalKey::Phone => self.lookup(IndexKey::Phone(value.clone()))?,
            };
            let mut found = Vec::new();
            for id in ids {
                if let Some(c) = self.snapshot.customer(id).map_err(|e| e.to_string())? {
                    found.push(c);
                }
            }
            match found.len() {
                0 => continue,
                1 => return Ok(found.pop().map(|c| (c, crate::io::key_label(*key, value)))),
                n => {
                    return Err(format!(
                        "{n} customers in the book have {}; choose another --key",
                        crate::io::key_label(*key, value)
                    ))
                }
            }
        }
        Ok(None)
    }

    fn lookup(&self, key: IndexKey) -> Result<Vec<CustomerId>, String> {
        self.snapshot.lookup(&key).map_err(|e| e.to_string())
    }

    /// The row, rejected for the errors in its report.
    fn rejected(&self, row: &Row, built: &RowCustomer, report: &Report) -> Outcome {
        Outcome::Rejected(self.violations(row, built, report, Severity::Error))
    }

    fn violations(
        &self,
        row: &Row,
        built: &RowCustomer,
        report: &Report,
        at_least: Severity,
    ) -> Vec<RowProblem> {
        report
            .violations
            .iter()
            .filter(|v| v.severity >= at_least)
            .map(|v| {
                let column = built.column_of(&v.path);
                let message = if column.is_none() && !v.path.is_empty() {
                    format!("{}: {}", v.path, v.message)
                } else {
                    v.message.clone()
                };
                self.problem(row, column, &v.code, v.severity, message)
            })
            .collect()
    }

    fn note_warnings(&mut self, row: &Row, built: &RowCustomer, report: &Report) {
        let n = report.warnings().count();
        if n == 0 {
            return;
        }
        self.report.warnings += n as u64;
        if self.listed_warnings < LISTED_WARNINGS {
            let listed = self.violations(row, built, report, Severity::Warning);
            self.listed_warnings += listed.len();
            self.problems.extend(listed);
        }
    }

    fn problem(
        &self,
        row: &Row,
        column: Option<usize>,
        code: &str,
        severity: Severity,
        message: String,
    ) -> RowProblem {
        let columns = &self.columns;
        let value = column.and_then(|c| {
            row.cells
                .iter()
                .find(|(i, _)| *i == c)
                .map(|(_, t)| t.chars().take(QUOTE_CHARS).collect::<String>())
                .or_else(|| match &row.raw {
                    RawRow::Csv(r) => r.get(c).map(|b| {
                        String::from_utf8_lossy(b)
                            .chars()
                            .take(QUOTE_CHARS)
                            .collect()
                    }),
                    RawRow::Line(_) => None,
                })
        });
        RowProblem {
            line: row.line,
            column: column
                .filter(|c| *c < columns.len())
                .map(|c| columns.name(c).to_string()),
            value,
            code: code.to_string(),
            severity,
            message,
        }
    }
}

/// A candidate as a report names it: a dossier of the book, or a line of the file.
fn describe(m: &RowMatch) -> String {
    match m.line {
        Some(line) => format!("line {line} (probability {:.3})", m.probability),
        None => format!("customer {} (probability {:.3})", m.id, m.probability),
    }
}
