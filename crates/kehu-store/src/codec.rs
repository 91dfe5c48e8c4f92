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
