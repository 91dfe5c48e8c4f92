//! `kehu changes`: the book's change feed as JSON lines, from a cursor, and
//! on with `--follow` as other commands and processes write.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use kehu::Error;

use crate::book::existing_book;
use crate::Done;

#[derive(Args)]
pub(crate) struct ChangesArgs {
    /// The book.
    book: PathBuf,
    /// The sequence number after which to start (the last `seq` you handled; 0: from the start).
    #[arg(long, default_value_t = 0)]
    since: u64,
    /// At most this many entries (without --follow).
    #[arg(long)]
    limit: Option<usize>,
    /// Keep going: print new entries as they are committed, until interrupted.
    #[arg(long)]
    follow: bool,
    /// With --follow: the longest wait for news before asking again, in
    /// milliseconds (a commit wakes it at once).
    #[arg(long, default_value_t = 5000)]
    interval_ms: u64,
}

/// How many entries one read asks for.
const PAGE: usize = 1000;

pub(crate) fn changes(args: ChangesArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let mut cursor = args.since;
    let mut left = if args.follow { None } else { args.limit };
    let stdout = std::io::stdout();
    loop {
        let want = left.map_or(PAGE, |n| n.min(PAGE));
        if want == 0 {
            return Ok(Done::Ok);
        }
        let page = if args.follow {
            book.wait_for_changes(
                cursor,
                want,
                Duration::from_millis(args.interval_ms.max(10)),
            )?
        } else {
            book.changes_since(cursor, want)?
        };
        let mut out = stdout.lock();
        for entry in &page {
            let line = serde_json::to_string(entry).map_err(|e| Error::Corrupt(e.to_string()))?;
            writeln!(out, "{line}").map_err(|e| Error::io("standard output", e))?;
            cursor = entry.seq;
        }
        out.flush().map_err(|e| Error::io("standard output", e))?;
        if let Some(n) = &mut left {
            *n -= page.len();
        }
        if page.len() < want && !args.follow {
            return Ok(Done::Ok);
        }
    }
}
