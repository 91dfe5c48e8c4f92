//! One open path: the rules saved in a book apply wherever it is opened from,
//! and rules given on opening are saved for every later open.

use kehu::{Book, CustomValue, Customer, Error, OpenOptions, RuleSet};

const RULES: &str = r#"
[[custom]]
name = "member_level"
type = "enum"
values = ["gold", "silver"]
"#;

fn gold() -> Customer {
    Customer::person("Wei", "Zhang")
        .with_email("wei@example.com")
        .with_custom("member_level", CustomValue::Enum("gold".into()))
}

#[test]
fn saved_rules_apply_on_every_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.kehu");
    // Without the rules, the custom field is unknown.
    {
        let book = Book::open(&path).unwrap();
        let report = book.validate(&gold());
        assert!(report.violations.iter().any(|v| v.code == "custom.unknown"));
    }
    // Opening with rules saves them ...
    {
        let options = OpenOptions {
            rules: Some(RuleSet::from_toml(RULES).unwrap()),
            ..OpenOptions::default()
        };
        let book = Book::open_with(&path, &options, None).unwrap();
        assert!(book.saved_rules().unwrap().is_some());
    }
    // ... so a plain open applies them: the field is declared, its values checked.
    let book = Book::open(&path).unwrap();
    assert!(
        book.validate(&gold()).is_clean(),
        "{:?}",
        book.validate(&gold())
    );
    book.add(gold()).unwrap();
    let bad = Customer::person("Li", "Na")
        .with_email("li@example.com")
        .with_custom("member_level", CustomValue::Enum("platinum".into()));
    match book.add(bad) {
        Err(Error::Invalid { report, .. }) => {
            assert!(report
                .violations
                .iter()
                .any(|v| v.path == "custom.member_level"))
        }
        other => panic!("{other:?}"),
    }
    drop(book);
    // Giving other rules replaces the saved ones.
    let book = Book::open_with_rules(&path, kehu::Rules::standard()).unwrap();
    drop(book);
    let book = Book::open(&path).unwrap();
    assert!(book
        .validate(&gold())
        .violations
        .iter()
        .any(|v| v.code == "custom.unknown"));
}

#[test]
fn a_store_opened_by_hand_gets_its_saved_rules_too() {
    let store = kehu::MemoryStore::new();
    let book = Book::with_store(Box::new(store), kehu::Rules::standard());
    book.save_rules(&RuleSet::from_toml(RULES).unwrap())
        .unwrap();
    let book = Book::from_store(book.into_store().unwrap(), &OpenOptions::default()).unwrap();
    assert!(book.validate(&gold()).is_clean());
}

#[test]
fn open_options_are_checked_by_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let bad = OpenOptions {
        cache_mb: Some(0),
        ..OpenOptions::default()
    };
    match Book::open_with(dir.path().join("b.kehu"), &bad, None) {
        Err(e @ Error::InvalidOption { .. }) => {
            assert_eq!(e.code(), "invalid_option");
            assert!(e.to_string().starts_with("cache_mb:"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let parsed = OpenOptions::from_json(r#"{"cache_mb": 8, "actor": "app"}"#).unwrap();
    assert_eq!(parsed.cache_mb, Some(8));
    assert!(matches!(
        OpenOptions::from_json(r#"{"rules": {"no_such_key": 1}}"#),
        Err(Error::Rules(_))
    ));
    assert!(matches!(
        OpenOptions::from_json(r#"{"cache": 8}"#),
        Err(Error::InvalidOption { .. })
    ));
}
