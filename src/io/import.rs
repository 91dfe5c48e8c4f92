//! The import engine: rows are read, built, normalised and checked on one
//! thread while committed in batches on the caller's.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read, Write as _};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use kehu_model::{Customer, CustomerId, RecordId, Timestamp};
use kehu_rules::{normalize_phone, PhoneOutcome, Report, Severity};
use kehu_store::{Batch, IndexKey, Snapshot, Write};

use kehu_model::catalogue::RelatedField;
use kehu_table::cells::{
    customer_from_cells, merge, related_from_cells, RelatedContext, RowCustomer,
};
use kehu_table::{encode, field_named, RawRow, Row, Source, SourceHints, Target};

use super::journal::{self, id_u128, instant, ImportStatus, ImportSummary, JournalBatch};
use super::{
    Format, ImportKind, ImportOptions, ImportReport, Mode, NaturalKey, Progress, RowProblem,
    TextEncoding,
};
use crate::{Book, Error};

/// At most this many warnings on written rows are listed one by one (all are counted).
const LISTED_WARNINGS: usize = 1000;
/// Rows the reader hands to the writer at a time (at most; fewer with a small batch size).
const CHUNK_ROWS: usize = 10_000;
/// How long a value quoted in a report may be.
const QUOTE_CHARS: usize = 60;

impl Book {
    /// Imports a CSV or JSON Lines file (see [`ImportOptions`]).
    pub fn import_file(
        &self,
        path: impl AsRef<Path>,
        options: &ImportOptions,
    ) -> Result<ImportReport, Error> {
        self.import_file_with_progress(path, options, &mut |_| {})
    }

