//! Fellegi-Sunter scoring: m and u probabilities per comparison level,
//! learned without labels.
//!
//! u starts from random pairs (how often two unrelated records agree at each
//! level), m from a prior; expectation-maximisation over the candidate pairs
//! then learns m, u and the share of matches among the candidates. EM runs
//! over the distinct comparison patterns, not the pairs, so it costs
//! microseconds per iteration however many pairs there are.

use std::collections::HashMap;
use std::hash::BuildHasher;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::compare::Comparison;
use crate::dataset::Dataset;

/// Bits per comparison in a packed pattern.
pub(crate) const BITS: u32 = 4;
/// The most comparisons a model holds.
pub const MAX_COMPARISONS: usize = 16;

/// A comparison pattern: the level of every comparison, 4 bits each.
pub type Pattern = u64;

/// The level of comparison `c` in a pattern.
#[inline]
pub fn level_of(p: Pattern, c: usize) -> u8 {
    ((p >> (BITS as usize * c)) & 0xF) as u8
}

/// The pattern of a pair.
pub fn pattern(comparisons: &[Comparison], ds: &Dataset, a: u32, b: u32) -> Pattern {
    let mut p = 0u64;
    for (i, c) in comparisons.iter().enumerate() {
        p |= u64::from(c.level(ds, a, b)) << (BITS as usize * i);
    }
    p
}

/// A trained scoring model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The comparisons, in pattern order.
    pub comparisons: Vec<Comparison>,
    /// Per comparison and level, P(level | match); level 0 unused.
    pub m: Vec<Vec<f64>>,
    /// Per comparison and level, P(level | non-match); level 0 unused.
    pub u: Vec<Vec<f64>>,
    /// The share of matches among the candidate pairs.
    pub prior: f64,
    /// Groups of comparisons that veto a match when every one of them is at
    /// its "different" level (a different first name *and* birth date is a
    /// different person, whatever the shared address and phone say).
    pub vetoes: Vec<Vec<usize>>,
    /// Per comparison with term frequencies: how likely two random records
    /// agree exactly (Σ p²), to weigh a common value less than a rare one.
    pub tf_base: Vec<Option<f64>>,
    /// EM iterations run.
    pub iterations: usize,
}

/// How many pseudo-pairs of random-pair u the learned u is drawn toward.
const PRIOR_PAIRS: f64 = 1_000.0;

/// How many pseudo-matches the learned m (and the share of matches) are
/// drawn toward their priors by.
const PRIOR_MATCHES: f64 = 50.0;

/// A small probability that keeps logs finite.
const FLOOR: f64 = 1e-6;

/// The m probabilities a comparison starts from: most mass on exact.
fn m_prior(levels: usize) -> Vec<f64> {
    let mut m = vec![0.0; levels];
    let inner = levels.saturating_sub(3);
    m[1] = 0.85;
    for v in m.iter_mut().take(levels - 1).skip(2) {
        *v = 0.1 / inner.max(1) as f64;
    }
    m[levels - 1] = if inner == 0 { 0.15 } else { 0.05 };
    m
}

impl Model {
    /// The weight (log2 Bayes factor) of a comparison at a level.
    #[inline]
    pub fn weight(&self, c: usize, level: u8) -> f64 {
        if level == 0 {
            return 0.0;
        }
        (self.m[c][level as usize] / self.u[c][level as usize]).log2()
    }

    /// The prior's weight: log2 of the odds of a match among candidates.
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// Whether a pattern is vetoed.
    pub fn vetoed(&self, p: Pattern) -> bool {
        self.vetoes.iter().any(|group| self.vetoed_by(group, p))
    }

    /// Whether one veto group holds for a pattern: every comparison of it
    /// at its "different" level.
    pub fn vetoed_by(&self, group: &[usize], p: Pattern) -> bool {
        !group.is_empty()
            && group.iter().all(|&c| {
                let last = self.comparisons[c].levels().len() as u8 - 1;
                level_of(p, c) == last
            })
    }

    /// The extra weight of an exact agreement on a value held by `count` of
    /// `filled` records: positive for rare values, negative for common ones.
    pub fn tf_adjustment(&self, c: usize, count: u32, filled: usize) -> f64 {
        match self.tf_base[c] {
            Some(base) if count > 0 && filled > 0 => {
                let p = f64::from(count) / filled as f64;
                (base / p).log2().clamp(-8.0, 8.0)
            }
            _ => 0.0,
        }
    }

