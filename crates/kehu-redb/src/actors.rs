//! The book's table of actors: changes and audit entries name their actor
//! by its number there (store format 4), the names sealed for the book.

use std::collections::HashMap;

use kehu_store::stored::{self as encoding, Seal};
use kehu_store::{Error, Result};
use redb::ReadableTable;

use crate::tables::{backend, ACTORS};
use crate::{RedbSnapshot, RedbTx};

/// Every actor of a table, by number.
fn read_all(
    table: &impl ReadableTable<u32, &'static [u8]>,
    sealer: &dyn Seal,
) -> Result<impl Iterator<Item = (u32, String)>> {
    let mut all = Vec::new();
    for entry in table.iter().map_err(backend)? {
        let (k, v) = entry.map_err(backend)?;
        all.push((k.value(), encoding::decode_actor(v.value(), sealer)?));
    }
    Ok(all.into_iter())
}

impl RedbTx<'_> {
    /// The number of an actor in the book's actor table, added when new.
    pub(crate) fn actor_number(&mut self, name: &str) -> Result<u32> {
        let numbers = match &mut self.actor_numbers {
            Some(n) => n,
            None => {
                let numbers = read_all(&self.actors, &self.sealer)?
                    .map(|(n, name)| (name, n))
                    .collect();
                self.actor_numbers.insert(numbers)
            }
        };
        if let Some(&n) = numbers.get(name) {
            return Ok(n);
        }
        let n = numbers.values().max().map_or(1, |m| m + 1);
        let bytes = encoding::encode_actor(name, &self.sealer)?;
        self.actors.insert(n, bytes.as_slice()).map_err(backend)?;
        numbers.insert(name.to_string(), n);
        Ok(n)
    }
}

impl encoding::Actors for RedbSnapshot<'_> {
    fn actor(&self, n: u32) -> Result<String> {
        let names = match self.read.actors.get() {
            Some(names) => names,
            None => {
                // A book of an earlier format has no actor table: none named.
                let names: HashMap<u32, String> = match self.read.txn.open_table(ACTORS) {
                    Ok(table) => read_all(&table, &self.sealer)?.collect(),
                    Err(redb::TableError::TableDoesNotExist(_)) => HashMap::new(),
                    Err(e) => return Err(backend(e)),
                };
                self.read.actors.get_or_init(|| names)
            }
        };
        names
            .get(&n)
            .cloned()
            .ok_or_else(|| Error::Corrupt(format!("actor {n} is not in the book's actor table")))
    }
}

#[cfg(test)]
mod tests {
    use kehu_model::CustomerId;
    use kehu_store::{Batch, Store};

    use crate::RedbStore;

    /// Changes and audit entries name their actor by number: a long actor
    /// is written once however many entries it makes, and reads back in full.
    #[test]
    fn an_actor_is_written_once_for_all_its_entries() {
        use kehu_model::Customer;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("actors.kehu");
        let store = RedbStore::open(&path).expect("open");
        let actor = "zqactor (import 01a24258-6a14-77bf-8a2e-efb9b97a51f3)";
        let ids: Vec<CustomerId> = (0..300)
            .map(|i| {
                let c = Customer::person(format!("Actor{i}"), "Once");
                let id = c.id;
                store
                    .commit(
                        Batch::new(actor, chrono::Utc::now()).with(kehu_store::Write::Put {
                            customer: c,
                            expected: 0,
                        }),
                    )
                    .expect("commit");
                id
            })
            .collect();
        drop(store);
        let bytes = std::fs::read(&path).expect("read");
        let times = bytes.windows(7).filter(|w| w == b"zqactor").count();
        assert_eq!(times, 1, "the actor's name is in the file {times} times");
        let store = RedbStore::open(&path).expect("reopen");
        let snap = store.snapshot().expect("snap");
        assert_eq!(snap.history(ids[299]).expect("history")[0].actor, actor);
        assert!(snap
            .audit(1)
            .expect("audit")
            .iter()
            .all(|e| e.actor == actor));
    }
}
