//! `kehu dedupe`, `kehu merge` and `kehu unmerge`, run as a user would.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn kehu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args(args)
        .output()
        .expect("run kehu")
}

fn febrl(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kehu-dedupe/tests/data/febrl")
        .join(name)
        .display()
        .to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

fn pairs(path: &Path) -> HashSet<(String, String)> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id_l,id_r,probability"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            let p: f64 = f[2].parse().unwrap();
            assert!((0.0..=1.0).contains(&p));
            let (a, b) = (f[0].to_string(), f[1].to_string());
            if a < b {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect()
}

#[test]
fn febrl_files_with_only_the_id_column_named() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1, 2] {
        let pairs_out = dir.path().join("pairs.csv");
        let clusters_out = dir.path().join("clusters.csv");
        let out = kehu(&[
            "dedupe",
            &febrl(&format!("febrl{n}.csv")),
            "--id-column",
            "rec_id",
            "--pairs-out",
            pairs_out.to_str().unwrap(),
            "--clusters-out",
            clusters_out.to_str().unwrap(),
        ]);
        ok(&out);
        assert!(
            stdout(&out).contains("pairs written to"),
            "{}",
            stdout(&out)
        );
        let got = pairs(&pairs_out);
        let truth: HashSet<(String, String)> =
            fs::read_to_string(febrl(&format!("febrl{n}_true_pairs.csv")))
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| {
                    let (a, b) = l.split_once(',').unwrap();
                    if a < b {
                        (a.to_string(), b.to_string())
                    } else {
                        (b.to_string(), a.to_string())
                    }
                })
                .collect();
        let tp = got.intersection(&truth).count() as f64;
        let (p, r) = (tp / got.len() as f64, tp / truth.len() as f64);
        let f1 = 2.0 * p * r / (p + r);
        assert!(f1 >= 0.99, "FEBRL{n}: P {p:.4} R {r:.4} F1 {f1:.4}");
        // Every record has a cluster; the two of a true pair mostly share one.
        let clusters = fs::read_to_string(&clusters_out).unwrap();
        let rows = fs::read_to_string(febrl(&format!("febrl{n}.csv")))
            .unwrap()
            .lines()
            .count();
        assert_eq!(
            clusters.lines().count(),
            rows,
            "header + one line per record"
        );
    }
}

#[test]
fn explain_prints_a_table_and_json() {
    let file = febrl("febrl1.csv");
    let out = kehu(&[
        "dedupe",
        &file,
        "--id-column",
        "rec_id",
        "--explain",
        "rec-1-org",
        "rec-1-dup-0",
    ]);
    ok(&out);
    let text = stdout(&out);
    for needle in ["field", "given_name", "soc_sec_id", "probability", "match"] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    let out = kehu(&[
        "dedupe",
        &file,
        "--id-column",
        "rec_id",
        "--json",
        "--explain",
        "rec-1-org",
        "rec-2-org",
    ]);
    ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "non_match");
    assert_eq!(
        v["fields"].as_array().unwrap().len(),
        7,
        "address parts compare as one place"
    );
    let out = kehu(&[
        "dedupe",
        &file,
        "--id-column",
        "rec_id",
        "--explain",
        "rec-1-org",
        "nobody",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));
}

