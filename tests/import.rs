//! Import and export through the library: round trips, journals, and input
//! that is not what it should be.

use std::io::Cursor;

use kehu::io::{ExportOptions, Format, ImportOptions, Mode, Progress};
use kehu::{Book, Customer, MemoryStore, RuleSet, Rules, Severity};
use proptest::prelude::*;

/// Rules that let random custom fields in (as warnings), so they travel too.
fn rules() -> Rules {
    let mut set = RuleSet::standard();
    set.severity.unknown_custom = Severity::Warning;
    Rules::new(set).unwrap()
}

fn book() -> Book {
    Book::with_store(Box::new(MemoryStore::new()), rules())
}

fn export(book: &Book, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = ExportOptions {
        format,
        ..ExportOptions::default()
    };
    book.export(&mut out, &opts).unwrap();
    out
}

fn import(book: &Book, bytes: &[u8], name: &str, opts: &ImportOptions) -> kehu::io::ImportReport {
    book.import_reader(
        Box::new(Cursor::new(bytes.to_vec())),
        name,
        Some(bytes.len() as u64),
        opts,
        &mut |_| {},
    )
    .unwrap()
}

/// A book holding a plain customer and those of `customers` that the rules accept.
fn book_of(customers: Vec<Customer>) -> Book {
    let book = book();
    let plain = Customer::person("Wei", "Zhang").with_email("wei@example.com");
    for c in std::iter::once(plain).chain(customers) {
        if book.validate(&c).is_ok() {
            book.add(c).unwrap();
        }
    }
    book
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Export → import into an empty book → export gives the same CSV file.
    #[test]
    fn csv_export_is_a_fixed_point(customers in proptest::collection::vec(kehu_model::arbitrary::customer(), 1..6)) {
        let first = book_of(customers);
        let a = export(&first, Format::Csv);
        let second = book();
        let report = import(&second, &a, "export.csv", &ImportOptions::default());
        prop_assert_eq!(report.rejected, 0, "{:?}", report.problems);
        prop_assert_eq!(report.imported, first.count().unwrap());
        let b = export(&second, Format::Csv);
        prop_assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
    }

    /// JSON Lines carries whole dossiers: the copy equals the original.
    #[test]
    fn jsonl_export_copies_dossiers_exactly(customers in proptest::collection::vec(kehu_model::arbitrary::customer(), 1..6)) {
        let first = book_of(customers);
        let a = export(&first, Format::Jsonl);
        let second = book();
        let report = import(&second, &a, "export.jsonl", &ImportOptions::default());
        prop_assert_eq!(report.rejected, 0, "{:?}", report.problems);
        let originals: Vec<Customer> = first.snapshot().unwrap().customers().unwrap().map(Result::unwrap).collect();
        let copies: Vec<Customer> = second.snapshot().unwrap().customers().unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(originals, copies);
        prop_assert_eq!(export(&second, Format::Jsonl), a);
    }

    /// Any bytes at all: a report whose counts add up, or one clear error; never a panic.
    #[test]
    fn any_input_is_reported_not_panicked_on(bytes in proptest::collection::vec(any::<u8>(), 0..600), jsonl in any::<bool>()) {
        let book = book();
        let name = if jsonl { "x.jsonl" } else { "x.csv" };
        let opts = ImportOptions { dry_run: false, ..ImportOptions::default() };
        match book.import_reader(Box::new(Cursor::new(bytes)), name, None, &opts, &mut |_| {}) {
            Ok(report) => {
                prop_assert!(report.balances());
                prop_assert_eq!(book.count().unwrap(), report.imported);
            }
            Err(e) => prop_assert!(matches!(e, kehu::Error::Input { .. }), "{e}"),
        }
    }
}

