#!/usr/bin/env bash
# Compiles the generated Kotlin bindings with Scenario.kt and the README's
# Kotlin snippet (readme_snippet.py) and runs them on the JVM.
#   run.sh KOTLINC BINDINGS_DIR   (BINDINGS_DIR: generate.sh's kotlin/ folder, with the library)
set -euo pipefail
kotlinc=$1
bindings=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
jna=/usr/share/java/jna.jar
[[ -f $jna ]] || { echo "JNA is missing: apt-get install -y libjna-java" >&2; exit 1; }
build=$bindings/../kotlin-build
mkdir -p "$build"
python3 "$here/readme_snippet.py" "$here/../../../../README.md" "$build/Readme.kt"
"$kotlinc" -nowarn -cp "$jna" -d "$build/scenario.jar" -include-runtime \
  "$bindings/kehu/kehu_ffi.kt" "$here/Scenario.kt" "$build/Readme.kt"
java -Djna.library.path="$bindings" -cp "$build/scenario.jar:$jna" ScenarioKt
