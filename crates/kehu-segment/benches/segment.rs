//! The segment benchmark: a compound segment over 1,000,000 generated
//! customers and their ~5,000,000 purchases, counted by kehu's columnar
//! projection and by DuckDB running the segment's SQL on the same data, in
//! the same run; and RFM over the whole book.
//!
//! cargo bench -p kehu-segment --bench segment -- benches/data/cust_1m.csv benches/data/act_1m/purchases.csv [RUNS]
//! (from the workspace root; DuckDB through `KEHU_PYTHON`, a python3 with duckdb).

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use kehu_model::{Address, Customer, LifecycleStage, Money, Purchase, Related};
use kehu_segment::classify::{rfm, Activity, RfmConfig};
use kehu_segment::{Projection, Schema, Segment};

const SEGMENT: &str = r#"stage in [new, active] and city starts_with "East" and not has tag "VIP" and purchases.sum(within 1y) >= 200 and purchases.last within 90d"#;

fn stats(label: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {label} | {:.1} | {:.1} |",
        ms(times[0]),
        ms(times[times.len() / 2])
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (customers_csv, purchases_csv) = (&args[0], &args[1]);
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();

    let t = Instant::now();
    let mut customers = Vec::new();
    let mut reader = csv::Reader::from_path(customers_csv).expect("customers csv");
    for row in reader.records() {
        let row = row.expect("row");
        let id: usize = row[0].parse().expect("id");
        let mut c = Customer::person(&row[1], &row[2]);
        c.external_id = Some(row[0].to_string());
        c.addresses.push(Address {
            city: Some(row[7].to_string()),
            primary: true,
            ..Address::default()
        });
        // Stages and tags the generator does not write, derived from the id
        // the same way in the SQL below.
        c.lifecycle_stage = Some(LifecycleStage::ALL[id % 5]);
        if id.is_multiple_of(7) {
            c.tags.push("VIP".into());
        }
        customers.push(c);
    }
    let mut related: Vec<Vec<Related>> = vec![Vec::new(); customers.len()];
    let cny = "CNY".parse().expect("CNY");
    let mut reader = csv::Reader::from_path(purchases_csv).expect("purchases csv");
    let mut purchases = 0usize;
    for row in reader.records() {
        let row = row.expect("row");
        let i: usize = row[1].parse::<usize>().expect("customer") - 1;
        let at = chrono::DateTime::parse_from_rfc3339(&row[2])
            .expect("at")
            .to_utc();
        let amount = Money::new(row[3].parse().expect("amount"), cny);
        related[i].push(Purchase::new(customers[i].id, at, amount).into());
        purchases += 1;
    }
    println!(
        "read {} customers and {purchases} purchases in {:.1} s\n",
        customers.len(),
        t.elapsed().as_secs_f64()
    );

    let segment = Segment::parse(SEGMENT, &Schema::standard()).expect("segment");
    let t = Instant::now();
    let projection = Projection::build(
        customers
            .iter()
            .zip(&related)
            .map(|(c, r)| (c, r.as_slice())),
        &[&segment],
    );
    let build = t.elapsed();
    let expected = projection.count(&segment, now);
    let t = Instant::now();
    let row_wise = customers
        .iter()
        .zip(&related)
        .filter(|(c, r)| segment.matches(c, r, now))
        .count();
    let row_time = t.elapsed();
    assert_eq!(row_wise, expected);
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(projection.count(&segment, now), expected);
            t.elapsed()
        })
        .collect();
    println!("segment: {SEGMENT}\nmembers: {expected}\n");
    println!("| what | best ms | median ms |\n| --- | ---: | ---: |");
    stats("kehu, columnar projection, count (warm)", &mut times);
    let kehu_best = times[0].as_secs_f64() * 1000.0;
    println!(
        "| kehu, building the projection (once) | {:.0} | |",
        build.as_secs_f64() * 1000.0
    );
    println!(
        "| kehu, row-wise evaluation (one run) | {:.0} | |",
        row_time.as_secs_f64() * 1000.0
    );

    // RFM over the whole book.
    let activities: Vec<Activity> = related.iter().map(|r| Activity::of(r, cny)).collect();
    let mut times: Vec<Duration> = (0..runs.min(5))
        .map(|_| {
            let t = Instant::now();
            let scores = rfm(&activities, now, &RfmConfig::default());
            assert_eq!(scores.len(), customers.len());
            t.elapsed()
        })
        .collect();
    stats("kehu, RFM scores and groups of every customer", &mut times);

    // DuckDB on the same data and question.
    let Some(python) = std::env::var_os("KEHU_PYTHON") else {
        println!("\n(DuckDB skipped: set KEHU_PYTHON to a python3 with duckdb)");
        return;
    };
    let sql = segment.to_sql(now);
    let script = format!(
        r#"
import duckdb, time, statistics
con = duckdb.connect()
con.execute("""CREATE TABLE customers AS SELECT CAST(id AS VARCHAR) AS id, city, id % 5 AS stage
               FROM read_csv('{customers_csv}', header=true, all_varchar=false)""")
con.execute("""CREATE TABLE tags AS SELECT CAST(id AS VARCHAR) AS customer_id, 'VIP' AS tag
               FROM read_csv('{customers_csv}', header=true) WHERE id % 7 = 0""")
con.execute("""CREATE TABLE purchases AS SELECT CAST(customer_id AS VARCHAR) AS customer_id,
               CAST(replace("at", 'Z', '') AS TIMESTAMP) AS "at", amount_minor / 100.0 AS amount, currency
               FROM read_csv('{purchases_csv}', header=true, types={{'at': 'VARCHAR'}})""")
q = "SELECT count(*) FROM customers c WHERE " + {sql:?}
times = []
for _ in range({runs}):
    t = time.perf_counter(); n = con.execute(q).fetchone()[0]; times.append(time.perf_counter() - t)
print(n, min(times) * 1000, statistics.median(times) * 1000)
"#
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let parts: Vec<f64> = text
        .split_whitespace()
        .map(|p| p.parse().expect("number"))
        .collect();
    assert_eq!(
        parts[0] as usize, expected,
        "DuckDB counts the same members"
    );
    println!(
        "| DuckDB, the segment's SQL (`Segment::to_sql`), count (warm) | {:.1} | {:.1} |",
        parts[1], parts[2]
    );
    println!("\nDuckDB best / kehu best: {:.2}", parts[1] / kehu_best);
}
