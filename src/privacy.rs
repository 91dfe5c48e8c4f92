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

impl Book {
    /// Opens (or creates) an encrypted book at `path` with the standard rules.
    ///
    /// Personal fields, related records, history and per-customer documents
    /// are sealed with XChaCha20-Poly1305 under a key of each customer's own,
    /// wrapped by the book key `key` gives; lookups go through blind indexes.
    /// A wrong key is [`Error::Key`] and nothing is written. A plain book
    /// cannot be opened this way, nor an encrypted one without its key.
    pub fn open_encrypted(path: impl AsRef<Path>, key: &dyn KeyProvider) -> Result<Self, Error> {
        Self::open_encrypted_with(
            path,
            key,
            Rules::standard(),
            kehu_redb::RedbOptions::default().cache_bytes,
        )
    }

    /// [`Book::open_encrypted`] with rules and redb's page cache size.
    pub fn open_encrypted_with(
        path: impl AsRef<Path>,
        key: &dyn KeyProvider,
        rules: Rules,
        cache_bytes: usize,
    ) -> Result<Self, Error> {
        let mut key_error = None;
        let opened =
            RedbStore::open_sealed(path, cache_bytes, &mut |header| match BookCodec::open(
                key, header,
            ) {
                Ok((codec, header)) => Ok((Arc::new(codec) as Arc<dyn FieldCodec>, header)),
                Err(e) => {
                    let message = e.to_string();
                    key_error = Some(e);
                    Err(kehu_store::Error::Codec(message))
                }
            });
        match (opened, key_error) {
            (Ok(store), _) => Ok(Self::with_store(Box::new(store), rules)),
            (Err(_), Some(e)) => Err(Error::Key(e.to_string())),
            (Err(kehu_store::Error::Codec(m)), None) => Err(Error::Key(m)),
            (Err(e), None) => Err(e.into()),
        }
    }

    /// Whether the book file at `path` is encrypted (without opening it for use).
    pub fn is_encrypted(path: impl AsRef<Path>) -> Result<bool, Error> {
        Ok(RedbStore::is_sealed(path)?)
    }

    /// Erases a customer: the dossier, related records, history, duplicate
    /// keys, index entries and the documents it owns go, and in an encrypted
    /// book its data key is destroyed, so copies of its sealed values (old
    /// pages of the file, copies of the file) no longer open. The erasure
    /// ledger keeps the id, the time and the actor — nothing personal.
    pub fn forget(&self, id: CustomerId) -> Result<Erasure, Error> {
        let batch = self.batch();
        let entry = Erasure {
            id,
            at: batch.at,
            actor: batch.actor.clone(),
        };
        let value = serde_json::to_vec(&entry).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.store
            .commit(batch.with(Write::Forget { id }).with(Write::PutDoc {
                space: ERASED.into(),
                key: id.to_bytes().to_vec(),
                owner: None,
                value,
            }))?;
        self.touched([id])?;
        Ok(entry)
    }

    /// The erasure ledger, in id order.
    pub fn erasures(&self) -> Result<Vec<Erasure>, Error> {
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