#[test]
fn progress_is_reported_and_counts_balance() {
    let mut csv = String::from("id,name,email\n");
    for i in 0..2_500 {
        csv.push_str(&format!("{i},Name {i},n{i}@example.com\n"));
    }
    csv.push_str("7,Again,again@example.com\n");
    let book = book();
    let opts = ImportOptions {
        batch_size: 1_000,
        ..ImportOptions::default()
    };
    let mut seen: Vec<Progress> = Vec::new();
    let report = book
        .import_reader(
            Box::new(Cursor::new(csv.clone().into_bytes())),
            "x.csv",
            Some(csv.len() as u64),
            &opts,
            &mut |p| seen.push(p),
        )
        .unwrap();
    assert!(report.balances());
    assert_eq!((report.imported, report.duplicates_in_file), (2_500, 1));
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen
        .windows(2)
        .all(|w| w[0].rows <= w[1].rows && w[0].bytes <= w[1].bytes));
    let last = seen.last().unwrap();
    assert_eq!(
        (last.rows, last.rows_total, last.bytes_total),
        (2_501, Some(2_501), Some(csv.len() as u64))
    );
    let summary = &book.imports().unwrap()[0];
    assert_eq!(summary.imported, 2_500);
    assert_eq!(summary.batches, 3);
}

#[test]
fn update_mode_changes_only_what_the_file_has() {
    let book = book();
    let saved = book
        .add(
            Customer::person("伟", "张")
                .with_email("wei@example.com")
                .with_tag("VIP"),
        )
        .unwrap()
        .customer;
    let mut c = saved.clone();
    c.external_id = Some("C1".into());
    book.update(c).unwrap();
    let file =
        "external_id,job_title,email,tags\nC1,经理,zhang.wei@example.com,老客户\nC2,Boss,,\n";
    let opts = ImportOptions {
        mode: Mode::Update,
        ..ImportOptions::default()
    };
    let r = import(&book, file.as_bytes(), "u.csv", &opts);
    assert_eq!((r.updated, r.skipped), (1, 1), "{:?}", r.problems);
    assert_eq!(r.problems[0].code, "not_found");
    let now = book.get(saved.id).unwrap();
    assert_eq!(now.job_title.as_deref(), Some("经理"));
    assert_eq!(now.name, saved.name);
    let emails: Vec<&str> = now.emails.iter().map(|e| e.address.as_str()).collect();
    assert_eq!(emails, ["wei@example.com", "zhang.wei@example.com"]);
    assert_eq!(now.tags, ["VIP", "老客户"]);
    // The change log says who changed what.
    let last = book.history(saved.id).unwrap().pop().unwrap();
    assert!(last.actor.contains("import"), "{}", last.actor);
    assert!(last.fields.iter().any(|f| f.path == "job_title"));
}

#[test]
fn a_key_shared_by_two_customers_is_ambiguous() {
    let book = book();
    for given in ["A", "B"] {
        // One family, one shared address: two dossiers on purpose.
        book.add_allowing_duplicates(
            Customer::person(given, "Lee").with_email("family@example.com"),
        )
        .unwrap();
    }
    let opts = ImportOptions {
        mode: Mode::Upsert,
        keys: vec![kehu::io::NaturalKey::Email],
        ..ImportOptions::default()
    };
    let r = import(
        &book,
        b"email,title\nfamily@example.com,CEO\n",
        "k.csv",
        &opts,
    );
    assert_eq!(r.rejected, 1);
    assert_eq!(r.problems[0].code, "key.ambiguous");
}

/// The export a Chinese CRM writes: Chinese headers, no country column.
const CHINESE_CRM: &str = "姓名,手机,城市,邮编,生日,邮箱\n\
张伟,13800138000,北京,100000,1985-03-12,zhang.wei@163.com\n\
李娜,139-1234-5678,上海市,200000,1990-07-01,lina@example.com\n\
王芳,150 1234 5678,,,1988-01-02,\n\
Hans Müller,030 901820,Berlin,10115,1970-05-05,hans@example.de\n\
Anna Smith,020 7946 0018,London,SW1A 1AA,1980-01-01,anna@example.com\n\
Kenji Sato,03-1234-5678,,,1975-02-02,kenji@example.jp\n\
欧阳娜娜,186 1234 5678,深圳,518000,2000-06-15,\n";