#[test]
fn linking_two_files_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("crm.csv");
    let b = dir.path().join("shop.csv");
    fs::write(&a, "id,姓名,手机,邮箱\n1,张伟,138 1234 5678,zw@qq.com\n2,李娜,139 8765 4321,ln@163.com\n3,李娜,139 8765 4321,ln@163.com\n").unwrap();
    fs::write(&b, "id,name,mobile,email\nS1,Zhang Wei,+86 13812345678,ZW@qq.com\nS2,Bob Stone,+1 555 123 4567,bob@x.com\n").unwrap();
    let pairs_out = dir.path().join("links.csv");
    let out = kehu(&[
        "dedupe",
        a.to_str().unwrap(),
        "--link",
        b.to_str().unwrap(),
        "--pairs-out",
        pairs_out.to_str().unwrap(),
        "--json",
    ]);
    ok(&out);
    let got = pairs(&pairs_out);
    assert_eq!(got, HashSet::from([("1".to_string(), "S1".to_string())]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["records"], 5);
    assert_eq!(v["fields"]["姓名"], "person_name");
    assert_eq!(v["fields"]["手机"], "phone");
    assert!(v["blocking"][0]["pairs"].is_u64(), "{v}");

    let settings = dir.path().join("dedupe.toml");
    fs::write(&settings, "blocking = [\"nope\"]\n").unwrap();
    let out = kehu(&[
        "dedupe",
        a.to_str().unwrap(),
        "--settings",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
    fs::write(&settings, "match_threshold = 7\n").unwrap();
    let out = kehu(&[
        "dedupe",
        a.to_str().unwrap(),
        "--settings",
        settings.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("dedupe.toml"), "{}", stderr(&out));
}

#[test]
fn bad_files_are_clear_errors_or_empty_answers() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    fs::write(&empty, "").unwrap();
    let out = kehu(&["dedupe", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("panicked"));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    let header = dir.path().join("header.csv");
    fs::write(&header, "id,name\n").unwrap();
    let out = kehu(&["dedupe", header.to_str().unwrap()]);
    ok(&out);
    assert!(stdout(&out).starts_with("0 records"), "{}", stdout(&out));
    let out = kehu(&["dedupe", dir.path().join("missing.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let out = kehu(&["dedupe", dir.path().join("no-book.kehu").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no such book"), "{}", stderr(&out));
}

#[test]
fn a_book_dedupe_merge_and_unmerge() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("c.csv");
    fs::write(
        &csv,
        "客户编号,姓名,手机,邮箱,生日\nC1,张伟,13812345678,zw@qq.com,1990-01-02\nC2,章伟,138 1234 5678,zw@qq.com,1990-01-02\nC3,李娜,13987654321,ln@163.com,1985-05-05\n",
    )
    .unwrap();
    let book = dir.path().join("b.kehu");
    let book = book.to_str().unwrap();
    // The import's own check would keep C2 out (a sure duplicate of C1):
    // allowed in, so the book holds a pair to dedupe.
    let out = kehu(&["import", book, csv.to_str().unwrap(), "-q", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["imported"].as_u64(), report["duplicates"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["duplicate_rows"][0]["line"], 3, "{report}");
    fs::remove_file(book).unwrap();
    ok(&kehu(&[
        "import",
        book,
        csv.to_str().unwrap(),
        "-q",
        "--on-duplicate",
        "allow",
    ]));
    let review = dir.path().join("review.csv");
    let out = kehu(&["dedupe", book, "--review-out", review.to_str().unwrap()]);
    ok(&out);
    assert!(stdout(&out).contains("1 clusters"), "{}", stdout(&out));
    let review = fs::read_to_string(&review).unwrap();
    assert!(review.starts_with("id_l,id_r,probability\n"), "{review}");

    let out = kehu(&["merge", book, "C1", "C2", "--dry-run", "--json"]);
    ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert!(v["receipt"].is_null());
    let out = kehu(&["merge", book, "C1", "C2", "--json"]);
    ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let receipt = v["receipt"].as_str().unwrap().to_string();
    let out = kehu(&["get", book, "C2"]);
    assert_eq!(out.status.code(), Some(1), "C2 was merged away");
    let out = kehu(&["unmerge", book, &receipt]);
    ok(&out);
    assert!(
        stdout(&out).contains("restored 2 dossiers"),
        "{}",
        stdout(&out)
    );
    ok(&kehu(&["get", book, "C2"]));
    let out = kehu(&["unmerge", book, &receipt]);
    assert_eq!(out.status.code(), Some(1));
    let out = kehu(&["merge", book, "C1"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_unique_id_column_names_the_records_without_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    for header in ["unique_id", "UID", "record_id", "row_id"] {
        let file = dir.path().join(format!("{header}.csv"));
        fs::write(
            &file,
            format!(
                "{header},first_name,surname,email,date_of_birth\n\
                 p-17,Anna,Weber,anna.weber@example.de,1984-03-02\n\
                 p-42,Ana,Weber,anna.weber@example.de,1984-03-02\n\
                 p-99,Paul,Koch,paul.koch@example.de,1971-11-30\n"
            ),
        )
        .unwrap();
        let pairs_out = dir.path().join(format!("{header}.pairs.csv"));
        let out = kehu(&[
            "dedupe",
            file.to_str().unwrap(),
            "-q",
            "--pairs-out",
            pairs_out.to_str().unwrap(),
        ]);
        ok(&out);
        let found = pairs(&pairs_out);
        assert!(
            found.contains(&("p-17".to_string(), "p-42".to_string())),
            "{header}: {found:?}"
        );
    }
}
