//! Duplicates in a book: the check at entry, a dedupe of the book, merge
//! with survivorship, and unmerge.

mod common;
use common::resident_id;

use chrono::NaiveDate;
use kehu::dedupe::Settings;
use kehu::{
    Address, Book, Currency, Customer, DuplicateAction, Error, Money, Purchase, RuleSet, Rules,
    Survivorship, SurvivorshipRule,
};
use proptest::prelude::*;

const GIVEN: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Karl",
    "Lena", "Max", "Nora", "Oskar", "Paula", "Quinn", "Rosa", "Sven", "Tara",
];
const FAMILY: &[&str] = &[
    "Meyer", "Schulz", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf",
    "Neumann", "Braun", "Zimmer", "Krause", "Hartmann", "Lange", "Werner",
];

/// A book of `n` distinct customers (no two share a name, e-mail, phone
/// or birth date).
fn book_of(n: usize) -> Book {
    let book = Book::in_memory();
    let customers = (0..n).map(|i| person(i, ""));
    book.add_many(customers).unwrap();
    book
}

fn person(i: usize, variant: &str) -> Customer {
    let given = GIVEN[i % GIVEN.len()];
    let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
    let mut c = Customer::person(format!("{given}{variant}"), family)
        .with_email(format!(
            "{}.{}{i}@example.de",
            given.to_lowercase(),
            family.to_lowercase()
        ))
        .with_phone(format!("+49 151 {:07}", 1_000_000 + i * 7919 % 8_999_999));
    c.birth_date = NaiveDate::from_ymd_opt(
        1950 + (i % 50) as i32,
        1 + (i % 12) as u32,
        1 + (i % 28) as u32,
    );
    c.addresses.push(Address {
        street: Some(format!("{} Hauptstraße", 1 + i % 90)),
        city: Some("Berlin".into()),
        postcode: Some(format!("{:05}", 10_000 + i)),
        country: Some("DE".into()),
        ..Address::default()
    });
    c
}

#[test]
fn the_entry_check_finds_a_typo_and_respects_the_thresholds() {
    let book = book_of(300);
    // Customer 42 again, the given name typed with a slip and the phone written nationally.
    let mut again = person(42, "");
    again.name.given = Some("Fleix".into());
    let candidates = book.check_duplicates(&again).unwrap();
    let first = &candidates[0];
    assert_eq!(
        first.action,
        DuplicateAction::Block,
        "{}",
        first.explanation
    );
    let original = book.find_by_email(&again.emails[0].address).unwrap()[0].id;
    assert_eq!(first.id, original);
    assert!(first
        .explanation
        .fields
        .iter()
        .any(|f| f.field == "given_name" && f.level != "exact"));
    // Book::add refuses it, naming the original; add_allowing_duplicates does not.
    match book.add(again.clone()) {
        Err(Error::Duplicate { candidates }) => assert_eq!(candidates[0].id, original),
        other => panic!("expected a duplicate error, got {other:?}"),
    }
    let before = book.count().unwrap();
    book.add_allowing_duplicates(again.clone()).unwrap();
    assert_eq!(book.count().unwrap(), before + 1);

    // A different person with the same family name and city is allowed.
    let stranger = Customer::person("Zoltan", FAMILY[0]).with_email("zoltan@example.hu");
    let found = book.check_duplicates(&stranger).unwrap();
    assert!(
        found.iter().all(|c| c.action == DuplicateAction::Allow),
        "{found:?}"
    );
    assert!(book.add(stranger).is_ok());
}

#[test]
fn thresholds_come_from_the_settings_of_the_last_dedupe() {
    let book = book_of(300);
    let mut near = person(7, "");
    near.emails.clear();
    near.phones.clear();
    near.name.given = Some("Hugh".into()); // Hugo, a different given name
                                           // With a match threshold no probability reaches, nothing is blocked.
    let strict = Settings {
        match_threshold: 1.0,
        review_threshold: 1.0,
        ..Settings::default()
    };
    book.dedupe(&strict, &mut |_| {}).unwrap();
    let found = book.check_duplicates(&near).unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(|c| c.action == DuplicateAction::Allow));
}

#[test]
fn a_book_dedupe_finds_clusters_and_explains_them() {
    let book = book_of(200);
    let dup = book
        .add_allowing_duplicates(person(3, ""))
        .unwrap()
        .customer;
    let mut typo = person(3, "");
    typo.name.family = Some("Schlz".into());
    typo.emails.clear();
    let typo = book.add_allowing_duplicates(typo).unwrap().customer;
    let out = book.dedupe(&Settings::default(), &mut |_| {}).unwrap();
    assert_eq!(out.clusters.len(), 1, "{:?}", out.clusters);
    let cluster = &out.clusters[0];
    assert_eq!(cluster.len(), 3);
    assert!(cluster.contains(&dup.id) && cluster.contains(&typo.id));
    let why = book.explain_duplicate(dup.id, typo.id).unwrap();
    assert!(why.probability > 0.9, "{why}");
    let table = why.to_string();
    assert!(
        table.contains("family_name") && table.contains("schlz"),
        "{table}"
    );
}