#[test]
fn a_chinese_crm_export_gets_every_number_in_its_own_region_without_configuration() {
    let book = Book::in_memory();
    let report = import(
        &book,
        CHINESE_CRM.as_bytes(),
        "crm.csv",
        &ImportOptions::default(),
    );
    assert_eq!((report.imported, report.rejected), (7, 0), "{report:?}");
    let by_name = |name: &str| {
        let all = book.customers(None, 100).unwrap();
        all.into_iter()
            .find(|c| c.name.full.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}"))
    };
    for (name, e164) in [
        ("张伟", "+8613800138000"),
        ("李娜", "+8613912345678"),
        ("王芳", "+8615012345678"),
        ("Hans Müller", "+4930901820"),
        ("Anna Smith", "+442079460018"),
        ("Kenji Sato", "+81312345678"),
        ("欧阳娜娜", "+8618612345678"),
    ] {
        assert_eq!(by_name(name).phones[0].number, e164, "{name}");
    }
    // One name column: family and given name split, the full name kept.
    for (full, family, given, how) in [
        ("欧阳娜娜", "欧阳", "娜娜", kehu::NameSplit::Certain),
        ("张伟", "张", "伟", kehu::NameSplit::Certain),
        ("Hans Müller", "Müller", "Hans", kehu::NameSplit::Likely),
    ] {
        let n = by_name(full).name;
        assert_eq!(
            (n.family.as_deref(), n.given.as_deref(), n.split),
            (Some(family), Some(given), Some(how)),
            "{full}"
        );
    }
    assert!(
        report.problems.iter().all(|p| p.code != "format.phone"),
        "{:?}",
        report.problems
    );
    // A lookup by the number as typed finds it (the same inference).
    assert_eq!(book.find_by_phone("138 0013 8000").unwrap().len(), 1);
    // What decided is in the report of a write.
    let saved = book
        .add_allowing_duplicates(
            Customer::person("Li", "Lei")
                .with_phone("021 6888 8888")
                .with_address(kehu::Address {
                    city: Some("上海".into()),
                    ..Default::default()
                }),
        )
        .unwrap();
    let region = saved.report.region.unwrap();
    assert_eq!(
        (region.region.as_str(), region.clue),
        ("CN", kehu::Clue::City)
    );
    assert_eq!(saved.customer.phones[0].number, "+862168888888");
    // Each clue can be turned off: without them the numbers stay as typed.
    let mut set = RuleSet::standard();
    set.infer_region = kehu::InferRegion {
        address_country: false,
        place: false,
        postcode: false,
        email: false,
        number: false,
    };
    let plain = Book::with_store(Box::new(MemoryStore::new()), Rules::new(set).unwrap());
    let report = import(
        &plain,
        CHINESE_CRM.as_bytes(),
        "crm.csv",
        &ImportOptions::default(),
    );
    let kept: Vec<_> = plain
        .customers(None, 100)
        .unwrap()
        .into_iter()
        .filter(|c| !c.phones[0].number.starts_with('+'))
        .collect();
    assert_eq!(kept.len(), 7, "{report:?}");
}

/// A Chinese CRM export with the two identifiers every customer file
/// carries: resident IDs of people, credit codes of companies.
const CHINESE_IDS: &str = "姓名,手机,身份证号,生日,企业名称,税号\n\
张伟,13800138000,11010519491231002x,1949-12-31,,\n\
李娜,13912345678,440305900307123,,,\n\
王芳,15012345678,440305199003071237,,,\n\
赵敏,15112345678,110105199002301231,,,\n\
陈静,15212345678,310115198511204566,1985-11-21,,\n\
刘洋,15312345678,990105194912310023,,,\n\
孙丽,15412345678,440305203003071235,,,\n\
,13612345678,,,深圳市前海科技有限公司,91440300 ma5f0abc1d\n\
,13712345678,,,上海浦江贸易有限公司,91440300MA5F0ABC1E\n";

