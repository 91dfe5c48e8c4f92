//! The one open path: a book from a file, a PostgreSQL URL, a store or
//! memory, checked by the rules saved in it — or by the rules the caller
//! gives, which are then saved, so every later open from any language checks
//! by them too.

use std::path::Path;
use std::sync::Arc;

use kehu_crypt::{BookCodec, KeyProvider};
use kehu_postgres::PgStore;
use kehu_redb::{RedbOptions, RedbStore};
use kehu_rules::{RuleSet, Rules};
use kehu_store::{FieldCodec, MemoryStore, Store};

use crate::{Book, Error, OpenOptions};

impl Book {
    /// Opens the book in the redb file at `path` (created if missing), or the
    /// shared book a `postgres://` / `postgresql://` URL names (its tables
    /// created in an empty database or schema), with the rules saved in it,
    /// else the standard rules.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, &OpenOptions::default(), None)
    }

    /// Opens the book at `path` with these rules, and saves them in it.
    pub fn open_with_rules(path: impl AsRef<Path>, rules: Rules) -> Result<Self, Error> {
        let path = path.as_ref();
        let store = open_store(path, &OpenOptions::default(), None)?;
        Self::from_store_with(store, Some(rules), &OpenOptions::default()).map(|b| b.at(path))
    }

    /// Opens (or creates) an encrypted book at `path` with the rules saved in it.
    ///
    /// Personal fields, related records, history and per-customer documents
    /// are sealed with XChaCha20-Poly1305 under a key of each customer's own,
    /// wrapped by the book key `key` gives; lookups go through blind indexes.
    /// A wrong key is [`Error::Key`] and nothing is written. A plain book
    /// cannot be opened this way, nor an encrypted one without its key.
    pub fn open_encrypted(path: impl AsRef<Path>, key: &dyn KeyProvider) -> Result<Self, Error> {
        Self::open_with(path, &OpenOptions::default(), Some(key))
    }

    /// Opens (or creates) the book at `path` as the options say; `key` opens
    /// (or creates) an encrypted book. The options' rules, when given, are
    /// saved in the book; else the saved rules apply, else the standard ones.
    pub fn open_with(
        path: impl AsRef<Path>,
        options: &OpenOptions,
        key: Option<&dyn KeyProvider>,
    ) -> Result<Self, Error> {
        options.check()?;
        let path = path.as_ref();
        let store = open_store(path, options, key)?;
        Ok(Self::from_store(store, options)?.at(path))
    }

    /// A book over any store, with the rules saved in it (or the options',
    /// which are then saved).
    pub fn from_store(store: Box<dyn Store>, options: &OpenOptions) -> Result<Self, Error> {
        options.check()?;
        let rules = options.rules.clone().map(Rules::new).transpose()?;
        Self::from_store_with(store, rules, options)
    }

    /// A book in memory with the standard rules: nothing is written to disk.
    pub fn in_memory() -> Self {
        Self::with_store(Box::new(MemoryStore::new()), Rules::standard())
    }

    /// A book in memory as the options say.
    pub fn in_memory_with(options: &OpenOptions) -> Result<Self, Error> {
        Self::from_store(Box::new(MemoryStore::new()), options)
    }

    /// Reads a rule set from a TOML or JSON file (by its extension; TOML otherwise).
    pub fn load_rules(path: impl AsRef<Path>) -> Result<Rules, Error> {
        Ok(Rules::new(load_rule_set(path.as_ref())?)?)
    }

    /// Remembers the file the book came from (a URL names no file).
    fn at(self, path: &Path) -> Self {
        if is_book_url(path) {
            self
        } else {
            self.at_path(path)
        }
    }

    fn from_store_with(
        store: Box<dyn Store>,
        rules: Option<Rules>,
        options: &OpenOptions,
    ) -> Result<Self, Error> {
        let book = Self::owned(store, rules, options)?;
        Ok(match (&options.principal, &options.policy) {
            (Some(p), Some(policy)) => book.as_principal(p.clone(), policy)?,
            _ => book,
        })
    }

    fn owned(
        store: Box<dyn Store>,
        rules: Option<Rules>,
        options: &OpenOptions,
    ) -> Result<Self, Error> {
        let mut book = Self::with_store(store, Rules::standard());
        if let Some(actor) = &options.actor {
            book = book.as_actor(actor.trim());
        }
        let rules = match rules {
            Some(rules) => {
                if book.saved_rules()?.as_ref() != Some(rules.rule_set()) {
                    book.save_rules(rules.rule_set())?;
                }
                rules
            }
            None => match book.saved_rules()? {
                Some(set) => Rules::new(set)?,
                None => return Ok(book),
            },
        };
        Ok(book.with_rules(rules))
    }
}

