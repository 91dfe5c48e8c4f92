//! Roles, permissions and masking: a [`Principal`] reads and writes through
//! [`Book::as_principal`], which checks each operation against a [`Policy`]
//! (plain data: roles with operations, a row scope and field access), keeps
//! out of sight the dossiers outside its scope, and masks or hides fields on
//! every read path — dossiers, finds, segment members and explanations,
//! duplicate candidates, history, related records and exports. Every denial
//! is recorded in the audit trail.

use std::collections::{BTreeMap, BTreeSet};

use kehu_model::catalogue::{self, Field, Named};
use kehu_model::{Customer, CustomerId, Related, Timestamp};
use kehu_segment::{Explanation, Seen, Segment};
use serde::{Deserialize, Serialize};

use crate::io::ExportOptions;
use crate::{Book, DuplicateCandidate, Error, Saved};

/// Who is asking: a user, their roles, their team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user (matched against a dossier's `owner` for the `own` scope).
    pub user: String,
    /// Their roles, named in the policy.
    pub roles: Vec<String>,
    /// Their team, if the policy's `teams` does not say it.
    pub team: Option<String>,
}

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Read dossiers, related records, history, segments, duplicates.
    Read,
    /// Add dossiers.
    Add,
    /// Change dossiers and add related records.
    Update,
    /// Remove dossiers.
    Delete,
    /// Merge and unmerge dossiers.
    Merge,
    /// Import files.
    Import,
    /// Export dossiers.
    Export,
    /// Erase customers.
    Forget,
}

/// Which dossiers a role reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Those whose `owner` is the user.
    #[default]
    Own,
    /// Those owned by the user's team.
    Team,
    /// All of them.
    All,
}

/// How a field shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldAccess {
    /// Not at all.
    Hidden,
    /// Masked: `138****8000`, `z***@163.com`, `张*`.
    Masked,
    /// As stored.
    #[default]
    Visible,
}

/// One role of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Role {
    /// The operations it allows.
    pub operations: Vec<Operation>,
    /// The dossiers it reaches.
    pub scope: Scope,
    /// How fields the role does not name show.
    pub default: FieldAccess,
    /// Per field: `name`, `emails`, `phones`, `addresses`, `birth_date`,
    /// `company`, `job_title`, `external_id`, `organization`, `tags`,
    /// `custom` or `custom.<name>`, `related` (the free text of notes,
    /// interactions and feedback).
    pub fields: BTreeMap<String, FieldAccess>,
}

/// Roles and teams, as plain data (TOML or JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The roles by name.
    pub roles: BTreeMap<String, Role>,
    /// Teams by name: their users.
    pub teams: BTreeMap<String, Vec<String>>,
}

impl Policy {
    /// Reads a policy from TOML.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str::<Self>(text)
            .map_err(|e| Error::Usage(format!("policy: {e}")))?
            .checked()
    }

    /// Reads a policy from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str::<Self>(text)
            .map_err(|e| Error::Usage(format!("policy: {e}")))?
            .checked()
    }

    /// The policy, if every field its roles name is one the catalogue knows
    /// (any of its names), a custom field, `custom` or `related`.
    pub fn checked(self) -> Result<Self, Error> {
        for (role, r) in &self.roles {
            for name in r.fields.keys() {
                if name != "custom" && name != "related" && catalogue::resolve(name).is_none() {
                    return Err(Error::Usage(format!(
                        "policy: role {role:?} names no dossier field {name:?} (fields are named as in an export: emails, phones, birth_date, city, custom.<name>…)"
                    )));
                }
            }
        }
        Ok(self)
    }
}

/// What a principal's roles grant, together.
#[derive(Debug, Clone)]
struct Grants {
    operations: BTreeSet<Operation>,
    scope: Scope,
    default: FieldAccess,
    fields: BTreeMap<String, FieldAccess>,
    team: Vec<String>,
}

/// A book seen and changed by one principal under a policy.
pub struct Guarded<'b> {
    book: &'b Book,
    principal: Principal,
    grants: Grants,
}

