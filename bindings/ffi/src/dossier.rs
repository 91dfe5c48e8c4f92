//! The dossier as Kotlin and Swift see it, and its conversion to and from the core types.
//!
//! Ids are UUID strings, instants are uniffi timestamps (`java.time.Instant`,
//! Swift `Date`), calendar dates are `LocalDate` in Kotlin and ISO text
//! (`"1990-05-17"`) in Swift, decimals are text (`"12.50"`).

use std::collections::HashMap;
use std::time::SystemTime;

use chrono::NaiveDate;

use crate::error::{KehuError, Result};

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |s| Ok(NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")?),
});

/// Parses a customer id; `path` names the argument in the error.
pub(crate) fn customer_id(path: &str, text: &str) -> Result<kehu::CustomerId> {
    if text.trim().is_empty() {
        return Err(KehuError::argument(path, "the id is empty"));
    }
    text.parse()
        .map_err(|_| KehuError::argument(path, "not a kehu id (a UUID such as 0190f5c2-…)"))
}

/// Parses a list of customer ids; `path` names the list (`ids[2]` in the error).
pub(crate) fn customer_ids(path: &str, list: &[String]) -> Result<Vec<kehu::CustomerId>> {
    list.iter()
        .enumerate()
        .map(|(i, id)| customer_id(&format!("{path}[{i}]"), id))
        .collect()
}

/// Parses an ISO 4217 currency code; `path` names the argument.
pub(crate) fn currency(path: &str, code: &str) -> Result<kehu::Currency> {
    code.parse().map_err(|_| {
        KehuError::argument(
            path,
            "not an ISO 4217 currency code (three letters: CNY, EUR)",
        )
    })
}

/// Parses a record id (a related record, an import, a merge receipt).
pub(crate) fn record_id(path: &str, text: &str) -> Result<kehu::RecordId> {
    if text.trim().is_empty() {
        return Err(KehuError::argument(path, "the id is empty"));
    }
    text.parse()
        .map_err(|_| KehuError::argument(path, "not a kehu id (a UUID such as 0190f5c2-…)"))
}

pub(crate) fn instant(t: SystemTime) -> kehu::Timestamp {
    t.into()
}

pub(crate) fn system_time(t: kehu::Timestamp) -> SystemTime {
    t.into()
}

/// Whether a dossier describes a person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Kind {
    /// A natural person.
    Person,
    /// A company, an institution.
    Organization,
}

/// Where a customer stands: potential → new → active → at risk → churned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

/// A person's name, in any script.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct PersonName {
    /// Given (first) name.
    #[uniffi(default)]
    pub given: Option<String>,
    /// Family (last) name.
    #[uniffi(default)]
    pub family: Option<String>,
    /// The full display name; filled from the parts when empty.
    #[uniffi(default)]
    pub full: Option<String>,
    /// How sure the split of the full name into the parts is, when the
    /// rules made it (none when the parts were given).
    #[uniffi(default)]
    pub split: Option<NameSplit>,
}

/// How sure a split of a full name into family and given name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NameSplit {
    /// By the script's rule (张伟, 欧阳娜娜, `ZHANG, Wei`).
    Certain,
    /// By the usual pattern.
    Likely,
    /// Both orders as likely; given-first was taken.
    Guess,
}

/// What an organisation is.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct Organization {
    /// Its name.
    #[uniffi(default)]
    pub name: Option<String>,
    /// Its industry.
    #[uniffi(default)]
    pub industry: Option<String>,
    /// How many people it employs.
    #[uniffi(default)]
    pub size: Option<u32>,
}

/// An e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Email {
    /// The address; normalised when saved.
    pub address: String,
    /// The value as entered (the book fills it from `address` when empty).
    #[uniffi(default)]
    pub raw: String,
    /// "work", "home", "billing".
    #[uniffi(default)]
    pub label: Option<String>,
    /// The customer's main address.
    #[uniffi(default)]
    pub primary: bool,
    /// When it was last confirmed to work.
    #[uniffi(default)]
    pub verified_at: Option<SystemTime>,
}

