//! A book's address: a `postgres://` or `postgresql://` URL (or a libpq
//! key=value string), with the password from the URL, `PGPASSWORD` or the
//! password file, and a form of it without the password for messages.

use std::path::PathBuf;
use std::str::FromStr;

use kehu_store::{Error, Result};
use postgres::config::Host;
use postgres::Config;

use crate::tls::{Settings, Verify};

/// Whether `target` names a PostgreSQL book rather than a file.
pub fn is_postgres_url(target: &str) -> bool {
    let t = target.trim_start();
    t.starts_with("postgres://") || t.starts_with("postgresql://")
}

/// The connection settings of a URL and its TLS: how much of the server it
/// checks (`sslmode`, else `PGSSLMODE`; `sslrootcert`, else
/// `PGSSLROOTCERT`) and the client certificate it shows (`sslcert` and
/// `sslkey`, else `PGSSLCERT` and `PGSSLKEY`, else the files of
/// `~/.postgresql/` when both are there); a password missing from it comes
/// from `PGPASSWORD`, else from `PGPASSFILE` or `~/.pgpass`.
pub fn config(url: &str) -> Result<(Config, Settings)> {
    let (url, verify) = tls_of(url.trim());
    let mut config = Config::from_str(&url).map_err(|e| {
        Error::Backend(format!(
            "not a PostgreSQL address ({e}): {}",
            redact_text(&url)
        ))
    })?;
    if config.get_user().is_none() {
        if let Some(user) = std::env::var_os("PGUSER").or_else(|| std::env::var_os("USER")) {
            config.user(user.to_string_lossy().as_ref());
        }
    }
    if config.get_password().is_none() {
        if let Some(p) = std::env::var_os("PGPASSWORD") {
            config.password(p.to_string_lossy().as_bytes());
        } else if let Some(p) = password_file_entry(&config) {
            config.password(p);
        }
    }
    Ok((config, verify))
}

/// The URL without the TLS settings the driver does not read (`verify-ca`,
/// `verify-full`, `sslrootcert`, `sslcert`, `sslkey`), and what they ask for.
fn tls_of(url: &str) -> (String, Settings) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut mode = None;
    let (mut root, mut cert, mut key) = (None, None, None);
    for param in query.split('&').filter(|p| !p.is_empty()) {
        match param.split_once('=') {
            Some(("sslmode", m)) => mode = Some(m.to_string()),
            Some(("sslrootcert", f)) => root = Some(percent_decode(f)),
            Some(("sslcert", f)) => cert = Some(PathBuf::from(percent_decode(f))),
            Some(("sslkey", f)) => key = Some(PathBuf::from(percent_decode(f))),
            _ => kept.push(param.to_string()),
        }
    }
    let client = client_certificate(cert, key);
    let mode = mode.or_else(|| std::env::var("PGSSLMODE").ok());
    let root = root.or_else(|| std::env::var("PGSSLROOTCERT").ok());
    let verify = match mode.as_deref() {
        Some("verify-full" | "verify-ca") => {
            kept.push("sslmode=require".into());
            Verify::Full(root.map(PathBuf::from))
        }
        Some(m) => {
            kept.push(format!("sslmode={m}"));
            Verify::Encrypt
        }
        None => Verify::Encrypt,
    };
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, Settings { verify, client })
}

/// The client certificate and key files, as libpq finds them: named (by
/// the URL, else `PGSSLCERT`/`PGSSLKEY`; a key not named is the default
/// one), else the default pair when both files are there.
fn client_certificate(cert: Option<PathBuf>, key: Option<PathBuf>) -> Option<(PathBuf, PathBuf)> {
    let from_env = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let dir = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".postgresql"));
    let default = |file: &str| {
        dir.as_ref()
            .map_or_else(|| PathBuf::from(file), |d| d.join(file))
    };
    let key = key.or_else(|| from_env("PGSSLKEY"));
    match cert.or_else(|| from_env("PGSSLCERT")) {
        Some(cert) => Some((cert, key.unwrap_or_else(|| default("postgresql.key")))),
        None => {
            let (cert, key) = (
                default("postgresql.crt"),
                key.unwrap_or_else(|| default("postgresql.key")),
            );
            (dir.is_some() && cert.is_file() && key.is_file()).then_some((cert, key))
        }
    }
}

/// `%XX` escapes of a URL parameter, decoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a connection goes, without its password: `user@host:port/db`.
pub fn describe(config: &Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

/// A URL as text with any password in it replaced by `***`.
pub fn redact_text(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_string(),
    }
}

/// The password the password file gives this connection, if any
/// (`host:port:database:user:password` lines, `*` matching anything).
fn password_file_entry(config: &Config) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(_)) | None => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let want = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or(""),
        config.get_user().unwrap_or(""),
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            if fields.len() != 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(want)
                .all(|(have, want)| have == "*" || have == want);
            matches.then(|| fields[4].clone())
        })
}

/// A password-file line's fields: `:` separates, `\` escapes.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(last)) = (chars.next(), fields.last_mut()) {
                    last.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_messages() {
        assert_eq!(
            redact_text("postgres://ann:s3cret@db.example:5433/crm?sslmode=require"),
            "postgres://ann:***@db.example:5433/crm?sslmode=require"
        );
        assert_eq!(
            redact_text("postgresql://ann@db/crm"),
            "postgresql://ann@db/crm"
        );
        let (c, _) = config("postgres://ann:s3cret@db.example:5433/crm").expect("parse");
        let shown = describe(&c);
        assert_eq!(shown, "postgres://ann@db.example:5433/crm");
        assert!(!shown.contains("s3cret"));
        let err = config("postgres://ann:s3cret@db.example:notaport/crm").expect_err("refused");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn tls_settings_the_driver_does_not_read_are_taken_out() {
        let (url, tls) = tls_of(
            "postgres://a@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x\
             &sslcert=%2Ftmp%2Fme.crt&sslkey=%2Ftmp%2Fme.key",
        );
        assert_eq!(url, "postgres://a@h/db?application_name=x&sslmode=require");
        assert_eq!(tls.verify, Verify::Full(Some(PathBuf::from("/tmp/ca.pem"))));
        assert_eq!(
            tls.client,
            Some((PathBuf::from("/tmp/me.crt"), PathBuf::from("/tmp/me.key")))
        );
        let (url, tls) = tls_of("postgres://a@h/db?sslmode=require&sslcert=%2Ftmp%2Fme.crt");
        assert_eq!(
            (url.as_str(), &tls.verify),
            ("postgres://a@h/db?sslmode=require", &Verify::Encrypt)
        );
        let (cert, key) = tls.client.expect("a named certificate");
        assert_eq!(cert, PathBuf::from("/tmp/me.crt"));
        assert!(
            key.ends_with("postgresql.key"),
            "libpq's default key: {key:?}"
        );
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
    }

    #[test]
    fn password_file_lines_split_on_unescaped_colons() {
        assert_eq!(
            split_pgpass(r"db:5432:crm:ann:pa\:ss\\word"),
            vec!["db", "5432", "crm", "ann", r"pa:ss\word"]
        );
        assert!(is_postgres_url("postgresql://x/y"));
        assert!(is_postgres_url("postgres://x/y"));
        assert!(!is_postgres_url("book.kehu"));
    }
}
