//! Turning a row's cells into a dossier or a related record, and a dossier back into cells.

use std::borrow::Cow;

use kehu_model::catalogue::{Field, RelatedField};
use kehu_model::{
    Address, Consent, ConsentStatus, Currency, CustomType, Customer, CustomerId, Direction, Email,
    Feedback, FeedbackKind, FeedbackStatus, Interaction, InteractionChannel, Kind, Money,
    Organization, Phone, Purchase, RecordId, Related, Score, ScoreScale, Timestamp,
};

use crate::columns::{Columns, Target};
use crate::values::{
    custom_text, list_text, parse_channel, parse_custom, parse_date, parse_feedback_status,
    parse_kind, parse_stage, parse_timestamp, split_list, timestamp_text,
};
use crate::ImportKind;

/// A cell whose text is not a value of its field.
#[derive(Debug, Clone)]
pub struct CellProblem {
    /// The column.
    pub column: usize,
    /// A stable code: `format.date`, `format.number`, `enum`, `required`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

/// A dossier read from a row, with where each field came from.
pub struct RowCustomer {
    /// The dossier (not yet normalised or checked).
    pub customer: Customer,
    /// Whether the row named the dossier's kehu id.
    pub has_kehu_id: bool,
    /// The fields the row filled, for an update that changes only those.
    pub present: Vec<Target>,
    /// Field path prefixes and the column each came from, to name the column of a violation.
    pub sources: Vec<(Cow<'static, str>, usize)>,
    /// Cells that could not be read.
    pub problems: Vec<CellProblem>,
}

impl RowCustomer {
    /// The column a violation at `path` comes from (the longest matching source path).
    pub fn column_of(&self, path: &str) -> Option<usize> {
        self.sources
            .iter()
            .filter(|(prefix, _)| {
                path.starts_with(prefix.as_ref())
                    && matches!(path.as_bytes().get(prefix.len()), None | Some(b'.' | b'['))
            })
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, c)| *c)
    }
}

