//! Backups: a consistent copy that restores whole, refuses damage before
//! writing anything, and never brings an erased customer back.

use std::path::Path;

use chrono::Utc;
use kehu::{Book, Customer, Error, Note, RawKey};

fn fill(book: &Book) -> Vec<kehu::CustomerId> {
    (0..6)
        .map(|i| {
            let c = book
                .add_allowing_duplicates(
                    Customer::person(format!("Zihan{i}"), "Murong")
                        .with_email(format!("zihan{i}.murong@example.cn").as_str()),
                )
                .unwrap()
                .customer;
            book.relate(Note::new(c.id, Utc::now(), format!("Backupnote{i}")))
                .unwrap();
            c.id
        })
        .collect()
}

fn holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_plain_backup_restores_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bak) = (dir.path().join("p.kehu"), dir.path().join("p.bak"));
    let ids = {
        let book = Book::open(&path).unwrap();
        let ids = fill(&book);
        let s = book.backup(&bak).unwrap();
        assert!(s.entries > 20 && !s.keyed);
        ids
    };
    std::fs::remove_file(&path).unwrap();
    let book = Book::restore(&bak, &path, None).unwrap();
    assert_eq!(book.count().unwrap(), 6);
    assert_eq!(book.notes(ids[2]).unwrap()[0].text, "Backupnote2");
    assert_eq!(
        book.find_by_email("zihan3.murong@example.cn").unwrap()[0].id,
        ids[3]
    );
    assert!(book.verify_audit().unwrap().is_intact());
    assert!(book
        .audit_trail(1)
        .unwrap()
        .iter()
        .any(|e| e.op == "restore"));
}

#[test]
fn an_encrypted_backup_is_sealed_and_needs_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bak) = (dir.path().join("e.kehu"), dir.path().join("e.bak"));
    let key = RawKey::new([5; 32]);
    {
        let book = Book::open_encrypted(&path, &key).unwrap();
        fill(&book);
        assert!(book.backup(&bak).unwrap().keyed);
    }
    for needle in [
        "Zihan1",
        "Murong",
        "zihan1.murong@example.cn",
        "Backupnote1",
    ] {
        assert!(!holds(&bak, needle), "{needle:?} in the backup");
    }
    let target = dir.path().join("restored.kehu");
    assert!(matches!(
        Book::restore(&bak, &target, Some(&RawKey::new([6; 32]))),
        Err(Error::Key(_))
    ));
    assert!(matches!(
        Book::restore(&bak, &target, None),
        Err(Error::Key(_))
    ));
    assert!(!target.exists(), "a refused restore writes nothing");
    let book = Book::restore(&bak, &target, Some(&key)).unwrap();
    assert_eq!(book.count().unwrap(), 6);
    assert_eq!(
        book.find_by_email("zihan4.murong@example.cn")
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_damaged_or_truncated_backup_is_refused_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bak) = (dir.path().join("d.kehu"), dir.path().join("d.bak"));
    let key = RawKey::new([8; 32]);
    {
        let book = Book::open_encrypted(&path, &key).unwrap();
        fill(&book);
        book.backup(&bak).unwrap();
        book.add(Customer::person("Later", "Added").with_email("later@example.cn"))
            .unwrap();
    }
    let good = std::fs::read(&bak).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("last byte cut", good[..good.len() - 1].to_vec()),
        ("flipped", {
            let mut b = good.clone();
            let i = b.len() / 3;
            b[i] ^= 0x40;
            b
        }),
        ("empty", Vec::new()),
        ("not a backup", b"hello".repeat(40)),
    ];
    for (what, bytes) in cases {
        std::fs::write(&bak, &bytes).unwrap();
        let r = Book::restore(&bak, &path, Some(&key));
        assert!(r.is_err(), "{what}: restored");
        let book = Book::open_encrypted(&path, &key).unwrap();
        assert_eq!(book.count().unwrap(), 7, "{what}: the live book changed");
        assert!(!book.find_by_email("later@example.cn").unwrap().is_empty());
    }
}

#[test]
fn a_restore_never_brings_an_erased_customer_back() {
    let dir = tempfile::tempdir().unwrap();
    let (path, bak) = (dir.path().join("f.kehu"), dir.path().join("f.bak"));
    let key = RawKey::new([1; 32]);
    let ids = {
        let book = Book::open_encrypted(&path, &key).unwrap();
        let ids = fill(&book);
        book.backup(&bak).unwrap();
        book.forget(ids[1]).unwrap();
        ids
    };
    // Restored over the live book: its ledger is re-applied.
    let book = Book::restore(&bak, &path, Some(&key)).unwrap();
    assert!(matches!(book.get(ids[1]), Err(Error::NotFound(_))));
    assert!(book
        .find_by_email("zihan1.murong@example.cn")
        .unwrap()
        .is_empty());
    assert_eq!(book.count().unwrap(), 5);
    assert!(book.erasures().unwrap().iter().any(|e| e.id == ids[1]));
    drop(book);

    // The book file lost: the ledger file beside it still counts.
    std::fs::remove_file(&path).unwrap();
    let book = Book::restore(&bak, &path, Some(&key)).unwrap();
    assert!(matches!(book.get(ids[1]), Err(Error::NotFound(_))));
    assert_eq!(
        book.get(ids[2]).unwrap().name.given.as_deref(),
        Some("Zihan2")
    );
}
