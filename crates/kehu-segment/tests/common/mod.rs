//! Random customers with activity, and random segments over them, shared by
//! the differential tests.
#![allow(dead_code)]

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use kehu_model::{
    Address, CustomValue, Customer, Direction, Feedback, FeedbackKind, FeedbackStatus, Interaction,
    InteractionChannel, Money, Organization, Purchase, Related, Score, ScoreScale,
};
use kehu_segment::{Schema, ValueType};

/// The schema of the generated customers: the standard fields and two custom ones.
pub fn schema() -> Schema {
    Schema::standard()
        .with_custom("level", ValueType::Text)
        .with_custom("credit", ValueType::Number)
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

pub const CITIES: &[&str] = &[
    "上海", "北京", "深圳", "Shanghai", "London", "Berlin", "O'Fallon",
];
pub const GIVEN: &[&str] = &["Wei", "Na", "Emma", "Oliver", "Lukas", "Mia"];
pub const FAMILY: &[&str] = &["Zhang", "Li", "Smith", "Jones", "Müller"];
pub const COMPANIES: &[&str] = &["华为技术", "Acme Ltd", "Globex", "acme gmbh"];
pub const TITLES: &[&str] = &["CEO", "经理", "Buyer", "engineer"];
pub const TAGS: &[&str] = &["VIP", "vip", "老客户", "newsletter", "wholesale"];
pub const LEVELS: &[&str] = &["silver", "gold", "platinum"];
pub const SOURCES: &[&str] = &["web", "referral", "展会"];
pub const STAGES: &[&str] = &["potential", "new", "active", "at_risk", "churned"];
pub const DOMAINS: &[&str] = &["qq.com", "163.com", "example.com", "Example.COM"];

pub fn now() -> kehu_segment::Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

pub fn book(rng: &mut Rng, n: usize) -> Vec<(Customer, Vec<Related>)> {
    let cny = "CNY".parse().unwrap();
    let moment = |rng: &mut Rng, days: u64| {
        now() - TimeDelta::seconds((rng.below(days * 86_400) + 1) as i64)
    };
    (0..n)
        .map(|i| {
            let mut c = if rng.chance(10) {
                let mut c = Customer::organization(rng.pick(COMPANIES));
                c.organization = Some(Organization {
                    name: Some(rng.pick(COMPANIES).to_string()),
                    industry: rng
                        .chance(70)
                        .then(|| rng.pick(&["retail", "制造", "software"]).to_string()),
                    size: rng.chance(60).then(|| rng.below(5000) as u32),
                });
                c
            } else if rng.chance(30) {
                Customer::person_named(format!(
                    "{}{}",
                    rng.pick(&["张", "李", "王"]),
                    rng.pick(&["伟", "娜", "芳"])
                ))
            } else {
                Customer::person(rng.pick(GIVEN), rng.pick(FAMILY))
            };
            for k in 0..rng.below(3) {
                c = c.with_email(format!("user{i}.{k}@{}", rng.pick(DOMAINS)));
            }
            for k in 0..rng.below(3) {
                c = c.with_phone(format!("+86138{:04}{:04}", i, k));
            }
            if rng.chance(80) {
                c.addresses.push(Address {
                    city: Some(rng.pick(CITIES).to_string()),
                    district: rng
                        .chance(50)
                        .then(|| rng.pick(&["南山区", "朝阳区", "Mitte"]).to_string()),
                    postcode: rng
                        .chance(60)
                        .then(|| format!("{}", 100_000 + rng.below(5) * 100_000)),
                    country: rng
                        .chance(50)
                        .then(|| rng.pick(&["CN", "GB", "DE"]).to_string()),
                    primary: true,
                    ..Address::default()
                });
            }
            c.company = rng.chance(60).then(|| rng.pick(COMPANIES).to_string());
            c.job_title = rng.chance(50).then(|| rng.pick(TITLES).to_string());
            c.source = rng.chance(50).then(|| rng.pick(SOURCES).to_string());
            c.owner = rng.chance(40).then(|| rng.pick(&["amy", "bo"]).to_string());
            c.lifecycle_stage = rng
                .chance(70)
                .then(|| STAGES[rng.below(5) as usize].parse().unwrap());
            c.birth_date = rng.chance(70).then(|| {
                NaiveDate::from_ymd_opt(
                    1950 + rng.below(55) as i32,
                    1 + rng.below(12) as u32,
                    1 + rng.below(28) as u32,
                )
                .unwrap()
            });
            c.created_at = moment(rng, 2000);
            c.updated_at = c.created_at + TimeDelta::days(rng.below(30) as i64);
            c.verified_at = rng.chance(50).then(|| moment(rng, 400));
            for _ in 0..rng.below(4) {
                let t = rng.pick(TAGS).to_string();
                if !c.tags.contains(&t) {
                    c.tags.push(t);
                }
            }
            if rng.chance(60) {
                c.custom
                    .insert("level".into(), CustomValue::Text(rng.pick(LEVELS).into()));
            }
            if rng.chance(50) {
                c.custom.insert(
                    "credit".into(),
                    CustomValue::Integer(rng.below(10_000) as i64),
                );
            }
            let mut related = Vec::new();
            for _ in 0..rng.below(7) {
                let amount = Money::new(100 * (1 + rng.below(2000)) as i64, cny);
                related.push(Purchase::new(c.id, moment(rng, 1000), amount).into());
            }
            for _ in 0..rng.below(5) {
                related.push(
                    Interaction::new(
                        c.id,
                        moment(rng, 500),
                        InteractionChannel::Phone,
                        Direction::Inbound,
                        "x",
                    )
                    .into(),
                );
            }
            for _ in 0..rng.below(4) {
                let kind = if rng.chance(50) {
                    FeedbackKind::Complaint
                } else {
                    FeedbackKind::Survey
                };
                let mut f = Feedback::new(c.id, moment(rng, 500), kind, "x");
                f.status = if rng.chance(50) {
                    FeedbackStatus::Open
                } else {
                    FeedbackStatus::Resolved
                };
                f.score = rng.chance(70).then(|| Score {
                    scale: ScoreScale::Csat,
                    value: 1 + rng.below(5) as u8,
                });
                related.push(f.into());
            }
            (c, related)
        })
        .collect()
}

fn date_literal(rng: &mut Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        1960 + rng.below(67),
        1 + rng.below(12),
        1 + rng.below(28)
    )
}

