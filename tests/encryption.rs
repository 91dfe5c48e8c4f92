//! Encrypted books: nothing personal in the file, lookups still work, a wrong
//! key is refused without writing, tampering is detected, and `forget` makes a
//! customer's sealed values unreadable even where copies of them survive.

mod common;
use common::{credit_code, resident_id};

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use kehu::io::{Format, ImportOptions};
use kehu::{
    Address, Book, Currency, Customer, Direction, Error, Interaction, InteractionChannel, Money,
    Note, Passphrase, Purchase, RawKey,
};

fn key() -> RawKey {
    RawKey::new([42; 32])
}

/// A dossier whose every personal value is known, and the forms in which
/// each could reach the file (as typed, normalised, digits only).
fn known(i: u32) -> (Customer, Vec<String>) {
    let email = format!("Xiulan.Qin{i}@Example.COM");
    let phone = format!("+86 139 1234 {:04}", 1000 + i);
    let mut c = Customer::person(format!("Xiulan{i}"), format!("Qinshi{i}"))
        .with_email(email.as_str())
        .with_phone(phone.as_str())
        .with_address(Address {
            street: Some(format!("{i} Zhongshan Beilu")),
            city: Some("Guilinshi".into()),
            postcode: Some(format!("54{:04}", i)),
            country: Some("CN".into()),
            ..Address::default()
        });
    c.birth_date = NaiveDate::from_ymd_opt(1981, 7, 1 + i % 27);
    c.external_id = Some(format!("EXT-{i:05}"));
    let born = c
        .birth_date
        .map(|d| d.format("%Y%m%d").to_string())
        .unwrap_or_default();
    let resident = resident_id(&format!("450302{born}{:03}", 100 + i));
    let code = credit_code(&format!("914503{:011}", 31_415_926 + u64::from(i)));
    c.resident_id = Some(resident.clone());
    c.credit_code = Some(code.clone());
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let birth = c.birth_date.map(|d| d.to_string()).unwrap_or_default();
    let forms = vec![
        format!("Xiulan{i}"),
        format!("Qinshi{i}"),
        email.clone(),
        email.to_lowercase(),
        format!("Xiulan.Qin{i}@example.com"),
        phone.clone(),
        format!("+{digits}"),
        digits[2..].to_string(),
        format!("{i} Zhongshan Beilu"),
        "Guilinshi".into(),
        birth.clone(),
        birth.replace('-', ""),
        format!("EXT-{i:05}"),
        resident,
        code,
    ];
    (c, forms)
}

fn file_holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).expect("read the book file");
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn fill(book: &Book) -> Vec<String> {
    let mut all = Vec::new();
    for i in 0..20 {
        let (c, forms) = known(i);
        let saved = book.add_allowing_duplicates(c).expect("add").customer;
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        book.relate(Purchase::new(
            saved.id,
            at,
            Money::new(12_300, Currency::CNY),
        ))
        .expect("purchase");
        book.relate(Interaction::new(
            saved.id,
            at,
            InteractionChannel::Phone,
            Direction::Inbound,
            format!("Secretsummary{i} asked about delivery"),
        ))
        .expect("interaction");
        book.relate(Note::new(saved.id, at, format!("Privatenote{i}")))
            .expect("note");
        let mut changed = saved.clone();
        changed.job_title = Some(format!("Jobtitle{i}"));
        book.update(changed).expect("update");
        all.extend(forms);
        all.push(format!("Secretsummary{i}"));
        all.push(format!("Privatenote{i}"));
        all.push(format!("Jobtitle{i}"));
    }
    all
}

