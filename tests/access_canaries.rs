//! The access policy as a property: canary values planted in every field of
//! dossiers, their related records and a custom field; random principals
//! under random policies run random reads and writes on every path of the
//! book. It fails when an answer (or an error) carries a canary of a field
//! the principal cannot see, or of a dossier outside its scope; when a
//! condition on a field it may not filter on answers; or when a write loses
//! or changes a value it could not see, or touches a dossier outside its
//! scope.
//!
//! The model of the policy here is written from the policy's documented
//! rules (README, "Roles and masking"), not from `src/policy`.

mod common;
use common::{credit_code, resident_id};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use chrono::{NaiveDate, TimeDelta, Utc};
use kehu::io::{ExportFilter, ExportOptions, Format, ImportOptions, Mode};
use kehu::{
    Address, Book, ClassifyOptions, Consent, ConsentStatus, CustomValue, Customer, CustomerId,
    Direction, Error, Feedback, FeedbackKind, Interaction, InteractionChannel, Kind, Money, Note,
    Organization, Policy, Principal, Purchase, RuleSet, Rules, Survivorship,
};
use proptest::prelude::*;

const OPERATIONS: &[&str] = &[
    "read", "add", "update", "delete", "merge", "import", "export", "forget",
];
const USERS: &[&str] = &["li", "wang", "zhao", "sun"];
const OWNERS: &[Option<&str>] = &[
    Some("li"),
    Some("wang"),
    Some("zhao"),
    None,
    Some("li"),
    Some("sun"),
];
const TEAMS: &[(&str, &[&str])] = &[("east", &["li", "zhao"]), ("west", &["wang"])];

/// Names a policy or a condition may use for a field, with the field's
/// canonical name and the group it is part of.
const NAMES: &[(&str, &str, &str)] = &[
    ("name", "name", "name"),
    ("姓名", "name", "name"),
    ("given_name", "given_name", "name"),
    ("first_name", "given_name", "name"),
    ("名", "given_name", "name"),
    ("family_name", "family_name", "name"),
    ("姓", "family_name", "name"),
    ("surname", "family_name", "name"),
    ("company", "company", "company"),
    ("公司", "company", "company"),
    ("job_title", "job_title", "job_title"),
    ("职位", "job_title", "job_title"),
    ("birth_date", "birth_date", "birth_date"),
    ("birthday", "birth_date", "birth_date"),
    ("生日", "birth_date", "birth_date"),
    ("emails", "emails", "emails"),
    ("email", "emails", "emails"),
    ("邮箱", "emails", "emails"),
    ("phones", "phones", "phones"),
    ("phone", "phones", "phones"),
    ("手机", "phones", "phones"),
    ("addresses", "addresses", "addresses"),
    ("street", "street", "addresses"),
    ("地址", "street", "addresses"),
    ("city", "city", "addresses"),
    ("城市", "city", "addresses"),
    ("district", "district", "addresses"),
    ("区县", "district", "addresses"),
    ("region", "region", "addresses"),
    ("省", "region", "addresses"),
    ("organization", "organization", "organization"),
    ("industry", "industry", "organization"),
    ("行业", "industry", "organization"),
    ("tags", "tags", "tags"),
    ("标签", "tags", "tags"),
    ("source", "source", "source"),
    ("来源", "source", "source"),
    ("external_id", "external_id", "external_id"),
    ("客户编号", "external_id", "external_id"),
    ("resident_id", "resident_id", "resident_id"),
    ("身份证号", "resident_id", "resident_id"),
    ("credit_code", "credit_code", "credit_code"),
    ("税号", "credit_code", "credit_code"),
    ("custom", "custom", "custom"),
    ("custom.note", "custom.note", "custom"),
    ("related", "related", "related"),
];

/// The canonical fields a canary is planted in (each with its group).
const PLANTED: &[(&str, &str)] = &[
    ("given_name", "name"),
    ("family_name", "name"),
    ("company", "company"),
    ("job_title", "job_title"),
    ("source", "source"),
    ("external_id", "external_id"),
    ("resident_id", "resident_id"),
    ("credit_code", "credit_code"),
    ("birth_date", "birth_date"),
    ("emails", "emails"),
    ("phones", "phones"),
    ("street", "addresses"),
    ("city", "addresses"),
    ("district", "addresses"),
    ("region", "addresses"),
    ("organization", "organization"),
    ("industry", "organization"),
    ("tags", "tags"),
    ("custom.note", "custom"),
    ("related", "related"),
];

fn access_rank(a: &str) -> u8 {
    match a {
        "hidden" => 0,
        "masked" => 1,
        _ => 2,
    }
}

/// One role as generated: operations, scope, default and field access by
/// the name the policy uses, filter_masked names.
#[derive(Debug, Clone)]
struct RoleSpec {
    operations: Vec<&'static str>,
    scope: &'static str,
    default: &'static str,
    fields: Vec<(&'static str, &'static str)>,
    filter_masked: Vec<&'static str>,
}

