/// Errors raised while building model values from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a UUID.
    #[error("not a valid id: {0}")]
    InvalidId(String),
    /// The text is not an ISO 4217 currency code.
    #[error("not an ISO 4217 currency code: {0:?}")]
    InvalidCurrency(String),
    /// The text is not an amount of money in the currency's minor units.
    #[error("not an amount of {currency}: {text:?}")]
    InvalidAmount {
        /// The currency the amount was read in.
        currency: String,
        /// The text that failed.
        text: String,
    },
    /// The text names no known value of an enumeration.
    #[error("unknown {what}: {value:?}")]
    UnknownVariant {
        /// The enumeration, e.g. "lifecycle stage".
        what: &'static str,
        /// The text that failed.
        value: String,
    },
    /// A change of the change log does not fit the dossier it is undone on.
    #[error("the change log cannot be replayed at {path}: {message}")]
    History {
        /// The field path of the change.
        path: String,
        /// What did not fit.
        message: String,
    },
}
