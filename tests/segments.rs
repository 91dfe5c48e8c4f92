//! Saved segments through the book: static and dynamic, kept current by every
//! kind of write, with enter/leave events.

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, TimeZone, Utc};
use kehu::io::{ImportKind, ImportOptions};
use kehu::{Book, Customer, Money, Purchase, SegmentEvent};

fn events(book: &Book) -> Arc<Mutex<Vec<SegmentEvent>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    book.on_segment_change(Box::new(move |e| sink.lock().unwrap().push(e.clone())))
        .unwrap();
    seen
}

fn taken(events: &Arc<Mutex<Vec<SegmentEvent>>>) -> Vec<(String, bool)> {
    events
        .lock()
        .unwrap()
        .drain(..)
        .map(|e| (e.segment, e.entered))
        .collect()
}

#[test]
fn static_segments_keep_their_members_and_dynamic_ones_follow_writes() {
    let book = Book::in_memory();
    let wei = book
        .add(Customer::person_named("张伟").with_tag("VIP"))
        .unwrap()
        .customer;
    let frozen = book
        .save_segment("vip-then", r#"has tag "VIP""#, false)
        .unwrap();
    assert_eq!(frozen.members, vec![wei.id]);
    book.save_segment("vip", r#"has tag "VIP""#, true).unwrap();
    book.save_segment("big", "purchases.sum >= 1000", true)
        .unwrap();
    let log = events(&book);

    // add: enters "vip"
    let na = book
        .add(Customer::person_named("李娜").with_tag("VIP"))
        .unwrap()
        .customer;
    assert_eq!(taken(&log), vec![("vip".into(), true)]);
    assert_eq!(
        book.saved_segment_members("vip-then").unwrap(),
        vec![wei.id]
    );
    let mut vip = vec![wei.id, na.id];
    vip.sort();
    assert_eq!(book.saved_segment_members("vip").unwrap(), vip);

    // relate: a purchase puts 张伟 in "big"
    let cny = "CNY".parse().unwrap();
    book.relate(Purchase::new(
        wei.id,
        Utc::now(),
        Money::parse("1200", cny).unwrap(),
    ))
    .unwrap();
    assert_eq!(taken(&log), vec![("big".into(), true)]);

    // update: 李娜 loses the tag
    let mut na = book.get(na.id).unwrap();
    na.tags.clear();
    book.update(na.clone()).unwrap();
    assert_eq!(taken(&log), vec![("vip".into(), false)]);

    // remove: 张伟 leaves both
    book.remove(wei.id).unwrap();
    let mut left = taken(&log);
    left.sort();
    assert_eq!(left, vec![("big".into(), false), ("vip".into(), false)]);
    assert!(book.saved_segment_members("vip").unwrap().is_empty());

    // import: two rows, one of them VIP
    let file = std::env::temp_dir().join(format!("kehu-seg-{}.csv", std::process::id()));
    std::fs::write(&file, "name,tags\nWang,VIP\nZhao,\n").unwrap();
    let report = book.import_file(&file, &ImportOptions::default()).unwrap();
    assert_eq!(taken(&log), vec![("vip".into(), true)]);
    // revert: gone again
    book.revert_import(report.import_id.unwrap()).unwrap();
    assert_eq!(taken(&log), vec![("vip".into(), false)]);
    std::fs::remove_file(&file).unwrap();

    let names: Vec<String> = book
        .saved_segments()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["big", "vip", "vip-then"]);
    book.delete_segment("big").unwrap();
    assert!(book.saved_segment("big").is_err());
    let _ = ImportKind::Customers;
}

#[test]
fn relative_dates_move_with_the_clock_on_refresh() {
    let clock = Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    ));
    let read = clock.clone();
    let book = Book::in_memory().with_clock(Arc::new(move || *read.lock().unwrap()));
    let c = book.add(Customer::person_named("张伟")).unwrap().customer;
    let cny = "CNY".parse().unwrap();
    let at = *clock.lock().unwrap();
    book.relate(Purchase::new(c.id, at, Money::parse("10", cny).unwrap()))
        .unwrap();
    book.save_segment("recent", "purchases.last within 30d", true)
        .unwrap();
    let log = events(&book);
    assert_eq!(book.saved_segment_members("recent").unwrap(), vec![c.id]);
    *clock.lock().unwrap() += TimeDelta::days(45);
    assert_eq!(
        book.saved_segment_members("recent").unwrap(),
        vec![c.id],
        "no write, no change"
    );
    book.refresh_segments().unwrap();
    assert_eq!(taken(&log), vec![("recent".into(), false)]);
    assert!(book.saved_segment_members("recent").unwrap().is_empty());
}

