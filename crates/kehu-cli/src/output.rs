//! Writing answers to standard output.

use std::io::Write;

use kehu::Error;
use serde::Serialize;

/// Prints a value as pretty JSON.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Error> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| stdout_error(e.into()))?;
    writeln!(out).map_err(stdout_error)
}

/// A failed write to standard output (a closed pipe, a full disk).
pub(crate) fn stdout_error(e: std::io::Error) -> Error {
    Error::io("standard output", e)
}
