//! `kehu._kehu`: the native half of the `kehu` Python package.
//!
//! Thin on purpose: every method takes and returns JSON text in the same
//! form as the Rust types' serde encoding (the form `kehu export --format
//! jsonl` writes), and the pure-Python half turns it into typed classes.
//! Parsing, the work itself and the answer's encoding all run with the GIL
//! released, inside one helper (`run`) that also maps every error — and
//! any panic — to the `kehu` exception hierarchy in one place (`to_py`).

#![warn(missing_docs)]

use std::path::PathBuf;

use kehu::{Book, RuleSet, Rules};
use pyo3::prelude::*;

mod arrow;
mod book;
mod convert;
mod dedupe;
mod errors;

use convert::{encode, key_provider};
use errors::run;

// The engines allocate many small values per record and free them from other
// threads (rayon); as for the CLI, mimalloc does that far faster than glibc.
// Python's own objects still come from Python's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Checks a rule set (JSON) and returns it normalised, or raises.
#[pyfunction]
fn check_rules(py: Python<'_>, rules: String) -> PyResult<String> {
    run(py, move || {
        let set = RuleSet::from_json(&rules)?;
        Rules::new(set.clone())?;
        encode(&set)
    })
}

/// Reads a survivorship policy (TOML, or JSON) and returns it as JSON, or raises.
#[pyfunction]
fn check_survivorship(py: Python<'_>, text: String) -> PyResult<String> {
    run(py, move || encode(&kehu::Survivorship::parse(&text)?))
}

/// Reads a rule set file (TOML or JSON) and returns it as JSON, or raises.
#[pyfunction]
fn load_rules(py: Python<'_>, path: String) -> PyResult<String> {
    run(py, move || encode(Book::load_rules(path)?.rule_set()))
}

/// Whether the book file at `path` is encrypted.
#[pyfunction]
fn is_encrypted(py: Python<'_>, path: PathBuf) -> PyResult<bool> {
    run(py, move || Ok(Book::is_encrypted(&path)?))
}

/// A book's address as messages show it: a PostgreSQL URL without its password.
#[pyfunction]
fn display_address(path: PathBuf) -> String {
    kehu::display_address(&path)
}

/// Writes a new random key file (never over an existing file).
#[pyfunction]
fn create_key_file(py: Python<'_>, path: PathBuf) -> PyResult<()> {
    run(py, move || {
        kehu::KeyFile::create(&path)
            .map(|_| ())
            .map_err(|e| kehu::Error::Key(e.to_string()).into())
    })
}

/// Puts an encrypted book (closed) under a new key: how many customer keys were re-wrapped.
#[pyfunction]
#[pyo3(signature = (path, old_passphrase=None, old_key_file=None, new_passphrase=None, new_key_file=None))]
fn rotate_key(
    py: Python<'_>,
    path: PathBuf,
    old_passphrase: Option<String>,
    old_key_file: Option<PathBuf>,
    new_passphrase: Option<String>,
    new_key_file: Option<PathBuf>,
) -> PyResult<u64> {
    run(py, move || {
        let missing = |which: &str| {
            errors::Failure::Type(format!("give the {which} key: a passphrase or a key file"))
        };
        let old = key_provider(old_passphrase, old_key_file)?.ok_or_else(|| missing("old"))?;
        let new = key_provider(new_passphrase, new_key_file)?.ok_or_else(|| missing("new"))?;
        Ok(Book::rotate_key(&path, &*old, &*new)?)
    })
}

/// How many decimals an ISO 4217 currency has.
#[pyfunction]
fn currency_exponent(py: Python<'_>, code: String) -> PyResult<u32> {
    run(py, move || {
        let c: kehu::Currency = code
            .parse()
            .map_err(|e: kehu::model::Error| kehu::Error::Usage(e.to_string()))?;
        Ok(c.exponent())
    })
}

/// The native module.
#[pymodule]
fn _kehu(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<book::NativeBook>()?;
    m.add_class::<dedupe::NativeDedupe>()?;
    m.add_class::<arrow::ArrowStream>()?;
    m.add_function(wrap_pyfunction!(dedupe::dedupe_table, m)?)?;
    m.add_function(wrap_pyfunction!(check_rules, m)?)?;
    m.add_function(wrap_pyfunction!(check_survivorship, m)?)?;
    m.add_function(wrap_pyfunction!(load_rules, m)?)?;
    m.add_function(wrap_pyfunction!(currency_exponent, m)?)?;
    m.add_function(wrap_pyfunction!(is_encrypted, m)?)?;
    m.add_function(wrap_pyfunction!(display_address, m)?)?;
    m.add_function(wrap_pyfunction!(rotate_key, m)?)?;
    m.add_function(wrap_pyfunction!(create_key_file, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
