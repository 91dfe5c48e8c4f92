//! Related records (purchases, interactions, feedback, consents, notes) across the boundary.

use std::time::SystemTime;

use crate::dossier::{currency, customer_id, instant, record_id, system_time};
use crate::error::{KehuError, Result};

/// An amount of money: integer minor units (fen, cents) and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Money {
    /// The amount in minor units: 129900 is ¥1,299.00 in CNY.
    pub minor: i64,
    /// ISO 4217 code: "CNY", "EUR", "JPY".
    pub currency: String,
}

/// A purchase.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Purchase {
    /// The record's id (empty: a new one).
    #[uniffi(default)]
    pub id: String,
    /// The customer who bought.
    pub customer_id: String,
    /// When.
    pub at: SystemTime,
    /// How much.
    pub amount: Money,
    /// Where: "web", "shop", "app".
    #[uniffi(default)]
    pub channel: Option<String>,
    /// How many items.
    #[uniffi(default = 1)]
    pub items: u32,
    /// An order or receipt number.
    #[uniffi(default)]
    pub reference: Option<String>,
}

/// How an interaction took place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InteractionChannel {
    /// A call.
    Phone,
    /// An e-mail.
    Email,
    /// A chat or messenger.
    Chat,
    /// A visit in person.
    Visit,
    /// Social media.
    Social,
    /// Anything else.
    Other,
}

/// Who started an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Direction {
    /// The customer.
    Inbound,
    /// The business.
    Outbound,
}

/// A contact with the customer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Interaction {
    /// The record's id (empty: a new one).
    #[uniffi(default)]
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// When.
    pub at: SystemTime,
    /// How.
    pub channel: InteractionChannel,
    /// Who started it.
    pub direction: Direction,
    /// What it was about.
    pub summary: String,
    /// How it ended.
    #[uniffi(default)]
    pub outcome: Option<String>,
}

/// What a piece of feedback is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FeedbackKind {
    /// A complaint (投诉).
    Complaint,
    /// A suggestion.
    Suggestion,
    /// Praise.
    Praise,
    /// A survey answer.
    Survey,
}

/// The scale of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ScoreScale {
    /// Satisfaction, 1 to 5.
    Csat,
    /// Net promoter, 0 to 10.
    Nps,
}

/// A score on a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Score {
    /// The scale.
    pub scale: ScoreScale,
    /// The value on it.
    pub value: u8,
}

/// Whether feedback still needs handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FeedbackStatus {
    /// Not handled yet.
    Open,
    /// Handled.
    Resolved,
}

/// Feedback, a complaint, a survey answer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Feedback {
    /// The record's id (empty: a new one).
    #[uniffi(default)]
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// When.
    pub at: SystemTime,
    /// What it is.
    pub kind: FeedbackKind,
    /// A score, if one was given.
    #[uniffi(default)]
    pub score: Option<Score>,
    /// What the customer said.
    pub comment: String,
    /// Open or resolved.
    pub status: FeedbackStatus,
    /// When it was resolved.
    #[uniffi(default)]
    pub resolved_at: Option<SystemTime>,
}

/// Whether a consent event grants or withdraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConsentStatus {
    /// Consent given.
    Granted,
    /// Consent taken back.
    Withdrawn,
}

/// A consent event: the latest one per purpose and channel decides.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Consent {
    /// The record's id (empty: a new one).
    #[uniffi(default)]
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// When it was given or withdrawn.
    pub at: SystemTime,
    /// What for: "marketing", "profiling".
    pub purpose: String,
    /// On which channel ("sms", "email"); none: every channel.
    #[uniffi(default)]
    pub channel: Option<String>,
    /// Granted or withdrawn.
    pub status: ConsentStatus,
    /// Where the proof lies (a form id, a recording).
    #[uniffi(default)]
    pub evidence: Option<String>,
    /// When a grant lapses.
    #[uniffi(default)]
    pub expires_at: Option<SystemTime>,
    /// Separate consent in PIPL's sense (asked apart from other terms).
    #[uniffi(default)]
    pub separate: bool,
}

/// A free note.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Note {
    /// The record's id (empty: a new one).
    #[uniffi(default)]
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// When.
    pub at: SystemTime,
    /// Who wrote it.
    #[uniffi(default)]
    pub author: Option<String>,
    /// The text.
    pub text: String,
}

/// Any related record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RelatedRecord {
    /// A purchase.
    Purchase {
        /// The record.
        record: Purchase,
    },
    /// An interaction.
    Interaction {
        /// The record.
        record: Interaction,
    },
    /// Feedback.
    Feedback {
        /// The record.
        record: Feedback,
    },
    /// A consent event.
    Consent {
        /// The record.
        record: Consent,
    },
    /// A note.
    Note {
        /// The record.
        record: Note,
    },
}

fn new_or(path: &str, id: &str) -> Result<kehu::RecordId> {
    if id.trim().is_empty() {
        Ok(kehu::RecordId::new())
    } else {
        record_id(path, id)
    }
}

/// Money coming in; `path` names the currency's field.
pub(crate) fn money_in(path: &str, m: Money) -> Result<kehu::Money> {
    Ok(kehu::Money::new(m.minor, currency(path, &m.currency)?))
}

pub(crate) fn money_out(m: kehu::Money) -> Money {
    Money {
        minor: m.minor,
        currency: m.currency.to_string(),
    }
}

