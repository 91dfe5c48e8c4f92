use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{CustomerId, Error, Timestamp};

/// Whether a dossier describes a person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A natural person.
    #[default]
    Person,
    /// A company, an institution, any organisation.
    Organization,
}

/// Where a customer stands: potential → new → active → at risk → churned.
///
/// The order is the order of the relationship, so a rule can say "at stage
/// `new` or later".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    /// A lead: known, not yet bought.
    Potential,
    /// Bought recently for the first time.
    New,
    /// Buys regularly.
    Active,
    /// Used to buy, has slowed down.
    AtRisk,
    /// Gone.
    Churned,
}

impl LifecycleStage {
    /// Every stage, in order.
    pub const ALL: [LifecycleStage; 5] = [
        Self::Potential,
        Self::New,
        Self::Active,
        Self::AtRisk,
        Self::Churned,
    ];

    /// The stage's name as written in rule sets and JSON (`at_risk`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Potential => "potential",
            Self::New => "new",
            Self::Active => "active",
            Self::AtRisk => "at_risk",
            Self::Churned => "churned",
        }
    }
}

impl fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LifecycleStage {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let key = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|stage| stage.as_str() == key)
            .ok_or_else(|| Error::UnknownVariant {
                what: "lifecycle stage",
                value: s.chars().take(32).collect(),
            })
    }
}

/// A person's name, in any script (张伟 as well as Wei Zhang). Casing is kept as entered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonName {
    /// Given (first) name: "Wei", "伟".
    pub given: Option<String>,
    /// Family (last) name: "Zhang", "张".
    pub family: Option<String>,
    /// The full display name: "Wei Zhang", "张伟". Filled from the parts when empty.
    pub full: Option<String>,
    /// When the given and family names were split from the full name by the
    /// entry rules (none when they were given): how sure the split is. Parts
    /// split so follow the full name when it changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<NameSplit>,
}

/// How sure a split of a full name into family and given name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSplit {
    /// By the script's rule: a Han name of two or three characters, a
    /// compound surname (欧阳娜娜), a comma (`ZHANG, Wei`) or a family name
    /// in capitals (`ZHANG Wei`).
    Certain,
    /// By the usual pattern: a four-character Han name family-first, a
    /// pinyin name by which word is the likelier surname, other names
    /// given-first.
    Likely,
    /// Both orders are as likely (`Wei Li`); given-first was taken.
    Guess,
}

/// What an organisation is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Organization {
    /// The organisation's name.
    pub name: Option<String>,
    /// Its industry, as the business classifies it ("retail", "制造业").
    pub industry: Option<String>,
    /// How many people it employs.
    pub size: Option<u32>,
}

/// An e-mail address, normalised, with the value as it was entered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Email {
    /// The normalised address (trimmed, NFKC, domain in lower case).
    pub address: String,
    /// The value as entered, before normalisation.
    pub raw: String,
    /// A label: "work", "home", "billing".
    pub label: Option<String>,
    /// Whether this is the customer's main address.
    pub primary: bool,
    /// When the address was last confirmed to work.
    pub verified_at: Option<Timestamp>,
}

impl Email {
    /// An address as entered; normalisation fills `address` when the record is saved.
    pub fn new(address: impl Into<String>) -> Self {
        let address = address.into();
        Self {
            raw: address.clone(),
            address,
            ..Self::default()
        }
    }
}

/// A phone number: E.164 once normalised (`+8613812345678`), with the value as entered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Phone {
    /// The number in E.164 form, or the trimmed raw value when it could not be parsed.
    pub number: String,
    /// The value as entered, before normalisation.
    pub raw: String,
    /// A label: "mobile", "work", "home".
    pub label: Option<String>,
    /// Whether this is the customer's main number.
    pub primary: bool,
    /// When the number was last confirmed to work.
    pub verified_at: Option<Timestamp>,
}

impl Phone {
    /// A number as entered; normalisation turns it into E.164 when the record is saved.
    pub fn new(number: impl Into<String>) -> Self {
        let number = number.into();
        Self {
            raw: number.clone(),
            number,
            ..Self::default()
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    /// A label: "home", "billing", "shipping".
    pub label: Option<String>,
    /// Whether this is the customer's main address.
    pub primary: bool,
    /// Street and house number, one line.
    pub street: Option<String>,
    /// The district or county within the city (区, 县: `南山区`).
    pub district: Option<String>,
    /// City or town.
    pub city: Option<String>,
    /// Province, state, county.
    pub region: Option<String>,
    /// The postcode, normalised to the country's form.
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 country code ("CN", "GB"); names such as "中国" are mapped.
    pub country: Option<String>,
    /// The address as entered, when it came as one line of text.
    pub raw: Option<String>,
    /// When the address was last confirmed.
    pub verified_at: Option<Timestamp>,
}

/// The typed value of a custom field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomValue {
    /// Free text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// An exact decimal (never a float), written as a string in JSON: `"12.50"`.
    Decimal(#[serde(with = "decimal_text")] Decimal),
    /// Yes or no.
    Bool(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// A UTC instant.
    DateTime(Timestamp),
    /// One of the values the field's schema lists.
    Enum(String),
    /// A list of text values.
    TextList(Vec<String>),
}

impl CustomValue {
    /// The name of the value's type, as written in a rule set (`integer`, `text_list`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Text(_) => "text",
            Self::Integer(_) => "integer",
            Self::Decimal(_) => "decimal",
            Self::Bool(_) => "bool",
            Self::Date(_) => "date",
            Self::DateTime(_) => "datetime",
            Self::Enum(_) => "enum",
            Self::TextList(_) => "text_list",
        }
    }
}

/// The type a custom field's values must have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomType {
    /// Free text.
    #[default]
    Text,
    /// A whole number.
    Integer,
    /// An exact decimal.
    Decimal,
    /// Yes or no.
    Bool,
    /// A calendar date.
    Date,
    /// A UTC instant.
    Datetime,
    /// One of `values`.
    Enum,
    /// A list of text values.
    TextList,
}

