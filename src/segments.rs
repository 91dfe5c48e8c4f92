//! Segments over a book: the schema its rules imply, members, counts, explanations.

use kehu_model::{Customer, CustomerId, Timestamp};
use kehu_rules::CustomType;
use kehu_segment::{Explanation, Projection, Schema, Segment, ValueType};

/// How many changed customers the projection carries before it is rebuilt (or a tenth of it).
const REBUILD_AFTER: usize = 10_000;

/// A customer's dossier and records as a write left them (none: removed).
pub(crate) type Written = Option<(Customer, Vec<kehu_model::Related>)>;

/// The book's columnar projection and the customers changed since it was built.
pub(crate) struct ProjectionCache {
    projection: Projection,
    /// The segments it was built for (its columns are theirs).
    segments: Vec<Segment>,
    /// Customers written since: their dossier and records now, or none if removed.
    changed: std::collections::HashMap<CustomerId, Written>,
}

impl ProjectionCache {
    /// Whether it read the customers' related records (only when a segment
    /// it was built for needs them; the aggregates of one that did not are empty).
    fn reads_related(&self) -> bool {
        self.segments.iter().any(Segment::needs_related)
    }

    /// Whether it can answer `segment`: every column, and the related records
    /// when the segment reads them.
    fn covers(&self, segment: &Segment) -> bool {
        self.projection.covers(segment) && (self.reads_related() || !segment.needs_related())
    }
}

use crate::{Book, Error};

/// A dossier as it was at `t`: none when it was created after `t`; else
/// the current one, rolled back through every update its change log
/// records after `t` (only a dossier updated since has any).
fn as_of_instant(
    snap: &dyn kehu_store::Snapshot,
    current: Customer,
    t: Timestamp,
) -> Result<Option<Customer>, Error> {
    if current.created_at > t {
        return Ok(None);
    }
    if current.updated_at <= t {
        return Ok(Some(current));
    }
    let history = snap.history(current.id)?;
    let mut c = current;
    for change in history.iter().rev() {
        if change.at <= t {
            // The latest change by then is when it was last updated.
            c.updated_at = change.at;
            return Ok(Some(c));
        }
        if change.op == kehu_store::ChangeOp::Updated {
            c = kehu_model::undo(&c, &change.fields).map_err(|e| Error::Corrupt(e.to_string()))?;
        }
    }
    c.updated_at = c.created_at;
    Ok(Some(c))
}

impl Book {
    /// The fields this book's segments can name: the standard ones and the
    /// custom fields its rules declare.
    pub fn schema(&self) -> Schema {
        self.rules
            .rule_set()
            .custom
            .iter()
            .fold(Schema::standard(), |schema, c| {
                let value_type = match c.kind {
                    CustomType::Integer | CustomType::Decimal => ValueType::Number,
                    CustomType::Date => ValueType::Date,
                    CustomType::Datetime => ValueType::DateTime,
                    CustomType::Text
                    | CustomType::Enum
                    | CustomType::TextList
                    | CustomType::Bool => ValueType::Text,
                };
                schema.with_custom(c.name.clone(), value_type)
            })
    }

    /// Parses a segment condition against this book's schema and saved
    /// segments (for `in segment "name"`).
    pub fn segment(&self, condition: &str) -> Result<Segment, Error> {
        Ok(Segment::parse(condition, &self.schema_with_saved()?)?)
    }

    /// The schema with the saved segments' conditions.
    pub(crate) fn schema_with_saved(&self) -> Result<Schema, Error> {
        Ok(self
            .saved_segments()?
            .into_iter()
            .fold(self.schema(), |s, saved| {
                s.with_segment(saved.name, saved.condition)
            }))
    }

