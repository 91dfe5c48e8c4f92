//! Options records of the FFI and how they become the core's options.

use std::time::SystemTime;

use crate::dossier::{customer_id, instant};
use crate::error::{KehuError, Result};

/// The key of an encrypted book.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Key {
    /// A passphrase (stretched with Argon2id).
    Passphrase {
        /// The passphrase.
        passphrase: String,
    },
    /// A key file (see `createKeyFile`).
    KeyFile {
        /// The key file's path.
        path: String,
    },
    /// 32 raw key bytes, from the platform's key store (Android Keystore, iOS Keychain).
    Raw {
        /// The key's 32 bytes.
        bytes: Vec<u8>,
    },
}

impl Key {
    pub(crate) fn provider(self) -> Result<Box<dyn kehu::KeyProvider>> {
        let key_error =
            |e: &dyn std::fmt::Display| KehuError::from(kehu::Error::Key(e.to_string()));
        Ok(match self {
            Key::Passphrase { passphrase } => {
                Box::new(kehu::Passphrase::new(passphrase).map_err(|e| key_error(&e))?)
            }
            Key::KeyFile { path } => Box::new(kehu::KeyFile::new(path)),
            Key::Raw { bytes } => {
                let bytes: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| KehuError::argument("key.bytes", "a raw key has 32 bytes"))?;
                Box::new(kehu::RawKey::new(bytes))
            }
        })
    }
}

/// A rule set from TOML text, or JSON when it starts with `{`.
pub(crate) fn rule_set(text: &str) -> Result<kehu::RuleSet> {
    if text.trim_start().starts_with('{') {
        kehu::RuleSet::from_json(text)
    } else {
        kehu::RuleSet::from_toml(text)
    }
    .map_err(|e| KehuError::from(kehu::Error::from(e)))
}

/// How to open a book.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenOptions {
    /// A rule set file (TOML, or JSON by its extension); none: the standard rules.
    #[uniffi(default)]
    pub rules_path: Option<String>,
    /// A rule set as TOML text (or JSON, starting with `{`).
    #[uniffi(default)]
    pub rules_text: Option<String>,
    /// The page cache in MiB: a few on a phone (the default, 8), hundreds on a server.
    #[uniffi(default = 8)]
    pub cache_mb: u32,
    /// Who writes, as recorded in history and the audit trail.
    #[uniffi(default)]
    pub actor: Option<String>,
    /// The key of an encrypted book (a new book is created encrypted with it).
    #[uniffi(default)]
    pub key: Option<Key>,
}

impl OpenOptions {
    fn rules(&self) -> Result<kehu::Rules> {
        match (&self.rules_path, &self.rules_text) {
            (Some(_), Some(_)) => Err(KehuError::argument(
                "rules_text",
                "give rules_path or rules_text, not both",
            )),
            (Some(p), None) => Ok(kehu::Book::load_rules(p)?),
            (None, Some(t)) => Ok(kehu::Rules::new(rule_set(t)?).map_err(kehu::Error::from)?),
            (None, None) => Ok(kehu::Rules::standard()),
        }
    }

    pub(crate) fn key_provider(&self) -> Result<Option<Box<dyn kehu::KeyProvider>>> {
        self.key.clone().map(Key::provider).transpose()
    }

    fn actor(&self, book: kehu::Book) -> kehu::Book {
        match &self.actor {
            Some(a) if !a.trim().is_empty() => book.as_actor(a.trim()),
            _ => book,
        }
    }

    pub(crate) fn open(&self, path: &str) -> Result<kehu::Book> {
        if path.trim().is_empty() {
            return Err(KehuError::argument("path", "the path is empty"));
        }
        if self.cache_mb == 0 || self.cache_mb > 64 * 1024 {
            return Err(KehuError::argument(
                "cache_mb",
                "the cache is 1 to 65536 MiB",
            ));
        }
        let rules = self.rules()?;
        let cache = self.cache_mb as usize * 1024 * 1024;
        let book = match self.key_provider()? {
            Some(key) => kehu::Book::open_encrypted_with(path, &*key, rules, cache)?,
            None => {
                let options = kehu::RedbOptions {
                    cache_bytes: cache,
                    ..Default::default()
                };
                kehu::Book::open_with_options(path, rules, options)?
            }
        };
        Ok(self.actor(book))
    }

    pub(crate) fn in_memory(&self) -> Result<kehu::Book> {
        if self.key.is_some() {
            return Err(KehuError::argument(
                "key",
                "a book in memory is not encrypted",
            ));
        }
        let book = kehu::Book::in_memory().with_rules(self.rules()?);
        Ok(self.actor(book))
    }
}

/// Options of classification and the report.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct ClassifyOptions {
    /// The currency whose purchases count (none: the book's most common one).
    #[uniffi(default)]
    pub currency: Option<String>,
    /// Classify as of this instant (none: now).
    #[uniffi(default)]
    pub as_of: Option<SystemTime>,
}

impl ClassifyOptions {
    pub(crate) fn core(self) -> Result<kehu::ClassifyOptions> {
        let currency = self
            .currency
            .map(|c| {
                c.parse()
                    .map_err(|_| KehuError::argument("currency", "not an ISO 4217 code (CNY, EUR)"))
            })
            .transpose()?;
        Ok(kehu::ClassifyOptions {
            currency,
            as_of: self.as_of.map(instant),
            ..Default::default()
        })
    }
}

