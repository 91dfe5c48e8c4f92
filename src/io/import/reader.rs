//! The reading side of an import: the blocks the first stage built are
//! taken row by row — natural keys (`rows`), the duplicate check (`decide`)
//! — and their writes handed to the writer in chunks.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, SyncSender};

use kehu_dedupe::{Key, Prepared};
use kehu_model::{Customer, CustomerId, RecordId};
use kehu_rules::Severity;
use kehu_store::{Snapshot, Write};
use kehu_table::{Columns, Row, TextEncoding};

use super::prepare::{Block, Built};
use super::rejects::RejectsFile;
use super::{Counts, Pending, CHUNK_ROWS};
use crate::ahead::Ahead;
use crate::io::journal::{id_u128, instant, JournalBatch};
use crate::io::{ImportKind, ImportOptions, NaturalKey, RowDuplicate, RowProblem};
use crate::write::Check;
use crate::{Book, Error, OnDuplicate};

/// A new book's model is learned from the first rows of its first import,
/// this many (a uniform sample of a shuffled file; fewer when the file is).
pub(super) const LEARN_FROM: usize = 50_000;

/// The reading side of an import.
pub(super) struct RowReader<'b> {
    pub book: &'b Book,
    pub options: &'b ImportOptions,
    pub snapshot: Box<dyn Snapshot + 'b>,
    /// The input's columns (a JSON Lines file names more as it goes).
    pub columns: Columns,
    pub encoding: TextEncoding,
    /// How far the input has been read, in bytes.
    pub position: u64,
    pub rejects: Option<RejectsFile>,
    pub report: Counts,
    pub problems: Vec<RowProblem>,
    /// Every row the duplicate check matched, with its candidates.
    pub duplicate_rows: Vec<RowDuplicate>,
    pub listed_warnings: usize,
    /// Natural key values already in the file, with the line that had them first.
    pub seen: HashMap<(NaturalKey, String), u64>,
    /// Existing dossiers an earlier row of the file already matched.
    pub touched: HashSet<CustomerId>,
    /// The customers that related rows named, resolved once.
    pub customers: HashMap<String, Result<CustomerId, (&'static str, String)>>,
    pub empty_book: bool,
    pub import_id: RecordId,
    /// The dossiers a block's rows may update, read ahead.
    pub ahead: Ahead,
    /// A word from the writer as each of its transactions holds the book:
    /// the runs of keys its transactions before wrote.
    pub turns: std::sync::mpsc::Receiver<super::writer::Turn>,
    /// Records sent for the writer's current transaction.
    pub in_transaction: usize,
    /// Whether the reader looked at the book again since it read ahead.
    pub looked_again: bool,
    /// The duplicate check (none for related records and `on_duplicate = allow`).
    pub check: Option<Check<'b>>,
    /// Rows held back while the model they are checked with is learned.
    pub learning: Option<Vec<(Row, Box<Customer>, Prepared)>>,
    /// Whether the model was learned from this import's rows.
    pub learned: bool,
    /// With `on_duplicate = merge`: the dossiers this import wrote, as it left them.
    pub written: HashMap<CustomerId, Customer>,
}

/// What the reading thread hands back.
pub(super) type ReadResult = (
    Option<RejectsFile>,
    Counts,
    Vec<RowProblem>,
    Vec<RowDuplicate>,
    Option<crate::duplicates::model::BookModel>,
    Result<(), Error>,
);

/// What became of one row (one per row, moved at once: not worth a box).
#[allow(clippy::large_enum_variant)]
pub(super) enum Outcome {
    /// A write (and the one to make before it: the dossier's earlier version
    /// kept for revert), an update or a related record.
    Written(Write, Option<Write>),
    /// A new dossier, checked, with the keys it is found by.
    Created(Customer, Vec<Key>),
    /// A new dossier, still to be checked for duplicates, and its normal forms.
    Checking(Box<Customer>, Prepared),
    Rejected(Vec<RowProblem>),
    /// Left alone; `true` when an earlier row had the same natural key.
    Skipped(RowProblem, bool),
    /// Not written: the duplicate check found it in the book or the file.
    Duplicate(RowProblem),
    Unchanged,
}

/// The writes and journal of the chunk being filled.
pub(super) struct Chunk {
    writes: Vec<Write>,
    journal: JournalBatch,
    keys: Vec<(Key, CustomerId)>,
    rows: usize,
}

impl Chunk {
    fn new(size: usize) -> Self {
        Self {
            writes: Vec::with_capacity(size.min(1 << 16)),
            journal: JournalBatch::default(),
            keys: Vec::new(),
            rows: 0,
        }
    }

