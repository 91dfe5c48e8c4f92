//! The field catalogue: every dossier field once, with its canonical name,
//! its path in the dossier, the names it goes by in the files and languages
//! kehu reads, its value type and whether it holds personal data.
//!
//! Every surface that names fields is a view of this table: rule paths,
//! import columns, export columns, segment fields, the fields dedupe matches
//! on, survivorship and the access policy. A name is resolved the same way
//! everywhere ([`resolve`]): by canonical name, path or alias, compared after
//! [`normalize_name`], so `E-mail`, `email`, `emails` and `邮箱` are one field.

use serde::{Deserialize, Serialize};

/// A dossier field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// kehu's own id of the dossier.
    KehuId,
    /// The id in the system the record came from.
    ExternalId,
    /// Person or organisation.
    Kind,
    /// The customer's name as a whole (a rule's "any part", a segment's display name).
    Name,
    /// A person's given name.
    GivenName,
    /// A person's family name.
    FamilyName,
    /// A name held whole ("张伟", "Wei Zhang").
    FullName,
    /// The organisation (as a whole; its name where one value is meant).
    Organization,
    /// The organisation's industry.
    Industry,
    /// The organisation's head count.
    OrgSize,
    /// The company a person works for.
    Company,
    /// A person's job title.
    JobTitle,
    /// A person's date of birth.
    BirthDate,
    /// A person's resident identity card number (居民身份证号).
    ResidentId,
    /// An organisation's unified social credit code (统一社会信用代码).
    CreditCode,
    /// The e-mail addresses.
    Emails,
    /// The phone numbers.
    Phones,
    /// The postal addresses, as a whole.
    Addresses,
    /// Street and number (of each address; the primary one where one value is meant).
    Street,
    /// District or county within a city (区, 县).
    District,
    /// City.
    City,
    /// Province, state or county.
    Region,
    /// Postcode.
    Postcode,
    /// Country (ISO code).
    Country,
    /// Tags.
    Tags,
    /// Who looks after the customer.
    Owner,
    /// Where the record came from.
    Source,
    /// The lifecycle stage.
    Stage,
    /// When the dossier was created.
    CreatedAt,
    /// When it last changed.
    UpdatedAt,
    /// When it was last confirmed correct.
    VerifiedAt,
}

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A kehu id.
    Id,
    /// One text value.
    Text,
    /// A number.
    Number,
    /// A calendar date.
    Date,
    /// A UTC instant.
    Instant,
    /// Person or organisation.
    Kind,
    /// A lifecycle stage.
    Stage,
    /// Several e-mail addresses.
    Emails,
    /// Several phone numbers.
    Phones,
    /// Several text values.
    TextList,
    /// A structure of other fields (name, organisation, addresses).
    Group,
}

/// What the catalogue knows of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field.
    pub field: Field,
    /// Its canonical name: import and export column, policy and segment name.
    pub name: &'static str,
    /// Its path in the dossier (as JSON and in rules): `name.given`, `addresses.city`.
    pub path: &'static str,
    /// Its value type.
    pub value: ValueKind,
    /// Whether it holds personal data (masked, sealed, exported on request).
    pub personal: bool,
    /// Whether it is a column of a customer file (import and CSV export).
    pub column: bool,
    /// Other names for it, in English, 中文, German, French, Spanish and Italian.
    pub aliases: &'static [&'static str],
}

macro_rules! info {
    ($field:ident, $name:literal, $path:literal, $value:ident, personal: $p:literal, column: $c:literal, [$($alias:literal),* $(,)?]) => {
        FieldInfo {
            field: Field::$field,
            name: $name,
            path: $path,
            value: ValueKind::$value,
            personal: $p,
            column: $c,
            aliases: &[$($alias),*],
        }
    };
}

