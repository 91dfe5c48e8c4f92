//! The book's tables as Arrow: customers (the CSV export's columns, typed
//! by the catalogue), purchases, interactions, feedback and consents; for a
//! principal, the customers in its scope as it may see them, like any export.

use kehu_model::catalogue::{Field, ValueKind, FIELDS};
use kehu_model::{CustomType, CustomValue, Customer, Related, RelatedKind};
use kehu_table::cells::{cell, list_cell};
use kehu_table::values::custom_text;
use serde::Serialize;

use super::columns::{minor_as_decimal, ArrowTable, Cell, ColumnType, TableBuilder};
use crate::io::{ExportFilter, ImportKind as BookTable};
use crate::{Book, Error};

/// Places of the decimal `amount` column: exact for every ISO 4217 currency.
const MONEY_SCALE: i8 = 4;

impl Book {
    /// A table of the book as Arrow record batches, typed: dates as dates,
    /// instants as UTC timestamps, lists as lists, money as an exact decimal
    /// `amount` beside `amount_minor` and `currency`. The filter selects the
    /// customers (a segment's members, a tag, the review queue…), and the
    /// related tables hold those customers' records. For a principal, as
    /// [`Book::export`]: the customers in its scope, masked; recorded in the
    /// audit trail as an export.
    pub fn arrow_table(
        &self,
        table: BookTable,
        filter: &ExportFilter,
    ) -> Result<ArrowTable, Error> {
        self.allow(crate::Operation::Export, None)?;
        let out = match table {
            BookTable::Customers => self.customers_table(filter)?,
            related => self.related_table(related, filter)?,
        };
        self.record_audit(
            "export",
            None,
            Some(format!(
                "{} rows of {} as arrow",
                out.num_rows(),
                serde_name(&table)
            )),
        )?;
        Ok(out)
    }

    fn customers_table(&self, filter: &ExportFilter) -> Result<ArrowTable, Error> {
        let set = self.rules.rule_set();
        let custom: Vec<(String, ColumnType)> = self
            .custom_columns(filter)?
            .into_iter()
            .map(|name| {
                let declared = set.custom.iter().find(|c| c.name == name).map(|c| c.kind);
                let ty = declared.map_or(ColumnType::Text, custom_column_type);
                (name, ty)
            })
            .collect();
        let fields: Vec<_> = FIELDS.iter().filter(|f| f.column).collect();
        let columns: Vec<(String, ColumnType)> = fields
            .iter()
            .map(|f| (f.name.to_string(), field_column_type(f.value)))
            .chain(custom.iter().map(|(n, t)| (format!("custom.{n}"), *t)))
            .collect();
        let mut t = TableBuilder::new(&columns);
        for c in self.exported(filter)? {
            let c = c?;
            let row = fields
                .iter()
                .map(|f| field_cell(&c, f.field, f.value))
                .chain(
                    custom
                        .iter()
                        .map(|(n, ty)| custom_cell(c.custom.get(n), *ty)),
                )
                .collect::<Vec<_>>();
            t.push(row).map_err(arrow_error)?;
        }
        t.finish().map_err(arrow_error)
    }

    fn related_table(&self, table: BookTable, filter: &ExportFilter) -> Result<ArrowTable, Error> {
        let (kind, columns) = related_columns(table);
        let columns: Vec<(String, ColumnType)> =
            columns.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        let mut t = TableBuilder::new(&columns);
        let snap = self.store.snapshot()?;
        for c in self.exported(filter)? {
            let c = c?;
            let mut records = snap.related(c.id, Some(kind))?;
            if let Some(v) = self.viewer() {
                records = v.related(records);
            }
            for r in records {
                t.push(related_cells(&r)).map_err(arrow_error)?;
            }
        }
        t.finish().map_err(arrow_error)
    }
}

pub(super) fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::Usage(format!("arrow: {e}"))
}

/// The column type of a catalogue field.
fn field_column_type(kind: ValueKind) -> ColumnType {
    match kind {
        ValueKind::Number => ColumnType::Integer,
        ValueKind::Date => ColumnType::Date,
        ValueKind::Instant => ColumnType::Instant,
        ValueKind::Emails | ValueKind::Phones | ValueKind::TextList => ColumnType::TextList,
        ValueKind::Id | ValueKind::Text | ValueKind::Kind | ValueKind::Stage | ValueKind::Group => {
            ColumnType::Text
        }
    }
}

/// A dossier field's cell: the typed value, or the CSV cell's text.
fn field_cell(c: &Customer, field: Field, kind: ValueKind) -> Cell {
    match (field, kind) {
        (Field::BirthDate, _) => c.birth_date.map_or(Cell::Null, Cell::Date),
        (Field::CreatedAt, _) => Cell::Instant(c.created_at),
        (Field::UpdatedAt, _) => Cell::Instant(c.updated_at),
        (Field::VerifiedAt, _) => c.verified_at.map_or(Cell::Null, Cell::Instant),
        (Field::OrgSize, _) => c
            .organization
            .as_ref()
            .and_then(|o| o.size)
            .map_or(Cell::Null, |s| Cell::Integer(i64::from(s))),
        (_, ValueKind::Emails | ValueKind::Phones | ValueKind::TextList) => {
            Cell::TextList(list_cell(c, field).unwrap_or_default())
        }
        _ => Cell::text(cell(c, field)),
    }
}

