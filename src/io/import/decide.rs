//! What the duplicate check of an import's new dossier decides, by the
//! import's duplicate policy: written, skipped, or merged into the dossier
//! (of the book, or written by this import) it duplicates.

use kehu_dedupe::Prepared;
use kehu_model::{Customer, CustomerId};
use kehu_rules::Severity;
use kehu_store::Write;
use kehu_table::Row;

use super::reader::{Outcome, RowReader};
use super::LISTED_WARNINGS;
use crate::io::journal;
use crate::io::{RowDuplicate, RowMatch, RowProblem};
use crate::write::RowOf;
use crate::{OnDuplicate, WriteStatus};

impl RowReader<'_> {
    pub(super) fn decide(&mut self, row: &Row, c: Customer, prepared: Prepared) -> Outcome {
        let Some(check) = &mut self.check else {
            return Outcome::Created(c, prepared.keys.stored);
        };
        let found = match check.check_prepared(&c, prepared, &[], true) {
            Ok(f) => f,
            Err(e) => {
                let problem = self.problem(row, None, "store", Severity::Error, e.to_string());
                return Outcome::Rejected(vec![problem]);
            }
        };
        let sure = found.sure().copied();
        let matches: Vec<RowMatch> = found
            .matches()
            .map(|m| RowMatch {
                id: m.id(),
                line: match m.of {
                    RowOf::Batch { index, .. } => Some(index as u64),
                    RowOf::Book(_) => None,
                },
                probability: m.probability,
                action: m.action,
            })
            .collect();
        let policy = self.options.on_duplicate;
        let skip = match policy {
            OnDuplicate::Report => sure.is_some(),
            OnDuplicate::Skip => !matches.is_empty(),
            OnDuplicate::Merge | OnDuplicate::Allow => false,
        };
        let what = matches.first().map(describe).unwrap_or_default();
        if skip {
            let message = format!(
                "{} {what}: not imported (--on-duplicate allow imports it, merge merges it)",
                if sure.is_some() {
                    "a sure duplicate of"
                } else {
                    "a possible duplicate of"
                }
            );
            self.duplicate_rows.push(RowDuplicate {
                line: row.line,
                outcome: WriteStatus::Skipped,
                candidates: matches,
            });
            return Outcome::Duplicate(self.problem(
                row,
                None,
                "duplicate",
                Severity::Warning,
                message,
            ));
        }
        if let (OnDuplicate::Merge, Some(target)) = (policy, sure) {
            let into = target.id();
            match self.merged(into, c) {
                Ok((merged, before)) => {
                    self.report.merged += 1;
                    self.duplicate_rows.push(RowDuplicate {
                        line: row.line,
                        outcome: WriteStatus::Merged,
                        candidates: matches,
                    });
                    let message = format!("a sure duplicate of {what}: merged into it");
                    let problem =
                        self.problem(row, None, "duplicate.merged", Severity::Warning, message);
                    self.note(problem);
                    let expected = merged.version;
                    return Outcome::Written(
                        Write::Put {
                            customer: merged,
                            expected,
                        },
                        before,
                    );
                }
                Err(message) => {
                    let problem =
                        self.problem(row, None, "duplicate.merge", Severity::Error, message);
                    return Outcome::Rejected(vec![problem]);
                }
            }
        }
        if !matches.is_empty() {
            let message = format!("a possible duplicate of {what}: imported");
            let problem = self.problem(row, None, "duplicate.possible", Severity::Warning, message);
            self.note(problem);
            self.duplicate_rows.push(RowDuplicate {
                line: row.line,
                outcome: WriteStatus::Added,
                candidates: matches,
            });
        }
        if let Some(check) = &mut self.check {
            check.admit(&found, row.line as usize, c.id);
        }
        Outcome::Created(c, found.keys.stored)
    }

    /// A row merged into the dossier it duplicates (in the book, or written
    /// by this import), and the earlier version to keep for revert; or why not.
    pub(super) fn merged(
        &mut self,
        into: CustomerId,
        record: Customer,
    ) -> Result<(Customer, Option<Write>), String> {
        let now = self.book.now();
        let (base, before) = match self.written.get(&into) {
            Some(c) => (c.clone(), None),
            None => match self.snapshot.customer(into) {
                Ok(Some(c)) => {
                    let before = journal::before_write(self.import_id, &c)
                        .map_err(|e| format!("cannot keep the earlier version: {e}"))?;
                    (c, Some(before))
                }
                Ok(None) => return Err(format!("customer {into} is gone")),
                Err(e) => return Err(e.to_string()),
            },
        };
        let version = base.version;
        let mut merged = kehu_dedupe::merge(&[base, record], &self.options.survivorship)
            .map_err(|e| e.to_string())?;
        let report = self.book.rules.check(&mut merged, now);
        if !report.is_ok() {
            return Err(format!("the merged dossier breaks the rules: {report}"));
        }
        merged.updated_at = now;
        merged.version = version;
        self.touched.insert(into);
        let mut kept = merged.clone();
        kept.version = version + 1;
        self.written.insert(into, kept);
        Ok((merged, before))
    }

    /// Lists a warning of a written row, while the list has room.
    pub(super) fn note(&mut self, problem: RowProblem) {
        self.report.warnings += 1;
        if self.listed_warnings < LISTED_WARNINGS {
            self.listed_warnings += 1;
            self.problems.push(problem);
        }
    }
}

/// A candidate as a report names it: a dossier of the book, or a line of the file.
fn describe(m: &RowMatch) -> String {
    match m.line {
        Some(line) => format!("line {line} (probability {:.3})", m.probability),
        None => format!("customer {} (probability {:.3})", m.id, m.probability),
    }
}
