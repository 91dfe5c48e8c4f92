//! The report page: self-contained (nothing to fetch), every part present
//! in both languages, charts drawn, and a principal's page masked.

use chrono::{TimeDelta, Utc};
use kehu::page::PageOptions;
use kehu::{Book, Currency, Customer, Money, Policy, Principal, Purchase};

fn shop() -> Book {
    let book = Book::in_memory();
    let wei = |n: u32| {
        Customer::person("Wei", "Zhang")
            .with_email(format!("canary.wei{n}@example.com"))
            .with_phone("+86 138 1234 5678")
    };
    let a = book.add_allowing_duplicates(wei(1)).unwrap().customer;
    book.add_allowing_duplicates(wei(1)).unwrap();
    let mut old = Customer::person("Anna", "Weber").with_email("anna@weber.de");
    old.verified_at = Some(Utc::now() - TimeDelta::days(400));
    book.add(old).unwrap();
    book.add(Customer::person("李", "娜").with_email("li.na@qq.com"))
        .unwrap();
    book.relate(Purchase::new(
        a.id,
        Utc::now(),
        Money::new(129_900, Currency::CNY),
    ))
    .unwrap();
    book.save_segment("vip", "has tag \"VIP\"", false).unwrap();
    book
}

#[test]
fn the_page_fetches_nothing_and_shows_every_part() {
    let page = shop()
        .report_page("shop.kehu", &PageOptions::default())
        .unwrap();
    for banned in [
        "<script", "http://", "https://", " src=", " href=", "url(", "@import",
    ] {
        assert!(!page.contains(banned), "the page loads something: {banned}");
    }
    for section in [
        "glance",
        "rules",
        "stale",
        "duplicates",
        "rfm",
        "tiers",
        "lifecycle",
        "segments",
    ] {
        assert!(
            page.contains(&format!(r#"<section id="{section}">"#)),
            "no {section}"
        );
    }
    for words in [
        "Duplicates · 重复客户",
        "Stale records",
        "复核队列",
        "RFM",
        "生命周期漏斗",
    ] {
        assert!(page.contains(words), "no {words:?}");
    }
    assert!(page.matches("<svg").count() >= 5, "charts drawn");
    assert!(
        page.contains("class=\"for\""),
        "a cluster's field weights as a chart"
    );
    assert!(page.contains("shop.kehu"));
}

#[test]
fn the_data_counts_what_the_book_holds() {
    let r = shop().quality_report(&PageOptions::default()).unwrap();
    assert_eq!((r.checked, r.stale), (4, 1));
    assert_eq!(r.oldest_stale[0].who.name, "Anna Weber");
    let d = r.duplicates.unwrap();
    assert_eq!((d.clusters, d.records), (1, 2));
    assert!(d.largest[0].explanation.is_some());
    assert_eq!(r.classes.buyers, 1);
    let none = shop()
        .quality_report(&PageOptions {
            duplicates: false,
            ..Default::default()
        })
        .unwrap();
    assert!(none.duplicates.is_none());
}

#[test]
fn a_principal_sees_its_page_masked() {
    let policy = Policy::from_toml(
        r#"
[roles.analyst]
operations = ["read", "export"]
scope = "all"
default = "masked"
fields = { tags = "visible" }
"#,
    )
    .unwrap();
    let who = Principal {
        user: "ana".into(),
        roles: vec!["analyst".into()],
        team: None,
    };
    let book = shop();
    let page = book
        .as_principal(who, &policy)
        .unwrap()
        .report_page("shop", &PageOptions::default())
        .unwrap();
    assert!(!page.contains("canary.wei1"), "an e-mail in the clear");
    assert!(!page.contains("Anna Weber"), "a name in the clear");
    assert!(page.contains(r#"<section id="duplicates">"#));
    assert!(
        page.contains("A*** W****") || page.contains("A***"),
        "the stale name masked"
    );
}
