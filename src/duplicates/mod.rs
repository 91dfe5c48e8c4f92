//! The dedupe engine wired to a book: the keys and model the duplicate
//! check of every write reads (`keys`, `model`; the check itself is the
//! write pipeline's), a dedupe of the whole book, and merges with a receipt
//! and unmerge (`merge`).

pub(crate) mod keys;
mod merge;
pub(crate) mod model;

use kehu_dedupe::{Dataset, Decision, Deduper, Explanation, Progress, Settings};
use kehu_model::{Customer, CustomerId, RecordId, Timestamp};
use serde::{Deserialize, Serialize};

pub use keys::DEDUPE_INDEX;

use crate::{Book, Error};
use kehu_dedupe::dossier;
use model::BookModel;

/// What to do with a new dossier that looks like one already in the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateAction {
    /// Almost surely the same customer: [`Book::add`] refuses it.
    Block,
    /// Possibly the same: added, with a warning.
    Warn,
    /// Not the same customer.
    Allow,
}

/// A dossier that a draft may duplicate: one in the book, or one written
/// earlier in the same write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicateCandidate {
    /// The dossier.
    pub id: CustomerId,
    /// When it is a record of the same write: its position there.
    #[serde(default)]
    pub index: Option<usize>,
    /// The match probability.
    pub probability: f64,
    /// Block, warn or allow, by the book's thresholds.
    pub action: DuplicateAction,
    /// Field by field, why.
    pub explanation: Explanation,
}

/// A pair of dossiers a dedupe of the book scored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BookPair {
    /// The first dossier.
    pub id_l: CustomerId,
    /// The second dossier.
    pub id_r: CustomerId,
    /// The match probability.
    pub probability: f64,
    /// Match or review, by the thresholds.
    pub decision: Decision,
    /// Whether the pair was joined in a cluster.
    pub clustered: bool,
}

/// A dedupe of a whole book.
#[derive(Clone, Debug, Serialize)]
pub struct BookDedupe {
    /// Pairs at or above the review threshold, strongest first.
    pub pairs: Vec<BookPair>,
    /// Groups of dossiers that are one customer, largest first.
    pub clusters: Vec<Vec<CustomerId>>,
    /// What the run noticed.
    pub warnings: Vec<String>,
    /// Counts and timings.
    pub stats: kehu_dedupe::Stats,
}

/// A merge as stored: the dossiers before, and the related records moved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeReceipt {
    /// The receipt's id, for [`Book::unmerge`].
    pub id: RecordId,
    /// When the merge was made.
    pub at: Timestamp,
    /// Who made it.
    pub actor: String,
    /// The dossier that stayed.
    pub survivor: CustomerId,
    /// The survivor's version after the merge: unmerge needs it unchanged.
    pub merged_version: u64,
    /// Every dossier as it was before, the survivor first.
    pub before: Vec<Customer>,
    /// Related records moved to the survivor: (record, its customer before).
    pub moved: Vec<(RecordId, CustomerId)>,
    /// Whether it was undone.
    pub unmerged: bool,
}

/// The answer of a merge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Merged {
    /// The merged dossier (as it would be stored, on a dry run).
    pub customer: Customer,
    /// The receipt; `None` on a dry run.
    pub receipt: Option<MergeReceipt>,
    /// Other dossiers of the book the merged one may duplicate.
    pub duplicates: Vec<DuplicateCandidate>,
}

impl Book {
    /// Every dossier of the book as a record, read in one pass (the
    /// dossiers themselves are not kept), and their ids by row.
    fn book_dataset(&self) -> Result<(Dataset, Vec<CustomerId>), Error> {
        let snap = self.store.snapshot()?;
        let mut ds = Dataset::new(dossier::fields());
        let mut ids = Vec::new();
        for c in snap.customers()? {
            let c = c?;
            dossier::push(&mut ds, &c);
            ids.push(c.id);
        }
        Ok((ds, ids))
    }

    /// Finds the duplicates in the whole book: pairs, clusters and what the
    /// run noticed. The model it learns is kept for checks at entry.
    /// `settings` may leave the fields empty (a book's fields are fixed).
    pub fn dedupe(
        &self,
        settings: &Settings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<BookDedupe, Error> {
        // A principal's dedupe compares every matched field: it must be
        // allowed to filter on each, and sees the pairs it reaches.
        self.allow(crate::Operation::Read, None)?;
        let names: Vec<String> = dossier::fields().into_iter().map(|f| f.name).collect();
        self.filter_on(
            names
                .iter()
                .flat_map(|n| crate::policy::viewer::compared(n)),
        )?;
        // The settings every check of the book scores by (its vetoes too).
        let settings = kehu_dedupe::Matcher::dossier_settings(settings);
        let (ds, ids) = self.book_dataset()?;
        let mut dd = Deduper::new(ds, settings.clone())?;
        let out = dd.run(progress)?;
        if let Some(model) = dd.model() {
            self.keep_model(&BookModel {
                settings,
                model: model.clone(),
                trained_on: ids.len() as u64,
            })?;
        }
        let mut groups: std::collections::BTreeMap<u32, Vec<CustomerId>> = Default::default();
        for (row, &c) in out.clusters.of.iter().enumerate() {
            groups.entry(c).or_default().push(ids[row]);
        }
        let mut clusters: Vec<Vec<CustomerId>> =
            groups.into_values().filter(|g| g.len() > 1).collect();
        clusters.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        let reached: std::collections::HashSet<CustomerId> =
            self.reached_ids(ids.clone())?.into_iter().collect();
        let whole = reached.len() == ids.len();
        if !whole {
            for c in &mut clusters {
                c.retain(|id| reached.contains(id));
            }
            clusters.retain(|c| c.len() > 1);
        }
        Ok(BookDedupe {
            pairs: out
                .pairs
                .iter()
                .filter(|p| {
                    whole
                        || (reached.contains(&ids[p.a as usize])
                            && reached.contains(&ids[p.b as usize]))
                })
                .map(|p| BookPair {
                    id_l: ids[p.a as usize],
                    id_r: ids[p.b as usize],
                    probability: p.probability,
                    decision: p.decision,
                    clustered: p.clustered,
                })
                .collect(),
            clusters,
            warnings: out.warnings,
            stats: out.stats,
        })
    }

    /// Why two dossiers of the book score as they do.
    pub fn explain_duplicate(&self, a: CustomerId, b: CustomerId) -> Result<Explanation, Error> {
        let ca = self.reach(crate::Operation::Read, a)?;
        let cb = self.reach(crate::Operation::Read, b)?;
        let book_model = self.duplicate_model()?;
        let mut dd = Deduper::new(dossier::dataset([&ca, &cb]), book_model.settings.clone())?;
        dd.set_model(book_model.model.clone())?;
        let mut e = dd.explain_rows(0, 1);
        if let Some(v) = self.viewer() {
            e.fields.retain_mut(|f| {
                match (v.value(&f.field, &f.left), v.value(&f.field, &f.right)) {
                    (Some(l), Some(r)) => {
                        (f.left, f.right) = (l, r);
                        true
                    }
                    _ => false,
                }
            });
        }
        Ok(e)
    }
}
