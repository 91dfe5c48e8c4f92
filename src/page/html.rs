//! The report page: one self-contained HTML file — inline CSS, inline SVG,
//! no script, no link, no font or image to fetch — with every heading and
//! label in English and 中文.

use std::fmt::Write;

use super::data::{QualityReport, StaleEntry};
use super::svg::{bars, esc, funnel, grid, signed_bars};

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1f3a5f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
main{padding:12px 28px 40px;max-width:1100px}
section{background:#fff;border-radius:8px;padding:14px 20px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:17px;margin:4px 0 10px}h3{font-size:14px;margin:14px 0 6px}
.tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{background:#eef3fa;border-radius:6px;padding:10px 16px;min-width:130px}
.tile b{display:block;font-size:22px}.tile span{font-size:12px;color:#4a5568}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #e2e8f0;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.chart text{font-size:12px;fill:#1d2330}.chart .on{fill:#fff;font-weight:600}
.bar{fill:#3b82c4}.for{fill:#2f9e6b}.against{fill:#d0533f}.axis{stroke:#718096}.cell{fill:#3b82c4}.band{fill:#5b7fb8}
.empty{color:#718096;font-style:italic}
";

/// A label in both languages.
fn t(en: &str, zh: &str) -> String {
    format!("{} · {}", esc(en), esc(zh))
}

fn tile(out: &mut String, value: impl std::fmt::Display, en: &str, zh: &str) {
    let _ = write!(
        out,
        r#"<div class="tile"><b>{value}</b><span>{}</span></div>"#,
        t(en, zh)
    );
}

fn empty(out: &mut String, en: &str, zh: &str) {
    let _ = write!(out, r#"<p class="empty">{}</p>"#, t(en, zh));
}

/// The page of a report.
pub fn page(r: &QualityReport, book_name: &str) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title><style>{STYLE}</style></head><body><header><h1>{title}</h1><p>{book} · {at}</p></header><main>"#,
        title = t("Data quality report", "客户数据质量报告"),
        book = esc(book_name),
        at = r.generated_at.format("%Y-%m-%d %H:%M UTC"),
    );
    glance(&mut o, r);
    rules(&mut o, r);
    stale(&mut o, r);
    duplicates(&mut o, r);
    classes(&mut o, r);
    o.push_str("</main></body></html>\n");
    o
}

fn glance(o: &mut String, r: &QualityReport) {
    let _ = write!(
        o,
        r#"<section id="glance"><h2>{}</h2><div class="tiles">"#,
        t("The book at a glance", "概览")
    );
    tile(o, r.stats.customers, "customers", "客户");
    for (kind, n) in &r.stats.by_kind {
        let zh = match kind.as_str() {
            "person" => "个人",
            "organization" => "机构",
            _ => "其他",
        };
        tile(o, n, kind, zh);
    }
    tile(o, r.classes.buyers, "with purchases", "有购买");
    tile(o, r.failing, "breaking a rule", "违反规则");
    tile(o, r.stale, "stale", "待复核");
    if let Some(d) = &r.duplicates {
        tile(o, d.clusters, "duplicate clusters", "重复客户组");
    }
    o.push_str("</div>");
    let _ = write!(
        o,
        "<h3>{}</h3>",
        t("Growth: new customers per month", "增长：每月新增客户")
    );
    if r.classes.new_per_month.is_empty() {
        empty(o, "no customers yet", "尚无客户");
    } else {
        o.push_str(&bars(
            "new customers per month",
            &super::rows_of(&r.classes.new_per_month),
        ));
    }
    if !r.stats.by_source.is_empty() {
        let _ = write!(o, "<h3>{}</h3>", t("By source", "按来源"));
        o.push_str(&bars(
            "customers by source",
            &super::rows_of(&r.stats.by_source),
        ));
    }
    o.push_str("</section>");
}

fn rules(o: &mut String, r: &QualityReport) {
    let _ = write!(
        o,
        r#"<section id="rules"><h2>{}</h2><p>{} {} / {}</p>"#,
        t("Entry standards: rule violations", "录入标准：规则违规"),
        t("dossiers breaking a rule", "违反规则的档案"),
        r.failing,
        r.checked
    );
    if r.violations.is_empty() {
        empty(o, "every dossier meets the rules", "所有档案均符合规则");
    } else {
        o.push_str(&bars("violations by code", &super::rows_of(&r.violations)));
    }
    let _ = write!(
        o,
        "<h3>{}</h3>",
        t("Missing required fields", "缺少必填字段")
    );
    if r.missing.is_empty() {
        empty(o, "none missing", "无缺失");
    } else {
        o.push_str(&bars(
            "missing required fields",
            &super::rows_of(&r.missing),
        ));
    }
    o.push_str("</section>");
}

fn stale(o: &mut String, r: &QualityReport) {
    let _ = write!(
        o,
        r#"<section id="stale"><h2>{}</h2><p>{}: {}</p>"#,
        t("Stale records: the review queue", "过期档案：复核队列"),
        t(
            &format!("not verified for {} days", r.stale_days),
            &format!("超过 {} 天未核实", r.stale_days)
        ),
        r.stale
    );
    if r.oldest_stale.is_empty() {
        empty(o, "nothing waits for review", "没有待复核的档案");
    } else {
        let _ = write!(
            o,
            "<table><tr><th>{}</th><th>{}</th></tr>",
            t("customer", "客户"),
            t("last verified", "上次核实")
        );
        for StaleEntry { who, since } in &r.oldest_stale {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&who.name),
                since.format("%Y-%m-%d")
            );
        }
        o.push_str("</table>");
    }
    o.push_str("</section>");
}

fn duplicates(o: &mut String, r: &QualityReport) {
    let _ = write!(
        o,
        r#"<section id="duplicates"><h2>{}</h2>"#,
        t("Duplicates", "重复客户")
    );
    let Some(d) = &r.duplicates else {
        empty(o, "not searched", "未查找");
        o.push_str("</section>");
        return;
    };
    let _ = write!(
        o,
        "<p>{}: {} · {}: {} · {}: {}</p>",
        t("clusters", "重复组"),
        d.clusters,
        t("dossiers in them", "涉及档案"),
        d.records,
        t("pairs to review", "待人工复核"),
        d.reviews
    );
    if d.largest.is_empty() {
        empty(o, "no duplicates found", "未发现重复");
    }
    for (i, c) in d.largest.iter().enumerate() {
        let names: Vec<String> = c.members.iter().map(|m| esc(&m.name)).collect();
        let _ = write!(
            o,
            "<h3>{} {}: {}</h3>",
            t("Cluster", "重复组"),
            i + 1,
            names.join(" · ")
        );
        if let Some(e) = &c.explanation {
            let _ = write!(
                o,
                "<p>{} {:.1}% · {} {:+.1}</p>",
                t("match probability", "匹配概率"),
                e.probability * 100.0,
                t("match weight", "匹配权重"),
                e.weight
            );
            let weights: Vec<(String, f64)> = e
                .fields
                .iter()
                .map(|f| (format!("{} ({})", f.field, f.level), f.weight))
                .collect();
            o.push_str(&signed_bars("field weights of the first pair", &weights));
            o.push_str("<table>");
            for f in &e.fields {
                let _ = write!(
                    o,
                    r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="n">{:+.1}</td></tr>"#,
                    esc(&f.field),
                    esc(&f.left),
                    esc(&f.right),
                    f.weight
                );
            }
            o.push_str("</table>");
        }
    }
    let _ = write!(o, "<h3>{}</h3>", t("Review queue", "复核队列"));
    if d.to_review.is_empty() {
        empty(o, "no pair waits for a reviewer", "没有待复核的配对");
    } else {
        let _ = write!(
            o,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("one", "档案甲"),
            t("the other", "档案乙"),
            t("probability", "概率")
        );
        for p in &d.to_review {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td>{}</td><td class="n">{:.1}%</td></tr>"#,
                esc(&p.left.name),
                esc(&p.right.name),
                p.probability * 100.0
            );
        }
        o.push_str("</table>");
    }
    o.push_str("</section>");
}

fn classes(o: &mut String, r: &QualityReport) {
    let c = &r.classes;
    let _ = write!(
        o,
        r#"<section id="rfm"><h2>{}</h2><p>{} {} · {}</p>"#,
        t(
            "RFM: recency, frequency, monetary value",
            "RFM 客户价值分析"
        ),
        t("buyers", "购买客户"),
        c.buyers,
        t(
            &format!("amounts in {}", c.currency),
            &format!("金额币种 {}", c.currency)
        )
    );
    if c.buyers == 0 {
        empty(o, "no purchases yet", "尚无购买记录");
    } else {
        let rows: Vec<String> = (1..=5).rev().map(|r| format!("R{r}")).collect();
        let cols: Vec<String> = (1..=5).map(|f| format!("F{f}")).collect();
        o.push_str(&grid(
            "RFM grid: recency by frequency",
            &rows,
            &cols,
            &c.rfm_grid,
        ));
        let _ = write!(o, "<h3>{}</h3>", t("RFM groups", "RFM 分组"));
        o.push_str(&bars("RFM groups", &super::rows_of(&c.rfm_groups)));
    }
    o.push_str("</section>");
    let _ = write!(
        o,
        r#"<section id="tiers"><h2>{}</h2>"#,
        t("Value tiers", "价值分层")
    );
    if c.tiers.is_empty() {
        empty(o, "no purchases yet", "尚无购买记录");
    } else {
        let order = ["high", "medium", "low"];
        let tiers: Vec<(String, u64)> = order
            .iter()
            .filter_map(|k| c.tiers.get(*k).map(|v| (k.to_string(), *v)))
            .collect();
        o.push_str(&bars("value tiers", &tiers));
    }
    o.push_str("</section>");
    let _ = write!(
        o,
        r#"<section id="lifecycle"><h2>{}</h2>"#,
        t("Lifecycle funnel", "生命周期漏斗")
    );
    let order = ["potential", "new", "active", "at_risk", "churned"];
    let mut stages: Vec<(String, u64)> = order
        .iter()
        .filter_map(|k| c.stages.get(*k).map(|v| (k.to_string(), *v)))
        .collect();
    stages.extend(
        c.stages
            .iter()
            .filter(|(k, _)| !order.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), *v)),
    );
    if stages.is_empty() {
        empty(o, "no customers yet", "尚无客户");
    } else {
        o.push_str(&funnel("lifecycle stages", &stages));
    }
    o.push_str("</section>");
    let _ = write!(
        o,
        r#"<section id="segments"><h2>{}</h2>"#,
        t("Saved segments", "已保存的客户分群")
    );
    if c.saved_segments.is_empty() {
        empty(o, "no saved segments", "没有已保存的分群");
    } else {
        o.push_str(&bars(
            "members of each saved segment",
            &super::rows_of(&c.saved_segments),
        ));
    }
    o.push_str("</section>");
}
