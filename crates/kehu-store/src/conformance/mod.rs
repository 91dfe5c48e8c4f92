//! The conformance suite: one set of tests that every [`Store`] backend passes.
//!
//! A backend's tests expand [`conformance_tests!`](crate::conformance_tests)
//! with a function that makes an empty store, and, for a store that keeps
//! files, [`persistence_tests!`](crate::persistence_tests) with a function
//! that opens one at a path.

use std::path::Path;

use chrono::{TimeZone, Utc};
use kehu_model::{
    Customer, CustomerId, FeedbackKind, Money, Note, Purchase, Related, RelatedKind, Timestamp,
};
use proptest::prelude::*;

use crate::{Batch, ChangeOp, Error, IndexKey, Store, Write, MAX_RECORD_BYTES};

mod streams;
pub use streams::*;

/// Makes an empty store.
pub type Make<'a> = &'a dyn Fn() -> Box<dyn Store>;
/// Opens (creating if missing) a store kept at a path.
pub type Open<'a> = &'a dyn Fn(&Path) -> Box<dyn Store>;

/// Expands every conformance test as a `#[test]` for the backend that `$make` makes.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            put_then_get_round_trips, create_twice_conflicts, stale_version_conflicts,
            delete_removes_record_indexes_and_related, indexes_follow_updates,
            keyed_index_replaces_and_forgets, related_records_in_time_order,
            relating_to_a_missing_customer_fails, history_tells_the_story,
            failed_batch_writes_nothing, snapshot_is_isolated_from_later_writes,
            scans_in_id_order_and_counts, oversized_record_is_refused,
            any_customer_round_trips, any_related_record_round_trips,
            unrelate_removes_one_record, documents_by_space_and_prefix,
            non_durable_batches_are_visible, a_stream_of_batches_commits_whole,
            compaction_keeps_everything, the_feed_lists_every_change_once_in_order,
            reads_of_many_agree_with_reads_of_one, a_large_stream_over_rows_already_there,
            the_commit_count_moves_once_per_commit);
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::$name(&$make);
            }
        )*
    };
}

/// Expands the persistence tests for a backend that keeps its data at a path.
#[macro_export]
macro_rules! persistence_tests {
    ($open:expr) => {
        #[test]
        fn reopen_keeps_everything() {
            $crate::conformance::reopen_keeps_everything(&$open);
        }
    };
}

pub(crate) fn at(day: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0)
        .single()
        .expect("valid test date")
}

pub(crate) fn batch(write: Write) -> Batch {
    Batch::new("tester", at(1)).with(write)
}

pub(crate) fn sample() -> Customer {
    let mut c = Customer::person("Wei", "Zhang")
        .with_email("wei.zhang@example.com")
        .with_phone("+8613812345678")
        .with_tag("vip");
    c.external_id = Some("ERP-1".into());
    c.resident_id = Some("11010519491231002X".into());
    c.credit_code = Some("91350100M000100Y43".into());
    c
}

pub(crate) fn create(store: &dyn Store, customer: &Customer) {
    store
        .commit(batch(Write::Put {
            customer: customer.clone(),
            expected: 0,
        }))
        .expect("create");
}

fn get(store: &dyn Store, id: CustomerId) -> Option<Customer> {
    store
        .snapshot()
        .expect("snapshot")
        .customer(id)
        .expect("get")
}

fn lookup(store: &dyn Store, key: IndexKey) -> Vec<CustomerId> {
    store
        .snapshot()
        .expect("snapshot")
        .lookup(&key)
        .expect("lookup")
}

/// A created dossier reads back equal, at version 1.
pub fn put_then_get_round_trips(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let back = get(&*store, c.id).expect("present");
    assert_eq!(back.version, 1);
    assert_eq!(Customer { version: 0, ..back }, c);
    assert!(get(&*store, CustomerId::new()).is_none());
}

/// Creating an id that exists is a conflict.
pub fn create_twice_conflicts(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let err = store
        .commit(batch(Write::Put {
            customer: c.clone(),
            expected: 0,
        }))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 0,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
}

