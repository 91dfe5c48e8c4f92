//! The rejects file: rejected rows as they were, to fix and import again.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;

use kehu_table::{encode, RawRow, Row, Source};

use crate::io::{RowProblem, TextEncoding};
use crate::Error;

/// The rejects file: rejected rows as they were, in the input's format and
/// encoding, with a `kehu_errors` column that an import of the file ignores.
pub(super) struct RejectsFile {
    path: String,
    out: RejectsOut,
}

enum RejectsOut {
    Csv(Box<csv::Writer<BufWriter<File>>>, usize),
    Lines(BufWriter<File>),
}

impl RejectsFile {
    pub fn create(path: &Path, source: &Source) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| Error::Io {
            path: shown.clone(),
            source: e,
        };
        let mut file = BufWriter::new(File::create(path).map_err(io)?);
        if source.bom {
            // Spreadsheet tools read a UTF-8 file as UTF-8 only with its byte-order mark.
            file.write_all(b"\xef\xbb\xbf").map_err(io)?;
        }
        let out = match source.raw_header() {
            Some(header) => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(source.delimiter)
                    .flexible(true)
                    .from_writer(file);
                let mut h = header.clone();
                h.push_field(&encode(source.encoding, "kehu_errors"));
                w.write_byte_record(&h).map_err(|e| io(e.into()))?;
                RejectsOut::Csv(Box::new(w), header.len())
            }
            None => RejectsOut::Lines(file),
        };
        Ok(Self { path: shown, out })
    }

    pub fn write(
        &mut self,
        row: &Row,
        problems: &[RowProblem],
        encoding: TextEncoding,
    ) -> Result<(), Error> {
        let errors = problems
            .iter()
            .map(|p| match &p.column {
                Some(c) => format!("{c}: {} [{}]", p.message, p.code),
                None => format!("{} [{}]", p.message, p.code),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let path = self.path.clone();
        let io = |e: std::io::Error| Error::Io {
            path: path.clone(),
            source: e,
        };
        match (&mut self.out, &row.raw) {
            (RejectsOut::Csv(w, width), RawRow::Csv(record)) => {
                let mut r = record.clone();
                while r.len() < *width {
                    r.push_field(b"");
                }
                r.push_field(&encode(encoding, &errors));
                w.write_byte_record(&r).map_err(|e| io(e.into()))
            }
            (RejectsOut::Lines(w), RawRow::Line(bytes)) => {
                let parsed = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
                let line = match parsed {
                    Some(serde_json::Value::Object(mut map)) => {
                        map.insert("kehu_errors".into(), serde_json::Value::String(errors));
                        serde_json::to_vec(&map).unwrap_or_else(|_| bytes.clone())
                    }
                    _ => bytes.clone(),
                };
                w.write_all(&line)
                    .and_then(|()| w.write_all(b"\n"))
                    .map_err(io)
            }
            _ => Ok(()),
        }
    }

    pub fn finish(self) -> Result<String, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: self.path.clone(),
            source: e,
        };
        match self.out {
            RejectsOut::Csv(mut w, _) => w.flush().map_err(io)?,
            RejectsOut::Lines(mut w) => w.flush().map_err(io)?,
        }
        Ok(self.path)
    }
}
