//! Encrypted books and erasure: open a book sealed under a key, and forget a
//! customer so that nothing about them can be read again.

use std::path::Path;
use std::sync::Arc;

use kehu_crypt::{BookCodec, KeyProvider};
use kehu_model::{CustomerId, Timestamp};
use kehu_redb::RedbStore;
use kehu_rules::Rules;
use kehu_store::{FieldCodec, Write};
use serde::{Deserialize, Serialize};

use crate::{Book, Error};

/// The document space of the erasure ledger (key: the customer id).
const ERASED: &str = "erased";

/// An entry of the erasure ledger: who was erased, when, by whom. Ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// The customer erased.
    pub id: CustomerId,
    /// When.
    pub at: Timestamp,
    /// Who asked.
    pub actor: String,
}

/// Refuses an operation that works on book files only for a PostgreSQL URL.
fn files_only(path: &Path, what: &str) -> Result<(), Error> {
    if crate::is_book_url(path) {
        return Err(Error::Usage(format!(
            "{what} works on book files; a PostgreSQL book is backed up and restored by the \
             server's own tools, and its key cannot be rotated yet"
        )));
    }
    Ok(())
}

impl Book {
    /// Puts the encrypted book at `path` (closed) under a new key: every
    /// customer's data key and the book's secrets are re-wrapped under `new`
    /// in one transaction — an interruption leaves the book under `old`, and
    /// running it again finishes the job. Nothing else is re-encrypted.
    /// Returns how many customer keys were re-wrapped.
    pub fn rotate_key(
        path: impl AsRef<Path>,
        old: &dyn KeyProvider,
        new: &dyn KeyProvider,
    ) -> Result<u64, Error> {
        let path = path.as_ref();
        files_only(path, "key rotation")?;
        let header = RedbStore::seal_header(path)?
            .ok_or_else(|| Error::Key("the book is not encrypted".into()))?;
        let (old_codec, new_codec, header) =
            BookCodec::rekey(old, new, &header).map_err(|e| Error::Key(e.to_string()))?;
        let n = RedbStore::rewrap_keys(
            path,
            kehu_redb::RedbOptions::default().cache_bytes,
            &header,
            &mut |owner, wrapped| {
                use kehu_store::KeyRing;
                let key = old_codec.unwrap_key(owner, wrapped)?;
                new_codec.wrap_key(owner, &key)
            },
        )?;
        let book = Self::open_encrypted(path, new)?;
        book.record_audit(
            "rotate_key",
            None,
            Some(format!("{n} customer keys re-wrapped")),
        )?;
        Ok(n)
    }

    /// Whether the book file at `path` is encrypted (without opening it for use).
    pub fn is_encrypted(path: impl AsRef<Path>) -> Result<bool, Error> {
        let path = path.as_ref();
        match path.to_str() {
            Some(url) if crate::is_book_url(path) => Ok(kehu_postgres::PgStore::is_sealed(url)?),
            _ => Ok(RedbStore::is_sealed(path)?),
        }
    }

    /// Erases a customer: the dossier, related records, history, duplicate
    /// keys, index entries and the documents it owns go, and in an encrypted
    /// book its data key is destroyed, so copies of its sealed values (old
    /// pages of the file, copies of the file) no longer open. The erasure
    /// ledger keeps the id, the time and the actor — nothing personal.
    /// Erasure follows merges: the customers merged into this one (their
    /// dossiers before the merge, their history, their keys) are erased with
    /// it, each in the ledger; an id merged into another is refused, naming
    /// the survivor (its values and records live on there: forget the
    /// survivor, or unmerge first). The file's freed pages still hold old
    /// bytes until [`Book::compact`].
    pub fn forget(&self, id: CustomerId) -> Result<Erasure, Error> {
        self.reach_id(crate::Operation::Forget, id)?;
        if let Some(r) = self.merged_into(id)? {
            return Err(Error::Usage(format!(
                "customer {id} was merged into {} (merge {}): its values and records live on \
                 there; forget {} to erase the customer, or unmerge {} to forget {id} alone",
                r.survivor, r.id, r.survivor, r.id
            )));
        }
        self.erase(id)
    }