/// Every dossier field, columns in the order a CSV export writes them.
pub const FIELDS: &[FieldInfo] = &[
    info!(KehuId, "kehu_id", "id", Id, personal: false, column: true, ["kehuid"]),
    info!(ExternalId, "external_id", "external_id", Text, personal: true, column: true, [
        "id", "ext_id", "external", "customer_id", "cust_id", "client_id", "source_id",
        "unique_id", "uid", "record_id", "rec_id", "recid", "customer_number", "customer_no",
        "cust_no", "account_id", "account_number", "member_id", "kundennummer", "kunden_nr",
        "numero_client", "numéro_client", "id_cliente", "numero_cliente", "codice_cliente",
        "客户id", "客户编号", "客户代码", "编号", "会员编号", "会员号", "记录编号", "id号",
    ]),
    info!(Kind, "kind", "kind", Kind, personal: false, column: true, [
        "type", "customer_type", "客户类型", "类型", "kundentyp", "type_de_client",
    ]),
    info!(Name, "name", "name", Group, personal: true, column: true, [
        "customer_name", "contact_name", "kunde", "client", "cliente",
        "姓名", "客户姓名", "客户名称", "联系人", "名称",
    ]),
    info!(GivenName, "given_name", "name.given", Text, personal: true, column: true, [
        "first_name", "forename", "first", "given", "fname", "名", "名字",
        "vorname", "prénom", "prenom", "nombre", "nome",
    ]),
    info!(FamilyName, "family_name", "name.family", Text, personal: true, column: true, [
        "last_name", "surname", "last", "lname", "姓", "姓氏",
        "nachname", "familienname", "nom", "nom_de_famille", "apellido", "apellidos", "cognome",
    ]),
    info!(FullName, "full_name", "name.full", Text, personal: true, column: false, [
        "fullname", "whole_name", "全名",
    ]),
    info!(Organization, "organization", "organization", Group, personal: false, column: true, [
        "organisation", "organization_name", "org_name", "org", "organisation_name",
        "机构", "机构名称", "企业名称", "组织",
    ]),
    info!(Industry, "industry", "organization.industry", Text, personal: false, column: true, [
        "sector", "branche", "secteur", "sector_industrial", "settore", "行业", "所属行业",
    ]),
    info!(OrgSize, "org_size", "organization.size", Number, personal: false, column: true, [
        "size", "employees", "company_size", "headcount", "规模", "员工数", "人数",
    ]),
    info!(Company, "company", "company", Text, personal: true, column: true, [
        "company_name", "employer", "business", "firma", "unternehmen", "arbeitgeber",
        "société", "societe", "entreprise", "empresa", "azienda", "公司", "公司名称", "单位",
        "工作单位",
    ]),
    info!(JobTitle, "job_title", "job_title", Text, personal: true, column: true, [
        "title", "position", "role", "职位", "职务", "头衔", "berufsbezeichnung",
        "poste", "cargo", "ruolo",
    ]),
    info!(BirthDate, "birth_date", "birth_date", Date, personal: true, column: true, [
        "birthday", "birthdate", "date_of_birth", "dob", "born", "生日", "出生日期",
        "geburtsdatum", "geburtstag", "date_de_naissance", "fecha_de_nacimiento",
        "data_di_nascita",
    ]),
    info!(ResidentId, "resident_id", "resident_id", Text, personal: true, column: true, [
        "resident_id_number", "resident_identity_card", "id_card_number", "id_card_no",
        "cn_resident_id", "身份证号", "身份证", "身份证号码", "居民身份证号",
        "居民身份证号码", "证件号码", "证件号", "身份证件号码",
    ]),
    info!(CreditCode, "credit_code", "credit_code", Text, personal: true, column: true, [
        "unified_social_credit_code", "social_credit_code", "uscc",
        "统一社会信用代码", "社会信用代码", "信用代码", "税号", "纳税人识别号", "企业税号",
    ]),
    info!(Emails, "emails", "emails", Emails, personal: true, column: true, [
        "email", "e_mail", "mail", "email_address", "e_mail_address", "邮箱", "电子邮件",
        "电子邮箱", "邮件", "e_mail_adresse", "courriel", "adresse_email", "correo",
        "correo_electrónico", "correo_electronico", "posta_elettronica",
    ]),
    info!(Phones, "phones", "phones", Phones, personal: true, column: true, [
        "phone", "phone_number", "mobile", "mobile_phone", "cell", "cellphone", "cell_phone",
        "tel", "telephone", "telephone_number", "手机", "手机号", "手机号码", "电话", "电话号码",
        "联系电话", "移动电话", "telefon", "telefonnummer", "handy", "mobil", "téléphone",
        "portable", "teléfono", "telefono", "móvil", "movil", "cellulare",
    ]),
    info!(Addresses, "addresses", "addresses", Group, personal: true, column: false, [
        "postal_addresses", "地址列表",
    ]),
    info!(Street, "street", "addresses.street", Text, personal: true, column: true, [
        "address", "street_address", "address_1", "address1", "address_line_1", "addr",
        "地址", "详细地址", "街道", "住址", "straße", "strasse", "adresse", "rue",
        "dirección", "direccion", "calle", "indirizzo",
    ]),
    info!(District, "district", "addresses.district", Text, personal: true, column: true, [
        "city_district", "borough", "区", "区县", "县区", "所在区", "所在区县",
        "stadtteil", "stadtbezirk", "arrondissement", "barrio", "quartiere",
    ]),
    info!(City, "city", "addresses.city", Text, personal: true, column: true, [
        "town", "suburb", "locality", "城市", "市", "ort", "stadt", "wohnort", "ville",
        "ciudad", "città", "citta",
    ]),
    info!(Region, "region", "addresses.region", Text, personal: true, column: true, [
        "province", "state", "county", "省", "省份", "地区", "bundesland", "provincia",
        "región", "regione",
    ]),
    info!(Postcode, "postcode", "addresses.postcode", Text, personal: true, column: true, [
        "postal_code", "post_code", "zip", "zipcode", "zip_code", "邮编", "邮政编码", "plz",
        "postleitzahl", "code_postal", "código_postal", "codigo_postal", "cap",
    ]),
    info!(Country, "country", "addresses.country", Text, personal: false, column: true, [
        "country_code", "国家", "国家地区", "land", "pays", "país", "pais", "paese",
    ]),
    info!(Tags, "tags", "tags", TextList, personal: false, column: true, [
        "tag", "labels", "标签", "schlagworte", "étiquettes", "etiquetas", "etichette",
    ]),
    info!(Owner, "owner", "owner", Text, personal: false, column: true, [
        "account_owner", "sales_rep", "负责人", "客户经理", "betreuer", "responsable",
    ]),
    info!(Source, "source", "source", Text, personal: false, column: true, [
        "lead_source", "来源", "客户来源", "quelle", "origine", "origen", "fonte",
    ]),
    info!(Stage, "stage", "lifecycle_stage", Stage, personal: false, column: true, [
        "lifecycle", "阶段", "客户阶段", "phase", "etapa", "fase",
    ]),
    info!(CreatedAt, "created_at", "created_at", Instant, personal: false, column: true, [
        "created", "创建时间", "erstellt", "créé", "creado", "creato",
    ]),
    info!(UpdatedAt, "updated_at", "updated_at", Instant, personal: false, column: true, [
        "updated", "更新时间", "geändert", "modifié", "actualizado", "aggiornato",
    ]),
    info!(VerifiedAt, "verified_at", "verified_at", Instant, personal: false, column: true, [
        "verified", "last_verified", "核实时间", "geprüft", "vérifié", "verificado", "verificato",
    ]),
];

