//! Encrypted books from the command line: `kehu init --encrypt`, the key from
//! KEHU_PASSPHRASE or a key file, every command on them, and `kehu forget`.

use std::path::Path;
use std::process::{Command, Output};

fn kehu(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kehu"));
    cmd.args(args)
        .env_remove("KEHU_PASSPHRASE")
        .env_remove("KEHU_KEY_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run kehu")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    text(out)
}

fn holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

const CSV: &str = "external_id,given_name,family_name,email,phone\n\
C1,Yuting,Shangguan,yuting.shangguan@example.cn,+86 138 2222 0001\n\
C2,Haoran,Ouyangfeng,haoran.ouyangfeng@example.cn,+86 138 2222 0002\n";

#[test]
fn a_passphrase_book_from_init_to_forget() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("b.kehu");
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, CSV).unwrap();
    let (b, c) = (book.to_str().unwrap(), csv.to_str().unwrap());
    let pass = [("KEHU_PASSPHRASE", "ein langer satz")];

    assert!(ok(&kehu(&["init", b, "--encrypt"], &pass)).contains("encrypted"));
    ok(&kehu(&["import", b, c], &pass));
    assert!(ok(&kehu(&["get", b, "C1"], &pass)).contains("Yuting"));
    assert!(ok(&kehu(
        &["find", b, "--email", "haoran.ouyangfeng@example.cn"],
        &pass
    ))
    .contains("Haoran"));
    assert!(ok(&kehu(&["segment", b, "given_name = \"Yuting\""], &pass)).contains("Yuting"));
    for needle in [
        "Yuting",
        "Shangguan",
        "yuting.shangguan@example.cn",
        "+8613822220001",
        "C1,",
    ] {
        assert!(!holds(&book, needle), "{needle:?} is in the encrypted file");
    }

    let wrong = kehu(&["get", b, "C1"], &[("KEHU_PASSPHRASE", "falsch")]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong).contains("wrong key"), "{}", text(&wrong));
    let none = kehu(&["get", b, "C1"], &[]);
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none).contains("KEHU_PASSPHRASE"), "{}", text(&none));

    let subject = ok(&kehu(&["subject-export", b, "C1"], &pass));
    assert!(
        subject.contains("yuting.shangguan@example.cn") && !subject.contains("haoran"),
        "{subject}"
    );
    let bak = dir.path().join("b.bak");
    let k = bak.to_str().unwrap();
    assert!(ok(&kehu(&["backup", b, k], &pass)).contains("keyed by the book key"));
    assert!(ok(&kehu(&["forget", b, "C1"], &pass)).contains("erased"));
    assert!(ok(&kehu(&["restore", k, b], &pass)).contains("1 customers"));
    assert!(ok(&kehu(&["audit", "verify", b], &pass)).contains("intact"));
    let trail = ok(&kehu(&["audit", "list", b], &pass));
    assert!(
        trail.contains("import") && trail.contains("forget"),
        "{trail}"
    );
    assert!(!trail.contains("Yuting"));
    let gone = kehu(&["get", b, "C1"], &pass);
    assert_eq!(gone.status.code(), Some(1), "{}", text(&gone));
    assert!(ok(&kehu(&["get", b, "C2"], &pass)).contains("Haoran"));
}

#[test]
fn a_key_file_book() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("k.kehu");
    let key = dir.path().join("k.key");
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, CSV).unwrap();
    let (b, k, c) = (
        book.to_str().unwrap(),
        key.to_str().unwrap(),
        csv.to_str().unwrap(),
    );
    assert!(ok(&kehu(&["init", b, "--encrypt", "--key-file", k], &[])).contains("new key file"));
    assert!(key.exists());
    ok(&kehu(&["import", b, c, "--key-file", k], &[]));
    assert!(ok(&kehu(&["get", b, "C2"], &[("KEHU_KEY_FILE", k)])).contains("Ouyangfeng"));
    let other = dir.path().join("other.key");
    ok(&kehu(
        &[
            "init",
            dir.path().join("x.kehu").to_str().unwrap(),
            "--encrypt",
            "--key-file",
            other.to_str().unwrap(),
        ],
        &[],
    ));
    let wrong = kehu(
        &["get", b, "C2", "--key-file", other.to_str().unwrap()],
        &[],
    );
    assert!(text(&wrong).contains("wrong key"), "{}", text(&wrong));
    let again = kehu(&["init", b, "--encrypt", "--key-file", k], &[]);
    assert_eq!(again.status.code(), Some(1), "init never overwrites a book");
    let new = dir.path().join("new.key");
    let n = new.to_str().unwrap();
    assert!(ok(&kehu(
        &["rotate-key", b, "--key-file", k, "--new-key-file", n],
        &[]
    ))
    .contains("2 customer keys"));
    assert!(text(&kehu(&["get", b, "C2", "--key-file", k], &[])).contains("wrong key"));
    assert!(ok(&kehu(&["get", b, "C2", "--key-file", n], &[])).contains("Ouyangfeng"));
    assert!(ok(&kehu(
        &["rotate-key", b, "--key-file", n],
        &[("KEHU_NEW_PASSPHRASE", "now a passphrase")]
    ))
    .contains("re-wrapped"));
    assert!(ok(&kehu(
        &["get", b, "C1"],
        &[("KEHU_PASSPHRASE", "now a passphrase")]
    ))
    .contains("Yuting"));
}

