"""The peer for the import benchmark: the same generated CSV into SQLite.

One table with the CSV's columns, a unique index on the source id (what kehu keys
an import on) and indexes on e-mail and phone (what kehu looks up), loaded the way
a Python user would write it at its fastest: one `executemany` over the CSV
reader, in one transaction (SQLite's defaults otherwise: a rollback journal,
`synchronous = FULL`, as kehu's commits are durable).
    python3 benches/sqlite_peer.py FILE.csv OUT.sqlite
Prints the number of rows loaded.
"""
import csv
import sqlite3
import sys

path, db_path = sys.argv[1], sys.argv[2]
db = sqlite3.connect(db_path)
db.execute(
    "CREATE TABLE customers (id TEXT NOT NULL, first_name TEXT, last_name TEXT, email TEXT,"
    " phone TEXT, date_of_birth TEXT, street TEXT, city TEXT, postcode TEXT, company TEXT)"
)
db.execute("CREATE UNIQUE INDEX customers_id ON customers (id)")
db.execute("CREATE INDEX customers_email ON customers (lower(email))")
db.execute("CREATE INDEX customers_phone ON customers (phone)")
db.commit()
with open(path, newline="", encoding="utf-8-sig") as f:
    reader = csv.reader(f)
    next(reader)
    rows = (row[:10] + [None] * (10 - len(row)) for row in reader)
    with db:
        db.executemany("INSERT OR IGNORE INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
print(db.execute("SELECT count(*) FROM customers").fetchone()[0])
