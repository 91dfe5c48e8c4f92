//! The Rust side of the Kotlin add benchmark (benches/kotlin/run.sh): adds the
//! customers of the same TSV to a fresh book file with `kehu::Book::add_many`
//! (the Rust API) and with the FFI layer's `add_many_ids` called from Rust (the
//! conversions without JNA). Prints one JSON line of rates.
//!
//!   cargo run --release -p kehu-ffi --example add_bench -- FILE.tsv DIR

use std::time::Instant;

fn customer(line: &str) -> kehu::Customer {
    let f: Vec<&str> = line.split('\t').collect();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let mut c = kehu::Customer::person(f[0], f[1]);
    if !f[2].is_empty() {
        c.emails = vec![kehu::Email {
            primary: true,
            ..kehu::Email::new(f[2])
        }];
    }
    if !f[3].is_empty() {
        c.phones = vec![kehu::Phone {
            primary: true,
            ..kehu::Phone::new(f[3])
        }];
    }
    c.birth_date = f[4].parse().ok();
    if !(f[5].is_empty() && f[6].is_empty() && f[7].is_empty()) {
        c.addresses = vec![kehu::Address {
            primary: true,
            street: opt(f[5]),
            city: opt(f[6]),
            postcode: opt(f[7]),
            ..Default::default()
        }];
    }
    c.company = opt(f[8]);
    c
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (tsv, dir) = (&args[1], std::path::Path::new(&args[2]));
    let text = std::fs::read_to_string(tsv)?;
    let probe = kehu::Book::in_memory();
    let rows: Vec<kehu::Customer> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(customer)
        .filter(|c| probe.validate(c).is_ok())
        .collect();
    let n = rows.len();
    let options = kehu::OpenOptions {
        cache_mb: Some(256),
        ..Default::default()
    };

    let book = kehu::Book::open_with(dir.join("rs-api.kehu"), &options, None)?;
    let t = Instant::now();
    let added = book.add_many(rows.clone())?.len();
    let api = t.elapsed().as_secs_f64();
    assert_eq!((added as u64, book.count()?), (n as u64, n as u64));
    drop(book);

    let ffi_rows: Vec<kehu_ffi::Customer> = rows.into_iter().map(Into::into).collect();
    let book = kehu_ffi::Book::open(
        dir.join("rs-ffi.kehu").display().to_string(),
        kehu_ffi::OpenOptions {
            rules_path: None,
            rules_text: None,
            cache_mb: 256,
            actor: None,
            key: None,
        },
    )?;
    let t = Instant::now();
    let added = book.add_many_ids(ffi_rows)?.len();
    let ffi = t.elapsed().as_secs_f64();
    assert_eq!(added, n);
    book.close_book();

    println!(
        "{{\"side\": \"rust\", \"records\": {n}, \"book_add_many\": {}, \"ffi_add_many_ids\": {}}}",
        (n as f64 / api).round(),
        (n as f64 / ffi).round()
    );
    Ok(())
}
