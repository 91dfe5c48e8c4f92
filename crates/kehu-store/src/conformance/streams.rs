//! Conformance tests of large writes and of reads of many at once: what a
//! backend that sends and reads in bulk (PostgreSQL) must keep exactly as
//! the one-at-a-time forms.

use kehu_model::{Customer, CustomerId};

use super::{at, batch, create, sample, Make};
use crate::{Batch, Error, IndexKey, Write};

/// The reads of many at once answer as the reads of each, in the order
/// asked: repeated, missing and deleted ones included.
pub fn reads_of_many_agree_with_reads_of_one(make: Make) {
    let store = make();
    let a = sample();
    let b = Customer::person("Li", "Na").with_email("WEI.zhang@example.com");
    let gone = Customer::person("Wang", "Fang").with_email("fang@example.com");
    for c in [&a, &b, &gone] {
        create(&*store, c);
    }
    let mut batch = Batch::new("tester", at(2))
        .with(Write::SetKeys {
            id: a.id,
            index: "name".into(),
            keys: vec![b"Z".to_vec(), b"W".to_vec()],
        })
        .with(Write::SetKeys {
            id: b.id,
            index: "name".into(),
            keys: vec![b"Z".to_vec()],
        })
        .with(Write::Delete {
            id: gone.id,
            expected: 1,
        });
    for (key, value) in [(&b"k/1"[..], &b"one"[..]), (b"k/2", b"two")] {
        batch = batch.with(Write::PutDoc {
            space: "runs".into(),
            key: key.to_vec(),
            owner: Some(a.id),
            value: value.to_vec(),
        });
    }
    store.commit(batch).expect("keys, docs, delete");
    let snap = store.snapshot().expect("snapshot");

    let ids = [b.id, CustomerId::new(), a.id, gone.id, b.id];
    let one: Vec<_> = ids
        .iter()
        .map(|&id| snap.customer(id).expect("get"))
        .collect();
    let many = snap.customers_by_id(&ids).expect("get many");
    assert_eq!(many, one);
    assert_eq!(many.iter().filter(|c| c.is_some()).count(), 3);
    assert!(snap.customers_by_id(&[]).expect("none").is_empty());

    let keyed = |k: &[u8]| IndexKey::Keyed {
        index: "name".into(),
        key: k.to_vec(),
    };
    let keys = [
        IndexKey::email("wei.zhang@example.com"),
        keyed(b"Z"),
        IndexKey::email("fang@example.com"),
        keyed(b"W"),
        keyed(b"none"),
        keyed(b"Z"),
        IndexKey::Tag("vip".into()),
    ];
    let one: Vec<_> = keys
        .iter()
        .map(|k| snap.lookup(k).expect("lookup"))
        .collect();
    let many = snap.lookup_many(&keys).expect("lookup many");
    assert_eq!(many, one);
    assert_eq!(many[1].len(), 2);
    assert!(many[2].is_empty(), "a deleted dossier is in no index");
    assert!(snap.lookup_many(&[]).expect("none").is_empty());

    let keys = [
        b"k/2".to_vec(),
        b"k/0".to_vec(),
        b"k/1".to_vec(),
        b"k/2".to_vec(),
    ];
    let one: Vec<_> = keys
        .iter()
        .map(|k| snap.doc("runs", k).expect("doc"))
        .collect();
    let many = snap.docs_by_key("runs", &keys).expect("docs");
    assert_eq!(many, one);
    assert_eq!(
        many[0].as_ref().map(|d| d.value.as_slice()),
        Some(&b"two"[..])
    );
    assert_eq!(many[1], None);
    assert!(snap
        .docs_by_key("other", &keys)
        .expect("none")
        .iter()
        .all(Option::is_none));
}

/// `commit_all` applies a stream of batches as one transaction: later batches
/// see earlier ones, indexes follow every batch, and a failure anywhere keeps nothing.
pub fn a_stream_of_batches_commits_whole(make: Make) {
    let store = make();
    let mut a = sample();
    a.emails.truncate(0);
    a = a.with_email("first@example.com");
    let mut changed = a.clone();
    changed.emails.truncate(0);
    changed = changed.with_email("second@example.com");
    let b = Customer::person("Li", "Na").with_email("first@example.com");
    let batches = vec![
        Batch::new("tester", at(1)).with(Write::Put {
            customer: a.clone(),
            expected: 0,
        }),
        Batch::new("tester", at(2)).with(Write::Put {
            customer: changed.clone(),
            expected: 1,
        }),
        Batch::new("tester", at(3)).with(Write::Put {
            customer: b.clone(),
            expected: 0,
        }),
    ];
    store
        .commit_all(&mut batches.into_iter())
        .expect("commit a stream");
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(
        snap.customer(a.id).expect("get").map(|c| c.version),
        Some(2)
    );
    assert_eq!(
        snap.lookup(&IndexKey::email("first@example.com"))
            .expect("lookup"),
        vec![b.id],
        "the first address moved from a to b within the stream"
    );
    assert_eq!(
        snap.lookup(&IndexKey::email("second@example.com"))
            .expect("lookup"),
        vec![a.id]
    );
    assert_eq!(snap.history(a.id).expect("history").len(), 2);
    drop(snap);
    // A conflict in the last batch undoes the first one too.
    let c = Customer::person("Wang", "Fang").with_email("third@example.com");
    let failing = vec![
        Batch::new("tester", at(4)).with(Write::Put {
            customer: c.clone(),
            expected: 0,
        }),
        Batch::new("tester", at(5)).with(Write::Put {
            customer: b.clone(),
            expected: 0,
        }),
    ];
    let err = store
        .commit_all(&mut failing.into_iter())
        .expect_err("b exists");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(snap.customer(c.id).expect("get"), None);
    assert!(snap
        .lookup(&IndexKey::email("third@example.com"))
        .expect("lookup")
        .is_empty());
}

