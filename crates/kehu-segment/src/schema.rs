//! The fields a segment can name, with their types: the catalogue's dossier
//! fields, the custom fields of a book's rules, and aggregates over related records.

use kehu_model::catalogue;

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// Text (compared as written, `contains` ignores case).
    Text,
    /// A number.
    Number,
    /// A calendar date.
    Date,
    /// An instant (compared with a date literal by its UTC date).
    DateTime,
    /// Yes or no.
    Bool,
    /// A lifecycle stage, ordered potential < new < active < at_risk < churned.
    Stage,
    /// Person or organization.
    Kind,
}

/// A dossier field or an aggregate over related records.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `kind`: person or organization.
    Kind,
    /// `name`: the display name.
    Name,
    /// `given_name`.
    GivenName,
    /// `family_name`.
    FamilyName,
    /// `company`.
    Company,
    /// `job_title`.
    JobTitle,
    /// `organization`: an organisation's name.
    Organization,
    /// `industry`.
    Industry,
    /// `org_size`.
    OrgSize,
    /// `email`: any of the e-mail addresses.
    Email,
    /// `phone`: any of the phone numbers.
    Phone,
    /// `street` (primary address).
    Street,
    /// `district` (primary address).
    District,
    /// `city` (primary address).
    City,
    /// `region` (primary address).
    Region,
    /// `postcode` (primary address).
    Postcode,
    /// `country` (primary address).
    Country,
    /// `owner`.
    Owner,
    /// `source`.
    Source,
    /// `stage`: the lifecycle stage.
    Stage,
    /// `external_id`.
    ExternalId,
    /// `birthday`: the birth date.
    BirthDate,
    /// `created`.
    Created,
    /// `updated`.
    Updated,
    /// `verified`: when the dossier was last confirmed.
    Verified,
    /// `tags`: for `has tag`, `is empty`.
    Tags,
    /// `custom.<name>`, of a declared type.
    Custom(String, ValueType),
    /// An aggregate over related records: `purchases.sum(within 90d)`.
    Aggregate(Aggregate),
}

/// Which related records an aggregate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Records {
    /// Purchases.
    Purchases,
    /// Interactions.
    Interactions,
    /// Feedback of every kind.
    Feedback,
    /// Feedback of kind complaint.
    Complaints,
}

/// What an aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// How many (0 when none).
    Count,
    /// The total amount in major units (purchases; 0 when none).
    Sum,
    /// The average amount in major units (purchases).
    Avg,
    /// The latest record's time.
    Last,
    /// The earliest record's time.
    First,
    /// How many are not resolved or closed (complaints, feedback).
    Open,
    /// The average feedback score.
    AvgScore,
}

/// An aggregate over a customer's related records, optionally within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregate {
    /// Which records.
    pub records: Records,
    /// What is computed.
    pub measure: Measure,
    /// Only records within this long before now.
    pub within: Option<crate::Period>,
}

impl Field {
    /// The type of the field's values.
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::Kind => ValueType::Kind,
            Self::Stage => ValueType::Stage,
            Self::OrgSize => ValueType::Number,
            Self::BirthDate => ValueType::Date,
            Self::Created | Self::Updated | Self::Verified => ValueType::DateTime,
            Self::Custom(_, t) => *t,
            Self::Aggregate(a) => match a.measure {
                Measure::Last | Measure::First => ValueType::DateTime,
                _ => ValueType::Number,
            },
            _ => ValueType::Text,
        }
    }
}

impl Field {
    /// The segment field of a catalogue field; none for those segments do not
    /// test (kehu's id, the address list as a whole, the resident ID and credit code).
    pub fn of(field: catalogue::Field) -> Option<Self> {
        use catalogue::Field as C;
        Some(match field {
            // Identifiers are looked up by exact value (`find_by_resident_id`), not segmented.
            C::KehuId | C::Addresses | C::ResidentId | C::CreditCode => return None,
            C::ExternalId => Self::ExternalId,
            C::Kind => Self::Kind,
            C::Name | C::FullName => Self::Name,
            C::GivenName => Self::GivenName,
            C::FamilyName => Self::FamilyName,
            C::Organization => Self::Organization,
            C::Industry => Self::Industry,
            C::OrgSize => Self::OrgSize,
            C::Company => Self::Company,
            C::JobTitle => Self::JobTitle,
            C::BirthDate => Self::BirthDate,
            C::Emails => Self::Email,
            C::Phones => Self::Phone,
            C::Street => Self::Street,
            C::District => Self::District,
            C::City => Self::City,
            C::Region => Self::Region,
            C::Postcode => Self::Postcode,
            C::Country => Self::Country,
            C::Tags => Self::Tags,
            C::Owner => Self::Owner,
            C::Source => Self::Source,
            C::Stage => Self::Stage,
            C::CreatedAt => Self::Created,
            C::UpdatedAt => Self::Updated,
            C::VerifiedAt => Self::Verified,
        })
    }

    /// The catalogue field (or custom field) this field reads; none for an aggregate.
    pub fn named(&self) -> Option<catalogue::Named> {
        use catalogue::Field as C;
        Some(catalogue::Named::Field(match self {
            Self::Custom(name, _) => return Some(catalogue::Named::Custom(name.clone())),
            Self::Aggregate(_) => return None,
            Self::Kind => C::Kind,
            Self::Name => C::Name,
            Self::GivenName => C::GivenName,
            Self::FamilyName => C::FamilyName,
            Self::Company => C::Company,
            Self::JobTitle => C::JobTitle,
            Self::Organization => C::Organization,
            Self::Industry => C::Industry,
            Self::OrgSize => C::OrgSize,
            Self::Email => C::Emails,
            Self::Phone => C::Phones,
            Self::Street => C::Street,
            Self::District => C::District,
            Self::City => C::City,
            Self::Region => C::Region,
            Self::Postcode => C::Postcode,
            Self::Country => C::Country,
            Self::Owner => C::Owner,
            Self::Source => C::Source,
            Self::Stage => C::Stage,
            Self::ExternalId => C::ExternalId,
            Self::BirthDate => C::BirthDate,
            Self::Created => C::CreatedAt,
            Self::Updated => C::UpdatedAt,
            Self::Verified => C::VerifiedAt,
            Self::Tags => C::Tags,
        }))
    }
}

