//! The duplicate check of a write: dossiers one at a time, each keyed,
//! looked up among the ones before it and scored against the candidates.
//!
//! A [`Matcher`] holds a growing dataset of dossiers (those of the write and
//! the candidates brought in from a book), an in-memory index of their
//! blocking keys, and a trained model. It never sees a store: the caller
//! looks a record's keys up in its book and pushes the dossiers it finds.

use std::collections::HashMap;
use std::hash::BuildHasher;

use kehu_model::Customer;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::engine::{Decision, Deduper, Explanation};
use crate::model::{pattern, Model};
use crate::{dossier, BlockingRule, Comparison, Dataset, Error, FieldType, Settings};

/// How many rows one key brings back at most (the most recent first): a key
/// shared by thousands of records ("Wang", born 1980) says little.
const PER_KEY: usize = 64;

/// A blocking key, folded to 32 bits with the number of its rule. Two
/// different keys share one in about one in four billion: a spurious
/// candidate, scored and dropped, never a missed one.
pub type Key = u32;

/// The blocking rules of dossiers, parsed once.
#[derive(Clone, Debug)]
pub struct Keyer {
    rules: Vec<BlockingRule>,
    /// Per rule: whether a store indexes its key itself (e-mail, phone).
    indexed: Vec<bool>,
}

impl Default for Keyer {
    fn default() -> Self {
        Self::new()
    }
}

impl Keyer {
    /// The default blocking rules for dossier fields.
    pub fn new() -> Self {
        let ds = Dataset::new(dossier::fields());
        let mut rules = Vec::new();
        let mut indexed = Vec::new();
        for text in crate::block::default_rules(&ds) {
            if let Ok(rule) = BlockingRule::parse(&text, &ds) {
                let single = rule.keys.len() == 1 && rule.keys[0].columns.len() == 1;
                let kind = ds.fields()[rule.keys[0].columns[0]].kind;
                indexed.push(single && matches!(kind, FieldType::Email | FieldType::Phone));
                rules.push(rule);
            }
        }
        Self { rules, indexed }
    }

    /// The keyer every caller shares (the rules are the same for every book).
    pub fn shared() -> &'static Keyer {
        static KEYER: std::sync::OnceLock<Keyer> = std::sync::OnceLock::new();
        KEYER.get_or_init(Keyer::new)
    }

    /// A row's keys: every rule's (`all`), and those a store must keep for
    /// it because it does not index them itself (`stored`: not e-mail or phone).
    pub fn keys(&self, ds: &Dataset, row: u32) -> RowKeys {
        let mut out = RowKeys::default();
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some(k) = rule.key(ds, row) {
                let key = fold(i, k);
                out.all.push(key);
                if !self.indexed[i] {
                    out.stored.push(key);
                }
            }
        }
        out
    }

    /// The keys a store keeps for one dossier.
    pub fn stored_keys(&self, c: &Customer) -> Vec<Key> {
        let mut ds = Dataset::new(dossier::fields());
        let row = dossier::push(&mut ds, c);
        self.keys(&ds, row).stored
    }
}

/// A row's blocking keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowKeys {
    /// Every rule's key.
    pub all: Vec<Key>,
    /// The keys a store keeps (not those of e-mail and phone, which it indexes anyway).
    pub stored: Vec<Key>,
}

fn fold(rule: usize, key: u64) -> Key {
    let h = FxBuildHasher.hash_one((rule as u64, key));
    (h >> 32) as u32 ^ h as u32
}

/// The dossiers of a write and their candidates, keyed, indexed and scored.
pub struct Matcher {
    ds: Dataset,
    keyer: Keyer,
    comparisons: Vec<Comparison>,
    model: Model,
    match_at: f64,
    review_at: f64,
    /// Key → the latest row with it; `chain[row_entry]` the one before.
    heads: FxHashMap<Key, u32>,
    entries: Vec<(u32, u32)>,
}

/// What the check found for one pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// The match probability.
    pub probability: f64,
    /// Match, review or non-match, by the thresholds.
    pub decision: Decision,
}

impl Matcher {
    /// A matcher scoring by `model`; without one, by a model learned from
    /// nothing (priors only: [`Matcher::learn`] replaces it).
    pub fn new(model: Option<Model>, settings: &Settings) -> Result<Self, Error> {
        let settings = Self::dossier_settings(settings);
        let probe = Deduper::new(Dataset::new(dossier::fields()), settings.clone())?;
        let comparisons = probe.comparisons().to_vec();
        let model = match model {
            Some(m) if m.comparisons == comparisons => m,
            Some(_) => {
                return Err(Error::Settings(
                    "the model was trained on other fields than dossiers have".into(),
                ))
            }
            None => Model::train(
                comparisons.clone(),
                probe.vetoes().to_vec(),
                probe.dataset(),
                &[],
                0,
                settings.seed,
            ),
        };
        Ok(Self {
            ds: Dataset::new(dossier::fields()),
            keyer: Keyer::shared().clone(),
            comparisons,
            model,
            match_at: settings.match_threshold,
            review_at: settings.review_threshold,
            heads: HashMap::default(),
            entries: Vec::new(),
        })
    }