/// What an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ImportKind {
    /// Dossiers.
    Customers,
    /// Purchases.
    Purchases,
    /// Interactions.
    Interactions,
    /// Feedback.
    Feedback,
    /// Consent events.
    Consents,
}

/// How an import treats rows of dossiers already in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ImportMode {
    /// New dossiers only; a known one is skipped.
    Create,
    /// Known dossiers only.
    Update,
    /// Both.
    Upsert,
}

/// How an import recognises a dossier already in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NaturalKey {
    /// kehu's id.
    Id,
    /// The external id.
    ExternalId,
    /// The e-mail address.
    Email,
    /// The phone number.
    Phone,
}

/// How to import a file.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportOptions {
    /// What the rows are (none: customers).
    #[uniffi(default)]
    pub kind: Option<ImportKind>,
    /// Create, update or upsert (none: create).
    #[uniffi(default)]
    pub mode: Option<ImportMode>,
    /// How to recognise known dossiers (empty: id, then external id).
    #[uniffi(default)]
    pub keys: Vec<NaturalKey>,
    /// Column → field (`"手机" → "phones"`); unnamed columns are guessed from their headers.
    #[uniffi(default)]
    pub mapping: std::collections::HashMap<String, String>,
    /// The currency of amounts without one.
    #[uniffi(default)]
    pub currency: Option<String>,
    /// Check and report only.
    #[uniffi(default)]
    pub dry_run: bool,
    /// Write rejected rows to this file.
    #[uniffi(default)]
    pub rejects_path: Option<String>,
}

fn key_core(k: NaturalKey) -> kehu::io::NaturalKey {
    match k {
        NaturalKey::Id => kehu::io::NaturalKey::Id,
        NaturalKey::ExternalId => kehu::io::NaturalKey::ExternalId,
        NaturalKey::Email => kehu::io::NaturalKey::Email,
        NaturalKey::Phone => kehu::io::NaturalKey::Phone,
    }
}

impl ImportOptions {
    pub(crate) fn core(self) -> Result<kehu::io::ImportOptions> {
        use kehu::io::{ImportKind as K, Mode as M};
        let mut o = kehu::io::ImportOptions {
            kind: match self.kind.unwrap_or(ImportKind::Customers) {
                ImportKind::Customers => K::Customers,
                ImportKind::Purchases => K::Purchases,
                ImportKind::Interactions => K::Interactions,
                ImportKind::Feedback => K::Feedback,
                ImportKind::Consents => K::Consents,
            },
            mode: match self.mode.unwrap_or(ImportMode::Create) {
                ImportMode::Create => M::Create,
                ImportMode::Update => M::Update,
                ImportMode::Upsert => M::Upsert,
            },
            dry_run: self.dry_run,
            rejects: self.rejects_path.map(Into::into),
            ..Default::default()
        };
        if !self.keys.is_empty() {
            o.keys = self.keys.into_iter().map(key_core).collect();
        }
        let mut mapping: Vec<(String, String)> = self.mapping.into_iter().collect();
        mapping.sort();
        o.mapping = mapping;
        o.currency = self
            .currency
            .map(|c| {
                c.parse()
                    .map_err(|_| KehuError::argument("currency", "not an ISO 4217 code (CNY, EUR)"))
            })
            .transpose()?;
        Ok(o)
    }
}

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ExportFormat {
    /// One row per dossier, the columns import maps back.
    Csv,
    /// Each dossier whole, one JSON object per line.
    Jsonl,
}

/// What to export and how. Empty filters: every dossier.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExportOptions {
    /// CSV or JSON Lines (none: CSV).
    #[uniffi(default)]
    pub format: Option<ExportFormat>,
    /// Only dossiers with this tag.
    #[uniffi(default)]
    pub tag: Option<String>,
    /// Only dossiers not confirmed for this many days.
    #[uniffi(default)]
    pub stale_days: Option<u32>,
    /// Only these dossiers.
    #[uniffi(default)]
    pub ids: Vec<String>,
    /// Only customers whose consent to this purpose holds now.
    #[uniffi(default)]
    pub consent_purpose: Option<String>,
    /// … on this channel.
    #[uniffi(default)]
    pub consent_channel: Option<String>,
}

impl ExportOptions {
    pub(crate) fn core(self) -> Result<kehu::io::ExportOptions> {
        if self.consent_channel.is_some() && self.consent_purpose.is_none() {
            return Err(KehuError::argument(
                "consent_channel",
                "a consent channel needs a consent purpose",
            ));
        }
        let ids = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| customer_id(&format!("ids[{i}]"), id))
            .collect::<Result<Vec<_>>>()?;
        Ok(kehu::io::ExportOptions {
            format: match self.format.unwrap_or(ExportFormat::Csv) {
                ExportFormat::Csv => kehu::io::Format::Csv,
                ExportFormat::Jsonl => kehu::io::Format::Jsonl,
            },
            filter: kehu::io::ExportFilter {
                tag: self.tag,
                stale: self
                    .stale_days
                    .map(|d| chrono::TimeDelta::days(i64::from(d))),
                ids,
                consent: self.consent_purpose.map(|p| (p, self.consent_channel)),
            },
        })
    }
}

/// Who is asking, for role-based access.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Principal {
    /// The user (matched against a dossier's `owner`).
    pub user: String,
    /// Their roles, as the policy names them.
    pub roles: Vec<String>,
    /// Their team, if the policy does not say it.
    #[uniffi(default)]
    pub team: Option<String>,
}
