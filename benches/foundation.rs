//! Foundation benchmarks on generated customers: validate + normalise
//! throughput, bulk load into a RedbStore, point gets by id and by e-mail.
//!
//! ```text
//! cargo bench --bench foundation -- --csv benches/data/cust_1m.csv --phase validate
//! cargo bench --bench foundation -- --csv benches/data/cust_1m.csv --phase load
//! ```
//! Each phase runs several times and prints min and median; each is meant to
//! run in its own process so that the peak memory it prints is its own.
//! `benches/run.sh` runs every phase and the pydantic peer side by side.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use kehu::{Address, Book, Customer, CustomerId, Email, Phone, RuleSet, Rules};
use kehu_store::{Batch, Store, Write};

struct Row {
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    date_of_birth: String,
    street: String,
    city: String,
    postcode: String,
    company: String,
}

fn read_rows(path: &str, limit: usize) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers = reader.headers().expect("headers").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let idx = [
        col("first_name"),
        col("last_name"),
        col("email"),
        col("phone"),
        col("date_of_birth"),
        col("street"),
        col("city"),
        col("postcode"),
        col("company"),
    ];
    reader
        .records()
        .take(limit)
        .map(|r| {
            let r = r.expect("row");
            let f = |i: usize| r.get(idx[i]).unwrap_or("").to_string();
            Row {
                first_name: f(0),
                last_name: f(1),
                email: f(2),
                phone: f(3),
                date_of_birth: f(4),
                street: f(5),
                city: f(6),
                postcode: f(7),
                company: f(8),
            }
        })
        .collect()
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// A CSV row as a dossier: what an import does before the rules run.
fn to_customer(r: &Row) -> Customer {
    let mut c = Customer::default();
    c.name.given = opt(&r.first_name);
    c.name.family = opt(&r.last_name);
    if !r.email.is_empty() {
        c.emails.push(Email {
            primary: true,
            ..Email::new(r.email.as_str())
        });
    }
    if !r.phone.is_empty() {
        c.phones.push(Phone {
            primary: true,
            ..Phone::new(r.phone.as_str())
        });
    }
    c.birth_date = NaiveDate::parse_from_str(&r.date_of_birth, "%Y-%m-%d").ok();
    if !(r.street.is_empty() && r.city.is_empty() && r.postcode.is_empty()) {
        c.addresses.push(Address {
            primary: true,
            street: opt(&r.street),
            city: opt(&r.city),
            postcode: opt(&r.postcode),
            ..Address::default()
        });
    }
    c.company = opt(&r.company);
    c
}

/// The standard rule set with a default phone region: phones without a country
/// code are then parsed and validated as Chinese numbers, not set aside.
fn rules() -> Rules {
    rules_with_region(Some("CN"))
}

fn rules_with_region(region: Option<&str>) -> Rules {
    rules_with(region, kehu::InferRegion::default())
}

fn rules_with(region: Option<&str>, infer: kehu::InferRegion) -> Rules {
    let mut set = RuleSet::standard();
    set.default_region = region.map(str::to_string);
    set.infer_region = infer;
    Rules::new(set).expect("rules")
}

fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn summary(label: &str, n: usize, times: &mut [Duration]) {
    times.sort();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{label:<44} n={n:<9} best {:>12.0}/s  median {:>12.0}/s  (runs {}, min {:.3}s)",
        rate(times[0]),
        rate(times[times.len() / 2]),
        times.len(),
        times[0].as_secs_f64()
    );
}

fn phase_validate(rows: &[Row], runs: usize) {
    let off = kehu::InferRegion {
        address_country: false,
        place: false,
        postcode: false,
        email: false,
        number: false,
    };
    for region in [Some("CN"), None] {
        for (infer, how) in [
            (off.clone(), "no inference"),
            (Default::default(), "inference on"),
        ] {
            let label = region.map_or("standard rules, no default region".to_string(), |r| {
                format!("standard rules, default_region {r}")
            });
            println!("{label}, {how}:");
            validate_with(rows, runs, &rules_with(region, infer));
        }
    }
}

