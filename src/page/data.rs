//! What the report page shows, gathered through the policy stage: the
//! counts and growth, rule violations and missing required fields, the
//! stale queue, duplicates with one explanation a cluster, the review
//! queue, RFM, value tiers, lifecycle stages and saved segments.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use kehu_dedupe::{Explanation, Settings};
use kehu_model::{CustomerId, Timestamp};
use kehu_rules::Severity;
use serde::{Deserialize, Serialize};

use crate::{Book, BookReport, BookStats, ClassifyOptions, Error};

/// What goes into the report page. Plain data (serde), as every surface passes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageOptions {
    /// RFM, value tiers and lifecycle cut-offs.
    pub classify: ClassifyOptions,
    /// A dossier not verified for this many days is stale.
    pub stale_days: u32,
    /// Whether to run the duplicate search (the longest part on a big book).
    pub duplicates: bool,
    /// How many clusters, review pairs and stale dossiers are listed one by one.
    pub listed: usize,
}

impl Default for PageOptions {
    fn default() -> Self {
        Self {
            classify: ClassifyOptions::default(),
            stale_days: 180,
            duplicates: true,
            listed: 10,
        }
    }
}

impl PageOptions {
    /// Reads options from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        crate::options::from_json("report options", text)
    }
}

/// A dossier named as the reader may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    /// The dossier.
    pub id: CustomerId,
    /// Its display name (masked by the policy).
    pub name: String,
}

/// A stale dossier: who, and since when nobody confirmed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleEntry {
    /// The dossier.
    pub who: Named,
    /// When it was last verified (or created).
    pub since: Timestamp,
}

/// A cluster of dossiers that are one customer, with why its first two match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEntry {
    /// Its dossiers.
    pub members: Vec<Named>,
    /// The first two's explanation, field by field.
    pub explanation: Option<Explanation>,
}

/// A pair someone should look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewEntry {
    /// One dossier.
    pub left: Named,
    /// The other.
    pub right: Named,
    /// The match probability.
    pub probability: f64,
}

/// The duplicates of the book.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DuplicateSummary {
    /// Clusters of two or more dossiers.
    pub clusters: u64,
    /// Dossiers in them.
    pub records: u64,
    /// Pairs to review.
    pub reviews: u64,
    /// The largest clusters, explained.
    pub largest: Vec<ClusterEntry>,
    /// The strongest pairs to review.
    pub to_review: Vec<ReviewEntry>,
}

/// Everything the report page shows, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// When it was made.
    pub generated_at: Timestamp,
    /// Counts by kind, stage, source, tag; imports per month.
    pub stats: BookStats,
    /// RFM, tiers, stages, new dossiers per month, saved segments.
    pub classes: BookReport,
    /// Dossiers checked against the rules.
    pub checked: u64,
    /// Dossiers that break at least one rule now.
    pub failing: u64,
    /// Violations by code (`format.email`, `required`), errors and warnings.
    pub violations: BTreeMap<String, u64>,
    /// Missing required fields, by field path.
    pub missing: BTreeMap<String, u64>,
    /// The stale threshold in days.
    pub stale_days: u32,
    /// Dossiers not verified within it.
    pub stale: u64,
    /// The oldest of them.
    pub oldest_stale: Vec<StaleEntry>,
    /// The duplicates (none when not searched, or not for this principal to compare).
    pub duplicates: Option<DuplicateSummary>,
}

impl Book {
    /// The data of the report page ([`Book::report_page`]): every part read
    /// through the policy stage, so a principal's page shows what it may see.
    pub fn quality_report(&self, options: &PageOptions) -> Result<QualityReport, Error> {
        let stats = self.stats()?;
        let classes = self.report(&options.classify)?;
        let now = self.now();
        let (mut checked, mut failing) = (0u64, 0u64);
        let mut violations = BTreeMap::new();
        let mut missing = BTreeMap::new();
        for c in self.store.snapshot()?.customers()? {
            let mut c = c?;
            let report = self.rules.check(&mut c, now);
            checked += 1;
            failing += u64::from(
                report
                    .violations
                    .iter()
                    .any(|v| v.severity == Severity::Error),
            );
            for v in report.violations {
                *violations.entry(v.code.clone()).or_insert(0u64) += 1;
                if v.code == "required" {
                    *missing.entry(v.path).or_insert(0u64) += 1;
                }
            }
        }
        let stale_list = self.stale(TimeDelta::days(i64::from(options.stale_days)))?;
        let oldest_stale = stale_list
            .iter()
            .take(options.listed)
            .map(|c| StaleEntry {
                who: Named {
                    id: c.id,
                    name: c.display_name(),
                },
                since: c.verified_at.unwrap_or(c.created_at),
            })
            .collect();
        let duplicates = if options.duplicates && stats.customers > 1 {
            // A principal who may not compare the matched fields gets the
            // page without its duplicates (the denial is in the audit trail).
            match self.duplicate_summary(options.listed) {
                Ok(d) => Some(d),
                Err(Error::Denied { .. }) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        Ok(QualityReport {
            generated_at: now,
            stats,
            classes,
            checked,
            failing,
            violations,
            missing,
            stale_days: options.stale_days,
            stale: stale_list.len() as u64,
            oldest_stale,
            duplicates,
        })
    }

    fn duplicate_summary(&self, listed: usize) -> Result<DuplicateSummary, Error> {
        let found = self.dedupe(&Settings::default(), &mut |_| {})?;
        let named = |id: CustomerId| -> Result<Named, Error> {
            Ok(Named {
                id,
                name: self.get(id)?.display_name(),
            })
        };
        let mut largest = Vec::new();
        for cluster in found.clusters.iter().take(listed) {
            let members = cluster
                .iter()
                .map(|&id| named(id))
                .collect::<Result<Vec<_>, _>>()?;
            let explanation = match cluster.as_slice() {
                [a, b, ..] => Some(self.explain_duplicate(*a, *b)?),
                _ => None,
            };
            largest.push(ClusterEntry {
                members,
                explanation,
            });
        }
        let reviews: Vec<_> = found.pairs.iter().filter(|p| !p.clustered).collect();
        let to_review = reviews
            .iter()
            .take(listed)
            .map(|p| {
                Ok(ReviewEntry {
                    left: named(p.id_l)?,
                    right: named(p.id_r)?,
                    probability: p.probability,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(DuplicateSummary {
            clusters: found.clusters.len() as u64,
            records: found.clusters.iter().map(|c| c.len() as u64).sum(),
            reviews: reviews.len() as u64,
            largest,
            to_review,
        })
    }
}
