//! Per-operation cost of the book codec: `cargo run --release -p kehu-crypt --example speed`.

use kehu_crypt::{BookCodec, RawKey};
use kehu_model::CustomerId;
use kehu_store::{FieldCodec, KeyRing};
use std::time::Instant;
fn main() {
    let (c, _) = BookCodec::open(&RawKey::new([1; 32]), None).unwrap();
    let owner = CustomerId::new();
    let (key, wrapped) = c.new_key(owner).unwrap();
    let plain = vec![7u8; 400];
    let sealed = KeyRing::seal(&c, &key, owner, plain.clone()).unwrap();
    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        let _ = KeyRing::open(&c, &key, owner, sealed.clone()).unwrap();
    }
    println!(
        "open 400B: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        let _ = KeyRing::seal(&c, &key, owner, plain.clone()).unwrap();
    }
    println!(
        "seal 400B: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        let _ = c.unwrap_key(owner, &wrapped).unwrap();
    }
    println!(
        "unwrap key: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for i in 0..n {
        let _ = c.index_key(format!("user{i}@example.com").into_bytes());
    }
    println!(
        "index key: {:.2} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
