//! The duplicate check at entry on a big book: latency per check (p50, p99)
//! and whether the original is found.
//!
//! ```text
//! kehu import /tmp/b.kehu benches/data/cust_1m.csv
//! cargo bench --bench dedupe_entry -- --book /tmp/b.kehu --csv benches/data/cust_1m.csv --checks 2000
//! ```
//!
//! Each draft is a row of the file with its given name mistyped (a letter
//! dropped) and its e-mail removed; it should find the row's dossier.

use std::time::Instant;

use chrono::NaiveDate;
use kehu::{Address, Book, Customer, DuplicateAction};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (Some(book_path), Some(csv_path)) = (arg("--book"), arg("--csv")) else {
        eprintln!("usage: dedupe_entry --book BOOK --csv FILE [--checks N]");
        return Ok(());
    };
    let checks: usize = arg("--checks").map_or(Ok(2000), |s| s.parse())?;
    let t = Instant::now();
    let book = Book::open(&book_path)?;
    let count = book.count()?;
    println!(
        "book {book_path}: {count} dossiers, opened in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // Drafts from every (n / checks)-th row.
    let mut reader = csv::Reader::from_path(&csv_path)?;
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let step = (rows.len() / checks.max(1)).max(1);
    let drafts: Vec<(String, Customer)> = rows
        .iter()
        .step_by(step)
        .take(checks)
        .filter(|r| r[1].chars().count() > 3)
        .map(|r| {
            let given: String = r[1]
                .chars()
                .enumerate()
                .filter(|(i, _)| *i != 2)
                .map(|(_, c)| c)
                .collect();
            let mut c = Customer::person(&given, &r[2]);
            if !r[4].is_empty() {
                c = c.with_phone(&r[4]);
            }
            c.birth_date = NaiveDate::parse_from_str(&r[5], "%Y-%m-%d").ok();
            c.addresses.push(Address {
                street: Some(r[6].to_string()).filter(|s| !s.is_empty()),
                city: Some(r[7].to_string()).filter(|s| !s.is_empty()),
                postcode: Some(r[8].to_string()).filter(|s| !s.is_empty()),
                ..Address::default()
            });
            (r[0].to_string(), c)
        })
        .collect();
    drop(rows);

    // The import kept the book's keys and model: the first check after it
    // costs what any other does (plus loading the model and key runs).
    let t = Instant::now();
    book.check_duplicates(&drafts[0].1)?;
    println!(
        "first check after opening: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    // Which rows are one person (the generator's truth file), if there is one.
    let truth_path = csv_path.trim_end_matches(".csv").to_string() + ".truth.csv";
    let cluster: std::collections::HashMap<String, String> =
        match csv::Reader::from_path(&truth_path) {
            Ok(mut r) => r
                .records()
                .filter_map(Result::ok)
                .map(|r| (r[0].to_string(), r[1].to_string()))
                .collect(),
            Err(_) => Default::default(),
        };

    let mut times = Vec::with_capacity(drafts.len());
    let (mut found, mut blocked) = (0usize, 0usize);
    for (id, draft) in &drafts {
        let t = Instant::now();
        let candidates = book.check_duplicates(draft)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        let Some(first) = candidates.first() else {
            continue;
        };
        let first_row = book.get(first.id)?.external_id.unwrap_or_default();
        let same = first_row == *id
            || (cluster.contains_key(id) && cluster.get(id) == cluster.get(&first_row));
        if same {
            found += 1;
            if first.action == DuplicateAction::Block {
                blocked += 1;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "{} checks: p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        times.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "the row itself or another row of its person ranked first: {found}/{} ({:.1}%), of which blocked: {blocked}",
        drafts.len(),
        100.0 * found as f64 / drafts.len() as f64
    );
    Ok(())
}
