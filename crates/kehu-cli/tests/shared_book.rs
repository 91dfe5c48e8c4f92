//! A book on PostgreSQL shared by processes at once: two imports, a reader
//! and a writer killed with -9, then the book checked whole. KEHU_PG_URL
//! names the server (`eval "$(bash scripts/pg.sh start)"`); each test makes
//! a database of its own.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

mod server;

use server::{customers, fresh_database, kehu, ok, people};

#[test]
fn two_imports_a_reader_and_a_killed_writer_leave_every_row_once() {
    let url = fresh_database("concurrent");
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (
        dir.path().join("a.csv"),
        dir.path().join("b.csv"),
        dir.path().join("c.csv"),
    );
    people(&a, 0, 1500, false);
    people(&b, 1500, 1500, false);
    people(&c, 100_000, 20_000, false);
    // The book is created before the writers race (the first open makes its tables).
    ok(&["stats", &url]);
    let spawn = |file: &Path, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kehu"))
            .arg("import")
            .arg(&url)
            .arg(file)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn import")
    };
    // The batched writer first; once some of its transactions committed,
    // the two others start, a reader reads throughout, and it is killed.
    let mut killed = spawn(&c, &["--batch", "500"]);
    let started = Instant::now();
    let mut reads = 0;
    while customers(&url) < 1000 && started.elapsed() < Duration::from_secs(120) {
        reads += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = spawn(&a, &[]);
    let second = spawn(&b, &[]);
    for _ in 0..5 {
        customers(&url);
        reads += 1;
        std::thread::sleep(Duration::from_millis(40));
    }
    killed.kill().expect("kill -9");
    killed.wait().expect("reap");
    for child in [first, second] {
        let out = child.wait_with_output().expect("import");
        assert!(
            out.status.success(),
            "an import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(reads > 0);
    let csv = ok(&["export", &url]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let email = header
        .iter()
        .position(|h| *h == "emails")
        .expect("emails column");
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in lines {
        let value = line.split(',').nth(email).unwrap_or("").to_string();
        *seen.entry(value).or_default() += 1;
    }
    for i in 0..3000 {
        assert_eq!(
            seen.get(&format!("p{i}@example.com")),
            Some(&1),
            "row {i} of the two full imports"
        );
    }
    let from_killed = (100_000..120_000)
        .filter(|i| {
            let n = seen.get(&format!("p{i}@example.com")).copied().unwrap_or(0);
            assert!(n <= 1, "p{i} twice");
            n == 1
        })
        .count();
    eprintln!("{reads} reads during the writes; the killed writer left {from_killed} rows");
    assert!(
        from_killed >= 1000,
        "the killed writer's committed batches are kept"
    );
    assert!(
        from_killed < 20_000,
        "the kill landed after the import ended"
    );
    assert_eq!(
        from_killed % 500,
        0,
        "the killed writer left a part of a transaction: {from_killed} rows"
    );
    assert_eq!(customers(&url), 3000 + from_killed);
    let audit = ok(&["audit", "verify", &url]);
    assert!(audit.contains("intact"), "{audit}");
    let count = ok(&[
        "segment",
        &url,
        "email ends_with \"@example.com\"",
        "--count",
    ]);
    assert_eq!(count.trim(), (3000 + from_killed).to_string());
    ok(&["dedupe", &url]);
    // Both imports' duplicate keys were kept (each added its run to the runs
    // as the other left them): a row of each is found again at entry.
    let again = dir.path().join("again.csv");
    let (first_row, last_row) = (dir.path().join("0.csv"), dir.path().join("2999.csv"));
    people(&first_row, 0, 1, true);
    people(&last_row, 2999, 1, true);
    let mut text = std::fs::read_to_string(&first_row).expect("read");
    text += std::fs::read_to_string(&last_row)
        .expect("read")
        .lines()
        .nth(1)
        .expect("row");
    text.push('\n');
    std::fs::write(&again, text).expect("write");
    let out = kehu(&["import", &url, again.to_str().expect("utf-8")]);
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("0 imported") && said.contains("2 skipped"),
        "{said}"
    );
    assert_eq!(customers(&url), 3000 + from_killed);
}

#[test]
fn the_same_dossier_changed_by_two_processes_keeps_both_histories_and_one_version() {
    let url = fresh_database("same");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("one.csv");
    std::fs::write(
        &file,
        "external_id,first_name,last_name,email\nERP-1,Wei,Zhang,wei@example.com\n",
    )
    .expect("write");
    ok(&["import", &url, file.to_str().expect("utf-8")]);
    let updates: Vec<_> = (0..4)
        .map(|i| {
            let f = dir.path().join(format!("u{i}.csv"));
            std::fs::write(
                &f,
                format!("external_id,first_name,last_name,email,job_title\nERP-1,Wei,Zhang,wei@example.com,title {i}\n"),
            )
            .expect("write");
            Command::new(env!("CARGO_BIN_EXE_kehu"))
                .args(["import", &url])
                .arg(&f)
                .args(["--key", "external_id", "--mode", "upsert"])
                .output()
                .expect("spawn")
        })
        .collect();
    for out in &updates {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(customers(&url), 1);
    let shown = ok(&["get", &url, "ERP-1", "--json"]);
    assert!(
        shown.contains("\"version\": 5") || shown.contains("\"version\":5"),
        "{shown}"
    );
    let audit = ok(&["audit", "verify", &url]);
    assert!(audit.contains("intact"), "{audit}");
}

#[test]
fn a_follower_sees_every_change_of_two_writing_processes_once_in_order() {
    use std::io::BufRead;
    let url = fresh_database("follow");
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    people(&a, 0, 300, false);
    people(&b, 300, 300, false);
    ok(&["stats", &url]);
    let mut follower = Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args(["changes", &url, "--follow", "--interval-ms", "600000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("follow");
    let stdout = follower.stdout.take().expect("stdout");
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let writers: Vec<_> = [&a, &b]
        .iter()
        .map(|f| {
            Command::new(env!("CARGO_BIN_EXE_kehu"))
                .arg("import")
                .arg(&url)
                .arg(f)
                .args(["--batch", "50"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("import")
        })
        .collect();
    for mut w in writers {
        assert!(w.wait().expect("import").success());
    }
    let all: Vec<String> = ok(&["changes", &url]).lines().map(str::to_string).collect();
    // One creation per dossier (each import checks its transactions
    // against what the other committed: a row or two of the 600 may be
    // found a duplicate of one of the other file's).
    let created = customers(&url);
    assert!(created > 590, "{created} of 600 rows");
    assert_eq!(all.len(), created, "one creation per dossier");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < all.len() && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            seen.push(line);
        }
    }
    // (It waits up to ten minutes between looks: only the commits' NOTIFY
    // can have woken it in time.)
    follower.kill().expect("stop following");
    let _ = follower.wait();
    assert_eq!(seen, all, "the follower saw every change once, in order");
    let seq = |l: &String| -> u64 {
        let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
        v["seq"].as_u64().expect("seq")
    };
    assert!(seen.windows(2).all(|w| seq(&w[0]) < seq(&w[1])));
    // From a cursor: what came after it.
    let cursor = seq(&all[449]).to_string();
    let rest = ok(&["changes", &url, "--since", &cursor]);
    assert_eq!(rest.lines().count(), all.len() - 450);
}

/// The backends of a database waiting for a lock, as the server lists them.
fn waiting_for_a_lock(admin: &mut postgres::Client, db: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            &[&db],
        )
        .expect("pg_stat_activity")
        .get(0)
}

#[test]
fn a_writer_killed_while_it_waits_for_the_lock_leaves_the_queue_at_once() {
    let url = fresh_database("waiting");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("people.csv");
    people(&file, 0, 50, false);
    ok(&["import", &url, file.to_str().expect("utf-8")]);
    let db = url.rsplit_once('/').expect("a database").1.to_string();
    let config = postgres::Config::from_str(&url).expect("parses");
    // This test holds the book's write lock, as a long write would.
    let mut holder = config.connect(postgres::NoTls).expect("connect");
    holder
        .batch_execute("BEGIN; SELECT value FROM kehu_meta WHERE name = 'seq' FOR UPDATE")
        .expect("take the write lock");
    let mut admin = config.connect(postgres::NoTls).expect("connect");
    people(&file, 1000, 50, false);
    let mut waiting = Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args(["import", &url, file.to_str().expect("utf-8")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while waiting_for_a_lock(&mut admin, &db) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the import never waited"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    waiting.kill().expect("kill -9");
    waiting.wait().expect("reap");
    let killed = Instant::now();
    while waiting_for_a_lock(&mut admin, &db) > 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the killed writer's backend still waits for the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "the killed writer's backend left after {:?}",
        killed.elapsed()
    );
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(customers(&url), 50);
}
