//! Which field each column of a file fills: a view of the field catalogue.

use std::collections::HashMap;

use kehu_model::catalogue::{self, Field, Named, RelatedField};
use serde::Serialize;

use crate::ImportKind;

/// What a column fills.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A dossier field of the catalogue.
    Field(Field),
    /// A custom field the rule set declares (or the mapping names).
    Custom(String),
    /// A field of a related record.
    Related(RelatedField),
    /// Read and ignored (kehu's own `kehu_errors` column, row numbers).
    Ignore,
}

/// The target a name means in a file of this kind, as `--map COL=FIELD`
/// names it: a catalogue name, path or alias, `custom.<name>`, `ignore`.
pub fn field_named(kind: ImportKind, name: &str) -> Option<Target> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("ignore") {
        return Some(Target::Ignore);
    }
    if kind != ImportKind::Customers {
        return catalogue::related_field(name).map(Target::Related);
    }
    match catalogue::resolve(name)? {
        Named::Custom(c) => Some(Target::Custom(c)),
        Named::Field(f) => Some(Target::Field(f)),
    }
}

/// The names `--map` accepts for this kind of file (canonical names; aliases work too).
pub fn field_names(kind: ImportKind) -> Vec<&'static str> {
    let mut names: Vec<&str> = match kind {
        ImportKind::Customers => catalogue::FIELDS
            .iter()
            .filter(|f| f.column)
            .map(|f| f.name)
            .chain(["custom.<name>"])
            .collect(),
        _ => catalogue::RELATED_FIELDS
            .iter()
            .map(|(_, n, _)| *n)
            .collect(),
    };
    names.push("ignore");
    names
}

/// The canonical name of a target (`emails`, `custom.level`, `ignore`).
pub fn field_label(target: &Target) -> String {
    match target {
        Target::Field(f) => f.name().to_string(),
        Target::Custom(name) => format!("custom.{name}"),
        Target::Related(r) => r.name().to_string(),
        Target::Ignore => "ignore".into(),
    }
}

/// Guesses the target of a header: a name the catalogue knows (in any of its
/// languages), a numbered repeat of a list field ("email2", "phone_3", "电话2"),
/// a declared custom field, or a row number (ignored).
pub fn guess(kind: ImportKind, header: &str, custom: &[String]) -> Option<Target> {
    if header.trim() == "kehu_errors" {
        return Some(Target::Ignore);
    }
    if kind == ImportKind::Customers {
        let key = catalogue::normalize_name(header);
        if let Some(name) = custom.iter().find(|n| catalogue::normalize_name(n) == key) {
            return Some(Target::Custom(name.clone()));
        }
    }
    if let Some(target) = field_named(kind, header) {
        return Some(target);
    }
    if kind != ImportKind::Customers {
        return None;
    }
    if catalogue::is_record_id(header) {
        return Some(Target::Ignore);
    }
    // "email2", "phone_3", "电话2": another value of a repeated field.
    let key = catalogue::normalize_name(header);
    let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if base.len() < key.len() && !base.is_empty() {
        if let Some(f @ (Field::Emails | Field::Phones)) = catalogue::field(base) {
            return Some(Target::Field(f));
        }
    }
    None
}

/// How a file's columns map to targets.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    names: Vec<String>,
    targets: Vec<Option<Target>>,
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
        explicit: &[(String, Target)],
        custom: &[String],
    ) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let clean = name.trim_start_matches('\u{feff}').trim();
        let target = explicit
            .iter()
            .find(|(col, _)| col.trim() == clean)
            .map(|(_, t)| t.clone())
            .or_else(|| guess(kind, clean, custom));
        self.names.push(clean.to_string());
        self.targets.push(target);
        self.by_name.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// The target of column `i`.
    pub fn target(&self, i: usize) -> Option<&Target> {
        self.targets.get(i).and_then(Option::as_ref)
    }

    /// The header of column `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// How many columns there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether a column fills this target.
    pub fn has(&self, target: &Target) -> bool {
        self.targets.iter().any(|t| t.as_ref() == Some(target))
    }

    /// Every column with its target, in file order.
    pub fn uses(&self) -> Vec<ColumnUse> {
        self.names
            .iter()
            .zip(&self.targets)
            .map(|(column, target)| ColumnUse {
                column: column.clone(),
                field: target.as_ref().map(field_label),
            })
            .collect()
    }

    /// The columns no target was found for.
    pub fn unknown(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.targets)
            .filter(|(_, t)| t.is_none())
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_headers_in_many_languages() {
        let k = ImportKind::Customers;
        let f = |f: Field| Some(Target::Field(f));
        for (header, target) in [
            ("E-mail", f(Field::Emails)),
            ("邮箱", f(Field::Emails)),
            ("电子邮件", f(Field::Emails)),
            ("Mobile", f(Field::Phones)),
            ("手机", f(Field::Phones)),
            ("电话2", f(Field::Phones)),
            ("email_2", f(Field::Emails)),
            ("First Name", f(Field::GivenName)),
            ("Vorname", f(Field::GivenName)),
            ("Prénom", f(Field::GivenName)),
            ("Surname", f(Field::FamilyName)),
            ("姓名", f(Field::Name)),
            ("姓", f(Field::FamilyName)),
            ("名", f(Field::GivenName)),
            ("Date of Birth", f(Field::BirthDate)),
            ("生日", f(Field::BirthDate)),
            ("ZIP", f(Field::Postcode)),
            ("PLZ", f(Field::Postcode)),
            ("邮编", f(Field::Postcode)),
            ("省", f(Field::Region)),
            ("城市", f(Field::City)),
            ("公司", f(Field::Company)),
            ("职位", f(Field::JobTitle)),
            ("标签", f(Field::Tags)),
            ("id", f(Field::ExternalId)),
            ("unique_id", f(Field::ExternalId)),
            ("\u{feff}id", f(Field::ExternalId)),
            ("custom.level", Some(Target::Custom("level".into()))),
            ("kehu_errors", Some(Target::Ignore)),
            ("row_id", Some(Target::Ignore)),
        ] {
            assert_eq!(guess(k, header, &[]), target, "{header}");
        }
        assert_eq!(guess(k, "备注", &[]), None);
        assert_eq!(
            guess(k, "Member Level", &["member_level".into()]),
            Some(Target::Custom("member_level".into()))
        );
    }

    #[test]
    fn related_headers() {
        let k = ImportKind::Purchases;
        let r = |f| Some(Target::Related(f));
        assert_eq!(guess(k, "customer_id", &[]), r(RelatedField::Customer));
        assert_eq!(guess(k, "purchase_id", &[]), r(RelatedField::RecordId));
        assert_eq!(guess(k, "amount_minor", &[]), r(RelatedField::AmountMinor));
        assert_eq!(guess(k, "金额", &[]), r(RelatedField::Amount));
    }

    #[test]
    fn explicit_mapping_wins() {
        let mut cols = Columns::default();
        let explicit = vec![("手机".to_string(), Target::Ignore)];
        let i = cols.intern("手机", ImportKind::Customers, &explicit, &[]);
        assert_eq!(cols.target(i), Some(&Target::Ignore));
        assert_eq!(
            field_named(ImportKind::Customers, "email"),
            Some(Target::Field(Field::Emails))
        );
        assert_eq!(field_named(ImportKind::Customers, "nonsense"), None);
    }
}
