//! proptest strategies: any dossier or related record, in any script.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::*;

/// Any text, from plain ASCII to CJK, full-width forms and odd white space.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z .'-]{0,24}",
        "[\\p{Han}]{1,6}",
        "[ 　Ａ-Ｚａ-ｚ０-９\\t]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(40).collect()),
    ]
}

/// A UTC instant between 1970 and 2100, to the microsecond.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_102_444_800_000_000).prop_map(|us| {
        Utc.timestamp_micros(us)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    })
}

/// A calendar date between 1900 and 2100.
pub fn date() -> impl Strategy<Value = NaiveDate> {
    (-25_567i64..47_482).prop_map(|days| {
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::TimeDelta::days(days)
    })
}

fn custom_value() -> impl Strategy<Value = CustomValue> {
    prop_oneof![
        text().prop_map(CustomValue::Text),
        any::<i64>().prop_map(CustomValue::Integer),
        (any::<i64>(), 0u32..10).prop_map(|(m, s)| CustomValue::Decimal(Decimal::new(m, s))),
        any::<bool>().prop_map(CustomValue::Bool),
        date().prop_map(CustomValue::Date),
        timestamp().prop_map(CustomValue::DateTime),
        text().prop_map(CustomValue::Enum),
        vec(text(), 0..3).prop_map(CustomValue::TextList),
    ]
}

prop_compose! {
    fn email()(address in text(), raw in text(), label in option::of(text()),
               primary in any::<bool>(), verified_at in option::of(timestamp())) -> Email {
        Email { address, raw, label, primary, verified_at }
    }
}

prop_compose! {
    fn phone()(number in text(), raw in text(), label in option::of(text()),
               primary in any::<bool>(), verified_at in option::of(timestamp())) -> Phone {
        Phone { number, raw, label, primary, verified_at }
    }
}

prop_compose! {
    fn address()((label, primary, street, district, city) in (
                     option::of(text()), any::<bool>(), option::of(text()),
                     option::of(text()), option::of(text())),
                 (region, postcode, country, raw, verified_at) in (
                     option::of(text()), option::of(text()), option::of(text()),
                     option::of(text()), option::of(timestamp()))) -> Address {
        Address { label, primary, street, district, city, region, postcode, country, raw, verified_at }
    }
}

prop_compose! {
    fn names()(given in option::of(text()), family in option::of(text()),
               full in option::of(text())) -> PersonName {
        PersonName { given, family, full, split: None }
    }
}

prop_compose! {
    fn organization()(name in option::of(text()), industry in option::of(text()),
                      size in option::of(any::<u32>())) -> Organization {
        Organization { name, industry, size }
    }
}

prop_compose! {
    fn contact()(emails in vec(email(), 0..3), phones in vec(phone(), 0..3),
                 addresses in vec(address(), 0..2))
                 -> (Vec<Email>, Vec<Phone>, Vec<Address>) {
        (emails, phones, addresses)
    }
}

prop_compose! {
    fn times()(created_at in timestamp(), updated_at in timestamp(),
               verified_at in option::of(timestamp()), version in any::<u64>())
               -> (Timestamp, Timestamp, Option<Timestamp>, u64) {
        (created_at, updated_at, verified_at, version)
    }
}

prop_compose! {
    /// Who a dossier is about: ids, kind, names, organisation, identifiers.
    fn identity()(
        id in any::<[u8; 16]>(),
        external_id in option::of(text()),
        organization_kind in any::<bool>(),
        name in names(),
        organization in option::of(organization()),
        (company, job_title) in (option::of(text()), option::of(text())),
        birth_date in option::of(date()),
        (resident_id, credit_code) in (option::of(text()), option::of(text())),
    ) -> Customer {
        Customer {
            id: CustomerId::from_bytes(id),
            external_id,
            kind: if organization_kind { Kind::Organization } else { Kind::Person },
            name, organization, company, job_title, birth_date, resident_id, credit_code,
            ..Customer::default()
        }
    }
}

/// The rest of a dossier: how to reach the customer, tags, bookkeeping.
type Rest = (
    (Vec<Email>, Vec<Phone>, Vec<Address>),
    Vec<String>,
    (Option<String>, Option<String>),
    Option<LifecycleStage>,
    std::collections::BTreeMap<String, CustomValue>,
    (Timestamp, Timestamp, Option<Timestamp>, u64),
);

fn rest() -> impl Strategy<Value = Rest> {
    (
        contact(),
        vec(text(), 0..4),
        (option::of(text()), option::of(text())),
        option::of(proptest::sample::select(LifecycleStage::ALL.to_vec())),
        btree_map("[a-z_]{1,12}", custom_value(), 0..4),
        times(),
    )
}

/// Any dossier: every field, any script, any combination. (Two boxed
/// halves: one strategy of every field overflows a test thread's stack in
/// a debug build.)
pub fn customer() -> impl Strategy<Value = Customer> {
    (identity().boxed(), rest().boxed()).prop_map(|(c, rest)| {
        let ((emails, phones, addresses), tags, (owner, source), lifecycle_stage, custom, times) =
            rest;
        let (created_at, updated_at, verified_at, version) = times;
        Customer {
            emails,
            phones,
            addresses,
            tags,
            owner,
            source,
            lifecycle_stage,
            custom,
            created_at,
            updated_at,
            verified_at,
            version,
            ..c
        }
    })
}

/// Any related record of the given customer.
pub fn related(customer_id: CustomerId) -> impl Strategy<Value = Related> {
    let money = (
        any::<i64>(),
        proptest::sample::select(vec!["CNY", "EUR", "JPY", "KWD"]),
    )
        .prop_map(|(minor, code)| Money::new(minor, code.parse().unwrap_or(Currency::CNY)));
    prop_oneof![
        (
            timestamp(),
            money,
            option::of(text()),
            any::<u32>(),
            option::of(text())
        )
            .prop_map(move |(at, amount, channel, items, reference)| {
                Related::Purchase(Purchase {
                    id: RecordId::new(),
                    customer_id,
                    at,
                    amount,
                    channel,
                    items,
                    reference,
                })
            }),
        (timestamp(), text(), option::of(text())).prop_map(move |(at, summary, outcome)| {
            let mut i = Interaction::new(
                customer_id,
                at,
                InteractionChannel::Chat,
                Direction::Inbound,
                summary,
            );
            i.outcome = outcome;
            Related::Interaction(i)
        }),
        (timestamp(), text(), 0u8..=10).prop_map(move |(at, comment, value)| {
            let mut f = Feedback::new(customer_id, at, FeedbackKind::Complaint, comment);
            f.score = Some(Score {
                scale: ScoreScale::Nps,
                value,
            });
            Related::Feedback(f)
        }),
        (timestamp(), text(), option::of(timestamp())).prop_map(
            move |(at, purpose, expires_at)| {
                let mut c = Consent::new(customer_id, at, purpose, ConsentStatus::Granted);
                c.expires_at = expires_at;
                Related::Consent(c)
            }
        ),
        (timestamp(), text()).prop_map(move |(at, text)| Related::Note(Note::new(
            customer_id,
            at,
            text
        ))),
    ]
}