#[test]
fn resident_ids_and_credit_codes_are_checked_on_their_lines_and_kept_in_their_canonical_form() {
    let book = Book::in_memory();
    let report = import(
        &book,
        CHINESE_IDS.as_bytes(),
        "ids.csv",
        &ImportOptions::default(),
    );
    let at = |line: u64| -> Vec<(&str, kehu::rules::Severity, Option<&str>)> {
        report
            .problems
            .iter()
            .filter(|p| p.line == line)
            .map(|p| (p.code.as_str(), p.severity, p.column.as_deref()))
            .collect()
    };
    use kehu::rules::Severity::{Error, Warning};
    // Wrong check digit, impossible embedded date, no such region, a birth
    // date ahead: each rejected on its own line, its column named.
    assert_eq!(at(4), [("id.check", Error, Some("身份证号"))], "{report:?}");
    assert_eq!(at(5), [("id.date", Error, Some("身份证号"))]);
    assert_eq!(at(7), [("id.region", Error, Some("身份证号"))]);
    assert_eq!(at(8), [("id.date", Error, Some("身份证号"))]);
    assert_eq!(at(10), [("id.check", Error, Some("税号"))]);
    // A birth date that disagrees with the one inside the ID is a warning.
    assert_eq!(at(6), [("id.birth_date", Warning, Some("身份证号"))]);
    // Valid ones are not reported (an organisation without an industry is, as ever).
    for line in [2, 3, 9] {
        let ids: Vec<_> = at(line)
            .into_iter()
            .filter(|p| p.0.starts_with("id."))
            .collect();
        assert!(ids.is_empty(), "line {line}: {ids:?}");
    }
    assert_eq!((report.imported, report.rejected), (4, 5), "{report:?}");
    // Kept in their canonical form: `x` as `X`, a 15-digit number upgraded,
    // a credit code without spaces in capitals; found by any form of it.
    let one = |v: Vec<Customer>| {
        assert_eq!(v.len(), 1, "{v:?}");
        v.into_iter().next().unwrap()
    };
    let zhang = one(book.find_by_resident_id("11010519491231002x").unwrap());
    assert_eq!(zhang.resident_id.as_deref(), Some("11010519491231002X"));
    let li = one(book.find_by_resident_id("440305900307123").unwrap());
    assert_eq!(li.resident_id.as_deref(), Some("440305199003071236"));
    assert_eq!(li.name.full.as_deref(), Some("李娜"));
    let firm = one(book
        .find_by("统一社会信用代码", "91440300MA5F0ABC1D")
        .unwrap());
    assert_eq!(firm.kind, kehu::Kind::Organization);
    assert_eq!(firm.credit_code.as_deref(), Some("91440300MA5F0ABC1D"));
    // Exported under their catalogue names, and read back by them.
    let mut out = Vec::new();
    book.export(&mut out, &Default::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert!(header.contains(&"resident_id") && header.contains(&"credit_code"));
    assert!(text.contains("440305199003071236") && text.contains("91440300MA5F0ABC1D"));
    // An upsert keyed by the resident ID finds the dossier by it.
    let again = "身份证号,职位\n440305900307123,采购经理\n";
    let opts = ImportOptions {
        mode: kehu::io::Mode::Upsert,
        keys: vec![kehu::io::NaturalKey::ResidentId],
        ..ImportOptions::default()
    };
    let up = import(&book, again.as_bytes(), "again.csv", &opts);
    assert_eq!((up.updated, up.imported), (1, 0), "{up:?}");
    let li = one(book.find_by_resident_id("440305199003071236").unwrap());
    assert_eq!(li.job_title.as_deref(), Some("采购经理"));
}

#[test]
fn chinese_addresses_import_into_province_city_district_and_street() {
    let book = Book::in_memory();
    let file = "姓名,地址,城市,区县\n\
                张伟,广东省深圳市南山区科技园路1号,,\n\
                李娜,科技园路2号,深圳,南山区\n\
                王芳,福田区福华路3号,深圳,\n\
                赵敏,阳光小区3栋201,深圳,\n";
    let report = import(
        &book,
        file.as_bytes(),
        "addr.csv",
        &ImportOptions::default(),
    );
    assert_eq!(report.imported, 4, "{report:?}");
    let parts = |name: &str| {
        let c = book
            .customers(None, 10)
            .unwrap()
            .into_iter()
            .find(|c| c.name.full.as_deref() == Some(name))
            .unwrap();
        let a = c.addresses[0].clone();
        (a.region, a.city, a.district, a.street)
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        parts("张伟"),
        (s("广东省"), s("深圳市"), s("南山区"), s("科技园路1号"))
    );
    assert_eq!(
        parts("李娜"),
        (None, s("深圳"), s("南山区"), s("科技园路2号"))
    );
    assert_eq!(
        parts("王芳"),
        (None, s("深圳"), s("福田区"), s("福华路3号"))
    );
    assert_eq!(parts("赵敏"), (None, s("深圳"), None, s("阳光小区3栋201")));
    // Exported under `district`, and segments test it.
    let mut out = Vec::new();
    book.export(&mut out, &Default::default()).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .contains(",district,"));
    let seg = book.segment("区县 = \"南山区\"").unwrap();
    assert_eq!(book.segment_count(&seg, None).unwrap(), 2);
}

