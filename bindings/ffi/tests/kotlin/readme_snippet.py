"""Writes the README's Kotlin snippet as a function `readme(dir: File)`, so the
Kotlin test compiles and runs exactly what users read.

    python3 readme_snippet.py README.md OUT.kt
"""

import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"```kotlin\n(.*?)```", text, re.S)
if not blocks:
    sys.exit("no ```kotlin block in the README")
body = [line for line in blocks[0].splitlines() if not line.startswith("import ")]
out = [
    "import kehu.*",
    "import java.io.File",
    "import java.time.Instant",
    "import java.time.LocalDate",
    "",
    "fun readme(dir: File) {",
    *("    " + line if line else "" for line in body),
    "}",
    "",
]
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out))
