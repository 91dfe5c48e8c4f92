//! kehu's segment engine (分类管理): a small filter language over customer
//! dossiers and their related records, parsed to a typed tree and checked
//! against the book's schema before it runs.
//!
//! ```
//! use kehu_segment::{Schema, Segment};
//! use kehu_model::{Customer, Purchase, Money, Related};
//!
//! let vip = Segment::parse(
//!     r#"城市 = "上海" and purchases.sum(within 1y) >= 1000 and not has tag "blocked""#,
//!     &Schema::standard(),
//! )?;
//! let mut c = Customer::person_named("张伟");
//! c.addresses.push(kehu_model::Address { city: Some("上海".into()), primary: true, ..Default::default() });
//! let now = chrono::Utc::now();
//! let bought: Related = Purchase::new(c.id, now, Money::parse("1299.00", "CNY".parse()?)?).into();
//! assert!(vip.matches(&c, &[bought], now));
//! assert!(!vip.matches(&c, &[], now));
//!
//! let typo = Segment::parse("citty = \"上海\"", &Schema::standard()).unwrap_err();
//! assert_eq!(typo.suggestion.as_deref(), Some("city"));
//! println!("{typo}");   // line 1, column 1: unknown field "citty" (did you mean city?) and a caret
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The language is described in `docs/segments.md`.

#![warn(missing_docs)]

mod ast;
pub mod classify;
mod columns;
mod error;
mod eval;
mod lexer;
mod parser;
mod schema;
mod sql;

pub use ast::{CmpOp, Expr, Period, Predicate, TextOp, Value};
pub use columns::Projection;
pub use error::ParseError;
pub use eval::Seen;
pub use schema::{Aggregate, Field, Measure, Records, Schema, ValueType};

use kehu_model::{Customer, Related};

/// An instant (UTC).
pub type Timestamp = kehu_model::Timestamp;

/// A parsed, checked segment condition.
#[derive(Debug, Clone)]
pub struct Segment {
    source: String,
    expr: Expr,
}

/// How one test of a segment came out for one customer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TestOutcome {
    /// The test as written.
    pub test: String,
    /// The dossier field it tests, by its catalogue name (`emails`,
    /// `custom.level`); none for aggregates, consent and saved segments.
    pub field: Option<String>,
    /// True, false, or unknown (the value is missing).
    pub held: Option<bool>,
    /// The values the customer has for the tested field.
    pub seen: Vec<Seen>,
}

/// Why a customer is in a segment or not.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Explanation {
    /// Whether the customer is a member.
    pub member: bool,
    /// Every test, in the order written.
    pub tests: Vec<TestOutcome>,
}

impl Segment {
    /// Parses a condition and checks it against the schema. Errors carry the
    /// line and column, a caret under the problem, and the nearest field name
    /// for a misspelt one.
    pub fn parse(source: &str, schema: &Schema) -> Result<Self, ParseError> {
        Self::parse_named(None, source, schema)
    }

