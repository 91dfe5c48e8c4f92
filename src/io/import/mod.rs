//! The import engine, three stages at once: rows are read, built,
//! normalised and prepared for the duplicate check a block at a time on
//! every core (`prepare`); checked for natural keys and duplicates row by
//! row on one thread (`reader`); committed in batches on the caller's
//! (`writer`). Rejected rows go to a rejects file (`rejects`).

mod decide;
mod prepare;
mod reader;
mod rejects;
mod rows;
mod writer;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::sync_channel;

use kehu_model::catalogue::RelatedField;
use kehu_model::RecordId;
use kehu_table::{field_named, Source, SourceHints, Target};

use reader::{ReadResult, RowReader};
use rejects::RejectsFile;
use writer::Pending;

use super::journal::ImportSummary;
use super::{Format, ImportKind, ImportOptions, ImportReport, Progress};
use crate::duplicates::model::{BookModel, SAMPLE};
use crate::write::Check;
use crate::{Book, Error, OnDuplicate};

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
        self.allow(crate::Operation::Import, None)?;
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
        self.may_import(options)?;
        let hints = SourceHints {
            name,
            format: options.format,
            encoding: options.encoding,
            delimiter: options.delimiter.map(|d| d.0),
            ..self.source_hints(options)
        };
        let source = Source::open(reader, hints).map_err(|e| Error::Input {
            file: name.to_string(),
            message: e.to_string(),
        })?;
        self.import_source(source, name, bytes_total, options, progress, started_at)
    }

    /// Imports a table already in rows of text (a DataFrame's, an Arrow
    /// stream's) under its column names, as a CSV file with that header
    /// would be imported: the same mapping, checks, report and journal; a
    /// rejects file is CSV. `name` names it in reports. The options'
    /// format, encoding and delimiter are for files: setting one is refused.
    pub fn import_rows(
        &self,
        headers: &[String],
        rows: kehu_table::TextRows,
        name: &str,
        options: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport, Error> {
        let started_at = self.now();
        for (set, option) in [
            (options.format.is_some(), "format"),
            (options.encoding.is_some(), "encoding"),
            (options.delimiter.is_some(), "delimiter"),
        ] {
            if set {
                return Err(Error::option(
                    option,
                    "a table of rows has none: it is for files",
                ));
            }
        }
        self.may_import(options)?;
        let source = Source::from_rows(headers, rows, self.source_hints(options));
        self.import_source(source, name, None, options, progress, started_at)
    }

    /// Whether this handle may run the import the options describe.
    fn may_import(&self, options: &ImportOptions) -> Result<(), Error> {
        options.check()?;
        self.allow(crate::Operation::Import, None)?;
        // A key finds a row's customer by its value: a condition on the field.
        self.filter_on(options.keys.iter().filter_map(|k| k.field()))?;
        let creates_only = options.kind == ImportKind::Customers
            && options.mode == crate::io::Mode::Create
            && options.on_duplicate != OnDuplicate::Merge;
        if !creates_only {
            // Related records, updates and merges reach dossiers by key: a
            // principal must reach them all.
            self.whole_book(
                crate::Operation::Import,
                "import updates, merges or related records",
            )?;
        }
        Ok(())
    }

    /// What every source of an import is told: the kind, the mapping, the
    /// rule set's custom fields (format, encoding and delimiter: none).
    fn source_hints(&self, options: &ImportOptions) -> SourceHints<'static> {
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
        SourceHints {
            name: "",
            format: None,
            encoding: None,
            delimiter: None,
            kind: options.kind,
            explicit,
            custom,
        }
    }

    /// The import of an opened source.
    fn import_source(
        &self,
        source: Source,
        name: &str,
        bytes_total: Option<u64>,
        options: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
        started_at: kehu_model::Timestamp,
    ) -> Result<ImportReport, Error> {
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
        let (blocks_tx, blocks) = sync_channel(2);
        let (columns, encoding) = (source.columns.clone(), source.encoding);
        let actor = format!("{} (import {import_id})", self.actor);
        let checked =
            options.kind == ImportKind::Customers && options.on_duplicate != OnDuplicate::Allow;
        if checked {
            // What the check may write (keys of an older book, a model
            // learned now) is written before the import holds the book.
            self.key_book_if_needed()?;
            if self.count()? > 0 {
                self.duplicate_model()?;
            }
        }
        // The reader looks at the book once the writer holds it: then no
        // other writer (another process's import into a shared book) commits
        // between what the reader checks against and what the writer writes.
        let (go, went) = std::sync::mpsc::channel::<writer::Turn>();
        let (read, written, source) = std::thread::scope(|scope| {
            let first = scope.spawn(move || prepare::read_blocks(source, self, options, blocks_tx));
            let handle = scope.spawn(move || -> Result<ReadResult, Error> {
                // An error of the writer before it held the book ends the wait too.
                let _ = went.recv();
                let snapshot = self.store.snapshot()?;
                let empty_book = snapshot.customer_count()? == 0;
                let check = if checked {
                    Some(crate::write::Check::without_writes(self)?)
                } else {
                    None
                };
                // A book without dossiers has nothing to learn a model from: the
                // import learns one from its own first rows.
                let learning =
                    (checked && empty_book && self.stored_model()?.is_none()).then(Vec::new);
                let mut reader = RowReader {
                    book: self,
                    options,
                    snapshot,
                    columns,
                    encoding,
                    position: 0,
                    rejects,
                    report: Counts::default(),
                    problems: Vec::new(),
                    duplicate_rows: Vec::new(),
                    listed_warnings: 0,
                    seen: HashMap::new(),
                    touched: HashSet::new(),
                    customers: HashMap::new(),
                    empty_book,
                    import_id,
                    learned: learning.is_some(),
                    ahead: crate::ahead::Ahead::default(),
                    turns: went,
                    in_transaction: 0,
                    looked_again: false,
                    check,
                    learning,
                    written: HashMap::new(),
                };
                let outcome = reader.run(blocks, &tx);
                let model = match (&outcome, &reader.check, options.dry_run) {
                    (Ok(()), Some(check), false) => {
                        self.model_after_import(check, reader.learned)?
                    }
                    _ => None,
                };
                let RowReader {
                    rejects,
                    report,
                    problems,
                    duplicate_rows,
                    ..
                } = reader;
                Ok((rejects, report, problems, duplicate_rows, model, outcome))
            });
            let written = self.commit_batches(
                rx,
                go,
                import_id,
                name,
                options,
                &actor,
                started_at,
                bytes_total,
                progress,
            );
            let panicked = |_| Error::Corrupt("the import's reading thread panicked".into());
            let read = handle.join().map_err(panicked);
            let source = first.join().map_err(panicked);
            (read, written, source)
        });
        let (rejects, counts, problems, duplicate_rows, model, outcome) = read??;
        let source = source?;
        written?;
        outcome?;
        if !options.dry_run && checked {
            if let Some(model) = model {
                let mut model = model;
                model.trained_on = self.store.snapshot()?.customer_count()?;
                self.keep_model(&model)?;
            }
            self.compact_runs()?;
        }
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
            duplicates_in_file: counts.in_file,
            duplicates: counts.duplicates,
            merged: counts.merged,
            unchanged: counts.unchanged,
            warnings: counts.warnings,
            problems,
            duplicate_rows,
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

    /// The model to keep after an import: the one it learned from its first
    /// rows, or one learned anew from a sample of its rows when the book has
    /// grown to more than twice what its model was learned on; none when
    /// the book's model still fits.
    fn model_after_import(
        &self,
        check: &Check<'_>,
        learned: bool,
    ) -> Result<Option<BookModel>, Error> {
        let settings = crate::duplicates::model::book_settings();
        let rows = check.written_rows();
        let stale = match self.stored_model()? {
            Some(m) if !learned => {
                let grown = m.trained_on + rows.len() as u64;
                !m.fresh(grown)
            }
            _ => true,
        };
        if !stale || rows.len() < 2 {
            return Ok(None);
        }
        let model = if learned && rows.len() <= 2 * reader::LEARN_FROM {
            check.matcher().model().clone()
        } else {
            let step = rows.len().div_ceil(SAMPLE).max(1);
            let sample: Vec<u32> = rows.iter().step_by(step).copied().collect();
            check.matcher().learn(&sample, &settings)?
        };
        Ok(Some(BookModel {
            settings,
            model,
            trained_on: 0,
        }))
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
    /// Of the skipped: the same natural key as an earlier row.
    in_file: u64,
    /// Of the skipped: duplicates the check found.
    duplicates: u64,
    /// Of the updated: rows merged into the dossier they duplicate.
    merged: u64,
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
