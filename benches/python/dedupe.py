"""kehu.dedupe from Python beside the kehu CLI and Splink 5, on one file, in one run.

  python benches/python/dedupe.py CUSTOMERS.csv --runs 3 [--splink-python PY]

Each runs in its own process, alternately: the release `kehu dedupe FILE
--pairs-out P` (end to end), a Python process that imports kehu, calls
kehu.dedupe(FILE) and writes the matched pairs, and Splink (benches/dedupe/
splink_peer.py). Wall time min/median, peak RSS and pairwise F1 against
CUSTOMERS.truth.csv.
"""

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "benches", "dedupe"))
from compare import scored, timed, truth_pairs  # noqa: E402

PY_RUN = """
import sys, time, kehu
t = time.perf_counter()
r = kehu.dedupe(sys.argv[1])
matches = r.matches
with open(sys.argv[2] + ".seconds", "w") as f:
    f.write(str(time.perf_counter() - t))
with open(sys.argv[2], "w") as f:
    f.write("id_l,id_r,probability\\n")
    for p in matches:
        f.write(f"{p.id_l},{p.id_r},{p.probability:.6f}\\n")
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--splink-python", default=os.path.join(ROOT, "benches", ".splink-venv", "bin", "python"))
    ap.add_argument("--no-splink", action="store_true")
    args = ap.parse_args()
    truth = truth_pairs(args.csv[: -len(".csv")] + ".truth.csv")
    kehu_bin = os.path.join(ROOT, "target", "release", "kehu")
    engines = {
        "cli": lambda out: [kehu_bin, "dedupe", args.csv, "--pairs-out", out, "-q"],
        "python": lambda out: [sys.executable, "-c", PY_RUN, args.csv, out],
    }
    if not args.no_splink:
        engines["splink"] = lambda out: [args.splink_python, os.path.join(ROOT, "benches", "dedupe", "splink_peer.py"), args.csv, out, out + ".clusters.csv"]
    results = {k: [] for k in engines}
    calls = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name, cmd in engines.items():
                out = os.path.join(tmp, f"{name}-{run}.csv")
                wall, rss = timed(cmd(out))
                p, r, f1 = scored(out, truth)
                results[name].append((wall, rss, f1))
                extra = ""
                if name == "python":
                    with open(out + ".seconds") as f:
                        call = float(f.read())
                    calls.append(call)
                    extra = f"  (kehu.dedupe call and its pairs: {call:.2f} s)"
                print(f"run {run + 1} {name:<7} {wall:7.2f} s  {rss:6.0f} MiB  F1 {f1:.4f}{extra}", flush=True)
    summary = {}
    for name, rs in results.items():
        walls = [w for w, _, _ in rs]
        summary[name] = (min(walls), statistics.median(walls), max(r for _, r, _ in rs), rs[-1][2])
        print(f"{name:<7} min {summary[name][0]:.2f} s  median {summary[name][1]:.2f} s  peak {summary[name][2]:.0f} MiB  F1 {summary[name][3]:.4f}")
    cli, py = summary["cli"], summary["python"]
    print(f"python / cli, whole processes: {py[0] / cli[0]:.2f}x (min), {py[1] / cli[1]:.2f}x (median)")
    print(f"python call / cli process: {min(calls) / cli[0]:.2f}x (min), {statistics.median(calls) / cli[1]:.2f}x (median)")
    if "splink" in summary:
        sp = summary["splink"]
        print(f"splink / python: {sp[0] / py[0]:.1f}x (min), {sp[1] / py[1]:.1f}x (median)")


if __name__ == "__main__":
    main()
