//! One-line mainland addresses split into province, city, district and
//! street by the place table (`广东省深圳市南山区科技园路1号`), and the
//! district a Chinese street line starts with.

use crate::places::{Province, PROVINCES};

/// Whether a character is a CJK unified ideograph (of the basic block or
/// extension A): what a Chinese place name or street line is written in.
pub(crate) fn is_han(c: char) -> bool {
    ('\u{3400}'..='\u{9fff}').contains(&c)
}

/// A one-line mainland address split the way Chinese CRMs hold it: the
/// province, the city and the district as written (with their suffixes),
/// and the street and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainlandAddress {
    /// The province-level division as written: `广东省`, `北京市`.
    pub province: String,
    /// The prefecture-level city as written: `深圳市`; a municipality's own name for one.
    pub city: String,
    /// The district or county that follows, as written: `南山区` ([`split_district`]).
    pub district: Option<String>,
    /// What follows: `科技园路1号`.
    pub street: String,
}

/// Words that end in 区 without naming a district: a residential compound,
/// a campus, a park, a block.
const NOT_DISTRICTS: &[&str] = &[
    "小区", "社区", "校区", "园区", "景区", "厂区", "街区", "片区", "商区", "营区", "院区",
];

/// The district or county a Chinese street line starts with (`南山区科技园路1号`
/// → `南山区` + `科技园路1号`; `浦东新区…`, `密云县…`, `科尔沁右翼前旗…`): up to
/// nine Han characters ending in 区, 县 or 旗, not a word such as 小区, with
/// something after it.
pub fn split_district(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    for (n, (at, c)) in line.char_indices().enumerate().take(9) {
        if !is_han(c) {
            return None;
        }
        if n == 0 || !matches!(c, '区' | '县' | '旗') {
            continue;
        }
        let end = at + c.len_utf8();
        let (district, street) = (&line[..end], line[end..].trim());
        if NOT_DISTRICTS.iter().any(|w| district.ends_with(w)) || street.is_empty() {
            return None;
        }
        return Some((district.to_string(), street.to_string()));
    }
    None
}

const PROVINCE_SUFFIXES: &[&str] = &[
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
];
const CITY_SUFFIXES: &[&str] = &["自治州", "地区", "市", "盟"];

/// The longest of `names` that `text` starts with, followed by one of
/// `suffixes` when `suffix_needed`, and how many bytes that took.
fn take<'a>(
    text: &str,
    names: impl Iterator<Item = &'a str>,
    suffixes: &[&str],
    suffix_needed: bool,
) -> Option<(&'a str, usize)> {
    let mut best: Option<(&str, usize)> = None;
    for name in names {
        let Some(after) = text.strip_prefix(name) else {
            continue;
        };
        let suffix = suffixes
            .iter()
            .find(|s| after.starts_with(**s))
            .map_or(0, |s| s.len());
        if suffix_needed && suffix == 0 {
            continue;
        }
        if best.is_none_or(|(b, _)| name.len() > b.len()) {
            best = Some((name, name.len() + suffix));
        }
    }
    best
}

/// Splits a one-line mainland address (`广东省深圳市南山区科技园路1号`,
/// `北京市朝阳区建国路88号`, `深圳市福田区…`); none when it does not start
/// with a province or a city (a city alone needs its `市`), or nothing follows.
pub fn split_mainland_address(line: &str) -> Option<MainlandAddress> {
    let line = line.trim();
    if !line.chars().next().is_some_and(is_han) {
        return None;
    }
    let (province, city, used) = match take(
        line,
        PROVINCES.iter().map(|p| p.name),
        PROVINCE_SUFFIXES,
        false,
    ) {
        Some((name, n)) => {
            let p = PROVINCES.iter().find(|p| p.name == name)?;
            let rest = &line[n..];
            if is_municipality(p) {
                // `北京路100号` is a street: a municipality needs its 市 or a district next.
                let district = p.cities.iter().any(|d| rest.starts_with(d));
                if n == name.len() && !district {
                    return None;
                }
                (&line[..n], &line[..n], n)
            } else {
                let (_, m) = take(rest, p.cities.iter().copied(), CITY_SUFFIXES, false)?;
                (&line[..n], &rest[..m], n + m)
            }
        }
        None => {
            let cities = PROVINCES
                .iter()
                .filter(|p| !is_municipality(p))
                .flat_map(|p| p.cities.iter().copied());
            let (name, m) = take(line, cities, CITY_SUFFIXES, true)?;
            let p = PROVINCES
                .iter()
                .find(|p| !is_municipality(p) && p.cities.contains(&name))?;
            (p.name, &line[..m], m)
        }
    };
    let rest = line[used..].trim();
    if rest.is_empty() {
        return None;
    }
    let (district, street) = match split_district(rest) {
        Some((d, s)) => (Some(d), s),
        None => (None, rest.to_string()),
    };
    Some(MainlandAddress {
        province: province.to_string(),
        city: city.to_string(),
        district,
        street,
    })
}

