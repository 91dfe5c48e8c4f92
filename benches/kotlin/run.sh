#!/usr/bin/env bash
# Adding customers through the Kotlin bindings vs the Rust API, in one run:
#   bash benches/kotlin/run.sh [N] [RUNS]     (default 100000 records, 3 runs)
# Alternates a Rust process (kehu::Book::add_many; the FFI layer from Rust) and
# a JVM process (addManyIds and addMany through the generated Kotlin, JNA),
# each adding the same valid customers of one generated file to fresh book files.
# Needs what scripts/test.sh installs (kotlinc in target/tools, JNA).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
runs=${2:-3}
data=benches/data/cust_${n}.csv
tsv=benches/data/cust_${n}.tsv
kotlinc=target/tools/kotlin/node_modules/kotlin-compiler/bin/kotlinc
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --quiet --disable-pip-version-check faker==40.54.0
mkdir -p benches/data
[ -f "$data" ] || .venv/bin/python benches/gen_customers.py "$n" "$data" --seed 42
python3 benches/kotlin/to_tsv.py "$data" "$tsv"
if [ ! -x "$kotlinc" ]; then
    npm install --silent --no-audit --no-fund --prefix target/tools/kotlin kotlin-compiler@2.4.20
fi
bash bindings/ffi/generate.sh target/uniffi-release --release >/dev/null
cargo build --release -q -p kehu-ffi --example add_bench
jar=target/uniffi-release/bench.jar
"$kotlinc" -nowarn -cp /usr/share/java/jna.jar -d "$jar" -include-runtime \
    target/uniffi-release/kotlin/kehu/kehu_ffi.kt benches/kotlin/AddBench.kt 2>/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq "$runs"); do
    rm -rf "$work"/*
    target/release/examples/add_bench "$tsv" "$work"
    rm -rf "$work"/*
    java -Xmx8g -Djna.library.path=target/uniffi-release/kotlin -cp "$jar:/usr/share/java/jna.jar" AddBenchKt "$tsv" "$work"
done
