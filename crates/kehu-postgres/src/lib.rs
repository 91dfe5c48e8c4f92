//! A [`Store`] on PostgreSQL: one book that many processes and machines
//! share, on a database the team already runs.
//!
//! The tables ([`schema`]) hold kehu's own value bytes, the same as the redb
//! file's, through the same [`FieldCodec`]: an encrypted book on PostgreSQL
//! holds ciphertext, blind index keys and wrapped keys only. A snapshot is a
//! REPEATABLE READ transaction on a connection of its own; a write is one
//! READ COMMITTED transaction that holds the book's write lock, so writers
//! take turns (a version conflict goes to the later one, the audit trail
//! stays one chain) and readers never wait. A connection lost mid-write
//! leaves nothing of that write: the server rolls it back.
//!
//! A book lives in the schema the connection resolves first (the database's
//! default, or another through the URL's `options=-csearch_path%3D…`).

#![warn(missing_docs)]

mod keys;
mod pending;
pub mod schema;
mod session;
mod snapshot;
mod tls;
mod tx;
mod url;

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use kehu_model::CustomerId;
use kehu_store::stored::{KeyCache, Sealer, WrappedKeys};
use kehu_store::{
    apply_batches, Batch, CompactSummary, Error, FieldCodec, PlainCodec, Result, Snapshot, Store,
};
use postgres::Config;
use tokio_postgres_rustls::MakeRustlsConnect;

use keys::PgKeys;
use session::{Conn, Pool, Session};
use snapshot::PgSnapshot;
use tx::PgTx;
pub use url::{is_postgres_url, redact_text};

/// A store kept in a PostgreSQL database.
pub struct PgStore {
    config: Config,
    /// TLS for every connection (used when the server offers it or the URL asks).
    tls: MakeRustlsConnect,
    /// What the TLS checks and shows, for the store's further opens.
    tls_settings: tls::Settings,
    /// Where the store connects, without a password, for messages.
    target: String,
    pool: Pool,
    codec: Arc<dyn FieldCodec>,
    keys: KeyCache,
    /// The book's commit count this handle has accounted for.
    observed: Mutex<u64>,
    /// How often the count was found moved by others.
    elsewhere: AtomicU64,
}

/// Makes a sealed book's codec from its stored key header (none: a new book),
/// returning the codec and the header to store.
pub type MakeCodec<'a> = dyn FnMut(Option<&[u8]>) -> Result<(Arc<dyn FieldCodec>, Vec<u8>)> + 'a;

impl PgStore {
    /// Opens the book at a `postgres://` URL, creating its tables in an empty
    /// schema. The password comes from the URL, `PGPASSWORD` or `~/.pgpass`.
    pub fn open(url: &str) -> Result<Self> {
        let (config, tls) = url::config(url)?;
        Self::open_checked(config, tls)
    }

    /// Opens the book a connection configuration points to (TLS when the
    /// server offers it, its certificate not checked).
    pub fn open_config(config: Config) -> Result<Self> {
        Self::open_checked(config, tls::Settings::encrypt())
    }

    fn open_checked(config: Config, tls: tls::Settings) -> Result<Self> {
        let store = Self::connect(config, tls)?;
        if store.seal_header()?.is_some() {
            return Err(Error::Codec(
                "the book is encrypted: open it with its passphrase or key".into(),
            ));
        }
        Ok(store)
    }

    /// Opens the book at `url` sealed by a codec made from the book's key
    /// header, as `RedbStore::open_sealed` does a file.
    pub fn open_sealed(url: &str, make: &mut MakeCodec<'_>) -> Result<Self> {
        let (config, tls) = url::config(url)?;
        Self::open_sealed_checked(config, tls, make)
    }

    /// [`PgStore::open_sealed`] with a connection configuration.
    pub fn open_sealed_config(config: Config, make: &mut MakeCodec<'_>) -> Result<Self> {
        Self::open_sealed_checked(config, tls::Settings::encrypt(), make)
    }

    fn open_sealed_checked(
        config: Config,
        tls: tls::Settings,
        make: &mut MakeCodec<'_>,
    ) -> Result<Self> {
        let mut store = Self::connect(config, tls)?;
        let header = store.seal_header()?;
        let new = header.is_none();
        if new && store.snapshot()?.customer_count()? > 0 {
            return Err(Error::Codec(
                "this book is not encrypted; it cannot be opened with a key".into(),
            ));
        }
        let (codec, header_out) = make(header.as_deref())?;
        if new {
            let session = store.session()?;
            // Only if no other process sealed it meanwhile.
            let written = session.execute(
                "INSERT INTO kehu_meta (name, value) VALUES ('seal', $1) ON CONFLICT DO NOTHING",
                &[&header_out.as_slice()],
            )?;
            store.give_back(&session);
            if written == 0 {
                return Self::open_sealed_checked(
                    store.config.clone(),
                    store.tls_settings.clone(),
                    make,
                );
            }
        }
        store.codec = codec;
        Ok(store)
    }

