//! Sealing bound to a transaction: the codec, and (for a codec with
//! per-customer keys) the table where each customer's wrapped key lives.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use kehu_model::CustomerId;
use kehu_store::{DataKey, Error, FieldCodec, Result};
use redb::{ReadOnlyTable, ReadableTable, Table};

use crate::tables::{backend, id_key};

/// What the value encoders seal and open through.
pub trait Seal {
    /// Seals a value of `owner` (the nil id: the book's own values).
    fn seal(&self, owner: CustomerId, plain: Vec<u8>) -> Result<Vec<u8>>;
    /// Opens what [`Seal::seal`] produced.
    fn open(&self, owner: CustomerId, sealed: Vec<u8>) -> Result<Vec<u8>>;
}

/// Where the wrapped per-customer keys are read (and, writing, created).
pub enum KeyTable<'t> {
    /// A read transaction's view.
    Read(ReadOnlyTable<u128, &'static [u8]>),
    /// A write transaction's table.
    Write(Table<'t, u128, &'static [u8]>),
}

/// A codec bound to a transaction's key table, with the keys it unwrapped.
pub struct Sealer<'t> {
    codec: &'t dyn FieldCodec,
    keys: Option<RefCell<KeyTable<'t>>>,
    cache: RefCell<HashMap<CustomerId, Rc<DataKey>>>,
}

const NIL: CustomerId = CustomerId::from_bytes([0; 16]);

impl<'t> Sealer<'t> {
    /// A sealer; `keys` is needed only when the codec has a key ring.
    pub fn new(codec: &'t dyn FieldCodec, keys: Option<KeyTable<'t>>) -> Self {
        Self {
            codec,
            keys: keys.map(RefCell::new),
            cache: RefCell::default(),
        }
    }

    /// The codec.
    pub fn codec(&self) -> &'t dyn FieldCodec {
        self.codec
    }

    /// The owner's data key; a new one is made and stored when `create` is set.
    fn key(&self, owner: CustomerId, create: bool) -> Result<Rc<DataKey>> {
        if let Some(k) = self.cache.borrow().get(&owner) {
            return Ok(k.clone());
        }
        let ring = self
            .codec
            .key_ring()
            .ok_or_else(|| Error::Codec("no key ring".into()))?;
        let table = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Codec("no key table".into()))?;
        let wrapped = {
            let t = table.borrow();
            let found = match &*t {
                KeyTable::Read(r) => r.get(id_key(owner)).map_err(backend)?,
                KeyTable::Write(w) => w.get(id_key(owner)).map_err(backend)?,
            };
            found.map(|v| v.value().to_vec())
        };
        let key = match wrapped {
            Some(w) => ring.unwrap_key(owner, &w)?,
            None if create => {
                let (key, wrapped) = ring.new_key(owner)?;
                match &mut *table.borrow_mut() {
                    KeyTable::Write(w) => {
                        w.insert(id_key(owner), wrapped.as_slice())
                            .map_err(backend)?;
                    }
                    KeyTable::Read(_) => return Err(Error::Erased(owner)),
                }
                key
            }
            None => return Err(Error::Erased(owner)),
        };
        let key = Rc::new(key);
        self.cache.borrow_mut().insert(owner, key.clone());
        Ok(key)
    }

    /// Destroys an owner's key (in a write transaction).
    pub fn destroy(&self, owner: CustomerId) -> Result<()> {
        self.cache.borrow_mut().remove(&owner);
        if let Some(table) = &self.keys {
            if let KeyTable::Write(w) = &mut *table.borrow_mut() {
                w.remove(id_key(owner)).map_err(backend)?;
            }
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
