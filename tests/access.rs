//! Roles, permissions and masking on every read path, and denials recorded.

use chrono::{NaiveDate, Utc};
use kehu::io::{ExportOptions, Format};
use kehu::{Book, Customer, Error, Note, Policy, Principal};

const POLICY: &str = r#"
[roles.sales]
operations = ["read", "add", "update"]
scope = "own"
default = "visible"
fields = { phones = "masked", emails = "masked", birth_date = "hidden", related = "masked" }

[roles.manager]
operations = ["read", "export", "merge"]
scope = "team"
default = "masked"

[roles.intern]
operations = []

[teams]
east = ["li", "zhao"]
west = ["wang"]
"#;

fn who(user: &str, roles: &[&str]) -> Principal {
    Principal {
        user: user.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        team: None,
    }
}

struct Shop {
    book: Book,
    li: Customer,
    wang: Customer,
    zhao: Customer,
}

fn shop() -> Shop {
    let book = Book::in_memory();
    let add = |given: &str, family: &str, owner: &str, email: &str, phone: &str| {
        let mut c = Customer::person(given, family)
            .with_email(email)
            .with_phone(phone);
        c.owner = Some(owner.into());
        c.birth_date = NaiveDate::from_ymd_opt(1990, 5, 1);
        book.add_allowing_duplicates(c).unwrap().customer
    };
    let li = add(
        "Wei",
        "Zhang",
        "li",
        "zhang.wei@163.com",
        "+86 138 1234 8000",
    );
    let wang = add(
        "Fang",
        "Liu",
        "wang",
        "liu.fang@qq.com",
        "+86 139 5555 1234",
    );
    let zhao = add(
        "Min",
        "Chen",
        "zhao",
        "chen.min@126.com",
        "+86 137 0000 4321",
    );
    book.relate(Note::new(li.id, Utc::now(), "wants a callback on Friday"))
        .unwrap();
    let mut changed = li.clone();
    changed.phones[0].number = "+86 138 1234 8001".into();
    changed.phones[0].raw = changed.phones[0].number.clone();
    book.update(changed).unwrap();
    let li = book.get(li.id).unwrap();
    Shop {
        book,
        li,
        wang,
        zhao,
    }
}

fn policy() -> Policy {
    Policy::from_toml(POLICY).unwrap()
}

#[test]
fn a_sales_rep_sees_own_dossiers_masked_on_every_read_path() {
    let s = shop();
    let p = policy();
    let g = s.book.as_principal(who("li", &["sales"]), &p).unwrap();

    let own = g.get(s.li.id).unwrap();
    assert_eq!(own.phones[0].number, "138****8001");
    assert_eq!(own.emails[0].address, "z***@163.com");
    assert_eq!(own.birth_date, None);
    assert_eq!(
        own.name.given.as_deref(),
        Some("Wei"),
        "names are visible to sales"
    );
    assert!(
        matches!(g.get(s.wang.id), Err(Error::NotFound(_))),
        "outside the scope: not there"
    );

    // A find is a condition: on a masked field it would read the field one
    // guess at a time, so it is refused.
    for found in [
        g.find_by_email("zhang.wei@163.com"),
        g.find_by_phone("+86 138 1234 8001"),
    ] {
        assert!(matches!(found, Err(Error::Denied { .. })), "{found:?}");
    }
    assert!(g.find_by_tag("nobody").unwrap().is_empty());

    let seg = s.book.segment("family_name = \"Zhang\"").unwrap();
    let members = g.segment_members(&seg, None).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].phones[0].number, "138****8001");
    let why = g.explain_segment(&seg, s.li.id, None).unwrap();
    let seen = format!("{:?}", why.tests);
    assert!(!seen.contains("13812348001"), "{seen}");
    assert!(matches!(
        g.explain_segment(&seg, s.wang.id, None),
        Err(Error::NotFound(_))
    ));

    // Someone else's customer typed again: li's check looks at li's
    // dossiers only (the owner's dedupe finds the pair), so nothing of it
    // is said, not even that it is there.
    let draft = Customer::person("Fang", "Liu")
        .with_email("liu.fang@qq.com")
        .with_phone("+86 139 5555 1234");
    assert!(g.check_duplicates(&draft).unwrap().is_empty());
    assert_eq!(s.book.check_duplicates(&draft).unwrap()[0].id, s.wang.id);

    let history = g.history(s.li.id).unwrap();
    let text = format!("{history:?}");
    assert!(
        !text.contains("8613812348000") && !text.contains("8613812348001"),
        "{text}"
    );
    assert!(matches!(g.history(s.wang.id), Err(Error::NotFound(_))));

    let notes = g.related(s.li.id).unwrap();
    assert!(!format!("{notes:?}").contains("callback"));

    assert!(matches!(
        g.export(&mut Vec::new(), &ExportOptions::default()),
        Err(Error::Denied { .. })
    ));
    let denied = s
        .book
        .audit_trail(1)
        .unwrap()
        .into_iter()
        .filter(|e| e.op == "denied")
        .count();
    assert_eq!(denied, 3, "two finds and the export");
}

