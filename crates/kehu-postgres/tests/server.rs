//! The store against a running server (KEHU_PG_URL, as `scripts/pg.sh start`
//! exports it): the conformance suite plain and sealed, each test in a
//! schema of its own, and what sharing one book across stores (as across
//! processes) must keep.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use kehu_model::Customer;
use kehu_postgres::PgStore;
use kehu_store::{
    BackupSummary, Batch, CompactSummary, Error, FieldCodec, Result, Snapshot, Store, Write,
};
use postgres::{Config, NoTls};

fn server() -> Config {
    let url = std::env::var("KEHU_PG_URL")
        .expect("KEHU_PG_URL names the test server: eval \"$(bash scripts/pg.sh start)\"");
    Config::from_str(&url).expect("KEHU_PG_URL parses")
}

/// A fresh, empty schema; dropped with the book.
fn fresh_schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "kehu_t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let mut admin = server().connect(NoTls).expect("connect");
    admin
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .expect("create schema");
    name
}

fn in_schema(schema: &str) -> Config {
    let mut c = server();
    c.options(&format!("-c search_path={schema}"));
    c
}

/// A book in its own schema, which goes when the book does.
struct TempBook {
    store: Option<PgStore>,
    schema: String,
}

impl Drop for TempBook {
    fn drop(&mut self) {
        drop(self.store.take());
        if let Ok(mut admin) = server().connect(NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema));
        }
    }
}

impl TempBook {
    fn store(&self) -> &PgStore {
        self.store.as_ref().expect("open")
    }
}

impl Store for TempBook {
    fn snapshot(&self) -> Result<Box<dyn Snapshot + '_>> {
        self.store().snapshot()
    }
    fn commit_all(&self, batches: &mut dyn Iterator<Item = Batch>) -> Result<()> {
        self.store().commit_all(batches)
    }
    fn backup(&self, path: &Path) -> Result<BackupSummary> {
        self.store().backup(path)
    }
    fn compact(&self) -> Result<CompactSummary> {
        self.store().compact()
    }
}

fn temp_book() -> TempBook {
    let schema = fresh_schema();
    let store = PgStore::open_config(in_schema(&schema)).expect("open");
    TempBook {
        store: Some(store),
        schema,
    }
}

fn temp_plain() -> Box<dyn Store> {
    Box::new(temp_book())
}

fn open_sealed(config: Config) -> PgStore {
    let key = kehu_crypt::RawKey::new([9; 32]);
    PgStore::open_sealed_config(config, &mut |header| {
        let (codec, header) = kehu_crypt::BookCodec::open(&key, header)?;
        Ok((Arc::new(codec) as Arc<dyn FieldCodec>, header))
    })
    .expect("open sealed")
}

fn temp_sealed() -> Box<dyn Store> {
    let schema = fresh_schema();
    let store = open_sealed(in_schema(&schema));
    Box::new(TempBook {
        store: Some(store),
        schema,
    })
}

/// A path names a schema (the suite's reopen test gives a fresh path).
fn schema_of(path: &Path) -> String {
    let hash = fnv(path.to_string_lossy().as_bytes());
    let name = format!("kehu_p_{hash:016x}");
    let mut admin = server().connect(NoTls).expect("connect");
    admin
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {name}"))
        .expect("schema");
    name
}

/// FNV-1a: a stable name for a path.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

mod plain {
    use super::*;
    kehu_store::conformance_tests!(temp_plain);
    kehu_store::persistence_tests!(|path: &Path| {
        Box::new(PgStore::open_config(in_schema(&schema_of(path))).expect("open")) as Box<dyn Store>
    });
}

mod sealed {
    use super::*;
    kehu_store::conformance_tests!(temp_sealed);
    kehu_store::persistence_tests!(|path: &Path| {
        Box::new(open_sealed(in_schema(&schema_of(path)))) as Box<dyn Store>
    });
}

fn put(store: &dyn Store, c: &Customer, expected: u64) -> Result<()> {
    store.commit(Batch::new("t", chrono::Utc::now()).with(Write::Put {
        customer: c.clone(),
        expected,
    }))
}

#[test]
fn the_later_of_two_writers_on_one_dossier_gets_a_conflict() {
    let book = temp_book();
    let other = PgStore::open_config(in_schema(&book.schema)).expect("second store");
    let c = Customer::person("Wei", "Zhang").with_email("wei@example.com");
    put(&book, &c, 0).expect("create");
    let mut a = c.clone();
    a.job_title = Some("buyer".into());
    let mut b = c.clone();
    b.job_title = Some("owner".into());
    put(&book, &a, 1).expect("first update");
    let err = put(&other, &b, 1).expect_err("the later writer conflicts");
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{err}"
    );
    let seen = other.snapshot().expect("snap").customer(c.id).expect("get");
    assert_eq!(seen.and_then(|c| c.job_title).as_deref(), Some("buyer"));
}

