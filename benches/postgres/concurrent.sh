#!/usr/bin/env bash
# The entry check against a shared book, on a throwaway cluster (scripts/pg.sh):
#  1. a quarter of the file imported into a book that holds another quarter,
#     into PostgreSQL and into redb (the check reads the book for every row);
#  2. four processes importing a quarter each at once into one PostgreSQL
#     book, against one process importing the whole file; customers kept.
# RUNS rounds, alternating; prints each run and min/median per contender.
#   bash benches/postgres/concurrent.sh benches/data/cust_100k.csv [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
csv=$(readlink -f "$1")
runs=${2:-2}
cargo build --release -q -p kehu-cli
kehu=$PWD/target/release/kehu
export KEHU_PG_DIR="$PWD/target/pg-bench"   # apart from the tests' cluster
eval "$(bash scripts/pg.sh start)"
trap 'bash scripts/pg.sh stop; rm -rf "$work"' EXIT
base=${KEHU_PG_URL%/*}
work=$(mktemp -d -p target bench-concurrent.XXXX)
rows=$(($(wc -l < "$csv") - 1))
quarter=$(((rows + 3) / 4))
for q in 0 1 2 3; do
    awk -v a=$((q * quarter + 1)) -v b=$(((q + 1) * quarter + 1)) 'NR == 1 || (NR > a && NR <= b)' "$csv" > "$work/q$q.csv"
done
now() { date +%s.%N; }
# An import that skipped or rejected rows exits 2; anything else is a failure.
imp() { local rc=0; "$kehu" import "$@" > /dev/null || rc=$?; [ "$rc" -le 2 ]; }
fresh() { psql "$KEHU_PG_URL" -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; }
count() { "$kehu" stats "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["customers"])'; }
declare -A results
for i in $(seq 1 "$runs"); do
    fresh bench_second
    imp "$base/bench_second" "$work/q0.csv"
    s=$(now); imp "$base/bench_second" "$work/q1.csv"; e=$(now)
    t=$(echo "$e - $s" | bc); results[second_pg]+="$t "
    echo "run $i: a quarter into a book holding a quarter, PostgreSQL: $t s"
    rm -f "$work/second.kehu"
    imp "$work/second.kehu" "$work/q0.csv"
    s=$(now); imp "$work/second.kehu" "$work/q1.csv"; e=$(now)
    t=$(echo "$e - $s" | bc); results[second_redb]+="$t "
    echo "run $i: a quarter into a book holding a quarter, redb: $t s"

    fresh bench_four
    s=$(now)
    for q in 0 1 2 3; do imp "$base/bench_four" "$work/q$q.csv" & done
    wait
    e=$(now); t=$(echo "$e - $s" | bc); results[four]+="$t "
    echo "run $i: four imports of a quarter at once: $t s, $(count "$base/bench_four") customers"
    fresh bench_one
    s=$(now); imp "$base/bench_one" "$csv"; e=$(now)
    t=$(echo "$e - $s" | bc); results[one]+="$t "
    echo "run $i: one import of the whole file: $t s, $(count "$base/bench_one") customers"
done
for k in second_pg second_redb four one; do
    echo "$k: ${results[$k]}" | python3 -c '
import statistics, sys
name, values = sys.stdin.read().split(":")
v = sorted(float(x) for x in values.split())
print(f"{name}: min {v[0]:.2f} s, median {statistics.median(v):.2f} s over {len(v)} runs")'
done
