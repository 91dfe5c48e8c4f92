//! `kehu`: import, validate, export, inspect, segment and dedupe customer books from the shell.
//!
//! Exit codes: 0 success, 1 a usage or I/O error, 2 finished but some rows were rejected.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::TimeDelta;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kehu::io::{
    ExportFilter, ExportOptions, Format, ImportKind, ImportOptions, ImportReport, Mode, NaturalKey,
    Progress, TextEncoding,
};
use kehu::{Book, Customer, CustomerId, Error, RecordId, Related, Rules};
use serde::Serialize;

mod dedupe;
mod keys;

/// kehu (客户): keep customer records clean, deduplicated and safe.
#[derive(Parser)]
#[command(name = "kehu", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The key file of an encrypted book (else KEHU_KEY_FILE, else the
    /// passphrase in KEHU_PASSPHRASE or asked on the terminal).
    #[arg(long, global = true, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Act as this user, under --policy (get, find, export, segment read
    /// through it: rows outside the user's scope left out, fields masked by
    /// role; import checks the user may import).
    #[arg(long = "as", global = true, value_name = "USER")]
    as_user: Option<String>,
    /// The user's roles, comma-separated (with --as).
    #[arg(long, global = true, value_name = "ROLES", value_delimiter = ',')]
    roles: Vec<String>,
    /// The access policy (TOML or JSON; with --as; else KEHU_POLICY).
    #[arg(long, global = true, value_name = "FILE")]
    policy: Option<PathBuf>,
}

/// The principal and policy of `--as`, when given.
static AS: std::sync::OnceLock<(kehu::Principal, kehu::Policy)> = std::sync::OnceLock::new();

fn set_principal(user: String, roles: Vec<String>, policy: Option<PathBuf>) -> Result<(), Error> {
    let path = policy
        .or_else(|| std::env::var_os("KEHU_POLICY").map(PathBuf::from))
        .ok_or_else(|| Error::Usage("--as needs --policy FILE (or KEHU_POLICY)".into()))?;
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let policy = if path.extension().is_some_and(|e| e == "json") {
        kehu::Policy::from_json(&text)?
    } else {
        kehu::Policy::from_toml(&text)?
    };
    let principal = kehu::Principal {
        user,
        roles,
        team: None,
    };
    let _ = AS.set((principal, policy));
    Ok(())
}

/// The book as the `--as` user sees it, if one was given.
fn guarded(book: &Book) -> Option<kehu::Guarded<'_>> {
    AS.get()
        .map(|(p, policy)| book.as_principal(p.clone(), policy))
}

