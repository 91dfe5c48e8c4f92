//! The pipeline: block → compare → learn → score → cluster, and explanations.

use std::fmt;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::block::{candidate_pairs, default_rules, BlockingRule};
use crate::cluster::{cluster_sources, Clusters};
use crate::compare::{default_comparisons, Comparison};
use crate::dataset::Dataset;
use crate::field::FieldType;
use crate::model::{level_of, pattern, Model, Pattern, MAX_COMPARISONS};
use crate::settings::Settings;
use crate::Error;

/// What a score means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The same customer.
    Match,
    /// Possibly the same: a person should look.
    Review,
    /// Different customers.
    NonMatch,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Match => "match",
            Decision::Review => "review",
            Decision::NonMatch => "non-match",
        })
    }
}

/// A scored pair of records (rows of the dataset).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredPair {
    /// The first record's row.
    pub a: u32,
    /// The second record's row.
    pub b: u32,
    /// The match weight: log2 of the odds of a match.
    pub weight: f64,
    /// The match probability.
    pub probability: f64,
    /// Match, review or non-match by the settings' thresholds.
    pub decision: Decision,
    /// Whether the two ended in one cluster (a match the chain guard cut
    /// off does not).
    pub clustered: bool,
}

/// Counts and timings of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Records read.
    pub records: usize,
    /// Candidate pairs compared.
    pub candidates: usize,
    /// Pairs at or above the match threshold.
    pub matches: usize,
    /// Pairs between the review and match thresholds.
    pub reviews: usize,
    /// Clusters of more than one record.
    pub clusters: usize,
    /// Matches the chain guard did not join on.
    pub split: usize,
    /// Per blocking rule, the pairs it proposed.
    pub per_rule: Vec<(String, u64)>,
    /// Seconds spent per stage.
    pub seconds: Vec<(&'static str, f64)>,
}

/// The answer of a run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Pairs at or above the review threshold, strongest first.
    pub pairs: Vec<ScoredPair>,
    /// The clusters of every record.
    pub clusters: Clusters,
    /// What the run noticed: skipped blocks, fields without values.
    pub warnings: Vec<String>,
    /// Counts and timings.
    pub stats: Stats,
}

/// Where a long run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The stage: "blocking", "comparing", "training", "scoring", "clustering".
    pub stage: &'static str,
    /// Stages done.
    pub done: u64,
    /// Stages in all.
    pub total: u64,
}

/// A dataset with its comparisons, blocking rules and (once trained) model.
#[derive(Clone, Debug)]
pub struct Deduper {
    ds: Dataset,
    settings: Settings,
    comparisons: Vec<Comparison>,
    rules: Vec<BlockingRule>,
    vetoes: Vec<Vec<usize>>,
    model: Option<Model>,
    /// Guessed fields not compared: more than the model takes.
    left_out: Vec<String>,
}

/// Trims guessed comparisons to the most the model takes, leaving out the
/// weakest evidence first (categories and free text, then numbers; of equals,
/// the later column): a table with every column of a CRM export still
/// dedupes. Returns the names left out.
fn keep_strongest(comparisons: &mut Vec<Comparison>) -> Vec<String> {
    let strength = |k: FieldType| match k {
        FieldType::Category | FieldType::Text => 0,
        FieldType::Number => 1,
        _ => 2,
    };
    let mut left_out = Vec::new();
    while comparisons.len() > MAX_COMPARISONS {
        let weakest = (0..comparisons.len())
            .rev()
            .min_by_key(|&i| strength(comparisons[i].kind))
            .expect("more than the most is not none");
        left_out.push(comparisons.remove(weakest).field);
    }
    left_out.reverse();
    left_out
}

