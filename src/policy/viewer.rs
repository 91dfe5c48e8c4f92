//! A principal under a policy: what its roles grant together, and how each
//! kind of answer and write looks through those grants.

use std::collections::{BTreeMap, BTreeSet};

use kehu_model::catalogue::{self, Field, Named};
use kehu_model::{CustomValue, Customer, Related};
use kehu_segment::{Explanation, Seen};

use super::masks::{mask_email, mask_name, mask_phone, mask_tail};
use super::{FieldAccess, Operation, Policy, Principal, Scope};
use crate::DuplicateCandidate;

/// A principal and what its roles grant: the policy stage of a book handle.
#[derive(Debug, Clone)]
pub struct Viewer {
    principal: Principal,
    operations: BTreeSet<Operation>,
    scope: Scope,
    default: FieldAccess,
    fields: BTreeMap<String, FieldAccess>,
    filter_masked: BTreeSet<String>,
    team: Vec<String>,
    /// [`Viewer::access`] of each of [`GROUPS`] and of `related`, worked out
    /// once: masking a dossier asks for them all.
    groups: Vec<(&'static str, FieldAccess)>,
}

/// The top-level fields the policy masks or hides (custom fields and the
/// free text of related records aside); the others (kind, stage, owner,
/// dates) always show.
pub(crate) const GROUPS: &[&str] = &[
    "name",
    "organization",
    "company",
    "job_title",
    "birth_date",
    "emails",
    "phones",
    "addresses",
    "tags",
    "source",
    "external_id",
];

impl Viewer {
    /// The grants of `principal`'s roles under `policy`, together: the union
    /// of their operations, the widest scope, the most open access per field.
    pub fn new(principal: Principal, policy: &Policy) -> Self {
        let mut v = Viewer {
            principal,
            operations: BTreeSet::new(),
            scope: Scope::Own,
            default: FieldAccess::Hidden,
            fields: BTreeMap::new(),
            filter_masked: BTreeSet::new(),
            team: Vec::new(),
            groups: Vec::new(),
        };
        let mut any = false;
        for role in v.principal.roles.iter().filter_map(|r| policy.roles.get(r)) {
            v.operations.extend(role.operations.iter().copied());
            v.scope = if any {
                v.scope.max(role.scope)
            } else {
                role.scope
            };
            v.default = if any {
                v.default.max(role.default)
            } else {
                role.default
            };
            for (f, a) in &role.fields {
                let key = canonical(f);
                let e = v.fields.entry(key).or_insert(*a);
                *e = (*e).max(*a);
            }
            v.filter_masked
                .extend(role.filter_masked.iter().map(|f| canonical(f)));
            any = true;
        }
        let team = v.principal.team.clone().or_else(|| {
            policy
                .teams
                .iter()
                .find(|(_, users)| users.contains(&v.principal.user))
                .map(|(t, _)| t.clone())
        });
        if let Some(t) = team {
            v.team = policy.teams.get(&t).cloned().unwrap_or_default();
            if !v.team.contains(&v.principal.user) {
                v.team.push(v.principal.user.clone());
            }
        }
        v.groups = GROUPS
            .iter()
            .chain(&["related"])
            .map(|g| (*g, v.access(g)))
            .collect();
        v
    }

    /// How a top-level field (one of [`GROUPS`], or `related`) shows.
    fn group(&self, name: &str) -> FieldAccess {
        self.groups
            .iter()
            .find(|(g, _)| *g == name)
            .map_or_else(|| self.access(name), |(_, a)| *a)
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Whether the roles allow `op`.
    pub fn may(&self, op: Operation) -> bool {
        self.operations.contains(&op)
    }

    /// Whether the roles reach every dossier.
    pub fn reaches_all(&self) -> bool {
        self.scope == Scope::All
    }

    /// Whether the dossier is within the principal's scope.
    pub fn in_scope(&self, c: &Customer) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Own => c.owner.as_deref() == Some(self.principal.user.as_str()),
            Scope::Team => c
                .owner
                .as_ref()
                .is_some_and(|o| o == &self.principal.user || self.team.contains(o)),
        }
    }