#[derive(Subcommand)]
enum Command {
    /// Import customers or their purchases, interactions, feedback or consents from CSV or JSON Lines.
    #[command(after_help = "Examples:
  kehu import book.kehu customers.csv --rejects rejects.csv
  kehu import book.kehu crm.csv --map 手机=phone --map \"E-mail\"=email --mode upsert --key email
  kehu import book.kehu purchases.csv --kind purchases --customer-key external_id
  kehu import book.kehu customers.csv --dry-run --json")]
    Import(ImportArgs),
    /// Check a file against the rules without a book: the report only.
    #[command(after_help = "Example:
  kehu validate customers.csv --rules rules.toml --rejects rejects.csv")]
    Validate(ValidateArgs),
    /// Write the book (or a part of it) as CSV or JSON Lines.
    #[command(after_help = "Examples:
  kehu export book.kehu -o all.csv
  kehu export book.kehu --format jsonl --tag VIP -o vip.jsonl")]
    Export(ExportArgs),
    /// Show one whole dossier: fields, purchases, interactions, feedback, consents, history.
    #[command(after_help = "Examples:
  kehu get book.kehu 0196f3a2-5c1e-7b7a-9d3e-2f4b8c6a1e00
  kehu get book.kehu C-10042 --json      (an external id works too)")]
    Get(GetArgs),
    /// Find dossiers by e-mail, phone, external id or tag.
    #[command(after_help = "Examples:
  kehu find book.kehu --email wei.zhang@example.com
  kehu find book.kehu --phone \"138 0013 8000\" --json")]
    Find(FindArgs),
    /// The review queue: dossiers not verified for N days, the longest-unverified first.
    #[command(after_help = "Example:
  kehu stale book.kehu --days 365 --limit 50")]
    Stale(StaleArgs),
    /// Counts by kind, stage, source and tag, and rows imported per month.
    #[command(after_help = "Example:
  kehu stats book.kehu --json")]
    Stats(BookArgs),
    /// List the imports this book remembers.
    #[command(after_help = "Example:
  kehu imports book.kehu")]
    Imports(BookArgs),
    /// The customers a condition selects (see docs/segments.md for the language).
    #[command(after_help = "Examples:
  kehu segment book.kehu 'city = \"上海\" and purchases.sum(within 1y) >= 1000' --count
  kehu segment book.kehu 'stage >= active and not has tag \"VIP\"' --csv > list.csv
  kehu segment book.kehu 'purchases.last before 180d ago' --as-of 2026-01-01 --ids
  kehu segment book.kehu 'complaints.open > 0' --explain C00001
  kehu segment save book.kehu vip 'has tag \"VIP\" or purchases.sum >= 5000'
  kehu segment list book.kehu
  kehu segment members book.kehu vip --offset 100 --limit 50
  kehu segment explain book.kehu vip C00001")]
    Segment(SegmentArgs),
    /// RFM scores of every buyer: the named groups and the recency × frequency grid.
    #[command(after_help = "Examples:
  kehu rfm book.kehu
  kehu rfm book.kehu --currency CNY --as-of 2026-01-01 --json
  kehu rfm book.kehu --tag-high VIP          (tag the high value tier, untag the rest)")]
    Rfm(ClassifyArgs),
    /// The book at a glance: stages (derived from purchases), value tiers, RFM groups, new customers per month.
    #[command(after_help = "Example:
  kehu report book.kehu --json")]
    Report(ClassifyArgs),
    /// Undo an import: remove what it created, restore what it changed.
    #[command(after_help = "Example:
  kehu revert book.kehu 0196f3a2-5c1e-7b7a-9d3e-2f4b8c6a1e00")]
    Revert(RevertArgs),
    /// Find duplicates in a CSV file or a book (or link two files): pairs, clusters, explanations.
    #[command(after_help = "Examples:
  kehu dedupe customers.csv --pairs-out pairs.csv --clusters-out clusters.csv
  kehu dedupe febrl.csv --id-column rec_id --explain rec-1-org rec-1-dup-0
  kehu dedupe crm.csv --link shop.csv --pairs-out links.csv
  kehu dedupe book.kehu --threshold 0.95
  kehu dedupe customers.csv --settings dedupe.toml --json")]
    Dedupe(dedupe::DedupeArgs),
    /// Merge dossiers into the first by a survivorship policy; related records move with them.
    #[command(after_help = "Examples:
  kehu merge book.kehu C-1001 C-2040 --dry-run
  kehu merge book.kehu 0196f3a2-… 0196f3a9-… --policy survivorship.toml")]
    Merge(dedupe::MergeArgs),
    /// Undo a merge by its receipt.
    #[command(after_help = "Example:
  kehu unmerge book.kehu 0196f3b0-7c2e-7d1a-8e4f-9a0b1c2d3e4f")]
    Unmerge(dedupe::UnmergeArgs),
    /// Create an empty book; --encrypt seals it under a passphrase or a key file.
    #[command(after_help = "Examples:
  KEHU_PASSPHRASE=... kehu init book.kehu --encrypt
  kehu init book.kehu --encrypt --key-file book.key   (writes a new key file if there is none)")]
    Init(InitArgs),
    /// Erase a customer: dossier, related records, history and (encrypted books) its key.
    #[command(
        after_help = "Example:\n  kehu forget book.kehu C00071      (a kehu id or an external id)"
    )]
    Forget(ForgetArgs),
    /// The audit trail: `verify` checks its hash chain, `list` prints it (no personal values).
    #[command(
        after_help = "Examples:\n  kehu audit verify book.kehu\n  kehu audit list book.kehu --json"
    )]
    /// Everything the book holds about one customer, as one JSON document (subject access request).
    #[command(
        name = "subject-export",
        after_help = "Example:\n  kehu subject-export book.kehu C00071 > c00071.json"
    )]
    SubjectExport(ForgetArgs),
    /// Put an encrypted book under a new key (one transaction: safe to interrupt).
    #[command(
        name = "rotate-key",
        after_help = "Examples:\n  KEHU_PASSPHRASE=old KEHU_NEW_PASSPHRASE=new kehu rotate-key book.kehu\n  kehu rotate-key book.kehu --key-file old.key --new-key-file new.key"
    )]
    RotateKey(RotateArgs),
    /// Write a consistent backup of a book to one file (checksummed; sealed values stay sealed).
    #[command(after_help = "Example:\n  kehu backup book.kehu book-2026-11-24.bak")]
    Backup(BackupArgs),
    /// Restore a backup as a book (checked whole first; erasures since the backup are re-applied).
    #[command(after_help = "Example:\n  kehu restore book-2026-11-24.bak book.kehu")]
    Restore(RestoreArgs),
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Args)]
struct ReadArgs {
    /// What the file holds: customers, purchases, interactions, feedback or consents.
    #[arg(long, default_value = "customers")]
    kind: ImportKind,
    /// Map a column to a field, COLUMN=FIELD (repeatable); other columns are mapped by their headers.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// A rule set (TOML or JSON); the standard rules otherwise.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// The text encoding: utf-8 or gb18030 (reads GBK); detected when not given.
    #[arg(long)]
    encoding: Option<TextEncoding>,
    /// The CSV delimiter (one character; `tab` for a tab); sniffed from the header when not given.
    #[arg(long)]
    delimiter: Option<String>,
    /// csv or jsonl; from the file name when not given.
    #[arg(long)]
    format: Option<Format>,
    /// For purchases without a currency column: the currency (CNY, EUR, …).
    #[arg(long)]
    currency: Option<String>,
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
struct ImportArgs {
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
    /// Check and report everything; write nothing to the book.
    #[arg(long)]
    dry_run: bool,
    /// Records per transaction: a crash keeps every committed transaction whole, nothing of the one in flight.
    #[arg(long, default_value_t = 1_000_000)]
    batch: usize,
}

#[derive(Args)]
struct ValidateArgs {
    /// The file to check.
    file: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args)]