impl CustomType {
    /// The name used in rule sets and in [`CustomValue::type_name`](CustomValue::type_name).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Bool => "bool",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Enum => "enum",
            Self::TextList => "text_list",
        }
    }
}

/// A customer dossier: who the customer is and how to reach them.
///
/// Purchases, interactions, feedback, consents and notes are stored apart,
/// as [`Related`](crate::Related) records listed by customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    /// Generated by the library, time-ordered.
    pub id: CustomerId,
    /// The id in the system the record came from.
    pub external_id: Option<String>,
    /// Person or organisation.
    pub kind: Kind,
    /// A person's name (for an organisation, the contact person's, if any).
    pub name: PersonName,
    /// What the organisation is, for [`Kind::Organization`].
    pub organization: Option<Organization>,
    /// The company a person works for.
    pub company: Option<String>,
    /// A person's job title.
    pub job_title: Option<String>,
    /// A person's date of birth.
    pub birth_date: Option<NaiveDate>,
    /// A person's resident identity card number (居民身份证号), in its
    /// 18-character form once normalised.
    pub resident_id: Option<String>,
    /// An organisation's unified social credit code (统一社会信用代码).
    pub credit_code: Option<String>,
    /// E-mail addresses.
    pub emails: Vec<Email>,
    /// Phone numbers.
    pub phones: Vec<Phone>,
    /// Postal addresses.
    pub addresses: Vec<Address>,
    /// Free tags ("vip", "wholesale"), each once.
    pub tags: Vec<String>,
    /// Who looks after the customer (a user name).
    pub owner: Option<String>,
    /// Where the record came from: an import channel, a campaign, a shop.
    pub source: Option<String>,
    /// An explicit lifecycle stage; when empty, classifiers derive one.
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Fields the business declared in its rule set.
    pub custom: BTreeMap<String, CustomValue>,
    /// When the dossier was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When someone last confirmed the record as correct.
    pub verified_at: Option<Timestamp>,
    /// Optimistic-concurrency version: 0 before the first save, then 1, 2, …
    pub version: u64,
}

impl Default for Customer {
    fn default() -> Self {
        let now = Utc::now();
        Self {
            id: CustomerId::new(),
            external_id: None,
            kind: Kind::Person,
            name: PersonName::default(),
            organization: None,
            company: None,
            job_title: None,
            birth_date: None,
            resident_id: None,
            credit_code: None,
            emails: Vec::new(),
            phones: Vec::new(),
            addresses: Vec::new(),
            tags: Vec::new(),
            owner: None,
            source: None,
            lifecycle_stage: None,
            custom: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            verified_at: None,
            version: 0,
        }
    }
}

impl Customer {
    /// A new person with a given and a family name.
    pub fn person(given: impl Into<String>, family: impl Into<String>) -> Self {
        Self {
            name: PersonName {
                given: Some(given.into()),
                family: Some(family.into()),
                ..PersonName::default()
            },
            ..Self::default()
        }
    }

    /// A new person known by one full name ("张伟").
    pub fn person_named(full: impl Into<String>) -> Self {
        Self {
            name: PersonName {
                full: Some(full.into()),
                ..PersonName::default()
            },
            ..Self::default()
        }
    }

    /// A new organisation.
    pub fn organization(name: impl Into<String>) -> Self {
        Self {
            kind: Kind::Organization,
            organization: Some(Organization {
                name: Some(name.into()),
                ..Organization::default()
            }),
            ..Self::default()
        }
    }

    /// Adds an e-mail address (builder style); the first one added is primary.
    pub fn with_email(mut self, address: impl Into<String>) -> Self {
        let mut email = Email::new(address);
        email.primary = self.emails.is_empty();
        self.emails.push(email);
        self
    }

    /// Adds a phone number (builder style); the first one added is primary.
    pub fn with_phone(mut self, number: impl Into<String>) -> Self {
        let mut phone = Phone::new(number);
        phone.primary = self.phones.is_empty();
        self.phones.push(phone);
        self
    }

