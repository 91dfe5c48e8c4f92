//! Writing answers to standard output.

use std::io::Write;

use kehu::Error;
use serde::Serialize;

/// Prints a value as pretty JSON.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Error> {
    // Standard output is line-buffered: a long report is written in blocks.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| stdout_error(e.into()))?;
    writeln!(out).map_err(stdout_error)?;
    out.flush().map_err(stdout_error)
}

/// A failed write to standard output (a closed pipe, a full disk).
pub(crate) fn stdout_error(e: std::io::Error) -> Error {
    Error::io("standard output", e)
}
