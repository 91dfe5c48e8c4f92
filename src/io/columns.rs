//! Which dossier field each column of an input file fills.

use std::collections::HashMap;

use serde::Serialize;

use super::ImportKind;

/// A field a column can fill: a dossier field, or a related record's field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// The kehu id (`kehu_id`), as exported.
    KehuId,
    /// The id in the source system.
    ExternalId,
    /// Person or organisation.
    Kind,
    /// A full name.
    Name,
    /// A given (first) name.
    GivenName,
    /// A family (last) name.
    FamilyName,
    /// An organisation's name.
    Organization,
    /// An organisation's industry.
    Industry,
    /// An organisation's head count.
    OrgSize,
    /// The company a person works for.
    Company,
    /// A job title.
    JobTitle,
    /// A birth date.
    BirthDate,
    /// One or more e-mail addresses.
    Email,
    /// One or more phone numbers.
    Phone,
    /// Street address.
    Street,
    /// City.
    City,
    /// Province, state or region.
    Region,
    /// Postcode.
    Postcode,
    /// Country.
    Country,
    /// Tags.
    Tags,
    /// The account owner.
    Owner,
    /// Where the customer came from.
    Source,
    /// Lifecycle stage.
    Stage,
    /// When the dossier was created.
    CreatedAt,
    /// When it last changed.
    UpdatedAt,
    /// When it was last confirmed correct.
    VerifiedAt,
    /// A custom field.
    Custom(String),
    /// The customer a related record belongs to (by the import's customer key).
    Customer,
    /// The related record's id in the source system.
    RecordId,
    /// When the related record happened.
    At,
    /// An amount in major units ("12.50").
    Amount,
    /// An amount in minor units ("1250").
    AmountMinor,
    /// A currency code.
    Currency,
    /// A channel.
    Channel,
    /// A number of items.
    Items,
    /// An order or receipt reference.
    Reference,
    /// Inbound or outbound.
    Direction,
    /// What an interaction was about.
    Summary,
    /// How an interaction ended.
    Outcome,
    /// A feedback score.
    Score,
    /// The score's scale (csat, nps).
    Scale,
    /// A feedback comment.
    Comment,
    /// A feedback or consent status.
    Status,
    /// When feedback was resolved.
    ResolvedAt,
    /// What a consent is for.
    Purpose,
    /// How a consent was obtained.
    Evidence,
    /// When a consent lapses.
    ExpiresAt,
    /// Read and ignored (kehu's own `kehu_errors` column in a rejects file).
    Ignore,
}

/// The canonical names of the customer fields, in export order.
pub(crate) const CUSTOMER_FIELDS: &[(&str, Field)] = &[
    ("kehu_id", Field::KehuId),
    ("external_id", Field::ExternalId),
    ("kind", Field::Kind),
    ("name", Field::Name),
    ("given_name", Field::GivenName),
    ("family_name", Field::FamilyName),
    ("organization", Field::Organization),
    ("industry", Field::Industry),
    ("org_size", Field::OrgSize),
    ("company", Field::Company),
    ("job_title", Field::JobTitle),
    ("birth_date", Field::BirthDate),
    ("emails", Field::Email),
    ("phones", Field::Phone),
    ("street", Field::Street),
    ("city", Field::City),
    ("region", Field::Region),
    ("postcode", Field::Postcode),
    ("country", Field::Country),
    ("tags", Field::Tags),
    ("owner", Field::Owner),
    ("source", Field::Source),
    ("stage", Field::Stage),
    ("created_at", Field::CreatedAt),
    ("updated_at", Field::UpdatedAt),
    ("verified_at", Field::VerifiedAt),
];

