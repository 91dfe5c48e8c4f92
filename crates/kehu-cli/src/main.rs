//! `kehu`: import, validate, export, inspect, segment and dedupe customer books from the shell.
//!
//! Exit codes: 0 success, 1 a usage or I/O error, 2 finished but some rows were rejected.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kehu::Error;

mod book;
mod changes;
mod classify;
mod dedupe;
mod export;
mod import;
mod keys;
mod output;
mod privacy;
mod segment;
mod show;

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
    /// Act as this user, under --policy: every command reads and writes
    /// through the access policy (dossiers outside the user's scope left out,
    /// fields masked or hidden by role, conditions on fields the user may not
    /// filter on refused, operations checked).
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
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
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

/// The principal and policy of `--as`, if given: every book the command
/// opens is opened for it.
pub(crate) fn principal() -> Option<&'static (kehu::Principal, kehu::Policy)> {
    AS.get()
}

#[derive(Subcommand)]
enum Command {
    /// Import customers or their purchases, interactions, feedback or consents from CSV or JSON Lines.
    #[command(after_help = "Examples:
  kehu import book.kehu customers.csv --rejects rejects.csv
  kehu import book.kehu crm.csv --map 手机=phone --map \"E-mail\"=email --mode upsert --key email
  kehu import book.kehu purchases.csv --kind purchases --customer-key external_id
  kehu import book.kehu customers.csv --dry-run --json")]
    Import(import::ImportArgs),
    /// Check a file against the rules without a book: the report only.
    #[command(after_help = "Example:
  kehu validate customers.csv --rules rules.toml --rejects rejects.csv")]
    Validate(import::ValidateArgs),
    /// Write the book (or a part of it) as CSV or JSON Lines.
    #[command(after_help = "Examples:
  kehu export book.kehu -o all.csv
  kehu export book.kehu --format jsonl --tag VIP -o vip.jsonl")]
    Export(export::ExportArgs),
    /// Show one whole dossier: fields, purchases, interactions, feedback, consents, history.
    #[command(after_help = "Examples:
  kehu get book.kehu 0196f3a2-5c1e-7b7a-9d3e-2f4b8c6a1e00
  kehu get book.kehu C-10042 --json      (an external id works too)")]
    Get(show::GetArgs),
    /// Find dossiers by e-mail, phone, external id or tag.
    #[command(after_help = "Examples:
  kehu find book.kehu --email wei.zhang@example.com
  kehu find book.kehu --phone \"138 0013 8000\" --json")]
    Find(show::FindArgs),
    /// The review queue: dossiers not verified for N days, the longest-unverified first.
    #[command(after_help = "Example:
  kehu stale book.kehu --days 365 --limit 50")]
    Stale(show::StaleArgs),
    /// Counts by kind, stage, source and tag, and rows imported per month.
    #[command(after_help = "Example:
  kehu stats book.kehu --json")]
    Stats(show::BookArgs),
    /// The change feed: every committed change as a JSON line, after a cursor; --follow keeps going.
    #[command(after_help = "Examples:
  kehu changes book.kehu --since 0 --limit 100
  kehu changes postgres://crm@db/crm --since 41250 --follow    (woken by each commit; seq of each line: the next --since)")]
    Changes(changes::ChangesArgs),
    /// List the imports this book remembers.
    #[command(after_help = "Example:
  kehu imports book.kehu")]
    Imports(show::BookArgs),
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
    Segment(segment::SegmentArgs),
    /// RFM scores of every buyer: the named groups and the recency × frequency grid.
    #[command(after_help = "Examples:
  kehu rfm book.kehu
  kehu rfm book.kehu --currency CNY --as-of 2026-01-01 --json
  kehu rfm book.kehu --tag-high VIP          (tag the high value tier, untag the rest)")]
    Rfm(classify::ClassifyArgs),
    /// The book at a glance: stages (derived from purchases), value tiers, RFM groups, new customers per month;
    /// with --html, the whole data-quality report as a page (rules, stale records, duplicates, charts).
    #[command(after_help = "Examples:
  kehu report book.kehu --json
  kehu report book.kehu --html report.html   (open it in any browser, offline)")]
    Report(classify::ClassifyArgs),
    /// Undo an import: remove what it created, restore what it changed.
    #[command(after_help = "Example:
  kehu revert book.kehu 0196f3a2-5c1e-7b7a-9d3e-2f4b8c6a1e00")]
    Revert(import::RevertArgs),
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
    Init(privacy::InitArgs),
    /// Erase a customer: dossier, related records, history and (encrypted books) its key; the customers merged into it go too.
    #[command(
        after_help = "Example:\n  kehu forget book.kehu C00071      (a kehu id or an external id)"
    )]
    Forget(privacy::EraseArgs),
    /// Everything the book holds about one customer, as one JSON document (subject access request).
    #[command(
        name = "subject-export",
        after_help = "Example:\n  kehu subject-export book.kehu C00071 > c00071.json"
    )]
    SubjectExport(privacy::ForgetArgs),
    /// Put an encrypted book under a new key (one transaction: safe to interrupt).
    #[command(
        name = "rotate-key",
        after_help = "Examples:\n  KEHU_PASSPHRASE=old KEHU_NEW_PASSPHRASE=new kehu rotate-key book.kehu\n  kehu rotate-key book.kehu --key-file old.key --new-key-file new.key"
    )]
    RotateKey(privacy::RotateArgs),
    /// Write a consistent backup of a book to one file (checksummed; sealed values stay sealed).
    #[command(after_help = "Example:\n  kehu backup book.kehu book-2026-11-24.bak")]
    Backup(privacy::BackupArgs),
    /// Restore a backup as a book (checked whole first; erasures since the backup are re-applied).
    #[command(after_help = "Example:\n  kehu restore book-2026-11-24.bak book.kehu")]
    Restore(privacy::RestoreArgs),
    /// Rewrite a book into a fresh file that keeps only live data (no freed page of an erased customer).
    #[command(after_help = "Example:\n  kehu compact book.kehu")]
    Compact(privacy::CompactArgs),
    /// The audit trail: `verify` checks its hash chain, `list` prints it (no personal values).
    #[command(
        after_help = "Examples:\n  kehu audit verify book.kehu\n  kehu audit list book.kehu --json"
    )]
    Audit {
        #[command(subcommand)]
        action: privacy::AuditAction,
    },
}

