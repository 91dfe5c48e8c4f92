"""Import benchmark: `kehu import` (the release binary, end to end) against SQLite.

Each run imports the CSV into a fresh kehu book and loads it into a fresh SQLite
file, one after the other, each in its own process; wall time and peak RSS are
measured per process (os.wait4).
    python3 benches/import_bench.py benches/data/cust_1m.csv [RUNS] [--compare OTHER_KEHU] [-- extra kehu args]

With --compare, another `kehu` binary (an earlier build: `git worktree add /tmp/old REV`,
`cargo build --release -p kehu-cli` there) imports the same file in the same runs,
alternating, so the two are measured on the same machine state.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

args = sys.argv[1:sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
other = None
if "--compare" in args:
    at = args.index("--compare")
    other = os.path.abspath(args[at + 1])
    del args[at:at + 2]
csv_path = args[0]
runs = int(args[1]) if len(args) > 1 else 3
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


results = {"kehu": [], "sqlite": [], "other": []}
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
        os.sync()
        if other:
            wall, rss, code, out, err = timed([other, "import", book, csv_path, "--json", "-q"])
            if code not in (0, 2):
                sys.exit(f"{other} failed ({code}): {err.decode()}")
            report = json.loads(out)
            results["other"].append((wall, rss, report["rows"], report["imported"], os.path.getsize(book)))
            os.remove(book)
            os.sync()
        db = os.path.join(tmp, f"peer{run}.sqlite")
        wall, rss, code, out, err = timed([sys.executable, peer, csv_path, db])
        if code != 0:
            sys.exit(f"sqlite peer failed: {err.decode()}")
        results["sqlite"].append((wall, rss, int(out), int(out), os.path.getsize(db)))
        os.remove(db)
        os.sync()
        compared = f", {os.path.basename(other)} {results['other'][-1][0]:.2f} s" if other else ""
        print(f"run {run + 1}: kehu {results['kehu'][-1][0]:.2f} s{compared}, sqlite {results['sqlite'][-1][0]:.2f} s", flush=True)

print()
print("| what | rows | best s | median s | best rows/s | median rows/s | peak RSS MiB | file MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
rows_of = [("kehu", "`kehu import` (validate, normalise, duplicate check, indexes, change log, journal)")]
if other:
    rows_of.append(("other", f"`{other} import`"))
rows_of.append(("sqlite", "SQLite via python3 (raw rows, same 3 indexes)"))
for name, label in rows_of:
    r = results[name]
    walls = [x[0] for x in r]
    rows = r[0][2]
    print(f"| {label} | {rows:,} | {min(walls):.2f} | {statistics.median(walls):.2f} | "
          f"{rows / min(walls):,.0f} | {rows / statistics.median(walls):,.0f} | "
          f"{max(x[1] for x in r):,.0f} | {r[0][4] / 2**20:,.0f} |")
best = min(x[0] for x in results["sqlite"]) / min(x[0] for x in results["kehu"])
print(f"\nkehu / SQLite speed (best vs best): {best:.2f}x")
if other:
    for how, pick in [("best vs best", min), ("median vs median", statistics.median)]:
        ratio = pick([x[0] for x in results["kehu"]]) / pick([x[0] for x in results["other"]])
        print(f"kehu time / {os.path.basename(other)} time ({how}): {ratio:.2f}x")
    for k in ("kehu", "other"):
        print(f"{k}: imported {results[k][0][3]:,} of {results[k][0][2]:,} rows")
