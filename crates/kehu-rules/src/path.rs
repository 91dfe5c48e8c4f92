//! Field paths that rules name: `organization.industry`, `emails`, `custom.level`.

use std::fmt;
use std::str::FromStr;

use kehu_model::catalogue::{Field, Named};
use kehu_model::{CustomValue, Customer};

/// A field of a dossier that a rule can require or constrain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldPath {
    /// `external_id`
    ExternalId,
    /// `name`: any of the name's parts.
    Name,
    /// `name.given`
    NameGiven,
    /// `name.family`
    NameFamily,
    /// `name.full`
    NameFull,
    /// `organization.name`
    OrgName,
    /// `organization.industry`
    OrgIndustry,
    /// `organization.size`
    OrgSize,
    /// `company`
    Company,
    /// `job_title`
    JobTitle,
    /// `birth_date`
    BirthDate,
    /// `resident_id`
    ResidentId,
    /// `credit_code`
    CreditCode,
    /// `emails`: at least one address.
    Emails,
    /// `phones`: at least one number.
    Phones,
    /// `addresses`: at least one address.
    Addresses,
    /// `addresses.street`, `.district`, `.city`, `.region`, `.postcode`, `.country`: on each address.
    AddressPart(AddressPart),
    /// `tags`
    Tags,
    /// `owner`
    Owner,
    /// `source`
    Source,
    /// `lifecycle_stage`
    LifecycleStage,
    /// `custom.<name>`
    Custom(String),
}

/// A part of a postal address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressPart {
    /// Street and number.
    Street,
    /// District or county.
    District,
    /// City.
    City,
    /// Province or state.
    Region,
    /// Postcode.
    Postcode,
    /// Country code.
    Country,
}

impl FieldPath {
    /// The rule path of a catalogue field, when rules can name it (they do not
    /// constrain ids, kinds and the bookkeeping times).
    pub fn of(named: &Named) -> Option<Self> {
        Some(match named {
            Named::Custom(name) => Self::Custom(name.clone()),
            Named::Field(f) => match f {
                Field::ExternalId => Self::ExternalId,
                Field::Name => Self::Name,
                Field::GivenName => Self::NameGiven,
                Field::FamilyName => Self::NameFamily,
                Field::FullName => Self::NameFull,
                Field::Organization => Self::OrgName,
                Field::Industry => Self::OrgIndustry,
                Field::OrgSize => Self::OrgSize,
                Field::Company => Self::Company,
                Field::JobTitle => Self::JobTitle,
                Field::BirthDate => Self::BirthDate,
                Field::ResidentId => Self::ResidentId,
                Field::CreditCode => Self::CreditCode,
                Field::Emails => Self::Emails,
                Field::Phones => Self::Phones,
                Field::Addresses => Self::Addresses,
                Field::Street => Self::AddressPart(AddressPart::Street),
                Field::District => Self::AddressPart(AddressPart::District),
                Field::City => Self::AddressPart(AddressPart::City),
                Field::Region => Self::AddressPart(AddressPart::Region),
                Field::Postcode => Self::AddressPart(AddressPart::Postcode),
                Field::Country => Self::AddressPart(AddressPart::Country),
                Field::Tags => Self::Tags,
                Field::Owner => Self::Owner,
                Field::Source => Self::Source,
                Field::Stage => Self::LifecycleStage,
                Field::KehuId
                | Field::Kind
                | Field::CreatedAt
                | Field::UpdatedAt
                | Field::VerifiedAt => return None,
            },
        })
    }

