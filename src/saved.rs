//! Saved segments: static ones keep the members of the moment they were
//! saved; dynamic ones are kept current as the book changes, and announce who
//! enters and who leaves.

use std::collections::HashSet;
use std::sync::PoisonError;

use kehu_model::{CustomerId, Timestamp};
use kehu_segment::Segment;
use kehu_store::{Batch, Write};
use serde::{Deserialize, Serialize};

use crate::{Book, Error};

/// The document space of saved segments (key: the name).
const SPACE: &str = "segment";

/// A segment saved in the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSegment {
    /// Its name.
    pub name: String,
    /// The condition, as written.
    pub condition: String,
    /// Dynamic (always current) or static (the members when it was saved).
    pub dynamic: bool,
    /// When it was saved.
    pub saved_at: Timestamp,
    /// A static segment's members; empty for a dynamic one.
    pub members: Vec<CustomerId>,
}

/// A customer entering or leaving a dynamic segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEvent {
    /// The segment's name.
    pub segment: String,
    /// The customer.
    pub customer: CustomerId,
    /// True when the customer entered, false when they left.
    pub entered: bool,
}

/// A listener of segment events.
pub type Listener = Box<dyn Fn(&SegmentEvent) + Send + Sync>;

/// The dynamic segments' members, kept in memory once asked for.
#[derive(Default)]
pub(crate) struct Live {
    loaded: bool,
    segments: Vec<(String, Segment, HashSet<CustomerId>)>,
    listeners: Vec<Listener>,
}