/// A rule set from a TOML or JSON file.
pub(crate) fn load_rule_set(path: &Path) -> Result<RuleSet, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    Ok(if json {
        RuleSet::from_json(&text)?
    } else {
        RuleSet::from_toml(&text)?
    })
}

/// Whether a book's address is a PostgreSQL URL rather than a file.
pub fn is_book_url(path: &Path) -> bool {
    path.to_str().is_some_and(kehu_postgres::is_postgres_url)
}

/// A book's address as messages show it: a URL without its password.
pub fn display_address(path: &Path) -> String {
    match path.to_str() {
        Some(url) if kehu_postgres::is_postgres_url(url) => kehu_postgres::redact_text(url),
        _ => path.display().to_string(),
    }
}

/// A sealed book's codec and the key header to store for it.
type Sealing = (Arc<dyn FieldCodec>, Vec<u8>);

/// The sealing codec a key opens (or makes) for a book's key header, and
/// the key's own error kept aside, so a wrong key is [`Error::Key`].
fn sealing<'k>(
    key: &'k dyn KeyProvider,
    key_error: &'k mut Option<kehu_crypt::Error>,
) -> impl FnMut(Option<&[u8]>) -> kehu_store::Result<Sealing> + 'k {
    move |header| match BookCodec::open(key, header) {
        Ok((codec, header)) => Ok((Arc::new(codec) as Arc<dyn FieldCodec>, header)),
        Err(e) => {
            let message = e.to_string();
            *key_error = Some(e);
            Err(kehu_store::Error::Codec(message))
        }
    }
}

/// The store at `path` — a redb file, or PostgreSQL for a URL — sealed
/// under `key` when one is given.
fn open_store(
    path: &Path,
    options: &OpenOptions,
    key: Option<&dyn KeyProvider>,
) -> Result<Box<dyn Store>, Error> {
    let url = path.to_str().filter(|p| kehu_postgres::is_postgres_url(p));
    let cache_bytes = options
        .cache_bytes()
        .unwrap_or(RedbOptions::default().cache_bytes);
    let Some(key) = key else {
        if let Some(url) = url {
            return Ok(Box::new(PgStore::open(url)?));
        }
        let store = RedbStore::open_with(
            path,
            RedbOptions {
                cache_bytes,
                ..RedbOptions::default()
            },
        )?;
        return Ok(Box::new(store));
    };
    let mut key_error = None;
    let opened: kehu_store::Result<Box<dyn Store>> = match url {
        Some(url) => PgStore::open_sealed(url, &mut sealing(key, &mut key_error))
            .map(|s| Box::new(s) as Box<dyn Store>),
        None => RedbStore::open_sealed(path, cache_bytes, &mut sealing(key, &mut key_error))
            .map(|s| Box::new(s) as Box<dyn Store>),
    };
    match (opened, key_error) {
        (Ok(store), _) => Ok(store),
        (Err(_), Some(e)) => Err(Error::Key(e.to_string())),
        (Err(kehu_store::Error::Codec(m)), None) => Err(Error::Key(m)),
        (Err(e), None) => Err(e.into()),
    }
}
