//! Blocking: which pairs of records are worth comparing at all.
//!
//! A rule is a list of keys (`surname:soundex & date_of_birth:year`); two
//! records are a candidate pair when some rule gives them the same key. Keys
//! are hashed to 64 bits, records sorted by key, and every pair inside a block
//! emitted once across all rules. A block larger than the cap is skipped with
//! a warning: a column where every record says "Smith" must not turn a
//! million records into half a trillion pairs.

use std::fmt;
use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::field::FieldType;
use crate::normalize::{canonical_given, soundex};
use crate::Error;

/// How a field's value becomes (part of) a blocking key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// The normal form itself.
    Exact,
    /// Its first character.
    Initial,
    /// Soundex of its first word.
    Soundex,
    /// The year of a date.
    Year,
    /// Its first word.
    FirstWord,
    /// For a given name: the full form of a nickname (`bill` → `william`).
    Canonical,
}

/// One part of a rule: a field (or two fields in either order, written
/// `given_name+surname`) and how its value is keyed.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockKey {
    /// The columns it reads; with two, their keys are taken in sorted order.
    pub columns: Vec<usize>,
    /// How each value is keyed.
    pub kind: KeyKind,
}

/// A blocking rule: records that agree on every key are compared.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockingRule {
    /// The rule as written, for warnings and reports.
    pub text: String,
    /// Its keys.
    pub keys: Vec<BlockKey>,
    /// For a sorted-neighbourhood rule: records are sorted by the keys'
    /// fields (joined) and each is paired with the next `window - 1`.
    pub window: Option<usize>,
}

impl fmt::Display for BlockingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl BlockingRule {
    /// Parses `field[:kind] [& field[:kind]]…` against a dataset's fields;
    /// `a+b:kind` reads two fields in either order.
    pub fn parse(text: &str, ds: &Dataset) -> Result<Self, Error> {
        if let Some(rest) = text.trim().strip_prefix("sorted ") {
            return Self::parse_sorted(text, rest, ds);
        }
        let fields = ds.fields();
        let mut keys = Vec::new();
        for part in text.split('&') {
            let part = part.trim();
            let (names, kind) = match part.rsplit_once(':') {
                Some((n, k)) => {
                    let kind = match k.trim() {
                        "exact" => KeyKind::Exact,
                        "initial" => KeyKind::Initial,
                        "soundex" => KeyKind::Soundex,
                        "year" => KeyKind::Year,
                        "first_word" => KeyKind::FirstWord,
                        "canonical" => KeyKind::Canonical,
                        other => {
                            return Err(Error::Settings(format!(
                                "blocking rule `{text}`: unknown key kind `{other}` \
                                 (exact, initial, soundex, year, first_word, canonical)"
                            )))
                        }
                    };
                    (n, kind)
                }
                None => (part, KeyKind::Exact),
            };
            let mut columns = Vec::new();
            for name in names.split('+') {
                let name = name.trim();
                let at = fields.iter().position(|f| f.name == name).ok_or_else(|| {
                    Error::Settings(format!("blocking rule `{text}`: no field named `{name}`"))
                })?;
                columns.push(at);
            }
            if columns.is_empty() || columns.len() > 2 {
                return Err(Error::Settings(format!(
                    "blocking rule `{text}`: a key reads one field or two (`a+b`)"
                )));
            }
            keys.push(BlockKey { columns, kind });
        }
        Ok(BlockingRule {
            text: text.trim().to_string(),
            keys,
            window: None,
        })
    }

