//! Arguments in, answers out: JSON text in the core types' serde form, ids,
//! instants, keys, progress callbacks.

use std::path::PathBuf;

use kehu::{CustomerId, Error, RecordId, Timestamp};
use pyo3::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::errors::{Failure, Res};

/// Decodes a record argument (a dossier, a related record), naming the path
/// of a value of the wrong type or shape (a `TypeError`).
pub(crate) fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Res<T> {
    decode(what, json, false)
}

/// Decodes options, naming the path of the value at fault: a value of the
/// wrong type is a `TypeError`, a value the core refuses (a negative cache
/// size, a mode or currency that does not exist) a `UsageError`.
pub(crate) fn parse_options<T: DeserializeOwned>(what: &str, json: &str) -> Res<T> {
    decode(what, json, true)
}

fn decode<T: DeserializeOwned>(what: &str, json: &str, options: bool) -> Res<T> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." || path.is_empty() {
            what.to_string()
        } else {
            format!("{what}.{path}")
        };
        let inner = e.inner().to_string();
        let message = format!("{at}: {inner}");
        if !options || inner.starts_with("invalid type") || inner.starts_with("missing field") {
            Failure::Type(message)
        } else {
            Failure::Kehu(kehu::Error::Usage(message))
        }
    })
}

/// Encodes an answer.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Res<String> {
    serde_json::to_string(value).map_err(|e| Failure::Internal(format!("encoding an answer: {e}")))
}

/// A customer id from its text.
pub(crate) fn customer_id(text: &str) -> Res<CustomerId> {
    text.trim()
        .parse()
        .map_err(|_| Failure::Type(format!("not a kehu customer id: {text:?}")))
}

/// A record id from its text.
pub(crate) fn record_id(text: &str) -> Res<RecordId> {
    text.trim()
        .parse()
        .map_err(|_| Failure::Type(format!("not a kehu record id: {text:?}")))
}

/// An instant from its ISO 8601 text.
pub(crate) fn instant(text: Option<&str>) -> Res<Option<Timestamp>> {
    text.map(|t| instant_named("as_of", t)).transpose()
}

/// An RFC 3339 instant; `what` names the argument in the error.
pub(crate) fn instant_named(what: &str, text: &str) -> Res<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| Failure::Type(format!("{what}: not an ISO 8601 instant ({text:?}): {e}")))
}

/// Calls a Python progress callback; its exceptions go to `sys.unraisablehook`
/// (the work cannot stop half-way) and the work goes on.
pub(crate) fn report_progress(
    callback: &Option<Py<PyAny>>,
    args: (u64, Option<u64>, u64, Option<u64>),
) {
    if let Some(cb) = callback {
        Python::attach(|py| {
            if let Err(e) = cb.call1(py, args) {
                e.write_unraisable(py, Some(cb.bind(py)));
            }
        });
    }
}

/// The key an encrypted book is opened with, if one is given.
pub(crate) fn key_provider(
    passphrase: Option<String>,
    key_file: Option<PathBuf>,
) -> Res<Option<Box<dyn kehu::KeyProvider>>> {
    Ok(match (passphrase, key_file) {
        (Some(_), Some(_)) => {
            return Err(Failure::Type(
                "give a passphrase or a key_file, not both".into(),
            ))
        }
        (Some(p), None) => Some(Box::new(
            kehu::Passphrase::new(p).map_err(|e| Error::Key(e.to_string()))?,
        )),
        (None, Some(f)) => Some(Box::new(kehu::KeyFile::new(f))),
        (None, None) => None,
    })
}

/// Dedupe settings from TOML or JSON text.
pub(crate) fn settings_of(text: Option<String>) -> Res<kehu::dedupe::Settings> {
    match text {
        Some(t) => Ok(kehu::dedupe::Settings::parse(&t)?),
        None => Ok(kehu::dedupe::Settings::default()),
    }
}

/// Open options (JSON, as `kehu::OpenOptions`), with rules from a file when one is named.
pub(crate) fn open_options(options: &str, rules_path: Option<String>) -> Res<kehu::OpenOptions> {
    let mut o = kehu::OpenOptions::from_json(options)?;
    if let Some(path) = rules_path {
        o.rules = Some(kehu::Book::load_rules(path)?.rule_set().clone());
    }
    Ok(o)
}
