#!/usr/bin/env bash
# The Python benchmarks, each beside its peer in the same run:
#   bash benches/python/run.sh [N] [RUNS]      (default 100000 records, 3 runs)
# 1. add_many of N dossier dicts from Python vs the Rust API (Book::add_many and
#    the JSON Lines import Python's add_many runs), alternating processes;
# 2. kehu.dedupe from Python vs the `kehu dedupe` CLI vs Splink 5 (DuckDB).
# Builds the module in release into .venv (maturin) and the release CLI.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
runs=${2:-3}
data=benches/data/cust_${n}.csv
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --quiet --disable-pip-version-check faker==40.54.0 maturin==1.16.0
if [ ! -x benches/.splink-venv/bin/python ]; then python3 -m venv benches/.splink-venv; fi
benches/.splink-venv/bin/pip install --quiet --disable-pip-version-check splink==5.0.0
mkdir -p benches/data
[ -f "$data" ] || .venv/bin/python benches/gen_customers.py "$n" "$data" --seed 42
VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH" .venv/bin/maturin develop --release --quiet -m bindings/python/Cargo.toml
cargo build --release -p kehu-cli
cargo bench --no-run --bench foundation 2>/dev/null
bench=$(ls -t target/release/deps/foundation-* | grep -v '\.d$' | head -1)
echo "== add_many: Rust API vs Python, $runs alternating processes"
for i in $(seq "$runs"); do
    echo "rust   $("$bench" --csv "$data" --phase add --runs 1 | grep '^{')"
    echo "python $(.venv/bin/python benches/python/add_many.py "$data" --runs 1)"
done
echo "== dedupe: CLI vs Python vs Splink"
.venv/bin/python benches/python/dedupe.py "$data" --runs "$runs"
