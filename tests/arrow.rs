//! Arrow out and in (feature `arrow`): every table typed as the catalogue
//! says, nulls where a value is missing, money exact in every currency,
//! masking as on every read, and record batches read back as rows.
#![cfg(feature = "arrow")]

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{NaiveDate, TimeZone, Utc};
use kehu::io::arrow::{ArrowRows, BookTable};
use kehu::io::ExportFilter;
use kehu::{
    Book, Consent, ConsentStatus, Currency, Customer, Money, Organization, Policy, Principal,
    Purchase,
};

/// The table's one batch (the tests' tables are small).
fn one_batch(t: &kehu::io::arrow::ArrowTable) -> RecordBatch {
    assert!(t.batches.len() <= 1, "a small table is one batch");
    t.batches
        .first()
        .cloned()
        .unwrap_or_else(|| RecordBatch::new_empty(t.schema.clone()))
}

fn book_of_three() -> (Book, Vec<Customer>) {
    let book = Book::in_memory();
    let mut wei = Customer::person_named("张伟")
        .with_email("zhang.wei@163.com")
        .with_email("wei@qq.com")
        .with_phone("+86 138 1234 5678");
    wei.birth_date = NaiveDate::from_ymd_opt(1988, 2, 29);
    wei.tags = vec!["vip".into(), "上海".into()];
    let wei = book.add(wei).unwrap().customer;
    let mut firm = Customer::organization("上海云帆贸易有限公司");
    firm.organization = Some(Organization {
        size: Some(520),
        industry: Some("制造业".into()),
        ..firm.organization.clone().unwrap_or_default()
    });
    let firm = book.add(firm).unwrap().customer;
    let bare = book
        .add(Customer::person("Max", "Muster"))
        .unwrap()
        .customer;
    (book, vec![wei, firm, bare])
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_ref()
}

