//! One write pipeline: every way a dossier comes in is checked for
//! duplicates against the book and the records before it in the same
//! write, and the duplicate policy decides what happens — imports in every
//! mode, `add`, `add_many`, `update`.

use std::collections::HashMap;
use std::io::Cursor;

use kehu::io::{ImportOptions, ImportReport, Mode};
use kehu::{BatchOptions, Book, Customer, Error, OnDuplicate, WriteStatus};

const GIVEN: [&str; 24] = [
    "Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Anna", "Lukas", "Sofia", "Jonas",
    "Emma", "Noah", "Mia", "Elias", "Olivia", "Liam", "Maria", "David", "Sarah", "Tom", "Laura",
    "Ben",
];
const FAMILY: [&str; 24] = [
    "Zhang",
    "Wang",
    "Li",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
];
const STREETS: [&str; 8] = [
    "Nanjing Road",
    "Huaihai Road",
    "Hauptstrasse",
    "Bahnhofstrasse",
    "High Street",
    "Station Road",
    "Renmin Road",
    "Jiefang Road",
];
const CITIES: [&str; 6] = [
    "Shanghai", "Beijing", "Berlin", "Hamburg", "London", "Leeds",
];

/// One generated person: distinct from every other (own e-mail, phone,
/// street number), with a name others may share.
struct Person {
    given: &'static str,
    family: &'static str,
    email: String,
    /// Eight digits after the 138 of a mainland mobile number.
    phone: u32,
    birth: (u32, u32, u32),
    street: String,
    city: &'static str,
    postcode: String,
}

fn people(n: usize) -> Vec<Person> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let r = next();
            let given = GIVEN[(r % 24) as usize];
            let family = FAMILY[(r / 24 % 24) as usize];
            let city = CITIES[(r / 576 % 6) as usize];
            let r2 = next();
            Person {
                given,
                family,
                email: format!(
                    "{}.{}.{i}@example.com",
                    given.to_lowercase(),
                    family.to_lowercase()
                ),
                // Spread out, as real numbers are: no two a typo apart by construction.
                phone: 10_000_000 + (i as u64 * 7_919_233 % 89_999_989) as u32,
                birth: (
                    1950 + (r2 % 55) as u32,
                    1 + (r2 / 55 % 12) as u32,
                    1 + (r2 / 660 % 28) as u32,
                ),
                street: format!("{} {}", 1 + i % 997, STREETS[(r2 / 18_480 % 8) as usize]),
                city,
                postcode: format!("{:06}", 100_000 + (r2 / 147_840 % 800_000)),
            }
        })
        .collect()
}