impl Deduper {
    /// Prepares a dataset for deduplication (or linking, when it holds two
    /// sources) under these settings.
    pub fn new(mut ds: Dataset, settings: Settings) -> Result<Self, Error> {
        ds.freeze();
        let mut comparisons = default_comparisons(&ds);
        for c in &mut comparisons {
            c.term_frequency &= settings.term_frequency;
        }
        let left_out = if settings.fields.is_empty() {
            keep_strongest(&mut comparisons)
        } else {
            Vec::new()
        };
        if comparisons.len() > MAX_COMPARISONS {
            return Err(Error::Settings(format!(
                "{} fields to compare; at most {MAX_COMPARISONS} (mark the others `ignore`)",
                comparisons.len()
            )));
        }
        let rule_texts = if settings.blocking.is_empty() {
            default_rules(&ds)
        } else {
            settings.blocking.clone()
        };
        let rules = rule_texts
            .iter()
            .map(|r| BlockingRule::parse(r, &ds))
            .collect::<Result<Vec<_>, _>>()?;
        let index_of = |name: &str| {
            comparisons
                .iter()
                .position(|c| c.field == name)
                .ok_or_else(|| Error::Settings(format!("veto names no compared field `{name}`")))
        };
        let vetoes = match &settings.veto {
            Some(groups) => groups
                .iter()
                .map(|g| g.iter().map(|n| index_of(n)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?,
            None => {
                let given = comparisons
                    .iter()
                    .position(|c| c.kind == FieldType::GivenName);
                let date = comparisons.iter().position(|c| c.kind == FieldType::Date);
                match (given, date) {
                    (Some(g), Some(d)) => vec![vec![g, d]],
                    _ => Vec::new(),
                }
            }
        };
        Ok(Deduper {
            ds,
            settings,
            comparisons,
            rules,
            vetoes,
            model: None,
            left_out,
        })
    }

    /// The records.
    pub fn dataset(&self) -> &Dataset {
        &self.ds
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The blocking rules in use.
    pub fn rules(&self) -> &[BlockingRule] {
        &self.rules
    }

    /// The comparisons in use.
    pub fn comparisons(&self) -> &[Comparison] {
        &self.comparisons
    }

    /// The trained model, once [`Deduper::run`] has run (or one was given).
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// Uses a model trained before instead of learning one.
    pub fn set_model(&mut self, model: Model) -> Result<(), Error> {
        if model.comparisons != self.comparisons {
            return Err(Error::Settings(
                "the model was trained on other fields than these records have".into(),
            ));
        }
        self.model = Some(model);
        Ok(())
    }

    /// Learns the model (when none is set) from the records' candidate
    /// pairs, without scoring or clustering them: what a caller that scores
    /// elsewhere needs.
    pub fn train(&mut self) -> Result<&Model, Error> {
        if self.model.is_none() {
            let candidates = candidate_pairs(&self.ds, &self.rules, self.settings.max_block);
            let (ds, comparisons) = (&self.ds, &self.comparisons);
            let patterns: Vec<Pattern> = candidates
                .pairs
                .par_iter()
                .map(|&(a, b)| pattern(comparisons, ds, a, b))
                .collect();
            self.model = Some(Model::train(
                self.comparisons.clone(),
                self.vetoes.clone(),
                &self.ds,
                &patterns,
                self.settings.sample_pairs,
                self.settings.seed,
            ));
        }
        self.model
            .as_ref()
            .ok_or_else(|| Error::Settings("no model".into()))
    }

    /// Blocks, compares, learns the model (unless one was set), scores and
    /// clusters; `progress` hears of each stage.
    pub fn run(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<Outcome, Error> {
        let mut stats = Stats {
            records: self.ds.len(),
            ..Stats::default()
        };
        let mut warnings = Vec::new();
        if !self.left_out.is_empty() {
            warnings.push(format!(
                "{} fields left out of the comparison (at most {MAX_COMPARISONS} are compared; name the fields in the settings to choose): {}",
                self.left_out.len(),
                self.left_out.join(", ")
            ));
        }
        for c in self.ds.columns() {
            if c.spec.kind != FieldType::Ignore && c.filled() == 0 && !self.ds.is_empty() {
                warnings.push(format!("field `{}` has no values", c.spec.name));
            }
        }
        let mut stage = 0u64;
        let mut tick = |name: &'static str, stats: &mut Stats, started: Instant| {
            stats.seconds.push((name, started.elapsed().as_secs_f64()));
            stage += 1;
            progress(Progress {
                stage: name,
                done: stage,
                total: 5,
            });
        };

        let t = Instant::now();
        let candidates = candidate_pairs(&self.ds, &self.rules, self.settings.max_block);
        warnings.extend(candidates.warnings);
        stats.per_rule = candidates.per_rule;
        stats.candidates = candidates.pairs.len();
        let pairs = candidates.pairs;
        tick("blocking", &mut stats, t);

        let t = Instant::now();
        let ds = &self.ds;
        let comparisons = &self.comparisons;
        let patterns: Vec<Pattern> = pairs
            .par_iter()
            .map(|&(a, b)| pattern(comparisons, ds, a, b))
            .collect();
        tick("comparing", &mut stats, t);

        let t = Instant::now();
        if self.model.is_none() {
            self.model = Some(Model::train(
                self.comparisons.clone(),
                self.vetoes.clone(),
                &self.ds,
                &patterns,
                self.settings.sample_pairs,
                self.settings.seed,
            ));
        }
        let Some(model) = self.model.as_ref() else {
            return Err(Error::Settings("no model".into()));
        };
        tick("training", &mut stats, t);

        let t = Instant::now();
        let (match_at, review_at) = (
            self.settings.match_threshold,
            self.settings.review_threshold,
        );
        let mut scored: Vec<ScoredPair> = pairs
            .par_iter()
            .zip(patterns.par_iter())
            .filter_map(|(&(a, b), &p)| {
                let weight = model.pair_weight(ds, a, p);
                let probability = model.probability(p, weight);
                (probability >= review_at).then_some(ScoredPair {
                    a,
                    b,
                    weight,
                    probability,
                    decision: if probability >= match_at {
                        Decision::Match
                    } else {
                        Decision::Review
                    },
                    clustered: false,
                })
            })
            .collect();
        drop(patterns);
        drop(pairs);
        // Strongest first; ties by record id, so the order is the same
        // whatever order the records came in.
        scored.par_sort_by(|x, y| {
            y.weight
                .total_cmp(&x.weight)
                .then_with(|| ordered_ids(ds, x).cmp(&ordered_ids(ds, y)))
        });
        tick("scoring", &mut stats, t);

        let t = Instant::now();
        let matches: Vec<(u32, u32)> = scored
            .iter()
            .take_while(|p| p.decision == Decision::Match)
            .map(|p| (p.a, p.b))
            .collect();
        let sources: Vec<u8> = if self.ds.is_link() {
            (0..self.ds.len() as u32)
                .map(|r| self.ds.source(r))
                .collect()
        } else {
            Vec::new()
        };
        let clusters = cluster_sources(self.ds.len(), &matches, &sources);
        for &i in &clusters.kept {
            scored[i].clustered = true;
        }
        stats.matches = matches.len();
        stats.reviews = scored.len() - matches.len();
        stats.split = clusters.split;
        let mut sizes = std::collections::HashMap::<u32, u32>::new();
        for &c in &clusters.of {
            *sizes.entry(c).or_default() += 1;
        }
        stats.clusters = sizes.values().filter(|&&s| s > 1).count();
        tick("clustering", &mut stats, t);
        Ok(Outcome {
            pairs: scored,
            clusters,
            warnings,
            stats,
        })
    }

    /// Why two records (by id) score as they do, field by field.
    pub fn explain(&self, id_l: &str, id_r: &str) -> Result<Explanation, Error> {
        let find = |id: &str| {
            self.ds
                .row_of(id)
                .ok_or_else(|| Error::NotFound(id.to_string()))
        };
        Ok(self.explain_rows(find(id_l)?, find(id_r)?))
    }

    /// Why two records (by row) score as they do.
    pub fn explain_rows(&self, a: u32, b: u32) -> Explanation {
        let model = self.model.clone().unwrap_or_else(|| {
            Model::train(
                self.comparisons.clone(),
                self.vetoes.clone(),
                &self.ds,
                &[],
                self.settings.sample_pairs.min(100_000),
                self.settings.seed,
            )
        });
        explain_pair(
            &self.ds,
            &model,
            (
                self.settings.match_threshold,
                self.settings.review_threshold,
            ),
            a,
            b,
        )
    }

    /// The veto groups in use (comparison numbers).
    pub fn vetoes(&self) -> &[Vec<usize>] {
        &self.vetoes
    }
}

/// Why two rows of a dataset score as they do under a model, with the
/// match and review thresholds.
pub(crate) fn explain_pair(
    ds: &Dataset,
    model: &Model,
    (match_at, review_at): (f64, f64),
    a: u32,
    b: u32,
) -> Explanation {
    let comparisons = &model.comparisons;
    let p = pattern(comparisons, ds, a, b);
    let fields = comparisons
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let level = level_of(p, i);
            let col = &ds.columns()[c.column];
            let tf = if level == 1 && c.term_frequency {
                model.tf_adjustment(i, col.count(ds.cell(a, c.column)), col.filled())
            } else {
                0.0
            };
            FieldExplanation {
                field: c.field.clone(),
                left: c
                    .columns()
                    .map(|col| ds.text(a, col))
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                right: c
                    .columns()
                    .map(|col| ds.text(b, col))
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                level: c.levels()[level as usize].to_string(),
                weight: model.weight(i, level) + tf,
            }
        })
        .collect();
    let weight = model.pair_weight(ds, a, p);
    let probability = model.probability(p, weight);
    // The groups that vetoed, each named: "given_name and birth_date differ".
    let veto = model.vetoed(p).then(|| {
        model
            .vetoes
            .iter()
            .filter(|g| model.vetoed_by(g, p))
            .map(|g| {
                let names: Vec<&str> = g
                    .iter()
                    .map(|&c| model.comparisons[c].field.as_str())
                    .collect();
                let verb = if names.len() == 1 {
                    "differs"
                } else {
                    "differ"
                };
                format!("{} {verb}", names.join(" and "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    });
    Explanation {
        id_l: ds.id(a).to_string(),
        id_r: ds.id(b).to_string(),
        prior_weight: model.prior_weight(),
        fields,
        weight,
        probability,
        decision: if probability >= match_at {
            Decision::Match
        } else if probability >= review_at {
            Decision::Review
        } else {
            Decision::NonMatch
        },
        veto,
    }
}

fn ordered_ids<'a>(ds: &'a Dataset, p: &ScoredPair) -> (&'a str, &'a str) {
    let (x, y) = (ds.id(p.a), ds.id(p.b));
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}

/// One field's part in a pair's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldExplanation {
    /// The field.
    pub field: String,
    /// The first record's normalised value.
    pub left: String,
    /// The second record's normalised value.
    pub right: String,
    /// The level they agree at.
    pub level: String,
    /// Its weight (log2 Bayes factor), term-frequency adjustment included.
    pub weight: f64,
}

/// Why a pair scores as it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The first record's id.
    pub id_l: String,
    /// The second record's id.
    pub id_r: String,
    /// The prior's weight (how common matches are among candidates).
    pub prior_weight: f64,
    /// Each field's level and weight.
    pub fields: Vec<FieldExplanation>,
    /// The total weight.
    pub weight: f64,
    /// The match probability.
    pub probability: f64,
    /// Match, review or non-match.
    pub decision: Decision,
    /// A rule that held against a match, if one did: a veto (a non-match),
    /// or, for a write's check, no field that names one person agreeing
    /// (a possible match at most).
    pub veto: Option<String>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = |s: &str| -> String {
            if s.chars().count() > 28 {
                s.chars().take(27).collect::<String>() + "…"
            } else {
                s.to_string()
            }
        };
        writeln!(f, "{} ~ {}", self.id_l, self.id_r)?;
        writeln!(
            f,
            "{:<20} {:<28} {:<28} {:<40} {:>7}",
            "field", "left", "right", "level", "weight"
        )?;
        writeln!(
            f,
            "{:<20} {:<28} {:<28} {:<40} {:>+7.2}",
            "(prior)", "", "", "", self.prior_weight
        )?;
        for x in &self.fields {
            writeln!(
                f,
                "{:<20} {:<28} {:<28} {:<40} {:>+7.2}",
                cut(&x.field),
                cut(&x.left),
                cut(&x.right),
                x.level,
                x.weight
            )?;
        }
        if let Some(v) = &self.veto {
            writeln!(f, "veto: {v}")?;
        }
        write!(
            f,
            "total weight {:+.2}, probability {:.4}: {}",
            self.weight, self.probability, self.decision
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_of_more_guessed_fields_than_the_model_takes_leaves_out_the_weakest() {
        let mut headers: Vec<String> = vec!["email".into(), "phone".into(), "birth_date".into()];
        headers.extend((0..20).map(|i| format!("note_{i}")));
        let rows: Vec<Result<Vec<String>, Error>> = (0..40)
            .map(|r| {
                let mut row = vec![
                    format!("p{}@example.com", r % 30),
                    format!("+49 30 {}", 1_000_000 + r % 30),
                    format!("19{}-01-0{}", 50 + r % 30, 1 + r % 9),
                ];
                row.extend((0..20).map(|i| format!("w{} {}", i, r % 3)));
                Ok(row)
            })
            .collect();
        let ds = Dataset::from_rows(&headers, &mut rows.into_iter(), None, &[]).unwrap();
        let mut dd = Deduper::new(ds, Settings::default()).unwrap();
        assert_eq!(dd.comparisons().len(), MAX_COMPARISONS);
        let kept: Vec<&str> = dd.comparisons().iter().map(|c| c.field.as_str()).collect();
        assert!(
            kept.starts_with(&["email", "phone", "birth_date"]),
            "{kept:?}"
        );
        let out = dd.run(&mut |_| {}).unwrap();
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains("7 fields left out") && w.contains("note_19")),
            "{:?}",
            out.warnings
        );

        let named = Settings {
            fields: dd.dataset().fields(),
            ..Settings::default()
        };
        let ds = dd.dataset().clone();
        assert!(
            Deduper::new(ds, named).is_err(),
            "named fields are never left out"
        );
    }
}
