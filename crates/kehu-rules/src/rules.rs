//! The compiled rule set: normalises and checks dossiers and related records.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use kehu_model::Decimal;
use kehu_model::{CustomValue, Customer, Feedback, Kind, PersonName, Related, Timestamp};
use regex::Regex;

use crate::address::{is_han, split_district, split_mainland_address};
use crate::normalize::{tidy, tidy_opt};
use crate::path::Found;
use crate::region::lacks_country_code;
use crate::{
    clean_block, clean_text, country_code, is_valid_email, normalize_phone, normalize_postcode,
    postcode_pattern, Clue, Condition, CustomType, Error, FieldPath, FieldRule, Identifier,
    ImpliedRegion, PhoneOutcome, Report, RuleSet, Severity,
};

/// The largest related record's text accepted, in bytes.
const MAX_RELATED_TEXT: usize = 64 << 10;

struct CompiledCondition {
    source: Condition,
    field: Option<FieldPath>,
}

struct CompiledRequired {
    id: String,
    when: CompiledCondition,
    fields: Vec<FieldPath>,
    any_of: Vec<FieldPath>,
    severity: Severity,
    message: Option<String>,
}

struct CompiledField {
    rule: FieldRule,
    path: FieldPath,
    when: CompiledCondition,
    pattern: Option<Regex>,
    min: Option<Decimal>,
    max: Option<Decimal>,
}

/// A [`RuleSet`] compiled for checking: paths parsed, patterns built.
pub struct Rules {
    set: RuleSet,
    required: Vec<CompiledRequired>,
    fields: Vec<CompiledField>,
    custom: HashMap<String, crate::CustomField>,
    postcodes: HashMap<String, Regex>,
    default_region: Option<String>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("set", &self.set)
            .finish_non_exhaustive()
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::standard()
    }
}

fn parse_path(rule: &str, path: &str) -> Result<FieldPath, Error> {
    path.parse().map_err(|()| Error::UnknownPath {
        rule: rule.to_string(),
        path: path.to_string(),
    })
}

fn compile_regex(rule: &str, pattern: &str) -> Result<Regex, Error> {
    Regex::new(pattern).map_err(|e| Error::BadPattern {
        rule: rule.to_string(),
        message: e.to_string(),
    })
}

fn bound(rule: &str, v: Option<f64>) -> Result<Option<Decimal>, Error> {
    v.map(|x| {
        Decimal::try_from(x).map_err(|_| Error::BadRule {
            rule: rule.to_string(),
            message: format!("bound {x} is not a finite number"),
        })
    })
    .transpose()
}

fn compile_condition(rule: &str, c: &Condition) -> Result<CompiledCondition, Error> {
    let field = c
        .field
        .as_deref()
        .map(|p| parse_path(rule, p))
        .transpose()?;
    if field.is_none() && (c.equals.is_some() || c.present.is_some()) {
        return Err(Error::BadRule {
            rule: rule.to_string(),
            message: "`equals` and `present` need a `field`".into(),
        });
    }
    Ok(CompiledCondition {
        source: c.clone(),
        field,
    })
}

impl CompiledCondition {
    fn holds(&self, c: &Customer) -> bool {
        let s = &self.source;
        if s.kind.is_some_and(|k| k != c.kind) {
            return false;
        }
        if let Some(stages) = &s.stage {
            if c.lifecycle_stage.is_none_or(|st| !stages.contains(&st)) {
                return false;
            }
        }
        if let Some(min) = s.stage_at_least {
            if c.lifecycle_stage.is_none_or(|st| st < min) {
                return false;
            }
        }
        if let Some(field) = &self.field {
            if let Some(present) = s.present {
                if field.is_present(c) != present {
                    return false;
                }
            }
            if let Some(want) = &s.equals {
                let hit = field.values(c).iter().any(|(_, v)| match v {
                    Found::Text(t) => t == want,
                    Found::Number(n) => n.to_string() == *want,
                    Found::Other => false,
                });
                if !hit {
                    return false;
                }
            }
        }
        true
    }
}

