//! `NativeBook`: a `kehu::Book` that can be closed, used through `kehu.Book`.
//! Every method converts its arguments into the core's types, calls the
//! book with the GIL released, and encodes the answer; it decides nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use kehu::io::{ExportOptions, ImportOptions, Progress};
use kehu::{Book, ClassifyOptions, Customer, Related, RelatedKind, RuleSet};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrow::ArrowStream;
use crate::convert::{
    customer_id, encode, instant, instant_named, key_provider, open_options, parse, parse_options,
    record_id, report_progress, settings_of,
};
use crate::errors::{run, Failure, Res};

/// The native book: a `kehu::Book` that can be closed. Used through
/// `kehu.Book`; every method releases the GIL while it works.
#[pyclass(frozen, module = "kehu._kehu")]
pub(crate) struct NativeBook {
    /// The open book, shared with the books of its principals.
    book: Arc<RwLock<Option<Book>>>,
    /// The principal this handle answers for, under its policy; none for the owner.
    principal: Option<(kehu::Principal, kehu::Policy)>,
    /// A principal's handle closed by itself (the owner's book stays open).
    detached: AtomicBool,
}

impl NativeBook {
    pub(crate) fn new(book: Book) -> Self {
        Self {
            book: Arc::new(RwLock::new(Some(book))),
            principal: None,
            detached: AtomicBool::new(false),
        }
    }

    /// Runs `f` on the open book (as this handle's principal sees it), with the GIL released.
    pub(crate) fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Book) -> Res<T> + Send,
    ) -> PyResult<T> {
        run(py, || {
            let guard = self.book.read().unwrap_or_else(PoisonError::into_inner);
            let book = guard.as_ref().ok_or(Failure::Closed)?;
            if self.detached.load(Ordering::Acquire) {
                return Err(Failure::Closed);
            }
            match &self.principal {
                Some((p, policy)) => f(&book.as_principal(p.clone(), policy)?),
                None => f(book),
            }
        })
    }
}

