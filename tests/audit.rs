//! The audit trail: every write and book operation is recorded without
//! values, and any changed, removed, inserted or reordered entry is found.

use std::path::Path;

use chrono::Utc;
use kehu::io::ExportOptions;
use kehu::{Book, Customer, Note, RawKey, Survivorship};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("kehu_audit");

fn busy_book(book: &Book) {
    let a = book
        .add(Customer::person("Ruoxi", "Zhuge").with_email("ruoxi.zhuge@example.cn"))
        .unwrap()
        .customer;
    let b = book
        .add_allowing_duplicates(Customer::person("Ruoxi", "Zhuge").with_phone("+86 138 0000 7777"))
        .unwrap()
        .customer;
    let mut changed = a.clone();
    changed.job_title = Some("Buyer".into());
    book.update(changed).unwrap();
    book.relate(Note::new(a.id, Utc::now(), "likes tea"))
        .unwrap();
    let merged = book
        .merge(&[a.id, b.id], &Survivorship::default(), false)
        .unwrap();
    book.export(&mut Vec::new(), &ExportOptions::default())
        .unwrap();
    let c = book
        .add(Customer::person("Jiayi", "Ximen").with_email("jiayi.ximen@example.cn"))
        .unwrap()
        .customer;
    book.forget(c.id).unwrap();
    let _ = merged;
}

#[test]
fn every_operation_is_recorded_without_values() {
    let book = Book::in_memory().as_actor("ops:li");
    busy_book(&book);
    let trail = book.audit_trail(1).unwrap();
    let ops: Vec<&str> = trail.iter().map(|e| e.op.as_str()).collect();
    for op in ["create", "update", "relate", "merge", "export", "forget"] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    assert!(trail.iter().all(|e| e.actor == "ops:li"));
    let update = trail.iter().find(|e| e.op == "update").unwrap();
    assert!(
        update.fields.contains(&"job_title".to_string()),
        "{:?}",
        update.fields
    );
    let text = serde_json::to_string(&trail).unwrap();
    for value in [
        "Ruoxi",
        "Zhuge",
        "ruoxi.zhuge@example.cn",
        "Buyer",
        "likes tea",
        "Jiayi",
        "8613800007777",
    ] {
        assert!(!text.contains(value), "the trail holds {value:?}");
    }
    let check = book.verify_audit().unwrap();
    assert!(
        check.is_intact() && check.entries == trail.len() as u64,
        "{check:?}"
    );
    assert_eq!(book.audit_trail(3).unwrap()[0].seq, 3);
}

/// Opens the book's audit table with redb directly (the book closed) and edits it.
fn tamper(path: &Path, edit: impl FnOnce(&mut redb::Table<u64, &[u8]>)) {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(AUDIT).unwrap();
        edit(&mut t);
    }
    txn.commit().unwrap();
}

fn entry(path: &Path, seq: u64) -> Vec<u8> {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(AUDIT).unwrap();
    t.get(seq).unwrap().unwrap().value().to_vec()
}

fn problem(path: &Path, key: Option<&RawKey>) -> kehu::AuditProblem {
    let book = match key {
        Some(k) => Book::open_encrypted(path, k).unwrap(),
        None => Book::open(path).unwrap(),
    };
    let check = book.verify_audit().unwrap();
    check.problem.expect("the tampering is found")
}

fn fresh(dir: &Path, name: &str, key: Option<&RawKey>) -> std::path::PathBuf {
    let path = dir.join(name);
    let book = match key {
        Some(k) => Book::open_encrypted(&path, k).unwrap(),
        None => Book::open(&path).unwrap(),
    };
    busy_book(&book);
    assert!(book.verify_audit().unwrap().is_intact());
    assert!(book.audit_trail(1).unwrap().len() >= 8);
    path
}

