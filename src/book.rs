use std::path::Path;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use kehu_model::{
    Consent, Customer, CustomerId, Feedback, Interaction, Note, Purchase, Related, RelatedKind,
    Timestamp,
};
use kehu_rules::{normalize_phone, Identifier, PhoneOutcome, Report, Rules};
use kehu_store::{Batch, Change, IndexKey, Snapshot, Store, Write};

use crate::policy::{Operation, Policy, Principal};
use crate::Error;

/// A source of "now", so that tests and audits can fix the time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A customer book: the one entry point. Every write is normalised and
/// checked against the rules first, and commits whole or not at all.
///
/// A book opened for a principal ([`Book::as_principal`]) is the same book
/// (the same store and caches) with the access policy as one stage of every
/// read and write path: see [`crate::policy`].
pub struct Book {
    pub(crate) store: Arc<Box<dyn Store>>,
    pub(crate) rules: Arc<Rules>,
    pub(crate) actor: String,
    clock: Clock,
    /// Dynamic saved segments' members and their listeners, once asked for.
    pub(crate) live: Arc<std::sync::Mutex<crate::saved::Live>>,
    /// The columnar projection segments are counted on, once asked for.
    pub(crate) projection: Arc<std::sync::Mutex<Option<crate::segments::ProjectionCache>>>,
    /// The model duplicates are scored with, once asked for.
    pub(crate) dedupe_model:
        Arc<std::sync::Mutex<Option<Arc<crate::duplicates::model::BookModel>>>>,
    /// What [`kehu_store::Store::changes_elsewhere`] said when the caches
    /// were last checked: other processes' writes drop them.
    pub(crate) caches_seen: Arc<std::sync::atomic::AtomicU64>,
    /// The book's file, when it was opened from one (its erasure ledger lives beside it).
    pub(crate) path: Option<std::path::PathBuf>,
    /// Who reads and writes, under which policy; none for the book's owner.
    pub(crate) viewer: Option<Arc<crate::policy::Viewer>>,
}

