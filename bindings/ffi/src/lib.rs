//! kehu for Kotlin, Swift (and Python, for tests), through uniffi.
//!
//! A thin layer: records and enums that Kotlin and Swift handle natively
//! (`dossier`, `related`, `answers`, `options`), converted to and from the
//! core types; the `Book` object that calls the core (a principal's book is one too); one
//! error enum (`KehuError`) mapped in one place. No logic of its own.
//!
//! Generate the bindings with the workspace's `uniffi-bindgen` in library
//! mode (`bindings/ffi/generate.sh`).

uniffi::setup_scaffolding!("kehu_ffi");

mod answers;
mod book;
mod dossier;
mod error;
mod options;
mod related;

pub use answers::*;
pub use book::{
    create_key_file, is_encrypted, rotate_key, Book, ProgressListener, SegmentListener, TagChanges,
};
pub use dossier::{
    new_email, new_organization, new_person, new_phone, Address, CustomValue, Customer, Email,
    Kind, LifecycleStage, Organization, PersonName, Phone,
};
pub use error::KehuError;
pub use options::{
    ClassifyOptions, ExportFormat, ExportOptions, ImportKind, ImportMode, ImportOptions, Key,
    NaturalKey, OpenOptions, Operation, Principal,
};
pub use related::{
    Consent, ConsentStatus, Direction, Feedback, FeedbackKind, FeedbackStatus, Interaction,
    InteractionChannel, Money, Note, Purchase, RelatedRecord, Score, ScoreScale,
};
