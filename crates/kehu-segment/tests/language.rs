//! Every operator, relative date, aggregate and error of the filter language.

use chrono::{NaiveDate, TimeZone, Utc};
use kehu_model::{
    Address, CustomValue, Customer, Direction, Feedback, FeedbackKind, FeedbackStatus, Interaction,
    InteractionChannel, LifecycleStage, Money, Purchase, Related, Score, ScoreScale,
};
use kehu_segment::{Schema, Segment, ValueType};
use proptest::prelude::*;

fn now() -> kehu_segment::Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn schema() -> Schema {
    Schema::standard()
        .with_custom("level", ValueType::Text)
        .with_custom("credit", ValueType::Number)
}

/// 张伟 in 上海, active, VIP, born 1990-06-02; three purchases, a call, an open complaint.
fn wei() -> (Customer, Vec<Related>) {
    let mut c = Customer::person_named("张伟")
        .with_email("zhang.wei@qq.com")
        .with_phone("+8613812345678")
        .with_tag("VIP");
    c.addresses.push(Address {
        city: Some("上海".into()),
        region: Some("上海市".into()),
        postcode: Some("200000".into()),
        country: Some("CN".into()),
        primary: true,
        ..Address::default()
    });
    c.birth_date = NaiveDate::from_ymd_opt(1990, 6, 2);
    c.lifecycle_stage = Some(LifecycleStage::Active);
    c.company = Some("华为技术".into());
    c.created_at = Utc.with_ymd_and_hms(2024, 1, 10, 0, 0, 0).unwrap();
    c.custom
        .insert("level".into(), CustomValue::Text("gold".into()));
    c.custom.insert("credit".into(), CustomValue::Integer(5000));
    let cny = "CNY".parse().unwrap();
    let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap();
    let related = vec![
        Purchase::new(c.id, at(2025, 1, 5), Money::parse("300.00", cny).unwrap()).into(),
        Purchase::new(c.id, at(2026, 5, 1), Money::parse("800.50", cny).unwrap()).into(),
        Purchase::new(c.id, at(2026, 6, 1), Money::parse("99.50", cny).unwrap()).into(),
        Interaction::new(
            c.id,
            at(2026, 6, 10),
            InteractionChannel::Phone,
            Direction::Inbound,
            "call",
        )
        .into(),
        {
            let mut f = Feedback::new(
                c.id,
                at(2026, 6, 12),
                FeedbackKind::Complaint,
                "late delivery",
            );
            f.score = Some(Score {
                scale: ScoreScale::Csat,
                value: 2,
            });
            f.status = FeedbackStatus::Open;
            Related::from(f)
        },
    ];
    (c, related)
}

fn holds(src: &str) -> bool {
    let (c, r) = wei();
    Segment::parse(src, &schema())
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .matches(&c, &r, now())
}

