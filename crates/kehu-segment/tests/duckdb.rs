//! The differential test: hundreds of random segments give exactly the member
//! sets that DuckDB gives for their SQL (`Segment::to_sql`) over the same data.
//!
//! It needs python3 with the duckdb package: `KEHU_PYTHON` names the
//! interpreter (`scripts/test.sh` makes a venv with duckdb and sets it).
//! Without one the test says so and passes, unless `KEHU_REQUIRE_DUCKDB` is set.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use kehu_model::{
    Address, CustomValue, Customer, Direction, Feedback, FeedbackKind, FeedbackStatus, Interaction,
    InteractionChannel, Kind, LifecycleStage, Money, Organization, Purchase, Related, Score,
    ScoreScale,
};
use kehu_segment::{Schema, Segment, ValueType};

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const CITIES: &[&str] = &[
    "上海", "北京", "深圳", "Shanghai", "London", "Berlin", "O'Fallon",
];
const GIVEN: &[&str] = &["Wei", "Na", "Emma", "Oliver", "Lukas", "Mia"];
const FAMILY: &[&str] = &["Zhang", "Li", "Smith", "Jones", "Müller"];
const COMPANIES: &[&str] = &["华为技术", "Acme Ltd", "Globex", "acme gmbh"];
const TITLES: &[&str] = &["CEO", "经理", "Buyer", "engineer"];
const TAGS: &[&str] = &["VIP", "vip", "老客户", "newsletter", "wholesale"];
const LEVELS: &[&str] = &["silver", "gold", "platinum"];
const SOURCES: &[&str] = &["web", "referral", "展会"];
const STAGES: &[&str] = &["potential", "new", "active", "at_risk", "churned"];
const DOMAINS: &[&str] = &["qq.com", "163.com", "example.com", "Example.COM"];

fn now() -> kehu_segment::Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn book(rng: &mut Rng, n: usize) -> Vec<(Customer, Vec<Related>)> {
    let cny = "CNY".parse().unwrap();
    let moment = |rng: &mut Rng, days: u64| {
        now() - TimeDelta::seconds((rng.below(days * 86_400) + 1) as i64)
    };
    (0..n)
        .map(|i| {
            let mut c = if rng.chance(10) {
                let mut c = Customer::organization(rng.pick(COMPANIES));
                c.organization = Some(Organization {
                    name: Some(rng.pick(COMPANIES).to_string()),
                    industry: rng
                        .chance(70)
                        .then(|| rng.pick(&["retail", "制造", "software"]).to_string()),
                    size: rng.chance(60).then(|| rng.below(5000) as u32),
                });
                c
            } else if rng.chance(30) {
                Customer::person_named(format!(
                    "{}{}",
                    rng.pick(&["张", "李", "王"]),
                    rng.pick(&["伟", "娜", "芳"])
                ))
            } else {
                Customer::person(rng.pick(GIVEN), rng.pick(FAMILY))
            };
            for k in 0..rng.below(3) {
                c = c.with_email(format!("user{i}.{k}@{}", rng.pick(DOMAINS)));
            }
            for k in 0..rng.below(3) {
                c = c.with_phone(format!("+86138{:04}{:04}", i, k));
            }
            if rng.chance(80) {
                c.addresses.push(Address {
                    city: Some(rng.pick(CITIES).to_string()),
                    postcode: rng
                        .chance(60)
                        .then(|| format!("{}", 100_000 + rng.below(5) * 100_000)),
                    country: rng
                        .chance(50)
                        .then(|| rng.pick(&["CN", "GB", "DE"]).to_string()),
                    primary: true,
                    ..Address::default()
                });
            }
            c.company = rng.chance(60).then(|| rng.pick(COMPANIES).to_string());
            c.job_title = rng.chance(50).then(|| rng.pick(TITLES).to_string());
            c.source = rng.chance(50).then(|| rng.pick(SOURCES).to_string());
            c.owner = rng.chance(40).then(|| rng.pick(&["amy", "bo"]).to_string());
            c.lifecycle_stage = rng
                .chance(70)
                .then(|| STAGES[rng.below(5) as usize].parse().unwrap());
            c.birth_date = rng.chance(70).then(|| {
                NaiveDate::from_ymd_opt(
                    1950 + rng.below(55) as i32,
                    1 + rng.below(12) as u32,
                    1 + rng.below(28) as u32,
                )
                .unwrap()
            });
            c.created_at = moment(rng, 2000);
            c.updated_at = c.created_at + TimeDelta::days(rng.below(30) as i64);
            c.verified_at = rng.chance(50).then(|| moment(rng, 400));
            for _ in 0..rng.below(4) {
                let t = rng.pick(TAGS).to_string();
                if !c.tags.contains(&t) {
                    c.tags.push(t);
                }
            }
            if rng.chance(60) {
                c.custom
                    .insert("level".into(), CustomValue::Text(rng.pick(LEVELS).into()));
            }
            if rng.chance(50) {
                c.custom.insert(
                    "credit".into(),
                    CustomValue::Integer(rng.below(10_000) as i64),
                );
            }
            let mut related = Vec::new();
            for _ in 0..rng.below(7) {
                let amount = Money::new(100 * (1 + rng.below(2000)) as i64, cny);
                related.push(Purchase::new(c.id, moment(rng, 1000), amount).into());
            }
            for _ in 0..rng.below(5) {
                related.push(
                    Interaction::new(
                        c.id,
                        moment(rng, 500),
                        InteractionChannel::Phone,
                        Direction::Inbound,
                        "x",
                    )
                    .into(),
                );
            }
            for _ in 0..rng.below(4) {
                let kind = if rng.chance(50) {
                    FeedbackKind::Complaint
                } else {
                    FeedbackKind::Survey
                };
                let mut f = Feedback::new(c.id, moment(rng, 500), kind, "x");
                f.status = if rng.chance(50) {
                    FeedbackStatus::Open
                } else {
                    FeedbackStatus::Resolved
                };
                f.score = rng.chance(70).then(|| Score {
                    scale: ScoreScale::Csat,
                    value: 1 + rng.below(5) as u8,
                });
                related.push(f.into());
            }
            (c, related)
        })
        .collect()
}

