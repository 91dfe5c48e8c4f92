//! `kehu import`, `kehu validate` and `kehu revert`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kehu::io::{
    Delimiter, Format, ImportKind, ImportOptions, ImportReport, Mode, NaturalKey, Progress,
    TextEncoding,
};
use kehu::{Book, Currency, Error, OnDuplicate, RecordId, Survivorship};

use crate::book::{existing_book, open_book};
use crate::output::{print_json, stdout_error};
use crate::Done;

#[derive(Args)]
pub(crate) struct ReadArgs {
    /// What the file holds: customers, purchases, interactions, feedback or consents.
    #[arg(long, default_value = "customers")]
    kind: ImportKind,
    /// Map a column to a field, COLUMN=FIELD (repeatable); other columns are mapped by their headers.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// A rule set (TOML or JSON), saved in the book for every later use; else the book's saved rules, else the standard ones.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// The text encoding: utf-8 or gb18030 (reads GBK); detected when not given.
    #[arg(long)]
    encoding: Option<TextEncoding>,
    /// The CSV delimiter (one character; `tab` for a tab); sniffed from the header when not given.
    #[arg(long)]
    delimiter: Option<Delimiter>,
    /// csv or jsonl; from the file name when not given.
    #[arg(long)]
    format: Option<Format>,
    /// For purchases without a currency column: the currency (CNY, EUR, …).
    #[arg(long)]
    currency: Option<Currency>,
    /// Write rejected rows here, in the input's format, with a kehu_errors column; fix and import it again.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// The book (a file; created if missing).
    book: PathBuf,
    /// The file to import (CSV or JSON Lines).
    file: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
    /// create (skip rows already in the book), update (skip rows not in it) or upsert.
    #[arg(long, default_value = "create")]
    mode: Mode,
    /// The natural key that finds a row's customer: external_id, email, phone or id (repeatable, tried in order).
    #[arg(long = "key")]
    keys: Vec<NaturalKey>,
    /// For related records: what the customer column holds (external_id, email, phone or id).
    #[arg(long, default_value = "external_id")]
    customer_key: NaturalKey,
    /// Rows that duplicate a dossier in the book or an earlier row: report (a
    /// sure match is skipped, a possible one imported; both listed), skip
    /// (neither imported), merge (a sure match merged into its dossier) or allow.
    #[arg(long, default_value = "report", value_name = "POLICY")]
    on_duplicate: OnDuplicate,
    /// The survivorship policy of --on-duplicate merge (TOML or JSON); default: the newest value.
    #[arg(long, value_name = "FILE")]
    survivorship: Option<PathBuf>,
    /// Check and report everything; write nothing to the book.
    #[arg(long)]
    dry_run: bool,
    /// Records per transaction: a crash keeps every committed transaction whole, nothing of the one in flight.
    #[arg(long, default_value_t = 1_000_000)]
    batch: usize,
}

#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// The file to check.
    file: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args)]