    /// The settings dossiers are matched under: the fields are the
    /// catalogue's, and no term frequencies (a book's counts change with every write).
    pub fn dossier_settings(settings: &Settings) -> Settings {
        Settings {
            fields: Vec::new(),
            term_frequency: false,
            ..settings.clone()
        }
    }

    /// Whether a model was trained for these settings' comparisons.
    pub fn fits(model: &Model, settings: &Settings) -> bool {
        Deduper::new(
            Dataset::new(dossier::fields()),
            Self::dossier_settings(settings),
        )
        .is_ok_and(|d| d.comparisons() == model.comparisons.as_slice())
    }

    /// The model in use.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Scores by another model from now on (one trained for dossiers).
    pub fn set_model(&mut self, model: Model) -> Result<(), Error> {
        if model.comparisons != self.comparisons {
            return Err(Error::Settings(
                "the model was trained on other fields than dossiers have".into(),
            ));
        }
        self.model = model;
        Ok(())
    }

    /// Adds a dossier as a row (not yet indexed); `id` names it in explanations.
    pub fn push(&mut self, id: &str, c: &Customer) -> u32 {
        let values = dossier::values(c);
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        self.ds.push(id, &refs);
        self.ds.len() as u32 - 1
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.ds.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ds.is_empty()
    }

    /// A row's blocking keys.
    pub fn keys(&self, row: u32) -> RowKeys {
        self.keyer.keys(&self.ds, row)
    }

    /// Indexes a row under its keys, so that later rows find it.
    pub fn index(&mut self, row: u32, keys: &[Key]) {
        for &k in keys {
            let prev = self.heads.insert(k, self.entries.len() as u32);
            self.entries.push((row, prev.unwrap_or(u32::MAX)));
        }
    }

    /// The indexed rows that share a key with these keys, each once with how
    /// many keys it shares, most shared first (at most [`PER_KEY`] rows a key).
    pub fn candidates(&self, keys: &[Key]) -> Vec<(u32, u32)> {
        let mut found: FxHashMap<u32, u32> = HashMap::default();
        for k in keys {
            let mut at = self.heads.get(k).copied().unwrap_or(u32::MAX);
            let mut n = 0;
            while at != u32::MAX && n < PER_KEY {
                let (row, prev) = self.entries[at as usize];
                *found.entry(row).or_default() += 1;
                at = prev;
                n += 1;
            }
        }
        let mut out: Vec<(u32, u32)> = found.into_iter().collect();
        out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// How two rows score.
    pub fn score(&self, a: u32, b: u32) -> Score {
        let p = pattern(&self.comparisons, &self.ds, a, b);
        let weight = self.model.pair_weight(&self.ds, a, p);
        let probability = self.model.probability(p, weight);
        Score {
            probability,
            decision: if probability >= self.match_at {
                Decision::Match
            } else if probability >= self.review_at {
                Decision::Review
            } else {
                Decision::NonMatch
            },
        }
    }

    /// Why two rows score as they do, field by field.
    pub fn explain(&self, a: u32, b: u32) -> Explanation {
        crate::engine::explain_pair(&self.ds, &self.model, (self.match_at, self.review_at), a, b)
    }

    /// Learns a model from some of the rows (a sample of a large write): EM
    /// over their candidate pairs, u from random pairs among them.
    pub fn learn(&self, rows: &[u32], settings: &Settings) -> Result<Model, Error> {
        let ds = self.ds.subset(rows);
        let mut dd = Deduper::new(ds, Self::dossier_settings(settings))?;
        dd.run(&mut |_| {})?;
        dd.model()
            .cloned()
            .ok_or_else(|| Error::Settings("no model was learned".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wei() -> Customer {
        let mut c = Customer::person("Wei", "Zhang").with_email("wei.zhang@example.com");
        c.birth_date = chrono::NaiveDate::from_ymd_opt(1990, 5, 17);
        c
    }

    #[test]
    fn a_copy_is_found_and_a_stranger_is_not() {
        let mut m = Matcher::new(None, &Settings::default()).unwrap();
        let a = m.push("a", &wei());
        let keys = m.keys(a);
        assert!(
            keys.stored.len() < keys.all.len(),
            "the e-mail key is not stored"
        );
        m.index(a, &keys.all);
        let mut copy = wei();
        copy.name.given = Some("Wie".into());
        let b = m.push("b", &copy);
        let found = m.candidates(&m.keys(b).all);
        assert_eq!(found[0].0, a);
        assert_eq!(m.score(b, a).decision, Decision::Match);
        let stranger = Customer::person("Anna", "Schmidt").with_email("anna@example.de");
        let c = m.push("c", &stranger);
        assert!(m.candidates(&m.keys(c).all).is_empty());
        assert!(m.score(c, a).probability < 0.5);
        let e = m.explain(b, a);
        assert!(e
            .fields
            .iter()
            .any(|f| f.field == "emails" && f.level == "exact"));
    }

    #[test]
    fn keys_are_the_same_from_a_dossier_alone() {
        let keyer = Keyer::new();
        let mut m = Matcher::new(None, &Settings::default()).unwrap();
        let row = m.push("a", &wei());
        assert_eq!(keyer.stored_keys(&wei()), m.keys(row).stored);
    }
}