impl RoleSpec {
    /// This role's access to a canonical field (own name, else group, else
    /// default — at most masked for a national identifier).
    fn access(&self, field: &str, group: &str) -> u8 {
        let identifier = matches!(field, "resident_id" | "credit_code");
        let default = access_rank(self.default).min(if identifier { 1 } else { 2 });
        let named = |wanted: &str| {
            self.fields
                .iter()
                .find(|(n, _)| canonical(n) == wanted)
                .map(|(_, a)| access_rank(a))
        };
        named(field).or_else(|| named(group)).unwrap_or(default)
    }
}

fn canonical(name: &str) -> &'static str {
    NAMES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, _)| *c)
        .unwrap_or("?")
}

fn group_of(field: &str) -> &'static str {
    NAMES
        .iter()
        .find(|(_, c, _)| *c == field)
        .map(|(_, _, g)| *g)
        .unwrap_or("?")
}

/// What a principal is granted, worked out from the specs.
struct Model {
    user: &'static str,
    roles: Vec<RoleSpec>,
}

impl Model {
    fn access(&self, field: &str) -> u8 {
        let group = group_of(field);
        self.roles
            .iter()
            .map(|r| r.access(field, group))
            .max()
            .unwrap_or(0)
    }

    fn sees(&self, field: &str) -> bool {
        self.access(field) == 2
    }

    fn may(&self, op: &str) -> bool {
        self.roles.iter().any(|r| r.operations.contains(&op))
    }

    fn may_filter(&self, field: &str) -> bool {
        if field == "name" {
            return ["given_name", "family_name", "organization"]
                .iter()
                .all(|f| self.may_filter(f))
                && self.may_filter_one("name");
        }
        self.may_filter_one(field)
    }

    fn may_filter_one(&self, field: &str) -> bool {
        match self.access(field) {
            2 => true,
            0 => false,
            _ => self.roles.iter().any(|r| {
                r.filter_masked
                    .iter()
                    .any(|n| canonical(n) == field || canonical(n) == group_of(field))
            }),
        }
    }

    fn scope(&self) -> &'static str {
        let rank = |s: &str| match s {
            "own" => 0,
            "team" => 1,
            _ => 2,
        };
        self.roles
            .iter()
            .map(|r| r.scope)
            .max_by_key(|s| rank(s))
            .unwrap_or("own")
    }

    fn reaches(&self, owner: Option<&str>) -> bool {
        match self.scope() {
            "all" => true,
            "team" => {
                let team: Vec<&str> = TEAMS
                    .iter()
                    .find(|(_, users)| users.contains(&self.user))
                    .map(|(_, u)| u.to_vec())
                    .unwrap_or_default();
                owner.is_some_and(|o| o == self.user || team.contains(&o))
            }
            _ => owner == Some(self.user),
        }
    }
}

fn policy_toml(roles: &[RoleSpec]) -> String {
    let mut out = String::new();
    for (i, r) in roles.iter().enumerate() {
        out += &format!("[roles.r{i}]\n");
        let ops: Vec<String> = r.operations.iter().map(|o| format!("{o:?}")).collect();
        out += &format!("operations = [{}]\n", ops.join(", "));
        out += &format!("scope = {:?}\ndefault = {:?}\n", r.scope, r.default);
        let fields: Vec<String> = r
            .fields
            .iter()
            .map(|(n, a)| format!("{n:?} = {a:?}"))
            .collect();
        out += &format!("fields = {{ {} }}\n", fields.join(", "));
        let fm: Vec<String> = r.filter_masked.iter().map(|n| format!("{n:?}")).collect();
        out += &format!("filter_masked = [{}]\n", fm.join(", "));
    }
    out += "[teams]\n";
    for (t, users) in TEAMS {
        let u: Vec<String> = users.iter().map(|x| format!("{x:?}")).collect();
        out += &format!("{t} = [{}]\n", u.join(", "));
    }
    out
}

fn role_strategy() -> impl Strategy<Value = RoleSpec> {
    let access = prop::sample::select(vec!["visible", "masked", "hidden"]);
    (
        prop::collection::vec(any::<bool>(), OPERATIONS.len()),
        prop::sample::select(vec!["own", "team", "all"]),
        access.clone(),
        prop::collection::vec((0..NAMES.len(), access), 0..8),
        prop::collection::vec(0..NAMES.len(), 0..3),
    )
        .prop_map(|(ops, scope, default, fields, fm)| {
            let mut seen = BTreeSet::new();
            RoleSpec {
                // Read most of the time: a principal without it answers nothing.
                operations: OPERATIONS
                    .iter()
                    .zip(&ops)
                    .enumerate()
                    .filter(|(i, (_, on))| **on || *i == 0)
                    .map(|(_, (o, _))| *o)
                    .collect(),
                scope,
                default,
                // One name per field and role: two names of one field would
                // leave which one counts to the map's order.
                fields: fields
                    .into_iter()
                    .filter(|(i, _)| seen.insert(NAMES[*i].1))
                    .map(|(i, a)| (NAMES[i].0, a))
                    .collect(),
                filter_masked: fm.into_iter().map(|i| NAMES[i].0).collect(),
            }
        })
}

