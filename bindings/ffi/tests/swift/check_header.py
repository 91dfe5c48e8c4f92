"""Checks the generated Swift bridge without a Swift toolchain.

1. The C header compiles with gcc (as C11, warnings as errors).
2. Every function it declares is exported by the library: a C program that
   takes the address of each one links against it, and `nm -D` lists them all.

    python3 check_header.py SWIFT_DIR LIBRARY
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    swift_dir, library = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    header = next(swift_dir.glob("*FFI.h"))
    text = header.read_text()
    declared = sorted(set(re.findall(r"^[A-Za-z_][\w ]*?\b((?:uniffi|ffi)_kehu_ffi_\w+)\(", text, re.M)))
    if len(declared) < 50:
        print(f"only {len(declared)} functions found in {header.name}: is the pattern stale?")
        return 1
    # gcc knows no clang nullability qualifiers; they mean nothing to C itself.
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-D_Nonnull=", "-D_Nullable="]
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.c"
        lines = [f'#include "{header}"', "#include <stdio.h>", "int main(void) {", "    const void *fns[] = {"]
        lines += [f"        (const void *)&{name}," for name in declared]
        lines += ["    };", '    printf("%zu\\n", sizeof fns / sizeof fns[0]);', "    return 0;", "}"]
        probe.write_text("\n".join(lines) + "\n")
        exe = Path(tmp) / "probe"
        subprocess.run(
            ["gcc", *flags, str(probe), "-o", str(exe), str(library), f"-Wl,-rpath,{library.parent}"],
            check=True,
        )
        linked = int(subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout)
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(library)], check=True, capture_output=True, text=True).stdout
    exported = set(re.findall(r"\b((?:uniffi|ffi)_kehu_ffi_\w+)\b", symbols))
    missing = [name for name in declared if name not in exported]
    if missing or linked != len(declared):
        print(f"declared but not exported: {missing}")
        return 1
    print(f"swift header: {len(declared)} functions declared, compiled with gcc, all exported and linked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