    /// The catalogue field this path is about.
    pub fn named(&self) -> Named {
        Named::Field(match self {
            Self::Custom(name) => return Named::Custom(name.clone()),
            Self::ExternalId => Field::ExternalId,
            Self::Name => Field::Name,
            Self::NameGiven => Field::GivenName,
            Self::NameFamily => Field::FamilyName,
            Self::NameFull => Field::FullName,
            Self::OrgName => Field::Organization,
            Self::OrgIndustry => Field::Industry,
            Self::OrgSize => Field::OrgSize,
            Self::Company => Field::Company,
            Self::JobTitle => Field::JobTitle,
            Self::BirthDate => Field::BirthDate,
            Self::ResidentId => Field::ResidentId,
            Self::CreditCode => Field::CreditCode,
            Self::Emails => Field::Emails,
            Self::Phones => Field::Phones,
            Self::Addresses => Field::Addresses,
            Self::AddressPart(AddressPart::Street) => Field::Street,
            Self::AddressPart(AddressPart::District) => Field::District,
            Self::AddressPart(AddressPart::City) => Field::City,
            Self::AddressPart(AddressPart::Region) => Field::Region,
            Self::AddressPart(AddressPart::Postcode) => Field::Postcode,
            Self::AddressPart(AddressPart::Country) => Field::Country,
            Self::Tags => Field::Tags,
            Self::Owner => Field::Owner,
            Self::Source => Field::Source,
            Self::LifecycleStage => Field::Stage,
        })
    }
}

/// A path, a field's canonical name or an alias (`name.given`, `given_name`,
/// `first_name`, `名`), as the catalogue resolves it.
impl FromStr for FieldPath {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        kehu_model::catalogue::resolve(s)
            .as_ref()
            .and_then(Self::of)
            .ok_or(())
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.named() {
            Named::Custom(name) => write!(f, "custom.{name}"),
            // An organisation is present by its name: the rule is about that value.
            Named::Field(Field::Organization) => f.write_str("organization.name"),
            Named::Field(field) => f.write_str(field.path()),
        }
    }
}

/// A value found at a path, borrowed from the dossier.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found<'a> {
    Text(&'a str),
    Number(kehu_model::Decimal),
    Other,
}

impl FieldPath {
    /// Whether the dossier has a (non-empty) value at this path.
    pub fn is_present(&self, c: &Customer) -> bool {
        let text = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        let org = c.organization.as_ref();
        match self {
            Self::ExternalId => text(&c.external_id),
            Self::Name => text(&c.name.given) || text(&c.name.family) || text(&c.name.full),
            Self::NameGiven => text(&c.name.given),
            Self::NameFamily => text(&c.name.family),
            Self::NameFull => text(&c.name.full),
            Self::OrgName => org.is_some_and(|o| text(&o.name)),
            Self::OrgIndustry => org.is_some_and(|o| text(&o.industry)),
            Self::OrgSize => org.is_some_and(|o| o.size.is_some()),
            Self::Company => text(&c.company),
            Self::JobTitle => text(&c.job_title),
            Self::BirthDate => c.birth_date.is_some(),
            Self::ResidentId => text(&c.resident_id),
            Self::CreditCode => text(&c.credit_code),
            Self::Emails => c.emails.iter().any(|e| !e.address.is_empty()),
            Self::Phones => c.phones.iter().any(|p| !p.number.is_empty()),
            Self::Addresses => !c.addresses.is_empty(),
            Self::Owner => text(&c.owner),
            Self::Source => text(&c.source),
            Self::LifecycleStage => c.lifecycle_stage.is_some(),
            Self::Tags => !c.tags.is_empty(),
            Self::AddressPart(_) | Self::Custom(_) => !self.values(c).is_empty(),
        }
    }

