#!/usr/bin/env bash
# The test command: everything a fresh machine needs, then every check.
# Run from anywhere: `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
if ! need cargo; then
    echo "cargo is missing: install a Rust toolchain (rustup) first" >&2
    exit 1
fi
# rustfmt and clippy ship with the toolchain; add them when a minimal profile left them out.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo doc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== a python venv: duckdb (the segment differential test's reference), maturin, pytest, mypy, pandas, pyarrow, polars"
if ! need python3; then
    echo "python3 is missing: install it (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/pip install --quiet --disable-pip-version-check \
    duckdb==2.0.0 maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 pandas==3.1.1 pyarrow==26.0.1 polars==2.2.0
export KEHU_PYTHON="$PWD/.venv/bin/python" KEHU_REQUIRE_DUCKDB=1
echo "== a throwaway PostgreSQL cluster under target/pg: the shared-book tests (Rust, CLI, Python) run on it"
eval "$(bash scripts/pg.sh start)"
trap 'bash scripts/pg.sh stop' EXIT
export KEHU_REQUIRE_PG=1
echo "== cargo test"
cargo test --workspace --all-features
echo "== the uniffi layer generated: Kotlin, Swift and Python (the policy's randomised pytest drives it too)"
bash bindings/ffi/generate.sh target/uniffi
echo "== the Python module: a release abi3 wheel built as pip builds it (PEP 517 through maturin), installed into .venv"
rm -rf target/wheels
.venv/bin/pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir target/wheels ./bindings/python
.venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/kehu-*.whl
echo "== the Python module: its pytest suite, mypy --strict, stubtest"
# The randomised policy test drives Python, the CLI built by cargo test, and the uniffi module.
KEHU_REQUIRE_SURFACES=1 .venv/bin/python -m pytest -q bindings/python/tests
.venv/bin/python -m mypy --strict examples/python bindings/python/python/kehu
.venv/bin/python -m mypy.stubtest kehu._kehu
echo "== the wheel alone in a fresh venv (no pandas, no pyarrow): the Python examples"
rm -rf target/wheel-venv
python3 -m venv target/wheel-venv
target/wheel-venv/bin/pip install --quiet --disable-pip-version-check target/wheels/kehu-*.whl
for example in examples/python/*.py; do
    target/wheel-venv/bin/python "$example" >/dev/null
done
echo "== the uniffi layer: uniffi-Python pytest; the Swift header; Kotlin on the JVM"
.venv/bin/python -m pytest -q bindings/ffi/tests/python
python3 bindings/ffi/tests/swift/check_header.py target/uniffi/swift target/debug/libkehu_ffi.so
# The Kotlin test needs a JDK and JNA (Debian packages) and kotlinc (npm).
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get install -y -q "$@" >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}
if [ ! -f /usr/share/java/jna.jar ]; then apt_install libjna-java; fi
if ! need javac; then apt_install default-jdk-headless; fi
if ! need npm; then apt_install nodejs npm; fi
kotlinc=target/tools/kotlin/node_modules/kotlin-compiler/bin/kotlinc
if [ ! -x "$kotlinc" ]; then
    npm install --silent --no-audit --no-fund --prefix target/tools/kotlin kotlin-compiler@2.4.20
fi
bash bindings/ffi/tests/kotlin/run.sh "$kotlinc" target/uniffi/kotlin
echo "== the quickstart runs"
cargo run --quiet --example quickstart >/dev/null
echo "== the CLI checks the sample file (exit code 2: it has bad rows on purpose)"
status=0
cargo run --quiet -p kehu-cli -- validate examples/data/customers.csv --rules examples/rules.toml \
    --map 会员等级=custom.member_level >/dev/null || status=$?
if [ "$status" -ne 2 ]; then
    echo "kehu validate exited with $status, expected 2" >&2
    exit 1
fi
echo "all checks passed"