fn period(rng: &mut Rng) -> String {
    format!("{}{}", 1 + rng.below(40), rng.pick(&["d", "w", "m", "y"]))
}

fn quoted(rng: &mut Rng, pool: &[&str]) -> String {
    format!("\"{}\"", rng.pick(pool).replace('"', "\\\""))
}

fn atom(rng: &mut Rng) -> String {
    let text_fields: &[(&str, &[&str])] = &[
        ("city", CITIES),
        ("district", &["南山区", "朝阳区", "Mitte"]),
        ("company", COMPANIES),
        ("job_title", TITLES),
        ("source", SOURCES),
        ("given_name", GIVEN),
        ("family_name", FAMILY),
        ("custom.level", LEVELS),
        ("email", &["user1.0@qq.com", "user2.1@163.com"]),
        ("postcode", &["100000", "200000", "300000"]),
        ("industry", &["retail", "制造"]),
        ("country", &["CN", "GB"]),
    ];
    let number_fields = [
        "custom.credit",
        "org_size",
        "purchases.count",
        "purchases.sum",
        "purchases.avg",
        "interactions.count",
        "complaints.open",
        "feedback.count",
        "feedback.avg_score",
        "feedback.open",
    ];
    let date_fields = [
        "birthday",
        "created",
        "updated",
        "verified",
        "purchases.last",
        "purchases.first",
        "interactions.last",
        "complaints.last",
        "feedback.first",
    ];
    match rng.below(9) {
        0 | 1 => {
            let (f, pool) = text_fields[rng.below(text_fields.len() as u64) as usize];
            match rng.below(9) {
                0 => format!("{f} = {}", quoted(rng, pool)),
                1 => format!("{f} != {}", quoted(rng, pool)),
                2 => format!(
                    "{f} {} {}",
                    rng.pick(&["<", "<=", ">", ">="]),
                    quoted(rng, pool)
                ),
                3 => format!(
                    "{f} {}in [{}, {}]",
                    rng.pick(&["", "not "]),
                    quoted(rng, pool),
                    quoted(rng, pool)
                ),
                4 => format!(
                    "{f} contains \"{}\"",
                    &rng.pick(pool).chars().take(2).collect::<String>()
                ),
                5 => format!(
                    "{f} starts_with \"{}\"",
                    &rng.pick(pool).chars().take(1).collect::<String>()
                ),
                6 => format!(
                    "{f} ends_with \"{}\"",
                    &rng.pick(pool).chars().rev().take(1).collect::<String>()
                ),
                7 => format!("{f} matches /^{}/", rng.pick(&["[A-Z]", "a", "1", "上"])),
                _ => format!("{f} is {}empty", rng.pick(&["", "not "])),
            }
        }
        2 | 3 => {
            let mut f = rng.pick(&number_fields).to_string();
            let windowed = f.ends_with(".count") || f.ends_with(".sum") || f.ends_with(".avg");
            if windowed && rng.chance(40) {
                f = format!("{f}(within {})", period(rng));
            }
            let n = match f.as_str() {
                s if s.starts_with("custom.credit") => rng.below(10_000),
                s if s.starts_with("org_size") => rng.below(5000),
                s if s.contains(".sum") || s.contains(".avg") && s.starts_with("purchases") => {
                    100 * rng.below(3000)
                }
                s if s.contains("avg_score") => 1 + rng.below(5),
                _ => rng.below(6),
            };
            match rng.below(4) {
                0 => format!("{f} between {} and {}", n, n + rng.below(2000)),
                1 => format!("{f} is {}empty", rng.pick(&["", "not "])),
                _ => format!("{f} {} {n}", rng.pick(&["=", "!=", "<", "<=", ">", ">="])),
            }
        }
        4 | 5 => {
            let f = rng.pick(&date_fields);
            match rng.below(7) {
                0 => format!(
                    "{f} {} {}",
                    rng.pick(&["=", "<", ">=", ">"]),
                    date_literal(rng)
                ),
                1 => format!("{f} within {}", period(rng)),
                2 => format!("{f} before {} ago", period(rng)),
                3 => format!("{f} older than {}", period(rng)),
                4 => format!("{f} this {}", rng.pick(&["month", "year"])),
                5 => format!(
                    "{f} between {} and {}",
                    date_literal(rng),
                    date_literal(rng)
                ),
                _ => format!("{f} is {}empty", rng.pick(&["", "not "])),
            }
        }
        6 => format!(
            "stage {} {}",
            rng.pick(&["=", "!=", "<", ">="]),
            rng.pick(STAGES)
        ),
        7 => format!("kind = {}", rng.pick(&["person", "organization"])),
        _ => format!("has tag {}", quoted(rng, TAGS)),
    }
}

pub fn expression(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 || rng.chance(35) {
        return atom(rng);
    }
    match rng.below(4) {
        0 => format!("not ({})", expression(rng, depth - 1)),
        1 => format!(
            "({}) or ({})",
            expression(rng, depth - 1),
            expression(rng, depth - 1)
        ),
        _ => format!(
            "{} and {}",
            expression(rng, depth - 1),
            expression(rng, depth - 1)
        ),
    }
}
