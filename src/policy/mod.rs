//! The access policy: one stage of every read and write path of a book
//! opened for a [`Principal`] ([`crate::Book::as_principal`]).
//!
//! A [`Policy`] is plain data (roles with operations, a row scope and field
//! access, teams). The stage ([`Viewer`]) checks each operation, keeps out of
//! sight the dossiers outside the scope, masks or hides fields in every answer
//! (dossiers, related records, history, duplicate candidates, merge results,
//! segment explanations, exports, reports), refuses conditions on fields the
//! principal may not filter on, and merges a principal's writes into the
//! stored dossier so that what it cannot see is kept. Fields are named as the
//! catalogue names them (`emails`, `邮箱`, `email` are one field). Every
//! denial is recorded in the audit trail.

mod masks;
mod stage;
pub(crate) mod viewer;

use std::collections::BTreeMap;

use kehu_model::catalogue;
use serde::{Deserialize, Serialize};

use crate::Error;

pub use masks::{mask_email, mask_name, mask_phone};
pub use viewer::Viewer;

/// Who is asking: a user, their roles, their team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The user (matched against a dossier's `owner` for the `own` scope).
    pub user: String,
    /// Their roles, named in the policy.
    pub roles: Vec<String>,
    /// Their team, if the policy's `teams` does not say it.
    pub team: Option<String>,
}

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Read dossiers, related records, history, segments, duplicates.
    Read,
    /// Add dossiers.
    Add,
    /// Change dossiers and add related records.
    Update,
    /// Remove dossiers.
    Delete,
    /// Merge and unmerge dossiers.
    Merge,
    /// Import files.
    Import,
    /// Export dossiers.
    Export,
    /// Erase customers.
    Forget,
}

/// Which dossiers a role reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Those whose `owner` is the user.
    #[default]
    Own,
    /// Those owned by the user's team.
    Team,
    /// All of them.
    All,
}

/// How a field shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldAccess {
    /// Not at all.
    Hidden,
    /// Masked: `138****8000`, `z***@163.com`, `张*`.
    Masked,
    /// As stored.
    #[default]
    Visible,
}

/// One role of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Role {
    /// The operations it allows.
    pub operations: Vec<Operation>,
    /// The dossiers it reaches.
    pub scope: Scope,
    /// How fields the role does not name show.
    pub default: FieldAccess,
    /// Per field: `name`, `emails`, `phones`, `addresses`, `birth_date`,
    /// `company`, `job_title`, `external_id`, `organization`, `tags`,
    /// `custom` or `custom.<name>`, `related` (the free text of notes,
    /// interactions and feedback), or any name the catalogue knows for them.
    pub fields: BTreeMap<String, FieldAccess>,
    /// Masked fields the role may still filter on (segments, finds, export
    /// filters, dedupe); none by default, as a filter on a masked field
    /// reads it one answer at a time. Hidden fields are never filtered on.
    pub filter_masked: Vec<String>,
}

/// Roles and teams, as plain data (TOML or JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The roles by name.
    pub roles: BTreeMap<String, Role>,
    /// Teams by name: their users.
    pub teams: BTreeMap<String, Vec<String>>,
}

impl Policy {
    /// Reads a policy from TOML.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str::<Self>(text)
            .map_err(|e| Error::Usage(format!("policy: {e}")))?
            .checked()
    }

    /// Reads a policy from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str::<Self>(text)
            .map_err(|e| Error::Usage(format!("policy: {e}")))?
            .checked()
    }

    /// The policy, if every field its roles name is one the catalogue knows
    /// (any of its names), a custom field, `custom` or `related`.
    pub fn checked(self) -> Result<Self, Error> {
        for (role, r) in &self.roles {
            for name in r.fields.keys().chain(&r.filter_masked) {
                if name != "custom" && name != "related" && catalogue::resolve(name).is_none() {
                    return Err(Error::Usage(format!(
                        "policy: role {role:?} names no dossier field {name:?} (fields are named as in an export: emails, phones, birth_date, city, custom.<name>…)"
                    )));
                }
            }
        }
        Ok(self)
    }
}
