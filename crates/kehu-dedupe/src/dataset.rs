//! Records as columns of interned normal forms.
//!
//! Each field is a column: per record the id of its normalised value (0 means
//! missing), and per distinct value its text, how many records hold it and
//! derived forms (the full form of a nickname, a date as a number). Exact
//! agreement is then an integer comparison, and term frequencies come free.

use std::collections::HashMap;

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use rayon::prelude::*;

use kehu_model::catalogue;

use crate::field::{guess_type, FieldSpec, FieldType};
use crate::normalize::{self, normalize};
use crate::Error;

/// Strings kept back to back in one buffer: one allocation for many values
/// (a million records' e-mails are one string, not a million).
#[derive(Clone, Debug, Default)]
struct Texts {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<usize>,
}

impl Texts {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// The hash values are interned by (and compared across columns with).
pub fn value_hash(value: &str) -> u64 {
    FxBuildHasher.hash_one(value)
}

/// One field of every record.
#[derive(Clone, Debug)]
pub struct Column {
    /// The field.
    pub spec: FieldSpec,
    /// How many records have been added.
    rows: usize,
    /// Per value id, the normal form ("" for id 0).
    values: Texts,
    /// Per value id, how many records hold it.
    counts: Vec<u32>,
    /// Per value id, [`value_hash`] of its text.
    hashes: Vec<u64>,
    /// Per value id, a derived key: the full form of a given name, a date as
    /// `YYYYMMDD`, otherwise the id itself.
    alt: Vec<u32>,
    /// The value ids, found by their text's hash.
    lookup: HashTable<u32>,
    alt_lookup: HashMap<Box<str>, u32, FxBuildHasher>,
}

impl Column {
    fn new(spec: FieldSpec) -> Self {
        let mut values = Texts::default();
        values.push("");
        Column {
            spec,
            rows: 0,
            values,
            counts: vec![0],
            hashes: vec![0],
            alt: vec![0],
            lookup: HashTable::new(),
            alt_lookup: HashMap::default(),
        }
    }

    /// The id of a value ([`value_hash`] of it given), added when new.
    fn intern(&mut self, value: &str, hash: u64) -> u32 {
        self.rows += 1;
        if value.is_empty() {
            self.counts[0] += 1;
            return 0;
        }
        let (values, hashes) = (&self.values, &self.hashes);
        let found = self
            .lookup
            .find(hash, |&id| values.get(id as usize) == value)
            .copied();
        if let Some(id) = found {
            self.counts[id as usize] += 1;
            return id;
        }
        let id = self.values.len() as u32;
        let alt = match self.spec.kind {
            FieldType::GivenName => {
                let canon = normalize::canonical_given(value);
                let next = self.alt_lookup.len() as u32 + 1;
                match self.alt_lookup.get(canon) {
                    Some(&a) => a,
                    None => {
                        self.alt_lookup.insert(canon.into(), next);
                        next
                    }
                }
            }
            FieldType::Date => value.parse().unwrap_or(0),
            _ => id,
        };
        self.lookup.insert_unique(hash, id, |&i| hashes[i as usize]);
        self.hashes.push(hash);
        self.values.push(value);
        self.counts.push(1);
        self.alt.push(alt);
        id
    }

    /// A hash of a value's text: equal texts in any two columns hash equal.
    #[inline]
    pub fn hash(&self, id: u32) -> u64 {
        self.hashes[id as usize]
    }

    /// The derived key of a value id.
    #[inline]
    pub fn alt(&self, id: u32) -> u32 {
        self.alt[id as usize]
    }

    /// The normal form of a value id.
    #[inline]
    pub fn value(&self, id: u32) -> &str {
        self.values.get(id as usize)
    }

    /// How many records hold the value of this id.
    #[inline]
    pub fn count(&self, id: u32) -> u32 {
        self.counts[id as usize]
    }

    /// Per value id, how many records hold it (index 0: records missing it).
    pub fn value_counts(&self) -> &[u32] {
        &self.counts
    }

