//! Keys of encrypted books: `--key-file` (or `KEHU_KEY_FILE`), else the
//! passphrase in `KEHU_PASSPHRASE`, else a prompt on the terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kehu::{Error, KeyFile, KeyProvider, Passphrase};

/// The `--key-file` given on the command line, if any.
pub(crate) static KEY_FILE: OnceLock<PathBuf> = OnceLock::new();

fn key_error(e: impl std::fmt::Display) -> Error {
    Error::Key(e.to_string())
}

/// The key of an encrypted book, from where the user said it is.
pub(crate) fn provider(book: &Path) -> Result<Box<dyn KeyProvider>, Error> {
    if let Some(file) = KEY_FILE
        .get()
        .cloned()
        .or_else(|| std::env::var_os("KEHU_KEY_FILE").map(PathBuf::from))
    {
        return Ok(Box::new(KeyFile::new(file)));
    }
    if let Ok(p) = std::env::var("KEHU_PASSPHRASE") {
        return Ok(Box::new(Passphrase::new(p).map_err(key_error)?));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let p =
            rpassword::prompt_password(format!("passphrase of {}: ", kehu::display_address(book)))
                .map_err(key_error)?;
        return Ok(Box::new(Passphrase::new(p).map_err(key_error)?));
    }
    Err(Error::Key(format!(
        "{} is encrypted: give --key-file FILE, or set KEHU_KEY_FILE or KEHU_PASSPHRASE",
        kehu::display_address(book)
    )))
}

/// The key for a new encrypted book: a key file (created when missing) or a passphrase.
pub(crate) fn new_provider(book: &Path) -> Result<Box<dyn KeyProvider>, Error> {
    if let Some(file) = KEY_FILE
        .get()
        .cloned()
        .or_else(|| std::env::var_os("KEHU_KEY_FILE").map(PathBuf::from))
    {
        if !file.exists() {
            KeyFile::create(&file).map_err(key_error)?;
            eprintln!(
                "wrote a new key file {}: keep it safe, the book cannot be opened without it",
                file.display()
            );
        }
        return Ok(Box::new(KeyFile::new(file)));
    }
    if std::env::var_os("KEHU_PASSPHRASE").is_none() && std::io::stdin().is_terminal() {
        return prompt_new(book);
    }
    provider(book)
}

/// The new key of a key rotation: a key file (created when missing), else
/// `KEHU_NEW_PASSPHRASE`, else a prompt.
pub(crate) fn replacement(file: Option<&Path>, book: &Path) -> Result<Box<dyn KeyProvider>, Error> {
    if let Some(file) = file {
        if !file.exists() {
            KeyFile::create(file).map_err(key_error)?;
            eprintln!("wrote a new key file {}", file.display());
        }
        return Ok(Box::new(KeyFile::new(file)));
    }
    if let Ok(p) = std::env::var("KEHU_NEW_PASSPHRASE") {
        return Ok(Box::new(Passphrase::new(p).map_err(key_error)?));
    }
    if std::io::stdin().is_terminal() {
        return prompt_new(book);
    }
    Err(Error::Key(
        "the new key: give --new-key-file FILE or set KEHU_NEW_PASSPHRASE".into(),
    ))
}

/// A new passphrase asked twice on the terminal.
fn prompt_new(book: &Path) -> Result<Box<dyn KeyProvider>, Error> {
    let a = rpassword::prompt_password(format!(
        "new passphrase for {}: ",
        kehu::display_address(book)
    ))
    .map_err(key_error)?;
    let b = rpassword::prompt_password("again: ").map_err(key_error)?;
    if a != b {
        return Err(Error::Key("the two passphrases differ".into()));
    }
    Ok(Box::new(Passphrase::new(a).map_err(key_error)?))
}
