//! Evaluation of a segment on one dossier and its related records, in
//! three-valued logic: a test of a missing value is unknown, as in SQL, and a
//! customer is a member only when the whole condition is true.

use chrono::{Datelike, NaiveDate};
use kehu_model::{Customer, FeedbackKind, FeedbackStatus, Kind, Related};

use crate::ast::{CmpOp, Expr, Predicate, TextOp, Value};
use crate::schema::{Aggregate, Field, Measure, Records};
use crate::Timestamp;

/// One value a field holds for a customer (in JSON: `{"type": "text", "value": "上海"}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Seen {
    /// Text.
    Text(String),
    /// A number (a sum is one per currency).
    Number(f64),
    /// A date.
    Date(NaiveDate),
    /// An instant.
    Time(Timestamp),
    /// A lifecycle stage, by its rank (potential = 0 … churned = 4).
    Stage(u8),
}

/// What a test is evaluated against.
pub(crate) struct Row<'a> {
    pub customer: &'a Customer,
    pub related: &'a [Related],
    pub now: Timestamp,
}

pub(crate) fn eval(expr: &Expr, row: &Row<'_>) -> Option<bool> {
    match expr {
        Expr::And(a, b) => match (eval(a, row), eval(b, row)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(a, b) => match (eval(a, row), eval(b, row)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Not(a) => eval(a, row).map(|v| !v),
        Expr::Test(p, _, _) => test(p, row),
        Expr::Segment(_, inner, _, _) => eval(inner, row),
    }
}

/// Whether any value satisfies `f`; unknown when there is no value.
fn any(values: &[Seen], f: impl Fn(&Seen) -> bool) -> Option<bool> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().any(f))
    }
}

/// The consent event that decides `purpose` (on `channel`) at the row's
/// time: the latest about it, not after that time.
pub(crate) fn deciding_consent<'a>(
    row: &Row<'a>,
    purpose: &str,
    channel: Option<&str>,
) -> Option<&'a kehu_model::Consent> {
    row.related
        .iter()
        .filter_map(|r| match r {
            Related::Consent(c) if c.at <= row.now && c.concerns(purpose, channel) => Some(c),
            _ => None,
        })
        .max_by_key(|c| c.at)
}

pub(crate) fn test(p: &Predicate, row: &Row<'_>) -> Option<bool> {
    if let Predicate::HasConsent(purpose, channel) = p {
        let events = row.related.iter().filter_map(|r| match r {
            Related::Consent(c) => Some(c),
            _ => None,
        });
        return Some(kehu_model::consent_holds(
            events,
            purpose,
            channel.as_deref(),
            row.now,
        ));
    }
    let field = crate::field_of(p).unwrap_or(&Field::Tags);
    test_values(p, &values(field, row), row.now)
}

/// A test on the values a customer holds for its field (the tags, for `has tag`).
pub(crate) fn test_values(p: &Predicate, vals: &[Seen], now: Timestamp) -> Option<bool> {
    match p {
        Predicate::HasTag(tag) => Some(vals.iter().any(|v| matches!(v, Seen::Text(t) if t == tag))),
        // Decided on the consent events by `test`, never on a column.
        Predicate::HasConsent(..) => None,
        Predicate::Empty(_, negated) => Some(vals.is_empty() != *negated),
        Predicate::Compare(_, op, v) => any(vals, |s| compare(s, v).is_some_and(|o| holds(*op, o))),
        Predicate::In(_, list, negated) => {
            let found = any(vals, |s| {
                list.iter()
                    .any(|v| compare(s, v) == Some(std::cmp::Ordering::Equal))
            });
            found.map(|f| f != *negated)
        }
        Predicate::Between(_, a, b) => any(vals, |s| {
            compare(s, a).is_some_and(|o| o.is_ge()) && compare(s, b).is_some_and(|o| o.is_le())
        }),
        Predicate::Text(_, op, needle) => {
            let needle = needle.to_lowercase();
            any(vals, |s| match s {
                Seen::Text(t) => {
                    let t = t.to_lowercase();
                    match op {
                        TextOp::Contains => t.contains(&needle),
                        TextOp::StartsWith => t.starts_with(&needle),
                        TextOp::EndsWith => t.ends_with(&needle),
                    }
                }
                _ => false,
            })
        }
        Predicate::Matches(_, re) => any(vals, |s| matches!(s, Seen::Text(t) if re.is_match(t))),
        Predicate::Within(_, period) => {
            let from = period.before(now);
            any(vals, |s| instant(s).is_some_and(|t| t >= from))
        }
        Predicate::Before(_, period) => {
            let until = period.before(now);
            any(vals, |s| instant(s).is_some_and(|t| t < until))
        }
        Predicate::OlderThan(_, period) => {
            let until = period.before(now);
            Some(vals.is_empty() || vals.iter().any(|s| instant(s).is_some_and(|t| t < until)))
        }
        Predicate::This(field, unit) => {
            let today = now.date_naive();
            let birthday = *field == Field::BirthDate;
            any(vals, |s| {
                let d = match s {
                    Seen::Date(d) => *d,
                    Seen::Time(t) => t.date_naive(),
                    _ => return false,
                };
                match (unit, birthday) {
                    ('m', true) => d.month() == today.month(),
                    ('m', false) => (d.year(), d.month()) == (today.year(), today.month()),
                    (_, true) => true,
                    _ => d.year() == today.year(),
                }
            })
        }
    }
}

