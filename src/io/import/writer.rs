//! The writing side of an import: the reader's chunks streamed into
//! transactions, each ending with the import's summary and the run of
//! blocking keys of the dossiers it created.

use std::sync::mpsc::Receiver;

use kehu_dedupe::Key;
use kehu_model::{CustomerId, RecordId, Timestamp};
use kehu_store::{Batch, Write};

use super::Counts;
use crate::duplicates::keys::{self, Runs};
use crate::io::journal::{self, ImportStatus, ImportSummary, JournalBatch};
use crate::io::{ImportOptions, Progress};
use crate::{Book, Error};

/// One batch on its way from the reader to the writer.
pub(super) struct Pending {
    pub writes: Vec<Write>,
    pub journal: JournalBatch,
    /// The blocking keys of the dossiers the batch creates.
    pub keys: Vec<(Key, CustomerId)>,
    pub counts: Counts,
    pub bytes: u64,
    pub last: bool,
    /// Whether the transaction ends after this batch (the reader decides:
    /// it checks the next rows only once the next transaction holds the book).
    pub ends_transaction: bool,
}

/// What the writer tells the reader as a transaction of the import holds
/// the book.
pub(super) struct Turn {
    /// The runs of keys the import's transactions before wrote (the reader
    /// has those dossiers already).
    pub own_runs: Vec<u32>,
    /// Whether no one else committed since the import's transaction before.
    pub alone: bool,
}

impl Book {
    /// The writer's side: streams the reader's chunks into transactions
    /// (ending where the reader marks: every `batch_size` records), each
    /// chunk with its journal entry and each transaction ending with the
    /// import's summary (done, on the last one). `go` tells the reader, at
    /// each transaction's first pull, that it holds the book, and which runs
    /// of keys the import's transactions before wrote (the reader has those
    /// dossiers already).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn commit_batches(
        &self,
        rx: Receiver<Pending>,
        go: std::sync::mpsc::Sender<Turn>,
        import_id: RecordId,
        name: &str,
        options: &ImportOptions,
        actor: &str,
        started_at: Timestamp,
        bytes_total: Option<u64>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(), Error> {
        let report = |progress: &mut dyn FnMut(Progress), p: &Pending| {
            progress(Progress {
                rows: p.counts.rows,
                rows_total: p.last.then_some(p.counts.rows),
                bytes: p.bytes,
                bytes_total,
            })
        };
        if options.dry_run {
            // Nothing is written: the reader may look at the book at once.
            drop(go);
            for pending in rx {
                report(progress, &pending);
            }
            return Ok(());
        }
        let mut summary = ImportSummary {
            id: import_id,
            source: name.to_string(),
            kind: options.kind,
            mode: options.mode,
            actor: self.actor.clone(),
            started_at,
            updated_at: started_at,
            status: ImportStatus::Running,
            rows: 0,
            imported: 0,
            updated: 0,
            rejected: 0,
            skipped: 0,
            batches: 0,
        };
        let snap = self.store.snapshot()?;
        let mut format_recorded = snap.doc(keys::SPACE, b"key-format")?.is_some();
        drop(snap);
        let mut closed = false;
        let mut own_runs: Vec<u32> = Vec::new();
        // The store's commit count a transaction will see if no one else
        // commits after the one before.
        let mut expected: Option<u64> = None;
        while !closed {
            let mut run_entries: Vec<(Key, CustomerId)> = Vec::new();
            let mut keys_written = false;
            let mut end_after = false;
            let mut first_pull = true;
            let mut chunks = 0usize;
            let mut ended = false;
            let mut failure = None;
            let mut changed: Vec<u128> = Vec::new();
            let committed = summary.clone();
            let mut next = || -> Option<Batch> {
                if ended {
                    return None;
                }
                // The store holds the book now: the reader may look at it.
                if std::mem::take(&mut first_pull) {
                    let now = self.store.commit_count().ok().flatten();
                    let _ = go.send(Turn {
                        own_runs: own_runs.clone(),
                        alone: now.is_some() && now == expected,
                    });
                    expected = now.map(|n| n + 1);
                }
                let pending = if end_after || closed {
                    None
                } else {
                    match rx.recv() {
                        Ok(p) => Some(p),
                        Err(_) => {
                            closed = true;
                            None
                        }
                    }
                };
                let Some(pending) = pending else {
                    // The transaction ends with the summary as of its last chunk.
                    ended = true;
                    if chunks == 0 {
                        return None;
                    }
                    if closed && summary.status == ImportStatus::Running {
                        summary.status = ImportStatus::Failed; // the reader stopped early
                    }
                    // The created dossiers' blocking keys, as one run, added to
                    // the runs as they are now: the store holds its write lock
                    // while it pulls batches, so no other writer (another
                    // import into a shared book) adds one in between.
                    let mut batch = Batch::new(actor, self.now());
                    match self
                        .store
                        .snapshot()
                        .map_err(Error::from)
                        .and_then(|s| Runs::load(&*s))
                        .and_then(|now| now.add(std::mem::take(&mut run_entries)))
                    {
                        Ok((writes, runs)) => {
                            if !writes.is_empty() {
                                own_runs.extend(runs.list.last().map(|r| r.id));
                            }
                            batch.writes = writes;
                            keys_written = true;
                        }
                        Err(e) => {
                            failure = Some(e);
                            return None;
                        }
                    }
                    if !format_recorded {
                        batch.push(keys::format_write());
                    }
                    return match journal::summary_write(&summary) {
                        Ok(w) => Some(batch.with(w)),
                        Err(e) => {
                            failure = Some(e);
                            None
                        }
                    };
                };
                chunks += 1;
                end_after = pending.ends_transaction;
                let j = &pending.journal;
                changed.extend(
                    j.created
                        .iter()
                        .chain(j.updated.iter().map(|(c, _)| c))
                        .copied(),
                );
                changed.extend(j.related.iter().map(|(c, ..)| *c));
                let now = self.now();
                run_entries.extend(pending.keys);
                let mut batch = Batch::new(actor, now);
                batch.writes = pending.writes;
                if !pending.journal.is_empty() {
                    match journal::batch_write(import_id, summary.batches, &pending.journal) {
                        Ok(w) => batch.push(w),
                        Err(e) => {
                            failure = Some(e);
                            ended = true;
                            return None;
                        }
                    }
                }
                summary.batches += 1;
                summary.updated_at = now;
                pending.counts.apply(&mut summary);
                if pending.last {
                    summary.status = ImportStatus::Done;
                    closed = true;
                }
                report(
                    progress,
                    &Pending {
                        writes: Vec::new(),
                        journal: JournalBatch::default(),
                        keys: Vec::new(),
                        ..pending
                    },
                );
                Some(batch)
            };
            let outcome = self.store.commit_all(&mut std::iter::from_fn(&mut next));
            if let Some(e) = failure {
                return Err(e);
            }
            if outcome.is_ok() {
                if keys_written {
                    format_recorded = true;
                }
                self.touched(changed.into_iter().map(journal::customer_id))?;
            }
            if let Err(e) = outcome {
                // What earlier transactions committed stays, whole; say the import failed.
                let mut mark = committed;
                mark.status = ImportStatus::Failed;
                mark.updated_at = self.now();
                let _ = self
                    .store
                    .commit(Batch::new(actor, self.now()).with(journal::summary_write(&mark)?));
                return Err(e.into());
            }
        }
        Ok(())
    }
}