/// How a command ended, short of an error.
pub(crate) enum Done {
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
        Command::Import(args) => import::import(args),
        Command::Validate(args) => import::validate(args),
        Command::Export(args) => export::export(args),
        Command::Get(args) => show::get(args),
        Command::Find(args) => show::find(args),
        Command::Stale(args) => show::stale(args),
        Command::Stats(args) => show::stats(args),
        Command::Imports(args) => show::imports(args),
        Command::Segment(args) => segment::segment(args),
        Command::Rfm(args) => classify::rfm(args, false),
        Command::Report(args) => classify::rfm(args, true),
        Command::Revert(args) => import::revert(args),
        Command::Dedupe(args) => dedupe::dedupe(args),
        Command::Merge(args) => dedupe::merge(args),
        Command::Unmerge(args) => dedupe::unmerge(args),
        Command::Init(args) => privacy::init(args),
        Command::Forget(args) => privacy::forget(args),
        Command::Audit { action } => privacy::audit(action),
        Command::Changes(args) => changes::changes(args),
        Command::Backup(args) => privacy::backup(args),
        Command::Compact(args) => privacy::compact(args),
        Command::RotateKey(args) => privacy::rotate_key(args),
        Command::SubjectExport(args) => privacy::subject_export(args),
        Command::Restore(args) => privacy::restore(args),
    }
}

// The import moves a million small allocations from the reading thread to the
// writing one; glibc's allocator spends a third of the time on that, mimalloc a sliver.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
