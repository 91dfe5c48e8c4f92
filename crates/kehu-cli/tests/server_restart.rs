//! The PostgreSQL server restarted in the middle of an import: the import
//! stops with a clear error, every transaction it committed before is
//! whole, the audit trail verifies, and the same import run again finishes
//! the file, each row once. A test binary of its own, as it restarts the
//! test server (`bash scripts/pg.sh restart`) that others use.

mod server;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::{customers, fresh_database, kehu, ok, people};

#[test]
fn a_server_restart_mid_import_leaves_whole_transactions_and_the_import_finishes_later() {
    let url = fresh_database("restart");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("people.csv");
    people(&file, 0, 30_000, false);
    ok(&["stats", &url]);
    let import = Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args([
            "import",
            &url,
            file.to_str().expect("utf-8"),
            "--batch",
            "500",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn import");
    let started = Instant::now();
    while customers(&url) < 1_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the import committed nothing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg.sh");
    let restarted = Command::new("bash")
        .args([script, "restart"])
        .status()
        .expect("run scripts/pg.sh restart");
    assert!(restarted.success(), "the server restarts");
    let out = import.wait_with_output().expect("the import ends");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the import went on through a restart"
    );
    assert!(
        said.contains("PostgreSQL") || said.contains("connect"),
        "a clear error: {said}"
    );
    let kept = customers(&url);
    assert!(
        (1_000..30_000).contains(&kept) && kept.is_multiple_of(500),
        "whole transactions only: {kept}"
    );
    let verified = ok(&["audit", "verify", &url]);
    assert!(verified.contains("intact"), "{verified}");
    // Run again: what is in the book is skipped by its key, the rest imported.
    let again = kehu(&["import", &url, file.to_str().expect("utf-8")]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(customers(&url), 30_000);
    let verified = ok(&["audit", "verify", &url]);
    assert!(verified.contains("intact"), "{verified}");
}
