//! One connection as a transaction uses it: prepared statements kept per
//! connection, statements sent ahead to run while the caller goes on,
//! errors mapped to the store's, and the pool connections return to.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{mpsc, Mutex, PoisonError};

use kehu_store::{Error, Result};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement};

/// A connection with the statements prepared on it.
pub struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            statements: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        self.prepared(sql).map_err(db)
    }

    fn prepared(&mut self, sql: &'static str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// [`Conn::execute`] with the driver's error, for [`Conn::unless_duplicate`].
    pub fn execute_raw(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> std::result::Result<u64, postgres::Error> {
        let s = self.prepared(sql)?;
        self.client.execute(&s, params)
    }

    /// Streams rows into a table: `sql` is a `COPY … FROM STDIN BINARY` of
    /// columns of these types, and `fill` writes the rows.
    pub fn copy_in(
        &mut self,
        sql: &str,
        types: &[Type],
        fill: impl FnOnce(&mut BinaryCopyInWriter<'_>) -> std::result::Result<(), postgres::Error>,
    ) -> std::result::Result<(), postgres::Error> {
        let mut writer = BinaryCopyInWriter::new(self.client.copy_in(sql)?, types);
        fill(&mut writer)?;
        writer.finish().map(drop)
    }

    /// Runs `f` in a savepoint; when it meets a row already there (a unique
    /// key), undoes what it did and answers false.
    pub fn unless_duplicate(
        &mut self,
        f: impl FnOnce(&mut Conn) -> std::result::Result<(), postgres::Error>,
    ) -> Result<bool> {
        self.client
            .batch_execute("SAVEPOINT kehu_copy")
            .map_err(db)?;
        match f(self) {
            Ok(()) => {
                self.client
                    .batch_execute("RELEASE SAVEPOINT kehu_copy")
                    .map_err(db)?;
                Ok(true)
            }
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                self.client
                    .batch_execute("ROLLBACK TO SAVEPOINT kehu_copy; RELEASE SAVEPOINT kehu_copy")
                    .map_err(db)?;
                Ok(false)
            }
            Err(e) => Err(db(e)),
        }
    }

    /// Runs a prepared query and returns its rows.
    pub fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let s = self.statement(sql)?;
        self.client.query(&s, params).map_err(db)
    }

    /// Runs a prepared statement and returns how many rows it touched.
    pub fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params).map_err(db)
    }
}

/// Statements sent ahead: run later, in order, on the session's connection.
pub type Job = Box<dyn FnOnce(&mut Conn) -> Result<()> + Send>;

/// A connection borrowed from the pool for one snapshot or one write
/// transaction; shared by the transaction's tables and its key table.
pub struct Session {
    conn: RefCell<Option<Conn>>,
    /// While statements sent ahead run: the thread that holds the connection.
    worker: RefCell<Option<Worker>>,
}

/// A thread running the statements sent ahead on a connection lent to it:
/// the server works on them while the session's caller prepares the next.
struct Worker {
    jobs: mpsc::SyncSender<Job>,
    /// Hands back the connection and the first error, once the jobs ran.
    done: std::thread::JoinHandle<(Conn, Result<()>)>,
}

impl Worker {
    fn start(mut conn: Conn) -> Self {
        // Two sends queued at most: a writer faster than the server waits
        // instead of holding the whole write in memory.
        let (jobs, queue) = mpsc::sync_channel::<Job>(2);
        let done = std::thread::spawn(move || {
            let mut outcome = Ok(());
            for job in queue {
                // After an error the transaction is lost: the rest is not run.
                if outcome.is_ok() {
                    outcome = job(&mut conn);
                }
            }
            (conn, outcome)
        });
        Self { jobs, done }
    }

    /// Waits for the jobs sent; the connection back, and their first error.
    fn finish(self) -> Result<(Conn, Result<()>)> {
        drop(self.jobs);
        self.done.join().map_err(|_| {
            Error::Backend("the thread sending statements to PostgreSQL panicked".into())
        })
    }
}

