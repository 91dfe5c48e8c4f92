//! The one place errors become Python exceptions, and the one helper every
//! native call runs in (the GIL released, panics caught).

use std::panic::AssertUnwindSafe;

use kehu::Error;
use pyo3::prelude::*;
use serde_json::json;

/// Why a call failed, before it becomes a Python exception.
pub(crate) enum Failure {
    /// The library said no.
    Kehu(Error),
    /// An argument does not have the expected shape or type.
    Type(String),
    /// The book was closed.
    Closed,
    /// A bug: a panic caught at the boundary.
    Internal(String),
}

impl<E: Into<Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::Kehu(e.into())
    }
}

/// Results of native calls.
pub(crate) type Res<T> = Result<T, Failure>;

/// The exception for a failure: `kehu._errors._native_error` picks the class
/// by the core's stable error code and fills its fields from the payload.
fn to_py(py: Python<'_>, failure: Failure) -> PyErr {
    let (code, message, payload) = match failure {
        Failure::Type(m) => ("type", m, json!({})),
        Failure::Closed => (
            "closed",
            "the book is closed; open it again with kehu.Book.open".to_string(),
            json!({}),
        ),
        Failure::Internal(m) => ("internal", m, json!({})),
        Failure::Kehu(e) => (e.code(), e.to_string(), payload(&e)),
    };
    let build = || -> PyResult<PyErr> {
        let exc = py
            .import("kehu._errors")?
            .getattr("_native_error")?
            .call1((code, message.clone(), payload.to_string()))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// The fields a program reacts to, for the exception's attributes.
fn payload(e: &Error) -> serde_json::Value {
    match e {
        Error::Invalid { index, report } => {
            json!({"index": index, "violations": report.violations})
        }
        Error::Duplicate { candidates } => json!({ "candidates": candidates }),
        Error::NotFound(id) => json!({ "id": id }),
        Error::ImportNotFound(id) | Error::MergeNotFound(id) => json!({ "id": id }),
        Error::SegmentNotFound(name) => json!({ "id": name }),
        Error::Conflict {
            id,
            expected,
            found,
        } => json!({"id": id, "expected": expected, "found": found}),
        Error::RevertConflict { import, changed } => json!({"id": import, "changed": changed}),
        Error::AlreadyReverted(id) | Error::AlreadyUnmerged(id) => json!({ "id": id }),
        Error::Segment(p) => json!({
            "line": p.line, "column": p.column, "width": p.width,
            "reason": p.message, "suggestion": p.suggestion,
        }),
        Error::Denied { user, operation } => json!({"user": user, "operation": operation}),
        Error::Input { file, .. } => json!({ "path": file }),
        Error::Io { path, .. } => json!({ "path": path }),
        _ => json!({}),
    }
}

/// Runs `f` with the GIL released, catching panics, and maps its failure.
pub(crate) fn run<T: Send>(py: Python<'_>, f: impl FnOnce() -> Res<T> + Send) -> PyResult<T> {
    let result = py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(f)));
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(failure)) => Err(to_py(py, failure)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(to_py(
                py,
                Failure::Internal(format!("internal error in kehu (please report it): {what}")),
            ))
        }
    }
}
