//! Where a book keeps its dossiers' blocking keys, so that the check at entry
//! reads a handful of entries instead of scanning the book.
//!
//! Two places, by how the dossiers came in:
//! - a write of a few dossiers (add, update, merge, unmerge, revert) keeps
//!   each one's keys in the store's keyed index ([`Write::SetKeys`]), replaced
//!   exactly when the dossier changes;
//! - a bulk write (an import, a large `add_many`) writes its keys as one
//!   *run*: sorted `(key, id)` pairs, bucketed by the key's high bits into
//!   documents of a few KiB, written in order in the same transaction — a
//!   sequential write instead of millions of random index inserts. A lookup
//!   reads one bucket per run. Runs are merged when there are many.
//!
//! An entry of a dossier since removed or changed is harmless (a candidate
//! that scores low or is gone); erasure removes the customer's entries from
//! every run (privacy does not wait for a merge).

use kehu_dedupe::Key;
use kehu_model::CustomerId;
use kehu_store::{IndexKey, Snapshot, Write};
use serde::{Deserialize, Serialize};

use crate::{Book, Error};

/// The store index holding each dossier's blocking keys.
pub const DEDUPE_INDEX: &str = "dedupe";
/// The document space of the dedupe bookkeeping (model, key format, run list).
pub(crate) const SPACE: &str = "dedupe";
/// The document space of the runs' buckets (key: run id, bucket, both big-endian).
pub(crate) const RUNS: &str = "dedupe.run";
const RUN_LIST: &[u8] = b"runs";
const FORMAT: &[u8] = b"key-format";
/// The key format this build writes: 32-bit keys (1: 9-byte keys, before runs).
const KEY_FORMAT: u32 = 2;
/// Set by books of an earlier version when dossiers were written without keys.
const STALE: &[u8] = b"keys-stale";
/// A bucket holds about this many entries.
const BUCKET_ENTRIES: u64 = 256;
/// More runs than this are merged after a bulk write.
const MAX_RUNS: usize = 8;
/// One entry: the key (big-endian) and the customer id.
const ENTRY: usize = 4 + 16;

/// A keyed-index key as stored.
pub(crate) fn index_key(key: Key) -> IndexKey {
    IndexKey::Keyed {
        index: DEDUPE_INDEX.into(),
        key: key.to_be_bytes().to_vec(),
    }
}

/// The write that keeps one dossier's keys in the keyed index.
pub(crate) fn keys_write(id: CustomerId, keys: &[Key]) -> Write {
    Write::SetKeys {
        id,
        index: DEDUPE_INDEX.into(),
        keys: keys.iter().map(|k| k.to_be_bytes().to_vec()).collect(),
    }
}

/// The write that records the key format, in the transaction of the first keys.
pub(crate) fn format_write() -> Write {
    Write::PutDoc {
        space: SPACE.into(),
        key: FORMAT.to_vec(),
        owner: None,
        value: KEY_FORMAT.to_be_bytes().to_vec(),
    }
}

/// Whether the book's keys are of this build's format (a book with no
/// dossiers has none to be wrong).
pub(crate) fn keys_current(snap: &dyn Snapshot) -> Result<bool, Error> {
    let format = snap.doc(SPACE, FORMAT)?;
    let ok = format.is_some_and(|d| d.value == KEY_FORMAT.to_be_bytes())
        && snap.doc(SPACE, STALE)?.is_none();
    Ok(ok || snap.customer_count()? == 0)
}

/// One run as the run list describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunInfo {
    /// Its number.
    pub id: u32,
    /// How many high bits of a key name its bucket.
    pub bits: u8,
    /// How many entries it holds.
    pub entries: u64,
}

/// The runs of a book.
#[derive(Debug, Clone, Default)]
pub(crate) struct Runs {
    pub list: Vec<RunInfo>,
}

impl Runs {
    /// The book's runs, as of a snapshot.
    pub fn load(snap: &dyn Snapshot) -> Result<Self, Error> {
        let list = match snap.doc(SPACE, RUN_LIST)? {
            Some(d) => serde_json::from_slice(&d.value)
                .map_err(|e| Error::Corrupt(format!("dedupe runs: {e}")))?,
            None => Vec::new(),
        };
        Ok(Self { list })
    }