    /// How a field shows: by its own name in the policy, else by the
    /// top-level field it is part of (`city` → `addresses`), else `custom`
    /// for a custom field, else the roles' default. Any name the catalogue
    /// knows for a field works: `邮箱`, `email`, `emails`.
    pub fn access(&self, field: &str) -> FieldAccess {
        let named = catalogue::resolve(field);
        if let Some(Named::Field(f)) = &named {
            if !GROUPS.contains(&f.group().name()) {
                // Kind, stage, owner, dates: what a dossier is, not personal data.
                return FieldAccess::Visible;
            }
        }
        let own = named
            .as_ref()
            .map_or_else(|| field.to_string(), Named::name);
        if let Some(a) = self.fields.get(&own) {
            return *a;
        }
        let wider = match &named {
            Some(Named::Field(f)) => Some(f.group().name()),
            Some(Named::Custom(_)) => Some("custom"),
            None => None,
        };
        wider
            .and_then(|w| self.fields.get(w))
            .copied()
            .unwrap_or(self.default)
    }

    /// Whether a condition may test the field: when it is visible, or masked
    /// and named in a role's `filter_masked`.
    pub fn may_filter(&self, field: &str) -> bool {
        match self.access(field) {
            FieldAccess::Visible => true,
            FieldAccess::Hidden => false,
            FieldAccess::Masked => {
                let own = canonical(field);
                let group = match catalogue::resolve(field) {
                    Some(Named::Field(f)) => f.group().name().to_string(),
                    Some(Named::Custom(_)) => "custom".into(),
                    None => own.clone(),
                };
                self.filter_masked.contains(&own) || self.filter_masked.contains(&group)
            }
        }
    }