/// The national identifiers among the fields ([`Field::is_identifier`]).
pub const IDENTIFIERS: &[Field] = &[Field::ResidentId, Field::CreditCode];

/// Headers that name a record rather than a field: row numbers and the like.
/// Dedupe takes them as record ids; an import does not import them.
pub const ROW_IDS: &[&str] = &["row_id", "rowid", "row", "row_number", "序号", "行号"];

impl Field {
    /// What the catalogue knows of the field.
    pub fn info(self) -> &'static FieldInfo {
        // FIELDS lists the variants in declaration order (a test checks it).
        &FIELDS[self as usize]
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The path in the dossier.
    pub fn path(self) -> &'static str {
        self.info().path
    }

    /// The top-level dossier field this one is part of (itself when it is one):
    /// `given_name` → `name`, `city` → `addresses`, `industry` → `organization`.
    /// The access policy grants fields by these, or by the field's own name.
    pub fn group(self) -> Field {
        let head = self.path().split('.').next().unwrap_or_default();
        FIELDS
            .iter()
            .find(|f| f.path == head)
            .map_or(self, |f| f.field)
    }

    /// Whether the field is a national identifier (a resident ID, a credit
    /// code): an access policy's default shows it masked at most; a role
    /// shows it whole only by naming it.
    pub fn is_identifier(self) -> bool {
        IDENTIFIERS.contains(&self)
    }

    /// Every field.
    pub fn all() -> impl Iterator<Item = Field> {
        FIELDS.iter().map(|f| f.field)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name resolved: a dossier field, or a custom field of the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Named {
    /// A catalogue field.
    Field(Field),
    /// A custom field (`custom.<name>`).
    Custom(String),
}

impl Named {
    /// The canonical name (`given_name`, `custom.level`).
    pub fn name(&self) -> String {
        match self {
            Named::Field(f) => f.name().to_string(),
            Named::Custom(c) => format!("custom.{c}"),
        }
    }
}

/// A name reduced for comparison: lower case, without white space and
/// `_ - . / * ( ) （ ）`, without a byte-order mark — so `E-mail`, `Date of
/// Birth`, `date_of_birth` and `DOB ` compare as written elsewhere.
pub fn normalize_name(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '_' | '-' | '.' | '/' | '*' | '(' | ')' | '（' | '）' | ':' | '：'
                )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a name means: its canonical name, its path or an alias, in any
/// case and spelling [`normalize_name`] forgives; `custom.<name>` is a custom field.
pub fn resolve(name: &str) -> Option<Named> {
    let trimmed = name.trim().trim_start_matches('\u{feff}');
    if let Some(custom) = trimmed.strip_prefix("custom.") {
        let custom = custom.trim();
        return (!custom.is_empty()).then(|| Named::Custom(custom.to_string()));
    }
    field(trimmed).map(Named::Field)
}

/// The catalogue field a name means (custom fields aside).
pub fn field(name: &str) -> Option<Field> {
    let key = normalize_name(name);
    if key.is_empty() {
        return None;
    }
    // Names and aliases first: `id` in a file is an external id, though it is
    // the path of kehu's own id in the dossier.
    FIELDS
        .iter()
        .find(|f| {
            normalize_name(f.name) == key || f.aliases.iter().any(|a| normalize_name(a) == key)
        })
        .or_else(|| FIELDS.iter().find(|f| normalize_name(f.path) == key))
        .map(|f| f.field)
}

/// Whether a header names a record id: kehu's id, an external id, a row number.
pub fn is_record_id(header: &str) -> bool {
    let key = normalize_name(header);
    matches!(field(header), Some(Field::KehuId | Field::ExternalId))
        || ROW_IDS.iter().any(|r| normalize_name(r) == key)
}

/// The field a dossier path is about: `emails[0].address` → emails,
/// `addresses[1].city` → city, `name.given` → given_name, `custom.level`
/// → the custom field. The longest catalogue path that the path starts with wins.
pub fn field_of_path(path: &str) -> Option<Named> {
    let plain: String = {
        // Drop list indexes: `addresses[1].city` → `addresses.city`.
        let mut out = String::with_capacity(path.len());
        let mut depth = 0;
        for c in path.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out
    };
    if let Some(rest) = plain.strip_prefix("custom.") {
        let name = rest.split('.').next().unwrap_or(rest);
        return (!name.is_empty()).then(|| Named::Custom(name.to_string()));
    }
    FIELDS
        .iter()
        .filter(|f| {
            plain == f.path
                || (plain.starts_with(f.path) && plain.as_bytes().get(f.path.len()) == Some(&b'.'))
        })
        .max_by_key(|f| f.path.len())
        .map(|f| Named::Field(f.field))
}

/// A field of a related record (purchase, interaction, feedback, consent), as files name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelatedField {
    /// The customer the record belongs to (by an import's customer key).
    Customer,
    /// The record's id in the source system.
    RecordId,
    /// When it happened.
    At,
    /// An amount in major units (`12.50`).
    Amount,
    /// An amount in minor units (`1250`).
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
    /// The kind of feedback.
    Kind,
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
}