/// The path of the `i`-th item of a list field, without allocating for the first few.
fn indexed(list: &'static str, i: usize) -> Cow<'static, str> {
    const EMAILS: [&str; 4] = ["emails[0]", "emails[1]", "emails[2]", "emails[3]"];
    const PHONES: [&str; 4] = ["phones[0]", "phones[1]", "phones[2]", "phones[3]"];
    let table = if list == "emails" { EMAILS } else { PHONES };
    match table.get(i) {
        Some(p) => Cow::Borrowed(p),
        None => Cow::Owned(format!("{list}[{i}]")),
    }
}

/// Builds a dossier from a row's cells.
pub fn customer_from_cells(
    cells: &[(usize, String)],
    columns: &Columns,
    custom_type: &dyn Fn(&str) -> Option<CustomType>,
    now: Timestamp,
) -> RowCustomer {
    let mut c = Customer {
        created_at: now,
        updated_at: now,
        ..Customer::default()
    };
    let mut problems = Vec::new();
    let mut sources = Vec::new();
    let mut present = Vec::new();
    let mut has_kehu_id = false;
    let mut address = Address::default();
    let mut org = Organization::default();
    let mut kind = None;
    for (col, text) in cells {
        let Some(target) = columns.target(*col) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() || *target == Target::Ignore {
            continue;
        }
        let mut bad = |code: &'static str, message: String| {
            problems.push(CellProblem {
                column: *col,
                code,
                message,
            })
        };
        let mut source = |path: Cow<'static, str>| sources.push((path, *col));
        let field = match target {
            Target::Field(f) => *f,
            Target::Custom(name) => {
                let declared = custom_type(name);
                match parse_custom(text, declared.unwrap_or(CustomType::Text)) {
                    Ok(v) => {
                        source(Cow::Owned(format!("custom.{name}")));
                        c.custom.insert(name.clone(), v);
                    }
                    Err(m) => bad("custom.type", m),
                }
                present.push(target.clone());
                continue;
            }
            Target::Related(_) | Target::Ignore => continue,
        };
        match field {
            Field::KehuId => match text.parse::<CustomerId>() {
                Ok(id) => {
                    c.id = id;
                    has_kehu_id = true;
                }
                Err(_) => bad("format.id", "not a kehu id (a UUID)".into()),
            },
            Field::ExternalId => {
                c.external_id = Some(text.to_string());
                source(Cow::Borrowed(Field::ExternalId.path()));
            }
            Field::Kind => match parse_kind(text) {
                Some(k) => kind = Some(k),
                None => bad("enum", "must be person or organization (个人/企业)".into()),
            },
            Field::Name | Field::FullName => {
                c.name.full = Some(text.to_string());
                source(Cow::Borrowed("name"));
            }
            Field::GivenName => {
                c.name.given = Some(text.to_string());
                source(Cow::Borrowed("name"));
            }
            Field::FamilyName => {
                c.name.family = Some(text.to_string());
                source(Cow::Borrowed(Field::FamilyName.path()));
            }
            Field::Organization => {
                org.name = Some(text.to_string());
                source(Cow::Borrowed(Field::Organization.path()));
            }
            Field::Industry => {
                org.industry = Some(text.to_string());
                source(Cow::Borrowed(Field::Industry.path()));
            }
            Field::OrgSize => match text.replace([',', '_'], "").parse::<u32>() {
                Ok(n) => {
                    org.size = Some(n);
                    source(Cow::Borrowed(Field::OrgSize.path()));
                }
                Err(_) => bad("format.number", "not a whole number".into()),
            },
            Field::Company => {
                c.company = Some(text.to_string());
                source(Cow::Borrowed(Field::Company.path()));
            }
            Field::JobTitle => {
                c.job_title = Some(text.to_string());
                source(Cow::Borrowed(Field::JobTitle.path()));
            }
            Field::BirthDate => match parse_date(text) {
                Ok(d) => {
                    c.birth_date = Some(d);
                    source(Cow::Borrowed(Field::BirthDate.path()));
                }
                Err(m) => bad("format.date", m),
            },
            Field::ResidentId => {
                c.resident_id = Some(text.to_string());
                source(Cow::Borrowed(Field::ResidentId.path()));
            }
            Field::CreditCode => {
                c.credit_code = Some(text.to_string());
                source(Cow::Borrowed(Field::CreditCode.path()));
            }
            Field::Emails => {
                for item in split_list(text) {
                    source(indexed("emails", c.emails.len()));
                    let mut e = Email::new(item);
                    e.primary = c.emails.is_empty();
                    c.emails.push(e);
                }
            }
            Field::Phones => {
                for item in split_list(text) {
                    source(indexed("phones", c.phones.len()));
                    let mut p = Phone::new(item);
                    p.primary = c.phones.is_empty();
                    c.phones.push(p);
                }
            }
            Field::Street => {
                address.street = Some(text.to_string());
                source(Cow::Borrowed("addresses[0].street"));
            }
            Field::District => {
                address.district = Some(text.to_string());
                source(Cow::Borrowed("addresses[0].district"));
            }
            Field::City => {
                address.city = Some(text.to_string());
                source(Cow::Borrowed("addresses[0].city"));
            }
            Field::Region => {
                address.region = Some(text.to_string());
                source(Cow::Borrowed("addresses[0].region"));
            }
            Field::Postcode => {
                address.postcode = Some(text.to_string());
                source(Cow::Borrowed("addresses[0].postcode"));
            }
            Field::Country => {
                address.country = Some(text.to_string());
                source(Cow::Borrowed("addresses[0].country"));
            }
            Field::Tags => {
                source(Cow::Borrowed(Field::Tags.path()));
                c.tags.extend(split_list(text));
            }
            Field::Owner => {
                c.owner = Some(text.to_string());
                source(Cow::Borrowed(Field::Owner.path()));
            }
            Field::Source => {
                c.source = Some(text.to_string());
                source(Cow::Borrowed(Field::Source.path()));
            }
            Field::Stage => match parse_stage(text) {
                Some(s) => {
                    c.lifecycle_stage = Some(s);
                    source(Cow::Borrowed(Field::Stage.path()));
                }
                None => bad(
                    "enum",
                    "must be one of potential, new, active, at_risk, churned".into(),
                ),
            },
            Field::CreatedAt | Field::UpdatedAt | Field::VerifiedAt => {
                match parse_timestamp(text) {
                    Ok(t) => match field {
                        Field::CreatedAt => c.created_at = t,
                        Field::UpdatedAt => c.updated_at = t,
                        _ => c.verified_at = Some(t),
                    },
                    Err(m) => bad("format.datetime", m),
                }
            }
            Field::Addresses => continue,
        }
        present.push(target.clone());
    }
    if address != Address::default() {
        address.primary = true;
        c.addresses.push(address);
    }
    let has_person_name =
        c.name.full.is_some() || c.name.given.is_some() || c.name.family.is_some();
    c.kind = kind.unwrap_or(if org.name.is_some() && !has_person_name {
        Kind::Organization
    } else {
        Kind::Person
    });
    if org != Organization::default() {
        c.organization = Some(org);
    }
    RowCustomer {
        customer: c,
        has_kehu_id,
        present,
        sources,
        problems,
    }
}

