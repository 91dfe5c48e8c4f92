"""Point reads per second through the Python module: `get` by id and
`find_by_email`, on a redb file and on a PostgreSQL book holding the same
import, alternating, best and median of RUNS rounds of N lookups.

    python benches/postgres/reads.py BOOK_FILE POSTGRES_URL [N] [RUNS]

Both books must hold the same import (`kehu import BOOK CSV`)."""

from __future__ import annotations

import random
import statistics
import sys
import time

import kehu


def rounds(book: kehu.Book, ids: list, emails: list, runs: int) -> tuple[list[float], list[float]]:
    by_id, by_email = [], []
    for _ in range(runs):
        t = time.perf_counter()
        for i in ids:
            book.get(i)
        by_id.append(len(ids) / (time.perf_counter() - t))
        t = time.perf_counter()
        for e in emails:
            book.find_by_email(e)
        by_email.append(len(emails) / (time.perf_counter() - t))
    return by_id, by_email


def main() -> None:
    path, url = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    books = {"redb": kehu.Book.open(path), "postgres": kehu.Book.open(url)}
    rng = random.Random(7)
    sample = rng.sample(books["redb"].customers(), n)
    emails = [c.primary_email for c in sample if c.primary_email]
    for name, book in books.items():
        ids = [book.find_by_email(e)[0].id for e in emails[: n // 4]]
        by_id, by_email = rounds(book, ids * 4, emails, runs)
        print(
            f"{name}: get {max(by_id):,.0f}/s best, {statistics.median(by_id):,.0f}/s median; "
            f"find_by_email {max(by_email):,.0f}/s best, {statistics.median(by_email):,.0f}/s median "
            f"({len(ids) * 4} and {len(emails)} lookups, {runs} rounds)"
        )


if __name__ == "__main__":
    main()
