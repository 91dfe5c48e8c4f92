//! Dossiers as stored: every format a dossier was ever written in (read),
//! the current one (written).

use super::*;

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

/// E-mails or phones of format 5, each made by `make` from its normal form,
/// the form entered (the normal form again when none was stored), label,
/// primary flag and verification time.
fn contacts<T>(
    stored: Vec<ContactV5>,
    make: impl Fn(String, String, Option<String>, bool, Option<Timestamp>) -> T,
) -> Result<Vec<T>> {
    stored
        .into_iter()
        .map(|(value, raw, label, primary, verified)| {
            let raw = raw.unwrap_or_else(|| value.clone());
            Ok(make(
                value,
                raw,
                label,
                primary,
                verified.map(Instant::time).transpose()?,
            ))
        })
        .collect()
}

/// A dossier of format 5, as [`assemble`] does format 4's.
fn assemble_v5(id: CustomerId, p: PublicV5, q: PersonalV5, x: Extra) -> Result<Customer> {
    let emails = contacts(q.4, |address, raw, label, primary, verified_at| Email {
        address,
        raw,
        label,
        primary,
        verified_at,
    })?;
    let phones = contacts(q.5, |number, raw, label, primary, verified_at| Phone {
        number,
        raw,
        label,
        primary,
        verified_at,
    })?;
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
}
