//! The engine as a user meets it: files in, pairs and clusters out — with
//! the quality the project promises, and sensible answers on bad input.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use kehu_dedupe::{Dataset, Deduper, Outcome, Settings};
use proptest::prelude::*;

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/febrl")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CSV file (or bytes) read through kehu-table, as every surface reads one.
fn from_csv(
    input: impl AsRef<[u8]>,
    id_column: Option<&str>,
    fields: &[kehu_dedupe::FieldSpec],
) -> Result<Dataset, kehu_dedupe::Error> {
    let mut t = table(input)?;
    let headers = t.headers().to_vec();
    let mut rows = (&mut t).map(|r| r.map_err(|e| kehu_dedupe::Error::Input(e.to_string())));
    Dataset::from_rows(&headers, &mut rows, id_column, fields)
}

fn append_link(
    ds: &mut Dataset,
    input: impl AsRef<[u8]>,
    id_column: Option<&str>,
) -> Result<(), kehu_dedupe::Error> {
    let mut t = table(input)?;
    let headers = t.headers().to_vec();
    let mut rows = (&mut t).map(|r| r.map_err(|e| kehu_dedupe::Error::Input(e.to_string())));
    ds.append_link_rows(&headers, &mut rows, id_column)
}

fn table(input: impl AsRef<[u8]>) -> Result<kehu_table::Table, kehu_dedupe::Error> {
    let bytes = input.as_ref().to_vec();
    let hints = kehu_table::TableHints {
        name: "input.csv",
        ..Default::default()
    };
    kehu_table::Table::open(Box::new(std::io::Cursor::new(bytes)), hints)
        .map_err(|e| kehu_dedupe::Error::Input(e.to_string()))
}

fn run(ds: Dataset, settings: Settings) -> (Deduper, Outcome) {
    let mut dd = Deduper::new(ds, settings).unwrap();
    let out = dd.run(&mut |_| {}).unwrap();
    (dd, out)
}

fn key(a: &str, b: &str) -> (String, String) {
    if a < b {
        (a.into(), b.into())
    } else {
        (b.into(), a.into())
    }
}

/// Pairwise precision, recall and F1 of the clustered pairs.
fn f1(dd: &Deduper, out: &Outcome, truth: &HashSet<(String, String)>) -> (f64, f64, f64) {
    let ds = dd.dataset();
    let got: HashSet<_> = out
        .pairs
        .iter()
        .filter(|p| p.clustered)
        .map(|p| key(ds.id(p.a), ds.id(p.b)))
        .collect();
    let tp = got.intersection(truth).count() as f64;
    let p = tp / got.len().max(1) as f64;
    let r = tp / truth.len().max(1) as f64;
    (p, r, 2.0 * p * r / (p + r).max(1e-12))
}

fn febrl(n: u8) -> (Deduper, Outcome, HashSet<(String, String)>) {
    let ds = from_csv(data(&format!("febrl{n}.csv")), Some("rec_id"), &[]).unwrap();
    let (dd, out) = run(ds, Settings::default());
    let mut truth = HashSet::new();
    let pairs = data(&format!("febrl{n}_true_pairs.csv"));
    let mut rd = csv::Reader::from_reader(&pairs[..]);
    for r in rd.records() {
        let r = r.unwrap();
        truth.insert(key(&r[0], &r[1]));
    }
    (dd, out, truth)
}

