//! Reading an input file: format, text encoding and delimiter, then rows.

use std::io::{BufRead, BufReader, Read};

use encoding_rs::GB18030;
use kehu_model::Customer;

use crate::columns::{Columns, Target};
use crate::{Error, Format, ImportKind, TextEncoding};

/// How much of the file is looked at to tell its format and encoding.
const SAMPLE: usize = 64 * 1024;

/// A row as the file had it, kept to write the rejects file.
pub enum RawRow {
    /// A CSV record's fields, undecoded.
    Csv(csv::ByteRecord),
    /// A JSON line's bytes, without the line end.
    Line(Vec<u8>),
}

/// Why a row could not be read at all.
pub struct RowIssue {
    /// The column at fault, if one is.
    pub column: Option<usize>,
    /// A stable code: `row.fields`, `encoding`, `json`.
    pub code: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One row of input.
pub struct Row {
    /// The line it starts on (1-based, the header is line 1 in a CSV file).
    pub line: u64,
    /// The non-empty cells: column index and text.
    pub cells: Vec<(usize, String)>,
    /// A JSON line in kehu's own dossier form (as `kehu export --format jsonl` writes).
    pub dossier: Option<Box<Customer>>,
    /// Set when the row could not be read.
    pub issue: Option<RowIssue>,
    /// The row as it was.
    pub raw: RawRow,
}

enum Inner {
    Csv {
        reader: csv::Reader<Box<dyn BufRead + Send>>,
        header: csv::ByteRecord,
        record: csv::ByteRecord,
    },
    Jsonl {
        reader: Box<dyn BufRead + Send>,
        line: u64,
        bytes: u64,
    },
    Rows {
        rows: TextRows,
        header: csv::ByteRecord,
        line: u64,
    },
}

/// Rows of text cells under named columns, as a DataFrame or an Arrow
/// stream gives them; an error ends the reading with its message.
pub type TextRows = Box<dyn Iterator<Item = Result<Vec<String>, String>> + Send>;

/// An input file being read row by row.
pub struct Source {
    /// CSV or JSON Lines.
    pub format: Format,
    /// The text encoding.
    pub encoding: TextEncoding,
    /// The CSV delimiter.
    pub delimiter: u8,
    /// The columns seen so far and their targets.
    pub columns: Columns,
    kind: ImportKind,
    /// Whether lines end in CR LF (the header's does).
    crlf: bool,
    /// Whether the file began with a UTF-8 byte-order mark.
    pub bom: bool,
    explicit: Vec<(String, Target)>,
    custom: Vec<String>,
    inner: Inner,
}

/// What the caller knows about the input.
pub struct SourceHints<'a> {
    /// The input's name (its extension tells the format when `format` does not).
    pub name: &'a str,
    /// The format, when known.
    pub format: Option<Format>,
    /// The text encoding, when known; detected otherwise.
    pub encoding: Option<TextEncoding>,
    /// The CSV delimiter, when known; sniffed from the header otherwise.
    pub delimiter: Option<u8>,
    /// What the file holds (it decides the fields columns map to).
    pub kind: ImportKind,
    /// Columns mapped by the caller, by header.
    pub explicit: Vec<(String, Target)>,
    /// The custom fields a rule set declares.
    pub custom: Vec<String>,
}

