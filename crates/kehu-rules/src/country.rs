//! Country names and codes to ISO 3166-1 alpha-2.

/// Names and aliases, lower-case, with their code. Two-letter codes pass as they are.
const ALIASES: &[(&str, &str)] = &[
    ("china", "CN"),
    ("prc", "CN"),
    ("people's republic of china", "CN"),
    ("中国", "CN"),
    ("中华人民共和国", "CN"),
    ("mainland china", "CN"),
    ("中國", "CN"),
    ("usa", "US"),
    ("united states", "US"),
    ("united states of america", "US"),
    ("america", "US"),
    ("美国", "US"),
    ("u.s.", "US"),
    ("u.s.a.", "US"),
    ("uk", "GB"),
    ("united kingdom", "GB"),
    ("great britain", "GB"),
    ("britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northern ireland", "GB"),
    ("英国", "GB"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("德国", "DE"),
    ("france", "FR"),
    ("法国", "FR"),
    ("japan", "JP"),
    ("日本", "JP"),
    ("nippon", "JP"),
    ("australia", "AU"),
    ("澳大利亚", "AU"),
    ("canada", "CA"),
    ("加拿大", "CA"),
    ("hong kong", "HK"),
    ("香港", "HK"),
    ("macau", "MO"),
    ("macao", "MO"),
    ("澳门", "MO"),
    ("taiwan", "TW"),
    ("台湾", "TW"),
    ("singapore", "SG"),
    ("新加坡", "SG"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("韩国", "KR"),
    ("india", "IN"),
    ("netherlands", "NL"),
    ("holland", "NL"),
    ("italy", "IT"),
    ("spain", "ES"),
    ("switzerland", "CH"),
    ("austria", "AT"),
    ("ireland", "IE"),
    ("new zealand", "NZ"),
    ("russia", "RU"),
    ("brazil", "BR"),
    ("mexico", "MX"),
    ("malaysia", "MY"),
];

/// The alpha-2 code for a country name, alias or code ("中国", "United Kingdom", "de").
pub fn country_code(name: &str) -> Option<&'static str> {
    let key = name.trim().to_lowercase();
    if key.len() == 2 {
        return REGIONS
            .iter()
            .copied()
            .find(|r| r.eq_ignore_ascii_case(&key));
    }
    ALIASES.iter().find(|(n, _)| *n == key).map(|(_, c)| *c)
}

/// The alpha-2 code written in any case (`de`, `De`), without allocating:
/// REGIONS is sorted, so a binary search finds it.
pub(crate) fn alpha2(code: &str) -> Option<&'static str> {
    let b = code.as_bytes();
    if b.len() != 2 {
        return None;
    }
    let key = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
    REGIONS
        .binary_search_by(|r| r.as_bytes().cmp(&key[..]))
        .ok()
        .map(|i| REGIONS[i])
}

/// ISO 3166-1 alpha-2 codes of the countries and territories with phone numbering plans.
const REGIONS: &[&str] = &[
    "AC", "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO",
    "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG",
    "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG",
    "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GT", "GU", "GW", "GY", "HK", "HN", "HR", "HT",
    "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE",
    "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR",
    "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN",
    "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF",
    "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL",
    "PM", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD",
    "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY",
    "SZ", "TA", "TC", "TD", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "XK",
    "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_codes() {
        assert_eq!(country_code("中国"), Some("CN"));
        assert_eq!(country_code(" United Kingdom "), Some("GB"));
        assert_eq!(country_code("de"), Some("DE"));
        assert_eq!(country_code("ZZ"), None);
        assert_eq!(country_code("Atlantis"), None);
        assert!(REGIONS.windows(2).all(|w| w[0] < w[1]), "sorted for alpha2");
        assert_eq!(alpha2("de"), Some("DE"));
        assert_eq!(alpha2("Cn"), Some("CN"));
        assert_eq!(alpha2("zz"), None);
    }
}
