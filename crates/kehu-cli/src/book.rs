//! Opening the book a command names: encrypted or not, with its saved rules
//! or the ones `--rules` gives (which are then saved), as the user who runs it.

use std::path::Path;

use kehu::{Book, Customer, CustomerId, Error, OpenOptions};

use crate::keys;

/// Opens a book that must already exist, with the rules saved in it.
pub(crate) fn existing_book(path: &Path) -> Result<Book, Error> {
    if !kehu::is_book_url(path) && !path.exists() {
        return Err(Error::Usage(format!(
            "{}: no such book (`kehu import {} FILE` creates one)",
            path.display(),
            path.display()
        )));
    }
    open_book(path, None)
}

/// Opens (or creates) a book through the library's one open path: rules
/// given with `--rules` are saved in it; without them the book's saved rules
/// apply, else the standard ones.
pub(crate) fn open_book(path: &Path, rules_file: Option<&Path>) -> Result<Book, Error> {
    let options = OpenOptions {
        rules: rules_file
            .map(|f| Book::load_rules(f).map(|r| r.rule_set().clone()))
            .transpose()?,
        actor: Some(actor()),
        principal: crate::principal().map(|(p, _)| p.clone()),
        policy: crate::principal().map(|(_, policy)| policy.clone()),
        ..OpenOptions::default()
    };
    let key = if (kehu::is_book_url(path) || path.exists()) && Book::is_encrypted(path)? {
        Some(keys::provider(path)?)
    } else {
        None
    };
    Book::open_with(path, &options, key.as_deref())
}

/// Who runs the command: the login name.
fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "kehu".into())
}

/// The dossier an argument names: a kehu id, else an external id.
pub(crate) fn lookup(book: &Book, id: &str) -> Result<Customer, Error> {
    if let Ok(id) = id.parse::<CustomerId>() {
        return book.get(id);
    }
    let mut found = book.find_by_external_id(id)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Usage(format!(
            "no customer with id or external id {id:?} in this book"
        ))),
        n => Err(Error::Usage(format!(
            "{n} customers have external id {id:?}; name one by its kehu id"
        ))),
    }
}