    /// How many records have a value here.
    pub fn filled(&self) -> usize {
        self.rows - self.counts[0] as usize
    }
}

/// Records to dedupe or link: ids, an optional source (for linking two
/// files) and one column per field.
#[derive(Clone, Debug)]
pub struct Dataset {
    ids: Texts,
    /// Value ids, row by row (one cache line holds a record's fields).
    cells: Vec<u32>,
    sources: Vec<u8>,
    columns: Vec<Column>,
}

/// A whole-name column beside given- and family-name columns that holds
/// the same words in most rows (`full_name` = `first_name last_name`, in
/// either order) repeats them: it is ignored, so the name is not counted
/// twice.
fn ignore_repeated_names(mapping: &mut [(usize, FieldType)], rows: &[Vec<String>]) {
    let col = |kind: FieldType| mapping.iter().find(|(_, k)| *k == kind).map(|(i, _)| *i);
    let (Some(given), Some(family)) = (col(FieldType::GivenName), col(FieldType::FamilyName))
    else {
        return;
    };
    let words = |s: &str| {
        let mut w: Vec<String> = s.split_whitespace().map(str::to_lowercase).collect();
        w.sort();
        w
    };
    for (i, kind) in mapping.iter_mut() {
        if *kind != FieldType::PersonName {
            continue;
        }
        let (mut both, mut same) = (0usize, 0usize);
        for r in rows.iter().take(500) {
            let cell = |c: usize| r.get(c).map_or("", |v| v.trim());
            let (whole, g, f) = (cell(*i), cell(given), cell(family));
            if whole.is_empty() || g.is_empty() || f.is_empty() {
                continue;
            }
            both += 1;
            same += usize::from(words(whole) == words(&format!("{g} {f}")));
        }
        if both >= 20 && same * 10 >= both * 8 {
            *kind = FieldType::Ignore;
        }
    }
}

impl Dataset {
    /// An empty dataset of these fields.
    pub fn new(fields: Vec<FieldSpec>) -> Self {
        Dataset {
            ids: Texts::default(),
            cells: Vec::new(),
            sources: Vec::new(),
            columns: fields.into_iter().map(Column::new).collect(),
        }
    }