fn holds(op: CmpOp, o: std::cmp::Ordering) -> bool {
    match op {
        CmpOp::Eq => o.is_eq(),
        CmpOp::Ne => o.is_ne(),
        CmpOp::Lt => o.is_lt(),
        CmpOp::Le => o.is_le(),
        CmpOp::Gt => o.is_gt(),
        CmpOp::Ge => o.is_ge(),
    }
}

/// How a held value compares with a written one (none when they cannot be compared).
fn compare(seen: &Seen, v: &Value) -> Option<std::cmp::Ordering> {
    match (seen, v) {
        (Seen::Text(a), Value::Text(b)) => Some(a.as_str().cmp(b.as_str())),
        (Seen::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Seen::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Seen::Time(a), Value::Date(b)) => Some(a.date_naive().cmp(b)),
        (Seen::Stage(a), Value::Text(b)) => {
            let b: kehu_model::LifecycleStage = b.parse().ok()?;
            Some(a.cmp(&rank(b)))
        }
        _ => None,
    }
}

fn instant(s: &Seen) -> Option<Timestamp> {
    match s {
        Seen::Time(t) => Some(*t),
        Seen::Date(d) => d.and_hms_opt(0, 0, 0).map(|n| n.and_utc()),
        _ => None,
    }
}

fn rank(s: kehu_model::LifecycleStage) -> u8 {
    kehu_model::LifecycleStage::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(0) as u8
}

fn text(v: &Option<String>) -> Vec<Seen> {
    v.iter()
        .filter(|s| !s.is_empty())
        .map(|s| Seen::Text(s.clone()))
        .collect()
}

/// The values a field holds for a customer (none: missing).
pub(crate) fn values(field: &Field, row: &Row<'_>) -> Vec<Seen> {
    let c = row.customer;
    let address = c.primary_address();
    let addr = |f: fn(&kehu_model::Address) -> &Option<String>| {
        address.map(|a| text(f(a))).unwrap_or_default()
    };
    match field {
        Field::Kind => vec![Seen::Text(match c.kind {
            Kind::Person => "person".into(),
            Kind::Organization => "organization".into(),
        })],
        Field::Name => {
            let n = c.display_name();
            if n.is_empty() {
                vec![]
            } else {
                vec![Seen::Text(n)]
            }
        }
        Field::GivenName => text(&c.name.given),
        Field::FamilyName => text(&c.name.family),
        Field::Company => text(&c.company),
        Field::JobTitle => text(&c.job_title),
        Field::Organization => c
            .organization
            .as_ref()
            .map(|o| text(&o.name))
            .unwrap_or_default(),
        Field::Industry => c
            .organization
            .as_ref()
            .map(|o| text(&o.industry))
            .unwrap_or_default(),
        Field::OrgSize => c
            .organization
            .as_ref()
            .and_then(|o| o.size)
            .map(|n| vec![Seen::Number(f64::from(n))])
            .unwrap_or_default(),
        Field::Email => c
            .emails
            .iter()
            .map(|e| Seen::Text(e.address.clone()))
            .collect(),
        Field::Phone => c
            .phones
            .iter()
            .map(|p| Seen::Text(p.number.clone()))
            .collect(),
        Field::Street => addr(|a| &a.street),
        Field::District => addr(|a| &a.district),
        Field::City => addr(|a| &a.city),
        Field::Region => addr(|a| &a.region),
        Field::Postcode => addr(|a| &a.postcode),
        Field::Country => addr(|a| &a.country),
        Field::Owner => text(&c.owner),
        Field::Source => text(&c.source),
        Field::ExternalId => text(&c.external_id),
        Field::Stage => c
            .lifecycle_stage
            .map(|s| vec![Seen::Stage(rank(s))])
            .unwrap_or_default(),
        Field::BirthDate => c
            .birth_date
            .map(|d| vec![Seen::Date(d)])
            .unwrap_or_default(),
        Field::Created => vec![Seen::Time(c.created_at)],
        Field::Updated => vec![Seen::Time(c.updated_at)],
        Field::Verified => c
            .verified_at
            .map(|t| vec![Seen::Time(t)])
            .unwrap_or_default(),
        Field::Tags => c.tags.iter().map(|t| Seen::Text(t.clone())).collect(),
        Field::Custom(name, _) => match c.custom.get(name) {
            None => vec![],
            Some(v) => custom(v),
        },
        Field::Aggregate(a) => aggregate(a, row),
    }
}

