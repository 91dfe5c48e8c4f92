//! The FFI layer from Rust: conversions keep every value, errors keep their
//! codes and paths and no values, panics and closed books become errors.

use std::sync::Arc;

use kehu_ffi::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A dossier survives core → FFI → core unchanged, whatever it holds.
    #[test]
    fn dossiers_cross_the_boundary_unchanged(c in kehu_model::arbitrary::customer()) {
        let back = kehu::Customer::try_from(Customer::from(c.clone())).unwrap();
        prop_assert_eq!(back, c);
    }

    /// So does every kind of related record.
    #[test]
    fn related_records_cross_the_boundary_unchanged(
        r in kehu_model::arbitrary::related(kehu::CustomerId::new())
    ) {
        let back = kehu::Related::try_from(RelatedRecord::from(r.clone())).unwrap();
        prop_assert_eq!(back, r);
    }
}

fn memory() -> Arc<Book> {
    Book::in_memory(OpenOptions {
        rules_path: None,
        rules_text: None,
        cache_mb: 8,
        actor: Some("test".into()),
        key: None,
    })
    .unwrap()
}

fn wei() -> Customer {
    let mut c = new_person("Wei".into(), "Zhang".into());
    c.emails = vec![new_email("wei@example.com".into())];
    c
}

#[test]
fn validation_errors_carry_every_violation_and_no_values() {
    let book = memory();
    let mut bad = new_person(String::new(), String::new());
    bad.emails = vec![new_email("secret-not-an-email".into())];
    let e = book.add(bad).unwrap_err();
    assert_eq!(e.code(), "invalid");
    let KehuError::Invalid {
        path, violations, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    let paths: Vec<_> = violations.iter().map(|v| v.path.as_str()).collect();
    assert!(
        paths.contains(&"name") && paths.contains(&"emails[0].address"),
        "{paths:?}"
    );
    assert_eq!(path.as_deref(), Some(paths[0]));
    assert!(!e.to_string().contains("secret"), "{e}");
    assert_eq!(book.count().unwrap(), 0);
}

#[test]
fn bad_arguments_name_their_path() {
    let book = memory();
    let cases: Vec<(KehuError, &str, &str)> = vec![
        (
            book.get(String::new()).unwrap_err(),
            "invalid_argument",
            "id",
        ),
        (
            book.get("nope".into()).unwrap_err(),
            "invalid_argument",
            "id",
        ),
        (
            book.merge(vec!["a".into()], None, false).unwrap_err(),
            "invalid_argument",
            "ids[0]",
        ),
        (
            book.segment_count(" ".into(), None).unwrap_err(),
            "invalid_argument",
            "condition",
        ),
        (
            book.add_many(vec![wei(), {
                let mut c = wei();
                c.id = "bad".into();
                c
            }])
            .unwrap_err(),
            "invalid_argument",
            "[1].customer.id",
        ),
        (
            book.segment_count("city =".into(), None).unwrap_err(),
            "filter_syntax",
            "condition",
        ),
    ];
    for (e, code, path) in cases {
        let p = match &e {
            KehuError::InvalidArgument { path, .. } | KehuError::FilterSyntax { path, .. } => {
                path.clone()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!((e.code(), p.as_deref()), (code, Some(path)), "{e}");
    }
    assert_eq!(book.count().unwrap(), 0);
}

#[test]
fn a_closed_book_answers_with_an_error_and_closing_twice_is_harmless() {
    let book = memory();
    book.add(wei()).unwrap();
    book.close_book();
    book.close_book();
    assert!(book.is_closed());
    assert_eq!(book.count().unwrap_err().code(), "closed");
    assert_eq!(book.add(wei()).unwrap_err().code(), "closed");
}

#[test]
fn a_batch_names_the_bad_item_and_writes_nothing() {
    let book = memory();
    let mut list: Vec<Customer> = (0..5)
        .map(|i| {
            let mut c = new_person(format!("P{i}"), "Q".into());
            c.emails = vec![new_email(format!("p{i}@example.com"))];
            c
        })
        .collect();
    list[3].emails = vec![new_email("broken".into())];
    list[3].phones.clear();
    match book.add_many(list.clone()).unwrap_err() {
        KehuError::Invalid { index, .. } => assert_eq!(index, Some(3)),
        other => panic!("{other:?}"),
    }
    assert_eq!(book.count().unwrap(), 0);
    list.remove(3);
    assert_eq!(book.add_many_ids(list).unwrap().len(), 4);
}

#[test]
fn many_threads_share_one_book() {
    let book = memory();
    std::thread::scope(|s| {
        for t in 0..4 {
            let book = book.clone();
            s.spawn(move || {
                for i in 0..25 {
                    let mut c = new_person(format!("T{t}"), format!("N{i}"));
                    c.emails = vec![new_email(format!("t{t}.{i}@example.com"))];
                    book.add_allowing_duplicates(c).unwrap();
                    book.segment_count("email ends_with \"@example.com\"".into(), None)
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(book.count().unwrap(), 100);
}
