#!/usr/bin/env bash
# kehu import into PostgreSQL beside psql \copy of the same CSV into one table
# with the same lookups indexed (e-mail, phone, external id), and beside kehu
# import into a redb file, on a throwaway cluster (scripts/pg.sh), RUNS times
# each, alternating. Prints each run and min/median per contender.
#   bash benches/postgres/import.sh benches/data/cust_100k.csv [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
csv=$(readlink -f "$1")
runs=${2:-3}
cargo build --release -q -p kehu-cli
kehu=target/release/kehu
export KEHU_PG_DIR="$PWD/target/pg-bench"   # apart from the tests' cluster
eval "$(bash scripts/pg.sh start)"
trap 'bash scripts/pg.sh stop' EXIT
base=${KEHU_PG_URL%/*}
header=$(head -n 1 "$csv")
cols=$(echo "$header" | sed 's/[^,]*/"&" text/g')
time_of() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A results
for i in $(seq 1 "$runs"); do
    psql "$KEHU_PG_URL" -qc "DROP DATABASE IF EXISTS bench_kehu" -c "CREATE DATABASE bench_kehu" \
        -c "DROP DATABASE IF EXISTS bench_copy" -c "CREATE DATABASE bench_copy"
    t=$(time_of "$kehu" import "$base/bench_kehu" "$csv")
    results[kehu_pg]+="$t "
    echo "run $i: kehu import into PostgreSQL: $t s"
    psql "$base/bench_copy" -qc "CREATE TABLE customers ($cols)" \
        -c 'CREATE INDEX ON customers (email)' -c 'CREATE INDEX ON customers (phone)' -c 'CREATE INDEX ON customers (id)'
    t=$(time_of psql "$base/bench_copy" -qc "\\copy customers FROM '$csv' WITH (FORMAT csv, HEADER true)")
    results[copy]+="$t "
    echo "run $i: psql \\copy into one indexed table: $t s"
    rm -f target/bench_import.kehu
    t=$(time_of "$kehu" import target/bench_import.kehu "$csv")
    results[kehu_redb]+="$t "
    echo "run $i: kehu import into redb: $t s"
done
rm -f target/bench_import.kehu
for k in kehu_pg copy kehu_redb; do
    echo "$k: ${results[$k]}" | python3 -c '
import statistics, sys
name, values = sys.stdin.read().split(":")
v = sorted(float(x) for x in values.split())
print(f"{name}: min {v[0]:.2f} s, median {statistics.median(v):.2f} s over {len(v)} runs")'
done