fn date_literal(rng: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        1960 + rng.below(67),
        1 + rng.below(12),
        1 + rng.below(28)
    )
}

fn period(rng: &mut Rng) -> String {
    format!("{}{}", 1 + rng.below(40), rng.pick(&["d", "w", "m", "y"]))
}

fn quoted(rng: &mut Rng, pool: &[&str]) -> String {
    format!("\"{}\"", rng.pick(pool).replace('"', "\\\""))
}

fn atom(rng: &mut Rng) -> String {
    let text_fields: &[(&str, &[&str])] = &[
        ("city", CITIES),
        ("company", COMPANIES),
        ("job_title", TITLES),
        ("source", SOURCES),
        ("given_name", GIVEN),
        ("family_name", FAMILY),
        ("custom.level", LEVELS),
        ("email", &["user1.0@qq.com", "user2.1@163.com"]),
        ("postcode", &["100000", "200000", "300000"]),
        ("industry", &["retail", "制造"]),
        ("country", &["CN", "GB"]),
    ];
    let number_fields = [
        "custom.credit",
        "org_size",
        "purchases.count",
        "purchases.sum",
        "purchases.avg",
        "interactions.count",
        "complaints.open",
        "feedback.count",
        "feedback.avg_score",
        "feedback.open",
    ];
    let date_fields = [
        "birthday",
        "created",
        "updated",
        "verified",
        "purchases.last",
        "purchases.first",
        "interactions.last",
        "complaints.last",
        "feedback.first",
    ];
    match rng.below(9) {
        0 | 1 => {
            let (f, pool) = text_fields[rng.below(text_fields.len() as u64) as usize];
            match rng.below(9) {
                0 => format!("{f} = {}", quoted(rng, pool)),
                1 => format!("{f} != {}", quoted(rng, pool)),
                2 => format!(
                    "{f} {} {}",
                    rng.pick(&["<", "<=", ">", ">="]),
                    quoted(rng, pool)
                ),
                3 => format!(
                    "{f} {}in [{}, {}]",
                    rng.pick(&["", "not "]),
                    quoted(rng, pool),
                    quoted(rng, pool)
                ),
                4 => format!(
                    "{f} contains \"{}\"",
                    &rng.pick(pool).chars().take(2).collect::<String>()
                ),
                5 => format!(
                    "{f} starts_with \"{}\"",
                    &rng.pick(pool).chars().take(1).collect::<String>()
                ),
                6 => format!(
                    "{f} ends_with \"{}\"",
                    &rng.pick(pool).chars().rev().take(1).collect::<String>()
                ),
                7 => format!("{f} matches /^{}/", rng.pick(&["[A-Z]", "a", "1", "上"])),
                _ => format!("{f} is {}empty", rng.pick(&["", "not "])),
            }
        }
        2 | 3 => {
            let mut f = rng.pick(&number_fields).to_string();
            let windowed = f.ends_with(".count") || f.ends_with(".sum") || f.ends_with(".avg");
            if windowed && rng.chance(40) {
                f = format!("{f}(within {})", period(rng));
            }
            let n = match f.as_str() {
                s if s.starts_with("custom.credit") => rng.below(10_000),
                s if s.starts_with("org_size") => rng.below(5000),
                s if s.contains(".sum") || s.contains(".avg") && s.starts_with("purchases") => {
                    100 * rng.below(3000)
                }
                s if s.contains("avg_score") => 1 + rng.below(5),
                _ => rng.below(6),
            };
            match rng.below(4) {
                0 => format!("{f} between {} and {}", n, n + rng.below(2000)),
                1 => format!("{f} is {}empty", rng.pick(&["", "not "])),
                _ => format!("{f} {} {n}", rng.pick(&["=", "!=", "<", "<=", ">", ">="])),
            }
        }
        4 | 5 => {
            let f = rng.pick(&date_fields);
            match rng.below(7) {
                0 => format!(
                    "{f} {} {}",
                    rng.pick(&["=", "<", ">=", ">"]),
                    date_literal(rng)
                ),
                1 => format!("{f} within {}", period(rng)),
                2 => format!("{f} before {} ago", period(rng)),
                3 => format!("{f} older than {}", period(rng)),
                4 => format!("{f} this {}", rng.pick(&["month", "year"])),
                5 => format!(
                    "{f} between {} and {}",
                    date_literal(rng),
                    date_literal(rng)
                ),
                _ => format!("{f} is {}empty", rng.pick(&["", "not "])),
            }
        }
        6 => format!(
            "stage {} {}",
            rng.pick(&["=", "!=", "<", ">="]),
            rng.pick(STAGES)
        ),
        7 => format!("kind = {}", rng.pick(&["person", "organization"])),
        _ => format!("has tag {}", quoted(rng, TAGS)),
    }
}