pub(crate) struct RevertArgs {
    /// The book.
    book: PathBuf,
    /// The import's id (as `kehu import` printed it, or from `kehu imports`).
    import_id: RecordId,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The import options the arguments give; the library checks them.
fn options(read: &ReadArgs) -> Result<ImportOptions, Error> {
    let mut mapping = Vec::new();
    for m in &read.map {
        let Some((col, field)) = m.rsplit_once('=') else {
            return Err(Error::Usage(format!(
                "--map {m:?}: write it as COLUMN=FIELD, for example --map 手机=phone"
            )));
        };
        mapping.push((col.trim().to_string(), field.trim().to_string()));
    }
    Ok(ImportOptions {
        kind: read.kind,
        format: read.format,
        encoding: read.encoding,
        delimiter: read.delimiter,
        mapping,
        currency: read.currency,
        rejects: read.rejects.clone(),
        ..ImportOptions::default()
    })
}

fn progress_bar(quiet: bool, json: bool) -> Option<ProgressBar> {
    if quiet || json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} · {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn run_import(
    book: &Book,
    file: &Path,
    opts: &ImportOptions,
    quiet: bool,
    json: bool,
) -> Result<ImportReport, Error> {
    let bar = progress_bar(quiet, json);
    let mut on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            if let Some(total) = p.bytes_total {
                bar.set_length(total);
            }
            bar.set_position(p.bytes);
            bar.set_message(format!("{} rows", p.rows));
        }
    };
    let report = book.import_file_with_progress(file, opts, &mut on_progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}

pub(crate) fn import(args: ImportArgs) -> Result<Done, Error> {
    let mut opts = options(&args.read)?;
    opts.mode = args.mode;
    if !args.keys.is_empty() {
        opts.keys = args.keys.clone();
    }
    opts.customer_key = args.customer_key;
    opts.on_duplicate = args.on_duplicate;
    if let Some(path) = &args.survivorship {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        opts.survivorship = Survivorship::parse(&text)?;
    }
    opts.dry_run = args.dry_run;
    opts.batch_size = args.batch;
    if !args.file.exists() {
        return Err(Error::Usage(format!(
            "{}: no such file",
            args.file.display()
        )));
    }
    let book = open_book(&args.book, args.read.rules.as_deref())?;
    let report = run_import(&book, &args.file, &opts, args.read.quiet, args.read.json)?;
    print_report(&report, args.read.json, Some(&args.book))?;
    Ok(if report.rejected > 0 {
        Done::SomeRejected
    } else {
        Done::Ok
    })
}

pub(crate) fn validate(args: ValidateArgs) -> Result<Done, Error> {
    let rules = match args.read.rules.as_deref() {
        Some(p) => Book::load_rules(p)?,
        None => kehu::Rules::standard(),
    };
    let mut opts = options(&args.read)?;
    opts.dry_run = true;
    if opts.kind != ImportKind::Customers {
        return Err(Error::Usage(
            "validate checks customer files; related records need their customers: use `kehu import BOOK FILE --kind … --dry-run`".into(),
        ));
    }
    let book = Book::with_store(Box::new(kehu::MemoryStore::new()), rules);
    let report = run_import(&book, &args.file, &opts, args.read.quiet, args.read.json)?;
    print_report(&report, args.read.json, None)?;
    Ok(if report.rejected > 0 {
        Done::SomeRejected
    } else {
        Done::Ok
    })
}

fn print_report(report: &ImportReport, json: bool, book: Option<&Path>) -> Result<(), Error> {
    if json {
        return print_json(report);
    }
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| writeln!(out, "{line}").map_err(stdout_error);
    let head = match (&report.import_id, book) {
        (Some(id), Some(book)) => format!("import {id} into {}", kehu::display_address(book)),
        _ => "dry run (nothing written)".to_string(),
    };
    say(format!(
        "{head}: {} ({}, {}{})",
        report.summary(),
        report.source,
        report.encoding.name(),
        report
            .delimiter
            .map(|d| format!(", delimiter {d:?}"))
            .unwrap_or_default()
    ))?;
    if !report.unknown_columns.is_empty() {
        say(format!(
            "columns not imported (unknown): {} — map them with --map COLUMN=FIELD or declare them as custom fields in the rules",
            report.unknown_columns.join(", ")
        ))?;
    }
    let errors: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.severity == kehu::Severity::Error)
        .collect();
    let skips: Vec<_> = report
        .problems
        .iter()
        .filter(|p| {
            p.severity != kehu::Severity::Error
                && !p.code.starts_with("format.")
                && !p.code.starts_with("date.")
        })
        .collect();
    const SHOWN: usize = 20;
    if !errors.is_empty() {
        say(format!("rejected rows ({}):", report.rejected))?;
        for p in errors.iter().take(SHOWN) {
            say(format!("  {p}"))?;
        }
        if errors.len() > SHOWN {
            say(format!(
                "  … and {} more problems (--json lists them all)",
                errors.len() - SHOWN
            ))?;
        }
    }
    if !skips.is_empty() {
        say(format!(
            "skipped rows ({}):",
            report.skipped - report.unchanged
        ))?;
        for p in skips.iter().take(SHOWN) {
            say(format!("  {p}"))?;
        }
        if skips.len() > SHOWN {
            say(format!("  … and {} more", skips.len() - SHOWN))?;
        }
    }
    if report.warnings > 0 {
        say(format!(
            "{} warnings on imported rows (values kept as entered; --json lists the first ones)",
            report.warnings
        ))?;
    }
    if let Some(rejects) = &report.rejects_file {
        if report.rejected > 0 {
            say(format!(
                "rejected rows written to {rejects}: fix them there and import that file again"
            ))?;
        }
    }
    if let (Some(id), Some(book)) = (&report.import_id, book) {
        if report.imported + report.updated > 0 {
            say(format!(
                "undo with: kehu revert {} {id}",
                kehu::display_address(book)
            ))?;
        }
    }
    Ok(())
}

pub(crate) fn revert(args: RevertArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let report = book.revert_import(args.import_id)?;
    if args.json {
        return print_json(&report).map(|()| Done::Ok);
    }
    println!(
        "reverted import {}: {} dossiers removed, {} restored, {} related records removed",
        report.import_id, report.removed, report.restored, report.unrelated
    );
    Ok(Done::Ok)
}
