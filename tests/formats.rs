//! Books written by earlier releases open: each format's fixture (the story
//! of `format/story.rs`, written by the release of that format and committed
//! under `fixtures/format-N`) is read, migrated where its format is older,
//! written to and read again — plain and encrypted.

#[path = "format/story.rs"]
mod story;

use std::path::{Path, PathBuf};

use kehu::{Book, Customer};

/// Every format fixture committed, oldest first.
fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("format-"))
        })
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no format fixture under {}",
        root.display()
    );
    dirs
}

/// The format a book file records (read with redb directly, the book closed).
fn format_marker(path: &Path) -> u32 {
    use redb::ReadableDatabase;
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn
        .open_table(redb::TableDefinition::<&str, &[u8]>::new("kehu_meta"))
        .unwrap();
    let bytes = meta.get("format").unwrap().unwrap().value().to_vec();
    u32::from_le_bytes(bytes.try_into().unwrap())
}

/// Copies a fixture book and its erasure ledger (`<book>.erasures`) into `to`.
fn copy_book(dir: &Path, name: &str, to: &Path) {
    std::fs::copy(dir.join(name), to.join(name)).unwrap();
    let ledger = format!("{name}.erasures");
    if dir.join(&ledger).exists() {
        std::fs::copy(dir.join(&ledger), to.join(&ledger)).unwrap();
    }
}

fn open(path: &Path, sealed: bool) -> Book {
    let book = if sealed {
        Book::open_encrypted(path, &story::key())
    } else {
        Book::open(path)
    };
    book.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn each_fixture(sealed: bool) {
    let name = if sealed {
        "encrypted.kehu"
    } else {
        "plain.kehu"
    };
    for dir in fixtures() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(name);
        copy_book(&dir, name, tmp.path());
        let written_in = format_marker(&path);
        assert!(
            written_in >= kehu::store::OLDEST_FORMAT,
            "{}",
            dir.display()
        );
        let book = open(&path, sealed);
        story::check(&book);
        // Opened, it moved to this build's format.
        drop(book);
        assert_eq!(format_marker(&path), kehu::store::FORMAT_VERSION);
        let book = open(&path, sealed);
        story::check(&book);
        // Written to after it opened, then read again from the file.
        let added = book
            .add(Customer::person("Jun", "Newcomer").with_email("jun@example.cn"))
            .unwrap()
            .customer;
        drop(book);
        let book = open(&path, sealed);
        story::check_grown(&book, added.id);
        assert_eq!(
            book.find_by_email("jun@example.cn").unwrap()[0].id,
            added.id
        );
        assert!(
            book.verify_audit().unwrap().is_intact(),
            "{}",
            dir.display()
        );
    }
}

#[test]
fn plain_books_of_every_format_open() {
    each_fixture(false);
}

#[test]
fn encrypted_books_of_every_format_open() {
    each_fixture(true);
}

#[test]
fn an_encrypted_fixture_needs_its_key() {
    for dir in fixtures() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("encrypted.kehu");
        copy_book(&dir, "encrypted.kehu", tmp.path());
        assert!(Book::open(&path).is_err());
        assert!(Book::open_encrypted(&path, &kehu::RawKey::new([8; 32])).is_err());
        // A refused open changed nothing a right one reads.
        story::check(&open(&path, true));
    }
}