#[pymethods]
impl NativeBook {
    /// Opens (or creates) the book file at `path` (options: `kehu::OpenOptions` as JSON).
    #[staticmethod]
    #[pyo3(signature = (path, options, rules_path=None, passphrase=None, key_file=None))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        options: String,
        rules_path: Option<String>,
        passphrase: Option<String>,
        key_file: Option<PathBuf>,
    ) -> PyResult<Self> {
        run(py, move || {
            let options = open_options(&options, rules_path)?;
            let key = key_provider(passphrase, key_file)?;
            Ok(Self::new(Book::open_with(&path, &options, key.as_deref())?))
        })
    }

    /// A book in memory (options: `kehu::OpenOptions` as JSON).
    #[staticmethod]
    #[pyo3(signature = (options, rules_path=None))]
    fn memory(py: Python<'_>, options: String, rules_path: Option<String>) -> PyResult<Self> {
        run(py, move || {
            let options = open_options(&options, rules_path)?;
            Ok(Self::new(Book::in_memory_with(&options)?))
        })
    }

    /// Closes the book (waiting for calls in flight) for every holder and the
    /// books of its principals; later calls raise. On a principal's book it
    /// closes that book only.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.principal.is_some() {
            self.detached.store(true, Ordering::Release);
            return Ok(());
        }
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
        self.detached.load(Ordering::Acquire)
            || self
                .book
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

    /// Compacts the book's file (see `Book::compact`): its summary, as JSON.
    fn compact(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |b| encode(&b.compact()?))
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

    /// This book as a principal sees it under a policy (see `Book::as_principal`;
    /// principal and policy as JSON): a book whose every call goes through the
    /// core's policy stage, sharing this one's store.
    fn as_principal(&self, py: Python<'_>, principal: String, policy: String) -> PyResult<Self> {
        let (principal, policy) = self.with(py, move |b| {
            let principal: kehu::Principal = parse("principal", &principal)?;
            let policy = kehu::Policy::from_json(&policy)?;
            // Refused here, not at the first call: a closed book, or a
            // principal's (the core denies it).
            b.as_principal(principal.clone(), &policy)?;
            Ok((principal, policy))
        })?;
        Ok(Self {
            book: Arc::clone(&self.book),
            principal: Some((principal, policy)),
            detached: AtomicBool::new(false),
        })
    }

    /// The principal this book answers for (JSON), or None for the owner.
    fn principal(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |b| b.principal().map(encode).transpose())
    }

    /// Fails with a denial unless the principal may do `operation` (its name, as in a policy).
    fn check(&self, py: Python<'_>, operation: String) -> PyResult<()> {
        self.with(py, move |b| {
            let op: kehu::Operation = parse_options(
                "operation",
                &serde_json::Value::String(operation).to_string(),
            )?;
            Ok(b.check(op)?)
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
            encode(&s)
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
            let options: ImportOptions = parse_options("options", &options)?;
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

    /// Imports a table of rows: a DataFrame or Arrow stream, or `(headers, rows)` of text.
    #[pyo3(signature = (table, name, options, progress=None))]
    fn import_rows(
        &self,
        py: Python<'_>,
        table: Bound<'_, PyAny>,
        name: String,
        options: String,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<String> {
        let rows = crate::arrow::table_rows(&table)?.ok_or_else(|| {
            pyo3::exceptions::PyTypeError::new_err("expected a DataFrame or an Arrow table")
        })?;
        let (headers, rows) = rows.into_text_rows();
        self.with(py, move |b| {
            let options: ImportOptions = parse_options("options", &options)?;
            let report = b.import_rows(&headers, rows, &name, &options, &mut |p: Progress| {
                report_progress(&progress, (p.rows, p.rows_total, p.bytes, p.bytes_total))
            })?;
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
            let options: ImportOptions = parse_options("options", &options)?;
            let report = b.import_file_with_progress(&path, &options, &mut |p: Progress| {
                report_progress(&progress, (p.rows, p.rows_total, p.bytes, p.bytes_total))
            })?;
            encode(&report)
        })
    }

    /// The change feed after a sequence number.
    fn changes_since(&self, py: Python<'_>, after: u64, limit: usize) -> PyResult<String> {
        self.with(py, move |b| encode(&b.changes_since(after, limit)?))
    }

    /// The change feed after a sequence number, waiting up to `timeout` seconds for any.
    fn wait_for_changes(
        &self,
        py: Python<'_>,
        after: u64,
        limit: usize,
        timeout: f64,
    ) -> PyResult<String> {
        let timeout = std::time::Duration::from_secs_f64(timeout.clamp(0.0, 86_400.0));
        self.with(py, move |b| {
            encode(&b.wait_for_changes(after, limit, timeout)?)
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
            let o: ExportOptions = parse_options("options", &options)?;
            match path {
                Some(p) => Ok((b.export_file(&p, &o)?, None)),
                None => {
                    let mut out = Vec::new();
                    let n = b.export(&mut out, &o)?;
                    Ok((n, Some(out)))
                }
            }
        })?;
        Ok((n, bytes.map(|b| PyBytes::new(py, &b).unbind())))
    }

    /// A table of the book (`customers`, `purchases`…) as typed Arrow
    /// columns, for the customers an export filter (JSON) selects.
    fn arrow_table(&self, py: Python<'_>, table: String, filter: String) -> PyResult<ArrowStream> {
        self.with(py, move |b| {
            let table: kehu::io::arrow::BookTable = table.parse()?;
            let filter: kehu::io::ExportFilter = parse_options("filter", &filter)?;
            Ok(ArrowStream::new(b.arrow_table(table, &filter)?))
        })
    }

    /// The data-quality report page as HTML (options: `kehu::page::PageOptions` as JSON).
    fn report_page(&self, py: Python<'_>, title: String, options: String) -> PyResult<String> {
        self.with(py, move |b| {
            let options: kehu::page::PageOptions = parse_options("options", &options)?;
            Ok(b.report_page(&title, &options)?)
        })
    }

    /// Saves a changed dossier (optimistic: its version must be the stored one).
    fn update(&self, py: Python<'_>, customer: String) -> PyResult<String> {
        self.with(py, move |b| {
            encode(&b.update(parse("customer", &customer)?)?)
        })
    }

    /// One dossier by id.
    fn get(&self, py: Python<'_>, id: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.get(customer_id(&id)?)?))
    }

    /// One dossier as it was at an instant (RFC 3339), as JSON; none when it
    /// was created after it, or is gone.
    fn customer_as_of(&self, py: Python<'_>, id: String, at: String) -> PyResult<Option<String>> {
        self.with(py, move |b| {
            let at = instant_named("at", &at)?;
            b.customer_as_of(customer_id(&id)?, at)?
                .map(|c| encode(&c))
                .transpose()
        })
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
        self.with(py, |b| encode(&b.customers(None, usize::MAX)?))
    }

    /// Dossiers by an indexed field (`Book::find_by`).
    fn find(&self, py: Python<'_>, by: String, value: String) -> PyResult<String> {
        self.with(py, move |b| encode(&b.find_by(&by, &value)?))
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
            encode(&d)
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
                Some(p) => kehu::Survivorship::parse(&p)?,
                None => kehu::Survivorship::default(),
            };
            encode(&b.merge(&ids, &policy, dry_run)?)
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
            let o: ClassifyOptions = parse_options("options", &options)?;
            let (currency, classes) = b.classify(&o)?;
            encode(&serde_json::json!({"currency": currency, "classes": classes}))
        })
    }

    /// Tags the high value tier (and untags the rest): (tagged, untagged).
    fn apply_tier_tag(&self, py: Python<'_>, tag: String, options: String) -> PyResult<(u64, u64)> {
        self.with(py, move |b| {
            let o: ClassifyOptions = parse_options("options", &options)?;
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
            let o: ClassifyOptions = parse_options("options", &options)?;
            encode(&b.report(&o)?)
        })
    }

    /// The rule set saved in the book, if any.
    fn saved_rules(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |b| b.saved_rules()?.map(|r| encode(&r)).transpose())
    }

    /// Saves a rule set in the book.
    fn save_rules(&self, py: Python<'_>, rules: String) -> PyResult<()> {
        self.with(py, move |b| Ok(b.save_rules(&RuleSet::from_json(&rules)?)?))
    }
}
