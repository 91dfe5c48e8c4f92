//! `GuardedBook`: a book seen by one principal under a role policy —
//! scope, masks and rights applied by the core (`kehu::Book::as_principal`).

use std::sync::Arc;
use std::time::SystemTime;

use crate::answers::{Change, DuplicateCandidate, ImportReport, Merged, Saved, SegmentExplanation};
use crate::book::Book;
use crate::dossier::{customer_id, customer_ids, customers_out, instant, Customer};
use crate::error::{KehuError, Result};
use crate::options::{ExportOptions, ImportOptions, Principal};
use crate::related::RelatedRecord;

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Operation {
    /// Read dossiers.
    Read,
    /// Add dossiers.
    Add,
    /// Change dossiers.
    Update,
    /// Remove dossiers.
    Delete,
    /// Merge dossiers.
    Merge,
    /// Import files.
    Import,
    /// Export dossiers.
    Export,
    /// Erase customers.
    Forget,
}

/// A book seen by one principal: only dossiers in their scope, fields masked
/// or hidden as their roles say, operations they lack refused
/// (`KehuError.Denied`, recorded in the audit trail).
#[derive(uniffi::Object)]
pub struct GuardedBook {
    book: Arc<Book>,
    principal: kehu::Principal,
    policy: kehu::Policy,
}

impl GuardedBook {
    pub(crate) fn new(book: Arc<Book>, principal: Principal, policy: &str) -> Result<Arc<Self>> {
        if principal.user.trim().is_empty() {
            return Err(KehuError::argument("principal.user", "the user is empty"));
        }
        let policy = if policy.trim_start().starts_with('{') {
            kehu::Policy::from_json(policy)
        } else {
            kehu::Policy::from_toml(policy)
        }
        .map_err(|e| KehuError::argument("policy", e.to_string()))?;
        Ok(Arc::new(Self {
            book,
            principal: kehu::Principal {
                user: principal.user,
                roles: principal.roles,
                team: principal.team,
            },
            policy,
        }))
    }

    /// Runs `f` with the book and the principal's view of it.
    fn with<T>(&self, f: impl FnOnce(&kehu::Book, &kehu::Book) -> Result<T>) -> Result<T> {
        self.book
            .with(|b| f(b, &b.as_principal(self.principal.clone(), &self.policy)))
    }
}

#[uniffi::export]
impl GuardedBook {
    /// Fails with `KehuError.Denied` unless the principal may do `operation`.
    pub fn check(&self, operation: Operation) -> Result<()> {
        use kehu::Operation as O;
        let op = match operation {
            Operation::Read => O::Read,
            Operation::Add => O::Add,
            Operation::Update => O::Update,
            Operation::Delete => O::Delete,
            Operation::Merge => O::Merge,
            Operation::Import => O::Import,
            Operation::Export => O::Export,
            Operation::Forget => O::Forget,
        };
        self.with(|_, g| Ok(g.check(op)?))
    }

    /// A dossier in scope, masked.
    pub fn get(&self, id: String) -> Result<Customer> {
        let id = customer_id("id", &id)?;
        self.with(|_, g| Ok(g.get(id)?.into()))
    }

    /// Dossiers in scope with this e-mail address.
    pub fn find_by_email(&self, address: String) -> Result<Vec<Customer>> {
        self.with(|_, g| Ok(customers_out(g.find_by_email(&address)?)))
    }

    /// Dossiers in scope with this phone number.
    pub fn find_by_phone(&self, number: String) -> Result<Vec<Customer>> {
        self.with(|_, g| Ok(customers_out(g.find_by_phone(&number)?)))
    }

    /// Dossiers in scope with this external id.
    pub fn find_by_external_id(&self, external_id: String) -> Result<Vec<Customer>> {
        self.with(|_, g| Ok(customers_out(g.find_by_external_id(&external_id)?)))
    }

    /// Dossiers in scope with this tag.
    pub fn find_by_tag(&self, tag: String) -> Result<Vec<Customer>> {
        self.with(|_, g| Ok(customers_out(g.find_by_tag(&tag)?)))
    }

    /// A segment's members in scope, masked.
    pub fn segment_members(
        &self,
        condition: String,
        as_of: Option<SystemTime>,
    ) -> Result<Vec<Customer>> {
        self.with(|b, g| {
            let s = b.segment(&condition)?;
            Ok(customers_out(g.segment_members(&s, as_of.map(instant))?))
        })
    }

    /// Why a customer in scope is in a segment or not (values masked).
    pub fn explain_segment(
        &self,
        condition: String,
        id: String,
        as_of: Option<SystemTime>,
    ) -> Result<SegmentExplanation> {
        let id = customer_id("id", &id)?;
        self.with(|b, g| {
            let s = b.segment(&condition)?;
            Ok(g.explain_segment(&s, id, as_of.map(instant))?.into())
        })
    }

    /// Likely duplicates of a draft (stored values masked).
    pub fn check_duplicates(&self, customer: Customer) -> Result<Vec<DuplicateCandidate>> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|_, g| {
            Ok(g.check_duplicates(&c)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    /// A dossier's history (values masked).
    pub fn history(&self, id: String) -> Result<Vec<Change>> {
        let id = customer_id("id", &id)?;
        self.with(|_, g| Ok(g.history(id)?.into_iter().map(Into::into).collect()))
    }

    /// A dossier's related records (text masked).
    pub fn related(&self, id: String) -> Result<Vec<RelatedRecord>> {
        let id = customer_id("id", &id)?;
        self.with(|_, g| Ok(g.related(id)?.into_iter().map(Into::into).collect()))
    }

    /// The dossiers in scope, masked, as CSV or JSON Lines text (audited).
    pub fn export_text(&self, options: ExportOptions) -> Result<String> {
        let o = options.core()?;
        self.with(|_, g| {
            let mut out = Vec::new();
            g.export(&mut out, &o)?;
            String::from_utf8(out).map_err(|e| KehuError::internal(e.to_string()))
        })
    }

    /// Imports a file, when the principal may import.
    pub fn import_file(&self, path: String, options: ImportOptions) -> Result<ImportReport> {
        let o = options.core()?;
        self.with(|_, g| Ok(g.import_file(&path, &o)?.into()))
    }

    /// Adds a dossier (owned by the principal when it names no owner).
    pub fn add(&self, customer: Customer) -> Result<Saved> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|_, g| Ok(g.add(c)?.into()))
    }

    /// Saves a changed dossier in scope (fields the principal cannot see are kept).
    pub fn update(&self, customer: Customer) -> Result<Saved> {
        let c = kehu::Customer::try_from(customer)?;
        self.with(|_, g| Ok(g.update(c)?.into()))
    }

    /// Removes a dossier in scope.
    pub fn remove(&self, id: String) -> Result<()> {
        let id = customer_id("id", &id)?;
        self.with(|_, g| Ok(g.remove(id)?))
    }

    /// Erases a customer in scope.
    pub fn forget(&self, id: String) -> Result<crate::answers::Erasure> {
        let id = customer_id("id", &id)?;
        self.with(|_, g| Ok(g.forget(id)?.into()))
    }

    /// Merges dossiers in scope.
    pub fn merge(&self, ids: Vec<String>, policy: Option<String>, dry_run: bool) -> Result<Merged> {
        let ids = customer_ids("ids", &ids)?;
        let policy = crate::book::survivorship(policy)?;
        self.with(|_, g| Ok(g.merge(&ids, &policy, dry_run)?.into()))
    }
}
