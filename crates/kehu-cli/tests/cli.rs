//! The `kehu` binary, run as a user would run it, on sample files and on bad input.

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

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data")
        .join(name)
        .display()
        .to_string()
}

fn rules() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/rules.toml")
        .display()
        .to_string()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every command's failure is one line, never a panic.
fn assert_clean_failure(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

fn import_sample(book: &str, extra: &[&str]) -> Output {
    let file = sample("customers.csv");
    let rules = rules();
    let mut args = vec![
        "import",
        book,
        &file,
        "--rules",
        &rules,
        "--map",
        "会员等级=custom.member_level",
        "--json",
    ];
    args.extend_from_slice(extra);
    kehu(&args)
}

fn import_purchases(book: &str) -> Output {
    let file = sample("purchases.csv");
    kehu(&[
        "import",
        book,
        &file,
        "--kind",
        "purchases",
        "--currency",
        "CNY",
        "--json",
    ])
}

fn export_jsonl(book: &str) -> Vec<Value> {
    let out = kehu(&["export", book, "--format", "jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn the_sample_imports_with_every_row_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let rejects = path(&dir, "rejects.csv");
    let out = import_sample(&book, &["--rejects", &rejects]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "rows were rejected: {}",
        stderr(&out)
    );
    let r = json(&out);
    for key in [
        "rows",
        "imported",
        "updated",
        "rejected",
        "skipped",
        "duplicates_in_file",
        "import_id",
    ] {
        assert!(r.get(key).is_some(), "{key} missing");
    }
    assert_eq!(r["rows"], 290);
    assert_eq!(r["imported"], 280);
    assert_eq!(r["rejected"], 7);
    assert_eq!(r["skipped"], 3);
    assert_eq!(r["duplicates_in_file"], 3);
    // Every kind of bad row, with its line, column and code.
    let problems = r["problems"].as_array().unwrap();
    let has = |code: &str, column: Option<&str>| {
        problems.iter().any(|p| {
            p["code"] == code
                && p["severity"] == "error"
                && column.is_none_or(|c| p["column"] == c)
                && p["line"].as_u64().unwrap() > 1
        })
    };
    assert!(has("format.email", Some("邮箱")));
    assert!(has("enum", Some("会员等级")));
    assert!(has("date.future", Some("生日")));
    assert!(has("format.date", Some("生日")));
    assert!(has("format.postcode", Some("邮编")));
    assert!(has("required", None));
    assert!(has("row.fields", None));
    let dups = problems
        .iter()
        .filter(|p| p["code"] == "duplicate.in_file")
        .count();
    assert_eq!(dups, 3);

    // The book holds the imported dossiers, findable by their keys.
    let found = json(&kehu(&["find", &book, "--external-id", "C00001", "--json"]));
    assert_eq!(found.as_array().unwrap().len(), 1);
    let stats = json(&kehu(&["stats", &book, "--json"]));
    assert_eq!(stats["customers"], 280);

    // The rejects file keeps the input's format; fixed, it imports cleanly.
    let text = fs::read_to_string(&rejects).unwrap();
    assert!(
        text.starts_with('\u{feff}'),
        "the input's byte-order mark is kept"
    );
    assert_eq!(text.lines().count(), 8, "header and 7 rows: {text}");
    let fixed = text
        .replace("zhao.min@@163.com", "zhao.min@163.com")
        .replace(",diamond,", ",gold,")
        .replace("2090-05-05", "1990-05-05")
        .replace("1985-13-40", "1985-12-10")
        .replace(",2000,中国", ",200000,中国")
        .replace("C90004,,", "C90004,钱七,")
        .replace(
            "C90007,郑和,13412345678,,",
            "C90007,郑和,13412345678,zheng@example.cn,",
        );
    let fixed_path = path(&dir, "fixed.csv");
    fs::write(&fixed_path, fixed).unwrap();
    let rules = rules();
    let out = kehu(&[
        "import",
        &book,
        &fixed_path,
        "--rules",
        &rules,
        "--map",
        "会员等级=custom.member_level",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let r = json(&out);
    assert_eq!(r["imported"], 7);
    assert_eq!(r["rejected"], 0);
    assert!(
        r["unknown_columns"].as_array().unwrap().is_empty(),
        "kehu_errors is ignored"
    );
    assert_eq!(json(&kehu(&["stats", &book, "--json"]))["customers"], 287);
}

#[test]
fn a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let out = import_sample(&book, &["--dry-run"]);
    let r = json(&out);
    assert_eq!(r["imported"], 280);
    assert_eq!(r["import_id"], Value::Null);
    assert_eq!(json(&kehu(&["stats", &book, "--json"]))["customers"], 0);
    assert!(json(&kehu(&["imports", &book, "--json"]))
        .as_array()
        .unwrap()
        .is_empty());
    // `validate` needs no book at all.
    let out = kehu(&[
        "validate",
        &sample("customers.csv"),
        "--rules",
        &rules(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["rows"], 290);
}

#[test]
fn upsert_updates_and_create_skips_and_revert_restores() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    import_sample(&book, &[]);
    let before = export_jsonl(&book);
    let change = path(&dir, "change.csv");
    fs::write(
        &change,
        "客户编号,姓名,职位,手机,标签\nC00001,,采购总监,,重点\nC00002,,,+86 139 0000 0000,\nC99999,新客户,,13800000000,\n",
    )
    .unwrap();
    // Create mode leaves existing customers alone.
    let r = json(&kehu(&["import", &book, &change, "--json"]));
    assert_eq!(
        (r["imported"].as_u64(), r["skipped"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "exists"));
    let created = r["import_id"].as_str().unwrap().to_string();
    assert!(kehu(&["revert", &book, &created]).status.success());
    assert_eq!(strip(export_jsonl(&book)), strip(before.clone()));

    // Upsert changes the two and adds the third.
    let r = json(&kehu(&[
        "import", &book, &change, "--mode", "upsert", "--json",
    ]));
    assert_eq!(
        (
            r["imported"].as_u64(),
            r["updated"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(1), Some(2), Some(0)),
        "{r}"
    );
    let c1 = &json(&kehu(&["find", &book, "--external-id", "C00001", "--json"]))[0];
    assert_eq!(c1["job_title"], "采购总监");
    assert!(c1["tags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("重点")));
    assert!(
        c1["name"]["full"].as_str().is_some(),
        "fields not in the file are kept"
    );
    // Upserting the same file again changes nothing.
    let again = json(&kehu(&[
        "import", &book, &change, "--mode", "upsert", "--json",
    ]));
    assert_eq!(again["unchanged"], 3);
    let id = r["import_id"].as_str().unwrap().to_string();
    let out = kehu(&["revert", &book, &id, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rev = json(&out);
    assert_eq!(
        (rev["removed"].as_u64(), rev["restored"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(strip(export_jsonl(&book)), strip(before));
    // Twice is refused, and so is an unknown import.
    assert_clean_failure(&kehu(&["revert", &book, &id]), "already reverted");
    assert_clean_failure(
        &kehu(&["revert", &book, "01a20ab5-a17f-7208-9964-1d107d9e1de4"]),
        "no import with id",
    );
}

/// Dossiers without the version counter, which a revert moves forward.
fn strip(mut dossiers: Vec<Value>) -> Vec<Value> {
    for d in &mut dossiers {
        d.as_object_mut().unwrap().remove("version");
    }
    dossiers
}

#[test]
fn revert_is_refused_when_a_dossier_changed_since() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let r = json(&import_sample(&book, &[]));
    let id = r["import_id"].as_str().unwrap().to_string();
    let change = path(&dir, "change.csv");
    fs::write(&change, "id,title\nC00001,Boss\n").unwrap();
    let out = kehu(&["import", &book, &change, "--mode", "update", "--json"]);
    assert_eq!(json(&out)["updated"], 1);
    let out = kehu(&["revert", &book, &id]);
    assert_clean_failure(&out, "changed since");
    assert_eq!(json(&kehu(&["stats", &book, "--json"]))["customers"], 280);
}

#[test]
fn related_records_import_and_show_in_the_dossier() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    import_sample(&book, &[]);
    let out = import_purchases(&book);
    assert_eq!(
        out.status.code(),
        Some(2),
        "one purchase names no known customer"
    );
    let r = json(&out);
    assert_eq!(r["rejected"], 1);
    assert!(r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "customer.not_found"));
    let imported = r["imported"].as_u64().unwrap();
    assert!(imported > 300, "{imported}");
    // Importing the same file again does not double the purchases.
    let again = json(&import_purchases(&book));
    assert_eq!(again["imported"].as_u64(), Some(imported));
    // Reverting the customers first takes their purchases with them; the
    // purchases' import then cannot be reverted, and says so.
    let imports = json(&kehu(&["imports", &book, "--json"]));
    let purchases_import = imports[1]["id"].as_str().unwrap().to_string();
    let customers_import = imports[0]["id"].as_str().unwrap().to_string();
    let scratch = path(&dir, "scratch.kehu");
    fs::copy(&book, &scratch).unwrap();
    assert!(kehu(&["revert", &scratch, &customers_import])
        .status
        .success());
    assert_clean_failure(
        &kehu(&["revert", &scratch, &purchases_import]),
        "changed since",
    );
    let dossier = json(&kehu(&["get", &book, "C00001", "--json"]));
    let purchases = dossier["related"].as_array().unwrap();
    let expected = fs::read_to_string(sample("purchases.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(",C00001,"))
        .count();
    assert_eq!(purchases.len(), expected);
    assert!(dossier["history"].as_array().unwrap().len() > expected);
    let text = String::from_utf8(kehu(&["get", &book, "C00001"]).stdout).unwrap();
    assert!(text.contains("purchases ("), "{text}");
}

#[test]
fn gbk_files_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let text = "姓名,手机,城市,邮编\n张伟,13800138000,北京,100000\n李娜,13900139000,上海,200000\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(text);
    let file = path(&dir, "gbk.csv");
    fs::write(&file, &gbk).unwrap();
    let r = json(&kehu(&["import", &book, &file, "--json"]));
    assert_eq!(r["encoding"], "gb18030");
    assert_eq!(r["imported"], 2);
    let found = json(&kehu(&["find", &book, "--phone", "13800138000", "--json"]));
    assert_eq!(
        found.as_array().unwrap().len(),
        1,
        "found as entered (no region to read it with)"
    );
    let found = json(&kehu(&["find", &book, "--tag", "none", "--json"]));
    assert!(found.as_array().unwrap().is_empty());
    let all = export_jsonl(&book);
    assert_eq!(all[0]["name"]["full"], "张伟");
}

#[test]
fn explicit_mapping_and_unknown_columns() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let file = path(&dir, "m.csv");
    fs::write(
        &file,
        "客户,联系方式,E-mail,备注\n王芳,+8613800138000,wang@example.com,likes tea\n",
    )
    .unwrap();
    let r = json(&kehu(&[
        "import",
        &book,
        &file,
        "--map",
        "客户=name",
        "--map",
        "联系方式=phone",
        "--json",
    ]));
    assert_eq!(r["imported"], 1);
    assert_eq!(r["unknown_columns"], serde_json::json!(["备注"]));
    let c = &json(&kehu(&[
        "find",
        &book,
        "--email",
        "WANG@example.com",
        "--json",
    ]))[0];
    assert_eq!(c["phones"][0]["number"], "+8613800138000");
    assert_eq!(c["name"]["full"], "王芳");
    let out = kehu(&["import", &book, &file, "--map", "客户=nonsense"]);
    assert_clean_failure(&out, "unknown field \"nonsense\"");
}

#[test]
fn bad_input_gives_clear_reports_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let write = |name: &str, bytes: &[u8]| {
        let p = path(&dir, name);
        fs::write(&p, bytes).unwrap();
        p
    };
    // A binary file.
    let mut binary = b"\x89PNG\r\n\x1a\n".to_vec();
    binary.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    assert_clean_failure(
        &kehu(&["import", &book, &write("image.csv", &binary)]),
        "binary",
    );
    // An empty file and a header-only file.
    assert_clean_failure(&kehu(&["import", &book, &write("empty.csv", b"")]), "empty");
    let r = json(&kehu(&[
        "import",
        &book,
        &write("header.csv", b"name,email\n"),
        "--json",
    ]));
    assert_eq!(
        (r["rows"].as_u64(), r["imported"].as_u64()),
        (Some(0), Some(0))
    );
    // Ragged rows and a truncated last row (an unclosed quote).
    let r = json(&kehu(&[
        "import",
        &book,
        &write(
            "ragged.csv",
            b"name,email,city\nA,a@x.com,Paris\nB,b@x.com\nC,c@x.com,Rome,extra\nD,\"d@x.com",
        ),
        "--json",
    ]));
    assert_eq!(
        (
            r["rows"].as_u64(),
            r["imported"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(4), Some(1), Some(3))
    );
    assert!(r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["code"] == "row.fields"));
    // Invalid UTF-8 in one row of a UTF-8 file.
    let mut text = b"name,email\n".to_vec();
    for i in 0..50 {
        text.extend_from_slice(format!("名字{i},u{i}@example.com\n").as_bytes());
    }
    text.extend_from_slice(b"Bad\xff\xfeName,bad@example.com\n");
    let r = json(&kehu(&[
        "import",
        &book,
        &write("utf8.csv", &text),
        "--json",
    ]));
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_u64()),
        (Some(50), Some(1))
    );
    let p = &r["problems"][0];
    assert_eq!(
        (p["code"].as_str(), p["line"].as_u64(), p["column"].as_str()),
        (Some("encoding"), Some(52), Some("name"))
    );
    // A 10 MB field.
    let mut big = b"name,email,city\n".to_vec();
    big.extend_from_slice(b"Huge,h@x.com,");
    big.extend(std::iter::repeat_n(b'x', 10 << 20));
    big.extend_from_slice(b"\nSmall,s@x.com,Oslo\n");
    let r = json(&kehu(&["import", &book, &write("big.csv", &big), "--json"]));
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["problems"][0]["code"], "size.record");
    assert!(
        r.to_string().len() < 10_000,
        "the report never echoes the huge value"
    );
    // JSON Lines: a broken line, a non-object, a flat row and a dossier.
    let lines = b"{\"name\": \"Flat Row\", \"email\": \"flat@x.com\"}\n{broken\n[1,2]\n{\"kind\":\"person\",\"name\":{\"full\":\"Whole Dossier\"},\"emails\":[{\"address\":\"whole@x.com\"}]}\n";
    let r = json(&kehu(&[
        "import",
        &book,
        &write("rows.jsonl", lines),
        "--json",
    ]));
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_u64()),
        (Some(2), Some(2))
    );
    // Nothing was half-written: 1 + 50 + 1 + 2 dossiers.
    assert_eq!(json(&kehu(&["stats", &book, "--json"]))["customers"], 54);
    // Missing files and books.
    assert_clean_failure(
        &kehu(&["import", &book, &path(&dir, "nope.csv")]),
        "no such file",
    );
    assert_clean_failure(&kehu(&["stats", &path(&dir, "nope.kehu")]), "no such book");
    // A bad option: clap's message (and its hint to try --help), exit code 1.
    let out = kehu(&[
        "import",
        &book,
        &write("x.csv", b"a\n1\n"),
        "--mode",
        "sideways",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out)
        .lines()
        .next()
        .unwrap()
        .contains("use create, update or upsert"));
}

#[test]
fn export_then_import_into_an_empty_book_gives_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    import_sample(&book, &[]);
    let rules = rules();
    for format in ["csv", "jsonl"] {
        let first = path(&dir, &format!("first.{format}"));
        let second = path(&dir, &format!("second.{format}"));
        let copy = path(&dir, &format!("copy-{format}.kehu"));
        assert!(kehu(&["export", &book, "--format", format, "-o", &first])
            .status
            .success());
        let out = kehu(&["import", &copy, &first, "--rules", &rules, "--json"]);
        assert_eq!(json(&out)["imported"], 280, "{}", stderr(&out));
        assert!(kehu(&["export", &copy, "--format", format, "-o", &second])
            .status
            .success());
        let (a, b) = (
            fs::read_to_string(&first).unwrap(),
            fs::read_to_string(&second).unwrap(),
        );
        if format == "csv" {
            assert_eq!(a, b);
        } else {
            let strip_lines = |t: &str| {
                strip(
                    t.lines()
                        .map(|l| serde_json::from_str(l).unwrap())
                        .collect(),
                )
            };
            assert_eq!(strip_lines(&a), strip_lines(&b));
        }
    }
    // A filtered export.
    let out = kehu(&["export", &book, "--tag", "VIP", "--format", "jsonl"]);
    let n = String::from_utf8(out.stdout).unwrap().lines().count();
    let tagged = json(&kehu(&["find", &book, "--tag", "VIP", "--json"]));
    assert_eq!(n, tagged.as_array().unwrap().len());
    assert!(n > 0);
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "import", "validate", "export", "get", "find", "stale", "stats", "imports", "revert",
    ] {
        let out = kehu(&[cmd, "--help"]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Example"), "{cmd}: {text}");
    }
    let out = kehu(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn killing_an_import_midway_leaves_a_consistent_book() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let file = path(&dir, "many.csv");
    let mut text = String::from("id,name,email,phone\n");
    for i in 0..150_000 {
        text.push_str(&format!(
            "{i},Person {i},p{i}@example.com,+4420794{:05}\n",
            i % 100_000
        ));
    }
    fs::write(&file, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args(["import", &book, &file, "--batch", "2000", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until batches are being committed, then kill it without warning.
    let started = std::time::Instant::now();
    while fs::metadata(&book).map(|m| m.len()).unwrap_or(0) < 8 << 20 {
        assert!(
            started.elapsed().as_secs() < 120,
            "the import never got going"
        );
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let imports = json(&kehu(&["imports", &book, "--json"]));
    let stats = json(&kehu(&["stats", &book, "--json"]));
    let customers = stats["customers"].as_u64().unwrap();
    match imports.as_array().unwrap().as_slice() {
        [] => assert_eq!(customers, 0, "no summary, no dossiers"),
        [one] => {
            assert_eq!(
                one["imported"].as_u64(),
                Some(customers),
                "the summary matches the book"
            );
            assert_eq!(customers % 2000, 0, "whole batches only: {customers}");
            if one["status"] != "done" {
                assert!(customers < 150_000);
            }
            // What was committed can be reverted.
            let id = one["id"].as_str().unwrap();
            assert!(kehu(&["revert", &book, id]).status.success());
            assert_eq!(json(&kehu(&["stats", &book, "--json"]))["customers"], 0);
        }
        more => panic!("one import expected: {more:?}"),
    }
}

#[test]
fn segments_select_count_explain_and_point_at_errors() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    import_sample(&book, &[]);
    let purchases = sample("purchases.csv");
    kehu(&[
        "import",
        &book,
        &purchases,
        "--kind",
        "purchases",
        "--currency",
        "CNY",
    ]);
    let condition = r#"城市 = "上海" and purchases.count >= 1"#;
    let count = json(&kehu(&["segment", &book, condition, "--count", "--json"]))["count"]
        .as_u64()
        .unwrap();
    let members = json(&kehu(&["segment", &book, condition, "--json"]));
    let members = members.as_array().unwrap();
    assert_eq!(members.len() as u64, count);
    assert!(count > 0);
    for m in members {
        assert_eq!(m["addresses"][0]["city"], "上海");
    }
    // The same question asked through the import's CSV: every Shanghai customer with an order.
    let csv = fs::read_to_string(sample("customers.csv")).unwrap();
    let orders = fs::read_to_string(&purchases).unwrap();
    let shanghai: std::collections::BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(7) == Some("上海"))
        .filter_map(|l| l.split(',').next())
        .filter(|id| orders.contains(&format!(",{id},")))
        .collect();
    let selected: std::collections::BTreeSet<&str> = members
        .iter()
        .map(|m| m["external_id"].as_str().unwrap())
        .collect();
    assert!(selected.is_subset(&shanghai), "{selected:?}");
    // CSV output is the export's format.
    let out = kehu(&["segment", &book, condition, "--csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("kehu_id,"));
    assert_eq!(text.lines().count() as u64, count + 1);
    // Explain a member.
    let id = members[0]["external_id"].as_str().unwrap();
    let e = json(&kehu(&[
        "segment",
        &book,
        condition,
        "--explain",
        id,
        "--json",
    ]));
    assert_eq!(e["member"], true);
    assert_eq!(e["tests"].as_array().unwrap().len(), 2);
    // RFM and the report add up: every buyer in one group and one grid cell, every customer in one stage.
    let rfm = json(&kehu(&["rfm", &book, "--json"]));
    let buyers = rfm["buyers"].as_u64().unwrap();
    assert!(buyers > 100, "{rfm}");
    let groups: u64 = rfm["rfm_groups"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let grid: u64 = rfm["rfm_grid"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!((groups, grid), (buyers, buyers));
    let report = json(&kehu(&["report", &book, "--as-of", "2025-12-31", "--json"]));
    let stages: u64 = report["stages"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(stages, report["customers"].as_u64().unwrap());
    assert_eq!(
        report["stages"]["potential"].as_u64().unwrap(),
        report["customers"].as_u64().unwrap() - buyers
    );
    let tagged = kehu(&["rfm", &book, "--tag-high", "VIP-auto", "--json"]);
    assert!(tagged.status.success());
    let vip = json(&kehu(&["find", &book, "--tag", "VIP-auto", "--json"]));
    let high = json(&kehu(&["report", &book, "--json"]))["tiers"]["high"]
        .as_u64()
        .unwrap();
    assert_eq!(vip.as_array().unwrap().len() as u64, high);
    let tiers: u64 = report["tiers"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(tiers, buyers);
    // Saved segments: dynamic follows the book, static keeps its members.
    assert!(kehu(&["segment", "save", &book, "sh", condition])
        .status
        .success());
    assert!(
        kehu(&["segment", "save", &book, "sh-frozen", condition, "--static"])
            .status
            .success()
    );
    let list = json(&kehu(&["segment", "list", &book, "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    let listed = json(&kehu(&["segment", "members", &book, "sh", "--json"]));
    assert_eq!(listed.as_array().unwrap().len() as u64, count);
    let page = json(&kehu(&[
        "segment", "members", &book, "sh", "--offset", "1", "--limit", "2", "--json",
    ]));
    assert_eq!(page.as_array().unwrap(), &listed.as_array().unwrap()[1..3]);
    let why = json(&kehu(&["segment", "explain", &book, "sh", id, "--json"]));
    assert_eq!(why["member"], true);
    let newcomer = path(&dir, "newcomer.csv");
    fs::write(
        &newcomer,
        "id,name,city
N1,新客户,上海
",
    )
    .unwrap();
    kehu(&["import", &book, &newcomer]);
    let order = path(&dir, "order.csv");
    fs::write(&order, "客户编号,日期,金额\nN1,2025-06-01 10:00:00,10.00\n").unwrap();
    let o = kehu(&[
        "import",
        &book,
        &order,
        "--kind",
        "purchases",
        "--currency",
        "CNY",
        "--json",
    ]);
    assert_eq!(json(&o)["imported"], 1);
    let dynamic = json(&kehu(&["segment", "members", &book, "sh", "--json"]));
    let frozen = json(&kehu(&["segment", "members", &book, "sh-frozen", "--json"]));
    assert_eq!(dynamic.as_array().unwrap().len() as u64, count + 1);
    assert_eq!(frozen.as_array().unwrap().len() as u64, count);
    // A misspelt field: exit 1, the position, a caret and a suggestion.
    let out = kehu(&["segment", &book, "citty = \"上海\""]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("line 1, column 1") && err.contains("did you mean city?") && err.contains('^'),
        "{err}"
    );
}

#[test]
fn the_rules_saved_in_a_book_apply_without_rules_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = path(&dir, "rules.toml");
    fs::write(
        &rules,
        "[[custom]]\nname = \"member_level\"\ntype = \"enum\"\nvalues = [\"gold\", \"silver\"]\n",
    )
    .unwrap();
    let book = path(&dir, "book.kehu");
    let out = kehu(&["init", &book, "--rules", &rules]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = path(&dir, "members.csv");
    fs::write(
        &file,
        "name,email,member_level\n张伟,wei@example.com,gold\n李娜,na@example.com,platinum\n",
    )
    .unwrap();
    let out = kehu(&["import", &book, &file, "--json", "-q"]);
    let report = json(&out);
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(
        report["rejected"], 1,
        "the saved enum's values are checked: {report}"
    );
    assert!(
        report["unknown_columns"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let problem = &report["problems"][0];
    assert_eq!(problem["column"], "member_level", "{report}");
}

#[test]
fn importing_a_file_twice_adds_nothing_and_says_why_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    let mut text = String::from("名,姓,邮箱,手机\n");
    for i in 0..40 {
        text.push_str(&format!(
            "Given{i},Family{},user{i}@example.cn,+86 139 {:04} {:04}\n",
            i % 7,
            3000 + i * 37,
            5000 + i * 91
        ));
    }
    fs::write(&file, text).unwrap();
    let book = dir.path().join("b.kehu");
    let (book, file) = (book.to_str().unwrap(), file.to_str().unwrap());
    let first = json(&kehu(&["import", book, file, "--json", "-q"]));
    assert_eq!(first["imported"], 40);
    let second = kehu(&["import", book, file, "-q"]);
    let said = String::from_utf8_lossy(&second.stdout);
    assert!(
        said.contains("0 imported") && said.contains("40 duplicates"),
        "{said}"
    );
    assert!(
        said.contains("line 2: a sure duplicate of customer"),
        "{said}"
    );
    let third = json(&kehu(&["import", book, file, "--json", "-q"]));
    assert_eq!(
        (third["imported"].as_u64(), third["duplicates"].as_u64()),
        (Some(0), Some(40))
    );
    let rows = third["duplicate_rows"].as_array().unwrap();
    assert_eq!(rows.len(), 40);
    assert!(rows
        .iter()
        .all(|r| r["outcome"] == "skipped" && r["candidates"][0]["action"] == "block"));
    // --on-duplicate allow writes them anyway.
    let allowed = json(&kehu(&[
        "import",
        book,
        file,
        "--json",
        "-q",
        "--on-duplicate",
        "allow",
    ]));
    assert_eq!(allowed["imported"], 40);
}

#[test]
fn resident_ids_are_checked_on_import_and_found_by_any_form() {
    let dir = tempfile::tempdir().unwrap();
    let book = path(&dir, "book.kehu");
    let file = path(&dir, "ids.csv");
    fs::write(
        &file,
        "姓名,身份证号,生日\n张伟,11010519491231002x,1949-12-31\n王芳,110105199002301231,\n",
    )
    .unwrap();
    let out = kehu(&["import", &book, &file, "--json"]);
    let r = json(&out);
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    let problem = &r["problems"][0];
    assert_eq!(
        (problem["line"].as_u64(), problem["code"].as_str()),
        (Some(3), Some("id.date")),
        "{r}"
    );
    let found = json(&kehu(&[
        "find",
        &book,
        "--resident-id",
        "11010519491231002X",
        "--json",
    ]));
    assert_eq!(found[0]["resident_id"], "11010519491231002X");
    let text =
        String::from_utf8(kehu(&["get", &book, found[0]["id"].as_str().unwrap()]).stdout).unwrap();
    assert!(text.contains("resident id    11010519491231002X"), "{text}");
    let two = kehu(&["find", &book, "--resident-id", "x", "--tag", "y"]);
    assert!(!two.status.success());
    assert!(String::from_utf8_lossy(&two.stderr).contains("--resident-id"));
}