/// A phone number: E.164 once saved (`+8613812345678`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Phone {
    /// The number; normalised when saved.
    pub number: String,
    /// The value as entered (the book fills it from `number` when empty).
    #[uniffi(default)]
    pub raw: String,
    /// "mobile", "work", "home".
    #[uniffi(default)]
    pub label: Option<String>,
    /// The customer's main number.
    #[uniffi(default)]
    pub primary: bool,
    /// When it was last confirmed to work.
    #[uniffi(default)]
    pub verified_at: Option<SystemTime>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct Address {
    /// "home", "billing", "shipping".
    #[uniffi(default)]
    pub label: Option<String>,
    /// The customer's main address.
    #[uniffi(default)]
    pub primary: bool,
    /// Street and house number.
    #[uniffi(default)]
    pub street: Option<String>,
    /// District or county within the city (区, 县).
    #[uniffi(default)]
    pub district: Option<String>,
    /// City or town.
    #[uniffi(default)]
    pub city: Option<String>,
    /// Province, state, county.
    #[uniffi(default)]
    pub region: Option<String>,
    /// Postcode, normalised to the country's form.
    #[uniffi(default)]
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 code ("CN"); names such as "中国" are mapped.
    #[uniffi(default)]
    pub country: Option<String>,
    /// The address as entered as one line.
    #[uniffi(default)]
    pub raw: Option<String>,
    /// When it was last confirmed.
    #[uniffi(default)]
    pub verified_at: Option<SystemTime>,
}

/// The typed value of a custom field declared in the rule set.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CustomValue {
    /// Free text.
    Text {
        /// The value.
        value: String,
    },
    /// A whole number.
    Integer {
        /// The value.
        value: i64,
    },
    /// An exact decimal as text: `"12.50"`.
    Decimal {
        /// The value.
        value: String,
    },
    /// Yes or no.
    Bool {
        /// The value.
        value: bool,
    },
    /// A calendar date.
    Date {
        /// The value.
        value: NaiveDate,
    },
    /// An instant.
    DateTime {
        /// The value.
        value: SystemTime,
    },
    /// One of the values the field's schema lists.
    Enum {
        /// The value.
        value: String,
    },
    /// A list of text values.
    TextList {
        /// The values.
        values: Vec<String>,
    },
}

/// A customer dossier. Build one with [`new_person`] or [`new_organization`]
/// and fill what you know; `id`, times and `version` are kept by the book.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Customer {
    /// The dossier's id (a UUID; a new one for a new dossier).
    pub id: String,
    /// The id in the system the record came from.
    #[uniffi(default)]
    pub external_id: Option<String>,
    /// Person or organisation.
    pub kind: Kind,
    /// A person's name (for an organisation, its contact's).
    pub name: PersonName,
    /// What the organisation is.
    #[uniffi(default)]
    pub organization: Option<Organization>,
    /// The company a person works for.
    #[uniffi(default)]
    pub company: Option<String>,
    /// A person's job title.
    #[uniffi(default)]
    pub job_title: Option<String>,
    /// A person's date of birth.
    #[uniffi(default)]
    pub birth_date: Option<NaiveDate>,
    /// A person's resident identity card number (居民身份证号).
    #[uniffi(default)]
    pub resident_id: Option<String>,
    /// An organisation's unified social credit code (统一社会信用代码).
    #[uniffi(default)]
    pub credit_code: Option<String>,
    /// E-mail addresses.
    #[uniffi(default)]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[uniffi(default)]
    pub phones: Vec<Phone>,
    /// Postal addresses.
    #[uniffi(default)]
    pub addresses: Vec<Address>,
    /// Free tags.
    #[uniffi(default)]
    pub tags: Vec<String>,
    /// Who looks after the customer.
    #[uniffi(default)]
    pub owner: Option<String>,
    /// Where the record came from.
    #[uniffi(default)]
    pub source: Option<String>,
    /// An explicit lifecycle stage.
    #[uniffi(default)]
    pub lifecycle_stage: Option<LifecycleStage>,
    /// Fields the rule set declares.
    #[uniffi(default)]
    pub custom: HashMap<String, CustomValue>,
    /// When the dossier was created.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
    /// When someone last confirmed it as correct.
    #[uniffi(default)]
    pub verified_at: Option<SystemTime>,
    /// 0 before the first save, then 1, 2, … (an update must carry the stored one).
    pub version: u64,
}

/// A new, unsaved dossier of a person.
#[uniffi::export]
pub fn new_person(given: String, family: String) -> Customer {
    kehu::Customer::person(given, family).into()
}

/// A new, unsaved dossier of an organisation.
#[uniffi::export]
pub fn new_organization(name: String) -> Customer {
    kehu::Customer::organization(name).into()
}

/// A new e-mail address as entered.
#[uniffi::export]
pub fn new_email(address: String) -> Email {
    kehu::Email::new(address).into()
}

