//! The region a record implies, for phone numbers written without a country
//! code: each clue in turn (an address country, a place name, a postcode
//! with a city, the e-mail's domain, a number only one region uses), then
//! the rule set's default. Each clue can be turned off (`infer_region`).

use std::fmt;
use std::sync::OnceLock;

use kehu_model::Customer;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::address::split_mainland_address;
use crate::country::alpha2;
use crate::places::{strip_suffix, ABROAD, CITY_PINYIN, PROVINCES};
use crate::{country_code, normalize_phone, postcode_pattern, PhoneOutcome};

/// Which clues a record's region is inferred from, in the order they are
/// tried; every one is on by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InferRegion {
    /// An address's country.
    pub address_country: bool,
    /// A city or province name in an address, in any script (`北京`,
    /// `广东省`, `Shenzhen`, `Berlin`), or at the start of a one-line
    /// Chinese address (`北京市朝阳区…`).
    pub place: bool,
    /// A postcode that fits the pattern of one of the regions a city name
    /// stands for (`Cambridge` with `CB2 1TN` is British).
    pub postcode: bool,
    /// An e-mail's country domain (`.de`) or a national mail provider
    /// (`163.com`, `qq.com`, `naver.com`).
    pub email: bool,
    /// A number that only one region's numbering plan can hold: an 11-digit
    /// Chinese mobile (`1[3-9]` and nine digits) — unless it is valid in the
    /// default region too.
    pub number: bool,
}

impl Default for InferRegion {
    fn default() -> Self {
        Self {
            address_country: true,
            place: true,
            postcode: true,
            email: true,
            number: true,
        }
    }
}

/// What decided a record's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clue {
    /// An address's country.
    AddressCountry,
    /// An address's city.
    City,
    /// An address's region or province.
    Province,
    /// The start of an address's street line.
    Street,
    /// A city name several regions have, and the postcode.
    Postcode,
    /// The e-mail's country domain.
    EmailDomain,
    /// A national mail provider.
    MailProvider,
    /// A mobile number only one region's plan holds.
    Number,
    /// The rule set's `default_region`.
    Default,
}

impl Clue {
    /// Its stable name, as JSON writes it: `address_country`, `city`, …
    pub fn code(self) -> &'static str {
        match self {
            Clue::AddressCountry => "address_country",
            Clue::City => "city",
            Clue::Province => "province",
            Clue::Street => "street",
            Clue::Postcode => "postcode",
            Clue::EmailDomain => "email_domain",
            Clue::MailProvider => "mail_provider",
            Clue::Number => "number",
            Clue::Default => "default",
        }
    }
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Clue::AddressCountry => "the address country",
            Clue::City => "the city",
            Clue::Province => "the province",
            Clue::Street => "the address line",
            Clue::Postcode => "the city and postcode",
            Clue::EmailDomain => "the e-mail's country domain",
            Clue::MailProvider => "the e-mail's national mail provider",
            Clue::Number => "a mobile number only that region uses",
            Clue::Default => "the rule set's default_region",
        })
    }
}

/// The region a record's numbers without a country code were read in, and
/// the clue that decided it. It names the clue, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpliedRegion {
    /// ISO 3166-1 alpha-2.
    pub region: String,
    /// What decided it.
    pub clue: Clue,
}

impl fmt::Display for ImpliedRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "region {} from {}", self.region, self.clue)
    }
}

/// National mail providers and the region they imply.
const PROVIDERS: &[(&str, &str)] = &[
    ("163.com", "CN"),
    ("126.com", "CN"),
    ("yeah.net", "CN"),
    ("vip.163.com", "CN"),
    ("vip.126.com", "CN"),
    ("qq.com", "CN"),
    ("vip.qq.com", "CN"),
    ("foxmail.com", "CN"),
    ("sina.com", "CN"),
    ("sina.cn", "CN"),
    ("vip.sina.com", "CN"),
    ("sohu.com", "CN"),
    ("139.com", "CN"),
    ("189.cn", "CN"),
    ("wo.cn", "CN"),
    ("aliyun.com", "CN"),
    ("tom.com", "CN"),
    ("21cn.com", "CN"),
    ("naver.com", "KR"),
    ("daum.net", "KR"),
    ("hanmail.net", "KR"),
    ("comcast.net", "US"),
    ("verizon.net", "US"),
    ("att.net", "US"),
    ("sbcglobal.net", "US"),
    ("gmx.net", "DE"),
];

/// Country-code top-level domains used as generic ones: they imply no country.
const GENERIC_CCTLDS: &[&str] = &[
    "io", "co", "me", "tv", "ai", "ly", "fm", "gg", "cc", "to", "ws",
];

