//! The kehu quickstart: a customer book in a fresh file, entry rules at work,
//! a dossier with its purchases and interactions, its history, and the review
//! queue of records nobody has confirmed for a while.
//!
//! Run it with `cargo run --release --example quickstart`.

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, Utc};
use kehu::{
    Address, Book, ChangeOp, Currency, Customer, Direction, Error, Interaction, InteractionChannel,
    LifecycleStage, Money, Purchase, Related, RuleSet, Rules,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join("kehu-quickstart.kehu");
    let _ = std::fs::remove_file(&path);

    // The entry rules are plain data; this TOML file is the same on a server and a phone.
    let rules = Rules::new(RuleSet::from_toml(include_str!("rules.toml"))?)?;

    // A clock we can move, so the review queue has something to show: the records
    // are entered "a year ago", then we come back today.
    let today = Utc::now();
    let now = Arc::new(Mutex::new(today - TimeDelta::days(365)));
    let clock = now.clone();
    let book = Book::open_with_rules(&path, rules)?
        .as_actor("sales:li.na")
        .with_clock(Arc::new(move || *clock.lock().expect("clock")));
    println!("opened a new book at {}\n", path.display());

    // 1. Customers, as people type them: full-width digits, spaces, no country code.
    let mut wei = Customer::person_named("张伟")
        .with_phone("１３８ １２３４ ５６７８")
        .with_email("Zhang.Wei@QQ.COM")
        .with_address(Address {
            city: Some("上海".into()),
            postcode: Some("200120".into()),
            country: Some("中国".into()),
            ..Address::default()
        })
        .with_tag("vip");
    wei.lifecycle_stage = Some(LifecycleStage::Active);
    let wei = book.add(wei)?.customer;
    println!("added {} ({})", wei.display_name(), wei.id);
    println!(
        "  phone  {:>22}  ->  {}",
        wei.phones[0].raw, wei.phones[0].number
    );
    println!(
        "  email  {:>22}  ->  {}",
        wei.emails[0].raw, wei.emails[0].address
    );

    let olivia = Customer::person("Olivia", "Smith")
        .with_email("olivia.smith@example.co.uk")
        .with_phone("020 7946 0018")
        .with_address(Address {
            street: Some("10 Downing Street".into()),
            city: Some("London".into()),
            postcode: Some("sw1a2aa".into()),
            country: Some("United Kingdom".into()),
            ..Address::default()
        });
    let olivia = book.add(olivia)?.customer;
    println!(
        "added {}: phone {} (region taken from the address), postcode {}",
        olivia.display_name(),
        olivia.phones[0].number,
        olivia.addresses[0].postcode.as_deref().unwrap_or("-")
    );

    // 2. A warning that does not block: an organisation without an industry.
    let yunfan = book.add(
        Customer::organization("上海云帆贸易有限公司")
            .with_phone("021-6888 8888")
            .with_email("purchasing@yunfan.example.cn"),
    )?;
    println!("\nadded {} with a warning:", yunfan.customer.display_name());
    for w in yunfan.report.warnings() {
        println!("  {w}");
    }

    // 3. A rejected record: every problem at once, each with its field path; nothing written.
    let mut bad = Customer::person("Max", "Mustermann")
        .with_email("max.mustermann@@example")
        .with_phone("12")
        .with_address(Address {
            postcode: Some("1011".into()),
            country: Some("DE".into()),
            ..Address::default()
        });
    bad.lifecycle_stage = Some(LifecycleStage::New);
    bad.birth_date = chrono::NaiveDate::from_ymd_opt(2031, 2, 28);
    match book.add(bad) {
        Err(Error::Invalid { report, .. }) => {
            let (errors, warnings) = (report.errors().count(), report.warnings().count());
            println!(
                "\nrejected a record ({errors} error(s), {warnings} warning(s)), nothing written:"
            );
            for v in &report.violations {
                println!("  {v}");
            }
        }
        other => println!("unexpected: {other:?}"),
    }
    println!("the book still holds {} customers", book.count()?);

    // 4. The dossier's history around it: purchases and interactions, in time order.
    let day = |d: i64| today - TimeDelta::days(365 - d);
    book.relate(Purchase::new(
        wei.id,
        day(3),
        Money::parse("1299.00", Currency::CNY)?,
    ))?;
    book.relate(Interaction::new(
        wei.id,
        day(1),
        InteractionChannel::Phone,
        Direction::Inbound,
        "asked whether the blue model ships before the holiday",
    ))?;
    let mut purchase = Purchase::new(wei.id, day(40), Money::parse("86.50", Currency::CNY)?);
    purchase.channel = Some("wechat".into());
    book.relate(purchase)?;
    *now.lock().expect("clock") = day(41);
    let mut changed = book.get(wei.id)?;
    changed.job_title = Some("采购经理".into());
    changed.emails[0].address = "zhang.wei@yunfan.example.cn".into();
    book.update(changed)?;

    println!("\ndossier of {}:", wei.display_name());
    for record in book.related(wei.id)? {
        let at = record.at().format("%Y-%m-%d");
        match record {
            Related::Purchase(p) => {
                let channel = p.channel.as_deref().unwrap_or("store");
                println!("  {at}  purchase {} via {channel}", p.amount);
            }
            Related::Interaction(i) => {
                println!("  {at}  {:?} {:?}: {}", i.direction, i.channel, i.summary);
            }
            other => println!("  {at}  {:?}", other.kind()),
        }
    }
    println!("history:");
    for change in book.history(wei.id)? {
        let what = match &change.op {
            ChangeOp::Related { kind, .. } => format!("+ {kind:?}").to_lowercase(),
            op => format!("{op:?}").to_lowercase(),
        };
        println!(
            "  {} {:<12} by {}",
            change.at.format("%Y-%m-%d"),
            what,
            change.actor
        );
        for f in &change.fields {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            println!(
                "      {}: {} -> {}",
                f.path,
                show(&f.before),
                show(&f.after)
            );
        }
    }

    // 5. A year later: who has not been confirmed for 180 days?
    *now.lock().expect("clock") = today;
    book.verify(olivia.id)?;
    println!("\nreview queue (not verified for 180 days), oldest first:");
    for c in book.stale(TimeDelta::days(180))? {
        let since = c.verified_at.unwrap_or(c.created_at);
        println!(
            "  {}  last confirmed {}",
            c.display_name(),
            since.format("%Y-%m-%d")
        );
    }
    let found = book.find_by_phone("138-1234-5678")?;
    let names: Vec<String> = found.iter().map(Customer::display_name).collect();
    println!("\nfind_by_phone(\"138-1234-5678\") -> {names:?}");
    Ok(())
}