    /// Whether the book at `url` is sealed (opened with a key).
    pub fn is_sealed(url: &str) -> Result<bool> {
        let (config, tls) = url::config(url)?;
        Ok(Self::connect(config, tls)?.seal_header()?.is_some())
    }

    /// Where the store connects, without its password.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn connect(config: Config, tls_settings: tls::Settings) -> Result<Self> {
        let store = Self {
            target: url::describe(&config),
            tls: tls::connector(&tls_settings)?,
            tls_settings,
            config,
            pool: Pool::default(),
            codec: Arc::new(PlainCodec),
            keys: KeyCache::default(),
            observed: Mutex::new(0),
            elsewhere: AtomicU64::new(0),
        };
        let session = store.session()?;
        schema::create_or_check(&session)?;
        *store.observed() = schema::commits(&session)?;
        store.give_back(&session);
        Ok(store)
    }

    fn observed(&self) -> std::sync::MutexGuard<'_, u64> {
        self.observed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Accounts for the commit count found now: moved since, others wrote.
    fn note_commits(&self, found: u64) {
        let mut observed = self.observed();
        if *observed != found {
            self.elsewhere.fetch_add(1, Ordering::Relaxed);
            *observed = found;
        }
    }

    fn seal_header(&self) -> Result<Option<Vec<u8>>> {
        let session = self.session()?;
        let header = schema::meta(&session, schema::SEAL)?;
        self.give_back(&session);
        Ok(header)
    }

    /// A new connection to the server.
    fn connect_client(&self) -> Result<postgres::Client> {
        self.config.connect(self.tls.clone()).map_err(|e| {
            Error::Backend(format!(
                "cannot connect to {}: {}",
                self.target,
                session::message(&e)
            ))
        })
    }

    /// The book's commit count, as committed now.
    fn book_commits(&self) -> Result<u64> {
        let session = self.session()?;
        let found = schema::commits(&session)?;
        self.give_back(&session);
        Ok(found)
    }

    /// A session on an idle connection, or on a new one.
    fn session(&self) -> Result<Rc<Session>> {
        let conn = match self.pool.take() {
            Some(conn) => conn,
            None => {
                let mut client = self.connect_client()?;
                watch_client(&mut client)?;
                Conn::new(client)
            }
        };
        Ok(Rc::new(Session::new(conn)))
    }

    fn give_back(&self, session: &Session) {
        if let Some(conn) = session.take() {
            self.pool.give(conn);
        }
    }

    fn sealer(&self, session: &Rc<Session>, write: bool) -> Sealer<'_> {
        let keys = self.codec.key_ring().map(|_| {
            Box::new(PgKeys {
                session: session.clone(),
                write,
            }) as Box<dyn WrappedKeys>
        });
        Sealer::new(&*self.codec, keys).with_cache(&self.keys)
    }
}

