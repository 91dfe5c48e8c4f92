//! Field comparisons: for a pair of records, the level at which one field
//! agrees — exact, close, far — or that a value is missing.
//!
//! Level 0 is always "missing" and carries no weight; level 1 is always
//! exact agreement; the last level is "different". Exact agreement is
//! checked first on interned ids, so the string kernels only run when it fails.

use rapidfuzz::distance::jaro_winkler;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::field::FieldType;

/// How one field is compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The field's name.
    pub field: String,
    /// The column it reads.
    pub column: usize,
    /// The field's type.
    pub kind: FieldType,
    /// For a given or family name: the column of the other name part, for
    /// names entered the other way round.
    pub partner: Option<usize>,
    /// Whether exact agreement is weighed by how common the value is.
    pub term_frequency: bool,
    /// Further columns compared together with this one as one place (street,
    /// city and postcode): a customer who moved differs on all of them at
    /// once, and that is one piece of evidence, not three.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<usize>,
}

/// The levels of a place compared as a whole.
const PLACE_LEVELS: &[&str] = &[
    "missing",
    "same place (every part agrees)",
    "close (every part agrees or nearly)",
    "partly the same (some part agrees)",
    "different",
];

/// Jaro-Winkler similarity of two ASCII-folded strings, at least `cutoff`
/// or 0.
fn jw(a: &str, b: &str, cutoff: f64) -> f64 {
    jaro_winkler::similarity_with_args(
        a.bytes(),
        b.bytes(),
        &jaro_winkler::Args::default().score_cutoff(cutoff),
    )
    .unwrap_or(0.0)
}

/// Whether two strings are at most one edit apart: one character inserted,
/// deleted or substituted, or two neighbours swapped (restricted
/// Damerau-Levenshtein distance ≤ 1), in one pass over the bytes.
pub fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let p = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if p == short.len() {
        return true;
    }
    if short.len() == long.len() {
        short[p + 1..] == long[p + 1..]
            || (p + 1 < short.len()
                && short[p] == long[p + 1]
                && short[p + 1] == long[p]
                && short[p + 2..] == long[p + 2..])
    } else {
        short[p..] == long[p + 1..]
    }
}

