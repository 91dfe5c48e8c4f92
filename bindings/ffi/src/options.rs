//! Options records of the FFI and how they become the core's options. The
//! conversions only convert; the core checks every option (`check`) when a
//! call uses it.

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
    /// A rule set file (TOML, or JSON by its extension), saved in the book;
    /// none: the rules saved in the book, else the standard ones.
    #[uniffi(default)]
    pub rules_path: Option<String>,
    /// A rule set as TOML text (or JSON, starting with `{`), saved in the book.
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
    fn core(&self) -> Result<kehu::OpenOptions> {
        let rules = match (&self.rules_path, &self.rules_text) {
            (Some(_), Some(_)) => {
                return Err(KehuError::argument(
                    "rules_text",
                    "give rules_path or rules_text, not both",
                ))
            }
            (Some(p), None) => Some(kehu::Book::load_rules(p)?.rule_set().clone()),
            (None, Some(t)) => Some(rule_set(t)?),
            (None, None) => None,
        };
        Ok(kehu::OpenOptions {
            rules,
            cache_mb: Some(self.cache_mb),
            actor: self.actor.clone(),
            ..kehu::OpenOptions::default()
        })
    }

    pub(crate) fn key_provider(&self) -> Result<Option<Box<dyn kehu::KeyProvider>>> {
        self.key.clone().map(Key::provider).transpose()
    }

    pub(crate) fn open(&self, path: &str) -> Result<kehu::Book> {
        if path.trim().is_empty() {
            return Err(KehuError::argument("path", "the path is empty"));
        }
        let key = self.key_provider()?;
        Ok(kehu::Book::open_with(path, &self.core()?, key.as_deref())?)
    }

    pub(crate) fn in_memory(&self) -> Result<kehu::Book> {
        if self.key.is_some() {
            return Err(KehuError::argument(
                "key",
                "a book in memory is not encrypted",
            ));
        }
        Ok(kehu::Book::in_memory_with(&self.core()?)?)
    }
}

/// RFM cut-offs: four ascending values each; empty: quintiles of the book.
#[derive(Debug, Clone, PartialEq, Default, uniffi::Record)]
pub struct RfmCutoffs {
    /// Days since the last purchase at which the recency score drops from 5 to 4, 4 to 3, …
    #[uniffi(default)]
    pub recency_days: Vec<f64>,
    /// Purchase counts at which the frequency score rises from 1 to 2, …
    #[uniffi(default)]
    pub frequency: Vec<f64>,
    /// Totals at which the monetary score rises from 1 to 2, …
    #[uniffi(default)]
    pub monetary: Vec<f64>,
}

/// Value tiers: shares of the buyers by total spent, or fixed totals.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TierCutoffs {
    /// The share of buyers in the high tier.
    #[uniffi(default = 0.2)]
    pub high_share: f64,
    /// The share in the medium tier after them.
    #[uniffi(default = 0.3)]
    pub medium_share: f64,
    /// A fixed total from which a buyer is high (with `medium_total`; instead of the shares).
    #[uniffi(default)]
    pub high_total: Option<f64>,
    /// A fixed total from which a buyer is medium.
    #[uniffi(default)]
    pub medium_total: Option<f64>,
}

/// Lifecycle stages by days since a purchase.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LifecycleCutoffs {
    /// A first purchase within this many days: new.
    #[uniffi(default = 30)]
    pub new_days: i64,
    /// A purchase within this many days: active.
    #[uniffi(default = 90)]
    pub active_days: i64,
    /// No purchase for this many days: churned (at risk between).
    #[uniffi(default = 180)]
    pub churned_days: i64,
}

/// Options of classification and the report.
#[derive(Debug, Clone, PartialEq, Default, uniffi::Record)]
pub struct ClassifyOptions {
    /// The currency whose purchases count (none: the book's most common one).
    #[uniffi(default)]
    pub currency: Option<String>,
    /// Classify as of this instant (none: now).
    #[uniffi(default)]
    pub as_of: Option<SystemTime>,
    /// RFM cut-offs (none: quintiles).
    #[uniffi(default)]
    pub rfm: Option<RfmCutoffs>,
    /// Value tiers (none: 20 % high, 30 % medium).
    #[uniffi(default)]
    pub tiers: Option<TierCutoffs>,
    /// Lifecycle stages (none: 30, 90 and 180 days).
    #[uniffi(default)]
    pub lifecycle: Option<LifecycleCutoffs>,
}

