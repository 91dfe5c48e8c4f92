//! Classifiers as data: RFM scores and groups, value tiers, and the lifecycle
//! stage derived from purchases. Each works on a customer's purchase activity.

use kehu_model::{Currency, LifecycleStage, Related};
use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// A customer's purchases, summed up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Activity {
    /// The first purchase.
    pub first: Option<Timestamp>,
    /// The latest purchase.
    pub last: Option<Timestamp>,
    /// How many purchases.
    pub count: u32,
    /// Their total in major units of the currency asked for.
    pub monetary: f64,
}

impl Activity {
    /// The activity in a customer's related records; amounts in other currencies are left out.
    pub fn of(related: &[Related], currency: Currency) -> Self {
        let mut a = Activity::default();
        for r in related {
            if let Related::Purchase(p) = r {
                a.count += 1;
                a.first = Some(a.first.map_or(p.at, |f| f.min(p.at)));
                a.last = Some(a.last.map_or(p.at, |l| l.max(p.at)));
                if p.amount.currency == currency {
                    a.monetary += p.amount.minor as f64 / 10f64.powi(currency.exponent() as i32);
                }
            }
        }
        a
    }
}

/// How RFM scores are cut: by quintiles of the book (the default) or at fixed points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RfmConfig {
    /// Days since the last purchase at which the recency score drops from 5 to 4, 4 to 3, … (four ascending values).
    pub recency_days: Option<[f64; 4]>,
    /// Purchase counts at which the frequency score rises from 1 to 2, … (four ascending values).
    pub frequency: Option<[f64; 4]>,
    /// Totals at which the monetary score rises from 1 to 2, … (four ascending values).
    pub monetary: Option<[f64; 4]>,
}

