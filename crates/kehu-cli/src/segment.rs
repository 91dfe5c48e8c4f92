//! `kehu segment`: ad-hoc and saved segments, members, counts, explanations.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kehu::io::{ExportFilter, ExportOptions, Format};
use kehu::Error;

use crate::book::{existing_book, lookup};
use crate::output::{print_json, stdout_error};
use crate::show::print_customers;
use crate::Done;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct SegmentArgs {
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
pub(crate) enum SavedAction {
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

/// A `--as-of` date as the end of that day, UTC.
pub(crate) fn as_of(date: Option<&str>) -> Result<Option<kehu::Timestamp>, Error> {
    date.map(|d| {
        chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|t| t.and_utc())
            .ok_or_else(|| Error::Usage(format!("--as-of {d:?}: write the date as YYYY-MM-DD")))
    })
    .transpose()
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
            let mut members = Vec::new();
            let ids = book.saved_segment_members(&name)?;
            let page = ids.iter().skip(offset).take(limit.unwrap_or(usize::MAX));
            for &id in page {
                match book.get(id) {
                    Ok(c) => members.push(c),
                    Err(Error::NotFound(_)) => {} // erased since the segment was saved
                    Err(e) => return Err(e),
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

pub(crate) fn segment(args: SegmentArgs) -> Result<Done, Error> {
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
        let e = book.explain_segment(&segment, customer.id, as_of)?;
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
    let members = book.segment_members(&segment, as_of)?;
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
            book.export(&mut w, &opts)?;
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
