//! `kehu export`.

use std::io::BufWriter;
use std::path::PathBuf;

use chrono::TimeDelta;

use clap::Args;
use kehu::io::{ConsentFilter, ExportFilter, ExportOptions, Format};
use kehu::{CustomerId, Error};

use crate::book::existing_book;
use crate::Done;

#[derive(Args)]
pub(crate) struct ExportArgs {
    /// The book.
    book: PathBuf,
    /// csv or jsonl.
    #[arg(long, default_value = "csv")]
    format: Format,
    /// Only dossiers with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Only the members of this segment (a condition, as `kehu segment` reads it).
    #[arg(long, value_name = "CONDITION")]
    segment: Option<String>,
    /// Only dossiers not verified for this many days.
    #[arg(long, value_name = "DAYS")]
    stale_days: Option<u32>,
    /// Only this dossier (repeatable).
    #[arg(long = "id")]
    ids: Vec<CustomerId>,
    /// Only customers whose consent to this purpose holds now (`marketing`, or `marketing:sms` for one channel).
    #[arg(long, value_name = "PURPOSE[:CHANNEL]")]
    consent: Option<ConsentFilter>,
    /// The output file; standard output when not given.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn export(args: ExportArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let opts = ExportOptions {
        format: args.format,
        filter: ExportFilter {
            tag: args.tag,
            segment: args.segment,
            stale: args.stale_days.map(|d| TimeDelta::days(i64::from(d))),
            ids: args.ids,
            consent: args.consent,
        },
    };
    match &args.output {
        Some(path) => {
            let n = book.export_file(path, &opts)?;
            eprintln!("{n} dossiers written to {}", path.display());
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            book.export(&mut out, &opts)?;
        }
    }
    Ok(Done::Ok)
}