fn expression(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 || rng.chance(35) {
        return atom(rng);
    }
    match rng.below(4) {
        0 => format!("not ({})", expression(rng, depth - 1)),
        1 => format!(
            "({}) or ({})",
            expression(rng, depth - 1),
            expression(rng, depth - 1)
        ),
        _ => format!(
            "{} and {}",
            expression(rng, depth - 1),
            expression(rng, depth - 1)
        ),
    }
}

fn csv_cell(s: Option<String>) -> String {
    match s {
        None => String::new(),
        Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
    }
}

/// Writes the book as the CSV tables `docs/segments.md` names.
fn write_tables(dir: &std::path::Path, book: &[(Customer, Vec<Related>)]) {
    let t = |t: kehu_segment::Timestamp| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let mut customers = String::from("id,kind,name,given_name,family_name,company,job_title,organization,industry,org_size,street,city,region,postcode,country,owner,source,external_id,stage,birthday,created,updated,verified,custom.level,custom.credit\n");
    let (mut tags, mut emails, mut phones) = (
        String::from("customer_id,tag\n"),
        String::from("customer_id,address\n"),
        String::from("customer_id,number\n"),
    );
    let mut purchases = String::from("customer_id,at,amount,currency\n");
    let mut interactions = String::from("customer_id,at\n");
    let mut feedback = String::from("customer_id,at,complaint,open,score\n");
    for (c, related) in book {
        let a = c.primary_address().cloned().unwrap_or_default();
        let org = c.organization.clone().unwrap_or_default();
        let stage = c.lifecycle_stage.map(|s| {
            LifecycleStage::ALL
                .iter()
                .position(|x| *x == s)
                .unwrap()
                .to_string()
        });
        let custom_text = match c.custom.get("level") {
            Some(CustomValue::Text(s)) => Some(s.clone()),
            _ => None,
        };
        let credit = match c.custom.get("credit") {
            Some(CustomValue::Integer(n)) => Some(n.to_string()),
            _ => None,
        };
        let cells = [
            Some(c.id.to_string()),
            Some(if c.kind == Kind::Person {
                "person".into()
            } else {
                "organization".into()
            }),
            Some(c.display_name()),
            c.name.given.clone(),
            c.name.family.clone(),
            c.company.clone(),
            c.job_title.clone(),
            org.name.clone(),
            org.industry.clone(),
            org.size.map(|s| s.to_string()),
            a.street,
            a.city,
            a.region,
            a.postcode,
            a.country,
        ];
        let mut row: Vec<String> = cells.into_iter().map(csv_cell).collect();
        for v in [
            c.owner.clone(),
            c.source.clone(),
            c.external_id.clone(),
            stage,
            c.birth_date.map(|d| d.to_string()),
            Some(t(c.created_at)),
            Some(t(c.updated_at)),
            c.verified_at.map(t),
            custom_text,
            credit,
        ] {
            row.push(csv_cell(v));
        }
        customers.push_str(&row.join(","));
        customers.push('\n');
        for tag in &c.tags {
            let _ = writeln!(tags, "{},{}", c.id, csv_cell(Some(tag.clone())));
        }
        for e in &c.emails {
            let _ = writeln!(emails, "{},{}", c.id, csv_cell(Some(e.address.clone())));
        }
        for p in &c.phones {
            let _ = writeln!(phones, "{},{}", c.id, csv_cell(Some(p.number.clone())));
        }
        for r in related {
            match r {
                Related::Purchase(p) => {
                    let _ = writeln!(
                        purchases,
                        "{},{},{},{}",
                        c.id,
                        t(p.at),
                        p.amount.minor as f64 / 100.0,
                        p.amount.currency.code()
                    );
                }
                Related::Interaction(i) => {
                    let _ = writeln!(interactions, "{},{}", c.id, t(i.at));
                }
                Related::Feedback(f) => {
                    let _ = writeln!(
                        feedback,
                        "{},{},{},{},{}",
                        c.id,
                        t(f.at),
                        f.kind == FeedbackKind::Complaint,
                        f.status == FeedbackStatus::Open,
                        f.score.map(|s| s.value.to_string()).unwrap_or_default()
                    );
                }
                _ => {}
            }
        }
    }
    for (name, text) in [
        ("customers", customers),
        ("tags", tags),
        ("emails", emails),
        ("phones", phones),
        ("purchases", purchases),
        ("interactions", interactions),
        ("feedback", feedback),
    ] {
        std::fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
}

const DUCKDB_SCRIPT: &str = r#"
import duckdb, json, sys
d = sys.argv[1]
con = duckdb.connect()
types = {
  "customers": {"id": "VARCHAR", "kind": "VARCHAR", "name": "VARCHAR", "given_name": "VARCHAR", "family_name": "VARCHAR",
    "company": "VARCHAR", "job_title": "VARCHAR", "organization": "VARCHAR", "industry": "VARCHAR", "org_size": "DOUBLE",
    "street": "VARCHAR", "city": "VARCHAR", "region": "VARCHAR", "postcode": "VARCHAR", "country": "VARCHAR",
    "owner": "VARCHAR", "source": "VARCHAR", "external_id": "VARCHAR", "stage": "INTEGER", "birthday": "DATE",
    "created": "TIMESTAMP", "updated": "TIMESTAMP", "verified": "TIMESTAMP", "custom.level": "VARCHAR", "custom.credit": "DOUBLE"},
  "tags": {"customer_id": "VARCHAR", "tag": "VARCHAR"},
  "emails": {"customer_id": "VARCHAR", "address": "VARCHAR"},
  "phones": {"customer_id": "VARCHAR", "number": "VARCHAR"},
  "purchases": {"customer_id": "VARCHAR", "at": "TIMESTAMP", "amount": "DOUBLE", "currency": "VARCHAR"},
  "interactions": {"customer_id": "VARCHAR", "at": "TIMESTAMP"},
  "feedback": {"customer_id": "VARCHAR", "at": "TIMESTAMP", "complaint": "BOOLEAN", "open": "BOOLEAN", "score": "DOUBLE"},
}
for table, cols in types.items():
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header=true, columns=?, nullstr='', quote='\"', escape='\"')",
                [f"{d}/{table}.csv", cols])