const RECORDS: &[(&str, Records)] = &[
    ("purchases", Records::Purchases),
    ("interactions", Records::Interactions),
    ("feedback", Records::Feedback),
    ("complaints", Records::Complaints),
    ("购买", Records::Purchases),
    ("互动", Records::Interactions),
    ("反馈", Records::Feedback),
    ("投诉", Records::Complaints),
];

const MEASURES: &[(&str, Measure)] = &[
    ("count", Measure::Count),
    ("sum", Measure::Sum),
    ("avg", Measure::Avg),
    ("last", Measure::Last),
    ("first", Measure::First),
    ("open", Measure::Open),
    ("avg_score", Measure::AvgScore),
];

/// The fields a book's segments can name: the standard ones, and its declared custom fields.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    custom: Vec<(String, ValueType)>,
    segments: Vec<(String, String)>,
}

impl Schema {
    /// The standard fields only.
    pub fn standard() -> Self {
        Self::default()
    }

    /// Adds a declared custom field (named `custom.<name>` in segments).
    pub fn with_custom(mut self, name: impl Into<String>, value_type: ValueType) -> Self {
        self.custom.push((name.into(), value_type));
        self
    }

    /// Adds a saved segment, for `in segment "name"`.
    pub fn with_segment(mut self, name: impl Into<String>, condition: impl Into<String>) -> Self {
        let name = name.into();
        self.segments.retain(|(n, _)| *n != name);
        self.segments.push((name, condition.into()));
        self
    }

    /// A saved segment's condition.
    pub fn segment(&self, name: &str) -> Option<&str> {
        self.segments
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
    }

    /// The field a name means (an aggregate without its window), or the
    /// nearest known name. Dossier fields are named as the catalogue names
    /// them (canonical name, path or alias, in any language it knows).
    pub fn resolve(&self, name: &str) -> Result<Field, Option<String>> {
        let lower = name.to_lowercase();
        match catalogue::resolve(name) {
            Some(catalogue::Named::Field(f)) => {
                if let Some(field) = Field::of(f) {
                    return Ok(field);
                }
            }
            Some(catalogue::Named::Custom(custom)) => {
                let custom = custom.to_lowercase();
                if let Some((n, t)) = self.custom.iter().find(|(n, _)| n.to_lowercase() == custom) {
                    return Ok(Field::Custom(n.clone(), *t));
                }
            }
            None => {}
        }
        if let Some((n, t)) = self.custom.iter().find(|(n, _)| n.to_lowercase() == lower) {
            return Ok(Field::Custom(n.clone(), *t));
        }
        if let Some(field) = aggregate(&lower) {
            return Ok(field);
        }
        Err(self.nearest(&lower))
    }

    /// Every name the schema knows, for suggestions and documentation: the
    /// catalogue's canonical names, the custom fields and the aggregates.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = catalogue::Field::all()
            .filter(|f| Field::of(*f).is_some())
            .map(|f| f.name().to_string())
            .collect();
        out.extend(self.custom.iter().map(|(n, _)| format!("custom.{n}")));
        for (r, _) in RECORDS.iter().take(4) {
            for (m, _) in MEASURES {
                if aggregate(&format!("{r}.{m}")).is_some() {
                    out.push(format!("{r}.{m}"));
                }
            }
        }
        out
    }

    fn nearest(&self, name: &str) -> Option<String> {
        self.names()
            .into_iter()
            .map(|n| (strsim::damerau_levenshtein(&n, name), n))
            .filter(|(d, n)| *d <= 2.max(n.chars().count() / 3))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }
}

/// The aggregate a lower-case `records.measure` name means, if it is one that fits.
fn aggregate(name: &str) -> Option<Field> {
    let (records, measure) = name.split_once('.')?;
    let records = RECORDS.iter().find(|(n, _)| *n == records)?.1;
    let measure = MEASURES.iter().find(|(n, _)| *n == measure)?.1;
    let fits = match measure {
        Measure::Sum | Measure::Avg => records == Records::Purchases,
        Measure::Open => matches!(records, Records::Feedback | Records::Complaints),
        Measure::AvgScore => records == Records::Feedback,
        _ => true,
    };
    fits.then_some(Field::Aggregate(Aggregate {
        records,
        measure,
        within: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_suggestions() {
        let s = Schema::standard().with_custom("member_level", ValueType::Text);
        assert_eq!(s.resolve("城市"), Ok(Field::City));
        assert_eq!(s.resolve("City"), Ok(Field::City));
        assert_eq!(
            s.resolve("custom.member_level"),
            Ok(Field::Custom("member_level".into(), ValueType::Text))
        );
        assert!(matches!(
            s.resolve("purchases.sum"),
            Ok(Field::Aggregate(_))
        ));
        assert_eq!(
            s.resolve("interactions.sum"),
            Err(Some("interactions.count".into()))
        );
        assert_eq!(s.resolve("citty"), Err(Some("city".into())));
        assert_eq!(
            s.resolve("custom.memberlevel"),
            Err(Some("custom.member_level".into()))
        );
        assert_eq!(s.resolve("zzzzzzzz"), Err(None));
    }
}
