//! The Book as a user meets it, on both stores.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use kehu::{
    Address, Book, ChangeOp, Currency, CustomValue, Customer, Direction, Error, Interaction,
    InteractionChannel, Kind, Money, Note, Purchase, RedbStore, RuleSet, Rules, Timestamp,
};

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().unwrap()
}

/// A book whose clock the test moves.
fn with_clock(book: Book) -> (Book, Arc<Mutex<Timestamp>>) {
    let now = Arc::new(Mutex::new(start()));
    let clock = now.clone();
    let book = book.with_clock(Arc::new(move || *clock.lock().unwrap()));
    (book, now)
}

fn rules() -> Rules {
    let mut set = RuleSet::standard();
    set.default_region = Some("CN".into());
    Rules::new(set).unwrap()
}

fn books() -> Vec<(&'static str, Book, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let redb = Book::open_with_rules(dir.path().join("book.kehu"), rules()).unwrap();
    let memory = Book::with_store(Box::new(kehu::MemoryStore::new()), rules());
    vec![("memory", memory, None), ("redb", redb, Some(dir))]
}

#[test]
fn add_get_update_remove() {
    for (name, book, _dir) in books() {
        let saved = book
            .add(
                Customer::person_named("张伟")
                    .with_phone("138 1234 5678")
                    .with_email("zw@example.cn"),
            )
            .unwrap();
        let id = saved.customer.id;
        assert_eq!(saved.customer.version, 1, "{name}");
        assert!(saved.report.is_clean(), "{name}: {}", saved.report);
        let got = book.get(id).unwrap();
        assert_eq!(got, saved.customer, "{name}");
        assert_eq!(got.phones[0].number, "+8613812345678");

        let mut changed = got.clone();
        changed.job_title = Some("采购经理".into());
        changed.emails[0].address = " Zhang.Wei@Example.CN".into();
        let updated = book.update(changed).unwrap();
        assert_eq!(updated.customer.version, 2);
        // An edited value was entered as it now stands; an untouched one keeps its raw form.
        assert_eq!(updated.customer.emails[0].address, "Zhang.Wei@example.cn");
        assert_eq!(updated.customer.emails[0].raw, " Zhang.Wei@Example.CN");
        assert_eq!(updated.customer.phones[0].raw, "138 1234 5678");
        assert_eq!(book.get(id).unwrap(), updated.customer, "{name}");

        // A second writer holding version 1 loses.
        let mut stale = got;
        stale.owner = Some("bob".into());
        match book.update(stale) {
            Err(Error::Conflict {
                expected: 1,
                found: 2,
                ..
            }) => {}
            other => panic!("{name}: {other:?}"),
        }
        book.remove(id).unwrap();
        assert!(matches!(book.get(id), Err(Error::NotFound(_))), "{name}");
        assert_eq!(
            book.history(id).unwrap().last().unwrap().op,
            ChangeOp::Deleted
        );
    }
}

