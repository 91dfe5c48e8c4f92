//! Every surface names fields as the catalogue does: a surface that names a
//! field the catalogue lacks fails here.

use kehu::model::catalogue::{self, Field, Named};
use kehu::rules::FieldPath;
use kehu::{Book, CustomValue, Customer, Policy};

fn known(name: &str) -> bool {
    catalogue::resolve(name).is_some()
}

#[test]
fn segment_fields_are_catalogue_fields() {
    let schema = kehu::segment::Schema::standard();
    for name in schema.names() {
        if name.contains('.') && !name.starts_with("custom.") {
            continue; // an aggregate over related records (`purchases.sum`)
        }
        assert!(known(&name), "segments name {name:?}");
    }
    // Every catalogue name and alias a segment can test resolves to the same field.
    for f in catalogue::FIELDS {
        let Some(field) = kehu::segment::Field::of(f.field) else {
            continue;
        };
        for name in std::iter::once(&f.name).chain(f.aliases) {
            assert_eq!(schema.resolve(name).ok(), Some(field.clone()), "{name}");
        }
    }
}

#[test]
fn import_and_export_columns_are_catalogue_fields() {
    for name in kehu::io::field_names(kehu::io::ImportKind::Customers) {
        if name == "ignore" || name == "custom.<name>" {
            continue;
        }
        assert!(known(name), "the import maps {name:?}");
    }
    let book = Book::in_memory();
    book.add(Customer::person("Wei", "Zhang").with_email("wei@example.com"))
        .unwrap();
    let mut out = Vec::new();
    book.export(&mut out, &Default::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    for column in text.lines().next().unwrap().split(',') {
        assert!(known(column), "the export writes {column:?}");
    }
}

#[test]
fn rule_paths_round_trip_through_the_catalogue() {
    for f in Field::all() {
        let Some(path) = FieldPath::of(&Named::Field(f)) else {
            continue;
        };
        let printed = path.to_string();
        assert_eq!(printed.parse::<FieldPath>(), Ok(path.clone()), "{printed}");
        assert!(known(&printed), "rules print {printed:?}");
    }
    // Violation paths and change-log paths name catalogue fields.
    let book = Book::in_memory();
    let bad = Customer::person("", "")
        .with_email("not an address")
        .with_custom("level", CustomValue::Integer(3));
    let report = book.validate(&bad);
    assert!(!report.violations.is_empty());
    for v in &report.violations {
        if v.path.is_empty() {
            continue;
        }
        assert!(
            catalogue::field_of_path(&v.path).is_some(),
            "a violation at {:?}",
            v.path
        );
    }
    let saved = book
        .add(Customer::person("Wei", "Zhang").with_email("wei@example.com"))
        .unwrap();
    let mut c = saved.customer;
    c.emails[0].address = "zhang.wei@example.com".into();
    c.addresses.push(kehu::Address {
        city: Some("上海".into()),
        ..Default::default()
    });
    c.job_title = Some("buyer".into());
    book.update(c.clone()).unwrap();
    for change in book.history(c.id).unwrap() {
        for f in change.fields {
            assert!(
                catalogue::field_of_path(&f.path).is_some(),
                "history names {:?}",
                f.path
            );
        }
    }
}

#[test]
fn dedupe_survivorship_and_policy_fields_are_catalogue_fields() {
    for f in kehu::dedupe::dossier::fields() {
        assert!(known(&f.name), "dedupe matches {:?}", f.name);
    }
    for name in kehu::dedupe::merge::field_names() {
        assert!(known(name), "survivorship names {name:?}");
    }
    // A policy may name fields by any of their names; one the catalogue lacks is refused.
    let ok = Policy::from_toml(
        "[roles.sales]\noperations = [\"read\"]\nfields = { \"邮箱\" = \"masked\", phone = \"masked\", birthday = \"hidden\", city = \"hidden\", \"custom.note\" = \"hidden\" }\n",
    );
    assert!(ok.is_ok(), "{ok:?}");
    let bad = Policy::from_toml("[roles.sales]\nfields = { shoe_size = \"hidden\" }\n");
    assert!(bad.unwrap_err().to_string().contains("shoe_size"));
}