#[test]
fn a_creation_of_an_existing_dossier_among_thousands_held_fails_the_whole_batch() {
    let book = temp_book();
    let existing = Customer::person("Wei", "Zhang");
    put(&book, &existing, 0).expect("create");
    let mut batch = Batch::new("t", chrono::Utc::now());
    for i in 0..5000 {
        batch.push(Write::Put {
            customer: Customer::person(format!("P{i}"), "Test")
                .with_email(format!("p{i}@example.com")),
            expected: 0,
        });
    }
    batch.push(Write::Put {
        customer: existing.clone(),
        expected: 0,
    });
    let err = book.commit(batch).expect_err("a conflict");
    assert!(
        matches!(err, Error::Conflict { expected: 0, found: 1, id } if id == existing.id),
        "{err}"
    );
    let snap = book.snapshot().expect("snap");
    assert_eq!(snap.customer_count().expect("count"), 1);
    assert!(snap
        .lookup(&kehu_store::IndexKey::email("p1@example.com"))
        .expect("lookup")
        .is_empty());
}

#[test]
fn a_subscription_wakes_when_another_store_commits() {
    let book = temp_book();
    let other = PgStore::open_config(in_schema(&book.schema)).expect("second store");
    let mut subscription = other.subscribe().expect("listen");
    assert!(!subscription
        .wait(std::time::Duration::from_millis(100))
        .expect("wait"));
    let writer = std::thread::spawn({
        let config = in_schema(&book.schema);
        move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let store = PgStore::open_config(config).expect("third store");
            put(&store, &Customer::person("Li", "Na"), 0).expect("create");
        }
    });
    let started = std::time::Instant::now();
    assert!(subscription
        .wait(std::time::Duration::from_secs(60))
        .expect("wait"));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    writer.join().expect("writer");
    let feed = other.snapshot().expect("snap").feed(0, 10).expect("feed");
    assert_eq!(feed.len(), 1);
}

/// The TLS connections of open stores to a database, as the server counts them.
fn tls_connections(db: &str) -> i64 {
    let mut admin = server().connect(NoTls).expect("connect");
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE s.ssl AND a.datname = $1",
            &[&db],
        )
        .expect("count")
        .get(0)
}

#[test]
fn connections_are_encrypted_and_verify_full_checks_the_certificate() {
    let ca = std::env::var("KEHU_PG_CA").expect("KEHU_PG_CA: the test server's certificate");
    let url = std::env::var("KEHU_PG_URL").expect("KEHU_PG_URL");
    let (base, _) = url.rsplit_once('/').expect("a database");
    let name = format!("kehu_tls_{}", std::process::id());
    let mut admin = server().connect(NoTls).expect("connect");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .expect("drop");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create");
    let at = format!("{base}/{name}");
    // require: encrypted, the certificate not checked (as libpq).
    let store = PgStore::open(&format!("{at}?sslmode=require")).expect("require");
    put(&store, &Customer::person("Wei", "Zhang"), 0).expect("write over TLS");
    assert!(tls_connections(&name) >= 1);
    drop(store);
    // verify-full: the certificate checked against the root given, for its host.
    let localhost = at.replace("127.0.0.1", "localhost");
    let root = ca.replace('/', "%2F");
    let store = PgStore::open(&format!(
        "{localhost}?sslmode=verify-full&sslrootcert={root}"
    ))
    .expect("verify-full with the server's root");
    assert_eq!(
        store
            .snapshot()
            .expect("snap")
            .customer_count()
            .expect("count"),
        1
    );
    drop(store);
    // Without that root the system's do not know the server: refused, clearly.
    let err = PgStore::open(&format!("{localhost}?sslmode=verify-full"))
        .err()
        .expect("an unknown certificate is refused");
    let said = err.to_string();
    assert!(
        said.contains("certificate") || said.contains("TLS"),
        "{said}"
    );
}

#[test]
fn a_role_that_may_only_read_and_write_uses_a_book_made_by_another() {
    let book = temp_book();
    put(&book, &Customer::person("Wei", "Zhang"), 0).expect("create");
    let role = format!("kehu_clerk_{}", std::process::id());
    let mut admin = server().connect(NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN; \
             GRANT USAGE ON SCHEMA {s} TO {role}; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {role}",
            s = book.schema
        ))
        .expect("a clerk");
    let mut config = in_schema(&book.schema);
    config.user(&role);
    let clerk = PgStore::open_config(config).expect("the clerk opens the book");
    put(&clerk, &Customer::person("Li", "Na"), 0).expect("the clerk writes");
    assert_eq!(
        clerk
            .snapshot()
            .expect("snap")
            .customer_count()
            .expect("count"),
        2
    );
    drop(clerk);
    drop(book);
    let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
}