/// A copy of a dossier with another version number (versions move on).
fn versioned(c: &Customer, version: u64) -> Customer {
    let mut c = c.clone();
    c.version = version;
    c
}

fn purchase(c: &Customer, cents: i64) -> Purchase {
    Purchase::new(c.id, c.created_at, Money::new(cents, Currency::EUR))
}

#[test]
fn merge_three_then_unmerge() {
    let book = book_of(50);
    let a = book
        .find_by_email("anna.meyer0@example.de")
        .unwrap()
        .remove(0);
    let mut b = person(0, "");
    b.emails[0].address = "a.meyer@example.de".into();
    b.job_title = Some("Einkauf".into());
    b.source = Some("erp".into());
    let b = book.add_allowing_duplicates(b).unwrap().customer;
    let mut c = person(0, "");
    c.tags = vec!["vip".into()];
    c.owner = Some("lena".into());
    let c = book.add_allowing_duplicates(c).unwrap().customer;
    book.relate(purchase(&b, 1999)).unwrap();
    book.relate(purchase(&c, 500)).unwrap();
    let count = book.count().unwrap();

    let mut policy = Survivorship::default();
    policy
        .fields
        .insert("owner".into(), SurvivorshipRule::Survivor);
    let ids = [a.id, b.id, c.id];
    let preview = book.merge(&ids, &policy, true).unwrap();
    assert!(preview.receipt.is_none());
    assert_eq!(book.count().unwrap(), count, "a dry run writes nothing");

    let merged = book.merge(&ids, &policy, false).unwrap();
    let mut expected = versioned(&preview.customer, merged.customer.version);
    expected.updated_at = merged.customer.updated_at;
    assert_eq!(merged.customer, expected);
    let m = book.get(a.id).unwrap();
    assert_eq!(m.emails.len(), 2, "e-mails are united");
    assert_eq!(m.tags, ["vip"]);
    assert_eq!(m.job_title.as_deref(), Some("Einkauf"));
    assert_eq!(m.owner, None, "the survivor's owner, though empty");
    assert_eq!(book.count().unwrap(), count - 2);
    assert_eq!(book.purchases(a.id).unwrap().len(), 2, "purchases moved");
    assert!(matches!(book.get(b.id), Err(Error::NotFound(_))));
    let receipt = merged.receipt.unwrap();
    assert_eq!(book.merges().unwrap(), vec![receipt.clone()]);

    let back = book.unmerge(receipt.id).unwrap();
    for (restored, original) in back.iter().zip([&a, &b, &c]) {
        assert_eq!(&versioned(restored, original.version), original);
    }
    assert_eq!(book.purchases(b.id).unwrap().len(), 1);
    assert_eq!(book.purchases(c.id).unwrap().len(), 1);
    assert_eq!(book.purchases(a.id).unwrap().len(), 0);
    assert_eq!(book.count().unwrap(), count);
    assert!(book.unmerge(receipt.id).is_err(), "undone once only");
}

#[test]
fn unmerge_refuses_when_the_survivor_changed() {
    let book = book_of(20);
    let a = book
        .add_allowing_duplicates(person(1, ""))
        .unwrap()
        .customer;
    let b = book.find_by_email(&a.emails[0].address).unwrap();
    let other = b.iter().find(|c| c.id != a.id).unwrap().id;
    let merged = book
        .merge(&[a.id, other], &Survivorship::default(), false)
        .unwrap();
    let mut changed = book.get(a.id).unwrap();
    changed.job_title = Some("changed".into());
    book.update(changed).unwrap();
    let receipt = merged.receipt.unwrap().id;
    assert!(matches!(book.unmerge(receipt), Err(Error::Conflict { .. })));
    assert!(
        matches!(book.get(other), Err(Error::NotFound(_))),
        "nothing undone"
    );
    assert!(book
        .merge(&[a.id], &Survivorship::default(), false)
        .is_err());
    assert!(book
        .merge(&[a.id, a.id], &Survivorship::default(), false)
        .is_err());
}