/// Jaccard overlap of the words of two strings, without allocating.
fn word_overlap(a: &str, b: &str) -> f64 {
    let words = |s: &str| s.split(' ').filter(|w| !w.is_empty()).count();
    let (na, nb) = (words(a), words(b));
    let common = a
        .split(' ')
        .filter(|w| !w.is_empty() && b.split(' ').any(|x| x == *w))
        .count();
    let union = na + nb - common.min(na + nb);
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

impl Comparison {
    /// The names of this comparison's levels, level 0 first.
    pub fn levels(&self) -> &'static [&'static str] {
        if !self.group.is_empty() {
            return PLACE_LEVELS;
        }
        self.field_levels()
    }

    fn field_levels(&self) -> &'static [&'static str] {
        match self.kind {
            FieldType::GivenName => &[
                "missing",
                "exact",
                "nickname or short form",
                "names swapped",
                "close (Jaro-Winkler ≥ 0.92)",
                "similar (Jaro-Winkler ≥ 0.80)",
                "different",
            ],
            FieldType::FamilyName => &[
                "missing",
                "exact",
                "names swapped",
                "close (Jaro-Winkler ≥ 0.92)",
                "similar (Jaro-Winkler ≥ 0.80)",
                "different",
            ],
            FieldType::PersonName => &[
                "missing",
                "exact (any word order)",
                "close (Jaro-Winkler ≥ 0.92)",
                "similar (Jaro-Winkler ≥ 0.80)",
                "different",
            ],
            FieldType::Email => &[
                "missing",
                "exact",
                "same mailbox name",
                "one typo",
                "different",
            ],
            FieldType::Phone => &["missing", "exact (last 9 digits)", "one typo", "different"],
            FieldType::Date => &[
                "missing",
                "exact",
                "day and month swapped or one digit off",
                "same year",
                "different",
            ],
            FieldType::Postcode | FieldType::Identifier => {
                &["missing", "exact", "one typo", "different"]
            }
            FieldType::Address => &[
                "missing",
                "exact",
                "close (Jaro-Winkler ≥ 0.90)",
                "half the words shared",
                "different",
            ],
            FieldType::OrgName | FieldType::City | FieldType::Text => &[
                "missing",
                "exact",
                "close (Jaro-Winkler ≥ 0.90)",
                "different",
            ],
            FieldType::Number => &[
                "missing",
                "exact",
                "close (within 10%, or one digit off)",
                "different",
            ],
            FieldType::Category | FieldType::Ignore => &["missing", "exact", "different"],
        }
    }

    /// The columns this comparison reads: its own, then its group's.
    pub fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.column).chain(self.group.iter().copied())
    }

    /// The level at which records `a` and `b` agree on this field.
    pub fn level(&self, ds: &Dataset, a: u32, b: u32) -> u8 {
        if self.group.is_empty() {
            return self.field_level(ds, a, b);
        }
        // Each part: missing, exact, close or different.
        let (mut present, mut exact, mut close) = (0, 0, 0);
        for column in self.columns() {
            let part = Comparison {
                field: String::new(),
                column,
                kind: ds.columns()[column].spec.kind,
                partner: None,
                term_frequency: false,
                group: Vec::new(),
            };
            let level = part.field_level(ds, a, b);
            let last = part.field_levels().len() as u8 - 1;
            match level {
                0 => continue,
                1 => exact += 1,
                l if l < last => close += 1,
                _ => {}
            }
            present += 1;
        }
        match (present, exact, close) {
            (0, _, _) => 0,
            (p, e, _) if e == p => 1,
            (p, e, c) if e + c == p => 2,
            (_, e, c) if e + c > 0 => 3,
            _ => 4,
        }
    }

    fn field_level(&self, ds: &Dataset, a: u32, b: u32) -> u8 {
        let col = &ds.columns()[self.column];
        let (ia, ib) = (ds.cell(a, self.column), ds.cell(b, self.column));
        if ia == 0 || ib == 0 {
            return 0;
        }
        if ia == ib {
            return 1;
        }
        let (sa, sb) = (col.value(ia), col.value(ib));
        let last = self.field_levels().len() as u8 - 1;
        match self.kind {
            FieldType::GivenName => {
                if col.alt(ia) == col.alt(ib)
                    || (sa.len().min(sb.len()) >= 3 && (sa.starts_with(sb) || sb.starts_with(sa)))
                {
                    return 2;
                }
                if self.swapped(ds, a, b) {
                    return 3;
                }
                match jw(sa, sb, 0.8) {
                    s if s >= 0.92 => 4,
                    s if s >= 0.8 => 5,
                    _ => last,
                }
            }
            FieldType::FamilyName => {
                if self.swapped(ds, a, b) {
                    return 2;
                }
                match jw(sa, sb, 0.8) {
                    s if s >= 0.92 => 3,
                    s if s >= 0.8 => 4,
                    _ => last,
                }
            }
            FieldType::PersonName => match jw(sa, sb, 0.8) {
                s if s >= 0.92 => 2,
                s if s >= 0.8 => 3,
                _ => last,
            },
            FieldType::Email => {
                fn user(s: &str) -> &str {
                    s.rsplit_once('@').map_or("", |(u, _)| u)
                }
                let (ua, ub) = (user(sa), user(sb));
                if !ua.is_empty() && ua == ub {
                    2
                } else if one_edit(sa, sb) {
                    3
                } else {
                    last
                }
            }
            FieldType::Phone | FieldType::Postcode | FieldType::Identifier => {
                if one_edit(sa, sb) {
                    2
                } else {
                    last
                }
            }
            FieldType::Date => {
                let (da, db) = (col.alt(ia), col.alt(ib));
                let (ya, ma, dda) = (da / 10_000, da / 100 % 100, da % 100);
                let (yb, mb, ddb) = (db / 10_000, db / 100 % 100, db % 100);
                if (ya == yb && ma == ddb && dda == mb) || one_edit(sa, sb) {
                    2
                } else if ya == yb {
                    3
                } else {
                    last
                }
            }
            FieldType::Address => {
                if jw(sa, sb, 0.9) >= 0.9 {
                    2
                } else if word_overlap(sa, sb) >= 0.5 {
                    3
                } else {
                    last
                }
            }
            FieldType::OrgName | FieldType::City | FieldType::Text => {
                if jw(sa, sb, 0.9) >= 0.9 {
                    2
                } else {
                    last
                }
            }
            FieldType::Number => {
                let close = match (sa.parse::<f64>(), sb.parse::<f64>()) {
                    (Ok(x), Ok(y)) => (x - y).abs() <= 0.1 * x.abs().max(y.abs()),
                    _ => false,
                };
                if close || one_edit(sa, sb) {
                    2
                } else {
                    last
                }
            }
            FieldType::Category | FieldType::Ignore => last,
        }
    }

    /// Whether this name part of one record is the other name part of the
    /// other record (`Wei Zhang` / `Zhang Wei` entered as given/family).
    fn swapped(&self, ds: &Dataset, a: u32, b: u32) -> bool {
        let Some(p) = self.partner else {
            return false;
        };
        let (me, other) = (&ds.columns()[self.column], &ds.columns()[p]);
        let (ma, ob) = (ds.cell(a, self.column), ds.cell(b, p));
        if ma == 0 || ob == 0 {
            return false;
        }
        let same = |x: u32, y: u32| me.hash(x) == other.hash(y) && me.value(x) == other.value(y);
        same(ma, ob) || {
            let (oa, mb) = (ds.cell(a, p), ds.cell(b, self.column));
            oa != 0 && mb != 0 && same(mb, oa)
        }
    }
}

