"""Python's Book.add_many of the rows of a generated CSV, as dossier dicts.

  python benches/python/add_many.py CUSTOMERS.csv --runs 3

The rows are turned into dicts the way benches/foundation.rs turns them into
Customers, and those the standard rules reject are set aside first (untimed),
so both sides add the same dossiers. Timed: add_many of the dicts into a fresh
book file (conversion, the native call, the import it runs). Prints JSON.
"""

import argparse
import csv
import json
import os
import statistics
import tempfile
import time

import kehu


def dossier(r):
    d = {"name": {"given": r["first_name"] or None, "family": r["last_name"] or None}}
    if r["email"]:
        d["emails"] = [{"address": r["email"], "primary": True}]
    if r["phone"]:
        d["phones"] = [{"number": r["phone"], "primary": True}]
    if r["date_of_birth"]:
        d["birth_date"] = r["date_of_birth"]
    if r["street"] or r["city"] or r["postcode"]:
        d["addresses"] = [{"primary": True, "street": r["street"] or None, "city": r["city"] or None,
                           "postcode": r["postcode"] or None}]
    if r["company"]:
        d["company"] = r["company"]
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with open(args.csv, newline="", encoding="utf-8") as f:
        rows = [dossier(r) for r in csv.DictReader(f)]
    with kehu.Book.memory() as probe:
        rows = [d for d in rows if probe.validate(d).ok]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            with kehu.Book.open(os.path.join(tmp, f"py-{run}.kehu")) as book:
                t = time.perf_counter()
                report = book.add_many(rows)
                times.append(time.perf_counter() - t)
                assert report.imported == len(rows), report
    n = len(rows)
    print(json.dumps({"records": n, "add_many_best": round(n / min(times)), "add_many_median": round(n / statistics.median(times))}))


if __name__ == "__main__":
    main()