#[test]
fn a_merge_that_breaks_the_rules_is_refused() {
    let mut set = RuleSet::standard();
    set.default_region = Some("DE".into());
    let book = Book::with_store(Box::new(kehu::MemoryStore::new()), Rules::new(set).unwrap());
    let a = book
        .add_allowing_duplicates(person(1, ""))
        .unwrap()
        .customer;
    let b = book
        .add_allowing_duplicates(person(2, ""))
        .unwrap()
        .customer;
    let mut policy = Survivorship::default();
    policy.fields.insert(
        "birth_date".into(),
        SurvivorshipRule::Value("2999-01-01".into()),
    );
    assert!(matches!(
        book.merge(&[a.id, b.id], &policy, false),
        Err(Error::Invalid { .. })
    ));
    assert_eq!(book.count().unwrap(), 2);
}

#[test]
fn keys_survive_reopening_a_file_book() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.kehu");
    {
        let book = Book::open(&path).unwrap();
        book.add(person(5, "")).unwrap();
    }
    let book = Book::open(&path).unwrap();
    let mut again = person(5, "");
    again.emails.clear();
    again.phones.clear();
    let found = book.check_duplicates(&again).unwrap();
    assert_eq!(found.len(), 1, "found by name and birth date keys");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_global_rejects: 100_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Merging any valid dossiers and unmerging gives them back as they were.
    #[test]
    fn merge_then_unmerge_is_the_identity(
        customers in proptest::collection::vec(kehu_model::arbitrary::customer(), 2..8),
        default in prop_oneof![Just(SurvivorshipRule::MostRecent), Just(SurvivorshipRule::Oldest), Just(SurvivorshipRule::MostComplete), Just(SurvivorshipRule::Survivor)],
    ) {
        let mut set = RuleSet::standard();
        set.severity.unknown_custom = kehu::Severity::Warning;
        let book = Book::with_store(Box::new(kehu::MemoryStore::new()), Rules::new(set).unwrap());
        let mut saved = Vec::new();
        for c in customers {
            if let Ok(s) = book.add_allowing_duplicates(c) {
                saved.push(s.customer);
            }
        }
        prop_assume!(saved.len() >= 2);
        let ids: Vec<_> = saved.iter().map(|c| c.id).collect();
        let policy = Survivorship { default, ..Survivorship::default() };
        let Ok(merged) = book.merge(&ids, &policy, false) else {
            // The merged dossier may break the rules (too large, say): then nothing changed.
            for c in &saved {
                prop_assert_eq!(&book.get(c.id).unwrap(), c);
            }
            return Ok(());
        };
        let back = book.unmerge(merged.receipt.unwrap().id).unwrap();
        for (restored, original) in back.iter().zip(&saved) {
            prop_assert_eq!(&versioned(restored, original.version), original);
        }
    }
}

#[test]
fn imported_dossiers_are_keyed_at_the_next_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,first_name,last_name,birthday,city\n");
    for i in 0..250 {
        let c = person(i, "");
        csv.push_str(&format!(
            "E{i},{},{},{},Berlin\n",
            c.name.given.unwrap(),
            c.name.family.unwrap(),
            c.birth_date.unwrap()
        ));
    }
    let file = dir.path().join("people.csv");
    std::fs::write(&file, csv).unwrap();
    let memory = Book::in_memory();
    let on_disk = Book::open(dir.path().join("b.kehu")).unwrap();
    for book in [&memory, &on_disk] {
        let report = book
            .import_file(&file, &kehu::io::ImportOptions::default())
            .unwrap();
        assert_eq!(report.imported, 250);
        // No e-mail, no phone: only the keys the check writes can find it.
        let mut again = person(77, "");
        again.emails.clear();
        again.phones.clear();
        let found = book.check_duplicates(&again).unwrap();
        let original = book.find_by_external_id("E77").unwrap()[0].id;
        assert_eq!(found.first().map(|c| c.id), Some(original));
        assert_eq!(book.index_duplicates().unwrap(), 250);
    }
}