impl Source {
    /// Looks at the start of the input, settles format, encoding and
    /// delimiter, and reads the CSV header.
    pub fn open(read: Box<dyn Read + Send>, hints: SourceHints<'_>) -> Result<Self, Error> {
        let input_error = Error::Input;
        let mut read = read;
        let mut sample = Vec::with_capacity(SAMPLE);
        (&mut read)
            .take(SAMPLE as u64)
            .read_to_end(&mut sample)
            .map_err(|e| input_error(e.to_string()))?;
        if sample.starts_with(&[0xff, 0xfe]) || sample.starts_with(&[0xfe, 0xff]) {
            return Err(input_error(
                "the file is UTF-16 text; save it as UTF-8 (or GB18030) and import again".into(),
            ));
        }
        let bom = sample.starts_with(b"\xef\xbb\xbf");
        let body = if bom { &sample[3..] } else { &sample[..] };
        if let Some(at) = body.iter().position(|&b| b == 0) {
            return Err(input_error(format!(
                "this looks like a binary file (a zero byte at offset {at}), not CSV or JSON Lines"
            )));
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(input_error(
                "the file is empty: a CSV file needs a header row, a JSON Lines file one object per line".into(),
            ));
        }
        let format = hints.format.unwrap_or_else(|| {
            Format::from_name(hints.name).unwrap_or_else(|| {
                match body.iter().find(|b| !b.is_ascii_whitespace()) {
                    Some(b'{') => Format::Jsonl,
                    _ => Format::Csv,
                }
            })
        });
        let encoding = match hints.encoding {
            Some(e) => e,
            None if bom => TextEncoding::Utf8,
            None => detect_encoding(body),
        };
        let delimiter = hints.delimiter.unwrap_or_else(|| sniff_delimiter(body));
        let crlf = body
            .iter()
            .position(|&b| b == b'\n')
            .is_some_and(|i| i > 0 && body[i - 1] == b'\r');
        let start = if bom { 3 } else { 0 };
        let replay = std::io::Cursor::new(sample[start..].to_vec());
        let reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(1 << 17, replay.chain(read)));
        let inner = match format {
            Format::Csv => {
                let mut csv = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .buffer_capacity(1 << 16)
                    .from_reader(reader);
                let mut header = csv::ByteRecord::new();
                let read = csv
                    .read_byte_record(&mut header)
                    .map_err(|e| input_error(e.to_string()))?;
                if !read {
                    return Err(input_error(
                        "the file is empty: it has no header row".into(),
                    ));
                }
                Inner::Csv {
                    reader: csv,
                    header,
                    record: csv::ByteRecord::new(),
                }
            }
            Format::Jsonl => Inner::Jsonl {
                reader,
                line: 0,
                bytes: bom as u64 * 3,
            },
        };
        let mut source = Self {
            format,
            encoding,
            delimiter,
            columns: Columns::default(),
            kind: hints.kind,
            crlf,
            bom,
            explicit: hints.explicit,
            custom: hints.custom,
            inner,
        };
        if let Inner::Csv { header, .. } = &source.inner {
            let names: Vec<String> = header.iter().map(|h| decode_lossy(encoding, h)).collect();
            for name in names {
                source.intern(&name);
            }
        }
        Ok(source)
    }

    /// A table already in rows (a DataFrame's): its columns mapped as a CSV
    /// header's are, its rows read as CSV records (line 1 is the header),
    /// a rejected row written to a rejects file as CSV.
    pub fn from_rows(headers: &[String], rows: TextRows, hints: SourceHints<'_>) -> Self {
        let mut source = Self {
            format: Format::Csv,
            encoding: TextEncoding::Utf8,
            delimiter: b',',
            columns: Columns::default(),
            kind: hints.kind,
            crlf: false,
            bom: false,
            explicit: hints.explicit,
            custom: hints.custom,
            inner: Inner::Rows {
                rows,
                header: csv::ByteRecord::from(headers.to_vec()),
                line: 1,
            },
        };
        for name in headers {
            source.intern(name);
        }
        source
    }

    fn intern(&mut self, name: &str) -> usize {
        self.columns
            .intern(name, self.kind, &self.explicit, &self.custom)
    }

    /// The header as the file had it (CSV only).
    pub fn raw_header(&self) -> Option<&csv::ByteRecord> {
        match &self.inner {
            Inner::Csv { header, .. } | Inner::Rows { header, .. } => Some(header),
            Inner::Jsonl { .. } => None,
        }
    }

    /// How many bytes of input have been read (of rows: how many rows).
    pub fn position(&self) -> u64 {
        match &self.inner {
            Inner::Csv { reader, .. } => reader.position().byte(),
            Inner::Jsonl { bytes, .. } => *bytes,
            Inner::Rows { line, .. } => *line - 1,
        }
    }

    /// The next row, or `None` at the end of the input.
    pub fn next_row(&mut self) -> Result<Option<Row>, std::io::Error> {
        match &mut self.inner {
            Inner::Csv {
                reader,
                header,
                record,
            } => {
                if !reader.read_byte_record(record).map_err(csv_io)? {
                    return Ok(None);
                }
                // After a CRLF, csv takes a record's position before it steps over
                // the LF, so its line number lags by one.
                let line = record.position().map_or(0, |p| p.line()) + u64::from(self.crlf);
                let width = header.len();
                let mut issue = None;
                let extra = record.iter().skip(width).any(|f| !f.is_empty());
                if record.len() < width || extra {
                    issue = Some(RowIssue {
                        column: None,
                        code: "row.fields",
                        message: format!(
                            "the row has {} fields where the header has {width}: a missing or extra delimiter, or an unclosed quote",
                            record.len()
                        ),
                    });
                }
                // The cells within the header's width, even of a row of the wrong
                // width: an import rejects it, a table reader takes what is there.
                let mut cells = Vec::with_capacity(width);
                for (i, bytes) in record.iter().enumerate().take(width) {
                    if bytes.is_empty() {
                        continue;
                    }
                    match decode(self.encoding, bytes) {
                        Some(text) => cells.push((i, text)),
                        None => {
                            issue = Some(RowIssue {
                                column: Some(i),
                                code: "encoding",
                                message: format!(
                                    "the value is not valid {} text; save the file in one encoding (or pass --encoding)",
                                    self.encoding.name()
                                ),
                            });
                            break;
                        }
                    }
                }
                Ok(Some(Row {
                    line,
                    cells,
                    dossier: None,
                    issue,
                    raw: RawRow::Csv(record.clone()),
                }))
            }
            Inner::Jsonl {
                reader,
                line,
                bytes,
            } => loop {
                let mut buf = Vec::new();
                let n = reader.read_until(b'\n', &mut buf)?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                *bytes += n as u64;
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let at = *line;
                return Ok(Some(self.json_row(at, buf)));
            },
            Inner::Rows { rows, header, line } => {
                let Some(row) = rows.next() else {
                    return Ok(None);
                };
                let row = row.map_err(std::io::Error::other)?;
                *line += 1;
                let width = header.len();
                let issue = row
                    .iter()
                    .skip(width)
                    .any(|c| !c.is_empty())
                    .then(|| RowIssue {
                        column: None,
                        code: "row.fields",
                        message: format!(
                            "the row has {} cells where the table has {width} columns",
                            row.len()
                        ),
                    });
                let raw = RawRow::Csv(csv::ByteRecord::from(row.clone()));
                let cells = row
                    .into_iter()
                    .take(width)
                    .enumerate()
                    .filter(|(_, c)| !c.is_empty())
                    .collect();
                Ok(Some(Row {
                    line: *line,
                    cells,
                    dossier: None,
                    issue,
                    raw,
                }))
            }
        }
    }

    fn json_row(&mut self, line: u64, buf: Vec<u8>) -> Row {
        let mut row = Row {
            line,
            cells: Vec::new(),
            dossier: None,
            issue: None,
            raw: RawRow::Line(Vec::new()),
        };
        let issue = |message: String| RowIssue {
            column: None,
            code: "json",
            message,
        };
        let text = match self.encoding {
            TextEncoding::Utf8 => std::str::from_utf8(&buf).ok().map(str::to_owned),
            TextEncoding::Gb18030 => decode(TextEncoding::Gb18030, &buf),
        };
        let value = match text.map(|t| serde_json::from_str::<serde_json::Value>(&t)) {
            None => {
                row.issue = Some(RowIssue {
                    column: None,
                    code: "encoding",
                    message: format!("the line is not valid {} text", self.encoding.name()),
                });
                row.raw = RawRow::Line(buf);
                return row;
            }
            Some(Err(e)) => {
                row.issue = Some(issue(format!("the line is not valid JSON: {e}")));
                row.raw = RawRow::Line(buf);
                return row;
            }
            Some(Ok(v)) => v,
        };
        row.raw = RawRow::Line(buf);
        let serde_json::Value::Object(map) = value else {
            row.issue = Some(issue("the line is not a JSON object".into()));
            return row;
        };
        if self.kind == ImportKind::Customers && looks_like_dossier(&map) {
            match serde_json::from_value::<Customer>(serde_json::Value::Object(map)) {
                Ok(c) => row.dossier = Some(Box::new(c)),
                Err(e) => row.issue = Some(issue(format!("not a kehu dossier: {e}"))),
            }
            return row;
        }
        for (key, value) in map {
            if key == "kehu_errors" {
                continue;
            }
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            if text.is_empty() {
                continue;
            }
            let i = self.intern(&key);
            row.cells.push((i, text));
        }
        row
    }
}

