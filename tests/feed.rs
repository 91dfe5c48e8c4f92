//! The change feed through the book: kinds, a cursor that survives a reopen,
//! consumers restarted at random points while threads write (each committed
//! change seen once, in order), erasure tombstones, and a principal's view.

use std::collections::BTreeSet;
use std::sync::Arc;

use kehu::{Book, Customer, FeedEntry, FeedKind, Note, Policy, Principal};
use proptest::prelude::*;

fn person(i: usize) -> Customer {
    Customer::person(format!("Given{i}"), format!("Family{i}"))
        .with_email(format!("p{i}@example.com"))
}

#[test]
fn the_feed_tells_what_happened_and_a_cursor_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.kehu");
    let cursor;
    let (a, b);
    {
        let book = Book::open(&path).unwrap();
        a = book.add_allowing_duplicates(person(1)).unwrap().customer;
        b = book.add_allowing_duplicates(person(2)).unwrap().customer;
        let mut changed = a.clone();
        changed.job_title = Some("采购经理".into());
        book.update(changed).unwrap();
        book.relate(Note::new(a.id, chrono::Utc::now(), "来电"))
            .unwrap();
        let feed = book.changes_since(0, 100).unwrap();
        let kinds: Vec<(kehu::CustomerId, FeedKind)> =
            feed.iter().map(|e| (e.customer_id, e.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (a.id, FeedKind::Created),
                (b.id, FeedKind::Created),
                (a.id, FeedKind::Updated),
                (a.id, FeedKind::Related)
            ]
        );
        assert_eq!(feed[2].fields, vec!["job_title".to_string()]);
        assert!(feed[3].record_id.is_some());
        let json = serde_json::to_string(&feed[2]).unwrap();
        assert!(!json.contains("采购经理"), "no value in the feed: {json}");
        cursor = feed[3].seq;
    }
    let book = Book::open(&path).unwrap();
    assert!(book.changes_since(cursor, 100).unwrap().is_empty());
    book.forget(b.id).unwrap();
    let next = book.changes_since(cursor, 100).unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].customer_id, next[0].kind),
        (b.id, FeedKind::Erased)
    );
    assert_eq!(next[0].actor, None);
    assert!(book
        .changes_since(0, 100)
        .unwrap()
        .iter()
        .all(|e| e.customer_id != b.id || e.kind == FeedKind::Erased));
}

#[test]
fn a_principal_follows_only_the_dossiers_it_reaches() {
    let book = Book::in_memory();
    let mut own = person(1);
    own.owner = Some("li".into());
    let own = book.add_allowing_duplicates(own).unwrap().customer;
    let mut other = person(2);
    other.owner = Some("wang".into());
    let other = book.add_allowing_duplicates(other).unwrap().customer;
    let mut changed = own.clone();
    changed.birth_date = chrono::NaiveDate::from_ymd_opt(1990, 5, 1);
    changed.job_title = Some("buyer".into());
    book.update(changed).unwrap();
    book.forget(other.id).unwrap();
    let policy = Policy::from_toml(
        "[roles.sales]\noperations = [\"read\"]\nscope = \"own\"\ndefault = \"visible\"\nfields = { birth_date = \"hidden\" }\n",
    )
    .unwrap();
    let li = book
        .as_principal(
            Principal {
                user: "li".into(),
                roles: vec!["sales".into()],
                team: None,
            },
            &policy,
        )
        .unwrap();
    let seen = li.changes_since(0, 100).unwrap();
    assert!(seen.iter().all(|e| e.customer_id == own.id), "{seen:?}");
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].fields,
        vec!["job_title".to_string()],
        "a hidden field's path is left out"
    );
    let owner: Vec<FeedKind> = book
        .changes_since(0, 100)
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        owner,
        vec![FeedKind::Created, FeedKind::Updated, FeedKind::Erased],
        "the owner's: li's two changes, and the erased one's tombstone in place of its creation"
    );
}

/// Threads write while a consumer reads pages of random sizes, keeping
/// nothing but its cursor: it sees each committed change once, in order,
/// and at the end all of them.
fn a_consumer_sees_every_change_once(
    book: Arc<Book>,
    writes: &[(usize, usize)],
    pages: &[usize],
) -> Result<(), TestCaseError> {
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let book = Arc::clone(&book);
            let mine: Vec<usize> = writes
                .iter()
                .filter(|(w, _)| *w == t)
                .map(|(_, i)| *i)
                .collect();
            std::thread::spawn(move || {
                let mut made: Vec<Customer> = Vec::new();
                for (n, i) in mine.into_iter().enumerate() {
                    if n % 3 == 2 && !made.is_empty() {
                        let mut c = book.get(made[0].id).unwrap();
                        c.job_title = Some(format!("t{n}"));
                        book.update(c).unwrap();
                    } else {
                        made.push(
                            book.add_allowing_duplicates(person(t * 1000 + i + n * 100))
                                .unwrap()
                                .customer,
                        );
                    }
                }
            })
        })
        .collect();
    let mut consumed: Vec<FeedEntry> = Vec::new();
    let mut cursor = 0;
    for page in pages.iter().cycle() {
        let done = threads.iter().all(|t| t.is_finished());
        let got = book.changes_since(cursor, *page).unwrap();
        if got.is_empty() && done {
            break;
        }
        for e in got {
            prop_assert!(e.seq > cursor, "in order, once");
            cursor = e.seq;
            consumed.push(e);
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    let all = book.changes_since(0, usize::MAX).unwrap();
    prop_assert_eq!(&consumed, &all);
    let seqs: BTreeSet<u64> = consumed.iter().map(|e| e.seq).collect();
    prop_assert_eq!(seqs.len(), consumed.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_consumer_paging_by_its_cursor_sees_every_change_once_in_order(
        writes in proptest::collection::vec((0usize..3, 0usize..40), 20..80),
        pages in proptest::collection::vec(1usize..7, 1..8),
        file in proptest::bool::ANY,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let book = if file { Book::open(dir.path().join("feed.kehu")).unwrap() } else { Book::in_memory() };
        a_consumer_sees_every_change_once(Arc::new(book), &writes, &pages)?;
    }
}

#[test]
fn a_waiting_consumer_is_woken_by_a_commit() {
    for file in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let book = Arc::new(if file {
            Book::open(dir.path().join("w.kehu")).unwrap()
        } else {
            Book::in_memory()
        });
        book.add_allowing_duplicates(person(1)).unwrap();
        let cursor = book.changes_since(0, 10).unwrap()[0].seq;
        let waiter = {
            let book = Arc::clone(&book);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let got = book
                    .wait_for_changes(cursor, 10, std::time::Duration::from_secs(60))
                    .unwrap();
                (got, started.elapsed())
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        let added = book.add_allowing_duplicates(person(2)).unwrap().customer;
        let (got, waited) = waiter.join().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].customer_id, added.id);
        assert!(
            waited < std::time::Duration::from_secs(30),
            "woken, not timed out: {waited:?}"
        );
        // With nothing new, it answers empty at its timeout.
        let last = got[0].seq;
        assert!(book
            .wait_for_changes(last, 10, std::time::Duration::from_millis(50))
            .unwrap()
            .is_empty());
    }
}