/// A small deterministic generator for canary text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn letters(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| (b'a' + (self.next() % 26) as u8) as char)
            .collect()
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| (b'0' + (self.next() % 10) as u8) as char)
            .collect()
    }
}

/// The canaries of one dossier: field → the strings that must not show
/// unless the principal sees the field.
#[derive(Debug, Clone, Default)]
struct Canaries {
    by_field: BTreeMap<&'static str, Vec<String>>,
}

impl Canaries {
    fn all(&self) -> impl Iterator<Item = (&'static str, &String)> {
        self.by_field
            .iter()
            .flat_map(|(f, v)| v.iter().map(move |s| (*f, s)))
    }
}

struct Fixture {
    book: Book,
    ids: Vec<CustomerId>,
    owners: Vec<Option<&'static str>>,
    canaries: Vec<Canaries>,
}

fn fixture(seed: u64) -> Fixture {
    let rules =
        RuleSet::from_toml("[[custom]]\nname = \"note\"\ntype = \"text\"\n").expect("rules");
    let book = Book::in_memory().with_rules(Rules::new(rules).expect("rules"));
    let mut rng = Rng(seed);
    let mut ids = Vec::new();
    let mut canaries = Vec::new();
    let cny = kehu::Currency::CNY;
    for (i, owner) in OWNERS.iter().enumerate() {
        let mut k = Canaries::default();
        let national = format!("139{}", rng.digits(8));
        let born = format!("1960{:02}{:02}", 1 + i, 10 + i);
        let resident = resident_id(&format!("440305{born}{}", rng.digits(3)));
        let code = credit_code(&format!("9144030{}", rng.digits(10)));
        let mut tok = |field: &'static str, k: &mut Canaries| {
            let t = format!("zq{}", rng.letters(7));
            k.by_field.entry(field).or_default().push(t.clone());
            t
        };
        let organization = i == 5;
        let mut c = if organization {
            let mut c = Customer::person("", "");
            c.kind = Kind::Organization;
            c.name = Default::default();
            c.organization = Some(Organization {
                name: Some(format!("{} Trading Ltd", cap(&tok("organization", &mut k)))),
                industry: Some(tok("industry", &mut k)),
                size: None,
            });
            c
        } else {
            Customer::person(
                cap(&tok("given_name", &mut k)),
                cap(&tok("family_name", &mut k)),
            )
        };
        c.owner = owner.map(str::to_string);
        c.company = Some(cap(&tok("company", &mut k)));
        c.job_title = Some(tok("job_title", &mut k));
        c.source = Some(tok("source", &mut k));
        let ext = tok("external_id", &mut k);
        c.external_id = Some(format!("{ext}{}", 1000 + i));
        // Valid identifiers, random digits; the ID's birth date is not the
        // dossier's (a role that shows the ID shows the date inside it).
        // (Canaries are compared in lower case.)
        k.by_field
            .insert("resident_id", vec![resident.to_lowercase()]);
        c.resident_id = Some(resident);
        k.by_field.insert("credit_code", vec![code.to_lowercase()]);
        c.credit_code = Some(code);
        let birth =
            NaiveDate::from_ymd_opt(1921 + 3 * i as i32, 1 + (i as u32 % 12), 13 + i as u32)
                .expect("date");
        if !organization {
            c.birth_date = Some(birth);
            k.by_field.insert(
                "birth_date",
                vec![birth.to_string(), birth.format("%Y%m%d").to_string()],
            );
        }
        let local = tok("emails", &mut k);
        c = c.with_email(format!("a{local}@example.com"));
        k.by_field.insert("phones", vec![national.clone()]);
        c = c.with_phone(format!("+86 {national}"));
        c.addresses.push(Address {
            street: Some(format!("{} Road 8", cap(&tok("street", &mut k)))),
            city: Some(cap(&tok("city", &mut k))),
            district: Some(cap(&tok("district", &mut k))),
            region: Some(cap(&tok("region", &mut k))),
            country: Some("CN".into()),
            ..Default::default()
        });
        c.tags = vec![tok("tags", &mut k)];
        c.custom.insert(
            "note".into(),
            CustomValue::Text(format!("N{}", tok("custom.note", &mut k))),
        );
        let saved = book.add_allowing_duplicates(c).expect("add").customer;
        let at = Utc::now() - TimeDelta::days(3);
        let id = saved.id;
        book.relate(Note::new(id, at, format!("N {}", tok("related", &mut k))))
            .expect("note");
        let mut talk = Interaction::new(
            id,
            at,
            InteractionChannel::Phone,
            Direction::Inbound,
            format!("S {}", tok("related", &mut k)),
        );
        talk.outcome = Some(format!("O {}", tok("related", &mut k)));
        book.relate(talk).expect("interaction");
        book.relate(Feedback::new(
            id,
            at,
            FeedbackKind::Complaint,
            format!("C {}", tok("related", &mut k)),
        ))
        .expect("feedback");
        let mut consent = Consent::new(id, at, "marketing", ConsentStatus::Granted);
        consent.evidence = Some(format!("E {}", tok("related", &mut k)));
        book.relate(consent).expect("consent");
        let mut purchase = Purchase::new(id, at, Money::parse("120", cny).expect("money"));
        purchase.reference = Some(format!("R{}", tok("related", &mut k)));
        book.relate(purchase).expect("purchase");
        ids.push(id);
        canaries.push(k);
    }
    Fixture {
        book,
        ids,
        owners: OWNERS.to_vec(),
        canaries,
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// One random step.
#[derive(Debug, Clone)]
enum Step {
    Get(usize),
    Find(usize, usize),
    Segment(usize, usize, u8),
    Explain(usize, usize, usize),
    CheckDuplicates(usize),
    History(usize),
    Related(usize),
    AsOf(usize),
    Export(u8, usize, usize),
    Update(usize, u8),
    Add(usize),
    Merge(usize, usize),
    Unmerge,
    Import(usize, u8),
    Dedupe,
    Whole(u8),
    SubjectExport(usize),
    Remove(usize, bool),
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let d = 0..OWNERS.len();
    let n = 0..NAMES.len();
    prop_oneof![
        d.clone().prop_map(Step::Get),
        (d.clone(), 0..6usize).prop_map(|(i, k)| Step::Find(i, k)),
        (n.clone(), d.clone(), 0..3u8).prop_map(|(f, i, m)| Step::Segment(f, i, m)),
        (n.clone(), d.clone(), d.clone()).prop_map(|(f, i, j)| Step::Explain(f, i, j)),
        d.clone().prop_map(Step::CheckDuplicates),
        d.clone().prop_map(Step::History),
        d.clone().prop_map(Step::Related),
        d.clone().prop_map(Step::AsOf),
        (0..3u8, n.clone(), d.clone()).prop_map(|(k, f, i)| Step::Export(k, f, i)),
        (d.clone(), 0..5u8).prop_map(|(i, k)| Step::Update(i, k)),
        d.clone().prop_map(Step::Add),
        (d.clone(), d.clone()).prop_map(|(i, j)| Step::Merge(i, j)),
        Just(Step::Unmerge),
        (d.clone(), 0..3u8).prop_map(|(i, k)| Step::Import(i, k)),
        Just(Step::Dedupe),
        (0..4u8).prop_map(Step::Whole),
        d.clone().prop_map(Step::SubjectExport),
        (d, any::<bool>()).prop_map(|(i, f)| Step::Remove(i, f)),
    ]
}

/// A condition on a field, with the dossier's canary as its value where the
/// field takes text; the canaries the principal typed in it.
fn condition(name: &str, f: &Fixture, i: usize, form: u8) -> Option<(String, Vec<String>)> {
    let field = canonical(name);
    let typed = |k: &str| f.canaries[i].by_field.get(k).cloned().unwrap_or_default();
    let first = |k: &str| typed(k).first().cloned().unwrap_or_else(|| "x".into());
    Some(match field {
        "birth_date" => (format!("{name} < 1940-01-01"), vec![]),
        "emails" => {
            let v = first("emails");
            (format!("{name} contains {v:?}"), vec![v])
        }
        "phones" => {
            let v = first("phones");
            (format!("{name} contains {v:?}"), vec![v])
        }
        "tags" if form == 0 => {
            let v = first("tags");
            (format!("has tag {v:?}"), vec![v])
        }
        "tags" => (format!("{name} is empty"), vec![]),
        // Not fields a condition can name.
        "addresses" | "custom" | "related" | "resident_id" | "credit_code" => return None,
        "name" => {
            let v = first("family_name");
            (format!("{name} contains {v:?}"), vec![v])
        }
        "custom.note" | "external_id" | "given_name" | "family_name" | "company" | "job_title"
        | "source" | "street" | "city" | "district" | "region" | "organization" | "industry" => {
            let v = first(field);
            match form {
                0 => (format!("{name} contains {v:?}"), vec![v]),
                1 => (format!("{name} starts_with \"Zq\""), vec![]),
                _ => (format!("{name} is not empty"), vec![]),
            }
        }
        other => panic!("no condition for {other}"),
    })
}

/// The state the checks compare writes against.
struct Check<'a> {
    f: &'a Fixture,
    model: &'a Model,
    /// Dossiers a write of this case may have changed as a whole (merged,
    /// removed, forgotten): their values are no longer compared.
    gone: BTreeSet<usize>,
    before: Vec<Customer>,
    before_related: Vec<String>,
    /// Canaries the principal typed in a write (it knows them; a dossier
    /// it wrote may hold them).
    known: BTreeSet<String>,
}

