//! The rules as a user meets them: whole dossiers in, reports out.

use chrono::{NaiveDate, TimeZone, Utc};
use kehu_model::{
    Address, ConsentStatus, CustomValue, Customer, Feedback, FeedbackKind, Kind, LifecycleStage,
    Note, Related, Score, ScoreScale, Timestamp,
};
use kehu_rules::{Report, RuleSet, Rules, Severity};
use proptest::prelude::*;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap()
}

fn rules(toml: &str) -> Rules {
    Rules::new(RuleSet::from_toml(toml).expect("toml")).expect("compile")
}

fn codes(report: &Report) -> Vec<(String, String, Severity)> {
    report
        .violations
        .iter()
        .map(|v| (v.path.clone(), v.code.clone(), v.severity))
        .collect()
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let r = Rules::standard();
    let mut c = Customer::person("Anna", "Schmidt")
        .with_email("anna@example.de")
        .with_email("anna(at)example.de")
        .with_phone("12")
        .with_address(Address {
            country: Some("Deutschland".into()),
            postcode: Some("1011".into()),
            ..Address::default()
        });
    c.birth_date = NaiveDate::from_ymd_opt(2030, 1, 1);
    c.custom
        .insert("shoe_size".into(), CustomValue::Integer(39));
    let report = r.check(&mut c, now());
    assert_eq!(
        codes(&report),
        vec![
            (
                "emails[1].address".into(),
                "format.email".into(),
                Severity::Error
            ),
            (
                "phones[0].number".into(),
                "format.phone".into(),
                Severity::Warning
            ),
            (
                "addresses[0].postcode".into(),
                "format.postcode".into(),
                Severity::Error
            ),
            ("birth_date".into(), "date.future".into(), Severity::Error),
            (
                "custom.shoe_size".into(),
                "custom.unknown".into(),
                Severity::Error
            ),
        ]
    );
    assert!(!report.is_ok());
    // Messages name the problem, never the value.
    assert!(report
        .violations
        .iter()
        .all(|v| !v.message.contains("anna")));
    assert_eq!(c.addresses[0].country.as_deref(), Some("DE"));
}

