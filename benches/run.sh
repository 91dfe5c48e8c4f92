#!/usr/bin/env bash
# Runs the foundation and import benchmarks and their peers side by side, on generated customers.
#   bash benches/run.sh [N]      (N customers, default 1000000)
# Needs python3; makes .venv with Faker (the generator) and pydantic, email-validator and
# phonenumbers (the peer). Each phase runs in its own process, so its peak memory is its own.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
data=benches/data/cust_${n}.csv
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --quiet faker==40.54.0 pydantic email-validator phonenumbers duckdb==2.0.0
mkdir -p benches/data
act=benches/data/act_${n}
[ -f "$data" ] && [ -f "$act/purchases.csv" ] || \
    .venv/bin/python benches/gen_customers.py "$n" "$data" --seed 42 --activity "$act"
cargo bench --bench foundation --no-run
for phase in validate load get; do
    cargo bench --quiet --bench foundation -- --csv "$data" --phase "$phase" --runs 5
done
.venv/bin/python benches/pydantic_peer.py "$data" --runs 3 --limit 200000
# The import benchmark: the release `kehu` binary end to end, beside SQLite (python3's sqlite3).
cargo build --release -p kehu-cli
python3 benches/import_bench.py "$data" 3
# Segments: the columnar projection beside DuckDB, on the customers and their purchases.
KEHU_PYTHON="$PWD/.venv/bin/python" cargo bench -p kehu-segment --bench segment -- \
    "$PWD/$data" "$PWD/$act/purchases.csv" 10
