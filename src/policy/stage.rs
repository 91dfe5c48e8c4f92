//! The policy as a stage of the book's own paths: each public read and write
//! of [`Book`] passes what it answers and what it writes through these, which
//! do nothing for the book's owner (a handle with no principal).

use kehu_model::{Customer, CustomerId};

use super::{Operation, Viewer};
use crate::{Book, DuplicateCandidate, Error, Saved};

impl Book {
    /// The policy stage, when the handle is a principal's.
    pub(crate) fn viewer(&self) -> Option<&Viewer> {
        self.viewer.as_deref()
    }

    fn denied(&self, v: &Viewer, target: Option<CustomerId>, what: String) -> Error {
        let user = v.principal().user.clone();
        if let Err(e) = self.record_audit("denied", target, Some(format!("{user} may not {what}")))
        {
            return e;
        }
        Error::Denied {
            user,
            operation: what,
        }
    }

    /// Fails (and records the denial in the audit trail) unless the
    /// principal's roles allow `op`.
    pub(crate) fn allow(&self, op: Operation, target: Option<CustomerId>) -> Result<(), Error> {
        match self.viewer() {
            Some(v) if !v.may(op) => {
                let name = format!("{op:?}").to_lowercase();
                Err(self.denied(v, target, name))
            }
            _ => Ok(()),
        }
    }

    /// Fails with [`Error::Denied`] (recorded in the audit trail) unless the
    /// handle's principal may do `op`; the owner may do everything.
    pub fn check(&self, op: Operation) -> Result<(), Error> {
        self.allow(op, None)
    }

    /// Fails for a principal: `what` is the owner's alone.
    pub(crate) fn owner_only(&self, what: &str) -> Result<(), Error> {
        match self.viewer() {
            Some(v) => Err(self.denied(v, None, format!("use {what} (the book's owner's alone)"))),
            None => Ok(()),
        }
    }

    /// Fails for a principal whose roles do not reach every dossier: `what`
    /// changes or reads the book as a whole.
    pub(crate) fn whole_book(&self, op: Operation, what: &str) -> Result<(), Error> {
        self.allow(op, None)?;
        match self.viewer() {
            Some(v) if !v.reaches_all() => Err(self.denied(
                v,
                None,
                format!("{what} (it needs a role whose scope is all)"),
            )),
            _ => Ok(()),
        }
    }