/// Every related-record field: canonical name, then aliases.
pub const RELATED_FIELDS: &[(RelatedField, &str, &[&str])] = &[
    (
        RelatedField::Customer,
        "customer",
        &[
            "customer_id",
            "cust_id",
            "client_id",
            "客户id",
            "客户编号",
            "客户",
            "kunde",
            "client",
            "cliente",
        ],
    ),
    (
        RelatedField::RecordId,
        "record_id",
        &[
            "id",
            "purchase_id",
            "interaction_id",
            "feedback_id",
            "consent_id",
            "rec_id",
        ],
    ),
    (
        RelatedField::At,
        "at",
        &[
            "date",
            "time",
            "datetime",
            "timestamp",
            "日期",
            "时间",
            "datum",
            "zeit",
            "fecha",
        ],
    ),
    (
        RelatedField::Amount,
        "amount",
        &[
            "total",
            "price",
            "金额",
            "消费金额",
            "betrag",
            "montant",
            "importe",
            "importo",
        ],
    ),
    (
        RelatedField::AmountMinor,
        "amount_minor",
        &["amount_cents", "cents"],
    ),
    (
        RelatedField::Currency,
        "currency",
        &["币种", "货币", "währung", "devise", "moneda", "valuta"],
    ),
    (
        RelatedField::Channel,
        "channel",
        &["渠道", "kanal", "canal", "canale"],
    ),
    (
        RelatedField::Items,
        "items",
        &[
            "quantity",
            "qty",
            "数量",
            "menge",
            "quantité",
            "cantidad",
            "quantità",
        ],
    ),
    (
        RelatedField::Reference,
        "reference",
        &[
            "ref",
            "order_id",
            "order_no",
            "order_number",
            "订单号",
            "bestellnummer",
        ],
    ),
    (RelatedField::Direction, "direction", &["方向", "richtung"]),
    (
        RelatedField::Summary,
        "summary",
        &["subject", "description", "摘要", "内容", "betreff"],
    ),
    (
        RelatedField::Outcome,
        "outcome",
        &["result", "结果", "ergebnis", "résultat", "resultado"],
    ),
    (RelatedField::Kind, "kind", &["type", "类型", "art"]),
    (
        RelatedField::Score,
        "score",
        &["rating", "评分", "bewertung"],
    ),
    (RelatedField::Scale, "scale", &["量表", "skala"]),
    (
        RelatedField::Comment,
        "comment",
        &[
            "text",
            "feedback",
            "意见",
            "反馈",
            "kommentar",
            "commentaire",
            "comentario",
        ],
    ),
    (RelatedField::Status, "status", &["状态", "estado", "stato"]),
    (
        RelatedField::ResolvedAt,
        "resolved_at",
        &["resolved", "解决时间"],
    ),
    (
        RelatedField::Purpose,
        "purpose",
        &["目的", "用途", "zweck", "finalité", "finalidad"],
    ),
    (
        RelatedField::Evidence,
        "evidence",
        &["凭证", "nachweis", "preuve"],
    ),
    (
        RelatedField::ExpiresAt,
        "expires_at",
        &["expires", "expiry", "过期时间"],
    ),
];