    /// Parses a condition to be saved as `name`: a reference back to `name`
    /// (directly or through other saved segments) is refused as a cycle.
    pub fn parse_named(
        name: Option<&str>,
        source: &str,
        schema: &Schema,
    ) -> Result<Self, ParseError> {
        let stack = name.map(|n| vec![n.to_string()]).unwrap_or_default();
        let expr = parser::parse(source, schema, &stack)?;
        Ok(Self {
            source: source.to_string(),
            expr,
        })
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed condition.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The condition as an SQL boolean expression (DuckDB's dialect) over the
    /// tables `docs/segments.md` describes, with relative dates fixed at
    /// `now`: the same question for a warehouse. Sums and averages assume one currency.
    pub fn to_sql(&self, now: Timestamp) -> String {
        sql::to_sql(&self.expr, now)
    }

    /// Whether the condition reads related records (so a caller must pass them).
    pub fn needs_related(&self) -> bool {
        fn walk(e: &Expr) -> bool {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => walk(a) || walk(b),
                Expr::Not(a) => walk(a),
                Expr::Test(p, _, _) => {
                    matches!(p, Predicate::HasConsent(..))
                        || matches!(field_of(p), Some(Field::Aggregate(_)))
                }
                Expr::Segment(_, inner, _, _) => walk(inner),
            }
        }
        walk(&self.expr)
    }

    /// The dossier fields the condition tests, by their catalogue names
    /// (`emails`, `birth_date`, `custom.level`), those of the saved segments
    /// it refers to included; each once, in the order first tested.
    pub fn fields(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(a) => walk(a, out),
                Expr::Segment(_, inner, _, _) => walk(inner, out),
                Expr::Test(p, _, _) => {
                    if let Some(name) = field_of(p).and_then(Field::named).map(|n| n.name()) {
                        if !out.contains(&name) {
                            out.push(name);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }

    /// Whether the condition asks about consent (evaluated on each customer's
    /// consent events, not on the columnar projection).
    pub fn needs_consents(&self) -> bool {
        fn walk(e: &Expr) -> bool {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => walk(a) || walk(b),
                Expr::Not(a) => walk(a),
                Expr::Test(p, _, _) => matches!(p, Predicate::HasConsent(..)),
                Expr::Segment(_, inner, _, _) => walk(inner),
            }
        }
        walk(&self.expr)
    }

    /// Whether the customer, with these related records, is in the segment at `now`.
    pub fn matches(&self, customer: &Customer, related: &[Related], now: Timestamp) -> bool {
        let row = eval::Row {
            customer,
            related,
            now,
        };
        eval::eval(&self.expr, &row) == Some(true)
    }

    /// Which tests held for the customer and which did not, with the values seen.
    pub fn explain(&self, customer: &Customer, related: &[Related], now: Timestamp) -> Explanation {
        let row = eval::Row {
            customer,
            related,
            now,
        };
        let mut tests = Vec::new();
        fn walk(e: &Expr, src: &str, row: &eval::Row<'_>, out: &mut Vec<TestOutcome>) {
            match e {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, src, row, out);
                    walk(b, src, row, out);
                }
                Expr::Not(a) => walk(a, src, row, out),
                Expr::Segment(_, inner, start, end) => out.push(TestOutcome {
                    test: src[*start..*end].to_string(),
                    field: None,
                    held: eval::eval(inner, row),
                    seen: Vec::new(),
                }),
                Expr::Test(p, start, end) => out.push(TestOutcome {
                    test: src[*start..*end].to_string(),
                    field: field_of(p).and_then(Field::named).map(|n| n.name()),
                    held: eval::test(p, row),
                    seen: match p {
                        Predicate::HasConsent(purpose, channel) => {
                            eval::deciding_consent(row, purpose, channel.as_deref())
                                .map(|c| vec![Seen::Text(format!("{:?}", c.status).to_lowercase())])
                                .unwrap_or_default()
                        }
                        _ => field_of(p)
                            .map(|f| eval::values(f, row))
                            .unwrap_or_default(),
                    },
                }),
            }
        }
        walk(&self.expr, &self.source, &row, &mut tests);
        Explanation {
            member: eval::eval(&self.expr, &row) == Some(true),
            tests,
        }
    }
}

fn field_of(p: &Predicate) -> Option<&Field> {
    match p {
        Predicate::HasTag(_) => Some(&Field::Tags),
        Predicate::HasConsent(..) => None,
        Predicate::Compare(f, ..)
        | Predicate::In(f, ..)
        | Predicate::Between(f, ..)
        | Predicate::Text(f, ..)
        | Predicate::Matches(f, _)
        | Predicate::Empty(f, _)
        | Predicate::Within(f, _)
        | Predicate::Before(f, _)
        | Predicate::OlderThan(f, _)
        | Predicate::This(f, _) => Some(f),
    }
}
