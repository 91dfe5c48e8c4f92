/// Errors in a rule set: it does not parse, or names what does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TOML text does not parse as a rule set.
    #[error("rule set TOML: {0}")]
    Toml(String),
    /// The JSON text does not parse as a rule set.
    #[error("rule set JSON: {0}")]
    Json(String),
    /// A rule names a field path kehu does not know.
    #[error("rule {rule:?}: unknown field path {path:?}")]
    UnknownPath {
        /// The rule's id.
        rule: String,
        /// The path as written.
        path: String,
    },
    /// A regular expression does not compile.
    #[error("rule {rule:?}: invalid pattern: {message}")]
    BadPattern {
        /// The rule's id (or the country, for a postcode pattern).
        rule: String,
        /// What the regex engine said.
        message: String,
    },
    /// A rule is self-contradictory or incomplete.
    #[error("rule {rule:?}: {message}")]
    BadRule {
        /// The rule's id.
        rule: String,
        /// What is wrong.
        message: String,
    },
}