const RELATED_FIELDS: &[(&str, Field)] = &[
    ("customer", Field::Customer),
    ("record_id", Field::RecordId),
    ("at", Field::At),
    ("amount", Field::Amount),
    ("amount_minor", Field::AmountMinor),
    ("currency", Field::Currency),
    ("channel", Field::Channel),
    ("items", Field::Items),
    ("reference", Field::Reference),
    ("direction", Field::Direction),
    ("summary", Field::Summary),
    ("outcome", Field::Outcome),
    ("kind", Field::Kind),
    ("score", Field::Score),
    ("scale", Field::Scale),
    ("comment", Field::Comment),
    ("status", Field::Status),
    ("resolved_at", Field::ResolvedAt),
    ("purpose", Field::Purpose),
    ("evidence", Field::Evidence),
    ("expires_at", Field::ExpiresAt),
];

/// Common headers in English and Chinese, compared after [`normalize_header`].
const CUSTOMER_ALIASES: &[(&str, Field)] = &[
    ("kehuid", Field::KehuId),
    ("id", Field::ExternalId),
    ("externalid", Field::ExternalId),
    ("extid", Field::ExternalId),
    ("customerid", Field::ExternalId),
    ("custid", Field::ExternalId),
    ("clientid", Field::ExternalId),
    ("sourceid", Field::ExternalId),
    ("客户id", Field::ExternalId),
    ("客户编号", Field::ExternalId),
    ("客户代码", Field::ExternalId),
    ("编号", Field::ExternalId),
    ("type", Field::Kind),
    ("customertype", Field::Kind),
    ("客户类型", Field::Kind),
    ("类型", Field::Kind),
    ("fullname", Field::Name),
    ("customername", Field::Name),
    ("contactname", Field::Name),
    ("姓名", Field::Name),
    ("客户姓名", Field::Name),
    ("客户名称", Field::Name),
    ("联系人", Field::Name),
    ("名称", Field::Name),
    ("firstname", Field::GivenName),
    ("givenname", Field::GivenName),
    ("forename", Field::GivenName),
    ("first", Field::GivenName),
    ("名", Field::GivenName),
    ("名字", Field::GivenName),
    ("lastname", Field::FamilyName),
    ("surname", Field::FamilyName),
    ("familyname", Field::FamilyName),
    ("last", Field::FamilyName),
    ("姓", Field::FamilyName),
    ("姓氏", Field::FamilyName),
    ("organisation", Field::Organization),
    ("organizationname", Field::Organization),
    ("orgname", Field::Organization),
    ("机构", Field::Organization),
    ("机构名称", Field::Organization),
    ("企业名称", Field::Organization),
    ("行业", Field::Industry),
    ("size", Field::OrgSize),
    ("employees", Field::OrgSize),
    ("companysize", Field::OrgSize),
    ("规模", Field::OrgSize),
    ("员工数", Field::OrgSize),
    ("companyname", Field::Company),
    ("employer", Field::Company),
    ("公司", Field::Company),
    ("公司名称", Field::Company),
    ("单位", Field::Company),
    ("工作单位", Field::Company),
    ("title", Field::JobTitle),
    ("jobtitle", Field::JobTitle),
    ("position", Field::JobTitle),
    ("职位", Field::JobTitle),
    ("职务", Field::JobTitle),
    ("头衔", Field::JobTitle),
    ("birthday", Field::BirthDate),
    ("birthdate", Field::BirthDate),
    ("dateofbirth", Field::BirthDate),
    ("dob", Field::BirthDate),
    ("生日", Field::BirthDate),
    ("出生日期", Field::BirthDate),
    ("email", Field::Email),
    ("emailaddress", Field::Email),
    ("mail", Field::Email),
    ("邮箱", Field::Email),
    ("电子邮件", Field::Email),
    ("电子邮箱", Field::Email),
    ("邮件", Field::Email),
    ("phone", Field::Phone),
    ("phonenumber", Field::Phone),
    ("mobile", Field::Phone),
    ("mobilephone", Field::Phone),
    ("cell", Field::Phone),
    ("cellphone", Field::Phone),
    ("tel", Field::Phone),
    ("telephone", Field::Phone),
    ("手机", Field::Phone),
    ("手机号", Field::Phone),
    ("手机号码", Field::Phone),
    ("电话", Field::Phone),
    ("电话号码", Field::Phone),
    ("联系电话", Field::Phone),
    ("移动电话", Field::Phone),
    ("address", Field::Street),
    ("streetaddress", Field::Street),
    ("addressline1", Field::Street),
    ("地址", Field::Street),
    ("详细地址", Field::Street),
    ("街道", Field::Street),
    ("住址", Field::Street),
    ("town", Field::City),
    ("城市", Field::City),
    ("市", Field::City),
    ("province", Field::Region),
    ("state", Field::Region),
    ("county", Field::Region),
    ("省", Field::Region),
    ("省份", Field::Region),
    ("地区", Field::Region),
    ("postalcode", Field::Postcode),
    ("zip", Field::Postcode),
    ("zipcode", Field::Postcode),
    ("邮编", Field::Postcode),
    ("邮政编码", Field::Postcode),
    ("countrycode", Field::Country),
    ("国家", Field::Country),
    ("国家地区", Field::Country),
    ("tag", Field::Tags),
    ("labels", Field::Tags),
    ("标签", Field::Tags),
    ("accountowner", Field::Owner),
    ("salesrep", Field::Owner),
    ("负责人", Field::Owner),
    ("客户经理", Field::Owner),
    ("leadsource", Field::Source),
    ("来源", Field::Source),
    ("客户来源", Field::Source),
    ("lifecyclestage", Field::Stage),
    ("lifecycle", Field::Stage),
    ("阶段", Field::Stage),
    ("客户阶段", Field::Stage),
    ("created", Field::CreatedAt),
    ("创建时间", Field::CreatedAt),
    ("updated", Field::UpdatedAt),
    ("更新时间", Field::UpdatedAt),
    ("lastverified", Field::VerifiedAt),
    ("核实时间", Field::VerifiedAt),
    ("kehuerrors", Field::Ignore),
];

