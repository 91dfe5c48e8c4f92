//! `kehu dedupe`, `kehu merge` and `kehu unmerge`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use kehu::dedupe::{Decision, Deduper, Outcome, Progress, Settings};
use kehu::{Error, RecordId, Survivorship};
use serde::Serialize;

use crate::book::{existing_book, lookup};
use crate::output::{print_json, stdout_error};
use crate::Done;

#[derive(Args)]
pub(crate) struct DedupeArgs {
    /// A file of records (`.csv`, `.tsv`, `.txt`, `.jsonl`; any delimiter, UTF-8 or GB18030) or a book.
    input: PathBuf,
    /// The column holding record ids (default: one named id, rec_id, customer_id, 客户编号…; else the line number).
    #[arg(long, value_name = "COL")]
    id_column: Option<String>,
    /// Link INPUT to this second file instead: pairs across the two files only.
    #[arg(long, value_name = "OTHER.csv")]
    link: Option<PathBuf>,
    /// Dedupe settings (TOML or JSON): field types, blocking rules, thresholds.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// The match probability from which a pair is a match (default 0.9).
    #[arg(long, value_name = "P")]
    threshold: Option<f64>,
    /// Write the matched pairs here: id_l,id_r,probability.
    #[arg(long, value_name = "FILE")]
    pairs_out: Option<PathBuf>,
    /// Write every record's cluster here: id,cluster_id.
    #[arg(long, value_name = "FILE")]
    clusters_out: Option<PathBuf>,
    /// Write the pairs a person should look at here: id_l,id_r,probability
    /// (between the review and match thresholds, or matches the chain guard left out).
    #[arg(long, value_name = "FILE")]
    review_out: Option<PathBuf>,
    /// Explain how two records (by id) score, field by field.
    #[arg(long, num_args = 2, value_names = ["ID1", "ID2"])]
    explain: Option<Vec<String>>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// The book.
    book: PathBuf,
    /// The dossiers to merge (kehu ids or external ids); the first survives.
    #[arg(num_args = 2.., required = true)]
    ids: Vec<String>,
    /// A survivorship policy (TOML or JSON); default: most recent value, lists united.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Show the merged dossier without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct UnmergeArgs {
    /// The book.
    book: PathBuf,
    /// The merge receipt (as `kehu merge` printed it).
    receipt: RecordId,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Whether the input is a file of records (CSV, TSV, JSON Lines) rather than a book.
fn is_table(path: &Path) -> bool {
    kehu::io::Format::from_name(&path.display().to_string()).is_some()
}

fn settings(args: &DedupeArgs) -> Result<Settings, Error> {
    let mut s = match &args.settings {
        Some(p) => Settings::parse(&read_text(p)?).map_err(|e| Error::Input {
            file: p.display().to_string(),
            message: e.to_string(),
        })?,
        None => Settings::default(),
    };
    if let Some(id) = &args.id_column {
        s.id_column = Some(id.clone());
    }
    if let Some(t) = args.threshold {
        s = s.with_match_threshold(t)?;
    }
    Ok(s)
}

fn stage_bar(quiet: bool, json: bool) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if quiet || json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(5);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("reading");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

#[derive(Serialize)]
struct Summary<'a> {
    records: usize,
    candidates: usize,
    matches: usize,
    reviews: usize,
    clusters: usize,
    split_by_chain_guard: usize,
    seconds: f64,
    warnings: &'a [String],
    /// Each field and the type it was read as.
    fields: BTreeMap<String, &'static str>,
    /// Each blocking rule and how many pairs it proposed.
    blocking: Vec<RuleCount<'a>>,
    pairs_out: Option<String>,
    clusters_out: Option<String>,
    review_out: Option<String>,
}

#[derive(Serialize)]
struct RuleCount<'a> {
    rule: &'a str,
    pairs: u64,
}

fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes pairs.csv and clusters.csv for a run over `ids` (one per row).
fn write_outputs(
    args: &DedupeArgs,
    out: &Outcome,
    ids: &dyn Fn(u32) -> String,
    n: usize,
) -> Result<(), Error> {
    let files: [(&Option<PathBuf>, bool); 2] = [(&args.pairs_out, true), (&args.review_out, false)];
    for (path, clustered) in files {
        let Some(path) = path else { continue };
        let mut w = create(path)?;
        let err = write_err(path);
        writeln!(w, "id_l,id_r,probability").map_err(&err)?;
        for p in out.pairs.iter().filter(|p| p.clustered == clustered) {
            writeln!(
                w,
                "{},{},{:.6}",
                csv_cell(&ids(p.a)),
                csv_cell(&ids(p.b)),
                p.probability
            )
            .map_err(&err)?;
        }
        w.flush().map_err(&err)?;
    }
    if let Some(path) = &args.clusters_out {
        // A cluster is named by its smallest record id: the same whatever
        // order the records came in.
        let mut names: BTreeMap<u32, String> = BTreeMap::new();
        for row in 0..n as u32 {
            let id = ids(row);
            let c = out.clusters.of[row as usize];
            match names.get_mut(&c) {
                Some(name) if *name <= id => {}
                Some(name) => *name = id,
                None => {
                    names.insert(c, id);
                }
            }
        }
        let mut w = create(path)?;
        let err = write_err(path);
        writeln!(w, "id,cluster_id").map_err(&err)?;
        for row in 0..n as u32 {
            let c = out.clusters.of[row as usize];
            writeln!(
                w,
                "{},{}",
                csv_cell(&ids(row)),
                csv_cell(names.get(&c).map_or("", String::as_str))
            )
            .map_err(&err)?;
        }
        w.flush().map_err(&err)?;
    }
    Ok(())
}

fn print_summary(
    args: &DedupeArgs,
    out: &Outcome,
    seconds: f64,
    clusters: &[Vec<String>],
    fields: &[kehu::dedupe::FieldSpec],
) -> Result<(), Error> {
    let s = &out.stats;
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    if args.json {
        return print_json(&Summary {
            records: s.records,
            candidates: s.candidates,
            matches: s.matches,
            reviews: s.reviews,
            clusters: s.clusters,
            split_by_chain_guard: s.split,
            seconds,
            warnings: &out.warnings,
            fields: fields
                .iter()
                .map(|f| (f.name.clone(), f.kind.name()))
                .collect(),
            blocking: s
                .per_rule
                .iter()
                .map(|(rule, pairs)| RuleCount {
                    rule,
                    pairs: *pairs,
                })
                .collect(),
            pairs_out: path(&args.pairs_out),
            clusters_out: path(&args.clusters_out),
            review_out: path(&args.review_out),
        });
    }
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    let line =
        |o: &mut std::io::StdoutLock, text: String| writeln!(o, "{text}").map_err(stdout_error);
    line(
        &mut o,
        format!(
            "{} records · {} candidate pairs compared · {} matches · {} to review · {} clusters · {:.2} s",
            s.records, s.candidates, s.matches, s.reviews, s.clusters, seconds
        ),
    )?;
    let typed: Vec<String> = fields
        .iter()
        .map(|f| format!("{} ({})", f.name, f.kind.name()))
        .collect();
    line(&mut o, format!("fields: {}", typed.join(", ")))?;
    if s.split > 0 {
        line(
            &mut o,
            format!(
                "{} matches not joined: too weak for the cluster they would chain",
                s.split
            ),
        )?;
    }
    if let Some(p) = &args.pairs_out {
        line(&mut o, format!("pairs written to {}", p.display()))?;
    }
    if let Some(p) = &args.clusters_out {
        line(&mut o, format!("clusters written to {}", p.display()))?;
    }
    if let Some(p) = &args.review_out {
        line(
            &mut o,
            format!("pairs to review written to {}", p.display()),
        )?;
    }
    if args.pairs_out.is_none() && args.clusters_out.is_none() {
        for c in clusters.iter().take(20) {
            line(&mut o, format!("  {}", c.join("  ~  ")))?;
        }
        if clusters.len() > 20 {
            line(
                &mut o,
                format!(
                    "  … and {} more clusters (--clusters-out FILE writes them all)",
                    clusters.len() - 20
                ),
            )?;
        }
    }
    Ok(())
}