impl Book {
    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves a segment under a name (replacing one of that name). A static
    /// segment keeps today's members; a dynamic one stays current.
    pub fn save_segment(
        &self,
        name: &str,
        condition: &str,
        dynamic: bool,
    ) -> Result<SavedSegment, Error> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Usage("a saved segment needs a name".into()));
        }
        // Parsed with this definition in place, so a circle through other
        // saved segments back to this one is found.
        let schema = self.schema_with_saved()?.with_segment(name, condition);
        let segment = Segment::parse_named(Some(name), condition, &schema)?;
        self.may_ask(&segment)?;
        self.allow(crate::Operation::Update, None)?;
        let members: Vec<CustomerId> = self.member_ids(&segment)?;
        let saved = SavedSegment {
            name: name.to_string(),
            condition: condition.to_string(),
            dynamic,
            saved_at: self.now(),
            members: if dynamic { Vec::new() } else { members.clone() },
        };
        let value = serde_json::to_vec(&saved).map_err(|e| Error::Corrupt(e.to_string()))?;
        self.store.commit(
            Batch::new(self.actor.clone(), self.now()).with(Write::PutDoc {
                space: SPACE.into(),
                key: name.as_bytes().to_vec(),
                owner: None,
                value,
            }),
        )?;
        let mut live = self.live();
        live.segments.retain(|(n, _, _)| n != name);
        if dynamic && live.loaded {
            live.segments
                .push((name.to_string(), segment, members.into_iter().collect()));
        }
        Ok(saved)
    }

    /// Every saved segment, by name.
    pub fn saved_segments(&self) -> Result<Vec<SavedSegment>, Error> {
        let snap = self.store.snapshot()?;
        snap.docs(SPACE, b"")?
            .iter()
            .map(|d| {
                serde_json::from_slice(&d.value)
                    .map_err(|e| Error::Corrupt(format!("saved segment: {e}")))
            })
            .collect()
    }

    /// The saved segment of this name.
    pub fn saved_segment(&self, name: &str) -> Result<SavedSegment, Error> {
        let snap = self.store.snapshot()?;
        let doc = snap
            .doc(SPACE, name.trim().as_bytes())?
            .ok_or_else(|| Error::SegmentNotFound(name.to_string()))?;
        serde_json::from_slice(&doc.value)
            .map_err(|e| Error::Corrupt(format!("saved segment: {e}")))
    }

    /// Deletes a saved segment.
    pub fn delete_segment(&self, name: &str) -> Result<(), Error> {
        self.allow(crate::Operation::Update, None)?;
        self.saved_segment(name)?;
        self.store.commit(
            Batch::new(self.actor.clone(), self.now()).with(Write::DeleteDoc {
                space: SPACE.into(),
                key: name.trim().as_bytes().to_vec(),
            }),
        )?;
        self.live().segments.retain(|(n, _, _)| n != name.trim());
        Ok(())
    }

    /// The members of a saved segment: a static one's as saved, a dynamic
    /// one's as of now (kept current once loaded).
    pub fn saved_segment_members(&self, name: &str) -> Result<Vec<CustomerId>, Error> {
        let saved = self.saved_segment(name)?;
        if self.viewer().is_some() {
            self.may_ask(&self.segment(&saved.condition)?)?;
            let ids = self.saved_members(saved)?;
            return self.reached_ids(ids);
        }
        self.saved_members(saved)
    }

    fn saved_members(&self, saved: SavedSegment) -> Result<Vec<CustomerId>, Error> {
        if !saved.dynamic {
            return Ok(saved.members);
        }
        self.load_live()?;
        let live = self.live();
        let mut ids: Vec<CustomerId> = live
            .segments
            .iter()
            .find(|(n, _, _)| *n == saved.name)
            .map(|(_, _, m)| m.iter().copied().collect())
            .unwrap_or_default();
        ids.sort();
        Ok(ids)
    }

    /// Calls `listener` whenever a customer enters or leaves a dynamic saved
    /// segment through a write of this book (add, update, remove, relate,
    /// import, revert). Relative dates move with time, not with writes:
    /// `refresh_segments` re-evaluates everyone.
    pub fn on_segment_change(&self, listener: Listener) -> Result<(), Error> {
        self.owner_only("segment listeners")?;
        self.load_live()?;
        self.live().listeners.push(listener);
        Ok(())
    }

    /// Re-evaluates every dynamic segment for every customer, announcing the changes.
    pub fn refresh_segments(&self) -> Result<(), Error> {
        let snap = self.store.snapshot()?;
        let mut ids: Vec<CustomerId> = Vec::new();
        for c in snap.customers()? {
            ids.push(c?.id);
        }
        drop(snap);
        self.load_live()?;
        let gone: Vec<CustomerId> = {
            let live = self.live();
            let present: HashSet<CustomerId> = ids.iter().copied().collect();
            live.segments
                .iter()
                .flat_map(|(_, _, m)| m.iter().copied())
                .filter(|id| !present.contains(id))
                .collect()
        };
        self.touched(ids.iter().chain(&gone).copied())
    }

    /// Forgets the live segments' members (they are evaluated again when next needed).
    pub(crate) fn forget_live_members(&self) {
        let mut live = self.live();
        live.loaded = false;
        live.segments.clear();
    }

    fn load_live(&self) -> Result<(), Error> {
        self.drop_caches_changed_elsewhere()?;
        if self.live().loaded {
            return Ok(());
        }
        let mut segments = Vec::new();
        for saved in self.saved_segments()?.into_iter().filter(|s| s.dynamic) {
            let segment = self.segment(&saved.condition)?;
            let members = self.member_ids(&segment)?.into_iter().collect();
            segments.push((saved.name, segment, members));
        }
        let mut live = self.live();
        if !live.loaded {
            live.segments = segments;
            live.loaded = true;
        }
        Ok(())
    }

    /// Re-evaluates the dynamic segments for customers a write changed, and
    /// announces who entered and who left.
    pub(crate) fn touched(&self, ids: impl IntoIterator<Item = CustomerId>) -> Result<(), Error> {
        let mut room = self.projection_room();
        let mut live = self.live();
        let live_on = live.loaded && !live.segments.is_empty();
        if !live_on && room.is_none() {
            return Ok(());
        }
        let now = self.now();
        let live_needs_related = live.segments.iter().any(|(_, s, _)| s.needs_related());
        let snap = self.store.snapshot()?;
        let mut events = Vec::new();
        let mut seen = HashSet::new();
        let mut changed = Vec::new();
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            // So many written customers that rebuilding the projection is
            // cheaper: drop it now rather than copy them all.
            if room.is_some_and(|(left, _)| left == 0) {
                self.drop_projection();
                room = None;
                changed.clear();
                if !live_on {
                    return Ok(());
                }
            }
            let customer = snap.customer(id)?;
            let needs_related = live_needs_related || room.is_some_and(|(_, r)| r);
            let related = match (&customer, needs_related) {
                (Some(_), true) => snap.related(id, None)?,
                _ => Vec::new(),
            };
            if let Some((left, _)) = &mut room {
                *left -= 1;
                changed.push((id, customer.clone().map(|c| (c, related.clone()))));
            }
            for (name, segment, members) in &mut live.segments {
                let now_in = customer
                    .as_ref()
                    .is_some_and(|c| segment.matches(c, &related, now));
                let was_in = members.contains(&id);
                if now_in != was_in {
                    if now_in {
                        members.insert(id);
                    } else {
                        members.remove(&id);
                    }
                    events.push(SegmentEvent {
                        segment: name.clone(),
                        customer: id,
                        entered: now_in,
                    });
                }
            }
        }
        for e in &events {
            for listener in &live.listeners {
                listener(e);
            }
        }
        drop(live);
        if room.is_some() {
            self.changed_for_projection(changed);
        }
        Ok(())
    }
}
