//! What the tests of a shared book on a server use: the CLI, a fresh
//! database on the test server (KEHU_PG_URL), files of people.
#![allow(dead_code)] // each test binary uses a part

use std::path::Path;
use std::process::{Command, Output};
use std::str::FromStr;

pub fn kehu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kehu"))
        .args(args)
        .output()
        .expect("run kehu")
}

pub fn ok(args: &[&str]) -> String {
    let out = kehu(args);
    assert!(
        out.status.success(),
        "kehu {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh database on the test server, as a URL.
pub fn fresh_database(name: &str) -> String {
    let url = std::env::var("KEHU_PG_URL")
        .expect("KEHU_PG_URL names the test server: eval \"$(bash scripts/pg.sh start)\"");
    let config = postgres::Config::from_str(&url).expect("KEHU_PG_URL parses");
    let mut admin = config.connect(postgres::NoTls).expect("connect");
    let db = format!("kehu_cli_{name}_{}", std::process::id());
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .expect("drop");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("create");
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{db}")
}

/// A file of `n` distinct, valid people, numbered from `from`; `moved`
/// gives them other e-mails and phones (the same people, found again only
/// by their names, birth dates and addresses).
pub fn people(path: &Path, from: usize, n: usize, moved: bool) {
    let mut text = String::from("first_name,last_name,email,phone,date_of_birth,street,city\n");
    for i in from..from + n {
        let (mail, phone) = if moved {
            (
                format!("new{i}@example.org"),
                format!("+86 139 {:04} {:04}", i / 10_000, i % 10_000),
            )
        } else {
            (
                format!("p{i}@example.com"),
                format!("+86 138 {:04} {:04}", i / 10_000, i % 10_000),
            )
        };
        text += &format!(
            "Given{i},Family{},{mail},{phone},{}-{:02}-{:02},长安街{i}号,北京市\n",
            i % 97,
            1940 + i % 60,
            1 + i % 12,
            1 + i % 28,
        );
    }
    std::fs::write(path, text).expect("write");
}

pub fn customers(url: &str) -> usize {
    let stats = ok(&["stats", url]);
    stats
        .lines()
        .find_map(|l| l.strip_prefix("customers: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {stats}"))
}