impl RfmConfig {
    /// Checks the cut-offs: four finite values each, ascending.
    pub fn check(&self) -> Result<(), String> {
        for (name, cuts) in [
            ("recency_days", &self.recency_days),
            ("frequency", &self.frequency),
            ("monetary", &self.monetary),
        ] {
            if let Some(c) = cuts {
                if c.iter().any(|v| !v.is_finite() || *v < 0.0) || c.windows(2).any(|w| w[0] > w[1])
                {
                    return Err(format!(
                        "{name}: four ascending numbers of zero or more, not {c:?}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// RFM scores, 1 (worst) to 5 (best), and the group they put the customer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rfm {
    /// Recency: 5 bought most recently.
    pub r: u8,
    /// Frequency: 5 buys most often.
    pub f: u8,
    /// Monetary: 5 spends most.
    pub m: u8,
    /// The named group.
    pub group: RfmGroup,
}

/// The usual named RFM groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RfmGroup {
    /// Bought recently, often, and spend the most.
    Champions,
    /// Buy often.
    Loyal,
    /// Recent customers with a few purchases.
    PotentialLoyalists,
    /// Bought recently for the first time.
    New,
    /// Bought often and much, but long ago.
    CantLose,
    /// Bought often, but not lately.
    AtRisk,
    /// Below average recency and frequency.
    NeedAttention,
    /// Few purchases, long ago.
    Hibernating,
    /// The lowest recency and frequency.
    Lost,
}

impl RfmGroup {
    /// The group's name: `champions`, `cant_lose`, …
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Champions => "champions",
            Self::Loyal => "loyal",
            Self::PotentialLoyalists => "potential_loyalists",
            Self::New => "new",
            Self::CantLose => "cant_lose",
            Self::AtRisk => "at_risk",
            Self::NeedAttention => "need_attention",
            Self::Hibernating => "hibernating",
            Self::Lost => "lost",
        }
    }

    fn of(r: u8, f: u8, m: u8) -> Self {
        match (r, f, m) {
            (4..=5, 4..=5, 4..=5) => Self::Champions,
            (1, 4..=5, 4..=5) => Self::CantLose,
            (1..=2, 3..=5, _) => Self::AtRisk,
            (3..=5, 4..=5, _) => Self::Loyal,
            (5, 1, _) => Self::New,
            (4..=5, 1..=3, _) => Self::PotentialLoyalists,
            (1, 1..=2, _) => Self::Lost,
            (2, 1..=2, _) => Self::Hibernating,
            _ => Self::NeedAttention,
        }
    }
}

/// RFM for every customer (aligned with `activities`); none for those without purchases.
pub fn rfm(activities: &[Activity], now: Timestamp, config: &RfmConfig) -> Vec<Option<Rfm>> {
    let buyers: Vec<usize> = (0..activities.len())
        .filter(|&i| activities[i].last.is_some())
        .collect();
    let days = |a: &Activity| {
        a.last
            .map_or(f64::INFINITY, |l| (now - l).num_seconds() as f64 / 86_400.0)
    };
    // Higher is better for every score: recency uses the negated age.
    let recency: Vec<f64> = buyers.iter().map(|&i| -days(&activities[i])).collect();
    let frequency: Vec<f64> = buyers
        .iter()
        .map(|&i| f64::from(activities[i].count))
        .collect();
    let monetary: Vec<f64> = buyers.iter().map(|&i| activities[i].monetary).collect();
    let r = scores(
        &recency,
        config.recency_days.map(|c| c.map(|d| -d)).map(reverse),
    );
    let f = scores(&frequency, config.frequency);
    let m = scores(&monetary, config.monetary);
    let mut out = vec![None; activities.len()];
    for (k, &i) in buyers.iter().enumerate() {
        out[i] = Some(Rfm {
            r: r[k],
            f: f[k],
            m: m[k],
            group: RfmGroup::of(r[k], f[k], m[k]),
        });
    }
    out
}

fn reverse(mut c: [f64; 4]) -> [f64; 4] {
    c.reverse();
    c
}

/// Scores 1–5: at fixed cut-offs (a value at or above the k-th cut scores k + 2),
/// or by quintile of rank, equal values scoring alike.
fn scores(values: &[f64], cutoffs: Option<[f64; 4]>) -> Vec<u8> {
    if let Some(cuts) = cutoffs {
        return values
            .iter()
            .map(|v| 1 + cuts.iter().filter(|c| v >= c).count() as u8)
            .collect();
    }
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len().max(1);
    values
        .iter()
        .map(|v| {
            // The rank of the first equal value: ties share a score.
            let rank = sorted.partition_point(|x| x.total_cmp(v).is_lt());
            1 + (5 * rank / n).min(4) as u8
        })
        .collect()
}

/// How customers are split into value tiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierConfig {
    /// The share of buyers, by total spent, in the high tier (default 0.2).
    pub high_share: f64,
    /// The share in the medium tier after them (default 0.3).
    pub medium_share: f64,
    /// Fixed totals instead of shares: at least `high` is high, at least `medium` medium.
    pub thresholds: Option<(f64, f64)>,
}

impl Default for TierConfig {
    fn default() -> Self {
        Self {
            high_share: 0.2,
            medium_share: 0.3,
            thresholds: None,
        }
    }
}

impl TierConfig {
    /// Checks the shares (each 0 to 1, together at most 1) and thresholds (high ≥ medium ≥ 0).
    pub fn check(&self) -> Result<(), String> {
        let share = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !share(self.high_share)
            || !share(self.medium_share)
            || self.high_share + self.medium_share > 1.0 + 1e-9
        {
            return Err(format!(
                "high_share {} and medium_share {}: shares from 0 to 1 that add up to 1 at most",
                self.high_share, self.medium_share
            ));
        }
        if let Some((high, medium)) = self.thresholds {
            if !(high.is_finite() && medium.is_finite() && high >= medium && medium >= 0.0) {
                return Err(format!(
                    "thresholds ({high}, {medium}): the high total at least the medium one, both zero or more"
                ));
            }
        }
        Ok(())
    }
}

/// A value tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The most valuable customers (VIP).
    High,
    /// The middle.
    Medium,
    /// The rest of the buyers.
    Low,
}

/// The value tier of every buyer (aligned with `activities`); none for those without purchases.
pub fn value_tiers(activities: &[Activity], config: &TierConfig) -> Vec<Option<Tier>> {
    let mut spent: Vec<f64> = activities
        .iter()
        .filter(|a| a.count > 0)
        .map(|a| a.monetary)
        .collect();
    spent.sort_by(|a, b| b.total_cmp(a));
    let (high, medium) = config.thresholds.unwrap_or_else(|| {
        let at = |share: f64| {
            let k = ((share * spent.len() as f64).ceil() as usize).clamp(1, spent.len().max(1));
            spent.get(k - 1).copied().unwrap_or(f64::INFINITY)
        };
        (
            at(config.high_share),
            at(config.high_share + config.medium_share),
        )
    });
    activities
        .iter()
        .map(|a| {
            let tier = if a.monetary >= high {
                Tier::High
            } else if a.monetary >= medium {
                Tier::Medium
            } else {
                Tier::Low
            };
            (a.count > 0).then_some(tier)
        })
        .collect()
}

/// When a customer is new, active, at risk or churned, in days since a purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// A first purchase within this many days: new (default 30).
    pub new_days: i64,
    /// A purchase within this many days: active (default 90).
    pub active_days: i64,
    /// No purchase for this many days: churned; between active and this, at risk (default 180).
    pub churned_days: i64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            new_days: 30,
            active_days: 90,
            churned_days: 180,
        }
    }
}

impl LifecycleConfig {
    /// Checks the days: new ≤ active < churned, all positive.
    pub fn check(&self) -> Result<(), String> {
        if self.new_days <= 0
            || self.new_days > self.active_days
            || self.active_days >= self.churned_days
        {
            return Err(format!(
                "new_days {}, active_days {}, churned_days {}: positive, with new ≤ active < churned",
                self.new_days, self.active_days, self.churned_days
            ));
        }
        Ok(())
    }
}