#[test]
fn a_role_may_be_granted_filtering_on_a_masked_field() {
    let s = shop();
    let p = Policy::from_toml(&POLICY.replace(
        "related = \"masked\" }",
        "related = \"masked\" }\nfilter_masked = [\"邮箱\", \"phones\"]",
    ))
    .unwrap();
    let g = s.book.as_principal(who("li", &["sales"]), &p).unwrap();
    assert!(
        g.find_by_email("liu.fang@qq.com").unwrap().is_empty(),
        "not in scope"
    );
    assert_eq!(
        g.find_by_email("zhang.wei@163.com").unwrap()[0].emails[0].address,
        "z***@163.com"
    );
    let seg = s.book.segment("phone starts_with \"+86\"").unwrap();
    let members = g.segment_members(&seg, None).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].phones[0].number, "138****8001");
    let why = format!("{:?}", g.explain_segment(&seg, s.li.id, None).unwrap());
    assert!(!why.contains("13812348001"), "{why}");
    let hidden = s.book.segment("birthday < 1995-01-01").unwrap();
    assert!(matches!(
        g.segment_count(&hidden, None),
        Err(Error::Denied { .. })
    ));
}

#[test]
fn a_manager_exports_the_team_masked() {
    let s = shop();
    let p = policy();
    let g = s.book.as_principal(who("zhao", &["manager"]), &p).unwrap();
    let mut out = Vec::new();
    let options = ExportOptions {
        format: Format::Jsonl,
        ..Default::default()
    };
    assert_eq!(g.export(&mut out, &options).unwrap(), 2);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(&s.li.id.to_string()) && text.contains(&s.zhao.id.to_string()));
    assert!(
        !text.contains(&s.wang.id.to_string()),
        "another team's customer"
    );
    for secret in [
        "zhang.wei@163.com",
        "Zhang",
        "chen.min@126.com",
        "8613700004321",
    ] {
        assert!(!text.contains(secret), "{secret} exported");
    }
    assert!(text.contains("W**") || text.contains("Z****"));
    let mut csv = Vec::new();
    g.export(&mut csv, &ExportOptions::default()).unwrap();
    assert!(!String::from_utf8(csv)
        .unwrap()
        .contains("zhang.wei@163.com"));
}

#[test]
fn a_principals_import_keys_rows_only_on_what_it_may_test() {
    let s = shop();
    let p = Policy::from_toml(&POLICY.replace(
        r#"operations = ["read", "add", "update"]"#,
        r#"operations = ["read", "add", "update", "import"]"#,
    ))
    .unwrap();
    let g = s.book.as_principal(who("li", &["sales"]), &p).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.csv");
    std::fs::write(
        &path,
        "external_id,邮箱,姓名\nW-7,liu.fang@qq.com,刘芳\nN-1,new@example.cn,王五\n",
    )
    .unwrap();
    // A key on the masked e-mail would find customers by it: refused.
    let by_email = kehu::io::ImportOptions {
        keys: vec![kehu::io::NaturalKey::Email],
        ..Default::default()
    };
    match g.import_file(&path, &by_email) {
        Err(Error::Denied { operation, .. }) => {
            assert!(operation.contains("emails"), "{operation}")
        }
        other => panic!("{other:?}"),
    }
    // The external id (visible) of another owner's customer: the row is
    // refused without naming it; the other row is imported.
    let mut wang = s.book.get(s.wang.id).unwrap();
    wang.external_id = Some("W-7".into());
    s.book.update(wang).unwrap();
    let report = g.import_file(&path, &Default::default()).unwrap();
    assert_eq!((report.imported, report.rejected), (1, 1), "{report:?}");
    let text = format!("{report:?}");
    for secret in [s.wang.id.to_string(), "Liu".to_string()] {
        assert!(!text.contains(&secret), "{secret} in {text}");
    }
    assert_eq!(s.book.get(s.wang.id).unwrap().version, s.wang.version + 1);
}