/// FEBRL1 with a `full_name` column beside the given name and surname: it
/// repeats them, so it is ignored and the result is FEBRL1's own.
#[test]
fn a_whole_name_that_repeats_the_parts_is_not_counted_twice() {
    let raw = data("febrl1.csv");
    let mut rd = csv::Reader::from_reader(&raw[..]);
    let headers: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    let mut out = format!("{},full_name\n", headers.join(","));
    for r in rd.records() {
        let r = r.unwrap();
        let cells: Vec<String> = r.iter().map(|c| c.replace(',', " ")).collect();
        out += &format!("{},{} {}\n", cells.join(","), &r[2], &r[1]);
    }
    let ds = from_csv(out.as_bytes(), Some("rec_id"), &[]).unwrap();
    let full = ds
        .fields()
        .into_iter()
        .find(|f| f.name == "full_name")
        .unwrap();
    assert_eq!(full.kind, kehu_dedupe::FieldType::Ignore);
    let (dd, outcome) = run(ds, Settings::default());
    let (plain_dd, plain, truth) = febrl(1);
    assert_eq!(f1(&dd, &outcome, &truth), f1(&plain_dd, &plain, &truth));
}

/// FEBRL1 reshaped the way other files come: a `birth_place` column of the
/// records' towns (a header that says date), and the given name and
/// surname in one `first_and_surname` column (a header that says family
/// name).
#[test]
fn headers_that_lie_are_overruled_by_their_values() {
    let raw = data("febrl1.csv");
    let mut rd = csv::Reader::from_reader(&raw[..]);
    let mut out =
        String::from("rec_id,first_and_surname,birth_place,postcode,date_of_birth,soc_sec_id\n");
    for r in rd.records() {
        let r = r.unwrap();
        let name = format!("{} {}", &r[1], &r[2]);
        let cells = [&r[0], name.trim(), &r[6], &r[7], &r[9], &r[10]];
        out += &cells.map(|c| c.replace(',', " ")).join(",");
        out.push('\n');
    }
    let ds = from_csv(out.as_bytes(), Some("rec_id"), &[]).unwrap();
    let kinds: Vec<(String, kehu_dedupe::FieldType)> =
        ds.fields().into_iter().map(|f| (f.name, f.kind)).collect();
    use kehu_dedupe::FieldType as T;
    let kind_of = |n: &str| kinds.iter().find(|(f, _)| f == n).map(|(_, k)| *k);
    assert_eq!(
        kind_of("first_and_surname"),
        Some(T::PersonName),
        "{kinds:?}"
    );
    assert_eq!(kind_of("date_of_birth"), Some(T::Date));
    assert!(kind_of("birth_place") != Some(T::Date), "{kinds:?}");
    let (dd, outcome) = run(ds, Settings::default());
    let (_, _, truth) = febrl(1);
    let (p, r, f) = f1(&dd, &outcome, &truth);
    eprintln!("reshaped FEBRL1: precision {p:.4} recall {r:.4} F1 {f:.4}");
    // 0.9899 (0.9733 when the headers decided: recall 0.948).
    assert!(
        f >= 0.98,
        "reshaped FEBRL1: precision {p:.4} recall {r:.4} F1 {f:.4}"
    );
}

#[test]
fn febrl1_and_febrl2_with_zero_configuration() {
    for n in [1, 2] {
        let (dd, out, truth) = febrl(n);
        let (p, r, f) = f1(&dd, &out, &truth);
        assert!(
            f >= 0.99,
            "FEBRL{n}: precision {p:.4} recall {r:.4} F1 {f:.4}"
        );
    }
}

#[test]
fn scores_are_deterministic_and_explained() {
    let (dd1, out1, _) = febrl(1);
    let (_, out2, _) = febrl(1);
    assert_eq!(out1.pairs, out2.pairs);
    assert_eq!(out1.clusters, out2.clusters);
    let p = &out1.pairs[0];
    let e = dd1.explain_rows(p.a, p.b);
    assert!((e.probability - p.probability).abs() < 1e-12);
    let sum: f64 = e.prior_weight + e.fields.iter().map(|f| f.weight).sum::<f64>();
    assert!(
        (sum - e.weight).abs() < 1e-9,
        "the parts add up: {sum} vs {}",
        e.weight
    );
    assert!(dd1.explain("rec-1-org", "nobody").is_err());
}