#[test]
fn the_file_of_an_encrypted_book_holds_no_personal_value() {
    let dir = tempfile::tempdir().unwrap();
    let plain_path = dir.path().join("plain.kehu");
    let sealed_path = dir.path().join("sealed.kehu");
    let forms = {
        let plain = Book::open(&plain_path).unwrap();
        fill(&plain)
    };
    {
        let sealed = Book::open_encrypted(&sealed_path, &key()).unwrap();
        fill(&sealed);
        // Lookups, duplicates and segments work on sealed data.
        assert_eq!(
            sealed
                .find_by_email("xiulan.qin3@example.com")
                .unwrap()
                .len(),
            1
        );
        assert_eq!(sealed.find_by_phone("+86 139 1234 1003").unwrap().len(), 1);
        assert_eq!(sealed.find_by_external_id("EXT-00003").unwrap().len(), 1);
        let (again, _) = known(3);
        // Identifiers through the blind index, in any form they are typed.
        let typed = again.resident_id.clone().unwrap().to_lowercase();
        assert_eq!(sealed.find_by_resident_id(&typed).unwrap().len(), 1);
        let code = again.credit_code.clone().unwrap();
        assert_eq!(sealed.find_by_credit_code(&code).unwrap().len(), 1);
        let dup = sealed.check_duplicates(&again).unwrap();
        let three = sealed.find_by_external_id("EXT-00003").unwrap()[0].id;
        assert_eq!(dup[0].id, three);
        assert!(matches!(sealed.add(again), Err(Error::Duplicate { .. })));
        let s = sealed
            .segment("city = \"Guilinshi\" and purchases.count >= 1")
            .unwrap();
        assert_eq!(sealed.segment_count(&s, None).unwrap(), 20);
        let d = sealed.dedupe(&Default::default(), &mut |_| {}).unwrap();
        assert_eq!(d.stats.records, 20);
        let id = sealed.find_by_external_id("EXT-00004").unwrap()[0].id;
        assert_eq!(sealed.history(id).unwrap().len(), 5);
        assert_eq!(
            sealed.interactions(id).unwrap()[0].summary,
            "Secretsummary4 asked about delivery"
        );
    }
    // The test bites: the plain book holds these values (all but the birth
    // dates, which a dossier stores as a day number, and their compact form,
    // which only the sealed dedupe keys could use).
    let is_date = |f: &str| {
        chrono::NaiveDate::parse_from_str(f, "%Y-%m-%d").is_ok()
            || (f.len() == 8 && f.bytes().all(|b| b.is_ascii_digit()))
    };
    for f in forms.iter().filter(|f| !is_date(f)) {
        assert!(
            file_holds(&plain_path, f),
            "the plain book should hold {f:?}"
        );
    }
    for f in &forms {
        assert!(
            !file_holds(&sealed_path, f),
            "the encrypted book holds {f:?}"
        );
    }
    // And it opens again with its key, and only with it.
    let again = Book::open_encrypted(&sealed_path, &key()).unwrap();
    assert_eq!(again.count().unwrap(), 20);
}

#[test]
fn an_import_into_an_encrypted_book_leaves_nothing_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("import.kehu");
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "external_id,given_name,family_name,email,phone\nA1,Meilin,Fangzhou,meilin.fangzhou@example.cn,+86 138 5555 0001\n",
    )
    .unwrap();
    let book = Book::open_encrypted(&path, &key()).unwrap();
    let report = book
        .import_file(
            &csv,
            &ImportOptions {
                format: Some(Format::Csv),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(
        book.find_by_email("meilin.fangzhou@example.cn")
            .unwrap()
            .len(),
        1
    );
    drop(book);
    for f in [
        "Meilin",
        "Fangzhou",
        "meilin.fangzhou@example.cn",
        "+8613855550001",
        "13855550001",
    ] {
        assert!(!file_holds(&path, f), "{f:?} in the file");
    }
}

#[test]
fn a_wrong_or_missing_key_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.kehu");
    {
        let book =
            Book::open_encrypted(&path, &Passphrase::new("lang lebe der kunde").unwrap()).unwrap();
        book.add(known(1).0).unwrap();
    }
    let before = Book::open_encrypted(&path, &Passphrase::new("lang lebe der kunde").unwrap())
        .unwrap()
        .snapshot()
        .unwrap()
        .customers()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let wrong = Book::open_encrypted(&path, &Passphrase::new("falsch").unwrap());
    assert!(
        matches!(&wrong, Err(Error::Key(m)) if m.contains("wrong key")),
        "{:?}",
        wrong.err()
    );
    assert!(matches!(
        Book::open_encrypted(&path, &key()),
        Err(Error::Key(_))
    ));
    let plain = Book::open(&path);
    assert!(plain.is_err());
    assert!(plain.err().unwrap().to_string().contains("encrypted"));
    assert!(Book::is_encrypted(&path).unwrap());

    // A provider that fails, and a plain book opened with a key.
    let missing = kehu::KeyFile::new(dir.path().join("missing.key"));
    assert!(
        matches!(Book::open_encrypted(&path, &missing), Err(Error::Key(m)) if m.contains("missing.key"))
    );
    let plain_path = dir.path().join("plain.kehu");
    Book::open(&plain_path).unwrap().add(known(2).0).unwrap();
    assert!(
        matches!(Book::open_encrypted(&plain_path, &key()), Err(Error::Key(m)) if m.contains("not encrypted"))
    );
    assert!(!Book::is_encrypted(&plain_path).unwrap());
    let ok = Book::open_encrypted(&path, &Passphrase::new("lang lebe der kunde").unwrap()).unwrap();
    let after = ok
        .snapshot()
        .unwrap()
        .customers()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert!(
        after == before,
        "a refused open changes nothing in the book"
    );
}

