//! The story every format fixture holds, written once by the release of that
//! format (`cargo run --example format_fixture -- DIR`) and read by every later
//! release (`tests/formats.rs`). Change it only by adding to the end of
//! [`write`] and [`check`]: the fixtures already committed were written by
//! the story as it was, and [`check`] must still hold for them.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, TimeZone, Utc};
use kehu::{
    Address, Book, Consent, ConsentStatus, Currency, Customer, CustomerId, Direction, Interaction,
    InteractionChannel, Money, Note, Purchase, RawKey, Survivorship, Timestamp,
};

/// The key of the encrypted fixture (a raw key: no passphrase stretching in tests).
pub fn key() -> RawKey {
    RawKey::new([7; 32])
}

/// The story's clock: one second per reading, from 100 days after [`at`]`(0)`
/// (the related records are dated before).
pub fn clocked(book: Book) -> Book {
    let now = Arc::new(Mutex::new(at(100)));
    book.as_actor("fixture").with_clock(Arc::new(move || {
        let mut t = now.lock().unwrap();
        *t += chrono::TimeDelta::seconds(1);
        *t
    }))
}

/// An instant of the story: `n` days after 2026-01-01.
pub fn at(n: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + chrono::TimeDelta::days(n)
}

/// The first customer: a person with every kind of personal value.
pub const WANG: &str = "F-1";
/// A company.
pub const HUAXIN: &str = "F-2";
/// A German customer.
pub const ANNA: &str = "F-3";
/// Li Wei and the duplicate merged into him.
pub const LI: &str = "F-4";
pub const LI_AGAIN: &str = "F-5";
/// A customer added and then forgotten.
pub const GONE: &str = "F-6";

/// The resident ID of [`WANG`] (valid check character).
pub const WANG_ID: &str = "310104198107160021";
/// The credit code of [`HUAXIN`] (valid check character).
pub const HUAXIN_CODE: &str = "91310000MA1FL8TQ36";

fn person(given: &str, family: &str, external: &str) -> Customer {
    let mut c = Customer::person(given, family);
    c.external_id = Some(external.into());
    c
}

/// Writes the story into an empty book.
pub fn write(book: &Book) {
    let mut wang = person("秀兰", "王", WANG)
        .with_email("Wang.Xiulan@Example.CN")
        .with_phone("+86 139 1234 5678")
        .with_address(Address {
            street: Some("中山北路 200 号".into()),
            city: Some("上海".into()),
            postcode: Some("200040".into()),
            country: Some("CN".into()),
            ..Address::default()
        });
    wang.birth_date = NaiveDate::from_ymd_opt(1981, 7, 16);
    wang.resident_id = Some(WANG_ID.into());
    wang.tags = vec!["VIP".into()];
    let wang = book.add(wang).expect("add wang").customer;

    let mut huaxin =
        Customer::organization("华信科技有限公司").with_email("info@huaxin.example.cn");
    huaxin.external_id = Some(HUAXIN.into());
    huaxin.credit_code = Some(HUAXIN_CODE.into());
    let huaxin = book.add(huaxin).expect("add huaxin").customer;

    let anna = person("Anna", "Schmidt", ANNA)
        .with_email("anna.schmidt@example.de")
        .with_phone("+49 30 1234567");
    book.add(anna).expect("add anna");

    let li = book
        .add(person("Wei", "Li", LI).with_email("li.wei@example.com"))
        .expect("add li")
        .customer;
    let li_again = book
        .add_allowing_duplicates(person("Wei", "Li", LI_AGAIN).with_phone("+86 138 0000 1111"))
        .expect("add li again")
        .customer;
    book.merge(&[li.id, li_again.id], &Survivorship::default(), false)
        .expect("merge");

    let gone = book
        .add(person("Mingzhu", "Forgotten", GONE).with_email("gone@example.cn"))
        .expect("add gone")
        .customer;
    book.relate(Note::new(gone.id, at(3), "a note that goes with her"))
        .expect("note of gone");
    book.forget(gone.id).expect("forget");

    book.relate(Purchase::new(
        wang.id,
        at(10),
        Money::new(128_000, Currency::CNY),
    ))
    .expect("purchase");
    book.relate(Purchase::new(
        wang.id,
        at(40),
        Money::new(9_900, Currency::CNY),
    ))
    .expect("purchase");
    book.relate(Interaction::new(
        wang.id,
        at(12),
        InteractionChannel::Phone,
        Direction::Inbound,
        "asked about delivery",
    ))
    .expect("interaction");
    book.relate(Consent::new(
        wang.id,
        at(1),
        "marketing",
        ConsentStatus::Granted,
    ))
    .expect("consent");
    book.relate(Note::new(huaxin.id, at(5), "annual contract"))
        .expect("note");

    let mut changed = wang;
    changed.job_title = Some("采购经理".into());
    book.update(changed).expect("update");

    book.save_segment("vip", "has tag \"VIP\"", true)
        .expect("save segment");
}