/// A write based on an old version fails and changes nothing.
pub fn stale_version_conflicts(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let mut first = get(&*store, c.id).expect("present");
    let mut second = first.clone();
    first.job_title = Some("CTO".into());
    store
        .commit(batch(Write::Put {
            expected: first.version,
            customer: first,
        }))
        .expect("first writer wins");
    second.job_title = Some("CFO".into());
    let err = store
        .commit(batch(Write::Put {
            expected: second.version,
            customer: second,
        }))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
    let now = get(&*store, c.id).expect("present");
    assert_eq!(now.job_title.as_deref(), Some("CTO"));
    assert_eq!(now.version, 2);
}

/// Deleting takes the right version and removes the dossier, its index
/// entries and related records; the history stays.
pub fn delete_removes_record_indexes_and_related(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let purchase = Purchase::new(c.id, at(2), Money::new(100, "CNY".parse().expect("CNY")));
    store
        .commit(batch(Write::Relate(purchase.into())))
        .expect("relate");
    store
        .commit(batch(Write::SetKeys {
            id: c.id,
            index: "block".into(),
            keys: vec![b"zw".to_vec()],
        }))
        .expect("keys");
    let err = store
        .commit(batch(Write::Delete {
            id: c.id,
            expected: 7,
        }))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    store
        .commit(batch(Write::Delete {
            id: c.id,
            expected: 1,
        }))
        .expect("delete");
    let snap = store.snapshot().expect("snapshot");
    assert!(snap.customer(c.id).expect("get").is_none());
    assert!(snap
        .lookup(&IndexKey::email("wei.zhang@example.com"))
        .expect("lookup")
        .is_empty());
    assert!(snap
        .lookup(&IndexKey::Tag("vip".into()))
        .expect("lookup")
        .is_empty());
    let keyed = IndexKey::Keyed {
        index: "block".into(),
        key: b"zw".to_vec(),
    };
    assert!(snap.lookup(&keyed).expect("lookup").is_empty());
    assert!(snap.related(c.id, None).expect("related").is_empty());
    let ops: Vec<ChangeOp> = snap
        .history(c.id)
        .expect("history")
        .into_iter()
        .map(|h| h.op)
        .collect();
    assert_eq!(ops.first(), Some(&ChangeOp::Created));
    assert_eq!(ops.last(), Some(&ChangeOp::Deleted));
    let err = store
        .commit(batch(Write::Delete {
            id: c.id,
            expected: 1,
        }))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

/// Every secondary index maps current values only.
pub fn indexes_follow_updates(make: Make) {
    let store = make();
    let c = sample();
    let other = Customer::person("Li", "Na").with_email("WEI.zhang@example.com");
    create(&*store, &c);
    create(&*store, &other);
    let mut both = vec![c.id, other.id];
    both.sort();
    assert_eq!(
        lookup(&*store, IndexKey::email("Wei.Zhang@Example.com")),
        both
    );
    assert_eq!(
        lookup(&*store, IndexKey::Phone("+8613812345678".into())),
        vec![c.id]
    );
    assert_eq!(
        lookup(&*store, IndexKey::ExternalId("ERP-1".into())),
        vec![c.id]
    );
    assert_eq!(lookup(&*store, IndexKey::Tag("vip".into())), vec![c.id]);
    let resident = IndexKey::ResidentId("11010519491231002X".into());
    let credit = IndexKey::CreditCode("91350100M000100Y43".into());
    assert_eq!(lookup(&*store, resident.clone()), vec![c.id]);
    assert_eq!(lookup(&*store, credit.clone()), vec![c.id]);
    // One value in two index spaces is two keys.
    assert!(lookup(&*store, IndexKey::CreditCode("11010519491231002X".into())).is_empty());

    let mut changed = get(&*store, c.id).expect("present");
    changed.resident_id = Some("110105194912310037".into());
    changed.credit_code = None;
    changed.emails[0].address = "wei@example.org".into();
    changed.tags = vec!["wholesale".into()];
    changed.external_id = None;
    store
        .commit(batch(Write::Put {
            expected: 1,
            customer: changed,
        }))
        .expect("update");
    assert_eq!(
        lookup(&*store, IndexKey::email("wei.zhang@example.com")),
        vec![other.id]
    );
    assert_eq!(
        lookup(&*store, IndexKey::email("wei@example.org")),
        vec![c.id]
    );
    assert!(lookup(&*store, IndexKey::Tag("vip".into())).is_empty());
    assert_eq!(
        lookup(&*store, IndexKey::Tag("wholesale".into())),
        vec![c.id]
    );
    assert!(lookup(&*store, IndexKey::ExternalId("ERP-1".into())).is_empty());
    assert!(lookup(&*store, resident).is_empty());
    assert!(lookup(&*store, credit).is_empty());
    assert_eq!(
        lookup(&*store, IndexKey::ResidentId("110105194912310037".into())),
        vec![c.id]
    );
}

/// A keyed index holds what was last set, per customer and index name.
pub fn keyed_index_replaces_and_forgets(make: Make) {
    let store = make();
    let a = sample();
    let b = Customer::person("Wei", "Zhao");
    create(&*store, &a);
    create(&*store, &b);
    let set = |id, index: &str, keys: &[&[u8]]| {
        store
            .commit(batch(Write::SetKeys {
                id,
                index: index.into(),
                keys: keys.iter().map(|k| k.to_vec()).collect(),
            }))
            .expect("set keys");
    };
    let key = |index: &str, k: &[u8]| IndexKey::Keyed {
        index: index.into(),
        key: k.to_vec(),
    };
    set(a.id, "name", &[b"Z", b"W"]);
    set(b.id, "name", &[b"Z"]);
    set(a.id, "dob", &[b"Z"]);
    assert_eq!(lookup(&*store, key("name", b"Z")).len(), 2);
    assert_eq!(lookup(&*store, key("dob", b"Z")), vec![a.id]);
    set(a.id, "name", &[b"W2"]);
    assert_eq!(lookup(&*store, key("name", b"Z")), vec![b.id]);
    assert!(lookup(&*store, key("name", b"W")).is_empty());
    assert_eq!(lookup(&*store, key("name", b"W2")), vec![a.id]);
    set(b.id, "name", &[]);
    assert!(lookup(&*store, key("name", b"Z")).is_empty());
    let err = store
        .commit(batch(Write::SetKeys {
            id: CustomerId::new(),
            index: "name".into(),
            keys: vec![],
        }))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

/// Related records come back per customer, oldest first, filtered by kind.
pub fn related_records_in_time_order(make: Make) {
    let store = make();
    let c = sample();
    let other = Customer::person("Li", "Na");
    create(&*store, &c);
    create(&*store, &other);
    let cny = "CNY".parse().expect("CNY");
    let late = Purchase::new(c.id, at(20), Money::new(500, cny));
    let early = Purchase::new(c.id, at(3), Money::new(100, cny));
    let note = Note::new(c.id, at(10), "prefers WeChat");
    let theirs = Note::new(other.id, at(5), "not yours");
    let mut b = Batch::new("tester", at(21));
    for r in [
        Related::from(late.clone()),
        early.clone().into(),
        note.clone().into(),
        theirs.into(),
    ] {
        b.push(Write::Relate(r));
    }
    store.commit(b).expect("relate");
    let snap = store.snapshot().expect("snapshot");
    let all = snap.related(c.id, None).expect("related");
    assert_eq!(
        all,
        vec![
            Related::from(early.clone()),
            note.into(),
            late.clone().into()
        ]
    );
    let purchases = snap
        .related(c.id, Some(RelatedKind::Purchase))
        .expect("related");
    assert_eq!(purchases, vec![Related::from(early), late.into()]);
    assert!(snap
        .related(c.id, Some(RelatedKind::Consent))
        .expect("related")
        .is_empty());
}

/// `Unrelate` removes exactly one record, logs it, and fails whole on a missing one.
pub fn unrelate_removes_one_record(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let cny = "CNY".parse().expect("CNY");
    let keep = Purchase::new(c.id, at(3), Money::new(100, cny));
    let gone = Purchase::new(c.id, at(4), Money::new(200, cny));
    let mut b = Batch::new("tester", at(5));
    b.push(Write::Relate(keep.clone().into()));
    b.push(Write::Relate(gone.clone().into()));
    store.commit(b).expect("relate");
    let unrelate = |r: &Purchase| Write::Unrelate {
        customer_id: r.customer_id,
        at: r.at,
        id: r.id,
    };
    store
        .commit(Batch::new("tester", at(6)).with(unrelate(&gone)))
        .expect("unrelate");
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(
        snap.related(c.id, None).expect("related"),
        vec![Related::from(keep.clone())]
    );
    let last = snap
        .history(c.id)
        .expect("history")
        .pop()
        .expect("a change");
    assert_eq!(
        last.op,
        ChangeOp::Unrelated {
            kind: RelatedKind::Purchase,
            record: gone.id
        }
    );
    drop(snap);
    // A batch that removes one present and one absent record removes neither.
    let err = store
        .commit(
            Batch::new("tester", at(7))
                .with(unrelate(&keep))
                .with(unrelate(&gone)),
        )
        .expect_err("missing record");
    assert!(matches!(err, Error::RecordNotFound { .. }), "{err:?}");
    assert_eq!(
        store
            .snapshot()
            .expect("snapshot")
            .related(c.id, None)
            .expect("related")
            .len(),
        1
    );
}

/// Documents are kept per space, listed by prefix in key order, replaced and deleted.
pub fn documents_by_space_and_prefix(make: Make) {
    let store = make();
    let c = sample();
    let put = |space: &str, key: &[u8], owner, value: &[u8]| Write::PutDoc {
        space: space.into(),
        key: key.to_vec(),
        owner,
        value: value.to_vec(),
    };
    let batch = Batch::new("tester", at(1))
        .with(put("import", b"b/2", None, b"two"))
        .with(put("import", b"b/1", Some(c.id), b"one"))
        .with(put("import", b"c", None, b"other prefix"))
        .with(put("segment", b"b/1", None, b"other space"))
        .with(put("imports", b"b/1", None, b"a longer space name"));
    store.commit(batch).expect("put docs");
    let snap = store.snapshot().expect("snapshot");
    let docs = snap.docs("import", b"b/").expect("docs");
    let keys: Vec<&[u8]> = docs.iter().map(|d| d.key.as_slice()).collect();
    assert_eq!(keys, vec![&b"b/1"[..], &b"b/2"[..]]);
    assert_eq!(docs[0].owner, Some(c.id));
    assert_eq!(docs[0].value, b"one");
    assert_eq!(docs[1].owner, None);
    assert_eq!(snap.docs("import", b"").expect("docs").len(), 3);
    assert_eq!(
        snap.doc("segment", b"b/1").expect("doc").map(|d| d.value),
        Some(b"other space".to_vec())
    );
    assert_eq!(snap.doc("import", b"zzz").expect("doc"), None);
    drop(snap);
    let batch = Batch::new("tester", at(2))
        .with(put("import", b"b/2", None, b"TWO"))
        .with(Write::DeleteDoc {
            space: "import".into(),
            key: b"b/1".to_vec(),
        });
    store.commit(batch).expect("replace and delete");
    let snap = store.snapshot().expect("snapshot");
    let docs = snap.docs("import", b"b/").expect("docs");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].value, b"TWO");
}