struct BookArgs {
    /// The book.
    book: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// The book.
    book: PathBuf,
    /// csv or jsonl.
    #[arg(long, default_value = "csv")]
    format: Format,
    /// Only dossiers with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Only dossiers not verified for this many days.
    #[arg(long, value_name = "DAYS")]
    stale_days: Option<u32>,
    /// Only this dossier (repeatable).
    #[arg(long = "id")]
    ids: Vec<CustomerId>,
    /// Only customers whose consent to this purpose holds now (`marketing`, or `marketing:sms` for one channel).
    #[arg(long, value_name = "PURPOSE[:CHANNEL]")]
    consent: Option<String>,
    /// The output file; standard output when not given.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct GetArgs {
    /// The book.
    book: PathBuf,
    /// A kehu id, or an external id.
    id: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct FindArgs {
    /// The book.
    book: PathBuf,
    /// An e-mail address (any case).
    #[arg(long)]
    email: Option<String>,
    /// A phone number, in any format.
    #[arg(long)]
    phone: Option<String>,
    /// An id in the source system.
    #[arg(long)]
    external_id: Option<String>,
    /// A tag.
    #[arg(long)]
    tag: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct StaleArgs {
    /// The book.
    book: PathBuf,
    /// Not verified for this many days.
    #[arg(long)]
    days: u32,
    /// Show at most this many.
    #[arg(long)]
    limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SegmentArgs {
    #[command(subcommand)]
    saved: Option<SavedAction>,
    /// The book.
    #[arg(required = true)]
    book: Option<PathBuf>,
    /// The condition, for example: city = "上海" and purchases.count(within 90d) >= 2
    #[arg(required = true)]
    condition: Option<String>,
    /// Print only how many customers it selects.
    #[arg(long, conflicts_with_all = ["ids", "csv", "explain"])]
    count: bool,
    /// Print only their ids.
    #[arg(long, conflicts_with_all = ["csv", "explain"])]
    ids: bool,
    /// Print them as CSV (the export's columns).
    #[arg(long, conflicts_with = "explain")]
    csv: bool,
    /// Evaluate as of this date (YYYY-MM-DD, end of day UTC) instead of now.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Say why this customer (kehu id or external id) is in the segment or not.
    #[arg(long, value_name = "ID")]
    explain: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Saved segments.
#[derive(Subcommand)]
enum SavedAction {
    /// Save a segment under a name: dynamic (kept current) or --static (today's members).
    Save {
        /// The book.
        book: PathBuf,
        /// The segment's name.
        name: String,
        /// The condition.
        condition: String,
        /// Keep today's members instead of following the book.
        #[arg(long = "static")]
        frozen: bool,
    },
    /// List the saved segments.
    List {
        /// The book.
        book: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one saved segment and how many members it has.
    Show {
        /// The book.
        book: PathBuf,
        /// The segment's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The members of a saved segment, in id order, a page at a time.
    Members {
        /// The book.
        book: PathBuf,
        /// The segment's name.
        name: String,
        /// Skip this many members.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Show at most this many.
        #[arg(long)]
        limit: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Why a customer (kehu id or external id) is in a saved segment or not.
    Explain {
        /// The book.
        book: PathBuf,
        /// The segment's name.
        name: String,
        /// The customer.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a saved segment.
    Delete {
        /// The book.
        book: PathBuf,
        /// The segment's name.
        name: String,
    },
}

#[derive(Args)]
struct ClassifyArgs {
    /// The book.
    book: PathBuf,
    /// The currency of the monetary value; the book's most used one when not given.
    #[arg(long)]
    currency: Option<String>,
    /// Classify as of this date (YYYY-MM-DD, end of day UTC) instead of now.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Tag the high value tier with this tag, and untag everyone else (the VIP rule).
    #[arg(long, value_name = "TAG")]
    tag_high: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RevertArgs {
    /// The book.
    book: PathBuf,
    /// The import's id (as `kehu import` printed it, or from `kehu imports`).
    import_id: RecordId,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// How a command ended, short of an error.
enum Done {
    Ok,
    SomeRejected,
    /// `kehu audit verify` found the trail changed.
    Tampered,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Some(file) = cli.key_file {
        let _ = keys::KEY_FILE.set(file);
    }
    if let Some(user) = cli.as_user {
        if let Err(e) = set_principal(user, cli.roles, cli.policy) {
            eprintln!("kehu: {e}");
            return ExitCode::from(1);
        }
    }
    match run(cli.command) {
        Ok(Done::Ok) => ExitCode::SUCCESS,
        Ok(Done::SomeRejected) => ExitCode::from(2),
        Ok(Done::Tampered) => ExitCode::from(3),
        Err(e) => {
            eprintln!("kehu: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(command: Command) -> Result<Done, Error> {
    match command {
        Command::Import(args) => import(args),
        Command::Validate(args) => validate(args),
        Command::Export(args) => export(args),
        Command::Get(args) => get(args),
        Command::Find(args) => find(args),
        Command::Stale(args) => stale(args),
        Command::Stats(args) => stats(args),
        Command::Imports(args) => imports(args),
        Command::Segment(args) => segment(args),
        Command::Rfm(args) => rfm(args, false),
        Command::Report(args) => rfm(args, true),
        Command::Revert(args) => revert(args),
        Command::Dedupe(args) => dedupe::dedupe(args),
        Command::Merge(args) => dedupe::merge(args),
        Command::Unmerge(args) => dedupe::unmerge(args),
        Command::Init(args) => init(args),
        Command::Forget(args) => forget(args),
        Command::Audit { action } => audit(action),
        Command::Backup(args) => backup(args),
        Command::RotateKey(args) => {
            let old = keys::provider(&args.book)?;
            let new = keys::replacement(args.new_key_file.as_deref(), &args.book)?;
            let n = Book::rotate_key(&args.book, &*old, &*new)?;
            println!(
                "{} is under its new key ({n} customer keys re-wrapped)",
                args.book.display()
            );
            Ok(Done::Ok)
        }
        Command::SubjectExport(args) => {
            let book = existing_book(&args.book)?;
            let id = match args.id.parse::<CustomerId>() {
                Ok(id) => id,
                Err(_) => lookup(&book, &args.id)?.id,
            };
            print_json(&book.subject_export(id)?).map(|()| Done::Ok)
        }
        Command::Restore(args) => restore(args),
    }
}

fn rules(path: Option<&Path>) -> Result<Rules, Error> {
    match path {
        Some(p) => Book::load_rules(p),
        None => Ok(Rules::standard()),
    }
}

/// Opens a book that must already exist, with the rules saved in it.
#[derive(Args)]
struct InitArgs {
    /// The book to create.
    book: PathBuf,
    /// Encrypt the book's personal data (key: --key-file, KEHU_KEY_FILE, KEHU_PASSPHRASE or a prompt).
    #[arg(long)]
    encrypt: bool,
    /// Rules to keep in the book (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

#[derive(Args)]
struct ForgetArgs {
    /// The book.
    book: PathBuf,
    /// The customer: a kehu id or an external id.
    id: String,
}

fn init(args: InitArgs) -> Result<Done, Error> {
    if args.book.exists() {
        return Err(Error::Usage(format!(
            "{}: a file of that name exists already",
            args.book.display()
        )));
    }
    let book = if args.encrypt {
        Book::open_encrypted(&args.book, &*keys::new_provider(&args.book)?)?
    } else {
        Book::open(&args.book)?
    };
    if let Some(rules) = &args.rules {
        book.save_rules(Book::load_rules(rules)?.rule_set())?;
    }
    println!(
        "created {} {}",
        if args.encrypt {
            "the encrypted book"
        } else {
            "the book"
        },
        args.book.display()
    );
    Ok(Done::Ok)
}

fn forget(args: ForgetArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let id = match args.id.parse::<CustomerId>() {
        Ok(id) => id,
        Err(_) => lookup(&book, &args.id)?.id,
    };
    let e = book.forget(id)?;
    println!(
        "erased customer {} (the erasure ledger keeps its id and time)",
        e.id
    );
    Ok(Done::Ok)
}

#[derive(Args)]
struct RotateArgs {
    /// The book (closed).
    book: PathBuf,
    /// The new key file (created when missing); else KEHU_NEW_PASSPHRASE or a prompt.
    #[arg(long, value_name = "FILE")]
    new_key_file: Option<PathBuf>,
}

#[derive(Args)]
struct BackupArgs {
    /// The book.
    book: PathBuf,
    /// The backup file to write.
    file: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// The book to restore (replaced if it exists).
    book: PathBuf,
}

fn backup(args: BackupArgs) -> Result<Done, Error> {
    let s = existing_book(&args.book)?.backup(&args.file)?;
    println!(
        "backed up {} to {}: {} entries, {} bytes, checksum {}",
        args.book.display(),
        args.file.display(),
        s.entries,
        s.bytes,
        if s.keyed {
            "keyed by the book key"
        } else {
            "blake3"
        }
    );
    Ok(Done::Ok)
}

fn restore(args: RestoreArgs) -> Result<Done, Error> {
    let key = match Book::restore(&args.file, &args.book, None) {
        Err(Error::Key(m)) if m.contains("encrypted") => Some(keys::provider(&args.book)?),
        Err(e) => return Err(e),
        Ok(book) => {
            println!(
                "restored {} ({} customers)",
                args.book.display(),
                book.count()?
            );
            return Ok(Done::Ok);
        }
    };
    let book = Book::restore(&args.file, &args.book, key.as_deref())?;
    println!(
        "restored {} ({} customers)",
        args.book.display(),
        book.count()?
    );
    Ok(Done::Ok)
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the trail: exit code 0 when intact, 3 with where it was changed.
    Verify {
        /// The book.
        book: PathBuf,
    },
    /// Print the trail.
    List {
        /// The book.
        book: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn audit(action: AuditAction) -> Result<Done, Error> {
    match action {
        AuditAction::Verify { book } => {
            let check = existing_book(&book)?.verify_audit()?;
            match check.problem {
                None => {
                    println!("audit trail intact: {} entries", check.entries);
                    Ok(Done::Ok)
                }
                Some(p) => {
                    println!("audit trail broken at entry {}: {}", p.seq, p.message);
                    Ok(Done::Tampered)
                }
            }
        }
        AuditAction::List { book, json } => {
            let trail = existing_book(&book)?.audit_trail(1)?;
            if json {
                return print_json(&trail).map(|()| Done::Ok);
            }
            let mut out = std::io::stdout().lock();
            for e in &trail {
                writeln!(
                    out,
                    "{:>6}  {}  {:<12} {:<14} {}  {}{}",
                    e.seq,
                    e.at.format("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.op,
                    e.target.map(|t| t.to_string()).unwrap_or_default(),
                    e.fields.join(","),
                    e.note
                        .as_deref()
                        .map(|n| format!("  ({n})"))
                        .unwrap_or_default()
                )
                .map_err(stdout_error)?;
            }
            Ok(Done::Ok)
        }
    }
}

fn existing_book(path: &Path) -> Result<Book, Error> {
    if !path.exists() {
        return Err(Error::Usage(format!(
            "{}: no such book (`kehu import {} FILE` creates one)",
            path.display(),
            path.display()
        )));
    }
    open_book(path, None)
}

/// Opens (or creates) a book. Rules given with `--rules` are saved in it;
/// without them the book's saved rules apply, else the standard ones.
fn open_book(path: &Path, rules_file: Option<&Path>) -> Result<Book, Error> {
    let book = if path.exists() && Book::is_encrypted(path)? {
        Book::open_encrypted(path, &*keys::provider(path)?)?
    } else {
        Book::open(path)?
    };
    let rules = match rules_file {
        Some(file) => {
            let rules = Book::load_rules(file)?;
            book.save_rules(rules.rule_set())?;
            rules
        }
        None => match book.saved_rules()? {
            Some(set) => Rules::new(set)?,
            None => return Ok(book.as_actor(actor())),
        },
    };
    Ok(book.with_rules(rules).as_actor(actor()))
}

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
    let delimiter = match read.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Error::Usage(format!(
                "--delimiter {d:?}: give one ASCII character, or `tab`"
            )))
        }
    };
    let currency = match &read.currency {
        Some(c) => Some(c.parse().map_err(|_| {
            Error::Usage(format!(
                "--currency {c:?}: not an ISO 4217 code such as CNY"
            ))
        })?),
        None => None,
    };
    Ok(ImportOptions {
        kind: read.kind,
        format: read.format,
        encoding: read.encoding,
        delimiter,
        mapping,
        currency,
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

fn import(args: ImportArgs) -> Result<Done, Error> {
    let mut opts = options(&args.read)?;
    opts.mode = args.mode;
    if !args.keys.is_empty() {
        opts.keys = args.keys.clone();
    }
    opts.customer_key = args.customer_key;
    opts.dry_run = args.dry_run;
    opts.batch_size = args.batch.max(1);
    if !args.file.exists() {
        return Err(Error::Usage(format!(
            "{}: no such file",
            args.file.display()
        )));
    }
    let book = open_book(&args.book, args.read.rules.as_deref())?;
    if let Some(g) = guarded(&book) {
        g.check(kehu::Operation::Import)?;
    }
    let report = run_import(&book, &args.file, &opts, args.read.quiet, args.read.json)?;
    print_report(&report, args.read.json, Some(&args.book))?;
    Ok(if report.rejected > 0 {
        Done::SomeRejected
    } else {
        Done::Ok
    })
}

fn validate(args: ValidateArgs) -> Result<Done, Error> {
    let rules = rules(args.read.rules.as_deref())?;
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

fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "kehu".into())
}

fn print_json(value: &impl Serialize) -> Result<(), Error> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| stdout_error(e.into()))?;
    writeln!(out).map_err(stdout_error)
}

fn stdout_error(e: std::io::Error) -> Error {
    Error::Io {
        path: "standard output".into(),
        source: e,
    }
}

fn print_report(report: &ImportReport, json: bool, book: Option<&Path>) -> Result<(), Error> {
    if json {
        return print_json(report);
    }
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| writeln!(out, "{line}").map_err(stdout_error);
    let head = match (&report.import_id, book) {
        (Some(id), Some(book)) => format!("import {id} into {}", book.display()),
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
            say(format!("undo with: kehu revert {} {id}", book.display()))?;
        }
    }
    Ok(())
}

fn export(args: ExportArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let opts = ExportOptions {
        format: args.format,
        filter: ExportFilter {
            tag: args.tag,
            stale: args.stale_days.map(|d| TimeDelta::days(i64::from(d))),
            ids: args.ids,
            consent: args.consent.as_deref().map(|c| match c.split_once(':') {
                Some((p, ch)) => (p.to_string(), Some(ch.to_string())),
                None => (c.to_string(), None),
            }),
        },
    };
    let n = match &args.output {
        Some(path) => {
            let file = File::create(path).map_err(|e| Error::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            let mut w = BufWriter::new(file);
            let n = match guarded(&book) {
                Some(g) => g.export(&mut w, &opts)?,
                None => book.export(&mut w, &opts)?,
            };
            eprintln!("{n} dossiers written to {}", path.display());
            n
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            match guarded(&book) {
                Some(g) => g.export(&mut out, &opts)?,
                None => book.export(&mut out, &opts)?,
            }
        }
    };
    let _ = n;
    Ok(Done::Ok)
}

/// The dossier an argument names: a kehu id, else an external id.
fn lookup(book: &Book, id: &str) -> Result<Customer, Error> {
    if let Ok(id) = id.parse::<CustomerId>() {
        return book.get(id);
    }
    let mut found = book.find_by_external_id(id)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Usage(format!(
            "no customer with id or external id {id:?} in this book"
        ))),
        n => Err(Error::Usage(format!(
            "{n} customers have external id {id:?}; name one by its kehu id"
        ))),
    }
}

#[derive(Serialize)]
struct Dossier {
    customer: Customer,
    related: Vec<Related>,
    history: Vec<kehu::Change>,
}

fn get(args: GetArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let dossier = match guarded(&book) {
        Some(g) => {
            let id = match args.id.parse::<CustomerId>() {
                Ok(id) => id,
                Err(_) => g
                    .find_by_external_id(&args.id)?
                    .first()
                    .map(|c| c.id)
                    .ok_or_else(|| {
                        Error::Usage(format!("no customer {:?} you may see", args.id))
                    })?,
            };
            Dossier {
                customer: g.get(id)?,
                related: g.related(id)?,
                history: g.history(id)?,
            }
        }
        None => {
            let customer = lookup(&book, &args.id)?;
            Dossier {
                related: book.related(customer.id)?,
                history: book.history(customer.id)?,
                customer,
            }
        }
    };
    if args.json {
        print_json(&dossier)?;
        return Ok(Done::Ok);
    }
    let mut out = std::io::stdout().lock();
    let text = render_dossier(&dossier);
    out.write_all(text.as_bytes()).map_err(stdout_error)?;
    Ok(Done::Ok)
}

fn render_dossier(d: &Dossier) -> String {
    let c = &d.customer;
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        if !v.is_empty() {
            s.push_str(&format!("{k:<14} {v}\n"));
        }
    };
    line("name", c.display_name());
    line("id", c.id.to_string());
    line("external id", c.external_id.clone().unwrap_or_default());
    line("kind", format!("{:?}", c.kind).to_lowercase());
    if let Some(org) = &c.organization {
        line("organization", org.name.clone().unwrap_or_default());
        line("industry", org.industry.clone().unwrap_or_default());
    }
    line("company", c.company.clone().unwrap_or_default());
    line("job title", c.job_title.clone().unwrap_or_default());
    line(
        "birth date",
        c.birth_date.map(|d| d.to_string()).unwrap_or_default(),
    );
    for e in &c.emails {
        line(
            "email",
            format!("{}{}", e.address, if e.primary { " (primary)" } else { "" }),
        );
    }
    for p in &c.phones {
        line(
            "phone",
            format!("{}{}", p.number, if p.primary { " (primary)" } else { "" }),
        );
    }
    for a in &c.addresses {
        let parts: Vec<&str> = [&a.street, &a.city, &a.region, &a.postcode, &a.country]
            .into_iter()
            .filter_map(|x| x.as_deref())
            .collect();
        line("address", parts.join(", "));
    }
    line("tags", c.tags.join(", "));
    line("owner", c.owner.clone().unwrap_or_default());
    line("source", c.source.clone().unwrap_or_default());
    line(
        "stage",
        c.lifecycle_stage.map(|s| s.to_string()).unwrap_or_default(),
    );
    for (k, v) in &c.custom {
        line(
            &format!("custom.{k}"),
            serde_json::to_string(v).unwrap_or_default(),
        );
    }
    line("created", c.created_at.to_rfc3339());
    line("updated", c.updated_at.to_rfc3339());
    line(
        "verified",
        c.verified_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".into()),
    );
    line("version", c.version.to_string());
    for (title, kind) in [
        ("purchases", kehu::RelatedKind::Purchase),
        ("interactions", kehu::RelatedKind::Interaction),
        ("feedback", kehu::RelatedKind::Feedback),
        ("consents", kehu::RelatedKind::Consent),
        ("notes", kehu::RelatedKind::Note),
    ] {
        let records: Vec<&Related> = d.related.iter().filter(|r| r.kind() == kind).collect();
        if records.is_empty() {
            continue;
        }
        s.push_str(&format!("{title} ({}):\n", records.len()));
        for r in records {
            s.push_str(&format!("  {}\n", describe(r)));
        }
    }
    s.push_str(&format!("history ({}):\n", d.history.len()));
    for ch in &d.history {
        let fields: Vec<&str> = ch.fields.iter().map(|f| f.path.as_str()).collect();
        let what = match &ch.op {
            kehu::ChangeOp::Created => "created".to_string(),
            kehu::ChangeOp::Updated => format!("updated {}", fields.join(", ")),
            kehu::ChangeOp::Deleted => "deleted".to_string(),
            kehu::ChangeOp::Related { kind, record } => {
                format!("{} {record} added", kind_name(*kind))
            }
            kehu::ChangeOp::Unrelated { kind, record } => {
                format!("{} {record} removed", kind_name(*kind))
            }
        };
        s.push_str(&format!(
            "  {}  {}  {what}\n",
            ch.at.format("%Y-%m-%d %H:%M:%S"),
            ch.actor
        ));
    }
    s
}

fn kind_name(kind: kehu::RelatedKind) -> &'static str {
    match kind {
        kehu::RelatedKind::Purchase => "purchase",
        kehu::RelatedKind::Interaction => "interaction",
        kehu::RelatedKind::Feedback => "feedback",
        kehu::RelatedKind::Consent => "consent",
        kehu::RelatedKind::Note => "note",
    }
}

fn describe(r: &Related) -> String {
    let at = r.at().format("%Y-%m-%d %H:%M");
    match r {
        Related::Purchase(p) => {
            let exp = p.amount.currency.exponent();
            let major = p.amount.minor as f64 / 10f64.powi(exp as i32);
            format!(
                "{at} {major:.*} {} × {} {}",
                exp as usize,
                p.amount.currency.code(),
                p.items,
                p.channel.as_deref().unwrap_or("")
            )
        }
        Related::Interaction(i) => format!(
            "{at} {:?} {:?} {} {}",
            i.channel,
            i.direction,
            i.summary,
            i.outcome.as_deref().unwrap_or("")
        )
        .to_lowercase(),
        Related::Feedback(f) => format!("{at} {:?} {:?} {}", f.kind, f.status, f.comment),
        Related::Consent(c) => format!(
            "{at} {} {:?} {}",
            c.purpose,
            c.status,
            c.channel.as_deref().unwrap_or("all channels")
        ),
        Related::Note(n) => format!("{at} {}", n.text),
    }
}

fn print_customers(customers: &[Customer], json: bool) -> Result<(), Error> {
    if json {
        return print_json(&customers);
    }
    let mut out = std::io::stdout().lock();
    for c in customers {
        writeln!(
            out,
            "{}  {}  {}  {}",
            c.id,
            c.display_name(),
            c.primary_email().map(|e| e.address.as_str()).unwrap_or("-"),
            c.primary_phone().map(|p| p.number.as_str()).unwrap_or("-"),
        )
        .map_err(stdout_error)?;
    }
    Ok(())
}

fn find(args: FindArgs) -> Result<Done, Error> {
    let given = [&args.email, &args.phone, &args.external_id, &args.tag]
        .iter()
        .filter(|a| a.is_some())
        .count();
    if given != 1 {
        return Err(Error::Usage(
            "give exactly one of --email, --phone, --external-id or --tag".into(),
        ));
    }
    let book = existing_book(&args.book)?;
    let found = if let Some(g) = guarded(&book) {
        if let Some(e) = &args.email {
            g.find_by_email(e)?
        } else if let Some(p) = &args.phone {
            g.find_by_phone(p)?
        } else if let Some(x) = &args.external_id {
            g.find_by_external_id(x)?
        } else if let Some(t) = &args.tag {
            g.find_by_tag(t)?
        } else {
            Vec::new()
        }
    } else if let Some(e) = &args.email {
        book.find_by_email(e)?
    } else if let Some(p) = &args.phone {
        book.find_by_phone(p)?
    } else if let Some(x) = &args.external_id {
        book.find_by_external_id(x)?
    } else if let Some(t) = &args.tag {
        book.find_by_tag(t)?
    } else {
        Vec::new()
    };
    print_customers(&found, args.json)?;
    if found.is_empty() && !args.json {
        eprintln!("no customer found");
    }
    Ok(Done::Ok)
}

fn stale(args: StaleArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let mut queue = book.stale(TimeDelta::days(i64::from(args.days)))?;
    if let Some(limit) = args.limit {
        queue.truncate(limit);
    }
    if args.json {
        return print_json(&queue).map(|()| Done::Ok);
    }
    let mut out = std::io::stdout().lock();
    for c in &queue {
        let since = c.verified_at.unwrap_or(c.created_at);
        writeln!(
            out,
            "{}  {}  {} {}",
            c.id,
            c.display_name(),
            if c.verified_at.is_some() {
                "verified"
            } else {
                "created, never verified,"
            },
            since.format("%Y-%m-%d")
        )
        .map_err(stdout_error)?;
    }
    Ok(Done::Ok)
}

fn stats(args: BookArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let s = book.stats()?;
    if args.json {
        return print_json(&s).map(|()| Done::Ok);
    }
    let mut out = String::new();
    out.push_str(&format!("customers: {}\n", s.customers));
    for (title, map) in [
        ("by kind", &s.by_kind),
        ("by stage", &s.by_stage),
        ("by source", &s.by_source),
        ("by tag", &s.by_tag),
        ("rows imported per month", &s.imported_per_month),
    ] {
        if map.is_empty() {
            continue;
        }
        out.push_str(&format!("{title}:\n"));
        for (k, v) in map {
            out.push_str(&format!("  {k:<24} {v}\n"));
        }
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(stdout_error)?;
    Ok(Done::Ok)
}

fn imports(args: BookArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let list = book.imports()?;
    if args.json {
        return print_json(&list).map(|()| Done::Ok);
    }
    let mut out = std::io::stdout().lock();
    for i in &list {
        writeln!(
            out,
            "{}  {}  {:?}  {}  rows {} = {} imported + {} updated + {} rejected + {} skipped",
            i.id,
            i.started_at.format("%Y-%m-%d %H:%M"),
            i.status,
            i.source,
            i.rows,
            i.imported,
            i.updated,
            i.rejected,
            i.skipped
        )
        .map_err(stdout_error)?;
    }
    Ok(Done::Ok)
}

/// A `--as-of` date as the end of that day, UTC.
fn as_of(date: Option<&str>) -> Result<Option<kehu::Timestamp>, Error> {
    date.map(|d| {
        chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|t| t.and_utc())
            .ok_or_else(|| Error::Usage(format!("--as-of {d:?}: write the date as YYYY-MM-DD")))
    })
    .transpose()
}

fn rfm(args: ClassifyArgs, report: bool) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let currency = match &args.currency {
        Some(c) => Some(c.parse().map_err(|_| {
            Error::Usage(format!(
                "--currency {c:?}: not an ISO 4217 code such as CNY"
            ))
        })?),
        None => None,
    };
    let options = kehu::ClassifyOptions {
        currency,
        as_of: as_of(args.as_of.as_deref())?,
        ..kehu::ClassifyOptions::default()
    };
    if let Some(tag) = &args.tag_high {
        let (added, removed) = book.apply_tier_tag(tag, &options)?;
        eprintln!("tag {tag:?}: {added} customers tagged, {removed} untagged");
    }
    let mut c = book.report(&options)?;
    if !report {
        c.tiers.clear();
        c.stages.clear();
        c.new_per_month.clear();
        c.saved_segments.clear();
    }
    if args.json {
        return print_json(&c).map(|()| Done::Ok);
    }
    let mut out = format!(
        "{} customers, {} with purchases (amounts in {})\n",
        c.customers, c.buyers, c.currency
    );
    let mut table = |title: &str, map: &BTreeMap<String, u64>| {
        if !map.is_empty() {
            out.push_str(&format!("{title}:\n"));
            for (k, v) in map {
                out.push_str(&format!("  {k:<22} {v:>8}\n"));
            }
        }
    };
    table("RFM groups", &c.rfm_groups);
    if report {
        table("lifecycle stages", &c.stages);
        table("value tiers", &c.tiers);
        table("new customers per month", &c.new_per_month);
        table("saved segments (members)", &c.saved_segments);
    } else {
        out.push_str("recency (rows, 5 = recent) x frequency (columns, 1 ... 5):\n");
        for (i, row) in c.rfm_grid.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|n| format!("{n:>7}")).collect();
            out.push_str(&format!("  R{} {}\n", 5 - i, cells.join("")));
        }
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(stdout_error)?;
    Ok(Done::Ok)
}

fn saved_segment(action: SavedAction) -> Result<Done, Error> {
    match action {
        SavedAction::Save {
            book,
            name,
            condition,
            frozen,
        } => {
            let book = existing_book(&book)?;
            let saved = book.save_segment(&name, &condition, !frozen)?;
            let count = book.saved_segment_members(&saved.name)?.len();
            println!(
                "saved {} segment {:?}: {count} members now",
                if saved.dynamic { "dynamic" } else { "static" },
                saved.name
            );
        }
        SavedAction::List { book, json } => {
            let list = existing_book(&book)?.saved_segments()?;
            if json {
                print_json(&list)?;
            } else {
                for s in &list {
                    println!(
                        "{:<20} {:<8} {}",
                        s.name,
                        if s.dynamic { "dynamic" } else { "static" },
                        s.condition
                    );
                }
            }
        }
        SavedAction::Show { book, name, json } => {
            let book = existing_book(&book)?;
            let saved = book.saved_segment(&name)?;
            let count = book.saved_segment_members(&name)?.len();
            if json {
                print_json(&serde_json::json!({
                    "name": saved.name,
                    "condition": saved.condition,
                    "dynamic": saved.dynamic,
                    "saved_at": saved.saved_at,
                    "members": count,
                }))?;
            } else {
                println!(
                    "{}: {} ({}, saved {}), {count} members",
                    saved.name,
                    saved.condition,
                    if saved.dynamic { "dynamic" } else { "static" },
                    saved.saved_at.format("%Y-%m-%d %H:%M")
                );
            }
        }
        SavedAction::Members {
            book,
            name,
            offset,
            limit,
            json,
        } => {
            let book = existing_book(&book)?;
            let snap = book.snapshot()?;
            let mut members = Vec::new();
            let ids = book.saved_segment_members(&name)?;
            let page = ids.iter().skip(offset).take(limit.unwrap_or(usize::MAX));
            for &id in page {
                if let Some(c) = snap.customer(id)? {
                    members.push(c);
                }
            }
            print_customers(&members, json)?;
        }
        SavedAction::Explain {
            book: path,
            name,
            id,
            json,
        } => {
            let saved = existing_book(&path)?.saved_segment(&name)?;
            return segment(SegmentArgs {
                saved: None,
                book: Some(path),
                condition: Some(saved.condition),
                count: false,
                ids: false,
                csv: false,
                as_of: None,
                explain: Some(id),
                json,
            });
        }
        SavedAction::Delete { book, name } => {
            existing_book(&book)?.delete_segment(&name)?;
            println!("deleted segment {name:?}");
        }
    }
    Ok(Done::Ok)
}

fn segment(args: SegmentArgs) -> Result<Done, Error> {
    if let Some(action) = args.saved {
        return saved_segment(action);
    }
    let (Some(book), Some(condition)) = (&args.book, &args.condition) else {
        return Err(Error::Usage(
            "kehu segment BOOK CONDITION (or: save, list, show, members, delete)".into(),
        ));
    };
    let book = existing_book(book)?;
    let segment = book.segment(condition)?;
    let as_of = as_of(args.as_of.as_deref())?;
    if let Some(who) = &args.explain {
        let customer = lookup(&book, who)?;
        let (customer, e) = match guarded(&book) {
            Some(g) => (
                g.get(customer.id)?,
                g.explain_segment(&segment, customer.id, as_of)?,
            ),
            None => {
                let e = book.explain_segment(&segment, customer.id, as_of)?;
                (customer, e)
            }
        };
        if args.json {
            let tests: Vec<serde_json::Value> = e
                .tests
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "test": t.test,
                        "held": t.held,
                        "seen": t.seen.iter().map(seen_text).collect::<Vec<_>>(),
                    })
                })
                .collect();
            print_json(&serde_json::json!({ "member": e.member, "tests": tests }))?;
        } else {
            let mut out = String::new();
            out.push_str(&format!(
                "{} is {}in the segment\n",
                customer.display_name(),
                if e.member { "" } else { "not " }
            ));
            for t in &e.tests {
                let held = match t.held {
                    Some(true) => "yes    ",
                    Some(false) => "no     ",
                    None => "unknown",
                };
                let seen: Vec<String> = t.seen.iter().map(seen_text).collect();
                out.push_str(&format!(
                    "  {held}  {}   (seen: {})\n",
                    t.test,
                    if seen.is_empty() {
                        "nothing".to_string()
                    } else {
                        seen.join(", ")
                    }
                ));
            }
            std::io::stdout()
                .lock()
                .write_all(out.as_bytes())
                .map_err(stdout_error)?;
        }
        return Ok(Done::Ok);
    }
    let members = match guarded(&book) {
        Some(g) => g.segment_members(&segment, as_of)?,
        None => book.segment_members(&segment, as_of)?,
    };
    if args.count {
        if args.json {
            print_json(&serde_json::json!({ "count": members.len() }))?;
        } else {
            println!("{}", members.len());
        }
    } else if args.ids {
        let ids: Vec<String> = members.iter().map(|c| c.id.to_string()).collect();
        if args.json {
            print_json(&ids)?;
        } else {
            let mut out = std::io::stdout().lock();
            for id in ids {
                writeln!(out, "{id}").map_err(stdout_error)?;
            }
        }
    } else if args.csv {
        let opts = ExportOptions {
            format: Format::Csv,
            filter: ExportFilter {
                ids: members.iter().map(|c| c.id).collect(),
                consent: None,
                ..ExportFilter::default()
            },
        };
        if !members.is_empty() {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            match guarded(&book) {
                Some(g) => g.export(&mut w, &opts)?,
                None => book.export(&mut w, &opts)?,
            };
        }
    } else {
        print_customers(&members, args.json)?;
    }
    Ok(Done::Ok)
}

fn seen_text(s: &kehu::segment::Seen) -> String {
    use kehu::segment::Seen;
    match s {
        Seen::Text(t) => format!("{t:?}"),
        Seen::Number(n) => format!("{n}"),
        Seen::Date(d) => d.to_string(),
        Seen::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        Seen::Stage(r) => kehu::LifecycleStage::ALL
            .get(*r as usize)
            .map_or_else(|| r.to_string(), |s| s.to_string()),
    }
}

fn revert(args: RevertArgs) -> Result<Done, Error> {
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

// The import moves a million small allocations from the reading thread to the
// writing one; glibc's allocator spends a third of the time on that, mimalloc a sliver.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