impl std::fmt::Debug for Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Book")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl Book {
    /// Remembers the file the book was opened from.
    pub(crate) fn at_path(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// A book over any store, checked by these rules (not saved in it: see
    /// [`Book::from_store`] for the open path that applies the saved rules).
    pub fn with_store(store: Box<dyn Store>, rules: Rules) -> Self {
        Self::shared(Arc::new(store), rules)
    }

    fn shared(store: Arc<Box<dyn Store>>, rules: Rules) -> Self {
        Self {
            store,
            rules: Arc::new(rules),
            actor: "kehu".into(),
            clock: Arc::new(Utc::now),
            live: Default::default(),
            projection: Default::default(),
            dedupe_model: Default::default(),
            caches_seen: Default::default(),
            path: None,
            viewer: None,
        }
    }

    /// The same book (store, caches, rules and clock shared) seen and changed
    /// by `principal` under `policy`: every read and write of the handle goes
    /// through the policy stage. Roles the policy does not know grant nothing.
    /// Only the owner's book hands out principals' books: asked of a
    /// principal's book it is denied (a handle given to a principal cannot
    /// grant itself other roles).
    pub fn as_principal(&self, principal: Principal, policy: &Policy) -> Result<Book, Error> {
        self.owner_only("as_principal")?;
        Ok(Book {
            store: Arc::clone(&self.store),
            rules: Arc::clone(&self.rules),
            actor: principal.user.clone(),
            clock: Arc::clone(&self.clock),
            live: Arc::clone(&self.live),
            projection: Arc::clone(&self.projection),
            dedupe_model: Arc::clone(&self.dedupe_model),
            caches_seen: Arc::clone(&self.caches_seen),
            path: self.path.clone(),
            viewer: Some(Arc::new(crate::policy::Viewer::new(principal, policy))),
        })
    }

    /// Drops what the book keeps in memory from the store (the segments'
    /// projection, the live segments' members, the duplicate model) when
    /// another process changed a shared book since they were checked; a
    /// book only this process writes keeps them, at no cost.
    pub(crate) fn drop_caches_changed_elsewhere(&self) -> Result<(), Error> {
        let now = self.store.changes_elsewhere()?;
        let seen = self
            .caches_seen
            .swap(now, std::sync::atomic::Ordering::Relaxed);
        if seen != now {
            self.drop_projection();
            self.forget_live_members();
            *self.dedupe_model.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        Ok(())
    }

    /// The principal this handle reads and writes as, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.viewer.as_deref().map(|v| v.principal())
    }

    /// The same book, writing as `actor` (recorded in the change log).
    pub fn as_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }

    /// The same book with another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The rules every write is checked against.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The same book checked against other rules (its store, actor, clock and
    /// file kept; the rules are not saved in it).
    pub fn with_rules(self, rules: Rules) -> Self {
        let (actor, clock, path, viewer) = (self.actor, self.clock, self.path, self.viewer);
        let mut book = Self::shared(self.store, rules);
        book.actor = actor;
        book.clock = clock;
        book.path = path;
        book.viewer = viewer;
        book
    }

    /// Gives back the store, to reopen the book with other rules
    /// ([`Book::with_store`]); refused while a principal's handle on the
    /// same store ([`Book::as_principal`]) lives.
    pub fn into_store(self) -> Result<Box<dyn Store>, Error> {
        Arc::try_unwrap(self.store).map_err(|_| {
            Error::Usage("the store is still in use by another handle of the book".into())
        })
    }

    /// The store underneath, for engines that keep their own indexes: the
    /// owner's alone (a principal's handle is refused, as the store is not
    /// behind the policy).
    pub fn store(&self) -> Result<&dyn Store, Error> {
        self.owner_only("the raw store")?;
        Ok(&**self.store)
    }

    /// A consistent read view of the store, for scans, exports and backups:
    /// the owner's alone, like [`Book::store`].
    pub fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>, Error> {
        self.owner_only("a raw snapshot")?;
        Ok(self.store.snapshot()?)
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.clock)()
    }

    pub(crate) fn batch(&self) -> Batch {
        Batch::new(self.actor.clone(), self.now())
    }

    /// Normalises a copy of the dossier and reports what the rules say of it; writes nothing.
    pub fn validate(&self, customer: &Customer) -> Report {
        let mut copy = customer.clone();
        self.rules.check(&mut copy, self.now())
    }

    /// The dossier with this id (for a principal: in its scope, masked).
    pub fn get(&self, id: CustomerId) -> Result<Customer, Error> {
        let c = self.reach(Operation::Read, id)?;
        self.shown(c).ok_or(Error::NotFound(id))
    }

    /// The stored dossier, as it is (the write paths' view).
    pub(crate) fn stored(&self, id: CustomerId) -> Result<Customer, Error> {
        self.store
            .snapshot()?
            .customer(id)?
            .ok_or(Error::NotFound(id))
    }

    /// Removes a dossier with its related records; its history stays.
    pub fn remove(&self, id: CustomerId) -> Result<(), Error> {
        let current = self.reach(Operation::Delete, id)?;
        self.commit(self.batch().with(Write::Delete {
            id,
            expected: current.version,
        }))
    }

    /// Dossiers in id (creation) order, a page at a time: up to `limit` of
    /// those after the id `after` (from the start when none).
    pub fn customers(
        &self,
        after: Option<CustomerId>,
        limit: usize,
    ) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        let snap = self.store.snapshot()?;
        let mut out = Vec::new();
        for c in snap.customers()? {
            if out.len() >= limit {
                break;
            }
            let c = c?;
            if after.is_none_or(|a| c.id > a) {
                out.extend(self.shown(c));
            }
        }
        Ok(out)
    }

    /// How many dossiers the book holds (for a principal: in its scope).
    pub fn count(&self) -> Result<u64, Error> {
        self.allow(Operation::Read, None)?;
        let snap = self.store.snapshot()?;
        if self.viewer().is_none_or(|v| v.reaches_all()) {
            return Ok(snap.customer_count()?);
        }
        let mut n = 0;
        for c in snap.customers()? {
            n += u64::from(self.reaches(&c?));
        }
        Ok(n)
    }

    /// The dossiers an index entry names, as the handle may see them; a
    /// principal must be allowed to filter on `field`.
    fn find(&self, field: &str, key: IndexKey) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        self.filter_on([field])?;
        let snap = self.store.snapshot()?;
        let ids = snap.lookup(&key)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = snap.customer(id)? {
                out.extend(self.shown(c));
            }
        }
        Ok(out)
    }

    /// The dossiers with this e-mail address (compared without case).
    pub fn find_by_email(&self, address: &str) -> Result<Vec<Customer>, Error> {
        let clean = kehu_rules::clean_text(address).unwrap_or_else(|| address.to_string());
        self.find("emails", IndexKey::email(&clean))
    }

    /// The dossiers with this phone number, written in any format; a number
    /// without a country code is read with the rule set's default region.
    pub fn find_by_phone(&self, number: &str) -> Result<Vec<Customer>, Error> {
        let clean = kehu_rules::clean_text(number).unwrap_or_else(|| number.to_string());
        // The region the rules would read this number in as a dossier's only value.
        let alone = Customer::person("", "").with_phone(clean.as_str());
        let region = self.rules.implied_region(&alone).map(|r| r.region);
        let key = match normalize_phone(&clean, region.as_deref()) {
            PhoneOutcome::Valid(e164) => e164,
            PhoneOutcome::Invalid { .. } => clean,
        };
        self.find("phones", IndexKey::Phone(key))
    }

    /// The dossiers with this id in the source system.
    pub fn find_by_external_id(&self, external_id: &str) -> Result<Vec<Customer>, Error> {
        self.find(
            "external_id",
            IndexKey::ExternalId(external_id.trim().to_string()),
        )
    }

    /// The dossiers with this tag.
    pub fn find_by_tag(&self, tag: &str) -> Result<Vec<Customer>, Error> {
        self.find("tags", IndexKey::Tag(tag.trim().to_string()))
    }

    /// The dossiers with this resident ID (居民身份证号): spaces and a lower-case
    /// `x` forgiven, a 15-digit number read in its 18-digit form. In an
    /// encrypted book the lookup goes through the blind index.
    pub fn find_by_resident_id(&self, number: &str) -> Result<Vec<Customer>, Error> {
        let key = Identifier::CnResidentId
            .canonical(number)
            .unwrap_or_else(|| number.trim().to_string());
        self.find("resident_id", IndexKey::ResidentId(key))
    }

    /// The dossiers with this unified social credit code (统一社会信用代码),
    /// spaces and lower case forgiven.
    pub fn find_by_credit_code(&self, code: &str) -> Result<Vec<Customer>, Error> {
        let key = Identifier::CnCreditCode
            .canonical(code)
            .unwrap_or_else(|| code.trim().to_string());
        self.find("credit_code", IndexKey::CreditCode(key))
    }

    /// The dossiers whose `field` holds `value`, by the field's index: any
    /// name the catalogue knows for e-mails, phones, the external id, tags,
    /// the resident ID or the credit code (`email`, `手机`, `身份证号`…). The
    /// one lookup the bindings and the CLI call.
    pub fn find_by(&self, field: &str, value: &str) -> Result<Vec<Customer>, Error> {
        use kehu_model::catalogue::Field;
        match kehu_model::catalogue::field(field) {
            Some(Field::Emails) => self.find_by_email(value),
            Some(Field::Phones) => self.find_by_phone(value),
            Some(Field::ExternalId) => self.find_by_external_id(value),
            Some(Field::Tags) => self.find_by_tag(value),
            Some(Field::ResidentId) => self.find_by_resident_id(value),
            Some(Field::CreditCode) => self.find_by_credit_code(value),
            _ => Err(Error::Usage(format!(
                "no index of {field:?}: find by email, phone, external_id, tag, resident_id \
                 or credit_code"
            ))),
        }
    }

    /// Adds a related record (purchase, interaction, feedback, consent, note)
    /// after normalising and checking it; the customer must exist.
    pub fn relate(&self, record: impl Into<Related>) -> Result<Related, Error> {
        let mut record = record.into();
        self.reach_id(Operation::Update, record.customer_id())?;
        let report = self.rules.check_related(&mut record, self.now());
        if !report.is_ok() {
            return Err(Error::Invalid {
                index: None,
                report,
            });
        }
        self.commit(self.batch().with(Write::Relate(record.clone())))?;
        Ok(record)
    }

    /// Every related record of a customer, oldest first.
    pub fn related(&self, id: CustomerId) -> Result<Vec<Related>, Error> {
        self.reach_id(Operation::Read, id)?;
        let records = self.store.snapshot()?.related(id, None)?;
        Ok(match self.viewer() {
            Some(v) => v.related(records),
            None => records,
        })
    }

    fn related_of<T: TryFrom<Related>>(
        &self,
        id: CustomerId,
        kind: RelatedKind,
    ) -> Result<Vec<T>, Error> {
        self.reach_id(Operation::Read, id)?;
        let mut records = self.store.snapshot()?.related(id, Some(kind))?;
        if let Some(v) = self.viewer() {
            records = v.related(records);
        }
        Ok(records
            .into_iter()
            .filter_map(|r| T::try_from(r).ok())
            .collect())
    }

    /// A customer's purchases, oldest first.
    pub fn purchases(&self, id: CustomerId) -> Result<Vec<Purchase>, Error> {
        self.related_of(id, RelatedKind::Purchase)
    }

    /// A customer's interactions, oldest first.
    pub fn interactions(&self, id: CustomerId) -> Result<Vec<Interaction>, Error> {
        self.related_of(id, RelatedKind::Interaction)
    }

    /// A customer's feedback and complaints, oldest first.
    pub fn feedback(&self, id: CustomerId) -> Result<Vec<Feedback>, Error> {
        self.related_of(id, RelatedKind::Feedback)
    }

    /// A customer's consent events, oldest first.
    pub fn consents(&self, id: CustomerId) -> Result<Vec<Consent>, Error> {
        self.related_of(id, RelatedKind::Consent)
    }

    /// A customer's notes, oldest first.
    pub fn notes(&self, id: CustomerId) -> Result<Vec<Note>, Error> {
        self.related_of(id, RelatedKind::Note)
    }

    /// A dossier's story: every change, who made it, when, to which fields.
    pub fn history(&self, id: CustomerId) -> Result<Vec<Change>, Error> {
        self.reach_id(Operation::Read, id)?;
        let changes = self.store.snapshot()?.history(id)?;
        Ok(match self.viewer() {
            Some(v) => v.history(changes),
            None => changes,
        })
    }

    /// Marks a dossier as confirmed correct now.
    pub fn verify(&self, id: CustomerId) -> Result<Customer, Error> {
        let mut customer = self.get(id)?;
        customer.verified_at = Some(self.now());
        Ok(self.update(customer)?.customer)
    }

    /// The review queue: dossiers not verified within `older_than` (never
    /// verified ones count from their creation), the longest-unverified first.
    pub fn stale(&self, older_than: TimeDelta) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        let cutoff = self.now() - older_than;
        let snap = self.store.snapshot()?;
        let mut out = Vec::new();
        for customer in snap.customers()? {
            let customer = customer?;
            if customer.verified_at.unwrap_or(customer.created_at) < cutoff {
                out.extend(self.shown(customer));
            }
        }
        out.sort_by_key(|c| (c.verified_at.unwrap_or(c.created_at), c.id));
        Ok(out)
    }
}