#[test]
fn a_bad_condition_is_not_saved() {
    let book = Book::in_memory();
    let err = book.save_segment("x", "citty = 1", true).unwrap_err();
    assert!(err.to_string().contains("did you mean city?"), "{err}");
    assert!(book.saved_segments().unwrap().is_empty());
}

#[test]
fn saved_segments_refer_to_each_other_without_circles() {
    let book = Book::in_memory();
    book.add(Customer::person_named("张伟").with_tag("VIP"))
        .unwrap();
    book.save_segment("vip", r#"has tag "VIP""#, true).unwrap();
    book.save_segment("vip2", r#"in segment "vip""#, true)
        .unwrap();
    assert_eq!(book.saved_segment_members("vip2").unwrap().len(), 1);
    let err = book
        .save_segment("vip", r#"in segment "vip2""#, true)
        .unwrap_err();
    assert!(err.to_string().contains("circle"), "{err}");
    assert_eq!(
        book.saved_segment("vip").unwrap().condition,
        r#"has tag "VIP""#
    );
}

/// The book's projection, once built, follows its writes: counts after adds,
/// updates, removals and purchases equal a fresh row-by-row evaluation.
#[test]
fn the_projection_follows_writes() {
    let book = Book::in_memory();
    let cny = "CNY".parse().unwrap();
    let mut ids = Vec::new();
    for i in 0..200 {
        let mut c = Customer::person_named(format!("客户{i}"));
        if i % 3 == 0 {
            c = c.with_tag("VIP");
        }
        ids.push(book.add(c).unwrap().customer.id);
    }
    let segment = book
        .segment(r#"has tag "VIP" or purchases.sum >= 100"#)
        .unwrap();
    let fresh = |book: &Book| {
        let snap = book.snapshot().unwrap();
        let mut n = 0;
        for c in snap.customers().unwrap() {
            let c = c.unwrap();
            let related = snap.related(c.id, None).unwrap();
            if segment.matches(&c, &related, Utc::now()) {
                n += 1;
            }
        }
        n
    };
    assert_eq!(book.segment_count(&segment, None).unwrap(), fresh(&book));
    for (k, id) in ids.iter().enumerate().take(60) {
        match k % 4 {
            0 => {
                book.relate(Purchase::new(
                    *id,
                    Utc::now(),
                    Money::parse("150", cny).unwrap(),
                ))
                .unwrap();
            }
            1 => {
                let mut c = book.get(*id).unwrap();
                c.tags.clear();
                book.update(c).unwrap();
            }
            2 => book.remove(*id).unwrap(),
            _ => {
                book.add(Customer::person_named("新").with_tag("VIP"))
                    .unwrap();
            }
        }
        assert_eq!(
            book.segment_count(&segment, None).unwrap(),
            fresh(&book),
            "after write {k}"
        );
    }
    let members = book.segment_members(&segment, None).unwrap();
    assert!(members.windows(2).all(|w| w[0].id < w[1].id), "in id order");
}

/// The projection built for a segment of fields alone holds no related
/// records: a later question about purchases must not be answered from it
/// (it was: saving `has tag` first made every purchase segment empty).
#[test]
fn a_projection_without_records_does_not_answer_for_aggregates() {
    let book = Book::in_memory();
    let wei = book
        .add(Customer::person_named("张伟").with_tag("VIP"))
        .unwrap()
        .customer;
    book.relate(Purchase::new(
        wei.id,
        Utc::now() - TimeDelta::days(3),
        Money::parse("1200", "CNY".parse().unwrap()).unwrap(),
    ))
    .unwrap();
    book.save_segment("vip", r#"has tag "VIP""#, true).unwrap();
    for condition in [
        "purchases.sum >= 1000",
        "purchases.count >= 1",
        r#"has tag "VIP" and purchases.last within 30d"#,
    ] {
        let segment = book.segment(condition).unwrap();
        assert_eq!(
            book.segment_ids(&segment, None).unwrap(),
            vec![wei.id],
            "{condition}"
        );
    }
    // And the projection that now reads them stays right for the first segment.
    assert_eq!(book.saved_segment_members("vip").unwrap(), vec![wei.id]);
}