    /// `sorted a+b [window N]`: sorted neighbourhood on fields a then b.
    fn parse_sorted(text: &str, rest: &str, ds: &Dataset) -> Result<Self, Error> {
        let (names, window) = match rest.split_once(" window ") {
            Some((names, w)) => (
                names,
                w.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|w| *w >= 2)
                    .ok_or_else(|| {
                        Error::Settings(format!(
                            "blocking rule `{text}`: the window is a number ≥ 2"
                        ))
                    })?,
            ),
            None => (rest, 5),
        };
        let fields = ds.fields();
        let mut keys = Vec::new();
        for name in names.split('+').map(str::trim) {
            let at = fields.iter().position(|f| f.name == name).ok_or_else(|| {
                Error::Settings(format!("blocking rule `{text}`: no field named `{name}`"))
            })?;
            keys.push(BlockKey {
                columns: vec![at],
                kind: KeyKind::Exact,
            });
        }
        Ok(BlockingRule {
            text: text.trim().to_string(),
            keys,
            window: Some(window),
        })
    }

    /// The rule's key for one record; `None` when a value it needs is
    /// missing, and always for a sorted-neighbourhood rule (it has no key).
    pub fn key(&self, ds: &Dataset, row: u32) -> Option<u64> {
        let columns = ds.columns();
        self.key_of(&|c| {
            let id = ds.cell(row, c);
            (id != 0).then(|| (columns[c].value(id), columns[c].spec.kind))
        })
    }

    /// The rule's key for a record given as its normal forms, one per field
    /// of `kinds` (as [`crate::normalize::normalize`] makes them): the same
    /// key [`BlockingRule::key`] gives the record in any dataset.
    pub fn key_normal(&self, kinds: &[FieldType], normal: &[String]) -> Option<u64> {
        self.key_of(&|c| {
            let text = normal.get(c)?.as_str();
            (!text.is_empty()).then(|| (text, kinds[c]))
        })
    }

    fn key_of<'a>(&self, value: &dyn Fn(usize) -> Option<(&'a str, FieldType)>) -> Option<u64> {
        if self.window.is_some() {
            return None;
        }
        let mut h = Fnv::default();
        for k in &self.keys {
            let mut parts: [u64; 2] = [0, 0];
            for (slot, &c) in parts.iter_mut().zip(&k.columns) {
                let (text, field) = value(c)?;
                *slot = value_key(text, field, k.kind)? | 1;
            }
            if k.columns.len() == 2 && parts[0] > parts[1] {
                parts.swap(0, 1);
            }
            parts.hash(&mut h);
        }
        Some(h.finish())
    }
}

/// The key of one normal form: a function of its text alone, so that a key
/// stored for a dossier today still finds it in another session.
fn value_key(text: &str, field: FieldType, kind: KeyKind) -> Option<u64> {
    let mut h = Fnv::default();
    match kind {
        KeyKind::Exact => text.hash(&mut h),
        KeyKind::Initial => text.chars().next()?.hash(&mut h),
        KeyKind::Soundex => soundex(text)?.hash(&mut h),
        KeyKind::Year => {
            if field != FieldType::Date {
                return None;
            }
            (text.parse::<u32>().unwrap_or(0) / 10_000).hash(&mut h)
        }
        KeyKind::FirstWord => text.split(' ').next()?.hash(&mut h),
        KeyKind::Canonical => {
            if field == FieldType::GivenName {
                (u32::MAX, canonical_given(text)).hash(&mut h)
            } else {
                text.hash(&mut h)
            }
        }
    }
    Some(h.finish())
}

/// Sorted neighbourhood: records with any of the rule's fields, sorted by
/// those fields joined (then by id, so input order changes nothing), each
/// paired with the next `window - 1`. Returns how many pairs it proposed.
fn sorted_neighbourhood(
    ds: &Dataset,
    rule: &BlockingRule,
    window: usize,
    all: &mut Vec<u64>,
) -> u64 {
    let columns: Vec<usize> = rule
        .keys
        .iter()
        .flat_map(|k| k.columns.iter().copied())
        .collect();
    let mut sorted: Vec<(String, u32)> = (0..ds.len() as u32)
        .into_par_iter()
        .filter_map(|r| {
            let parts: Vec<&str> = columns.iter().map(|&c| ds.text(r, c)).collect();
            parts
                .iter()
                .any(|p| !p.is_empty())
                .then(|| (parts.join("\u{1}"), r))
        })
        .collect();
    sorted.par_sort_unstable_by(|x, y| x.0.cmp(&y.0).then_with(|| ds.id(x.1).cmp(ds.id(y.1))));
    let link = ds.is_link();
    let mut proposed = 0;
    for (i, &(_, a)) in sorted.iter().enumerate() {
        for &(_, b) in sorted.iter().skip(i + 1).take(window - 1) {
            if link && ds.source(a) == ds.source(b) {
                continue;
            }
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            all.push(u64::from(lo) << 32 | u64::from(hi));
            proposed += 1;
        }
    }
    proposed
}