    /// The values at this path, each with its concrete path (`addresses[1].city`).
    /// Empty text counts as absent.
    pub(crate) fn values<'a>(&self, c: &'a Customer) -> Vec<(String, Found<'a>)> {
        let text = |path: &str, v: Option<&'a str>| -> Vec<(String, Found<'a>)> {
            v.filter(|s| !s.is_empty())
                .map(|s| vec![(path.to_string(), Found::Text(s))])
                .unwrap_or_default()
        };
        let org = c.organization.as_ref();
        match self {
            Self::ExternalId => text("external_id", c.external_id.as_deref()),
            Self::Name => [
                ("name.given", c.name.given.as_deref()),
                ("name.family", c.name.family.as_deref()),
                ("name.full", c.name.full.as_deref()),
            ]
            .into_iter()
            .flat_map(|(p, v)| text(p, v))
            .collect(),
            Self::NameGiven => text("name.given", c.name.given.as_deref()),
            Self::NameFamily => text("name.family", c.name.family.as_deref()),
            Self::NameFull => text("name.full", c.name.full.as_deref()),
            Self::OrgName => text("organization.name", org.and_then(|o| o.name.as_deref())),
            Self::OrgIndustry => text(
                "organization.industry",
                org.and_then(|o| o.industry.as_deref()),
            ),
            Self::OrgSize => org
                .and_then(|o| o.size)
                .map(|n| vec![("organization.size".into(), Found::Number(n.into()))])
                .unwrap_or_default(),
            Self::Company => text("company", c.company.as_deref()),
            Self::JobTitle => text("job_title", c.job_title.as_deref()),
            Self::ResidentId => text("resident_id", c.resident_id.as_deref()),
            Self::CreditCode => text("credit_code", c.credit_code.as_deref()),
            Self::BirthDate => c
                .birth_date
                .map(|_| vec![("birth_date".into(), Found::Other)])
                .unwrap_or_default(),
            Self::Emails => c
                .emails
                .iter()
                .enumerate()
                .filter(|(_, e)| !e.address.is_empty())
                .map(|(i, e)| (format!("emails[{i}].address"), Found::Text(&e.address)))
                .collect(),
            Self::Phones => c
                .phones
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.number.is_empty())
                .map(|(i, p)| (format!("phones[{i}].number"), Found::Text(&p.number)))
                .collect(),
            Self::Addresses => c
                .addresses
                .iter()
                .enumerate()
                .map(|(i, _)| (format!("addresses[{i}]"), Found::Other))
                .collect(),
            Self::AddressPart(part) => c
                .addresses
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    let (name, v) = match part {
                        AddressPart::Street => ("street", &a.street),
                        AddressPart::District => ("district", &a.district),
                        AddressPart::City => ("city", &a.city),
                        AddressPart::Region => ("region", &a.region),
                        AddressPart::Postcode => ("postcode", &a.postcode),
                        AddressPart::Country => ("country", &a.country),
                    };
                    v.as_deref()
                        .filter(|s| !s.is_empty())
                        .map(|s| (format!("addresses[{i}].{name}"), Found::Text(s)))
                })
                .collect(),
            Self::Tags => c
                .tags
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("tags[{i}]"), Found::Text(t)))
                .collect(),
            Self::Owner => text("owner", c.owner.as_deref()),
            Self::Source => text("source", c.source.as_deref()),
            Self::LifecycleStage => c
                .lifecycle_stage
                .map(|s| vec![("lifecycle_stage".into(), Found::Text(s.as_str()))])
                .unwrap_or_default(),
            Self::Custom(name) => {
                let path = format!("custom.{name}");
                match c.custom.get(name) {
                    None => Vec::new(),
                    Some(CustomValue::Text(s) | CustomValue::Enum(s)) if s.is_empty() => Vec::new(),
                    Some(CustomValue::Text(s) | CustomValue::Enum(s)) => {
                        vec![(path, Found::Text(s))]
                    }
                    Some(CustomValue::Integer(n)) => vec![(path, Found::Number((*n).into()))],
                    Some(CustomValue::Decimal(d)) => vec![(path, Found::Number(*d))],
                    Some(CustomValue::TextList(l)) => l
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (format!("{path}[{i}]"), Found::Text(s)))
                        .collect(),
                    Some(_) => vec![(path, Found::Other)],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print_back() {
        for p in [
            "emails",
            "organization.industry",
            "addresses.postcode",
            "custom.level",
        ] {
            assert_eq!(p.parse::<FieldPath>().unwrap().to_string(), p);
        }
        assert!("emails.nope".parse::<FieldPath>().is_err());
        assert!(
            "kind".parse::<FieldPath>().is_err(),
            "rules do not constrain the kind"
        );
        assert_eq!("first_name".parse::<FieldPath>(), Ok(FieldPath::NameGiven));
        assert_eq!("邮箱".parse::<FieldPath>(), Ok(FieldPath::Emails));
        assert_eq!(
            "organization.name".parse::<FieldPath>(),
            Ok(FieldPath::OrgName)
        );
        assert!("custom.".parse::<FieldPath>().is_err());
    }
}