/// Statement parameters.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Session {
    pub fn new(conn: Conn) -> Self {
        Self {
            conn: RefCell::new(Some(conn)),
            worker: RefCell::new(None),
        }
    }

    /// Runs statements later, after those sent before and before any other
    /// statement of the session: on a thread of its own once `ahead` (a
    /// bulk write: the caller goes on while the server works), else now
    /// unless earlier ones are still running. Their error comes back from
    /// the session's next statement (or [`Session::drain`]).
    pub fn send(&self, job: Job, ahead: bool) -> Result<()> {
        if self.worker.borrow().is_none() {
            if !ahead {
                return self.with(job);
            }
            let conn = self
                .conn
                .borrow_mut()
                .take()
                .ok_or_else(|| Error::Backend("the transaction has ended".into()))?;
            *self.worker.borrow_mut() = Some(Worker::start(conn));
        }
        let worker = self.worker.borrow();
        let sent = worker.as_ref().map(|w| w.jobs.send(job));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread is gone: what it hands back says why.
            _ => {
                drop(worker);
                self.drain()
            }
        }
    }

    /// Waits for the statements sent ahead and takes the connection back;
    /// the first error of any of them.
    pub fn drain(&self) -> Result<()> {
        let Some(worker) = self.worker.borrow_mut().take() else {
            return Ok(());
        };
        let (conn, outcome) = worker.finish()?;
        *self.conn.borrow_mut() = Some(conn);
        outcome
    }

    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        self.drain()?;
        let mut guard = self.conn.borrow_mut();
        let conn = guard
            .as_mut()
            .ok_or_else(|| Error::Backend("the transaction has ended".into()))?;
        f(conn)
    }

    /// Runs a prepared query and returns its rows.
    pub fn query(&self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        self.with(|c| c.query(sql, params))
    }

    /// Runs a prepared statement and returns how many rows it touched.
    pub fn execute(&self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        self.with(|c| c.execute(sql, params))
    }

    /// Runs statements without parameters (transaction control, DDL).
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.with(|c| c.client.batch_execute(sql).map_err(db))
    }

    /// The first column of the one row a query returns, if any, as bytes.
    pub fn bytes(&self, sql: &'static str, params: Params<'_>) -> Result<Option<Vec<u8>>> {
        Ok(self
            .query(sql, params)?
            .first()
            .map(|row| row.get::<_, Vec<u8>>(0)))
    }

    /// Ends the session, handing its connection back.
    pub fn take(&self) -> Option<Conn> {
        self.drain().ok()?;
        self.conn.borrow_mut().take()
    }
}

/// Idle connections, reused by later snapshots and transactions.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<Vec<Conn>>,
}

/// How many idle connections a store keeps.
const IDLE: usize = 8;

impl Pool {
    /// An idle connection that is still open, if there is one.
    pub fn take(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(conn) = idle.pop() {
            if !conn.client.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps a connection for later, unless it closed or enough are kept.
    pub fn give(&self, conn: Conn) {
        if conn.client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE {
            idle.push(conn);
        }
    }
}

/// Maps a PostgreSQL error to the store's: a lost connection says so.
pub fn db(err: postgres::Error) -> Error {
    Error::Backend(message(&err))
}

/// What a PostgreSQL error says, in a sentence.
pub fn message(err: &postgres::Error) -> String {
    if err.is_closed() {
        return format!(
            "the connection to PostgreSQL was lost; nothing of the unfinished transaction was kept ({err})"
        );
    }
    match err.as_db_error() {
        Some(e) => format!("PostgreSQL: {}", e.message()),
        None => {
            // The driver's own words, then what caused them (a TLS
            // handshake's reason, an I/O error).
            let mut said = format!("PostgreSQL: {err}");
            let mut cause = std::error::Error::source(err);
            while let Some(c) = cause {
                said.push_str(&format!(": {c}"));
                cause = c.source();
            }
            said
        }
    }
}