    /// [`Book::forget`] without the refusal of a merged-away id: a restore
    /// erases again whatever the ledger names.
    fn erase(&self, id: CustomerId) -> Result<Erasure, Error> {
        let batch = self.batch();
        let entry = Erasure {
            id,
            at: batch.at,
            actor: batch.actor.clone(),
        };
        let mut erased = vec![entry.clone()];
        erased.extend(self.merged_away(id)?.into_iter().map(|id| Erasure {
            id,
            ..entry.clone()
        }));
        let mut batch = batch;
        for e in &erased {
            let value = serde_json::to_vec(e).map_err(|e| Error::Corrupt(e.to_string()))?;
            batch = batch.with(Write::Forget { id: e.id }).with(Write::PutDoc {
                space: ERASED.into(),
                key: e.id.to_bytes().to_vec(),
                owner: None,
                value,
            });
        }
        let ids: Vec<CustomerId> = erased.iter().map(|e| e.id).collect();
        self.commit_late(batch, false, &mut || {
            let mut writes = Vec::new();
            for id in &ids {
                writes.extend(self.scrub_runs(*id)?);
            }
            writes.extend(self.scrub_receipts(&ids)?);
            Ok(writes)
        })?;
        if let Some(path) = &self.path {
            for e in &erased {
                append_ledger_file(path, e)?;
            }
        }
        Ok(entry)
    }

    /// Rewrites the book's file so that it holds only what is live: the freed
    /// pages where earlier versions of changed dossiers and forgotten
    /// customers (values, index entries, wrapped keys) stayed — the storage
    /// engine reuses pages but never wipes them — are gone from the file.
    /// Run it after [`Book::forget`] to make an erasure complete on disk; it
    /// also shrinks a file that imports and deletions left with free space.
    /// Writes and new reads wait while it runs; the book's owner alone may.
    pub fn compact(&self) -> Result<kehu_store::CompactSummary, Error> {
        self.owner_only("compaction")?;
        let summary = self.store.compact()?;
        self.record_audit(
            "compact",
            None,
            Some(format!(
                "{} entries; {} bytes before, {} after",
                summary.entries, summary.bytes_before, summary.bytes_after
            )),
        )?;
        Ok(summary)
    }

    /// Writes a backup of the book to `path`: a consistent snapshot of
    /// everything as stored (an encrypted book's values stay sealed), ending
    /// in a blake3 checksum keyed by the book key when it is encrypted. The
    /// book stays in use meanwhile.
    pub fn backup(&self, path: impl AsRef<Path>) -> Result<kehu_store::BackupSummary, Error> {
        self.owner_only("backups")?;
        let summary = self.store.backup(path.as_ref())?;
        self.record_audit("backup", None, Some(format!("{} entries", summary.entries)))?;
        Ok(summary)
    }