    /// The fields, in column order.
    pub fn fields(&self) -> Vec<FieldSpec> {
        self.columns.iter().map(|c| c.spec.clone()).collect()
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The value id (0 = missing) of a record's field.
    #[inline]
    pub fn cell(&self, row: u32, column: usize) -> u32 {
        self.cells[row as usize * self.columns.len() + column]
    }

    /// The normal form of a record's field ("" = missing).
    pub fn text(&self, row: u32, column: usize) -> &str {
        self.columns[column].value(self.cell(row, column))
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// A record's id.
    pub fn id(&self, row: u32) -> &str {
        self.ids.get(row as usize)
    }

    /// The row of the record with this id (a linear search).
    pub fn row_of(&self, id: &str) -> Option<u32> {
        (0..self.ids.len())
            .position(|i| self.ids.get(i) == id)
            .map(|r| r as u32)
    }

    /// Which input a record came from (0, or 1 for the second file of a link).
    pub fn source(&self, row: u32) -> u8 {
        self.sources[row as usize]
    }

    /// Whether any record came from a second source.
    pub fn is_link(&self) -> bool {
        self.sources.iter().any(|&s| s != 0)
    }

    /// Adds one record: its id and one raw value per field, in field order
    /// (missing values may be left off the end).
    pub fn push(&mut self, id: impl AsRef<str>, raw: &[&str]) {
        let normal: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| normalize(c.spec.kind, raw.get(i).copied().unwrap_or("")))
            .collect();
        self.push_normal(id.as_ref(), 0, &normal, None);
    }

    /// Adds a record given as its normal forms, one per field in order (as
    /// [`normalize()`] makes them), and their value hashes when known.
    pub fn push_normalized(&mut self, id: &str, normal: &[String], hashes: Option<&[u64]>) {
        self.push_normal(id, 0, normal, hashes);
    }

    fn push_normal(&mut self, id: &str, source: u8, normal: &[String], hashes: Option<&[u64]>) {
        self.ids.push(id);
        self.sources.push(source);
        for (i, c) in self.columns.iter_mut().enumerate() {
            let v = normal.get(i).map_or("", String::as_str);
            let hash = match hashes {
                Some(h) => h[i],
                None => value_hash(v),
            };
            let vid = c.intern(v, hash);
            self.cells.push(vid);
        }
    }

    /// Reads rows (a header, then rows of cells, as `kehu-table` reads any
    /// CSV or JSON Lines file) into a dataset: `fields` names the columns to
    /// use and their types (empty: every column, types guessed); `id_column`
    /// names the record id (default: the first column the catalogue calls a
    /// record id — `id`, `unique_id`, `rec_id`, `customer_id`, `客户编号`… —
    /// else the line number). Rows are normalised on all cores.
    pub fn from_rows(
        headers: &[String],
        rows: &mut dyn Iterator<Item = Result<Vec<String>, Error>>,
        id_column: Option<&str>,
        fields: &[FieldSpec],
    ) -> Result<Self, Error> {
        let mut ds = Dataset::new(Vec::new());
        ds.append_rows(headers, rows, id_column, fields, 0)?;
        Ok(ds)
    }

    /// Reads a second file's rows into this dataset as source 1, for linking;
    /// its columns are matched to this dataset's fields by name, else by type.
    pub fn append_link_rows(
        &mut self,
        headers: &[String],
        rows: &mut dyn Iterator<Item = Result<Vec<String>, Error>>,
        id_column: Option<&str>,
    ) -> Result<(), Error> {
        let fields = self.fields();
        self.append_rows(headers, rows, id_column, &fields, 1)
    }

    fn append_rows(
        &mut self,
        headers: &[String],
        rows: &mut dyn Iterator<Item = Result<Vec<String>, Error>>,
        id_column: Option<&str>,
        fields: &[FieldSpec],
        source: u8,
    ) -> Result<(), Error> {
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(Error::Input("the file has no header row".into()));
        }
        let id_at = match id_column {
            Some(name) => Some(
                headers
                    .iter()
                    .position(|h| h.trim() == name)
                    .ok_or_else(|| Error::Settings(format!("no column named `{name}`")))?,
            ),
            None => headers.iter().position(|h| catalogue::is_record_id(h)),
        };
        let mut first: Vec<Vec<String>> = Vec::new();
        for r in (&mut *rows).take(CHUNK) {
            first.push(r?);
        }
        // Which column feeds which field.
        let mapping: Vec<(usize, FieldType)> = if self.columns.is_empty() && fields.is_empty() {
            let mut m = Vec::new();
            for (i, h) in headers.iter().enumerate() {
                if Some(i) == id_at {
                    continue;
                }
                let kind = guess_type(
                    h,
                    first
                        .iter()
                        .take(500)
                        .map(|r| r.get(i).map_or("", String::as_str)),
                );
                m.push((i, kind));
            }
            ignore_repeated_names(&mut m, &first);
            m
        } else {
            let wanted: Vec<FieldSpec> = if fields.is_empty() {
                self.fields()
            } else {
                fields.to_vec()
            };
            let mut used = vec![false; headers.len()];
            let mut m = Vec::new();
            for f in &wanted {
                let by_name = headers
                    .iter()
                    .position(|h| h.trim() == f.name)
                    .filter(|&i| !used[i]);
                let at = by_name.or_else(|| {
                    (0..headers.len()).find(|&i| {
                        !used[i]
                            && Some(i) != id_at
                            && crate::field::type_from_header(&headers[i]) == Some(f.kind)
                    })
                });
                match at {
                    Some(i) => {
                        used[i] = true;
                        m.push((i, f.kind));
                    }
                    None if source == 0 => {
                        return Err(Error::Settings(format!(
                            "the settings name a field `{}` that the file has no column for",
                            f.name
                        )))
                    }
                    None => m.push((usize::MAX, f.kind)),
                }
            }
            m
        };
        if self.columns.is_empty() {
            self.columns = mapping
                .iter()
                .map(|&(i, kind)| {
                    Column::new(FieldSpec {
                        name: headers[i].trim().to_string(),
                        kind,
                    })
                })
                .collect();
        }
        let mut line = self.ids.len();
        let mut chunk = first;
        loop {
            let normal: Vec<(Option<String>, Vec<String>)> = chunk
                .par_iter()
                .map(|r| {
                    let id = id_at.and_then(|i| r.get(i)).map(|s| s.trim().to_string());
                    let vals = mapping
                        .iter()
                        .map(|&(i, kind)| normalize(kind, r.get(i).map_or("", String::as_str)))
                        .collect();
                    (id, vals)
                })
                .collect();
            for (id, vals) in normal {
                line += 1;
                let id = id
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| line.to_string());
                self.push_normal(&id, source, &vals, None);
            }
            chunk = Vec::with_capacity(CHUNK);
            for r in (&mut *rows).take(CHUNK) {
                chunk.push(r?);
            }
            if chunk.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// A dataset of some of the rows (their normal forms as they are), in the order given.
    pub fn subset(&self, rows: &[u32]) -> Dataset {
        let mut out = Dataset::new(self.fields());
        for &r in rows {
            let normal: Vec<String> = (0..self.columns.len())
                .map(|c| self.text(r, c).to_string())
                .collect();
            out.push_normal(self.id(r), self.source(r), &normal, None);
        }
        out
    }

    /// Drops the interning tables once no more records will be added.
    pub fn freeze(&mut self) {
        for c in &mut self.columns {
            c.lookup = HashTable::new();
            c.alt_lookup = HashMap::default();
        }
    }
}

const CHUNK: usize = 65_536;

#[cfg(test)]
mod tests {
    use super::*;