/// Whether a JSON object is a dossier in kehu's own form rather than a flat row.
fn looks_like_dossier(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    ["emails", "phones", "addresses"]
        .iter()
        .any(|k| map.get(*k).is_some_and(|v| v.is_array()))
        || ["name", "custom", "organization"]
            .iter()
            .any(|k| map.get(*k).is_some_and(|v| v.is_object()))
}

fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// UTF-8 unless the sample is clearly not and reads cleanly as GB18030
/// (what Chinese spreadsheet tools write as "ANSI" or GBK).
fn detect_encoding(sample: &[u8]) -> TextEncoding {
    // Cut the sample at its last line end, so no character is split.
    let end = sample
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(sample.len(), |i| i + 1);
    let sample = &sample[..end];
    let (mut valid_multibyte, mut invalid) = (0usize, 0usize);
    let mut rest = sample;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                valid_multibyte += s.chars().filter(|c| !c.is_ascii()).count();
                break;
            }
            Err(e) => {
                let good = &rest[..e.valid_up_to()];
                valid_multibyte += std::str::from_utf8(good)
                    .map_or(0, |s| s.chars().filter(|c| !c.is_ascii()).count());
                invalid += 1;
                match e.error_len() {
                    Some(n) => rest = &rest[e.valid_up_to() + n..],
                    None => break,
                }
            }
        }
    }
    if invalid == 0 || valid_multibyte > 4 * invalid {
        return TextEncoding::Utf8;
    }
    match GB18030.decode_without_bom_handling_and_without_replacement(sample) {
        Some(_) => TextEncoding::Gb18030,
        None => TextEncoding::Utf8,
    }
}

