//! An import in several transactions (`batch_size`) takes turns with other
//! writers: each transaction's rows are checked against the book as it is
//! once that transaction holds it, so a dossier another writer committed
//! between two of them is found as the duplicate it is.

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kehu::io::{ImportOptions, ImportReport};
use kehu::{Book, Customer, MemoryStore, Rules};
use kehu_store::{Batch, Result, Snapshot, Store, Write};

/// A memory store where another writer commits its dossiers right after
/// the first transaction of whoever writes next: between an import's first
/// and second transactions.
struct Interleaved {
    inner: MemoryStore,
    others: Mutex<Option<Vec<Customer>>>,
    /// Whether the other writer is waiting for its turn.
    armed: Arc<AtomicBool>,
}

impl Store for Interleaved {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        self.inner.snapshot()
    }

    fn commit_count(&self) -> Result<Option<u64>> {
        self.inner.commit_count()
    }

    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        self.inner.commit_all(batches)?;
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(others) = self.others.lock().expect("lock").take() {
            let batch = others.into_iter().fold(
                Batch::new("another writer", chrono::Utc::now()),
                |b, c| {
                    b.with(Write::Put {
                        customer: c,
                        expected: 0,
                    })
                },
            );
            self.inner.commit(batch)?;
        }
        Ok(())
    }
}

/// People as a CSV: each with a name, an e-mail and a phone of their own.
fn people(n: usize) -> String {
    let mut out = String::from("given_name,family_name,email,phone,city\n");
    for i in 0..n {
        out.push_str(&format!(
            "Given{i},Family{},p{i}@example.com,+86 138 {:04} {:04},Beijing\n",
            i % 97,
            i / 10_000,
            i % 10_000
        ));
    }
    out
}

fn import(book: &Book, text: &str, options: &ImportOptions) -> ImportReport {
    let bytes = text.as_bytes().to_vec();
    let n = bytes.len() as u64;
    book.import_reader(
        Box::new(Cursor::new(bytes)),
        "people.csv",
        Some(n),
        options,
        &mut |_| {},
    )
    .expect("import")
}

#[test]
fn each_transaction_of_an_import_is_checked_against_what_others_committed_before_it() {
    let file = people(3_000);
    // What the other writer commits: the people of lines 2,501-2,520 (in the
    // import's last transaction), as kehu stores them, with ids of their own.
    let normaliser = Book::in_memory();
    let rows: Vec<&str> = file.lines().skip(2_501).take(20).collect();
    let mut others = Vec::new();
    for line in rows {
        let f: Vec<&str> = line.split(',').collect();
        let draft = Customer::person(f[0], f[1])
            .with_email(f[2])
            .with_phone(f[3]);
        let mut c = normaliser.add(draft).expect("valid").customer;
        c.version = 0;
        others.push(c);
    }
    let armed = Arc::new(AtomicBool::new(false));
    let store = Interleaved {
        inner: MemoryStore::new(),
        others: Mutex::new(Some(others)),
        armed: Arc::clone(&armed),
    };
    let book = Book::with_store(Box::new(store), Rules::standard());
    // The book holds dossiers already (the check is asked), none of these.
    import(
        &book,
        &people(50)
            .replace("@example.com", "@other.example")
            .replace("Given", "Other")
            .replace("+86 138", "+86 137"),
        &ImportOptions::default(),
    );
    armed.store(true, Ordering::SeqCst);
    let options = ImportOptions {
        batch_size: 500,
        ..ImportOptions::default()
    };
    let report = import(&book, &file, &options);
    assert_eq!(report.rows, 3_000);
    assert_eq!(
        (report.imported, report.duplicates),
        (2_980, 20),
        "the other writer's 20 are found: {:?}",
        report.problems.iter().take(3).collect::<Vec<_>>()
    );
    assert_eq!(book.count().expect("count"), 50 + 2_980 + 20);
}