/// Four cut-offs from a list: none when empty.
fn four(path: &str, values: Vec<f64>) -> Result<Option<[f64; 4]>> {
    if values.is_empty() {
        return Ok(None);
    }
    values
        .try_into()
        .map(Some)
        .map_err(|_| KehuError::argument(path, "four values, or none"))
}

impl ClassifyOptions {
    pub(crate) fn core(self) -> Result<kehu::ClassifyOptions> {
        use kehu::segment::classify::{LifecycleConfig, RfmConfig, TierConfig};
        let mut o = kehu::ClassifyOptions {
            currency: self
                .currency
                .map(|c| currency("currency", &c))
                .transpose()?,
            as_of: self.as_of.map(instant),
            ..Default::default()
        };
        if let Some(r) = self.rfm {
            o.rfm = RfmConfig {
                recency_days: four("rfm.recency_days", r.recency_days)?,
                frequency: four("rfm.frequency", r.frequency)?,
                monetary: four("rfm.monetary", r.monetary)?,
            };
        }
        if let Some(t) = self.tiers {
            o.tiers = TierConfig {
                high_share: t.high_share,
                medium_share: t.medium_share,
                thresholds: match (t.high_total, t.medium_total) {
                    (Some(h), Some(m)) => Some((h, m)),
                    (None, None) => None,
                    _ => {
                        return Err(KehuError::argument(
                            "tiers",
                            "give high_total and medium_total together",
                        ))
                    }
                },
            };
        }
        if let Some(l) = self.lifecycle {
            o.lifecycle = LifecycleConfig {
                new_days: l.new_days,
                active_days: l.active_days,
                churned_days: l.churned_days,
            };
        }
        Ok(o)
    }
}

/// A currency code, as the core reads it.
pub(crate) fn currency(path: &str, code: &str) -> Result<kehu::Currency> {
    code.parse()
        .map_err(|e: kehu::model::Error| KehuError::argument(path, e.to_string()))
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
    /// The resident ID (居民身份证号).
    ResidentId,
    /// The unified social credit code (统一社会信用代码).
    CreditCode,
}

/// What becomes of a record that duplicates a dossier in the book or an
/// earlier record of the same write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OnDuplicate {
    /// A sure match is not written and is listed; a possible one is written and listed.
    Report,
    /// Neither is written; both are listed.
    Skip,
    /// A sure match is merged into the dossier it matches; a possible one is written.
    Merge,
    /// Everything is written, nothing checked.
    Allow,
}

impl From<OnDuplicate> for kehu::OnDuplicate {
    fn from(o: OnDuplicate) -> Self {
        match o {
            OnDuplicate::Report => Self::Report,
            OnDuplicate::Skip => Self::Skip,
            OnDuplicate::Merge => Self::Merge,
            OnDuplicate::Allow => Self::Allow,
        }
    }
}

/// How a batch of new dossiers is written.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct BatchOptions {
    /// Records that duplicate a dossier or an earlier record (none: report).
    #[uniffi(default)]
    pub on_duplicate: Option<OnDuplicate>,
    /// The survivorship policy of `OnDuplicate.MERGE`, as TOML or JSON text.
    #[uniffi(default)]
    pub survivorship: Option<String>,
}

impl BatchOptions {
    pub(crate) fn core(self) -> Result<kehu::BatchOptions> {
        Ok(kehu::BatchOptions {
            on_duplicate: self.on_duplicate.map(Into::into).unwrap_or_default(),
            survivorship: crate::book::survivorship(self.survivorship)?,
        })
    }
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
    /// Rows that duplicate a dossier or an earlier row (none: report).
    #[uniffi(default)]
    pub on_duplicate: Option<OnDuplicate>,
    /// The survivorship policy of `OnDuplicate.MERGE`, as TOML or JSON text.
    #[uniffi(default)]
    pub survivorship: Option<String>,
    /// Check and report only.
    #[uniffi(default)]
    pub dry_run: bool,
    /// Write rejected rows to this file.
    #[uniffi(default)]
    pub rejects_path: Option<String>,
}