#[test]
fn customers_come_typed_by_the_catalogue() {
    let (book, people) = book_of_three();
    let t = book
        .arrow_table(BookTable::Customers, &ExportFilter::default())
        .unwrap();
    let b = one_batch(&t);
    assert_eq!(b.num_rows(), 3);
    let header: Vec<String> = t.schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(
        header,
        kehu_table_header(),
        "the CSV export's columns, in its order"
    );
    assert_eq!(*column(&b, "birth_date").data_type(), DataType::Date32);
    assert_eq!(
        *column(&b, "created_at").data_type(),
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(*column(&b, "org_size").data_type(), DataType::Int64);
    assert!(matches!(
        column(&b, "emails").data_type(),
        DataType::List(_)
    ));

    let row = |id| {
        (0..b.num_rows())
            .find(|&r| column(&b, "kehu_id").as_string::<i32>().value(r) == id)
            .unwrap()
    };
    let (w, f, m) = (
        row(&people[0].id.to_string()),
        row(&people[1].id.to_string()),
        row(&people[2].id.to_string()),
    );
    let dates = column(&b, "birth_date").as_primitive::<Date32Type>();
    assert_eq!(dates.value_as_date(w), NaiveDate::from_ymd_opt(1988, 2, 29));
    assert!(dates.is_null(m), "no birth date is a null, not a date");
    let created = column(&b, "created_at").as_primitive::<TimestampMicrosecondType>();
    assert_eq!(created.value(w), people[0].created_at.timestamp_micros());
    let emails = column(&b, "emails").as_list::<i32>();
    let of_wei = emails.value(w);
    let first: Vec<&str> = of_wei
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(
        first,
        ["zhang.wei@163.com", "wei@qq.com"],
        "the primary first"
    );
    assert_eq!(emails.value(m).len(), 0, "no e-mail is an empty list");
    assert_eq!(
        column(&b, "name").as_string::<i32>().value(w),
        "张伟",
        "Chinese text intact"
    );
    let sizes = column(&b, "org_size").as_primitive::<Int64Type>();
    assert_eq!(sizes.value(f), 520);
    assert!(sizes.is_null(w));
    assert!(column(&b, "industry").is_null(w) && !column(&b, "industry").is_null(f));
    let tags = column(&b, "tags").as_list::<i32>().value(w);
    assert_eq!(tags.as_string::<i32>().value(1), "上海");
}

fn kehu_table_header() -> Vec<String> {
    kehu::model::catalogue::FIELDS
        .iter()
        .filter(|f| f.column)
        .map(|f| f.name.to_string())
        .collect()
}

#[test]
fn money_is_exact_in_every_currency() {
    let (book, people) = book_of_three();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    let amounts = [
        ("1299.99", Currency::CNY),
        ("1500", Currency::JPY),
        ("0.125", "KWD".parse().unwrap()),
        ("92233720368547.75", Currency::EUR),
    ];
    for (text, cur) in amounts {
        let mut p = Purchase::new(people[0].id, at, Money::parse(text, cur).unwrap());
        p.reference = Some(format!("ref {text}"));
        book.relate(p).unwrap();
    }
    let t = book
        .arrow_table(BookTable::Purchases, &ExportFilter::default())
        .unwrap();
    let b = one_batch(&t);
    assert_eq!(b.num_rows(), 4);
    assert_eq!(
        *column(&b, "amount").data_type(),
        DataType::Decimal128(38, 4)
    );
    let amount = column(&b, "amount").as_primitive::<Decimal128Type>();
    let minor = column(&b, "amount_minor").as_primitive::<Int64Type>();
    let currency = column(&b, "currency").as_string::<i32>();
    let mut seen: Vec<(String, String, i64)> = (0..4)
        .map(|r| {
            (
                amount.value_as_string(r),
                currency.value(r).to_string(),
                minor.value(r),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("0.1250".to_string(), "KWD".to_string(), 125),
            ("1299.9900".to_string(), "CNY".to_string(), 129_999),
            ("1500.0000".to_string(), "JPY".to_string(), 1500),
            (
                "92233720368547.7500".to_string(),
                "EUR".to_string(),
                9_223_372_036_854_775
            ),
        ]
    );
    assert!(column(&b, "channel").is_null(0), "no channel is a null");
}

#[test]
fn related_tables_follow_the_customers_the_filter_selects() {
    let (book, people) = book_of_three();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    for c in &people[..2] {
        book.relate(Consent::new(c.id, at, "marketing", ConsentStatus::Granted))
            .unwrap();
    }
    let vip = ExportFilter {
        tag: Some("vip".into()),
        ..Default::default()
    };
    let t = book.arrow_table(BookTable::Consents, &vip).unwrap();
    let b = one_batch(&t);
    assert_eq!(b.num_rows(), 1, "the tagged customer's consent only");
    assert_eq!(
        column(&b, "customer_id").as_string::<i32>().value(0),
        people[0].id.to_string()
    );
    assert_eq!(column(&b, "status").as_string::<i32>().value(0), "granted");
    let all = book
        .arrow_table(BookTable::Consents, &ExportFilter::default())
        .unwrap();
    assert_eq!(all.num_rows(), 2);
    let segment = ExportFilter {
        segment: Some("kind = \"organization\"".into()),
        ..Default::default()
    };
    let members = book.arrow_table(BookTable::Customers, &segment).unwrap();
    assert_eq!(members.num_rows(), 1, "a segment's members");
    let none = book
        .arrow_table(BookTable::Interactions, &ExportFilter::default())
        .unwrap();
    assert_eq!(none.num_rows(), 0);
    assert!(
        none.schema.field_with_name("summary").is_ok(),
        "an empty table keeps its columns"
    );
}

#[test]
fn a_principal_gets_its_scope_masked_and_an_export_in_the_trail() {
    let (book, people) = book_of_three();
    let mut owned = book.get(people[0].id).unwrap();
    owned.owner = Some("li".into());
    book.update(owned).unwrap();
    let policy = Policy::from_toml(
        r#"
[roles.sales]
operations = ["read", "export"]
scope = "own"
default = "visible"
fields = { emails = "masked", birth_date = "hidden" }

[roles.intern]
operations = ["read"]
"#,
    )
    .unwrap();
    let li = Principal {
        user: "li".into(),
        roles: vec!["sales".into()],
        team: None,
    };
    let g = book.as_principal(li, &policy).unwrap();
    let t = g
        .arrow_table(BookTable::Customers, &ExportFilter::default())
        .unwrap();
    let b = one_batch(&t);
    assert_eq!(b.num_rows(), 1, "the own dossier only");
    let text = format!("{b:?}");
    assert!(
        !text.contains("zhang.wei@163.com"),
        "the e-mail masked: {text}"
    );
    assert!(
        column(&b, "birth_date").is_null(0),
        "a hidden field is a null"
    );
    assert!(book
        .audit_trail(0)
        .unwrap()
        .iter()
        .any(|e| e.op == "export" && e.note.as_deref().is_some_and(|d| d.contains("arrow"))));

    let intern = Principal {
        user: "zhao".into(),
        roles: vec!["intern".into()],
        team: None,
    };
    let g = book.as_principal(intern, &policy).unwrap();
    assert!(matches!(
        g.arrow_table(BookTable::Customers, &ExportFilter::default()),
        Err(kehu::Error::Denied { .. })
    ));
}

#[test]
fn batches_read_back_as_the_rows_dedupe_takes() {
    let (book, _) = book_of_three();
    let t = book
        .arrow_table(BookTable::Customers, &ExportFilter::default())
        .unwrap();
    let mut rows = ArrowRows::new(Box::new(t.into_reader()));
    assert_eq!(rows.headers(), kehu_table_header().as_slice());
    let rows: Vec<Vec<String>> = rows.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let at = kehu_table_header()
        .iter()
        .position(|h| h == "birth_date")
        .unwrap();
    let dates: Vec<&str> = rows.iter().map(|r| r[at].as_str()).collect();
    assert!(
        dates.contains(&"1988-02-29") && dates.contains(&""),
        "{dates:?}"
    );
    let at = kehu_table_header()
        .iter()
        .position(|h| h == "emails")
        .unwrap();
    let emails: Vec<&str> = rows.iter().map(|r| r[at].as_str()).collect();
    assert!(
        emails.contains(&"zhang.wei@163.com;wei@qq.com"),
        "a list as its CSV cell: {emails:?}"
    );
}

#[test]
fn a_table_of_many_rows_comes_in_batches() {
    let book = Book::in_memory();
    let n = kehu::io::arrow::BATCH_ROWS + 10;
    let batch: Vec<Customer> = (0..n)
        .map(|i| Customer::person(format!("G{i}"), format!("F{i}")))
        .collect();
    book.add_many_with(
        batch,
        &kehu::BatchOptions {
            on_duplicate: kehu::OnDuplicate::Allow,
            ..Default::default()
        },
    )
    .unwrap();
    let t = book
        .arrow_table(BookTable::Customers, &ExportFilter::default())
        .unwrap();
    assert_eq!(t.batches.len(), 2);
    assert_eq!(t.num_rows(), n);
}
