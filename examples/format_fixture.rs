//! Writes the format fixtures of this release: the story of
//! `tests/format/story.rs` in a plain book and in an encrypted one (key:
//! `story::key()`), into `DIR/plain.kehu` and `DIR/encrypted.kehu`. Run it once
//! when the store format moves, into `tests/fixtures/format-N` for the
//! format N being left, and commit the files: every later release must read
//! them (`tests/formats.rs`).
//!
//! `cargo run --example format_fixture -- tests/fixtures/format-1`

#[path = "../tests/format/story.rs"]
mod story;

use kehu::Book;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: format_fixture DIR")?);
    std::fs::create_dir_all(&dir)?;
    for (name, sealed) in [("plain.kehu", false), ("encrypted.kehu", true)] {
        let path = dir.join(name);
        if path.exists() {
            return Err(format!("{} exists: fixtures are written once", path.display()).into());
        }
        let book = if sealed {
            Book::open_encrypted(&path, &story::key())?
        } else {
            Book::open(&path)?
        };
        let book = story::clocked(book);
        story::write(&book);
        story::check(&book);
        drop(book);
        // A fresh file holds no freed pages: the fixture stays small and erased
        // values are really gone from it.
        let book = if sealed {
            Book::open_encrypted(&path, &story::key())?
        } else {
            Book::open(&path)?
        };
        book.compact()?;
        println!(
            "{}: {} bytes",
            path.display(),
            std::fs::metadata(&path)?.len()
        );
    }
    Ok(())
}