#[test]
fn comparisons_and_text() {
    for (src, expected) in [
        (r#"city = "上海""#, true),
        (r#"城市 = "上海""#, true),
        (r#"city != "北京""#, true),
        (r#"city = "北京""#, false),
        (r#"city in ["北京", "上海"]"#, true),
        (r#"city not in ["北京", "上海"]"#, false),
        (r#"email contains "QQ.com""#, true),
        (r#"email starts_with "zhang""#, true),
        (r#"email ends_with ".cn""#, false),
        (r#"phone matches /^\+861[3-9]/"#, true),
        ("postcode = 200000", true),
        ("custom.credit > 4000", true),
        ("custom.credit between 1000 and 5000", true),
        ("custom.credit between 1000 and 4999", false),
        (r#"custom.level = "gold""#, true),
        ("kind = person", true),
        ("kind = organization", false),
        ("stage = active", true),
        ("stage >= new", true),
        ("stage < active", false),
        (r#"has tag "VIP""#, true),
        (r#"has tag "vip""#, false),
        (r#"not has tag "blocked""#, true),
        ("company is not empty", true),
        ("job_title is empty", true),
        ("tags is empty", false),
        ("birthday < 1995-01-01", true),
        ("created >= 2024-01-10", true),
        ("created > 2024-01-10", false),
    ] {
        assert_eq!(holds(src), expected, "{src}");
    }
}

#[test]
fn relative_dates() {
    for (src, expected) in [
        ("birthday this month", true),
        ("created this year", false),
        ("created within 3y", true),
        ("created within 1y", false),
        ("created before 2y ago", true),
        ("created before 3y ago", false),
        ("verified older than 180d", true), // never verified counts as older
        ("purchases.last within 30d", true),
        ("purchases.last within 1w", false),
        ("purchases.first before 1y ago", true),
        ("interactions.last within 7d", true),
        ("created within 999999999999d", true), // further back than time goes: no overflow
    ] {
        assert_eq!(holds(src), expected, "{src}");
    }
}

#[test]
fn aggregates() {
    for (src, expected) in [
        ("purchases.count = 3", true),
        ("purchases.count(within 90d) = 2", true),
        ("purchases.count(within 3w) = 1", true),
        ("purchases.sum = 1200", true),
        ("purchases.sum(within 90d) = 900", true),
        ("purchases.avg = 400", true),
        ("interactions.count >= 1", true),
        ("complaints.open = 1", true),
        ("complaints.count(within 1m) = 1", true),
        ("feedback.avg_score < 3", true),
        ("interactions.count(within 1d) = 0", true),
    ] {
        assert_eq!(holds(src), expected, "{src}");
    }
    // No purchases: a count and a sum are 0, a last purchase is missing.
    let (c, _) = wei();
    let s = |src: &str| {
        Segment::parse(src, &schema())
            .unwrap()
            .matches(&c, &[], now())
    };
    assert!(s("purchases.count = 0"));
    assert!(s("purchases.sum < 100"));
    assert!(!s("purchases.last within 1y"));
    assert!(
        !s("not purchases.last within 1y"),
        "unknown stays unknown under not"
    );
    assert!(s("purchases.last is empty"));
}

#[test]
fn logic_is_three_valued() {
    // job_title is missing: a test of it is unknown, and so is its negation.
    assert!(!holds(r#"job_title = "CEO""#));
    assert!(!holds(r#"job_title != "CEO""#));
    assert!(!holds(r#"not job_title = "CEO""#));
    assert!(holds(r#"job_title = "CEO" or city = "上海""#));
    assert!(!holds(r#"job_title = "CEO" and city = "上海""#));
    assert!(holds(
        r#"(city = "北京" or city = "上海") and not (stage = churned)"#
    ));
}

#[test]
fn explanations_for_members_and_others() {
    let (c, r) = wei();
    let s = Segment::parse(
        r#"city = "上海" and purchases.count(within 30d) >= 2"#,
        &schema(),
    )
    .unwrap();
    let e = s.explain(&c, &r, now());
    assert!(!e.member);
    assert_eq!(e.tests.len(), 2);
    assert_eq!(e.tests[0].test, r#"city = "上海""#);
    assert_eq!(e.tests[0].held, Some(true));
    assert_eq!(e.tests[1].held, Some(false));
    assert_eq!(e.tests[1].seen, vec![kehu_segment::Seen::Number(1.0)]);
    let s = Segment::parse(r#"city = "上海""#, &schema()).unwrap();
    assert!(s.explain(&c, &r, now()).member);
}

#[test]
fn errors_point_at_the_problem() {
    let err = |src: &str| Segment::parse(src, &schema()).unwrap_err();
    let e = err(r#"city = "上海" and citty = "北京""#);
    assert_eq!((e.line, e.column), (1, 17));
    assert_eq!(e.suggestion.as_deref(), Some("city"));
    let shown = e.to_string();
    assert!(shown.contains("did you mean city?"), "{shown}");
    assert!(
        shown
            .lines()
            .last()
            .unwrap()
            .trim_start()
            .starts_with("^^^^^"),
        "{shown}"
    );
    let e = err("stage = activ");
    assert!(e.message.contains("a stage"), "{e}");
    assert_eq!(e.column, 9);
    let e = err("purchases.count > \"many\"");
    assert!(e.message.contains("a number"));
    let e = err("city = \"a\"\n  and (stage = new");
    assert_eq!(e.line, 2);
    let e = err("city contains 3 and");
    assert!(e.message.contains("ends too soon"));
    let e = err("purchases.count within 30d");
    assert!(e.message.contains("dates and times"));
    let e = err("");
    assert!(e.message.contains("empty"));
    let e = err("city ~ \"x\"");
    assert_eq!(e.column, 6);
    let e = err("phone matches /[/");
    assert!(e.message.contains("regular expression"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text: a segment or an error with a position inside the text; never a panic.
    #[test]
    fn any_text_parses_or_fails_with_a_position(src in "[a-z_.()\\[\\]=<>!\"'/ 0-9,城市上海-]{0,60}") {
        match Segment::parse(&src, &schema()) {
            Ok(s) => { let (c, r) = wei(); let _ = s.matches(&c, &r, now()); }
            Err(e) => {
                prop_assert!(e.line >= 1 && e.column >= 1);
                prop_assert!(e.line <= src.lines().count().max(1));
                let _ = e.to_string();
            }
        }
    }

    /// Arbitrary unicode as well.
    #[test]
    fn any_unicode_is_safe(src in "\\PC{0,40}") {
        if let Err(e) = Segment::parse(&src, &schema()) {
            prop_assert!(e.column >= 1);
            let _ = e.to_string();
        }
    }
}

#[test]
fn references_to_saved_segments_and_circles() {
    let schema = schema()
        .with_segment("shanghai", r#"city = "上海""#)
        .with_segment("vip", r#"has tag "VIP""#)
        .with_segment("both", r#"in segment "shanghai" and in segment "vip""#)
        .with_segment("a", r#"in segment "b""#)
        .with_segment("b", r#"in segment "a""#);
    let (c, r) = wei();
    let s = Segment::parse(r#"in segment "both" and purchases.count >= 3"#, &schema).unwrap();
    assert!(s.matches(&c, &r, now()));
    let e = s.explain(&c, &r, now());
    assert_eq!(e.tests[0].test, r#"in segment "both""#);
    assert_eq!(e.tests[0].held, Some(true));
    assert!(s.to_sql(now()).contains("'上海'"));
    let err = Segment::parse(r#"in segment "nope""#, &schema).unwrap_err();
    assert!(err.message.contains("no saved segment"), "{err}");
    let err = Segment::parse(r#"in segment "a""#, &schema).unwrap_err();
    assert!(err.message.contains("circle"), "{err}");
    let err =
        Segment::parse_named(Some("shanghai"), r#"in segment "shanghai""#, &schema).unwrap_err();
    assert!(err.message.contains("circle"), "{err}");
}

#[test]
fn deep_nesting_and_huge_conditions_are_refused_not_overflowed() {
    let schema = schema();
    // 64 levels parse; 65 do not; 100,000 opening parentheses or `not`s are
    // refused at the 65th (before: a stack overflow that killed the process).
    let ok = format!("{}city = \"上海\"{}", "(".repeat(64), ")".repeat(64));
    assert!(Segment::parse(&ok, &schema).is_ok());
    let deep = format!("{}city = \"上海\"{}", "(".repeat(65), ")".repeat(65));
    let e = Segment::parse(&deep, &schema).unwrap_err();
    assert!(e.message.contains("nested more than 64"), "{e}");
    assert_eq!(e.column, 65);
    for huge in ["(".repeat(100_000), "not ".repeat(100_000)] {
        let e = Segment::parse(&huge, &schema).unwrap_err();
        assert!(e.message.contains("nested"), "{e}");
    }
    // A thousand tests parse; more are refused with a hint.
    let chain = |n: usize| vec!["city = \"上海\""; n].join(" or ");
    assert!(Segment::parse(&chain(1000), &schema).is_ok());
    let e = Segment::parse(&chain(1001), &schema).unwrap_err();
    assert!(e.message.contains("at most 1000 tests"), "{e}");
}
