//! `as_of` is history: a segment, count or explanation as of an instant sees
//! each dossier as it was then (from the change log), leaves out customers
//! created after it and keeps erased ones erased.

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, TimeZone, Utc};
use kehu::{Address, Book, Customer, Error, Money, Purchase, Timestamp};

/// A book whose clock the test moves, and the clock.
fn book() -> (Book, Arc<Mutex<Timestamp>>) {
    let clock = Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
    ));
    let read = clock.clone();
    let book = Book::in_memory().with_clock(Arc::new(move || *read.lock().unwrap()));
    (book, clock)
}

fn tick(clock: &Arc<Mutex<Timestamp>>, days: i64) -> Timestamp {
    let mut now = clock.lock().unwrap();
    *now += TimeDelta::days(days);
    *now
}

fn in_city(c: Customer, city: &str) -> Customer {
    let mut c = c;
    c.addresses.push(Address {
        city: Some(city.into()),
        ..Address::default()
    });
    c
}

#[test]
fn a_segment_as_of_an_instant_sees_the_book_as_it_was() {
    let (book, clock) = book();
    let wei = book
        .add(in_city(
            Customer::person("Wei", "Zhang").with_email("wei@example.com"),
            "上海",
        ))
        .unwrap()
        .customer;
    let li = book
        .add(in_city(
            Customer::person("Na", "Li").with_email("na@example.com"),
            "上海",
        ))
        .unwrap()
        .customer;
    let first = tick(&clock, 10);
    tick(&clock, 1);
    // Wei moves to Beijing and becomes a VIP; a third customer arrives.
    let mut moved = book.get(wei.id).unwrap();
    moved.addresses[0].city = Some("北京".into());
    moved.tags.push("VIP".into());
    book.update(moved).unwrap();
    let second = tick(&clock, 10);
    tick(&clock, 1);
    let zhao = book
        .add(in_city(
            Customer::person("Lei", "Zhao").with_email("lei@example.com"),
            "上海",
        ))
        .unwrap()
        .customer;
    tick(&clock, 10);

    let shanghai = book.segment(r#"city = "上海""#).unwrap();
    let vip = book.segment(r#"has tag "VIP""#).unwrap();
    let ids = |s, t| book.segment_ids(s, t).unwrap();
    assert_eq!(ids(&shanghai, None), sorted(vec![li.id, zhao.id]));
    assert_eq!(
        ids(&shanghai, Some(first)),
        sorted(vec![wei.id, li.id]),
        "Zhao came later"
    );
    assert_eq!(ids(&vip, Some(first)), vec![], "Wei was no VIP yet");
    assert_eq!(ids(&vip, Some(second)), vec![wei.id]);
    assert_eq!(book.segment_count(&shanghai, Some(second)).unwrap(), 1);

    // Members as they were, explanations of then.
    let then = book.segment_members(&shanghai, Some(first)).unwrap();
    let wei_then = then.iter().find(|c| c.id == wei.id).unwrap();
    assert_eq!(wei_then.addresses[0].city.as_deref(), Some("上海"));
    assert!(wei_then.tags.is_empty());
    assert!(
        book.explain_segment(&shanghai, wei.id, Some(first))
            .unwrap()
            .member
    );
    assert!(
        !book
            .explain_segment(&shanghai, wei.id, None)
            .unwrap()
            .member
    );
    match book.explain_segment(&shanghai, zhao.id, Some(first)) {
        Err(Error::Usage(m)) => assert!(m.contains("created after"), "{m}"),
        other => panic!("{other:?}"),
    }

    // An erased customer stays erased, whenever one asks about.
    book.forget(li.id).unwrap();
    assert_eq!(ids(&shanghai, Some(first)), vec![wei.id]);
    assert_eq!(book.customer_as_of(li.id, first).unwrap(), None);
}

#[test]
fn purchases_after_the_instant_did_not_happen_yet() {
    let (book, clock) = book();
    let wei = book
        .add(Customer::person("Wei", "Zhang").with_email("wei@example.com"))
        .unwrap()
        .customer;
    let cny = "CNY".parse().unwrap();
    let at = tick(&clock, 1);
    book.relate(Purchase::new(wei.id, at, Money::parse("800", cny).unwrap()))
        .unwrap();
    let before_second = tick(&clock, 5);
    let at = tick(&clock, 1);
    book.relate(Purchase::new(wei.id, at, Money::parse("700", cny).unwrap()))
        .unwrap();
    let big = book.segment("purchases.sum >= 1000").unwrap();
    assert_eq!(book.segment_count(&big, None).unwrap(), 1);
    assert_eq!(book.segment_count(&big, Some(before_second)).unwrap(), 0);
}

#[test]
fn many_updates_roll_back_one_by_one() {
    let (book, clock) = book();
    let mut c = book
        .add(Customer::person("Wei", "Zhang").with_email("wei@example.com"))
        .unwrap()
        .customer;
    let mut seen = Vec::new();
    for i in 0..6 {
        seen.push((tick(&clock, 1), c.clone()));
        tick(&clock, 1);
        c.job_title = Some(format!("title {i}"));
        if i % 2 == 0 {
            c = c.with_email(format!("wei{i}@example.com"));
        } else {
            c.emails.pop();
        }
        c.tags = vec![format!("t{i}")];
        c = book.update(c).unwrap().customer;
    }
    for (t, then) in seen {
        let back = book.customer_as_of(c.id, t).unwrap().unwrap();
        assert_eq!(back.job_title, then.job_title);
        assert_eq!(back.emails, then.emails);
        assert_eq!(back.tags, then.tags);
    }
}

fn sorted(mut ids: Vec<kehu::CustomerId>) -> Vec<kehu::CustomerId> {
    ids.sort();
    ids
}