#[test]
fn a_rejected_record_leaves_the_book_as_it_was() {
    for (name, book, _dir) in books() {
        book.add(Customer::person("Anna", "Schmidt").with_email("anna@example.de"))
            .unwrap();
        let mut bad = Customer::person("Max", "Muster")
            .with_email("max@@example")
            .with_address(Address {
                country: Some("DE".into()),
                postcode: Some("ABC".into()),
                ..Address::default()
            });
        bad.birth_date = NaiveDate::from_ymd_opt(2999, 1, 1);
        bad.custom
            .insert("favourite_colour".into(), CustomValue::Text("blue".into()));
        let id = bad.id;
        match book.add(bad) {
            Err(Error::Invalid { report, .. }) => {
                let codes: Vec<&str> = report.errors().map(|v| v.code.as_str()).collect();
                assert_eq!(
                    codes,
                    [
                        "format.email",
                        "format.postcode",
                        "date.future",
                        "custom.unknown"
                    ],
                    "{name}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(book.count().unwrap(), 1, "{name}");
        assert!(book.find_by_email("max@@example").unwrap().is_empty());
        assert!(book.history(id).unwrap().is_empty());

        // A batch with one bad record writes none of them.
        let good = Customer::person("Li", "Na").with_email("li.na@example.cn");
        let worse = Customer {
            kind: Kind::Organization,
            ..Customer::default()
        };
        match book.add_many([good, worse]) {
            Err(Error::Invalid { index: Some(1), .. }) => {}
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(book.count().unwrap(), 1, "{name}");
    }
}

#[test]
fn wrong_types_and_oversized_records_are_reports_not_panics() {
    let mut set = RuleSet::from_toml("[[custom]]\nname = \"level\"\ntype = \"integer\"").unwrap();
    set.default_region = Some("CN".into());
    let book = Book::with_store(Box::new(kehu::MemoryStore::new()), Rules::new(set).unwrap());
    let wrong = Customer::person("A", "B").with_custom("level", CustomValue::Text("gold".into()));
    let Err(Error::Invalid { report, .. }) = book.add(wrong) else {
        panic!("accepted")
    };
    assert_eq!(report.violations[0].code, "custom.type");
    let mut huge = Customer::person("A", "B");
    huge.job_title = Some("很".repeat(400_000));
    let Err(Error::Invalid { report, .. }) = book.add(huge) else {
        panic!("accepted")
    };
    assert_eq!(report.violations[0].code, "size.record");
    assert_eq!(book.count().unwrap(), 0);
}

#[test]
fn warnings_do_not_block() {
    for (name, book, _dir) in books() {
        let saved = book
            .add(Customer::organization("Acme Trading").with_phone("call reception"))
            .unwrap();
        let codes: Vec<&str> = saved.report.warnings().map(|v| v.code.as_str()).collect();
        assert_eq!(codes, ["format.phone", "required"], "{name}");
        assert_eq!(
            book.get(saved.customer.id).unwrap().phones[0].number,
            "call reception"
        );
    }
}

#[test]
fn find_by_any_key_in_any_format() {
    for (name, book, _dir) in books() {
        let mut c = Customer::person("Wei", "Zhang")
            .with_email("Wei.Zhang@Example.com")
            .with_phone("+86 138 1234 5678")
            .with_tag("vip");
        c.external_id = Some("ERP-0042".into());
        let id = book.add(c).unwrap().customer.id;
        book.add(Customer::person("Li", "Na").with_phone("13900000000"))
            .unwrap();
        let ids = |v: Vec<Customer>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(book.find_by_email(" wei.zhang@EXAMPLE.com ").unwrap()),
            [id],
            "{name}"
        );
        assert_eq!(
            ids(book.find_by_phone("138-1234-5678").unwrap()),
            [id],
            "{name}"
        );
        assert_eq!(
            ids(book.find_by_phone("+8613812345678").unwrap()),
            [id],
            "{name}"
        );
        assert_eq!(
            ids(book.find_by_external_id("ERP-0042").unwrap()),
            [id],
            "{name}"
        );
        assert_eq!(ids(book.find_by_tag("vip").unwrap()), [id], "{name}");
        assert!(book.find_by_email("nobody@example.com").unwrap().is_empty());
    }
}

#[test]
fn related_records_and_history_tell_the_story() {
    for (name, book, _dir) in books() {
        let (book, now) = with_clock(book.as_actor("alice"));
        let id = book
            .add(Customer::person("Olivia", "Smith").with_email("olivia@example.co.uk"))
            .unwrap()
            .customer
            .id;
        let t = |d: i64| start() + TimeDelta::days(d);
        book.relate(Purchase::new(
            id,
            t(5),
            Money::parse("49.90", Currency::GBP).unwrap(),
        ))
        .unwrap();
        book.relate(Purchase::new(id, t(2), Money::new(1999, Currency::GBP)))
            .unwrap();
        book.relate(Interaction::new(
            id,
            t(3),
            InteractionChannel::Phone,
            Direction::Inbound,
            "asked about delivery",
        ))
        .unwrap();
        book.relate(Note::new(id, t(4), "  prefers e-mail\n"))
            .unwrap();
        let purchases = book.purchases(id).unwrap();
        assert_eq!(
            purchases.iter().map(|p| p.amount.minor).collect::<Vec<_>>(),
            [1999, 4990],
            "{name}"
        );
        assert_eq!(book.interactions(id).unwrap().len(), 1);
        assert_eq!(book.notes(id).unwrap()[0].text, "prefers e-mail");
        assert_eq!(book.related(id).unwrap().len(), 4);
        let missing = book.relate(Note::new(kehu::CustomerId::new(), t(1), "orphan"));
        assert!(matches!(missing, Err(Error::NotFound(_))), "{name}");
        let empty = book.relate(Note::new(id, t(1), "   "));
        assert!(matches!(empty, Err(Error::Invalid { .. })), "{name}");

        *now.lock().unwrap() = t(10);
        let mut c = book.get(id).unwrap();
        c.job_title = Some("Buyer".into());
        book.update(c).unwrap();
        let history = book.history(id).unwrap();
        assert_eq!(history.len(), 6, "{name}");
        let last = history.last().unwrap();
        assert_eq!((last.actor.as_str(), last.at), ("alice", t(10)));
        assert_eq!(
            last.fields
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>(),
            ["job_title"]
        );
        assert_eq!(book.get(id).unwrap().created_at, start());
    }
}

#[test]
fn the_stale_queue_lists_the_longest_unverified_first() {
    for (name, book, _dir) in books() {
        let (book, now) = with_clock(book);
        let old = book
            .add(Customer::person("Old", "One"))
            .unwrap()
            .customer
            .id;
        *now.lock().unwrap() = start() + TimeDelta::days(100);
        let middle = book
            .add(Customer::person("Middle", "One"))
            .unwrap()
            .customer
            .id;
        *now.lock().unwrap() = start() + TimeDelta::days(300);
        let fresh = book
            .add(Customer::person("Fresh", "One"))
            .unwrap()
            .customer
            .id;
        let ids = |v: Vec<Customer>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(
            ids(book.stale(TimeDelta::days(180)).unwrap()),
            [old, middle],
            "{name}"
        );
        book.verify(old).unwrap();
        assert_eq!(
            ids(book.stale(TimeDelta::days(180)).unwrap()),
            [middle],
            "{name}"
        );
        *now.lock().unwrap() = start() + TimeDelta::days(700);
        assert_eq!(
            ids(book.stale(TimeDelta::days(180)).unwrap()),
            [middle, old, fresh],
            "{name}"
        );
    }
}

#[test]
fn a_book_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.kehu");
    let id = {
        let book = Book::open(&path).unwrap();
        let id = book
            .add(Customer::person("Wei", "Zhang").with_email("wei@example.com"))
            .unwrap()
            .customer
            .id;
        book.relate(Note::new(id, start(), "first call")).unwrap();
        id
    };
    let book = Book::open(&path).unwrap();
    assert_eq!(book.get(id).unwrap().emails[0].address, "wei@example.com");
    assert_eq!(book.notes(id).unwrap().len(), 1);
    assert_eq!(book.find_by_email("wei@example.com").unwrap().len(), 1);
}

#[test]
fn a_corrupt_or_foreign_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    std::fs::write(&csv, "id,name\n1,Wei\n".repeat(1000)).unwrap();
    let err = Book::open(&csv).unwrap_err();
    assert!(err.to_string().contains("not a kehu book"), "{err}");
    // A real book with its header damaged.
    let path = dir.path().join("damaged.kehu");
    {
        let book = Book::open(&path).unwrap();
        book.add(Customer::person("A", "B")).unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().take(64) {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Book::open(&path).unwrap_err();
    assert!(err.to_string().contains("not a kehu book"), "{err}");
    // A directory is not a book either.
    assert!(Book::open(dir.path()).is_err());
}

#[test]
fn one_store_behind_a_trait_object() {
    let dir = tempfile::tempdir().unwrap();
    let store: Box<dyn kehu::Store> = Box::new(RedbStore::open(dir.path().join("b.kehu")).unwrap());
    let book = Book::with_store(store, Rules::standard());
    book.add(Customer::person("A", "B")).unwrap();
    assert_eq!(book.count().unwrap(), 1);
}