impl Check<'_> {
    /// Fails when `answer` carries a canary the principal may not see:
    /// any canary of a dossier outside its scope, a canary of a field it
    /// does not see in full of one inside. `typed` are canaries the
    /// principal sent itself.
    fn no_leak(&self, what: &str, answer: &str, typed: &[String]) {
        let text = answer.to_lowercase();
        let digits: String = answer.chars().filter(char::is_ascii_digit).collect();
        for (i, k) in self.f.canaries.iter().enumerate() {
            let reach = self.model.reaches(self.f.owners[i]);
            for (field, canary) in k.all() {
                if typed.contains(canary)
                    || self.known.contains(canary)
                    || (reach && self.model.sees(field))
                {
                    continue;
                }
                let found = if field == "phones" {
                    digits.contains(canary.as_str())
                } else {
                    text.contains(canary.as_str())
                };
                assert!(
                    !found,
                    "{what}: the answer carries {canary:?}, dossier {i}'s {field} \
                     (in scope: {reach}, access {})\n{answer}",
                    self.model.access(field)
                );
            }
        }
    }

    /// Fails unless a condition the principal may not test was refused.
    fn refused_unless_filterable(&self, what: &str, field: &str, ok: bool, err: Option<&Error>) {
        if !self.model.may_filter(field) || !self.model.may("read") {
            assert!(
                matches!(err, Some(Error::Denied { .. })),
                "{what}: a condition on {field} answered (ok {ok}, {err:?}) for a principal that may not filter on it"
            );
        }
    }

    /// Fails when a write changed a value the principal could not see, or a
    /// dossier outside its scope. `written` is the field the write set on
    /// purpose in the dossier it names (a masked value may be replaced).
    fn nothing_unseen_changed(&self, what: &str, written: Option<(usize, &str)>) {
        let owner = &self.f.book;
        for (i, id) in self.f.ids.iter().enumerate() {
            if self.gone.contains(&i) {
                continue;
            }
            let Ok(now) = owner.get(*id) else {
                panic!("{what}: dossier {i} is gone");
            };
            let was = &self.before[i];
            if !self.model.reaches(self.f.owners[i]) {
                assert_eq!(
                    was.version, now.version,
                    "{what}: dossier {i} outside the scope changed"
                );
                continue;
            }
            for (field, _) in PLANTED {
                if self.model.sees(field) || written == Some((i, *field)) {
                    continue;
                }
                let (a, b) = (values(was, field), values(&now, field));
                if *field == "related" {
                    continue;
                }
                assert!(
                    a.iter().all(|v| b.contains(v)),
                    "{what}: dossier {i} lost {field} {a:?} (now {b:?}); access {}",
                    self.model.access(field)
                );
            }
            if !self.model.sees("related") {
                let now_related = format!("{:?}", owner.related(*id).expect("related"));
                assert_eq!(
                    self.before_related[i], now_related,
                    "{what}: related records of {i} changed"
                );
            }
        }
    }

    /// The dossiers as they are now, for the checks of the next write.
    fn rebase(&mut self) {
        for (i, id) in self.f.ids.iter().enumerate() {
            if let Ok(now) = self.f.book.get(*id) {
                self.before[i] = now;
            }
        }
    }
}

