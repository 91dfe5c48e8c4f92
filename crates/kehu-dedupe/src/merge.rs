//! Merging dossiers: one value per field chosen by a survivorship rule.
//!
//! Rules work on the dossier's fields by their serialised names (`name`,
//! `birth_date`, `emails`, `custom.vip_level`…), so a policy is plain data:
//!
//! ```toml
//! default = "most_recent"
//! trusted_sources = ["erp", "shop"]
//! [fields]
//! birth_date = "trusted_source"
//! owner = "survivor"
//! "custom.segment" = { value = "merged" }
//! ```

use std::collections::BTreeMap;

use kehu_model::catalogue::{self, Named};
use kehu_model::Customer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;

/// How one field's value is chosen among the merged dossiers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The non-empty value of the most recently updated dossier.
    MostRecent,
    /// The non-empty value of the dossier created first.
    Oldest,
    /// The fullest non-empty value (longest text, most filled parts).
    MostComplete,
    /// The non-empty value of the dossier whose source ranks highest in
    /// `trusted_sources`.
    TrustedSource,
    /// For lists (e-mails, phones, addresses, tags): every distinct entry,
    /// the survivor's first. For single values: the survivor's, else the
    /// first non-empty one.
    Union,
    /// The survivor's value, even when empty.
    Survivor,
    /// This value, written as the field is in JSON.
    Value(Value),
}

/// A survivorship policy: a default rule, rules per field, and the sources
/// ranked by trust.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Survivorship {
    /// The rule for single-valued fields no rule names (but `external_id`,
    /// which stays the survivor's unless a rule names it).
    pub default: Rule,
    /// The rule for list fields no rule names.
    pub lists: Rule,
    /// Rules by field name (`custom.<name>` for custom fields).
    pub fields: BTreeMap<String, Rule>,
    /// Sources, most trusted first, for [`Rule::TrustedSource`].
    pub trusted_sources: Vec<String>,
}

impl Default for Survivorship {
    fn default() -> Self {
        Survivorship {
            default: Rule::MostRecent,
            lists: Rule::Union,
            fields: BTreeMap::new(),
            trusted_sources: Vec::new(),
        }
    }
}

/// Fields whose value is fixed by the merge itself, not by a rule.
const FIXED: &[&str] = &["id", "version", "created_at", "updated_at"];

impl Survivorship {
    /// Reads a policy from TOML, or JSON when the text starts with `{`.
    /// Fields are named as the catalogue names them (`stage` or
    /// `lifecycle_stage`, `email` or `emails`, `custom.<name>`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let policy: Survivorship = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| Error::Settings(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| Error::Settings(e.to_string()))?
        };
        policy.checked()
    }

    /// The policy with its field names checked and written as the dossier's paths.
    pub fn checked(mut self) -> Result<Self, Error> {
        let known = field_names();
        let mut fields = BTreeMap::new();
        for (name, rule) in std::mem::take(&mut self.fields) {
            if FIXED.contains(&name.as_str()) {
                return Err(Error::Settings(format!(
                    "`{name}` is set by the merge itself and takes no rule"
                )));
            }
            let path = match catalogue::resolve(&name) {
                Some(Named::Custom(c)) => format!("custom.{c}"),
                Some(Named::Field(f)) if known.contains(&f.path()) => f.path().to_string(),
                Some(Named::Field(f)) if FIXED.contains(&f.path()) => {
                    return Err(Error::Settings(format!(
                        "`{name}` is set by the merge itself and takes no rule"
                    )))
                }
                Some(Named::Field(f)) => {
                    return Err(Error::Settings(format!(
                        "survivorship rules choose whole fields: `{name}` is part of `{}`",
                        f.group().name()
                    )))
                }
                None => {
                    return Err(Error::Settings(format!(
                        "survivorship names no dossier field `{name}` (fields: {})",
                        known.join(", ")
                    )))
                }
            };
            fields.insert(path, rule);
        }
        self.fields = fields;
        Ok(self)
    }

    fn rule(&self, field: &str, value_is_list: bool) -> &Rule {
        // The survivor keeps its identity in the source system unless told.
        const KEEP: &Rule = &Rule::Union;
        self.fields.get(field).unwrap_or(if value_is_list {
            &self.lists
        } else if field == "external_id" {
            KEEP
        } else {
            &self.default
        })
    }
}

/// The dossier fields a policy can name: the catalogue's top-level fields
/// but those the merge sets itself (id, creation and update times).
pub fn field_names() -> Vec<&'static str> {
    catalogue::Field::all()
        .filter(|f| f.group() == *f)
        .map(|f| f.path())
        .filter(|p| !FIXED.contains(p))
        .collect()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}