    /// Restores the backup at `backup` as the book at `target` (replacing
    /// it; close it first) and opens it with the standard rules. The whole
    /// backup is checked before anything is written: a damaged, truncated or
    /// changed file is an error and `target` is left as it was. Customers
    /// erased after the backup was taken — in the target's erasure ledger, or
    /// its ledger file beside it (`<book>.erasures`) — are erased again.
    /// `key`: the key of an encrypted book.
    pub fn restore(
        backup: impl AsRef<Path>,
        target: impl AsRef<Path>,
        key: Option<&dyn KeyProvider>,
    ) -> Result<Self, Error> {
        let (backup, target) = (backup.as_ref(), target.as_ref());
        files_only(target, "restoring a backup")?;
        let mut erased = read_ledger_file(target)?;
        if target.exists() {
            let live = match key {
                Some(k) => Self::open_encrypted(target, k),
                None => Self::open(target),
            };
            // A book too damaged to open is why one restores: its ledger file still counts.
            if let Ok(live) = live {
                erased.extend(live.erasures()?.into_iter().map(|e| e.id));
            }
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "book".into());
        let tmp = target.with_file_name(format!("{name}.restoring"));
        let _ = std::fs::remove_file(&tmp);
        let cache = kehu_redb::RedbOptions::default().cache_bytes;
        let mut key_error = None;
        let mut make = |header: Option<&[u8]>| match key {
            Some(k) => match BookCodec::open(k, header) {
                Ok((codec, header)) => Ok((Arc::new(codec) as Arc<dyn FieldCodec>, header)),
                Err(e) => {
                    let message = e.to_string();
                    key_error = Some(message.clone());
                    Err(kehu_store::Error::Codec(message))
                }
            },
            None => Err(kehu_store::Error::Codec(
                "the backup is of an encrypted book: restore it with its key".into(),
            )),
        };
        let restored = RedbStore::restore(backup, &tmp, cache, Some(&mut make));
        let store = match (restored, key_error) {
            (Ok(store), _) => store,
            (Err(_), Some(m)) => return Err(Error::Key(m)),
            (Err(e), None) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(match e {
                    kehu_store::Error::Codec(m) => Error::Key(m),
                    other => other.into(),
                });
            }
        };
        {
            let book = Self::with_store(Box::new(store), Rules::standard());
            let already: std::collections::BTreeSet<CustomerId> =
                book.erasures()?.into_iter().map(|e| e.id).collect();
            let again: Vec<CustomerId> = erased.difference(&already).copied().collect();
            for id in &again {
                book.erase(*id)?;
            }
            book.record_audit(
                "restore",
                None,
                Some(format!("{} erasures re-applied", again.len())),
            )?;
        }
        std::fs::rename(&tmp, target).map_err(|e| Error::Io {
            path: target.display().to_string(),
            source: e,
        })?;
        match key {
            Some(k) => Self::open_encrypted(target, k),
            None => Self::open(target),
        }
    }

    /// The erasure ledger, in id order.
    pub fn erasures(&self) -> Result<Vec<Erasure>, Error> {
        self.allow(crate::Operation::Read, None)?;
        self.store
            .snapshot()?
            .docs(ERASED, &[])?
            .into_iter()
            .map(|d| serde_json::from_slice(&d.value).map_err(|e| Error::Corrupt(e.to_string())))
            .collect()
    }
}

/// What checking the audit trail found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheck {
    /// Entries read and checked.
    pub entries: u64,
    /// The first problem: where the trail was changed, and how. None: intact.
    pub problem: Option<kehu_store::AuditProblem>,
}

impl AuditCheck {
    /// Whether the trail is intact.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

impl Book {
    /// The audit trail from entry `from` on (1: all): every write, import,
    /// merge, export and erasure — actor, time, operation, customer and the
    /// fields touched, never their values.
    pub fn audit_trail(&self, from: u64) -> Result<Vec<kehu_store::AuditEntry>, Error> {
        self.whole_book(crate::Operation::Read, "read the audit trail")?;
        Ok(self.store.snapshot()?.audit(from.max(1))?)
    }

