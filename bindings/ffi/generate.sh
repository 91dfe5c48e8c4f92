#!/usr/bin/env bash
# Builds the kehu-ffi library and generates its Kotlin, Swift and Python
# bindings in library mode, with the workspace's own uniffi-bindgen (the same
# uniffi version as the library, so the checksums agree).
#
#   bindings/ffi/generate.sh [OUT_DIR] [--release]
#
# OUT_DIR (default target/uniffi) gets kotlin/, swift/ and python/, each with
# a copy of the library beside the sources where the language loads it from.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/uniffi}
profile=debug
flag=()
if [[ "${2:-}" == "--release" ]]; then profile=release; flag=(--release); fi

cargo build -q -p kehu-ffi "${flag[@]}"
cargo build -q -p uniffi-bindgen
lib=target/$profile/libkehu_ffi.so
[[ -f $lib ]] || lib=target/$profile/libkehu_ffi.dylib

rm -rf "$out"
for language in kotlin swift python; do
  target/debug/uniffi-bindgen generate --library "$lib" --language "$language" \
    --out-dir "$out/$language" --no-format
done
cp "$lib" "$out/python/"
cp "$lib" "$out/kotlin/"
echo "bindings in $out (library: $lib)"
