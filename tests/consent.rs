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
            consent: Some(kehu::io::ConsentFilter {
                purpose: purpose.into(),
                channel: channel.map(str::to_string),
            }),
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

#[test]
fn segments_ask_about_consent() {
    // The customers came in 40 days ago (as of 20 days ago, they were in the book).
    let joined = std::sync::Arc::new(std::sync::Mutex::new(Some(
        Utc::now() - TimeDelta::days(40),
    )));
    let clock = joined.clone();
    let book = Book::in_memory().with_clock(std::sync::Arc::new(move || {
        clock.lock().unwrap().unwrap_or_else(Utc::now)
    }));
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
    *joined.lock().unwrap() = None;
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
    book.relate(consent(
        b,
        5,
        "marketing",
        Some("sms"),
        ConsentStatus::Granted,
    ))
    .unwrap();
    let ids = |cond: &str| {
        book.segment_ids(&book.segment(cond).unwrap(), None)
            .unwrap()
    };
    assert_eq!(ids("has consent \"marketing\""), vec![a, b]);
    assert_eq!(ids("has consent \"marketing\" via \"sms\""), vec![b]);
    assert_eq!(ids("has consent \"marketing\" via \"email\""), vec![a]);
    assert_eq!(
        ids("has consent \"marketing\" via \"email\" and email ends_with \"example.cn\""),
        vec![a]
    );
    assert_eq!(ids("not has consent \"marketing\" via \"sms\""), vec![a]);
    // As of 20 days ago, nobody had withdrawn and b had not agreed yet.
    let before = Utc::now() - TimeDelta::days(20);
    let seg = book
        .segment("has consent \"marketing\" via \"sms\"")
        .unwrap();
    assert_eq!(book.segment_ids(&seg, Some(before)).unwrap(), vec![a]);
    // The explanation shows the deciding event.
    let why = book.explain_segment(&seg, a, None).unwrap();
    assert_eq!(why.tests[0].held, Some(false));
    assert_eq!(format!("{:?}", why.tests[0].seen), "[Text(\"withdrawn\")]");
    // Withdrawal counts on the next read, for saved dynamic segments too.
    book.save_segment("sms_ok", "has consent \"marketing\" via \"sms\"", true)
        .unwrap();
    assert_eq!(book.saved_segment_members("sms_ok").unwrap(), vec![b]);
    book.relate(consent(b, 0, "marketing", None, ConsentStatus::Withdrawn))
        .unwrap();
    assert!(ids("has consent \"marketing\" via \"sms\"").is_empty());
    assert!(book.saved_segment_members("sms_ok").unwrap().is_empty());
    for bad in [
        "has consent",
        "has consent \"marketing\" via",
        "has consents \"x\"",
    ] {
        let err = book.segment(bad).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{bad}: {err}");
    }
}
