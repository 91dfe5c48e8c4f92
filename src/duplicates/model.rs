//! The model a book scores duplicates with: learned from the book (or from a
//! bulk write's own records), kept in it, learned again when the book has
//! grown to twice what it was learned on — from a sample, so it never takes
//! long whatever the book's size.

use std::sync::Arc;

use kehu_dedupe::{Deduper, Matcher, Model, Settings};
use kehu_store::Write;
use serde::{Deserialize, Serialize};

use super::keys::SPACE;
use crate::{Book, Error};

const MODEL_KEY: &[u8] = b"model";
/// The most dossiers a model is learned from: a uniform sample keeps the
/// share of matches among candidates (both kinds of pair thin out alike).
pub(crate) const SAMPLE: usize = 100_000;
/// Books smaller than this learn their model again on every check (cheap)
/// and do not store it.
const SMALL: u64 = 64;

/// The model a book scores duplicates with, and the settings it was learned under.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct BookModel {
    pub settings: Settings,
    pub model: Model,
    /// How many dossiers the book held when the model was learned.
    pub trained_on: u64,
}

impl BookModel {
    /// Whether the model still fits a book of `count` dossiers.
    pub fn fresh(&self, count: u64) -> bool {
        count < SMALL || self.trained_on.saturating_mul(2) >= count
    }
}

/// The settings a book's duplicate model starts from.
pub(crate) fn book_settings() -> Settings {
    Matcher::dossier_settings(&Settings::default())
}

impl Book {
    /// The model duplicates are scored with: kept in memory, read from the
    /// book, or learned from it (and stored) when there is none yet or the
    /// book has doubled since.
    pub(crate) fn duplicate_model(&self) -> Result<Arc<BookModel>, Error> {
        self.duplicate_model_saving(true)
    }

    /// [`Book::duplicate_model`]; a model learned now is stored only when
    /// `save` (a caller inside a write pipeline must not commit).
    pub(crate) fn duplicate_model_saving(&self, save: bool) -> Result<Arc<BookModel>, Error> {
        self.drop_caches_changed_elsewhere()?;
        let count = self.count()?;
        if let Some(m) = self.cached_model() {
            if m.fresh(count) {
                return Ok(m);
            }
        }
        let stored = self.stored_model()?;
        let model = match stored {
            Some(m) if m.fresh(count) => m,
            other => {
                let settings = other.map(|m| m.settings).unwrap_or_else(book_settings);
                let learned = self.learn_model(settings)?;
                if count >= SMALL && save {
                    self.keep_model(&learned)?;
                }
                learned
            }
        };
        let model = Arc::new(model);
        self.cache_model(model.clone());
        Ok(model)
    }

    /// The model stored in the book, if one is and it compares the fields
    /// this build compares (one of another version is learned again).
    pub(crate) fn stored_model(&self) -> Result<Option<BookModel>, Error> {
        let doc = self.store.snapshot()?.doc(SPACE, MODEL_KEY)?;
        Ok(doc
            .and_then(|d| serde_json::from_slice::<BookModel>(&d.value).ok())
            .filter(|m| Matcher::fits(&m.model, &m.settings)))
    }

    /// The model in memory, if one was learned or read.
    pub(crate) fn cached_model(&self) -> Option<Arc<BookModel>> {
        self.dedupe_model
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn cache_model(&self, model: Arc<BookModel>) {
        *self.dedupe_model.lock().unwrap_or_else(|e| e.into_inner()) = Some(model);
    }

    /// Stores a model in the book and keeps it in memory.
    pub(crate) fn keep_model(&self, model: &BookModel) -> Result<(), Error> {
        self.store.commit(self.batch().with(model_write(model)?))?;
        self.cache_model(Arc::new(model.clone()));
        Ok(())
    }

    /// Learns a model from the book: every dossier of a small book, an even
    /// sample of a large one.
    fn learn_model(&self, settings: Settings) -> Result<BookModel, Error> {
        let snap = self.store.snapshot()?;
        let count = snap.customer_count()?;
        let step = (count as usize).div_ceil(SAMPLE).max(1);
        let mut ds = kehu_dedupe::Dataset::new(kehu_dedupe::dossier::fields());
        for (i, c) in snap.customers()?.enumerate() {
            if i % step == 0 {
                kehu_dedupe::dossier::push(&mut ds, &c?);
            }
        }
        let mut dd = Deduper::new(ds, settings.clone())?;
        dd.run(&mut |_| {})?;
        let model = dd
            .model()
            .cloned()
            .ok_or_else(|| Error::Corrupt("dedupe learned no model".into()))?;
        Ok(BookModel {
            settings,
            model,
            trained_on: count,
        })
    }
}

/// The write that stores a model in the book.
pub(crate) fn model_write(model: &BookModel) -> Result<Write, Error> {
    Ok(Write::PutDoc {
        space: SPACE.into(),
        key: MODEL_KEY.to_vec(),
        owner: None,
        value: serde_json::to_vec(model).map_err(|e| Error::Corrupt(e.to_string()))?,
    })
}
