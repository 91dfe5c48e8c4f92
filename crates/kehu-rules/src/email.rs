//! E-mail syntax: the dot-atom form of RFC 5322 that real mail systems
//! accept, with internationalised (UTF-8) local parts and domains.

/// True when `address` is a syntactically valid e-mail address.
pub fn is_valid_email(address: &str) -> bool {
    if address.len() > 254 {
        return false;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    valid_local(local) && valid_domain(domain)
}

fn valid_local(local: &str) -> bool {
    if local.is_empty() || local.len() > 64 || local.starts_with('.') || local.ends_with('.') {
        return false;
    }
    let mut prev_dot = false;
    for c in local.chars() {
        let ok = c.is_ascii_alphanumeric()
            || "!#$%&'*+/=?^_`{|}~-.".contains(c)
            || (!c.is_ascii() && !c.is_whitespace() && !c.is_control());
        if !ok || (c == '.' && prev_dot) {
            return false;
        }
        prev_dot = c == '.';
    }
    true
}

fn valid_domain(domain: &str) -> bool {
    if domain.is_empty() || domain.len() > 253 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
            })
    };
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    domain.split('.').all(label_ok)
        && tld.chars().count() >= 2
        && (tld.chars().all(char::is_alphabetic) || tld.starts_with("xn--"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_addresses() {
        for ok in [
            "wei.zhang@example.com",
            "o'brien+crm@mail.example.co.uk",
            "用户@例子.中国",
            "x@example.xn--fiqs8s",
            "a_b-c@sub-domain.example.de",
        ] {
            assert!(is_valid_email(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "wei@",
            "wei@example",
            "wei..z@example.com",
            ".wei@example.com",
            "wei@-example.com",
            "wei@example.c",
            "wei zhang@example.com",
            "wei@exa mple.com",
            "wei@example.123",
            "wei@@example.com",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
