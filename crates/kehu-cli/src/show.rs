//! `kehu get`, `find`, `stale`, `stats` and `imports`: reading a book.

use std::io::Write;
use std::path::PathBuf;

use chrono::TimeDelta;
use clap::Args;
use kehu::{Customer, Error, Related};
use serde::Serialize;

use crate::book::{existing_book, lookup};
use crate::output::{print_json, stdout_error};
use crate::Done;

#[derive(Args)]
pub(crate) struct BookArgs {
    /// The book.
    book: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct GetArgs {
    /// The book.
    book: PathBuf,
    /// A kehu id, or an external id.
    id: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct FindArgs {
    /// The book.
    book: PathBuf,
    /// An e-mail address (any case).
    #[arg(long)]
    email: Option<String>,
    /// A phone number, in any format.
    #[arg(long)]
    phone: Option<String>,
    /// An id in the source system.
    #[arg(long)]
    external_id: Option<String>,
    /// A tag.
    #[arg(long)]
    tag: Option<String>,
    /// A resident ID (居民身份证号).
    #[arg(long)]
    resident_id: Option<String>,
    /// A unified social credit code (统一社会信用代码).
    #[arg(long)]
    credit_code: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct StaleArgs {
    /// The book.
    book: PathBuf,
    /// Not verified for this many days.
    #[arg(long)]
    days: u32,
    /// Show at most this many.
    #[arg(long)]
    limit: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Dossier {
    customer: Customer,
    related: Vec<Related>,
    history: Vec<kehu::Change>,
}

pub(crate) fn get(args: GetArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let customer = lookup(&book, &args.id)?;
    let dossier = Dossier {
        related: book.related(customer.id)?,
        history: book.history(customer.id)?,
        customer,
    };
    if args.json {
        print_json(&dossier)?;
        return Ok(Done::Ok);
    }
    let mut out = std::io::stdout().lock();
    let text = render_dossier(&dossier);
    out.write_all(text.as_bytes()).map_err(stdout_error)?;
    Ok(Done::Ok)
}

fn render_dossier(d: &Dossier) -> String {
    let c = &d.customer;
    let mut s = String::new();
    let mut line = |k: &str, v: String| {
        if !v.is_empty() {
            s.push_str(&format!("{k:<14} {v}\n"));
        }
    };
    line("name", c.display_name());
    line("id", c.id.to_string());
    line("external id", c.external_id.clone().unwrap_or_default());
    line("kind", format!("{:?}", c.kind).to_lowercase());
    if let Some(org) = &c.organization {
        line("organization", org.name.clone().unwrap_or_default());
        line("industry", org.industry.clone().unwrap_or_default());
    }
    line("company", c.company.clone().unwrap_or_default());
    line("job title", c.job_title.clone().unwrap_or_default());
    line(
        "birth date",
        c.birth_date.map(|d| d.to_string()).unwrap_or_default(),
    );
    line("resident id", c.resident_id.clone().unwrap_or_default());
    line("credit code", c.credit_code.clone().unwrap_or_default());
    for e in &c.emails {
        line(
            "email",
            format!("{}{}", e.address, if e.primary { " (primary)" } else { "" }),
        );
    }
    for p in &c.phones {
        line(
            "phone",
            format!("{}{}", p.number, if p.primary { " (primary)" } else { "" }),
        );
    }
    for a in &c.addresses {
        let parts: Vec<&str> = [&a.street, &a.city, &a.region, &a.postcode, &a.country]
            .into_iter()
            .filter_map(|x| x.as_deref())
            .collect();
        line("address", parts.join(", "));
    }
    line("tags", c.tags.join(", "));
    line("owner", c.owner.clone().unwrap_or_default());
    line("source", c.source.clone().unwrap_or_default());
    line(
        "stage",
        c.lifecycle_stage.map(|s| s.to_string()).unwrap_or_default(),
    );
    for (k, v) in &c.custom {
        line(
            &format!("custom.{k}"),
            serde_json::to_string(v).unwrap_or_default(),
        );
    }
    line("created", c.created_at.to_rfc3339());
    line("updated", c.updated_at.to_rfc3339());
    line(
        "verified",
        c.verified_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "never".into()),
    );
    line("version", c.version.to_string());
    for (title, kind) in [
        ("purchases", kehu::RelatedKind::Purchase),
        ("interactions", kehu::RelatedKind::Interaction),
        ("feedback", kehu::RelatedKind::Feedback),
        ("consents", kehu::RelatedKind::Consent),
        ("notes", kehu::RelatedKind::Note),
    ] {
        let records: Vec<&Related> = d.related.iter().filter(|r| r.kind() == kind).collect();
        if records.is_empty() {
            continue;
        }
        s.push_str(&format!("{title} ({}):\n", records.len()));
        for r in records {
            s.push_str(&format!("  {}\n", describe(r)));
        }
    }
    s.push_str(&format!("history ({}):\n", d.history.len()));
    for ch in &d.history {
        let fields: Vec<&str> = ch.fields.iter().map(|f| f.path.as_str()).collect();
        let what = match &ch.op {
            kehu::ChangeOp::Created => "created".to_string(),
            kehu::ChangeOp::Updated => format!("updated {}", fields.join(", ")),
            kehu::ChangeOp::Deleted => "deleted".to_string(),
            kehu::ChangeOp::Related { kind, record } => {
                format!("{} {record} added", kind_name(*kind))
            }
            kehu::ChangeOp::Unrelated { kind, record } => {
                format!("{} {record} removed", kind_name(*kind))
            }
        };
        s.push_str(&format!(
            "  {}  {}  {what}\n",
            ch.at.format("%Y-%m-%d %H:%M:%S"),
            ch.actor
        ));
    }
    s
}

fn kind_name(kind: kehu::RelatedKind) -> &'static str {
    match kind {
        kehu::RelatedKind::Purchase => "purchase",
        kehu::RelatedKind::Interaction => "interaction",
        kehu::RelatedKind::Feedback => "feedback",
        kehu::RelatedKind::Consent => "consent",
        kehu::RelatedKind::Note => "note",
    }
}

fn describe(r: &Related) -> String {
    let at = r.at().format("%Y-%m-%d %H:%M");
    match r {
        Related::Purchase(p) => {
            let exp = p.amount.currency.exponent();
            let major = p.amount.minor as f64 / 10f64.powi(exp as i32);
            format!(
                "{at} {major:.*} {} × {} {}",
                exp as usize,
                p.amount.currency.code(),
                p.items,
                p.channel.as_deref().unwrap_or("")
            )
        }
        Related::Interaction(i) => format!(
            "{at} {:?} {:?} {} {}",
            i.channel,
            i.direction,
            i.summary,
            i.outcome.as_deref().unwrap_or("")
        )
        .to_lowercase(),
        Related::Feedback(f) => format!("{at} {:?} {:?} {}", f.kind, f.status, f.comment),
        Related::Consent(c) => format!(
            "{at} {} {:?} {}",
            c.purpose,
            c.status,
            c.channel.as_deref().unwrap_or("all channels")
        ),
        Related::Note(n) => format!("{at} {}", n.text),
    }
}

pub(crate) fn print_customers(customers: &[Customer], json: bool) -> Result<(), Error> {
    if json {
        return print_json(&customers);
    }
    let mut out = std::io::stdout().lock();
    for c in customers {
        writeln!(
            out,
            "{}  {}  {}  {}",
            c.id,
            c.display_name(),
            c.primary_email().map(|e| e.address.as_str()).unwrap_or("-"),
            c.primary_phone().map(|p| p.number.as_str()).unwrap_or("-"),
        )
        .map_err(stdout_error)?;
    }
    Ok(())
}

pub(crate) fn find(args: FindArgs) -> Result<Done, Error> {
    let given: Vec<(&str, &String)> = [
        ("email", &args.email),
        ("phone", &args.phone),
        ("external_id", &args.external_id),
        ("tag", &args.tag),
        ("resident_id", &args.resident_id),
        ("credit_code", &args.credit_code),
    ]
    .into_iter()
    .filter_map(|(by, v)| v.as_ref().map(|v| (by, v)))
    .collect();
    let [(by, value)] = given[..] else {
        return Err(Error::Usage(
            "give exactly one of --email, --phone, --external-id, --tag, --resident-id or \
             --credit-code"
                .into(),
        ));
    };
    let book = existing_book(&args.book)?;
    let found = book.find_by(by, value)?;
    print_customers(&found, args.json)?;
    if found.is_empty() && !args.json {
        eprintln!("no customer found");
    }
    Ok(Done::Ok)
}

pub(crate) fn stale(args: StaleArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let mut queue = book.stale(TimeDelta::days(i64::from(args.days)))?;
    if let Some(limit) = args.limit {
        queue.truncate(limit);
    }
    if args.json {
        return print_json(&queue).map(|()| Done::Ok);
    }
    let mut out = std::io::stdout().lock();
    for c in &queue {
        let since = c.verified_at.unwrap_or(c.created_at);
        writeln!(
            out,
            "{}  {}  {} {}",
            c.id,
            c.display_name(),
            if c.verified_at.is_some() {
                "verified"
            } else {
                "created, never verified,"
            },
            since.format("%Y-%m-%d")
        )
        .map_err(stdout_error)?;
    }
    Ok(Done::Ok)
}

pub(crate) fn stats(args: BookArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let s = book.stats()?;
    if args.json {
        return print_json(&s).map(|()| Done::Ok);
    }
    let mut out = String::new();
    out.push_str(&format!("customers: {}\n", s.customers));
    for (title, map) in [
        ("by kind", &s.by_kind),
        ("by stage", &s.by_stage),
        ("by source", &s.by_source),
        ("by tag", &s.by_tag),
        ("rows imported per month", &s.imported_per_month),
    ] {
        if map.is_empty() {
            continue;
        }
        out.push_str(&format!("{title}:\n"));
        for (k, v) in map {
            out.push_str(&format!("  {k:<24} {v}\n"));
        }
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(stdout_error)?;
    Ok(Done::Ok)
}

pub(crate) fn imports(args: BookArgs) -> Result<Done, Error> {
    let book = existing_book(&args.book)?;
    let list = book.imports()?;
    if args.json {
        return print_json(&list).map(|()| Done::Ok);
    }
    let mut out = std::io::stdout().lock();
    for i in &list {
        writeln!(
            out,
            "{}  {}  {:?}  {}  rows {} = {} imported + {} updated + {} rejected + {} skipped",
            i.id,
            i.started_at.format("%Y-%m-%d %H:%M"),
            i.status,
            i.source,
            i.rows,
            i.imported,
            i.updated,
            i.rejected,
            i.skipped
        )
        .map_err(stdout_error)?;
    }
    Ok(Done::Ok)
}