impl From<NaturalKey> for kehu::io::NaturalKey {
    fn from(k: NaturalKey) -> Self {
        match k {
            NaturalKey::Id => Self::Id,
            NaturalKey::ExternalId => Self::ExternalId,
            NaturalKey::Email => Self::Email,
            NaturalKey::Phone => Self::Phone,
            NaturalKey::ResidentId => Self::ResidentId,
            NaturalKey::CreditCode => Self::CreditCode,
        }
    }
}

impl ImportOptions {
    pub(crate) fn core(self) -> Result<kehu::io::ImportOptions> {
        use kehu::io::{ImportKind as K, Mode as M};
        let defaults = kehu::io::ImportOptions::default();
        let mut mapping: Vec<(String, String)> = self.mapping.into_iter().collect();
        mapping.sort();
        Ok(kehu::io::ImportOptions {
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
            keys: if self.keys.is_empty() {
                defaults.keys
            } else {
                self.keys.into_iter().map(Into::into).collect()
            },
            mapping,
            currency: self
                .currency
                .map(|c| currency("currency", &c))
                .transpose()?,
            on_duplicate: self.on_duplicate.map(Into::into).unwrap_or_default(),
            survivorship: crate::book::survivorship(self.survivorship)?,
            dry_run: self.dry_run,
            rejects: self.rejects_path.map(Into::into),
            ..defaults
        })
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
    /// Only the members of this segment (a condition).
    #[uniffi(default)]
    pub segment: Option<String>,
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
        let ids = self
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| customer_id(&format!("ids[{i}]"), id))
            .collect::<Result<Vec<_>>>()?;
        let consent = match (self.consent_purpose, self.consent_channel) {
            (Some(purpose), channel) => Some(kehu::io::ConsentFilter { purpose, channel }),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(KehuError::argument(
                    "consent_channel",
                    "a consent channel needs a consent purpose",
                ))
            }
        };
        Ok(kehu::io::ExportOptions {
            format: match self.format.unwrap_or(ExportFormat::Csv) {
                ExportFormat::Csv => kehu::io::Format::Csv,
                ExportFormat::Jsonl => kehu::io::Format::Jsonl,
            },
            filter: kehu::io::ExportFilter {
                tag: self.tag,
                segment: self.segment,
                stale: self
                    .stale_days
                    .map(|d| chrono::TimeDelta::days(i64::from(d))),
                ids,
                consent,
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

impl Principal {
    /// The core's principal; the user may not be empty.
    pub(crate) fn core(self) -> Result<kehu::Principal> {
        if self.user.trim().is_empty() {
            return Err(KehuError::argument("principal.user", "the user is empty"));
        }
        Ok(kehu::Principal {
            user: self.user,
            roles: self.roles,
            team: self.team,
        })
    }
}

impl From<kehu::Principal> for Principal {
    fn from(p: kehu::Principal) -> Self {
        Self {
            user: p.user,
            roles: p.roles,
            team: p.team,
        }
    }
}

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Operation {
    /// Read dossiers.
    Read,
    /// Add dossiers.
    Add,
    /// Change dossiers.
    Update,
    /// Remove dossiers.
    Delete,
    /// Merge dossiers.
    Merge,
    /// Import files.
    Import,
    /// Export dossiers.
    Export,
    /// Erase customers.
    Forget,
}

impl From<Operation> for kehu::Operation {
    fn from(o: Operation) -> Self {
        match o {
            Operation::Read => Self::Read,
            Operation::Add => Self::Add,
            Operation::Update => Self::Update,
            Operation::Delete => Self::Delete,
            Operation::Merge => Self::Merge,
            Operation::Import => Self::Import,
            Operation::Export => Self::Export,
            Operation::Forget => Self::Forget,
        }
    }
}
