//! How a masked value shows: enough for a person to recognise it, not to use it.

/// `张伟` → `张*`, `Wei` → `W**`.
pub fn mask_name(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.filter(|c| !c.is_whitespace()).map(|_| '*'))
            .collect(),
        None => String::new(),
    }
}

/// `zhang.wei@163.com` → `z***@163.com`.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => mask_name(s),
    }
}

/// `+8613812348000` → `138****8000`: the first three and the last four digits
/// of the national number.
pub fn mask_phone(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest.to_string(),
        _ if digits.len() > 10 && s.starts_with('+') => digits[digits.len() - 10..].to_string(),
        _ => digits,
    };
    let n = national.len();
    if n < 8 {
        return format!("****{}", &national[n.saturating_sub(2)..]);
    }
    format!("{}****{}", &national[..3], &national[n - 4..])
}

/// `11010519491231002X` → `110***********002X`: the first three and the
/// last four characters of an identifier (the province and the end, as
/// Chinese forms print them); a short one shows its last two.
pub fn mask_identifier(s: &str) -> String {
    let n = s.chars().count();
    if n < 10 {
        return format!(
            "****{}",
            s.chars().skip(n.saturating_sub(2)).collect::<String>()
        );
    }
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i + 4 >= n { c } else { '*' })
        .collect()
}

/// Keeps the last four characters: `EXT-00031` → `*****0031`.
pub(crate) fn mask_tail(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_what_a_person_needs() {
        assert_eq!(mask_phone("+8613812348000"), "138****8000");
        assert_eq!(mask_phone("13812348000"), "138****8000");
        assert_eq!(mask_email("zhang.wei@163.com"), "z***@163.com");
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("Wei"), "W**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_tail("EXT-00031"), "*****0031");
        assert_eq!(mask_identifier("110105194912311234"), "110***********1234");
        assert_eq!(mask_identifier("91350100M000100Y43"), "913***********0Y43");
        assert_eq!(mask_identifier("12345"), "****45");
        assert_eq!(mask_phone("+44 20 7946 0018").len(), 11);
    }
}