const RELATED_ALIASES: &[(&str, Field)] = &[
    ("customerid", Field::Customer),
    ("custid", Field::Customer),
    ("clientid", Field::Customer),
    ("客户id", Field::Customer),
    ("客户编号", Field::Customer),
    ("客户", Field::Customer),
    ("purchaseid", Field::RecordId),
    ("interactionid", Field::RecordId),
    ("feedbackid", Field::RecordId),
    ("consentid", Field::RecordId),
    ("id", Field::RecordId),
    ("date", Field::At),
    ("time", Field::At),
    ("datetime", Field::At),
    ("timestamp", Field::At),
    ("日期", Field::At),
    ("时间", Field::At),
    ("amountcents", Field::AmountMinor),
    ("total", Field::Amount),
    ("price", Field::Amount),
    ("金额", Field::Amount),
    ("消费金额", Field::Amount),
    ("币种", Field::Currency),
    ("货币", Field::Currency),
    ("渠道", Field::Channel),
    ("quantity", Field::Items),
    ("qty", Field::Items),
    ("数量", Field::Items),
    ("ref", Field::Reference),
    ("orderid", Field::Reference),
    ("orderno", Field::Reference),
    ("ordernumber", Field::Reference),
    ("订单号", Field::Reference),
    ("方向", Field::Direction),
    ("subject", Field::Summary),
    ("description", Field::Summary),
    ("摘要", Field::Summary),
    ("内容", Field::Summary),
    ("result", Field::Outcome),
    ("结果", Field::Outcome),
    ("type", Field::Kind),
    ("类型", Field::Kind),
    ("rating", Field::Score),
    ("评分", Field::Score),
    ("text", Field::Comment),
    ("feedback", Field::Comment),
    ("意见", Field::Comment),
    ("反馈", Field::Comment),
    ("状态", Field::Status),
    ("目的", Field::Purpose),
    ("用途", Field::Purpose),
    ("凭证", Field::Evidence),
    ("expires", Field::ExpiresAt),
    ("expiry", Field::ExpiresAt),
    ("kehuerrors", Field::Ignore),
];

