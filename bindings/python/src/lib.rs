//! `kehu._kehu`: the native half of the `kehu` Python package.
//!
//! Thin on purpose: every method takes and returns JSON text in the same
//! form as the Rust types' serde encoding (the form `kehu export --format
//! jsonl` writes), and the pure-Python half turns it into typed classes.
//! Parsing, the work itself and the answer's encoding all run with the GIL
//! released, inside one helper (`run`) that also maps every error — and
//! any panic — to the `kehu` exception hierarchy in one place (`to_py`).

#![warn(missing_docs)]

use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

use kehu::dedupe::{Deduper, Outcome, Settings};
use kehu::io::{ExportOptions, ImportOptions, Progress};
use kehu::{
    Book, ClassifyOptions, Customer, CustomerId, Error, RecordId, Related, RelatedKind, RuleSet,
    Rules, Survivorship, Timestamp,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

// The engines allocate many small values per record and free them from other
// threads (rayon); as for the CLI, mimalloc does that far faster than glibc.
// Python's own objects still come from Python's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Why a call failed, before it becomes a Python exception.
enum Failure {
    /// The library said no.
    Kehu(Error),
    /// An argument does not have the expected shape or type.
    Type(String),
    /// The book was closed.
    Closed,
    /// A bug: a panic caught at the boundary.
    Internal(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Kehu(e)
    }
}

impl From<kehu::io::TableError> for Failure {
    fn from(e: kehu::io::TableError) -> Self {
        Self::Kehu(Error::Table(e))
    }
}

impl From<kehu::rules::Error> for Failure {
    fn from(e: kehu::rules::Error) -> Self {
        Self::Kehu(Error::Rules(e))
    }
}

type Res<T> = Result<T, Failure>;

/// The one place errors become Python exceptions: the kind names the class
/// in `kehu._errors`, the payload (JSON) carries its fields.
fn to_py(py: Python<'_>, failure: Failure) -> PyErr {
    use serde_json::json;
    let (kind, message, payload) = match failure {
        Failure::Type(m) => ("type", m, json!({})),
        Failure::Closed => (
            "closed",
            "the book is closed; open it again with kehu.Book.open".to_string(),
            json!({}),
        ),
        Failure::Internal(m) => ("internal", m, json!({})),
        Failure::Kehu(e) => {
            let message = e.to_string();
            match e {
                Error::Invalid { index, report } => (
                    "validation",
                    message,
                    json!({"index": index, "violations": report.violations}),
                ),
                Error::Duplicate { candidates } => {
                    ("duplicate", message, json!({ "candidates": candidates }))
                }
                Error::NotFound(id) => ("not_found", message, json!({ "id": id })),
                Error::ImportNotFound(id) => ("not_found", message, json!({ "id": id })),
                Error::SegmentNotFound(name) => ("not_found", message, json!({ "id": name })),
                Error::Conflict {
                    id,
                    expected,
                    found,
                } => (
                    "conflict",
                    message,
                    json!({"id": id, "expected": expected, "found": found}),
                ),
                Error::RevertConflict { import, changed } => (
                    "conflict",
                    message,
                    json!({"id": import, "changed": changed}),
                ),
                Error::AlreadyReverted(id) => ("conflict", message, json!({ "id": id })),
                Error::Segment(p) => (
                    "filter_syntax",
                    message,
                    json!({
                        "line": p.line, "column": p.column, "width": p.width,
                        "reason": p.message, "suggestion": p.suggestion,
                    }),
                ),
                Error::Key(_) => ("key", message, json!({})),
                Error::Denied { user, operation } => (
                    "denied",
                    message,
                    json!({"user": user, "operation": operation}),
                ),
                Error::Store(_) | Error::Corrupt(_) => ("storage", message, json!({})),
                Error::Rules(_) => ("rules", message, json!({})),
                Error::Input { file, .. } => ("input", message, json!({ "path": file })),
                Error::Io { path, .. } => ("input", message, json!({ "path": path })),
                _ => ("usage", message, json!({})),
            }
        }
    };
    let build = || -> PyResult<PyErr> {
        let exc = py
            .import("kehu._errors")?
            .getattr("_native_error")?
            .call1((kind, message.clone(), payload.to_string()))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// Runs `f` with the GIL released, catching panics, and maps its failure.
fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Res<T> + Send) -> PyResult<T> {
    let result = py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(f)));
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(failure)) => Err(to_py(py, failure)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(to_py(
                py,
                Failure::Internal(format!("internal error in kehu (please report it): {what}")),
            ))
        }
    }
}

/// Decodes an argument, naming the path of a value of the wrong type.
fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Res<T> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." || path.is_empty() {
            what.to_string()
        } else {
            format!("{what}.{path}")
        };
        Failure::Type(format!("{at}: {}", e.inner()))
    })
}

/// Encodes an answer.
fn encode<T: Serialize + ?Sized>(value: &T) -> Res<String> {
    serde_json::to_string(value).map_err(|e| Failure::Internal(format!("encoding an answer: {e}")))
}