#[test]
fn a_principal_without_rights_is_denied_everywhere() {
    let s = shop();
    let p = policy();
    for roles in [&["intern"][..], &["no-such-role"][..], &[][..]] {
        let g = s.book.as_principal(who("li", roles), &p).unwrap();
        let seg = s.book.segment("phone starts_with \"+86\"").unwrap();
        let denied =
            |r: Result<(), Error>| assert!(matches!(r, Err(Error::Denied { .. })), "{r:?}");
        denied(g.get(s.li.id).map(drop));
        denied(g.find_by_email("zhang.wei@163.com").map(drop));
        denied(g.find_by_tag("x").map(drop));
        denied(g.segment_members(&seg, None).map(drop));
        denied(g.explain_segment(&seg, s.li.id, None).map(drop));
        denied(g.check_duplicates(&s.li).map(drop));
        denied(g.history(s.li.id).map(drop));
        denied(g.related(s.li.id).map(drop));
        denied(
            g.export(&mut Vec::new(), &ExportOptions::default())
                .map(drop),
        );
        denied(
            g.add(Customer::person("A", "B").with_email("a@b.cn"))
                .map(drop),
        );
        denied(g.remove(s.li.id));
        denied(
            g.import_file("no-such-file.csv", &Default::default())
                .map(drop),
        );
        denied(g.forget(s.li.id).map(drop));
    }
    assert_eq!(s.book.count().unwrap(), 3, "nothing was written");
}

#[test]
fn writes_respect_scope_and_what_the_principal_cannot_see() {
    let s = shop();
    let p = policy();
    let g = s.book.as_principal(who("li", &["sales"]), &p).unwrap();
    let mut own = g.get(s.li.id).unwrap();
    own.job_title = Some("Buyer".into());
    g.update(own).unwrap();
    let stored = s.book.get(s.li.id).unwrap();
    assert_eq!(stored.job_title.as_deref(), Some("Buyer"));
    assert_eq!(
        stored.phones[0].number, "+8613812348001",
        "masked values are not written back"
    );
    assert_eq!(stored.birth_date, NaiveDate::from_ymd_opt(1990, 5, 1));
    let mut theirs = s.wang.clone();
    theirs.job_title = Some("x".into());
    assert!(matches!(g.update(theirs), Err(Error::NotFound(_))));
    let added = g
        .add(Customer::person("New", "Lead").with_email("new.lead@example.cn"))
        .unwrap();
    assert_eq!(
        s.book.get(added.customer.id).unwrap().owner.as_deref(),
        Some("li")
    );
    assert!(matches!(g.remove(s.li.id), Err(Error::Denied { .. })));
}

#[test]
fn explanations_mask_a_field_whatever_name_the_condition_gives_it() {
    let s = shop();
    let policy = Policy::from_toml(POLICY).unwrap();
    let g = s.book.as_principal(who("li", &["sales"]), &policy).unwrap();
    for condition in [
        r#"邮箱 contains "163""#,
        r#"email contains "163""#,
        r#"emails contains "163""#,
        r#"手机 contains "138""#,
        r#"phone contains "138""#,
        "birthday < 1995-01-01",
        "生日 < 1995-01-01",
        "date_of_birth < 1995-01-01",
    ] {
        let segment = s.book.segment(condition).unwrap();
        // Every way of asking is refused, under every name of the field.
        for answer in [
            g.explain_segment(&segment, s.li.id, None)
                .map(|e| format!("{e:?}")),
            g.segment_members(&segment, None).map(|m| format!("{m:?}")),
            g.segment_count(&segment, None).map(|n| n.to_string()),
            g.segment_ids(&segment, None).map(|m| format!("{m:?}")),
        ] {
            match answer {
                Err(Error::Denied { operation, .. }) => {
                    assert!(operation.starts_with("filter on "), "{operation}")
                }
                other => panic!("{condition}: {other:?}"),
            }
        }
    }
}

