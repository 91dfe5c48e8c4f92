//! The audit trail: an append-only log of every write (and of what the book
//! records beside writes: imports, merges, exports, erasures), each entry
//! chained to the one before by a blake3 hash, so that a changed, inserted,
//! removed or reordered entry is found. Entries name the actor, time,
//! operation, customer and the fields touched — never their values.

use kehu_model::{CustomerId, Timestamp};
use serde::{Deserialize, Serialize};

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the trail, from 1, without gaps.
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What: `create`, `update`, `delete`, `relate`, `unrelate`, `forget`, or
    /// an operation the book records (`import`, `merge`, `export`, …).
    pub op: String,
    /// The customer concerned, if one is.
    pub target: Option<CustomerId>,
    /// The field paths touched (`emails[0].address`), never their values.
    pub fields: Vec<String>,
    /// A note without personal data (counts, an import id, a file name).
    pub note: Option<String>,
    /// The hash of the entry before (zeros for the first).
    pub prev: [u8; 32],
    /// This entry's hash: blake3 of `prev` and the fields above.
    pub hash: [u8; 32],
}

/// What a writer asks to be recorded; the store numbers and chains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The operation.
    pub op: String,
    /// The customer concerned, if one is.
    pub target: Option<CustomerId>,
    /// The fields touched.
    pub fields: Vec<String>,
    /// A note without personal data.
    pub note: Option<String>,
}

impl AuditEntry {
    /// The hash an entry with these contents must carry.
    pub fn compute_hash(&self) -> [u8; 32] {
        let body = (
            self.seq,
            self.at.timestamp(),
            self.at.timestamp_subsec_nanos(),
            &self.actor,
            &self.op,
            self.target.map(|t| t.to_bytes()),
            &self.fields,
            &self.note,
        );
        let mut h = blake3::Hasher::new_derive_key("kehu 2026-11 audit trail");
        h.update(&self.prev);
        // postcard of plain values never fails; an empty body would still chain.
        h.update(&postcard::to_allocvec(&body).unwrap_or_default());
        *h.finalize().as_bytes()
    }

    /// The next entry after `head` (seq and hash of the last one; none at the start).
    pub fn next(head: Option<(u64, [u8; 32])>, at: Timestamp, actor: &str, e: AuditEvent) -> Self {
        let (seq, prev) = head.map_or((1, [0; 32]), |(s, h)| (s + 1, h));
        let mut entry = Self {
            seq,
            at,
            actor: actor.to_string(),
            op: e.op,
            target: e.target,
            fields: e.fields,
            note: e.note,
            prev,
            hash: [0; 32],
        };
        entry.hash = entry.compute_hash();
        entry
    }
}

/// Where the trail stopped checking out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProblem {
    /// The entry at fault (or the first one missing).
    pub seq: u64,
    /// What is wrong.
    pub message: String,
}

/// Checks a trail read in order against its recorded head: the first problem, if any.
pub fn verify_trail(
    entries: impl IntoIterator<Item = AuditEntry>,
    head: Option<(u64, [u8; 32])>,
) -> Option<AuditProblem> {
    let mut last: Option<(u64, [u8; 32])> = None;
    for e in entries {
        let (want_seq, want_prev) = last.map_or((1, [0; 32]), |(s, h)| (s + 1, h));
        if e.seq != want_seq {
            return Some(AuditProblem {
                seq: want_seq,
                message: if e.seq > want_seq {
                    format!("entries {want_seq}..{} are missing", e.seq - 1)
                } else {
                    format!("entry {} appears out of order", e.seq)
                },
            });
        }
        if e.prev != want_prev {
            return Some(AuditProblem {
                seq: e.seq,
                message: format!(
                    "entry {} does not follow the entry before it: one was inserted, removed or changed",
                    e.seq
                ),
            });
        }
        if e.compute_hash() != e.hash {
            return Some(AuditProblem {
                seq: e.seq,
                message: format!("entry {} was changed after it was written", e.seq),
            });
        }
        last = Some((e.seq, e.hash));
    }
    match (last, head) {
        (None, None) => None,
        (Some(l), Some(h)) if l == h => None,
        (Some((s, _)), Some((hs, _))) if hs > s => Some(AuditProblem {
            seq: s + 1,
            message: format!("entries {}..{hs} were removed from the end", s + 1),
        }),
        (None, Some((hs, _))) => Some(AuditProblem {
            seq: 1,
            message: format!("entries 1..{hs} were removed"),
        }),
        (Some((s, _)), _) => Some(AuditProblem {
            seq: s,
            message: format!("entry {s} does not match the trail's recorded end"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(n: u64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| (e.seq, e.hash));
            out.push(AuditEntry::next(
                head,
                Timestamp::from_timestamp(1_700_000_000 + i as i64, 0).unwrap(),
                "alice",
                AuditEvent {
                    op: "update".into(),
                    target: None,
                    fields: vec![format!("custom.f{i}")],
                    note: None,
                },
            ));
        }
        out
    }

    #[test]
    fn any_change_insertion_removal_or_reordering_is_found() {
        let t = trail(6);
        let head = t.last().map(|e| (e.seq, e.hash));
        assert_eq!(verify_trail(t.clone(), head), None);

        let mut changed = t.clone();
        changed[2].fields = vec!["name".into()];
        assert_eq!(verify_trail(changed, head).unwrap().seq, 3);

        let mut removed = t.clone();
        removed.remove(3);
        assert_eq!(verify_trail(removed, head).unwrap().seq, 4);

        let mut swapped = t.clone();
        swapped.swap(1, 2);
        assert!(verify_trail(swapped, head).is_some());

        let mut truncated = t.clone();
        truncated.truncate(4);
        let p = verify_trail(truncated, head).unwrap();
        assert_eq!(p.seq, 5);
        assert!(p.message.contains("removed from the end"));

        // A rewritten entry with a fresh hash breaks the link to the next one.
        let mut forged = t.clone();
        forged[2].actor = "mallory".into();
        forged[2].hash = forged[2].compute_hash();
        assert_eq!(verify_trail(forged, head).unwrap().seq, 4);
        assert!(verify_trail(Vec::new(), head).is_some());
        assert_eq!(verify_trail(Vec::new(), None), None);
    }
}