    /// Imports a file, reporting progress after each batch.
    pub fn import_file_with_progress(
        &self,
        path: impl AsRef<Path>,
        options: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport, Error> {
        let path = path.as_ref();
        let io = |e: std::io::Error| Error::Io {
            path: path.display().to_string(),
            source: e,
        };
        let file = File::open(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        let name = path.display().to_string();
        self.import_reader(Box::new(file), &name, Some(total), options, progress)
    }

    /// Imports from any reader; `name` names it in reports (its extension
    /// tells the format when the options do not).
    pub fn import_reader(
        &self,
        reader: Box<dyn Read + Send>,
        name: &str,
        bytes_total: Option<u64>,
        options: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport, Error> {
        let started_at = self.now();
        options.check()?;
        let explicit = options
            .mapping
            .iter()
            .filter_map(|(col, field)| {
                field_named(options.kind, field).map(|target| (col.clone(), target))
            })
            .collect();
        let custom = self
            .rules
            .rule_set()
            .custom
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let input = |e: kehu_table::Error| Error::Input {
            file: name.to_string(),
            message: e.to_string(),
        };
        let source = Source::open(
            reader,
            SourceHints {
                name,
                format: options.format,
                encoding: options.encoding,
                delimiter: options.delimiter.map(|d| d.0),
                kind: options.kind,
                explicit,
                custom,
            },
        )
        .map_err(input)?;
        if options.kind != ImportKind::Customers
            && source.format == Format::Csv
            && !source.columns.has(&Target::Related(RelatedField::Customer))
        {
            return Err(Error::Input {
                file: name.to_string(),
                message: format!(
                    "no column names the customer of each {}: add a customer_id column or map one with --map COLUMN=customer",
                    match options.kind {
                        ImportKind::Purchases => "purchase",
                        ImportKind::Interactions => "interaction",
                        ImportKind::Feedback => "feedback",
                        _ => "consent",
                    }
                ),
            });
        }
        let rejects = match &options.rejects {
            Some(path) => Some(RejectsFile::create(path, &source)?),
            None => None,
        };
        let import_id = RecordId::new();
        let (tx, rx) = sync_channel::<Pending>(1);
        let actor = format!("{} (import {import_id})", self.actor);
        let (read, written) = std::thread::scope(|scope| {
            let handle = scope.spawn(move || -> Result<ReadResult, Error> {
                let snapshot = self.store.snapshot()?;
                let empty_book = snapshot.customer_count()? == 0;
                let mut reader = RowReader {
                    book: self,
                    options,
                    snapshot,
                    source,
                    rejects,
                    report: Counts::default(),
                    problems: Vec::new(),
                    listed_warnings: 0,
                    seen: HashMap::new(),
                    touched: HashSet::new(),
                    customers: HashMap::new(),
                    empty_book,
                    import_id,
                };
                let outcome = reader.run(&tx);
                let RowReader {
                    source,
                    rejects,
                    report,
                    problems,
                    ..
                } = reader;
                Ok((source, rejects, report, problems, outcome))
            });
            let written = self.commit_batches(
                rx,
                import_id,
                name,
                options,
                &actor,
                started_at,
                bytes_total,
                progress,
            );
            let read = handle
                .join()
                .map_err(|_| Error::Corrupt("the import's reading thread panicked".into()));
            (read, written)
        });
        let (source, rejects, counts, problems, outcome) = read??;
        written?;
        outcome?;
        let rejects_file = match rejects {
            Some(r) => Some(r.finish()?),
            None => None,
        };
        let report = ImportReport {
            import_id: (!options.dry_run).then_some(import_id),
            dry_run: options.dry_run,
            source: name.to_string(),
            kind: options.kind,
            mode: options.mode,
            format: source.format,
            encoding: source.encoding,
            delimiter: (source.format == Format::Csv).then_some(source.delimiter as char),
            columns: source.columns.uses(),
            unknown_columns: source.columns.unknown(),
            rows: counts.rows,
            imported: counts.imported,
            updated: counts.updated,
            rejected: counts.rejected,
            skipped: counts.skipped,
            duplicates_in_file: counts.duplicates,
            unchanged: counts.unchanged,
            warnings: counts.warnings,
            problems,
            rejects_file,
            started_at,
            finished_at: self.now(),
        };
        debug_assert!(report.balances());
        if !options.dry_run {
            self.record_audit("import", None, Some(report.summary()))?;
        }
        Ok(report)
    }

    /// The writer's side: streams the reader's chunks into transactions of
    /// `batch_size` records, each chunk with its journal entry and each
    /// transaction ending with the import's summary (done, on the last one).
    #[allow(clippy::too_many_arguments)]
    fn commit_batches(
        &self,
        rx: Receiver<Pending>,
        import_id: RecordId,
        name: &str,
        options: &ImportOptions,
        actor: &str,
        started_at: Timestamp,
        bytes_total: Option<u64>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let report = |progress: &mut dyn FnMut(Progress), p: &Pending| {
            progress(Progress {
                rows: p.counts.rows,
                rows_total: p.last.then_some(p.counts.rows),
                bytes: p.bytes,
                bytes_total,
            })
        };
        if options.dry_run {
            for pending in rx {
                report(progress, &pending);
            }
            return Ok(());
        }
        let mut summary = ImportSummary {
            id: import_id,
            source: name.to_string(),
            kind: options.kind,
            mode: options.mode,
            actor: self.actor.clone(),
            started_at,
            updated_at: started_at,
            status: ImportStatus::Running,
            rows: 0,
            imported: 0,
            updated: 0,
            rejected: 0,
            skipped: 0,
            batches: 0,
        };
        let per_transaction = options.batch_size.max(1);
        let mut closed = false;
        while !closed {
            let mut written = 0usize;
            let mut chunks = 0usize;
            let mut ended = false;
            let mut failure = None;
            let mut changed: Vec<u128> = Vec::new();
            let committed = summary.clone();
            let mut next = || -> Option<Batch> {
                if ended {
                    return None;
                }
                let pending = if written >= per_transaction || closed {
                    None
                } else {
                    match rx.recv() {
                        Ok(p) => Some(p),
                        Err(_) => {
                            closed = true;
                            None
                        }
                    }
                };
                let Some(pending) = pending else {
                    // The transaction ends with the summary as of its last chunk.
                    ended = true;
                    if chunks == 0 {
                        return None;
                    }
                    if closed && summary.status == ImportStatus::Running {
                        summary.status = ImportStatus::Failed; // the reader stopped early
                    }
                    return match journal::summary_write(&summary) {
                        // Imported dossiers get their duplicate keys in bulk, at the first check.
                        Ok(w) => Some(
                            Batch::new(actor, self.now())
                                .with(w)
                                .with(crate::duplicates::keys_stale()),
                        ),
                        Err(e) => {
                            failure = Some(e);
                            None
                        }
                    };
                };
                chunks += 1;
                let j = &pending.journal;
                written += j.created.len() + j.updated.len() + j.related.len();
                changed.extend(
                    j.created
                        .iter()
                        .chain(j.updated.iter().map(|(c, _)| c))
                        .copied(),
                );
                changed.extend(j.related.iter().map(|(c, ..)| *c));
                let now = self.now();
                let mut batch = Batch::new(actor, now);
                batch.writes = pending.writes;
                if !pending.journal.is_empty() {
                    match journal::batch_write(import_id, summary.batches, &pending.journal) {
                        Ok(w) => batch.push(w),
                        Err(e) => {
                            failure = Some(e);
                            ended = true;
                            return None;
                        }
                    }
                }
                summary.batches += 1;
                summary.updated_at = now;
                pending.counts.apply(&mut summary);
                if pending.last {
                    summary.status = ImportStatus::Done;
                    closed = true;
                }
                report(
                    progress,
                    &Pending {
                        writes: Vec::new(),
                        journal: JournalBatch::default(),
                        ..pending
                    },
                );
                Some(batch)
            };
            let outcome = self.store.commit_all(&mut std::iter::from_fn(&mut next));
            if let Some(e) = failure {
                return Err(e);
            }
            if outcome.is_ok() {
                self.touched(changed.into_iter().map(journal::customer_id))?;
            }
            if let Err(e) = outcome {
                // What earlier transactions committed stays, whole; say the import failed.
                let mut mark = committed;
                mark.status = ImportStatus::Failed;
                mark.updated_at = self.now();
                let _ = self
                    .store
                    .commit(Batch::new(actor, self.now()).with(journal::summary_write(&mark)?));
                return Err(e.into());
            }
        }
        Ok(())
    }
}

/// Running totals, as the summary records them.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    rows: u64,
    imported: u64,
    updated: u64,
    rejected: u64,
    skipped: u64,
    duplicates: u64,
    unchanged: u64,
    warnings: u64,
}

impl Counts {
    fn apply(&self, s: &mut ImportSummary) {
        s.rows = self.rows;
        s.imported = self.imported;
        s.updated = self.updated;
        s.rejected = self.rejected;
        s.skipped = self.skipped;
    }
}

/// One batch on its way from the reader to the writer.
struct Pending {
    writes: Vec<Write>,
    journal: JournalBatch,
    counts: Counts,
    bytes: u64,
    last: bool,
}

/// The reading side of an import.
struct RowReader<'b> {
    book: &'b Book,
    options: &'b ImportOptions,
    snapshot: Box<dyn Snapshot + 'b>,
    source: Source,
    rejects: Option<RejectsFile>,
    report: Counts,
    problems: Vec<RowProblem>,
    listed_warnings: usize,
    /// Natural key values already in the file, with the line that had them first.
    seen: HashMap<(NaturalKey, String), u64>,
    /// Existing dossiers an earlier row of the file already matched.
    touched: HashSet<CustomerId>,
    /// The customers that related rows named, resolved once.
    customers: HashMap<String, Result<CustomerId, (&'static str, String)>>,
    empty_book: bool,
    import_id: RecordId,
}

/// What the reading thread hands back.
type ReadResult = (
    Source,
    Option<RejectsFile>,
    Counts,
    Vec<RowProblem>,
    Result<(), Error>,
);

/// What became of one row (one per row, moved at once: not worth a box).
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Written(Write, Option<Write>),
    Rejected(Vec<RowProblem>),
    Skipped(RowProblem, bool),
    Unchanged,
}

impl RowReader<'_> {
    fn run(&mut self, tx: &SyncSender<Pending>) -> Result<(), Error> {
        let batch_size = self.options.batch_size.clamp(1, CHUNK_ROWS);
        let mut writes = Vec::with_capacity(batch_size.min(1 << 16));
        let mut journal = JournalBatch::default();
        let mut rows_in_batch = 0usize;
        loop {
            let row = self.source.next_row().map_err(|e| Error::Input {
                file: "input".into(),
                message: format!("reading stopped at byte {}: {e}", self.source.position()),
            })?;
            let Some(row) = row else { break };
            self.report.rows += 1;
            rows_in_batch += 1;
            let outcome = self.handle(&row);
            match outcome {
                Outcome::Written(write, before) => {
                    match &write {
                        Write::Put {
                            customer,
                            expected: 0,
                        } => {
                            self.report.imported += 1;
                            journal.created.push(id_u128(customer.id));
                        }
                        Write::Put { customer, expected } => {
                            self.report.updated += 1;
                            journal.updated.push((id_u128(customer.id), expected + 1));
                        }
                        Write::Relate(r) => {
                            self.report.imported += 1;
                            let (secs, nanos) = instant(r.at());
                            journal.related.push((
                                id_u128(r.customer_id()),
                                secs,
                                nanos,
                                u128::from_be_bytes(r.id().to_bytes()),
                            ));
                        }
                        _ => {}
                    }
                    writes.extend(before);
                    writes.push(write);
                }
                Outcome::Rejected(problems) => {
                    self.report.rejected += 1;
                    if let Some(rejects) = &mut self.rejects {
                        rejects.write(&row, &problems, self.source.encoding)?;
                    }
                    self.problems.extend(problems);
                }
                Outcome::Skipped(problem, duplicate) => {
                    self.report.skipped += 1;
                    if duplicate {
                        self.report.duplicates += 1;
                    }
                    self.problems.push(problem);
                }
                Outcome::Unchanged => {
                    self.report.skipped += 1;
                    self.report.unchanged += 1;
                }
            }
            let records = journal.created.len() + journal.updated.len() + journal.related.len();
            if records >= batch_size || rows_in_batch >= batch_size * 4 {
                let pending = Pending {
                    writes: std::mem::replace(
                        &mut writes,
                        Vec::with_capacity(batch_size.min(1 << 16)),
                    ),
                    journal: std::mem::take(&mut journal),
                    counts: self.report,
                    bytes: self.source.position(),
                    last: false,
                };
                rows_in_batch = 0;
                if tx.send(pending).is_err() {
                    // The writer stopped on an error; it reports it.
                    return Ok(());
                }
            }
        }
        let _ = tx.send(Pending {
            writes,
            journal,
            counts: self.report,
            bytes: self.source.position(),
            last: true,
        });
        Ok(())
    }