macro_rules! mirror_enum {
    ($ffi:ident <=> $core:path { $($v:ident),* }) => {
        impl From<$ffi> for $core {
            fn from(v: $ffi) -> Self {
                match v { $($ffi::$v => Self::$v),* }
            }
        }
        impl From<$core> for $ffi {
            fn from(v: $core) -> Self {
                use $core as C;
                match v { $(C::$v => Self::$v),* }
            }
        }
    };
}

mirror_enum!(InteractionChannel <=> kehu::InteractionChannel { Phone, Email, Chat, Visit, Social, Other });
mirror_enum!(Direction <=> kehu::Direction { Inbound, Outbound });
mirror_enum!(FeedbackKind <=> kehu::FeedbackKind { Complaint, Suggestion, Praise, Survey });
mirror_enum!(ScoreScale <=> kehu::ScoreScale { Csat, Nps });
mirror_enum!(FeedbackStatus <=> kehu::FeedbackStatus { Open, Resolved });
mirror_enum!(ConsentStatus <=> kehu::ConsentStatus { Granted, Withdrawn });

impl TryFrom<RelatedRecord> for kehu::Related {
    type Error = KehuError;

    fn try_from(r: RelatedRecord) -> Result<Self> {
        Ok(match r {
            RelatedRecord::Purchase { record: p } => Self::Purchase(kehu::Purchase {
                id: new_or("record.id", &p.id)?,
                customer_id: customer_id("record.customer_id", &p.customer_id)?,
                at: instant(p.at),
                amount: money_in("record.amount.currency", p.amount)?,
                channel: p.channel,
                items: p.items,
                reference: p.reference,
            }),
            RelatedRecord::Interaction { record: i } => Self::Interaction(kehu::Interaction {
                id: new_or("record.id", &i.id)?,
                customer_id: customer_id("record.customer_id", &i.customer_id)?,
                at: instant(i.at),
                channel: i.channel.into(),
                direction: i.direction.into(),
                summary: i.summary,
                outcome: i.outcome,
            }),
            RelatedRecord::Feedback { record: f } => Self::Feedback(kehu::Feedback {
                id: new_or("record.id", &f.id)?,
                customer_id: customer_id("record.customer_id", &f.customer_id)?,
                at: instant(f.at),
                kind: f.kind.into(),
                score: f.score.map(|s| kehu::Score {
                    scale: s.scale.into(),
                    value: s.value,
                }),
                comment: f.comment,
                status: f.status.into(),
                resolved_at: f.resolved_at.map(instant),
            }),
            RelatedRecord::Consent { record: c } => Self::Consent(consent_in(c)?),
            RelatedRecord::Note { record: n } => Self::Note(kehu::Note {
                id: new_or("record.id", &n.id)?,
                customer_id: customer_id("record.customer_id", &n.customer_id)?,
                at: instant(n.at),
                author: n.author,
                text: n.text,
            }),
        })
    }
}

fn consent_in(c: Consent) -> Result<kehu::Consent> {
    Ok(kehu::Consent {
        id: new_or("record.id", &c.id)?,
        customer_id: customer_id("record.customer_id", &c.customer_id)?,
        at: instant(c.at),
        purpose: c.purpose,
        channel: c.channel,
        status: c.status.into(),
        evidence: c.evidence,
        expires_at: c.expires_at.map(instant),
        separate: c.separate,
    })
}

pub(crate) fn purchase_out(p: kehu::Purchase) -> Purchase {
    Purchase {
        id: p.id.to_string(),
        customer_id: p.customer_id.to_string(),
        at: system_time(p.at),
        amount: money_out(p.amount),
        channel: p.channel,
        items: p.items,
        reference: p.reference,
    }
}

pub(crate) fn interaction_out(i: kehu::Interaction) -> Interaction {
    Interaction {
        id: i.id.to_string(),
        customer_id: i.customer_id.to_string(),
        at: system_time(i.at),
        channel: i.channel.into(),
        direction: i.direction.into(),
        summary: i.summary,
        outcome: i.outcome,
    }
}

pub(crate) fn feedback_out(f: kehu::Feedback) -> Feedback {
    Feedback {
        id: f.id.to_string(),
        customer_id: f.customer_id.to_string(),
        at: system_time(f.at),
        kind: f.kind.into(),
        score: f.score.map(|s| Score {
            scale: s.scale.into(),
            value: s.value,
        }),
        comment: f.comment,
        status: f.status.into(),
        resolved_at: f.resolved_at.map(system_time),
    }
}

pub(crate) fn consent_out(c: kehu::Consent) -> Consent {
    Consent {
        id: c.id.to_string(),
        customer_id: c.customer_id.to_string(),
        at: system_time(c.at),
        purpose: c.purpose,
        channel: c.channel,
        status: c.status.into(),
        evidence: c.evidence,
        expires_at: c.expires_at.map(system_time),
        separate: c.separate,
    }
}

pub(crate) fn note_out(n: kehu::Note) -> Note {
    Note {
        id: n.id.to_string(),
        customer_id: n.customer_id.to_string(),
        at: system_time(n.at),
        author: n.author,
        text: n.text,
    }
}

impl From<kehu::Related> for RelatedRecord {
    fn from(r: kehu::Related) -> Self {
        match r {
            kehu::Related::Purchase(p) => Self::Purchase {
                record: purchase_out(p),
            },
            kehu::Related::Interaction(i) => Self::Interaction {
                record: interaction_out(i),
            },
            kehu::Related::Feedback(f) => Self::Feedback {
                record: feedback_out(f),
            },
            kehu::Related::Consent(c) => Self::Consent {
                record: consent_out(c),
            },
            kehu::Related::Note(n) => Self::Note {
                record: note_out(n),
            },
        }
    }
}