    /// The total weight of a pair of records, given the first record's row
    /// (for term frequencies) and the pair's pattern.
    pub fn pair_weight(&self, ds: &Dataset, a: u32, p: Pattern) -> f64 {
        let mut w = self.prior_weight();
        for (i, c) in self.comparisons.iter().enumerate() {
            let level = level_of(p, i);
            w += self.weight(i, level);
            if level == 1 && c.term_frequency {
                let col = &ds.columns()[c.column];
                w += self.tf_adjustment(i, col.count(ds.cell(a, c.column)), col.filled());
            }
        }
        w
    }

    /// The match probability of a pair with this pattern and total weight.
    pub fn probability(&self, p: Pattern, weight: f64) -> f64 {
        if self.vetoed(p) {
            0.0
        } else {
            1.0 / (1.0 + (-weight).exp2())
        }
    }

    /// Learns a model for `comparisons` from a dataset's candidate pairs.
    /// `sample` random pairs give the starting u; `seed` fixes them, so the
    /// same input always gives the same model.
    pub fn train(
        comparisons: Vec<Comparison>,
        vetoes: Vec<Vec<usize>>,
        ds: &Dataset,
        candidates: &[Pattern],
        sample: usize,
        seed: u64,
    ) -> Model {
        let n = comparisons.len();
        let levels: Vec<usize> = comparisons.iter().map(|c| c.levels().len()).collect();
        let random = random_u(&comparisons, ds, sample, seed);
        let u = random.clone();
        let m_start: Vec<Vec<f64>> = levels.iter().map(|&l| m_prior(l)).collect();
        let m = m_start.clone();
        let tf_base = comparisons
            .iter()
            .map(|c| {
                c.term_frequency.then(|| {
                    let col = &ds.columns()[c.column];
                    let filled = col.filled() as f64;
                    col.value_counts()
                        .iter()
                        .skip(1)
                        .map(|&k| (f64::from(k) / filled).powi(2))
                        .sum::<f64>()
                })
            })
            .collect();
        let mut model = Model {
            comparisons,
            m,
            u,
            prior: 0.1,
            vetoes,
            tf_base,
            iterations: 0,
        };
        // Distinct patterns and how often each occurs.
        let mut counts: HashMap<Pattern, f64> = HashMap::new();
        for &p in candidates {
            *counts.entry(p).or_insert(0.0) += 1.0;
        }
        let mut patterns: Vec<(Pattern, f64)> = counts.into_iter().collect();
        patterns.sort_unstable_by_key(|&(p, _)| p);
        let total: f64 = patterns.iter().map(|&(_, c)| c).sum();
        if total == 0.0 {
            return model;
        }
        for iteration in 0..200 {
            let mut m_acc: Vec<Vec<f64>> = levels.iter().map(|&l| vec![0.0; l]).collect();
            let mut u_acc = m_acc.clone();
            let mut matches = 0.0;
            for &(p, count) in &patterns {
                let post = if model.vetoed(p) {
                    0.0
                } else {
                    let mut w = model.prior_weight();
                    for c in 0..n {
                        w += model.weight(c, level_of(p, c));
                    }
                    1.0 / (1.0 + (-w).exp2())
                };
                matches += post * count;
                for c in 0..n {
                    let l = level_of(p, c) as usize;
                    if l > 0 {
                        m_acc[c][l] += post * count;
                        u_acc[c][l] += (1.0 - post) * count;
                    }
                }
            }
            let mut change: f64 = 0.0;
            for c in 0..n {
                // u: the candidates' non-matches, drawn toward the random
                // pairs' u by PRIOR_PAIRS pseudo-pairs, so a run with few
                // non-matches among its candidates keeps sensible weights.
                // m likewise toward its prior, so a book without duplicates
                // does not teach that agreeing means nothing.
                for (probs, acc, base, alpha) in [
                    (&mut model.m[c], &m_acc[c], &m_start[c], PRIOR_MATCHES),
                    (&mut model.u[c], &u_acc[c], &random[c], PRIOR_PAIRS),
                ] {
                    let sum: f64 = acc[1..].iter().sum::<f64>() + alpha;
                    if sum <= 0.0 {
                        continue;
                    }
                    for l in 1..acc.len() {
                        let pseudo = alpha * base[l];
                        let v = ((acc[l] + pseudo) / sum).max(FLOOR);
                        change = change.max((v - probs[l]).abs());
                        probs[l] = v;
                    }
                }
            }
            let prior = (matches + PRIOR_MATCHES * 0.1) / (total + PRIOR_MATCHES);
            change = change.max((prior - model.prior).abs());
            model.prior = prior;
            model.iterations = iteration + 1;
            if change < 1e-6 {
                break;
            }
        }
        model
    }
}

