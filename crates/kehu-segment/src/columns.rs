//! The columnar projection: the fields a segment needs, one column each, and
//! each customer's records in flat arrays, so a segment runs as tight loops
//! over a million customers instead of one dossier at a time.

use std::collections::HashMap;

use kehu_model::{Customer, FeedbackKind, FeedbackStatus, Related};

use crate::ast::{Expr, Predicate};
use crate::eval::{self, Seen};
use crate::schema::{Aggregate, Field, Measure, Records};
use crate::{Segment, Timestamp};

/// Truth values of a test for every row: 0 false, 1 true, 2 unknown.
type Truth = Vec<u8>;
const FALSE: u8 = 0;
const TRUE: u8 = 1;
const UNKNOWN: u8 = 2;

/// A field's values for every customer: each row's values sit at
/// `values[offsets[row]..offsets[row + 1]]`, distinct text interned once.
#[derive(Debug, Default)]
struct Column {
    offsets: Vec<u32>,
    values: Vec<u32>,
    /// The distinct values; `values` holds indexes into it.
    distinct: Vec<Seen>,
}

/// One customer's related records, flattened: times, amounts, flags.
#[derive(Debug, Default)]
struct Flat {
    offsets: Vec<u32>,
    at: Vec<i64>,
    amount: Vec<f64>,
    currency: Vec<u16>,
    complaint: Vec<bool>,
    open: Vec<bool>,
    score: Vec<f32>,
}

/// Customers projected for segments: ids and the columns of the fields asked for.
#[derive(Debug)]
pub struct Projection {
    ids: Vec<kehu_model::CustomerId>,
    columns: HashMap<String, Column>,
    purchases: Flat,
    interactions: Flat,
    feedback: Flat,
}

/// A column's key: the field, without an aggregate's window.
fn key(field: &Field) -> String {
    match field {
        Field::Aggregate(a) => format!("{:?}.{:?}", a.records, a.measure),
        other => format!("{other:?}"),
    }
}

fn fields_of(expr: &Expr, out: &mut Vec<Field>) {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => {
            fields_of(a, out);
            fields_of(b, out);
        }
        Expr::Not(a) => fields_of(a, out),
        Expr::Test(p, _, _) => {
            if let Some(f) = crate::field_of(p) {
                if !matches!(f, Field::Aggregate(_)) && !out.contains(f) {
                    out.push(f.clone());
                }
            }
        }
    }
}

