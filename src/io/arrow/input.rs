//! Arrow record batches read as a table's rows: the headers are the
//! schema's names, every cell the text Arrow's own display gives it (dates
//! `2024-01-31`, timestamps RFC 3339, nulls empty; a column of midnights as
//! dates, a column of whole floats as integers, an instant in a named zone
//! as its UTC time, a list as `a;b`), so a DataFrame goes to dedupe and
//! import as its CSV would, without being written as one.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{make_array, Array, ArrayRef, RecordBatch, RecordBatchReader};
use arrow_cast::cast;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, TimeUnit};

use super::tables::arrow_error;
use crate::Error;

/// The rows of a stream of record batches as text cells, batch by batch.
pub struct ArrowRows {
    reader: Box<dyn RecordBatchReader + Send>,
    headers: Vec<String>,
    /// The current batch's rows not yet taken, last first.
    pending: Vec<Vec<String>>,
}

impl ArrowRows {
    /// Reads the schema of a stream.
    pub fn new(reader: Box<dyn RecordBatchReader + Send>) -> Self {
        let headers = reader
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        Self {
            reader,
            headers,
            pending: Vec::new(),
        }
    }

    /// The column names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    fn next_row(&mut self) -> Result<Option<Vec<String>>, Error> {
        while self.pending.is_empty() {
            match self.reader.next() {
                Some(b) => self.pending = rows_of(&b.map_err(arrow_error)?)?,
                None => return Ok(None),
            }
        }
        Ok(self.pending.pop())
    }
}

/// A batch's rows as text, last first.
fn rows_of(batch: &RecordBatch) -> Result<Vec<Vec<String>>, Error> {
    let options = FormatOptions::default();
    let columns = batch
        .columns()
        .iter()
        .map(as_written)
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow_error)?;
    let formatters = columns
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow_error)?;
    Ok((0..batch.num_rows())
        .rev()
        .map(|row| {
            formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect()
        })
        .collect())
}

/// A column as a person would have written it in a file: timestamps that
/// are all at midnight as dates (pandas has no date type: its dates arrive
/// as timestamps), floats that are all whole as whole numbers (pandas makes
/// a column of integers with a gap float), lists as a CSV cell holds them.
fn as_written(column: &ArrayRef) -> Result<ArrayRef, arrow_schema::ArrowError> {
    const DAY_SECONDS: i64 = 86_400;
    // An instant in a named zone ("UTC", "Asia/Shanghai") as its UTC time:
    // the values are UTC already; only the zone's name goes.
    if let DataType::Timestamp(unit, Some(_)) = column.data_type() {
        let naive = column
            .to_data()
            .into_builder()
            .data_type(DataType::Timestamp(*unit, None))
            .build()?;
        return as_written(&make_array(naive));
    }
    let per_day = match column.data_type() {
        DataType::Timestamp(unit, _) => Some(match unit {
            TimeUnit::Second => DAY_SECONDS,
            TimeUnit::Millisecond => DAY_SECONDS * 1_000,
            TimeUnit::Microsecond => DAY_SECONDS * 1_000_000,
            TimeUnit::Nanosecond => DAY_SECONDS * 1_000_000_000,
        }),
        DataType::Date64 => Some(DAY_SECONDS * 1_000),
        _ => None,
    };
    if let Some(per_day) = per_day {
        let ticks = cast(column, &DataType::Int64)?;
        let whole_days = ticks
            .as_primitive::<Int64Type>()
            .iter()
            .flatten()
            .all(|t| t % per_day == 0);
        if whole_days {
            return cast(column, &DataType::Date32);
        }
    }
    if let Some(list) = column.as_list_opt::<i32>() {
        // A list as a CSV cell holds it: `a;b`, read back as a list.
        let options = FormatOptions::default();
        let mut text = arrow_array::builder::StringBuilder::new();
        for i in 0..list.len() {
            if list.is_null(i) {
                text.append_null();
                continue;
            }
            let items = list.value(i);
            let f = ArrayFormatter::try_new(items.as_ref(), &options)?;
            let items: Vec<String> = (0..items.len()).map(|j| f.value(j).to_string()).collect();
            text.append_value(kehu_table::values::list_text(&items));
        }
        return Ok(std::sync::Arc::new(text.finish()));
    }
    if matches!(
        column.data_type(),
        DataType::Float16 | DataType::Float32 | DataType::Float64
    ) {
        let values = cast(column, &DataType::Float64)?;
        let whole = values
            .as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .all(|x| x.fract() == 0.0 && x.abs() < 9.0e15);
        if whole {
            return cast(&values, &DataType::Int64);
        }
    }
    Ok(column.clone())
}

impl Iterator for ArrowRows {
    type Item = Result<Vec<String>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, RecordBatchIterator, StringArray, TimestampNanosecondArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    fn rows(columns: Vec<(&str, ArrayRef)>) -> Vec<Vec<String>> {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let reader = RecordBatchIterator::new(vec![Ok(batch)], schema);
        ArrowRows::new(Box::new(reader))
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn cells_read_as_a_file_would_have_them() {
        const DAY: i64 = 86_400_000_000_000;
        let got = rows(vec![
            (
                "name",
                Arc::new(StringArray::from(vec![Some("张伟"), None])) as ArrayRef,
            ),
            (
                "born",
                Arc::new(TimestampNanosecondArray::from(vec![Some(DAY * 6633), None])),
            ),
            (
                "seen",
                Arc::new(TimestampNanosecondArray::from(vec![
                    Some(DAY + 1_000_000_000),
                    Some(0),
                ])),
            ),
            (
                "at",
                Arc::new(
                    TimestampNanosecondArray::from(vec![Some(DAY + 1_000_000_000), None])
                        .with_timezone("Asia/Shanghai"),
                ),
            ),
            (
                "size",
                Arc::new(Float64Array::from(vec![Some(520.0), None])),
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![Some(0.5), Some(2.0)])),
            ),
        ]);
        assert_eq!(
            got,
            [
                [
                    "张伟",
                    "1988-02-29",
                    "1970-01-02T00:00:01",
                    "1970-01-02T00:00:01",
                    "520",
                    "0.5"
                ],
                ["", "", "1970-01-01T00:00:00", "", "", "2.0"],
            ]
        );
    }
}
