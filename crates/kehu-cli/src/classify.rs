//! `kehu rfm` and `kehu report`: RFM, value tiers and lifecycle stages.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use kehu::{ClassifyOptions, Currency, Error};

use crate::book::existing_book;
use crate::output::{print_json, stdout_error};
use crate::segment::as_of;
use crate::Done;

#[derive(Args)]
pub(crate) struct ClassifyArgs {
    /// The book.
    book: PathBuf,
    /// The currency of the monetary value; the book's most used one when not given.
    #[arg(long)]
    currency: Option<Currency>,
    /// Cut-offs for RFM, value tiers and lifecycle stages (TOML or JSON, as
    /// `ClassifyOptions`: `[rfm]`, `[tiers]`, `[lifecycle]`); defaults otherwise.
    #[arg(long, value_name = "FILE")]
    cutoffs: Option<PathBuf>,
    /// Classify as of this date (YYYY-MM-DD, end of day UTC) instead of now.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Tag the high value tier with this tag, and untag everyone else (the VIP rule).
    #[arg(long, value_name = "TAG")]
    tag_high: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// `kehu report` only: write the data-quality report page to FILE (one
    /// self-contained HTML file with charts, opens offline).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// With --html: a dossier not verified for this many days is stale.
    #[arg(long, value_name = "DAYS", default_value_t = 180, requires = "html")]
    stale_days: u32,
    /// With --html: leave the duplicate search out (it is the longest part on a big book).
    #[arg(long, requires = "html")]
    no_duplicates: bool,
}

pub(crate) fn rfm(args: ClassifyArgs, report: bool) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let mut options = match &args.cutoffs {
        Some(path) => {
            ClassifyOptions::parse(&std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?)?
        }
        None => ClassifyOptions::default(),
    };
    options.currency = args.currency.or(options.currency);
    options.as_of = as_of(args.as_of.as_deref())?.or(options.as_of);
    if let Some(tag) = &args.tag_high {
        let (added, removed) = book.apply_tier_tag(tag, &options)?;
        eprintln!("tag {tag:?}: {added} customers tagged, {removed} untagged");
    }
    if let Some(path) = &args.html {
        if !report {
            return Err(Error::Usage(
                "--html is for `kehu report`: the page holds RFM and every other part".into(),
            ));
        }
        let page_options = kehu::page::PageOptions {
            classify: options,
            stale_days: args.stale_days,
            duplicates: !args.no_duplicates,
            ..Default::default()
        };
        let title = args.book.file_name().map_or_else(
            || args.book.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let page = book.report_page(&title, &page_options)?;
        std::fs::write(path, page).map_err(|e| Error::io(path, e))?;
        eprintln!("report page written to {}", path.display());
        return Ok(Done::Ok);
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