#[test]
fn an_update_keeps_what_the_principal_cannot_see() {
    let s = shop();
    let mut c = s.book.get(s.li.id).unwrap();
    c.tags = vec!["VIP".into()];
    c.custom.insert(
        "secret_note".into(),
        kehu::CustomValue::Text("owes 5000".into()),
    );
    let rules =
        kehu::RuleSet::from_toml("[[custom]]\nname = \"secret_note\"\ntype = \"text\"\n").unwrap();
    let book = s.book.with_rules(kehu::Rules::new(rules).unwrap());
    book.update(c).unwrap();
    let p = Policy::from_toml(&POLICY.replace(
        "related = \"masked\" }",
        "related = \"masked\", tags = \"hidden\", \"custom.secret_note\" = \"hidden\" }",
    ))
    .unwrap();
    let g = book.as_principal(who("li", &["sales"]), &p).unwrap();
    let mut seen = g.get(s.li.id).unwrap();
    assert!(seen.tags.is_empty() && seen.custom.is_empty() && seen.birth_date.is_none());
    seen.job_title = Some("Head of purchasing".into());
    seen.emails.push(kehu::Email::new("wei.zhang@work.cn"));
    g.update(seen.clone()).unwrap();
    let stored = book.get(s.li.id).unwrap();
    assert_eq!(stored.job_title.as_deref(), Some("Head of purchasing"));
    assert_eq!(stored.tags, vec!["VIP".to_string()], "hidden tags kept");
    assert_eq!(
        stored.custom.get("secret_note"),
        Some(&kehu::CustomValue::Text("owes 5000".into())),
        "hidden custom field kept"
    );
    assert_eq!(stored.birth_date, NaiveDate::from_ymd_opt(1990, 5, 1));
    assert_eq!(
        stored.emails[0].address, "zhang.wei@163.com",
        "masked e-mail kept"
    );
    assert_eq!(
        stored.emails[1].address, "wei.zhang@work.cn",
        "new e-mail added"
    );
    // Setting a hidden field is refused, and names it.
    let mut sneaky = g.get(s.li.id).unwrap();
    sneaky.birth_date = NaiveDate::from_ymd_opt(2000, 1, 1);
    match g.update(sneaky) {
        Err(Error::Denied { operation, .. }) => assert!(operation.contains("birth_date")),
        other => panic!("{other:?}"),
    }
    let mut draft = Customer::person("Hidden", "Birthday");
    draft.birth_date = NaiveDate::from_ymd_opt(1985, 3, 12);
    assert!(matches!(g.add(draft), Err(Error::Denied { .. })));
}

#[test]
fn a_duplicate_answer_carries_no_value_the_principal_cannot_see() {
    let s = shop();
    let p = policy();
    let g = s.book.as_principal(who("li", &["sales"]), &p).unwrap();
    // Another owner's customer, typed again by li: added, nothing of the
    // other dossier said (the check keeps to li's scope).
    let draft = Customer::person("Fang", "Liu").with_email("liu.fang@qq.com");
    let saved = g.add(draft).unwrap();
    let text = format!("{:?}", saved.duplicates);
    assert!(saved.duplicates.is_empty(), "{text}");

    // li's own customer, with guesses at the masked e-mail and phone (the
    // hidden birth date it may not even type): the answer is the same
    // whether the guesses are right or wrong, and compares neither field.
    let shanghai = || kehu::Address {
        city: Some("上海".into()),
        postcode: Some("200000".into()),
        ..Default::default()
    };
    let mut at = s.book.get(s.li.id).unwrap();
    at.addresses.push(shanghai());
    s.book.update(at).unwrap();
    let guess = |email: &str, phone: &str| {
        Customer::person("Wei", "Zhang")
            .with_email(email)
            .with_phone(phone)
            .with_address(shanghai())
    };
    let answer = |c: &Customer| {
        let found = g.check_duplicates(c).unwrap();
        found
            .iter()
            .map(|d| {
                let fields: Vec<_> = d
                    .explanation
                    .fields
                    .iter()
                    .map(|f| (f.field.clone(), f.level.clone(), f.right.clone()))
                    .collect();
                (d.id, d.probability, d.action, fields)
            })
            .collect::<Vec<_>>()
    };
    let right = answer(&guess("zhang.wei@163.com", "+86 138 1234 8001"));
    let wrong = answer(&guess("wei.z@qq.com", "+86 135 0000 0000"));
    assert_eq!(right, wrong);
    assert_eq!(
        right[0].0, s.li.id,
        "li's customer is found by name and postcode"
    );
    for (_, _, _, fields) in &right {
        for (field, _, shown) in fields {
            assert!(!["emails", "phones", "birth_date"].contains(&field.as_str()));
            assert!(!shown.contains("1990"), "{shown}");
        }
    }
    // The owner's check weighs both.
    let owner = |c: &Customer| s.book.check_duplicates(c).unwrap()[0].probability;
    assert!(
        owner(&guess("zhang.wei@163.com", "+86 138 1234 8001"))
            > owner(&guess("wei.z@qq.com", "+86 135 0000 0000"))
    );
}