#[test]
fn reading_as_a_user_masks_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("a.kehu");
    let csv = dir.path().join("in.csv");
    std::fs::write(
        &csv,
        "external_id,given_name,family_name,email,phone,owner\n\
         C1,Wei,Zhang,zhang.wei@163.com,+86 138 1234 8000,li\n\
         C2,Fang,Liu,liu.fang@qq.com,+86 139 5555 1234,wang\n",
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[roles.sales]\noperations = [\"read\"]\nscope = \"own\"\nfields = { phones = \"masked\", emails = \"masked\" }\n",
    )
    .unwrap();
    let (b, c, p) = (
        book.to_str().unwrap(),
        csv.to_str().unwrap(),
        policy.to_str().unwrap(),
    );
    ok(&kehu(&["import", b, c], &[]));
    let as_li = ["--as", "li", "--roles", "sales", "--policy", p];
    let got = ok(&kehu(&[&["get", b, "C1"][..], &as_li[..]].concat(), &[]));
    assert!(
        got.contains("138****8000") && !got.contains("8613812348000"),
        "{got}"
    );
    let other = kehu(&[&["get", b, "C2"][..], &as_li[..]].concat(), &[]);
    assert_eq!(other.status.code(), Some(1), "{}", text(&other));
    let found = ok(&kehu(
        &[&["find", b, "--tag", "x"][..], &as_li[..]].concat(),
        &[],
    ));
    assert!(!found.contains("Fang"));
    let members = ok(&kehu(
        &[&["segment", b, "kind = person"][..], &as_li[..]].concat(),
        &[],
    ));
    assert!(
        members.contains("Wei") && !members.contains("Fang"),
        "{members}"
    );
    // A condition on a masked field, under any of its names, is refused
    // (it would read the field one answer at a time), as is an explanation.
    for condition in [
        "phone starts_with \"+86\"",
        "邮箱 contains \"163\"",
        "手机 contains \"138\"",
    ] {
        for extra in [&[][..], &["--explain", "C1"][..], &["--count"][..]] {
            let out = kehu(
                &[&["segment", b, condition][..], extra, &as_li[..]].concat(),
                &[],
            );
            let said = text(&out);
            assert_eq!(out.status.code(), Some(1), "{condition}: {said}");
            assert!(said.contains("may not filter on"), "{said}");
            assert!(!said.contains("zhang.wei@163.com") && !said.contains("8613812348000"));
        }
    }
    // Every command reads through the policy: the book's statistics are
    // the whole book's, so a user who reaches only their own is refused.
    let stats = kehu(&[&["stats", b][..], &as_li[..]].concat(), &[]);
    assert_eq!(stats.status.code(), Some(1), "{}", text(&stats));
    let stale = ok(&kehu(
        &[&["stale", b, "--days", "0"][..], &as_li[..]].concat(),
        &[],
    ));
    assert!(
        !stale.contains("Fang") && !stale.contains("8613812348000"),
        "{stale}"
    );
    let export = kehu(&[&["export", b][..], &as_li[..]].concat(), &[]);
    assert_eq!(export.status.code(), Some(1));
    assert!(
        text(&export).contains("permission denied"),
        "{}",
        text(&export)
    );
}

#[test]
fn forget_with_compact_leaves_the_customer_nowhere_in_a_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("p.kehu");
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, CSV).unwrap();
    let (b, c) = (book.to_str().unwrap(), csv.to_str().unwrap());
    ok(&kehu(&["import", b, c], &[]));
    ok(&kehu(&["forget", b, "C1"], &[]));
    assert!(
        holds(&book, "yuting.shangguan@example.cn"),
        "the test bites: freed pages keep the erased value"
    );
    let said = ok(&kehu(&["compact", b], &[]));
    assert!(
        said.contains("compacted") && said.contains("entries"),
        "{said}"
    );
    for needle in ["Yuting", "Shangguan", "yuting.shangguan@example.cn"] {
        assert!(!holds(&book, needle), "{needle:?} is in the compacted file");
    }
    assert!(ok(&kehu(&["get", b, "C2"], &[])).contains("Haoran"));
    // `forget --compact` does both in one step.
    assert!(ok(&kehu(&["forget", b, "C2", "--compact"], &[])).contains("compacted"));
    assert!(!holds(&book, "haoran.ouyangfeng@example.cn"));
}

#[test]
fn forget_follows_merges() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("m.kehu");
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, CSV).unwrap();
    let (b, c) = (book.to_str().unwrap(), csv.to_str().unwrap());
    ok(&kehu(&["import", b, c], &[]));
    let got: serde_json::Value =
        serde_json::from_str(&ok(&kehu(&["get", b, "C2", "--json"], &[]))).unwrap();
    let c2 = got["customer"]["id"].as_str().unwrap().to_string();
    ok(&kehu(&["merge", b, "C1", "C2"], &[]));
    // The merged-away id is refused, naming the survivor.
    let refused = kehu(&["forget", b, &c2], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("merged into"), "{}", text(&refused));
    // Forgetting the survivor erases both, and compaction wipes them.
    ok(&kehu(&["forget", b, "C1", "--compact"], &[]));
    for needle in [
        "Yuting",
        "Haoran",
        "haoran.ouyangfeng@example.cn",
        "yuting.shangguan",
    ] {
        assert!(!holds(&book, needle), "{needle:?} is in the compacted file");
    }
}