/// Applies the fields a row filled onto an existing dossier: filled cells
/// replace, empty ones keep what is there; e-mails, phones and tags are added.
pub fn merge(existing: &Customer, row: &RowCustomer) -> Customer {
    let mut out = existing.clone();
    let new = &row.customer;
    let has = |f: &Field| row.present.contains(&Target::Field(*f));
    if has(&Field::ExternalId) {
        out.external_id.clone_from(&new.external_id);
    }
    if has(&Field::Kind) {
        out.kind = new.kind;
    }
    if has(&Field::Name) || has(&Field::FullName) {
        out.name.full.clone_from(&new.name.full);
    }
    for (field, slot, value) in [
        (Field::GivenName, &mut out.name.given, &new.name.given),
        (Field::FamilyName, &mut out.name.family, &new.name.family),
        (Field::Company, &mut out.company, &new.company),
        (Field::JobTitle, &mut out.job_title, &new.job_title),
        (Field::ResidentId, &mut out.resident_id, &new.resident_id),
        (Field::CreditCode, &mut out.credit_code, &new.credit_code),
        (Field::Owner, &mut out.owner, &new.owner),
        (Field::Source, &mut out.source, &new.source),
    ] {
        if has(&field) {
            slot.clone_from(value);
        }
    }
    if let Some(org) = &new.organization {
        let target = out.organization.get_or_insert_with(Organization::default);
        if org.name.is_some() {
            target.name.clone_from(&org.name);
        }
        if org.industry.is_some() {
            target.industry.clone_from(&org.industry);
        }
        if org.size.is_some() {
            target.size = org.size;
        }
    }
    if has(&Field::BirthDate) {
        out.birth_date = new.birth_date;
    }
    if has(&Field::Stage) {
        out.lifecycle_stage = new.lifecycle_stage;
    }
    if has(&Field::VerifiedAt) {
        out.verified_at = new.verified_at;
    }
    for e in &new.emails {
        if !out.emails.iter().any(|x| x.address == e.address) {
            let mut e = e.clone();
            e.primary = out.emails.is_empty();
            out.emails.push(e);
        }
    }
    for p in &new.phones {
        if !out.phones.iter().any(|x| x.number == p.number) {
            let mut p = p.clone();
            p.primary = out.phones.is_empty();
            out.phones.push(p);
        }
    }
    if let Some(a) = new.addresses.first() {
        if out.addresses.is_empty() {
            out.addresses.push(a.clone());
        } else {
            let i = out.addresses.iter().position(|x| x.primary).unwrap_or(0);
            let target = &mut out.addresses[i];
            for (slot, value) in [
                (&mut target.street, &a.street),
                (&mut target.district, &a.district),
                (&mut target.city, &a.city),
                (&mut target.region, &a.region),
                (&mut target.postcode, &a.postcode),
                (&mut target.country, &a.country),
            ] {
                if value.is_some() {
                    slot.clone_from(value);
                }
            }
        }
    }
    for t in &new.tags {
        if !out.tags.contains(t) {
            out.tags.push(t.clone());
        }
    }
    for (k, v) in &new.custom {
        out.custom.insert(k.clone(), v.clone());
    }
    out
}

/// What a related row needs besides its cells.
pub struct RelatedContext {
    /// What the file holds.
    pub kind: ImportKind,
    /// The customer the row's record belongs to.
    pub customer: CustomerId,
    /// The currency of amounts without one of their own.
    pub currency: Option<Currency>,
}

