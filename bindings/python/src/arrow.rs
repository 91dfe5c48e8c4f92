//! Arrow's PyCapsule interface: kehu's tables leave as C streams
//! (`__arrow_c_stream__`, read without a copy by pyarrow, polars, DuckDB),
//! and any object with `__arrow_c_stream__` comes in as rows. The tables
//! are built by `kehu::io::arrow`; this converts and nothing else.

use std::ffi::CStr;

use arrow_array::ffi::FFI_ArrowSchema;
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use kehu::io::arrow::{ArrowRows, ArrowTable};
use kehu::io::TextRows;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";

/// A table of typed columns that Arrow readers take without a copy:
/// `pyarrow.table(t)`, `polars.from_arrow(t)`, DuckDB's `FROM t`.
#[pyclass(frozen, module = "kehu._kehu")]
pub(crate) struct ArrowStream {
    table: ArrowTable,
}

impl ArrowStream {
    pub(crate) fn new(table: ArrowTable) -> Self {
        Self { table }
    }
}

#[pymethods]
impl ArrowStream {
    /// The table as an Arrow C stream (a capsule named `arrow_array_stream`).
    /// A requested schema is not applied: the columns keep kehu's types.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let reader = Box::new(self.table.clone().into_reader());
        PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(reader), STREAM)
    }

    /// The table's schema as an Arrow C schema (a capsule named `arrow_schema`).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.table.schema.as_ref())
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }

    /// How many rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.table.num_rows()
    }

    /// The column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.table
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

/// The rows of any object with `__arrow_c_stream__` (a pyarrow table, a
/// polars or pandas DataFrame, a DuckDB relation), as text cells.
pub(crate) fn rows_of(source: &Bound<'_, PyAny>) -> PyResult<ArrowRows> {
    let capsule = source.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast_into::<PyCapsule>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("__arrow_c_stream__ did not return a capsule")
    })?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: the capsule's producer promises an ArrowArrayStream under this
    // name; from_raw moves it out and leaves the capsule's copy released.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr().cast()) };
    let reader = RecordBatchStreamReader::try_new(stream)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("arrow stream: {e}")))?;
    Ok(ArrowRows::new(Box::new(reader)))
}

/// A table handed over as rows: `(headers, rows)` of text (a pandas frame
/// without pyarrow), or an Arrow stream.
pub(crate) enum Rows {
    Text(Vec<String>, Vec<Vec<String>>),
    Arrow(ArrowRows),
}

impl Rows {
    /// The column names and the rows, as an import reads them.
    pub(crate) fn into_text_rows(self) -> (Vec<String>, TextRows) {
        match self {
            Rows::Text(headers, rows) => (headers, Box::new(rows.into_iter().map(Ok))),
            Rows::Arrow(rows) => {
                let headers = rows.headers().to_vec();
                (
                    headers,
                    Box::new(rows.map(|r| r.map_err(|e| e.to_string()))),
                )
            }
        }
    }
}

/// The rows of a value `kehu._frames.rows_of` made, or none when it is not a table of rows.
pub(crate) fn table_rows(value: &Bound<'_, PyAny>) -> PyResult<Option<Rows>> {
    if let Ok((headers, rows)) = value.extract::<(Vec<String>, Vec<Vec<String>>)>() {
        return Ok(Some(Rows::Text(headers, rows)));
    }
    if value.hasattr("__arrow_c_stream__")? {
        return Ok(Some(Rows::Arrow(rows_of(value)?)));
    }
    Ok(None)
}