/// The lifecycle stage from activity: potential (no purchase), new, active,
/// at risk, churned. A stage set on the dossier wins.
pub fn lifecycle(
    activity: &Activity,
    explicit: Option<LifecycleStage>,
    now: Timestamp,
    config: &LifecycleConfig,
) -> LifecycleStage {
    if let Some(stage) = explicit {
        return stage;
    }
    let (Some(first), Some(last)) = (activity.first, activity.last) else {
        return LifecycleStage::Potential;
    };
    let days = |t: Timestamp| (now - t).num_days();
    if days(first) <= config.new_days {
        LifecycleStage::New
    } else if days(last) <= config.active_days {
        LifecycleStage::Active
    } else if days(last) < config.churned_days {
        LifecycleStage::AtRisk
    } else {
        LifecycleStage::Churned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 6, 15, 0, 0, 0).unwrap()
    }

    fn act(days_ago_first: i64, days_ago_last: i64, count: u32, monetary: f64) -> Activity {
        Activity {
            first: Some(now() - TimeDelta::days(days_ago_first)),
            last: Some(now() - TimeDelta::days(days_ago_last)),
            count,
            monetary,
        }
    }

    #[test]
    fn quintile_scores_and_ties() {
        assert_eq!(
            scores(&[1.0, 2.0, 3.0, 4.0, 5.0], None),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(scores(&[7.0, 7.0, 7.0], None), vec![1, 1, 1]);
        assert_eq!(
            scores(
                &[1.0, 1.0, 9.0, 9.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0],
                None
            ),
            vec![1, 1, 2, 2, 2, 3, 4, 4, 5, 5]
        );
        assert_eq!(
            scores(&[0.0, 5.0, 10.0, 50.0], Some([5.0, 10.0, 20.0, 40.0])),
            vec![1, 2, 3, 5]
        );
    }

    #[test]
    fn rfm_scores_groups_and_buyers_only() {
        let acts = vec![
            act(400, 2, 20, 9000.0),   // recent, frequent, big: champion
            act(900, 700, 18, 8000.0), // frequent and big, long ago: can't lose
            act(10, 10, 1, 50.0),      // one recent purchase
            act(800, 600, 1, 20.0),    // one purchase long ago (second oldest): hibernating
            act(300, 200, 3, 300.0),
            Activity::default(), // never bought
        ];
        let out = rfm(&acts, now(), &RfmConfig::default());
        assert_eq!(out[5], None);
        let champion = out[0].unwrap();
        assert_eq!((champion.r, champion.group), (5, RfmGroup::Champions));
        assert_eq!(out[1].unwrap().group, RfmGroup::CantLose);
        assert_eq!(
            (out[3].unwrap().r, out[3].unwrap().group),
            (2, RfmGroup::Hibernating)
        );
        assert!(out[2].unwrap().r >= 4);
        // Fixed cut-offs: 10 days ago scores 5 when the first cut is 30 days.
        let fixed = RfmConfig {
            recency_days: Some([30.0, 90.0, 180.0, 365.0]),
            ..RfmConfig::default()
        };
        let out = rfm(&acts, now(), &fixed);
        assert_eq!(out[2].unwrap().r, 5);
        assert_eq!(out[4].unwrap().r, 2); // 200 days: between 180 and 365
        assert_eq!(out[3].unwrap().r, 1);
    }

    #[test]
    fn tiers_by_share_and_threshold() {
        let acts: Vec<Activity> = (1..=10)
            .map(|i| act(10, 5, 1, f64::from(i) * 100.0))
            .chain([Activity::default()])
            .collect();
        let t = value_tiers(&acts, &TierConfig::default());
        assert_eq!(t.iter().filter(|t| **t == Some(Tier::High)).count(), 2);
        assert_eq!(t.iter().filter(|t| **t == Some(Tier::Medium)).count(), 3);
        assert_eq!(t.iter().filter(|t| **t == Some(Tier::Low)).count(), 5);
        assert_eq!(t[10], None);
        let fixed = TierConfig {
            thresholds: Some((900.0, 500.0)),
            ..TierConfig::default()
        };
        let t = value_tiers(&acts, &fixed);
        assert_eq!(
            (t[8], t[4], t[3]),
            (Some(Tier::High), Some(Tier::Medium), Some(Tier::Low))
        );
    }

    #[test]
    fn lifecycle_from_activity() {
        let c = LifecycleConfig::default();
        let stage = |a: Activity| lifecycle(&a, None, now(), &c);
        assert_eq!(stage(Activity::default()), LifecycleStage::Potential);
        assert_eq!(stage(act(10, 10, 1, 1.0)), LifecycleStage::New);
        assert_eq!(stage(act(400, 60, 5, 1.0)), LifecycleStage::Active);
        assert_eq!(stage(act(400, 120, 5, 1.0)), LifecycleStage::AtRisk);
        assert_eq!(stage(act(400, 200, 5, 1.0)), LifecycleStage::Churned);
        assert_eq!(
            lifecycle(
                &act(400, 200, 5, 1.0),
                Some(LifecycleStage::Active),
                now(),
                &c
            ),
            LifecycleStage::Active
        );
    }
}