fn validate_with(rows: &[Row], runs: usize, rules: &Rules) {
    let now = Utc::now();
    let customers: Vec<Customer> = rows.iter().map(to_customer).collect();
    let mut check_only = Vec::new();
    let mut with_mapping = Vec::new();
    let mut errors = 0;
    for _ in 0..runs {
        let mut batch = customers.clone();
        let t = Instant::now();
        for c in &mut batch {
            let report = rules.check(c, now);
            errors += usize::from(!report.is_ok());
        }
        check_only.push(t.elapsed());
        std::hint::black_box(&batch);

        let t = Instant::now();
        for r in rows {
            let mut c = to_customer(r);
            let report = rules.check(&mut c, now);
            std::hint::black_box((&c, &report));
        }
        with_mapping.push(t.elapsed());
    }
    summary(
        "normalise + validate (1 thread)",
        rows.len(),
        &mut check_only,
    );
    summary(
        "row -> Customer + normalise + validate",
        rows.len(),
        &mut with_mapping,
    );
    println!("rejected per run: {}", errors / runs.max(1));
}

fn checked(rows: &[Row]) -> Vec<Customer> {
    let rules = rules();
    let now = Utc::now();
    rows.iter()
        .map(|r| {
            let mut c = to_customer(r);
            rules.check(&mut c, now);
            c
        })
        .collect()
}

fn open_store(path: &std::path::Path) -> kehu::RedbStore {
    let mib: usize = std::env::var("KEHU_BENCH_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(kehu::RedbOptions::default().cache_bytes >> 20);
    let options = kehu::RedbOptions {
        cache_bytes: mib << 20,
        ..kehu::RedbOptions::default()
    };
    kehu::RedbStore::open_with(path, options).expect("open")
}

/// Writes checked dossiers straight to the store, `batch_size` to a transaction.
fn load_store(store: &dyn Store, customers: &[Customer], batch_size: usize) {
    for chunk in customers.chunks(batch_size) {
        let mut b = Batch::new("bench", Utc::now());
        for c in chunk {
            b.push(Write::Put {
                customer: c.clone(),
                expected: 0,
            });
        }
        store.commit(b).expect("commit");
    }
}

fn phase_load(rows: &[Row], runs: usize, batch_size: usize, with_book: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let prepared = checked(rows);
    // Generated data has records the rules reject; a real import reports them.
    // They are set aside before the clock starts, so each record is checked once.
    let valid_rows: Vec<&Row> = {
        let rules = rules();
        let now = Utc::now();
        rows.iter()
            .filter(|r| rules.check(&mut to_customer(r), now).is_ok())
            .collect()
    };
    let mut via_book = Vec::new();
    let mut via_store = Vec::new();
    for run in 0..runs {
        let path = dir.path().join(format!("book-{run}.kehu"));
        if with_book {
            let book = Book::with_store(Box::new(open_store(&path)), rules());
            let customers: Vec<Customer> = valid_rows.iter().map(|r| to_customer(r)).collect();
            let t = Instant::now();
            let mut customers = customers.into_iter().peekable();
            while customers.peek().is_some() {
                let chunk: Vec<Customer> = customers.by_ref().take(batch_size).collect();
                book.add_many(chunk).expect("add_many");
            }
            via_book.push(t.elapsed());
            drop(book);
            std::fs::remove_file(&path).ok();
        }

        let store = open_store(&path);
        let t = Instant::now();
        load_store(&store, &prepared, batch_size);
        via_store.push(t.elapsed());
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        drop(store);
        if run + 1 == runs {
            if let Ok(keep) = std::env::var("KEHU_BENCH_KEEP") {
                std::fs::copy(&path, keep).expect("keep the book file");
            }
            let mib = size as f64 / 1048576.0;
            println!("book file: {mib:.0} MiB for {} customers", rows.len());
        }
        std::fs::remove_file(&path).ok();
    }
    if with_book {
        let label = format!("Book::add_many, batches of {batch_size} (rules+store)");
        summary(&label, valid_rows.len(), &mut via_book);
    }
    let label = format!("Store::commit, batches of {batch_size} (store only)");
    summary(&label, rows.len(), &mut via_store);
}

fn phase_get(rows: &[Row], runs: usize, lookups: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("get.kehu");
    let store = open_store(&path);
    let prepared = checked(rows);
    load_store(&store, &prepared, 10_000);
    let book = Book::with_store(Box::new(store), rules());
    // A fixed pseudo-random order over the records.
    let mut order: Vec<usize> = (0..prepared.len()).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order.truncate(lookups.min(order.len()));
    let ids: Vec<CustomerId> = order.iter().map(|&i| prepared[i].id).collect();
    let emails: Vec<&str> = order
        .iter()
        .filter_map(|&i| prepared[i].emails.first().map(|e| e.address.as_str()))
        .collect();
    let (mut by_id, mut by_id_snap, mut by_email) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        for id in &ids {
            std::hint::black_box(book.get(*id).expect("get"));
        }
        by_id.push(t.elapsed());
        let snap = book.snapshot().expect("snapshot");
        let t = Instant::now();
        for id in &ids {
            std::hint::black_box(snap.customer(*id).expect("get"));
        }
        by_id_snap.push(t.elapsed());
        drop(snap);
        let t = Instant::now();
        for e in &emails {
            let found = book.find_by_email(e).expect("find");
            assert!(!found.is_empty());
            std::hint::black_box(found);
        }
        by_email.push(t.elapsed());
    }
    summary(
        "Book::get by id (a snapshot per call)",
        ids.len(),
        &mut by_id,
    );
    summary(
        "Snapshot::customer by id (one snapshot)",
        ids.len(),
        &mut by_id_snap,
    );
    summary("Book::find_by_email", emails.len(), &mut by_email);
}