out = []
for q in json.load(sys.stdin):
    try:
        out.append(sorted(r[0] for r in con.execute(f"SELECT id FROM customers c WHERE {q}").fetchall()))
    except Exception as e:
        out.append({"error": str(e)})
print(json.dumps(out))
"#;

#[test]
fn random_segments_agree_with_duckdb() {
    let Some(python) = std::env::var_os("KEHU_PYTHON") else {
        assert!(
            std::env::var_os("KEHU_REQUIRE_DUCKDB").is_none(),
            "KEHU_REQUIRE_DUCKDB is set but KEHU_PYTHON is not"
        );
        eprintln!("skipped: set KEHU_PYTHON to a python3 with duckdb (scripts/test.sh does)");
        return;
    };
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let book = book(&mut rng, 400);
    let dir = std::env::temp_dir().join(format!("kehu-duckdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_tables(&dir, &book);
    let schema = Schema::standard()
        .with_custom("level", ValueType::Text)
        .with_custom("credit", ValueType::Number);
    let mut segments = Vec::new();
    while segments.len() < 400 {
        let src = expression(&mut rng, 3);
        let segment = Segment::parse(&src, &schema).unwrap_or_else(|e| panic!("{src}: {e}"));
        segments.push(segment);
    }
    let queries: Vec<String> = segments.iter().map(|s| s.to_sql(now())).collect();
    let script = dir.join("check.py");
    std::fs::write(&script, DUCKDB_SCRIPT).unwrap();
    let mut child = Command::new(python)
        .arg(&script)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    let input = serde_json_lite(&queries);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers = parse_answers(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(answers.len(), segments.len());
    let mut mismatches = Vec::new();
    let mut non_trivial = 0;
    for ((segment, sql), answer) in segments.iter().zip(&queries).zip(&answers) {
        let mut ours: Vec<String> = book
            .iter()
            .filter(|(c, r)| segment.matches(c, r, now()))
            .map(|(c, _)| c.id.to_string())
            .collect();
        ours.sort();
        match answer {
            Err(e) => mismatches.push(format!(
                "{}\n  SQL: {sql}\n  DuckDB error: {e}",
                segment.source()
            )),
            Ok(theirs) if *theirs != ours => mismatches.push(format!(
                "{}\n  SQL: {sql}\n  kehu {} members, DuckDB {}",
                segment.source(),
                ours.len(),
                theirs.len()
            )),
            Ok(_) => {}
        }
        if !ours.is_empty() && ours.len() < book.len() {
            non_trivial += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        segments.len(),
        mismatches
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        non_trivial > segments.len() / 3,
        "too few segments select some but not all: {non_trivial}"
    );
}

/// A JSON array of strings (no serde_json in this crate's dependencies).
fn serde_json_lite(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

/// Reads `[["id", …], {"error": "…"}, …]` as printed by the script (ids are UUIDs).
fn parse_answers(text: &str) -> Vec<Result<Vec<String>, String>> {
    let text = text.trim();
    let inner = &text[1..text.len() - 1];
    let mut out = Vec::new();
    let mut rest = inner.trim_start_matches(',').trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('{') {
            let end = r.find("\"}").map(|i| i + 2).unwrap_or(r.len());
            out.push(Err(r[..end].to_string()));
            rest = r[end..]
                .trim_start_matches('}')
                .trim_start_matches(',')
                .trim();
        } else {
            let end = rest.find(']').unwrap();
            let ids = rest[1..end]
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .filter(|s| !s.is_empty())
                .collect();
            out.push(Ok(ids));
            rest = rest[end + 1..].trim_start_matches(',').trim();
        }
    }
    out
}