/// The column type of a declared custom field (exact decimals as text:
/// their places differ from value to value).
fn custom_column_type(kind: CustomType) -> ColumnType {
    match kind {
        CustomType::Integer => ColumnType::Integer,
        CustomType::Bool => ColumnType::Bool,
        CustomType::Date => ColumnType::Date,
        CustomType::Datetime => ColumnType::Instant,
        CustomType::TextList => ColumnType::TextList,
        CustomType::Text | CustomType::Enum | CustomType::Decimal => ColumnType::Text,
    }
}

fn custom_cell(value: Option<&CustomValue>, ty: ColumnType) -> Cell {
    match (value, ty) {
        (None, _) => Cell::Null,
        (Some(CustomValue::Integer(n)), ColumnType::Integer) => Cell::Integer(*n),
        (Some(CustomValue::Bool(b)), ColumnType::Bool) => Cell::Bool(*b),
        (Some(CustomValue::Date(d)), ColumnType::Date) => Cell::Date(*d),
        (Some(CustomValue::DateTime(t)), ColumnType::Instant) => Cell::Instant(*t),
        (Some(CustomValue::TextList(l)), ColumnType::TextList) => Cell::TextList(l.clone()),
        (Some(v), ColumnType::Text) => Cell::text(custom_text(v)),
        // A value stored before its field was declared with another type.
        (Some(_), _) => Cell::Null,
    }
}

type Columns = &'static [(&'static str, ColumnType)];

fn related_columns(table: BookTable) -> (RelatedKind, Columns) {
    use ColumnType::*;
    match table {
        BookTable::Purchases => (
            RelatedKind::Purchase,
            &[
                ("id", Text),
                ("customer_id", Text),
                ("at", Instant),
                ("amount", Decimal(MONEY_SCALE)),
                ("amount_minor", Integer),
                ("currency", Text),
                ("channel", Text),
                ("items", Integer),
                ("reference", Text),
            ],
        ),
        BookTable::Interactions => (
            RelatedKind::Interaction,
            &[
                ("id", Text),
                ("customer_id", Text),
                ("at", Instant),
                ("channel", Text),
                ("direction", Text),
                ("summary", Text),
                ("outcome", Text),
            ],
        ),
        BookTable::Feedback => (
            RelatedKind::Feedback,
            &[
                ("id", Text),
                ("customer_id", Text),
                ("at", Instant),
                ("kind", Text),
                ("score", Integer),
                ("score_scale", Text),
                ("comment", Text),
                ("status", Text),
                ("resolved_at", Instant),
            ],
        ),
        BookTable::Consents => (
            RelatedKind::Consent,
            &[
                ("id", Text),
                ("customer_id", Text),
                ("at", Instant),
                ("purpose", Text),
                ("channel", Text),
                ("status", Text),
                ("evidence", Text),
                ("expires_at", Instant),
                ("separate", Bool),
            ],
        ),
        BookTable::Customers => unreachable!("customers are not related records"),
    }
}

/// An enum's name as its data spells it (`inbound`, `complaint`).
pub(super) fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// An enum's name as a cell.
fn name<T: Serialize>(v: &T) -> Cell {
    Cell::text(serde_name(v))
}

fn related_cells(r: &Related) -> Vec<Cell> {
    let head = |id: &dyn ToString, customer: &dyn ToString, at| {
        [
            Cell::Text(id.to_string()),
            Cell::Text(customer.to_string()),
            Cell::Instant(at),
        ]
    };
    let opt_instant = |t: Option<kehu_model::Timestamp>| t.map_or(Cell::Null, Cell::Instant);
    match r {
        Related::Purchase(p) => {
            let mut row = head(&p.id, &p.customer_id, p.at).to_vec();
            row.extend([
                Cell::Decimal(minor_as_decimal(
                    p.amount.minor,
                    p.amount.currency.exponent(),
                    MONEY_SCALE,
                )),
                Cell::Integer(p.amount.minor),
                Cell::Text(p.amount.currency.code().to_string()),
                Cell::opt(&p.channel),
                Cell::Integer(i64::from(p.items)),
                Cell::opt(&p.reference),
            ]);
            row
        }
        Related::Interaction(i) => {
            let mut row = head(&i.id, &i.customer_id, i.at).to_vec();
            row.extend([
                name(&i.channel),
                name(&i.direction),
                Cell::text(i.summary.clone()),
                Cell::opt(&i.outcome),
            ]);
            row
        }
        Related::Feedback(f) => {
            let mut row = head(&f.id, &f.customer_id, f.at).to_vec();
            row.extend([
                name(&f.kind),
                f.score
                    .map_or(Cell::Null, |s| Cell::Integer(i64::from(s.value))),
                f.score.map_or(Cell::Null, |s| name(&s.scale)),
                Cell::text(f.comment.clone()),
                name(&f.status),
                opt_instant(f.resolved_at),
            ]);
            row
        }
        Related::Consent(c) => {
            let mut row = head(&c.id, &c.customer_id, c.at).to_vec();
            row.extend([
                Cell::text(c.purpose.clone()),
                Cell::opt(&c.channel),
                name(&c.status),
                Cell::opt(&c.evidence),
                opt_instant(c.expires_at),
                Cell::Bool(c.separate),
            ]);
            row
        }
        Related::Note(_) => Vec::new(),
    }
}
