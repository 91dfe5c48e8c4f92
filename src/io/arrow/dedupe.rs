//! A dedupe's answer as Arrow: its pairs and its clusters.

use kehu_dedupe::{Dataset, Outcome};

use super::columns::{ArrowTable, Cell, ColumnType, TableBuilder};
use super::tables::{arrow_error, serde_name};
use crate::Error;

/// The scored pairs, strongest first: `id_l`, `id_r`, `probability`,
/// `weight` (log2 of the match odds), `decision` (`match`, `review`) and
/// `clustered` (whether the two ended in one cluster).
pub fn pairs_table(ds: &Dataset, out: &Outcome) -> Result<ArrowTable, Error> {
    use ColumnType::*;
    let columns = [
        ("id_l", Text),
        ("id_r", Text),
        ("probability", Float),
        ("weight", Float),
        ("decision", Text),
        ("clustered", Bool),
    ]
    .map(|(n, t)| (n.to_string(), t));
    let mut t = TableBuilder::new(&columns);
    for p in &out.pairs {
        let decision = Cell::text(serde_name(&p.decision));
        t.push([
            Cell::Text(ds.id(p.a).to_string()),
            Cell::Text(ds.id(p.b).to_string()),
            Cell::Float(p.probability),
            Cell::Float(p.weight),
            decision,
            Cell::Bool(p.clustered),
        ])
        .map_err(arrow_error)?;
    }
    t.finish().map_err(arrow_error)
}

/// Every record with its cluster: `id`, `cluster` (the id of the cluster's
/// first record, so a record alone is its own cluster) and `size`.
pub fn clusters_table(ds: &Dataset, out: &Outcome) -> Result<ArrowTable, Error> {
    let columns = [
        ("id", ColumnType::Text),
        ("cluster", ColumnType::Text),
        ("size", ColumnType::Integer),
    ]
    .map(|(n, t)| (n.to_string(), t));
    let mut sizes = vec![0i64; out.clusters.of.len()];
    for &c in &out.clusters.of {
        sizes[c as usize] += 1;
    }
    let mut t = TableBuilder::new(&columns);
    for (row, &c) in out.clusters.of.iter().enumerate() {
        t.push([
            Cell::Text(ds.id(row as u32).to_string()),
            Cell::Text(ds.id(c).to_string()),
            Cell::Integer(sizes[c as usize]),
        ])
        .map_err(arrow_error)?;
    }
    t.finish().map_err(arrow_error)
}
