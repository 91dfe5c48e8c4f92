//! One row of an import, after it was built: a new dossier, an update of
//! the dossier its natural key finds, or a related record; and the
//! problems a row's report lists.

use std::collections::HashMap;

use kehu_model::catalogue::RelatedField;
use kehu_model::{Customer, CustomerId};
use kehu_rules::{normalize_phone, Identifier, PhoneOutcome, Report, Severity};
use kehu_store::{IndexKey, Write};
use kehu_table::cells::{merge, related_from_cells, RelatedContext, RowCustomer};
use kehu_table::{RawRow, Row, Target};

use super::prepare::Built;
use super::reader::{Outcome, RowReader};
use super::{LISTED_WARNINGS, QUOTE_CHARS};
use crate::io::journal;
use crate::io::{ImportKind, Mode, NaturalKey, RowProblem};
use crate::Error;

impl RowReader<'_> {
    pub(super) fn customer_row(&mut self, row: &Row, built: Built) -> Outcome {
        let book = self.book;
        let Built {
            row: built,
            report,
            now,
            dedupe,
        } = built;
        if !built.problems.is_empty() {
            let mut problems: Vec<RowProblem> = built
                .problems
                .iter()
                .map(|p| {
                    let message = p.message.clone();
                    self.problem(row, Some(p.column), p.code, Severity::Error, message)
                })
                .collect();
            problems.extend(self.violations(row, &built, &report, Severity::Error));
            return Outcome::Rejected(problems);
        }
        if let Some(message) = book.row_refused(&built.customer) {
            let problem = self.problem(row, None, "denied", Severity::Error, message);
            return Outcome::Rejected(vec![problem]);
        }
        let keys = self.key_values(&built);
        let earlier = keys
            .iter()
            .find_map(|k| self.seen.get(k).map(|line| (k, *line)));
        if let Some(((key, value), first)) = earlier {
            let message = format!(
                "the same {} as line {first}: not imported twice",
                crate::io::key_label(*key, value)
            );
            return Outcome::Skipped(
                self.problem(row, None, "duplicate.in_file", Severity::Warning, message),
                true,
            );
        }
        let existing = match self.find_existing(&keys) {
            Ok(e) => e,
            Err(message) => {
                return Outcome::Rejected(vec![self.problem(
                    row,
                    None,
                    "key.ambiguous",
                    Severity::Error,
                    message,
                )])
            }
        };
        let line = row.line;
        let remember = |seen: &mut HashMap<(NaturalKey, String), u64>| {
            for k in keys.iter().cloned() {
                seen.entry(k).or_insert(line);
            }
        };
        match (self.options.mode, existing) {
            // A key is one customer's: a principal's row with the key of a
            // dossier it does not reach is refused, naming nothing of it.
            (_, Some((existing, _))) if !book.reaches(&existing) => {
                let message = "the customer this row names is outside your scope".to_string();
                Outcome::Rejected(vec![self.problem(
                    row,
                    None,
                    "denied",
                    Severity::Error,
                    message,
                )])
            }
            (Mode::Create, Some((existing, key))) => {
                remember(&mut self.seen);
                let message = format!(
                    "a customer with {} is already in the book ({}); import with --mode upsert to update it",
                    key,
                    existing.id
                );
                Outcome::Skipped(
                    self.problem(row, None, "exists", Severity::Warning, message),
                    false,
                )
            }
            (Mode::Update, None) => {
                let message = if keys.is_empty() {
                    format!(
                        "the row has none of the keys ({}) to find its customer by",
                        self.key_names()
                    )
                } else {
                    "no customer in the book has this row's key".to_string()
                };
                Outcome::Skipped(
                    self.problem(row, None, "not_found", Severity::Warning, message),
                    false,
                )
            }
            (_, Some((existing, key))) => {
                if !self.touched.insert(existing.id) {
                    let message =
                        format!("an earlier row of the file already updated this customer ({key})");
                    return Outcome::Skipped(
                        self.problem(row, None, "duplicate.in_file", Severity::Warning, message),
                        true,
                    );
                }
                remember(&mut self.seen);
                let mut merged = match &row.dossier {
                    Some(_) => {
                        let mut c = built.customer.clone();
                        c.id = existing.id;
                        c.created_at = existing.created_at;
                        // A whole dossier from a principal is a write like any
                        // other: what it cannot see keeps its stored value.
                        match book.kept(&existing, c) {
                            Ok(c) => c,
                            Err(e) => {
                                let problem = self.problem(
                                    row,
                                    None,
                                    "denied",
                                    Severity::Error,
                                    e.to_string(),
                                );
                                return Outcome::Rejected(vec![problem]);
                            }
                        }
                    }
                    None => merge(&existing, &built),
                };
                merged.version = existing.version;
                let report = book.rules.check(&mut merged, now);
                if !report.is_ok() {
                    return self.rejected(row, &built, &report);
                }
                merged.updated_at = existing.updated_at;
                if merged == existing {
                    return Outcome::Unchanged;
                }
                merged.updated_at = now;
                self.note_warnings(row, &built, &report);
                let before = match journal::before_write(self.import_id, &existing) {
                    Ok(w) => w,
                    Err(e) => {
                        let message = format!("cannot keep the earlier version: {e}");
                        let problem = self.problem(row, None, "journal", Severity::Error, message);
                        return Outcome::Rejected(vec![problem]);
                    }
                };
                Outcome::Written(
                    Write::Put {
                        customer: merged,
                        expected: existing.version,
                    },
                    Some(before),
                )
            }
            (_, None) => {
                if !report.is_ok() {
                    return self.rejected(row, &built, &report);
                }
                remember(&mut self.seen);
                self.note_warnings(row, &built, &report);
                // Created and updated times come from the file when it has them (a restore), else now.
                let mut c = built.customer;
                if let Some(message) = book.new_row_refused(&mut c) {
                    let problem = self.problem(row, None, "denied", Severity::Error, message);
                    return Outcome::Rejected(vec![problem]);
                }
                c.version = 0;
                let prepared = dedupe.unwrap_or_else(|| kehu_dedupe::Keyer::shared().prepare(&c));
                Outcome::Checking(Box::new(c), prepared)
            }
        }
    }

    pub(super) fn related_row(&mut self, row: &Row) -> Outcome {
        let Some((col, text)) = self.customer_cell(row) else {
            return Outcome::Rejected(vec![self.problem(
                row,
                None,
                "required",
                Severity::Error,
                "the row names no customer".into(),
            )]);
        };
        let customer = match self.resolve_customer(&text) {
            Ok(id) => id,
            Err((code, message)) => {
                return Outcome::Rejected(vec![self.problem(
                    row,
                    Some(col),
                    code,
                    Severity::Error,
                    message,
                )])
            }
        };
        let ctx = RelatedContext {
            kind: self.options.kind,
            customer,
            currency: self.options.currency,
        };
        let mut record = match related_from_cells(&row.cells, &self.columns, &ctx) {
            Ok(r) => r,
            Err(problems) => {
                let problems = problems
                    .into_iter()
                    .map(|p| {
                        let column = (p.column != usize::MAX).then_some(p.column);
                        self.problem(row, column, p.code, Severity::Error, p.message)
                    })
                    .collect();
                return Outcome::Rejected(problems);
            }
        };
        let report = self.book.rules.check_related(&mut record, self.book.now());
        if !report.is_ok() {
            let problems = report
                .violations
                .iter()
                .map(|v| {
                    self.problem(
                        row,
                        None,
                        &v.code,
                        v.severity,
                        format!("{}: {}", v.path, v.message),
                    )
                })
                .collect();
            return Outcome::Rejected(problems);
        }
        let named = |field: Target| {
            row.cells
                .iter()
                .find(|(c, t)| self.columns.target(*c) == Some(&field) && !t.trim().is_empty())
        };
        let source_id = named(Target::Related(RelatedField::RecordId)).or_else(|| {
            (self.options.kind == ImportKind::Purchases)
                .then(|| named(Target::Related(RelatedField::Reference)))
                .flatten()
        });
        if let Some((_, source_id)) = source_id {
            let key = (NaturalKey::Id, source_id.trim().to_string());
            if let Some(first) = self.seen.get(&key) {
                let message =
                    format!("the same record id {source_id:?} as line {first}: not imported twice");
                return Outcome::Skipped(
                    self.problem(row, None, "duplicate.in_file", Severity::Warning, message),
                    true,
                );
            }
            self.seen.insert(key, row.line);
        }
        Outcome::Written(Write::Relate(record), None)
    }

    /// The text of the cell naming a related row's customer, trimmed.
    fn customer_cell(&self, row: &Row) -> Option<(usize, String)> {
        row.cells
            .iter()
            .find(|(c, _)| {
                self.columns.target(*c) == Some(&Target::Related(RelatedField::Customer))
            })
            .map(|(c, t)| (*c, t.trim().to_string()))
    }

    /// Reads ahead the customers a block's related rows name (those not
    /// resolved before): one request for their keys, one for the dossiers
    /// named by kehu id.
    pub(super) fn read_ahead_named<'r>(
        &mut self,
        rows: impl Iterator<Item = &'r Row>,
    ) -> Result<(), Error> {
        self.ahead.clear();
        let (mut keys, mut ids) = (Vec::new(), Vec::new());
        for row in rows {
            let Some((_, text)) = self.customer_cell(row) else {
                continue;
            };
            if self.customers.contains_key(&text) {
                continue;
            }
            match self.customer_index_key(&text) {
                Some(k) => keys.push(k),
                None => ids.extend(text.parse::<CustomerId>()),
            }
        }
        self.ahead.read_lookups(&*self.snapshot, keys)?;
        self.ahead.read_customers(&*self.snapshot, ids)
    }

    /// The index key the import's customer key finds a related row's
    /// customer under; none for the kehu id, which names the dossier.
    fn customer_index_key(&self, text: &str) -> Option<IndexKey> {
        Some(match self.options.customer_key {
            NaturalKey::Id => return None,
            NaturalKey::Email => IndexKey::email(text),
            NaturalKey::Phone => {
                let region = self.book.rules.rule_set().default_region.as_deref();
                match normalize_phone(text, region) {
                    PhoneOutcome::Valid(e164) => IndexKey::Phone(e164),
                    PhoneOutcome::Invalid { .. } => IndexKey::Phone(text.to_string()),
                }
            }
            NaturalKey::ResidentId => IndexKey::ResidentId(
                Identifier::CnResidentId
                    .canonical(text)
                    .unwrap_or_else(|| text.to_string()),
            ),
            NaturalKey::CreditCode => IndexKey::CreditCode(
                Identifier::CnCreditCode
                    .canonical(text)
                    .unwrap_or_else(|| text.to_string()),
            ),
            NaturalKey::ExternalId => IndexKey::ExternalId(text.to_string()),
        })
    }

    /// The customer a related row names, by the import's customer key.
    pub(super) fn resolve_customer(
        &mut self,
        text: &str,
    ) -> Result<CustomerId, (&'static str, String)> {
        if let Some(found) = self.customers.get(text) {
            return found.clone();
        }
        let key = self.options.customer_key;
        let ids = match self.customer_index_key(text) {
            Some(index_key) => self
                .ahead
                .lookup(&*self.snapshot, &index_key)
                .map_err(|e| ("store", e.to_string()))?
                .into_owned(),
            None => match text.parse::<CustomerId>() {
                Ok(id) => match self.ahead.customer(&*self.snapshot, id) {
                    Ok(Some(_)) => vec![id],
                    Ok(None) => vec![],
                    Err(e) => return Err(("store", e.to_string())),
                },
                Err(_) => return Err(("format.id", format!("{text:?} is not a kehu id"))),
            },
        };
        let found = match ids.as_slice() {
            [id] => Ok(*id),
            [] => Err((
                "customer.not_found",
                format!(
                    "no customer with {} in the book; import the customers first",
                    crate::io::key_label(key, text)
                ),
            )),
            many => Err((
                "customer.ambiguous",
                format!(
                    "{} customers have {}; name the customer by another key (--customer-key)",
                    many.len(),
                    crate::io::key_label(key, text)
                ),
            )),
        };
        self.customers.insert(text.to_string(), found.clone());
        found
    }

    pub(super) fn key_names(&self) -> String {
        self.options
            .keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The row's values of the import's natural keys, normalised.
    pub(super) fn key_values(&self, built: &RowCustomer) -> Vec<(NaturalKey, String)> {
        let c = &built.customer;
        let mut out = Vec::new();
        for key in &self.options.keys {
            let value = match key {
                NaturalKey::Id => built.has_kehu_id.then(|| c.id.to_string()),
                NaturalKey::ExternalId => c.external_id.clone().filter(|x| !x.is_empty()),
                NaturalKey::Email => c.primary_email().map(|e| e.address.to_lowercase()),
                NaturalKey::Phone => c.primary_phone().map(|p| p.number.clone()),
                NaturalKey::ResidentId => c.resident_id.clone().filter(|x| !x.is_empty()),
                NaturalKey::CreditCode => c.credit_code.clone().filter(|x| !x.is_empty()),
            };
            if let Some(v) = value {
                out.push((*key, v));
            }
        }
        out
    }

    /// Reads ahead the dossiers a block's rows may update: the index
    /// entries of their natural keys and the dossiers those name, one
    /// request each for the block. What was read for the block before is
    /// forgotten.
    pub(super) fn read_ahead_existing<'r>(
        &mut self,
        built: impl Iterator<Item = &'r RowCustomer>,
    ) -> Result<(), Error> {
        self.ahead.clear();
        if self.empty_book {
            return Ok(());
        }
        let (mut keys, mut ids) = (Vec::new(), Vec::new());
        for b in built {
            for (key, value) in self.key_values(b) {
                match natural_index_key(key, &value) {
                    Some(k) => keys.push(k),
                    None => ids.extend(value.parse::<CustomerId>()),
                }
            }
        }
        self.ahead.read_lookups(&*self.snapshot, keys.clone())?;
        for k in &keys {
            ids.extend(self.ahead.lookup(&*self.snapshot, k)?.iter().copied());
        }
        self.ahead.read_customers(&*self.snapshot, ids)
    }

    /// The dossier the row's first matching key finds in the book, with that key.
    pub(super) fn find_existing(
        &mut self,
        keys: &[(NaturalKey, String)],
    ) -> Result<Option<(Customer, String)>, String> {
        if self.empty_book {
            return Ok(None);
        }
        for (key, value) in keys {
            let ids = match natural_index_key(*key, value) {
                Some(k) => self
                    .ahead
                    .lookup(&*self.snapshot, &k)
                    .map_err(|e| e.to_string())?
                    .into_owned(),
                None => match value.parse::<CustomerId>() {
                    Ok(id) => vec![id],
                    Err(_) => continue,
                },
            };
            let mut found = Vec::new();
            for id in ids {
                let c = self.ahead.customer(&*self.snapshot, id);
                if let Some(c) = c.map_err(|e| e.to_string())? {
                    found.push(c);
                }
            }
            match found.len() {
                0 => continue,
                1 => return Ok(found.pop().map(|c| (c, crate::io::key_label(*key, value)))),
                n => {
                    return Err(format!(
                        "{n} customers in the book have {}; choose another --key",
                        crate::io::key_label(*key, value)
                    ))
                }
            }
        }
        Ok(None)
    }

    /// The row, rejected for the errors in its report.
    pub(super) fn rejected(&self, row: &Row, built: &RowCustomer, report: &Report) -> Outcome {
        Outcome::Rejected(self.violations(row, built, report, Severity::Error))
    }

    pub(super) fn violations(
        &self,
        row: &Row,
        built: &RowCustomer,
        report: &Report,
        at_least: Severity,
    ) -> Vec<RowProblem> {
        report
            .violations
            .iter()
            .filter(|v| v.severity >= at_least)
            .map(|v| {
                let column = built.column_of(&v.path);
                let message = if column.is_none() && !v.path.is_empty() {
                    format!("{}: {}", v.path, v.message)
                } else {
                    v.message.clone()
                };
                self.problem(row, column, &v.code, v.severity, message)
            })
            .collect()
    }

    pub(super) fn note_warnings(&mut self, row: &Row, built: &RowCustomer, report: &Report) {
        let n = report.warnings().count();
        if n == 0 {
            return;
        }
        self.report.warnings += n as u64;
        if self.listed_warnings < LISTED_WARNINGS {
            let listed = self.violations(row, built, report, Severity::Warning);
            self.listed_warnings += listed.len();
            self.problems.extend(listed);
        }
    }

    pub(super) fn problem(
        &self,
        row: &Row,
        column: Option<usize>,
        code: &str,
        severity: Severity,
        message: String,
    ) -> RowProblem {
        let columns = &self.columns;
        let value = column.and_then(|c| {
            row.cells
                .iter()
                .find(|(i, _)| *i == c)
                .map(|(_, t)| t.chars().take(QUOTE_CHARS).collect::<String>())
                .or_else(|| match &row.raw {
                    RawRow::Csv(r) => r.get(c).map(|b| {
                        String::from_utf8_lossy(b)
                            .chars()
                            .take(QUOTE_CHARS)
                            .collect()
                    }),
                    RawRow::Line(_) => None,
                })
        });
        RowProblem {
            line: row.line,
            column: column
                .filter(|c| *c < columns.len())
                .map(|c| columns.name(c).to_string()),
            value,
            code: code.to_string(),
            severity,
            message,
        }
    }
}

/// The index a natural key's (normalised) value is found under; none for
/// the kehu id, which names the dossier itself.
fn natural_index_key(key: NaturalKey, value: &str) -> Option<IndexKey> {
    Some(match key {
        NaturalKey::Id => return None,
        NaturalKey::ExternalId => IndexKey::ExternalId(value.to_string()),
        NaturalKey::Email => IndexKey::email(value),
        NaturalKey::Phone => IndexKey::Phone(value.to_string()),
        NaturalKey::ResidentId => IndexKey::ResidentId(value.to_string()),
        NaturalKey::CreditCode => IndexKey::CreditCode(value.to_string()),
    })
}
