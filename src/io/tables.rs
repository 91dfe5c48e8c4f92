//! Files as dedupe records: every file dedupe reads comes through kehu-table,
//! as an import's does (CSV with any delimiter, UTF-8 or GB18030, JSON Lines).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use kehu_dedupe::{Dataset, Settings};
use kehu_table::{Table, TableHints};

use crate::Error;

/// Reads a file into a dataset: the columns and id column the settings
/// name, else every column with its type guessed and the catalogue's id column.
pub fn read_dataset(
    reader: Box<dyn Read + Send>,
    name: &str,
    settings: &Settings,
) -> Result<Dataset, Error> {
    let (headers, mut rows) = open(reader, name)?;
    Dataset::from_rows(
        &headers,
        &mut rows,
        settings.id_column.as_deref(),
        &settings.fields,
    )
    .map_err(|e| input(name, e))
}

/// A table's rows (text cells under their headers, as a DataFrame's or an
/// Arrow stream's) as a dataset, typed as a file's would be.
pub fn dataset_from_rows(
    headers: &[String],
    rows: &mut dyn Iterator<Item = Result<Vec<String>, String>>,
    name: &str,
    settings: &Settings,
) -> Result<Dataset, Error> {
    let mut rows = rows.map(|r| r.map_err(kehu_dedupe::Error::Input));
    Dataset::from_rows(
        headers,
        &mut rows,
        settings.id_column.as_deref(),
        &settings.fields,
    )
    .map_err(|e| input(name, e))
}

/// A second table's rows appended to a dataset, for linking the two.
pub fn append_link_rows(
    ds: &mut Dataset,
    headers: &[String],
    rows: &mut dyn Iterator<Item = Result<Vec<String>, String>>,
    name: &str,
    settings: &Settings,
) -> Result<(), Error> {
    let mut rows = rows.map(|r| r.map_err(kehu_dedupe::Error::Input));
    ds.append_link_rows(headers, &mut rows, settings.id_column.as_deref())
        .map_err(|e| input(name, e))
}

/// Reads a second file into a dataset, for linking the two.
pub fn append_link(
    ds: &mut Dataset,
    reader: Box<dyn Read + Send>,
    name: &str,
    settings: &Settings,
) -> Result<(), Error> {
    let (headers, mut rows) = open(reader, name)?;
    ds.append_link_rows(&headers, &mut rows, settings.id_column.as_deref())
        .map_err(|e| input(name, e))
}

/// Reads a file, and a second one to link it with, into a dataset.
pub fn dataset_from_files(
    path: &Path,
    link: Option<&Path>,
    settings: &Settings,
) -> Result<Dataset, Error> {
    let open_file = |p: &Path| -> Result<Box<dyn Read + Send>, Error> {
        File::open(p)
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
            .map_err(|e| Error::io(p, e))
    };
    let mut ds = read_dataset(open_file(path)?, &path.display().to_string(), settings)?;
    if let Some(other) = link {
        append_link(
            &mut ds,
            open_file(other)?,
            &other.display().to_string(),
            settings,
        )?;
    }
    Ok(ds)
}

type Rows = Box<dyn Iterator<Item = Result<Vec<String>, kehu_dedupe::Error>>>;

fn open(reader: Box<dyn Read + Send>, name: &str) -> Result<(Vec<String>, Rows), Error> {
    let hints = TableHints {
        name,
        ..TableHints::default()
    };
    let table = Table::open(reader, hints).map_err(|e| Error::Input {
        file: name.to_string(),
        message: e.to_string(),
    })?;
    let headers = table.headers().to_vec();
    let rows = table.map(|r| r.map_err(|e| kehu_dedupe::Error::Input(e.to_string())));
    Ok((headers, Box::new(rows)))
}

fn input(name: &str, e: kehu_dedupe::Error) -> Error {
    match e {
        kehu_dedupe::Error::Input(message) => Error::Input {
            file: name.to_string(),
            message,
        },
        other => Error::Dedupe(other),
    }
}