fn one(book: &Book, external: &str) -> Customer {
    let mut found = book.find_by_external_id(external).expect("find");
    assert_eq!(found.len(), 1, "{external}: {found:?}");
    found.remove(0)
}

/// Checks that `book` holds the story, read through every kind of read.
pub fn check(book: &Book) {
    check_with(book, 0);
}

/// [`check`] on a book that has gained one dossier since, `added`.
pub fn check_grown(book: &Book, added: CustomerId) {
    book.get(added).expect("the dossier added");
    check_with(book, 1);
}

fn check_with(book: &Book, added: u64) {
    assert_eq!(
        book.count().unwrap(),
        4 + added,
        "Wang, Huaxin, Anna, Li (merged); Gone forgotten"
    );
    let wang = one(book, WANG);
    assert_eq!(wang.name.given.as_deref(), Some("秀兰"));
    assert_eq!(wang.name.family.as_deref(), Some("王"));
    assert_eq!(wang.emails[0].address, "Wang.Xiulan@example.cn");
    assert_eq!(wang.phones[0].number, "+8613912345678");
    assert_eq!(wang.addresses[0].city.as_deref(), Some("上海"));
    assert_eq!(wang.birth_date, NaiveDate::from_ymd_opt(1981, 7, 16));
    assert_eq!(wang.resident_id.as_deref(), Some(WANG_ID));
    assert_eq!(wang.job_title.as_deref(), Some("采购经理"));
    assert_eq!(wang.tags, vec!["VIP".to_string()]);
    assert_eq!(wang.version, 2);

    // The indexes: every lookup finds its dossier, in the forms people type.
    let ids = |v: Vec<Customer>| v.into_iter().map(|c| c.id).collect::<Vec<CustomerId>>();
    assert_eq!(
        ids(book.find_by_email("wang.xiulan@example.cn").unwrap()),
        vec![wang.id]
    );
    assert_eq!(
        ids(book.find_by_phone("139 1234 5678").unwrap()),
        vec![wang.id]
    );
    assert_eq!(
        ids(book.find_by_resident_id(WANG_ID).unwrap()),
        vec![wang.id]
    );
    assert_eq!(ids(book.find_by_tag("VIP").unwrap()), vec![wang.id]);
    let huaxin = one(book, HUAXIN);
    assert_eq!(
        ids(book.find_by_credit_code(HUAXIN_CODE).unwrap()),
        vec![huaxin.id]
    );
    assert_eq!(one(book, ANNA).phones[0].number, "+49301234567");

    // The merge: one Li, with both contacts; the other id gone; the receipt kept.
    let li = one(book, LI);
    assert!(book.find_by_external_id(LI_AGAIN).unwrap().is_empty());
    assert_eq!(li.emails.len(), 1);
    assert_eq!(li.phones.len(), 1);
    assert_eq!(
        ids(book.find_by_phone("+86 138 0000 1111").unwrap()),
        vec![li.id]
    );
    assert_eq!(book.merges().unwrap().len(), 1);

    // The erasure: nothing of her left but the record that she was erased.
    assert!(book.find_by_external_id(GONE).unwrap().is_empty());
    assert!(book.find_by_email("gone@example.cn").unwrap().is_empty());
    assert_eq!(book.erasures().unwrap().len(), 1);

    // Related records and the history.
    let purchases = book.purchases(wang.id).unwrap();
    let amounts: Vec<i64> = purchases.iter().map(|p| p.amount.minor).collect();
    assert_eq!(amounts, vec![128_000, 9_900]);
    assert_eq!(purchases[0].at, at(10));
    assert_eq!(
        book.interactions(wang.id).unwrap()[0].summary,
        "asked about delivery"
    );
    assert_eq!(
        book.consents(wang.id).unwrap()[0].status,
        ConsentStatus::Granted
    );
    assert_eq!(book.notes(huaxin.id).unwrap()[0].text, "annual contract");
    let history = book.history(wang.id).unwrap();
    assert!(history.len() >= 2, "{history:?}");
    assert!(matches!(history[0].op, kehu::ChangeOp::Created));
    assert!(history
        .iter()
        .any(|c| c.fields.iter().any(|f| f.path == "job_title")));
    assert_eq!(
        book.customer_as_of(wang.id, history[0].at)
            .unwrap()
            .map(|c| c.job_title),
        Some(None),
        "before the update, no job title"
    );

    // Documents: the saved segment and its members.
    assert_eq!(book.saved_segment_members("vip").unwrap(), vec![wang.id]);
    let big = book.segment("purchases.sum >= 1000").unwrap();
    assert_eq!(book.segment_count(&big, None).unwrap(), 1);

    // The audit trail is whole.
    let audit = book.verify_audit().unwrap();
    assert!(audit.is_intact(), "{audit:?}");
    assert!(audit.entries >= 12, "{audit:?}");

    // The duplicate check finds Wang from a retyped draft.
    let draft = Customer::person("秀兰", "王").with_phone("13912345678");
    let found = book.check_duplicates(&draft).unwrap();
    assert_eq!(found.first().map(|c| c.id), Some(wang.id), "{found:?}");
}