/// Builds a related record from a row's cells; the id is derived from the
/// source's record id when there is one, so importing a file twice does not
/// double its records.
pub fn related_from_cells(
    cells: &[(usize, String)],
    columns: &Columns,
    ctx: &RelatedContext,
) -> Result<Related, Vec<CellProblem>> {
    let mut problems = Vec::new();
    let get = |field: RelatedField| -> Option<(usize, &str)> {
        let field = Target::Related(field);
        cells
            .iter()
            .find(|(c, t)| columns.target(*c) == Some(&field) && !t.trim().is_empty())
            .map(|(c, t)| (*c, t.trim()))
    };
    let at_cell = get(RelatedField::At);
    let record_id = get(RelatedField::RecordId);
    let mut fail = |column: usize, code: &'static str, message: String| {
        problems.push(CellProblem {
            column,
            code,
            message,
        })
    };
    let time = |cell: Option<(usize, &str)>, fail: &mut dyn FnMut(usize, &'static str, String)| {
        cell.and_then(|(col, text)| match parse_timestamp(text) {
            Ok(t) => Some(t),
            Err(m) => {
                fail(col, "format.datetime", m);
                None
            }
        })
    };
    let at = time(at_cell, &mut fail);
    if at_cell.is_none() {
        fail(
            usize::MAX,
            "required",
            "a date or time column (at) is required".into(),
        );
    }
    let text = |cell: Option<(usize, &str)>| cell.map(|(_, t)| t.to_string());
    let mut record = match ctx.kind {
        ImportKind::Purchases => {
            let currency = match get(RelatedField::Currency) {
                Some((col, t)) => match t.parse::<Currency>() {
                    Ok(c) => Some(c),
                    Err(_) => {
                        fail(
                            col,
                            "format.currency",
                            "not an ISO 4217 currency code".into(),
                        );
                        None
                    }
                },
                None => ctx.currency,
            };
            let amount = match (
                currency,
                get(RelatedField::AmountMinor),
                get(RelatedField::Amount),
            ) {
                (None, _, _) => {
                    if get(RelatedField::Currency).is_none() {
                        fail(
                            usize::MAX,
                            "required",
                            "a currency column (or a default currency) is required".into(),
                        );
                    }
                    None
                }
                (Some(cur), Some((col, t)), _) => match t.parse::<i64>() {
                    Ok(m) => Some(Money::new(m, cur)),
                    Err(_) => {
                        fail(
                            col,
                            "format.number",
                            "not a whole number of minor units".into(),
                        );
                        None
                    }
                },
                (Some(cur), None, Some((col, t))) => {
                    let clean: String = t
                        .chars()
                        .filter(|c| !matches!(c, ',' | '¥' | '$' | '€' | '£' | ' '))
                        .collect();
                    match Money::parse(&clean, cur) {
                        Ok(m) => Some(m),
                        Err(e) => {
                            fail(col, "format.amount", e.to_string());
                            None
                        }
                    }
                }
                (Some(_), None, None) => {
                    fail(
                        usize::MAX,
                        "required",
                        "an amount column is required".into(),
                    );
                    None
                }
            };
            let items = match get(RelatedField::Items) {
                Some((col, t)) => t.parse::<u32>().unwrap_or_else(|_| {
                    fail(col, "format.number", "not a whole number".into());
                    1
                }),
                None => 1,
            };
            let (Some(at), Some(amount)) = (at, amount) else {
                return Err(problems);
            };
            let mut p = Purchase::new(ctx.customer, at, amount);
            p.items = items;
            p.channel = text(get(RelatedField::Channel));
            p.reference = text(get(RelatedField::Reference)).or_else(|| text(record_id));
            Related::Purchase(p)
        }
        ImportKind::Interactions => {
            let channel = match get(RelatedField::Channel) {
                Some((col, t)) => parse_channel(t).unwrap_or_else(|| {
                    fail(
                        col,
                        "enum",
                        "must be phone, email, chat, visit, social or other".into(),
                    );
                    InteractionChannel::Other
                }),
                None => InteractionChannel::Other,
            };
            let direction = match get(RelatedField::Direction) {
                Some((col, t)) => match t.to_ascii_lowercase().as_str() {
                    "inbound" | "in" | "incoming" | "呼入" => Direction::Inbound,
                    "outbound" | "out" | "outgoing" | "呼出" => Direction::Outbound,
                    _ => {
                        fail(col, "enum", "must be inbound or outbound".into());
                        Direction::Inbound
                    }
                },
                None => Direction::Inbound,
            };
            let Some(at) = at.filter(|_| problems.is_empty()) else {
                return Err(problems);
            };
            let mut i = Interaction::new(
                ctx.customer,
                at,
                channel,
                direction,
                text(get(RelatedField::Summary)).unwrap_or_default(),
            );
            i.outcome = text(get(RelatedField::Outcome));
            Related::Interaction(i)
        }
        ImportKind::Feedback => {
            let kind = match get(RelatedField::Kind) {
                Some((col, t)) => match t.to_ascii_lowercase().as_str() {
                    "complaint" | "投诉" => FeedbackKind::Complaint,
                    "suggestion" | "建议" => FeedbackKind::Suggestion,
                    "praise" | "表扬" => FeedbackKind::Praise,
                    "survey" | "调查" => FeedbackKind::Survey,
                    _ => {
                        fail(
                            col,
                            "enum",
                            "must be complaint, suggestion, praise or survey".into(),
                        );
                        FeedbackKind::Survey
                    }
                },
                None => FeedbackKind::Survey,
            };
            let scale = match get(RelatedField::Scale) {
                Some((col, t)) => match t.to_ascii_lowercase().as_str() {
                    "csat" => Some(ScoreScale::Csat),
                    "nps" => Some(ScoreScale::Nps),
                    _ => {
                        fail(col, "enum", "must be csat or nps".into());
                        None
                    }
                },
                None => None,
            };
            let score = match get(RelatedField::Score) {
                Some((col, t)) => match t.parse::<u8>() {
                    Ok(v) => Some(Score {
                        scale: scale.unwrap_or(ScoreScale::Csat),
                        value: v,
                    }),
                    Err(_) => {
                        fail(
                            col,
                            "format.number",
                            "not a whole number from 0 to 10".into(),
                        );
                        None
                    }
                },
                None => None,
            };
            let status = match get(RelatedField::Status) {
                Some((col, t)) => parse_feedback_status(t).unwrap_or_else(|| {
                    fail(col, "enum", "must be open or resolved".into());
                    FeedbackStatus::Open
                }),
                None => FeedbackStatus::Open,
            };
            let resolved_at = time(get(RelatedField::ResolvedAt), &mut fail);
            let Some(at) = at.filter(|_| problems.is_empty()) else {
                return Err(problems);
            };
            let mut f = Feedback::new(
                ctx.customer,
                at,
                kind,
                text(get(RelatedField::Comment)).unwrap_or_default(),
            );
            f.score = score;
            f.status = status;
            f.resolved_at = resolved_at;
            Related::Feedback(f)
        }
        ImportKind::Consents | ImportKind::Customers => {
            let status = match get(RelatedField::Status) {
                Some((col, t)) => match t.to_ascii_lowercase().as_str() {
                    "granted" | "yes" | "true" | "opt-in" | "optin" | "同意" => {
                        ConsentStatus::Granted
                    }
                    "withdrawn" | "no" | "false" | "opt-out" | "optout" | "撤回" | "拒绝" => {
                        ConsentStatus::Withdrawn
                    }
                    _ => {
                        fail(col, "enum", "must be granted or withdrawn".into());
                        ConsentStatus::Granted
                    }
                },
                None => ConsentStatus::Granted,
            };
            let expires_at = time(get(RelatedField::ExpiresAt), &mut fail);
            let Some(at) = at.filter(|_| problems.is_empty()) else {
                return Err(problems);
            };
            let mut c = Consent::new(
                ctx.customer,
                at,
                text(get(RelatedField::Purpose)).unwrap_or_default(),
                status,
            );
            c.channel = text(get(RelatedField::Channel));
            c.evidence = text(get(RelatedField::Evidence));
            c.expires_at = expires_at;
            Related::Consent(c)
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    // The source's record id, or for a purchase its order reference, names the row.
    let source_id = record_id.or_else(|| {
        (ctx.kind == ImportKind::Purchases)
            .then(|| get(RelatedField::Reference))
            .flatten()
    });
    if let Some((_, source_id)) = source_id {
        let id = derived_record_id(&record, source_id);
        set_record_id(&mut record, id);
    }
    Ok(record)
}

fn set_record_id(record: &mut Related, id: RecordId) {
    match record {
        Related::Purchase(r) => r.id = id,
        Related::Interaction(r) => r.id = id,
        Related::Feedback(r) => r.id = id,
        Related::Consent(r) => r.id = id,
        Related::Note(r) => r.id = id,
    }
}

/// A UUID v7-shaped id from the record's time and a hash of its kind,
/// customer and source id: the same source row always gets the same id.
fn derived_record_id(record: &Related, source_id: &str) -> RecordId {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    let kind = [record.kind().tag()];
    for b in kind
        .iter()
        .chain(record.customer_id().to_bytes().iter())
        .chain(source_id.as_bytes())
    {
        h1 = (h1 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        h2 = (h2 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x9e37);
    }
    let (h1, h2) = (mix(h1), mix(h2 ^ h1.rotate_left(29)));
    let ms = record.at().timestamp_millis().max(0) as u64;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..14].copy_from_slice(&h1.to_be_bytes());
    bytes[14..].copy_from_slice(&h2.to_be_bytes()[..2]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    RecordId::from_bytes(bytes)
}

/// splitmix64's finaliser: every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The columns of a customer file, as an export writes them: the catalogue's
/// column fields in order, then `custom.<name>` for each custom field.
pub fn customer_header(custom: &[String]) -> Vec<String> {
    kehu_model::catalogue::FIELDS
        .iter()
        .filter(|f| f.column)
        .map(|f| f.name.to_string())
        .chain(custom.iter().map(|c| format!("custom.{c}")))
        .collect()
}

/// One dossier as the cells of [`customer_header`]: what an import reads back.
pub fn customer_cells(c: &Customer, custom: &[String]) -> Vec<String> {
    kehu_model::catalogue::FIELDS
        .iter()
        .filter(|f| f.column)
        .map(|f| cell(c, f.field))
        .chain(
            custom
                .iter()
                .map(|name| c.custom.get(name).map(custom_text).unwrap_or_default()),
        )
        .collect()
}

/// A dossier field as one cell: lists joined as [`list_text`] writes them
/// (the primary entry first), the primary address's parts, dates as
/// `YYYY-MM-DD`, instants as RFC 3339.
pub fn cell(c: &Customer, field: Field) -> String {
    if let Some(items) = list_cell(c, field) {
        return if items.is_empty() {
            String::new()
        } else {
            list_text(&items)
        };
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let org = |f: fn(&Organization) -> String| c.organization.as_ref().map(f).unwrap_or_default();
    let address = |f: fn(&Address) -> &Option<String>| {
        c.primary_address()
            .and_then(|a| f(a).clone())
            .unwrap_or_default()
    };
    match field {
        Field::KehuId => c.id.to_string(),
        Field::ExternalId => opt(&c.external_id),
        Field::Kind => match c.kind {
            Kind::Person => "person".into(),
            Kind::Organization => "organization".into(),
        },
        Field::Name | Field::FullName => opt(&c.name.full),
        Field::GivenName => opt(&c.name.given),
        Field::FamilyName => opt(&c.name.family),
        Field::Organization => org(|o| o.name.clone().unwrap_or_default()),
        Field::Industry => org(|o| o.industry.clone().unwrap_or_default()),
        Field::OrgSize => org(|o| o.size.map(|s| s.to_string()).unwrap_or_default()),
        Field::Company => opt(&c.company),
        Field::JobTitle => opt(&c.job_title),
        Field::ResidentId => opt(&c.resident_id),
        Field::CreditCode => opt(&c.credit_code),
        Field::BirthDate => c
            .birth_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        Field::Emails | Field::Phones | Field::Tags => String::new(),
        Field::Addresses => String::new(),
        Field::Street => address(|a| &a.street),
        Field::District => address(|a| &a.district),
        Field::City => address(|a| &a.city),
        Field::Region => address(|a| &a.region),
        Field::Postcode => address(|a| &a.postcode),
        Field::Country => address(|a| &a.country),
        Field::Owner => opt(&c.owner),
        Field::Source => opt(&c.source),
        Field::Stage => c.lifecycle_stage.map(|s| s.to_string()).unwrap_or_default(),
        Field::CreatedAt => timestamp_text(c.created_at),
        Field::UpdatedAt => timestamp_text(c.updated_at),
        Field::VerifiedAt => c.verified_at.map(timestamp_text).unwrap_or_default(),
    }
}

/// A list field's values, the primary entry first (e-mails, phones, tags);
/// none for a field that is not a list.
pub fn list_cell(c: &Customer, field: Field) -> Option<Vec<String>> {
    // The primary entry first, then the others in order; none is lost.
    let primary_first = |flags: Vec<(bool, String)>| -> Vec<String> {
        let at = flags.iter().position(|(p, _)| *p).unwrap_or(0);
        let mut out: Vec<String> = flags.into_iter().map(|(_, v)| v).collect();
        if at > 0 {
            let primary = out.remove(at);
            out.insert(0, primary);
        }
        out
    };
    Some(match field {
        Field::Emails => primary_first(
            c.emails
                .iter()
                .map(|e| (e.primary, e.address.clone()))
                .collect(),
        ),
        Field::Phones => primary_first(
            c.phones
                .iter()
                .map(|p| (p.primary, p.number.clone()))
                .collect(),
        ),
        Field::Tags => c.tags.clone(),
        _ => return None,
    })
}