    /// A small CSV (no quoting) as headers and rows.
    fn from_csv(text: &str, id_column: Option<&str>) -> Result<Dataset, Error> {
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let headers: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::to_string)
            .collect();
        let mut rows = lines.map(|l| Ok(l.split(',').map(str::to_string).collect()));
        Dataset::from_rows(&headers, &mut rows, id_column, &[])
    }

    #[test]
    fn reads_febrl_shaped_csv_and_interns() {
        let csv = "rec_id,given_name,surname,date_of_birth\n\
                   a,John,Smith,19800102\n\
                   b,Jon,SMITH,1980-01-02\n\
                   c,,smith,\n";
        let ds = from_csv(csv, Some("rec_id")).unwrap();
        assert_eq!(ds.len(), 3);
        assert_eq!(ds.id(1), "b");
        let kinds: Vec<FieldType> = ds.fields().iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [FieldType::GivenName, FieldType::FamilyName, FieldType::Date]
        );
        let surname = &ds.columns()[1];
        assert_eq!(ds.cell(0, 1), ds.cell(2, 1));
        assert_eq!(surname.count(ds.cell(0, 1)), 3);
        assert_eq!(ds.cell(0, 2), ds.cell(1, 2));
        assert_eq!(ds.cell(2, 2), 0);
        assert_eq!(ds.text(2, 0), "");
        assert_eq!(ds.columns()[0].filled(), 2);
    }

    #[test]
    fn the_id_column_is_found_by_its_usual_names() {
        let csv = "姓名,客户编号,手机\n张伟,C1,13800138000\n";
        let ds = from_csv(csv, None).unwrap();
        assert_eq!(ds.id(0), "C1");
        assert_eq!(ds.fields().len(), 2, "the id is not a field");
        let ds = from_csv("name,phone\nWei,1380013800\n", None).unwrap();
        assert_eq!(ds.id(0), "1", "the line number");
    }

    #[test]
    fn errors_are_clear() {
        assert!(matches!(
            from_csv("a,b\n1,2\n", Some("rec_id")),
            Err(Error::Settings(_))
        ));
        let ds = from_csv("", None);
        assert!(ds.is_err());
    }
}