/// People as a CSV file of these columns (`email`, `phone`, …), each value
/// written by `cell`.
fn csv(people: &[Person], columns: &[&str], cell: &dyn Fn(&Person, &str) -> String) -> Vec<u8> {
    let mut out = columns.join(",");
    out.push('\n');
    for p in people {
        let row: Vec<String> = columns.iter().map(|c| cell(p, c)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// Values as they were first entered.
fn plain(p: &Person, column: &str) -> String {
    match column {
        "given_name" => p.given.into(),
        "family_name" => p.family.into(),
        "email" => p.email.clone(),
        "phone" => format!("+86 138 {:04} {:04}", p.phone / 10_000, p.phone % 10_000),
        "birth_date" => format!("{}-{:02}-{:02}", p.birth.0, p.birth.1, p.birth.2),
        "street" => p.street.clone(),
        "city" => p.city.into(),
        "postcode" => p.postcode.clone(),
        other => panic!("no column {other}"),
    }
}

/// The same people as another system exports them: e-mails upper-cased,
/// phones written the national way, dates the Chinese way.
fn reformatted(p: &Person, column: &str) -> String {
    match column {
        "邮箱" => p.email.to_uppercase(),
        "手机" => format!("138-{:04}-{:04}", p.phone / 10_000, p.phone % 10_000),
        "出生日期" => format!("{}年{}月{}日", p.birth.0, p.birth.1, p.birth.2),
        "名" => p.given.into(),
        "姓" => p.family.into(),
        "城市" => p.city.into(),
        "街道" => p.street.clone(),
        "邮编" => p.postcode.clone(),
        other => panic!("no column {other}"),
    }
}

const COLUMNS: [&str; 8] = [
    "given_name",
    "family_name",
    "email",
    "phone",
    "birth_date",
    "street",
    "city",
    "postcode",
];
const CHINESE_COLUMNS: [&str; 8] = [
    "名",
    "姓",
    "邮箱",
    "手机",
    "出生日期",
    "街道",
    "城市",
    "邮编",
];

fn import(book: &Book, bytes: &[u8], options: &ImportOptions) -> ImportReport {
    book.import_reader(
        Box::new(Cursor::new(bytes.to_vec())),
        "people.csv",
        Some(bytes.len() as u64),
        options,
        &mut |_| {},
    )
    .unwrap()
}

fn book() -> Book {
    Book::in_memory()
}

/// Each dossier's id by its e-mail.
fn ids_by_email(book: &Book) -> HashMap<String, kehu::CustomerId> {
    book.customers(None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|c| (c.primary_email().unwrap().address.clone(), c.id))
        .collect()
}

#[test]
fn the_same_people_again_add_nothing_and_each_row_says_why() {
    let people = people(20_000);
    let book = book();
    let first = import(
        &book,
        &csv(&people, &COLUMNS, &plain),
        &ImportOptions::default(),
    );
    assert_eq!(first.imported, 20_000, "distinct people are not duplicates");
    assert_eq!(first.duplicates, 0);
    let ids = ids_by_email(&book);

    // Exported by another system: other headers, other formats, no id column.
    let again = csv(&people, &CHINESE_COLUMNS, &reformatted);
    let second = import(&book, &again, &ImportOptions::default());
    assert_eq!(second.rejected, 0, "{:?}", &second.problems[..3]);
    assert_eq!(second.imported, 0);
    assert_eq!(second.duplicates, 20_000);
    assert_eq!(second.skipped, 20_000);
    assert_eq!(book.count().unwrap(), 20_000);
    // Row by row: the dossier each duplicates, and a sentence saying so.
    assert_eq!(second.duplicate_rows.len(), 20_000);
    for (row, p) in second.duplicate_rows.iter().zip(&people) {
        assert_eq!(row.outcome, WriteStatus::Skipped);
        assert_eq!(row.candidates[0].id, ids[&p.email], "line {}", row.line);
        assert_eq!(row.candidates[0].line, None, "a dossier of the book");
    }
    let reasons: Vec<_> = second
        .problems
        .iter()
        .filter(|p| p.code == "duplicate")
        .collect();
    assert_eq!(reasons.len(), 20_000);
    assert!(
        reasons[0].message.contains("a sure duplicate of customer"),
        "{}",
        reasons[0].message
    );

    // The very same file twice: nothing more either.
    let third = import(
        &book,
        &csv(&people, &COLUMNS, &plain),
        &ImportOptions::default(),
    );
    assert_eq!((third.imported, third.duplicates), (0, 20_000));
    assert_eq!(book.count().unwrap(), 20_000);

    // The keys the imports kept find a copy at the first add.
    let p = &people[12_345];
    let mut copy = Customer::person(p.given, p.family).with_phone(plain(p, "phone"));
    copy.birth_date = chrono::NaiveDate::from_ymd_opt(p.birth.0 as i32, p.birth.1, p.birth.2);
    match book.add(copy) {
        Err(Error::Duplicate { candidates }) => assert_eq!(candidates[0].id, ids[&p.email]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rows_of_one_file_are_checked_against_the_rows_before_them() {
    let people = people(300);
    // The first hundred people once more at the end, written another way.
    let mut text = String::from_utf8(csv(&people, &COLUMNS, &plain)).unwrap();
    let copies = csv(&people[..100], &COLUMNS, &|p, c| match c {
        "email" => p.email.to_uppercase(),
        "phone" => format!("138-{:04}-{:04}", p.phone / 10_000, p.phone % 10_000),
        _ => plain(p, c),
    });
    let copies = String::from_utf8(copies).unwrap();
    text.push_str(copies.split_once('\n').unwrap().1);
    let bytes = text.into_bytes();

    let book = book();
    let report = import(&book, &bytes, &ImportOptions::default());
    assert_eq!((report.imported, report.duplicates), (300, 100));
    for (i, row) in report.duplicate_rows.iter().enumerate() {
        assert_eq!(row.line, 302 + i as u64);
        assert_eq!(
            row.candidates[0].line,
            Some(2 + i as u64),
            "the earlier row"
        );
    }

    // allow: everything written, nothing checked.
    let book = Book::in_memory();
    let options = ImportOptions {
        on_duplicate: OnDuplicate::Allow,
        ..ImportOptions::default()
    };
    let report = import(&book, &bytes, &options);
    assert_eq!((report.imported, report.duplicates), (400, 0));
}

#[test]
fn a_merge_import_merges_into_the_dossier_and_revert_undoes_it() {
    let people = people(500);
    let book = book();
    import(
        &book,
        &csv(&people, &COLUMNS, &plain),
        &ImportOptions::default(),
    );
    let ids = ids_by_email(&book);
    // The same people with their company, which the book lacks.
    let mut columns = COLUMNS.to_vec();
    columns.push("company");
    let with_company = csv(&people, &columns, &|p, c| match c {
        "company" => format!("{} Trading", p.family),
        "email" => p.email.to_uppercase(),
        _ => plain(p, c),
    });
    let options = ImportOptions {
        on_duplicate: OnDuplicate::Merge,
        ..ImportOptions::default()
    };
    let report = import(&book, &with_company, &options);
    assert_eq!((report.imported, report.merged), (0, 500));
    assert_eq!(book.count().unwrap(), 500);
    let merged = book.get(ids[&people[7].email]).unwrap();
    assert_eq!(
        merged.company,
        Some(format!("{} Trading", people[7].family))
    );
    assert!(report
        .duplicate_rows
        .iter()
        .all(|r| r.outcome == WriteStatus::Merged));

    book.revert_import(report.import_id.unwrap()).unwrap();
    assert_eq!(book.count().unwrap(), 500);
    assert_eq!(book.get(ids[&people[7].email]).unwrap().company, None);
}

#[test]
fn upserts_check_only_the_rows_they_create() {
    let people = people(200);
    let book = book();
    import(
        &book,
        &csv(&people, &COLUMNS, &plain),
        &ImportOptions::default(),
    );
    // Upsert by e-mail: the first 100 update their dossiers (a new city);
    // the next 100 come with new e-mails, so they are new rows by key —
    // and duplicates by everything else.
    let file = csv(&people, &COLUMNS, &|p, c| match c {
        "city" => "Suzhou".into(),
        "email" => {
            let n: usize = p
                .email
                .split('.')
                .nth(2)
                .unwrap()
                .split('@')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            if n < 100 {
                p.email.clone()
            } else {
                format!("new.{}", p.email)
            }
        }
        _ => plain(p, c),
    });
    let options = ImportOptions {
        mode: Mode::Upsert,
        keys: vec![kehu::io::NaturalKey::Email],
        ..ImportOptions::default()
    };
    let report = import(&book, &file, &options);
    assert_eq!(report.updated, 100);
    assert_eq!((report.imported, report.duplicates), (0, 100));
    assert_eq!(book.count().unwrap(), 200);
}

#[test]
fn add_many_reports_skips_merges_or_allows_duplicates() {
    let people = people(50);
    let dossier = |p: &Person, email: String| {
        let mut c = Customer::person(p.given, p.family)
            .with_email(email)
            .with_phone(plain(p, "phone"));
        c.birth_date = chrono::NaiveDate::from_ymd_opt(p.birth.0 as i32, p.birth.1, p.birth.2);
        c
    };
    let book = book();
    let first = book
        .add_many(people.iter().map(|p| dossier(p, p.email.clone())))
        .unwrap();
    assert!(first.iter().all(|s| s.status == WriteStatus::Added));
    // One batch: ten copies of book dossiers and, inside the batch, a
    // stranger and their copy.
    let stranger = Person {
        given: "Xiuying",
        family: "Guo",
        email: "xiuying.guo@example.org".into(),
        phone: 99_999_999,
        birth: (1971, 3, 9),
        street: "8 Zhongshan Road".into(),
        city: "Nanjing",
        postcode: "210000".into(),
    };
    let batch = || {
        let mut batch: Vec<Customer> = people[..10]
            .iter()
            .map(|p| dossier(p, p.email.to_uppercase()))
            .collect();
        batch.push(dossier(&stranger, stranger.email.clone()));
        batch.push(dossier(&stranger, stranger.email.to_uppercase()));
        batch
    };
    let report = book.add_many(batch()).unwrap();
    let statuses: Vec<WriteStatus> = report.iter().map(|s| s.status).collect();
    assert_eq!(statuses[..10], [WriteStatus::Skipped; 10]);
    assert_eq!(statuses[10..], [WriteStatus::Added, WriteStatus::Skipped]);
    assert_eq!(report[11].duplicates[0].id, report[10].customer.id);
    assert_eq!(
        report[11].duplicates[0].index,
        Some(10),
        "the earlier record"
    );
    assert_eq!(book.count().unwrap(), 51);

    let merge = BatchOptions {
        on_duplicate: OnDuplicate::Merge,
        ..BatchOptions::default()
    };
    let mut with_company = batch();
    for c in &mut with_company {
        c.company = Some("Acme".into());
    }
    let merged = book.add_many_with(with_company, &merge).unwrap();
    assert!(merged.iter().all(|s| s.status == WriteStatus::Merged));
    assert_eq!(book.count().unwrap(), 51);
    let into = merged[0].merged_into.unwrap();
    assert_eq!(book.get(into).unwrap().company.as_deref(), Some("Acme"));

    let allow = BatchOptions {
        on_duplicate: OnDuplicate::Allow,
        ..BatchOptions::default()
    };
    let allowed = book.add_many_with(batch(), &allow).unwrap();
    assert!(allowed.iter().all(|s| s.status == WriteStatus::Added));
    assert_eq!(book.count().unwrap(), 63);
}

#[test]
fn an_update_that_makes_a_copy_lists_the_dossier_it_copies() {
    let people = people(20);
    let book = book();
    import(
        &book,
        &csv(&people, &COLUMNS, &plain),
        &ImportOptions::default(),
    );
    let ids = ids_by_email(&book);
    let (a, b) = (&people[3], &people[4]);
    let mut changed = book.get(ids[&b.email]).unwrap();
    changed.name = kehu::PersonName {
        given: Some(a.given.into()),
        family: Some(a.family.into()),
        ..Default::default()
    };
    changed.phones = book.get(ids[&a.email]).unwrap().phones;
    changed.birth_date = chrono::NaiveDate::from_ymd_opt(a.birth.0 as i32, a.birth.1, a.birth.2);
    changed.addresses = book.get(ids[&a.email]).unwrap().addresses;
    let saved = book.update(changed).unwrap();
    assert_eq!(saved.status, WriteStatus::Updated);
    assert_eq!(saved.duplicates[0].id, ids[&a.email]);
}

/// A checked import into a book of unchecked rows learns the duplicate model
/// and stores it before its own transaction begins (it once waited, holding
/// the write lock, for that store: for ever).
#[test]
fn a_checked_import_after_unchecked_ones_stores_its_model_and_ends() {
    let people = people(400);
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(dir.path().join("b.kehu")).unwrap();
    let allow = ImportOptions {
        on_duplicate: OnDuplicate::Allow,
        ..ImportOptions::default()
    };
    import(&book, &csv(&people[..200], &COLUMNS, &plain), &allow);
    let (done, finished) = std::sync::mpsc::channel();
    let rest = csv(&people[200..], &COLUMNS, &plain);
    std::thread::spawn(move || {
        let report = import(&book, &rest, &ImportOptions::default());
        let _ = done.send((report.imported, book.count().unwrap()));
    });
    let (imported, count) = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the import ended");
    assert_eq!(count, 200 + imported);
    assert!(imported > 150, "{imported}");
}
