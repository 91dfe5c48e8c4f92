"""A policy (roles, scope, masking) as the core reads it."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Union

from . import _codec


def policy_json(policy: Union[Mapping[str, Any], str, "os.PathLike[str]"]) -> str:
    """A policy (a dict, or a JSON/TOML file) as JSON text for the native module."""
    if isinstance(policy, Mapping):
        return json.dumps(dict(policy))
    if isinstance(policy, (str, os.PathLike)):
        path = os.fspath(policy)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if path.endswith(".json"):
            return text
        try:
            import tomllib
        except ImportError:  # Python < 3.11
            raise TypeError("a TOML policy file needs Python 3.11 (tomllib); give a dict or a JSON file") from None
        return json.dumps(tomllib.loads(text))
    raise TypeError(f"policy: expected a dict or a file path, got {_codec.type_name(policy)}")
