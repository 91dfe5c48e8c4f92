//! A book across a network pays for each request to its store, so what a
//! write reads of the book is asked for a block of rows at once: an import
//! into a book that holds dossiers makes a few requests per block, not a
//! few per row — and decides exactly what it decides when every read is
//! asked one at a time. Counted here on a store that counts its reads.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kehu::io::{ImportKind, ImportOptions, ImportReport};
use kehu::{Book, Customer, CustomerId, MemoryStore, Related, RelatedKind, Rules};
use kehu_store::{AuditEntry, Batch, Change, Doc, FeedItem, IndexKey, Result, Snapshot, Store};

/// A memory store that counts every request made of its snapshots (opening
/// one, and each read, whether of one thing or many).
struct Counting {
    inner: MemoryStore,
    reads: Arc<AtomicUsize>,
}

struct CountingSnapshot<'a> {
    inner: Box<dyn Snapshot + 'a>,
    reads: &'a AtomicUsize,
}

impl CountingSnapshot<'_> {
    fn ask(&self) -> &dyn Snapshot {
        self.reads.fetch_add(1, Ordering::Relaxed);
        &*self.inner
    }
}

impl Store for Counting {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(CountingSnapshot {
            inner: self.inner.snapshot()?,
            reads: &self.reads,
        }))
    }

    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        self.inner.commit_all(batches)
    }
}

impl Snapshot for CountingSnapshot<'_> {
    fn customer(&self, id: CustomerId) -> Result<Option<Customer>> {
        self.ask().customer(id)
    }
    fn customers(&self) -> Result<Box<dyn Iterator<Item = Result<Customer>> + '_>> {
        self.ask().customers()
    }
    fn customer_count(&self) -> Result<u64> {
        self.ask().customer_count()
    }
    fn lookup(&self, key: &IndexKey) -> Result<Vec<CustomerId>> {
        self.ask().lookup(key)
    }
    fn related(&self, id: CustomerId, kind: Option<RelatedKind>) -> Result<Vec<Related>> {
        self.ask().related(id, kind)
    }
    fn history(&self, id: CustomerId) -> Result<Vec<Change>> {
        self.ask().history(id)
    }
    fn doc(&self, space: &str, key: &[u8]) -> Result<Option<Doc>> {
        self.ask().doc(space, key)
    }
    fn docs(&self, space: &str, prefix: &[u8]) -> Result<Vec<Doc>> {
        self.ask().docs(space, prefix)
    }
    fn audit(&self, from: u64) -> Result<Vec<AuditEntry>> {
        self.ask().audit(from)
    }
    fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>> {
        self.ask().audit_head()
    }
    fn feed(&self, after: u64, limit: usize) -> Result<Vec<FeedItem>> {
        self.ask().feed(after, limit)
    }
    fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Option<Customer>>> {
        self.ask().customers_by_id(ids)
    }
    fn lookup_many(&self, keys: &[IndexKey]) -> Result<Vec<Vec<CustomerId>>> {
        self.ask().lookup_many(keys)
    }
    fn docs_by_key(&self, space: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Doc>>> {
        self.ask().docs_by_key(space, keys)
    }
}

const GIVEN: [&str; 12] = [
    "Wei", "Fang", "Min", "Jing", "Anna", "Lukas", "Sofia", "Jonas", "Emma", "Noah", "Sarah", "Tom",
];
const FAMILY: [&str; 12] = [
    "Zhang", "Wang", "Li", "Chen", "Muller", "Schmidt", "Weber", "Meyer", "Smith", "Jones",
    "Brown", "Taylor",
];