fn csv_of(rows: &[String]) -> Vec<u8> {
    let mut s = String::from("id,first_name,last_name,email,dob,city\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

#[test]
fn bad_input_gets_sensible_answers() {
    // An empty file is an error that says so.
    let err = from_csv(&b""[..], None, &[]).unwrap_err();
    assert!(err.to_string().contains("header"), "{err}");
    // A header alone, one record, every value missing: no pairs, no panic.
    for rows in [
        vec![],
        vec!["1,Ann,Lee,a@x.cn,1990-01-01,Rome".to_string()],
        (0..50).map(|i| format!("{i},,,,,")).collect(),
    ] {
        let ds = from_csv(&csv_of(&rows)[..], None, &[]).unwrap();
        let (_, out) = run(ds, Settings::default());
        assert!(out.pairs.is_empty());
        assert_eq!(out.clusters.of.len(), rows.len());
        if rows.len() == 50 {
            assert!(
                out.warnings.iter().any(|w| w.contains("no values")),
                "{:?}",
                out.warnings
            );
        }
    }
    // All records identical: one cluster.
    let same: Vec<String> = (0..40)
        .map(|i| format!("{i},Ann,Lee,ann@x.cn,1990-01-01,Rome"))
        .collect();
    let (_, out) = run(
        from_csv(&csv_of(&same)[..], None, &[]).unwrap(),
        Settings::default(),
    );
    assert!(out.clusters.of.iter().all(|&c| c == out.clusters.of[0]));
}

#[test]
fn a_block_of_100000_identical_surnames_is_capped_not_exploded() {
    let rows: Vec<String> = (0..100_000).map(|i| format!("{i},N{i},Smith,,,")).collect();
    let ds = from_csv(&csv_of(&rows)[..], None, &[]).unwrap();
    let settings = Settings {
        blocking: vec!["last_name".into(), "first_name".into()],
        ..Settings::default()
    };
    let (_, out) = run(ds, settings);
    assert_eq!(out.stats.candidates, 0);
    assert!(
        out.warnings.iter().any(|w| w.contains("skipped")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn linking_two_files_pairs_across_them_only() {
    let left = "id,first_name,last_name,email\n1,Wei,Zhang,wz@x.cn\n2,Ann,Lee,ann@y.com\n3,Ann,Lee,ann@y.com\n";
    let right = "id,given,surname,e-mail\nA,Wei,Zhang,WZ@x.cn\nB,Bob,Stone,bob@z.de\n";
    let mut ds = from_csv(left.as_bytes(), None, &[]).unwrap();
    append_link(&mut ds, right.as_bytes(), None).unwrap();
    let (dd, out) = run(ds, Settings::default());
    let pairs: BTreeSet<(String, String)> = out
        .pairs
        .iter()
        .filter(|p| p.clustered)
        .map(|p| key(dd.dataset().id(p.a), dd.dataset().id(p.b)))
        .collect();
    assert_eq!(
        pairs,
        BTreeSet::from([key("1", "A")]),
        "2 and 3 are in one file"
    );
}

#[test]
fn settings_override_types_and_blocking() {
    let csv = "key,a,b\n1,x1@mail.cn,Lee\n2,X1@mail.cn,Lee\n3,x3@mail.cn,Lee\n";
    let settings = Settings::parse(
        "id_column = \"key\"\nblocking = [\"a\"]\n[[fields]]\nname = \"a\"\ntype = \"email\"\n[[fields]]\nname = \"b\"\ntype = \"family_name\"\n",
    )
    .unwrap();
    let ds = from_csv(
        csv.as_bytes(),
        settings.id_column.as_deref(),
        &settings.fields,
    )
    .unwrap();
    let (_, out) = run(ds, settings);
    assert_eq!(out.stats.candidates, 1, "only the e-mail rule blocks");
    let bad = Settings::parse("blocking = [\"nope\"]").unwrap();
    let ds = from_csv(csv.as_bytes(), None, &[]).unwrap();
    assert!(Deduper::new(ds, bad).is_err());
}

/// A small file of people with typos, swaps and nicknames, from a seed.
fn people(seed: u64, n: usize) -> Vec<String> {
    let given = [
        "William", "Bill", "Anna", "Ann", "Wei", "Zhang", "Karl", "Carl",
    ];
    let family = ["Smith", "Smyth", "Zhang", "Wei", "Meyer", "Maier"];
    let mut x = seed;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|i| {
            format!(
                "{i},{},{},{}@x.cn,19{:02}-0{}-1{},{}",
                given[next() % given.len()],
                family[next() % family.len()],
                ["a", "b", "c"][next() % 3],
                50 + next() % 3,
                1 + next() % 2,
                next() % 3,
                ["Rome", "Roma", ""][next() % 3]
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// The same records in another order: the same clusters, the same scores.
    #[test]
    fn results_do_not_depend_on_record_order(seed in any::<u64>(), rotate in 1usize..30) {
        let rows = people(seed, 30);
        let mut moved = rows.clone();
        moved.rotate_left(rotate);
        let (d1, o1) = run(from_csv(&csv_of(&rows)[..], None, &[]).unwrap(), Settings::default());
        let (d2, o2) = run(from_csv(&csv_of(&moved)[..], None, &[]).unwrap(), Settings::default());
        let pairs = |d: &Deduper, o: &Outcome| -> BTreeSet<(String, String, u64)> {
            o.pairs.iter().map(|p| {
                let (a, b) = key(d.dataset().id(p.a), d.dataset().id(p.b));
                (a, b, (p.probability * 1e9).round() as u64)
            }).collect()
        };
        prop_assert_eq!(pairs(&d1, &o1), pairs(&d2, &o2));
        let groups = |d: &Deduper, o: &Outcome| -> BTreeSet<BTreeSet<String>> {
            let mut g = std::collections::BTreeMap::<u32, BTreeSet<String>>::new();
            for (row, &c) in o.clusters.of.iter().enumerate() {
                g.entry(c).or_default().insert(d.dataset().id(row as u32).to_string());
            }
            g.into_values().collect()
        };
        prop_assert_eq!(groups(&d1, &o1), groups(&d2, &o2));
    }

    /// A pair scores the same whichever record comes first.
    #[test]
    fn scores_are_symmetric(seed in any::<u64>()) {
        let rows = people(seed, 20);
        let (dd, _) = run(from_csv(&csv_of(&rows)[..], None, &[]).unwrap(), Settings::default());
        for a in 0..20u32 {
            for b in 0..20u32 {
                let (x, y) = (dd.explain_rows(a, b), dd.explain_rows(b, a));
                prop_assert!((x.weight - y.weight).abs() < 1e-9, "{} vs {}", x, y);
            }
        }
    }
}

#[test]
fn linking_febrl2_originals_to_their_duplicates() {
    // FEBRL2 split in two files: the originals, and their duplicates (up to
    // five for one original, never compared with each other when linking).
    let text = String::from_utf8(data("febrl2.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut orgs, mut dups) = (vec![header], vec![header]);
    for l in lines {
        if l.split(',').next().unwrap().contains("-dup-") {
            dups.push(l);
        } else {
            orgs.push(l);
        }
    }
    let (orgs, dups) = (orgs.join("\n"), dups.join("\n"));
    let mut ds = from_csv(orgs.as_bytes(), Some("rec_id"), &[]).unwrap();
    append_link(&mut ds, dups.as_bytes(), Some("rec_id")).unwrap();
    let (dd, out) = run(ds, Settings::default());
    let truth: HashSet<(String, String)> = dups
        .lines()
        .skip(1)
        .map(|l| {
            let dup = l.split(',').next().unwrap();
            let org = format!("{}-org", dup.split("-dup-").next().unwrap());
            key(&org, dup)
        })
        .collect();
    let (p, r, f) = f1(&dd, &out, &truth);
    assert!(f >= 0.99, "link: precision {p:.4} recall {r:.4} F1 {f:.4}");
}
