"""Arrow against the CSV round trip, from Python, in one run (issue 20).

    .venv/bin/python benches/frames_bench.py benches/data/cust_100k.csv --runs 5

Each pair does the same job both ways in the same process, runs alternated:
- out: a book's customers as a pandas DataFrame — `book.to_pandas()` (typed,
  through Arrow) against reading the CSV export back with pandas
  (`pd.read_csv(io.StringIO(book.export_text()), dtype=str)`, every column text,
  as `to_pandas` did before).
- dedupe: a DataFrame deduped — `kehu.dedupe(df)` (rows through Arrow) against
  `kehu.dedupe(df.to_csv(index=False).encode())` (what `dedupe_frame` did).
- import: a DataFrame imported into an empty book — `book.import_file(df)`
  against writing it to a CSV file and importing that.
Prints min and median seconds of each and their ratio (CSV / Arrow).
Needs the module built in release (`maturin develop --release`), pandas and pyarrow.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import pandas as pd

import kehu


def timed(f: Callable[[], object]) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kehu-frames-"))
    frame = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
    with kehu.Book.open(tmp / "book.kehu") as book:
        book.import_file(args.csv, on_duplicate="allow")
        rows = book.count()
        pairs: Dict[str, Dict[str, Callable[[], object]]] = {
            "out": {
                "arrow": lambda: book.to_pandas(),
                "csv": lambda: pd.read_csv(io.StringIO(book.export_text()), dtype=str, keep_default_na=False),
            },
            "dedupe": {
                "arrow": lambda: kehu.dedupe(frame),
                "csv": lambda: kehu.dedupe(frame.to_csv(index=False).encode("utf-8")),
            },
        }
        n = [0]

        def import_arrow() -> None:
            n[0] += 1
            with kehu.Book.open(tmp / f"a{n[0]}.kehu") as b:
                b.import_file(frame, on_duplicate="allow")

        def import_csv() -> None:
            n[0] += 1
            path = tmp / f"c{n[0]}.csv"
            frame.to_csv(path, index=False)
            with kehu.Book.open(tmp / f"c{n[0]}.kehu") as b:
                b.import_file(path, on_duplicate="allow")

        pairs["import"] = {"arrow": import_arrow, "csv": import_csv}
        print(f"{rows} customers ({args.csv.name}), {args.runs} runs each, alternated")
        for job, ways in pairs.items():
            seen: Dict[str, List[float]] = {w: [] for w in ways}
            for _ in range(args.runs):
                for way, f in ways.items():
                    seen[way].append(timed(f))
            line = "  ".join(
                f"{w} min {min(t):.3f} s median {statistics.median(t):.3f} s" for w, t in seen.items()
            )
            ratio = min(seen["csv"]) / min(seen["arrow"])
            print(f"{job:7} {line}  csv/arrow (min) {ratio:.2f}x")


if __name__ == "__main__":
    main()