impl RelatedField {
    /// The canonical name.
    pub fn name(self) -> &'static str {
        RELATED_FIELDS[self as usize].1
    }
}

/// The related-record field a name means: canonical name or alias.
pub fn related_field(name: &str) -> Option<RelatedField> {
    let key = normalize_name(name);
    if key.is_empty() {
        return None;
    }
    RELATED_FIELDS
        .iter()
        .find(|(_, n, aliases)| {
            normalize_name(n) == key || aliases.iter().any(|a| normalize_name(a) == key)
        })
        .map(|(f, ..)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_listed_in_declaration_order() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.field as usize, i, "{}", f.name);
        }
        for (i, (f, n, _)) in RELATED_FIELDS.iter().enumerate() {
            assert_eq!(*f as usize, i, "{n}");
        }
    }

    #[test]
    fn no_two_fields_share_a_name() {
        let mut seen: std::collections::HashMap<String, &str> = Default::default();
        for f in FIELDS {
            let mut names = vec![f.name];
            names.extend(f.aliases);
            if f.field != Field::KehuId {
                names.push(f.path); // `id` is kehu's path and an external id's alias
            }
            for n in names {
                let key = normalize_name(n);
                if let Some(other) = seen.insert(key.clone(), f.name) {
                    assert_eq!(other, f.name, "{n:?} names both {other} and {}", f.name);
                }
            }
        }
        let mut seen: std::collections::HashMap<String, &str> = Default::default();
        for (_, name, aliases) in RELATED_FIELDS {
            for n in std::iter::once(name).chain(aliases.iter()) {
                if let Some(other) = seen.insert(normalize_name(n), name) {
                    assert_eq!(other, *name, "{n:?} names both {other} and {name}");
                }
            }
        }
    }

    #[test]
    fn names_paths_and_aliases_resolve() {
        assert_eq!(field("E-mail"), Some(Field::Emails));
        assert_eq!(field("邮箱"), Some(Field::Emails));
        assert_eq!(field("Date of Birth"), Some(Field::BirthDate));
        assert_eq!(field("birthday"), Some(Field::BirthDate));
        assert_eq!(field("name.given"), Some(Field::GivenName));
        assert_eq!(field("Vorname"), Some(Field::GivenName));
        assert_eq!(field("lifecycle_stage"), Some(Field::Stage));
        assert_eq!(field("unique_id"), Some(Field::ExternalId));
        assert_eq!(field("备注"), None);
        assert_eq!(resolve("custom.level"), Some(Named::Custom("level".into())));
        assert_eq!(resolve("custom."), None);
        assert!(is_record_id("Unique ID") && is_record_id("row_id") && is_record_id("客户编号"));
        assert!(!is_record_id("soc_sec_id"));
    }

    #[test]
    fn paths_name_their_fields_and_groups() {
        let of = |p: &str| field_of_path(p);
        assert_eq!(of("emails[0].address"), Some(Named::Field(Field::Emails)));
        assert_eq!(of("addresses[1].city"), Some(Named::Field(Field::City)));
        assert_eq!(of("addresses[1]"), Some(Named::Field(Field::Addresses)));
        assert_eq!(of("name.given"), Some(Named::Field(Field::GivenName)));
        assert_eq!(
            of("organization.name"),
            Some(Named::Field(Field::Organization))
        );
        assert_eq!(of("custom.level"), Some(Named::Custom("level".into())));
        assert_eq!(Field::City.group(), Field::Addresses);
        assert_eq!(Field::GivenName.group(), Field::Name);
        assert_eq!(Field::Industry.group(), Field::Organization);
        assert_eq!(Field::Stage.group(), Field::Stage);
    }
}
