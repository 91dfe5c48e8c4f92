use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Customer, Error};

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

/// The dossier as it was before `changes` (a [`diff`] from it to `current`)
/// were made: each changed field set back to its `before`. Bookkeeping
/// fields (`version`, `updated_at`) stay as they are.
pub fn undo(current: &Customer, changes: &[FieldChange]) -> Result<Customer, Error> {
    let fail = |path: &str, message: String| Error::History {
        path: path.to_string(),
        message,
    };
    let mut value = serde_json::to_value(current).map_err(|e| fail("", e.to_string()))?;
    // Values back first, in order (a list that shrank grows back element by
    // element), then the fields that did not exist, from the last (a list
    // that grew loses its last elements first).
    for c in changes.iter().filter(|c| c.before.is_some()) {
        let text = c.before.as_deref().unwrap_or("null");
        let before: Value = serde_json::from_str(text).map_err(|e| fail(&c.path, e.to_string()))?;
        set(&mut value, &steps(&c.path), Some(before)).map_err(|m| fail(&c.path, m))?;
    }
    for c in changes.iter().rev().filter(|c| c.before.is_none()) {
        set(&mut value, &steps(&c.path), None).map_err(|m| fail(&c.path, m))?;
    }
    serde_json::from_value(value).map_err(|e| fail("", e.to_string()))
}

/// One step of a field path: a key or a list position.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `emails[1].address` → emails, 1, address.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            match index.parse() {
                Ok(i) => out.push(Step::Index(i)),
                Err(_) => out.push(Step::Key(index)),
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

/// Sets (or, with none, removes) the value at a path, making the objects
/// and lists on the way.
fn set(root: &mut Value, path: &[Step<'_>], value: Option<Value>) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("an empty path".into());
    };
    let mut at = root;
    for (i, step) in parents.iter().enumerate() {
        let list_next = matches!(path[i + 1], Step::Index(_));
        if at.is_null() {
            *at = if list_next {
                Value::Array(Vec::new())
            } else {
                Value::Object(Default::default())
            };
        }
        at = match (step, at) {
            (Step::Key(k), Value::Object(map)) => map.entry(k.to_string()).or_insert(Value::Null),
            (Step::Index(n), Value::Array(items)) => {
                let len = items.len();
                items
                    .get_mut(*n)
                    .ok_or_else(|| format!("no element {n} in a list of {len}"))?
            }
            _ => return Err("the path does not fit the dossier".into()),
        };
    }
    if at.is_null() && value.is_some() {
        *at = match last {
            Step::Index(_) => Value::Array(Vec::new()),
            Step::Key(_) => Value::Object(Default::default()),
        };
    }
    match (last, at, value) {
        (Step::Key(k), Value::Object(map), Some(v)) => {
            map.insert(k.to_string(), v);
        }
        (Step::Key(k), Value::Object(map), None) => {
            map.remove(*k);
        }
        (Step::Index(n), Value::Array(items), Some(v)) => match items.len() {
            len if *n < len => items[*n] = v,
            len if *n == len => items.push(v),
            len => return Err(format!("element {n} after a list of {len}")),
        },
        (Step::Index(n), Value::Array(items), None) => {
            if *n < items.len() {
                items.remove(*n);
            }
        }
        (_, Value::Null, None) => {}
        _ => return Err("the path does not fit the dossier".into()),
    }
    Ok(())
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
        let mut back = undo(&new, &changes).unwrap();
        back.version = old.version;
        assert_eq!(back, old);
    }

    /// Undoing the diff from one dossier to another gives the first back.
    /// (On a thread of its own: two arbitrary dossiers' strategies are deep
    /// for a debug build's default stack.)
    #[cfg(feature = "arbitrary")]
    #[test]
    fn undo_reverses_diff() {
        use proptest::test_runner::{Config, TestRunner};
        let run = || {
            let config = Config {
                cases: 256,
                failure_persistence: None,
                ..Config::default()
            };
            let pair = (crate::arbitrary::customer(), crate::arbitrary::customer());
            TestRunner::new(config)
                .run(&pair, |(old, mut new)| {
                    new.id = old.id;
                    let mut back = undo(&new, &diff(&old, &new)).unwrap();
                    back.version = old.version;
                    back.updated_at = old.updated_at;
                    proptest::prop_assert_eq!(back, old);
                    Ok(())
                })
                .unwrap();
        };
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}
