//! The `Book` object: a thread-safe handle on a kehu book.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use crate::answers::*;
use crate::dossier::{
    customer_id, customer_ids, customers_in, customers_out, instant, record_id, Customer,
};
use crate::error::{KehuError, Result};
use crate::options::*;
use crate::related::{
    consent_out, feedback_out, interaction_out, note_out, purchase_out, Consent, Feedback,
    Interaction, Note, Purchase, RelatedRecord,
};

/// Reports progress of a long call (an import, a dedupe of the book).
/// Called on the calling thread, between batches.
#[uniffi::export(callback_interface)]
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` units (rows or bytes of an import, pairs of a dedupe
    /// stage); `total` is none when unknown.
    fn on_progress(&self, stage: String, done: u64, total: Option<u64>);
}

/// Hears customers enter and leave dynamic saved segments as data changes.
#[uniffi::export(callback_interface)]
pub trait SegmentListener: Send + Sync {
    /// `customer_id` entered (`entered` true) or left the segment named `segment`.
    fn on_change(&self, segment: String, customer_id: String, entered: bool);
}

/// A customer book: a file (redb) or memory. Every method may be called from
/// any thread; writes are serialised by the store. `close_book()` waits for calls
/// in flight; later calls fail with `KehuError.Closed`.
#[derive(uniffi::Object)]
pub struct Book {
    /// The open book, shared with the books of its principals.
    inner: Arc<RwLock<Option<kehu::Book>>>,
    /// The principal this handle answers for, under its policy; none for the owner.
    principal: Option<(kehu::Principal, kehu::Policy)>,
    /// A principal's handle closed by itself (the owner's book stays open).
    detached: AtomicBool,
}

impl Book {
    fn new(book: kehu::Book) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(RwLock::new(Some(book))),
            principal: None,
            detached: AtomicBool::new(false),
        })
    }

    /// Runs `f` on the open book (as this handle's principal sees it); a
    /// panic becomes `KehuError.Internal`.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&kehu::Book) -> Result<T>) -> Result<T> {
        let guard = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let book = guard.as_ref().ok_or_else(KehuError::closed)?;
        if self.detached.load(Ordering::Acquire) {
            return Err(KehuError::closed());
        }
        guarded(|| match &self.principal {
            Some((p, policy)) => f(&book.as_principal(p.clone(), policy)?),
            None => f(book),
        })
    }
}

/// Runs `f`, turning a panic into `KehuError.Internal` (never an abort across the boundary).
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Err(KehuError::internal(format!("kehu failed inside: {what}")))
    })
}

fn segment_of(book: &kehu::Book, condition: &str) -> Result<kehu::Segment> {
    if condition.trim().is_empty() {
        return Err(KehuError::argument("condition", "the condition is empty"));
    }
    Ok(book.segment(condition)?)
}

fn as_of(t: Option<SystemTime>) -> Option<kehu::Timestamp> {
    t.map(instant)
}

#[uniffi::export]
impl Book {
    /// Opens (or creates) the book file at `path`.
    #[uniffi::constructor]
    pub fn open(path: String, options: OpenOptions) -> Result<Arc<Self>> {
        guarded(|| Ok(Self::new(options.open(&path)?)))
    }

    /// A book in memory: nothing is written to disk.
    #[uniffi::constructor]
    pub fn in_memory(options: OpenOptions) -> Result<Arc<Self>> {
        guarded(|| Ok(Self::new(options.in_memory()?)))
    }

    /// Restores the backup file at `backup` into a book file at `target`
    /// (checked whole first; customers erased since stay erased) and opens it.
    #[uniffi::constructor]
    pub fn restore(backup: String, target: String, options: OpenOptions) -> Result<Arc<Self>> {
        guarded(|| {
            let key = options.key_provider()?;
            drop(kehu::Book::restore(&backup, &target, key.as_deref())?);
            Ok(Self::new(options.open(&target)?))
        })
    }

    /// Closes the book file for every holder of this handle and the books of
    /// its principals (waits for calls in flight); later calls fail with
    /// `KehuError.Closed`. On a principal's book it closes that book only.
    /// Closing twice is harmless. (Kotlin's `close()` / `use {}` only
    /// releases this handle; Swift and Python release it when the object goes.)
    pub fn close_book(&self) {
        if self.principal.is_some() {
            self.detached.store(true, Ordering::Release);
            return;
        }
        let mut guard = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        guard.take();
    }

    /// Whether `close_book()` was called (on this book, or on the owner's book of a principal's).
    pub fn is_closed(&self) -> bool {
        self.detached.load(Ordering::Acquire)
            || self
                .inner
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none()
    }

    // --- dossiers ---

    /// Normalises a copy of the dossier and says what the rules think of it; writes nothing.
    pub fn validate(&self, customer: Customer) -> Result<Report> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|b| Ok(b.validate(&c).into()))
    }

    /// Adds a new dossier: normalised, checked (every violation at once) and
    /// checked for duplicates (`KehuError.Duplicate` when one blocks).
    pub fn add(&self, customer: Customer) -> Result<Saved> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|b| Ok(b.add(c)?.into()))
    }

    /// Adds a new dossier without the duplicate check.
    pub fn add_allowing_duplicates(&self, customer: Customer) -> Result<Saved> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|b| Ok(b.add_allowing_duplicates(c)?.into()))
    }

    /// Adds many new dossiers in one transaction, each checked for
    /// duplicates against the book and the ones before it: a sure duplicate
    /// is not written (`status` SKIPPED, its candidates listed). Nothing is
    /// written if one breaks the rules (`KehuError.Invalid` names its index).
    pub fn add_many(&self, customers: Vec<Customer>) -> Result<Vec<Saved>> {
        let list = customers_in(customers)?;
        self.with(|b| Ok(b.add_many(list)?.into_iter().map(Into::into).collect()))
    }

    /// `addMany` with another duplicate policy: skip possible duplicates too,
    /// merge sure ones into the dossier they match, or write all unchecked.
    pub fn add_many_with(
        &self,
        customers: Vec<Customer>,
        options: BatchOptions,
    ) -> Result<Vec<Saved>> {
        let list = customers_in(customers)?;
        let options = options.core()?;
        self.with(|b| {
            Ok(b.add_many_with(list, &options)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Adds many new dossiers in one transaction (checked as `addMany`) and
    /// returns the ids of those written (the fast path for bulk loads);
    /// skipped duplicates give an empty id.
    pub fn add_many_ids(&self, customers: Vec<Customer>) -> Result<Vec<String>> {
        let list = customers_in(customers)?;
        self.with(|b| {
            Ok(b.add_many(list)?
                .into_iter()
                .map(|s| match s.status {
                    kehu::WriteStatus::Skipped => String::new(),
                    _ => s.customer.id.to_string(),
                })
                .collect())
        })
    }

    /// Saves a changed dossier; its `version` must be the stored one (else `KehuError.Conflict`).
    pub fn update(&self, customer: Customer) -> Result<Saved> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|b| Ok(b.update(c)?.into()))
    }

    /// The dossier with this id.
    pub fn get(&self, id: String) -> Result<Customer> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.get(id)?.into()))
    }

    /// A dossier as it was at an instant (from its change log); none when it
    /// was created after it, or is gone.
    pub fn customer_as_of(&self, id: String, at: SystemTime) -> Result<Option<Customer>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.customer_as_of(id, instant(at))?.map(Into::into)))
    }

    /// Removes a dossier and its related records (kept in its history).
    pub fn remove(&self, id: String) -> Result<()> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.remove(id)?))
    }

    /// How many dossiers the book holds.
    pub fn count(&self) -> Result<u64> {
        self.with(|b| Ok(b.count()?))
    }

    /// Dossiers in id (creation) order: up to `limit` after the id `after` (none: from the start).
    pub fn customers(&self, after: Option<String>, limit: u32) -> Result<Vec<Customer>> {
        let after = after.map(|a| customer_id("after", &a)).transpose()?;
        self.with(|b| Ok(customers_out(b.customers(after, limit as usize)?)))
    }

    /// Dossiers with this e-mail address (normalised first).
    pub fn find_by_email(&self, address: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by_email(&address)?)))
    }

    /// Dossiers with this phone number (normalised first).
    pub fn find_by_phone(&self, number: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by_phone(&number)?)))
    }

    /// Dossiers with this external id.
    pub fn find_by_external_id(&self, external_id: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by_external_id(&external_id)?)))
    }

    /// Dossiers with this tag.
    pub fn find_by_tag(&self, tag: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by_tag(&tag)?)))
    }

    /// Dossiers whose indexed `field` (any name the catalogue knows: `email`,
    /// `手机`, `身份证号`…) holds `value`.
    pub fn find_by(&self, field: String, value: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by(&field, &value)?)))
    }

    /// Dossiers with this resident ID (居民身份证号; a 15-digit one is read as its 18-digit form).
    pub fn find_by_resident_id(&self, number: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by_resident_id(&number)?)))
    }

    /// Dossiers with this unified social credit code (统一社会信用代码).
    pub fn find_by_credit_code(&self, code: String) -> Result<Vec<Customer>> {
        self.with(|b| Ok(customers_out(b.find_by_credit_code(&code)?)))
    }

    /// Marks the dossier as confirmed correct now (it leaves the stale queue).
    pub fn verify(&self, id: String) -> Result<Customer> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.verify(id)?.into()))
    }

    /// Dossiers not confirmed for `older_than_days` days, longest unconfirmed first.
    pub fn stale(&self, older_than_days: u32) -> Result<Vec<Customer>> {
        self.with(|b| {
            Ok(customers_out(b.stale(chrono::TimeDelta::days(
                i64::from(older_than_days),
            ))?))
        })
    }

    /// The dossier's history, oldest first.
    pub fn history(&self, id: String) -> Result<Vec<Change>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.history(id)?.into_iter().map(Into::into).collect()))
    }

    /// The change feed after sequence number `after` (0: from the start), at
    /// most `limit` entries in commit order; keep the last `seq` handled and
    /// ask again from it.
    pub fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<FeedEntry>> {
        self.with(|b| {
            Ok(b.changes_since(after, limit as usize)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// `changesSince`, waiting up to `timeout_ms` for there to be any: a
    /// commit (of any process on a PostgreSQL book) wakes it at once.
    pub fn wait_for_changes(
        &self,
        after: u64,
        limit: u32,
        timeout_ms: u64,
    ) -> Result<Vec<FeedEntry>> {
        self.with(|b| {
            Ok(b.wait_for_changes(
                after,
                limit as usize,
                std::time::Duration::from_millis(timeout_ms),
            )?
            .into_iter()
            .map(Into::into)
            .collect())
        })
    }

    // --- related records ---

    /// Adds a related record (checked: its customer must exist); returns it with its id.
    pub fn relate(&self, record: RelatedRecord) -> Result<RelatedRecord> {
        let r = kehu::Related::try_from(record)?;
        self.with(|b| Ok(b.relate(r)?.into()))
    }

    /// Every related record of the customer, oldest first.
    pub fn related(&self, id: String) -> Result<Vec<RelatedRecord>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.related(id)?.into_iter().map(Into::into).collect()))
    }

    /// The customer's purchases.
    pub fn purchases(&self, id: String) -> Result<Vec<Purchase>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.purchases(id)?.into_iter().map(purchase_out).collect()))
    }

    /// The customer's interactions.
    pub fn interactions(&self, id: String) -> Result<Vec<Interaction>> {
        let id = customer_id("id", &id)?;
        self.with(|b| {
            Ok(b.interactions(id)?
                .into_iter()
                .map(interaction_out)
                .collect())
        })
    }

    /// The customer's feedback.
    pub fn feedback(&self, id: String) -> Result<Vec<Feedback>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.feedback(id)?.into_iter().map(feedback_out).collect()))
    }

    /// The customer's consent events.
    pub fn consents(&self, id: String) -> Result<Vec<Consent>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.consents(id)?.into_iter().map(consent_out).collect()))
    }

    /// The customer's notes.
    pub fn notes(&self, id: String) -> Result<Vec<Note>> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.notes(id)?.into_iter().map(note_out).collect()))
    }

    /// Whether the customer's consent to `purpose` (on `channel`, if named) holds now.
    pub fn has_consent(
        &self,
        id: String,
        purpose: String,
        channel: Option<String>,
    ) -> Result<bool> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.has_consent(id, &purpose, channel.as_deref())?))
    }

    // --- duplicates ---

    /// Dossiers a draft likely duplicates, most likely first; writes nothing.
    pub fn check_duplicates(&self, customer: Customer) -> Result<Vec<DuplicateCandidate>> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|b| {
            Ok(b.check_duplicates(&c)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// Dedupes the whole book (learning the match model it then keeps for entry checks).
    pub fn dedupe(
        &self,
        settings: Option<String>,
        progress: Option<Box<dyn ProgressListener>>,
    ) -> Result<BookDedupe> {
        let settings = match settings {
            Some(t) => kehu::dedupe::Settings::parse(&t)
                .map_err(|e| KehuError::argument("settings", e.to_string()))?,
            None => kehu::dedupe::Settings::default(),
        };
        self.with(|b| {
            let mut report = |p: kehu::dedupe::Progress| {
                if let Some(l) = &progress {
                    l.on_progress(p.stage.to_string(), p.done, Some(p.total));
                }
            };
            Ok(b.dedupe(&settings, &mut report)?.into())
        })
    }

    /// Why two dossiers match (or not), field by field.
    pub fn explain_duplicate(&self, a: String, b: String) -> Result<MatchExplanation> {
        let (a, b2) = (customer_id("a", &a)?, customer_id("b", &b)?);
        self.with(|book| Ok(book.explain_duplicate(a, b2)?.into()))
    }

    /// Rebuilds the duplicate keys of every dossier; how many were indexed.
    pub fn index_duplicates(&self) -> Result<u64> {
        self.with(|b| Ok(b.index_duplicates()?))
    }

    /// Merges dossiers into the first (survivorship `policy` as TOML or JSON
    /// text; none: the default). `dry_run`: shows the result, writes nothing.
    pub fn merge(&self, ids: Vec<String>, policy: Option<String>, dry_run: bool) -> Result<Merged> {
        let ids = customer_ids("ids", &ids)?;
        let policy = survivorship(policy)?;
        self.with(|b| Ok(b.merge(&ids, &policy, dry_run)?.into()))
    }

    /// Every merge, newest first.
    pub fn merges(&self) -> Result<Vec<MergeReceipt>> {
        self.with(|b| Ok(b.merges()?.into_iter().map(Into::into).collect()))
    }

    /// One merge receipt.
    pub fn merge_receipt(&self, id: String) -> Result<MergeReceipt> {
        let id = record_id("id", &id)?;
        self.with(|b| Ok(b.merge_receipt(id)?.into()))
    }

    /// Undoes a merge: the dossiers as they were, their records moved back.
    pub fn unmerge(&self, receipt: String) -> Result<Vec<Customer>> {
        let id = record_id("receipt", &receipt)?;
        self.with(|b| Ok(customers_out(b.unmerge(id)?)))
    }

    // --- segments ---

    /// Checks a segment condition; the error says where it is wrong.
    pub fn check_segment(&self, condition: String) -> Result<()> {
        self.with(|b| segment_of(b, &condition).map(|_| ()))
    }

    /// Customers the condition selects (as of an instant; none: now).
    pub fn segment_members(
        &self,
        condition: String,
        as_of: Option<SystemTime>,
    ) -> Result<Vec<Customer>> {
        self.with(|b| {
            let s = segment_of(b, &condition)?;
            Ok(customers_out(b.segment_members(&s, self::as_of(as_of))?))
        })
    }

    /// The ids of the customers the condition selects.
    pub fn segment_ids(&self, condition: String, as_of: Option<SystemTime>) -> Result<Vec<String>> {
        self.with(|b| {
            let s = segment_of(b, &condition)?;
            Ok(b.segment_ids(&s, self::as_of(as_of))?
                .into_iter()
                .map(|i| i.to_string())
                .collect())
        })
    }

    /// How many customers the condition selects.
    pub fn segment_count(&self, condition: String, as_of: Option<SystemTime>) -> Result<u64> {
        self.with(|b| {
            let s = segment_of(b, &condition)?;
            Ok(b.segment_count(&s, self::as_of(as_of))? as u64)
        })
    }

    /// Why a customer is (or is not) selected, test by test.
    pub fn explain_segment(
        &self,
        condition: String,
        id: String,
        as_of: Option<SystemTime>,
    ) -> Result<SegmentExplanation> {
        let id = customer_id("id", &id)?;
        self.with(|b| {
            let s = segment_of(b, &condition)?;
            Ok(b.explain_segment(&s, id, self::as_of(as_of))?.into())
        })
    }

    /// Saves a segment under a name; `dynamic`: kept current as data changes.
    pub fn save_segment(
        &self,
        name: String,
        condition: String,
        dynamic: bool,
    ) -> Result<SavedSegment> {
        self.with(|b| Ok(b.save_segment(&name, &condition, dynamic)?.into()))
    }

    /// Every saved segment.
    pub fn saved_segments(&self) -> Result<Vec<SavedSegment>> {
        self.with(|b| Ok(b.saved_segments()?.into_iter().map(Into::into).collect()))
    }

    /// One saved segment.
    pub fn saved_segment(&self, name: String) -> Result<SavedSegment> {
        self.with(|b| Ok(b.saved_segment(&name)?.into()))
    }

    /// Deletes a saved segment.
    pub fn delete_segment(&self, name: String) -> Result<()> {
        self.with(|b| Ok(b.delete_segment(&name)?))
    }

    /// A saved segment's members now (a static one: as saved).
    pub fn saved_segment_members(&self, name: String) -> Result<Vec<String>> {
        self.with(|b| {
            Ok(b.saved_segment_members(&name)?
                .into_iter()
                .map(|i| i.to_string())
                .collect())
        })
    }

    /// Calls `listener` whenever a customer enters or leaves a dynamic saved segment.
    pub fn on_segment_change(&self, listener: Box<dyn SegmentListener>) -> Result<()> {
        let listener: Arc<dyn SegmentListener> = Arc::from(listener);
        self.with(|b| {
            Ok(b.on_segment_change(Box::new(move |e: &kehu::SegmentEvent| {
                listener.on_change(e.segment.clone(), e.customer.to_string(), e.entered)
            }))?)
        })
    }

    /// Re-evaluates every dynamic saved segment now (telling the listeners).
    pub fn refresh_segments(&self) -> Result<()> {
        self.with(|b| Ok(b.refresh_segments()?))
    }

    // --- classification and reports ---

    /// RFM scores, value tiers and lifecycle stages of every customer.
    pub fn classify(&self, options: ClassifyOptions) -> Result<Vec<Classes>> {
        let o = options.core()?;
        self.with(|b| {
            let (currency, classes) = b.classify(&o)?;
            Ok(classes_out(currency, classes))
        })
    }

    /// Tags the high value tier with `tag` and untags the rest: (tagged, untagged).
    pub fn apply_tier_tag(&self, tag: String, options: ClassifyOptions) -> Result<TagChanges> {
        let o = options.core()?;
        self.with(|b| {
            let (tagged, untagged) = b.apply_tier_tag(&tag, &o)?;
            Ok(TagChanges { tagged, untagged })
        })
    }

    /// Counts per kind, stage, source, tag and month.
    pub fn stats(&self) -> Result<BookStats> {
        self.with(|b| Ok(b.stats()?.into()))
    }

    /// RFM groups, tiers, stages and saved segments counted.
    pub fn report(&self, options: ClassifyOptions) -> Result<BookReport> {
        let o = options.core()?;
        self.with(|b| Ok(b.report(&o)?.into()))
    }

    /// The rule set saved in the book, as JSON text (give it to `OpenOptions.rules_text`).
    pub fn saved_rules(&self) -> Result<Option<String>> {
        self.with(|b| {
            b.saved_rules()?
                .map(|r| serde_json::to_string(&r).map_err(|e| KehuError::internal(e.to_string())))
                .transpose()
        })
    }

    /// Saves a rule set (TOML, or JSON starting with `{`) in the book, so that
    /// apps opening it later can check by the same rules.
    pub fn save_rules(&self, rules_text: String) -> Result<()> {
        let set = crate::options::rule_set(&rules_text)?;
        self.with(|b| Ok(b.save_rules(&set)?))
    }

    // --- import and export ---

    /// Imports a CSV or JSON Lines file.
    pub fn import_file(
        &self,
        path: String,
        options: ImportOptions,
        progress: Option<Box<dyn ProgressListener>>,
    ) -> Result<ImportReport> {
        let o = options.core()?;
        self.with(|b| {
            let mut report = |p: kehu::io::Progress| {
                if let Some(l) = &progress {
                    l.on_progress("import".into(), p.bytes, p.bytes_total);
                }
            };
            Ok(b.import_file_with_progress(&path, &o, &mut report)?.into())
        })
    }

    /// Every import, newest first.
    pub fn imports(&self) -> Result<Vec<ImportSummary>> {
        self.with(|b| Ok(b.imports()?.into_iter().map(Into::into).collect()))
    }

    /// One import.
    pub fn import_summary(&self, id: String) -> Result<ImportSummary> {
        let id = record_id("id", &id)?;
        self.with(|b| Ok(b.import_summary(id)?.into()))
    }

    /// Undoes an import (refused if dossiers it wrote changed since).
    pub fn revert_import(&self, id: String) -> Result<RevertReport> {
        let id = record_id("id", &id)?;
        self.with(|b| Ok(b.revert_import(id)?.into()))
    }

    /// Writes dossiers to a file (CSV or JSON Lines); how many were written.
    pub fn export_file(&self, path: String, options: ExportOptions) -> Result<u64> {
        let o = options.core()?;
        self.with(|b| {
            let io = |e: std::io::Error| kehu::Error::Io {
                path: path.clone(),
                source: e,
            };
            let file = std::fs::File::create(&path).map_err(io)?;
            let mut out = std::io::BufWriter::new(file);
            let n = b.export(&mut out, &o)?;
            std::io::Write::flush(&mut out).map_err(io)?;
            Ok(n)
        })
    }

    /// Dossiers as CSV or JSON Lines text.
    pub fn export_text(&self, options: ExportOptions) -> Result<String> {
        let o = options.core()?;
        self.with(|b| {
            let mut out = Vec::new();
            b.export(&mut out, &o)?;
            String::from_utf8(out).map_err(|e| KehuError::internal(e.to_string()))
        })
    }

    // --- privacy ---

    /// Erases a customer: dossier, related records, history and key; only the id stays.
    /// The customers merged into it go with it; an id merged away is refused, naming the survivor.
    pub fn forget(&self, id: String) -> Result<Erasure> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.forget(id)?.into()))
    }

    /// Every erasure, oldest first.
    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        self.with(|b| Ok(b.erasures()?.into_iter().map(Into::into).collect()))
    }

    /// Everything the book holds about one customer.
    pub fn subject_export(&self, id: String) -> Result<SubjectExport> {
        let id = customer_id("id", &id)?;
        self.with(|b| Ok(b.subject_export(id)?.into()))
    }

    /// Audit entries from `from` (1: the first) on.
    pub fn audit_trail(&self, from: u64) -> Result<Vec<AuditEntry>> {
        self.with(|b| Ok(b.audit_trail(from)?.into_iter().map(Into::into).collect()))
    }

    /// Checks the audit chain.
    pub fn verify_audit(&self) -> Result<AuditCheck> {
        self.with(|b| Ok(b.verify_audit()?.into()))
    }

    /// Records an event that is not a write (a screen viewed, a call made);
    /// `note` must hold no personal data.
    pub fn record_audit(
        &self,
        op: String,
        target: Option<String>,
        note: Option<String>,
    ) -> Result<()> {
        if op.trim().is_empty() {
            return Err(KehuError::argument("op", "the operation is empty"));
        }
        let target = target.map(|t| customer_id("target", &t)).transpose()?;
        self.with(|b| Ok(b.record_audit(&op, target, note)?))
    }

    /// Rewrites the book's file to hold only live data, so no freed page keeps
    /// the values of a changed dossier or a forgotten customer (run it after
    /// `forget`). Writes wait meanwhile; the book's owner alone may.
    pub fn compact(&self) -> Result<CompactSummary> {
        self.with(|b| Ok(b.compact()?.into()))
    }

    /// Writes a consistent backup of the book to `path`.
    pub fn backup(&self, path: String) -> Result<BackupSummary> {
        self.with(|b| Ok(b.backup(&path)?.into()))
    }

    /// The same book seen by a principal under a role policy (TOML or JSON text):
    /// a `Book` whose every call goes through the core's policy stage (scope,
    /// masks, filter rights, operations; denials are `KehuError.Denied`). It
    /// shares this book's store; closing one does not close the other.
    pub fn as_principal(&self, principal: Principal, policy: String) -> Result<Arc<Book>> {
        let principal = principal.core()?;
        let policy = if policy.trim_start().starts_with('{') {
            kehu::Policy::from_json(&policy)
        } else {
            kehu::Policy::from_toml(&policy)
        }
        .map_err(|e| KehuError::argument("policy", e.to_string()))?;
        // Refused here, not at the first call: a closed book, or a principal's
        // (the core denies it; a principal cannot grant itself other roles).
        self.with(|b| {
            b.as_principal(principal.clone(), &policy)
                .map(drop)
                .map_err(Into::into)
        })?;
        Ok(Arc::new(Self {
            inner: Arc::clone(&self.inner),
            principal: Some((principal, policy)),
            detached: AtomicBool::new(false),
        }))
    }

    /// The principal this book answers for, or none for the owner.
    pub fn principal(&self) -> Result<Option<Principal>> {
        self.with(|b| Ok(b.principal().cloned().map(Into::into)))
    }

    /// Fails with `KehuError.Denied` unless the principal may do `operation`.
    pub fn check(&self, operation: Operation) -> Result<()> {
        self.with(|b| Ok(b.check(operation.into())?))
    }
}

/// How many dossiers `apply_tier_tag` tagged and untagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct TagChanges {
    /// Tagged.
    pub tagged: u64,
    /// Untagged.
    pub untagged: u64,
}

pub(crate) fn survivorship(policy: Option<String>) -> Result<kehu::Survivorship> {
    match policy {
        Some(t) => {
            kehu::Survivorship::parse(&t).map_err(|e| KehuError::argument("policy", e.to_string()))
        }
        None => Ok(kehu::Survivorship::default()),
    }
}

/// Whether the book file at `path` is encrypted.
#[uniffi::export]
pub fn is_encrypted(path: String) -> Result<bool> {
    guarded(|| Ok(kehu::Book::is_encrypted(&path)?))
}

/// Creates a key file (32 random bytes as hex, readable by the owner only); never overwrites.
#[uniffi::export]
pub fn create_key_file(path: String) -> Result<()> {
    guarded(|| {
        kehu::KeyFile::create(&path)
            .map(|_| ())
            .map_err(|e| kehu::Error::Key(e.to_string()).into())
    })
}

/// Puts an encrypted book (closed) under a new key; how many customer keys were re-wrapped.
#[uniffi::export]
pub fn rotate_key(path: String, old: Key, new: Key) -> Result<u64> {
    guarded(|| {
        let (old, new) = (old.provider()?, new.provider()?);
        Ok(kehu::Book::rotate_key(&path, &*old, &*new)?)
    })
}
