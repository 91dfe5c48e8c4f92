//! The typed syntax tree of a segment.

use chrono::{Months, NaiveDate, TimeDelta};
use regex::Regex;

use crate::schema::Field;
use crate::Timestamp;

/// A length of time: `30d`, `12w`, `6m`, `1y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// How many units.
    pub amount: i64,
    /// `d`, `w`, `m` or `y`.
    pub unit: char,
}

impl Period {
    /// The instant this long before `now` (months and years by the calendar).
    pub fn before(&self, now: Timestamp) -> Timestamp {
        let months = |n: i64| {
            now.checked_sub_months(Months::new(n.clamp(0, u32::MAX as i64) as u32))
                .unwrap_or(Timestamp::MIN_UTC)
        };
        let back = |d: Option<TimeDelta>| {
            d.and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(Timestamp::MIN_UTC)
        };
        match self.unit {
            'd' => back(TimeDelta::try_days(self.amount)),
            'w' => back(TimeDelta::try_weeks(self.amount)),
            'm' => months(self.amount),
            _ => months(self.amount.saturating_mul(12)),
        }
    }
}

/// A value written in a segment.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, or a bare word (`active`, `organization`).
    Text(String),
    /// A number.
    Number(f64),
    /// A date.
    Date(NaiveDate),
    /// Yes or no.
    Bool(bool),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A text test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    /// `contains` (ignoring case).
    Contains,
    /// `starts_with` (ignoring case).
    StartsWith,
    /// `ends_with` (ignoring case).
    EndsWith,
}

/// A test of one field.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// `field op value`.
    Compare(Field, CmpOp, Value),
    /// `field in [..]`, or `not in` when negated.
    In(Field, Vec<Value>, bool),
    /// `field between a and b` (both ends included).
    Between(Field, Value, Value),
    /// `field contains "x"` and friends.
    Text(Field, TextOp, String),
    /// `field matches /re/`.
    Matches(Field, Regex),
    /// `field is empty`, or `is not empty` when negated.
    Empty(Field, bool),
    /// `has tag "vip"`.
    HasTag(String),
    /// `has consent "marketing"`, or `has consent "marketing" via "sms"`:
    /// the latest consent event about it grants it and has not lapsed.
    HasConsent(String, Option<String>),
    /// `field within 30d`: at most this long ago.
    Within(Field, Period),
    /// `field before 1y ago`: longer ago than this.
    Before(Field, Period),
    /// `field older than 180d`: longer ago than this, or never.
    OlderThan(Field, Period),
    /// `field this month` / `this year` (`birthday this month` ignores the year).
    This(Field, char),
}

/// A segment's condition.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Not.
    Not(Box<Expr>),
    /// A test, with its place in the source (byte offsets) for explanations.
    Test(Predicate, usize, usize),
    /// `in segment "name"`: a saved segment's condition, with the reference's place.
    Segment(String, Box<Expr>, usize, usize),
}