impl Rules {
    /// The standard rule set, compiled.
    pub fn standard() -> Self {
        // The standard set is built in code and always compiles; fall back to
        // the empty set rather than panic should that ever change.
        Self::new(RuleSet::standard()).unwrap_or_else(|_| Self::empty())
    }

    fn empty() -> Self {
        Self {
            set: RuleSet::default(),
            required: Vec::new(),
            fields: Vec::new(),
            custom: HashMap::new(),
            postcodes: HashMap::new(),
            default_region: None,
        }
    }

    /// Compiles a rule set: every path must exist and every pattern compile.
    pub fn new(set: RuleSet) -> Result<Self, Error> {
        let mut rules = Self::empty();
        if let Some(region) = &set.default_region {
            if country_code(region).is_none_or(|c| c != region.to_uppercase()) {
                return Err(Error::BadRule {
                    rule: "default_region".into(),
                    message: format!("{region:?} is not an ISO 3166-1 alpha-2 code"),
                });
            }
        }
        for r in &set.required {
            let paths = |list: &[String]| -> Result<Vec<FieldPath>, Error> {
                list.iter().map(|p| parse_path(&r.id, p)).collect()
            };
            if r.fields.is_empty() && r.any_of.is_empty() {
                return Err(Error::BadRule {
                    rule: r.id.clone(),
                    message: "a required rule needs `fields` or `any_of`".into(),
                });
            }
            rules.required.push(CompiledRequired {
                id: r.id.clone(),
                when: compile_condition(&r.id, &r.when)?,
                fields: paths(&r.fields)?,
                any_of: paths(&r.any_of)?,
                severity: r.severity,
                message: r.message.clone(),
            });
        }
        for f in &set.fields {
            rules.fields.push(compile_field(f.clone())?);
        }
        for c in &set.custom {
            if c.name.is_empty() {
                return Err(Error::BadRule {
                    rule: "custom".into(),
                    message: "a custom field needs a name".into(),
                });
            }
            if c.kind == CustomType::Enum && c.values.is_empty() {
                return Err(Error::BadRule {
                    rule: format!("custom.{}", c.name),
                    message: "an enum field needs `values`".into(),
                });
            }
            let id = format!("custom.{}", c.name);
            if c.required {
                rules.required.push(CompiledRequired {
                    id: id.clone(),
                    when: compile_condition(&id, &Condition::default())?,
                    fields: vec![FieldPath::Custom(c.name.clone())],
                    any_of: Vec::new(),
                    severity: Severity::Error,
                    message: None,
                });
            }
            rules.fields.push(compile_field(FieldRule {
                id: id.clone(),
                path: id,
                min_length: c.min_length,
                max_length: c.max_length,
                pattern: c.pattern.clone(),
                one_of: c.values.clone(),
                min: c.min,
                max: c.max,
                identifier: c.identifier,
                ..FieldRule::default()
            })?);
            rules.custom.insert(c.name.clone(), c.clone());
        }
        for (country, pattern) in &set.postcodes {
            let regex = compile_regex(&format!("postcodes.{country}"), pattern)?;
            rules.postcodes.insert(country.to_uppercase(), regex);
        }
        rules.default_region = set.default_region.as_ref().map(|r| r.to_uppercase());
        rules.set = set;
        Ok(rules)
    }

    /// The rule set this was compiled from.
    pub fn rule_set(&self) -> &RuleSet {
        &self.set
    }

    /// The declared custom field of this name.
    pub fn custom_field(&self, name: &str) -> Option<&crate::CustomField> {
        self.custom.get(name)
    }

    /// Normalises the dossier in place, then checks it. `now` fixes "today"
    /// for date rules, so results are reproducible.
    pub fn check(&self, c: &mut Customer, now: Timestamp) -> Report {
        let (phones, region) = self.normalize(c);
        let mut report = self.validate_with(c, now, Some(&phones));
        report.region = region;
        report
    }