/// People `from..to` as a CSV of customers: names shared by many, e-mail,
/// phone and id of their own.
fn people(from: usize, to: usize) -> Vec<u8> {
    let mut out = String::from("id,given_name,family_name,email,phone,city\n");
    for i in from..to {
        let (given, family) = (GIVEN[i % 12], FAMILY[i / 12 % 12]);
        out.push_str(&format!(
            "C{i:05},{given},{family},{}.{}.{i}@example.com,+86 138 {:08},{}\n",
            given.to_lowercase(),
            family.to_lowercase(),
            10_000_000 + i * 7_919 % 89_999_989,
            ["Shanghai", "Beijing", "Berlin", "London"][i / 144 % 4],
        ));
    }
    out.into_bytes()
}

/// A purchase of each customer `from..to`, named by its id in the source system.
fn purchases(from: usize, to: usize) -> Vec<u8> {
    let mut out = String::from("order,customer,date,amount,currency\n");
    for i in from..to {
        out.push_str(&format!(
            "P{i:05},C{i:05},2026-03-{:02},{}.50,CNY\n",
            1 + i % 28,
            10 + i % 90
        ));
    }
    out.into_bytes()
}

fn import(book: &Book, bytes: Vec<u8>, options: &ImportOptions) -> ImportReport {
    let n = bytes.len() as u64;
    book.import_reader(
        Box::new(Cursor::new(bytes)),
        "rows.csv",
        Some(n),
        options,
        &mut |_| {},
    )
    .expect("import")
}

/// What an import decided, without its times and ids.
fn decided(r: &ImportReport) -> (u64, u64, u64, u64, u64, Vec<u64>) {
    let lines = r.duplicate_rows.iter().map(|d| d.line).collect();
    (
        r.rows,
        r.imported,
        r.updated,
        r.skipped,
        r.duplicates,
        lines,
    )
}

fn counting() -> (Book, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let store = Counting {
        inner: MemoryStore::new(),
        reads: reads.clone(),
    };
    (Book::with_store(Box::new(store), Rules::standard()), reads)
}