    /// The members of a segment, in id order, as of `as_of` (now when
    /// none): then, each dossier as it was at that instant.
    pub fn segment_members(
        &self,
        segment: &Segment,
        as_of: Option<Timestamp>,
    ) -> Result<Vec<Customer>, Error> {
        self.may_ask(segment)?;
        if let Some(t) = as_of {
            return Ok(self.shown_all(self.members_as_of(segment, t)?));
        }
        let ids = self.member_ids(segment)?;
        let snap = self.store.snapshot()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = snap.customer(id)? {
                out.extend(self.shown(c));
            }
        }
        Ok(out)
    }

    /// Fails unless the handle may ask the segment: read, and filter on every
    /// field it tests.
    pub(crate) fn may_ask(&self, segment: &Segment) -> Result<(), Error> {
        self.allow(crate::Operation::Read, None)?;
        self.filter_on(segment.fields().iter().map(String::as_str))
    }

    /// Of these ids, those whose dossiers the handle reaches.
    pub(crate) fn reached_ids(&self, ids: Vec<CustomerId>) -> Result<Vec<CustomerId>, Error> {
        if self.viewer().is_none_or(|v| v.reaches_all()) {
            return Ok(ids);
        }
        let snap = self.store.snapshot()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if snap.customer(id)?.is_some_and(|c| self.reaches(&c)) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// How many customers a segment holds, as of `as_of` (now when none).
    pub fn segment_count(
        &self,
        segment: &Segment,
        as_of: Option<Timestamp>,
    ) -> Result<usize, Error> {
        Ok(self.segment_ids(segment, as_of)?.len())
    }

    /// The members' ids (for a principal: those it reaches, the segment
    /// checked as [`Book::segment_members`] checks it).
    pub fn segment_ids(
        &self,
        segment: &Segment,
        as_of: Option<Timestamp>,
    ) -> Result<Vec<CustomerId>, Error> {
        self.may_ask(segment)?;
        let ids = match as_of {
            Some(t) => self
                .members_as_of(segment, t)?
                .into_iter()
                .map(|c| c.id)
                .collect(),
            None => self.member_ids(segment)?,
        };
        self.reached_ids(ids)
    }

    /// The members' ids, in id order, from the book's columnar projection:
    /// built on first use (and again when a segment needs columns it lacks),
    /// then kept current by the book's writes, whose customers are evaluated
    /// one by one until so many changed that a rebuild is cheaper. As of an
    /// instant, from the dossiers as they were then ([`Book::customer_as_of`]).
    /// The whole book's: no policy.
    pub(crate) fn member_ids(&self, segment: &Segment) -> Result<Vec<CustomerId>, Error> {
        self.drop_caches_changed_elsewhere()?;
        let now = self.now();
        if segment.needs_consents() {
            // Consent is decided by each customer's latest consent event as of
            // `now`: read row by row, so a withdrawal counts at once.
            let snap = self.store.snapshot()?;
            let mut ids = Vec::new();
            for c in snap.customers()? {
                let c = c?;
                let related = snap.related(c.id, None)?;
                if segment.matches(&c, &related, now) {
                    ids.push(c.id);
                }
            }
            return Ok(ids);
        }
        let mut cache = self
            .projection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cache = match cache.take() {
            Some(c) if c.covers(segment) => cache.insert(c),
            old => {
                let mut segments: Vec<Segment> = old.map(|c| c.segments).unwrap_or_default();
                segments.push(segment.clone());
                cache.insert(self.build_projection(segments)?)
            }
        };
        let mut ids: Vec<CustomerId> = cache
            .projection
            .members(segment, now)
            .into_iter()
            .filter(|id| !cache.changed.contains_key(id))
            .collect();
        for (id, dossier) in &cache.changed {
            if let Some((c, related)) = dossier {
                if segment.matches(c, related, now) {
                    ids.push(*id);
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn build_projection(&self, segments: Vec<Segment>) -> Result<ProjectionCache, Error> {
        let snap = self.store.snapshot()?;
        let needs_related = segments.iter().any(Segment::needs_related);
        let mut rows = Vec::new();
        for c in snap.customers()? {
            let c = c?;
            let related = if needs_related {
                snap.related(c.id, None)?
            } else {
                Vec::new()
            };
            rows.push((c, related));
        }
        let refs: Vec<&Segment> = segments.iter().collect();
        let projection = Projection::build(rows.iter().map(|(c, r)| (c, r.as_slice())), &refs);
        Ok(ProjectionCache {
            projection,
            segments,
            changed: Default::default(),
        })
    }

    /// Whether the book has a projection: how many more written customers it
    /// takes before rebuilding is cheaper, and whether it reads related records.
    pub(crate) fn projection_room(&self) -> Option<(usize, bool)> {
        let cache = self
            .projection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.as_ref().map(|c| {
            let limit = REBUILD_AFTER.max(c.projection.len() / 10);
            (limit.saturating_sub(c.changed.len()), c.reads_related())
        })
    }

    /// Drops the projection: the next question rebuilds it.
    pub(crate) fn drop_projection(&self) {
        *self
            .projection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Notes customers a write changed, for the projection (if there is one).
    pub(crate) fn changed_for_projection(&self, dossiers: Vec<(CustomerId, Written)>) {
        let mut cache = self
            .projection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(c) = cache.as_mut() else { return };
        c.changed.extend(dossiers);
        if c.changed.len() > REBUILD_AFTER.max(c.projection.len() / 10) {
            *cache = None; // cheaper to rebuild on the next question
        }
    }

    /// Why a customer is in a segment or not, as of `as_of` (now when
    /// none; then, the dossier as it was at that instant).
    pub fn explain_segment(
        &self,
        segment: &Segment,
        id: CustomerId,
        as_of: Option<Timestamp>,
    ) -> Result<Explanation, Error> {
        self.may_ask(segment)?;
        self.reach(crate::Operation::Read, id)?;
        let now = as_of.unwrap_or_else(|| self.now());
        let snap = self.store.snapshot()?;
        let mut c = snap.customer(id)?.ok_or(Error::NotFound(id))?;
        if let Some(t) = as_of {
            c = as_of_instant(&*snap, c, t)?.ok_or_else(|| {
                Error::Usage(format!(
                    "customer {id} was created after {}: the book did not hold it then",
                    t.to_rfc3339()
                ))
            })?;
        }
        let related = snap.related(id, None)?;
        let e = segment.explain(&c, &related, now);
        Ok(match self.viewer() {
            Some(v) => v.explanation(e),
            None => e,
        })
    }

    /// A dossier as it was at an instant (see [`Book::segment_members`]):
    /// none when it was created after it or is gone now (an erased customer
    /// stays erased; one merged away lives on in its survivor).
    pub fn customer_as_of(&self, id: CustomerId, t: Timestamp) -> Result<Option<Customer>, Error> {
        self.allow(crate::Operation::Read, Some(id))?;
        let snap = self.store.snapshot()?;
        match snap.customer(id)? {
            Some(c) if self.reaches(&c) => Ok(as_of_instant(&*snap, c, t)?.map(|c| {
                // The dossier as it was, masked as it is now.
                match self.viewer() {
                    Some(v) => v.customer(c),
                    None => c,
                }
            })),
            _ => Ok(None),
        }
    }

    /// The members of a segment as of an instant: every dossier as it was
    /// then, evaluated with the records it had then.
    fn members_as_of(&self, segment: &Segment, t: Timestamp) -> Result<Vec<Customer>, Error> {
        let snap = self.store.snapshot()?;
        let related = segment.needs_related() || segment.needs_consents();
        let mut out = Vec::new();
        for c in snap.customers()? {
            let Some(c) = as_of_instant(&*snap, c?, t)? else {
                continue;
            };
            let records = if related {
                snap.related(c.id, None)?
            } else {
                Vec::new()
            };
            if segment.matches(&c, &records, t) {
                out.push(c);
            }
        }
        out.sort_by_key(|c| c.id);
        Ok(out)
    }
}

/// How to classify a book's customers. Plain data (serde), checked by
/// [`ClassifyOptions::check`] before a classification runs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifyOptions {
    /// The currency of the monetary value; the most used one in the book when unset.
    pub currency: Option<kehu_model::Currency>,
    /// RFM cut-offs (quintiles by default).
    pub rfm: kehu_segment::classify::RfmConfig,
    /// Value tiers.
    pub tiers: kehu_segment::classify::TierConfig,
    /// Lifecycle stages from activity.
    pub lifecycle: kehu_segment::classify::LifecycleConfig,
    /// Classify as of this instant instead of now.
    pub as_of: Option<Timestamp>,
}

impl ClassifyOptions {
    /// Checks the cut-offs: RFM's ascending, tier shares between 0 and 1,
    /// lifecycle days in order.
    pub fn check(&self) -> Result<(), Error> {
        self.rfm
            .check()
            .map_err(|m| Error::Usage(format!("rfm: {m}")))?;
        self.tiers
            .check()
            .map_err(|m| Error::Usage(format!("tiers: {m}")))?;
        self.lifecycle
            .check()
            .map_err(|m| Error::Usage(format!("lifecycle: {m}")))
    }

    /// Reads options from JSON.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let options: Self = crate::options::from_json("classify options", text)?;
        options.check()?;
        Ok(options)
    }

    /// Reads options from TOML, or JSON when the text starts with `{`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.trim_start().starts_with('{') {
            return Self::from_json(text);
        }
        let options: Self =
            toml::from_str(text).map_err(|e| Error::option("classify options", e.to_string()))?;
        options.check()?;
        Ok(options)
    }
}

/// One customer's classes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Classes {
    /// The customer.
    pub id: CustomerId,
    /// Purchases counted.
    pub purchases: u32,
    /// The monetary total, in major units of the currency.
    pub monetary: f64,
    /// RFM scores and group (none without purchases).
    pub rfm: Option<kehu_segment::classify::Rfm>,
    /// The value tier (none without purchases).
    pub tier: Option<kehu_segment::classify::Tier>,
    /// The lifecycle stage: the dossier's own, else derived from purchases.
    pub stage: kehu_model::LifecycleStage,
}

