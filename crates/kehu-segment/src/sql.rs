//! A segment as SQL, for DuckDB (or another engine with the same functions)
//! over the tables described in `docs/segments.md`: the same question asked of
//! a warehouse, and the reference the differential test compares against.

use crate::ast::{CmpOp, Expr, Predicate, TextOp, Value};
use crate::schema::{Field, Measure, Records, ValueType};
use crate::Timestamp;

/// The condition as an SQL boolean expression over `customers c`, with the
/// same three-valued meaning. Sums and averages assume one currency.
pub(crate) fn to_sql(expr: &Expr, now: Timestamp) -> String {
    match expr {
        Expr::And(a, b) => format!("({} AND {})", to_sql(a, now), to_sql(b, now)),
        Expr::Or(a, b) => format!("({} OR {})", to_sql(a, now), to_sql(b, now)),
        Expr::Not(a) => format!("(NOT {})", to_sql(a, now)),
        Expr::Test(p, _, _) => test(p, now),
        Expr::Segment(_, inner, _, _) => to_sql(inner, now),
    }
}

fn test(p: &Predicate, now: Timestamp) -> String {
    match p {
        Predicate::HasTag(tag) => format!(
            "EXISTS (SELECT 1 FROM tags t WHERE t.customer_id = c.id AND t.tag = {})",
            text(tag)
        ),
        Predicate::HasConsent(purpose, channel) => {
            let on = |alias: &str| {
                let mut cond = format!(
                    "{alias}.customer_id = c.id AND {alias}.purpose = {} AND {alias}.at <= {}",
                    text(purpose),
                    ts(now)
                );
                if let Some(ch) = channel {
                    cond.push_str(&format!(
                        " AND ({alias}.channel IS NULL OR {alias}.channel = {})",
                        text(ch)
                    ));
                }
                cond
            };
            format!(
                "EXISTS (SELECT 1 FROM consents k WHERE {} AND k.granted AND (k.expires IS NULL OR k.expires > {}) \
                 AND NOT EXISTS (SELECT 1 FROM consents l WHERE {} AND l.at > k.at))",
                on("k"),
                ts(now),
                on("l")
            )
        }
        Predicate::Empty(Field::Tags, negated) => format!(
            "({}EXISTS (SELECT 1 FROM tags t WHERE t.customer_id = c.id))",
            if *negated { "" } else { "NOT " }
        ),
        Predicate::Empty(f, negated) => {
            let (col, _) = column(f, now);
            match multi(f) {
                Some((table, _)) => format!(
                    "({}EXISTS (SELECT 1 FROM {table} x WHERE x.customer_id = c.id))",
                    if *negated { "" } else { "NOT " }
                ),
                None => format!("({col} IS {}NULL)", if *negated { "NOT " } else { "" }),
            }
        }
        Predicate::Compare(f, op, v) => on(f, now, |col, date| {
            let op = match op {
                CmpOp::Eq => "=",
                CmpOp::Ne => "<>",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("{} {op} {}", cast(col, date, v), value(f, v))
        }),
        Predicate::In(f, list, negated) => on(f, now, |col, date| {
            let items: Vec<String> = list.iter().map(|v| value(f, v)).collect();
            let col = cast(col, date, &list[0]);
            format!(
                "{col} {}IN ({})",
                if *negated { "NOT " } else { "" },
                items.join(", ")
            )
        }),
        Predicate::Between(f, a, b) => on(f, now, |col, date| {
            format!(
                "{} BETWEEN {} AND {}",
                cast(col, date, a),
                value(f, a),
                value(f, b)
            )
        }),
        Predicate::Text(f, op, needle) => on(f, now, |col, _| {
            let func = match op {
                TextOp::Contains => "contains",
                TextOp::StartsWith => "starts_with",
                TextOp::EndsWith => "ends_with",
            };
            format!("{func}(lower({col}), lower({}))", text(needle))
        }),
        Predicate::Matches(f, re) => on(f, now, |col, _| {
            format!("regexp_matches({col}, {})", text(re.as_str()))
        }),
        Predicate::Within(f, period) => on(f, now, |col, _| {
            format!("CAST({col} AS TIMESTAMP) >= {}", ts(period.before(now)))
        }),
        Predicate::Before(f, period) => on(f, now, |col, _| {
            format!("CAST({col} AS TIMESTAMP) < {}", ts(period.before(now)))
        }),
        Predicate::OlderThan(f, period) => {
            let (col, _) = column(f, now);
            format!(
                "({col} IS NULL OR CAST({col} AS TIMESTAMP) < {})",
                ts(period.before(now))
            )
        }
        Predicate::This(f, unit) => on(f, now, |col, _| {
            let today = now.date_naive();
            use chrono::Datelike;
            match (unit, *f == Field::BirthDate) {
                ('m', true) => format!("month({col}) = {}", today.month()),
                ('m', false) => format!(
                    "(year({col}) = {} AND month({col}) = {})",
                    today.year(),
                    today.month()
                ),
                (_, true) => format!("({col} IS NOT NULL)"),
                _ => format!("year({col}) = {}", today.year()),
            }
        }),
    }
}

/// A test of a field: on its column, or, for a field with several values
/// (e-mails, phones), true when any value passes and unknown when there is none.
fn on(f: &Field, now: Timestamp, build: impl Fn(&str, bool) -> String) -> String {
    match multi(f) {
        Some((table, col)) => format!(
            "(CASE WHEN EXISTS (SELECT 1 FROM {table} x WHERE x.customer_id = c.id) \
             THEN EXISTS (SELECT 1 FROM {table} x WHERE x.customer_id = c.id AND {}) END)",
            build(&format!("x.{col}"), false)
        ),
        None => {
            let (col, date) = column(f, now);
            format!("({})", build(&col, date))
        }
    }
}

fn multi(f: &Field) -> Option<(&'static str, &'static str)> {
    match f {
        Field::Email => Some(("emails", "address")),
        Field::Phone => Some(("phones", "number")),
        _ => None,
    }
}

/// The column (or subquery) of a field, and whether it holds instants (compared with dates by date).
fn column(f: &Field, now: Timestamp) -> (String, bool) {
    let plain = |name: &str| (format!("c.{name}"), false);
    match f {
        Field::Kind => plain("kind"),
        Field::Name => plain("name"),
        Field::GivenName => plain("given_name"),
        Field::FamilyName => plain("family_name"),
        Field::Company => plain("company"),
        Field::JobTitle => plain("job_title"),
        Field::Organization => plain("organization"),
        Field::Industry => plain("industry"),
        Field::OrgSize => plain("org_size"),
        Field::Email => plain("email"),
        Field::Phone => plain("phone"),
        Field::Street => plain("street"),
        Field::District => plain("district"),
        Field::City => plain("city"),
        Field::Region => plain("region"),
        Field::Postcode => plain("postcode"),
        Field::Country => plain("country"),
        Field::Owner => plain("owner"),
        Field::Source => plain("source"),
        Field::ExternalId => plain("external_id"),
        Field::Stage => plain("stage"),
        Field::BirthDate => plain("birthday"),
        Field::Created => ("c.created".into(), true),
        Field::Updated => ("c.updated".into(), true),
        Field::Verified => ("c.verified".into(), true),
        Field::Tags => plain("tags"),
        Field::Custom(name, t) => (
            format!("c.\"custom.{}\"", name.replace('"', "\"\"")),
            *t == ValueType::DateTime,
        ),
        Field::Aggregate(a) => {
            let (table, filter) = match a.records {
                Records::Purchases => ("purchases", ""),
                Records::Interactions => ("interactions", ""),
                Records::Feedback => ("feedback", ""),
                Records::Complaints => ("feedback", " AND r.complaint"),
            };
            let window = a
                .within
                .map(|p| format!(" AND r.at >= {}", ts(p.before(now))))
                .unwrap_or_default()
                + &format!(" AND r.at <= {}", ts(now));
            let (agg, date) = match a.measure {
                Measure::Count => ("count(*)", false),
                Measure::Sum => ("COALESCE(sum(r.amount), 0)", false),
                Measure::Avg => ("avg(r.amount)", false),
                Measure::Last => ("max(r.at)", true),
                Measure::First => ("min(r.at)", true),
                Measure::Open => ("count(*) FILTER (WHERE r.open)", false),
                Measure::AvgScore => ("avg(r.score)", false),
            };
            (
                format!("(SELECT {agg} FROM {table} r WHERE r.customer_id = c.id{filter}{window})"),
                date,
            )
        }
    }
}

/// An instant compared with a date literal is compared by its date.
fn cast(col: &str, date: bool, v: &Value) -> String {
    if date && matches!(v, Value::Date(_)) {
        format!("CAST({col} AS DATE)")
    } else {
        col.to_string()
    }
}

fn value(f: &Field, v: &Value) -> String {
    match (f, v) {
        (Field::Stage, Value::Text(s)) => {
            let rank = s
                .parse::<kehu_model::LifecycleStage>()
                .ok()
                .and_then(|s| kehu_model::LifecycleStage::ALL.iter().position(|x| *x == s))
                .unwrap_or(0);
            rank.to_string()
        }
        (_, Value::Text(s)) => text(s),
        (_, Value::Number(n)) => format!("{n:?}"),
        (_, Value::Date(d)) => format!("DATE '{}'", d.format("%Y-%m-%d")),
        (_, Value::Bool(b)) => b.to_string(),
    }
}

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ts(t: Timestamp) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"))
}