    /// Checks a dossier as it is, without normalising it.
    pub fn validate(&self, c: &Customer, now: Timestamp) -> Report {
        self.validate_with(c, now, None)
    }

    /// The region a phone number written without a country code belongs to,
    /// and the clue that decided it: by the rule set's `infer_region` clues
    /// in turn (address country, place name, city with postcode, e-mail
    /// domain, a number only one region holds), else `default_region`.
    pub fn implied_region(&self, c: &Customer) -> Option<ImpliedRegion> {
        self.region_of(c).map(|(region, clue)| ImpliedRegion {
            region: region.to_string(),
            clue,
        })
    }

    fn region_of(&self, c: &Customer) -> Option<(&str, Clue)> {
        crate::region::infer(c, &self.set.infer_region, self.default_region.as_deref())
    }

    /// Normalises a dossier in place and returns what became of each phone,
    /// and the region its numbers without a country code were read in.
    fn normalize(&self, c: &mut Customer) -> (Vec<PhoneOutcome>, Option<ImpliedRegion>) {
        for s in [
            &mut c.external_id,
            &mut c.name.given,
            &mut c.name.family,
            &mut c.name.full,
            &mut c.company,
            &mut c.job_title,
            &mut c.owner,
            &mut c.source,
        ] {
            tidy_opt(s);
        }
        for (v, id) in [
            (&mut c.resident_id, Identifier::CnResidentId),
            (&mut c.credit_code, Identifier::CnCreditCode),
        ] {
            tidy_opt(v);
            if let Some(s) = v {
                id.canonicalize(s);
            }
        }
        if let Some(org) = &mut c.organization {
            tidy_opt(&mut org.name);
            tidy_opt(&mut org.industry);
        }
        if self.set.split_names && c.kind == Kind::Person {
            split_full_name(&mut c.name);
        }
        for e in &mut c.emails {
            if e.raw.is_empty() {
                e.raw.clone_from(&e.address);
            }
            tidy(&mut e.address, clean_text);
            if let Some(rest) = e.address.strip_prefix("mailto:") {
                e.address = rest.to_string();
            }
            if let Some(at) = e.address.rfind('@') {
                if e.address[at..].bytes().any(|b| b.is_ascii_uppercase()) {
                    let domain = e.address[at..].to_lowercase();
                    e.address.truncate(at);
                    e.address.push_str(&domain);
                }
            }
            tidy_opt(&mut e.label);
        }
        for a in &mut c.addresses {
            for s in [
                &mut a.label,
                &mut a.street,
                &mut a.district,
                &mut a.city,
                &mut a.region,
                &mut a.country,
            ] {
                tidy_opt(s);
            }
            if self.set.split_addresses && a.city.is_none() && a.region.is_none() {
                if let Some(split) = a.street.as_deref().and_then(split_mainland_address) {
                    a.raw = a.raw.take().or_else(|| a.street.clone());
                    a.region = Some(split.province);
                    a.city = Some(split.city);
                    a.district = a.district.take().or(split.district);
                    a.street = Some(split.street);
                }
            }
            // A Chinese street line that starts with its district (城市 深圳,
            // 地址 南山区科技园路1号): the district is its own part. (Cheap
            // tests first: most streets do not start with a Han character.)
            let han_street = a
                .street
                .as_deref()
                .is_some_and(|s| s.chars().next().is_some_and(is_han));
            let chinese = || {
                a.country.as_deref().and_then(country_code) == Some("CN")
                    || [&a.city, &a.region]
                        .into_iter()
                        .flatten()
                        .any(|p| crate::region::is_chinese_place(p))
            };
            if self.set.split_addresses && a.district.is_none() && han_street && chinese() {
                // (A line that starts with its own city is left whole.)
                let line = a
                    .street
                    .as_deref()
                    .filter(|s| split_mainland_address(s).is_none());
                if let Some((district, street)) = line.and_then(split_district) {
                    a.raw = a.raw.take().or_else(|| a.street.clone());
                    a.district = Some(district);
                    a.street = Some(street);
                }
            }
            if let Some(code) = a.country.as_deref().and_then(country_code) {
                if a.country.as_deref() != Some(code) {
                    a.country = Some(code.to_string());
                }
            }
            tidy_opt(&mut a.postcode);
            if let Some(p) = &a.postcode {
                if let std::borrow::Cow::Owned(n) = normalize_postcode(p, a.country.as_deref()) {
                    a.postcode = Some(n);
                }
            }
        }
        // An entry whose value cleans to nothing is no entry at all.
        c.emails.retain(|e| !e.address.is_empty());
        for p in &mut c.phones {
            if p.raw.is_empty() {
                p.raw.clone_from(&p.number);
            }
            tidy(&mut p.number, clean_text);
        }
        c.phones.retain(|p| !p.number.is_empty());
        one_primary(c.emails.iter_mut().map(|e| &mut e.primary));
        one_primary(c.phones.iter_mut().map(|p| &mut p.primary));
        one_primary(c.addresses.iter_mut().map(|a| &mut a.primary));
        let needs = c.phones.iter().any(|p| lacks_country_code(&p.number));
        let implied = if needs { self.region_of(c) } else { None };
        let region = implied.map(|(r, _)| r);
        let outcomes = c
            .phones
            .iter_mut()
            .map(|p| {
                tidy_opt(&mut p.label);
                let outcome = normalize_phone(&p.number, region);
                if let PhoneOutcome::Valid(e164) = &outcome {
                    if *e164 != p.number {
                        p.number.clone_from(e164);
                    }
                }
                outcome
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        c.tags.iter_mut().for_each(|t| tidy(t, clean_text));
        c.tags.retain(|t| !t.is_empty() && seen.insert(t.clone()));
        for (name, v) in c.custom.iter_mut() {
            if let (CustomValue::Text(s), Some(id)) =
                (&mut *v, self.custom.get(name).and_then(|f| f.identifier))
            {
                id.canonicalize(s);
            }
            match v {
                CustomValue::Text(s) | CustomValue::Enum(s) => tidy(s, clean_text),
                CustomValue::TextList(l) => l.iter_mut().for_each(|s| tidy(s, clean_text)),
                _ => {}
            }
        }
        let implied = implied.map(|(region, clue)| ImpliedRegion {
            region: region.to_string(),
            clue,
        });
        (outcomes, implied)
    }

    fn validate_with(
        &self,
        c: &Customer,
        now: Timestamp,
        phones: Option<&[PhoneOutcome]>,
    ) -> Report {
        let mut report = Report::default();
        let sev = &self.set.severity;
        let size = c.text_size();
        if size > self.set.max_record_bytes {
            report.push(
                Severity::Error,
                "",
                "size.record",
                "builtin.size",
                format!(
                    "the record holds {size} bytes of text, over the limit of {}",
                    self.set.max_record_bytes
                ),
            );
        }
        for (i, e) in c.emails.iter().enumerate() {
            if !is_valid_email(&e.address) {
                let what = if e.address.is_empty() {
                    "is empty"
                } else {
                    "is not a valid e-mail address"
                };
                report.push(
                    sev.email,
                    format!("emails[{i}].address"),
                    "format.email",
                    "builtin.email",
                    format!("the address {what}"),
                );
            }
        }
        let needs = phones.is_none() && c.phones.iter().any(|p| lacks_country_code(&p.number));
        let implied = if needs { self.region_of(c) } else { None };
        let region = implied.map(|(r, _)| r);
        report.region = implied.map(|(region, clue)| ImpliedRegion {
            region: region.to_string(),
            clue,
        });
        for (i, p) in c.phones.iter().enumerate() {
            let computed;
            let outcome = match phones.and_then(|o| o.get(i)) {
                Some(o) => o,
                None => {
                    computed = normalize_phone(&p.number, region);
                    &computed
                }
            };
            if let PhoneOutcome::Invalid { reason } = outcome {
                report.push(
                    sev.phone,
                    format!("phones[{i}].number"),
                    "format.phone",
                    "builtin.phone",
                    format!("kept as entered: {reason}"),
                );
            }
        }
        for (i, a) in c.addresses.iter().enumerate() {
            let country = a.country.as_deref();
            let known = country.and_then(country_code);
            if country.is_some() && known.is_none() {
                report.push(
                    sev.country,
                    format!("addresses[{i}].country"),
                    "format.country",
                    "builtin.country",
                    "not a known country name or ISO 3166 code",
                );
            }
            if let (Some(code), Some(pc)) = (known, a.postcode.as_deref()) {
                let pattern = self.postcodes.get(code).or_else(|| postcode_pattern(code));
                if pattern.is_some_and(|p| !p.is_match(pc)) {
                    report.push(
                        sev.postcode,
                        format!("addresses[{i}].postcode"),
                        "format.postcode",
                        "builtin.postcode",
                        format!("not a valid postcode for {code}"),
                    );
                }
            }
        }
        if let Some(born) = c.birth_date {
            self.check_birth_date(born, now.date_naive(), &mut report);
        }
        for (value, id, path, rule, severity) in [
            (
                &c.resident_id,
                Identifier::CnResidentId,
                "resident_id",
                "builtin.resident_id",
                sev.resident_id,
            ),
            (
                &c.credit_code,
                Identifier::CnCreditCode,
                "credit_code",
                "builtin.credit_code",
                sev.credit_code,
            ),
        ] {
            if let Some(text) = value.as_deref().filter(|t| !t.is_empty()) {
                let check = crate::ids::IdCheck {
                    path: path.to_string(),
                    rule,
                    severity,
                    birth_date: sev.id_birth_date,
                    message: None,
                };
                check.run(id, text, c, now.date_naive(), &mut report);
            }
        }
        self.check_custom(c, now, &mut report);
        for r in &self.required {
            if !r.when.holds(c) {
                continue;
            }
            for f in r.fields.iter().filter(|f| !f.is_present(c)) {
                let msg = r
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("{f} is required"));
                report.push(r.severity, f.to_string(), "required", &r.id, msg);
            }
            if !r.any_of.is_empty() && !r.any_of.iter().any(|f| f.is_present(c)) {
                let names: Vec<String> = r.any_of.iter().map(ToString::to_string).collect();
                let msg = r
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("one of {} is required", names.join(", ")));
                report.push(r.severity, names[0].clone(), "required", &r.id, msg);
            }
        }
        let today = now.date_naive();
        for f in &self.fields {
            if f.when.holds(c) {
                f.check(c, today, sev.id_birth_date, &mut report);
            }
        }
        report
    }

