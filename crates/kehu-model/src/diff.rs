use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Customer;

/// One field that changed between two versions of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's path: `emails[1].address`, `custom.vip_level`, `tags`.
    pub path: String,
    /// The value before, as JSON text; `None` when the field was absent.
    pub before: Option<String>,
    /// The value after, as JSON text; `None` when the field was removed.
    pub after: Option<String>,
}

/// The field-level changes from `old` to `new` (bookkeeping fields `version`
/// and `updated_at` left out). Lists are compared element by element; maps key by key.
pub fn diff(old: &Customer, new: &Customer) -> Vec<FieldChange> {
    let (Ok(a), Ok(b)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&mut String::new(), Some(&a), Some(&b), &mut out);
    out.retain(|c| c.path != "version" && c.path != "updated_at");
    out
}

fn walk(path: &mut String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(x), Some(y)) if x == y => {}
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(path, x.get(key), y.get(key), out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if !path.ends_with("tags") => {
            for i in 0..x.len().max(y.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(path, x.get(i), y.get(i), out);
                path.truncate(len);
            }
        }
        _ => {
            let text = |v: Option<&Value>| v.filter(|v| !v.is_null()).map(Value::to_string);
            let (before, after) = (text(a), text(b));
            if before != after {
                out.push(FieldChange {
                    path: path.clone(),
                    before,
                    after,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CustomValue;

    #[test]
    fn diff_names_each_changed_field() {
        let old = Customer::person("Wei", "Zhang").with_email("wei@example.com");
        let mut new = old.clone();
        new.emails[0].address = "zhang.wei@example.com".into();
        new.custom.insert("level".into(), CustomValue::Integer(2));
        new.tags.push("vip".into());
        new.version = 9;
        let changes = diff(&old, &new);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["custom.level", "emails[0].address", "tags"]);
        assert_eq!(changes[0].before, None);
        assert_eq!(changes[0].after.as_deref(), Some(r#"{"integer":2}"#));
        assert_eq!(changes[1].before.as_deref(), Some(r#""wei@example.com""#));
        assert!(diff(&old, &old).is_empty());
    }
}
