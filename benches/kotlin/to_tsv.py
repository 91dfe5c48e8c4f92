"""Turns a generated customers CSV into the tab-separated file the Kotlin and
Rust add benchmarks read (same columns, tabs and newlines in values blanked).

    python3 benches/kotlin/to_tsv.py CUSTOMERS.csv OUT.tsv
"""

import csv
import sys

COLUMNS = ["first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode", "company"]

with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for row in csv.DictReader(f):
        out.write("\t".join((row.get(c) or "").replace("\t", " ").replace("\n", " ") for c in COLUMNS) + "\n")