impl Book {
    /// This book as `principal` sees it under `policy`: every read and write
    /// goes through the policy. Roles the policy does not know grant nothing.
    pub fn as_principal(&self, principal: Principal, policy: &Policy) -> Guarded<'_> {
        let mut g = Grants {
            operations: BTreeSet::new(),
            scope: Scope::Own,
            default: FieldAccess::Hidden,
            fields: BTreeMap::new(),
            team: Vec::new(),
        };
        let mut any = false;
        for role in principal.roles.iter().filter_map(|r| policy.roles.get(r)) {
            g.operations.extend(role.operations.iter().copied());
            g.scope = if any {
                g.scope.max(role.scope)
            } else {
                role.scope
            };
            g.default = if any {
                g.default.max(role.default)
            } else {
                role.default
            };
            for (f, a) in &role.fields {
                let e = g.fields.entry(f.clone()).or_insert(*a);
                *e = (*e).max(*a);
            }
            any = true;
        }
        let team = principal.team.clone().or_else(|| {
            policy
                .teams
                .iter()
                .find(|(_, users)| users.contains(&principal.user))
                .map(|(t, _)| t.clone())
        });
        if let Some(t) = team {
            g.team = policy.teams.get(&t).cloned().unwrap_or_default();
            if !g.team.contains(&principal.user) {
                g.team.push(principal.user.clone());
            }
        }
        Guarded {
            book: self,
            principal,
            grants: g,
        }
    }
}