/// A new phone number as entered.
#[uniffi::export]
pub fn new_phone(number: String) -> Phone {
    kehu::Phone::new(number).into()
}

impl From<kehu::Kind> for Kind {
    fn from(k: kehu::Kind) -> Self {
        match k {
            kehu::Kind::Person => Self::Person,
            kehu::Kind::Organization => Self::Organization,
        }
    }
}

impl From<Kind> for kehu::Kind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Person => Self::Person,
            Kind::Organization => Self::Organization,
        }
    }
}

impl From<kehu::LifecycleStage> for LifecycleStage {
    fn from(s: kehu::LifecycleStage) -> Self {
        use kehu::LifecycleStage as S;
        match s {
            S::Potential => Self::Potential,
            S::New => Self::New,
            S::Active => Self::Active,
            S::AtRisk => Self::AtRisk,
            S::Churned => Self::Churned,
        }
    }
}

impl From<LifecycleStage> for kehu::LifecycleStage {
    fn from(s: LifecycleStage) -> Self {
        use LifecycleStage as S;
        match s {
            S::Potential => Self::Potential,
            S::New => Self::New,
            S::Active => Self::Active,
            S::AtRisk => Self::AtRisk,
            S::Churned => Self::Churned,
        }
    }
}

macro_rules! same_fields {
    ($ffi:ident <=> $core:path { $($f:ident),* }) => {
        impl From<$core> for $ffi {
            fn from(v: $core) -> Self {
                Self { $($f: v.$f),* }
            }
        }
        impl From<$ffi> for $core {
            fn from(v: $ffi) -> Self {
                Self { $($f: v.$f),* }
            }
        }
    };
}

impl From<kehu::PersonName> for PersonName {
    fn from(v: kehu::PersonName) -> Self {
        Self {
            given: v.given,
            family: v.family,
            full: v.full,
            split: v.split.map(|s| match s {
                kehu::NameSplit::Certain => NameSplit::Certain,
                kehu::NameSplit::Likely => NameSplit::Likely,
                kehu::NameSplit::Guess => NameSplit::Guess,
            }),
        }
    }
}

impl From<PersonName> for kehu::PersonName {
    fn from(v: PersonName) -> Self {
        Self {
            given: v.given,
            family: v.family,
            full: v.full,
            split: v.split.map(|s| match s {
                NameSplit::Certain => kehu::NameSplit::Certain,
                NameSplit::Likely => kehu::NameSplit::Likely,
                NameSplit::Guess => kehu::NameSplit::Guess,
            }),
        }
    }
}
same_fields!(Organization <=> kehu::Organization { name, industry, size });

impl From<kehu::Email> for Email {
    fn from(e: kehu::Email) -> Self {
        Self {
            address: e.address,
            raw: e.raw,
            label: e.label,
            primary: e.primary,
            verified_at: e.verified_at.map(system_time),
        }
    }
}

impl From<Email> for kehu::Email {
    fn from(e: Email) -> Self {
        Self {
            raw: e.raw,
            address: e.address,
            label: e.label,
            primary: e.primary,
            verified_at: e.verified_at.map(instant),
        }
    }
}

impl From<kehu::Phone> for Phone {
    fn from(p: kehu::Phone) -> Self {
        Self {
            number: p.number,
            raw: p.raw,
            label: p.label,
            primary: p.primary,
            verified_at: p.verified_at.map(system_time),
        }
    }
}

impl From<Phone> for kehu::Phone {
    fn from(p: Phone) -> Self {
        Self {
            raw: p.raw,
            number: p.number,
            label: p.label,
            primary: p.primary,
            verified_at: p.verified_at.map(instant),
        }
    }
}

impl From<kehu::Address> for Address {
    fn from(a: kehu::Address) -> Self {
        Self {
            label: a.label,
            primary: a.primary,
            street: a.street,
            district: a.district,
            city: a.city,
            region: a.region,
            postcode: a.postcode,
            country: a.country,
            raw: a.raw,
            verified_at: a.verified_at.map(system_time),
        }
    }
}

impl From<Address> for kehu::Address {
    fn from(a: Address) -> Self {
        Self {
            label: a.label,
            primary: a.primary,
            street: a.street,
            district: a.district,
            city: a.city,
            region: a.region,
            postcode: a.postcode,
            country: a.country,
            raw: a.raw,
            verified_at: a.verified_at.map(instant),
        }
    }
}