#[test]
fn a_client_certificate_opens_a_book_whose_server_asks_for_one() {
    let cert = std::env::var("KEHU_PG_CLIENT_CERT")
        .expect("KEHU_PG_CLIENT_CERT: the test role's certificate (bash scripts/pg.sh start)");
    let key = std::env::var("KEHU_PG_CLIENT_KEY").expect("KEHU_PG_CLIENT_KEY");
    let book = temp_book();
    put(&book, &Customer::person("Wei", "Zhang"), 0).expect("create");
    // kehu_cert may log in with its certificate only (scripts/pg.sh).
    let mut admin = server().connect(NoTls).expect("connect");
    admin
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {s} TO kehu_cert; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO kehu_cert",
            s = book.schema
        ))
        .expect("grant");
    let url = std::env::var("KEHU_PG_URL").expect("KEHU_PG_URL");
    let at = url.replacen("//kehu@", "//kehu_cert@", 1);
    let path = format!("options=-csearch_path%3D{}", book.schema);
    let with_cert = format!(
        "{at}?sslmode=require&{path}&sslcert={}&sslkey={}",
        cert.replace('/', "%2F"),
        key.replace('/', "%2F")
    );
    let store = PgStore::open(&with_cert).expect("the certificate logs in");
    put(&store, &Customer::person("Li", "Na"), 0).expect("write");
    assert_eq!(
        store
            .snapshot()
            .expect("snap")
            .customer_count()
            .expect("count"),
        2
    );
    drop(store);
    // The same role without it is refused, with the server's reason.
    let err = PgStore::open(&format!("{at}?sslmode=require&{path}&sslcert=%2Fnone.crt"))
        .err()
        .expect("no certificate file");
    assert!(err.to_string().contains("/none.crt"), "{err}");
    let err = PgStore::open(&format!("{at}?sslmode=require&{path}"))
        .err()
        .expect("no certificate: refused");
    assert!(err.to_string().contains("certificate"), "{err}");
}

/// A book of an older format opens and moves to this build's (its values
/// read as they were written); one of a newer format is refused, untouched.
#[test]
fn an_older_format_moves_on_and_a_newer_one_is_refused() {
    let book = temp_book();
    put(&book, &Customer::person("Wei", "Zhang"), 0).expect("create");
    let mut admin = in_schema(&book.schema).connect(NoTls).expect("connect");
    let marker = |admin: &mut postgres::Client| -> u32 {
        let row = admin
            .query_one("SELECT value FROM kehu_meta WHERE name = 'format'", &[])
            .expect("marker");
        u32::from_le_bytes(row.get::<_, &[u8]>(0).try_into().expect("4 bytes"))
    };
    let set = |admin: &mut postgres::Client, v: u32| {
        admin
            .execute(
                "UPDATE kehu_meta SET value = $1 WHERE name = 'format'",
                &[&v.to_le_bytes().as_slice()],
            )
            .expect("set marker");
    };
    set(&mut admin, kehu_store::OLDEST_FORMAT);
    let again = PgStore::open_config(in_schema(&book.schema)).expect("an older format opens");
    assert_eq!(marker(&mut admin), kehu_store::FORMAT_VERSION);
    assert_eq!(
        again
            .snapshot()
            .expect("snap")
            .customer_count()
            .expect("count"),
        1
    );
    drop(again);
    set(&mut admin, kehu_store::FORMAT_VERSION + 1);
    let refused = PgStore::open_config(in_schema(&book.schema));
    assert!(
        matches!(refused, Err(kehu_store::Error::UnsupportedFormat { .. })),
        "{:?}",
        refused.err()
    );
    assert_eq!(marker(&mut admin), kehu_store::FORMAT_VERSION + 1);
}

/// Books in two schemas of one database: a commit to one wakes its
/// subscribers, not the other's (a NOTIFY reaches the whole database; its
/// payload names the book).
#[test]
fn a_commit_to_another_book_of_the_database_wakes_no_one_here() {
    let here = temp_book();
    let there = temp_book();
    let mut subscription = here.store().subscribe().expect("listen");
    put(&there, &Customer::person("Wei", "Zhang"), 0).expect("create there");
    assert!(!subscription
        .wait(std::time::Duration::from_millis(500))
        .expect("wait"));
    put(&here, &Customer::person("Li", "Na"), 0).expect("create here");
    assert!(subscription
        .wait(std::time::Duration::from_secs(30))
        .expect("wait"));
}
