//! Export: a book, or part of it, as CSV or JSON Lines that import reads back.

use std::collections::BTreeSet;
use std::io::Write;

use chrono::TimeDelta;
use kehu_model::{Customer, CustomerId};
use kehu_rules::Severity;
use serde::{Deserialize, Serialize};

use kehu_table::cells::{customer_cells, customer_header};
use kehu_table::values::custom_text;

use super::Format;
use crate::{Book, Error};

/// Which dossiers to export. Empty: all of them. Conditions combine: a
/// dossier is exported when it meets every one given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportFilter {
    /// Only dossiers with this tag.
    pub tag: Option<String>,
    /// Only the members of this segment (a condition, as `Book::segment` reads it).
    pub segment: Option<String>,
    /// Only dossiers not verified within this long (the review queue); as
    /// data, `stale_seconds`.
    #[serde(rename = "stale_seconds", with = "seconds")]
    pub stale: Option<TimeDelta>,
    /// Only these dossiers.
    pub ids: Vec<CustomerId>,
    /// Only customers whose consent to this purpose (on this channel, if
    /// one is named) holds now: their latest consent event about it grants
    /// it and has not lapsed. A withdrawal counts from the next export on.
    pub consent: Option<ConsentFilter>,
}

/// A consent an export requires: a purpose, and a channel or any. As data,
/// `{"purpose": "marketing", "channel": "sms"}` or the text `marketing:sms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConsentData")]
pub struct ConsentFilter {
    /// What the consent is for: `marketing`.
    pub purpose: String,
    /// On which channel (`sms`); none: on at least one.
    pub channel: Option<String>,
}

/// The forms a consent filter takes in data.
#[derive(Deserialize)]
#[serde(untagged)]
enum ConsentData {
    Text(String),
    Fields {
        purpose: String,
        #[serde(default)]
        channel: Option<String>,
    },
}

impl TryFrom<ConsentData> for ConsentFilter {
    type Error = Error;
    fn try_from(d: ConsentData) -> Result<Self, Error> {
        match d {
            ConsentData::Text(t) => t.parse(),
            ConsentData::Fields { purpose, channel } => {
                let text = match channel {
                    Some(c) => format!("{purpose}:{c}"),
                    None => purpose,
                };
                text.parse()
            }
        }
    }
}

impl std::str::FromStr for ConsentFilter {
    type Err = Error;
    /// `marketing`, or `marketing:sms` for one channel.
    fn from_str(s: &str) -> Result<Self, Error> {
        let (purpose, channel) = match s.split_once(':') {
            Some((p, c)) => (p.trim(), Some(c.trim().to_string())),
            None => (s.trim(), None),
        };
        if purpose.is_empty() || channel.as_deref() == Some("") {
            return Err(Error::Usage(format!(
                "consent {s:?}: write a purpose, or PURPOSE:CHANNEL (marketing, marketing:sms)"
            )));
        }
        Ok(Self {
            purpose: purpose.to_string(),
            channel,
        })
    }
}

/// How to export. Plain data (serde), as every surface passes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportOptions {
    /// CSV or JSON Lines.
    pub format: Format,
    /// Which dossiers.
    pub filter: ExportFilter,
}

impl ExportOptions {
    /// Reads options from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        crate::options::from_json("export options", text)
    }
}

/// A span of time as whole seconds.
mod seconds {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<TimeDelta>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.num_seconds()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeDelta>, D::Error> {
        Option::<i64>::deserialize(d)?
            .map(|secs| {
                TimeDelta::try_seconds(secs)
                    .filter(|t| *t >= TimeDelta::zero())
                    .ok_or_else(|| {
                        serde::de::Error::custom(format!("{secs} seconds is out of range"))
                    })
            })
            .transpose()
    }
}

impl Book {
    /// Writes dossiers as CSV (one row each, the columns import maps back) or
    /// JSON Lines (each dossier whole). Returns how many were written.
    ///
    /// JSON Lines keeps everything. CSV keeps one column per field, every
    /// e-mail and phone (primary first) and the primary address; labels, raw
    /// values and further addresses are JSON Lines only. Importing either into
    /// an empty book and exporting again gives the same file.
    /// For a principal: the dossiers in its scope, masked; its filters are
    /// conditions like any other (refused on a field it may not filter on).
    pub fn export(&self, out: &mut dyn Write, options: &ExportOptions) -> Result<u64, Error> {
        self.allow(crate::Operation::Export, None)?;
        self.export_with(out, options)
    }

    /// [`Book::export`] into a file (created or replaced). Returns how many were written.
    pub fn export_file(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &ExportOptions,
    ) -> Result<u64, Error> {
        self.allow(crate::Operation::Export, None)?;
        let path = path.as_ref();
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        let n = self.export_with(&mut out, options)?;
        out.flush().map_err(|e| Error::io(path, e))?;
        Ok(n)
    }