    /// The keys of the bucket documents (in space [`RUNS`]) that may hold
    /// `key`: one per run.
    pub fn buckets(&self, key: Key) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.list
            .iter()
            .map(move |run| bucket_key(run.id, bucket_of(key, run.bits)))
    }

    /// The customers a bucket's entries (sorted by key) hold under `key`.
    pub fn entries_under(entries: &[u8], key: Key, out: &mut Vec<CustomerId>) {
        let (entries, _) = entries.as_chunks::<ENTRY>();
        let key_of = |e: &[u8; ENTRY]| u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
        let first = entries.partition_point(|e| key_of(e) < key);
        for e in entries[first..].iter().take_while(|e| key_of(e) == key) {
            let mut id = [0u8; 16];
            id.copy_from_slice(&e[4..]);
            out.push(CustomerId::from_bytes(id));
        }
    }

    /// The writes that add a run of these entries (any order; sorted here)
    /// and list it; returns them and the new run list.
    pub fn add(&self, mut entries: Vec<(Key, CustomerId)>) -> Result<(Vec<Write>, Runs), Error> {
        if entries.is_empty() {
            return Ok((Vec::new(), self.clone()));
        }
        entries.sort_unstable();
        entries.dedup();
        let id = self.list.iter().map(|r| r.id + 1).max().unwrap_or(1);
        let bits = bits_for(entries.len() as u64);
        let mut writes = bucket_writes(id, bits, &entries);
        let mut list = self.list.clone();
        list.push(RunInfo {
            id,
            bits,
            entries: entries.len() as u64,
        });
        writes.push(list_write(&list)?);
        Ok((writes, Runs { list }))
    }

    /// Whether there are so many runs that they should be merged.
    pub fn crowded(&self) -> bool {
        self.list.len() > MAX_RUNS
    }
}

fn bits_for(entries: u64) -> u8 {
    let buckets = entries.div_ceil(BUCKET_ENTRIES).max(1);
    (64 - (buckets - 1).leading_zeros()).min(20) as u8
}

fn bucket_of(key: Key, bits: u8) -> u32 {
    if bits == 0 {
        0
    } else {
        key >> (32 - u32::from(bits))
    }
}

fn bucket_key(run: u32, bucket: u32) -> Vec<u8> {
    let mut k = run.to_be_bytes().to_vec();
    k.extend_from_slice(&bucket.to_be_bytes());
    k
}

/// The bucket documents of sorted entries.
fn bucket_writes(run: u32, bits: u8, entries: &[(Key, CustomerId)]) -> Vec<Write> {
    let mut writes = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let bucket = bucket_of(entries[start].0, bits);
        let end = start + entries[start..].partition_point(|(k, _)| bucket_of(*k, bits) == bucket);
        let mut value = Vec::with_capacity((end - start) * ENTRY);
        for (k, id) in &entries[start..end] {
            value.extend_from_slice(&k.to_be_bytes());
            value.extend_from_slice(&id.to_bytes());
        }
        writes.push(Write::PutDoc {
            space: RUNS.into(),
            key: bucket_key(run, bucket),
            owner: None,
            value,
        });
        start = end;
    }
    writes
}

fn list_write(list: &[RunInfo]) -> Result<Write, Error> {
    Ok(Write::PutDoc {
        space: SPACE.into(),
        key: RUN_LIST.to_vec(),
        owner: None,
        value: serde_json::to_vec(list).map_err(|e| Error::Corrupt(e.to_string()))?,
    })
}

/// Every entry of the runs listed, read back.
fn read_entries(snap: &dyn Snapshot, runs: &[RunInfo]) -> Result<Vec<(Key, CustomerId)>, Error> {
    let mut out = Vec::new();
    for run in runs {
        for doc in snap.docs(RUNS, &run.id.to_be_bytes())? {
            for e in doc.value.chunks_exact(ENTRY) {
                let key = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
                let mut id = [0u8; 16];
                id.copy_from_slice(&e[4..]);
                out.push((key, CustomerId::from_bytes(id)));
            }
        }
    }
    Ok(out)
}

/// The writes that delete a run's buckets.
fn delete_run(snap: &dyn Snapshot, run: &RunInfo) -> Result<Vec<Write>, Error> {
    Ok(snap
        .docs(RUNS, &run.id.to_be_bytes())?
        .into_iter()
        .map(|d| Write::DeleteDoc {
            space: RUNS.into(),
            key: d.key,
        })
        .collect())
}

impl Book {
    /// Merges the book's runs when there are many: the small ones into one,
    /// or all of them when the small ones outweigh the largest.
    pub(crate) fn compact_runs(&self) -> Result<(), Error> {
        self.commit_late(self.batch(), false, &mut || self.run_compaction())
    }