    fn check_birth_date(&self, born: NaiveDate, today: NaiveDate, report: &mut Report) {
        let sev = self.set.severity.birth_date;
        if born > today {
            report.push(
                sev,
                "birth_date",
                "date.future",
                "builtin.birth_date",
                "the birth date is in the future",
            );
            return;
        }
        let mut age = today.year() - born.year();
        if (today.month(), today.day()) < (born.month(), born.day()) {
            age -= 1;
        }
        let age = u32::try_from(age).unwrap_or(0);
        let rule = &self.set.birth_date;
        if rule.max_age.is_some_and(|max| age > max) || rule.min_age.is_some_and(|min| age < min) {
            report.push(
                sev,
                "birth_date",
                "date.age",
                "builtin.birth_date",
                format!("an age of {age} is outside the accepted range"),
            );
        }
    }

    fn check_custom(&self, c: &Customer, now: Timestamp, report: &mut Report) {
        for (name, value) in &c.custom {
            let path = format!("custom.{name}");
            let Some(def) = self.custom.get(name) else {
                report.push(
                    self.set.severity.unknown_custom,
                    path,
                    "custom.unknown",
                    "builtin.custom",
                    "the rule set declares no custom field of this name",
                );
                continue;
            };
            let type_ok = matches!(
                (def.kind, value),
                (CustomType::Text, CustomValue::Text(_))
                    | (CustomType::Integer, CustomValue::Integer(_))
                    | (
                        CustomType::Decimal,
                        CustomValue::Decimal(_) | CustomValue::Integer(_)
                    )
                    | (CustomType::Bool, CustomValue::Bool(_))
                    | (CustomType::Date, CustomValue::Date(_))
                    | (CustomType::Datetime, CustomValue::DateTime(_))
                    | (
                        CustomType::Enum,
                        CustomValue::Enum(_) | CustomValue::Text(_)
                    )
                    | (CustomType::TextList, CustomValue::TextList(_))
            );
            if !type_ok {
                report.push(
                    Severity::Error,
                    path,
                    "custom.type",
                    &format!("custom.{name}"),
                    format!(
                        "expected a value of type {}, got {}",
                        def.kind.name(),
                        value.type_name()
                    ),
                );
                continue;
            }
            let future = match value {
                CustomValue::Date(d) => *d > now.date_naive(),
                CustomValue::DateTime(t) => *t > now,
                _ => false,
            };
            if def.not_future && future {
                report.push(
                    Severity::Error,
                    path,
                    "date.future",
                    &format!("custom.{name}"),
                    "the date is in the future",
                );
            }
        }
    }