/// Clusters of more than one record as lists of ids, largest first.
fn cluster_lists(out: &Outcome, ids: &dyn Fn(u32) -> String) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (row, &c) in out.clusters.of.iter().enumerate() {
        groups.entry(c).or_default().push(ids(row as u32));
    }
    let mut lists: Vec<Vec<String>> = groups.into_values().filter(|g| g.len() > 1).collect();
    lists.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    lists
}

pub(crate) fn dedupe(args: DedupeArgs) -> Result<Done, Error> {
    if !is_table(&args.input) && args.link.is_none() {
        return dedupe_book(args);
    }
    let started = Instant::now();
    let settings = settings(&args)?;
    let bar = stage_bar(args.quiet, args.json);
    let ds = kehu::io::dataset_from_files(&args.input, args.link.as_deref(), &settings)?;
    let mut dd = Deduper::new(ds, settings)?;
    let out = dd.run(&mut |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.done);
            bar.set_message(p.stage);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let out = out?;
    let seconds = started.elapsed().as_secs_f64();
    let ds = dd.dataset();
    let ids = |row: u32| ds.id(row).to_string();
    if let Some(pair) = &args.explain {
        let e = dd.explain(&pair[0], &pair[1])?;
        if args.json {
            return print_json(&e).map(|()| Done::Ok);
        }
        println!("{e}");
        return Ok(Done::Ok);
    }
    write_outputs(&args, &out, &ids, ds.len())?;
    print_summary(
        &args,
        &out,
        seconds,
        &cluster_lists(&out, &ids),
        &ds.fields(),
    )?;
    Ok(Done::Ok)
}

fn dedupe_book(args: DedupeArgs) -> Result<Done, Error> {
    let started = Instant::now();
    let book = existing_book(&args.input)?;
    if let Some(pair) = &args.explain {
        let (a, b) = (lookup(&book, &pair[0])?, lookup(&book, &pair[1])?);
        let e = book.explain_duplicate(a.id, b.id)?;
        if args.json {
            return print_json(&e).map(|()| Done::Ok);
        }
        println!("{e}");
        return Ok(Done::Ok);
    }
    let settings = settings(&args)?;
    let bar = stage_bar(args.quiet, args.json);
    let result = book.dedupe(&settings, &mut |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.done);
            bar.set_message(p.stage);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let result = result?;
    let seconds = started.elapsed().as_secs_f64();
    // Rebuild an outcome-shaped view for the shared printers.
    let mut rows: BTreeMap<kehu::CustomerId, u32> = BTreeMap::new();
    let mut ids: Vec<kehu::CustomerId> = Vec::new();
    let mut row_of = |id: kehu::CustomerId| {
        *rows.entry(id).or_insert_with(|| {
            ids.push(id);
            ids.len() as u32 - 1
        })
    };
    let pairs: Vec<kehu::dedupe::ScoredPair> = result
        .pairs
        .iter()
        .map(|p| kehu::dedupe::ScoredPair {
            a: row_of(p.id_l),
            b: row_of(p.id_r),
            weight: 0.0,
            probability: p.probability,
            decision: p.decision,
            clustered: p.clustered,
        })
        .collect();
    let mut of: Vec<u32> = Vec::new();
    for cluster in &result.clusters {
        let first = row_of(cluster[0]);
        for &id in cluster {
            let row = row_of(id) as usize;
            if of.len() <= row {
                of.resize(row + 1, u32::MAX);
            }
            of[row] = first;
        }
    }
    of.resize(ids.len(), u32::MAX);
    for (row, c) in of.iter_mut().enumerate() {
        if *c == u32::MAX {
            *c = row as u32;
        }
    }
    let out = Outcome {
        pairs,
        clusters: kehu::dedupe::Clusters {
            of,
            kept: Vec::new(),
            split: result.stats.split,
        },
        warnings: result.warnings,
        stats: result.stats,
    };
    let name = |row: u32| ids[row as usize].to_string();
    write_outputs(&args, &out, &name, ids.len())?;
    // Names for the clusters that are printed; the others only count.
    let shown = if args.pairs_out.is_none() && args.clusters_out.is_none() {
        20
    } else {
        0
    };
    let mut lists: Vec<Vec<String>> = result
        .clusters
        .iter()
        .take(shown)
        .map(|c| {
            c.iter()
                .map(|id| match book.get(*id) {
                    Ok(d) => format!("{id} {}", d.display_name()),
                    Err(_) => id.to_string(),
                })
                .collect()
        })
        .collect();
    lists.extend(result.clusters.iter().skip(shown).map(|_| Vec::new()));
    print_summary(
        &args,
        &out,
        seconds,
        &lists,
        &kehu::dedupe::dossier::fields(),
    )?;
    let reviews = out
        .pairs
        .iter()
        .filter(|p| p.decision == Decision::Review)
        .count();
    if reviews > 0 && !args.json {
        println!("{reviews} pairs to review: `kehu dedupe BOOK --explain ID1 ID2` shows why a pair scores as it does");
    }
    Ok(Done::Ok)
}

