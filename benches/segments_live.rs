//! What keeping 10 dynamic segments current costs a write: the same updates
//! on a book with and without them, side by side.
//!
//! cargo bench --bench segments_live -- [CUSTOMERS] [UPDATES]

use std::time::Instant;

use chrono::Utc;
use kehu::{Book, Customer, Money, Purchase};

const SEGMENTS: [&str; 10] = [
    r#"has tag "VIP""#,
    r#"city = "上海""#,
    "purchases.sum >= 1000",
    "purchases.count(within 90d) >= 2",
    "stage >= active",
    r#"email ends_with "qq.com""#,
    "purchases.last within 30d",
    r#"company is not empty and not has tag "blocked""#,
    r#"city in ["北京", "深圳"] and purchases.avg > 100"#,
    "created within 1y",
];

fn book(customers: usize, in_memory: bool) -> (tempfile::TempDir, Book, Vec<kehu::CustomerId>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = if in_memory {
        Book::in_memory()
    } else {
        Book::open(dir.path().join("live.kehu")).expect("open")
    };
    let cny = "CNY".parse().expect("CNY");
    let cities = ["上海", "北京", "深圳", "杭州"];
    let people: Vec<Customer> = (0..customers)
        .map(|i| {
            let mut c =
                Customer::person_named(format!("客户{i}")).with_email(format!("c{i}@qq.com"));
            c.addresses.push(kehu::Address {
                city: Some(cities[i % 4].into()),
                primary: true,
                ..Default::default()
            });
            if i % 5 == 0 {
                c = c.with_tag("VIP");
            }
            c
        })
        .collect();
    let ids: Vec<_> = book
        .add_many(people)
        .expect("add")
        .into_iter()
        .map(|s| s.customer.id)
        .collect();
    for (i, id) in ids.iter().enumerate().take(customers / 2) {
        for k in 0..3 {
            let amount = Money::new(10_000 * (1 + (i + k) as i64 % 50), cny);
            book.relate(Purchase::new(*id, Utc::now(), amount))
                .expect("relate");
        }
    }
    (dir, book, ids)
}

fn updates(book: &Book, ids: &[kehu::CustomerId], n: usize) -> f64 {
    let start = Instant::now();
    for k in 0..n {
        let mut c = book.get(ids[k % ids.len()]).expect("get");
        if c.tags.contains(&"VIP".to_string()) {
            c.tags.clear();
        } else {
            c.tags.push("VIP".into());
        }
        book.update(c).expect("update");
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let customers = args.first().copied().unwrap_or(20_000);
    let n = args.get(1).copied().unwrap_or(5_000);
    println!("{customers} customers (half with 3 purchases), {n} updates a run, 3 runs each\n");
    println!("| store | what | best µs/write | median µs/write |\n| --- | --- | ---: | ---: |");
    for in_memory in [true, false] {
        run(customers, n, in_memory);
    }
}

fn run(customers: usize, n: usize, in_memory: bool) {
    let store = if in_memory { "memory" } else { "redb" };
    let (_dir, book, ids) = book(customers, in_memory);
    let events = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = events.clone();
    book.on_segment_change(Box::new(move |_| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }))
    .expect("listen");
    // Runs without and with the segments alternate, so the machine's drift hits both alike.
    let mut plain = Vec::new();
    let mut live = Vec::new();
    for _ in 0..3 {
        plain.push(updates(&book, &ids, n));
        for (i, s) in SEGMENTS.iter().enumerate() {
            book.save_segment(&format!("s{i}"), s, true).expect("save");
        }
        live.push(updates(&book, &ids, n));
        for i in 0..SEGMENTS.len() {
            book.delete_segment(&format!("s{i}")).expect("delete");
        }
    }
    for (i, s) in SEGMENTS.iter().enumerate() {
        book.save_segment(&format!("s{i}"), s, true).expect("save");
    }
    // Re-evaluating everyone: the per-customer cost of keeping 10 segments current.
    let mut refresh = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        book.refresh_segments().expect("refresh");
        refresh.push(start.elapsed().as_secs_f64() * 1e6 / customers as f64);
    }
    plain.sort_by(f64::total_cmp);
    live.sort_by(f64::total_cmp);
    refresh.sort_by(f64::total_cmp);
    println!(
        "| {store} | update, no saved segments | {:.1} | {:.1} |",
        plain[0], plain[1]
    );
    println!(
        "| {store} | update, 10 dynamic segments kept current | {:.1} | {:.1} |",
        live[0], live[1]
    );
    println!("| {store} | re-evaluating one customer against the 10 (refresh ÷ customers) | {:.1} | {:.1} |", refresh[0], refresh[1]);
    let _ = events.load(std::sync::atomic::Ordering::Relaxed);
}