/// How full a value is: characters of text, filled parts.
fn fullness(v: &Value) -> usize {
    match v {
        Value::Null => 0,
        Value::String(s) => s.trim().chars().count(),
        Value::Array(a) => a.iter().map(fullness).sum::<usize>() + a.len(),
        Value::Object(o) => o.values().map(fullness).sum::<usize>() + o.len(),
        _ => 1,
    }
}

/// The key that makes two list entries the same entry.
fn entry_key(field: &str, v: &Value) -> String {
    let pick = |k: &str| v.get(k).map(Value::to_string);
    match field {
        "emails" => pick("address").map(|s| s.to_lowercase()),
        "phones" => pick("number"),
        _ => None,
    }
    .unwrap_or_else(|| v.to_string())
}

/// Merges dossiers into the first (the survivor) by a policy. The result
/// keeps the survivor's id and version, the earliest creation time and the
/// latest update time; it is not yet normalised or checked.
pub fn merge(dossiers: &[Customer], policy: &Survivorship) -> Result<Customer, Error> {
    let Some(survivor) = dossiers.first() else {
        return Err(Error::Settings("nothing to merge".into()));
    };
    let as_json = |c: &Customer| match serde_json::to_value(c) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Error::Settings("a dossier is not a JSON object".into())),
        Err(e) => Err(Error::Settings(e.to_string())),
    };
    let objects: Vec<Map<String, Value>> =
        dossiers.iter().map(as_json).collect::<Result<_, _>>()?;
    // Orders in which dossiers are asked for a value, per rule.
    let by = |key: &dyn Fn(&Customer) -> i128| {
        let mut order: Vec<usize> = (0..dossiers.len()).collect();
        order.sort_by_key(|&i| (key(&dossiers[i]), i));
        order
    };
    let recent = by(&|c| -i128::from(c.updated_at.timestamp_micros()));
    let oldest = by(&|c| i128::from(c.created_at.timestamp_micros()));
    let trusted = by(&|c| {
        c.source
            .as_ref()
            .and_then(|s| policy.trusted_sources.iter().position(|t| t == s))
            .map_or(i128::MAX, |p| p as i128)
    });
    let in_order = (0..dossiers.len()).collect::<Vec<_>>();

    let choose = |field: &str, values: &[Option<&Value>]| -> Result<Value, Error> {
        let is_list = values.iter().flatten().any(|v| v.is_array());
        let first_filled = |order: &[usize]| {
            order
                .iter()
                .filter_map(|&i| values[i])
                .find(|v| !is_empty(v))
                .or(values[0])
                .cloned()
                .unwrap_or(Value::Null)
        };
        Ok(match policy.rule(field, is_list) {
            Rule::Survivor => values[0].cloned().unwrap_or(Value::Null),
            Rule::MostRecent => first_filled(&recent),
            Rule::Oldest => first_filled(&oldest),
            Rule::TrustedSource => first_filled(&trusted),
            Rule::MostComplete => {
                let best = in_order
                    .iter()
                    .filter_map(|&i| values[i])
                    .filter(|v| !is_empty(v))
                    .fold(None::<&Value>, |best, v| match best {
                        Some(b) if fullness(b) >= fullness(v) => Some(b),
                        _ => Some(v),
                    });
                best.or(values[0]).cloned().unwrap_or(Value::Null)
            }
            Rule::Union if is_list => {
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::new();
                for v in values.iter().flatten() {
                    for item in v.as_array().into_iter().flatten() {
                        if seen.insert(entry_key(field, item)) {
                            out.push(item.clone());
                        }
                    }
                }
                Value::Array(out)
            }
            Rule::Union => first_filled(&in_order),
            Rule::Value(v) => v.clone(),
        })
    };

    let mut merged = objects[0].clone();
    for field in field_names() {
        let values: Vec<Option<&Value>> = objects.iter().map(|o| o.get(field)).collect();
        merged.insert(field.to_string(), choose(field, &values)?);
    }
    // Custom fields, each by its own rule.
    let mut custom = Map::new();
    let names: std::collections::BTreeSet<&String> = objects
        .iter()
        .filter_map(|o| o.get("custom").and_then(Value::as_object))
        .flat_map(|m| m.keys())
        .collect();
    for name in names {
        let values: Vec<Option<&Value>> = objects
            .iter()
            .map(|o| o.get("custom").and_then(|m| m.get(name.as_str())))
            .collect();
        let v = choose(&format!("custom.{name}"), &values)?;
        if !v.is_null() {
            custom.insert(name.clone(), v);
        }
    }
    merged.insert("custom".into(), Value::Object(custom));
    let mut out: Customer = serde_json::from_value(Value::Object(merged))
        .map_err(|e| Error::Settings(format!("a chosen value does not fit its field: {e}")))?;
    out.id = survivor.id;
    out.version = survivor.version;
    out.created_at = dossiers
        .iter()
        .map(|c| c.created_at)
        .min()
        .unwrap_or(survivor.created_at);
    out.updated_at = dossiers
        .iter()
        .map(|c| c.updated_at)
        .max()
        .unwrap_or(survivor.updated_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn at(day: u32) -> kehu_model::Timestamp {
        Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0)
            .single()
            .unwrap()
    }

    /// Three dossiers of one person, entered from three sources.
    fn three() -> Vec<Customer> {
        let mut a = Customer::person("Wei", "Zhang")
            .with_email("wei@a.cn")
            .with_tag("vip");
        a.source = Some("shop".into());
        a.created_at = at(2);
        a.updated_at = at(5);
        a.job_title = Some("Buyer".into());
        let mut b = Customer::person("Wei", "Zhang")
            .with_email("WEI@a.cn")
            .with_email("zw@b.cn")
            .with_phone("+8613800138000");
        b.source = Some("erp".into());
        b.created_at = at(1);
        b.updated_at = at(9);
        b.birth_date = NaiveDate::from_ymd_opt(1990, 1, 2);
        b.job_title = Some("Head Buyer".into());
        let mut c = Customer::person("Wei", "Zhang").with_tag("b2b");
        c.source = Some("fair".into());
        c.created_at = at(3);
        c.updated_at = at(4);
        c.birth_date = NaiveDate::from_ymd_opt(1990, 2, 1);
        c.job_title = Some("Procurement Director".into());
        c.owner = Some("li".into());
        vec![a, b, c]
    }

    fn with(field: &str, rule: Rule) -> Survivorship {
        let mut p = Survivorship::default();
        p.fields.insert(field.into(), rule);
        p.trusted_sources = vec!["fair".into(), "erp".into()];
        p
    }

    #[test]
    fn every_rule_on_three_dossiers() {
        let d = three();
        let title = |rule| {
            merge(&d, &with("job_title", rule))
                .unwrap()
                .job_title
                .unwrap()
        };
        assert_eq!(title(Rule::MostRecent), "Head Buyer");
        assert_eq!(title(Rule::Oldest), "Head Buyer");
        assert_eq!(title(Rule::MostComplete), "Procurement Director");
        assert_eq!(title(Rule::TrustedSource), "Procurement Director");
        assert_eq!(title(Rule::Survivor), "Buyer");
        assert_eq!(title(Rule::Union), "Buyer");
        assert_eq!(title(Rule::Value(Value::String("CEO".into()))), "CEO");
        let mut d = d;
        d[1].external_id = Some("ERP-2".into());
        let m = merge(&d, &Survivorship::default()).unwrap();
        assert_eq!(
            m.external_id.as_deref(),
            Some("ERP-2"),
            "the survivor has none"
        );
        d[0].external_id = Some("SHOP-1".into());
        let m = merge(&d, &Survivorship::default()).unwrap();
        assert_eq!(
            m.external_id.as_deref(),
            Some("SHOP-1"),
            "the survivor's identity stays"
        );
        let emails: Vec<&str> = m.emails.iter().map(|e| e.address.as_str()).collect();
        assert_eq!(emails, ["wei@a.cn", "zw@b.cn"], "union, case-blind");
        assert_eq!(m.tags, ["vip", "b2b"]);
        assert_eq!(m.phones.len(), 1);
        assert_eq!(
            m.birth_date,
            NaiveDate::from_ymd_opt(1990, 1, 2),
            "most recent"
        );
        assert_eq!(m.owner.as_deref(), Some("li"), "an empty value never wins");
        assert_eq!(m.id, d[0].id);
        assert_eq!(m.created_at, at(1));
        assert_eq!(m.updated_at, at(9));
        let survivor_only = merge(&d, &with("owner", Rule::Survivor)).unwrap();
        assert_eq!(survivor_only.owner, None);
    }

    #[test]
    fn policies_are_data() {
        let p = Survivorship::parse(
            "default = \"oldest\"\ntrusted_sources = [\"erp\"]\n[fields]\nowner = \"survivor\"\n\"custom.x\" = { value = 3 }\n",
        )
        .unwrap();
        assert_eq!(p.default, Rule::Oldest);
        assert_eq!(p.fields["custom.x"], Rule::Value(Value::from(3)));
        assert!(Survivorship::parse("[fields]\nshoe = \"oldest\"").is_err());
        assert!(Survivorship::parse("[fields]\nid = \"oldest\"").is_err());
        let bad = with("birth_date", Rule::Value(Value::String("soon".into())));
        assert!(merge(&three(), &bad).is_err());
        assert!(merge(&[], &Survivorship::default()).is_err());
    }
}
