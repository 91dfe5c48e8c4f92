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

mod customer;
mod sealer;

pub use customer::{decode_customer, encode_customer};

pub use sealer::{KeyCache, KeyOutcome, Seal, Sealer, WrappedKeys};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The first byte of every stored value.
const VALUE_FORMAT: u8 = 1;

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

fn encode_sealed(value: &impl Serialize, owner: CustomerId, codec: &dyn Seal) -> Result<Vec<u8>> {
    encode_sealed_as(VALUE_FORMAT, value, owner, codec)
}

/// A format byte, then `value` sealed for `owner`.
fn encode_sealed_as(
    format: u8,
    value: &impl Serialize,
    owner: CustomerId,
    codec: &dyn Seal,
) -> Result<Vec<u8>> {
    let sealed = codec.seal(owner, to_bytes(value)?)?;
    let mut out = Vec::with_capacity(1 + sealed.len());
    out.push(format);
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
    encode_sealed_as(BY_ACTOR_NUMBER, &value, c.customer_id, codec)
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
    encode_sealed_as(AUDIT_COMPACT, &value, NIL, codec)
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
    encode_sealed_as(BY_ACTOR_NUMBER, &value, NIL, codec)
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
