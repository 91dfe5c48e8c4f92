//! One connection as a transaction uses it: prepared statements kept per
//! connection, errors mapped to the store's, and the pool connections return to.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use kehu_store::{Error, Result};
use postgres::types::ToSql;
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
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(db)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

/// A connection borrowed from the pool for one snapshot or one write
/// transaction; shared by the transaction's tables and its key table.
pub struct Session {
    conn: RefCell<Option<Conn>>,
}

/// Statement parameters.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Session {
    pub fn new(conn: Conn) -> Self {
        Self {
            conn: RefCell::new(Some(conn)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let mut guard = self.conn.borrow_mut();
        let conn = guard
            .as_mut()
            .ok_or_else(|| Error::Backend("the transaction has ended".into()))?;
        f(conn)
    }

    /// Runs a prepared query and returns its rows.
    pub fn query(&self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        self.with(|c| {
            let s = c.statement(sql)?;
            c.client.query(&s, params).map_err(db)
        })
    }

    /// Runs a prepared statement and returns how many rows it touched.
    pub fn execute(&self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        self.with(|c| {
            let s = c.statement(sql)?;
            c.client.execute(&s, params).map_err(db)
        })
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
