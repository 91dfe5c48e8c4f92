//! Segments over a book: the schema its rules imply, members, counts, explanations.

use kehu_model::{Customer, CustomerId, Timestamp};
use kehu_rules::CustomType;
use kehu_segment::{Explanation, Schema, Segment, ValueType};

use crate::{Book, Error};

impl Book {
    /// The fields this book's segments can name: the standard ones and the
    /// custom fields its rules declare.
    pub fn schema(&self) -> Schema {
        self.rules
            .rule_set()
            .custom
            .iter()
            .fold(Schema::standard(), |schema, c| {
                let value_type = match c.kind {
                    CustomType::Integer | CustomType::Decimal => ValueType::Number,
                    CustomType::Date => ValueType::Date,
                    CustomType::Datetime => ValueType::DateTime,
                    CustomType::Text
                    | CustomType::Enum
                    | CustomType::TextList
                    | CustomType::Bool => ValueType::Text,
                };
                schema.with_custom(c.name.clone(), value_type)
            })
    }

    /// Parses a segment condition against this book's schema.
    pub fn segment(&self, condition: &str) -> Result<Segment, Error> {
        Ok(Segment::parse(condition, &self.schema())?)
    }

    /// The members of a segment, in id order, as of `as_of` (now when none).
    pub fn segment_members(
        &self,
        segment: &Segment,
        as_of: Option<Timestamp>,
    ) -> Result<Vec<Customer>, Error> {
        let now = as_of.unwrap_or_else(|| self.now());
        let snap = self.store.snapshot()?;
        let mut out = Vec::new();
        for c in snap.customers()? {
            let c = c?;
            let related = if segment.needs_related() {
                snap.related(c.id, None)?
            } else {
                Vec::new()
            };
            if segment.matches(&c, &related, now) {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Why a customer is in a segment or not, as of `as_of` (now when none).
    pub fn explain_segment(
        &self,
        segment: &Segment,
        id: CustomerId,
        as_of: Option<Timestamp>,
    ) -> Result<Explanation, Error> {
        let now = as_of.unwrap_or_else(|| self.now());
        let snap = self.store.snapshot()?;
        let c = snap.customer(id)?.ok_or(Error::NotFound(id))?;
        let related = snap.related(id, None)?;
        Ok(segment.explain(&c, &related, now))
    }
}
