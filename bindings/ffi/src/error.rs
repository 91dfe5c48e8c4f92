//! The one error type of the FFI, mapped in one place from the core errors.
//!
//! Every variant carries a stable `code` (log it, switch on it), the field
//! `path` it concerns when there is one, and a `reason` for people. Reasons are
//! the core messages, which name fields and what is wrong with their values,
//! never the values themselves.

use crate::answers::{DuplicateHit, Violation};

/// What went wrong in a kehu call. Kotlin: `KehuException.Invalid` and so on;
/// Swift: `KehuError.Invalid`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KehuError {
    /// The record broke the entry rules; nothing was written. `violations`
    /// lists every problem, each with its field path.
    #[error("{reason}")]
    Invalid {
        /// `invalid`.
        code: String,
        /// The path of the first violation.
        path: Option<String>,
        /// What is wrong.
        reason: String,
        /// The record's position in a batch, if it came in one.
        index: Option<u64>,
        /// Every violation found.
        violations: Vec<Violation>,
    },
    /// The new dossier matches one already in the book (add it anyway with
    /// `addAllowingDuplicates`).
    #[error("{reason}")]
    Duplicate {
        /// `duplicate`.
        code: String,
        /// Always empty.
        path: Option<String>,
        /// Which dossiers it matches.
        reason: String,
        /// The dossiers it matches, most likely first (ids and scores only:
        /// `checkDuplicates` explains them).
        candidates: Vec<DuplicateHit>,
    },
    /// No customer, import, merge or saved segment with this id or name.
    #[error("{reason}")]
    NotFound {
        /// `not_found`, `import_not_found`, `segment_not_found`.
        code: String,
        /// The argument that named it.
        path: Option<String>,
        /// What was not found.
        reason: String,
        /// The id or name asked for.
        id: String,
    },
    /// Someone changed the data since it was read: read again and retry.
    #[error("{reason}")]
    Conflict {
        /// `conflict`, `revert_conflict`, `already_reverted`.
        code: String,
        /// Always empty.
        path: Option<String>,
        /// What conflicts.
        reason: String,
        /// The customer or import concerned.
        id: String,
    },
    /// A segment condition does not parse or does not fit the book's fields.
    #[error("{reason}")]
    FilterSyntax {
        /// `filter_syntax`.
        code: String,
        /// `condition`.
        path: Option<String>,
        /// What is wrong, with a suggestion when there is one.
        reason: String,
        /// Line of the problem (1-based).
        line: u32,
        /// Column of the problem (1-based, in characters).
        column: u32,
    },
    /// The principal's roles do not allow the operation (recorded in the audit trail).
    #[error("{reason}")]
    Denied {
        /// `denied`.
        code: String,
        /// The operation.
        path: Option<String>,
        /// Who may not do what.
        reason: String,
    },
    /// The key does not open the book, is missing, or is not needed.
    #[error("{reason}")]
    Key {
        /// `key`.
        code: String,
        /// Always empty.
        path: Option<String>,
        /// What is wrong with the key.
        reason: String,
    },
    /// An argument is wrong: an empty or malformed id, an unknown option, a
    /// number out of range, a rule set that does not compile.
    #[error("{reason}")]
    InvalidArgument {
        /// `invalid_argument`, `rules`, `usage`.
        code: String,
        /// The argument or field.
        path: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read, written or imported.
    #[error("{reason}")]
    Io {
        /// `io`, `input`.
        code: String,
        /// The file.
        path: Option<String>,
        /// What the system or the importer said.
        reason: String,
    },
    /// The store failed: a file that is not a book, locked by another process,
    /// corrupt or erased data.
    #[error("{reason}")]
    Storage {
        /// `storage`, `corrupt`.
        code: String,
        /// Always empty.
        path: Option<String>,
        /// What the store said.
        reason: String,
    },
    /// The book was closed.
    #[error("{reason}")]
    Closed {
        /// `closed`.
        code: String,
        /// Always empty.
        path: Option<String>,
        /// How to go on.
        reason: String,
    },
    /// A bug in kehu (a panic caught at the boundary); nothing half-written.
    #[error("{reason}")]
    Internal {
        /// `internal`.
        code: String,
        /// Always empty.
        path: Option<String>,
        /// What failed.
        reason: String,
    },
}