/// Reads and writes a raw table value with redb directly (the book closed).
fn raw_value(path: &Path, id: kehu::CustomerId, replace: Option<&[u8]>) -> Vec<u8> {
    use redb::ReadableDatabase;
    const CUSTOMERS: redb::TableDefinition<u128, &[u8]> =
        redb::TableDefinition::new("kehu_customers");
    let db = redb::Database::open(path).unwrap();
    let key = u128::from_be_bytes(id.to_bytes());
    let old = {
        let txn = db.begin_read().unwrap();
        let t = txn.open_table(CUSTOMERS).unwrap();
        t.get(key)
            .unwrap()
            .map(|v| v.value().to_vec())
            .unwrap_or_default()
    };
    if let Some(bytes) = replace {
        let txn = db.begin_write().unwrap();
        txn.open_table(CUSTOMERS)
            .unwrap()
            .insert(key, bytes)
            .unwrap();
        txn.commit().unwrap();
    }
    old
}

#[test]
fn a_changed_sealed_value_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.kehu");
    let id = Book::open_encrypted(&path, &key())
        .unwrap()
        .add(known(5).0)
        .unwrap()
        .customer
        .id;
    let mut bytes = raw_value(&path, id, None);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    raw_value(&path, id, Some(&bytes));
    let book = Book::open_encrypted(&path, &key()).unwrap();
    let err = book.get(id).unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
}

#[test]
fn forget_destroys_the_key_so_surviving_copies_do_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.kehu");
    let (keep, gone) = {
        let book = Book::open_encrypted(&path, &key()).unwrap();
        let keep = book.add(known(7).0).unwrap().customer.id;
        let gone = book
            .add_allowing_duplicates(known(8).0)
            .unwrap()
            .customer
            .id;
        (keep, gone)
    };
    // A copy of the erased customer's sealed dossier, as an old page or a copy of the file keeps it.
    let copy = raw_value(&path, gone, None);
    {
        let book = Book::open_encrypted(&path, &key()).unwrap();
        let e = book.forget(gone).unwrap();
        assert_eq!(e.id, gone);
        assert!(matches!(book.get(gone), Err(Error::NotFound(_))));
        assert!(book
            .find_by_email("xiulan.qin8@example.com")
            .unwrap()
            .is_empty());
        assert!(book.find_by_external_id("EXT-00008").unwrap().is_empty());
        assert!(book.history(gone).unwrap().is_empty());
        assert!(book
            .check_duplicates(&known(8).0)
            .unwrap()
            .iter()
            .all(|c| c.id != gone));
        assert_eq!(book.erasures().unwrap().len(), 1);
        assert_eq!(
            book.get(keep).unwrap().external_id.as_deref(),
            Some("EXT-00007")
        );
    }
    // Put the old sealed bytes back: without the customer's key they do not open.
    raw_value(&path, gone, Some(&copy));
    let book = Book::open_encrypted(&path, &key()).unwrap();
    let err = book.get(gone).unwrap_err();
    assert!(err.to_string().contains("erased"), "{err}");
    assert!(book.get(keep).is_ok());
}

#[test]
fn forget_works_on_a_plain_book_too() {
    let book = Book::in_memory();
    let id = book.add(known(9).0).unwrap().customer.id;
    book.relate(Note::new(id, Utc::now(), "x")).unwrap();
    book.forget(id).unwrap();
    assert!(matches!(book.get(id), Err(Error::NotFound(_))));
    assert!(book.related(id).unwrap().is_empty() && book.history(id).unwrap().is_empty());
    assert_eq!(book.erasures().unwrap()[0].id, id);
    // Forgetting twice is harmless.
    book.forget(id).unwrap();
}

#[test]
fn rotating_the_key_keeps_everything_readable_under_the_new_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.kehu");
    let (old, new) = (
        Passphrase::new("the old passphrase").unwrap(),
        Passphrase::new("the new passphrase").unwrap(),
    );
    let ids: Vec<_> = {
        let book = Book::open_encrypted(&path, &old).unwrap();
        (0..5)
            .map(|i| {
                book.add_allowing_duplicates(known(i).0)
                    .unwrap()
                    .customer
                    .id
            })
            .collect()
    };
    assert!(
        matches!(Book::rotate_key(&path, &new, &old), Err(Error::Key(_))),
        "the old key must open it"
    );
    assert_eq!(Book::rotate_key(&path, &old, &new).unwrap(), 5);
    assert!(matches!(
        Book::open_encrypted(&path, &old),
        Err(Error::Key(_))
    ));
    let book = Book::open_encrypted(&path, &new).unwrap();
    assert_eq!(
        book.get(ids[3]).unwrap().external_id.as_deref(),
        Some("EXT-00003")
    );
    assert_eq!(
        book.find_by_email("xiulan.qin2@example.com").unwrap()[0].id,
        ids[2]
    );
    assert!(book.verify_audit().unwrap().is_intact());
    assert_eq!(
        book.audit_trail(1).unwrap().last().unwrap().op,
        "rotate_key"
    );
    drop(book);
    let plain = dir.path().join("plain.kehu");
    Book::open(&plain).unwrap();
    assert!(matches!(
        Book::rotate_key(&plain, &old, &new),
        Err(Error::Key(_))
    ));
}

