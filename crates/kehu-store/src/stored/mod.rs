//! kehu's own value bytes, the same in every backend that writes bytes (redb,
//! PostgreSQL): a format byte, then postcard. Personal fields are sealed
//! through the codec; so are related records, changes and key sets, which
//! hold personal values too. Keys that must sort (index entries, related
//! records, changes) are byte strings that sort as their parts do.

use std::collections::BTreeMap;

use chrono::Datelike;

use crate::{Change, ChangeOp, Error, KeySets, Result};
use kehu_model::{
    Address, CustomValue, Customer, CustomerId, Email, FieldChange, Kind, LifecycleStage,
    NameSplit, Organization, PersonName, Phone, RecordId, Related, Timestamp,
};

mod sealer;

pub use sealer::{KeyCache, KeyOutcome, Seal, Sealer, WrappedKeys};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The first byte of every stored value.
const VALUE_FORMAT: u8 = 1;

/// The fields that are not personal, in stored order.
type Public = (
    CustomerId,
    Option<String>,
    Kind,
    Option<Organization>,
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<LifecycleStage>,
    BTreeMap<String, CustomValue>,
    Instant,
    Instant,
    Option<Instant>,
    u64,
);

/// A timestamp as seconds and nanoseconds since the epoch: exact, a few bytes
/// as varints instead of an RFC 3339 string, and no formatting or parsing.
#[derive(Clone, Copy, Serialize, Deserialize)]
struct Instant(i64, u32);

impl Instant {
    fn of(t: Timestamp) -> Self {
        Self(t.timestamp(), t.timestamp_subsec_nanos())
    }

    fn time(self) -> Result<Timestamp> {
        Timestamp::from_timestamp(self.0, self.1)
            .ok_or_else(|| Error::Corrupt(format!("timestamp out of range: {}s", self.0)))
    }
}

/// A name as stored: given, family, full (how the name was split lives in
/// [`Extra`], so this layout is the one every format has).
type StoredName = (Option<String>, Option<String>, Option<String>);

/// An address as every format stores it (a district, added since, lives in [`Extra`]).
#[derive(Serialize, Deserialize)]
struct StoredAddress {
    label: Option<String>,
    primary: bool,
    street: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postcode: Option<String>,
    country: Option<String>,
    raw: Option<String>,
    verified_at: Option<Timestamp>,
}

/// A [`StoredAddress`] as written: its fields borrowed, in its order
/// (postcard writes a struct as the tuple of its fields).
type StoredAddressRef<'a> = (
    &'a Option<String>,
    bool,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<Timestamp>,
);

impl StoredAddress {
    fn of(a: &Address) -> StoredAddressRef<'_> {
        (
            &a.label,
            a.primary,
            &a.street,
            &a.city,
            &a.region,
            &a.postcode,
            &a.country,
            &a.raw,
            &a.verified_at,
        )
    }

    fn address(self, district: Option<String>) -> Address {
        Address {
            label: self.label,
            primary: self.primary,
            street: self.street,
            district,
            city: self.city,
            region: self.region,
            postcode: self.postcode,
            country: self.country,
            raw: self.raw,
            verified_at: self.verified_at,
        }
    }
}

/// The personal fields, sealed by the codec, in stored order.
type Personal = (
    StoredName,
    Option<String>,
    Option<String>,
    Option<chrono::NaiveDate>,
    Vec<Email>,
    Vec<Phone>,
    Vec<StoredAddress>,
);

fn to_bytes(value: &impl Serialize) -> Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| Error::Corrupt(format!("encode: {e}")))
}

fn from_bytes<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| Error::Corrupt(format!("{what}: {e}")))
}

fn strip_format<'a>(bytes: &'a [u8], what: &str) -> Result<&'a [u8]> {
    match bytes.split_first() {
        Some((&VALUE_FORMAT, rest)) => Ok(rest),
        Some((v, _)) => Err(Error::Corrupt(format!("{what}: unknown value format {v}"))),
        None => Err(Error::Corrupt(format!("{what}: empty value"))),
    }
}

/// The format of a dossier sealed whole: `[4][id (16)][sealed (public, personal, extra)]`.
/// (Format 3's `extra` held the name split alone; format 2 had no `extra`; format 1, `[1][u32 LE length][public part][sealed
/// personal part]`, left the external id, tags, source and custom fields in
/// the clear; both are still read.)
const CUSTOMER_SEALED_WHOLE_V4: u8 = 4;
const CUSTOMER_SEALED_WHOLE_V3: u8 = 3;
const CUSTOMER_SEALED_WHOLE_V2: u8 = 2;

/// Fields added since format 2, after the parts every format has: the name
/// split (format 3), the resident ID, the credit code and each address's
/// district (format 4).
type Extra = (
    Option<NameSplit>,
    Option<String>,
    Option<String>,
    Vec<Option<String>>,
);
/// Format 3's extra fields.
type ExtraV3 = (Option<NameSplit>,);