    /// Checks the audit trail's hash chain and its recorded end: a changed,
    /// inserted, removed or reordered entry is found, and where.
    pub fn verify_audit(&self) -> Result<AuditCheck, Error> {
        let snap = self.store.snapshot()?;
        let head = snap.audit_head()?;
        match snap.audit(1) {
            Ok(entries) => {
                let n = entries.len() as u64;
                Ok(AuditCheck {
                    entries: n,
                    problem: kehu_store::verify_trail(entries, head),
                })
            }
            Err(e @ (kehu_store::Error::Corrupt(_) | kehu_store::Error::Codec(_))) => {
                Ok(AuditCheck {
                    entries: 0,
                    problem: Some(kehu_store::AuditProblem {
                        seq: 0,
                        message: format!("an entry does not read: {e}"),
                    }),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records an event that is not a write (an export, a denied request) in
    /// the audit trail. `note` must hold no personal data.
    pub fn record_audit(
        &self,
        op: &str,
        target: Option<CustomerId>,
        note: Option<String>,
    ) -> Result<(), Error> {
        self.store
            .commit(self.batch().with(Write::Audit(kehu_store::AuditEvent {
                op: op.to_string(),
                target,
                fields: Vec::new(),
                note,
            })))?;
        Ok(())
    }
}

/// The erasure ledger file beside a book: one customer id per line, with its time.
fn ledger_file(book: &Path) -> std::path::PathBuf {
    let mut name = book.as_os_str().to_owned();
    name.push(".erasures");
    std::path::PathBuf::from(name)
}

fn append_ledger_file(book: &Path, e: &Erasure) -> Result<(), Error> {
    use std::io::Write as _;
    let path = ledger_file(book);
    let io = |err: std::io::Error| Error::Io {
        path: path.display().to_string(),
        source: err,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    writeln!(f, "{} {}", e.id, e.at.to_rfc3339()).map_err(io)?;
    f.sync_all().map_err(io)
}

fn read_ledger_file(book: &Path) -> Result<std::collections::BTreeSet<CustomerId>, Error> {
    let path = ledger_file(book);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => {
            return Err(Error::Io {
                path: path.display().to_string(),
                source: e,
            })
        }
    };
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|id| {
            id.parse().map_err(|_| {
                Error::Corrupt(format!("{}: not a customer id: {id:?}", path.display()))
            })
        })
        .collect()
}

/// Everything a book holds about one customer (a subject access request).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectExport {
    /// When the export was made.
    pub generated_at: Timestamp,
    /// The dossier.
    pub customer: kehu_model::Customer,
    /// Purchases, interactions, feedback, consents and notes, in time order.
    pub related: Vec<kehu_model::Related>,
    /// The consent events alone, for the consent ledger.
    pub consents: Vec<kehu_model::Consent>,
    /// The change log: who changed which field, from what to what.
    pub history: Vec<kehu_store::Change>,
    /// The audit entries about this customer.
    pub audit: Vec<kehu_store::AuditEntry>,
    /// Merges this dossier took part in.
    pub merges: Vec<crate::MergeReceipt>,
}

impl Book {
    /// Everything the book holds about one customer, as one document (serialise
    /// it with serde_json). The export is recorded in the audit trail.
    pub fn subject_export(&self, id: CustomerId) -> Result<SubjectExport, Error> {
        self.reach(crate::Operation::Export, id)?;
        let customer = self.get(id)?;
        let related = self.related(id)?;
        let consents = related
            .iter()
            .filter_map(|r| match r {
                kehu_model::Related::Consent(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        let audit = self
            .store
            .snapshot()?
            .audit(1)?
            .into_iter()
            .filter(|e| e.target == Some(id))
            .collect();
        let merges = self
            .merges()?
            .into_iter()
            .filter(|m| m.survivor == id || m.before.iter().any(|c| c.id == id))
            .collect();
        let export = SubjectExport {
            generated_at: self.now(),
            customer,
            related,
            consents,
            history: self.history(id)?,
            audit,
            merges,
        };
        self.record_audit("subject_export", Some(id), None)?;
        Ok(export)
    }
}

impl Book {
    /// Whether the customer's consent to `purpose` (on `channel`, if named)
    /// holds now: the latest consent event about it grants it and has not
    /// lapsed. A withdrawal takes effect at once.
    pub fn has_consent(
        &self,
        id: CustomerId,
        purpose: &str,
        channel: Option<&str>,
    ) -> Result<bool, Error> {
        Ok(kehu_model::consent_holds(
            &self.consents(id)?,
            purpose,
            channel,
            self.now(),
        ))
    }
}
