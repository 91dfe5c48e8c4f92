//! The book at a glance: counts by kind, stage, source and tag, and the
//! classification (RFM groups, value tiers, lifecycle stages) summed up.
//! The CLI prints these; the bindings hand them over as they are.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::io::ImportStatus;
use crate::{Book, ClassifyOptions, Error};

/// Counts of the dossiers as they are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookStats {
    /// Dossiers in the book.
    pub customers: u64,
    /// By kind (`person`, `organization`).
    pub by_kind: BTreeMap<String, u64>,
    /// By the explicit lifecycle stage (`(none)` when unset).
    pub by_stage: BTreeMap<String, u64>,
    /// By source (`(none)` when unset).
    pub by_source: BTreeMap<String, u64>,
    /// By tag (a dossier counts once per tag).
    pub by_tag: BTreeMap<String, u64>,
    /// Rows imported or updated per month (`YYYY-MM`), reverted imports left out.
    pub imported_per_month: BTreeMap<String, u64>,
}

/// The classification of a book, summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookReport {
    /// The currency amounts were counted in.
    pub currency: String,
    /// Dossiers in the book.
    pub customers: u64,
    /// Dossiers with at least one purchase in that currency.
    pub buyers: u64,
    /// Buyers per RFM group (`champions`, `at_risk`, …).
    pub rfm_groups: BTreeMap<String, u64>,
    /// Buyers per RFM cell. Rows: recency score 5 (recent) to 1; columns:
    /// frequency score 1 to 5.
    pub rfm_grid: Vec<Vec<u64>>,
    /// Buyers per value tier (`high`, `medium`, `low`).
    pub tiers: BTreeMap<String, u64>,
    /// Dossiers per lifecycle stage (the dossier's own, else derived).
    pub stages: BTreeMap<String, u64>,
    /// New dossiers per month created (`YYYY-MM`).
    pub new_per_month: BTreeMap<String, u64>,
    /// Members of each saved segment now.
    pub saved_segments: BTreeMap<String, u64>,
}

impl Book {
    /// Counts of the dossiers by kind, stage, source and tag, and the rows
    /// imported per month. A principal gets the counts by source and by tag
    /// only when it sees those fields in full.
    pub fn stats(&self) -> Result<BookStats, Error> {
        self.whole_book(crate::Operation::Read, "read the book statistics")?;
        let mut s = BookStats::default();
        // A count by value shows the values: for a principal, by the fields
        // it sees in full only (the others' maps stay empty).
        let by = |field: &str| {
            self.viewer()
                .is_none_or(|v| v.access(field) == crate::FieldAccess::Visible)
        };
        let (by_source, by_tag) = (by("source"), by("tags"));
        let snap = self.store.snapshot()?;
        for c in snap.customers()? {
            let c = c?;
            s.customers += 1;
            *s.by_kind
                .entry(format!("{:?}", c.kind).to_lowercase())
                .or_default() += 1;
            let stage = c
                .lifecycle_stage
                .map_or("(none)".to_string(), |x| x.to_string());
            *s.by_stage.entry(stage).or_default() += 1;
            if by_source {
                *s.by_source
                    .entry(c.source.unwrap_or_else(|| "(none)".into()))
                    .or_default() += 1;
            }
            if by_tag {
                for t in c.tags {
                    *s.by_tag.entry(t).or_default() += 1;
                }
            }
        }
        for i in self.imports()? {
            if i.status != ImportStatus::Reverted {
                *s.imported_per_month.entry(month(i.started_at)).or_default() +=
                    i.imported + i.updated;
            }
        }
        Ok(s)
    }

    /// The classification of every customer ([`Book::classify`]) summed up:
    /// RFM groups and grid, value tiers, lifecycle stages, new customers per
    /// month and the members of each saved segment.
    pub fn report(&self, options: &ClassifyOptions) -> Result<BookReport, Error> {
        self.whole_book(crate::Operation::Read, "read the book report")?;
        let (currency, classes) = self.classify(options)?;
        let mut r = BookReport {
            currency: currency.code().to_string(),
            customers: classes.len() as u64,
            rfm_grid: vec![vec![0; 5]; 5],
            ..BookReport::default()
        };
        for k in &classes {
            if let Some(rfm) = k.rfm {
                r.buyers += 1;
                *r.rfm_groups.entry(rfm.group.as_str().into()).or_default() += 1;
                let row = usize::from(5u8.saturating_sub(rfm.r)).min(4);
                let col = usize::from(rfm.f.saturating_sub(1)).min(4);
                r.rfm_grid[row][col] += 1;
            }
            if let Some(t) = k.tier {
                *r.tiers.entry(format!("{t:?}").to_lowercase()).or_default() += 1;
            }
            *r.stages.entry(k.stage.to_string()).or_default() += 1;
        }
        for saved in self.saved_segments()? {
            let n = self.saved_segment_members(&saved.name)?.len() as u64;
            r.saved_segments.insert(saved.name, n);
        }
        for customer in self.store.snapshot()?.customers()? {
            *r.new_per_month
                .entry(month(customer?.created_at))
                .or_default() += 1;
        }
        Ok(r)
    }
}

fn month(t: kehu_model::Timestamp) -> String {
    format!("{}-{:02}", t.year(), t.month())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kehu_model::{Currency, Customer, Money, Purchase};

    #[test]
    fn stats_and_report_count_what_is_in_the_book() {
        let book = Book::in_memory();
        let a = book
            .add(
                Customer::person("Wei", "Zhang")
                    .with_email("wei@example.com")
                    .with_tag("VIP"),
            )
            .unwrap();
        book.add(Customer::organization("Acme GmbH").with_email("info@acme.de"))
            .unwrap();
        book.relate(Purchase::new(
            a.customer.id,
            chrono::Utc::now(),
            Money::new(12_000, Currency::CNY),
        ))
        .unwrap();
        book.save_segment("vip", "has tag \"VIP\"", true).unwrap();

        let s = book.stats().unwrap();
        assert_eq!(s.customers, 2);
        assert_eq!(s.by_kind.get("person"), Some(&1));
        assert_eq!(s.by_kind.get("organization"), Some(&1));
        assert_eq!(s.by_tag.get("VIP"), Some(&1));

        let r = book.report(&ClassifyOptions::default()).unwrap();
        assert_eq!((r.customers, r.buyers, r.currency.as_str()), (2, 1, "CNY"));
        assert_eq!(r.rfm_grid.iter().flatten().sum::<u64>(), 1);
        assert_eq!(r.stages.values().sum::<u64>(), 2);
        assert_eq!(r.saved_segments.get("vip"), Some(&1));
    }
}
