//! The differential test: hundreds of random segments give exactly the member
//! sets that DuckDB gives for their SQL (`Segment::to_sql`) over the same data.
//!
//! It needs python3 with the duckdb package: `KEHU_PYTHON` names the
//! interpreter (`scripts/test.sh` makes a venv with duckdb and sets it).
//! Without one the test says so and passes, unless `KEHU_REQUIRE_DUCKDB` is set.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

mod common;

use common::{book, expression, now, schema, Rng};
use kehu_model::{
    CustomValue, Customer, FeedbackKind, FeedbackStatus, Kind, LifecycleStage, Related,
};
use kehu_segment::Segment;

fn csv_cell(s: Option<String>) -> String {
    match s {
        None => String::new(),
        Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
    }
}

/// Writes the book as the CSV tables `docs/segments.md` names.
fn write_tables(dir: &std::path::Path, book: &[(Customer, Vec<Related>)]) {
    let t = |t: kehu_segment::Timestamp| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let mut customers = String::from("id,kind,name,given_name,family_name,company,job_title,organization,industry,org_size,street,district,city,region,postcode,country,owner,source,external_id,stage,birthday,created,updated,verified,custom.level,custom.credit\n");
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
            a.district,
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
    "street": "VARCHAR", "district": "VARCHAR", "city": "VARCHAR", "region": "VARCHAR", "postcode": "VARCHAR", "country": "VARCHAR",
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
    let schema = schema();
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