    /// A dossier as the principal may see it (scope aside).
    pub fn customer(&self, mut c: Customer) -> Customer {
        match self.group("name") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for n in [&mut c.name.given, &mut c.name.family, &mut c.name.full] {
                    *n = n.as_deref().map(mask_name);
                }
            }
            FieldAccess::Hidden => c.name = Default::default(),
        }
        text(self.group("company"), &mut c.company);
        text(self.group("job_title"), &mut c.job_title);
        text(self.group("source"), &mut c.source);
        match self.group("external_id") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => c.external_id = c.external_id.as_deref().map(mask_tail),
            FieldAccess::Hidden => c.external_id = None,
        }
        if self.group("birth_date") != FieldAccess::Visible {
            c.birth_date = None;
        }
        match self.group("emails") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for e in &mut c.emails {
                    e.address = mask_email(&e.address);
                    e.raw = e.address.clone();
                }
            }
            FieldAccess::Hidden => c.emails.clear(),
        }
        match self.group("phones") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                for p in &mut c.phones {
                    p.number = mask_phone(&p.number);
                    p.raw = p.number.clone();
                }
            }
            FieldAccess::Hidden => c.phones.clear(),
        }
        match self.group("addresses") {
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
        match self.group("organization") {
            FieldAccess::Visible => {}
            FieldAccess::Masked => {
                if let Some(o) = &mut c.organization {
                    o.name = o.name.as_deref().map(mask_name);
                }
            }
            FieldAccess::Hidden => c.organization = None,
        }
        if self.group("tags") != FieldAccess::Visible {
            c.tags.clear();
        }
        let names: Vec<String> = c.custom.keys().cloned().collect();
        for name in names {
            match self.access(&format!("custom.{name}")) {
                FieldAccess::Visible => {}
                FieldAccess::Masked => match c.custom.get(&name) {
                    Some(CustomValue::Text(t)) => {
                        let masked = CustomValue::Text(mask_name(t));
                        c.custom.insert(name, masked);
                    }
                    _ => {
                        c.custom.remove(&name);
                    }
                },
                FieldAccess::Hidden => {
                    c.custom.remove(&name);
                }
            }
        }
        c
    }

    /// A value of a field (or of several, `street+city`) as it may show:
    /// none when hidden. A value of several fields shows as its most
    /// restricted part allows.
    pub fn value(&self, field: &str, value: &str) -> Option<String> {
        let access = field
            .split('+')
            .map(|part| self.access(part))
            .min()
            .unwrap_or(self.default);
        let first = field.split('+').next().unwrap_or(field);
        match access {
            FieldAccess::Visible => Some(value.to_string()),
            FieldAccess::Hidden => None,
            FieldAccess::Masked => Some(match catalogue::field(first) {
                Some(Field::Emails) => mask_email(value),
                Some(Field::Phones) => mask_phone(value),
                _ => mask_name(value),
            }),
        }
    }

    /// Related records as they may show: their free text by the `related` field.
    pub fn related(&self, mut records: Vec<Related>) -> Vec<Related> {
        let access = self.group("related");
        if access == FieldAccess::Visible {
            return records;
        }
        let fix = |t: &mut String| {
            *t = if access == FieldAccess::Masked {
                mask_name(t)
            } else {
                String::new()
            }
        };
        for r in &mut records {
            match r {
                Related::Interaction(i) => fix(&mut i.summary),
                Related::Feedback(f) => fix(&mut f.comment),
                Related::Note(n) => fix(&mut n.text),
                _ => {}
            }
        }
        records
    }

    /// A change log as it may show: changes to hidden fields left out, to
    /// masked ones without their values.
    pub fn history(&self, mut changes: Vec<kehu_store::Change>) -> Vec<kehu_store::Change> {
        for change in &mut changes {
            change.fields.retain_mut(|f| {
                let field =
                    catalogue::field_of_path(&f.path).map_or_else(|| f.path.clone(), |n| n.name());
                let related = f.path.starts_with("related");
                let access = if related {
                    self.access("related")
                } else {
                    self.access(&field)
                };
                match access {
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
        changes
    }

    /// A segment explanation as it may show: the values seen masked or left out.
    pub fn explanation(&self, mut e: Explanation) -> Explanation {
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
                    (FieldAccess::Masked, Seen::Text(v)) => self.value(&field, &v).map(Seen::Text),
                    (FieldAccess::Masked, other @ (Seen::Number(_) | Seen::Stage(_))) => {
                        Some(other)
                    }
                    _ => None,
                })
                .collect();
        }
        e
    }

    /// Duplicate candidates as they may show: a candidate in scope with its
    /// values masked by field access, one outside the scope with none of its
    /// values; comparisons of hidden fields are left out of both.
    pub fn candidates(
        &self,
        mut candidates: Vec<DuplicateCandidate>,
        in_scope: impl Fn(&DuplicateCandidate) -> bool,
    ) -> Vec<DuplicateCandidate> {
        for cand in &mut candidates {
            let reach = in_scope(cand);
            cand.explanation.fields.retain_mut(|f| {
                let hidden = f
                    .field
                    .split('+')
                    .any(|p| self.access(p) == FieldAccess::Hidden);
                if hidden {
                    return false;
                }
                f.right = if reach {
                    self.value(&f.field, &f.right).unwrap_or_default()
                } else {
                    String::new()
                };
                true
            });
        }
        candidates
    }

    /// The dossier to store when the principal sends `sent` for `stored`:
    /// each field it sent back as it was shown keeps its stored value
    /// (masked list entries one by one), a field it changed takes the new
    /// value, and a change to a field hidden from it is refused (its name
    /// is the error).
    pub fn kept(&self, stored: &Customer, mut sent: Customer) -> Result<Customer, String> {
        let shown = self.customer(stored.clone());
        keep(self, "name", &stored.name, &shown.name, &mut sent.name)?;
        keep(
            self,
            "organization",
            &stored.organization,
            &shown.organization,
            &mut sent.organization,
        )?;
        keep(
            self,
            "company",
            &stored.company,
            &shown.company,
            &mut sent.company,
        )?;
        keep(
            self,
            "job_title",
            &stored.job_title,
            &shown.job_title,
            &mut sent.job_title,
        )?;
        keep(
            self,
            "source",
            &stored.source,
            &shown.source,
            &mut sent.source,
        )?;
        keep(
            self,
            "external_id",
            &stored.external_id,
            &shown.external_id,
            &mut sent.external_id,
        )?;
        keep(
            self,
            "birth_date",
            &stored.birth_date,
            &shown.birth_date,
            &mut sent.birth_date,
        )?;
        keep(self, "tags", &stored.tags, &shown.tags, &mut sent.tags)?;
        if keep(
            self,
            "emails",
            &stored.emails,
            &shown.emails,
            &mut sent.emails,
        )? {
            entries(&stored.emails, &shown.emails, &mut sent.emails);
        }
        if keep(
            self,
            "phones",
            &stored.phones,
            &shown.phones,
            &mut sent.phones,
        )? {
            entries(&stored.phones, &shown.phones, &mut sent.phones);
        }
        if keep(
            self,
            "addresses",
            &stored.addresses,
            &shown.addresses,
            &mut sent.addresses,
        )? {
            entries(&stored.addresses, &shown.addresses, &mut sent.addresses);
        }
        let names: BTreeSet<String> = stored
            .custom
            .keys()
            .chain(sent.custom.keys())
            .cloned()
            .collect();
        for name in names {
            let field = format!("custom.{name}");
            let mut value = sent.custom.remove(&name);
            keep(
                self,
                &field,
                &stored.custom.get(&name).cloned(),
                &shown.custom.get(&name).cloned(),
                &mut value,
            )?;
            if let Some(v) = value {
                sent.custom.insert(name, v);
            }
        }
        Ok(sent)
    }

    /// A new dossier's fields, checked: it may not set a field hidden from
    /// the principal (the error names it).
    pub fn may_set(&self, draft: &Customer) -> Result<(), String> {
        let mut blank = draft.clone();
        blank.name = Default::default();
        blank.organization = None;
        blank.company = None;
        blank.job_title = None;
        blank.source = None;
        blank.external_id = None;
        blank.birth_date = None;
        blank.tags.clear();
        blank.emails.clear();
        blank.phones.clear();
        blank.addresses.clear();
        blank.custom.clear();
        self.kept(&blank, draft.clone()).map(|_| ())
    }
}