    /// Normalises a related record in place, then checks it.
    pub fn check_related(&self, r: &mut Related, now: Timestamp) -> Report {
        let mut report = Report::default();
        let mut text_len = 0;
        let mut required = |report: &mut Report, path: &str, value: &str| {
            text_len += value.len();
            if value.is_empty() {
                report.push(
                    Severity::Error,
                    path,
                    "required",
                    "builtin.related",
                    format!("{path} is required"),
                );
            }
        };
        match r {
            Related::Purchase(p) => {
                tidy_opt(&mut p.channel);
                tidy_opt(&mut p.reference);
            }
            Related::Interaction(i) => {
                tidy(&mut i.summary, clean_block);
                tidy_opt(&mut i.outcome);
                text_len += i.summary.len();
            }
            Related::Feedback(f) => {
                tidy(&mut f.comment, clean_block);
                text_len += f.comment.len();
                check_feedback(f, &mut report);
            }
            Related::Consent(c) => {
                tidy(&mut c.purpose, clean_text);
                tidy_opt(&mut c.channel);
                tidy_opt(&mut c.evidence);
                required(&mut report, "purpose", &c.purpose);
                if c.expires_at.is_some_and(|e| e <= c.at) {
                    report.push(
                        Severity::Error,
                        "expires_at",
                        "date.order",
                        "builtin.related",
                        "the consent expires before it was given",
                    );
                }
            }
            Related::Note(n) => {
                tidy(&mut n.text, clean_block);
                tidy_opt(&mut n.author);
                required(&mut report, "text", &n.text);
            }
        }
        if text_len > MAX_RELATED_TEXT {
            report.push(Severity::Error, "", "size.record", "builtin.size", format!("the record holds {text_len} bytes of text, over the limit of {MAX_RELATED_TEXT}"));
        }
        if r.at() > now + chrono::TimeDelta::days(1) {
            report.push(
                Severity::Warning,
                "at",
                "date.future",
                "builtin.related",
                "the record is dated in the future",
            );
        }
        report
    }
}

