//! Where a book file's bytes go: each table's entries, stored bytes (keys and
//! values), metadata and fragmentation, as redb counts them.
//!
//! `cargo run --release -p kehu-redb --example table_sizes -- BOOK`

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableHandle};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: table_sizes BOOK")?;
    let db = redb::Database::open(&path)?;
    let txn = db.begin_read()?;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "{:<16} {:>10} {:>8} {:>10} {:>10} {:>10}",
        "table", "entries", "pages", "stored MiB", "meta MiB", "frag MiB"
    );
    for handle in txn.list_tables()? {
        let table = txn.open_untyped_table(handle.clone())?;
        let s = table.stats()?;
        println!(
            "{:<16} {:>10} {:>8} {:>10.1} {:>10.1} {:>10.1}",
            handle.name(),
            table.len()?,
            s.leaf_pages() + s.branch_pages(),
            mib(s.stored_bytes()),
            mib(s.metadata_bytes()),
            mib(s.fragmented_bytes())
        );
    }
    // Documents by space: the key is the space, a zero byte, the key.
    let docs = txn.open_table(redb::TableDefinition::<&[u8], &[u8]>::new("kehu_docs"))?;
    let mut spaces: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for entry in docs.iter()? {
        let (k, v) = entry?;
        let key = k.value();
        let space = key.split(|&b| b == 0).next().unwrap_or_default();
        let e = spaces
            .entry(String::from_utf8_lossy(space).into_owned())
            .or_default();
        e.0 += 1;
        e.1 += (key.len() + v.value().len()) as u64;
    }
    for (space, (n, bytes)) in spaces {
        println!("  docs {space:<20} {n:>8} entries {:>10.1} MiB", mib(bytes));
    }
    drop(docs);
    drop(txn);
    let write = db.begin_write()?;
    let s = write.stats()?;
    write.abort()?;
    let file = std::fs::metadata(&path)?.len();
    println!(
        "all: stored {:.1} MiB, metadata {:.1} MiB, fragmented {:.1} MiB, allocated pages {} ({:.1} MiB); file {:.1} MiB",
        mib(s.stored_bytes()),
        mib(s.metadata_bytes()),
        mib(s.fragmented_bytes()),
        s.allocated_pages(),
        mib(s.allocated_pages() * s.page_size() as u64),
        mib(file)
    );
    Ok(())
}
