//! `kehu init`, `forget`, `audit`, `backup`, `restore`: encryption, erasure, the audit trail.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kehu::{Book, CustomerId, Error};

use crate::book::{existing_book, lookup};
use crate::keys;
use crate::output::{print_json, stdout_error};
use crate::Done;

/// Opens a book that must already exist, with the rules saved in it.
#[derive(Args)]
pub(crate) struct InitArgs {
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
pub(crate) struct ForgetArgs {
    /// The book.
    book: PathBuf,
    /// The customer: a kehu id or an external id.
    id: String,
}

#[derive(Args)]
pub(crate) struct EraseArgs {
    #[command(flatten)]
    who: ForgetArgs,
    /// Then compact the book, so its file keeps no freed page with the customer's data.
    #[arg(long)]
    compact: bool,
}

#[derive(Args)]
pub(crate) struct CompactArgs {
    /// The book.
    book: PathBuf,
}

pub(crate) fn init(args: InitArgs) -> Result<Done, Error> {
    if args.book.exists() {
        return Err(Error::Usage(format!(
            "{}: a file of that name exists already",
            kehu::display_address(&args.book)
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
        kehu::display_address(&args.book)
    );
    Ok(Done::Ok)
}

pub(crate) fn forget(args: EraseArgs) -> Result<Done, Error> {
    let book = existing_book(&args.who.book)?;
    let id = match args.who.id.parse::<CustomerId>() {
        Ok(id) => id,
        Err(_) => lookup(&book, &args.who.id)?.id,
    };
    let e = book.forget(id)?;
    println!(
        "erased customer {} (the erasure ledger keeps its id and time)",
        e.id
    );
    if args.compact {
        print_compacted(&args.who.book, &book.compact()?);
    }
    Ok(Done::Ok)
}

pub(crate) fn compact(args: CompactArgs) -> Result<Done, Error> {
    let s = existing_book(&args.book)?.compact()?;
    print_compacted(&args.book, &s);
    Ok(Done::Ok)
}

fn print_compacted(book: &std::path::Path, s: &kehu::store::CompactSummary) {
    println!(
        "compacted {}: {} entries rewritten into a fresh file, {} bytes before, {} after",
        kehu::display_address(book),
        s.entries,
        s.bytes_before,
        s.bytes_after
    );
}

#[derive(Args)]
pub(crate) struct RotateArgs {
    /// The book (closed).
    book: PathBuf,
    /// The new key file (created when missing); else KEHU_NEW_PASSPHRASE or a prompt.
    #[arg(long, value_name = "FILE")]
    new_key_file: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct BackupArgs {
    /// The book.
    book: PathBuf,
    /// The backup file to write.
    file: PathBuf,
}

#[derive(Args)]
pub(crate) struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// The book to restore (replaced if it exists).
    book: PathBuf,
}

pub(crate) fn backup(args: BackupArgs) -> Result<Done, Error> {
    let s = existing_book(&args.book)?.backup(&args.file)?;
    println!(
        "backed up {} to {}: {} entries, {} bytes, checksum {}",
        kehu::display_address(&args.book),
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

pub(crate) fn restore(args: RestoreArgs) -> Result<Done, Error> {
    let key = match Book::restore(&args.file, &args.book, None) {
        Err(Error::Key(m)) if m.contains("encrypted") => Some(keys::provider(&args.book)?),
        Err(e) => return Err(e),
        Ok(book) => {
            println!(
                "restored {} ({} customers)",
                kehu::display_address(&args.book),
                book.count()?
            );
            return Ok(Done::Ok);
        }
    };
    let book = Book::restore(&args.file, &args.book, key.as_deref())?;
    println!(
        "restored {} ({} customers)",
        kehu::display_address(&args.book),
        book.count()?
    );
    Ok(Done::Ok)
}

#[derive(Subcommand)]
pub(crate) enum AuditAction {
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

pub(crate) fn audit(action: AuditAction) -> Result<Done, Error> {
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

/// `kehu rotate-key`.
pub(crate) fn rotate_key(args: RotateArgs) -> Result<Done, Error> {
    let old = keys::provider(&args.book)?;
    let new = keys::replacement(args.new_key_file.as_deref(), &args.book)?;
    let n = Book::rotate_key(&args.book, &*old, &*new)?;
    println!(
        "{} is under its new key ({n} customer keys re-wrapped)",
        kehu::display_address(&args.book)
    );
    Ok(Done::Ok)
}

/// `kehu subject-export`.
pub(crate) fn subject_export(args: ForgetArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let id = match args.id.parse::<CustomerId>() {
        Ok(id) => id,
        Err(_) => lookup(&book, &args.id)?.id,
    };
    print_json(&book.subject_export(id)?).map(|()| Done::Ok)
}