/// Every place name (without its suffix) and the regions it stands for.
fn places() -> &'static HashMap<String, Vec<&'static str>> {
    static PLACES: OnceLock<HashMap<String, Vec<&'static str>>> = OnceLock::new();
    PLACES.get_or_init(|| {
        let mut map: HashMap<String, Vec<&'static str>> = HashMap::default();
        let mut add = |name: &str, region: &'static str| {
            let regions = map.entry(name.to_lowercase()).or_default();
            if !regions.contains(&region) {
                regions.push(region);
            }
        };
        for p in PROVINCES {
            add(p.name, "CN");
            add(p.pinyin, "CN");
            for c in p.cities {
                add(c, "CN");
            }
        }
        for (pinyin, _) in CITY_PINYIN {
            add(pinyin, "CN");
        }
        for (name, region) in ABROAD {
            add(name, region);
        }
        map
    })
}

/// The regions a place name stands for (none when the table does not know it).
fn place_regions(name: &str) -> &'static [&'static str] {
    let map = places();
    let key = strip_suffix(name);
    let joined = || {
        key.contains([' ', '-', '\''])
            .then(|| map.get(&key.replace([' ', '-', '\''], "")))
            .flatten()
    };
    map.get(key.as_ref())
        .or_else(joined)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether a place name is one of China's and of no other country
/// (`深圳`, `北京市`, `Shenzhen`).
pub(crate) fn is_chinese_place(name: &str) -> bool {
    place_regions(name) == ["CN"]
}

/// The region of a one-line Chinese address that starts with a province or
/// city (`广东省深圳市…`, `北京朝阳区…`; [`split_mainland_address`]).
fn line_region(line: &str) -> Option<&'static str> {
    split_mainland_address(line).map(|_| "CN")
}

/// Whether a number, separators aside, is a Chinese mobile: eleven digits
/// that start `1[3-9]`.
fn is_cn_mobile(number: &str) -> bool {
    let mut digits = number
        .chars()
        .filter(|ch| !matches!(ch, ' ' | '-' | '.' | '(' | ')'));
    let mut n = 0;
    for (i, ch) in digits.by_ref().enumerate() {
        let ok = match i {
            0 => ch == '1',
            1 => ('3'..='9').contains(&ch),
            _ => ch.is_ascii_digit(),
        };
        if !ok {
            return false;
        }
        n = i + 1;
    }
    n == 11
}

/// Whether a phone number is written without a country code.
pub(crate) fn lacks_country_code(number: &str) -> bool {
    let t = number.trim_start();
    !(t.starts_with('+') || t.starts_with("00"))
}

