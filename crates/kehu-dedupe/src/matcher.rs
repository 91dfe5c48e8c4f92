//! The duplicate check of a write: dossiers one at a time, each keyed,
//! looked up among the ones before it and scored against the candidates.
//!
//! A [`Matcher`] holds a growing dataset of dossiers (those of the write and
//! the candidates brought in from a book), an in-memory index of their
//! blocking keys, and a trained model. It never sees a store: the caller
//! looks a record's keys up in its book and pushes the dossiers it finds.

use std::collections::HashMap;
use std::hash::BuildHasher;

use kehu_model::catalogue::{Field, IDENTIFIERS};
use kehu_model::Customer;
use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::dataset::value_hash;
use crate::engine::{Decision, Deduper, Explanation};
use crate::model::{pattern, Model, Pattern};
use crate::normalize::normalize;
use crate::{dossier, BlockingRule, Comparison, Dataset, Error, FieldType, Settings};

/// How many rows one key brings back at most (the most recent first).
const PER_KEY: usize = 64;
/// A key more rows share than this is skipped, as a dedupe skips a block
/// this large: "Wang, born 1980" says little.
const MAX_BLOCK: u32 = 1_000;
/// How many candidates a record is scored against at most: those sharing
/// the most keys with it (a true duplicate shares several).
const MAX_SCORED: usize = 24;

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
    /// The type of each dossier field, in [`dossier::fields`] order.
    kinds: Vec<FieldType>,
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
        let kinds = ds.fields().iter().map(|f| f.kind).collect();
        Self {
            rules,
            indexed,
            kinds,
        }
    }

    /// The keyer every caller shares (the rules are the same for every book).
    pub fn shared() -> &'static Keyer {
        static KEYER: std::sync::OnceLock<Keyer> = std::sync::OnceLock::new();
        KEYER.get_or_init(Keyer::new)
    }

    /// A dossier made ready for the check: its fields' normal forms and
    /// its keys. A pure function of the dossier, so the rows of a file are
    /// prepared on all cores before they are checked one by one.
    pub fn prepare(&self, c: &Customer) -> Prepared {
        self.prepare_seen(c, &[])
    }

    /// [`Keyer::prepare`] of the dossier as one who may compare only some
    /// of its fields sees it: a column whose entry in `seen` (in
    /// [`dossier::fields`] order) is false is left blank, so it neither
    /// finds candidates nor weighs in a score. An empty `seen` sees all.
    pub fn prepare_seen(&self, c: &Customer, seen: &[bool]) -> Prepared {
        let normal: Vec<String> = dossier::values(c)
            .iter()
            .zip(&self.kinds)
            .enumerate()
            .map(|(i, (v, &kind))| match seen.get(i) {
                Some(false) => String::new(),
                _ => normalize(kind, v),
            })
            .collect();
        let hashes = normal.iter().map(|v| value_hash(v)).collect();
        let mut keys = RowKeys::default();
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some(k) = rule.key_normal(&self.kinds, &normal) {
                let key = fold(i, k);
                keys.all.push(key);
                if !self.indexed[i] {
                    keys.stored.push(key);
                }
            }
        }
        Prepared {
            normal,
            hashes,
            keys,
        }
    }

    /// The keys a store keeps for one dossier.
    pub fn stored_keys(&self, c: &Customer) -> Vec<Key> {
        self.prepare(c).keys.stored
    }
}

/// A dossier's normal forms and keys, as [`Keyer::prepare`] makes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    normal: Vec<String>,
    hashes: Vec<u64>,
    /// Its blocking keys.
    pub keys: RowKeys,
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
    comparisons: Vec<Comparison>,
    model: Model,
    /// [`Matcher::bound`] of the model.
    bound: Vec<(usize, f64)>,
    /// [`Matcher::roles`] of the comparisons.
    roles: Vec<Role>,
    match_at: f64,
    review_at: f64,
    /// Key → the latest entry with it and how many rows have it.
    heads: FxHashMap<Key, (u32, u32)>,
    entries: Vec<(u32, u32)>,
}

