//! Helpers the integration tests share: valid identifiers computed here, by
//! the standards, not by the library under test.
#![allow(dead_code)]

/// A resident ID: 17 digits and their GB 11643 check character.
pub fn resident_id(digits: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{digits}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// A credit code: 17 characters of the GB 32100 alphabet and their check character.
pub fn credit_code(chars: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u32;
    let sum: u32 = chars.bytes().zip(WEIGHTS).map(|(c, w)| value(c) * w).sum();
    format!(
        "{chars}{}",
        ALPHABET[((31 - sum % 31) % 31) as usize] as char
    )
}