/// The format of a dossier written now: `[5][id (16)][sealed compact]`, the
/// fields of format 4 without what they repeat — the id (in the header), an
/// e-mail's or phone's value as entered when it is the normal form, the
/// update time when it is the creation time — and the birth date as a day
/// number. (Formats 2–4 are still read.)
const CUSTOMER_COMPACT: u8 = 5;

/// The fields that are not personal, format 5: [`Public`] without the id,
/// the update time none when it is the creation time.
type PublicV5 = (
    Option<String>,
    Kind,
    Option<Organization>,
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<LifecycleStage>,
    BTreeMap<String, CustomValue>,
    Instant,
    Option<Instant>,
    Option<Instant>,
    u64,
);

/// An e-mail or phone, format 5: the normal form, the form entered when it
/// differs, the label, whether primary, when verified.
type ContactV5 = (
    String,
    Option<String>,
    Option<String>,
    bool,
    Option<Instant>,
);

/// The personal fields, format 5.
type PersonalV5 = (
    StoredName,
    Option<String>,
    Option<String>,
    Option<i32>,
    Vec<ContactV5>,
    Vec<ContactV5>,
    Vec<StoredAddress>,
);

fn contact(
    value: &str,
    raw: &str,
    label: &Option<String>,
    primary: bool,
    verified: Option<Timestamp>,
) -> ContactV5 {
    (
        value.to_string(),
        (raw != value).then(|| raw.to_string()),
        label.clone(),
        primary,
        verified.map(Instant::of),
    )
}

