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
        Expr::Segment(_, inner, _, _) => fields_of(inner, out),
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

    /// Whether the projection has every column the segment reads (its aggregates
    /// are over the related records it was built with: none, if it was given none).
    pub fn covers(&self, segment: &Segment) -> bool {
        let mut fields = Vec::new();
        fields_of(segment.expr(), &mut fields);
        fields.iter().all(|f| self.columns.contains_key(&key(f)))
    }

    /// The customers' ids, in projection order.
    pub fn ids(&self) -> &[kehu_model::CustomerId] {
        &self.ids
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
        let truth = self.truth(segment.expr(), now);
        self.ids
            .iter()
            .zip(truth)
            .filter(|(_, t)| *t == TRUE)
            .map(|(id, _)| *id)
            .collect()
    }

    /// How many customers are in a segment.
    pub fn count(&self, segment: &Segment, now: Timestamp) -> usize {
        self.truth(segment.expr(), now)
            .iter()
            .filter(|t| **t == TRUE)
            .count()
    }

    fn truth(&self, expr: &Expr, now: Timestamp) -> Truth {
        let rows: Vec<u32> = (0..self.ids.len() as u32).collect();
        let mut out = vec![FALSE; self.ids.len()];
        self.eval_into(expr, now, &rows, &mut out);
        out
    }

    /// Evaluates `expr` for `rows` into `out`. `and` and `or` evaluate their
    /// cheaper side first and the other only where it can still matter, so a
    /// selective test spares the aggregates most of their rows.
    fn eval_into(&self, expr: &Expr, now: Timestamp, rows: &[u32], out: &mut [u8]) {
        match expr {
            Expr::And(..) | Expr::Or(..) => {
                let is_and = matches!(expr, Expr::And(..));
                // A chain of the same operator, cheapest part first; each
                // later part only for the rows still undecided.
                let mut parts = Vec::new();
                chain(expr, is_and, &mut parts);
                parts.sort_by_key(|e| cost(e));
                let decided = if is_and { FALSE } else { TRUE };
                self.eval_into(parts[0], now, rows, out);
                let mut other = vec![FALSE; out.len()];
                let mut rest: Vec<u32> = rows.to_vec();
                for part in &parts[1..] {
                    rest.retain(|&r| out[r as usize] != decided);
                    if rest.is_empty() {
                        return;
                    }
                    self.eval_into(part, now, &rest, &mut other);
                    for &r in &rest {
                        let (x, y) = (out[r as usize], other[r as usize]);
                        out[r as usize] = match (is_and, x, y) {
                            (true, FALSE, _) | (true, _, FALSE) => FALSE,
                            (true, TRUE, TRUE) => TRUE,
                            (false, TRUE, _) | (false, _, TRUE) => TRUE,
                            (false, FALSE, FALSE) => FALSE,
                            _ => UNKNOWN,
                        };
                    }
                }
            }
            Expr::Not(a) => {
                self.eval_into(a, now, rows, out);
                for &r in rows {
                    let v = &mut out[r as usize];
                    *v = match *v {
                        TRUE => FALSE,
                        FALSE => TRUE,
                        u => u,
                    };
                }
            }
            Expr::Segment(_, inner, _, _) => self.eval_into(inner, now, rows, out),
            Expr::Test(p, _, _) => match crate::field_of(p) {
                Some(Field::Aggregate(a)) => self.aggregate_test(p, a, now, rows, out),
                field => self.test(p, field.unwrap_or(&Field::Tags), now, rows, out),
            },
        }
    }

    fn test(&self, p: &Predicate, field: &Field, now: Timestamp, rows: &[u32], out: &mut [u8]) {
        let col = &self.columns[&key(field)];
        // Decided once per distinct value; a row of one value (the usual case)
        // is then a lookup, a row of none a constant, and only rows of several
        // values combine their verdicts as the row-wise evaluation does.
        let verdict: Vec<Option<bool>> = col.distinct.iter().map(|v| single(p, v, now)).collect();
        let one: Vec<u8> = verdict
            .iter()
            .map(|v| combine(p, std::iter::once(*v), false, now))
            .collect();
        let none = combine(p, std::iter::empty(), true, now);
        for &r in rows {
            let r = r as usize;
            let (start, end) = (col.offsets[r] as usize, col.offsets[r + 1] as usize);
            out[r] = match end - start {
                0 => none,
                1 => one[col.values[start] as usize],
                _ => combine(
                    p,
                    col.values[start..end].iter().map(|&v| verdict[v as usize]),
                    false,
                    now,
                ),
            };
        }
    }

    fn aggregate_test(
        &self,
        p: &Predicate,
        a: &Aggregate,
        now: Timestamp,
        rows: &[u32],
        out: &mut [u8],
    ) {
        let from = a.within.map(|w| w.before(now).timestamp_micros());
        // Records after `now` (asked `as_of` an earlier instant) did not exist yet.
        let until = now.timestamp_micros();
        let recs = match a.records {
            Records::Purchases => &self.purchases,
            Records::Interactions => &self.interactions,
            Records::Feedback | Records::Complaints => &self.feedback,
        };
        let complaints_only = a.records == Records::Complaints;
        let mut sums: Vec<(u16, f64, u32)> = Vec::new();
        for &row in rows {
            let row = row as usize;
            let range = recs.offsets[row] as usize..recs.offsets[row + 1] as usize;
            let keep = |i: usize| {
                recs.at[i] <= until
                    && from.is_none_or(|f| recs.at[i] >= f)
                    && (!complaints_only || recs.complaint[i])
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
                    out[row] = combine(p, verdicts, values.is_empty(), now);
                    continue;
                }
            };
            let empty = value.is_none();
            let verdict = value.map(|v| single(p, &v, now));
            out[row] = combine(p, verdict.into_iter(), empty, now);
        }
    }
}

/// The operands of a chain of `and` (or of `or`).
fn chain<'e>(expr: &'e Expr, is_and: bool, out: &mut Vec<&'e Expr>) {
    match (expr, is_and) {
        (Expr::And(a, b), true) | (Expr::Or(a, b), false) => {
            chain(a, is_and, out);
            chain(b, is_and, out);
        }
        (other, _) => out.push(other),
    }
}

/// A rough cost of evaluating a condition: aggregates read records, other tests a column.
fn cost(expr: &Expr) -> u32 {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => cost(a) + cost(b),
        Expr::Not(a) | Expr::Segment(_, a, _, _) => cost(a),
        Expr::Test(p, _, _) => match crate::field_of(p) {
            Some(Field::Aggregate(_)) => 10,
            _ => 1,
        },
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