pub(crate) fn merge(args: MergeArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let policy = match &args.policy {
        Some(p) => Survivorship::parse(&read_text(p)?)?,
        None => Survivorship::default(),
    };
    let mut ids = Vec::new();
    for id in &args.ids {
        ids.push(lookup(&book, id)?.id);
    }
    let merged = book.merge(&ids, &policy, args.dry_run)?;
    if args.json {
        #[derive(Serialize)]
        struct Answer<'a> {
            dry_run: bool,
            customer: &'a kehu::Customer,
            receipt: Option<RecordId>,
        }
        return print_json(&Answer {
            dry_run: args.dry_run,
            customer: &merged.customer,
            receipt: merged.receipt.as_ref().map(|r| r.id),
        })
        .map(|()| Done::Ok);
    }
    let c = &merged.customer;
    let verb = if args.dry_run {
        "would merge"
    } else {
        "merged"
    };
    println!(
        "{verb} {} dossiers into {} {}",
        ids.len(),
        c.id,
        c.display_name()
    );
    let emails: Vec<&str> = c.emails.iter().map(|e| e.address.as_str()).collect();
    let phones: Vec<&str> = c.phones.iter().map(|p| p.number.as_str()).collect();
    println!("  e-mails: {}", emails.join(", "));
    println!("  phones:  {}", phones.join(", "));
    if !c.tags.is_empty() {
        println!("  tags:    {}", c.tags.join(", "));
    }
    match &merged.receipt {
        Some(r) => println!(
            "receipt {} (`kehu unmerge {} {}` undoes it)",
            r.id,
            kehu::display_address(&args.book),
            r.id
        ),
        None => println!("dry run: nothing written"),
    }
    Ok(Done::Ok)
}

pub(crate) fn unmerge(args: UnmergeArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let restored = book.unmerge(args.receipt)?;
    if args.json {
        let ids: Vec<String> = restored.iter().map(|c| c.id.to_string()).collect();
        return print_json(&ids).map(|()| Done::Ok);
    }
    println!("restored {} dossiers:", restored.len());
    for c in &restored {
        println!("  {} {}", c.id, c.display_name());
    }
    Ok(Done::Ok)
}
