//! Charts as inline SVG, drawn here: horizontal bars, signed bars (match
//! weights), a heat grid (RFM) and a funnel. No script, no external
//! resource: a page that holds them renders offline, in any browser.

use std::fmt::Write;

/// Text made safe inside HTML and SVG.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const ROW: u32 = 22;
const LABEL: u32 = 190;
const WIDTH: u32 = 640;

/// One bar a row: a label, a bar as long as its share of the largest value,
/// the value after it. `title` names the chart for screen readers.
pub fn bars(title: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = ROW * rows.len().max(1) as u32 + 8;
    let span = WIDTH - LABEL - 70;
    let mut svg = open(title, WIDTH, height, "bars");
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 4 + ROW * i as u32;
        let w = ((*value as f64 / max as f64) * span as f64)
            .round()
            .max(1.0) as u32;
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{LABEL}" y="{y}" width="{w}" height="{h}" class="bar"/><text x="{vx}" y="{ty}">{value}</text>"#,
            lx = LABEL - 6,
            ty = y + 14,
            label = esc(label),
            h = ROW - 6,
            vx = LABEL + w + 6,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Bars either side of a zero line: a pair's field weights (for a match
/// to the right, against it to the left), each with its level.
pub fn signed_bars(title: &str, rows: &[(String, f64)]) -> String {
    let max = rows
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let height = ROW * rows.len().max(1) as u32 + 8;
    let half = (WIDTH - LABEL - 60) / 2;
    let zero = LABEL + half;
    let mut svg = open(title, WIDTH, height, "weights");
    let _ = write!(
        svg,
        r#"<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" class="axis"/>"#
    );
    for (i, (label, weight)) in rows.iter().enumerate() {
        let y = 4 + ROW * i as u32;
        let w = ((weight.abs() / max) * half as f64).round().max(1.0) as u32;
        let (x, class) = if *weight >= 0.0 {
            (zero, "for")
        } else {
            (zero - w, "against")
        };
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{x}" y="{y}" width="{w}" height="{h}" class="{class}"/><text x="{vx}" y="{ty}">{weight:+.1}</text>"#,
            lx = LABEL - 6,
            ty = y + 14,
            label = esc(label),
            h = ROW - 6,
            vx = zero + half + 8,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A grid of counts, shaded by size: rows and columns labelled.
pub fn grid(title: &str, rows: &[String], columns: &[String], cells: &[Vec<u64>]) -> String {
    const CELL: u32 = 64;
    const LEFT: u32 = 60;
    const TOP: u32 = 24;
    let max = cells.iter().flatten().copied().max().unwrap_or(0).max(1);
    let (w, h) = (
        LEFT + CELL * columns.len() as u32 + 4,
        TOP + CELL * rows.len() as u32 + 4,
    );
    let mut svg = open(title, w, h, "grid");
    for (j, c) in columns.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{x}" y="16" text-anchor="middle">{c}</text>"#,
            x = LEFT + CELL * j as u32 + CELL / 2,
            c = esc(c),
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + CELL * i as u32;
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{ty}" text-anchor="end">{r}</text>"#,
            x = LEFT - 8,
            ty = y + CELL / 2 + 5,
            r = esc(r),
        );
        for (j, n) in cells.get(i).into_iter().flatten().enumerate() {
            let share = *n as f64 / max as f64;
            let _ = write!(
                svg,
                r#"<rect x="{x}" y="{y}" width="{s}" height="{s}" class="cell" fill-opacity="{o:.2}"/><text x="{tx}" y="{ty}" text-anchor="middle">{n}</text>"#,
                x = LEFT + CELL * j as u32,
                s = CELL - 3,
                o = 0.08 + 0.85 * share,
                tx = LEFT + CELL * j as u32 + CELL / 2,
                ty = y + CELL / 2 + 5,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A funnel: one centred band a stage, as wide as its share of the widest.
pub fn funnel(title: &str, stages: &[(String, u64)]) -> String {
    let max = stages.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    const BAND: u32 = 30;
    let height = BAND * stages.len().max(1) as u32 + 8;
    let span = WIDTH - LABEL - 20;
    let middle = LABEL + span / 2;
    let mut svg = open(title, WIDTH, height, "funnel");
    for (i, (label, value)) in stages.iter().enumerate() {
        let y = 4 + BAND * i as u32;
        let w = ((*value as f64 / max as f64) * span as f64)
            .round()
            .max(2.0) as u32;
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text><rect x="{x}" y="{y}" width="{w}" height="{h}" class="band"/><text x="{middle}" y="{ty}" text-anchor="middle" class="on">{value}</text>"#,
            lx = LABEL - 6,
            ty = y + 19,
            label = esc(label),
            x = middle - w / 2,
            h = BAND - 4,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open(title: &str, w: u32, h: u32, class: &str) -> String {
    format!(
        r#"<svg class="chart {class}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_bars_scale_to_the_largest() {
        let svg = bars("t", &[("<b>&".into(), 10), ("半".into(), 5)]);
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
        assert!(
            svg.contains(r#"width="380""#) && svg.contains(r#"width="190""#),
            "{svg}"
        );
        let signed = signed_bars("w", &[("email".into(), 8.0), ("city".into(), -2.0)]);
        assert!(signed.contains(r#"class="for""#) && signed.contains(r#"class="against""#));
        assert!(signed.contains("+8.0") && signed.contains("-2.0"));
    }
}
