use serde::{Deserialize, Serialize};

use crate::{CustomerId, Money, RecordId, Timestamp};

/// A purchase: what the customer paid, when, through which channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    /// The record's id (a new one when JSON leaves it out).
    #[serde(default = "RecordId::new")]
    pub id: RecordId,
    /// The buyer.
    pub customer_id: CustomerId,
    /// When the purchase was made.
    pub at: Timestamp,
    /// The amount paid (negative for a refund).
    pub amount: Money,
    /// Where: "web", "store", "app", "wechat".
    pub channel: Option<String>,
    /// How many items.
    pub items: u32,
    /// An order number or receipt reference.
    pub reference: Option<String>,
}

impl Purchase {
    /// A purchase of `amount` at `at`, one item, no channel or reference.
    pub fn new(customer_id: CustomerId, at: Timestamp, amount: Money) -> Self {
        Self {
            id: RecordId::new(),
            customer_id,
            at,
            amount,
            channel: None,
            items: 1,
            reference: None,
        }
    }
}

/// The medium of an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionChannel {
    /// A phone call.
    Phone,
    /// An e-mail.
    Email,
    /// A chat message (WeChat, WhatsApp, web chat).
    Chat,
    /// A visit, in the shop or at the customer's.
    Visit,
    /// A social-media exchange.
    Social,
    /// Anything else.
    Other,
}

/// Who started an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The customer reached out.
    Inbound,
    /// The business reached out.
    Outbound,
}

/// A contact with the customer: a call, an e-mail, a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// The record's id (a new one when JSON leaves it out).
    #[serde(default = "RecordId::new")]
    pub id: RecordId,
    /// The customer.
    pub customer_id: CustomerId,
    /// When it happened.
    pub at: Timestamp,
    /// The medium.
    pub channel: InteractionChannel,
    /// Who started it.
    pub direction: Direction,
    /// What was said or done.
    pub summary: String,
    /// How it ended: "callback", "sold", "no answer".
    pub outcome: Option<String>,
}

impl Interaction {
    /// An interaction with a summary and no outcome.
    pub fn new(
        customer_id: CustomerId,
        at: Timestamp,
        channel: InteractionChannel,
        direction: Direction,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            id: RecordId::new(),
            customer_id,
            at,
            channel,
            direction,
            summary: summary.into(),
            outcome: None,
        }
    }
}

/// What kind of feedback a customer gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// Something went wrong (投诉).
    Complaint,
    /// An idea for improvement.
    Suggestion,
    /// Something went right.
    Praise,
    /// An answer to a survey.
    Survey,
}

/// The scale a score is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreScale {
    /// Customer satisfaction, 1 to 5.
    Csat,
    /// Net promoter score, 0 to 10.
    Nps,
}

impl ScoreScale {
    /// The lowest and highest valid value.
    pub fn range(&self) -> (u8, u8) {
        match self {
            Self::Csat => (1, 5),
            Self::Nps => (0, 10),
        }
    }
}

/// A score on a known scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Score {
    /// The scale.
    pub scale: ScoreScale,
    /// The value, within the scale's range.
    pub value: u8,
}

/// Whether a piece of feedback still needs handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    /// Needs handling.
    Open,
    /// Handled.
    Resolved,
}

/// Feedback, a complaint or a survey answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// The record's id (a new one when JSON leaves it out).
    #[serde(default = "RecordId::new")]
    pub id: RecordId,
    /// The customer.
    pub customer_id: CustomerId,
    /// When it was given.
    pub at: Timestamp,
    /// Complaint, suggestion, praise or survey.
    pub kind: FeedbackKind,
    /// A score, if one was given.
    pub score: Option<Score>,
    /// What the customer said.
    pub comment: String,
    /// Open or resolved.
    pub status: FeedbackStatus,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
}

impl Feedback {
    /// Open feedback with a comment and no score.
    pub fn new(
        customer_id: CustomerId,
        at: Timestamp,
        kind: FeedbackKind,
        comment: impl Into<String>,
    ) -> Self {
        Self {
            id: RecordId::new(),
            customer_id,
            at,
            kind,
            score: None,
            comment: comment.into(),
            status: FeedbackStatus::Open,
            resolved_at: None,
        }
    }
}

/// Whether consent was given or taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// The customer agreed.
    Granted,
    /// The customer took the agreement back.
    Withdrawn,
}

/// A consent event: the customer agreed to (or withdrew from) a purpose on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// The record's id (a new one when JSON leaves it out).
    #[serde(default = "RecordId::new")]
    pub id: RecordId,
    /// The customer.
    pub customer_id: CustomerId,
    /// When consent was given or withdrawn.
    pub at: Timestamp,
    /// What for: "marketing", "profiling", "third_party_sharing".
    pub purpose: String,
    /// Through which channel it applies: "email", "sms", "phone"; none for all.
    pub channel: Option<String>,
    /// Granted or withdrawn.
    pub status: ConsentStatus,
    /// How it was obtained: a form id, a recording, a signed paper.
    pub evidence: Option<String>,
    /// When a granted consent lapses.
    pub expires_at: Option<Timestamp>,
    /// Given separately, as PIPL requires for sensitive personal information
    /// and for sharing with third parties (单独同意), not bundled with other terms.
    #[serde(default)]
    pub separate: bool,
}

