"""The peer for the import benchmark: the same generated CSV into SQLite.

One table with the CSV's columns, a unique index on the source id (what kehu keys
an import on) and indexes on e-mail and phone (what kehu indexes), loaded with
executemany in transactions of 50,000 rows, as kehu commits its batches.
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
rows = 0
with open(path, newline="", encoding="utf-8-sig") as f:
    reader = csv.reader(f)
    next(reader)
    batch = []
    for row in reader:
        batch.append(row[:10] + [None] * (10 - len(row)))
        if len(batch) == 50_000:
            db.executemany("INSERT OR IGNORE INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
            db.commit()
            rows += len(batch)
            batch = []
    db.executemany("INSERT OR IGNORE INTO customers VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
    db.commit()
    rows += len(batch)
print(rows)