fn customer_id(text: &str) -> Res<CustomerId> {
    parse(
        "id",
        &serde_json::Value::String(text.trim().to_string()).to_string(),
    )
    .map_err(|_| Failure::Type(format!("not a kehu customer id: {text:?}")))
}

fn record_id(text: &str) -> Res<RecordId> {
    parse(
        "id",
        &serde_json::Value::String(text.trim().to_string()).to_string(),
    )
    .map_err(|_| Failure::Type(format!("not a kehu record id: {text:?}")))
}

fn instant(text: Option<&str>) -> Res<Option<Timestamp>> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| Failure::Type(format!("as_of: not an ISO 8601 instant ({t:?}): {e}")))
    })
    .transpose()
}

/// Calls a Python progress callback; its exceptions go to `sys.unraisablehook`
/// (the work cannot stop half-way) and the work goes on.
fn report_progress(callback: &Option<Py<PyAny>>, args: (u64, Option<u64>, u64, Option<u64>)) {
    if let Some(cb) = callback {
        Python::attach(|py| {
            if let Err(e) = cb.call1(py, args) {
                e.write_unraisable(py, Some(cb.bind(py)));
            }
        });
    }
}

/// Import options as Python passes them (all optional; names as in Rust).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ImportArgs {
    kind: Option<String>,
    format: Option<String>,
    encoding: Option<String>,
    delimiter: Option<String>,
    mapping: Vec<(String, String)>,
    mode: Option<String>,
    keys: Option<Vec<String>>,
    customer_key: Option<String>,
    currency: Option<String>,
    dry_run: bool,
    batch_size: Option<usize>,
    rejects: Option<PathBuf>,
}

impl ImportArgs {
    fn options(self) -> Res<ImportOptions> {
        let mut o = ImportOptions::default();
        if let Some(k) = self.kind {
            o.kind = k.parse()?;
        }
        if let Some(f) = self.format {
            o.format = Some(f.parse()?);
        }
        if let Some(e) = self.encoding {
            o.encoding = Some(e.parse()?);
        }
        if let Some(d) = self.delimiter {
            let mut bytes = d.bytes();
            match (bytes.next(), bytes.next()) {
                (Some(b), None) => o.delimiter = Some(b),
                _ => {
                    return Err(Failure::Type(format!(
                        "delimiter: one ASCII character, not {d:?}"
                    )))
                }
            }
        }
        o.mapping = self.mapping;
        if let Some(m) = self.mode {
            o.mode = m.parse()?;
        }
        if let Some(keys) = self.keys {
            o.keys = keys.iter().map(|k| k.parse()).collect::<Result<_, _>>()?;
        }
        if let Some(k) = self.customer_key {
            o.customer_key = k.parse()?;
        }
        if let Some(c) = self.currency {
            o.currency =
                Some(c.parse().map_err(|_| {
                    Failure::Type(format!("currency: not an ISO 4217 code: {c:?}"))
                })?);
        }
        o.dry_run = self.dry_run;
        if let Some(b) = self.batch_size {
            o.batch_size = b.max(1);
        }
        o.rejects = self.rejects;
        Ok(o)
    }
}

/// Classification options as Python passes them.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ClassifyArgs {
    currency: Option<String>,
    as_of: Option<String>,
    rfm: Option<kehu::segment::classify::RfmConfig>,
    tiers: Option<kehu::segment::classify::TierConfig>,
    lifecycle: Option<kehu::segment::classify::LifecycleConfig>,
}

impl ClassifyArgs {
    fn options(self) -> Res<ClassifyOptions> {
        let mut o = ClassifyOptions {
            as_of: instant(self.as_of.as_deref())?,
            ..ClassifyOptions::default()
        };
        if let Some(c) = self.currency {
            o.currency =
                Some(c.parse().map_err(|_| {
                    Failure::Type(format!("currency: not an ISO 4217 code: {c:?}"))
                })?);
        }
        if let Some(r) = self.rfm {
            o.rfm = r;
        }
        if let Some(t) = self.tiers {
            o.tiers = t;
        }
        if let Some(l) = self.lifecycle {
            o.lifecycle = l;
        }
        Ok(o)
    }
}

/// Export options as Python passes them.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ExportArgs {
    format: Option<String>,
    tag: Option<String>,
    segment: Option<String>,
    stale_seconds: Option<i64>,
    ids: Option<Vec<String>>,
    consent: Option<(String, Option<String>)>,
}

