#!/usr/bin/env bash
# Compiles the generated Kotlin bindings with Scenario.kt and runs it on the JVM.
#   run.sh KOTLINC BINDINGS_DIR   (BINDINGS_DIR: generate.sh's kotlin/ folder, with the library)
set -euo pipefail
kotlinc=$1
bindings=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
jna=/usr/share/java/jna.jar
[[ -f $jna ]] || { echo "JNA is missing: apt-get install -y libjna-java" >&2; exit 1; }
build=$bindings/../kotlin-build
mkdir -p "$build"
"$kotlinc" -nowarn -cp "$jna" -d "$build/scenario.jar" -include-runtime \
  "$bindings/kehu/kehu_ffi.kt" "$here/Scenario.kt"
java -Djna.library.path="$bindings" -cp "$build/scenario.jar:$jna" ScenarioKt
