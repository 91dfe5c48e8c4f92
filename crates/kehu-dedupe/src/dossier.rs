//! A book's dossiers as dedupe records: the catalogue fields dedupe matches
//! on, named as the catalogue names them, and each dossier's values for them.

use std::borrow::Cow;

use chrono::Datelike;
use kehu_model::catalogue::Field;
use kehu_model::Customer;

use crate::{Dataset, FieldSpec, FieldType};

/// How a dossier field is matched, for the fields dedupe compares dossiers on.
pub fn match_type(field: Field) -> Option<FieldType> {
    Some(match field {
        Field::GivenName => FieldType::GivenName,
        Field::FamilyName => FieldType::FamilyName,
        // The organisation's name, else the company a person works for.
        Field::Organization => FieldType::OrgName,
        Field::Emails => FieldType::Email,
        Field::Phones => FieldType::Phone,
        Field::BirthDate => FieldType::Date,
        // Checked at entry, so a different one is a different customer.
        Field::ResidentId | Field::CreditCode => FieldType::Identifier,
        Field::Street => FieldType::Address,
        Field::City => FieldType::City,
        Field::Postcode => FieldType::Postcode,
        Field::KehuId
        | Field::ExternalId
        | Field::Kind
        | Field::Name
        | Field::FullName
        | Field::Industry
        | Field::OrgSize
        | Field::Company
        | Field::JobTitle
        | Field::Addresses
        | Field::District
        | Field::Region
        | Field::Country
        | Field::Tags
        | Field::Owner
        | Field::Source
        | Field::Stage
        | Field::CreatedAt
        | Field::UpdatedAt
        | Field::VerifiedAt => return None,
    })
}

/// The catalogue fields a dossier is matched on, in column order.
pub fn matched_fields() -> impl Iterator<Item = Field> {
    Field::all().filter(|f| match_type(*f).is_some())
}

/// The fields of a dataset of dossiers.
pub fn fields() -> Vec<FieldSpec> {
    matched_fields()
        .filter_map(|f| {
            match_type(f).map(|kind| FieldSpec {
                name: f.name().to_string(),
                kind,
            })
        })
        .collect()
}

/// A dossier's values for [`fields`]: the primary e-mail, phone and address.
/// A name held whole is split: Chinese names family-first (`张伟` → 张 + 伟),
/// others given-first.
pub fn values(c: &Customer) -> Vec<Cow<'_, str>> {
    let (mut given, mut family) = (
        c.name.given.as_deref().map(Cow::Borrowed),
        c.name.family.as_deref().map(Cow::Borrowed),
    );
    if given.is_none() && family.is_none() {
        if let Some(full) = c.name.full.as_deref().map(str::trim) {
            let cjk = full
                .chars()
                .next()
                .is_some_and(|ch| ('\u{3400}'..='\u{9fff}').contains(&ch));
            if cjk && !full.contains(' ') {
                let split = full.chars().next().map_or(0, char::len_utf8);
                family = Some(Cow::Borrowed(&full[..split]));
                given = Some(Cow::Borrowed(&full[split..]));
            } else if let Some((g, f)) = full.rsplit_once(' ') {
                given = Some(Cow::Borrowed(g));
                family = Some(Cow::Borrowed(f));
            } else {
                family = Some(Cow::Borrowed(full));
            }
        }
    }
    let address = c.primary_address();
    let part = |f: fn(&kehu_model::Address) -> &Option<String>| {
        Cow::Borrowed(address.and_then(|a| f(a).as_deref()).unwrap_or(""))
    };
    fn or_empty(v: Option<&str>) -> Cow<'_, str> {
        Cow::Borrowed(v.unwrap_or(""))
    }
    matched_fields()
        .map(|f| match f {
            Field::GivenName => given.clone().unwrap_or_default(),
            Field::FamilyName => family.clone().unwrap_or_default(),
            Field::Organization => or_empty(
                c.organization
                    .as_ref()
                    .and_then(|o| o.name.as_deref())
                    .or(c.company.as_deref()),
            ),
            Field::Emails => or_empty(c.primary_email().map(|e| e.address.as_str())),
            Field::Phones => or_empty(c.primary_phone().map(|p| p.number.as_str())),
            Field::BirthDate => c
                .birth_date
                .map(|d| Cow::Owned(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())))
                .unwrap_or_default(),
            Field::ResidentId => or_empty(c.resident_id.as_deref()),
            Field::CreditCode => or_empty(c.credit_code.as_deref()),
            Field::Street => part(|a| &a.street),
            Field::City => part(|a| &a.city),
            Field::Postcode => part(|a| &a.postcode),
            _ => Cow::Borrowed(""),
        })
        .collect()
}

/// Adds a dossier to a dataset of [`fields`], its id as the record id.
pub fn push(ds: &mut Dataset, c: &Customer) -> u32 {
    let values = values(c);
    let refs: Vec<&str> = values.iter().map(|v| &**v).collect();
    ds.push(c.id.to_string(), &refs);
    ds.len() as u32 - 1
}

/// Dossiers as a dataset, their ids as record ids.
pub fn dataset<'a>(customers: impl IntoIterator<Item = &'a Customer>) -> Dataset {
    let mut ds = Dataset::new(fields());
    for c in customers {
        push(&mut ds, c);
    }
    ds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossiers_become_rows_of_catalogue_fields() {
        let names: Vec<String> = fields().into_iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "given_name",
                "family_name",
                "organization",
                "birth_date",
                "resident_id",
                "credit_code",
                "emails",
                "phones",
                "street",
                "city",
                "postcode"
            ]
        );
        let c = Customer::person_named("张伟").with_email("wei@example.com");
        let v = values(&c);
        assert_eq!((&*v[0], &*v[1], &*v[6]), ("伟", "张", "wei@example.com"));
        assert_eq!(v.len(), names.len());
    }
}