fn check_feedback(f: &Feedback, report: &mut Report) {
    if let Some(score) = f.score {
        let (lo, hi) = score.scale.range();
        if score.value < lo || score.value > hi {
            report.push(
                Severity::Error,
                "score.value",
                "range.score",
                "builtin.related",
                format!("a score on this scale runs from {lo} to {hi}"),
            );
        }
    }
    if f.resolved_at.is_some_and(|t| t < f.at) {
        report.push(
            Severity::Error,
            "resolved_at",
            "date.order",
            "builtin.related",
            "resolved before it was given",
        );
    }
    if f.status == kehu_model::FeedbackStatus::Resolved && f.resolved_at.is_none() {
        report.push(
            Severity::Warning,
            "resolved_at",
            "required",
            "builtin.related",
            "resolved feedback should say when it was resolved",
        );
    }
}

fn compile_field(rule: FieldRule) -> Result<CompiledField, Error> {
    let path = parse_path(&rule.id, &rule.path)?;
    let pattern = rule
        .pattern
        .as_deref()
        .map(|p| compile_regex(&rule.id, p))
        .transpose()?;
    Ok(CompiledField {
        when: compile_condition(&rule.id, &rule.when)?,
        min: bound(&rule.id, rule.min)?,
        max: bound(&rule.id, rule.max)?,
        path,
        pattern,
        rule,
    })
}

