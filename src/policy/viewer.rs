//! A principal under a policy: what its roles grant together, and how each
//! kind of answer and write looks through those grants.

use std::collections::{BTreeMap, BTreeSet};

use kehu_model::catalogue::{self, Field, Named};
use kehu_model::{CustomValue, Customer, Related};
use kehu_segment::{Explanation, Seen};

use super::masks::{mask_email, mask_identifier, mask_name, mask_phone, mask_tail};
use super::{FieldAccess, Operation, Policy, Principal, Scope};
use crate::DuplicateCandidate;

/// A principal and what its roles grant: the policy stage of a book handle.
#[derive(Debug, Clone)]
pub struct Viewer {
    principal: Principal,
    operations: BTreeSet<Operation>,
    scope: Scope,
    /// Each role's field access (its default and the fields it names).
    grants: Vec<Grant>,
    filter_masked: BTreeSet<String>,
    team: Vec<String>,
    /// [`Viewer::access`] of each dossier field of [`GROUPS`] (the groups
    /// and their parts) and of `related`, worked out once: masking a
    /// dossier asks for them all.
    known: Vec<(&'static str, FieldAccess)>,
}

/// One role's field access.
#[derive(Debug, Clone)]
struct Grant {
    default: FieldAccess,
    fields: BTreeMap<String, FieldAccess>,
}

impl Grant {
    /// How `field` shows by this role: by its own name, else by the
    /// top-level field it is part of (`city` → `addresses`), else `custom`
    /// for a custom field, else the role's default — which shows an
    /// identifier (a resident ID, a credit code) masked at most.
    fn access(&self, own: &str, wider: Option<&str>, identifier: bool) -> FieldAccess {
        let default = if identifier {
            self.default.min(FieldAccess::Masked)
        } else {
            self.default
        };
        self.fields
            .get(own)
            .or_else(|| wider.and_then(|w| self.fields.get(w)))
            .copied()
            .unwrap_or(default)
    }
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
    "resident_id",
    "credit_code",
    "emails",
    "phones",
    "addresses",
    "tags",
    "source",
    "external_id",
];

/// The dossier's top-level text fields the policy masks or hides one by
/// one, in the order [`text_fields`] lends them.
const TEXT_FIELDS: [&str; 6] = [
    "company",
    "job_title",
    "source",
    "external_id",
    "resident_id",
    "credit_code",
];

/// The values of [`TEXT_FIELDS`] of a dossier.
fn text_fields(c: &mut Customer) -> [&mut Option<String>; 6] {
    [
        &mut c.company,
        &mut c.job_title,
        &mut c.source,
        &mut c.external_id,
        &mut c.resident_id,
        &mut c.credit_code,
    ]
}

/// How a masked value of a field shows.
fn mask_of(field: Option<Field>) -> fn(&str) -> String {
    match field {
        Some(Field::Emails) => mask_email,
        Some(Field::Phones) => mask_phone,
        Some(Field::ExternalId) => mask_tail,
        Some(f) if f.is_identifier() => mask_identifier,
        _ => mask_name,
    }
}

impl Viewer {
    /// The grants of `principal`'s roles under `policy`, together: the union
    /// of their operations, the widest scope, and for each field the most
    /// open access any of the roles gives it.
    pub fn new(principal: Principal, policy: &Policy) -> Self {
        let mut v = Viewer {
            principal,
            operations: BTreeSet::new(),
            scope: Scope::Own,
            grants: Vec::new(),
            filter_masked: BTreeSet::new(),
            team: Vec::new(),
            known: Vec::new(),
        };
        for role in v.principal.roles.iter().filter_map(|r| policy.roles.get(r)) {
            v.operations.extend(role.operations.iter().copied());
            v.scope = if v.grants.is_empty() {
                role.scope
            } else {
                v.scope.max(role.scope)
            };
            v.grants.push(Grant {
                default: role.default,
                fields: role
                    .fields
                    .iter()
                    .map(|(f, a)| (canonical(f), *a))
                    .collect(),
            });
            v.filter_masked
                .extend(role.filter_masked.iter().map(|f| canonical(f)));
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
        v.known = catalogue::Field::all()
            .filter(|f| GROUPS.contains(&f.group().name()))
            .map(|f| f.name())
            .chain(["related"])
            .map(|name| (name, v.access(name)))
            .collect();
        v
    }

    /// How a dossier field of the catalogue (by its canonical name), or
    /// `related`, shows.
    fn group(&self, name: &str) -> FieldAccess {
        self.known
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

    /// How a field shows: the most open access any role gives it (by its
    /// own name in the role, else by the top-level field it is part of —
    /// `city` → `addresses` —, else `custom` for a custom field, else the
    /// role's default); hidden without roles. Any name the catalogue knows
    /// for a field works: `邮箱`, `email`, `emails`.
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
        let wider = match &named {
            Some(Named::Field(f)) => Some(f.group().name()),
            Some(Named::Custom(_)) => Some("custom"),
            None => None,
        };
        let identifier = matches!(&named, Some(Named::Field(f)) if f.is_identifier());
        self.grants
            .iter()
            .map(|g| g.access(&own, wider, identifier))
            .max()
            .unwrap_or(FieldAccess::Hidden)
    }

    /// How a value holding `field` whole shows: a group's value (an
    /// address, a name, an organisation) holds its parts, and shows as the
    /// most restricted of them allows.
    fn holding(&self, field: &str) -> FieldAccess {
        match catalogue::field(field) {
            // The display name of an organisation is its name.
            Some(Field::Name) => ["given_name", "family_name", "full_name", "organization"]
                .map(|p| self.group(p))
                .into_iter()
                .min()
                .unwrap_or(FieldAccess::Hidden),
            Some(f) if f.group() == f => catalogue::Field::all()
                .filter(|p| p.group() == f)
                .map(|p| self.group(p.name()))
                .min()
                .unwrap_or(FieldAccess::Hidden),
            _ => self.access(field),
        }
    }

    /// Whether a condition may test the field: when it is visible, or masked
    /// and named in a role's `filter_masked`.
    pub fn may_filter(&self, field: &str) -> bool {
        if let Some(Named::Field(Field::Name)) = catalogue::resolve(field) {
            // The display name reads the given, family and full names, and
            // an organisation's name.
            let parts = ["full_name", "given_name", "family_name", "organization"];
            if !parts.iter().all(|p| self.may_filter(p)) {
                return false;
            }
        }
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

    /// Which columns of a duplicate comparison ([`kehu_dedupe::dossier::fields`],
    /// in order) the principal may compare: those whose every compared
    /// field (an organisation's name reads a person's company too) it may filter on. Its duplicate checks look the
    /// book up and score by these alone, so no answer moves with a value it
    /// cannot test.
    pub fn compared_columns(&self) -> Vec<bool> {
        kehu_dedupe::dossier::fields()
            .iter()
            .map(|f| compared(&f.name).all(|p| self.may_filter(p)))
            .collect()
    }

    /// A dossier as the principal may see it (scope aside): each field by
    /// its own access (`given_name`, `city`, `industry` as a policy names
    /// them, else as their group does).
    pub fn customer(&self, mut c: Customer) -> Customer {
        text(self.group("given_name"), &mut c.name.given);
        text(self.group("family_name"), &mut c.name.family);
        // A full name holds the given and family names: it shows as the most
        // restricted of the three allows.
        let full = ["full_name", "given_name", "family_name"].map(|f| self.group(f));
        text(
            full.into_iter().min().unwrap_or(FieldAccess::Hidden),
            &mut c.name.full,
        );
        for (name, v) in TEXT_FIELDS.into_iter().zip(text_fields(&mut c)) {
            match self.group(name) {
                FieldAccess::Visible => {}
                FieldAccess::Masked => *v = v.as_deref().map(mask_of(catalogue::field(name))),
                FieldAccess::Hidden => *v = None,
            }
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
        if self.group("addresses") == FieldAccess::Hidden {
            c.addresses.clear();
        }
        let parts = [
            "street", "city", "region", "postcode", "country", "district",
        ]
        .map(|f| self.group(f));
        for a in &mut c.addresses {
            if parts[0] == FieldAccess::Masked {
                a.street = a.street.as_ref().map(|_| "***".into());
            } else if parts[0] == FieldAccess::Hidden {
                a.street = None;
            }
            text(parts[1], &mut a.city);
            text(parts[2], &mut a.region);
            text(parts[5], &mut a.district);
            if parts[3] != FieldAccess::Visible {
                a.postcode = None;
            }
            // A country is the coarsest part of an address: masked, it shows.
            if parts[4] == FieldAccess::Hidden {
                a.country = None;
            }
            if parts.iter().any(|p| *p != FieldAccess::Visible) {
                a.raw = None;
            }
        }
        if let Some(o) = &mut c.organization {
            text(self.group("organization"), &mut o.name);
            text(self.group("industry"), &mut o.industry);
            if self.group("org_size") != FieldAccess::Visible {
                o.size = None;
            }
            if self.group("organization") == FieldAccess::Hidden
                && o.industry.is_none()
                && o.size.is_none()
            {
                c.organization = None;
            }
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
            .flat_map(compared)
            .map(|part| self.holding(part))
            .min()
            .unwrap_or(FieldAccess::Hidden);
        let first = field.split('+').next().unwrap_or(field);
        match access {
            FieldAccess::Visible => Some(value.to_string()),
            FieldAccess::Hidden => None,
            FieldAccess::Masked => Some(mask_of(catalogue::field(first))(value)),
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
                Related::Interaction(i) => {
                    fix(&mut i.summary);
                    if let Some(o) = &mut i.outcome {
                        fix(o);
                    }
                }
                Related::Feedback(f) => fix(&mut f.comment),
                Related::Note(n) => fix(&mut n.text),
                Related::Consent(c) => {
                    if let Some(e) = &mut c.evidence {
                        fix(e);
                    }
                }
                Related::Purchase(p) => {
                    if let Some(r) = &mut p.reference {
                        fix(r);
                    }
                }
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
                    self.holding(&field)
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
            let access = self.holding(&field);
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

    /// Duplicate candidates as they may show (a principal's check finds
    /// only dossiers in its scope): the comparisons of fields it may not
    /// filter on left out (they were not scored), the values of the rest
    /// masked by field access.
    pub fn candidates(&self, mut candidates: Vec<DuplicateCandidate>) -> Vec<DuplicateCandidate> {
        for cand in &mut candidates {
            cand.explanation.fields.retain_mut(|f| {
                if !f
                    .field
                    .split('+')
                    .flat_map(compared)
                    .all(|p| self.may_filter(p))
                {
                    return false;
                }
                f.right = self.value(&f.field, &f.right).unwrap_or_default();
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
        let (n, m) = (&stored.name, &shown.name);
        keep(self, "given_name", &n.given, &m.given, &mut sent.name.given)?;
        keep(
            self,
            "family_name",
            &n.family,
            &m.family,
            &mut sent.name.family,
        )?;
        keep(self, "full_name", &n.full, &m.full, &mut sent.name.full)?;
        let (o, m) = (
            stored.organization.clone().unwrap_or_default(),
            shown.organization.clone().unwrap_or_default(),
        );
        let mut org = sent.organization.take().unwrap_or_default();
        keep(self, "organization", &o.name, &m.name, &mut org.name)?;
        keep(
            self,
            "industry",
            &o.industry,
            &m.industry,
            &mut org.industry,
        )?;
        keep(self, "org_size", &o.size, &m.size, &mut org.size)?;
        sent.organization = (org != Default::default()).then_some(org);
        let (mut stored_texts, mut shown_texts) = (stored.clone(), shown.clone());
        let texts = text_fields(&mut stored_texts)
            .into_iter()
            .zip(text_fields(&mut shown_texts))
            .zip(text_fields(&mut sent));
        for (name, ((stored, shown), sent)) in TEXT_FIELDS.into_iter().zip(texts) {
            keep(self, name, stored, shown, sent)?;
        }
        keep(
            self,
            "birth_date",
            &stored.birth_date,
            &shown.birth_date,
            &mut sent.birth_date,
        )?;
        keep(self, "tags", &stored.tags, &shown.tags, &mut sent.tags)?;
        entries(
            self,
            "emails",
            &stored.emails,
            &shown.emails,
            &mut sent.emails,
        )?;
        entries(
            self,
            "phones",
            &stored.phones,
            &shown.phones,
            &mut sent.phones,
        )?;
        entries(
            self,
            "addresses",
            &stored.addresses,
            &shown.addresses,
            &mut sent.addresses,
        )?;
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
        for v in text_fields(&mut blank) {
            *v = None;
        }
        blank.birth_date = None;
        blank.tags.clear();
        blank.emails.clear();
        blank.phones.clear();
        blank.addresses.clear();
        blank.custom.clear();
        self.kept(&blank, draft.clone()).map(|_| ())
    }
}

/// The dossier fields a duplicate comparison of `field` reads: an
/// organisation's name is a person's company where it has none, given and
/// family names come from the full name when only it is held.
pub(crate) fn compared(field: &str) -> impl Iterator<Item = &str> {
    let extra = match catalogue::field(field) {
        Some(Field::Organization) => Some("company"),
        Some(Field::GivenName | Field::FamilyName) => Some("full_name"),
        _ => None,
    };
    std::iter::once(field).chain(extra)
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
/// at all (hidden, or masked where a mask shows nothing: birth dates, tags,
/// sizes, postcodes).
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
        FieldAccess::Masked => matches!(field, "birth_date" | "tags" | "org_size" | "postcode"),
        FieldAccess::Visible => false,
    };
    if unseen {
        return Err(field.to_string());
    }
    Ok(true)
}

/// A list of [`Viewer::kept`] (`emails`, `phones`, `addresses`): sent back
/// as shown keeps the stored list; a change to a hidden list is refused.
/// Otherwise each entry sent is paired with the entry shown that it equals,
/// else with the one shown at its place (an edited entry), and keeps the
/// stored value of every part it sent back as shown: the masked street of
/// an address whose city changed stays, a new e-mail is added beside a
/// masked one. A new entry may not set a part hidden from the principal.
fn entries<T: Entry>(
    v: &Viewer,
    field: &str,
    stored: &[T],
    shown: &[T],
    sent: &mut Vec<T>,
) -> Result<(), String> {
    if !keep(v, field, &stored.to_vec(), &shown.to_vec(), sent)? {
        return Ok(());
    }
    let exact: Vec<Option<usize>> = sent
        .iter()
        .map(|e| shown.iter().position(|s| s == e))
        .collect();
    let mut taken: Vec<bool> = (0..shown.len()).map(|j| exact.contains(&Some(j))).collect();
    let mut pairs = exact.clone();
    // An edited entry: the free entry shown that agrees with it on most
    // parts (the nearest of those); then, for the rest, the free one at its
    // place.
    for (i, entry) in sent.iter().enumerate() {
        if pairs[i].is_some() {
            continue;
        }
        let best = (0..shown.len())
            .filter(|&j| !taken[j])
            .map(|j| {
                (
                    entry.agreement(&shown[j]),
                    std::cmp::Reverse(j.abs_diff(i)),
                    j,
                )
            })
            .filter(|(n, _, _)| *n > 0)
            .max()
            .map(|(_, _, j)| j);
        if let Some(j) = best {
            taken[j] = true;
            pairs[i] = Some(j);
        }
    }
    for (i, pair) in pairs.iter_mut().enumerate() {
        if pair.is_none() && i < shown.len() && !taken[i] {
            taken[i] = true;
            *pair = Some(i);
        }
    }
    for (entry, pair) in sent.iter_mut().zip(pairs) {
        match pair {
            Some(j) => entry.keep_parts(v, &stored[j], &shown[j])?,
            None => entry.keep_parts(v, &T::default(), &T::default())?,
        }
    }
    Ok(())
}

/// An entry of a dossier's list, kept part by part.
trait Entry: PartialEq + Clone + Default {
    /// Each part sent back as shown takes its stored value; a changed part
    /// hidden from the principal is refused.
    fn keep_parts(&mut self, v: &Viewer, stored: &Self, shown: &Self) -> Result<(), String>;
    /// How many of the parts that identify it are set and equal in both.
    fn agreement(&self, other: &Self) -> usize;
}

fn same<T: PartialEq + Default>(a: &T, b: &T) -> usize {
    usize::from(a == b && *a != T::default())
}

impl Entry for kehu_model::Email {
    fn keep_parts(&mut self, v: &Viewer, stored: &Self, shown: &Self) -> Result<(), String> {
        keep(
            v,
            "emails",
            &stored.address,
            &shown.address,
            &mut self.address,
        )?;
        keep(v, "emails", &stored.raw, &shown.raw, &mut self.raw)?;
        keep(v, "emails", &stored.label, &shown.label, &mut self.label)?;
        Ok(())
    }
    fn agreement(&self, other: &Self) -> usize {
        same(&self.address, &other.address) + same(&self.label, &other.label)
    }
}

impl Entry for kehu_model::Phone {
    fn keep_parts(&mut self, v: &Viewer, stored: &Self, shown: &Self) -> Result<(), String> {
        keep(v, "phones", &stored.number, &shown.number, &mut self.number)?;
        keep(v, "phones", &stored.raw, &shown.raw, &mut self.raw)?;
        keep(v, "phones", &stored.label, &shown.label, &mut self.label)?;
        Ok(())
    }
    fn agreement(&self, other: &Self) -> usize {
        same(&self.number, &other.number) + same(&self.label, &other.label)
    }
}

impl Entry for kehu_model::Address {
    fn keep_parts(&mut self, v: &Viewer, stored: &Self, shown: &Self) -> Result<(), String> {
        keep(v, "street", &stored.street, &shown.street, &mut self.street)?;
        keep(
            v,
            "district",
            &stored.district,
            &shown.district,
            &mut self.district,
        )?;
        keep(v, "city", &stored.city, &shown.city, &mut self.city)?;
        keep(v, "region", &stored.region, &shown.region, &mut self.region)?;
        keep(
            v,
            "postcode",
            &stored.postcode,
            &shown.postcode,
            &mut self.postcode,
        )?;
        keep(
            v,
            "country",
            &stored.country,
            &shown.country,
            &mut self.country,
        )?;
        keep(v, "street", &stored.raw, &shown.raw, &mut self.raw)?;
        keep(v, "addresses", &stored.label, &shown.label, &mut self.label)?;
        Ok(())
    }
    fn agreement(&self, other: &Self) -> usize {
        same(&self.street, &other.street)
            + same(&self.district, &other.district)
            + same(&self.city, &other.city)
            + same(&self.region, &other.region)
            + same(&self.postcode, &other.postcode)
            + same(&self.label, &other.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kehu_model::{Address, Email};

    fn viewer(toml: &str, roles: &[&str]) -> Viewer {
        let policy = Policy::from_toml(toml).unwrap();
        let who = Principal {
            user: "li".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            team: None,
        };
        Viewer::new(who, &policy)
    }

    fn dossier() -> Customer {
        let mut c = Customer::person("Wei", "Zhang").with_email("zhang.wei@163.com");
        c.addresses.push(Address {
            street: Some("88 Nanjing Road".into()),
            city: Some("Shanghai".into()),
            postcode: Some("200001".into()),
            country: Some("CN".into()),
            ..Default::default()
        });
        c
    }

    #[test]
    fn roles_together_grant_each_field_its_most_open_access() {
        let v = viewer(
            "[roles.a]\nfields = { emails = \"hidden\" }\n[roles.b]\ndefault = \"visible\"\n",
            &["a", "b"],
        );
        assert_eq!(v.access("email"), FieldAccess::Visible);
        assert_eq!(viewer("", &[]).access("emails"), FieldAccess::Hidden);
    }

    #[test]
    fn a_part_named_by_the_policy_shows_by_its_own_access() {
        let v = viewer(
            "[roles.a]\ndefault = \"visible\"\nfields = { city = \"hidden\", given_name = \"masked\" }\n",
            &["a"],
        );
        let seen = v.customer(dossier());
        assert_eq!(seen.addresses[0].city, None);
        assert_eq!(seen.addresses[0].street.as_deref(), Some("88 Nanjing Road"));
        assert_eq!(seen.name.given.as_deref(), Some("W**"));
        assert_eq!(seen.name.family.as_deref(), Some("Zhang"));
        assert!(!v.may_filter("城市"));
    }

    #[test]
    fn an_edited_entry_keeps_its_masked_parts() {
        let v = viewer(
            "[roles.a]\ndefault = \"visible\"\nfields = { street = \"masked\", emails = \"masked\" }\n",
            &["a"],
        );
        let stored = dossier();
        let mut sent = v.customer(stored.clone());
        sent.addresses[0].city = Some("Suzhou".into());
        sent.emails[0].label = Some("work".into());
        sent.emails.insert(0, Email::new("wei@work.cn"));
        let kept = v.kept(&stored, sent).unwrap();
        assert_eq!(kept.addresses[0].street.as_deref(), Some("88 Nanjing Road"));
        assert_eq!(kept.addresses[0].city.as_deref(), Some("Suzhou"));
        assert_eq!(kept.emails[0].address, "wei@work.cn");
        assert_eq!(kept.emails[1].address, "zhang.wei@163.com");
        assert_eq!(kept.emails[1].label.as_deref(), Some("work"));
        // A part hidden from the principal cannot be set on a new entry.
        let v = viewer(
            "[roles.a]\ndefault = \"visible\"\nfields = { postcode = \"hidden\" }\n",
            &["a"],
        );
        let mut sent = v.customer(stored.clone());
        sent.addresses.push(Address {
            city: Some("Beijing".into()),
            postcode: Some("100000".into()),
            ..Default::default()
        });
        assert_eq!(v.kept(&stored, sent).unwrap_err(), "postcode");
    }
}
