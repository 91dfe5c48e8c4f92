use std::fmt;

use serde::{Deserialize, Serialize};

/// How much a violation matters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The check is not run.
    Off,
    /// Reported; the write goes on.
    Warning,
    /// Blocks the write.
    #[default]
    Error,
}

/// One problem with a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Where: `emails[1].address`, `custom.member_level`, `organization.industry`.
    pub path: String,
    /// A stable code: `required`, `format.email`, `format.phone`, `length.max`, …
    pub code: String,
    /// The id of the rule that found it (`builtin.email` for built-in checks).
    pub rule: String,
    /// Error or warning.
    pub severity: Severity,
    /// A human message naming the problem; it never echoes the whole record.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Off => "off",
        };
        let path = if self.path.is_empty() {
            "(record)"
        } else {
            &self.path
        };
        write!(f, "{level} {path}: {} [{}]", self.message, self.code)
    }
}

/// Every violation found in one record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Report {
    /// The violations, in the order the checks found them.
    pub violations: Vec<Violation>,
    /// The region phone numbers written without a country code were read
    /// in, and the clue that decided it; none when no number needed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<crate::ImpliedRegion>,
}

impl Report {
    /// True when nothing blocks the write (warnings may remain).
    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }

    /// True when there is nothing at all to report.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// The violations that block the write.
    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Error)
    }

    /// The violations that do not block the write.
    pub fn warnings(&self) -> impl Iterator<Item = &Violation> {
        self.violations
            .iter()
            .filter(|v| v.severity == Severity::Warning)
    }

    /// Records a violation; one with severity [`Severity::Off`] is dropped.
    pub fn push(
        &mut self,
        severity: Severity,
        path: impl Into<String>,
        code: &str,
        rule: &str,
        message: impl Into<String>,
    ) {
        if severity != Severity::Off {
            self.violations.push(Violation {
                path: path.into(),
                code: code.to_string(),
                rule: rule.to_string(),
                severity,
                message: message.into(),
            });
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        write!(f, "{errors} error(s), {warnings} warning(s)")?;
        if let Some(r) = &self.region {
            write!(f, " ({r})")?;
        }
        for v in &self.violations {
            write!(f, "; {v}")?;
        }
        Ok(())
    }
}