    fn records(&self) -> usize {
        self.journal.created.len() + self.journal.updated.len() + self.journal.related.len()
    }
}

impl RowReader<'_> {
    /// Takes the blocks the first stage reads and builds, row by row, and
    /// hands their writes to the writer in chunks.
    pub fn run(
        &mut self,
        blocks: Receiver<Result<Block, Error>>,
        tx: &SyncSender<Pending>,
    ) -> Result<(), Error> {
        let mut chunk = Chunk::new(self.options.batch_size.clamp(1, CHUNK_ROWS));
        for block in blocks {
            let block = block?;
            if let Some(columns) = block.columns {
                self.columns = columns;
            }
            self.position = block.position;
            let mut rows = block.rows.into_iter();
            self.read_ahead(rows.as_slice())?;
            while let Some((row, built)) = rows.next() {
                self.report.rows += 1;
                let outcome = self.handle(&row, built);
                if let Outcome::Checking(c, prepared) = outcome {
                    if let Some(held) = &mut self.learning {
                        held.push((row, c, prepared));
                        if held.len() >= LEARN_FROM && !self.learn(&mut chunk, tx)? {
                            return Ok(());
                        }
                        continue;
                    }
                    let outcome = self.decide(&row, *c, prepared);
                    self.settle(&row, outcome, &mut chunk)?;
                } else {
                    self.settle(&row, outcome, &mut chunk)?;
                }
                chunk.rows += 1;
                if !self.send_if_full(&mut chunk, tx)? {
                    return Ok(());
                }
                if std::mem::take(&mut self.looked_again) {
                    // What was read ahead is of the book before: again, for the rest.
                    self.read_ahead(rows.as_slice())?;
                }
            }
        }
        if self.learning.is_some() && !self.learn(&mut chunk, tx)? {
            return Ok(());
        }
        let _ = tx.send(self.pending(chunk, true));
        Ok(())
    }

    /// Hands a full chunk to the writer; false when the writer stopped (on
    /// an error it reports).
    fn send_if_full(&mut self, chunk: &mut Chunk, tx: &SyncSender<Pending>) -> Result<bool, Error> {
        let batch_size = self.options.batch_size.clamp(1, CHUNK_ROWS);
        if chunk.records() >= batch_size || chunk.rows >= batch_size * 4 {
            let full = std::mem::replace(chunk, Chunk::new(batch_size));
            self.in_transaction += full.records();
            let ends = self.in_transaction >= self.options.batch_size.max(1);
            let mut pending = self.pending(full, false);
            pending.ends_transaction = ends;
            if tx.send(pending).is_err() {
                return Ok(false);
            }
            if ends {
                self.in_transaction = 0;
                self.next_transaction()?;
            }
        }
        Ok(true)
    }

    /// Waits until the import's next transaction holds the book, then
    /// looks at the book as it is now: what other writers committed since
    /// the transaction before (a shared book) is checked against too.
    fn next_transaction(&mut self) -> Result<(), Error> {
        let Ok(turn) = self.turns.recv() else {
            // The writer stopped (it reports why), or writes nothing (a dry run).
            return Ok(());
        };
        if turn.alone {
            // Only this import wrote since: the reader's view and check hold.
            return Ok(());
        }
        self.snapshot = self.book.store.snapshot()?;
        self.empty_book = self.snapshot.customer_count()? == 0;
        self.ahead.clear();
        if let Some(check) = &mut self.check {
            check.look_again(&turn.own_runs)?;
        }
        self.looked_again = true;
        Ok(())
    }

    fn pending(&self, chunk: Chunk, last: bool) -> Pending {
        Pending {
            writes: chunk.writes,
            journal: chunk.journal,
            keys: chunk.keys,
            counts: self.report,
            bytes: self.position,
            last,
            ends_transaction: last,
        }
    }

    /// Reads ahead what these rows will ask of the book: the dossiers their
    /// natural keys find (or the customers related rows name) and what
    /// their duplicate check reads.
    fn read_ahead(&mut self, rows: &[(Row, Option<Box<Built>>)]) -> Result<(), Error> {
        let built = || rows.iter().filter_map(|(_, b)| b.as_deref());
        if self.options.kind == ImportKind::Customers {
            self.read_ahead_existing(built().map(|b| &b.row))?;
        } else {
            self.read_ahead_named(rows.iter().map(|(row, _)| row))?;
        }
        if let Some(check) = &mut self.check {
            check
                .read_ahead(built().filter_map(|b| Some((&b.row.customer, b.dedupe.as_ref()?))))?;
        }
        Ok(())
    }

    /// Learns the model from the rows held back, then checks them with it;
    /// false when the writer stopped.
    fn learn(&mut self, chunk: &mut Chunk, tx: &SyncSender<Pending>) -> Result<bool, Error> {
        let Some(held) = self.learning.take() else {
            return Ok(true);
        };
        if let Some(check) = &mut self.check {
            let ds = kehu_dedupe::dossier::dataset(held.iter().map(|(_, c, _)| &**c));
            let settings = crate::duplicates::model::book_settings();
            let mut dd = kehu_dedupe::Deduper::new(ds, settings)?;
            check.set_model(dd.train()?.clone())?;
        }
        // Read ahead a block at a time, and again after the book was looked at again.
        let mut held = held.into_iter();
        let mut ahead = 0usize;
        loop {
            if ahead == 0 || std::mem::take(&mut self.looked_again) {
                let rest = held.as_slice();
                ahead = rest.len().min(super::prepare::BLOCK_ROWS);
                if let Some(check) = &mut self.check {
                    check.read_ahead(rest[..ahead].iter().map(|(_, c, p)| (&**c, p)))?;
                }
            }
            let Some((row, c, prepared)) = held.next() else {
                break;
            };
            ahead -= 1;
            let outcome = self.decide(&row, *c, prepared);
            self.settle(&row, outcome, chunk)?;
            chunk.rows += 1;
            if !self.send_if_full(chunk, tx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Counts a row's outcome and adds its writes to the chunk.
    fn settle(&mut self, row: &Row, outcome: Outcome, chunk: &mut Chunk) -> Result<(), Error> {
        match outcome {
            Outcome::Created(customer, keys) => {
                self.report.imported += 1;
                chunk.journal.created.push(id_u128(customer.id));
                chunk
                    .keys
                    .extend(keys.into_iter().map(|k| (k, customer.id)));
                if self.options.on_duplicate == OnDuplicate::Merge {
                    let mut kept = customer.clone();
                    kept.version = 1;
                    self.written.insert(customer.id, kept);
                }
                chunk.writes.push(Write::Put {
                    customer,
                    expected: 0,
                });
            }
            Outcome::Written(write, before) => {
                match &write {
                    Write::Put { customer, expected } => {
                        self.report.updated += 1;
                        chunk
                            .journal
                            .updated
                            .push((id_u128(customer.id), expected + 1));
                    }
                    Write::Relate(r) => {
                        self.report.imported += 1;
                        let (secs, nanos) = instant(r.at());
                        chunk.journal.related.push((
                            id_u128(r.customer_id()),
                            secs,
                            nanos,
                            u128::from_be_bytes(r.id().to_bytes()),
                        ));
                    }
                    _ => {}
                }
                chunk.writes.extend(before);
                let keys = match &write {
                    Write::Put { customer, .. } => Some(crate::duplicates::keys::keys_write(
                        customer.id,
                        &kehu_dedupe::Keyer::shared().stored_keys(customer),
                    )),
                    _ => None,
                };
                chunk.writes.push(write);
                chunk.writes.extend(keys);
            }
            Outcome::Checking(c, prepared) => {
                let outcome = self.decide(row, *c, prepared);
                return self.settle(row, outcome, chunk);
            }
            Outcome::Rejected(problems) => {
                self.report.rejected += 1;
                if let Some(rejects) = &mut self.rejects {
                    rejects.write(row, &problems, self.encoding)?;
                }
                self.problems.extend(problems);
            }
            Outcome::Skipped(problem, in_file) => {
                self.report.skipped += 1;
                if in_file {
                    self.report.in_file += 1;
                }
                self.problems.push(problem);
            }
            Outcome::Duplicate(problem) => {
                self.report.skipped += 1;
                self.report.duplicates += 1;
                self.problems.push(problem);
            }
            Outcome::Unchanged => {
                self.report.skipped += 1;
                self.report.unchanged += 1;
            }
        }
        Ok(())
    }

    /// The duplicate check of a new dossier, and what the options make of it.
    fn handle(&mut self, row: &Row, built: Option<Box<Built>>) -> Outcome {
        if let Some(issue) = &row.issue {
            let column = issue.column;
            return Outcome::Rejected(vec![self.problem(
                row,
                column,
                issue.code,
                Severity::Error,
                issue.message.clone(),
            )]);
        }
        match built {
            Some(built) => self.customer_row(row, *built),
            None => self.related_row(row),
        }
    }
}
