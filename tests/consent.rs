//! The consent ledger: the latest event decides, expiry lapses, a withdrawal
//! counts from the next read, exports can require consent.

use chrono::{TimeDelta, Utc};
use kehu::io::{ExportFilter, ExportOptions, Format};
use kehu::{Book, Consent, ConsentStatus, Customer};

fn consent(
    id: kehu::CustomerId,
    days_ago: i64,
    purpose: &str,
    channel: Option<&str>,
    status: ConsentStatus,
) -> Consent {
    let mut c = Consent::new(id, Utc::now() - TimeDelta::days(days_ago), purpose, status);
    c.channel = channel.map(str::to_string);
    c
}

fn export_ids(book: &Book, purpose: &str, channel: Option<&str>) -> String {
    let mut out = Vec::new();
    let options = ExportOptions {
        format: Format::Jsonl,
        filter: ExportFilter {
            consent: Some((purpose.into(), channel.map(str::to_string))),
            ..Default::default()
        },
    };
    book.export(&mut out, &options).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_latest_event_decides_per_purpose_and_channel() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(dir.path().join("c.kehu")).unwrap();
    let a = book
        .add(Customer::person("An", "Bai").with_email("an.bai@example.cn"))
        .unwrap()
        .customer
        .id;
    let b = book
        .add(Customer::person("Bo", "Cao").with_email("bo.cao@example.cn"))
        .unwrap()
        .customer
        .id;

    book.relate(consent(a, 30, "marketing", None, ConsentStatus::Granted))
        .unwrap();
    book.relate(consent(
        a,
        10,
        "marketing",
        Some("sms"),
        ConsentStatus::Withdrawn,
    ))
    .unwrap();
    assert!(book.has_consent(a, "marketing", Some("email")).unwrap());
    assert!(!book.has_consent(a, "marketing", Some("sms")).unwrap());
    assert!(!book.has_consent(a, "profiling", None).unwrap());
    assert!(!book.has_consent(b, "marketing", None).unwrap());

    let mut lapsed = consent(b, 100, "marketing", None, ConsentStatus::Granted);
    lapsed.expires_at = Some(Utc::now() - TimeDelta::days(1));
    book.relate(lapsed).unwrap();
    assert!(
        !book.has_consent(b, "marketing", None).unwrap(),
        "an expired consent lapses"
    );

    let mut sensitive = consent(b, 5, "health_data", None, ConsentStatus::Granted);
    sensitive.separate = true;
    book.relate(sensitive).unwrap();
    assert!(book
        .consents(b)
        .unwrap()
        .iter()
        .any(|c| c.separate && c.purpose == "health_data"));

    let email_ok = export_ids(&book, "marketing", Some("email"));
    assert!(email_ok.contains("an.bai@example.cn") && !email_ok.contains("bo.cao"));
    assert!(!export_ids(&book, "marketing", Some("sms")).contains("an.bai"));

    // A withdrawal takes effect on the next read.
    book.relate(consent(a, 0, "marketing", None, ConsentStatus::Withdrawn))
        .unwrap();
    assert!(!book.has_consent(a, "marketing", Some("email")).unwrap());
    assert!(export_ids(&book, "marketing", None).is_empty());
}