/// The people of the second file: 2,700 new, and 300 of the first file again
/// with another id and a changed e-mail (possible duplicates to find).
fn second_file() -> Vec<u8> {
    let mut bytes = people(3_000, 5_700);
    let again = String::from_utf8(people(0, 300)).expect("utf-8");
    for line in again.lines().skip(1) {
        let line = line
            .replacen('C', "X", 1)
            .replacen("@example.com", "@mail.example", 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

#[test]
fn a_checked_import_into_a_full_book_asks_per_block_not_per_row() {
    let (book, reads) = counting();
    let plain = Book::in_memory();
    for b in [&book, &plain] {
        import(b, people(0, 3_000), &ImportOptions::default());
    }
    reads.store(0, Ordering::Relaxed);
    let report = import(&book, second_file(), &ImportOptions::default());
    let asked = reads.load(Ordering::Relaxed);
    assert_eq!(report.rows, 3_000);
    assert!(report.imported > 2_600, "{report:?}");
    // Three blocks of rows; before the reads were asked ahead, every row
    // asked for its natural keys, its blocking keys and each candidate.
    assert!(asked < 100, "{asked} requests for 3,000 rows");
    let same = import(&plain, second_file(), &ImportOptions::default());
    assert_eq!(decided(&report), decided(&same));
    assert!(
        report.duplicates > 0 || !report.duplicate_rows.is_empty(),
        "{report:?}"
    );
}

#[test]
fn an_update_by_key_asks_per_block_not_per_row() {
    let (book, reads) = counting();
    import(&book, people(0, 3_000), &ImportOptions::default());
    let moved = String::from_utf8(people(0, 3_000))
        .expect("utf-8")
        .replace(",Shanghai", ",Hangzhou");
    let options = ImportOptions {
        mode: kehu::io::Mode::Upsert,
        ..ImportOptions::default()
    };
    reads.store(0, Ordering::Relaxed);
    let report = import(&book, moved.into_bytes(), &options);
    let asked = reads.load(Ordering::Relaxed);
    assert_eq!(report.updated + report.unchanged, 3_000, "{report:?}");
    assert!(report.updated > 500, "{report:?}");
    assert!(asked < 100, "{asked} requests for 3,000 rows");
}

#[test]
fn related_rows_find_their_customers_per_block_not_per_row() {
    let (book, reads) = counting();
    import(&book, people(0, 3_000), &ImportOptions::default());
    let options = ImportOptions {
        kind: ImportKind::Purchases,
        ..ImportOptions::default()
    };
    reads.store(0, Ordering::Relaxed);
    let mut bytes = purchases(0, 3_000);
    bytes.extend_from_slice(b"P99999,C99999,2026-03-01,5.00,CNY\n");
    let report = import(&book, bytes, &options);
    let asked = reads.load(Ordering::Relaxed);
    assert_eq!(
        (report.imported, report.rejected),
        (3_000, 1),
        "{:?}",
        report.problems.first()
    );
    assert!(asked < 100, "{asked} requests for 3,001 rows");
}

#[test]
fn one_check_asks_a_few_requests_however_many_keys() {
    let (book, reads) = counting();
    import(&book, people(0, 3_000), &ImportOptions::default());
    let draft = Customer::person("Wei", "Zhang")
        .with_email("wei.zhang.0@example.com")
        .with_email("wei@mail.example")
        .with_phone("+86 138 10000000")
        .with_phone("+86 139 10000001");
    reads.store(0, Ordering::Relaxed);
    let found = book.check_duplicates(&draft).expect("check");
    let asked = reads.load(Ordering::Relaxed);
    assert!(!found.is_empty(), "the dossier with that e-mail and phone");
    // The book's bookkeeping (its model, its runs) and three reads for
    // every key of the draft (asked one by one: 17).
    assert!(asked <= 12, "{asked} requests for one check");
}

#[test]
fn add_many_asks_per_block_not_per_dossier() {
    let (book, reads) = counting();
    let plain = Book::in_memory();
    for b in [&book, &plain] {
        import(b, people(0, 3_000), &ImportOptions::default());
    }
    let drafts = |i: usize| {
        // Every tenth a person of the book again.
        let n = if i.is_multiple_of(10) { i - 3_000 } else { i };
        let (given, family) = (GIVEN[n % 12], FAMILY[n / 12 % 12]);
        Customer::person(given, family)
            .with_email(format!(
                "{}.{}.{n}@example.com",
                given.to_lowercase(),
                family.to_lowercase()
            ))
            .with_phone(format!(
                "+86 138 {:08}",
                10_000_000 + n * 7_919 % 89_999_989
            ))
    };
    reads.store(0, Ordering::Relaxed);
    let saved = book.add_many((3_000..6_000).map(drafts)).expect("add many");
    let asked = reads.load(Ordering::Relaxed);
    let statuses = |s: &[kehu::Saved]| s.iter().map(|s| s.status).collect::<Vec<_>>();
    let same = plain
        .add_many((3_000..6_000).map(drafts))
        .expect("add many");
    assert_eq!(statuses(&saved), statuses(&same));
    let skipped = saved
        .iter()
        .filter(|s| s.status == kehu::WriteStatus::Skipped)
        .count();
    assert!(skipped >= 250, "{skipped} of the 300 again found");
    // Read ahead for one dossier at a time: 3,312.
    assert!(asked < 100, "{asked} requests for 3,000 dossiers");
}

#[test]
fn an_import_in_several_transactions_asks_per_block_not_per_row() {
    let (book, reads) = counting();
    let options = ImportOptions {
        batch_size: 1_000,
        ..ImportOptions::default()
    };
    let report = import(&book, people(0, 6_000), &options);
    let asked = reads.load(Ordering::Relaxed);
    assert_eq!(report.imported, 6_000, "{report:?}");
    // Six transactions, each looking at the book again (other writers may
    // have committed between them), six blocks.
    assert!(asked < 150, "{asked} requests for 6,000 rows");
}