impl Consent {
    /// Whether this event grants `purpose` on `channel` (any channel when none
    /// is asked; an event without a channel covers every channel) at `at`.
    pub fn grants(&self, purpose: &str, channel: Option<&str>, at: Timestamp) -> bool {
        self.status == ConsentStatus::Granted
            && self.purpose == purpose
            && channel.is_none_or(|c| self.channel.as_deref().is_none_or(|own| own == c))
            && self.expires_at.is_none_or(|e| e > at)
    }

    /// Whether this event is about `purpose` on `channel` (so a later one decides).
    pub fn concerns(&self, purpose: &str, channel: Option<&str>) -> bool {
        self.purpose == purpose
            && channel.is_none_or(|c| self.channel.as_deref().is_none_or(|own| own == c))
    }

    /// A consent event for a purpose, on every channel, without evidence or expiry.
    pub fn new(
        customer_id: CustomerId,
        at: Timestamp,
        purpose: impl Into<String>,
        status: ConsentStatus,
    ) -> Self {
        Self {
            id: RecordId::new(),
            customer_id,
            at,
            purpose: purpose.into(),
            channel: None,
            status,
            evidence: None,
            expires_at: None,
            separate: false,
        }
    }
}

/// Whether consent to `purpose` holds at `at`, given a customer's consent
/// events: on `channel`, the latest event about it (for that channel or for
/// every channel) grants it and has not lapsed; with no channel named, it
/// holds on at least one channel — one the events name, or any other, which
/// the events for every channel decide.
pub fn consent_holds<'a>(
    events: impl IntoIterator<Item = &'a Consent> + Clone,
    purpose: &str,
    channel: Option<&str>,
    at: Timestamp,
) -> bool {
    let decide = |ch: Option<&str>| {
        events
            .clone()
            .into_iter()
            .filter(|c| c.at <= at && c.concerns(purpose, ch))
            .max_by_key(|c| c.at)
            .is_some_and(|c| c.grants(purpose, ch, at))
    };
    match channel {
        Some(ch) => decide(Some(ch)),
        None => {
            let named: std::collections::BTreeSet<&str> = events
                .clone()
                .into_iter()
                .filter(|c| c.purpose == purpose)
                .filter_map(|c| c.channel.as_deref())
                .collect();
            // A channel no event names stands for all the others.
            named.iter().any(|ch| decide(Some(ch))) || decide(Some("\u{0}any other"))
        }
    }
}

/// A free-text note on a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The record's id (a new one when JSON leaves it out).
    #[serde(default = "RecordId::new")]
    pub id: RecordId,
    /// The customer.
    pub customer_id: CustomerId,
    /// When it was written.
    pub at: Timestamp,
    /// Who wrote it.
    pub author: Option<String>,
    /// The text.
    pub text: String,
}

impl Note {
    /// A note without an author.
    pub fn new(customer_id: CustomerId, at: Timestamp, text: impl Into<String>) -> Self {
        Self {
            id: RecordId::new(),
            customer_id,
            at,
            author: None,
            text: text.into(),
        }
    }
}

/// Which kind of related record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelatedKind {
    /// [`Purchase`].
    Purchase,
    /// [`Interaction`].
    Interaction,
    /// [`Feedback`].
    Feedback,
    /// [`Consent`].
    Consent,
    /// [`Note`].
    Note,
}

impl RelatedKind {
    /// Every kind.
    pub const ALL: [RelatedKind; 5] = [
        Self::Purchase,
        Self::Interaction,
        Self::Feedback,
        Self::Consent,
        Self::Note,
    ];

    /// A stable one-byte tag, used in store keys.
    pub fn tag(&self) -> u8 {
        match self {
            Self::Purchase => 1,
            Self::Interaction => 2,
            Self::Feedback => 3,
            Self::Consent => 4,
            Self::Note => 5,
        }
    }
}

/// Any record kept beside a dossier, listed by customer in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Related {
    /// A purchase.
    Purchase(Purchase),
    /// An interaction.
    Interaction(Interaction),
    /// Feedback or a complaint.
    Feedback(Feedback),
    /// A consent event.
    Consent(Consent),
    /// A note.
    Note(Note),
}

macro_rules! related_accessors {
    ($($variant:ident),*) => {
        impl Related {
            /// The record's id.
            pub fn id(&self) -> RecordId {
                match self { $(Self::$variant(r) => r.id,)* }
            }
            /// The customer it belongs to.
            pub fn customer_id(&self) -> CustomerId {
                match self { $(Self::$variant(r) => r.customer_id,)* }
            }
            /// Moves it to another customer (a merge does).
            pub fn set_customer_id(&mut self, id: CustomerId) {
                match self { $(Self::$variant(r) => r.customer_id = id,)* }
            }
            /// When it happened.
            pub fn at(&self) -> Timestamp {
                match self { $(Self::$variant(r) => r.at,)* }
            }
            /// Which kind it is.
            pub fn kind(&self) -> RelatedKind {
                match self { $(Self::$variant(_) => RelatedKind::$variant,)* }
            }
        }
        $(
            impl From<$variant> for Related {
                fn from(r: $variant) -> Self {
                    Self::$variant(r)
                }
            }
            impl TryFrom<Related> for $variant {
                type Error = Related;
                fn try_from(r: Related) -> Result<Self, Related> {
                    match r {
                        Related::$variant(x) => Ok(x),
                        other => Err(other),
                    }
                }
            }
        )*
    };
}

related_accessors!(Purchase, Interaction, Feedback, Consent, Note);
