//! Tokens of the filter language, each with its byte span.

use crate::error::ParseError;

/// A token and where it stands in the source (byte offsets).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name: a field (`city`, `custom.level`, `purchases.count`, `城市`) or a keyword.
    Ident(String),
    /// A quoted string.
    Str(String),
    /// A number.
    Num(f64),
    /// A duration: `30d`, `12w`, `6m`, `1y`.
    Duration(i64, char),
    /// A date: `2024-03-01`.
    Date(chrono::NaiveDate),
    /// A regular expression: `/^1[3-9]/`.
    Regex(String),
    /// `=` `!=` `<` `<=` `>` `>=`.
    Op(&'static str),
    /// `(` `)` `[` `]` `,`.
    Punct(char),
}

/// Splits the source into tokens.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let c = src[i..].chars().next().unwrap_or(' ');
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let tok = match c {
            '"' | '\'' | '“' | '「' => {
                let close = match c {
                    '“' => '”',
                    '「' => '」',
                    q => q,
                };
                let (text, end) = delimited(src, start, close, "this string has no closing quote")?;
                i = end;
                Tok::Str(text)
            }
            '/' => {
                let (text, end) =
                    delimited(src, start, '/', "this regular expression has no closing /")?;
                i = end;
                Tok::Regex(text)
            }
            '(' | ')' | '[' | ']' | ',' => {
                i += 1;
                Tok::Punct(c)
            }
            '（' | '）' | '，' => {
                i += c.len_utf8();
                Tok::Punct(match c {
                    '（' => '(',
                    '）' => ')',
                    _ => ',',
                })
            }
            '=' | '!' | '<' | '>' => {
                let two = src.get(i..i + 2).unwrap_or("");
                let (op, n) = match two {
                    "!=" | "<>" => ("!=", 2),
                    "<=" => ("<=", 2),
                    ">=" => (">=", 2),
                    "==" => ("=", 2),
                    _ => match c {
                        '=' => ("=", 1),
                        '<' => ("<", 1),
                        '>' => (">", 1),
                        _ => {
                            return Err(ParseError::at(
                                src,
                                start,
                                start + 1,
                                "expected != after !",
                            ))
                        }
                    },
                };
                i += n;
                Tok::Op(op)
            }
            d if d.is_ascii_digit()
                || (d == '-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let mut j = i + 1;
                while j < src.len()
                    && (bytes[j].is_ascii_alphanumeric() || matches!(bytes[j], b'.' | b'-' | b'_'))
                {
                    j += 1;
                }
                let word = &src[i..j];
                i = j;
                number(word).ok_or_else(|| {
                    ParseError::at(src, start, j, format!("{word:?} is not a number, a date (2024-03-01) or a duration (30d, 6m, 1y)"))
                })?
            }
            d if d.is_alphanumeric() || d == '_' => {
                let mut j = i;
                while let Some(e) = src[j..].chars().next() {
                    if e.is_alphanumeric() || e == '_' || e == '.' {
                        j += e.len_utf8();
                    } else {
                        break;
                    }
                }
                let word = src[i..j].trim_end_matches('.').to_string();
                i += word.len();
                Tok::Ident(word)
            }
            other => {
                return Err(ParseError::at(
                    src,
                    start,
                    start + other.len_utf8(),
                    format!("unexpected character {other:?}"),
                ))
            }
        };
        out.push(Token {
            kind: tok,
            start,
            end: i,
        });
    }
    Ok(out)
}

/// The text between the opening character at `start` and `close`, with `\`
/// escaping the next character (a regex keeps its other escapes), and where it ends.
fn delimited(
    src: &str,
    start: usize,
    close: char,
    unclosed: &str,
) -> Result<(String, usize), ParseError> {
    let open = src[start..].chars().next().unwrap_or(close);
    let mut i = start + open.len_utf8();
    let mut text = String::new();
    loop {
        let Some(d) = src[i..].chars().next() else {
            return Err(ParseError::at(src, start, src.len(), unclosed));
        };
        i += d.len_utf8();
        if d == close {
            return Ok((text, i));
        }
        if d == '\\' {
            if let Some(e) = src[i..].chars().next() {
                i += e.len_utf8();
                // In a regex only an escaped slash loses its backslash.
                if close == '/' && e != '/' {
                    text.push('\\');
                }
                text.push(e);
                continue;
            }
        }
        text.push(d);
    }
}

fn number(word: &str) -> Option<Tok> {
    if let Ok(n) = word.replace('_', "").parse::<f64>() {
        return Some(Tok::Num(n));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(Tok::Date(d));
    }
    let unit = word.chars().last()?;
    let n: i64 = word[..word.len() - 1].parse().ok()?;
    matches!(unit, 'd' | 'w' | 'm' | 'y').then_some(Tok::Duration(n, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds(r#"城市 = "上海" and purchases.count(within 90d) >= 3"#),
            vec![
                Tok::Ident("城市".into()),
                Tok::Op("="),
                Tok::Str("上海".into()),
                Tok::Ident("and".into()),
                Tok::Ident("purchases.count".into()),
                Tok::Punct('('),
                Tok::Ident("within".into()),
                Tok::Duration(90, 'd'),
                Tok::Punct(')'),
                Tok::Op(">="),
                Tok::Num(3.0),
            ]
        );
        assert_eq!(
            kinds("created >= 2024-03-01"),
            vec![
                Tok::Ident("created".into()),
                Tok::Op(">="),
                Tok::Date(chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap())
            ]
        );
        assert_eq!(
            kinds("phone matches /^\\+86/"),
            vec![
                Tok::Ident("phone".into()),
                Tok::Ident("matches".into()),
                Tok::Regex("^\\+86".into())
            ]
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = lex("city = \"Paris").unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
        let e = lex("a = 12x").unwrap_err();
        assert!(e.message.contains("12x"));
    }
}