/// The key an encrypted book is opened with, if one is given.
fn key_provider(
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
fn settings_of(text: Option<String>) -> Res<Settings> {
    match text {
        Some(t) => {
            Settings::parse(&t).map_err(|e| Failure::Kehu(Error::Usage(format!("settings: {e}"))))
        }
        None => Ok(Settings::default()),
    }
}

fn rules_of(rules_json: Option<String>, rules_path: Option<String>) -> Res<Option<Rules>> {
    Ok(match (rules_json, rules_path) {
        (Some(json), _) => Some(Rules::new(RuleSet::from_json(&json)?)?),
        (None, Some(path)) => Some(Book::load_rules(path)?),
        (None, None) => None,
    })
}

/// The native book: a `kehu::Book` that can be closed. Used through
/// `kehu.Book`; every method releases the GIL while it works.
#[pyclass(frozen, module = "kehu._kehu")]
struct NativeBook {
    book: RwLock<Option<Book>>,
}

impl NativeBook {
    fn new(book: Book) -> Self {
        Self {
            book: RwLock::new(Some(book)),
        }
    }

    /// Runs `f` on the open book, with the GIL released.
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Book) -> Res<T> + Send) -> PyResult<T> {
        run(py, || {
            let guard = self.book.read().unwrap_or_else(PoisonError::into_inner);
            let book = guard.as_ref().ok_or(Failure::Closed)?;
            f(book)
        })
    }
}

#[derive(Serialize)]
struct SavedOut<'a> {
    customer: &'a Customer,
    report: &'a kehu::Report,
    duplicates: &'a [kehu::DuplicateCandidate],
}

fn saved(s: &kehu::Saved) -> Res<String> {
    encode(&SavedOut {
        customer: &s.customer,
        report: &s.report,
        duplicates: &s.duplicates,
    })
}

#[derive(Serialize)]
struct PairOut<'a> {
    id_l: &'a str,
    id_r: &'a str,
    probability: f64,
    weight: Option<f64>,
    decision: kehu::dedupe::Decision,
    clustered: bool,
}