/// The comparisons for a dataset's fields, with sensible defaults: every
/// field but ignored ones, name parts partnered, term frequencies for names
/// and cities.
pub fn default_comparisons(ds: &Dataset) -> Vec<Comparison> {
    let fields = ds.fields();
    let find = |kind: FieldType| fields.iter().position(|f| f.kind == kind);
    let is_place = |k: FieldType| {
        matches!(
            k,
            FieldType::Address | FieldType::City | FieldType::Postcode
        )
    };
    let places: Vec<usize> = (0..fields.len())
        .filter(|&i| is_place(fields[i].kind))
        .collect();
    let grouped = places.len() >= 2;
    let mut out: Vec<Comparison> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if f.kind == FieldType::Ignore || (grouped && is_place(f.kind) && i != places[0]) {
            continue;
        }
        let group: Vec<usize> = if grouped && i == places[0] {
            places[1..].to_vec()
        } else {
            Vec::new()
        };
        let field = std::iter::once(i)
            .chain(group.iter().copied())
            .map(|c| fields[c].name.as_str())
            .collect::<Vec<_>>()
            .join("+");
        out.push(Comparison {
            field,
            column: i,
            kind: f.kind,
            partner: match f.kind {
                FieldType::GivenName => find(FieldType::FamilyName),
                FieldType::FamilyName => find(FieldType::GivenName),
                _ => None,
            },
            term_frequency: group.is_empty()
                && matches!(
                    f.kind,
                    FieldType::GivenName
                        | FieldType::FamilyName
                        | FieldType::PersonName
                        | FieldType::City
                ),
            group,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::FieldSpec;

    fn ds(rows: &[[&str; 5]]) -> Dataset {
        let spec = |name: &str, kind| FieldSpec {
            name: name.into(),
            kind,
        };
        let mut ds = Dataset::new(vec![
            spec("first", FieldType::GivenName),
            spec("last", FieldType::FamilyName),
            spec("email", FieldType::Email),
            spec("phone", FieldType::Phone),
            spec("dob", FieldType::Date),
        ]);
        for (i, r) in rows.iter().enumerate() {
            ds.push(i.to_string(), r);
        }
        ds
    }

    fn levels(ds: &Dataset, a: u32, b: u32) -> Vec<&'static str> {
        default_comparisons(ds)
            .iter()
            .map(|c| c.levels()[c.level(ds, a, b) as usize])
            .collect()
    }

    #[test]
    fn levels_per_field() {
        let d = ds(&[
            [
                "William",
                "Smith",
                "w.smith@gmail.com",
                "+1 555 123 4567",
                "1980-01-02",
            ],
            [
                "Bill",
                "Smyth",
                "W.Smith@GMAIL.com",
                "(555) 123-4567",
                "1980-02-01",
            ],
            [
                "Smith",
                "William",
                "w.smith@yahoo.com",
                "555 123 4568",
                "1980-01-03",
            ],
            ["Wiliam", "", "w.smtih@gmail.com", "", "1980-07-09"],
            ["Zoe", "Brown", "zoe@x.de", "0170 1234567", "1955-05-05"],
        ]);
        assert_eq!(
            levels(&d, 0, 1),
            [
                "nickname or short form",
                "similar (Jaro-Winkler ≥ 0.80)",
                "exact",
                "exact (last 9 digits)",
                "day and month swapped or one digit off"
            ]
        );
        assert_eq!(
            levels(&d, 0, 2),
            [
                "names swapped",
                "names swapped",
                "same mailbox name",
                "one typo",
                "day and month swapped or one digit off"
            ]
        );
        assert_eq!(
            levels(&d, 0, 3),
            [
                "close (Jaro-Winkler ≥ 0.92)",
                "missing",
                "one typo",
                "missing",
                "same year"
            ]
        );
        assert_eq!(
            levels(&d, 0, 4),
            [
                "different",
                "different",
                "different",
                "different",
                "different"
            ]
        );
    }

    #[test]
    fn street_city_and_postcode_are_one_place() {
        let spec = |name: &str, kind| FieldSpec {
            name: name.into(),
            kind,
        };
        let mut d = Dataset::new(vec![
            spec("street", FieldType::Address),
            spec("city", FieldType::City),
            spec("zip", FieldType::Postcode),
        ]);
        d.push("a", &["12 Main Street", "Springfield", "12345"]);
        d.push("b", &["12 Main St", "Springfield", "12345"]);
        d.push("c", &["12 Main St", "Springfeld", "12354"]);
        d.push("d", &["9 Elm Road", "Springfield", "12399"]);
        d.push("e", &["9 Elm Road", "Shelbyville", "99999"]);
        d.push("f", &["", "", ""]);
        let cs = default_comparisons(&d);
        assert_eq!(cs.len(), 1);
        let c = &cs[0];
        assert_eq!(c.field, "street+city+zip");
        let level = |a, b| c.levels()[c.level(&d, a, b) as usize];
        assert_eq!(level(0, 1), "same place (every part agrees)");
        assert_eq!(level(0, 2), "close (every part agrees or nearly)");
        assert_eq!(level(0, 3), "partly the same (some part agrees)");
        assert_eq!(level(0, 4), "different");
        assert_eq!(level(0, 5), "missing");
    }

    #[test]
    fn numbers_are_close_within_ten_percent_or_one_digit() {
        let spec = FieldSpec {
            name: "n".into(),
            kind: FieldType::Number,
        };
        let mut d = Dataset::new(vec![spec]);
        for (i, v) in ["100", "105", "250", "1OO", ""].iter().enumerate() {
            d.push(i.to_string(), &[v]);
        }
        let c = &default_comparisons(&d)[0];
        let level = |a, b| c.levels()[c.level(&d, a, b) as usize];
        assert_eq!(level(0, 1), "close (within 10%, or one digit off)");
        assert_eq!(level(0, 2), "different");
        assert_eq!(level(0, 4), "missing");
    }

    #[test]
    fn one_edit_is_restricted_damerau_at_most_one() {
        for (a, b, want) in [
            ("smith", "smith", true),
            ("smith", "smyth", true),
            ("smith", "smiht", true),
            ("smith", "smit", true),
            ("smith", "msith", true),
            ("smith", "smtih", true),
            ("smith", "smithe", true),
            ("smith", "smythe", false),
            ("smith", "mitsh", false),
            ("", "a", true),
            ("", "ab", false),
            ("ab", "ba", true),
            ("abc", "bca", false),
        ] {
            assert_eq!(one_edit(a, b), want, "{a} {b}");
            assert_eq!(one_edit(b, a), want, "{b} {a}");
        }
    }

    proptest::proptest! {
        #[test]
        fn one_edit_agrees_with_rapidfuzz(a in "[abc]{0,6}", b in "[abc]{0,6}") {
            let osa = rapidfuzz::distance::osa::distance(a.bytes(), b.bytes());
            proptest::prop_assert_eq!(one_edit(&a, &b), osa <= 1);
        }
    }

    #[test]
    fn comparisons_are_symmetric() {
        let d = ds(&[
            ["William", "Smith", "a@b.c", "5551234567", "1980-01-02"],
            ["Will", "Smith-Jones", "ab@b.c", "5551234568", "1980-02-01"],
            ["Smith", "Will", "", "", "1981-01-02"],
        ]);
        for c in default_comparisons(&d) {
            for a in 0..3 {
                for b in 0..3 {
                    assert_eq!(c.level(&d, a, b), c.level(&d, b, a), "{} {a} {b}", c.field);
                }
            }
        }
    }
}
