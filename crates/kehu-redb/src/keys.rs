//! The redb table of a sealed book's wrapped per-customer keys, as the
//! shared [`Sealer`](kehu_store::stored::Sealer) reads and writes it.

use std::sync::Arc;

use kehu_model::CustomerId;
use kehu_store::stored::WrappedKeys;
use kehu_store::{Error, Result};
use redb::{ReadOnlyTable, ReadableTable, Table};

use crate::tables::{backend, id_key, KEYS};

/// Where the wrapped per-customer keys are read (and, writing, created).
pub enum KeyTable<'t> {
    /// A read transaction whose key table is opened when first needed.
    Unopened(Arc<redb::ReadTransaction>),
    /// A read transaction's view.
    Read(ReadOnlyTable<u128, &'static [u8]>),
    /// A write transaction's table.
    Write(Table<'t, u128, &'static [u8]>),
}

impl WrappedKeys for KeyTable<'_> {
    fn get(&mut self, owner: CustomerId) -> Result<Option<Vec<u8>>> {
        if let KeyTable::Unopened(txn) = self {
            *self = KeyTable::Read(txn.open_table(KEYS).map_err(backend)?);
        }
        let found = match self {
            KeyTable::Read(r) => r.get(id_key(owner)).map_err(backend)?,
            KeyTable::Write(w) => w.get(id_key(owner)).map_err(backend)?,
            KeyTable::Unopened(_) => return Err(Error::Codec("key table not open".into())),
        };
        Ok(found.map(|v| v.value().to_vec()))
    }

    fn put(&mut self, owner: CustomerId, wrapped: &[u8]) -> Result<()> {
        match self {
            KeyTable::Write(w) => {
                w.insert(id_key(owner), wrapped).map_err(backend)?;
                Ok(())
            }
            KeyTable::Read(_) | KeyTable::Unopened(_) => Err(Error::Erased(owner)),
        }
    }

    fn remove(&mut self, owner: CustomerId) -> Result<()> {
        if let KeyTable::Write(w) = self {
            w.remove(id_key(owner)).map_err(backend)?;
        }
        Ok(())
    }

    fn committed(&self) -> bool {
        !matches!(self, KeyTable::Write(_))
    }
}