/// A batch committed without durability is visible at once, like any other.
pub fn non_durable_batches_are_visible(make: Make) {
    let store = make();
    let c = sample();
    let mut batch = Batch::new("tester", at(1)).with(Write::Put {
        customer: c.clone(),
        expected: 0,
    });
    batch.durable = false;
    store.commit(batch).expect("commit");
    let found = store
        .snapshot()
        .expect("snapshot")
        .customer(c.id)
        .expect("get");
    assert_eq!(found.map(|f| f.version), Some(1));
}

/// A related record for a customer that does not exist is refused.
pub fn relating_to_a_missing_customer_fails(make: Make) {
    let store = make();
    let fb = kehu_model::Feedback::new(CustomerId::new(), at(2), FeedbackKind::Complaint, "late");
    let err = store.commit(batch(Write::Relate(fb.into()))).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

/// The change log records who changed which field, from what to what, in order.
pub fn history_tells_the_story(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let mut changed = get(&*store, c.id).expect("present");
    changed.job_title = Some("Buyer".into());
    store
        .commit(Batch::new("alice", at(5)).with(Write::Put {
            expected: 1,
            customer: changed,
        }))
        .expect("update");
    let note = Note::new(c.id, at(6), "called back");
    store
        .commit(Batch::new("bob", at(6)).with(Write::Relate(note.clone().into())))
        .expect("note");
    let history = store
        .snapshot()
        .expect("snapshot")
        .history(c.id)
        .expect("history");
    assert_eq!(history.len(), 3);
    assert!(history.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(history[0].op, ChangeOp::Created);
    assert_eq!(history[1].op, ChangeOp::Updated);
    assert_eq!(history[1].actor, "alice");
    assert_eq!(history[1].at, at(5));
    assert_eq!(history[1].fields.len(), 1);
    assert_eq!(history[1].fields[0].path, "job_title");
    assert_eq!(history[1].fields[0].before, None);
    assert_eq!(history[1].fields[0].after.as_deref(), Some("\"Buyer\""));
    assert_eq!(
        history[2].op,
        ChangeOp::Related {
            kind: RelatedKind::Note,
            record: note.id
        }
    );
}

/// A batch whose last write fails leaves no trace of its first writes.
pub fn failed_batch_writes_nothing(make: Make) {
    let store = make();
    let existing = sample();
    create(&*store, &existing);
    let fresh = Customer::person("Anna", "Schmidt").with_email("anna@example.de");
    let note = Note::new(existing.id, at(3), "should vanish");
    let b = Batch::new("tester", at(3))
        .with(Write::Put {
            customer: fresh.clone(),
            expected: 0,
        })
        .with(Write::Relate(note.into()))
        .with(Write::Put {
            customer: existing.clone(),
            expected: 0,
        });
    assert!(matches!(store.commit(b), Err(Error::Conflict { .. })));
    let snap = store.snapshot().expect("snapshot");
    assert!(snap.customer(fresh.id).expect("get").is_none());
    assert!(snap
        .lookup(&IndexKey::email("anna@example.de"))
        .expect("lookup")
        .is_empty());
    assert!(snap.related(existing.id, None).expect("related").is_empty());
    assert_eq!(snap.history(existing.id).expect("history").len(), 1);
    assert!(snap.history(fresh.id).expect("history").is_empty());
    assert_eq!(snap.customer_count().expect("count"), 1);
    drop(snap);
    // The store still takes writes after the failed batch.
    create(&*store, &fresh);
    assert_eq!(
        store
            .snapshot()
            .expect("snapshot")
            .customer_count()
            .expect("count"),
        2
    );
}

/// A snapshot keeps showing the state it was taken in.
pub fn snapshot_is_isolated_from_later_writes(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    let before = store.snapshot().expect("snapshot");
    let mut changed = c.clone();
    changed.job_title = Some("Owner".into());
    store
        .commit(batch(Write::Put {
            expected: 1,
            customer: changed,
        }))
        .expect("update");
    create(&*store, &Customer::person("Li", "Na"));
    assert_eq!(
        before
            .customer(c.id)
            .expect("get")
            .expect("present")
            .job_title,
        None
    );
    assert_eq!(before.customer_count().expect("count"), 1);
    assert_eq!(before.customers().expect("scan").count(), 1);
    assert_eq!(before.history(c.id).expect("history").len(), 1);
}

/// Everything a store holds, read through one snapshot, for comparisons.
fn everything(store: &dyn Store, ids: &[CustomerId]) -> String {
    let snap = store.snapshot().expect("snapshot");
    let mut out = format!("{}\n", snap.customer_count().expect("count"));
    for c in snap.customers().expect("scan") {
        out += &format!("{:?}\n", c.expect("decode"));
    }
    for id in ids {
        out += &format!(
            "{:?}\n{:?}\n",
            snap.related(*id, None).expect("related"),
            snap.history(*id).expect("history")
        );
    }
    out += &format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n",
        snap.lookup(&IndexKey::email("wei.zhang@example.com")),
        snap.lookup(&IndexKey::Keyed {
            index: "b".into(),
            key: b"k".to_vec()
        }),
        snap.docs("space", b"").expect("docs"),
        snap.audit(0).expect("audit")
    );
    out
}

/// Compaction keeps every dossier, index, related record, change, document
/// and audit entry; the store goes on writing, with sequence numbers rising.
pub fn compaction_keeps_everything(make: Make) {
    let store = make();
    let c = sample();
    let other = Customer::person("Li", "Na");
    create(&*store, &c);
    create(&*store, &other);
    let b = Batch::new("tester", at(3))
        .with(Write::Relate(Note::new(c.id, at(3), "首次来电").into()))
        .with(Write::SetKeys {
            id: c.id,
            index: "b".into(),
            keys: vec![b"k".to_vec()],
        })
        .with(Write::PutDoc {
            space: "space".into(),
            key: b"d".to_vec(),
            owner: Some(c.id),
            value: b"doc".to_vec(),
        })
        .with(Write::Audit(crate::AuditEvent {
            op: "test".into(),
            target: Some(c.id),
            fields: vec!["name".into()],
            note: None,
        }))
        .with(Write::Delete {
            id: other.id,
            expected: 1,
        });
    store.commit(b).expect("fill");
    let ids = [c.id, other.id];
    let before = everything(&*store, &ids);
    store.compact().expect("compact");
    assert_eq!(everything(&*store, &ids), before);
    update_with_rising_sequence(&*store, &c);
    let after_update = everything(&*store, &ids);
    store.compact().expect("compact again");
    assert_eq!(everything(&*store, &ids), after_update);
}

/// The feed lists every committed change of every dossier in sequence
/// order, pages by its cursor, leaves out what a snapshot does not see, and
/// replaces an erased customer's changes by a tombstone with no value.
pub fn the_feed_lists_every_change_once_in_order(make: Make) {
    use crate::FeedItem;
    let store = make();
    let a = sample();
    let b = Customer::person("Li", "Na").with_email("li.na@example.cn");
    create(&*store, &a);
    create(&*store, &b);
    store
        .commit(batch(Write::Relate(
            Note::new(a.id, at(2), "首次来电").into(),
        )))
        .expect("relate");
    let mut changed = b.clone();
    changed.job_title = Some("采购经理".into());
    store
        .commit(batch(Write::Put {
            customer: changed,
            expected: 1,
        }))
        .expect("update");
    let all = store
        .snapshot()
        .expect("snapshot")
        .feed(0, 100)
        .expect("feed");
    let seqs: Vec<u64> = all.iter().map(FeedItem::seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let ops: Vec<(CustomerId, ChangeOp)> = all
        .iter()
        .map(|i| match i {
            FeedItem::Change(c) => (c.customer_id, c.op.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ops.len(), 4);
    assert_eq!(ops[0], (a.id, ChangeOp::Created));
    assert_eq!(ops[1], (b.id, ChangeOp::Created));
    assert_eq!(ops[3], (b.id, ChangeOp::Updated));
    // Paging by the cursor gives the same items once each.
    let mut paged = Vec::new();
    let mut cursor = 0;
    loop {
        let page = store
            .snapshot()
            .expect("snapshot")
            .feed(cursor, 3)
            .expect("page");
        let Some(last) = page.last() else { break };
        cursor = last.seq();
        paged.extend(page);
    }
    assert_eq!(paged, all);
    // A snapshot does not see later changes in its feed.
    let before = store.snapshot().expect("snapshot");
    create(&*store, &Customer::person("Wang", "Fang"));
    assert_eq!(before.feed(0, 100).expect("feed").len(), 4);
    drop(before);
    assert_eq!(
        store
            .snapshot()
            .expect("snapshot")
            .feed(cursor, 100)
            .expect("feed")
            .len(),
        1
    );
    // An erasure: the customer's changes leave the feed, a tombstone comes.
    store
        .commit(batch(Write::Forget { id: b.id }))
        .expect("forget");
    let after = store
        .snapshot()
        .expect("snapshot")
        .feed(0, 100)
        .expect("feed");
    assert!(after
        .iter()
        .all(|i| !matches!(i, FeedItem::Change(c) if c.customer_id == b.id)));
    match after.last().expect("an item") {
        FeedItem::Erased {
            customer_id, seq, ..
        } => {
            assert_eq!(*customer_id, b.id);
            assert!(*seq > cursor);
        }
        other => panic!("the erasure is last: {other:?}"),
    }
    assert_eq!(
        after.len(),
        4,
        "a's two, Wang Fang's creation, the tombstone"
    );
}

/// A scan returns every dossier once, in id order.
pub fn scans_in_id_order_and_counts(make: Make) {
    let store = make();
    let mut ids = Vec::new();
    let mut b = Batch::new("tester", at(1));
    for i in 0..250 {
        let c = Customer::person(format!("P{i}"), "Test");
        ids.push(c.id);
        b.push(Write::Put {
            customer: c,
            expected: 0,
        });
    }
    store.commit(b).expect("bulk");
    ids.sort();
    let snap = store.snapshot().expect("snapshot");
    let seen: Vec<CustomerId> = snap
        .customers()
        .expect("scan")
        .map(|c| c.expect("decode").id)
        .collect();
    assert_eq!(seen, ids);
    assert_eq!(snap.customer_count().expect("count"), 250);
}

/// A dossier over the size limit is refused with a typed error.
pub fn oversized_record_is_refused(make: Make) {
    let store = make();
    let mut c = sample();
    c.job_title = Some("x".repeat(MAX_RECORD_BYTES + 1));
    let err = store
        .commit(batch(Write::Put {
            customer: c.clone(),
            expected: 0,
        }))
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(get(&*store, c.id).is_none());
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any dossier, in any script, comes back exactly as it went in.
pub fn any_customer_round_trips(make: Make) {
    let store = make();
    proptest!(cases(96), |(c in kehu_model::arbitrary::customer())| {
        let mut c = c;
        c.version = 0;
        store.commit(batch(Write::Put { customer: c.clone(), expected: 0 })).expect("put");
        let back = get(&*store, c.id).expect("present");
        prop_assert_eq!(back, Customer { version: 1, ..c });
    });
}

/// Any related record comes back exactly as it went in.
pub fn any_related_record_round_trips(make: Make) {
    let store = make();
    let c = sample();
    create(&*store, &c);
    proptest!(cases(64), |(r in kehu_model::arbitrary::related(c.id))| {
        store.commit(batch(Write::Relate(r.clone()))).expect("relate");
        let all = store.snapshot().expect("snapshot").related(c.id, Some(r.kind())).expect("related");
        prop_assert!(all.contains(&r));
    });
}

/// Everything written is there after the store is dropped and opened again.
pub fn reopen_keeps_everything(open: Open) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("book.kehu");
    let c = sample();
    let note = Note::new(c.id, at(4), "首次来电");
    {
        let store = open(&path);
        create(&*store, &c);
        store
            .commit(batch(Write::Relate(note.clone().into())))
            .expect("relate");
        store
            .commit(batch(Write::SetKeys {
                id: c.id,
                index: "b".into(),
                keys: vec![b"k".to_vec()],
            }))
            .expect("keys");
    }
    let store = open(&path);
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(
        snap.customer(c.id).expect("get").expect("present").version,
        1
    );
    assert_eq!(
        snap.lookup(&IndexKey::email("wei.zhang@example.com"))
            .expect("lookup"),
        vec![c.id]
    );
    let keyed = IndexKey::Keyed {
        index: "b".into(),
        key: b"k".to_vec(),
    };
    assert_eq!(snap.lookup(&keyed).expect("lookup"), vec![c.id]);
    assert_eq!(
        snap.related(c.id, None).expect("related"),
        vec![Related::from(note)]
    );
    assert_eq!(snap.history(c.id).expect("history").len(), 2);
    drop(snap);
    // Sequence numbers go on increasing after a reopen.
    update_with_rising_sequence(&*store, &c);
}

/// Updates `c` (at version 1) and checks that its history's sequence numbers rise.
fn update_with_rising_sequence(store: &dyn Store, c: &Customer) {
    let mut changed = c.clone();
    changed.owner = Some("alice".into());
    store
        .commit(batch(Write::Put {
            expected: 1,
            customer: changed,
        }))
        .expect("update");
    let history = store
        .snapshot()
        .expect("snapshot")
        .history(c.id)
        .expect("history");
    assert!(history.windows(2).all(|w| w[0].seq < w[1].seq));
}