/// FNV-1a: a fast, stable hash, so keys are the same from run to run.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        // A final mix, so sorted keys spread evenly.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The rules chosen from the field types when the settings name none.
pub fn default_rules(ds: &Dataset) -> Vec<String> {
    let fields = ds.fields();
    let first = |kind: FieldType| {
        fields
            .iter()
            .find(|f| f.kind == kind)
            .map(|f| f.name.clone())
    };
    let mut rules = Vec::new();
    for f in &fields {
        if matches!(
            f.kind,
            FieldType::Email | FieldType::Phone | FieldType::Identifier
        ) {
            rules.push(f.name.clone());
        }
    }
    let given = first(FieldType::GivenName);
    let family = first(FieldType::FamilyName);
    let person = first(FieldType::PersonName);
    let date = first(FieldType::Date);
    let postcode = first(FieldType::Postcode);
    let address = first(FieldType::Address);
    let city = first(FieldType::City);
    let org = first(FieldType::OrgName);
    // A name key that survives swapped parts, nicknames and most typos.
    let name_key = match (&given, &family, &person) {
        (Some(g), Some(f), _) => Some(format!("{g}+{f}:soundex")),
        (None, Some(f), _) => Some(format!("{f}:soundex")),
        (_, _, Some(p)) => Some(format!("{p}:first_word")),
        (Some(g), None, None) => Some(format!("{g}:soundex")),
        _ => None,
    };
    let family_key = family
        .as_ref()
        .map(|f| format!("{f}:soundex"))
        .or_else(|| person.as_ref().map(|p| format!("{p}:initial")));
    if let Some(n) = &name_key {
        match &date {
            Some(d) => rules.push(format!("{n} & {d}:year")),
            None => rules.push(n.clone()),
        }
        if let Some(p) = &postcode {
            rules.push(format!("{n} & {p}"));
        }
    }
    if let Some(d) = &date {
        match (&given, &family_key) {
            (Some(g), _) => rules.push(format!("{d} & {g}:initial")),
            (None, Some(k)) => rules.push(format!("{d} & {k}")),
            _ => rules.push(d.clone()),
        }
        if let Some(k) = &family_key {
            if given.is_some() {
                rules.push(format!("{d} & {k}"));
            }
        }
    }
    if let Some(p) = &postcode {
        if let Some(a) = &address {
            rules.push(format!("{p} & {a}:first_word"));
        }
    }
    if let (Some(a), Some(c)) = (&address, &city) {
        rules.push(format!("{a} & {c}"));
    }
    if let Some(o) = &org {
        if name_key.is_none() {
            rules.push(format!("{o}:first_word"));
        }
    }
    if rules.is_empty() {
        // Nothing typed: the first usable field, exactly.
        if let Some(f) = fields.iter().find(|f| f.kind != FieldType::Ignore) {
            rules.push(f.name.clone());
        }
    }
    rules
}

/// The candidate pairs of a set of rules and what blocking noticed.
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    /// Each pair once, as rows `(a, b)` with `a < b`, sorted.
    pub pairs: Vec<(u32, u32)>,
    /// Blocks skipped for being larger than the cap, and other notes.
    pub warnings: Vec<String>,
    /// Per rule, how many pairs it proposed (before the union).
    pub per_rule: Vec<(String, u64)>,
}

