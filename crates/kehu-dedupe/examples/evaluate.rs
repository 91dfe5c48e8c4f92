//! Scores a dedupe of a CSV file against its ground truth.
//!
//! `cargo run --release -p kehu-dedupe --example evaluate -- FILE.csv TRUTH.csv [ID_COLUMN]`
//!
//! TRUTH is either `id_l,id_r` pairs (FEBRL) or `id,cluster_id` (generated).
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use kehu_dedupe::{Dataset, Deduper, Settings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (file, truth) = (&args[1], &args[2]);
    let id_col = args.get(3).map(String::as_str);
    let t = Instant::now();
    let hints = kehu_table::TableHints {
        name: file,
        ..Default::default()
    };
    let mut table = kehu_table::Table::open(Box::new(std::fs::File::open(file)?), hints)?;
    let headers = table.headers().to_vec();
    let mut rows = (&mut table).map(|r| r.map_err(|e| kehu_dedupe::Error::Input(e.to_string())));
    let ds = Dataset::from_rows(&headers, &mut rows, id_col, &[])?;
    let read = t.elapsed().as_secs_f64();
    let settings = match std::env::var("SETTINGS") {
        Ok(path) => Settings::parse(&std::fs::read_to_string(path)?)?,
        Err(_) => Settings::default(),
    };
    let mut dd = Deduper::new(ds, settings)?;
    let out = dd.run(&mut |_| {})?;
    let total = t.elapsed().as_secs_f64();
    let ds = dd.dataset();
    // Truth pairs.
    let mut rd = csv::Reader::from_path(truth)?;
    let header = rd.headers()?.clone();
    let mut want: HashSet<(String, String)> = HashSet::new();
    let key = |a: &str, b: &str| {
        if a < b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    };
    if &header[0] == "id_l" {
        for r in rd.records() {
            let r = r?;
            want.insert(key(&r[0], &r[1]));
        }
    } else {
        let mut by: HashMap<String, Vec<String>> = HashMap::new();
        for r in rd.records() {
            let r = r?;
            by.entry(r[1].to_string())
                .or_default()
                .push(r[0].to_string());
        }
        for ids in by.values() {
            for i in 0..ids.len() {
                for j in i + 1..ids.len() {
                    want.insert(key(&ids[i], &ids[j]));
                }
            }
        }
    }
    let score = |got: &HashSet<(String, String)>| {
        let tp = got.intersection(&want).count() as f64;
        let p = tp / got.len().max(1) as f64;
        let r = tp / want.len().max(1) as f64;
        (p, r, 2.0 * p * r / (p + r).max(1e-12))
    };
    let scored: HashSet<_> = out
        .pairs
        .iter()
        .filter(|p| p.clustered)
        .map(|p| key(ds.id(p.a), ds.id(p.b)))
        .collect();
    let matched: HashSet<_> = out
        .pairs
        .iter()
        .filter(|p| p.decision == kehu_dedupe::Decision::Match)
        .map(|p| key(ds.id(p.a), ds.id(p.b)))
        .collect();
    let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
    for (row, &c) in out.clusters.of.iter().enumerate() {
        groups.entry(c).or_default().push(row as u32);
    }
    let mut cl = HashSet::new();
    for g in groups.values() {
        for i in 0..g.len() {
            for j in i + 1..g.len() {
                cl.insert(key(ds.id(g[i]), ds.id(g[j])));
            }
        }
    }
    println!(
        "records {} candidates {} matches {} split {} read {read:.2}s total {total:.2}s",
        out.stats.records, out.stats.candidates, out.stats.matches, out.stats.split
    );
    println!("stages {:?}", out.stats.seconds);
    println!("rules {:?}", out.stats.per_rule);
    for w in &out.warnings {
        println!("warning: {w}");
    }
    let (p, r, f) = score(&matched);
    println!("match pairs     P {p:.4} R {r:.4} F1 {f:.4}");
    let (p, r, f) = score(&scored);
    println!("clustered pairs P {p:.4} R {r:.4} F1 {f:.4}");
    let (p, r, f) = score(&cl);
    println!("cluster pairs   P {p:.4} R {r:.4} F1 {f:.4}");
    if std::env::var("SHOW").is_ok() {
        let m = dd.model().unwrap();
        for (i, c) in m.comparisons.iter().enumerate() {
            println!(
                "{:<14} {:?}",
                c.field,
                (1..c.levels().len())
                    .map(|l| format!(
                        "{}:{:.1}",
                        c.levels()[l].split(' ').next().unwrap(),
                        m.weight(i, l as u8)
                    ))
                    .collect::<Vec<_>>()
            );
        }
        println!("prior {:.4} iterations {}", m.prior, m.iterations);
        let fp: Vec<_> = matched.difference(&want).take(8).collect();
        for (a, b) in fp {
            println!("FP\n{}", dd.explain(a, b)?);
        }
        let fneg: Vec<_> = want.difference(&matched).take(8).collect();
        for (a, b) in fneg {
            println!("FN\n{}", dd.explain(a, b)?);
        }
    }
    Ok(())
}