/// What two unrelated records usually look like, per field type and level:
/// the u a comparison has before any data is seen. It matters only where
/// random pairs are few (a book of a handful of dossiers).
fn u_prior(c: &Comparison) -> Vec<f64> {
    use crate::FieldType::*;
    let agree: &[f64] = match c.kind {
        _ if !c.group.is_empty() => &[1e-4, 1e-3, 0.02],
        GivenName => &[0.01, 0.005, 0.001, 0.005, 0.02],
        FamilyName => &[0.01, 0.001, 0.005, 0.02],
        PersonName => &[0.001, 0.005, 0.02],
        Email => &[1e-5, 1e-4, 1e-5],
        Phone => &[1e-5, 1e-4],
        Date => &[1e-4, 5e-4, 0.015],
        Postcode => &[0.01, 0.02],
        Identifier => &[1e-6, 1e-5],
        Address => &[1e-4, 1e-3, 0.01],
        OrgName | City | Text => &[0.01, 0.01],
        Number => &[0.05, 0.05],
        Category | Ignore => &[0.2],
    };
    let levels = c.levels().len();
    let mut u = vec![0.0; levels];
    for (l, v) in agree.iter().enumerate().take(levels.saturating_sub(2)) {
        u[l + 1] = *v;
    }
    u[levels - 1] = 1.0 - u[1..levels - 1].iter().sum::<f64>();
    u
}

/// How many pairs' worth the prior u counts for against random pairs.
const U_PRIOR_PAIRS: f64 = 100.0;

/// u probabilities from `sample` random pairs (with replacement), seeded,
/// blended with [`u_prior`] by how many distinct pairs the data has.
fn random_u(comparisons: &[Comparison], ds: &Dataset, sample: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = ds.len() as u64;
    let levels: Vec<usize> = comparisons.iter().map(|c| c.levels().len()).collect();
    let mut counts: Vec<Vec<f64>> = levels.iter().map(|&l| vec![0.0; l]).collect();
    let mut drawn = 0.0;
    if n >= 2 {
        let link = ds.is_link();
        // Records in an order set by their ids, not by where they stand in
        // the input: the same records draw the same pairs in any order.
        let mut order: Vec<(u64, u32)> = (0..n as u32)
            .map(|r| (rustc_hash::FxBuildHasher.hash_one(ds.id(r)), r))
            .collect();
        order.sort_unstable_by(|x, y| x.0.cmp(&y.0).then_with(|| ds.id(x.1).cmp(ds.id(y.1))));
        let order: Vec<u32> = order.into_iter().map(|(_, r)| r).collect();
        // No use drawing many times more pairs than there are.
        let sample = (sample as u64).min((n * (n - 1) / 2).saturating_mul(4));
        let patterns: Vec<Pattern> = (0..sample)
            .into_par_iter()
            .filter_map(|i| {
                let r = splitmix(seed ^ splitmix(i));
                let a = order[(r % n) as usize];
                let b = order[((r >> 32) % n) as usize];
                let usable = a != b && (!link || ds.source(a) != ds.source(b));
                usable.then(|| pattern(comparisons, ds, a, b))
            })
            .collect();
        drawn = patterns.len() as f64;
        for p in patterns {
            for (c, row) in counts.iter_mut().enumerate() {
                row[level_of(p, c) as usize] += 1.0;
            }
        }
    }
    // Drawing a pair twice teaches nothing new: weigh the sample by the
    // distinct pairs there are.
    let distinct = (n as f64) * (n as f64 - 1.0) / 2.0;
    let scale = if drawn > 0.0 {
        drawn.min(distinct) / drawn
    } else {
        0.0
    };
    counts
        .into_iter()
        .zip(comparisons)
        .map(|(row, c)| {
            let prior = u_prior(c);
            let filled: f64 = row[1..].iter().sum::<f64>() * scale;
            let mut u = vec![0.0; row.len()];
            for l in 1..row.len() {
                u[l] = ((row[l] * scale + U_PRIOR_PAIRS * prior[l]) / (filled + U_PRIOR_PAIRS))
                    .max(FLOOR);
            }
            u
        })
        .collect()
}

/// SplitMix64: a small, good, seedable mixer for reproducible sampling.
pub(crate) fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