#[test]
fn tampering_with_the_trail_is_found_and_located() {
    let dir = tempfile::tempdir().unwrap();

    // A changed byte inside entry 3.
    let p = fresh(dir.path(), "changed.kehu", None);
    let mut bytes = entry(&p, 3);
    let i = bytes.len() - 40;
    bytes[i] ^= 0x20;
    tamper(&p, |t| {
        t.insert(3, bytes.as_slice()).unwrap();
    });
    assert_eq!(problem(&p, None).seq, 3);

    // Entry 4 deleted.
    let p = fresh(dir.path(), "deleted.kehu", None);
    tamper(&p, |t| {
        t.remove(4).unwrap();
    });
    let pr = problem(&p, None);
    assert_eq!(pr.seq, 4);
    assert!(pr.message.contains("missing"), "{}", pr.message);

    // Entries 2 and 5 swapped.
    let p = fresh(dir.path(), "swapped.kehu", None);
    let (two, five) = (entry(&p, 2), entry(&p, 5));
    tamper(&p, |t| {
        t.insert(2, five.as_slice()).unwrap();
        t.insert(5, two.as_slice()).unwrap();
    });
    assert_eq!(problem(&p, None).seq, 2);

    // The last entry removed: the recorded end no longer matches.
    let p = fresh(dir.path(), "truncated.kehu", None);
    let last = {
        let db = redb::Database::open(&p).unwrap();
        let txn = db.begin_read().unwrap();
        let t = txn.open_table(AUDIT).unwrap();
        let last = t.last().unwrap().unwrap().0.value();
        last
    };
    tamper(&p, |t| {
        t.remove(last).unwrap();
    });
    let pr = problem(&p, None);
    assert_eq!(pr.seq, last);
    assert!(pr.message.contains("removed"), "{}", pr.message);

    // An encrypted book: the entries are sealed too; a flipped byte does not open.
    let key = RawKey::new([3; 32]);
    let p = fresh(dir.path(), "sealed.kehu", Some(&key));
    let mut bytes = entry(&p, 2);
    let i = bytes.len() - 1;
    bytes[i] ^= 1;
    tamper(&p, |t| {
        t.insert(2, bytes.as_slice()).unwrap();
    });
    let pr = problem(&p, Some(&key));
    assert!(
        pr.message.contains("audit entry 2") || pr.message.contains("does not"),
        "{}",
        pr.message
    );
}

#[test]
fn a_subject_export_holds_everything_about_one_customer() {
    let book = Book::in_memory();
    let a = book
        .add(Customer::person("Ruoxi", "Zhuge").with_email("ruoxi.zhuge@example.cn"))
        .unwrap()
        .customer;
    let other = book
        .add(Customer::person("Jiayi", "Ximen").with_email("jiayi.ximen@example.cn"))
        .unwrap()
        .customer;
    book.relate(Note::new(a.id, Utc::now(), "likes tea"))
        .unwrap();
    book.relate(kehu::Consent::new(
        a.id,
        Utc::now(),
        "marketing",
        kehu::ConsentStatus::Granted,
    ))
    .unwrap();
    let mut changed = a.clone();
    changed.company = Some("Zhuge Tea".into());
    book.update(changed).unwrap();
    let x = book.subject_export(a.id).unwrap();
    assert_eq!(x.customer.id, a.id);
    assert_eq!(x.related.len(), 2);
    assert_eq!(x.consents.len(), 1);
    assert_eq!(x.history.len(), 4);
    assert!(x.audit.iter().all(|e| e.target == Some(a.id)) && x.audit.len() >= 4);
    let json = serde_json::to_string(&x).unwrap();
    assert!(json.contains("ruoxi.zhuge@example.cn") && json.contains("likes tea"));
    assert!(
        !json.contains("jiayi.ximen@example.cn"),
        "another customer's data"
    );
    let _ = other;
    let last = book.audit_trail(1).unwrap().pop().unwrap();
    assert_eq!(
        (last.op.as_str(), last.target),
        ("subject_export", Some(a.id))
    );
}