/// Lower case, without spaces, `_`, `-`, `.`, `/`, `*` and brackets, so that
/// "E-mail", "Date of Birth" and "date_of_birth" compare equal.
pub fn normalize_header(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(c, '_' | '-' | '.' | '/' | '*' | '(' | ')' | '（' | '）')
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a canonical name (`emails`, `custom.level`, `ignore`) names, as in `--map COL=FIELD`.
pub fn field_named(kind: ImportKind, name: &str) -> Option<Field> {
    let name = name.trim();
    if kind == ImportKind::Customers {
        if let Some(custom) = name.strip_prefix("custom.") {
            return (!custom.is_empty()).then(|| Field::Custom(custom.to_string()));
        }
    }
    if name == "ignore" {
        return Some(Field::Ignore);
    }
    let singular = match name {
        "email" => "emails",
        "phone" => "phones",
        other => other,
    };
    table(kind)
        .iter()
        .find(|(n, _)| *n == singular || (kind != ImportKind::Customers && *n == name))
        .map(|(_, f)| f.clone())
}

/// The names `--map` accepts for this kind of file.
pub fn field_names(kind: ImportKind) -> Vec<&'static str> {
    let mut names: Vec<&str> = table(kind).iter().map(|(n, _)| *n).collect();
    if kind == ImportKind::Customers {
        names.push("custom.<name>");
    }
    names.push("ignore");
    names
}

fn table(kind: ImportKind) -> &'static [(&'static str, Field)] {
    match kind {
        ImportKind::Customers => CUSTOMER_FIELDS,
        _ => RELATED_FIELDS,
    }
}

/// Guesses the field of a header: a canonical name, a common alias, a
/// numbered repeat ("email2", "phone_3"), or a declared custom field.
pub fn guess_field(kind: ImportKind, header: &str, custom: &[String]) -> Option<Field> {
    if let Some(field) = field_named(kind, header) {
        return Some(field);
    }
    let key = normalize_header(header);
    if kind == ImportKind::Customers {
        if let Some(name) = custom.iter().find(|n| normalize_header(n) == key) {
            return Some(Field::Custom(name.clone()));
        }
    }
    let lookup = |key: &str| {
        let canonical = table(kind)
            .iter()
            .find(|(n, _)| normalize_header(n) == key)
            .map(|(_, f)| f.clone());
        let aliases = match kind {
            ImportKind::Customers => CUSTOMER_ALIASES,
            _ => RELATED_ALIASES,
        };
        canonical.or_else(|| {
            aliases
                .iter()
                .find(|(n, _)| *n == key)
                .map(|(_, f)| f.clone())
        })
    };
    if let Some(field) = lookup(&key) {
        return Some(field);
    }
    // "email2", "phone_3", "电话2": another value of a repeated field.
    let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if base.len() < key.len() && !base.is_empty() {
        if let Some(field @ (Field::Email | Field::Phone)) = lookup(base) {
            return Some(field);
        }
    }
    None
}

/// How a file's columns map to fields.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    names: Vec<String>,
    fields: Vec<Option<Field>>,
    by_name: HashMap<String, usize>,
}

/// One column and the field it fills, as an import reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnUse {
    /// The column's header.
    pub column: String,
    /// The field it fills (`emails`, `custom.level`, `ignore`); none if unknown.
    pub field: Option<String>,
}

