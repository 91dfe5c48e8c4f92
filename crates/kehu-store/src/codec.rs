use kehu_model::CustomerId;

use crate::Result;

/// The one seam through which personal fields reach a store's file.
///
/// A persistent backend passes every personal field it writes through
/// [`seal`](FieldCodec::seal) and every lookup value it indexes through
/// [`index_key`](FieldCodec::index_key). Today's codec is [`PlainCodec`];
/// field encryption (sealed values, blind indexes) plugs in here without
/// touching callers.
pub trait FieldCodec: Send + Sync {
    /// Seals the encoded personal fields of one customer's record.
    fn seal(&self, owner: CustomerId, plain: Vec<u8>) -> Result<Vec<u8>>;

    /// Opens what [`seal`](FieldCodec::seal) produced.
    fn open(&self, owner: CustomerId, sealed: Vec<u8>) -> Result<Vec<u8>>;

    /// The form in which a lookup value is stored in an index.
    fn index_key(&self, plain: Vec<u8>) -> Vec<u8>;

    /// Per-customer data keys, for codecs that seal each customer's values
    /// under a key of its own (so that destroying it erases the customer from
    /// every copy of the file). `None` (the default): [`seal`](FieldCodec::seal)
    /// and [`open`](FieldCodec::open) are used for everything.
    fn key_ring(&self) -> Option<&dyn KeyRing> {
        None
    }

    /// The key backups are checksummed with, for codecs that hold a book key
    /// (so a backup cannot be changed and re-checksummed without it).
    fn backup_key(&self) -> Option<[u8; 32]> {
        None
    }
}

/// A customer's data key, unwrapped. Its bytes are wiped when it is dropped.
pub struct DataKey(pub [u8; 32]);

impl Drop for DataKey {
    fn drop(&mut self) {
        // Volatile writes, so the wipe is not optimised away.
        for b in self.0.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference to a byte.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Per-customer keys: the store keeps each customer's wrapped key in a table
/// of its own and removes it on [`Write::Forget`](crate::Write::Forget).
pub trait KeyRing: Send + Sync {
    /// A new data key for a customer, and its wrapped form to store.
    fn new_key(&self, owner: CustomerId) -> Result<(DataKey, Vec<u8>)>;

    /// Unwraps a stored key (an error if it was wrapped under another book key).
    fn unwrap_key(&self, owner: CustomerId, wrapped: &[u8]) -> Result<DataKey>;

    /// Seals one value of a customer under its data key.
    fn seal(&self, key: &DataKey, owner: CustomerId, plain: Vec<u8>) -> Result<Vec<u8>>;

    /// Opens what [`seal`](KeyRing::seal) produced.
    fn open(&self, key: &DataKey, owner: CustomerId, sealed: Vec<u8>) -> Result<Vec<u8>>;
}

/// The identity codec: values are stored as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainCodec;

impl FieldCodec for PlainCodec {
    fn seal(&self, _owner: CustomerId, plain: Vec<u8>) -> Result<Vec<u8>> {
        Ok(plain)
    }

    fn open(&self, _owner: CustomerId, sealed: Vec<u8>) -> Result<Vec<u8>> {
        Ok(sealed)
    }

    fn index_key(&self, plain: Vec<u8>) -> Vec<u8> {
        plain
    }
}
