//! `kehu.dedupe`: a file (or two, linked) read through kehu-table and deduped.

use std::io::Read;
use std::path::PathBuf;

use crate::arrow::Rows;
use kehu::dedupe::{Dataset, Deduper, Outcome, Settings};
use kehu::Error;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrow::ArrowStream;
use crate::convert::{encode, report_progress, settings_of};
use crate::errors::{run, Res};

/// A dedupe of a file (or two, linked): its answer, and its model for explanations.
#[pyclass(frozen, module = "kehu._kehu")]
pub(crate) struct NativeDedupe {
    deduper: Deduper,
    outcome: Outcome,
    answer: String,
}

#[pymethods]
impl NativeDedupe {
    /// The answer: fields, pairs, clusters, warnings and stats, as JSON.
    fn answer(&self) -> String {
        self.answer.clone()
    }

    /// The scored pairs as an Arrow table.
    fn pairs_arrow(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        run(py, || {
            Ok(ArrowStream::new(kehu::io::arrow::pairs_table(
                self.deduper.dataset(),
                &self.outcome,
            )?))
        })
    }

    /// Every record with its cluster, as an Arrow table.
    fn clusters_arrow(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        run(py, || {
            Ok(ArrowStream::new(kehu::io::arrow::clusters_table(
                self.deduper.dataset(),
                &self.outcome,
            )?))
        })
    }

    /// Why two records (by id) score as they do.
    fn explain(&self, py: Python<'_>, id_l: String, id_r: String) -> PyResult<String> {
        run(py, move || {
            encode(&self.deduper.explain(&id_l, &id_r).map_err(Error::from)?)
        })
    }
}

/// Where a table comes from: a path, CSV bytes, or rows (a DataFrame's,
/// an Arrow stream's).
pub(crate) enum Table {
    Bytes(Vec<u8>),
    Path(PathBuf),
    Rows(Rows),
}

impl Table {
    /// Reads the Python value `kehu._dedupe` hands over.
    pub(crate) fn of(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(b) = value.cast::<PyBytes>() {
            return Ok(Table::Bytes(b.as_bytes().to_vec()));
        }
        match crate::arrow::table_rows(value)? {
            Some(rows) => Ok(Table::Rows(rows)),
            None => Ok(Table::Path(value.extract()?)),
        }
    }

    /// Reads the table into a new dataset.
    fn dataset(self, settings: &Settings) -> Res<Dataset> {
        Ok(match self {
            Table::Rows(rows) => {
                let (headers, mut rows) = rows.into_text_rows();
                kehu::io::dataset_from_rows(&headers, &mut rows, "rows", settings)?
            }
            file => {
                let (reader, name) = file.reader()?;
                kehu::io::read_dataset(reader, &name, settings)?
            }
        })
    }

    /// Appends the table to a dataset, to be linked with it.
    fn append_to(self, ds: &mut Dataset, settings: &Settings) -> Res<()> {
        match self {
            Table::Rows(rows) => {
                let (headers, mut rows) = rows.into_text_rows();
                kehu::io::append_link_rows(ds, &headers, &mut rows, "link rows", settings)?
            }
            file => {
                let (reader, name) = file.reader()?;
                kehu::io::append_link(ds, reader, &name, settings)?
            }
        }
        Ok(())
    }

    /// The reader and the name the table goes by (a path's extension tells its format).
    fn reader(self) -> Res<(Box<dyn Read + Send>, String)> {
        Ok(match self {
            Table::Path(p) => {
                let f = std::fs::File::open(&p).map_err(|e| Error::io(&p, e))?;
                let name = p.display().to_string();
                (
                    Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
                    name,
                )
            }
            Table::Bytes(b) => (Box::new(std::io::Cursor::new(b)), "table".into()),
            Table::Rows(_) => unreachable!("rows are read as rows"),
        })
    }
}

fn dedupe_answer(d: &Deduper, out: &Outcome) -> Res<String> {
    let ds = d.dataset();
    // Rows, not objects: [id_l, id_r, probability, decision, clustered, weight]
    // (the field order of Python's Pair), a third of the JSON to read back.
    let pairs: Vec<(&str, &str, f64, kehu::dedupe::Decision, bool, f64)> = out
        .pairs
        .iter()
        .map(|p| {
            let (a, b) = (ds.id(p.a), ds.id(p.b));
            (a, b, p.probability, p.decision, p.clustered, p.weight)
        })
        .collect();
    let mut groups: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for (row, c) in out.clusters.of.iter().enumerate() {
        groups.entry(*c).or_default().push(ds.id(row as u32));
    }
    let mut clusters: Vec<Vec<&str>> = groups.into_values().filter(|g| g.len() > 1).collect();
    for c in &mut clusters {
        c.sort_unstable();
    }
    clusters.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    let fields: Vec<(String, &str)> = ds
        .fields()
        .iter()
        .map(|f| (f.name.clone(), f.kind.name()))
        .collect();
    encode(&serde_json::json!({
        "fields": fields,
        "pairs": pairs,
        "clusters": clusters,
        "warnings": out.warnings,
        "stats": out.stats,
    }))
}

/// Dedupes a CSV table (a path or bytes), or links it to a second one.
#[pyfunction]
#[pyo3(signature = (table, settings=None, link=None, progress=None, id_column=None, threshold=None))]
pub(crate) fn dedupe_table(
    py: Python<'_>,
    table: Bound<'_, PyAny>,
    settings: Option<String>,
    link: Option<Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
    id_column: Option<String>,
    threshold: Option<f64>,
) -> PyResult<NativeDedupe> {
    let table = Table::of(&table)?;
    let link = link.map(|l| Table::of(&l)).transpose()?;
    run(py, move || {
        let mut settings = settings_of(settings)?;
        if id_column.is_some() {
            settings.id_column = id_column;
        }
        if let Some(t) = threshold {
            settings = settings.with_match_threshold(t).map_err(Error::from)?;
        }
        let mut ds = table.dataset(&settings)?;
        if let Some(l) = link {
            l.append_to(&mut ds, &settings)?;
        }
        let mut deduper = Deduper::new(ds, settings).map_err(Error::from)?;
        let out = deduper
            .run(&mut |p| report_progress(&progress, (p.done, Some(p.total), 0, None)))
            .map_err(Error::from)?;
        let answer = dedupe_answer(&deduper, &out)?;
        Ok(NativeDedupe {
            deduper,
            outcome: out,
            answer,
        })
    })
}