impl CompiledField {
    fn check(&self, c: &Customer, today: NaiveDate, id_birth: Severity, report: &mut Report) {
        let r = &self.rule;
        let mut ids = Vec::new();
        let mut push = |path: String, code: &str, default: String| {
            let msg = r.message.clone().unwrap_or(default);
            report.push(r.severity, path, code, &r.id, msg);
        };
        for (path, value) in self.path.values(c) {
            match value {
                Found::Text(t) => {
                    if let Some(id) = r.identifier {
                        ids.push((path.clone(), id, t.to_string()));
                    }
                    let len = t.chars().count();
                    if r.min_length.is_some_and(|m| len < m) {
                        push(
                            path.clone(),
                            "length.min",
                            format!("at least {} characters", r.min_length.unwrap_or(0)),
                        );
                    }
                    if r.max_length.is_some_and(|m| len > m) {
                        push(
                            path.clone(),
                            "length.max",
                            format!("at most {} characters", r.max_length.unwrap_or(0)),
                        );
                    }
                    if self.pattern.as_ref().is_some_and(|p| !p.is_match(t)) {
                        push(
                            path.clone(),
                            "format.pattern",
                            "does not match the required pattern".into(),
                        );
                    }
                    if !r.one_of.is_empty() && !r.one_of.iter().any(|v| v == t) {
                        push(
                            path,
                            "enum",
                            format!("must be one of: {}", r.one_of.join(", ")),
                        );
                    }
                }
                Found::Number(n) => {
                    if self.min.is_some_and(|m| n < m) {
                        push(
                            path.clone(),
                            "range.min",
                            format!("must be at least {}", self.min.unwrap_or_default()),
                        );
                    }
                    if self.max.is_some_and(|m| n > m) {
                        push(
                            path,
                            "range.max",
                            format!("must be at most {}", self.max.unwrap_or_default()),
                        );
                    }
                }
                Found::Other => {}
            }
        }
        for (path, id, text) in ids {
            let check = crate::ids::IdCheck {
                path,
                rule: &r.id,
                severity: r.severity,
                birth_date: id_birth,
                message: r.message.as_deref(),
            };
            check.run(id, &text, c, today, report);
        }
    }
}

/// Keeps the first flag that is set and clears the rest: a list has at most
/// one primary entry.
fn one_primary<'a>(flags: impl Iterator<Item = &'a mut bool>) {
    let mut seen = false;
    for f in flags {
        if *f && std::mem::replace(&mut seen, true) {
            *f = false;
        }
    }
}
/// Family and given name split from the full name (`crate::split_name`)
/// when the record holds only the full name, or held parts split from it
/// before (they follow the full name; a full name that no longer splits
/// takes them away).
fn split_full_name(name: &mut PersonName) {
    let derived = name.split.is_some();
    if !derived && (name.given.is_some() || name.family.is_some()) {
        return;
    }
    match name.full.as_deref().and_then(crate::split_name) {
        Some((family, given, how)) => {
            name.family = Some(family);
            name.given = Some(given);
            name.split = Some(how);
        }
        None if derived => {
            name.family = None;
            name.given = None;
            name.split = None;
        }
        None => {}
    }
}