/// A dossier: its id in the clear (the owner its seal is bound to), every field sealed.
pub fn encode_customer(c: &Customer, codec: &dyn Seal) -> Result<Vec<u8>> {
    let public = (
        &c.external_id,
        &c.kind,
        &c.organization,
        &c.tags,
        &c.owner,
        &c.source,
        &c.lifecycle_stage,
        &c.custom,
        Instant::of(c.created_at),
        (c.updated_at != c.created_at).then(|| Instant::of(c.updated_at)),
        c.verified_at.map(Instant::of),
        &c.version,
    );
    let name = (&c.name.given, &c.name.family, &c.name.full);
    let addresses: Vec<StoredAddressRef> = c.addresses.iter().map(StoredAddress::of).collect();
    let emails: Vec<ContactV5> = c
        .emails
        .iter()
        .map(|e| contact(&e.address, &e.raw, &e.label, e.primary, e.verified_at))
        .collect();
    let phones: Vec<ContactV5> = c
        .phones
        .iter()
        .map(|p| contact(&p.number, &p.raw, &p.label, p.primary, p.verified_at))
        .collect();
    let personal = (
        name,
        &c.company,
        &c.job_title,
        c.birth_date.map(|d| d.num_days_from_ce()),
        emails,
        phones,
        addresses,
    );
    let districts: Vec<&Option<String>> = c.addresses.iter().map(|a| &a.district).collect();
    let extra = (c.name.split, &c.resident_id, &c.credit_code, districts);
    let sealed = codec.seal(c.id, to_bytes(&(public, personal, extra))?)?;
    let mut out = Vec::with_capacity(17 + sealed.len());
    out.push(CUSTOMER_COMPACT);
    out.extend_from_slice(&c.id.to_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Format 4's layout, which tests write to check it still reads.
#[cfg(test)]
fn encode_customer_v4(c: &Customer, codec: &dyn Seal) -> Result<Vec<u8>> {
    let public = (
        &c.id,
        &c.external_id,
        &c.kind,
        &c.organization,
        &c.tags,
        &c.owner,
        &c.source,
        &c.lifecycle_stage,
        &c.custom,
        Instant::of(c.created_at),
        Instant::of(c.updated_at),
        c.verified_at.map(Instant::of),
        &c.version,
    );
    let name = (&c.name.given, &c.name.family, &c.name.full);
    let addresses: Vec<StoredAddressRef> = c.addresses.iter().map(StoredAddress::of).collect();
    let personal = (
        name,
        &c.company,
        &c.job_title,
        &c.birth_date,
        &c.emails,
        &c.phones,
        addresses,
    );
    let districts: Vec<&Option<String>> = c.addresses.iter().map(|a| &a.district).collect();
    let extra = (c.name.split, &c.resident_id, &c.credit_code, districts);
    let sealed = codec.seal(c.id, to_bytes(&(public, personal, extra))?)?;
    let mut out = Vec::with_capacity(17 + sealed.len());
    out.push(CUSTOMER_SEALED_WHOLE_V4);
    out.extend_from_slice(&c.id.to_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The inverse of [`encode_customer`].
pub fn decode_customer(bytes: &[u8], codec: &dyn Seal) -> Result<Customer> {
    if let Some((&format, rest)) = bytes.split_first() {
        if matches!(
            format,
            CUSTOMER_COMPACT
                | CUSTOMER_SEALED_WHOLE_V4
                | CUSTOMER_SEALED_WHOLE_V3
                | CUSTOMER_SEALED_WHOLE_V2
        ) {
            let (id, sealed) = rest
                .split_first_chunk::<16>()
                .ok_or_else(|| Error::Corrupt("customer: truncated".into()))?;
            let id = CustomerId::from_bytes(*id);
            let plain = codec.open(id, sealed.to_vec())?;
            if format == CUSTOMER_COMPACT {
                let (p, q, x): (PublicV5, PersonalV5, Extra) = from_bytes(&plain, "customer")?;
                return assemble_v5(id, p, q, x);
            }
            if format == CUSTOMER_SEALED_WHOLE_V2 {
                let (p, q): (Public, Personal) = from_bytes(&plain, "customer")?;
                return assemble(p, q, (None, None, None, Vec::new()));
            }
            if format == CUSTOMER_SEALED_WHOLE_V3 {
                let (p, q, x): (Public, Personal, ExtraV3) = from_bytes(&plain, "customer")?;
                return assemble(p, q, (x.0, None, None, Vec::new()));
            }
            let (p, q, x): (Public, Personal, Extra) = from_bytes(&plain, "customer")?;
            return assemble(p, q, x);
        }
    }
    let rest = strip_format(bytes, "customer")?;
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| Error::Corrupt("customer: truncated".into()))?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(Error::Corrupt("customer: truncated".into()));
    }
    let (public, sealed) = rest.split_at(len);
    let p: Public = from_bytes(public, "customer")?;
    let personal = codec.open(p.0, sealed.to_vec())?;
    let q: Personal = from_bytes(&personal, "customer personal fields")?;
    assemble(p, q, (None, None, None, Vec::new()))
}

/// A dossier of format 5, as [`assemble`] does format 4's.
fn assemble_v5(id: CustomerId, p: PublicV5, q: PersonalV5, x: Extra) -> Result<Customer> {
    let emails =
        q.4.into_iter()
            .map(|(address, raw, label, primary, verified)| {
                Ok(Email {
                    raw: raw.unwrap_or_else(|| address.clone()),
                    address,
                    label,
                    primary,
                    verified_at: verified.map(Instant::time).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
    let phones =
        q.5.into_iter()
            .map(|(number, raw, label, primary, verified)| {
                Ok(Phone {
                    raw: raw.unwrap_or_else(|| number.clone()),
                    number,
                    label,
                    primary,
                    verified_at: verified.map(Instant::time).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
    let birth_date = match q.3 {
        Some(days) => Some(
            chrono::NaiveDate::from_num_days_from_ce_opt(days).ok_or_else(|| {
                Error::Corrupt(format!("customer: birth day {days} out of range"))
            })?,
        ),
        None => None,
    };
    let public: Public = (
        id,
        p.0,
        p.1,
        p.2,
        p.3,
        p.4,
        p.5,
        p.6,
        p.7,
        p.8,
        p.9.unwrap_or(p.8),
        p.10,
        p.11,
    );
    assemble(public, (q.0, q.1, q.2, birth_date, emails, phones, q.6), x)
}

fn assemble(p: Public, q: Personal, x: Extra) -> Result<Customer> {
    Ok(Customer {
        id: p.0,
        external_id: p.1,
        kind: p.2,
        organization: p.3,
        tags: p.4,
        owner: p.5,
        source: p.6,
        lifecycle_stage: p.7,
        custom: p.8,
        created_at: p.9.time()?,
        updated_at: p.10.time()?,
        verified_at: p.11.map(Instant::time).transpose()?,
        version: p.12,
        name: PersonName {
            given: q.0 .0,
            family: q.0 .1,
            full: q.0 .2,
            split: x.0,
        },
        company: q.1,
        job_title: q.2,
        birth_date: q.3,
        resident_id: x.1,
        credit_code: x.2,
        emails: q.4,
        phones: q.5,
        addresses: {
            let mut districts = x.3.into_iter();
            q.6.into_iter()
                .map(|a| a.address(districts.next().flatten()))
                .collect()
        },
    })
}

fn encode_sealed(value: &impl Serialize, owner: CustomerId, codec: &dyn Seal) -> Result<Vec<u8>> {
    let sealed = codec.seal(owner, to_bytes(value)?)?;
    let mut out = Vec::with_capacity(1 + sealed.len());
    out.push(VALUE_FORMAT);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn decode_sealed<T: DeserializeOwned>(
    bytes: &[u8],
    owner: CustomerId,
    codec: &dyn Seal,
    what: &str,
) -> Result<T> {
    let sealed = strip_format(bytes, what)?;
    from_bytes(&codec.open(owner, sealed.to_vec())?, what)
}

/// A document: an owner flag (and the owner's id), then its bytes sealed for
/// the owner (or for the nil id when it has none).
pub fn encode_doc(owner: Option<CustomerId>, value: &[u8], codec: &dyn Seal) -> Result<Vec<u8>> {
    let sealed = codec.seal(owner.unwrap_or(NIL), value.to_vec())?;
    let mut out = Vec::with_capacity(18 + sealed.len());
    out.push(VALUE_FORMAT);
    match owner {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(&id.to_bytes());
        }
        None => out.push(0),
    }
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The inverse of [`encode_doc`]: the owner and the document's bytes.
pub fn decode_doc(bytes: &[u8], codec: &dyn Seal) -> Result<(Option<CustomerId>, Vec<u8>)> {
    let rest = strip_format(bytes, "document")?;
    let corrupt = || Error::Corrupt("document header is damaged".into());
    let (owner, sealed) = match rest.split_first().ok_or_else(corrupt)? {
        (0, sealed) => (None, sealed),
        (1, rest) if rest.len() >= 16 => {
            let mut id = [0u8; 16];
            id.copy_from_slice(&rest[..16]);
            (Some(CustomerId::from_bytes(id)), &rest[16..])
        }
        _ => return Err(corrupt()),
    };
    let value = codec.open(owner.unwrap_or(NIL), sealed.to_vec())?;
    Ok((owner, value))
}

const NIL: CustomerId = CustomerId::from_bytes([0; 16]);

/// A document's owner, read from its header without opening it.
pub fn doc_owner(bytes: &[u8]) -> Result<Option<CustomerId>> {
    let rest = strip_format(bytes, "document")?;
    match rest.split_first() {
        Some((0, _)) => Ok(None),
        Some((1, rest)) if rest.len() >= 16 => {
            let mut id = [0u8; 16];
            id.copy_from_slice(&rest[..16]);
            Ok(Some(CustomerId::from_bytes(id)))
        }
        _ => Err(Error::Corrupt("document header is damaged".into())),
    }
}

/// A related record, sealed whole.
pub fn encode_related(r: &Related, codec: &dyn Seal) -> Result<Vec<u8>> {
    encode_sealed(r, r.customer_id(), codec)
}

/// The inverse of [`encode_related`].
pub fn decode_related(bytes: &[u8], owner: CustomerId, codec: &dyn Seal) -> Result<Related> {
    let plain = codec.open(owner, strip_format(bytes, "related record")?.to_vec())?;
    match postcard::from_bytes::<Related>(&plain) {
        Ok(r) => Ok(r),
        // Written before consents had their `separate` flag.
        Err(_) => Ok(from_bytes::<RelatedV1>(&plain, "related record")?.into()),
    }
}

/// Related records as stored before consents had the `separate` flag.
#[derive(Deserialize)]
enum RelatedV1 {
    Purchase(kehu_model::Purchase),
    Interaction(kehu_model::Interaction),
    Feedback(kehu_model::Feedback),
    Consent(ConsentV1),
    Note(kehu_model::Note),
}

#[derive(Deserialize)]
struct ConsentV1 {
    id: RecordId,
    customer_id: CustomerId,
    at: Timestamp,
    purpose: String,
    channel: Option<String>,
    status: kehu_model::ConsentStatus,
    evidence: Option<String>,
    expires_at: Option<Timestamp>,
}

impl From<RelatedV1> for Related {
    fn from(r: RelatedV1) -> Self {
        match r {
            RelatedV1::Purchase(p) => Related::Purchase(p),
            RelatedV1::Interaction(i) => Related::Interaction(i),
            RelatedV1::Feedback(f) => Related::Feedback(f),
            RelatedV1::Note(n) => Related::Note(n),
            RelatedV1::Consent(c) => Related::Consent(kehu_model::Consent {
                id: c.id,
                customer_id: c.customer_id,
                at: c.at,
                purpose: c.purpose,
                channel: c.channel,
                status: c.status,
                evidence: c.evidence,
                expires_at: c.expires_at,
                separate: false,
            }),
        }
    }
}

/// The names of the actors a byte backend names by number in its changes
/// and audit entries (an import's actor, `kehu (import <uuid>)`, is 51
/// bytes; its number one or two).
pub trait Actors {
    /// The name of actor number `n`.
    fn actor(&self, n: u32) -> Result<String>;
}

/// A backend without an actor table: its values name their actors in full.
pub struct NoActors;

impl Actors for NoActors {
    fn actor(&self, n: u32) -> Result<String> {
        Err(Error::Corrupt(format!(
            "a value names actor {n}, and this book keeps no table of actors"
        )))
    }
}

/// The first byte of a change or an audit entry that names its actor by
/// number (store format 4); otherwise as the entry without it.
const BY_ACTOR_NUMBER: u8 = 3;

/// An actor's name as an actor table keeps it, sealed for the book.
pub fn encode_actor(name: &str, codec: &dyn Seal) -> Result<Vec<u8>> {
    encode_sealed(&name, NIL, codec)
}

/// The inverse of [`encode_actor`].
pub fn decode_actor(bytes: &[u8], codec: &dyn Seal) -> Result<String> {
    decode_sealed(bytes, NIL, codec, "actor")
}

/// A change-log entry, sealed whole (its before/after values are personal).
/// The customer id is in the key, so it is not stored again.
pub fn encode_change(c: &Change, codec: &dyn Seal) -> Result<Vec<u8>> {
    let value = (c.seq, Instant::of(c.at), &c.actor, &c.op, &c.fields);
    encode_sealed(&value, c.customer_id, codec)
}

/// [`encode_change`] naming the actor by its number in the book's actor table.
pub fn encode_change_by_number(c: &Change, actor: u32, codec: &dyn Seal) -> Result<Vec<u8>> {
    let value = (c.seq, Instant::of(c.at), actor, &c.op, &c.fields);
    let sealed = codec.seal(c.customer_id, to_bytes(&value)?)?;
    let mut out = Vec::with_capacity(1 + sealed.len());
    out.push(BY_ACTOR_NUMBER);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The inverse of [`encode_change`] and [`encode_change_by_number`].
pub fn decode_change(
    bytes: &[u8],
    owner: CustomerId,
    codec: &dyn Seal,
    actors: &dyn Actors,
) -> Result<Change> {
    let (seq, at, actor, op, fields) = if bytes.first() == Some(&BY_ACTOR_NUMBER) {
        type Stored = (u64, Instant, u32, ChangeOp, Vec<FieldChange>);
        let plain = codec.open(owner, bytes[1..].to_vec())?;
        let (seq, at, n, op, fields): Stored = from_bytes(&plain, "change")?;
        (seq, at, actors.actor(n)?, op, fields)
    } else {
        type Stored = (u64, Instant, String, ChangeOp, Vec<FieldChange>);
        let stored: Stored = decode_sealed(bytes, owner, codec, "change")?;
        stored
    };
    Ok(Change {
        seq,
        customer_id: owner,
        at: at.time()?,
        actor,
        op,
        fields,
    })
}

/// A customer's keyed-index keys, sealed.
pub fn encode_key_sets(sets: &KeySets, owner: CustomerId, codec: &dyn Seal) -> Result<Vec<u8>> {
    encode_sealed(sets, owner, codec)
}

/// The inverse of [`encode_key_sets`].
pub fn decode_key_sets(bytes: &[u8], owner: CustomerId, codec: &dyn Seal) -> Result<KeySets> {
    decode_sealed(bytes, owner, codec, "key sets")
}

/// The key of an index entry: the (codec-transformed) index key, then the customer id.
pub fn index_entry(key: &[u8], id: CustomerId) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 16);
    out.extend_from_slice(key);
    out.extend_from_slice(&id.to_bytes());
    out
}

/// Customer id, then the time as order-preserving bytes, then the record id.
pub fn related_key(r: &Related) -> [u8; 40] {
    related_key_of(r.customer_id(), r.at(), r.id())
}

/// The key of the related record `id` of a customer at a time.
pub fn related_key_of(customer: CustomerId, at: Timestamp, id: RecordId) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..16].copy_from_slice(&customer.to_bytes());
    let micros = at.timestamp_micros() as u64 ^ (1 << 63);
    key[16..24].copy_from_slice(&micros.to_be_bytes());
    key[24..].copy_from_slice(&id.to_bytes());
    key
}

/// The key of a change-log entry: customer id, then the sequence number big-endian.
pub fn change_key(id: CustomerId, seq: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..16].copy_from_slice(&id.to_bytes());
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The first and last possible change-log keys of a customer (both inclusive).
pub fn change_range(id: CustomerId) -> ([u8; 24], [u8; 24]) {
    (change_key(id, 0), change_key(id, u64::MAX))
}

/// The half-open key range holding every related record of a customer.
pub fn related_prefix(id: CustomerId) -> ([u8; 16], [u8; 17]) {
    let start = id.to_bytes();
    let mut end = [0xffu8; 17];
    end[..16].copy_from_slice(&start);
    (start, end)
}

/// An audit entry, sealed for the book (no owner: erasing a customer keeps it).
pub fn encode_audit(e: &crate::AuditEntry, codec: &dyn Seal) -> Result<Vec<u8>> {
    let value = (
        Instant::of(e.at),
        &e.actor,
        &e.op,
        e.target,
        &e.fields,
        &e.note,
        e.hash,
    );
    let sealed = codec.seal(NIL, to_bytes(&value)?)?;
    let mut out = Vec::with_capacity(1 + sealed.len());
    out.push(AUDIT_COMPACT);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// [`encode_audit`] naming the actor by its number in the book's actor table.
pub fn encode_audit_by_number(
    e: &crate::AuditEntry,
    actor: u32,
    codec: &dyn Seal,
) -> Result<Vec<u8>> {
    let value = (
        Instant::of(e.at),
        actor,
        &e.op,
        e.target,
        &e.fields,
        &e.note,
        e.hash,
    );
    let sealed = codec.seal(NIL, to_bytes(&value)?)?;
    let mut out = Vec::with_capacity(1 + sealed.len());
    out.push(BY_ACTOR_NUMBER);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The first byte of an audit entry stored without what the trail implies
/// (format 2): its number is its key, the previous hash the entry before's.
/// (Before, with [`VALUE_FORMAT`], the whole entry was stored.)
const AUDIT_COMPACT: u8 = 2;

/// The audit entries of a trail read in order, each its number and stored
/// bytes, from the entry before `from` (when there is one: it gives the
/// first entry its previous hash); returns those from `from` on.
pub fn decode_audit_trail(
    rows: impl IntoIterator<Item = Result<(u64, Vec<u8>)>>,
    from: u64,
    codec: &dyn Seal,
    actors: &dyn Actors,
) -> Result<Vec<crate::AuditEntry>> {
    type Compact<A> = (
        Instant,
        A,
        String,
        Option<CustomerId>,
        Vec<String>,
        Option<String>,
        [u8; 32],
    );
    let mut prev = [0u8; 32];
    let mut out = Vec::new();
    for row in rows {
        let (seq, bytes) = row?;
        let entry: crate::AuditEntry = match bytes.first() {
            Some(&format @ (AUDIT_COMPACT | BY_ACTOR_NUMBER)) => {
                let plain = codec.open(NIL, bytes[1..].to_vec())?;
                let (at, actor, op, target, fields, note, hash) = if format == AUDIT_COMPACT {
                    let c: Compact<String> = from_bytes(&plain, "audit entry")?;
                    c
                } else {
                    let (at, n, op, target, fields, note, hash): Compact<u32> =
                        from_bytes(&plain, "audit entry")?;
                    (at, actors.actor(n)?, op, target, fields, note, hash)
                };
                crate::AuditEntry {
                    seq,
                    at: at.time()?,
                    actor,
                    op,
                    target,
                    fields,
                    note,
                    prev,
                    hash,
                }
            }
            _ => decode_sealed(&bytes, NIL, codec, "audit entry")?,
        };
        prev = entry.hash;
        if seq >= from {
            out.push(entry);
        }
    }
    Ok(out)
}

/// The recorded head of the audit trail: the last entry's number (LE) and hash.
pub fn decode_audit_head(bytes: &[u8]) -> Result<(u64, [u8; 32])> {
    let arr: [u8; 40] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt("audit head is not 40 bytes".into()))?;
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&arr[..8]);
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&arr[8..]);
    Ok((u64::from_le_bytes(seq), hash))
}

/// The inverse of [`decode_audit_head`].
pub fn encode_audit_head(seq: u64, hash: &[u8; 32]) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&seq.to_le_bytes());
    out[8..].copy_from_slice(hash);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossiers_written_in_earlier_formats_still_read() {
        let sealer = Sealer::new(&crate::PlainCodec, None);
        let mut c = Customer::person_named("欧阳娜娜");
        c.name.family = Some("欧阳".into());
        c.name.given = Some("娜娜".into());
        c.name.split = Some(NameSplit::Certain);
        c.resident_id = Some("11010519491231002X".into());
        c.credit_code = Some("91350100M000100Y43".into());
        c.addresses.push(Address {
            street: Some("科技园路1号".into()),
            district: Some("南山区".into()),
            city: Some("深圳市".into()),
            ..Address::default()
        });
        c.emails.push(Email::new("Nana.Ouyang@Example.CN"));
        c.emails[0].address = "Nana.Ouyang@example.cn".into();
        c.phones.push(Phone::new("+8613800001111"));
        c.birth_date = chrono::NaiveDate::from_ymd_opt(1949, 12, 31);
        assert_eq!(
            decode_customer(&encode_customer(&c, &sealer).unwrap(), &sealer).unwrap(),
            c
        );
        // Format 4: every field, the id twice, values as entered beside their normal forms.
        let now = encode_customer_v4(&c, &sealer).unwrap();
        assert_eq!(now[0], CUSTOMER_SEALED_WHOLE_V4);
        assert_eq!(decode_customer(&now, &sealer).unwrap(), c);
        let (public, personal, _): (Public, Personal, Extra) =
            postcard::from_bytes(&now[17..]).unwrap();
        let old = |format: u8, body: Vec<u8>| {
            let mut old = vec![format];
            old.extend_from_slice(&c.id.to_bytes());
            old.extend(body);
            decode_customer(&old, &sealer).unwrap()
        };
        // Format 3: the name split alone after the parts every format has.
        let v3 = old(
            CUSTOMER_SEALED_WHOLE_V3,
            postcard::to_allocvec(&(&public, &personal, (c.name.split,))).unwrap(),
        );
        assert_eq!(v3.name.split, Some(NameSplit::Certain));
        assert_eq!(
            (v3.resident_id.as_deref(), v3.credit_code.as_deref()),
            (None, None)
        );
        assert_eq!(v3.addresses[0].district, None);
        assert_eq!(v3.addresses[0].city.as_deref(), Some("深圳市"));
        // Format 2: the same parts, no `extra`.
        let v2 = old(
            CUSTOMER_SEALED_WHOLE_V2,
            postcard::to_allocvec(&(&public, &personal)).unwrap(),
        );
        assert_eq!(v2.name.split, None);
        assert_eq!(v2.name.family.as_deref(), Some("欧阳"));
        assert_eq!(v2.emails, c.emails);
        c.name.split = None;
        c.resident_id = None;
        c.credit_code = None;
        c.addresses[0].district = None;
        assert_eq!(v2, c);
    }

    #[test]
    fn consents_written_before_the_separate_flag_still_read() {
        #[derive(Serialize)]
        enum Old<'a> {
            _Purchase,
            _Interaction,
            _Feedback,
            Consent(
                RecordId,
                CustomerId,
                Timestamp,
                &'a str,
                Option<&'a str>,
                kehu_model::ConsentStatus,
                Option<&'a str>,
                Option<Timestamp>,
            ),
        }
        let (id, owner, at) = (RecordId::new(), CustomerId::new(), Timestamp::default());
        let old = Old::Consent(
            id,
            owner,
            at,
            "marketing",
            Some("sms"),
            kehu_model::ConsentStatus::Granted,
            None,
            None,
        );
        let mut bytes = vec![VALUE_FORMAT];
        bytes.extend(postcard::to_allocvec(&old).unwrap());
        let sealer = Sealer::new(&crate::PlainCodec, None);
        match decode_related(&bytes, owner, &sealer).unwrap() {
            Related::Consent(c) => {
                assert_eq!(
                    (c.id, c.purpose.as_str(), c.channel.as_deref()),
                    (id, "marketing", Some("sms"))
                );
                assert!(!c.separate);
            }
            other => panic!("{other:?}"),
        }
        let mut new =
            kehu_model::Consent::new(owner, at, "profiling", kehu_model::ConsentStatus::Granted);
        new.separate = true;
        let bytes = encode_related(&Related::Consent(new.clone()), &sealer).unwrap();
        assert_eq!(
            decode_related(&bytes, owner, &sealer).unwrap(),
            Related::Consent(new)
        );
    }
    use crate::PlainCodec;

    proptest::proptest! {
        /// Any bytes decode to a value or a `Corrupt` error, never a panic.
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let owner = CustomerId::from_bytes([7; 16]);
            let _ = decode_customer(&bytes, &Sealer::new(&PlainCodec, None));
            let _ = decode_related(&bytes, owner, &Sealer::new(&PlainCodec, None));
            let _ = decode_change(&bytes, owner, &Sealer::new(&PlainCodec, None), &NoActors);
            let _ = decode_key_sets(&bytes, owner, &Sealer::new(&PlainCodec, None));
        }
    }

    #[test]
    fn damaged_bytes_are_a_corrupt_error_not_a_panic() {
        let c = Customer::person("张", "伟").with_email("zw@example.cn");
        let bytes = encode_customer(&c, &Sealer::new(&PlainCodec, None)).expect("encode");
        assert_eq!(
            decode_customer(&bytes, &Sealer::new(&PlainCodec, None)).expect("decode"),
            c
        );
        for cut in 0..bytes.len() {
            let r = decode_customer(&bytes[..cut], &Sealer::new(&PlainCodec, None));
            assert!(matches!(r, Err(Error::Corrupt(_))), "cut at {cut}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert!(matches!(
            decode_customer(&wrong, &Sealer::new(&PlainCodec, None)),
            Err(Error::Corrupt(_))
        ));
    }

    /// A trail of entries stored whole (format 1) followed by compact ones
    /// reads as one chain, from any entry on, and still checks out.
    #[test]
    fn audit_trails_of_both_formats_read_as_one_chain() {
        let codec = Sealer::new(&crate::PlainCodec, None);
        let mut entries: Vec<crate::AuditEntry> = Vec::new();
        for i in 0..6u64 {
            let head = entries.last().map(|e| (e.seq, e.hash));
            entries.push(crate::AuditEntry::next(
                head,
                Timestamp::from_timestamp(1_700_000_000 + i as i64, 123_456_789).unwrap(),
                "kehu (import 1)",
                crate::AuditEvent {
                    op: "create".into(),
                    target: Some(CustomerId::new()),
                    fields: vec![format!("custom.f{i}")],
                    note: None,
                },
            ));
        }
        let stored: Vec<(u64, Vec<u8>)> = entries
            .iter()
            .map(|e| {
                let bytes = if e.seq <= 3 {
                    encode_sealed(e, NIL, &codec).unwrap()
                } else {
                    encode_audit(e, &codec).unwrap()
                };
                (e.seq, bytes)
            })
            .collect();
        assert!(
            stored[4].1.len() + 40 <= stored[1].1.len(),
            "compact entries are smaller"
        );
        let all = decode_audit_trail(stored.iter().cloned().map(Ok), 1, &codec, &NoActors).unwrap();
        assert_eq!(all, entries);
        let head = entries.last().map(|e| (e.seq, e.hash));
        assert_eq!(crate::audit::verify_trail(all, head), None);
        for from in 2..=6 {
            let rows = stored[(from as usize - 2)..].iter().cloned().map(Ok);
            let tail = decode_audit_trail(rows, from, &codec, &NoActors).unwrap();
            assert_eq!(tail, entries[(from as usize - 1)..], "from {from}");
        }
    }

    /// Format 5 leaves out what a dossier repeats and gives back every value:
    /// values as entered that differ from their normal form, and those that
    /// do not; an update time apart from the creation; birth dates far back.
    #[test]
    fn compact_dossiers_keep_every_value() {
        let sealer = Sealer::new(&crate::PlainCodec, None);
        let mut c = Customer::person("Kyle", "Garza");
        c.external_id = Some("1".into());
        c.emails.push(Email::new("kgarza@gmail.com"));
        c.emails.push(Email::new(" KGarza@Work.Example "));
        c.emails[1].address = "KGarza@work.example".into();
        c.emails[1].label = Some("work".into());
        c.emails[1].verified_at = Timestamp::from_timestamp(1_700_000_000, 5);
        c.phones.push(Phone::new("+86 132 5254 7862"));
        c.phones[0].number = "+8613252547862".into();
        c.phones[0].primary = true;
        c.birth_date = chrono::NaiveDate::from_ymd_opt(1, 1, 1);
        c.addresses.push(Address {
            street: Some("9906 Denise Fork Suite 302".into()),
            city: Some("Georgeview".into()),
            postcode: Some("53357".into()),
            ..Address::default()
        });
        let compact = encode_customer(&c, &sealer).unwrap();
        assert_eq!(compact[0], CUSTOMER_COMPACT);
        assert_eq!(decode_customer(&compact, &sealer).unwrap(), c);
        let whole = encode_customer_v4(&c, &sealer).unwrap();
        assert!(
            compact.len() + 30 <= whole.len(),
            "{} against {}",
            compact.len(),
            whole.len()
        );
        c.updated_at = c.created_at + chrono::TimeDelta::nanoseconds(1);
        c.birth_date = None;
        c.version = 7;
        let again = encode_customer(&c, &sealer).unwrap();
        assert_eq!(decode_customer(&again, &sealer).unwrap(), c);
    }

    /// Changes and audit entries that name their actor by number read back
    /// with its name; without a table of actors they are a corrupt error.
    #[test]
    fn actors_named_by_number_read_back_by_name() {
        struct Table;
        impl Actors for Table {
            fn actor(&self, n: u32) -> Result<String> {
                match n {
                    7 => Ok("kehu (import 01a24258-6a14-77bf-8a2e-efb9b97a51f3)".into()),
                    _ => Err(Error::Corrupt(format!("no actor {n}"))),
                }
            }
        }
        let codec = Sealer::new(&crate::PlainCodec, None);
        let change = Change {
            seq: 12,
            customer_id: CustomerId::new(),
            at: Timestamp::from_timestamp(1_700_000_000, 9).unwrap(),
            actor: Table.actor(7).unwrap(),
            op: ChangeOp::Created,
            fields: Vec::new(),
        };
        let whole = encode_change(&change, &codec).unwrap();
        let short = encode_change_by_number(&change, 7, &codec).unwrap();
        assert!(
            short.len() + 45 <= whole.len(),
            "{} against {}",
            short.len(),
            whole.len()
        );
        let owner = change.customer_id;
        assert_eq!(
            decode_change(&short, owner, &codec, &Table).unwrap(),
            change
        );
        assert_eq!(
            decode_change(&whole, owner, &codec, &NoActors).unwrap(),
            change
        );
        assert!(matches!(
            decode_change(&short, owner, &codec, &NoActors),
            Err(Error::Corrupt(_))
        ));
        let entry = crate::AuditEntry::next(
            None,
            change.at,
            &change.actor,
            crate::AuditEvent {
                op: "create".into(),
                target: Some(owner),
                fields: Vec::new(),
                note: None,
            },
        );
        let rows = vec![
            Ok((1, encode_audit_by_number(&entry, 7, &codec).unwrap())),
            Ok((
                2,
                encode_audit(
                    &crate::AuditEntry::next(
                        Some((1, entry.hash)),
                        change.at,
                        "other",
                        crate::AuditEvent {
                            op: "export".into(),
                            target: None,
                            fields: Vec::new(),
                            note: None,
                        },
                    ),
                    &codec,
                )
                .unwrap(),
            )),
        ];
        let trail = decode_audit_trail(rows, 1, &codec, &Table).unwrap();
        assert_eq!(trail[0], entry);
        assert_eq!(trail[1].prev, entry.hash);
        assert_eq!(
            crate::audit::verify_trail(trail.clone(), Some((2, trail[1].hash))),
            None
        );
    }
}