impl KehuError {
    /// The stable code of the error.
    pub fn code(&self) -> &str {
        match self {
            Self::Invalid { code, .. }
            | Self::Duplicate { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::FilterSyntax { code, .. }
            | Self::Denied { code, .. }
            | Self::Key { code, .. }
            | Self::InvalidArgument { code, .. }
            | Self::Io { code, .. }
            | Self::Storage { code, .. }
            | Self::Closed { code, .. }
            | Self::Internal { code, .. } => code,
        }
    }

    /// A wrong argument: `path` names it.
    pub(crate) fn argument(path: &str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            code: "invalid_argument".into(),
            path: Some(path.into()),
            reason: reason.into(),
        }
    }

    pub(crate) fn closed() -> Self {
        Self::Closed {
            code: "closed".into(),
            path: None,
            reason: "the book is closed; open it again".into(),
        }
    }

    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        Self::Internal {
            code: "internal".into(),
            path: None,
            reason: reason.into(),
        }
    }
}

impl From<kehu::Error> for KehuError {
    fn from(e: kehu::Error) -> Self {
        use kehu::Error as E;
        let reason = e.to_string();
        let e_code = e.code();
        let plain = |code: &str, path: Option<String>| (code.to_string(), path, reason.clone());
        match e {
            E::Invalid { index, report } => {
                let violations: Vec<Violation> =
                    report.violations.into_iter().map(Violation::from).collect();
                Self::Invalid {
                    code: e_code.into(),
                    path: violations.first().map(|v| v.path.clone()),
                    reason,
                    index: index.map(|i| i as u64),
                    violations,
                }
            }
            E::Duplicate { candidates } => Self::Duplicate {
                code: e_code.into(),
                path: None,
                reason,
                candidates: candidates.into_iter().map(Into::into).collect(),
            },
            E::NotFound(id) => Self::NotFound {
                code: e_code.into(),
                path: Some("id".into()),
                reason,
                id: id.to_string(),
            },
            E::ImportNotFound(id) => Self::NotFound {
                code: e_code.into(),
                path: Some("id".into()),
                reason,
                id: id.to_string(),
            },
            E::SegmentNotFound(name) => Self::NotFound {
                code: e_code.into(),
                path: Some("name".into()),
                reason,
                id: name,
            },
            E::Conflict { id, .. } => Self::Conflict {
                code: e_code.into(),
                path: None,
                reason,
                id: id.to_string(),
            },
            E::RevertConflict { import, .. } => Self::Conflict {
                code: e_code.into(),
                path: None,
                reason,
                id: import.to_string(),
            },
            E::AlreadyReverted(id) => Self::Conflict {
                code: e_code.into(),
                path: None,
                reason,
                id: id.to_string(),
            },
            E::Segment(p) => Self::FilterSyntax {
                code: e_code.into(),
                path: Some("condition".into()),
                reason,
                line: p.line as u32,
                column: p.column as u32,
            },
            E::Denied { operation, .. } => Self::Denied {
                code: e_code.into(),
                path: Some(operation),
                reason,
            },
            E::Key(_) => {
                let (code, path, reason) = plain(e_code, None);
                Self::Key { code, path, reason }
            }
            E::Store(_) if e_code == "key" => {
                let (code, path, reason) = plain(e_code, None);
                Self::Key { code, path, reason }
            }
            E::Rules(_) => {
                let (code, path, reason) = plain(e_code, Some("rules".into()));
                Self::InvalidArgument { code, path, reason }
            }
            E::InvalidOption { option, .. } => {
                let (code, path, reason) = plain(e_code, Some(option));
                Self::InvalidArgument { code, path, reason }
            }
            E::Usage(_) => {
                let (code, path, reason) = plain(e_code, None);
                Self::InvalidArgument { code, path, reason }
            }
            E::Input { file, .. } => {
                let (code, path, reason) = plain(e_code, Some(file));
                Self::Io { code, path, reason }
            }
            E::Io { path: file, .. } => {
                let (code, path, reason) = plain(e_code, Some(file));
                Self::Io { code, path, reason }
            }
            E::Corrupt(_) => {
                let (code, path, reason) = plain(e_code, None);
                Self::Storage { code, path, reason }
            }
            _ => {
                let (code, path, reason) = plain(e_code, None);
                Self::Storage { code, path, reason }
            }
        }
    }
}

/// Results of FFI calls.
pub type Result<T, E = KehuError> = std::result::Result<T, E>;
