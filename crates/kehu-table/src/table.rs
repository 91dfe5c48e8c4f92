//! A file read as a table of text: its header and its rows, for engines that
//! type the columns themselves (dedupe).

use std::io::Read;

use crate::source::{Source, SourceHints};
use crate::{Error, Format, ImportKind, TextEncoding};

/// What the caller knows about a table file.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableHints<'a> {
    /// The input's name (its extension tells the format).
    pub name: &'a str,
    /// The format, when known.
    pub format: Option<Format>,
    /// The text encoding, when known; detected otherwise.
    pub encoding: Option<TextEncoding>,
    /// The CSV delimiter, when known; sniffed otherwise.
    pub delimiter: Option<u8>,
}

/// A CSV or JSON Lines file as a header and rows of cells, one per column.
/// Rows shorter or longer than the header are taken as they are (missing
/// cells are empty); text that is not valid in the file's encoding is an error.
pub struct Table {
    source: Source,
    /// Rows read ahead (a JSON Lines file's columns are known only once read).
    ahead: std::vec::IntoIter<Cells>,
    headers: Vec<String>,
}

impl Table {
    /// Opens a table: format, encoding and delimiter settled as an import settles them.
    pub fn open(reader: Box<dyn Read + Send>, hints: TableHints<'_>) -> Result<Self, Error> {
        let mut source = Source::open(
            reader,
            SourceHints {
                name: hints.name,
                format: hints.format,
                encoding: hints.encoding,
                delimiter: hints.delimiter,
                kind: ImportKind::Customers,
                explicit: Vec::new(),
                custom: Vec::new(),
            },
        )?;
        let mut ahead = Vec::new();
        if source.format == Format::Jsonl {
            while let Some(row) = next_cells(&mut source)? {
                ahead.push(row);
            }
        }
        let headers = (0..source.columns.len())
            .map(|i| source.columns.name(i).to_string())
            .collect();
        Ok(Self {
            source,
            ahead: ahead.into_iter(),
            headers,
        })
    }

    /// The column headers, in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The format read.
    pub fn format(&self) -> Format {
        self.source.format
    }

    /// The text encoding read.
    pub fn encoding(&self) -> TextEncoding {
        self.source.encoding
    }

    /// The CSV delimiter used.
    pub fn delimiter(&self) -> u8 {
        self.source.delimiter
    }
}

/// A row's line and its non-empty cells (column, text).
type Cells = (u64, Vec<(usize, String)>);

/// The next row's line and cells, or an error for a row that cannot be read.
fn next_cells(source: &mut Source) -> Result<Option<Cells>, Error> {
    let row = source.next_row().map_err(|e| {
        Error::Input(format!(
            "reading stopped at byte {}: {e}",
            source.position()
        ))
    })?;
    let Some(row) = row else { return Ok(None) };
    match row.issue {
        Some(issue) if issue.code != "row.fields" => Err(Error::Input(format!(
            "line {}: {}",
            row.line, issue.message
        ))),
        _ if row.dossier.is_some() => Err(Error::Input(format!(
            "line {}: a kehu dossier; dedupe the book it came from instead",
            row.line
        ))),
        _ => Ok(Some((row.line, row.cells))),
    }
}

impl Iterator for Table {
    type Item = Result<Vec<String>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let cells = match self.ahead.next() {
            Some(row) => row,
            None => match next_cells(&mut self.source) {
                Ok(Some(row)) => row,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            },
        };
        let mut out = vec![String::new(); self.headers.len()];
        for (i, text) in cells.1 {
            if let Some(slot) = out.get_mut(i) {
                *slot = text;
            }
        }
        Some(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(bytes: &'static [u8], name: &str) -> Table {
        let hints = TableHints {
            name,
            ..TableHints::default()
        };
        Table::open(Box::new(bytes), hints).unwrap()
    }

    #[test]
    fn csv_and_json_lines_read_alike() {
        let mut t = table(b"\xef\xbb\xbfid;name\n1;Wei\n2\n", "a.csv");
        assert_eq!(t.headers(), ["id", "name"]);
        assert_eq!(t.delimiter(), b';');
        let rows: Vec<Vec<String>> = (&mut t).map(Result::unwrap).collect();
        assert_eq!(rows, [vec!["1", "Wei"], vec!["2", ""]]);
        let t = table(
            b"{\"id\":\"1\",\"name\":\"Wei\"}\n{\"id\":\"2\",\"city\":\"Berlin\"}\n",
            "a.jsonl",
        );
        assert_eq!(t.headers(), ["id", "name", "city"]);
        let rows: Vec<Vec<String>> = t.map(Result::unwrap).collect();
        assert_eq!(rows[1], ["2", "", "Berlin"]);
    }

    #[test]
    fn gb18030_is_read() {
        let text = "姓名,手机\n张伟,13800138000\n李娜,13900139000\n";
        let bytes: &'static [u8] =
            Box::leak(crate::encode(TextEncoding::Gb18030, text).into_boxed_slice());
        let t = table(bytes, "a.csv");
        assert_eq!(t.encoding(), TextEncoding::Gb18030);
        assert_eq!(t.headers()[0], "姓名");
        let rows: Vec<Vec<String>> = t.map(Result::unwrap).collect();
        assert_eq!(rows[0][0], "张伟");
    }
}