#[test]
fn erasure_follows_merges_and_compaction_leaves_no_value_of_either_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("merged.kehu");
    let book = Book::open(&path).unwrap();
    let (a, a_forms) = known(21);
    let (b, b_forms) = known(22);
    let a = book.add(a).unwrap().customer.id;
    let b = book.add_allowing_duplicates(b).unwrap().customer.id;
    book.relate(kehu::Note::new(b, chrono::Utc::now(), "b's note Qinshi22"))
        .unwrap();
    let kept = book.add(known(23).0).unwrap().customer.id;
    book.merge(&[a, b], &Default::default(), false).unwrap();
    // The merged-away id: refused, naming the survivor (its values and its
    // note live on there).
    match book.forget(b) {
        Err(Error::Usage(m)) => assert!(m.contains(&a.to_string()), "{m}"),
        other => panic!("{other:?}"),
    }
    // Forgetting the survivor erases both.
    book.forget(a).unwrap();
    let erased: Vec<_> = book.erasures().unwrap().into_iter().map(|e| e.id).collect();
    assert!(erased.contains(&a) && erased.contains(&b), "{erased:?}");
    let forms: Vec<&String> = a_forms
        .iter()
        .chain(&b_forms)
        .filter(|f| f.as_str() != "Guilinshi")
        .collect();
    // The test bites: before compaction, freed pages still hold some of them.
    assert!(
        forms.iter().any(|f| file_holds(&path, f)),
        "freed pages should still hold a value of the erased dossiers"
    );
    let summary = book.compact().unwrap();
    assert!(summary.bytes_after > 0 && summary.entries > 0);
    for f in &forms {
        assert!(!file_holds(&path, f), "the compacted file holds {f:?}");
    }
    // The book reads and writes on, and reopens.
    assert!(book.get(kept).is_ok());
    book.add(known(24).0).unwrap();
    drop(book);
    assert_eq!(Book::open(&path).unwrap().count().unwrap(), 2);
}

#[test]
fn compacting_an_encrypted_book_drops_an_erased_customers_wrapped_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealed.kehu");
    let book = Book::open_encrypted(&path, &key()).unwrap();
    book.add(known(31).0).unwrap();
    let gone = book
        .add_allowing_duplicates(known(32).0)
        .unwrap()
        .customer
        .id;
    drop(book);
    let wrapped = raw_key(&path, gone);
    let book = Book::open_encrypted(&path, &key()).unwrap();
    book.forget(gone).unwrap();
    drop(book);
    let holds = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        bytes
            .windows(wrapped.len())
            .any(|w| w == wrapped.as_slice())
    };
    assert!(
        holds(&path),
        "the test bites: the freed page keeps the wrapped key"
    );
    let book = Book::open_encrypted(&path, &key()).unwrap();
    book.compact().unwrap();
    assert!(
        !holds(&path),
        "the compacted file keeps the erased customer's wrapped key"
    );
    assert_eq!(book.count().unwrap(), 1);
    // A principal may not compact (the owner's alone).
    let policy = kehu::Policy::from_toml(
        "[roles.admin]\noperations = [\"read\", \"forget\"]\nscope = \"all\"\n",
    )
    .unwrap();
    let admin = kehu::Principal {
        user: "li".into(),
        roles: vec!["admin".into()],
        team: None,
    };
    let p = book.as_principal(admin, &policy).unwrap();
    assert!(matches!(p.compact(), Err(Error::Denied { .. })));
}

/// A customer's wrapped data key, read from the raw table.
fn raw_key(path: &Path, id: kehu::CustomerId) -> Vec<u8> {
    use redb::{ReadableDatabase, TableDefinition};
    const KEYS: TableDefinition<u128, &[u8]> = TableDefinition::new("kehu_keys");
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let table = txn.open_table(KEYS).unwrap();
    let v = table
        .get(u128::from_be_bytes(id.to_bytes()))
        .unwrap()
        .expect("the customer has a wrapped key")
        .value()
        .to_vec();
    v
}