/// The union of the pairs proposed by every rule. When the dataset links two
/// sources, only pairs across them are kept. Blocks of more than `max_block`
/// records are skipped with a warning.
pub fn candidate_pairs(ds: &Dataset, rules: &[BlockingRule], max_block: usize) -> Candidates {
    let link = ds.is_link();
    let n = ds.len() as u32;
    let mut all: Vec<u64> = Vec::new();
    let mut out = Candidates::default();
    // Keys per distinct value, computed once per (column, kind).
    let mut cache: std::collections::HashMap<(usize, KeyKind), Vec<u64>> = Default::default();
    for rule in rules.iter().filter(|r| r.window.is_none()) {
        for k in &rule.keys {
            for &c in &k.columns {
                cache.entry((c, k.kind)).or_insert_with(|| {
                    let col = &ds.columns()[c];
                    (0..col.value_counts().len() as u32)
                        .into_par_iter()
                        .map(|id| {
                            let key =
                                (id != 0).then(|| value_key(col.value(id), col.spec.kind, k.kind));
                            key.flatten().map_or(0, |h| h | 1)
                        })
                        .collect()
                });
            }
        }
    }
    for rule in rules {
        if let Some(window) = rule.window {
            let proposed = sorted_neighbourhood(ds, rule, window, &mut all);
            out.per_rule.push((rule.text.clone(), proposed));
            continue;
        }
        let parts: Vec<Vec<(&[u64], usize)>> = rule
            .keys
            .iter()
            .map(|k| {
                k.columns
                    .iter()
                    .map(|&c| (cache[&(c, k.kind)].as_slice(), c))
                    .collect()
            })
            .collect();
        let mut keyed: Vec<(u64, u32)> = (0..n)
            .into_par_iter()
            .filter_map(|r| {
                let mut h = Fnv::default();
                for cols in &parts {
                    let mut two = [0u64; 2];
                    for (slot, &(keys, c)) in two.iter_mut().zip(cols) {
                        let k = keys[ds.cell(r, c) as usize];
                        if k == 0 {
                            return None;
                        }
                        *slot = k;
                    }
                    if cols.len() == 2 && two[0] > two[1] {
                        two.swap(0, 1);
                    }
                    two.hash(&mut h);
                }
                Some((h.finish(), r))
            })
            .collect();
        keyed.par_sort_unstable();
        let mut proposed = 0u64;
        let mut skipped = (0usize, 0usize);
        let mut i = 0;
        while i < keyed.len() {
            let mut j = i + 1;
            while j < keyed.len() && keyed[j].0 == keyed[i].0 {
                j += 1;
            }
            let block = &keyed[i..j];
            if block.len() > max_block {
                skipped.0 += 1;
                skipped.1 = skipped.1.max(block.len());
            } else {
                for (x, &(_, a)) in block.iter().enumerate() {
                    for &(_, b) in &block[x + 1..] {
                        if link && ds.source(a) == ds.source(b) {
                            continue;
                        }
                        all.push(u64::from(a) << 32 | u64::from(b));
                        proposed += 1;
                    }
                }
            }
            i = j;
        }
        if skipped.0 > 0 {
            out.warnings.push(format!(
                "blocking rule `{rule}`: skipped {} block(s) of more than {max_block} records \
                 (largest {}); their pairs are compared only if another rule proposes them",
                skipped.0, skipped.1
            ));
        }
        out.per_rule.push((rule.text.clone(), proposed));
    }
    all.par_sort_unstable();
    all.dedup();
    out.pairs = all
        .into_iter()
        .map(|p| ((p >> 32) as u32, p as u32))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::FieldSpec;

    fn ds() -> Dataset {
        let spec = |name: &str, kind| FieldSpec {
            name: name.into(),
            kind,
        };
        let mut ds = Dataset::new(vec![
            spec("first", FieldType::GivenName),
            spec("last", FieldType::FamilyName),
            spec("dob", FieldType::Date),
            spec("email", FieldType::Email),
        ]);
        ds.push("a", &["Wei", "Zhang", "1990-01-02", "wz@x.cn"]);
        ds.push("b", &["Zhang", "Wei", "1990-02-01", ""]);
        ds.push("c", &["Will", "Smith", "1970-01-01", "ws@x.com"]);
        ds.push("d", &["William", "Smith", "", "WS@x.com"]);
        ds.push("e", &["Ann", "Lee", "", ""]);
        ds
    }

    #[test]
    fn rules_parse_and_key() {
        let d = ds();
        let rule = BlockingRule::parse("first+last:soundex & dob:year", &d).unwrap();
        assert_eq!(rule.key(&d, 0), rule.key(&d, 1), "swapped names, same year");
        assert_eq!(rule.key(&d, 3), None, "no date, no key");
        assert!(BlockingRule::parse("nope", &d).is_err());
        assert!(BlockingRule::parse("first:sound", &d).is_err());
        let canon = BlockingRule::parse("first:canonical & last", &d).unwrap();
        assert_eq!(canon.key(&d, 2), canon.key(&d, 3));
    }

    #[test]
    fn union_of_rules_each_pair_once() {
        let d = ds();
        let rules: Vec<BlockingRule> = default_rules(&d)
            .iter()
            .map(|r| BlockingRule::parse(r, &d).unwrap())
            .collect();
        let c = candidate_pairs(&d, &rules, 100);
        assert!(c.pairs.contains(&(0, 1)));
        assert!(c.pairs.contains(&(2, 3)));
        let mut sorted = c.pairs.clone();
        sorted.dedup();
        assert_eq!(sorted, c.pairs);
        assert!(c.pairs.iter().all(|&(a, b)| a < b));
    }

    #[test]
    fn bulk_keys_equal_single_record_keys() {
        let d = ds();
        for text in default_rules(&d) {
            let rule = BlockingRule::parse(&text, &d).unwrap();
            let c = candidate_pairs(&d, std::slice::from_ref(&rule), 100);
            for a in 0..d.len() as u32 {
                for b in a + 1..d.len() as u32 {
                    let same = rule.key(&d, a).is_some() && rule.key(&d, a) == rule.key(&d, b);
                    assert_eq!(c.pairs.contains(&(a, b)), same, "{text} {a} {b}");
                }
            }
        }
    }

    #[test]
    fn sorted_neighbourhood_pairs_near_names() {
        let mut d = Dataset::new(vec![
            FieldSpec {
                name: "last".into(),
                kind: FieldType::FamilyName,
            },
            FieldSpec {
                name: "first".into(),
                kind: FieldType::GivenName,
            },
        ]);
        // A typo in the first letter: Soundex keys differ, the sorted order keeps them close.
        for (id, last, first) in [
            ("1", "Smith", "John"),
            ("2", "Zhou", "Li"),
            ("3", "Smith", "Xohn"),
            ("4", "Adams", "Amy"),
        ] {
            d.push(id, &[last, first]);
        }
        let rule = BlockingRule::parse("sorted last+first window 2", &d).unwrap();
        assert_eq!(rule.key(&d, 0), None, "no key to index");
        let c = candidate_pairs(&d, &[rule], 100);
        assert_eq!(c.pairs, [(0, 2), (0, 3), (1, 2)]);
        assert!(BlockingRule::parse("sorted last window 1", &d).is_err());
        assert!(BlockingRule::parse("sorted nope", &d).is_err());
    }

    #[test]
    fn oversized_blocks_are_skipped_with_a_warning() {
        let mut d = Dataset::new(vec![FieldSpec {
            name: "last".into(),
            kind: FieldType::FamilyName,
        }]);
        for i in 0..50 {
            d.push(i.to_string(), &["Smith"]);
        }
        let rule = BlockingRule::parse("last", &d).unwrap();
        let c = candidate_pairs(&d, &[rule], 10);
        assert!(c.pairs.is_empty());
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }
}