/// A policy's name for a field: the catalogue's canonical one where it knows it.
fn canonical(name: &str) -> String {
    match name {
        "custom" | "related" => name.to_string(),
        _ => catalogue::resolve(name).map_or_else(|| name.to_string(), |n| n.name()),
    }
}

fn text(access: FieldAccess, v: &mut Option<String>) {
    match access {
        FieldAccess::Visible => {}
        FieldAccess::Masked => *v = v.as_deref().map(mask_name),
        FieldAccess::Hidden => *v = None,
    }
}

/// One field of [`Viewer::kept`]: sent back as shown keeps the stored value
/// (false); a change (true) is refused on a field the principal does not see
/// at all (hidden, or masked where a mask shows nothing: birth dates, tags).
fn keep<T: PartialEq + Clone>(
    v: &Viewer,
    field: &str,
    stored: &T,
    shown: &T,
    sent: &mut T,
) -> Result<bool, String> {
    if sent == shown {
        *sent = stored.clone();
        return Ok(false);
    }
    let unseen = match v.access(field) {
        FieldAccess::Hidden => true,
        FieldAccess::Masked => matches!(field, "birth_date" | "tags"),
        FieldAccess::Visible => false,
    };
    if unseen {
        return Err(field.to_string());
    }
    Ok(true)
}

/// The entries of a changed list that were sent back as shown take their
/// stored values (a masked e-mail kept, a new one added beside it).
fn entries<T: PartialEq + Clone>(stored: &[T], shown: &[T], sent: &mut [T]) {
    if stored == shown {
        return;
    }
    for entry in sent.iter_mut() {
        if let Some(i) = shown.iter().position(|s| s == entry) {
            *entry = stored[i].clone();
        }
    }
}