#[test]
fn the_owner_only_paths_refuse_a_principal() {
    let s = shop();
    let p = policy();
    let g = s.book.as_principal(who("zhao", &["manager"]), &p).unwrap();
    assert!(matches!(g.store(), Err(Error::Denied { .. })));
    assert!(matches!(g.snapshot(), Err(Error::Denied { .. })));
    assert!(matches!(g.audit_trail(1), Err(Error::Denied { .. })));
    assert!(matches!(g.stats(), Err(Error::Denied { .. })));
    assert_eq!(g.count().unwrap(), 2, "the team's dossiers");
    assert_eq!(g.customers(None, 10).unwrap().len(), 2);
}

#[test]
fn a_principals_book_cannot_hand_out_other_principals() {
    let s = shop();
    let p = policy();
    let sales = s.book.as_principal(who("li", &["sales"]), &p).unwrap();
    let admin =
        Policy::from_toml("[roles.admin]\noperations = [\"read\", \"export\"]\nscope = \"all\"\n")
            .unwrap();
    match sales.as_principal(who("li", &["admin"]), &admin) {
        Err(Error::Denied { user, operation }) => {
            assert_eq!(user, "li");
            assert!(operation.contains("as_principal"), "{operation}");
        }
        other => panic!(
            "escalation allowed: {:?}",
            other.map(|b| b.principal().cloned())
        ),
    }
    // The owner's book still can.
    let admin_book = s.book.as_principal(who("li", &["admin"]), &admin).unwrap();
    assert!(admin_book.get(s.wang.id).is_ok());
}

#[test]
fn national_identifiers_show_masked_unless_a_role_names_them() {
    let book = Book::in_memory();
    let mut c = Customer::person_named("张伟");
    c.owner = Some("li".into());
    c.birth_date = NaiveDate::from_ymd_opt(1949, 12, 31);
    c.resident_id = Some("11010519491231002X".into());
    c.credit_code = Some("91350100M000100Y43".into());
    let id = book.add(c).unwrap().customer.id;
    // A role whose default is visible still shows the identifiers masked.
    let open = Policy::from_toml(
        "[roles.all]\noperations = [\"read\", \"update\", \"export\"]\nscope = \"all\"\ndefault = \"visible\"\n",
    )
    .unwrap();
    let g = book.as_principal(who("li", &["all"]), &open).unwrap();
    let seen = g.get(id).unwrap();
    assert_eq!(seen.resident_id.as_deref(), Some("110***********002X"));
    assert_eq!(seen.credit_code.as_deref(), Some("913***********0Y43"));
    assert_eq!(seen.name.full.as_deref(), Some("张伟"));
    // Masked, they are not looked up by (a lookup would confirm a guess).
    assert!(matches!(
        g.find_by_resident_id("11010519491231002X"),
        Err(Error::Denied { .. })
    ));
    let mut out = Vec::new();
    g.export(&mut out, &ExportOptions::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("110***********002X") && !text.contains("11010519491231002X"));
    // An update of what was shown keeps the stored values.
    let mut shown = g.get(id).unwrap();
    shown.job_title = Some("采购".into());
    g.update(shown).unwrap();
    let stored = book.get(id).unwrap();
    assert_eq!(stored.resident_id.as_deref(), Some("11010519491231002X"));
    assert_eq!(stored.credit_code.as_deref(), Some("91350100M000100Y43"));
    // A role that names the field shows it whole, and may look it up.
    let named = Policy::from_toml(
        "[roles.kyc]\noperations = [\"read\"]\nscope = \"all\"\ndefault = \"visible\"\nfields = { \"身份证号\" = \"visible\" }\n",
    )
    .unwrap();
    let k = book.as_principal(who("li", &["kyc"]), &named).unwrap();
    let seen = k.get(id).unwrap();
    assert_eq!(seen.resident_id.as_deref(), Some("11010519491231002X"));
    assert_eq!(seen.credit_code.as_deref(), Some("913***********0Y43"));
    assert_eq!(
        k.find_by_resident_id("11010519491231002x").unwrap().len(),
        1
    );
}
