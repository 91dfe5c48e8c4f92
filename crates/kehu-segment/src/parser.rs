//! From tokens to a typed, checked syntax tree.

use kehu_model::LifecycleStage;
use regex::Regex;

use crate::ast::{CmpOp, Expr, Period, Predicate, TextOp, Value};
use crate::error::ParseError;
use crate::lexer::{lex, Tok, Token};
use crate::schema::{Field, Measure, Schema, ValueType};

/// Parses and checks a segment against a schema.
pub(crate) fn parse(src: &str, schema: &Schema, stack: &[String]) -> Result<Expr, ParseError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        schema,
        stack,
        depth: 0,
        tests: 0,
    };
    if p.tokens.is_empty() {
        return Err(ParseError::at(
            src,
            0,
            src.len(),
            "the segment is empty: write a condition such as city = \"上海\"",
        ));
    }
    let expr = p.or()?;
    if let Some(t) = p.peek() {
        return Err(p.error_at(t, "expected and, or, or the end here"));
    }
    Ok(expr)
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    schema: &'a Schema,
    /// The saved segments being expanded, to refuse cycles.
    stack: &'a [String],
    /// How deep in parentheses and `not`s the parser is.
    depth: usize,
    /// How many tests it has read.
    tests: usize,
}

/// How deeply parentheses and `not`s may nest: evaluation recurses as deep,
/// and a phone's threads have small stacks.
const MAX_DEPTH: usize = 64;
/// How many tests one condition may hold (each `and`/`or` adds a level too).
const MAX_TESTS: usize = 1000;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Result<Token, ParseError> {
        let t = self.tokens.get(self.pos).cloned().ok_or_else(|| {
            ParseError::at(
                self.src,
                self.src.len(),
                self.src.len(),
                "the segment ends too soon",
            )
        })?;
        self.pos += 1;
        Ok(t)
    }

    fn error_at(&self, t: &Token, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, t.start, t.end, message)
    }

    /// Whether the next token is this keyword (any case); consumes it if so.
    fn keyword(&mut self, word: &str) -> bool {
        let is = matches!(self.peek(), Some(Token { kind: Tok::Ident(w), .. }) if w.eq_ignore_ascii_case(word));
        if is {
            self.pos += 1;
        }
        is
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), ParseError> {
        if self.keyword(word) {
            return Ok(());
        }
        let t = self.next()?;
        Err(self.error_at(&t, format!("expected {word} here")))
    }

    fn punct(&mut self, c: char) -> bool {
        let is = matches!(self.peek(), Some(Token { kind: Tok::Punct(p), .. }) if *p == c);
        if is {
            self.pos += 1;
        }
        is
    }

    fn expect_punct(&mut self, c: char) -> Result<(), ParseError> {
        if self.punct(c) {
            return Ok(());
        }
        let t = self.next()?;
        Err(self.error_at(&t, format!("expected {c} here")))
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.keyword("or") || self.keyword("或") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        while self.keyword("and") || self.keyword("且") {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        if self.keyword("not") || self.keyword("非") {
            self.deeper(start)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.punct('(') {
            self.deeper(start)?;
            let inner = self.or()?;
            self.expect_punct(')')?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.tests += 1;
        if self.tests > MAX_TESTS {
            let t = self.tokens[start.min(self.tokens.len() - 1)].clone();
            return Err(self.error_at(
                &t,
                format!("a condition holds at most {MAX_TESTS} tests: save parts as segments and use `in segment`"),
            ));
        }
        self.test()
    }

    /// One level deeper (the token at `at` opened it), within [`MAX_DEPTH`].
    fn deeper(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.tokens[at].clone();
            return Err(self.error_at(&t, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn test(&mut self) -> Result<Expr, ParseError> {
        let first = self.next()?;
        let start = first.start;
        if matches!(&first.kind, Tok::Ident(w) if w.eq_ignore_ascii_case("in")) {
            self.expect_keyword("segment")?;
            let t = self.next()?;
            let name = self.text_of(&t)?;
            let Some(condition) = self.schema.segment(&name) else {
                return Err(self.error_at(&t, format!("no saved segment named {name:?}")));
            };
            if self.stack.contains(&name) {
                let mut path = self.stack.to_vec();
                path.push(name.clone());
                return Err(self.error_at(
                    &t,
                    format!(
                        "segments refer to each other in a circle: {}",
                        path.join(" → ")
                    ),
                ));
            }
            let mut stack = self.stack.to_vec();
            stack.push(name.clone());
            let inner = parse(condition, self.schema, &stack).map_err(|e| {
                self.error_at(
                    &t,
                    format!("saved segment {name:?} does not parse: {}", e.message),
                )
            })?;
            return Ok(Expr::Segment(name, Box::new(inner), start, t.end));
        }
        if matches!(&first.kind, Tok::Ident(w) if w.eq_ignore_ascii_case("has")) {
            if self.keyword("consent") {
                let t = self.next()?;
                let purpose = self.text_of(&t)?;
                let mut end = t.end;
                let channel = if self.keyword("via") {
                    let c = self.next()?;
                    end = c.end;
                    Some(self.text_of(&c)?)
                } else {
                    None
                };
                return Ok(Expr::Test(
                    Predicate::HasConsent(purpose, channel),
                    start,
                    end,
                ));
            }
            self.expect_keyword("tag")?;
            let t = self.next()?;
            let tag = self.text_of(&t)?;
            return Ok(Expr::Test(Predicate::HasTag(tag), start, t.end));
        }
        let field = self.field(&first)?;
        let ty = field.value_type();
        let op = self.next()?;
        let kind = op.kind.clone();
        let word = match &kind {
            Tok::Ident(w) => w.to_lowercase(),
            _ => String::new(),
        };
        let pred = match (kind, word.as_str()) {
            (Tok::Op(o), _) => {
                let op = match o {
                    "=" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                if field == Field::Tags {
                    return Err(self.error_at(&first, "tags are tested with has tag \"…\""));
                }
                let v = self.value(&field)?;
                if matches!(ty, ValueType::Bool | ValueType::Kind) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return Err(self.error_at(&self.tokens[self.pos - 2].clone(), "only = and != apply here"));
                }
                Predicate::Compare(field, op, v)
            }
            (_, "in") => Predicate::In(field.clone(), self.list(&field)?, false),
            (_, "not") => {
                self.expect_keyword("in")?;
                Predicate::In(field.clone(), self.list(&field)?, true)
            }
            (_, "between") => {
                let a = self.value(&field)?;
                self.expect_keyword("and")?;
                let b = self.value(&field)?;
                Predicate::Between(field, a, b)
            }
            (_, "contains" | "starts_with" | "ends_with") => {
                self.need_text(&field, &first)?;
                let t = self.next()?;
                let text = self.text_of(&t)?;
                let op = match word.as_str() {
                    "contains" => TextOp::Contains,
                    "starts_with" => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                Predicate::Text(field, op, text)
            }
            (_, "matches") => {
                self.need_text(&field, &first)?;
                let t = self.next()?;
                let Tok::Regex(re) = &t.kind else {
                    return Err(self.error_at(&t, "expected a regular expression between slashes: /^1[3-9]/"));
                };
                let re = Regex::new(re).map_err(|e| self.error_at(&t, format!("not a valid regular expression: {e}")))?;
                Predicate::Matches(field, re)
            }
            (_, "is") => {
                let negated = self.keyword("not");
                self.expect_keyword("empty")?;
                Predicate::Empty(field, negated)
            }
            (_, "within") => {
                self.need_time(&field, &first)?;
                Predicate::Within(field, self.period()?)
            }
            (_, "before") => {
                self.need_time(&field, &first)?;
                let p = self.period()?;
                self.expect_keyword("ago")?;
                Predicate::Before(field, p)
            }
            (_, "older") => {
                self.need_time(&field, &first)?;
                self.expect_keyword("than")?;
                Predicate::OlderThan(field, self.period()?)
            }
            (_, "this") => {
                self.need_time(&field, &first)?;
                let t = self.next()?;
                let unit = match &t.kind {
                    Tok::Ident(w) if w.eq_ignore_ascii_case("month") => 'm',
                    Tok::Ident(w) if w.eq_ignore_ascii_case("year") => 'y',
                    _ => return Err(self.error_at(&t, "expected month or year")),
                };
                Predicate::This(field, unit)
            }
            _ => {
                return Err(self.error_at(
                    &op,
                    "expected an operator: = != < <= > >=, in, not in, between, contains, starts_with, ends_with, matches, is empty, within, before … ago, older than, this month",
                ))
            }
        };
        let end = self.tokens[self.pos - 1].end;
        Ok(Expr::Test(pred, start, end))
    }

    fn field(&mut self, t: &Token) -> Result<Field, ParseError> {
        let Tok::Ident(name) = &t.kind else {
            return Err(self.error_at(
                t,
                "expected a field name (city, stage, purchases.count…) or has tag",
            ));
        };
        let mut field = self.schema.resolve(name).map_err(|nearest| {
            self.error_at(t, format!("unknown field {name:?}"))
                .suggest(nearest)
        })?;
        if let Field::Aggregate(agg) = &mut field {
            if self.punct('(') {
                self.expect_keyword("within")?;
                let p = self.period()?;
                self.expect_punct(')')?;
                if matches!(agg.measure, Measure::Last | Measure::First) {
                    return Err(self.error_at(t, "a window applies to counts, sums and averages"));
                }
                agg.within = Some(p);
            }
        }
        Ok(field)
    }

    fn period(&mut self) -> Result<Period, ParseError> {
        let t = self.next()?;
        match t.kind {
            Tok::Duration(amount, unit) if amount >= 0 => Ok(Period { amount, unit }),
            _ => Err(self.error_at(&t, "expected a length of time: 30d, 12w, 6m, 1y")),
        }
    }

    fn need_text(&self, field: &Field, t: &Token) -> Result<(), ParseError> {
        match field.value_type() {
            ValueType::Text => Ok(()),
            _ => Err(self.error_at(t, "this test applies to text fields")),
        }
    }

    fn need_time(&self, field: &Field, t: &Token) -> Result<(), ParseError> {
        match field.value_type() {
            ValueType::Date | ValueType::DateTime => Ok(()),
            _ => Err(self.error_at(t, "this test applies to dates and times")),
        }
    }

    fn text_of(&self, t: &Token) -> Result<String, ParseError> {
        match &t.kind {
            Tok::Str(s) | Tok::Ident(s) => Ok(s.clone()),
            Tok::Num(_) | Tok::Date(_) | Tok::Duration(..) => {
                Ok(self.src[t.start..t.end].to_string())
            }
            _ => Err(self.error_at(t, "expected text in quotes")),
        }
    }

    fn list(&mut self, field: &Field) -> Result<Vec<Value>, ParseError> {
        self.expect_punct('[')?;
        let mut out = vec![self.value(field)?];
        while self.punct(',') {
            out.push(self.value(field)?);
        }
        self.expect_punct(']')?;
        Ok(out)
    }

    /// A value of the field's type.
    fn value(&mut self, field: &Field) -> Result<Value, ParseError> {
        let t = self.next()?;
        let bad = |what: &str| self.error_at(&t, format!("expected {what} here"));
        match field.value_type() {
            ValueType::Text => self.text_of(&t).map(Value::Text),
            ValueType::Number => match t.kind {
                Tok::Num(n) => Ok(Value::Number(n)),
                _ => Err(bad("a number")),
            },
            ValueType::Date | ValueType::DateTime => match &t.kind {
                Tok::Date(d) => Ok(Value::Date(*d)),
                Tok::Str(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Value::Date)
                    .map_err(|_| bad("a date, 2024-03-01")),
                _ => Err(bad("a date, 2024-03-01 (or use within 30d, before 1y ago)")),
            },
            ValueType::Bool => match &t.kind {
                Tok::Ident(w) if matches!(w.to_lowercase().as_str(), "true" | "yes") => {
                    Ok(Value::Bool(true))
                }
                Tok::Ident(w) if matches!(w.to_lowercase().as_str(), "false" | "no") => {
                    Ok(Value::Bool(false))
                }
                _ => Err(bad("true or false")),
            },
            ValueType::Stage => {
                let text = self.text_of(&t)?;
                text.parse::<LifecycleStage>()
                    .map(|s| Value::Text(s.as_str().to_string()))
                    .map_err(|_| bad("a stage: potential, new, active, at_risk, churned"))
            }
            ValueType::Kind => match self.text_of(&t)?.to_lowercase().as_str() {
                "person" | "个人" => Ok(Value::Text("person".into())),
                "organization" | "organisation" | "企业" => {
                    Ok(Value::Text("organization".into()))
                }
                _ => Err(bad("person or organization")),
            },
        }
    }
}
