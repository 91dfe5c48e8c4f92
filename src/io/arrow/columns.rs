//! Typed Arrow columns, built a cell at a time: the one place a kehu value
//! becomes an Arrow value (text as UTF-8, whole numbers as int64, dates as
//! date32, instants as UTC microsecond timestamps, lists as lists of text,
//! exact decimals as decimal128).

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use kehu_model::Timestamp;

/// The Arrow type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// A whole number (int64).
    Integer,
    /// A float64 (scores and probabilities, never money).
    Float,
    /// Yes or no.
    Bool,
    /// A calendar date (date32).
    Date,
    /// A UTC instant (timestamp, microseconds, "UTC").
    Instant,
    /// A list of UTF-8 text.
    TextList,
    /// An exact decimal with this many places (decimal128, precision 38).
    Decimal(i8),
}

/// One cell's value, before it is appended to its column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (null).
    Null,
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A float.
    Float(f64),
    /// Yes or no.
    Bool(bool),
    /// A date.
    Date(NaiveDate),
    /// An instant.
    Instant(Timestamp),
    /// A list of text.
    TextList(Vec<String>),
    /// An exact decimal as an integer of the column's smallest unit.
    Decimal(i128),
}

impl Cell {
    /// Text, or null when it is empty (an empty cell is no value, as in CSV).
    pub fn text(t: impl Into<String>) -> Self {
        let t = t.into();
        if t.is_empty() {
            Self::Null
        } else {
            Self::Text(t)
        }
    }

    /// An optional text.
    pub fn opt(t: &Option<String>) -> Self {
        t.as_deref().map_or(Self::Null, Self::text)
    }
}

enum Builder {
    Text(StringBuilder),
    Integer(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Instant(TimestampMicrosecondBuilder),
    TextList(ListBuilder<StringBuilder>),
    Decimal(Decimal128Builder),
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");

impl Builder {
    fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Text => Self::Text(StringBuilder::new()),
            ColumnType::Integer => Self::Integer(Int64Builder::new()),
            ColumnType::Float => Self::Float(Float64Builder::new()),
            ColumnType::Bool => Self::Bool(BooleanBuilder::new()),
            ColumnType::Date => Self::Date(Date32Builder::new()),
            ColumnType::Instant => {
                Self::Instant(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnType::TextList => Self::TextList(ListBuilder::new(StringBuilder::new())),
            ColumnType::Decimal(scale) => Self::Decimal(
                Decimal128Builder::new()
                    .with_precision_and_scale(38, scale)
                    .expect("precision 38 takes any scale up to 38"),
            ),
        }
    }

    /// Appends a cell; a value of another type than the column's is a null
    /// (the catalogue gives every field one type, so it does not happen).
    fn push(&mut self, cell: Cell) {
        match (self, cell) {
            (Self::Text(b), Cell::Text(t)) => b.append_value(t),
            (Self::Text(b), _) => b.append_null(),
            (Self::Integer(b), Cell::Integer(n)) => b.append_value(n),
            (Self::Integer(b), _) => b.append_null(),
            (Self::Float(b), Cell::Float(x)) => b.append_value(x),
            (Self::Float(b), _) => b.append_null(),
            (Self::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (Self::Bool(b), _) => b.append_null(),
            (Self::Date(b), Cell::Date(d)) => {
                b.append_value((d - EPOCH).num_days() as i32);
            }
            (Self::Date(b), _) => b.append_null(),
            (Self::Instant(b), Cell::Instant(t)) => b.append_value(t.timestamp_micros()),
            (Self::Instant(b), _) => b.append_null(),
            (Self::TextList(b), Cell::TextList(items)) => {
                for i in items {
                    b.values().append_value(i);
                }
                b.append(true);
            }
            (Self::TextList(b), _) => b.append(false),
            (Self::Decimal(b), Cell::Decimal(v)) => b.append_value(v),
            (Self::Decimal(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Integer(b) => Arc::new(b.finish()),
            Self::Float(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Instant(b) => Arc::new(b.finish()),
            Self::TextList(b) => Arc::new(b.finish()),
            Self::Decimal(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows a batch holds at most.
pub const BATCH_ROWS: usize = 65_536;

/// A table being built: named, typed columns, cut into record batches.
pub struct TableBuilder {
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    batches: Vec<RecordBatch>,
}

impl TableBuilder {
    /// A table of these columns.
    pub fn new(columns: &[(String, ColumnType)]) -> Self {
        let mut builders: Vec<Builder> = columns.iter().map(|(_, t)| Builder::new(*t)).collect();
        // Each field's type is the one its builder makes (a list's item field included).
        let fields: Vec<Field> = columns
            .iter()
            .zip(&mut builders)
            .map(|((name, _), b)| Field::new(name, b.finish().data_type().clone(), true))
            .collect();
        Self {
            schema: Arc::new(Schema::new(fields)),
            builders,
            rows: 0,
            batches: Vec::new(),
        }
    }

    /// Appends one row, a cell for each column in order.
    pub fn push(&mut self, row: impl IntoIterator<Item = Cell>) -> Result<(), ArrowError> {
        let mut n = 0;
        for (b, cell) in self.builders.iter_mut().zip(row) {
            b.push(cell);
            n += 1;
        }
        debug_assert_eq!(n, self.builders.len(), "a row has a cell for every column");
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.cut()?;
        }
        Ok(())
    }

    fn cut(&mut self) -> Result<(), ArrowError> {
        let arrays = self.builders.iter_mut().map(Builder::finish).collect();
        self.batches
            .push(RecordBatch::try_new(self.schema.clone(), arrays)?);
        self.rows = 0;
        Ok(())
    }

    /// The table: its schema and its batches (none when it has no rows).
    pub fn finish(mut self) -> Result<ArrowTable, ArrowError> {
        if self.rows > 0 {
            self.cut()?;
        }
        Ok(ArrowTable {
            schema: self.schema,
            batches: self.batches,
        })
    }
}

/// A table as Arrow record batches, ready for any Arrow reader: a schema
/// and its batches. [`ArrowTable::into_reader`] gives the
/// `RecordBatchReader` the C stream interface exports.
#[derive(Debug, Clone)]
pub struct ArrowTable {
    /// The columns.
    pub schema: SchemaRef,
    /// The rows, up to [`BATCH_ROWS`] a batch.
    pub batches: Vec<RecordBatch>,
}

impl ArrowTable {
    /// How many rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The batches as a reader.
    pub fn into_reader(self) -> arrow_array::RecordBatchIterator<Batches> {
        let batches: Vec<_> = self.batches.into_iter().map(Ok).collect();
        arrow_array::RecordBatchIterator::new(batches.into_iter(), self.schema)
    }
}

/// The batches an [`ArrowTable`]'s reader yields.
pub type Batches = std::vec::IntoIter<Result<RecordBatch, ArrowError>>;

/// A money amount's minor units as a decimal of `scale` places.
pub fn minor_as_decimal(minor: i64, exponent: u32, scale: i8) -> i128 {
    i128::from(minor) * 10i128.pow(u32::from(scale as u8).saturating_sub(exponent))
}
