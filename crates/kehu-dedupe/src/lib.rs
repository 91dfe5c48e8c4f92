//! kehu's dedupe engine. Pure: it takes records and returns answers; it never
//! opens a store (the `kehu` facade wires it to one).
//!
//! The pipeline: records as typed fields ([`Dataset`], types guessed from
//! headers and values or given in [`Settings`]) → normalisation per type →
//! blocking on several keys at once ([`block`]) → comparison levels per field
//! ([`Comparison`]) → Fellegi-Sunter weights learned by EM without labels
//! ([`Model`]) → match probabilities → clusters with a guard against chains
//! ([`cluster`]). Every scored pair can be explained ([`Explanation`]).
//!
//! ```
//! use kehu_dedupe::{Dataset, Deduper, Settings};
//!
//! let headers = ["id", "first_name", "last_name", "email"].map(String::from);
//! let rows = [
//!     ["1", "William", "Smith", "w.smith@example.com"],
//!     ["2", "Bill", "Smith", "W.Smith@Example.com"],
//!     ["3", "Ann", "Lee", "ann@example.org"],
//! ];
//! let mut rows = rows.iter().map(|r| Ok(r.map(String::from).to_vec()));
//! let ds = Dataset::from_rows(&headers, &mut rows, None, &[])?;
//! let mut dd = Deduper::new(ds, Settings::default())?;
//! let out = dd.run(&mut |_| {})?;
//! assert_eq!(out.clusters.of[0], out.clusters.of[1]);
//! println!("{}", dd.explain("1", "2")?);
//! # Ok::<(), kehu_dedupe::Error>(())
//! ```

pub mod block;
pub mod cluster;
mod compare;
mod dataset;
pub mod dossier;
mod engine;
mod field;
mod matcher;
pub mod merge;
pub mod model;
pub mod normalize;
mod settings;

pub use block::{BlockingRule, Candidates, KeyKind};
pub use cluster::Clusters;
pub use compare::{default_comparisons, Comparison};
pub use dataset::{Column, Dataset};
pub use engine::{
    Decision, Deduper, Explanation, FieldExplanation, Outcome, Progress, ScoredPair, Stats,
};
pub use field::{guess_type, type_from_header, FieldSpec, FieldType};
pub use matcher::{Key, Keyer, Matcher, Prepared, RowKeys, Score};
pub use merge::{merge, Rule, Survivorship};
pub use model::Model;
pub use settings::Settings;

/// What can go wrong in the dedupe engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be read.
    #[error("{0}")]
    Input(String),
    /// The settings are not usable.
    #[error("settings: {0}")]
    Settings(String),
    /// No record has this id.
    #[error("no record with id `{0}`")]
    NotFound(String),
}