impl Store for PgStore {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        let session = self.session()?;
        // The snapshot is taken at the first statement, not at BEGIN: one
        // round trip begins the transaction and takes it.
        session.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1")?;
        Ok(Box::new(PgSnapshot {
            store: self,
            sealer: self.sealer(&session, false),
            session,
        }))
    }

    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        let session = self.session()?;
        let mut tx = PgTx::begin(session.clone(), self.sealer(&session, true))?;
        self.note_commits(tx.commits);
        let after = tx.commits + 1;
        let outcome =
            apply_batches(&mut tx, batches).and_then(|durable| tx.finish().map(|()| durable));
        let keys = tx.sealer.outcome();
        drop(tx);
        match outcome {
            Ok(durable) => {
                if !durable {
                    session.batch("SET LOCAL synchronous_commit TO OFF")?;
                }
                // Delivered at the commit to every subscriber, on any
                // machine; the payload names the book (its schema): one
                // database may hold several.
                session
                    .batch("SELECT pg_notify('kehu_commits', coalesce(current_schema(), ''))")?;
                session.batch("COMMIT").map_err(|e| match e {
                    Error::Backend(m) => Error::Backend(format!(
                        "the commit's outcome is unknown (it may or may not have been written): {m}"
                    )),
                    other => other,
                })?;
                self.keys.committed(keys);
                *self.observed() = after;
                self.give_back(&session);
                Ok(())
            }
            Err(e) => {
                if session.batch("ROLLBACK").is_ok() {
                    self.give_back(&session);
                }
                Err(e)
            }
        }
    }

    fn subscribe(&self) -> Result<Box<dyn kehu_store::Subscription + '_>> {
        let mut client = self.connect_client()?;
        let book: String = client
            .query_one("SELECT coalesce(current_schema(), '')", &[])
            .map_err(session::db)?
            .get(0);
        client
            .batch_execute("LISTEN kehu_commits")
            .map_err(session::db)?;
        Ok(Box::new(Listen { client, book }))
    }

    fn commit_count(&self) -> Result<Option<u64>> {
        self.book_commits().map(Some)
    }

    fn changes_elsewhere(&self) -> Result<u64> {
        let found = self.book_commits()?;
        self.note_commits(found);
        Ok(self.elsewhere.load(Ordering::Relaxed))
    }

    fn backup(&self, _path: &std::path::Path) -> Result<kehu_store::BackupSummary> {
        Err(Error::Backend(
            "a PostgreSQL book is backed up by the server's own tools (pg_dump, base backups); \
             `kehu export` writes its dossiers to a file"
                .into(),
        ))
    }

    fn compact(&self) -> Result<CompactSummary> {
        let session = self.session()?;
        let size = |s: &Session| -> Result<u64> {
            let rows = s.query(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'kehu\\_%'",
                &[],
            )?;
            Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
        };
        let bytes_before = size(&session)?;
        // VACUUM FULL rewrites each table into fresh files: no dead row
        // version (an old or erased value) is left in the files it frees.
        session.batch(
            "VACUUM FULL kehu_meta, kehu_customers, kehu_index, kehu_key_sets, kehu_related, \
             kehu_changes, kehu_docs, kehu_audit, kehu_keys",
        )?;
        let entries = session.query(
            "SELECT (SELECT count(*) FROM kehu_customers) + (SELECT count(*) FROM kehu_index) \
             + (SELECT count(*) FROM kehu_key_sets) + (SELECT count(*) FROM kehu_related) \
             + (SELECT count(*) FROM kehu_changes) + (SELECT count(*) FROM kehu_docs) \
             + (SELECT count(*) FROM kehu_audit) + (SELECT count(*) FROM kehu_keys) \
             + (SELECT count(*) FROM kehu_meta)",
            &[],
        )?;
        let entries = entries.first().map_or(0, |r| r.get::<_, i64>(0)) as u64;
        let bytes_after = size(&session)?;
        self.give_back(&session);
        Ok(CompactSummary {
            bytes_before,
            bytes_after,
            entries,
        })
    }
}

/// A subscription: a connection of its own that LISTENs for the commits'
/// NOTIFY (any process's, on any machine) to its book: the notification's
/// payload is the committing book's schema (none from releases before it
/// said: those wake every subscriber, as they did).
struct Listen {
    client: postgres::Client,
    book: String,
}

impl kehu_store::Subscription for Listen {
    fn wait(&mut self, timeout: std::time::Duration) -> Result<bool> {
        use postgres::fallible_iterator::FallibleIterator;
        let ours = |n: &postgres::Notification| n.payload().is_empty() || n.payload() == self.book;
        let deadline = std::time::Instant::now() + timeout;
        let mut notes = self.client.notifications();
        let mut woke = false;
        while !woke {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match notes.timeout_iter(left).next().map_err(session::db)? {
                Some(n) => woke = ours(&n),
                None => break,
            }
        }
        // Several commits since: one wake-up.
        while let Some(n) = notes.iter().next().map_err(session::db)? {
            woke |= ours(&n);
        }
        Ok(woke)
    }
}

/// A customer id from its stored 16 bytes.
/// Has the server check every second that this client is still there while
/// a statement runs, so a client killed while its write waits for the
/// book's write lock frees its connection slot (and its place in the queue)
/// at once, not when the lock comes. A server before PostgreSQL 14 has no
/// such check (nor one on Windows): nothing is done there.
fn watch_client(client: &mut postgres::Client) -> Result<()> {
    match client.batch_execute("SET client_connection_check_interval = 1000") {
        Ok(()) => Ok(()),
        // Unknown before 14; refused on a platform without the check.
        Err(e)
            if e.code() == Some(&postgres::error::SqlState::UNDEFINED_OBJECT)
                || e.code() == Some(&postgres::error::SqlState::INVALID_PARAMETER_VALUE) =>
        {
            Ok(())
        }
        Err(e) => Err(session::db(e)),
    }
}

fn customer_id(bytes: &[u8]) -> Result<CustomerId> {
    let arr: [u8; 16] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt("a customer id is not 16 bytes".into()))?;
    Ok(CustomerId::from_bytes(arr))
}