/// Rows of text under column names, as a DataFrame hands them over.
fn text_rows(rows: &[&[&str]]) -> kehu::io::TextRows {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    Box::new(rows.into_iter().map(Ok))
}

#[test]
fn a_table_of_rows_imports_as_its_csv_would() {
    let headers: Vec<String> = ["姓名", "手机", "邮箱", "生日"].map(String::from).to_vec();
    let rows: &[&[&str]] = &[
        &["张伟", "13812345678", "zhang.wei@163.com", "1988-02-29"],
        &["李娜", "13912345678", "li.na@@qq", "1990-01-01"],
        &["王芳", "", "", ""],
    ];
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let options = ImportOptions {
        rejects: Some(rejects.clone()),
        ..Default::default()
    };
    let from_rows = book();
    let report = from_rows
        .import_rows(&headers, text_rows(rows), "frame", &options, &mut |_| {})
        .unwrap();
    assert_eq!((report.rows, report.imported, report.rejected), (3, 2, 1));
    let bad = report
        .problems
        .iter()
        .find(|p| p.code == "format.email")
        .unwrap();
    assert_eq!(bad.line, 3, "line 1 is the header, as in the file");
    assert_eq!(bad.column.as_deref(), Some("邮箱"));
    let kept = std::fs::read_to_string(&rejects).unwrap();
    assert!(kept.starts_with("姓名,手机,邮箱,生日"), "{kept}");
    assert!(kept.contains("li.na@@qq"), "{kept}");

    // The same table as CSV imports the same dossiers.
    let csv: String = std::iter::once(headers.join(","))
        .chain(rows.iter().map(|r| r.join(",")))
        .collect::<Vec<_>>()
        .join("\n");
    let from_csv = book();
    let csv_report = import(
        &from_csv,
        csv.as_bytes(),
        "frame.csv",
        &ImportOptions::default(),
    );
    assert_eq!(
        (csv_report.imported, csv_report.rejected),
        (report.imported, report.rejected)
    );
    let plain = |b: &Book| {
        let mut people: Vec<(Option<String>, Vec<String>, Option<chrono::NaiveDate>)> = b
            .customers(None, 10)
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.name.full.clone(),
                    c.phones.iter().map(|p| p.number.clone()).collect(),
                    c.birth_date,
                )
            })
            .collect();
        people.sort();
        people
    };
    assert_eq!(plain(&from_rows), plain(&from_csv));
}

#[test]
fn a_table_of_rows_refuses_the_options_of_files_and_reports_a_broken_stream() {
    let headers = vec!["name".to_string()];
    let options = ImportOptions {
        format: Some(Format::Jsonl),
        ..Default::default()
    };
    let b = book();
    assert!(matches!(
        b.import_rows(
            &headers,
            text_rows(&[&["张伟"]]),
            "frame",
            &options,
            &mut |_| {}
        ),
        Err(kehu::Error::InvalidOption { .. })
    ));
    let broken: kehu::io::TextRows = Box::new(
        vec![
            Ok(vec!["张伟".to_string()]),
            Err("the stream broke".to_string()),
        ]
        .into_iter(),
    );
    let err = b
        .import_rows(
            &headers,
            broken,
            "frame",
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("the stream broke"), "{err}");
    assert_eq!(b.count().unwrap(), 0, "nothing is half-written");
}
