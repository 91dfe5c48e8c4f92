//! The data-quality report as a page: [`Book::quality_report`] gathers it
//! through the policy stage, [`Book::report_page`] writes it as one
//! self-contained HTML file with SVG charts, in English and 中文.

mod data;
mod html;
mod svg;

use std::collections::BTreeMap;

pub use data::{
    ClusterEntry, DuplicateSummary, Named, PageOptions, QualityReport, ReviewEntry, StaleEntry,
};

use crate::{Book, Error};

impl Book {
    /// The report page as HTML: the book at a glance and its growth, rule
    /// violations and missing required fields, the stale queue, duplicates
    /// (each cluster's first pair explained as a chart of field weights)
    /// and the review queue, RFM, value tiers, the lifecycle funnel and the
    /// saved segments. It loads nothing (no script, no link): it opens
    /// offline. For a principal, the names and values it may see, masked.
    /// `title` names the book in the page's header.
    pub fn report_page(&self, title: &str, options: &PageOptions) -> Result<String, Error> {
        let report = self.quality_report(options)?;
        Ok(html::page(&report, title))
    }
}

fn rows_of(map: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    map.iter().map(|(k, v)| (k.clone(), *v)).collect()
}