impl From<kehu::CustomValue> for CustomValue {
    fn from(v: kehu::CustomValue) -> Self {
        use kehu::CustomValue as V;
        match v {
            V::Text(value) => Self::Text { value },
            V::Integer(value) => Self::Integer { value },
            V::Decimal(d) => Self::Decimal {
                value: d.to_string(),
            },
            V::Bool(value) => Self::Bool { value },
            V::Date(value) => Self::Date { value },
            V::DateTime(t) => Self::DateTime {
                value: system_time(t),
            },
            V::Enum(value) => Self::Enum { value },
            V::TextList(values) => Self::TextList { values },
        }
    }
}

fn custom_value(name: &str, v: CustomValue) -> Result<kehu::CustomValue> {
    use kehu::CustomValue as V;
    Ok(match v {
        CustomValue::Text { value } => V::Text(value),
        CustomValue::Integer { value } => V::Integer(value),
        CustomValue::Decimal { value } => V::Decimal(value.trim().parse().map_err(|_| {
            KehuError::argument(
                &format!("custom.{name}"),
                "not a decimal number (write it as text such as \"12.50\")",
            )
        })?),
        CustomValue::Bool { value } => V::Bool(value),
        CustomValue::Date { value } => V::Date(value),
        CustomValue::DateTime { value } => V::DateTime(instant(value)),
        CustomValue::Enum { value } => V::Enum(value),
        CustomValue::TextList { values } => V::TextList(values),
    })
}

impl From<kehu::Customer> for Customer {
    fn from(c: kehu::Customer) -> Self {
        Self {
            id: c.id.to_string(),
            external_id: c.external_id,
            kind: c.kind.into(),
            name: c.name.into(),
            organization: c.organization.map(Into::into),
            company: c.company,
            job_title: c.job_title,
            birth_date: c.birth_date,
            resident_id: c.resident_id,
            credit_code: c.credit_code,
            emails: c.emails.into_iter().map(Into::into).collect(),
            phones: c.phones.into_iter().map(Into::into).collect(),
            addresses: c.addresses.into_iter().map(Into::into).collect(),
            tags: c.tags,
            owner: c.owner,
            source: c.source,
            lifecycle_stage: c.lifecycle_stage.map(Into::into),
            custom: c.custom.into_iter().map(|(k, v)| (k, v.into())).collect(),
            created_at: system_time(c.created_at),
            updated_at: system_time(c.updated_at),
            verified_at: c.verified_at.map(system_time),
            version: c.version,
        }
    }
}

impl TryFrom<Customer> for kehu::Customer {
    type Error = KehuError;

    fn try_from(c: Customer) -> Result<Self> {
        let custom = c
            .custom
            .into_iter()
            .map(|(k, v)| custom_value(&k, v).map(|v| (k, v)))
            .collect::<Result<_>>()?;
        Ok(Self {
            id: customer_id("customer.id", &c.id)?,
            external_id: c.external_id,
            kind: c.kind.into(),
            name: c.name.into(),
            organization: c.organization.map(Into::into),
            company: c.company,
            job_title: c.job_title,
            birth_date: c.birth_date,
            resident_id: c.resident_id,
            credit_code: c.credit_code,
            emails: c.emails.into_iter().map(Into::into).collect(),
            phones: c.phones.into_iter().map(Into::into).collect(),
            addresses: c.addresses.into_iter().map(Into::into).collect(),
            tags: c.tags,
            owner: c.owner,
            source: c.source,
            lifecycle_stage: c.lifecycle_stage.map(Into::into),
            custom,
            created_at: instant(c.created_at),
            updated_at: instant(c.updated_at),
            verified_at: c.verified_at.map(instant),
            version: c.version,
        })
    }
}

/// Converts dossiers coming in; `index` of a failing one is named in its path.
pub(crate) fn customers_in(list: Vec<Customer>) -> Result<Vec<kehu::Customer>> {
    list.into_iter()
        .enumerate()
        .map(|(i, c)| {
            kehu::Customer::try_from(c).map_err(|e| match e {
                KehuError::InvalidArgument { code, path, reason } => KehuError::InvalidArgument {
                    code,
                    path: path.map(|p| format!("[{i}].{p}")),
                    reason,
                },
                other => other,
            })
        })
        .collect()
}

pub(crate) fn customers_out(list: Vec<kehu::Customer>) -> Vec<Customer> {
    list.into_iter().map(Into::into).collect()
}