#[pymethods]
impl NativeBook {
    /// Opens (or creates) the book file at `path`.
    #[staticmethod]
    #[pyo3(signature = (path, rules_json=None, rules_path=None, cache_bytes=None, actor=None, passphrase=None, key_file=None))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        rules_json: Option<String>,
        rules_path: Option<String>,
        cache_bytes: Option<usize>,
        actor: Option<String>,
        passphrase: Option<String>,
        key_file: Option<PathBuf>,
    ) -> PyResult<Self> {
        run(py, move || {
            let rules = rules_of(rules_json, rules_path)?.unwrap_or_else(Rules::standard);
            let mut options = kehu::RedbOptions::default();
            if let Some(c) = cache_bytes {
                options.cache_bytes = c;
            }
            let key = key_provider(passphrase, key_file)?;
            let mut book = match key {
                Some(key) => Book::open_encrypted_with(&path, &*key, rules, options.cache_bytes)?,
                None => Book::open_with_options(&path, rules, options)?,
            };
            if let Some(a) = actor {
                book = book.as_actor(a);
            }
            Ok(Self::new(book))
        })
    }

    /// A book in memory.
    #[staticmethod]
    #[pyo3(signature = (rules_json=None, rules_path=None, actor=None))]
    fn memory(
        py: Python<'_>,
        rules_json: Option<String>,
        rules_path: Option<String>,
        actor: Option<String>,
    ) -> PyResult<Self> {
        run(py, move || {
            let rules = rules_of(rules_json, rules_path)?.unwrap_or_else(Rules::standard);
            let mut book = Book::with_store(Box::new(kehu::MemoryStore::new()), rules);
            if let Some(a) = actor {
                book = book.as_actor(a);
            }
            Ok(Self::new(book))
        })
    }

    /// Closes the book (waiting for calls in flight); later calls raise.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || {
            let book = self
                .book
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            drop(book);
            Ok(())
        })
    }

    /// Whether the book was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.book
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Erases a customer (see `Book::forget`): the ledger entry, as JSON.
    fn forget(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.forget(customer_id(&id)?)?))
    }

    /// The audit trail from entry `start`, as JSON.
    fn audit_trail(&self, py: Python<'_>, start: u64) -> PyResult<String> {
        self.with(py, move |b| encode(&b.audit_trail(start)?))
    }

    /// Checks the audit trail, as JSON.
    fn verify_audit(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.verify_audit()?))
    }

    /// Writes a backup to `path`: its summary, as JSON.
    fn backup(&self, py: Python<'_>, path: PathBuf) -> PyResult<String> {
        self.with(py, move |b| encode(&b.backup(&path)?))
    }

    /// Restores a backup as the book at `target` and opens it.
    #[staticmethod]
    #[pyo3(signature = (backup, target, passphrase=None, key_file=None, actor=None))]
    fn restore(
        py: Python<'_>,
        backup: PathBuf,
        target: PathBuf,
        passphrase: Option<String>,
        key_file: Option<PathBuf>,
        actor: Option<String>,
    ) -> PyResult<Self> {
        run(py, move || {
            let key = key_provider(passphrase, key_file)?;
            let mut book = Book::restore(&backup, &target, key.as_deref())?;
            if let Some(a) = actor {
                book = book.as_actor(a);
            }
            Ok(Self::new(book))
        })
    }

    /// Everything the book holds about one customer, as JSON.
    fn subject_export(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.subject_export(customer_id(&id)?)?))
    }

    /// One call made as a principal under a policy (see `Book::as_principal`):
    /// `method` names the guarded method, `args` its arguments (JSON object).
    fn as_principal(
        &self,
        py: Python<'_>,
        principal: String,
        policy: String,
        method: String,
        args: String,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let principal: kehu::Principal = parse("principal", &principal)?;
            let policy = kehu::Policy::from_json(&policy)?;
            let args: serde_json::Value = parse("args", &args)?;
            let g = b.as_principal(principal, &policy);
            let str_arg = |k: &str| -> Res<String> {
                args.get(k)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| Failure::Type(format!("{method}: {k} is missing")))
            };
            let id = || customer_id(&str_arg("id")?);
            let as_of = || instant(args.get("as_of").and_then(|v| v.as_str()));
            let customer = || -> Res<Customer> {
                serde_json::from_value(args.get("customer").cloned().unwrap_or_default())
                    .map_err(|e| Failure::Type(format!("customer: {e}")))
            };
            match method.as_str() {
                "get" => encode(&g.get(id()?)?),
                "find_by_email" => encode(&g.find_by_email(&str_arg("value")?)?),
                "find_by_phone" => encode(&g.find_by_phone(&str_arg("value")?)?),
                "find_by_external_id" => encode(&g.find_by_external_id(&str_arg("value")?)?),
                "find_by_tag" => encode(&g.find_by_tag(&str_arg("value")?)?),
                "segment_members" => {
                    let seg = b.segment(&str_arg("condition")?)?;
                    encode(&g.segment_members(&seg, as_of()?)?)
                }
                "explain_segment" => {
                    let seg = b.segment(&str_arg("condition")?)?;
                    encode(&g.explain_segment(&seg, id()?, as_of()?)?)
                }
                "check_duplicates" => encode(&g.check_duplicates(&customer()?)?),
                "history" => encode(&g.history(id()?)?),
                "related" => encode(&g.related(id()?)?),
                "export" => {
                    let mut o = ExportOptions::default();
                    if let Some(f) = args.get("format").and_then(|v| v.as_str()) {
                        o.format = f.parse()?;
                    }
                    let mut out = Vec::new();
                    g.export(&mut out, &o)?;
                    encode(&String::from_utf8_lossy(&out))
                }
                "import_file" => {
                    let options: ImportArgs = serde_json::from_value(
                        args.get("options")
                            .cloned()
                            .unwrap_or_else(|| serde_json::json!({})),
                    )
                    .map_err(|e| Failure::Type(format!("options: {e}")))?;
                    encode(&g.import_file(str_arg("path")?, &options.options()?)?)
                }
                "add" => saved(&g.add(customer()?)?),
                "update" => saved(&g.update(customer()?)?),
                "remove" => encode(&g.remove(id()?)?),
                "forget" => encode(&g.forget(id()?)?),
                other => Err(Failure::Type(format!("no guarded method {other:?}"))),
            }
        })
    }

    /// Whether the customer's consent to a purpose (on a channel) holds now.
    #[pyo3(signature = (id, purpose, channel=None))]
    fn has_consent(
        &self,
        py: Python<'_>,
        id: String,
        purpose: String,
        channel: Option<String>,
    ) -> PyResult<bool> {
        self.with(py, move |b| {
            Ok(b.has_consent(customer_id(&id)?, &purpose, channel.as_deref())?)
        })
    }

    /// The erasure ledger, as JSON.
    fn erasures(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.erasures()?))
    }

    /// The rule set in force, as JSON.
    fn rules(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(b.rules().rule_set()))
    }

    /// Normalises and checks a dossier without saving it: the report.
    fn validate(&self, py: Python<'_>, customer: String) -> PyResult<String> {
        self.with(py, move |b| {
            let c: Customer = parse("customer", &customer)?;
            encode(&b.validate(&c))
        })
    }

    /// Adds a dossier (refusing a sure duplicate unless allowed).
    fn add(&self, py: Python<'_>, customer: String, allow_duplicates: bool) -> PyResult<String> {
        self.with(py, move |b| {
            let c: Customer = parse("customer", &customer)?;
            let s = if allow_duplicates {
                b.add_allowing_duplicates(c)?
            } else {
                b.add(c)?
            };
            saved(&s)
        })
    }

    /// Imports JSON Lines (one dossier or flat row per line) from memory.
    #[pyo3(signature = (data, name, options, progress=None))]
    fn import_bytes(
        &self,
        py: Python<'_>,
        data: Vec<u8>,
        name: String,
        options: String,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let options = parse::<ImportArgs>("options", &options)?.options()?;
            let total = data.len() as u64;
            let report = b.import_reader(
                Box::new(std::io::Cursor::new(data)),
                &name,
                Some(total),
                &options,
                &mut |p: Progress| {
                    report_progress(&progress, (p.rows, p.rows_total, p.bytes, p.bytes_total))
                },
            )?;
            encode(&report)
        })
    }

    /// Imports a CSV or JSON Lines file.
    #[pyo3(signature = (path, options, progress=None))]
    fn import_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        options: String,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let options = parse::<ImportArgs>("options", &options)?.options()?;
            let report = b.import_file_with_progress(&path, &options, &mut |p: Progress| {
                report_progress(&progress, (p.rows, p.rows_total, p.bytes, p.bytes_total))
            })?;
            encode(&report)
        })
    }

    /// The imports the book remembers.
    fn imports(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.imports()?))
    }

    /// One import's summary.
    fn import_summary(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.import_summary(record_id(&id)?)?))
    }

    /// Undoes an import.
    fn revert_import(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.revert_import(record_id(&id)?)?))
    }

    /// Writes the book (or part of it) to a file, or returns the bytes when no path is given.
    #[pyo3(signature = (path, options))]
    fn export(
        &self,
        py: Python<'_>,
        path: Option<PathBuf>,
        options: String,
    ) -> PyResult<(u64, Option<Py<PyBytes>>)> {
        let (n, bytes) = self.with(py, move |b| {
            let args: ExportArgs = parse("options", &options)?;
            let mut o = ExportOptions::default();
            if let Some(f) = args.format {
                o.format = f.parse()?;
            }
            o.filter.tag = args.tag;
            o.filter.consent = args.consent;
            if let Some(secs) = args.stale_seconds {
                o.filter.stale = Some(
                    chrono::TimeDelta::try_seconds(secs)
                        .ok_or_else(|| Failure::Type(format!("stale: out of range ({secs} s)")))?,
                );
            }
            if let Some(ids) = args.ids {
                o.filter.ids = ids.iter().map(|i| customer_id(i)).collect::<Res<_>>()?;
            }
            if let Some(condition) = args.segment {
                let members = b.segment_ids(&b.segment(&condition)?, None)?;
                if members.is_empty() {
                    return Ok((0, path.is_none().then(Vec::new)));
                }
                if o.filter.ids.is_empty() {
                    o.filter.ids = members;
                } else {
                    let keep: std::collections::HashSet<_> = members.into_iter().collect();
                    o.filter.ids.retain(|i| keep.contains(i));
                    if o.filter.ids.is_empty() {
                        return Ok((0, path.is_none().then(Vec::new)));
                    }
                }
            }
            match path {
                Some(p) => {
                    let io = |e: std::io::Error| Error::Io {
                        path: p.display().to_string(),
                        source: e,
                    };
                    let file = std::fs::File::create(&p).map_err(io)?;
                    let mut w = std::io::BufWriter::new(file);
                    let n = b.export(&mut w, &o)?;
                    std::io::Write::flush(&mut w).map_err(io)?;
                    Ok((n, None))
                }
                None => {
                    let mut out = Vec::new();
                    let n = b.export(&mut out, &o)?;
                    Ok((n, Some(out)))
                }
            }
        })?;
        Ok((n, bytes.map(|b| PyBytes::new(py, &b).unbind())))
    }

    /// Saves a changed dossier (optimistic: its version must be the stored one).
    fn update(&self, py: Python<'_>, customer: String) -> PyResult<String> {
        self.with(py, move |b| {
            saved(&b.update(parse("customer", &customer)?)?)
        })
    }

    /// One dossier by id.
    fn get(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.get(customer_id(&id)?)?))
    }

    /// Removes a dossier and its related records.
    fn remove(&self, py: Python<'_>, id: String) -> PyResult<()> {
        self.with(py, move |b| Ok(b.remove(customer_id(&id)?)?))
    }

    /// How many dossiers the book holds.
    fn count(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |b| Ok(b.count()?))
    }

    /// Every dossier, in id order, as a JSON list.
    fn customers(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| {
            let snap = b.snapshot()?;
            let all = snap
                .customers()
                .map_err(Error::from)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::from)?;
            encode(&all)
        })
    }

    /// Dossiers by e-mail, phone, external id or tag.
    fn find(&self, py: Python<'_>, by: String, value: String) -> PyResult<String> {
        self.with(py, move |b| {
            let found = match by.as_str() {
                "email" => b.find_by_email(&value)?,
                "phone" => b.find_by_phone(&value)?,
                "external_id" => b.find_by_external_id(&value)?,
                "tag" => b.find_by_tag(&value)?,
                other => return Err(Failure::Type(format!("cannot find by {other:?}"))),
            };
            encode(&found)
        })
    }

    /// Adds a related record (`{"purchase": {...}}` and the like).
    fn relate(&self, py: Python<'_>, record: String) -> PyResult<String> {
        self.with(py, move |b| {
            let r: Related = parse("record", &record)?;
            encode(&b.relate(r)?)
        })
    }

    /// A customer's related records in time order, of one kind or all.
    #[pyo3(signature = (id, kind=None))]
    fn related(&self, py: Python<'_>, id: String, kind: Option<String>) -> PyResult<String> {
        self.with(py, move |b| {
            let id = customer_id(&id)?;
            let all = b.related(id)?;
            let kind: Option<RelatedKind> = kind
                .map(|k| parse("kind", &serde_json::Value::String(k).to_string()))
                .transpose()?;
            let list: Vec<&Related> = all
                .iter()
                .filter(|r| kind.is_none_or(|k| r.kind() == k))
                .collect();
            encode(&list)
        })
    }

    /// A dossier's change log.
    fn history(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.history(customer_id(&id)?)?))
    }

    /// Marks a dossier as confirmed correct now.
    fn verify(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.verify(customer_id(&id)?)?))
    }

    /// Dossiers not verified for `seconds`, the longest-unverified first.
    fn stale(&self, py: Python<'_>, seconds: i64) -> PyResult<String> {
        self.with(py, move |b| {
            let age = chrono::TimeDelta::try_seconds(seconds)
                .ok_or_else(|| Failure::Type(format!("older_than: out of range ({seconds} s)")))?;
            encode(&b.stale(age)?)
        })
    }

    /// The dossiers a draft may duplicate.
    fn check_duplicates(&self, py: Python<'_>, customer: String) -> PyResult<String> {
        self.with(py, move |b| {
            encode(&b.check_duplicates(&parse("customer", &customer)?)?)
        })
    }

    /// Dedupes the whole book: pairs, clusters, warnings, stats.
    #[pyo3(signature = (settings, progress=None))]
    fn dedupe(
        &self,
        py: Python<'_>,
        settings: Option<String>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let settings = settings_of(settings)?;
            let d = b.dedupe(&settings, &mut |p| {
                report_progress(&progress, (p.done, Some(p.total), 0, None))
            })?;
            let ids: Vec<(String, String)> = d
                .pairs
                .iter()
                .map(|(a, b, ..)| (a.to_string(), b.to_string()))
                .collect();
            let pairs: Vec<PairOut<'_>> = d
                .pairs
                .iter()
                .zip(&ids)
                .map(|((_, _, p, decision, clustered), (a, b))| PairOut {
                    id_l: a,
                    id_r: b,
                    probability: *p,
                    weight: None,
                    decision: *decision,
                    clustered: *clustered,
                })
                .collect();
            encode(&serde_json::json!({
                "pairs": pairs,
                "clusters": d.clusters,
                "warnings": d.warnings,
                "stats": d.stats,
            }))
        })
    }

    /// Why two dossiers score as they do.
    fn explain_duplicate(&self, py: Python<'_>, a: String, b_id: String) -> PyResult<String> {
        self.with(py, move |b| {
            encode(&b.explain_duplicate(customer_id(&a)?, customer_id(&b_id)?)?)
        })
    }

    /// Writes the duplicate keys of every dossier (after a bulk import).
    fn index_duplicates(&self, py: Python<'_>) -> PyResult<u64> {
        self.with(py, |b| Ok(b.index_duplicates()?))
    }

    /// Merges dossiers into the first one.
    #[pyo3(signature = (ids, policy=None, dry_run=false))]
    fn merge(
        &self,
        py: Python<'_>,
        ids: Vec<String>,
        policy: Option<String>,
        dry_run: bool,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let ids = ids
                .iter()
                .map(|i| customer_id(i))
                .collect::<Res<Vec<_>>>()?;
            let policy = match policy {
                Some(p) => Survivorship::parse(&p)
                    .map_err(|e| Failure::Kehu(Error::Usage(format!("policy: {e}"))))?,
                None => Survivorship::default(),
            };
            let m = b.merge(&ids, &policy, dry_run)?;
            encode(&serde_json::json!({"customer": m.customer, "receipt": m.receipt}))
        })
    }

    /// Every merge receipt.
    fn merges(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.merges()?))
    }

    /// One merge receipt.
    fn merge_receipt(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.merge_receipt(record_id(&id)?)?))
    }

    /// Undoes a merge: the dossiers as they were.
    fn unmerge(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.unmerge(record_id(&id)?)?))
    }

    /// Checks a segment condition (raises on a syntax or field error).
    fn check_segment(&self, py: Python<'_>, condition: String) -> PyResult<()> {
        self.with(py, move |b| {
            b.segment(&condition).map(|_| ()).map_err(Failure::from)
        })
    }

    /// A segment's members (whole dossiers), in id order.
    #[pyo3(signature = (condition, as_of=None))]
    fn segment_members(
        &self,
        py: Python<'_>,
        condition: String,
        as_of: Option<String>,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let s = b.segment(&condition)?;
            encode(&b.segment_members(&s, instant(as_of.as_deref())?)?)
        })
    }

    /// A segment's members' ids, in id order.
    #[pyo3(signature = (condition, as_of=None))]
    fn segment_ids(
        &self,
        py: Python<'_>,
        condition: String,
        as_of: Option<String>,
    ) -> PyResult<Vec<String>> {
        self.with(py, move |b| {
            let s = b.segment(&condition)?;
            let ids = b.segment_ids(&s, instant(as_of.as_deref())?)?;
            Ok(ids.iter().map(ToString::to_string).collect())
        })
    }

    /// How many customers a segment holds.
    #[pyo3(signature = (condition, as_of=None))]
    fn segment_count(
        &self,
        py: Python<'_>,
        condition: String,
        as_of: Option<String>,
    ) -> PyResult<usize> {
        self.with(py, move |b| {
            let s = b.segment(&condition)?;
            Ok(b.segment_count(&s, instant(as_of.as_deref())?)?)
        })
    }

    /// Why a customer is in a segment or not.
    #[pyo3(signature = (condition, id, as_of=None))]
    fn explain_segment(
        &self,
        py: Python<'_>,
        condition: String,
        id: String,
        as_of: Option<String>,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            let s = b.segment(&condition)?;
            encode(&b.explain_segment(&s, customer_id(&id)?, instant(as_of.as_deref())?)?)
        })
    }

    /// Saves a segment under a name.
    fn save_segment(
        &self,
        py: Python<'_>,
        name: String,
        condition: String,
        dynamic: bool,
    ) -> PyResult<String> {
        self.with(py, move |b| {
            encode(&b.save_segment(&name, &condition, dynamic)?)
        })
    }

    /// The saved segments.
    fn saved_segments(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.saved_segments()?))
    }

    /// One saved segment.
    fn saved_segment(&self, py: Python<'_>, name: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.saved_segment(&name)?))
    }

    /// Deletes a saved segment.
    fn delete_segment(&self, py: Python<'_>, name: String) -> PyResult<()> {
        self.with(py, move |b| Ok(b.delete_segment(&name)?))
    }

    /// A saved segment's members' ids.
    fn saved_segment_members(&self, py: Python<'_>, name: String) -> PyResult<Vec<String>> {
        self.with(py, move |b| {
            Ok(b.saved_segment_members(&name)?
                .iter()
                .map(ToString::to_string)
                .collect())
        })
    }

    /// Calls `callback(segment, customer_id, entered)` when a customer enters
    /// or leaves a dynamic saved segment.
    fn on_segment_change(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<()> {
        self.with(py, move |b| {
            let listener: kehu::Listener = Box::new(move |e: &kehu::SegmentEvent| {
                Python::attach(|py| {
                    let args = (e.segment.clone(), e.customer.to_string(), e.entered);
                    if let Err(err) = callback.call1(py, args) {
                        err.write_unraisable(py, Some(callback.bind(py)));
                    }
                });
            });
            Ok(b.on_segment_change(listener)?)
        })
    }

    /// Re-evaluates the dynamic saved segments over the whole book.
    fn refresh_segments(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |b| Ok(b.refresh_segments()?))
    }

    /// RFM, value tier and lifecycle stage of every customer.
    fn classify(&self, py: Python<'_>, options: String) -> PyResult<String> {
        self.with(py, move |b| {
            let o = parse::<ClassifyArgs>("options", &options)?.options()?;
            let (currency, classes) = b.classify(&o)?;
            encode(&serde_json::json!({"currency": currency, "classes": classes}))
        })
    }

    /// Tags the high value tier (and untags the rest): (tagged, untagged).
    fn apply_tier_tag(&self, py: Python<'_>, tag: String, options: String) -> PyResult<(u64, u64)> {
        self.with(py, move |b| {
            let o = parse::<ClassifyArgs>("options", &options)?.options()?;
            Ok(b.apply_tier_tag(&tag, &o)?)
        })
    }

    /// Counts by kind, stage, source and tag.
    fn stats(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.stats()?))
    }

    /// The classification summed up.
    fn report(&self, py: Python<'_>, options: String) -> PyResult<String> {
        self.with(py, move |b| {
            let o = parse::<ClassifyArgs>("options", &options)?.options()?;
            encode(&b.report(&o)?)
        })
    }

    /// The rule set saved in the book, if any.
    fn saved_rules(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |b| b.saved_rules()?.map(|r| encode(&r)).transpose())
    }

    /// Saves a rule set in the book.
    fn save_rules(&self, py: Python<'_>, rules: String) -> PyResult<()> {
        self.with(py, move |b| {
            let set = RuleSet::from_json(&rules)?;
            Rules::new(set.clone())?;
            Ok(b.save_rules(&set)?)
        })
    }
}