/// A field's values in a dossier, as text.
fn values(c: &Customer, field: &str) -> Vec<String> {
    let one = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
    match field {
        "given_name" => one(&c.name.given),
        "family_name" => one(&c.name.family),
        "company" => one(&c.company),
        "job_title" => one(&c.job_title),
        "source" => one(&c.source),
        "external_id" => one(&c.external_id),
        "resident_id" => one(&c.resident_id),
        "credit_code" => one(&c.credit_code),
        "birth_date" => c.birth_date.iter().map(|d| d.to_string()).collect(),
        "emails" => c.emails.iter().map(|e| e.address.clone()).collect(),
        "phones" => c.phones.iter().map(|p| p.number.clone()).collect(),
        "street" => c
            .addresses
            .iter()
            .filter_map(|a| a.street.clone())
            .collect(),
        "city" => c.addresses.iter().filter_map(|a| a.city.clone()).collect(),
        "district" => c
            .addresses
            .iter()
            .filter_map(|a| a.district.clone())
            .collect(),
        "region" => c
            .addresses
            .iter()
            .filter_map(|a| a.region.clone())
            .collect(),
        "organization" => c
            .organization
            .iter()
            .filter_map(|o| o.name.clone())
            .collect(),
        "industry" => c
            .organization
            .iter()
            .filter_map(|o| o.industry.clone())
            .collect(),
        "tags" => c.tags.clone(),
        "custom.note" => c
            .custom
            .get("note")
            .map(|v| format!("{v:?}"))
            .into_iter()
            .collect(),
        _ => vec![],
    }
}