    /// Adds an address (builder style); the first one added is primary.
    pub fn with_address(mut self, mut address: Address) -> Self {
        address.primary = self.addresses.is_empty();
        self.addresses.push(address);
        self
    }

    /// Adds a tag (builder style).
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets a custom field (builder style).
    pub fn with_custom(mut self, name: impl Into<String>, value: CustomValue) -> Self {
        self.custom.insert(name.into(), value);
        self
    }

    /// The name to show: the organisation's name, else the person's full name, else the parts.
    pub fn display_name(&self) -> String {
        if let Some(name) = self.organization.as_ref().and_then(|o| o.name.as_deref()) {
            if self.kind == Kind::Organization {
                return name.to_string();
            }
        }
        if let Some(full) = self.name.full.as_deref().filter(|f| !f.is_empty()) {
            return full.to_string();
        }
        let parts: Vec<&str> = [self.name.given.as_deref(), self.name.family.as_deref()]
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .collect();
        parts.join(" ")
    }

    /// The primary e-mail address, else the first.
    pub fn primary_email(&self) -> Option<&Email> {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| self.emails.first())
    }

    /// The primary phone, else the first.
    pub fn primary_phone(&self) -> Option<&Phone> {
        self.phones
            .iter()
            .find(|p| p.primary)
            .or_else(|| self.phones.first())
    }

    /// The primary address, else the first.
    pub fn primary_address(&self) -> Option<&Address> {
        self.addresses
            .iter()
            .find(|a| a.primary)
            .or_else(|| self.addresses.first())
    }

    /// The bytes of text the dossier holds: a cheap, deterministic bound used by
    /// the size limit (the stored encoding adds a little framing to this).
    pub fn text_size(&self) -> usize {
        fn opt(s: &Option<String>) -> usize {
            s.as_ref().map_or(0, String::len)
        }
        let mut n = opt(&self.external_id)
            + opt(&self.name.given)
            + opt(&self.name.family)
            + opt(&self.name.full)
            + opt(&self.company)
            + opt(&self.job_title)
            + opt(&self.resident_id)
            + opt(&self.credit_code)
            + opt(&self.owner)
            + opt(&self.source);
        if let Some(org) = &self.organization {
            n += opt(&org.name) + opt(&org.industry);
        }
        n += self
            .emails
            .iter()
            .map(|e| e.address.len() + e.raw.len() + opt(&e.label))
            .sum::<usize>();
        n += self
            .phones
            .iter()
            .map(|p| p.number.len() + p.raw.len() + opt(&p.label))
            .sum::<usize>();
        n += self
            .addresses
            .iter()
            .map(|a| {
                opt(&a.label)
                    + opt(&a.street)
                    + opt(&a.district)
                    + opt(&a.city)
                    + opt(&a.region)
                    + opt(&a.postcode)
                    + opt(&a.country)
                    + opt(&a.raw)
            })
            .sum::<usize>();
        n += self.tags.iter().map(String::len).sum::<usize>();
        n += self
            .custom
            .iter()
            .map(|(k, v)| {
                k.len()
                    + match v {
                        CustomValue::Text(s) | CustomValue::Enum(s) => s.len(),
                        CustomValue::TextList(l) => l.iter().map(|s| s.len() + 1).sum(),
                        _ => 16,
                    }
            })
            .sum::<usize>();
        n
    }
}

/// Decimals as text in every format, read without `deserialize_any`
/// (which compact binary formats such as postcard cannot support).
mod decimal_text {
    use std::borrow::Cow;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = <Cow<'de, str>>::deserialize(d)?;
        text.trim().parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_ordered_and_parse() {
        assert!(LifecycleStage::Potential < LifecycleStage::Churned);
        assert_eq!(
            "At Risk".parse::<LifecycleStage>().unwrap(),
            LifecycleStage::AtRisk
        );
        assert!("gold".parse::<LifecycleStage>().is_err());
    }

    #[test]
    fn display_name_prefers_org_then_full_then_parts() {
        assert_eq!(Customer::organization("ACME").display_name(), "ACME");
        assert_eq!(Customer::person_named("张伟").display_name(), "张伟");
        assert_eq!(Customer::person("Wei", "Zhang").display_name(), "Wei Zhang");
    }

    #[test]
    fn json_accepts_partial_dossiers() {
        let c: Customer = serde_json::from_str(
            r#"{"kind":"organization","organization":{"name":"ACME"},
                "custom":{"vip":{"integer":3},"since":{"date":"2020-01-31"}}}"#,
        )
        .unwrap();
        assert_eq!(c.kind, Kind::Organization);
        assert_eq!(c.custom["vip"], CustomValue::Integer(3));
        assert_eq!(c.version, 0);
        let money = CustomValue::Decimal("12.50".parse().unwrap());
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"decimal":"12.50"}"#);
        assert_eq!(serde_json::from_str::<CustomValue>(&json).unwrap(), money);
    }
}
