#!/usr/bin/env bash
# kehu dedupe beside Splink 5 (DuckDB backend) on generated customers, in one run.
#   bash benches/dedupe/run.sh [N] [RUNS]     (default 100000 records, 3 runs each)
# Makes benches/.splink-venv with splink==5.0.0 (and its DuckDB), .venv with Faker
# for the generator, builds the release `kehu`, then alternates the two engines.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
runs=${2:-3}
data=benches/data/cust_${n}.csv
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --quiet faker==40.54.0
if [ ! -x benches/.splink-venv/bin/python ]; then python3 -m venv benches/.splink-venv; fi
benches/.splink-venv/bin/pip install --quiet splink==5.0.0
mkdir -p benches/data
[ -f "$data" ] || .venv/bin/python benches/gen_customers.py "$n" "$data" --seed 42
cargo build --release -p kehu-cli
python3 benches/dedupe/compare.py "$data" --runs "$runs"