    /// The writes that merge the runs, as the book is now.
    fn run_compaction(&self) -> Result<Vec<Write>, Error> {
        let snap = self.store.snapshot()?;
        let runs = Runs::load(&*snap)?;
        if !runs.crowded() {
            return Ok(Vec::new());
        }
        let mut list = runs.list.clone();
        list.sort_by_key(|r| std::cmp::Reverse(r.entries));
        let largest = list[0].entries;
        let rest: u64 = list[1..].iter().map(|r| r.entries).sum();
        let merged: Vec<RunInfo> = if rest <= largest {
            list[1..].to_vec()
        } else {
            list.clone()
        };
        let entries = read_entries(&*snap, &merged)?;
        let mut writes = Vec::new();
        for r in &merged {
            writes.extend(delete_run(&*snap, r)?);
        }
        let kept = Runs {
            list: runs
                .list
                .iter()
                .filter(|r| !merged.contains(r))
                .copied()
                .collect(),
        };
        drop(snap);
        let (added, _) = kept.add(entries)?;
        writes.extend(added);
        Ok(writes)
    }

    /// The writes that remove a customer from every run (erasure).
    pub(crate) fn scrub_runs(&self, id: CustomerId) -> Result<Vec<Write>, Error> {
        let snap = self.store.snapshot()?;
        let runs = Runs::load(&*snap)?;
        let mut writes = Vec::new();
        let id_bytes = id.to_bytes();
        for run in &runs.list {
            for doc in snap.docs(RUNS, &run.id.to_be_bytes())? {
                let holds = doc.value.chunks_exact(ENTRY).any(|e| e[4..] == id_bytes);
                if !holds {
                    continue;
                }
                let value: Vec<u8> = doc
                    .value
                    .chunks_exact(ENTRY)
                    .filter(|e| e[4..] != id_bytes)
                    .flatten()
                    .copied()
                    .collect();
                writes.push(if value.is_empty() {
                    Write::DeleteDoc {
                        space: RUNS.into(),
                        key: doc.key,
                    }
                } else {
                    Write::PutDoc {
                        space: RUNS.into(),
                        key: doc.key,
                        owner: None,
                        value,
                    }
                });
            }
        }
        Ok(writes)
    }

    /// Writes every dossier's blocking keys anew, as one run (the runs and
    /// the key format before replaced): for a book written by an earlier
    /// version, which kept other keys. The first duplicate check in such a
    /// book runs it. Returns how many dossiers it keyed.
    pub fn index_duplicates(&self) -> Result<u64, Error> {
        use rayon::prelude::*;
        let keyer = kehu_dedupe::Keyer::new();
        let snap = self.store.snapshot()?;
        let old = Runs::load(&*snap)?;
        let mut entries = Vec::new();
        let mut n = 0u64;
        let mut customers = snap.customers()?;
        loop {
            let chunk: Vec<kehu_model::Customer> =
                customers.by_ref().take(65_536).collect::<Result<_, _>>()?;
            if chunk.is_empty() {
                break;
            }
            n += chunk.len() as u64;
            let keyed: Vec<(Key, CustomerId)> = chunk
                .par_iter()
                .flat_map_iter(|c| keyer.stored_keys(c).into_iter().map(move |k| (k, c.id)))
                .collect();
            entries.extend(keyed);
        }
        let mut writes = Vec::new();
        for r in &old.list {
            writes.extend(delete_run(&*snap, r)?);
        }
        drop(customers);
        drop(snap);
        let (added, _) = Runs::default().add(entries)?;
        writes.extend(added);
        writes.push(format_write());
        writes.push(Write::DeleteDoc {
            space: SPACE.into(),
            key: STALE.to_vec(),
        });
        if !writes
            .iter()
            .any(|w| matches!(w, Write::PutDoc { key, .. } if key == RUN_LIST))
        {
            writes.push(list_write(&[])?);
        }
        let mut batch = self.batch();
        batch.writes = writes;
        self.store.commit(batch)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_a_few_hundred_entries() {
        assert_eq!(bits_for(1), 0);
        assert_eq!(bits_for(256), 0);
        assert_eq!(bits_for(257), 1);
        assert_eq!(bits_for(6_000_000), 15);
        for bits in [0u8, 1, 7, 15] {
            assert!(bucket_of(u32::MAX, bits) < 1 << bits.max(1));
        }
    }
}