impl Guarded<'_> {
    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Fails (and records the denial in the audit trail) unless the principal may do `op`.
    pub fn check(&self, op: Operation) -> Result<(), Error> {
        self.allow(op, None)
    }

    fn allow(&self, op: Operation, target: Option<CustomerId>) -> Result<(), Error> {
        if self.grants.operations.contains(&op) {
            return Ok(());
        }
        let name = format!("{op:?}").to_lowercase();
        self.book.record_audit(
            "denied",
            target,
            Some(format!("{} may not {name}", self.principal.user)),
        )?;
        Err(Error::Denied {
            user: self.principal.user.clone(),
            operation: name,
        })
    }

    fn in_scope(&self, c: &Customer) -> bool {
        match self.grants.scope {
            Scope::All => true,
            Scope::Own => c.owner.as_deref() == Some(self.principal.user.as_str()),
            Scope::Team => c
                .owner
                .as_ref()
                .is_some_and(|o| o == &self.principal.user || self.grants.team.contains(o)),
        }
    }

    /// How a field shows to the principal: by its own name in the policy,
    /// else by the top-level field it is part of (`city` → `addresses`), else
    /// `custom` for a custom field, else the roles' default. Any name the
    /// catalogue knows for a field works: `邮箱`, `email`, `emails`.
    fn access(&self, field: &str) -> FieldAccess {
        match catalogue::resolve(field) {
            Some(named) => self.access_of(&named),
            None => self
                .grants
                .fields
                .get(field)
                .copied()
                .unwrap_or(self.grants.default),
        }
    }

    fn access_of(&self, named: &Named) -> FieldAccess {
        let own = named.name();
        if let Some(a) = self.grants.fields.get(&own) {
            return *a;
        }
        match named {
            Named::Field(f) => {
                let group = f.group().name();
                if let Some(a) = self.grants.fields.get(group) {
                    return *a;
                }
            }
            Named::Custom(_) => {
                if let Some(a) = self.grants.fields.get("custom") {
                    return *a;
                }
            }
        }
        self.grants.default
    }

    /// A dossier as the principal may see it.
    pub fn mask(&self, mut c: Customer) -> Customer {
        match self.access("name") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for n in [&mut c.name.given, &mut c.name.family, &mut c.name.full] {
                    *n = n.as_deref().map(mask_name);
                }
            }
            FieldAccess::Hidden => c.name = Default::default(),
        }
        text_field(self.access("company"), &mut c.company);
        text_field(self.access("job_title"), &mut c.job_title);
        match self.access("external_id") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => c.external_id = c.external_id.as_deref().map(mask_tail),
            FieldAccess::Hidden => c.external_id = None,
        }
        if self.access("birth_date") != FieldAccess::Visible {
            c.birth_date = None;
        }
        match self.access("emails") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for e in &mut c.emails {
                    e.address = mask_email(&e.address);
                    e.raw = e.address.clone();
                }
            }
            FieldAccess::Hidden => c.emails.clear(),
        }
        match self.access("phones") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for p in &mut c.phones {
                    p.number = mask_phone(&p.number);
                    p.raw = p.number.clone();
                }
            }
            FieldAccess::Hidden => c.phones.clear(),
        }
        match self.access("addresses") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for a in &mut c.addresses {
                    a.street = a.street.as_ref().map(|_| "***".into());
                    a.postcode = None;
                    a.raw = None;
                }
            }
            FieldAccess::Hidden => c.addresses.clear(),
        }
        match self.access("organization") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                if let Some(o) = &mut c.organization {
                    o.name = o.name.as_deref().map(mask_name);
                }
            }
            FieldAccess::Hidden => c.organization = None,
        }
        if self.access("tags") == FieldAccess::Hidden {
            c.tags.clear();
        }
        let names: Vec<String> = c.custom.keys().cloned().collect();
        for name in names {
            match self.access(&format!("custom.{name}")) {
                FieldAccess::Visible => {}
                FieldAccess::Masked => {
                    if let Some(kehu_model::CustomValue::Text(t)) = c.custom.get(&name) {
                        let masked = mask_name(t);
                        c.custom.insert(name, kehu_model::CustomValue::Text(masked));
                    } else {
                        c.custom.remove(&name);
                    }
                }
                FieldAccess::Hidden => {
                    c.custom.remove(&name);
                }
            }
        }
        c
    }

    /// The field a dossier path is about (`emails[0].address` → `emails`).
    fn field_of(path: &str) -> String {
        catalogue::field_of_path(path).map_or_else(|| path.to_string(), |n| n.name())
    }

    fn mask_value(&self, field: &str, value: &str) -> Option<String> {
        // A comparison of several fields (`street+city+postcode`) shows as its
        // most restricted part allows.
        let access = field
            .split('+')
            .map(|part| self.access(part))
            .min()
            .unwrap_or(self.grants.default);
        let field = field.split('+').next().unwrap_or(field);
        match access {
            FieldAccess::Visible => Some(value.to_string()),
            FieldAccess::Hidden => None,
            FieldAccess::Masked => Some(match catalogue::field(field) {
                Some(Field::Emails) => mask_email(value),
                Some(Field::Phones) => mask_phone(value),
                _ => mask_name(value),
            }),
        }
    }

    /// One dossier (`NotFound` when it is outside the principal's scope).
    pub fn get(&self, id: CustomerId) -> Result<Customer, Error> {
        self.allow(Operation::Read, Some(id))?;
        let c = self.book.get(id)?;
        if !self.in_scope(&c) {
            return Err(Error::NotFound(id));
        }
        Ok(self.mask(c))
    }

    fn visible(&self, found: Vec<Customer>) -> Vec<Customer> {
        found
            .into_iter()
            .filter(|c| self.in_scope(c))
            .map(|c| self.mask(c))
            .collect()
    }

    /// Dossiers with this e-mail address, in scope, masked.
    pub fn find_by_email(&self, address: &str) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        Ok(self.visible(self.book.find_by_email(address)?))
    }

    /// Dossiers with this phone number, in scope, masked.
    pub fn find_by_phone(&self, number: &str) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        Ok(self.visible(self.book.find_by_phone(number)?))
    }

    /// Dossiers with this external id, in scope, masked.
    pub fn find_by_external_id(&self, external_id: &str) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        Ok(self.visible(self.book.find_by_external_id(external_id)?))
    }

    /// Dossiers with this tag, in scope, masked.
    pub fn find_by_tag(&self, tag: &str) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        Ok(self.visible(self.book.find_by_tag(tag)?))
    }

    /// A segment's members in scope, masked.
    pub fn segment_members(
        &self,
        segment: &Segment,
        as_of: Option<Timestamp>,
    ) -> Result<Vec<Customer>, Error> {
        self.allow(Operation::Read, None)?;
        Ok(self.visible(self.book.segment_members(segment, as_of)?))
    }

    /// Why a customer (in scope) is in a segment or not, with the values seen masked.
    pub fn explain_segment(
        &self,
        segment: &Segment,
        id: CustomerId,
        as_of: Option<Timestamp>,
    ) -> Result<Explanation, Error> {
        self.get(id)?;
        let mut e = self.book.explain_segment(segment, id, as_of)?;
        for t in &mut e.tests {
            let Some(field) = t.field.clone() else {
                continue;
            };
            let access = self.access(&field);
            if access == FieldAccess::Visible {
                continue;
            }
            t.seen = t
                .seen
                .drain(..)
                .filter_map(|s| match (access, s) {
                    (FieldAccess::Masked, Seen::Text(v)) => {
                        self.mask_value(&field, &v).map(Seen::Text)
                    }
                    (FieldAccess::Masked, other @ (Seen::Number(_) | Seen::Stage(_))) => {
                        Some(other)
                    }
                    _ => None,
                })
                .collect();
        }
        Ok(e)
    }

    /// The dossiers a draft may duplicate: each one's existence is said, its
    /// values masked by the principal's field access (all of them for a
    /// dossier outside the scope).
    pub fn check_duplicates(&self, draft: &Customer) -> Result<Vec<DuplicateCandidate>, Error> {
        self.allow(Operation::Read, None)?;
        let mut out = self.book.check_duplicates(draft)?;
        for cand in &mut out {
            let in_scope = self
                .book
                .get(cand.id)
                .map(|c| self.in_scope(&c))
                .unwrap_or(false);
            for f in &mut cand.explanation.fields {
                let field = f.field.clone();
                f.right = if in_scope {
                    self.mask_value(&field, &f.right).unwrap_or_default()
                } else if f.right.is_empty() {
                    String::new()
                } else {
                    mask_name(&f.right)
                };
            }
        }
        Ok(out)
    }

    /// A dossier's change log (in scope), with values masked or left out.
    pub fn history(&self, id: CustomerId) -> Result<Vec<kehu_store::Change>, Error> {
        self.get(id)?;
        let mut h = self.book.history(id)?;
        for change in &mut h {
            change.fields.retain_mut(|f| {
                let field = Self::field_of(&f.path);
                match self.access(&field) {
                    FieldAccess::Visible => true,
                    FieldAccess::Hidden => false,
                    FieldAccess::Masked => {
                        f.before = f.before.as_ref().map(|_| "\"***\"".into());
                        f.after = f.after.as_ref().map(|_| "\"***\"".into());
                        true
                    }
                }
            });
        }
        Ok(h)
    }

    /// A customer's related records (in scope), their free text masked by the `related` field.
    pub fn related(&self, id: CustomerId) -> Result<Vec<Related>, Error> {
        self.get(id)?;
        let access = self.access("related");
        let mut out = self.book.related(id)?;
        if access != FieldAccess::Visible {
            let fix = |t: &mut String| {
                *t = if access == FieldAccess::Masked {
                    mask_name(t)
                } else {
                    String::new()
                }
            };
            for r in &mut out {
                match r {
                    Related::Interaction(i) => fix(&mut i.summary),
                    Related::Feedback(f) => fix(&mut f.comment),
                    Related::Note(n) => fix(&mut n.text),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Exports the dossiers in scope, masked (recorded in the audit trail).
    pub fn export(
        &self,
        out: &mut dyn std::io::Write,
        options: &ExportOptions,
    ) -> Result<u64, Error> {
        self.allow(Operation::Export, None)?;
        self.book.export_with(out, options, &mut |c| {
            self.in_scope(&c).then(|| self.mask(c))
        })
    }

    /// Exports the dossiers in scope, masked, into a file (recorded in the audit trail).
    pub fn export_file(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &ExportOptions,
    ) -> Result<u64, Error> {
        self.allow(Operation::Export, None)?;
        self.book
            .export_file_with(path.as_ref(), options, &mut |c| {
                self.in_scope(&c).then(|| self.mask(c))
            })
    }

    /// Imports a file, when the principal may import (the rows are checked as
    /// any import's are; dossiers the file gives no owner stay without one).
    pub fn import_file(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &crate::io::ImportOptions,
    ) -> Result<crate::io::ImportReport, Error> {
        self.allow(Operation::Import, None)?;
        self.book.import_file(path, options)
    }

    /// Adds a dossier (owned by the principal when it names no owner).
    pub fn add(&self, mut customer: Customer) -> Result<Saved, Error> {
        self.allow(Operation::Add, None)?;
        if customer.owner.is_none() {
            customer.owner = Some(self.principal.user.clone());
        }
        let mut saved = self.book.add(customer)?;
        saved.customer = self.mask(saved.customer);
        Ok(saved)
    }

    fn target(&self, op: Operation, id: CustomerId) -> Result<Customer, Error> {
        self.allow(op, Some(id))?;
        let c = self.book.get(id)?;
        if !self.in_scope(&c) {
            return Err(Error::NotFound(id));
        }
        Ok(c)
    }

    /// Saves a changed dossier in scope. Fields the principal cannot see in
    /// full keep their stored values.
    pub fn update(&self, mut customer: Customer) -> Result<Saved, Error> {
        let stored = self.target(Operation::Update, customer.id)?;
        if self.access("name") != FieldAccess::Visible {
            customer.name = stored.name.clone();
        }
        if self.access("emails") != FieldAccess::Visible {
            customer.emails = stored.emails.clone();
        }
        if self.access("phones") != FieldAccess::Visible {
            customer.phones = stored.phones.clone();
        }
        if self.access("addresses") != FieldAccess::Visible {
            customer.addresses = stored.addresses.clone();
        }
        if self.access("birth_date") != FieldAccess::Visible {
            customer.birth_date = stored.birth_date;
        }
        if self.access("company") != FieldAccess::Visible {
            customer.company = stored.company.clone();
        }
        if self.access("job_title") != FieldAccess::Visible {
            customer.job_title = stored.job_title.clone();
        }
        if self.access("external_id") != FieldAccess::Visible {
            customer.external_id = stored.external_id.clone();
        }
        let mut saved = self.book.update(customer)?;
        saved.customer = self.mask(saved.customer);
        Ok(saved)
    }

    /// Removes a dossier in scope.
    pub fn remove(&self, id: CustomerId) -> Result<(), Error> {
        self.target(Operation::Delete, id)?;
        self.book.remove(id)
    }

    /// Erases a customer in scope.
    pub fn forget(&self, id: CustomerId) -> Result<crate::Erasure, Error> {
        self.target(Operation::Forget, id)?;
        self.book.forget(id)
    }

    /// Merges dossiers in scope.
    pub fn merge(
        &self,
        ids: &[CustomerId],
        policy: &crate::Survivorship,
        dry_run: bool,
    ) -> Result<crate::Merged, Error> {
        for id in ids {
            self.target(Operation::Merge, *id)?;
        }
        let mut m = self.book.merge(ids, policy, dry_run)?;
        m.customer = self.mask(m.customer);
        Ok(m)
    }
}

fn text_field(access: FieldAccess, v: &mut Option<String>) {
    match access {
        FieldAccess::Visible => {}
        FieldAccess::Masked => *v = v.as_deref().map(mask_name),
        FieldAccess::Hidden => *v = None,
    }
}

/// `张伟` → `张*`, `Wei` → `W**`.
pub fn mask_name(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.filter(|c| !c.is_whitespace()).map(|_| '*'))
            .collect(),
        None => String::new(),
    }
}

/// `zhang.wei@163.com` → `z***@163.com`.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => mask_name(s),
    }
}

/// `+8613812348000` → `138****8000`: the first three and the last four digits
/// of the national number.
pub fn mask_phone(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_string(),
        _ if digits.len() > 10 && s.starts_with('+') => digits[digits.len() - 10..].to_string(),
        _ => digits,
    };
    let n = national.len();
    if n < 8 {
        return format!("****{}", &national[n.saturating_sub(2)..]);
    }
    format!("{}****{}", &national[..3], &national[n - 4..])
}

/// Keeps the last four characters: `EXT-00031` → `*****0031`.
fn mask_tail(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_what_a_person_needs() {
        assert_eq!(mask_phone("+8613812348000"), "138****8000");
        assert_eq!(mask_phone("13812348000"), "138****8000");
        assert_eq!(mask_email("zhang.wei@163.com"), "z***@163.com");
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("Wei"), "W**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_tail("EXT-00031"), "*****0031");
        assert_eq!(mask_phone("+44 20 7946 0018").len(), 11);
    }
}