    /// The dossiers a filter selects that the handle reaches, as it may see
    /// them, in id order: what every export writes, in any format.
    pub(crate) fn exported<'b>(
        &'b self,
        filter: &ExportFilter,
    ) -> Result<impl Iterator<Item = Result<Customer, Error>> + 'b, Error> {
        let consent = filter.consent.clone().map(|c| (c.purpose, c.channel));
        let now = self.now();
        Ok(self
            .export_set(filter)?
            .filter_map(|c| c.map(|c| self.shown(c)).transpose())
            .filter_map(move |c| match (c, &consent) {
                (Ok(c), Some((purpose, channel))) => match self.consents(c.id) {
                    Ok(events) => {
                        kehu_model::consent_holds(&events, purpose, channel.as_deref(), now)
                            .then_some(Ok(c))
                    }
                    Err(e) => Some(Err(e)),
                },
                (c, _) => Some(c),
            }))
    }

    /// [`Book::export`] of the dossiers the handle reaches, as it may see them.
    fn export_with(&self, out: &mut dyn Write, options: &ExportOptions) -> Result<u64, Error> {
        let io = |e: std::io::Error| Error::Io {
            path: "export output".into(),
            source: e,
        };
        let customers = self.exported(&options.filter)?;
        let mut n = 0u64;
        match options.format {
            Format::Jsonl => {
                for c in customers {
                    let c = c?;
                    serde_json::to_writer(&mut *out, &c).map_err(|e| io(e.into()))?;
                    out.write_all(b"\n").map_err(io)?;
                    n += 1;
                }
            }
            Format::Csv => {
                let custom = self.custom_columns(&options.filter)?;
                let mut w = csv::Writer::from_writer(&mut *out);
                w.write_record(customer_header(&custom))
                    .map_err(|e| io(e.into()))?;
                for c in customers {
                    let c = c?;
                    w.write_record(customer_cells(&c, &custom))
                        .map_err(|e| io(e.into()))?;
                    n += 1;
                }
                w.flush().map_err(io)?;
            }
        }
        out.flush().map_err(io)?;
        self.record_audit(
            "export",
            None,
            Some(format!("{n} dossiers as {:?}", options.format).to_lowercase()),
        )?;
        Ok(n)
    }

    /// The dossiers a filter selects, in id order.
    fn export_set(
        &self,
        filter: &ExportFilter,
    ) -> Result<Box<dyn Iterator<Item = Result<Customer, Error>> + '_>, Error> {
        let mut selected: Option<BTreeSet<CustomerId>> = None;
        let mut narrow = |ids: Vec<CustomerId>| {
            let ids: BTreeSet<CustomerId> = ids.into_iter().collect();
            selected = Some(match selected.take() {
                Some(s) => s.intersection(&ids).copied().collect(),
                None => ids,
            });
        };
        if let Some(tag) = &filter.tag {
            narrow(self.find_by_tag(tag)?.into_iter().map(|c| c.id).collect());
        }
        if let Some(age) = filter.stale {
            narrow(self.stale(age)?.into_iter().map(|c| c.id).collect());
        }
        if !filter.ids.is_empty() {
            narrow(filter.ids.clone());
        }
        if let Some(condition) = &filter.segment {
            narrow(self.segment_ids(&self.segment(condition)?, None)?);
        }
        match selected {
            Some(ids) => {
                let snap = self.store.snapshot()?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    match snap.customer(id)? {
                        Some(c) => out.push(Ok(c)),
                        None => return Err(Error::NotFound(id)),
                    }
                }
                Ok(Box::new(out.into_iter()))
            }
            None => {
                let snap = self.store.snapshot()?;
                let all: Vec<Result<Customer, Error>> =
                    snap.customers()?.map(|r| r.map_err(Error::from)).collect();
                Ok(Box::new(all.into_iter()))
            }
        }
    }

    /// The custom-field columns: the declared fields, and any others the
    /// dossiers hold when the rules let undeclared fields in.
    pub(crate) fn custom_columns(&self, filter: &ExportFilter) -> Result<Vec<String>, Error> {
        let set = self.rules.rule_set();
        let mut names: BTreeSet<String> = set.custom.iter().map(|c| c.name.clone()).collect();
        if set.severity.unknown_custom != Severity::Error {
            // A value that prints empty reads back as no value: no column for it.
            for c in self.export_set(filter)? {
                let c = c?;
                let shown = c.custom.iter().filter(|(_, v)| !custom_text(v).is_empty());
                names.extend(shown.map(|(k, _)| k.clone()));
            }
        }
        if let Some(v) = self.viewer() {
            names.retain(|n| v.access(&format!("custom.{n}")) != crate::FieldAccess::Hidden);
        }
        Ok(names.into_iter().collect())
    }
}
