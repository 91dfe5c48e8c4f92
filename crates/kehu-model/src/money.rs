use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Active ISO 4217 codes, sorted, three letters each.
const CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP \
DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR \
ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK \
MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG \
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND \
TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER \
ZAR ZMW ZWG";

/// An ISO 4217 currency code such as `CNY`, `EUR` or `JPY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Chinese yuan.
    pub const CNY: Currency = Currency(*b"CNY");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Pound sterling.
    pub const GBP: Currency = Currency(*b"GBP");
    /// Japanese yen.
    pub const JPY: Currency = Currency(*b"JPY");

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // Only ever built from ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many decimal places the currency's minor unit has (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            b"CLF" | b"UYW" => 4,
            _ => 2,
        }
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let upper = s.trim().to_ascii_uppercase();
        let bytes: [u8; 3] = upper
            .as_bytes()
            .try_into()
            .map_err(|_| Error::InvalidCurrency(s.chars().take(16).collect()))?;
        if CODES.split(' ').any(|c| c.as_bytes() == bytes) {
            Ok(Currency(bytes))
        } else {
            Err(Error::InvalidCurrency(s.chars().take(16).collect()))
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units (cents, fen) and a currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount in the currency's minor unit (199 = 1.99 EUR; 199 = ¥199).
    pub minor: i64,
    /// The ISO 4217 currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units.
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal amount such as `"12.50"` or `"-3"` in `currency`'s major unit.
    /// More decimal places than the currency has is an error, never a rounding.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, Error> {
        let bad = || Error::InvalidAmount {
            currency: currency.to_string(),
            text: text.chars().take(32).collect(),
        };
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let exp = currency.exponent() as usize;
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && frac.is_empty()
            || !all_digits(whole)
            || !all_digits(frac)
            || frac.len() > exp
        {
            return Err(bad());
        }
        let mut minor: i64 = 0;
        let padded = format!("{frac:0<exp$}");
        for b in whole.bytes().chain(padded.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(bad)?;
        }
        Ok(Self::new(if negative { -minor } else { minor }, currency))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let unit = 10u64.pow(exp);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / unit,
            abs % unit,
            self.currency,
            width = exp as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_checked() {
        assert_eq!("cny".parse::<Currency>().unwrap(), Currency::CNY);
        assert!("XYZ".parse::<Currency>().is_err());
        assert!("EURO".parse::<Currency>().is_err());
        assert_eq!(Currency::JPY.exponent(), 0);
        assert_eq!("KWD".parse::<Currency>().unwrap().exponent(), 3);
    }

    #[test]
    fn money_parses_and_prints_without_floats() {
        let m = Money::parse("12.5", Currency::EUR).unwrap();
        assert_eq!(m.minor, 1250);
        assert_eq!(m.to_string(), "12.50 EUR");
        assert_eq!(
            Money::parse("-0.07", Currency::USD).unwrap().to_string(),
            "-0.07 USD"
        );
        assert_eq!(
            Money::parse("1999", Currency::JPY).unwrap().to_string(),
            "1999 JPY"
        );
        assert!(Money::parse("1.5", Currency::JPY).is_err());
        assert!(Money::parse("1.234", Currency::EUR).is_err());
        assert!(Money::parse("abc", Currency::EUR).is_err());
        assert!(Money::parse("99999999999999999999", Currency::EUR).is_err());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"minor":1250,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
    }
}