#[test]
fn erasure_follows_merges() {
    let book = Book::in_memory();
    let survivor = book
        .add_allowing_duplicates(Customer::person("Wei", "Zhang").with_email("wei@example.cn"))
        .unwrap()
        .customer;
    let canary = "canary.7f3a@example.cn";
    let gone = book
        .add_allowing_duplicates(
            Customer::person("Wei", "Zhang")
                .with_email(canary)
                .with_phone("+86 139 0000 7777"),
        )
        .unwrap()
        .customer;
    let other = book
        .add_allowing_duplicates(Customer::person("Li", "Na").with_email("li.na@example.cn"))
        .unwrap()
        .customer;
    let merged = book
        .merge(&[survivor.id, gone.id], &Survivorship::default(), false)
        .unwrap();
    let receipt = merged.receipt.unwrap();
    assert!(format!("{:?}", book.merge_receipt(receipt.id).unwrap()).contains(canary));
    // The merged-away id lives on in the survivor: refused, naming it.
    match book.forget(gone.id) {
        Err(kehu::Error::Usage(m)) => {
            assert!(m.contains(&survivor.id.to_string()), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(book
        .get(survivor.id)
        .unwrap()
        .emails
        .iter()
        .any(|e| e.address == canary));
    // Forgetting the survivor erases what was merged into it, history and all.
    book.forget(survivor.id).unwrap();
    let erased: Vec<_> = book.erasures().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(erased, vec![survivor.id, gone.id]);
    assert!(book.history(gone.id).unwrap().is_empty());
    assert!(matches!(
        book.merge_receipt(receipt.id),
        Err(kehu::Error::MergeNotFound(_))
    ));
    let left = format!(
        "{:?} {:?}",
        book.merges().unwrap(),
        book.customers(None, 10).unwrap()
    );
    assert!(
        !left.contains("canary.7f3a") && !left.contains("8613900007777"),
        "{left}"
    );
    assert!(book.get(other.id).is_ok());

    // After an unmerge, the merged-away dossier is its own again: forgotten alone.
    let a = book
        .add_allowing_duplicates(Customer::person("Fang", "Liu").with_email("f1@example.cn"))
        .unwrap()
        .customer;
    let b = book
        .add_allowing_duplicates(Customer::person("Fang", "Liu").with_email("f2@example.cn"))
        .unwrap()
        .customer;
    let r = book
        .merge(&[a.id, b.id], &Survivorship::default(), false)
        .unwrap()
        .receipt
        .unwrap();
    book.unmerge(r.id).unwrap();
    book.forget(b.id).unwrap();
    assert!(book.get(a.id).is_ok());
    let receipt = format!("{:?}", book.merge_receipt(r.id).unwrap());
    assert!(!receipt.contains("f2@example.cn"), "{receipt}");
}

#[test]
fn a_resident_id_identifies_a_customer_and_tells_namesakes_apart() {
    // A book of Chinese customers, each with a resident ID.
    let book = Book::in_memory();
    let people: Vec<Customer> = (0..200)
        .map(|i| {
            let born = NaiveDate::from_ymd_opt(
                1960 + (i % 40) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            )
            .unwrap();
            let mut c = Customer::person_named(format!(
                "{}{}",
                ["张", "王", "李", "赵"][i % 4],
                ["伟", "芳", "娜", "敏", "静"][i / 4 % 5].repeat(1 + i / 20 % 2)
            ))
            .with_phone(format!("139{:08}", 10_000_000 + i * 7_919));
            c.birth_date = Some(born);
            c.resident_id = Some(resident_id(&format!(
                "440305{}{:03}",
                born.format("%Y%m%d"),
                i
            )));
            c
        })
        .collect();
    book.add_many(people.clone()).unwrap();
    // The same customer, typed again under another spelling of the name
    // with nothing else but the ID: found by the ID.
    let mut again = Customer::person("Wei", "Zhang");
    again.resident_id = people[0].resident_id.as_ref().map(|r| r.to_lowercase());
    let found = book.check_duplicates(&again).unwrap();
    let first = found.first().expect("found by the resident ID");
    assert_eq!(
        first.id,
        book.find_by_resident_id(people[0].resident_id.as_deref().unwrap())
            .unwrap()[0]
            .id
    );
    assert!(
        first
            .explanation
            .fields
            .iter()
            .any(|f| f.field == "resident_id" && f.level == "exact"),
        "{}",
        first.explanation
    );
    assert_ne!(
        first.action,
        DuplicateAction::Allow,
        "{}",
        first.explanation
    );
    // A namesake born the same day with another ID is another person: the
    // differing ID outweighs the shared name and birth date.
    let mut namesake = Customer::person_named(people[7].name.full.clone().unwrap());
    namesake.birth_date = people[7].birth_date;
    namesake.resident_id = Some(resident_id(&format!(
        "310115{}{:03}",
        namesake.birth_date.unwrap().format("%Y%m%d"),
        999
    )));
    let found = book.check_duplicates(&namesake).unwrap();
    assert!(
        found.iter().all(|c| c.action == DuplicateAction::Allow),
        "{found:?}"
    );
    let vetoed = found.iter().find(|c| c.explanation.veto.is_some());
    assert_eq!(
        vetoed.and_then(|c| c.explanation.veto.as_deref()),
        Some("resident_id differs"),
        "{found:?}"
    );
    // Without the ID the same namesake is a possible duplicate: the test bites.
    namesake.resident_id = None;
    let found = book.check_duplicates(&namesake).unwrap();
    assert!(
        found.iter().any(|c| c.action != DuplicateAction::Allow),
        "{found:?}"
    );
}
