"""kehu's exceptions: one hierarchy rooted at ``KehuError``.

The messages are the Rust library's own; the fields carry what a program
needs to react (the violations, the duplicate candidates, the version found).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from . import _codec
from ._types import DuplicateCandidate, Violation


class KehuError(Exception):
    """Anything kehu refuses or fails to do. ``code`` is the library's stable
    error code (``invalid``, ``duplicate``, ``locked``, …), the same in Rust,
    Python, Kotlin and Swift."""

    code: str = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(KehuError, ValueError):
    """The record broke the entry rules; nothing was written.

    ``violations`` lists every problem (``path``, ``code``, ``message``,
    ``severity``); ``index`` is the record's position when it came in a batch.
    """

    def __init__(self, message: str, violations: List[Violation], index: Optional[int] = None) -> None:
        super().__init__(message)
        self.violations = violations
        self.index = index


class DuplicateError(KehuError):
    """The new dossier is almost surely one already in the book; ``candidates`` say which and why."""

    def __init__(self, message: str, candidates: List[DuplicateCandidate]) -> None:
        super().__init__(message)
        self.candidates = candidates


class NotFoundError(KehuError, LookupError):
    """No customer (or import, merge receipt, saved segment) with this id or name."""

    def __init__(self, message: str, id: Optional[str] = None) -> None:
        super().__init__(message)
        self.id = id


class ConflictError(KehuError):
    """Someone changed the data since it was read (a version conflict, an import already reverted).

    ``expected`` and ``found`` are the versions of a dossier's conflict.
    """

    def __init__(
        self,
        message: str,
        id: Optional[str] = None,
        expected: Optional[int] = None,
        found: Optional[int] = None,
        changed: Optional[List[str]] = None,
    ) -> None:
        super().__init__(message)
        self.id = id
        self.expected = expected
        self.found = found
        self.changed = changed or []


class StorageError(KehuError):
    """The store failed: I/O, a file that is not a book or is locked by another user, corrupt data."""


class FilterSyntaxError(KehuError, ValueError):
    """A segment condition does not parse or names an unknown field; ``line`` and ``column`` point at it."""

    def __init__(
        self,
        message: str,
        line: int,
        column: int,
        width: int = 1,
        reason: str = "",
        suggestion: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.width = width
        self.reason = reason
        self.suggestion = suggestion


class RulesError(KehuError, ValueError):
    """A rule set does not parse or compile; the message names the rule."""


class InputError(KehuError):
    """A file cannot be read, written or imported at all; ``path`` names it."""

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


class UsageError(KehuError, ValueError):
    """An option or argument the library does not know (a mode, a key, a format)."""


class EncryptionError(KehuError):
    """The key does not open the book (a wrong passphrase or key file), is missing, or the book is not encrypted; nothing was written."""


class PermissionDeniedError(KehuError, PermissionError):
    """The principal's roles do not allow this operation; ``user`` and ``operation`` say which (it is audited)."""

    def __init__(self, message: str, user: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.user = user
        self.operation = operation


class BookClosedError(KehuError):
    """The book was closed."""


class InternalError(KehuError):
    """A bug in kehu, caught at the boundary; please report it with the message."""


# The core's error codes, each to its class (codes not listed: UsageError).
_CLASSES: Dict[str, type] = {
    "invalid": ValidationError,
    "duplicate": DuplicateError,
    "not_found": NotFoundError,
    "segment_not_found": NotFoundError,
    "import_not_found": NotFoundError,
    "merge_not_found": NotFoundError,
    "conflict": ConflictError,
    "revert_conflict": ConflictError,
    "already_reverted": ConflictError,
    "already_unmerged": ConflictError,
    "filter_syntax": FilterSyntaxError,
    "storage": StorageError,
    "locked": StorageError,
    "not_a_book": StorageError,
    "corrupt": StorageError,
    "rules": RulesError,
    "input": InputError,
    "io": InputError,
    "key": EncryptionError,
    "denied": PermissionDeniedError,
    "closed": BookClosedError,
    "internal": InternalError,
}


def _native_error(code: str, message: str, payload_json: str) -> BaseException:
    """Builds the exception for a native failure (called by the native module)."""
    if code == "type":
        return TypeError(message)
    p: Dict[str, Any] = json.loads(payload_json)
    cls = _CLASSES.get(code, UsageError)
    e: KehuError
    if cls is ValidationError:
        e = ValidationError(message, _codec.decode_list(Violation, p.get("violations", [])), p.get("index"))
    elif cls is DuplicateError:
        e = DuplicateError(message, _codec.decode_list(DuplicateCandidate, p.get("candidates", [])))
    elif cls is NotFoundError:
        e = NotFoundError(message, p.get("id"))
    elif cls is ConflictError:
        e = ConflictError(message, p.get("id"), p.get("expected"), p.get("found"), p.get("changed"))
    elif cls is FilterSyntaxError:
        e = FilterSyntaxError(
            message, p["line"], p["column"], p.get("width", 1), p.get("reason", ""), p.get("suggestion")
        )
    elif cls is InputError:
        e = InputError(message, p.get("path"))
    elif cls is PermissionDeniedError:
        e = PermissionDeniedError(message, p.get("user", ""), p.get("operation", ""))
    else:
        e = cls(message)
    e.code = code
    return e