impl Book {
    /// RFM, value tier and lifecycle stage of every customer, and the currency used.
    pub fn classify(
        &self,
        options: &ClassifyOptions,
    ) -> Result<(kehu_model::Currency, Vec<Classes>), Error> {
        use kehu_segment::classify::{lifecycle, rfm, value_tiers, Activity};
        options.check()?;
        self.allow(crate::Operation::Read, None)?;
        let now = options.as_of.unwrap_or_else(|| self.now());
        let snap = self.store.snapshot()?;
        let mut customers = Vec::new();
        for c in snap.customers()? {
            let c = c?;
            let related = snap.related(c.id, Some(kehu_model::RelatedKind::Purchase))?;
            customers.push((c.id, c.lifecycle_stage, related));
        }
        let currency = match options.currency {
            Some(c) => c,
            None => {
                let mut counts: std::collections::BTreeMap<String, (u64, kehu_model::Currency)> =
                    Default::default();
                for (_, _, related) in &customers {
                    for r in related {
                        if let kehu_model::Related::Purchase(p) = r {
                            let e = counts
                                .entry(p.amount.currency.code().to_string())
                                .or_insert((0, p.amount.currency));
                            e.0 += 1;
                        }
                    }
                }
                match counts.values().max_by_key(|(n, _)| *n) {
                    Some((_, c)) => *c,
                    None => "CNY"
                        .parse()
                        .map_err(|_| Error::Usage("no default currency".into()))?,
                }
            }
        };
        let activities: Vec<Activity> = customers
            .iter()
            .map(|(_, _, related)| Activity::of(related, currency))
            .collect();
        let scores = rfm(&activities, now, &options.rfm);
        let tiers = value_tiers(&activities, &options.tiers);
        let classes = customers
            .iter()
            .zip(&activities)
            .zip(scores.into_iter().zip(tiers))
            .map(|(((id, explicit, _), a), (rfm, tier))| Classes {
                id: *id,
                purchases: a.count,
                monetary: a.monetary,
                rfm,
                tier,
                stage: lifecycle(a, *explicit, now, &options.lifecycle),
            })
            .collect::<Vec<_>>();
        // Scores are relative to the whole book; a principal sees its own.
        let reached = self.reached_ids(classes.iter().map(|k| k.id).collect())?;
        let classes = if reached.len() == classes.len() {
            classes
        } else {
            let keep: std::collections::HashSet<CustomerId> = reached.into_iter().collect();
            classes
                .into_iter()
                .filter(|k| keep.contains(&k.id))
                .collect()
        };
        Ok((currency, classes))
    }
}

impl Book {
    /// Applies a tag by rule: customers in the high value tier get it, others
    /// lose it (the VIP rule). Each change is an update, in the change log.
    /// Returns how many were tagged and untagged.
    pub fn apply_tier_tag(
        &self,
        tag: &str,
        options: &ClassifyOptions,
    ) -> Result<(u64, u64), Error> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(Error::Usage("the tag to apply is empty".into()));
        }
        self.whole_book(crate::Operation::Update, "tag the book by value tier")?;
        let (_, classes) = self.classify(options)?;
        let (mut added, mut removed) = (0, 0);
        for k in classes {
            let high = k.tier == Some(kehu_segment::classify::Tier::High);
            let mut c = self.get(k.id)?;
            let has = c.tags.iter().any(|t| t == tag);
            if high && !has {
                c.tags.push(tag.to_string());
                added += 1;
            } else if !high && has {
                c.tags.retain(|t| t != tag);
                removed += 1;
            } else {
                continue;
            }
            self.update(c)?;
        }
        Ok((added, removed))
    }
}