    /// Fails unless the principal may test every one of `fields` in a
    /// condition: a hidden field never, a masked one where a role's
    /// `filter_masked` names it.
    pub(crate) fn filter_on<'a>(
        &self,
        fields: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        let Some(v) = self.viewer() else {
            return Ok(());
        };
        for field in fields {
            if !v.may_filter(field) {
                let how = format!("{:?}", v.access(field)).to_lowercase();
                return Err(self.denied(
                    v,
                    None,
                    format!("filter on {field} (the field is {how} to them)"),
                ));
            }
        }
        Ok(())
    }

    /// Whether the dossier is one the handle reaches.
    pub(crate) fn reaches(&self, c: &Customer) -> bool {
        self.viewer().is_none_or(|v| v.in_scope(c))
    }

    /// A dossier as the handle may see it; none outside its scope.
    pub(crate) fn shown(&self, c: Customer) -> Option<Customer> {
        match self.viewer() {
            None => Some(c),
            Some(v) => v.in_scope(&c).then(|| v.customer(c)),
        }
    }

    /// The dossiers the handle reaches, as it may see them.
    pub(crate) fn shown_all(&self, found: Vec<Customer>) -> Vec<Customer> {
        match self.viewer() {
            None => found,
            Some(_) => found.into_iter().filter_map(|c| self.shown(c)).collect(),
        }
    }

    /// The stored dossier `id`, for an operation `op` of the principal on it:
    /// `NotFound` when it is outside the scope (as if it were not there).
    pub(crate) fn reach(&self, op: Operation, id: CustomerId) -> Result<Customer, Error> {
        self.allow(op, Some(id))?;
        let c = self.stored(id)?;
        if !self.reaches(&c) {
            return Err(Error::NotFound(id));
        }
        Ok(c)
    }

    /// For a principal, [`Book::reach`]; the owner reaches every id, also
    /// one whose dossier is gone (its history stays).
    pub(crate) fn reach_id(&self, op: Operation, id: CustomerId) -> Result<(), Error> {
        if self.viewer().is_some() {
            self.reach(op, id)?;
        }
        Ok(())
    }

    /// Duplicate candidates as the handle may see them.
    pub(crate) fn shown_candidates(
        &self,
        found: Vec<DuplicateCandidate>,
    ) -> Vec<DuplicateCandidate> {
        match self.viewer() {
            None => found,
            Some(v) => v.candidates(found),
        }
    }

    /// An error as the handle may see it: a duplicate's candidates masked.
    pub(crate) fn shown_error(&self, e: Error) -> Error {
        match e {
            Error::Duplicate { candidates } if self.viewer().is_some() => Error::Duplicate {
                candidates: self.shown_candidates(candidates),
            },
            other => other,
        }
    }

    /// What a principal's write of `sent` over the stored dossier keeps:
    /// see [`Viewer::kept`]; a change to a field hidden from it is denied.
    pub(crate) fn kept(&self, stored: &Customer, sent: Customer) -> Result<Customer, Error> {
        match self.viewer() {
            None => Ok(sent),
            Some(v) => v.kept(stored, sent).map_err(|field| {
                self.denied(
                    v,
                    Some(stored.id),
                    format!("change {field} (the field is hidden from them)"),
                )
            }),
        }
    }

    /// A principal's new dossier, checked ([`Viewer::may_set`]) and owned by
    /// it when it names no owner.
    pub(crate) fn drafted(&self, mut draft: Customer) -> Result<Customer, Error> {
        if let Some(v) = self.viewer() {
            v.may_set(&draft).map_err(|field| {
                self.denied(
                    v,
                    None,
                    format!("set {field} (the field is hidden from them)"),
                )
            })?;
            if draft.owner.is_none() {
                draft.owner = Some(v.principal().user.clone());
            }
            if !v.in_scope(&draft) {
                return Err(self.denied(v, None, "add a dossier outside their scope".into()));
            }
        }
        Ok(draft)
    }

    /// A write's answer as the handle may see it: the dossier it wrote masked
    /// (the principal's own write: scope aside), the candidates and a
    /// duplicate error's candidates as [`Book::shown_candidates`] makes them.
    pub(crate) fn shown_saved(&self, saved: Result<Saved, Error>) -> Result<Saved, Error> {
        let Some(v) = self.viewer() else {
            return saved;
        };
        match saved {
            Ok(mut s) => {
                s.customer = v.customer(s.customer);
                s.duplicates = self.shown_candidates(std::mem::take(&mut s.duplicates));
                Ok(s)
            }
            Err(e) => Err(self.shown_error(e)),
        }
    }

    /// Why a principal's imported row may not be written: it sets a field
    /// hidden from the principal.
    pub(crate) fn row_refused(&self, c: &Customer) -> Option<String> {
        let v = self.viewer()?;
        let field = v.may_set(c).err()?;
        Some(format!(
            "{field} is hidden from {}: the row may not set it",
            v.principal().user
        ))
    }

    /// Why a principal's imported row may not create a dossier: it would be
    /// outside its scope. A new dossier naming no owner becomes the principal's.
    pub(crate) fn new_row_refused(&self, c: &mut Customer) -> Option<String> {
        let v = self.viewer()?;
        if c.owner.is_none() {
            c.owner = Some(v.principal().user.clone());
        }
        (!v.in_scope(c))
            .then(|| format!("the row's owner is outside {}'s scope", v.principal().user))
    }
}