/// The rows the standard rules accept, as dossiers (not yet normalised).
fn accepted(rows: &[Row]) -> Vec<Customer> {
    let rules = Rules::standard();
    let now = Utc::now();
    rows.iter()
        .map(to_customer)
        .filter(|c| rules.check(&mut c.clone(), now).is_ok())
        .collect()
}

/// The Rust side of the Python `add_many` benchmark (benches/python/add_many.py):
/// the rows the standard rules accept, added to a fresh book file in one call,
/// by `Book::add_many` (one transaction, duplicate keys written) and by an
/// import of the same dossiers as JSON Lines (what Python's `add_many` runs).
fn phase_add(rows: &[Row], runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let valid = accepted(rows);
    let jsonl: Vec<u8> = valid
        .iter()
        .flat_map(|c| {
            let mut line = serde_json::to_vec(c).expect("json");
            line.push(b'\n');
            line
        })
        .collect();
    let (mut add, mut import) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let book = Book::open(dir.path().join(format!("add-{run}.kehu"))).expect("open");
        let customers = valid.clone();
        let t = Instant::now();
        book.add_many(customers).expect("add_many");
        add.push(t.elapsed());
        drop(book);
        let book = Book::open(dir.path().join(format!("import-{run}.kehu"))).expect("open");
        let options = kehu::io::ImportOptions {
            format: Some(kehu::io::Format::Jsonl),
            ..Default::default()
        };
        let t = Instant::now();
        let report = book
            .import_reader(
                Box::new(std::io::Cursor::new(jsonl.clone())),
                "bench",
                None,
                &options,
                &mut |_| {},
            )
            .expect("import");
        import.push(t.elapsed());
        assert_eq!(report.imported as usize, valid.len());
    }
    let rate = |d: &mut Vec<Duration>| {
        d.sort();
        let n = valid.len() as f64;
        (n / d[0].as_secs_f64(), n / d[d.len() / 2].as_secs_f64())
    };
    let (a_best, a_median) = rate(&mut add);
    let (i_best, i_median) = rate(&mut import);
    println!(
        "{{\"records\": {}, \"add_many_best\": {a_best:.0}, \"add_many_median\": {a_median:.0}, \"import_best\": {i_best:.0}, \"import_median\": {i_median:.0}}}",
        valid.len()
    );
}