/// A stream large enough for a backend to send it in parts (PostgreSQL:
/// ahead, by COPY) writes exactly what a small one would: an index key a
/// dossier has twice, updates among creations; and a creation of a dossier
/// already there, deep in it, is the conflict that undoes all of it.
pub fn a_large_stream_over_rows_already_there(make: Make) {
    let store = make();
    let person = |i: usize| {
        let mut c = Customer::person("Wei", format!("Zhang{i}"))
            .with_email(format!("wei.{i}@example.com"))
            .with_phone(format!("+86138{:08}", 10_000_000 + i));
        if i % 500 == 7 {
            // One key twice: the same address in another case.
            c = c.with_email(format!("WEI.{i}@Example.com"));
        }
        c
    };
    let first: Vec<Customer> = (0..3_000).map(person).collect();
    let stream = first.chunks(100).enumerate().map(|(n, chunk)| {
        chunk
            .iter()
            .fold(Batch::new("tester", at(1 + n as u32 % 20)), |b, c| {
                b.with(Write::Put {
                    customer: c.clone(),
                    expected: 0,
                })
            })
    });
    store
        .commit_all(&mut stream.collect::<Vec<_>>().into_iter())
        .expect("a large stream");
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(snap.customer_count().expect("count"), 3_000);
    for i in [0, 7, 1_507, 2_999] {
        assert_eq!(
            snap.lookup(&IndexKey::email(&format!("wei.{i}@example.com")))
                .expect("lookup"),
            vec![first[i].id]
        );
        assert_eq!(snap.history(first[i].id).expect("history").len(), 1);
    }
    drop(snap);

    // New dossiers, updates of old ones, and one creation of a dossier that
    // is there already, in the middle.
    let second: Vec<Customer> = (3_000..6_000).map(person).collect();
    let mut writes = Vec::new();
    for (i, c) in second.iter().enumerate() {
        writes.push(Write::Put {
            customer: c.clone(),
            expected: 0,
        });
        if i % 10 == 0 {
            let mut moved = first[i].clone();
            moved.emails.truncate(0);
            moved = moved.with_email(format!("moved.{i}@example.com"));
            writes.push(Write::Put {
                customer: moved,
                expected: 1,
            });
        }
        if i == 2_000 {
            writes.push(Write::Put {
                customer: first[1_234].clone(),
                expected: 0,
            });
        }
    }
    let batches: Vec<Batch> = writes
        .chunks(100)
        .map(|chunk| {
            chunk
                .iter()
                .fold(Batch::new("tester", at(21)), |b, w| b.with(w.clone()))
        })
        .collect();
    let err = store
        .commit_all(&mut batches.clone().into_iter())
        .expect_err("a creation of a dossier that is there");
    assert!(
        matches!(err, Error::Conflict { id, expected: 0, found: 1 } if id == first[1_234].id),
        "{err:?}"
    );
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(snap.customer_count().expect("count"), 3_000);
    assert_eq!(snap.customer(second[0].id).expect("get"), None);
    assert!(snap
        .lookup(&IndexKey::email("moved.0@example.com"))
        .expect("lookup")
        .is_empty());
    assert_eq!(
        snap.lookup(&IndexKey::email("wei.0@example.com"))
            .expect("lookup"),
        vec![first[0].id]
    );
    assert_eq!(snap.history(first[0].id).expect("history").len(), 1);
    drop(snap);

    // Without that creation, all of it.
    let fine: Vec<Batch> = batches
        .into_iter()
        .map(|mut b| {
            b.writes.retain(|w| {
                !matches!(w, Write::Put { customer, expected: 0 } if customer.id == first[1_234].id)
            });
            b
        })
        .collect();
    store
        .commit_all(&mut fine.into_iter())
        .expect("the stream without the conflict");
    let snap = store.snapshot().expect("snapshot");
    assert_eq!(snap.customer_count().expect("count"), 6_000);
    assert_eq!(
        snap.lookup(&IndexKey::email("moved.10@example.com"))
            .expect("lookup"),
        vec![first[10].id]
    );
    assert!(snap
        .lookup(&IndexKey::email("wei.10@example.com"))
        .expect("lookup")
        .is_empty());
    assert_eq!(
        snap.lookup(&IndexKey::email("wei.3507@example.com"))
            .expect("lookup"),
        vec![second[507].id]
    );
    assert_eq!(snap.history(first[10].id).expect("history").len(), 2);
}

/// The commit count, where a store tells it, moves by one for each commit
/// (a stream of batches is one) and not for a failed one.
pub fn the_commit_count_moves_once_per_commit(make: Make) {
    let store = make();
    let Some(start) = store.commit_count().expect("count") else {
        return;
    };
    let c = sample();
    create(&*store, &c);
    assert_eq!(store.commit_count().expect("count"), Some(start + 1));
    let two = vec![
        batch(Write::Put {
            customer: Customer::person("Li", "Na"),
            expected: 0,
        }),
        batch(Write::Put {
            customer: Customer::person("Wang", "Fang"),
            expected: 0,
        }),
    ];
    store.commit_all(&mut two.into_iter()).expect("a stream");
    assert_eq!(store.commit_count().expect("count"), Some(start + 2));
    store
        .commit(batch(Write::Put {
            customer: c,
            expected: 0,
        }))
        .expect_err("a conflict");
    assert_eq!(store.commit_count().expect("count"), Some(start + 2));
}