/// What a comparison tells of who a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// An e-mail, phone or id: the same one names one person.
    Contact,
    /// An address.
    Place,
    /// A birth date.
    Date,
    /// A name, an organisation, a city: many share them.
    Other,
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
            roles: Self::roles(&comparisons),
            comparisons,
            bound: Self::bound(&model),
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
        // A dossier's national identifiers were checked at entry (a typo
        // fails the check character), so a different one is another
        // customer whatever else agrees; so is a different given name and
        // birth date (a household).
        let veto = settings.veto.clone().or_else(|| {
            let mut groups = vec![vec![
                Field::GivenName.name().to_string(),
                Field::BirthDate.name().to_string(),
            ]];
            groups.extend(IDENTIFIERS.iter().map(|f| vec![f.name().to_string()]));
            Some(groups)
        });
        Settings {
            fields: Vec::new(),
            term_frequency: false,
            veto,
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
        self.bound = Self::bound(&model);
        self.model = model;
        Ok(())
    }

    /// Adds a prepared dossier as a row (not yet indexed: [`Matcher::index`]);
    /// `id` names it in explanations.
    pub fn push(&mut self, id: &str, prepared: &Prepared) -> u32 {
        self.ds
            .push_normalized(id, &prepared.normal, Some(&prepared.hashes));
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

    /// Indexes a row under its keys, so that later rows find it.
    pub fn index(&mut self, row: u32, keys: &[Key]) {
        for &k in keys {
            let at = self.entries.len() as u32;
            let head = self.heads.entry(k).or_insert((u32::MAX, 0));
            self.entries.push((row, head.0));
            *head = (at, head.1 + 1);
        }
    }

    /// The indexed rows that share a key with these keys, each once with how
    /// many keys it shares, most shared first: the 24 best, the latest 64 rows
    /// of a key, none of a key more than 1,000 rows share.
    pub fn candidates(&self, keys: &[Key]) -> Vec<(u32, u32)> {
        let mut found: FxHashMap<u32, u32> = HashMap::default();
        for k in keys {
            let (mut at, count) = self.heads.get(k).copied().unwrap_or((u32::MAX, 0));
            if count > MAX_BLOCK {
                continue;
            }
            let mut n = 0;
            while at != u32::MAX && n < PER_KEY {
                let (row, prev) = self.entries[at as usize];
                *found.entry(row).or_default() += 1;
                at = prev;
                n += 1;
            }
        }
        let mut out: Vec<(u32, u32)> = found.into_iter().collect();
        out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        out.truncate(MAX_SCORED);
        out
    }

    /// How two rows score, or none when they cannot reach the review
    /// threshold: the comparisons are taken most telling first and given up
    /// once even the best levels of those left would not lift the pair
    /// (a bulk write lists only the pairs at or above it).
    pub fn score_if_close(&self, a: u32, b: u32) -> Option<Score> {
        if self.bound.is_empty() {
            let s = self.score(a, b);
            return (s.probability >= self.review_at).then_some(s);
        }
        if self.vetoed(a, b) {
            return None;
        }
        let review_weight = (self.review_at / (1.0 - self.review_at)).log2();
        let mut weight = self.model.prior_weight();
        let mut p = 0u64;
        for &(c, rest) in &self.bound {
            let level = self.comparisons[c].level(&self.ds, a, b);
            weight += self.model.weight(c, level);
            p |= u64::from(level) << (crate::model::BITS as usize * c);
            if weight + rest < review_weight {
                return None;
            }
        }
        // Summed again in the model's order: the same score to the last bit.
        let weight = self.model.pair_weight(&self.ds, a, p);
        Some(self.decide(self.model.probability(p, weight), p))
    }

    /// How two rows score.
    pub fn score(&self, a: u32, b: u32) -> Score {
        if self.vetoed(a, b) {
            return self.decide(0.0, 0);
        }
        let p = pattern(&self.comparisons, &self.ds, a, b);
        let weight = self.model.pair_weight(&self.ds, a, p);
        self.decide(self.model.probability(p, weight), p)
    }

    /// Whether a veto group says two rows are different people: a different
    /// given name and birth date whatever else agrees (a household), decided
    /// on those fields alone.
    fn vetoed(&self, a: u32, b: u32) -> bool {
        self.model.vetoes.iter().any(|group| {
            !group.is_empty()
                && group.iter().all(|&c| {
                    let cmp = &self.comparisons[c];
                    cmp.level(&self.ds, a, b) as usize == cmp.levels().len() - 1
                })
        })
    }

    fn decide(&self, probability: f64, p: Pattern) -> Score {
        Score {
            probability,
            decision: if probability >= self.match_at && self.identified(p) {
                Decision::Match
            } else if probability >= self.review_at {
                Decision::Review
            } else {
                Decision::NonMatch
            },
        }
    }

    /// Whether a pair agrees on what names one person: the same e-mail,
    /// phone or id, the same address, or the same birth date at about the
    /// same address. A write skips or merges a record only on such
    /// evidence; the same name and a near date make a possible duplicate,
    /// however sure a model learned from data without duplicates is.
    fn identified(&self, p: Pattern) -> bool {
        let at = |role: Role| {
            self.roles
                .iter()
                .enumerate()
                .filter(move |(_, r)| **r == role)
                .map(move |(c, _)| crate::model::level_of(p, c))
        };
        at(Role::Contact).any(|l| l == 1)
            || at(Role::Place).any(|l| l == 1)
            || (at(Role::Date).any(|l| l == 1) && at(Role::Place).any(|l| l == 2))
    }

    /// What each comparison tells of identity.
    fn roles(comparisons: &[Comparison]) -> Vec<Role> {
        comparisons
            .iter()
            .map(|c| match c.kind {
                _ if !c.group.is_empty() => Role::Place,
                FieldType::Address => Role::Place,
                FieldType::Email | FieldType::Phone | FieldType::Identifier => Role::Contact,
                FieldType::Date => Role::Date,
                _ => Role::Other,
            })
            .collect()
    }

    /// The comparisons in the order [`Matcher::score_if_close`] takes them
    /// (widest range of weights first), each with the most the ones after
    /// it can add; none when a comparison weighs term frequencies (its
    /// weight is not one of its levels').
    fn bound(model: &Model) -> Vec<(usize, f64)> {
        if model.comparisons.iter().any(|c| c.term_frequency) {
            return Vec::new();
        }
        let range = |c: usize| {
            let levels = model.comparisons[c].levels().len() as u8;
            let weights = (0..levels).map(|l| model.weight(c, l));
            let (lo, hi) = weights.fold((0.0f64, 0.0f64), |(lo, hi), w| (lo.min(w), hi.max(w)));
            (hi - lo, hi)
        };
        let mut order: Vec<usize> = (0..model.comparisons.len()).collect();
        order.sort_by(|&x, &y| range(y).0.total_cmp(&range(x).0).then(x.cmp(&y)));
        let mut out = vec![(0, 0.0); order.len()];
        let mut rest = 0.0;
        for (i, &c) in order.iter().enumerate().rev() {
            out[i] = (c, rest);
            rest += range(c).1;
        }
        out
    }

    /// Why two rows score as they do, field by field.
    pub fn explain(&self, a: u32, b: u32) -> Explanation {
        let thresholds = (self.match_at, self.review_at);
        let mut e = crate::engine::explain_pair(&self.ds, &self.model, thresholds, a, b);
        let p = pattern(&self.comparisons, &self.ds, a, b);
        if e.decision == Decision::Match && !self.identified(p) {
            e.decision = Decision::Review;
            e.veto = Some(
                "no e-mail, phone, id or address agrees, nor the birth date at about the same address: a possible match at most"
                    .into(),
            );
        }
        e
    }

    /// Learns a model from some of the rows (a sample of a large write): EM
    /// over their candidate pairs, u from random pairs among them.
    pub fn learn(&self, rows: &[u32], settings: &Settings) -> Result<Model, Error> {
        let ds = self.ds.subset(rows);
        let mut dd = Deduper::new(ds, Self::dossier_settings(settings))?;
        Ok(dd.train()?.clone())
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
        let keyer = Keyer::shared();
        let mut m = Matcher::new(None, &Settings::default()).unwrap();
        let keys = keyer.prepare(&wei()).keys;
        let a = m.push("a", &keyer.prepare(&wei()));
        assert!(
            keys.stored.len() < keys.all.len(),
            "the e-mail key is not stored"
        );
        m.index(a, &keys.all);
        let mut copy = wei();
        copy.name.given = Some("Wie".into());
        let b = m.push("b", &keyer.prepare(&copy));
        let found = m.candidates(&keyer.prepare(&copy).keys.all);
        assert_eq!(found[0].0, a);
        assert_eq!(m.score(b, a).decision, Decision::Match);
        let stranger = Customer::person("Anna", "Schmidt").with_email("anna@example.de");
        let c = m.push("c", &keyer.prepare(&stranger));
        assert!(m.candidates(&keyer.prepare(&stranger).keys.all).is_empty());
        assert!(m.score(c, a).probability < 0.5);
        let e = m.explain(b, a);
        assert!(e
            .fields
            .iter()
            .any(|f| f.field == "emails" && f.level == "exact"));
    }

    #[test]
    fn a_field_not_seen_neither_finds_nor_scores() {
        let keyer = Keyer::shared();
        let mut m = Matcher::new(None, &Settings::default()).unwrap();
        let email = dossier::fields()
            .iter()
            .position(|f| f.name == "emails")
            .unwrap();
        let mut seen = vec![true; dossier::fields().len()];
        seen[email] = false;
        // The e-mail and birth date are shared, the name is not: only the
        // e-mail's blocking rule finds the pair.
        let mut guess = Customer::person("Anna", "Schmidt").with_email("wei.zhang@example.com");
        guess.birth_date = wei().birth_date;
        let full = keyer.prepare(&wei());
        let a = m.push("a", &full);
        m.index(a, &full.keys.all);
        assert!(!m.candidates(&keyer.prepare(&guess).keys.all).is_empty());
        let blind = keyer.prepare_seen(&guess, &seen);
        assert!(m.candidates(&blind.keys.all).is_empty());
        // Scored anyway, the guessed address weighs nothing: a wrong one scores the same.
        let right = m.push("b", &blind);
        let mut wrong = guess.clone();
        wrong.emails[0].address = "someone.else@example.com".into();
        let wrong = m.push("c", &keyer.prepare_seen(&wrong, &seen));
        let seen_a = m.push("a'", &keyer.prepare_seen(&wei(), &seen));
        assert_eq!(
            m.score(right, seen_a).probability,
            m.score(wrong, seen_a).probability
        );
        let seeing = m.push("d", &keyer.prepare(&guess));
        assert!(m.score(right, a).probability < m.score(seeing, a).probability);
    }
    #[test]
    fn the_bounded_score_gives_up_only_below_the_review_threshold() {
        let keyer = Keyer::shared();
        let mut m = Matcher::new(None, &Settings::default()).unwrap();
        let mut people = Vec::new();
        for (i, given) in ["Wei", "Wie", "Li", "Bill", "William", ""]
            .iter()
            .enumerate()
        {
            for (j, family) in ["Zhang", "Zhong", "Smith"].iter().enumerate() {
                let mut c = Customer::person(*given, *family);
                if i % 2 == 0 {
                    c = c.with_email(format!("{given}.{family}@example.com"));
                }
                if j != 1 {
                    c.birth_date = chrono::NaiveDate::from_ymd_opt(1990, 5, 17 + i as u32);
                }
                people.push(m.push(&format!("{i}-{j}"), &keyer.prepare(&c)));
            }
        }
        let (mut kept, mut dropped) = (0, 0);
        for &a in &people {
            for &b in &people {
                let full = m.score(a, b);
                match m.score_if_close(a, b) {
                    Some(s) => {
                        kept += 1;
                        assert_eq!(s, full);
                    }
                    None => {
                        dropped += 1;
                        assert!(full.probability < m.review_at, "{a} {b}: {full:?}");
                    }
                }
            }
        }
        assert!(kept > 0 && dropped > 0, "kept {kept}, dropped {dropped}");
    }

    #[test]
    fn keys_are_the_same_from_a_dataset_and_from_normal_forms() {
        let keyer = Keyer::shared();
        let mut nick = wei();
        nick.name.given = Some("Bill".into());
        for c in [wei(), nick, Customer::person("Ann", "Lee")] {
            let ds = dossier::dataset([&c]);
            let prepared = keyer.prepare(&c);
            let from_ds: Vec<Option<u64>> = keyer.rules.iter().map(|r| r.key(&ds, 0)).collect();
            let from_normal: Vec<Option<u64>> = keyer
                .rules
                .iter()
                .map(|r| r.key_normal(&keyer.kinds, &prepared.normal))
                .collect();
            assert_eq!(from_ds, from_normal);
        }
    }
}