/// The region the record implies by the enabled clues, else `default`.
pub(crate) fn infer<'a>(
    c: &Customer,
    on: &InferRegion,
    default: Option<&'a str>,
) -> Option<(&'a str, Clue)> {
    let found = |r: &'static str, clue| Some((r, clue));
    if on.address_country {
        let country = c
            .primary_address()
            .and_then(|a| a.country.as_deref())
            .or_else(|| c.addresses.iter().find_map(|a| a.country.as_deref()))
            .and_then(country_code);
        if let Some(r) = country {
            return found(r, Clue::AddressCountry);
        }
    }
    if on.place || on.postcode {
        for a in c.addresses.iter() {
            for (value, clue) in [(&a.city, Clue::City), (&a.region, Clue::Province)] {
                let Some(name) = value.as_deref() else {
                    continue;
                };
                match place_regions(name) {
                    [one] if on.place => return found(one, clue),
                    [] | [_] => {}
                    many if on.postcode => {
                        let fits = |r: &&&str| {
                            a.postcode
                                .as_deref()
                                .zip(postcode_pattern(r))
                                .is_some_and(|(pc, re)| re.is_match(pc.trim()))
                        };
                        let mut fitting = many.iter().filter(fits);
                        if let (Some(r), None) = (fitting.next(), fitting.next()) {
                            return found(r, Clue::Postcode);
                        }
                    }
                    _ => {}
                }
            }
            if on.place {
                let line = a.street.as_deref().or(a.raw.as_deref());
                if let Some(r) = line.and_then(line_region) {
                    return found(r, Clue::Street);
                }
            }
        }
    }
    if on.email {
        for e in &c.emails {
            let Some((_, domain)) = e.address.rsplit_once('@') else {
                continue;
            };
            if let Some((_, r)) = PROVIDERS
                .iter()
                .find(|(d, _)| d.eq_ignore_ascii_case(domain))
            {
                return found(r, Clue::MailProvider);
            }
            let tld = domain.rsplit('.').next().unwrap_or_default();
            if tld.len() == 2 && !GENERIC_CCTLDS.iter().any(|g| g.eq_ignore_ascii_case(tld)) {
                let code = if tld.eq_ignore_ascii_case("uk") {
                    "gb"
                } else {
                    tld
                };
                if let Some(r) = alpha2(code) {
                    return found(r, Clue::EmailDomain);
                }
            }
        }
    }
    if on.number {
        let cn = c.phones.iter().any(|p| {
            is_cn_mobile(&p.number)
                && default.is_none_or(|d| {
                    d == "CN"
                        || !matches!(normalize_phone(&p.number, Some(d)), PhoneOutcome::Valid(_))
                })
        });
        if cn {
            return found("CN", Clue::Number);
        }
    }
    default.map(|d| (d, Clue::Default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kehu_model::Address;

    fn at(city: &str) -> Customer {
        Customer::person("Wei", "Zhang").with_address(Address {
            city: Some(city.into()),
            ..Address::default()
        })
    }

    fn region(c: &Customer) -> Option<(&'static str, Clue)> {
        infer(c, &InferRegion::default(), None)
    }

    #[test]
    fn a_city_in_any_script_implies_its_region() {
        for city in [
            "北京",
            "北京市",
            "上海",
            "深圳",
            "深圳市",
            "Shenzhen",
            "Beijing Shi",
            "guangzhou",
            "乌鲁木齐",
        ] {
            assert_eq!(region(&at(city)), Some(("CN", Clue::City)), "{city}");
        }
        assert_eq!(region(&at("Berlin")), Some(("DE", Clue::City)));
        assert_eq!(region(&at("東京")), Some(("JP", Clue::City)));
        assert_eq!(region(&at("香港")), Some(("HK", Clue::City)));
        assert_eq!(region(&at("Atlantis")), None);
        let mut p = Customer::person("Wei", "Zhang");
        p.addresses.push(Address {
            region: Some("广东省".into()),
            ..Address::default()
        });
        assert_eq!(region(&p), Some(("CN", Clue::Province)));
    }

    #[test]
    fn a_one_line_address_names_its_province_first() {
        let mut c = Customer::person("Wei", "Zhang");
        c.addresses.push(Address {
            street: Some("广东省深圳市南山区科技园路1号".into()),
            ..Address::default()
        });
        assert_eq!(region(&c), Some(("CN", Clue::Street)));
        c.addresses[0].street = Some("北京朝阳区建国路88号".into());
        assert_eq!(region(&c), Some(("CN", Clue::Street)));
        c.addresses[0].street = Some("Hauptstraße 5".into());
        assert_eq!(region(&c), None);
    }

    #[test]
    fn a_postcode_tells_which_of_several_places() {
        let mut c = at("Cambridge");
        assert_eq!(region(&c), None, "British or American");
        c.addresses[0].postcode = Some("CB2 1TN".into());
        assert_eq!(region(&c), Some(("GB", Clue::Postcode)));
        c.addresses[0].postcode = Some("02139".into());
        assert_eq!(region(&c), Some(("US", Clue::Postcode)));
    }

    #[test]
    fn the_order_of_the_clues_and_turning_them_off() {
        // A Berlin row with a Chinese-looking mobile stays German.
        let c = at("Berlin")
            .with_email("wei@163.com")
            .with_phone("13800138000");
        assert_eq!(region(&c), Some(("DE", Clue::City)));
        let off = InferRegion {
            place: false,
            ..InferRegion::default()
        };
        assert_eq!(infer(&c, &off, None), Some(("CN", Clue::MailProvider)));
        let mut country = c.clone();
        country.addresses[0].country = Some("中国".into());
        assert_eq!(region(&country), Some(("CN", Clue::AddressCountry)));
        let email = Customer::person("A", "B").with_email("a@web.de");
        assert_eq!(region(&email), Some(("DE", Clue::EmailDomain)));
        let number = Customer::person("A", "B").with_phone("139-1234-5678");
        assert_eq!(region(&number), Some(("CN", Clue::Number)));
        let none = InferRegion {
            number: false,
            ..InferRegion::default()
        };
        assert_eq!(
            infer(&number, &none, Some("GB")),
            Some(("GB", Clue::Default))
        );
        // A number valid in the default region too is left to the default.
        let us = Customer::person("A", "B").with_phone("13125551234");
        assert_eq!(
            infer(&us, &InferRegion::default(), Some("US")),
            Some(("US", Clue::Default))
        );
        assert_eq!(
            region(&Customer::person("A", "B").with_phone("12345")),
            None
        );
    }

    #[test]
    fn a_clue_is_named_as_json_names_it() {
        for clue in [
            Clue::AddressCountry,
            Clue::City,
            Clue::Postcode,
            Clue::MailProvider,
            Clue::Default,
        ] {
            let json = serde_json::to_string(&clue).unwrap();
            assert_eq!(json, format!("\"{}\"", clue.code()));
        }
    }
}