/// The canaries (of any dossier) a principal's own input carries: every
/// form of a value it typed in one form (a date as 1921-01-13 and 19210113).
fn typed_in(f: &Fixture, input: &str) -> Vec<String> {
    let text = input.to_lowercase();
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let mut out = Vec::new();
    for k in &f.canaries {
        for (field, forms) in &k.by_field {
            let typed = forms.iter().any(|c| {
                if *field == "phones" {
                    digits.contains(c.as_str())
                } else {
                    text.contains(c.as_str())
                }
            });
            if typed {
                if *field == "birth_date" || *field == "phones" {
                    out.extend(forms.iter().cloned());
                } else {
                    out.extend(forms.iter().filter(|c| text.contains(c.as_str())).cloned());
                }
            }
        }
    }
    out
}

fn shown<T: Debug, E: Debug>(r: &Result<T, E>) -> String {
    format!("{r:?}")
}

fn run(roles: Vec<RoleSpec>, user: usize, seed: u64, steps: Vec<Step>) {
    let f = fixture(seed);
    let policy = Policy::from_toml(&policy_toml(&roles)).expect("the generated policy");
    let model = Model {
        user: USERS[user],
        roles,
    };
    let principal = Principal {
        user: model.user.into(),
        roles: (0..model.roles.len()).map(|i| format!("r{i}")).collect(),
        team: None,
    };
    let g = f
        .book
        .as_principal(principal, &policy)
        .expect("a principal's book");
    let before: Vec<Customer> = f
        .ids
        .iter()
        .map(|id| f.book.get(*id).expect("get"))
        .collect();
    let before_related = f
        .ids
        .iter()
        .map(|id| format!("{:?}", f.book.related(*id).expect("related")))
        .collect();
    let mut check = Check {
        f: &f,
        model: &model,
        gone: BTreeSet::new(),
        before,
        before_related,
        known: BTreeSet::new(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut receipts = Vec::new();
    for (n, step) in steps.into_iter().enumerate() {
        let what = format!("step {n} {step:?}");
        let id = |i: usize| f.ids[i];
        match step {
            Step::Get(i) => check.no_leak(&what, &shown(&g.get(id(i))), &[]),
            Step::Find(i, k) => {
                let canary = |field: &str| f.canaries[i].by_field[field][0].clone();
                let (field, value, r) = match k {
                    0 => {
                        let v = format!("a{}@example.com", canary("emails"));
                        let r = g.find_by_email(&v);
                        ("emails", v, r)
                    }
                    1 => {
                        let v = format!("+86{}", canary("phones"));
                        let r = g.find_by_phone(&v);
                        ("phones", v, r)
                    }
                    2 => {
                        let v = canary("tags");
                        let r = g.find_by_tag(&v);
                        ("tags", v, r)
                    }
                    3 => {
                        let v = format!("{}{}", canary("external_id"), 1000 + i);
                        let r = g.find_by_external_id(&v);
                        ("external_id", v, r)
                    }
                    4 => {
                        let v = canary("resident_id").to_lowercase();
                        let r = g.find_by_resident_id(&v);
                        ("resident_id", v, r)
                    }
                    _ => {
                        let v = canary("credit_code");
                        let r = g.find_by("税号", &v);
                        ("credit_code", v, r)
                    }
                };
                let typed: Vec<String> = f.canaries[i].by_field[field].clone();
                check.refused_unless_filterable(&what, field, r.is_ok(), r.as_ref().err());
                let _ = value;
                check.no_leak(&what, &shown(&r), &typed);
            }
            Step::Segment(name, i, form) => {
                let Some((cond, typed)) = condition(NAMES[name].0, &f, i, form) else {
                    continue;
                };
                let field = NAMES[name].1;
                let seg = match g.segment(&cond) {
                    Ok(s) => s,
                    Err(e) => panic!("{what}: {cond:?} does not parse: {e}"),
                };
                let members = g.segment_members(&seg, None);
                check.refused_unless_filterable(
                    &what,
                    field,
                    members.is_ok(),
                    members.as_ref().err(),
                );
                check.no_leak(&what, &shown(&members), &typed);
                let count = g.segment_count(&seg, None);
                check.refused_unless_filterable(&what, field, count.is_ok(), count.as_ref().err());
                let ids = g.segment_ids(&seg, None);
                check.refused_unless_filterable(&what, field, ids.is_ok(), ids.as_ref().err());
                if let Ok(ids) = ids {
                    for m in ids {
                        let i = f.ids.iter().position(|x| *x == m);
                        if let Some(i) = i {
                            assert!(
                                model.reaches(f.owners[i]),
                                "{what}: member {i} outside the scope"
                            );
                        }
                    }
                }
            }
            Step::Explain(name, i, j) => {
                let Some((cond, typed)) = condition(NAMES[name].0, &f, i, 0) else {
                    continue;
                };
                let field = NAMES[name].1;
                let seg = g.segment(&cond).expect("parses");
                let r = g.explain_segment(&seg, id(j), None);
                check.refused_unless_filterable(&what, field, r.is_ok(), r.as_ref().err());
                check.no_leak(&what, &shown(&r), &typed);
            }
            Step::CheckDuplicates(i) => {
                let stored = &check.before[i];
                let mut draft = Customer::person(
                    stored.name.given.clone().unwrap_or_default(),
                    stored.name.family.clone().unwrap_or_default(),
                );
                draft.kind = stored.kind;
                draft.organization = stored.organization.clone();
                draft.emails = stored.emails.clone();
                draft.phones = stored.phones.clone();
                draft.birth_date = stored.birth_date;
                let typed = typed_in(&f, &format!("{draft:?}"));
                let r = g.check_duplicates(&draft);
                check.no_leak(&what, &shown(&r), &typed);
                // A check is a condition too: the same draft with every
                // value the principal may not test guessed wrong answers
                // the same (its probabilities do not move with a guess).
                let mut wrong = draft.clone();
                let m = check.model;
                if !m.may_filter("given_name") {
                    wrong.name.given = wrong.name.given.map(|g| format!("{g}x"));
                }
                if !m.may_filter("family_name") {
                    wrong.name.family = wrong.name.family.map(|g| format!("{g}x"));
                }
                if !m.may_filter("organization") || !m.may_filter("company") {
                    if let Some(o) = &mut wrong.organization {
                        o.name = o.name.as_ref().map(|n| format!("Other {n}"));
                    }
                }
                if !m.may_filter("emails") {
                    for e in &mut wrong.emails {
                        e.address = format!("x{}", e.address);
                        e.raw = e.address.clone();
                    }
                }
                if !m.may_filter("phones") {
                    for p in &mut wrong.phones {
                        p.number = format!("+86 138{}", &p.number[p.number.len() - 8..]);
                        p.raw = p.number.clone();
                    }
                }
                if !m.may_filter("birth_date") {
                    wrong.birth_date = wrong.birth_date.map(|d| d + TimeDelta::days(400));
                }
                let guessed = g.check_duplicates(&wrong);
                let answer = |r: &Result<Vec<kehu::DuplicateCandidate>, Error>| match r {
                    Ok(found) => format!(
                        "{:?}",
                        found
                            .iter()
                            .map(|d| (d.id, d.probability, d.action))
                            .collect::<Vec<_>>()
                    ),
                    Err(e) => format!("{e}"),
                };
                assert_eq!(
                    answer(&r),
                    answer(&guessed),
                    "{what}: the check moved with values the principal may not test"
                );
            }
            Step::History(i) => check.no_leak(&what, &shown(&g.history(id(i))), &[]),
            Step::Related(i) => check.no_leak(&what, &shown(&g.related(id(i))), &[]),
            Step::AsOf(i) => {
                let r = g.customer_as_of(id(i), Utc::now() - TimeDelta::hours(1));
                check.no_leak(&what, &shown(&r), &[]);
            }
            Step::Export(k, name, i) => {
                let (filter, typed) = match k {
                    0 => (ExportFilter::default(), vec![]),
                    1 => {
                        let Some((cond, typed)) = condition(NAMES[name].0, &f, i, 2) else {
                            continue;
                        };
                        (
                            ExportFilter {
                                segment: Some(cond),
                                ..Default::default()
                            },
                            typed,
                        )
                    }
                    _ => {
                        let tag = f.canaries[i].by_field["tags"][0].clone();
                        (
                            ExportFilter {
                                tag: Some(tag.clone()),
                                ..Default::default()
                            },
                            vec![tag],
                        )
                    }
                };
                for format in [Format::Csv, Format::Jsonl] {
                    let mut out = Vec::new();
                    let options = ExportOptions {
                        format,
                        filter: filter.clone(),
                    };
                    let r = g.export(&mut out, &options);
                    if k == 1 {
                        check.refused_unless_filterable(
                            &what,
                            NAMES[name].1,
                            r.is_ok(),
                            r.as_ref().err(),
                        );
                    }
                    if k == 2 {
                        check.refused_unless_filterable(&what, "tags", r.is_ok(), r.as_ref().err());
                    }
                    let text = format!("{r:?}\n{}", String::from_utf8_lossy(&out));
                    check.no_leak(&what, &text, &typed);
                }
                // The same filter through Arrow: every table, every value.
                #[cfg(feature = "arrow")]
                for table in [
                    kehu::io::arrow::BookTable::Customers,
                    kehu::io::arrow::BookTable::Purchases,
                    kehu::io::arrow::BookTable::Interactions,
                    kehu::io::arrow::BookTable::Feedback,
                    kehu::io::arrow::BookTable::Consents,
                ] {
                    let r = g.arrow_table(table, &filter);
                    if k == 1 {
                        check.refused_unless_filterable(
                            &what,
                            NAMES[name].1,
                            r.is_ok(),
                            r.as_ref().err(),
                        );
                    }
                    check.no_leak(
                        &format!("{what} arrow {table:?}"),
                        &format!("{r:?}"),
                        &typed,
                    );
                }
            }
            Step::Update(i, k) => {
                if let Ok(mut seen) = g.get(id(i)) {
                    match k {
                        0 => {}
                        1 => seen.job_title = Some("Buyer".into()),
                        2 => seen
                            .emails
                            .push(kehu::Email::new(format!("new{n}@example.org"))),
                        3 => {
                            if let Some(a) = seen.addresses.first_mut() {
                                a.city = Some("Suzhou".into());
                            }
                        }
                        _ => {
                            if let Some(e) = seen.emails.first_mut() {
                                e.label = Some("work".into());
                            }
                        }
                    }
                    let r = g.update(seen);
                    check.no_leak(&what, &shown(&r), &[]);
                }
                let written = match k {
                    1 => Some((i, "job_title")),
                    3 => Some((i, "city")),
                    _ => None,
                };
                check.nothing_unseen_changed(&what, written);
                check.rebase();
            }
            Step::Add(i) => {
                let mut c = Customer::person("Ann", format!("Lee{n}"));
                c.emails = check.before[i].emails.clone();
                let typed = typed_in(&f, &format!("{c:?}"));
                let r = g.add(c);
                check.no_leak(&what, &shown(&r), &typed);
                check.known.extend(typed);
                check.nothing_unseen_changed(&what, None);
                check.rebase();
            }
            Step::Merge(i, j) => {
                if i == j {
                    continue;
                }
                let r = g.merge(&[id(i), id(j)], &Survivorship::default(), false);
                if r.is_ok() {
                    assert!(
                        model.reaches(f.owners[i])
                            && model.reaches(f.owners[j])
                            && model.may("merge"),
                        "{what}: merged dossiers it may not merge"
                    );
                    check.gone.extend([i, j]);
                }
                if let Ok(m) = &r {
                    receipts.extend(m.receipt.as_ref().map(|r| r.id));
                }
                check.no_leak(&what, &shown(&r), &[]);
                check.no_leak(&what, &shown(&g.merges()), &[]);
                check.nothing_unseen_changed(&what, None);
                check.rebase();
            }
            Step::Unmerge => {
                if let Some(r) = receipts.pop() {
                    check.no_leak(&what, &shown(&g.unmerge(r)), &[]);
                }
            }
            Step::Import(i, k) => {
                let email = check.before[i].emails[0].address.clone();
                let (header, value, field) = match k {
                    0 => ("职位", "Importer".to_string(), "job_title"),
                    1 => ("生日", "1999-09-09".to_string(), "birth_date"),
                    _ => ("城市", "Hangzhou".to_string(), "city"),
                };
                let path = dir.path().join(format!("rows{n}.csv"));
                std::fs::write(
                    &path,
                    format!("邮箱,{header}\n{email},{value}\nnew{n}@example.net,{value}\n"),
                )
                .expect("write");
                let mut options = ImportOptions {
                    mode: if n % 2 == 0 {
                        Mode::Upsert
                    } else {
                        Mode::Update
                    },
                    ..ImportOptions::default()
                };
                options.rejects = Some(dir.path().join(format!("rejects{n}.csv")));
                let r = g.import_file(&path, &options);
                let typed = typed_in(&f, &email);
                check.no_leak(&what, &shown(&r), &typed);
                if let Ok(rejects) =
                    std::fs::read_to_string(dir.path().join(format!("rejects{n}.csv")))
                {
                    check.no_leak(&what, &rejects, &typed);
                }
                check.nothing_unseen_changed(&what, Some((i, field)));
                check.known.extend(typed);
                check.rebase();
            }
            Step::Dedupe => {
                let r = g.dedupe(&kehu::dedupe::Settings::default(), &mut |_| {});
                check.no_leak(&what, &shown(&r), &[]);
            }
            Step::Whole(k) => {
                let r = match k {
                    0 => shown(&g.stats()),
                    1 => shown(&g.report(&ClassifyOptions::default())),
                    2 => shown(&g.classify(&ClassifyOptions::default())),
                    _ => shown(&g.stale(TimeDelta::zero())),
                };
                check.no_leak(&what, &r, &[]);
                check.no_leak(&what, &shown(&g.customers(None, 100)), &[]);
                check.no_leak(&what, &shown(&g.audit_trail(0)), &[]);
            }
            Step::SubjectExport(i) => {
                check.no_leak(&what, &shown(&g.subject_export(id(i))), &[]);
            }
            Step::Remove(i, forget) => {
                let r = if forget {
                    g.forget(id(i)).map(|_| ())
                } else {
                    g.remove(id(i))
                };
                if r.is_ok() {
                    assert!(
                        model.reaches(f.owners[i]),
                        "{what}: removed a dossier outside the scope"
                    );
                    check.gone.insert(i);
                }
                check.no_leak(&what, &shown(&r), &[]);
                check.nothing_unseen_changed(&what, None);
                check.rebase();
            }
        }
    }
}

proptest! {
    // 48 cases in the test command; PROPTEST_CASES=2000 for a longer search.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn no_answer_carries_what_the_principal_cannot_see(
        roles in prop::collection::vec(role_strategy(), 1..3),
        user in 0..USERS.len(),
        seed in any::<u64>(),
        steps in prop::collection::vec(step_strategy(), 1..16),
    ) {
        run(roles, user, seed, steps);
    }
}