impl Columns {
    /// Adds a column (or finds it), mapping it explicitly or by its header.
    pub fn intern(
        &mut self,
        name: &str,
        kind: ImportKind,
        explicit: &[(String, Field)],
        custom: &[String],
    ) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let clean = name.trim_start_matches('\u{feff}').trim();
        let field = explicit
            .iter()
            .find(|(col, _)| col.trim() == clean)
            .map(|(_, f)| f.clone())
            .or_else(|| guess_field(kind, clean, custom));
        self.names.push(clean.to_string());
        self.fields.push(field);
        self.by_name.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// The field of column `i`.
    pub fn field(&self, i: usize) -> Option<&Field> {
        self.fields.get(i).and_then(Option::as_ref)
    }

    /// The header of column `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// How many columns there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether a column fills this field.
    pub fn has(&self, field: &Field) -> bool {
        self.fields.iter().any(|f| f.as_ref() == Some(field))
    }

    /// Every column with its field, in file order.
    pub fn uses(&self, kind: ImportKind) -> Vec<ColumnUse> {
        self.names
            .iter()
            .zip(&self.fields)
            .map(|(column, field)| ColumnUse {
                column: column.clone(),
                field: field.as_ref().map(|f| field_label(kind, f)),
            })
            .collect()
    }

    /// The columns no field was found for.
    pub fn unknown(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.fields)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// The canonical name of a field.
pub fn field_label(kind: ImportKind, field: &Field) -> String {
    match field {
        Field::Custom(name) => format!("custom.{name}"),
        Field::Ignore => "ignore".into(),
        other => table(kind)
            .iter()
            .find(|(_, f)| f == other)
            .map(|(n, _)| n.to_string())
            .unwrap_or_else(|| format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_headers_in_english_and_chinese() {
        let k = ImportKind::Customers;
        for (header, field) in [
            ("E-mail", Field::Email),
            ("邮箱", Field::Email),
            ("电子邮件", Field::Email),
            ("Mobile", Field::Phone),
            ("手机", Field::Phone),
            ("电话2", Field::Phone),
            ("email_2", Field::Email),
            ("First Name", Field::GivenName),
            ("Surname", Field::FamilyName),
            ("姓名", Field::Name),
            ("姓", Field::FamilyName),
            ("名", Field::GivenName),
            ("Date of Birth", Field::BirthDate),
            ("生日", Field::BirthDate),
            ("ZIP", Field::Postcode),
            ("邮编", Field::Postcode),
            ("省", Field::Region),
            ("城市", Field::City),
            ("公司", Field::Company),
            ("职位", Field::JobTitle),
            ("标签", Field::Tags),
            ("id", Field::ExternalId),
            ("\u{feff}id", Field::ExternalId),
            ("custom.level", Field::Custom("level".into())),
            ("kehu_errors", Field::Ignore),
        ] {
            assert_eq!(guess_field(k, header, &[]), Some(field), "{header}");
        }
        assert_eq!(guess_field(k, "备注", &[]), None);
        assert_eq!(
            guess_field(k, "Member Level", &["member_level".into()]),
            Some(Field::Custom("member_level".into()))
        );
    }

    #[test]
    fn related_headers() {
        let k = ImportKind::Purchases;
        assert_eq!(guess_field(k, "customer_id", &[]), Some(Field::Customer));
        assert_eq!(guess_field(k, "purchase_id", &[]), Some(Field::RecordId));
        assert_eq!(
            guess_field(k, "amount_minor", &[]),
            Some(Field::AmountMinor)
        );
        assert_eq!(guess_field(k, "金额", &[]), Some(Field::Amount));
    }

    #[test]
    fn explicit_mapping_wins() {
        let mut cols = Columns::default();
        let explicit = vec![("手机".to_string(), Field::Ignore)];
        let i = cols.intern("手机", ImportKind::Customers, &explicit, &[]);
        assert_eq!(cols.field(i), Some(&Field::Ignore));
        assert_eq!(
            field_named(ImportKind::Customers, "email"),
            Some(Field::Email)
        );
        assert_eq!(field_named(ImportKind::Customers, "nonsense"), None);
    }
}