    fn handle(&mut self, row: &Row) -> Outcome {
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
        match self.options.kind {
            ImportKind::Customers => self.customer_row(row),
            _ => self.related_row(row),
        }
    }

    fn customer_row(&mut self, row: &Row) -> Outcome {
        let book = self.book;
        let now = book.now();
        let mut built = match &row.dossier {
            Some(c) => RowCustomer {
                customer: (**c).clone(),
                has_kehu_id: true,
                present: Vec::new(),
                sources: Vec::new(),
                problems: Vec::new(),
            },
            None => customer_from_cells(
                &row.cells,
                &self.source.columns,
                &|name| book.rules.custom_field(name).map(|f| f.kind),
                now,
            ),
        };
        // Normalises the row; its report decides only for a new dossier (an
        // update is checked as merged with the dossier it changes).
        let report = book.rules.check(&mut built.customer, now);
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
                super::key_label(*key, value)
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
                Outcome::Written(
                    Write::Put {
                        customer: c,
                        expected: 0,
                    },
                    None,
                )
            }
        }
    }

    fn related_row(&mut self, row: &Row) -> Outcome {
        let Some((col, text)) = row
            .cells
            .iter()
            .find(|(c, _)| {
                self.source.columns.target(*c) == Some(&Target::Related(RelatedField::Customer))
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
        let mut record = match related_from_cells(&row.cells, &self.source.columns, &ctx) {
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
            row.cells.iter().find(|(c, t)| {
                self.source.columns.target(*c) == Some(&field) && !t.trim().is_empty()
            })
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
                    super::key_label(key, text)
                ),
            )),
            many => Err((
                "customer.ambiguous",
                format!(
                    "{} customers have {}; name the customer by another key (--customer-key)",
                    many.len(),
                    super::key_label(key, text)
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
                1 => return Ok(found.pop().map(|c| (c, super::key_label(*key, value)))),
                n => {
                    return Err(format!(
                        "{n} customers in the book have {}; choose another --key",
                        super::key_label(*key, value)
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
        let columns = &self.source.columns;
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

/// The rejects file: rejected rows as they were, in the input's format and
/// encoding, with a `kehu_errors` column that an import of the file ignores.
struct RejectsFile {
    path: String,
    out: RejectsOut,
}

enum RejectsOut {
    Csv(Box<csv::Writer<BufWriter<File>>>, usize),
    Lines(BufWriter<File>),
}

impl RejectsFile {
    fn create(path: &Path, source: &Source) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| Error::Io {
            path: shown.clone(),
            source: e,
        };
        let mut file = BufWriter::new(File::create(path).map_err(io)?);
        if source.bom {
            // Spreadsheet tools read a UTF-8 file as UTF-8 only with its byte-order mark.
            file.write_all(b"\xef\xbb\xbf").map_err(io)?;
        }
        let out = match source.raw_header() {
            Some(header) => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(source.delimiter)
                    .flexible(true)
                    .from_writer(file);
                let mut h = header.clone();
                h.push_field(&encode(source.encoding, "kehu_errors"));
                w.write_byte_record(&h).map_err(|e| io(e.into()))?;
                RejectsOut::Csv(Box::new(w), header.len())
            }
            None => RejectsOut::Lines(file),
        };
        Ok(Self { path: shown, out })
    }

    fn write(
        &mut self,
        row: &Row,
        problems: &[RowProblem],
        encoding: TextEncoding,
    ) -> Result<(), Error> {
        let errors = problems
            .iter()
            .map(|p| match &p.column {
                Some(c) => format!("{c}: {} [{}]", p.message, p.code),
                None => format!("{} [{}]", p.message, p.code),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let path = self.path.clone();
        let io = |e: std::io::Error| Error::Io {
            path: path.clone(),
            source: e,
        };
        match (&mut self.out, &row.raw) {
            (RejectsOut::Csv(w, width), RawRow::Csv(record)) => {
                let mut r = record.clone();
                while r.len() < *width {
                    r.push_field(b"");
                }
                r.push_field(&encode(encoding, &errors));
                w.write_byte_record(&r).map_err(|e| io(e.into()))
            }
            (RejectsOut::Lines(w), RawRow::Line(bytes)) => {
                let parsed = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
                let line = match parsed {
                    Some(serde_json::Value::Object(mut map)) => {
                        map.insert("kehu_errors".into(), serde_json::Value::String(errors));
                        serde_json::to_vec(&map).unwrap_or_else(|_| bytes.clone())
                    }
                    _ => bytes.clone(),
                };
                w.write_all(&line)
                    .and_then(|()| w.write_all(b"\n"))
                    .map_err(io)
            }
            _ => Ok(()),
        }
    }

    fn finish(self) -> Result<String, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: self.path.clone(),
            source: e,
        };
        match self.out {
            RejectsOut::Csv(mut w, _) => w.flush().map_err(io)?,
            RejectsOut::Lines(mut w) => w.flush().map_err(io)?,
        }
        Ok(self.path)
    }
}