fn custom(v: &kehu_model::CustomValue) -> Vec<Seen> {
    use kehu_model::CustomValue as C;
    match v {
        C::Text(s) | C::Enum(s) => vec![Seen::Text(s.clone())],
        C::Integer(i) => vec![Seen::Number(*i as f64)],
        C::Decimal(d) => d
            .to_string()
            .parse()
            .map(|n| vec![Seen::Number(n)])
            .unwrap_or_default(),
        C::Bool(b) => vec![Seen::Text(b.to_string())],
        C::Date(d) => vec![Seen::Date(*d)],
        C::DateTime(t) => vec![Seen::Time(*t)],
        C::TextList(items) => items.iter().map(|s| Seen::Text(s.clone())).collect(),
    }
}

fn aggregate(a: &Aggregate, row: &Row<'_>) -> Vec<Seen> {
    let from = a.within.map(|p| p.before(row.now));
    // Records after "now" (a segment asked `as_of` an earlier instant) did not exist yet.
    let records = row.related.iter().filter(|r| {
        r.at() <= row.now
            && from.is_none_or(|f| r.at() >= f)
            && match (a.records, r) {
                (Records::Purchases, Related::Purchase(_)) => true,
                (Records::Interactions, Related::Interaction(_)) => true,
                (Records::Feedback, Related::Feedback(_)) => true,
                (Records::Complaints, Related::Feedback(f)) => f.kind == FeedbackKind::Complaint,
                _ => false,
            }
    });
    match a.measure {
        Measure::Count => vec![Seen::Number(records.count() as f64)],
        Measure::Last => records
            .map(Related::at)
            .max()
            .map(|t| vec![Seen::Time(t)])
            .unwrap_or_default(),
        Measure::First => records
            .map(Related::at)
            .min()
            .map(|t| vec![Seen::Time(t)])
            .unwrap_or_default(),
        Measure::Open => vec![Seen::Number(
            records
                .filter(|r| matches!(r, Related::Feedback(f) if f.status == FeedbackStatus::Open))
                .count() as f64,
        )],
        Measure::AvgScore => {
            let scores: Vec<f64> = records
                .filter_map(|r| match r {
                    Related::Feedback(f) => f.score.map(|s| f64::from(s.value)),
                    _ => None,
                })
                .collect();
            if scores.is_empty() {
                vec![]
            } else {
                vec![Seen::Number(
                    scores.iter().sum::<f64>() / scores.len() as f64,
                )]
            }
        }
        Measure::Sum | Measure::Avg => {
            // Per currency, in major units; a sum over no purchases is 0.
            let mut per: Vec<(kehu_model::Currency, f64, usize)> = Vec::new();
            for r in records {
                if let Related::Purchase(p) = r {
                    let major =
                        p.amount.minor as f64 / 10f64.powi(p.amount.currency.exponent() as i32);
                    match per.iter_mut().find(|(c, _, _)| *c == p.amount.currency) {
                        Some(e) => {
                            e.1 += major;
                            e.2 += 1;
                        }
                        None => per.push((p.amount.currency, major, 1)),
                    }
                }
            }
            match (a.measure, per.is_empty()) {
                (Measure::Sum, true) => vec![Seen::Number(0.0)],
                (Measure::Sum, false) => per.iter().map(|(_, s, _)| Seen::Number(*s)).collect(),
                (_, true) => vec![],
                _ => per
                    .iter()
                    .map(|(_, s, n)| Seen::Number(s / *n as f64))
                    .collect(),
            }
        }
    }
}
