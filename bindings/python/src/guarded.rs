//! One call made as a principal under a policy (`Book::as_principal`):
//! the method by name, its arguments as a JSON object.

use kehu::io::{ExportOptions, ImportOptions};
use kehu::{Book, Customer};

use crate::convert::{customer_id, encode, instant, parse, parse_options};
use crate::errors::{Failure, Res};

/// Calls the guarded method `method` with `args` (JSON) for `principal` (JSON) under `policy` (JSON).
pub(crate) fn call(
    b: &Book,
    principal: &str,
    policy: &str,
    method: &str,
    args: &str,
) -> Res<String> {
    let principal: kehu::Principal = parse("principal", principal)?;
    let policy = kehu::Policy::from_json(policy)?;
    let args: serde_json::Value = parse("args", args)?;
    let g = b.as_principal(principal, &policy);
    let str_arg = |k: &str| -> Res<String> {
        args.get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Failure::Type(format!("{method}: {k} is missing")))
    };
    let id = || customer_id(&str_arg("id")?);
    let as_of = || instant(args.get("as_of").and_then(|v| v.as_str()));
    let customer = || -> Res<Customer> {
        serde_json::from_value(args.get("customer").cloned().unwrap_or_default())
            .map_err(|e| Failure::Type(format!("customer: {e}")))
    };
    let options = |what: &str| -> String {
        args.get(what)
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}))
            .to_string()
    };
    match method {
        "get" => encode(&g.get(id()?)?),
        "find_by_email" => encode(&g.find_by_email(&str_arg("value")?)?),
        "find_by_phone" => encode(&g.find_by_phone(&str_arg("value")?)?),
        "find_by_external_id" => encode(&g.find_by_external_id(&str_arg("value")?)?),
        "find_by_tag" => encode(&g.find_by_tag(&str_arg("value")?)?),
        "segment_members" => {
            let seg = b.segment(&str_arg("condition")?)?;
            encode(&g.segment_members(&seg, as_of()?)?)
        }
        "explain_segment" => {
            let seg = b.segment(&str_arg("condition")?)?;
            encode(&g.explain_segment(&seg, id()?, as_of()?)?)
        }
        "check_duplicates" => encode(&g.check_duplicates(&customer()?)?),
        "history" => encode(&g.history(id()?)?),
        "related" => encode(&g.related(id()?)?),
        "export" => {
            let o: ExportOptions = parse_options("options", &options("options"))?;
            let mut out = Vec::new();
            g.export(&mut out, &o)?;
            encode(&String::from_utf8_lossy(&out))
        }
        "import_file" => {
            let o: ImportOptions = parse_options("options", &options("options"))?;
            encode(&g.import_file(str_arg("path")?, &o)?)
        }
        "add" => encode(&g.add(customer()?)?),
        "update" => encode(&g.update(customer()?)?),
        "remove" => encode(&g.remove(id()?)?),
        "forget" => encode(&g.forget(id()?)?),
        other => Err(Failure::Type(format!("no guarded method {other:?}"))),
    }
}
