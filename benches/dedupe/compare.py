#!/usr/bin/env python3
"""kehu dedupe beside Splink 5, on the same generated file, in one run.

  python3 benches/dedupe/compare.py CUSTOMERS.csv --runs 3 [--splink-python PY] [--no-splink]

Each engine runs in its own process, alternately, `runs` times: wall time
(min and median), peak RSS (of that process), and pairwise precision, recall
and F1 of the pairs it writes against CUSTOMERS.truth.csv (records with the same
cluster_id are one person). kehu is the release `kehu` binary end to end:
read, normalise, block, compare, learn, score, cluster, write both files.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def truth_pairs(path):
    by = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            by[row["cluster_id"]].append(row["id"])
    pairs = set()
    for ids in by.values():
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                a, b = ids[i], ids[j]
                pairs.add((a, b) if a < b else (b, a))
    return pairs


def scored(pairs_file, truth):
    got = set()
    with open(pairs_file, newline="") as f:
        for row in csv.DictReader(f):
            a, b = str(row["id_l"]), str(row["id_r"])
            got.add((a, b) if a < b else (b, a))
    tp = len(got & truth)
    p = tp / max(len(got), 1)
    r = tp / max(len(truth), 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)


def timed(cmd):
    """Runs a command; its wall seconds and its own peak RSS in MiB."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"{cmd[0]} failed ({status}):\n{err}")
    return wall, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("customers")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--splink-python", default=os.path.join(ROOT, "benches/.splink-venv/bin/python"))
    ap.add_argument("--no-splink", action="store_true")
    a = ap.parse_args()
    truth = truth_pairs(a.customers[:-4] + ".truth.csv")
    kehu = os.path.join(ROOT, "target/release/kehu")
    out = tempfile.mkdtemp(prefix="kehu-dedupe-bench-")
    engines = {
        "kehu": lambda p, c: [kehu, "dedupe", a.customers, "--pairs-out", p, "--clusters-out", c, "--quiet"],
    }
    if not a.no_splink:
        engines["splink 5 (duckdb)"] = lambda p, c: [
            a.splink_python, os.path.join(HERE, "splink_peer.py"), a.customers, p, c]
    results = defaultdict(list)
    quality = {}
    for run in range(a.runs):
        for name, make in engines.items():
            p, c = os.path.join(out, "pairs.csv"), os.path.join(out, "clusters.csv")
            wall, rss = timed(make(p, c))
            results[name].append((wall, rss))
            quality[name] = scored(p, truth)
            print(f"run {run + 1} {name}: {wall:.2f} s, {rss:.0f} MiB", file=sys.stderr)
    n = sum(1 for _ in open(a.customers)) - 1
    print(f"\n{n:,} records, {len(truth):,} true pairs, {a.runs} runs each, alternating\n")
    print("| engine | min s | median s | peak RSS MiB | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        walls = [w for w, _ in rs]
        p, r, f = quality[name]
        print(f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | "
              f"{max(m for _, m in rs):.0f} | {p:.4f} | {r:.4f} | {f:.4f} |")
    if len(results) == 2:
        (k, kr), (s, sr) = list(results.items())
        ratio_min = min(w for w, _ in sr) / min(w for w, _ in kr)
        ratio_med = statistics.median(w for w, _ in sr) / statistics.median(w for w, _ in kr)
        print(f"\n{s} / {k}: {ratio_min:.1f}× (min), {ratio_med:.1f}× (median)")


if __name__ == "__main__":
    main()
