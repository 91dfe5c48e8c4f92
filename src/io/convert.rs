//! Turning a row's cells into a dossier or a related record, and values back into cells.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use kehu_model::{
    Address, Consent, ConsentStatus, Currency, CustomValue, Customer, CustomerId, Decimal,
    Direction, Email, Feedback, FeedbackKind, FeedbackStatus, Interaction, InteractionChannel,
    Kind, LifecycleStage, Money, Organization, Phone, Purchase, RecordId, Related, Score,
    ScoreScale, Timestamp,
};
use kehu_rules::{CustomType, Rules};

use super::columns::{Columns, Field};
use super::ImportKind;

/// A cell whose text is not a value of its field.
#[derive(Debug, Clone)]
pub(crate) struct CellProblem {
    /// The column.
    pub column: usize,
    /// A stable code: `format.date`, `format.number`, `enum`, `required`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

/// A dossier read from a row, with where each field came from.
pub(crate) struct RowCustomer {
    /// The dossier (not yet normalised or checked).
    pub customer: Customer,
    /// Whether the row named the dossier's kehu id.
    pub has_kehu_id: bool,
    /// The fields the row filled, for an update that changes only those.
    pub present: Vec<Field>,
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
pub(crate) fn customer_from_cells(
    cells: &[(usize, String)],
    columns: &Columns,
    rules: &Rules,
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
        let Some(field) = columns.field(*col) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() || *field == Field::Ignore {
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
                source(Cow::Borrowed("external_id"));
            }
            Field::Kind => match parse_kind(text) {
                Some(k) => kind = Some(k),
                None => bad("enum", "must be person or organization (个人/企业)".into()),
            },
            Field::Name => {
                c.name.full = Some(text.to_string());
                source(Cow::Borrowed("name"));
            }
            Field::GivenName => {
                c.name.given = Some(text.to_string());
                source(Cow::Borrowed("name"));
            }
            Field::FamilyName => {
                c.name.family = Some(text.to_string());
                source(Cow::Borrowed("name.family"));
            }
            Field::Organization => {
                org.name = Some(text.to_string());
                source(Cow::Borrowed("organization"));
            }
            Field::Industry => {
                org.industry = Some(text.to_string());
                source(Cow::Borrowed("organization.industry"));
            }
            Field::OrgSize => match text.replace([',', '_'], "").parse::<u32>() {
                Ok(n) => {
                    org.size = Some(n);
                    source(Cow::Borrowed("organization.size"));
                }
                Err(_) => bad("format.number", "not a whole number".into()),
            },
            Field::Company => {
                c.company = Some(text.to_string());
                source(Cow::Borrowed("company"));
            }
            Field::JobTitle => {
                c.job_title = Some(text.to_string());
                source(Cow::Borrowed("job_title"));
            }
            Field::BirthDate => match parse_date(text) {
                Ok(d) => {
                    c.birth_date = Some(d);
                    source(Cow::Borrowed("birth_date"));
                }
                Err(m) => bad("format.date", m),
            },
            Field::Email => {
                for item in split_list(text) {
                    source(indexed("emails", c.emails.len()));
                    let mut e = Email::new(item);
                    e.primary = c.emails.is_empty();
                    c.emails.push(e);
                }
            }
            Field::Phone => {
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
                source(Cow::Borrowed("tags"));
                c.tags.extend(split_list(text));
            }
            Field::Owner => {
                c.owner = Some(text.to_string());
                source(Cow::Borrowed("owner"));
            }
            Field::Source => {
                c.source = Some(text.to_string());
                source(Cow::Borrowed("source"));
            }
            Field::Stage => match parse_stage(text) {
                Some(s) => {
                    c.lifecycle_stage = Some(s);
                    source(Cow::Borrowed("lifecycle_stage"));
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
            Field::Custom(name) => {
                let declared = rules.custom_field(name).map(|f| f.kind);
                match parse_custom(text, declared.unwrap_or(CustomType::Text)) {
                    Ok(v) => {
                        source(Cow::Owned(format!("custom.{name}")));
                        c.custom.insert(name.clone(), v);
                    }
                    Err(m) => bad("custom.type", m),
                }
            }
            _ => continue,
        }
        present.push(field.clone());
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
pub(crate) fn merge(existing: &Customer, row: &RowCustomer) -> Customer {
    let mut out = existing.clone();
    let new = &row.customer;
    let has = |f: &Field| row.present.contains(f);
    if has(&Field::ExternalId) {
        out.external_id.clone_from(&new.external_id);
    }
    if has(&Field::Kind) {
        out.kind = new.kind;
    }
    for (field, slot, value) in [
        (Field::Name, &mut out.name.full, &new.name.full),
        (Field::GivenName, &mut out.name.given, &new.name.given),
        (Field::FamilyName, &mut out.name.family, &new.name.family),
        (Field::Company, &mut out.company, &new.company),
        (Field::JobTitle, &mut out.job_title, &new.job_title),
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
pub(crate) struct RelatedContext {
    pub kind: ImportKind,
    pub customer: CustomerId,
    pub currency: Option<Currency>,
}

/// Builds a related record from a row's cells; the id is derived from the
/// source's record id when there is one, so importing a file twice does not
/// double its records.
pub(crate) fn related_from_cells(
    cells: &[(usize, String)],
    columns: &Columns,
    ctx: &RelatedContext,
) -> Result<Related, Vec<CellProblem>> {
    let mut problems = Vec::new();
    let get = |field: Field| -> Option<(usize, &str)> {
        cells
            .iter()
            .find(|(c, t)| columns.field(*c) == Some(&field) && !t.trim().is_empty())
            .map(|(c, t)| (*c, t.trim()))
    };
    let at_cell = get(Field::At);
    let record_id = get(Field::RecordId);
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
            let currency = match get(Field::Currency) {
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
            let amount = match (currency, get(Field::AmountMinor), get(Field::Amount)) {
                (None, _, _) => {
                    if get(Field::Currency).is_none() {
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
            let items = match get(Field::Items) {
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
            p.channel = text(get(Field::Channel));
            p.reference = text(get(Field::Reference)).or_else(|| text(record_id));
            Related::Purchase(p)
        }
        ImportKind::Interactions => {
            let channel = match get(Field::Channel) {
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
            let direction = match get(Field::Direction) {
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
                text(get(Field::Summary)).unwrap_or_default(),
            );
            i.outcome = text(get(Field::Outcome));
            Related::Interaction(i)
        }
        ImportKind::Feedback => {
            let kind = match get(Field::Kind) {
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
            let scale = match get(Field::Scale) {
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
            let score = match get(Field::Score) {
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
            let status = match get(Field::Status) {
                Some((col, t)) => parse_feedback_status(t).unwrap_or_else(|| {
                    fail(col, "enum", "must be open or resolved".into());
                    FeedbackStatus::Open
                }),
                None => FeedbackStatus::Open,
            };
            let resolved_at = time(get(Field::ResolvedAt), &mut fail);
            let Some(at) = at.filter(|_| problems.is_empty()) else {
                return Err(problems);
            };
            let mut f = Feedback::new(
                ctx.customer,
                at,
                kind,
                text(get(Field::Comment)).unwrap_or_default(),
            );
            f.score = score;
            f.status = status;
            f.resolved_at = resolved_at;
            Related::Feedback(f)
        }
        ImportKind::Consents | ImportKind::Customers => {
            let status = match get(Field::Status) {
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
            let expires_at = time(get(Field::ExpiresAt), &mut fail);
            let Some(at) = at.filter(|_| problems.is_empty()) else {
                return Err(problems);
            };
            let mut c = Consent::new(
                ctx.customer,
                at,
                text(get(Field::Purpose)).unwrap_or_default(),
                status,
            );
            c.channel = text(get(Field::Channel));
            c.evidence = text(get(Field::Evidence));
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
            .then(|| get(Field::Reference))
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

fn parse_kind(text: &str) -> Option<Kind> {
    match text.trim().to_lowercase().as_str() {
        "person" | "individual" | "people" | "p" | "b2c" | "个人" | "自然人" => {
            Some(Kind::Person)
        }
        "organization" | "organisation" | "org" | "company" | "business" | "b2b" | "o" | "企业"
        | "公司" | "机构" | "单位" => Some(Kind::Organization),
        _ => None,
    }
}

fn parse_stage(text: &str) -> Option<LifecycleStage> {
    if let Ok(s) = text.parse() {
        return Some(s);
    }
    match text.trim() {
        "潜在" | "潜在客户" | "lead" | "prospect" => Some(LifecycleStage::Potential),
        "新客户" | "新" => Some(LifecycleStage::New),
        "活跃" | "活跃客户" => Some(LifecycleStage::Active),
        "风险" | "流失风险" | "有流失风险" => Some(LifecycleStage::AtRisk),
        "流失" | "已流失" => Some(LifecycleStage::Churned),
        _ => None,
    }
}

fn parse_channel(text: &str) -> Option<InteractionChannel> {
    Some(match text.trim().to_lowercase().as_str() {
        "phone" | "call" | "电话" => InteractionChannel::Phone,
        "email" | "e-mail" | "mail" | "邮件" => InteractionChannel::Email,
        "chat" | "wechat" | "whatsapp" | "im" | "微信" | "聊天" => InteractionChannel::Chat,
        "visit" | "meeting" | "store" | "拜访" | "到店" => InteractionChannel::Visit,
        "social" | "weibo" | "社交" => InteractionChannel::Social,
        "other" | "其他" => InteractionChannel::Other,
        _ => return None,
    })
}

fn parse_feedback_status(text: &str) -> Option<FeedbackStatus> {
    let key = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    serde_json::from_value(serde_json::Value::String(key)).ok()
}

/// A calendar date: `2024-03-05`, `2024/3/5`, `2024.03.05`, `20240305`,
/// `2024年3月5日`, or day and month around a year when only one reading is possible.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let t = t.split(['T', ' ']).next().unwrap_or(t);
    let bad = || format!("not a date (write it as YYYY-MM-DD): {:?}", short(text));
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(t, "%Y%m%d").map_err(|_| bad());
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let Some(nums) = nums.filter(|n| n.len() == 3) else {
        return Err(bad());
    };
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else if parts[2].len() == 4 {
        match (nums[0] > 12, nums[1] > 12) {
            (true, false) => (nums[2], nums[1], nums[0]),
            (false, true) => (nums[2], nums[0], nums[1]),
            _ if nums[0] == nums[1] => (nums[2], nums[0], nums[1]),
            _ => {
                return Err(format!(
                    "ambiguous date {:?}: day and month could be either way round; write it as YYYY-MM-DD",
                    short(text)
                ))
            }
        }
    } else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or_else(|| format!("no such date: {:?}", short(text)))
}

/// An instant: RFC 3339, or a date and time without a zone (taken as UTC), or a date (midnight UTC).
pub(crate) fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(naive.and_utc());
        }
    }
    parse_date(t)
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| {
            format!(
                "not a date and time (write it as 2024-03-05T14:30:00Z): {:?}",
                short(text)
            )
        })
}

fn parse_custom(text: &str, kind: CustomType) -> Result<CustomValue, String> {
    let t = text.trim();
    Ok(match kind {
        CustomType::Text => CustomValue::Text(t.to_string()),
        CustomType::Enum => CustomValue::Enum(t.to_string()),
        CustomType::Integer => CustomValue::Integer(
            t.replace([',', '_'], "")
                .parse()
                .map_err(|_| "not a whole number".to_string())?,
        ),
        CustomType::Decimal => CustomValue::Decimal(
            t.replace(',', "")
                .parse::<Decimal>()
                .map_err(|_| "not a decimal number".to_string())?,
        ),
        CustomType::Bool => CustomValue::Bool(match t.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "对" => true,
            "false" | "no" | "n" | "0" | "否" | "不" => false,
            _ => return Err("not yes or no".into()),
        }),
        CustomType::Date => CustomValue::Date(parse_date(t)?),
        CustomType::Datetime => CustomValue::DateTime(parse_timestamp(t)?),
        CustomType::TextList => CustomValue::TextList(split_list(t)),
    })
}

/// The text of a custom value, as [`parse_custom`] reads it back.
pub(crate) fn custom_text(value: &CustomValue) -> String {
    match value {
        CustomValue::Text(s) | CustomValue::Enum(s) => s.clone(),
        CustomValue::Integer(i) => i.to_string(),
        CustomValue::Decimal(d) => d.to_string(),
        CustomValue::Bool(b) => b.to_string(),
        CustomValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        CustomValue::DateTime(t) => timestamp_text(*t),
        CustomValue::TextList(items) => list_text(items),
    }
}

/// An instant as exported: RFC 3339 in UTC with as many fractional digits as it has.
pub(crate) fn timestamp_text(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

const SEPARATORS: &[char] = &[';', '；', ',', '，', '、', '|'];

/// Splits a list cell: a JSON array of strings, else on `;` when it has one,
/// else on `,` `，` `、` `|`. Items are trimmed; empty ones dropped.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    let t = text.trim();
    if t.starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<String>>(t) {
            return items;
        }
    }
    let parts: Vec<&str> = if t.contains([';', '；']) {
        t.split([';', '；']).collect()
    } else {
        t.split(&[',', '，', '、', '|'][..]).collect()
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// A list as a cell that [`split_list`] reads back: `a;b`, or a JSON array
/// when an item holds a separator or would not survive trimming.
pub(crate) fn list_text(items: &[String]) -> String {
    let plain = items
        .iter()
        .all(|i| !i.is_empty() && !i.contains(SEPARATORS) && i.trim() == i && !i.starts_with('['));
    if plain {
        items.join(";")
    } else {
        serde_json::to_string(items).unwrap_or_default()
    }
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_many_writings() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        for t in [
            "2024-03-15",
            "2024/3/15",
            "2024.03.15",
            "20240315",
            "2024年3月15日",
            "15/03/2024",
            "03/15/2024",
            "2024-03-15T00:00:00",
        ] {
            assert_eq!(parse_date(t), Ok(d), "{t}");
        }
        assert!(parse_date("03/04/2024").unwrap_err().contains("ambiguous"));
        assert!(parse_date("2024-02-30")
            .unwrap_err()
            .contains("no such date"));
        assert!(parse_date("soon").is_err());
    }

    #[test]
    fn lists_round_trip_through_cells() {
        for items in [
            vec!["a".to_string(), "b".into()],
            vec!["x, y".into(), "z".into()],
            vec!["[odd".into()],
            vec![" padded ".into()],
        ] {
            assert_eq!(split_list(&list_text(&items)), items, "{items:?}");
        }
        assert_eq!(split_list("VIP、老客户"), vec!["VIP", "老客户"]);
        assert_eq!(split_list("a@x.com; b@y.com"), vec!["a@x.com", "b@y.com"]);
    }

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2024-03-05T14:30:00.123456789Z").unwrap();
        assert_eq!(parse_timestamp(&timestamp_text(t)), Ok(t));
        assert_eq!(
            parse_timestamp("2024-03-05 14:30:00").unwrap(),
            parse_timestamp("2024-03-05T14:30:00Z").unwrap()
        );
    }
}
