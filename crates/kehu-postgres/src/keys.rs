//! The table of a sealed book's wrapped per-customer keys, as the shared
//! [`Sealer`](kehu_store::stored::Sealer) reads and writes it.

use std::rc::Rc;

use kehu_model::CustomerId;
use kehu_store::stored::WrappedKeys;
use kehu_store::{Error, Result};

use crate::session::Session;

/// The key table seen by one snapshot (`write` false) or one write transaction.
pub struct PgKeys {
    pub session: Rc<Session>,
    pub write: bool,
}

impl WrappedKeys for PgKeys {
    fn get(&mut self, owner: CustomerId) -> Result<Option<Vec<u8>>> {
        let id = owner.to_bytes();
        self.session.bytes(
            "SELECT wrapped FROM kehu_keys WHERE id = $1",
            &[&id.as_slice()],
        )
    }

    fn put(&mut self, owner: CustomerId, wrapped: &[u8]) -> Result<()> {
        if !self.write {
            return Err(Error::Erased(owner));
        }
        let id = owner.to_bytes();
        self.session.execute(
            "INSERT INTO kehu_keys (id, wrapped) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET wrapped = EXCLUDED.wrapped",
            &[&id.as_slice(), &wrapped],
        )?;
        Ok(())
    }

    fn remove(&mut self, owner: CustomerId) -> Result<()> {
        if self.write {
            let id = owner.to_bytes();
            self.session
                .execute("DELETE FROM kehu_keys WHERE id = $1", &[&id.as_slice()])?;
        }
        Ok(())
    }

    fn committed(&self) -> bool {
        !self.write
    }
}
