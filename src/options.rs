//! Options as data: how a book is opened, and the one reader of options
//! given as JSON by the bindings and the CLI.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Reads options of type `T` from JSON; an error names the option at fault.
pub fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            Error::option(what, inner.to_string())
        } else {
            Error::option(path, inner.to_string())
        }
    })
}

/// How to open a book. Plain data: a phone app, a server and the CLI fill
/// the same fields; [`OpenOptions::check`] is the one check of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenOptions {
    /// Rules to check writes by; they are saved in the book, so every later
    /// open (from any language) applies them. None: the rules saved in the
    /// book, else the standard rules.
    pub rules: Option<kehu_rules::RuleSet>,
    /// The store's page cache in MiB (1 to 65,536): a few on a phone,
    /// hundreds on a server. None: the store's default (256 MiB for redb).
    pub cache_mb: Option<u32>,
    /// Who writes, as recorded in the change log and the audit trail (default `kehu`).
    pub actor: Option<String>,
    /// Open the book for this principal: every read and write of the book
    /// goes through the access [`policy`](Self::policy) (see [`crate::policy`]).
    pub principal: Option<crate::Principal>,
    /// The access policy a principal reads and writes under.
    pub policy: Option<crate::Policy>,
}

impl OpenOptions {
    /// Checks the options.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(mb) = self.cache_mb {
            if mb == 0 || mb > 64 * 1024 {
                return Err(Error::option(
                    "cache_mb",
                    format!("{mb} MiB; the page cache is 1 to 65536 MiB"),
                ));
            }
        }
        if self.actor.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err(Error::option("actor", "the actor is empty"));
        }
        match (&self.principal, &self.policy) {
            (Some(_), None) => {
                return Err(Error::option(
                    "principal",
                    "a principal needs the policy it reads and writes under",
                ))
            }
            (Some(_), Some(_)) if self.rules.is_some() => {
                return Err(Error::option(
                    "rules",
                    "a principal cannot set the book's rules; open it as its owner to save rules",
                ))
            }
            (_, Some(p)) => {
                p.clone().checked()?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads options from JSON; a rule set among them is read as
    /// `RuleSet::from_json` reads one (its errors are rule errors).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let mut value: serde_json::Value = from_json("open options", text)?;
        let rules = match value.as_object_mut().and_then(|o| o.remove("rules")) {
            Some(serde_json::Value::Null) | None => None,
            Some(r) => Some(kehu_rules::RuleSet::from_json(&r.to_string())?),
        };
        let mut options: Self = from_json("open options", &value.to_string())?;
        options.rules = rules;
        options.check()?;
        Ok(options)
    }

    /// The page cache in bytes, when set.
    pub(crate) fn cache_bytes(&self) -> Option<usize> {
        self.cache_mb.map(|mb| mb as usize * 1024 * 1024)
    }
}