#[test]
fn normalisation_before_validation() {
    let r = rules(r#"default_region = "CN""#);
    let mut c = Customer::person("  Ｗｅｉ ", "Zhang　")
        .with_email(" Wei.Zhang@EXAMPLE.COM ")
        .with_phone("138-1234-5678")
        .with_tag(" vip ")
        .with_tag("vip");
    let report = r.check(&mut c, now());
    assert!(report.is_clean(), "{report}");
    assert_eq!(c.name.given.as_deref(), Some("Wei"));
    assert_eq!(c.name.family.as_deref(), Some("Zhang"));
    assert_eq!(c.emails[0].address, "Wei.Zhang@example.com");
    assert_eq!(c.emails[0].raw, " Wei.Zhang@EXAMPLE.COM ");
    assert_eq!(c.phones[0].number, "+8613812345678");
    assert_eq!(c.phones[0].raw, "138-1234-5678");
    assert_eq!(c.tags, vec!["vip"]);
}

#[test]
fn blank_entries_are_dropped_and_one_entry_stays_primary() {
    let mut set = RuleSet::standard();
    set.default_region = Some("CN".into());
    let r = Rules::new(set).unwrap();
    let mut c = Customer::person("Wei", "Zhang")
        .with_phone(" ")
        .with_phone("13812345678")
        .with_phone("13912345678")
        .with_email("\u{3000}");
    c.lifecycle_stage = Some(LifecycleStage::Active);
    for p in &mut c.phones {
        p.primary = true;
    }
    let report = r.check(&mut c, now());
    // Blank values are no contact: the stage's contact requirement still bites.
    assert!(c.emails.is_empty());
    let numbers: Vec<_> = c.phones.iter().map(|p| p.number.as_str()).collect();
    assert_eq!(numbers, ["+8613812345678", "+8613912345678"]);
    let primaries: Vec<_> = c.phones.iter().map(|p| p.primary).collect();
    assert_eq!(primaries, [true, false]);
    assert!(report.is_clean(), "{report}");
    let mut blank = Customer::person("Wei", "Zhang").with_phone("  ");
    blank.lifecycle_stage = Some(LifecycleStage::Active);
    let report = r.check(&mut blank, now());
    assert!(
        codes(&report).iter().any(|(_, code, _)| code == "required"),
        "{report}"
    );
}

#[test]
fn the_record_implies_the_phone_region() {
    let r = rules(r#"default_region = "CN""#);
    let mut uk = Customer::person("Olivia", "Smith")
        .with_phone("020 7946 0018")
        .with_address(Address {
            country: Some("United Kingdom".into()),
            ..Address::default()
        });
    assert!(r.check(&mut uk, now()).is_clean());
    assert_eq!(uk.phones[0].number, "+442079460018");
    let mut de = Customer::person("Jonas", "Weber")
        .with_email("jonas@example.de")
        .with_phone("030 901820");
    assert!(r.check(&mut de, now()).is_clean());
    assert_eq!(de.phones[0].number, "+4930901820");
    let mut cn = Customer::person_named("王芳").with_phone("13912345678");
    assert!(r.check(&mut cn, now()).is_clean());
    assert_eq!(cn.phones[0].number, "+8613912345678");
}

#[test]
fn an_unreadable_phone_warns_and_keeps_the_raw_value_unless_made_an_error() {
    let mut c = Customer::person("A", "B").with_phone("ext. 42");
    let report = Rules::standard().check(&mut c, now());
    assert!(report.is_ok());
    assert_eq!(report.warnings().count(), 1);
    assert_eq!(c.phones[0].number, "ext. 42");
    let strict = rules("[severity]\nphone = \"error\"");
    assert!(!strict.check(&mut c, now()).is_ok());
}

#[test]
fn required_fields_depend_on_kind_stage_and_values() {
    let r = Rules::standard();
    let mut org = Customer {
        kind: Kind::Organization,
        ..Customer::default()
    };
    let report = r.check(&mut org, now());
    assert_eq!(
        codes(&report),
        vec![
            (
                "organization.name".into(),
                "required".into(),
                Severity::Error
            ),
            (
                "organization.industry".into(),
                "required".into(),
                Severity::Warning
            ),
        ]
    );
    let mut lead = Customer::person("Li", "Lei");
    lead.lifecycle_stage = Some(LifecycleStage::Potential);
    assert!(r.check(&mut lead, now()).is_clean());
    lead.lifecycle_stage = Some(LifecycleStage::Active);
    let report = r.check(&mut lead, now());
    assert_eq!(
        codes(&report),
        vec![("emails".into(), "required".into(), Severity::Error)]
    );
    assert!(report.violations[0].message.contains("phone or an e-mail"));
    lead.phones.push(kehu_model::Phone::new("+8613812345678"));
    assert!(r.check(&mut lead, now()).is_clean());

    let referral = rules(
        r#"
        [[required]]
        id = "referral.referrer"
        when = { field = "source", equals = "referral" }
        fields = ["custom.referrer"]
        [[custom]]
        name = "referrer"
        type = "text"
        "#,
    );
    let mut c = Customer::person("A", "B");
    c.source = Some("referral".into());
    let report = referral.check(&mut c, now());
    assert_eq!(
        codes(&report),
        vec![("custom.referrer".into(), "required".into(), Severity::Error)]
    );
    c.source = Some("web".into());
    assert!(referral.check(&mut c, now()).is_clean());
}

#[test]
fn custom_fields_are_typed_and_formatted() {
    let r = rules(
        r#"
        [[custom]]
        name = "level"
        type = "enum"
        values = ["silver", "gold"]
        required = true
        [[custom]]
        name = "credit"
        type = "decimal"
        min = 0
        max = 10000.5
        [[custom]]
        name = "member_since"
        type = "date"
        not_future = true
        "#,
    );
    let mut c = Customer::person("A", "B");
    assert_eq!(
        codes(&r.check(&mut c, now())),
        vec![("custom.level".into(), "required".into(), Severity::Error)]
    );
    c.custom
        .insert("level".into(), CustomValue::Enum("bronze".into()));
    c.custom.insert(
        "credit".into(),
        CustomValue::Decimal("10000.51".parse().unwrap()),
    );
    c.custom.insert(
        "member_since".into(),
        CustomValue::Date(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
    );
    assert_eq!(
        codes(&r.check(&mut c, now())),
        vec![
            (
                "custom.member_since".into(),
                "date.future".into(),
                Severity::Error
            ),
            ("custom.level".into(), "enum".into(), Severity::Error),
            ("custom.credit".into(), "range.max".into(), Severity::Error),
        ]
    );
    c.custom.insert("level".into(), CustomValue::Integer(3));
    let report = r.check(&mut c, now());
    assert!(codes(&report).contains(&(
        "custom.level".into(),
        "custom.type".into(),
        Severity::Error
    )));
    c.custom
        .insert("level".into(), CustomValue::Enum("gold".into()));
    c.custom.insert("credit".into(), CustomValue::Integer(20));
    c.custom.insert(
        "member_since".into(),
        CustomValue::Date(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
    );
    assert!(r.check(&mut c, now()).is_clean());
}

#[test]
fn field_rules_check_length_pattern_and_values() {
    let r = rules(
        r#"
        [[fields]]
        id = "title.length"
        path = "job_title"
        max_length = 5
        severity = "warning"
        [[fields]]
        id = "owner.known"
        path = "owner"
        one_of = ["alice", "bob"]
        [[fields]]
        id = "ext.format"
        path = "external_id"
        pattern = '^ERP-\d+$'
        "#,
    );
    let mut c = Customer::person("A", "B");
    c.job_title = Some("Director".into());
    c.owner = Some("mallory".into());
    c.external_id = Some("X1".into());
    assert_eq!(
        codes(&r.check(&mut c, now())),
        vec![
            ("job_title".into(), "length.max".into(), Severity::Warning),
            ("owner".into(), "enum".into(), Severity::Error),
            (
                "external_id".into(),
                "format.pattern".into(),
                Severity::Error
            ),
        ]
    );
}

#[test]
fn birth_dates_and_sizes() {
    let r = Rules::standard();
    let mut c = Customer::person("A", "B");
    c.birth_date = NaiveDate::from_ymd_opt(1880, 5, 1);
    assert_eq!(
        codes(&r.check(&mut c, now())),
        vec![("birth_date".into(), "date.age".into(), Severity::Error)]
    );
    c.birth_date = NaiveDate::from_ymd_opt(1990, 5, 1);
    c.job_title = Some("x".repeat(2 << 20));
    assert_eq!(
        codes(&r.check(&mut c, now())),
        vec![("".into(), "size.record".into(), Severity::Error)]
    );
}

#[test]
fn bad_rule_sets_are_refused_with_the_rule_named() {
    let bad_path = RuleSet::from_toml("[[required]]\nid = \"x\"\nfields = [\"emials\"]").unwrap();
    let err = Rules::new(bad_path).unwrap_err();
    assert!(err.to_string().contains("emials"), "{err}");
    let bad_regex =
        RuleSet::from_toml("[[fields]]\nid = \"p\"\npath = \"owner\"\npattern = \"(\"").unwrap();
    assert!(Rules::new(bad_regex)
        .unwrap_err()
        .to_string()
        .contains("\"p\""));
    assert!(RuleSet::from_toml("unknown_key = 1").is_err());
    assert!(Rules::new(RuleSet::from_toml("default_region = \"China\"").unwrap()).is_err());
}

#[test]
fn rule_sets_round_trip_through_toml_and_json() {
    let set = RuleSet::standard();
    assert_eq!(RuleSet::from_toml(&set.to_toml().unwrap()).unwrap(), set);
    assert_eq!(RuleSet::from_json(&set.to_json().unwrap()).unwrap(), set);
}

#[test]
fn the_example_rule_set_compiles() {
    let text = include_str!("../../../examples/rules.toml");
    Rules::new(RuleSet::from_toml(text).unwrap()).unwrap();
}

#[test]
fn related_records_are_checked() {
    let r = Rules::standard();
    let id = kehu_model::CustomerId::new();
    let mut note = Related::from(Note::new(id, now(), "  \u{7} "));
    assert_eq!(
        codes(&r.check_related(&mut note, now())),
        vec![("text".into(), "required".into(), Severity::Error)]
    );
    let mut fb = Feedback::new(id, now(), FeedbackKind::Survey, "ok");
    fb.score = Some(Score {
        scale: ScoreScale::Csat,
        value: 9,
    });
    let mut fb = Related::from(fb);
    assert_eq!(
        codes(&r.check_related(&mut fb, now())),
        vec![("score.value".into(), "range.score".into(), Severity::Error)]
    );
    let mut consent = kehu_model::Consent::new(id, now(), "marketing", ConsentStatus::Granted);
    consent.expires_at = Some(now() - chrono::TimeDelta::days(1));
    let mut consent = Related::from(consent);
    assert_eq!(
        codes(&r.check_related(&mut consent, now())),
        vec![("expires_at".into(), "date.order".into(), Severity::Error)]
    );
}

#[test]
fn resident_ids_and_credit_codes_are_checked_and_normalised() {
    let r = rules(
        r#"
[[custom]]
name = "身份证号"
type = "text"
identifier = "cn_resident_id"

[[custom]]
name = "信用代码"
type = "text"
identifier = "cn_credit_code"
"#,
    );
    let with = |id: &str, born: Option<(i32, u32, u32)>| {
        let mut c = kehu_model::Customer::person_named("张伟")
            .with_custom("身份证号", CustomValue::Text(id.into()));
        c.birth_date = born.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
        c
    };
    let mut good = with("11010519491231002x", Some((1949, 12, 31)));
    assert!(r.check(&mut good, now()).is_clean());
    assert_eq!(
        good.custom["身份证号"],
        CustomValue::Text("11010519491231002X".into())
    );
    let mut old = with("110105491231002", None);
    assert!(r.check(&mut old, now()).is_clean());
    assert_eq!(
        old.custom["身份证号"],
        CustomValue::Text("11010519491231002X".into()),
        "a 15-digit number upgraded"
    );
    for (id, code) in [
        ("110105194912310021", "id.check"),
        ("1101051949123100", "id.form"),
    ] {
        let report = r.check(&mut with(id, None), now());
        assert_eq!(
            codes(&report),
            vec![("custom.身份证号".into(), code.into(), Severity::Error)],
            "{id}"
        );
    }
    // A valid number whose birth date is not the dossier's: a warning.
    let report = r.check(&mut with("11010519491231002X", Some((1950, 1, 1))), now());
    assert_eq!(
        codes(&report),
        vec![(
            "custom.身份证号".into(),
            "id.birth_date".into(),
            Severity::Warning
        )]
    );
    let mut org = kehu_model::Customer::organization("福建某公司")
        .with_custom("信用代码", CustomValue::Text("91350100m000100y43".into()));
    org.organization.as_mut().unwrap().industry = Some("制造业".into());
    assert!(r.check(&mut org, now()).is_clean());
    assert_eq!(
        org.custom["信用代码"],
        CustomValue::Text("91350100M000100Y43".into())
    );
    org.custom.insert(
        "信用代码".into(),
        CustomValue::Text("91350100M000100Y44".into()),
    );
    assert_eq!(codes(&r.check(&mut org, now()))[0].1, "id.check");
}

#[test]
fn a_one_line_mainland_address_is_split_and_the_line_kept() {
    let r = rules("");
    let line = "广东省深圳市南山区科技园路1号";
    let mut c = kehu_model::Customer::person_named("张伟").with_address(Address {
        street: Some(line.into()),
        ..Address::default()
    });
    r.check(&mut c, now());
    let a = &c.addresses[0];
    assert_eq!(
        (
            a.region.as_deref(),
            a.city.as_deref(),
            a.district.as_deref(),
            a.street.as_deref(),
            a.raw.as_deref()
        ),
        (
            Some("广东省"),
            Some("深圳市"),
            Some("南山区"),
            Some("科技园路1号"),
            Some(line)
        )
    );
    // A Chinese city with a street line that starts with its district.
    let mut two = kehu_model::Customer::person_named("赵敏").with_address(Address {
        street: Some("南山区科技园路1号".into()),
        city: Some("深圳".into()),
        ..Address::default()
    });
    r.check(&mut two, now());
    let a = &two.addresses[0];
    assert_eq!(
        (a.district.as_deref(), a.street.as_deref(), a.raw.as_deref()),
        (
            Some("南山区"),
            Some("科技园路1号"),
            Some("南山区科技园路1号")
        )
    );
    for (street, city) in [
        ("阳光小区3栋201", "深圳"),
        ("Mitte 5", "Berlin"),
        ("南山区路1号", "Berlin"),
    ] {
        let mut c = kehu_model::Customer::person_named("王五").with_address(Address {
            street: Some(street.into()),
            city: Some(city.into()),
            ..Address::default()
        });
        r.check(&mut c, now());
        assert_eq!(c.addresses[0].district, None, "{street}");
        assert_eq!(c.addresses[0].street.as_deref(), Some(street));
    }
    let once = c.clone();
    r.check(&mut c, now());
    assert_eq!(c, once, "split once");
    // A street with a city already, or the switch off: left as it is.
    let mut kept = kehu_model::Customer::person_named("李娜").with_address(Address {
        street: Some("北京市朝阳区建国路88号".into()),
        city: Some("北京".into()),
        ..Address::default()
    });
    r.check(&mut kept, now());
    assert_eq!(
        kept.addresses[0].street.as_deref(),
        Some("北京市朝阳区建国路88号")
    );
    let off = rules("split_addresses = false");
    let mut plain = kehu_model::Customer::person_named("王芳").with_address(Address {
        street: Some(line.into()),
        ..Address::default()
    });
    off.check(&mut plain, now());
    assert_eq!(plain.addresses[0].city, None);
}

#[test]
fn a_full_name_alone_is_split_and_the_parts_follow_it() {
    let r = rules("");
    let mut c = kehu_model::Customer::person_named("欧阳娜娜");
    r.check(&mut c, now());
    let parts =
        |c: &kehu_model::Customer| (c.name.family.clone(), c.name.given.clone(), c.name.split);
    assert_eq!(
        parts(&c),
        (
            Some("欧阳".into()),
            Some("娜娜".into()),
            Some(kehu_model::NameSplit::Certain)
        )
    );
    assert_eq!(c.name.full.as_deref(), Some("欧阳娜娜"), "kept as entered");
    // The full name changes: parts split from it follow.
    c.name.full = Some("ZHANG, Wei".into());
    r.check(&mut c, now());
    assert_eq!(c.name.family.as_deref(), Some("ZHANG"));
    c.name.full = Some("Madonna".into());
    r.check(&mut c, now());
    assert_eq!(parts(&c), (None, None, None), "one word: no parts");
    // Parts the record gives are its own: never split over.
    let mut own = kehu_model::Customer::person("Wei", "Zhang");
    own.name.full = Some("张伟".into());
    r.check(&mut own, now());
    assert_eq!(
        parts(&own),
        (Some("Zhang".into()), Some("Wei".into()), None)
    );
    // Organisations are not split, and the rule set can turn it off.
    let mut org = kehu_model::Customer::organization("上海云帆贸易有限公司");
    org.name.full = Some("上海云帆".into());
    r.check(&mut org, now());
    assert_eq!(org.name.split, None);
    let off = rules("split_names = false");
    let mut plain = kehu_model::Customer::person_named("张伟");
    off.check(&mut plain, now());
    assert_eq!(parts(&plain), (None, None, None));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Normalising a normalised dossier changes nothing, and checking never panics.
    #[test]
    fn normalisation_is_idempotent(c in kehu_model::arbitrary::customer()) {
        let r = rules(r#"default_region = "CN""#);
        let mut once = c;
        let first = r.check(&mut once, now());
        let mut twice = once.clone();
        let second = r.check(&mut twice, now());
        prop_assert_eq!(&twice, &once);
        prop_assert_eq!(first.is_ok(), second.is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text given as a rule set is a rule set or an error, never a panic.
    #[test]
    fn rule_set_parsers_never_panic(text in any::<String>()) {
        if let Ok(set) = RuleSet::from_toml(&text) {
            let _ = Rules::new(set);
        }
        if let Ok(set) = RuleSet::from_json(&text) {
            let _ = Rules::new(set);
        }
    }

    /// Rule sets built from arbitrary paths and patterns compile or fail cleanly.
    #[test]
    fn arbitrary_rules_compile_or_fail_cleanly(path in "[a-z_.]{0,24}", pattern in any::<String>()) {
        let set = RuleSet {
            fields: vec![kehu_rules::FieldRule { id: "p".into(), path, pattern: Some(pattern), ..Default::default() }],
            ..RuleSet::default()
        };
        let _ = Rules::new(set);
    }
}