/// The most frequent of `,` `;` tab `|` in the first line, outside quotes.
fn sniff_delimiter(sample: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for &b in sample {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = candidates.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4).max_by_key(|&i| (counts[i], 4 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// Decodes one field; `None` when it is not valid text in the encoding.
pub fn decode(encoding: TextEncoding, bytes: &[u8]) -> Option<String> {
    match encoding {
        TextEncoding::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
        TextEncoding::Gb18030 => GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|c| c.into_owned()),
    }
}

fn decode_lossy(encoding: TextEncoding, bytes: &[u8]) -> String {
    match encoding {
        TextEncoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        TextEncoding::Gb18030 => GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Encodes text for a file in `encoding` (the rejects file keeps the input's).
pub fn encode(encoding: TextEncoding, text: &str) -> Vec<u8> {
    match encoding {
        TextEncoding::Utf8 => text.as_bytes().to_vec(),
        TextEncoding::Gb18030 => GB18030.encode(text).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a,b\"|c|d\n"), b'|');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }

    #[test]
    fn gbk_text_is_told_from_utf8() {
        let text = "姓名,手机\n张伟,13800138000\n李娜,13900139000\n";
        assert_eq!(detect_encoding(text.as_bytes()), TextEncoding::Utf8);
        let gbk = encode(TextEncoding::Gb18030, text);
        assert_eq!(detect_encoding(&gbk), TextEncoding::Gb18030);
        // One broken byte in a UTF-8 file does not make it GB18030.
        let mut broken = "名字,城市\n".repeat(20).into_bytes();
        broken.extend_from_slice(b"\xff\xfe bad\n");
        assert_eq!(detect_encoding(&broken), TextEncoding::Utf8);
    }
}