impl Projection {
    /// Projects the customers (each with its related records) for these segments.
    pub fn build<'a>(
        customers: impl IntoIterator<Item = (&'a Customer, &'a [Related])>,
        segments: &[&Segment],
    ) -> Self {
        let mut fields = vec![Field::Tags];
        for s in segments {
            fields_of(s.expr(), &mut fields);
        }
        let mut columns: Vec<(Column, HashMap<String, u32>)> =
            fields.iter().map(|_| Default::default()).collect();
        let mut ids = Vec::new();
        let (mut purchases, mut interactions, mut feedback) =
            (Flat::default(), Flat::default(), Flat::default());
        let mut currencies: Vec<kehu_model::Currency> = Vec::new();
        let epoch = Timestamp::from_timestamp(0, 0).unwrap_or_default();
        for (c, related) in customers {
            ids.push(c.id);
            let row = eval::Row {
                customer: c,
                related: &[],
                now: epoch,
            };
            for (f, (col, interned)) in fields.iter().zip(columns.iter_mut()) {
                col.offsets.push(col.values.len() as u32);
                for v in eval::values(f, &row) {
                    let k = format!("{v:?}");
                    let next = col.distinct.len() as u32;
                    let id = *interned.entry(k).or_insert_with(|| {
                        col.distinct.push(v);
                        next
                    });
                    col.values.push(id);
                }
            }
            for r in [&mut purchases, &mut interactions, &mut feedback] {
                r.offsets.push(r.at.len() as u32);
            }
            for r in related {
                let at = r.at().timestamp_micros();
                match r {
                    Related::Purchase(p) => {
                        let cur = match currencies.iter().position(|c| *c == p.amount.currency) {
                            Some(i) => i,
                            None => {
                                currencies.push(p.amount.currency);
                                currencies.len() - 1
                            }
                        };
                        purchases.at.push(at);
                        purchases.amount.push(
                            p.amount.minor as f64 / 10f64.powi(p.amount.currency.exponent() as i32),
                        );
                        purchases.currency.push(cur as u16);
                    }
                    Related::Interaction(_) => interactions.at.push(at),
                    Related::Feedback(f) => {
                        feedback.at.push(at);
                        feedback.complaint.push(f.kind == FeedbackKind::Complaint);
                        feedback.open.push(f.status == FeedbackStatus::Open);
                        feedback
                            .score
                            .push(f.score.map_or(f32::NAN, |s| f32::from(s.value)));
                    }
                    _ => {}
                }
            }
        }
        for (col, _) in &mut columns {
            col.offsets.push(col.values.len() as u32);
        }
        for r in [&mut purchases, &mut interactions, &mut feedback] {
            r.offsets.push(r.at.len() as u32);
        }
        Self {
            ids,
            columns: fields
                .iter()
                .map(key)
                .zip(columns.into_iter().map(|(c, _)| c))
                .collect(),
            purchases,
            interactions,
            feedback,
        }
    }

    /// How many customers the projection holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The members of a segment (their ids, in projection order).
    pub fn members(&self, segment: &Segment, now: Timestamp) -> Vec<kehu_model::CustomerId> {
        let truth = self.eval(segment.expr(), now);
        self.ids
            .iter()
            .zip(truth)
            .filter(|(_, t)| *t == TRUE)
            .map(|(id, _)| *id)
            .collect()
    }

    /// How many customers are in a segment.
    pub fn count(&self, segment: &Segment, now: Timestamp) -> usize {
        self.eval(segment.expr(), now)
            .iter()
            .filter(|t| **t == TRUE)
            .count()
    }

    fn eval(&self, expr: &Expr, now: Timestamp) -> Truth {
        match expr {
            Expr::And(a, b) => zip(self.eval(a, now), &self.eval(b, now), |x, y| match (x, y) {
                (FALSE, _) | (_, FALSE) => FALSE,
                (TRUE, TRUE) => TRUE,
                _ => UNKNOWN,
            }),
            Expr::Or(a, b) => zip(self.eval(a, now), &self.eval(b, now), |x, y| match (x, y) {
                (TRUE, _) | (_, TRUE) => TRUE,
                (FALSE, FALSE) => FALSE,
                _ => UNKNOWN,
            }),
            Expr::Not(a) => {
                let mut t = self.eval(a, now);
                for v in &mut t {
                    *v = match *v {
                        TRUE => FALSE,
                        FALSE => TRUE,
                        u => u,
                    };
                }
                t
            }
            Expr::Test(p, _, _) => self.test(p, now),
        }
    }

    fn test(&self, p: &Predicate, now: Timestamp) -> Truth {
        let field = crate::field_of(p).cloned().unwrap_or(Field::Tags);
        if let Field::Aggregate(a) = &field {
            return self.aggregate_test(p, a, now);
        }
        let col = &self.columns[&key(&field)];
        // The test is decided once per distinct value, then looked up per row,
        // with the rules of the row-wise evaluation for rows of 0, 1 or more values.
        let verdict: Vec<Option<bool>> = col.distinct.iter().map(|v| single(p, v, now)).collect();
        let mut out = Vec::with_capacity(self.ids.len());
        for row in 0..self.ids.len() {
            let vals = &col.values[col.offsets[row] as usize..col.offsets[row + 1] as usize];
            out.push(combine(
                p,
                vals.iter().map(|&v| verdict[v as usize]),
                vals.is_empty(),
                now,
            ));
        }
        out
    }

    fn aggregate_test(&self, p: &Predicate, a: &Aggregate, now: Timestamp) -> Truth {
        let from = a.within.map(|w| w.before(now).timestamp_micros());
        let recs = match a.records {
            Records::Purchases => &self.purchases,
            Records::Interactions => &self.interactions,
            Records::Feedback | Records::Complaints => &self.feedback,
        };
        let complaints_only = a.records == Records::Complaints;
        let mut out = Vec::with_capacity(self.ids.len());
        let mut sums: Vec<(u16, f64, u32)> = Vec::new();
        for row in 0..self.ids.len() {
            let range = recs.offsets[row] as usize..recs.offsets[row + 1] as usize;
            let keep = |i: usize| {
                from.is_none_or(|f| recs.at[i] >= f) && (!complaints_only || recs.complaint[i])
            };
            let value: Option<Seen> = match a.measure {
                Measure::Count => Some(Seen::Number(range.filter(|&i| keep(i)).count() as f64)),
                Measure::Open => Some(Seen::Number(
                    range.filter(|&i| keep(i) && recs.open[i]).count() as f64,
                )),
                Measure::Last => range
                    .filter(|&i| keep(i))
                    .map(|i| recs.at[i])
                    .max()
                    .map(micros),
                Measure::First => range
                    .filter(|&i| keep(i))
                    .map(|i| recs.at[i])
                    .min()
                    .map(micros),
                Measure::AvgScore => {
                    let (mut s, mut n) = (0.0f64, 0u32);
                    for i in range.filter(|&i| keep(i) && !recs.score[i].is_nan()) {
                        s += f64::from(recs.score[i]);
                        n += 1;
                    }
                    (n > 0).then(|| Seen::Number(s / f64::from(n)))
                }
                Measure::Sum | Measure::Avg => {
                    sums.clear();
                    for i in range.filter(|&i| keep(i)) {
                        match sums.iter_mut().find(|(c, _, _)| *c == recs.currency[i]) {
                            Some(e) => {
                                e.1 += recs.amount[i];
                                e.2 += 1;
                            }
                            None => sums.push((recs.currency[i], recs.amount[i], 1)),
                        }
                    }
                    // Several currencies: the row-wise rules (any of them).
                    let values: Vec<Seen> = match (a.measure, sums.is_empty()) {
                        (Measure::Sum, true) => vec![Seen::Number(0.0)],
                        (Measure::Sum, false) => {
                            sums.iter().map(|(_, s, _)| Seen::Number(*s)).collect()
                        }
                        (_, true) => vec![],
                        _ => sums
                            .iter()
                            .map(|(_, s, n)| Seen::Number(s / f64::from(*n)))
                            .collect(),
                    };
                    let verdicts = values.iter().map(|v| single(p, v, now));
                    out.push(combine(p, verdicts, values.is_empty(), now));
                    continue;
                }
            };
            let empty = value.is_none();
            let verdict = value.map(|v| single(p, &v, now));
            out.push(combine(p, verdict.into_iter(), empty, now));
        }
        out
    }
}

