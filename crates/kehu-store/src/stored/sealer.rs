//! Sealing bound to a transaction: the codec, and (for a codec with
//! per-customer keys) the table where each customer's wrapped key lives.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kehu_model::CustomerId;

use crate::{DataKey, Error, FieldCodec, Result};

/// What the value encoders seal and open through.
pub trait Seal {
    /// Seals a value of `owner` (the nil id: the book's own values).
    fn seal(&self, owner: CustomerId, plain: Vec<u8>) -> Result<Vec<u8>>;
    /// Opens what [`Seal::seal`] produced.
    fn open(&self, owner: CustomerId, sealed: Vec<u8>) -> Result<Vec<u8>>;
}

/// Where a backend keeps the wrapped per-customer keys, as one transaction sees them.
pub trait WrappedKeys {
    /// The owner's wrapped key, if there is one.
    fn get(&mut self, owner: CustomerId) -> Result<Option<Vec<u8>>>;
    /// Stores a new wrapped key; a read-only view answers [`Error::Erased`]
    /// (a reader never makes keys).
    fn put(&mut self, owner: CustomerId, wrapped: &[u8]) -> Result<()>;
    /// Removes the owner's wrapped key (in a write transaction).
    fn remove(&mut self, owner: CustomerId) -> Result<()>;
    /// Whether this view sees committed keys only (a read snapshot), so what
    /// it unwraps may be shared with the store's other transactions.
    fn committed(&self) -> bool;
}

/// Unwrapped data keys of committed customers, shared by a store's
/// transactions so that a read does not unwrap its customer's key again.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<CustomerId, Arc<DataKey>>>);

/// How many keys the cache holds before it starts over (about 100 bytes each).
const CACHED_KEYS: usize = 200_000;

impl KeyCache {
    fn get(&self, owner: CustomerId) -> Option<Arc<DataKey>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&owner)
            .cloned()
    }

    fn put(&self, owner: CustomerId, key: Arc<DataKey>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CACHED_KEYS {
            map.clear();
        }
        map.insert(owner, key);
    }

    /// After a transaction committed: its keys are committed ones; and a
    /// reader that began before the commit may have cached a key it
    /// destroyed, so that goes again.
    pub fn committed(&self, outcome: KeyOutcome) {
        for (owner, key) in outcome.keys {
            self.put(owner, key);
        }
        self.forget(&outcome.destroyed);
    }

    /// Drops the keys of these customers.
    pub fn forget(&self, owners: &[CustomerId]) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for o in owners {
            map.remove(o);
        }
    }
}

/// The keys a write transaction unwrapped or made, and those it destroyed.
pub struct KeyOutcome {
    keys: Vec<(CustomerId, Arc<DataKey>)>,
    destroyed: Vec<CustomerId>,
}

/// A codec bound to a transaction's key table, with the keys it unwrapped.
pub struct Sealer<'t> {
    codec: &'t dyn FieldCodec,
    keys: Option<RefCell<Box<dyn WrappedKeys + 't>>>,
    cache: RefCell<HashMap<CustomerId, Arc<DataKey>>>,
    /// The store's cache of committed keys: read by every transaction, filled
    /// only by read snapshots (which see committed keys only).
    shared: Option<&'t KeyCache>,
    /// Customers whose keys this transaction destroyed.
    destroyed: RefCell<Vec<CustomerId>>,
}

const NIL: CustomerId = CustomerId::from_bytes([0; 16]);

impl<'t> Sealer<'t> {
    /// A sealer; `keys` is needed only when the codec has a key ring.
    pub fn new(codec: &'t dyn FieldCodec, keys: Option<Box<dyn WrappedKeys + 't>>) -> Self {
        Self {
            codec,
            keys: keys.map(RefCell::new),
            cache: RefCell::default(),
            shared: None,
            destroyed: RefCell::default(),
        }
    }

    /// The same, sharing the store's cache of committed keys.
    pub fn with_cache(mut self, cache: &'t KeyCache) -> Self {
        self.shared = Some(cache);
        self
    }

    /// The codec.
    pub fn codec(&self) -> &'t dyn FieldCodec {
        self.codec
    }

    /// What the transaction knows of keys, to give the shared cache once it commits.
    pub fn outcome(&self) -> KeyOutcome {
        KeyOutcome {
            keys: self
                .cache
                .borrow()
                .iter()
                .map(|(o, k)| (*o, k.clone()))
                .collect(),
            destroyed: self.destroyed.borrow().clone(),
        }
    }

    /// The owner's data key; a new one is made and stored when `create` is set.
    fn key(&self, owner: CustomerId, create: bool) -> Result<Arc<DataKey>> {
        if let Some(k) = self.cache.borrow().get(&owner) {
            return Ok(k.clone());
        }
        let destroyed = self.destroyed.borrow().contains(&owner);
        if let Some(k) = self
            .shared
            .filter(|_| !destroyed)
            .and_then(|c| c.get(owner))
        {
            // Already shared: no need to remember it for this transaction.
            return Ok(k);
        }
        let ring = self
            .codec
            .key_ring()
            .ok_or_else(|| Error::Codec("no key ring".into()))?;
        let table = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Codec("no key table".into()))?;
        let (wrapped, reading) = {
            let mut t = table.borrow_mut();
            (t.get(owner)?, t.committed())
        };
        let key = match wrapped {
            Some(w) => {
                let key = Arc::new(ring.unwrap_key(owner, &w)?);
                if let (true, Some(shared)) = (reading, self.shared) {
                    shared.put(owner, key.clone());
                }
                self.cache.borrow_mut().insert(owner, key.clone());
                return Ok(key);
            }
            None if create => {
                let (key, wrapped) = ring.new_key(owner)?;
                table.borrow_mut().put(owner, &wrapped)?;
                key
            }
            None => return Err(Error::Erased(owner)),
        };
        let key = Arc::new(key);
        self.cache.borrow_mut().insert(owner, key.clone());
        Ok(key)
    }

    /// Destroys an owner's key (in a write transaction).
    pub fn destroy(&self, owner: CustomerId) -> Result<()> {
        self.cache.borrow_mut().remove(&owner);
        self.destroyed.borrow_mut().push(owner);
        if let Some(shared) = self.shared {
            shared.forget(&[owner]);
        }
        if let Some(table) = &self.keys {
            table.borrow_mut().remove(owner)?;
        }
        Ok(())
    }
}

impl Seal for Sealer<'_> {
    fn seal(&self, owner: CustomerId, plain: Vec<u8>) -> Result<Vec<u8>> {
        match self.codec.key_ring() {
            Some(ring) if owner != NIL => ring.seal(&*self.key(owner, true)?, owner, plain),
            _ => self.codec.seal(owner, plain),
        }
    }

    fn open(&self, owner: CustomerId, sealed: Vec<u8>) -> Result<Vec<u8>> {
        match self.codec.key_ring() {
            Some(ring) if owner != NIL => ring.open(&*self.key(owner, false)?, owner, sealed),
            _ => self.codec.open(owner, sealed),
        }
    }
}
