"""Import benchmark: `kehu import` (the release binary, end to end) against SQLite.

Each run imports the CSV into a fresh kehu book and loads it into a fresh SQLite
file, one after the other, each in its own process; wall time and peak RSS are
measured per process (os.wait4).
    python3 benches/import_bench.py benches/data/cust_1m.csv [RUNS] [-- extra kehu args]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

csv_path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "--" else 3
extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
kehu = os.path.join(root, "target", "release", "kehu")
peer = os.path.join(root, "benches", "sqlite_peer.py")


def timed(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, code, out, err


results = {"kehu": [], "sqlite": []}
with tempfile.TemporaryDirectory(dir=os.path.join(root, "target")) as tmp:
    for run in range(runs):
        book = os.path.join(tmp, f"book{run}.kehu")
        wall, rss, code, out, err = timed([kehu, "import", book, csv_path, "--json", "-q", *extra])
        if code not in (0, 2):
            sys.exit(f"kehu failed ({code}): {err.decode()}")
        report = json.loads(out)
        rows = report["rows"]
        results["kehu"].append((wall, rss, rows, report["imported"], os.path.getsize(book)))
        os.remove(book)
        db = os.path.join(tmp, f"peer{run}.sqlite")
        wall, rss, code, out, err = timed([sys.executable, peer, csv_path, db])
        if code != 0:
            sys.exit(f"sqlite peer failed: {err.decode()}")
        results["sqlite"].append((wall, rss, int(out), int(out), os.path.getsize(db)))
        os.remove(db)
        print(f"run {run + 1}: kehu {results['kehu'][-1][0]:.2f} s, sqlite {results['sqlite'][-1][0]:.2f} s", flush=True)

print()
print("| what | rows | best s | median s | best rows/s | median rows/s | peak RSS MiB | file MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, label in [("kehu", "`kehu import` (validate, normalise, 3 indexes, change log, journal)"),
                    ("sqlite", "SQLite via python3 (raw rows, same 3 indexes)")]:
    r = results[name]
    walls = [x[0] for x in r]
    rows = r[0][2]
    print(f"| {label} | {rows:,} | {min(walls):.2f} | {statistics.median(walls):.2f} | "
          f"{rows / min(walls):,.0f} | {rows / statistics.median(walls):,.0f} | "
          f"{max(x[1] for x in r):,.0f} | {r[0][4] / 2**20:,.0f} |")
best = min(x[0] for x in results["sqlite"]) / min(x[0] for x in results["kehu"])
print(f"\nkehu / SQLite speed (best vs best): {best:.2f}x")
