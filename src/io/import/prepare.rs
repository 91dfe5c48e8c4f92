//! The first stage of an import: rows are read and, a block at a time on
//! every core, built into dossiers, normalised, checked against the rules
//! and prepared for the duplicate check. What depends on the rows before a
//! row (natural keys, the duplicate check itself) is the reader's, row by row.

use std::sync::mpsc::SyncSender;

use kehu_dedupe::{Keyer, Prepared};
use kehu_model::Timestamp;
use kehu_rules::Report;
use kehu_table::cells::{customer_from_cells, RowCustomer};
use kehu_table::{Columns, Row, Source};
use rayon::prelude::*;

use crate::io::{ImportKind, ImportOptions};
use crate::{Book, Error};

/// Rows read and built together (enough to keep every core busy, few enough
/// that the reader is never kept waiting long).
pub(super) const BLOCK_ROWS: usize = 1024;

/// A row built into a dossier.
pub(super) struct Built {
    /// The dossier, normalised, and what the row said about it.
    pub row: RowCustomer,
    /// The rules' report on it.
    pub report: Report,
    /// When it was built (its created and updated time unless the file names them).
    pub now: Timestamp,
    /// Its normal forms and keys, when it is a valid dossier.
    pub dedupe: Option<Prepared>,
}

/// Rows read and built, as the reader takes them.
pub(super) struct Block {
    /// Each row, built when it holds a dossier that could be read.
    pub rows: Vec<(Row, Option<Box<Built>>)>,
    /// The input's position after them, in bytes.
    pub position: u64,
    /// The columns, when they changed (a JSON Lines file names new ones as it goes).
    pub columns: Option<Columns>,
}

/// Reads the source in blocks and hands them on until it ends, fails (the
/// error is the last thing sent) or the reader stops; hands the source back.
pub(super) fn read_blocks(
    mut source: Source,
    book: &Book,
    options: &ImportOptions,
    tx: SyncSender<Result<Block, Error>>,
) -> Source {
    let mut known = usize::MAX;
    loop {
        let mut rows = Vec::with_capacity(BLOCK_ROWS);
        let mut failed = None;
        while rows.len() < BLOCK_ROWS {
            match source.next_row() {
                Ok(Some(row)) => rows.push(row),
                Ok(None) => break,
                Err(e) => {
                    failed = Some(Error::Input {
                        file: "input".into(),
                        message: format!("reading stopped at byte {}: {e}", source.position()),
                    });
                    break;
                }
            }
        }
        let end = rows.len() < BLOCK_ROWS;
        let columns = &source.columns;
        let rows: Vec<(Row, Option<Box<Built>>)> = if options.kind == ImportKind::Customers {
            rows.into_par_iter()
                .map(|row| {
                    let built = build(&row, columns, book);
                    (row, built)
                })
                .collect()
        } else {
            rows.into_iter().map(|row| (row, None)).collect()
        };
        let changed = std::mem::replace(&mut known, columns.len()) != columns.len();
        let block = Block {
            rows,
            position: source.position(),
            columns: changed.then(|| columns.clone()),
        };
        if tx.send(Ok(block)).is_err() {
            break;
        }
        if let Some(e) = failed {
            let _ = tx.send(Err(e));
            break;
        }
        if end {
            break;
        }
    }
    source
}

/// A customer row built, normalised and checked; none when it could not be read.
fn build(row: &Row, columns: &Columns, book: &Book) -> Option<Box<Built>> {
    if row.issue.is_some() {
        return None;
    }
    let now = book.now();
    let mut built = match &row.dossier {
        Some(c) => RowCustomer {
            customer: (**c).clone(),
            has_kehu_id: true,
            present: Vec::new(),
            sources: Vec::new(),
            problems: Vec::new(),
        },
        None => customer_from_cells(
            &row.cells,
            columns,
            &|name| book.rules.custom_field(name).map(|f| f.kind),
            now,
        ),
    };
    // Normalises the row; its report decides only for a new dossier (an
    // update is checked as merged with the dossier it changes).
    let report = book.rules.check(&mut built.customer, now);
    let dedupe = (built.problems.is_empty() && report.is_ok())
        .then(|| Keyer::shared().prepare(&built.customer));
    Some(Box::new(Built {
        row: built,
        report,
        now,
        dedupe,
    }))
}
