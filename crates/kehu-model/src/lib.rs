//! The customer dossier (客户档案) and the records kept around it.
//!
//! Plain data: no I/O, no engines. Every type is serde-serialisable so that
//! a server, a script and a phone exchange the same shapes. Money is integer
//! minor units with an ISO 4217 code; time is UTC; ids are UUID v7, so they
//! sort by creation and never collide across devices.

#![warn(missing_docs)]

pub mod catalogue;
mod customer;
mod diff;
mod error;
mod ids;
mod money;
mod related;

pub use customer::{
    Address, CustomType, CustomValue, Customer, Email, Kind, LifecycleStage, NameSplit,
    Organization, PersonName, Phone,
};
pub use diff::{diff, undo, FieldChange};
pub use error::Error;
pub use ids::{CustomerId, RecordId};
pub use money::{Currency, Money};
pub use related::{
    consent_holds, Consent, ConsentStatus, Direction, Feedback, FeedbackKind, FeedbackStatus,
    Interaction, InteractionChannel, Note, Purchase, Related, RelatedKind, Score, ScoreScale,
};

/// Exact decimals, for decimal custom fields.
pub use rust_decimal::Decimal;

/// UTC timestamps, as used everywhere in kehu.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

#[cfg(feature = "arbitrary")]
pub mod arbitrary;