fn micros(t: i64) -> Seen {
    Seen::Time(Timestamp::from_timestamp_micros(t).unwrap_or_default())
}

/// A test on one value, as the row-wise evaluation decides it.
fn single(p: &Predicate, v: &Seen, now: Timestamp) -> Option<bool> {
    eval::test_values(p, std::slice::from_ref(v), now)
}

/// A row's truth from its values' verdicts: the row-wise rules for "any value",
/// for no value (unknown, but `is empty` and `older than` decide), and for `not in`.
fn combine(
    p: &Predicate,
    verdicts: impl Iterator<Item = Option<bool>>,
    empty: bool,
    now: Timestamp,
) -> u8 {
    let truth = if empty {
        eval::test_values(p, &[], now)
    } else {
        match p {
            // `not in` holds when no value is in the list.
            Predicate::In(_, _, true) => Some(verdicts.into_iter().all(|v| v == Some(true))),
            // A row with values: `is not empty` holds, `is empty` does not.
            Predicate::Empty(_, negated) => Some(*negated),
            _ => Some(verdicts.into_iter().any(|v| v == Some(true))),
        }
    };
    match truth {
        Some(true) => TRUE,
        Some(false) => FALSE,
        None => UNKNOWN,
    }
}

fn zip(mut a: Truth, b: &Truth, f: impl Fn(u8, u8) -> u8) -> Truth {
    for (x, y) in a.iter_mut().zip(b) {
        *x = f(*x, *y);
    }
    a
}