/// An encrypted book beside a plain one, alternating in one process: the rows
/// the standard rules accept added by `Book::add_many` (one transaction), then
/// each looked up by its e-mail address.
fn phase_crypt(rows: &[Row], runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let valid = accepted(rows);
    let emails: Vec<String> = valid
        .iter()
        .filter_map(|c| c.emails.first().map(|e| e.address.clone()))
        .collect();
    let key = kehu::RawKey::new([7; 32]);
    let mut times: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    for run in 0..runs {
        for (i, sealed) in [false, true].into_iter().enumerate() {
            let path = dir.path().join(format!("crypt-{run}-{i}.kehu"));
            let book = if sealed {
                Book::open_encrypted(&path, &key).expect("open encrypted")
            } else {
                Book::open(&path).expect("open")
            };
            let t = Instant::now();
            book.add_many(valid.clone()).expect("add_many");
            times[i].0.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let mut found = 0usize;
            for e in &emails {
                found += book.find_by_email(e).expect("find").len();
            }
            times[i].1.push(t.elapsed().as_secs_f64());
            assert!(found >= emails.len());
        }
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[0], v[v.len() / 2])
    };
    let [(mut pa, mut pl), (mut sa, mut sl)] = times;
    let ((pa0, pam), (pl0, plm), (sa0, sam), (sl0, slm)) =
        (stat(&mut pa), stat(&mut pl), stat(&mut sa), stat(&mut sl));
    println!(
        "{} customers added, {} looked up by e-mail, {runs} runs each",
        valid.len(),
        emails.len()
    );
    println!("add     plain {pa0:.2} s min / {pam:.2} median   encrypted {sa0:.2} / {sam:.2}   ratio {:.2} (min) {:.2} (median)", sa0 / pa0, sam / pam);
    println!("lookup  plain {pl0:.2} s min / {plm:.2} median   encrypted {sl0:.2} / {slm:.2}   ratio {:.2} (min) {:.2} (median)", sl0 / pl0, slm / plm);
    println!(
        "both    ratio {:.2} (min) {:.2} (median)",
        (sa0 + sl0) / (pa0 + pl0),
        (sam + slm) / (pam + plm)
    );
}

/// Lookups by e-mail alone on an encrypted book (for profiling them).
fn phase_crypt_lookup(rows: &[Row], runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let customers: Vec<Customer> = rows.iter().map(to_customer).collect();
    let book =
        Book::open_encrypted(dir.path().join("l.kehu"), &kehu::RawKey::new([7; 32])).expect("open");
    let valid: Vec<Customer> = customers
        .into_iter()
        .filter(|c| book.validate(c).is_ok())
        .collect();
    book.add_many(valid.clone()).expect("add");
    let emails: Vec<&str> = valid
        .iter()
        .filter_map(|c| c.emails.first().map(|e| e.address.as_str()))
        .collect();
    for _ in 0..runs {
        let t = Instant::now();
        for e in &emails {
            book.find_by_email(e).expect("find");
        }
        println!(
            "{} lookups in {:.2} s",
            emails.len(),
            t.elapsed().as_secs_f64()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    let csv = arg("--csv", "benches/data/cust_100k.csv");
    let phase = arg("--phase", "all");
    let runs: usize = arg("--runs", "5").parse().expect("--runs");
    let limit: usize = arg("--limit", "100000000").parse().expect("--limit");
    let rows = read_rows(&csv, limit);
    println!(
        "{} rows from {csv}; RSS with the rows loaded: {:.0} MiB",
        rows.len(),
        rss_mib()
    );
    if phase == "validate" || phase == "all" {
        phase_validate(&rows, runs);
    }
    if phase == "load" || phase == "all" {
        phase_load(&rows, runs.min(3), 10_000, true);
    }
    if phase == "store" {
        let batch = std::env::var("KEHU_BENCH_BATCH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        phase_load(&rows, runs.min(3), batch, false);
    }
    if phase == "get" || phase == "all" {
        phase_get(&rows, runs, 200_000);
    }
    if phase == "add" {
        phase_add(&rows, runs);
    }
    if phase == "crypt" {
        phase_crypt(&rows, runs);
    }
    if phase == "crypt-lookup" {
        phase_crypt_lookup(&rows, runs);
    }
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}