/// A dedupe of a file (or two, linked): its answer, and its model for explanations.
#[pyclass(frozen, module = "kehu._kehu")]
struct NativeDedupe {
    deduper: Deduper,
    answer: String,
}

#[pymethods]
impl NativeDedupe {
    /// The answer: fields, pairs, clusters, warnings and stats, as JSON.
    fn answer(&self) -> String {
        self.answer.clone()
    }

    /// Why two records (by id) score as they do.
    fn explain(&self, py: Python<'_>, id_l: String, id_r: String) -> PyResult<String> {
        run(py, move || {
            let e = self
                .deduper
                .explain(&id_l, &id_r)
                .map_err(|e| Failure::Kehu(Error::Usage(e.to_string())))?;
            encode(&e)
        })
    }
}

/// Where a table comes from: a path or bytes in memory.
#[derive(FromPyObject)]
enum Table {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl Table {
    /// The reader and the name the table goes by (a path's extension tells its format).
    fn reader(self) -> Res<(Box<dyn Read + Send>, String)> {
        Ok(match self {
            Table::Bytes(b) => (Box::new(std::io::Cursor::new(b)), "table".into()),
            Table::Path(p) => {
                let f = std::fs::File::open(&p).map_err(|e| Error::io(&p, e))?;
                let name = p.display().to_string();
                (
                    Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
                    name,
                )
            }
        })
    }
}

fn dedupe_answer(d: &Deduper, out: &Outcome) -> Res<String> {
    let ds = d.dataset();
    // Rows, not objects: [id_l, id_r, probability, decision, clustered, weight]
    // (the field order of Python's Pair), a third of the JSON to read back.
    let pairs: Vec<(&str, &str, f64, kehu::dedupe::Decision, bool, f64)> = out
        .pairs
        .iter()
        .map(|p| {
            let (a, b) = (ds.id(p.a), ds.id(p.b));
            (a, b, p.probability, p.decision, p.clustered, p.weight)
        })
        .collect();
    let mut groups: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for (row, c) in out.clusters.of.iter().enumerate() {
        groups.entry(*c).or_default().push(ds.id(row as u32));
    }
    let mut clusters: Vec<Vec<&str>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for c in &mut clusters {
        c.sort_unstable();
    }
    clusters.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    let fields: Vec<(String, &str)> = ds
        .fields()
        .iter()
        .map(|f| (f.name.clone(), f.kind.name()))
        .collect();
    encode(&serde_json::json!({
        "fields": fields,
        "pairs": pairs,
        "clusters": clusters,
        "warnings": out.warnings,
        "stats": out.stats,
    }))
}

/// Dedupes a CSV table (a path or bytes), or links it to a second one.
#[pyfunction]
#[pyo3(signature = (table, settings=None, link=None, progress=None))]
fn dedupe_table(
    py: Python<'_>,
    table: Table,
    settings: Option<String>,
    link: Option<Table>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NativeDedupe> {
    run(py, move || {
        let settings = settings_of(settings)?;
        let (reader, name) = table.reader()?;
        let mut ds = kehu::io::read_dataset(reader, &name, &settings)?;
        if let Some(l) = link {
            let (reader, name) = l.reader()?;
            kehu::io::append_link(&mut ds, reader, &name, &settings)?;
        }
        let mut deduper = Deduper::new(ds, settings).map_err(Error::from)?;
        let out = deduper
            .run(&mut |p| report_progress(&progress, (p.done, Some(p.total), 0, None)))
            .map_err(Error::from)?;
        let answer = dedupe_answer(&deduper, &out)?;
        Ok(NativeDedupe { deduper, answer })
    })
}

/// Checks a rule set (JSON) and returns it normalised, or raises.
#[pyfunction]
fn check_rules(py: Python<'_>, rules: String) -> PyResult<String> {
    run(py, move || {
        let set = RuleSet::from_json(&rules)?;
        Rules::new(set.clone())?;
        encode(&set)
    })
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

/// Writes a new random key file (never over an existing file).
#[pyfunction]
fn create_key_file(py: Python<'_>, path: PathBuf) -> PyResult<()> {
    run(py, move || {
        kehu::KeyFile::create(&path)
            .map(|_| ())
            .map_err(|e| Failure::Kehu(Error::Key(e.to_string())))
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
            Failure::Type(format!("give the {which} key: a passphrase or a key file"))
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
        let c: kehu::Currency = code.parse().map_err(|_| {
            Failure::Kehu(Error::Usage(format!(
                "not an ISO 4217 currency code: {code:?}"
            )))
        })?;
        Ok(c.exponent())
    })
}

/// The native module.
#[pymodule]
fn _kehu(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeBook>()?;
    m.add_class::<NativeDedupe>()?;
    m.add_function(wrap_pyfunction!(dedupe_table, m)?)?;
    m.add_function(wrap_pyfunction!(check_rules, m)?)?;
    m.add_function(wrap_pyfunction!(load_rules, m)?)?;
    m.add_function(wrap_pyfunction!(currency_exponent, m)?)?;
    m.add_function(wrap_pyfunction!(is_encrypted, m)?)?;
    m.add_function(wrap_pyfunction!(rotate_key, m)?)?;
    m.add_function(wrap_pyfunction!(create_key_file, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