fn is_municipality(p: &Province) -> bool {
    matches!(p.name, "北京" | "上海" | "天津" | "重庆")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Option<(String, String, String)> {
        split_mainland_address(line).map(|a| {
            let rest = format!("{}{}", a.district.unwrap_or_default(), a.street);
            (a.province, a.city, rest)
        })
    }

    fn parts(p: &str, c: &str, r: &str) -> Option<(String, String, String)> {
        Some((p.into(), c.into(), r.into()))
    }

    #[test]
    fn a_district_is_read_off_the_head_of_the_street() {
        let d = split_district;
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(d("南山区科技园路1号"), pair("南山区", "科技园路1号"));
        assert_eq!(
            d("浦东新区世纪大道100号"),
            pair("浦东新区", "世纪大道100号")
        );
        assert_eq!(d("密云县鼓楼大街1号"), pair("密云县", "鼓楼大街1号"));
        assert_eq!(
            d("科尔沁右翼前旗乌兰浩特路"),
            pair("科尔沁右翼前旗", "乌兰浩特路")
        );
        assert_eq!(d("阳光小区3栋201"), None, "a residential compound");
        assert_eq!(d("科技园路1号"), None);
        assert_eq!(d("南山区"), None, "nothing follows");
        assert_eq!(d("88 Nanjing Road"), None);
        assert_eq!(d("区政府路1号"), None, "a lone 区 names nothing");
        let a = split_mainland_address("广东省深圳市南山区科技园路1号").unwrap();
        assert_eq!(
            (a.district.as_deref(), a.street.as_str()),
            (Some("南山区"), "科技园路1号")
        );
    }

    #[test]
    fn one_line_addresses_split_into_province_city_and_the_rest() {
        assert_eq!(
            split("广东省深圳市南山区科技园路1号"),
            parts("广东省", "深圳市", "南山区科技园路1号")
        );
        assert_eq!(
            split("北京市朝阳区建国路88号"),
            parts("北京市", "北京市", "朝阳区建国路88号")
        );
        assert_eq!(
            split("浙江杭州西湖区文三路90号"),
            parts("浙江", "杭州", "西湖区文三路90号")
        );
        assert_eq!(
            split("新疆维吾尔自治区乌鲁木齐市天山区解放南路1号"),
            parts("新疆维吾尔自治区", "乌鲁木齐市", "天山区解放南路1号")
        );
        // A city alone, with its 市: the province from the table.
        assert_eq!(
            split("深圳市福田区福华路3号"),
            parts("广东", "深圳市", "福田区福华路3号")
        );
        assert_eq!(
            split("朝阳区建国路88号"),
            None,
            "a district alone is no city"
        );
        assert_eq!(split("北京路100号"), None, "a street named after a city");
        assert_eq!(split("重庆南路8号"), None);
        assert_eq!(split("江苏路5号"), None);
        assert_eq!(
            split("上海浦东新区世纪大道100号"),
            parts("上海", "上海", "浦东新区世纪大道100号")
        );
        assert_eq!(split("广东省深圳市"), None, "nothing follows");
        assert_eq!(split("Hauptstraße 5, Berlin"), None);
        assert_eq!(split("广东省某某路1号"), None, "no city of the province");
    }
}
