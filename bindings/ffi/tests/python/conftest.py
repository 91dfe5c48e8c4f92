"""Loads the uniffi-generated module `kehu_ffi` (not the pyo3 package `kehu`).

`bindings/ffi/generate.sh` writes it, with the library beside it, to
`target/uniffi/python`; `KEHU_FFI_PYTHON` points elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, os.environ.get("KEHU_FFI_PYTHON", str(ROOT / "target" / "uniffi" / "python")))
