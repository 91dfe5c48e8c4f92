"""A book seen and changed by one principal under a policy (roles, scope, masking)."""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _codec
from ._types import Customer, DuplicateCandidate, Erasure, ImportReport, RelatedRecord, Saved, SegmentExplanation, decode_change, decode_related, decode_segment_explanation, Change


class GuardedBook:
    """``book.as_principal(...)``: every read is limited to the principal's scope and masked
    by its field access; every operation is checked and a denial raises ``PermissionDeniedError``
    (and is recorded in the audit trail)."""

    __slots__ = ("_native", "_principal", "_policy")

    def __init__(self, native: Any, principal: Dict[str, Any], policy: str) -> None:
        self._native = native
        self._principal = json.dumps(principal)
        self._policy = policy

    def _call(self, method: str, **args: Any) -> Any:
        return json.loads(self._native.as_principal(self._principal, self._policy, method, json.dumps(args)))

    @staticmethod
    def _id(value: Union[str, Customer]) -> str:
        if isinstance(value, Customer):
            if value.id is None:
                raise ValueError("the customer has no id yet")
            return value.id
        if not isinstance(value, str):
            raise TypeError(f"id: expected str, got {_codec.type_name(value)}")
        return value

    def get(self, id: Union[str, Customer]) -> Customer:
        """One dossier, masked (``NotFoundError`` outside the principal's scope)."""
        return _codec.decode(Customer, self._call("get", id=self._id(id)))

    def find_by_email(self, address: str) -> List[Customer]:
        """Dossiers in scope with this e-mail, masked."""
        return _codec.decode_list(Customer, self._call("find_by_email", value=address))

    def find_by_phone(self, number: str) -> List[Customer]:
        """Dossiers in scope with this phone number, masked."""
        return _codec.decode_list(Customer, self._call("find_by_phone", value=number))

    def find_by_external_id(self, external_id: str) -> List[Customer]:
        """Dossiers in scope with this external id, masked."""
        return _codec.decode_list(Customer, self._call("find_by_external_id", value=external_id))

    def find_by_tag(self, tag: str) -> List[Customer]:
        """Dossiers in scope with this tag, masked."""
        return _codec.decode_list(Customer, self._call("find_by_tag", value=tag))

    def segment_members(self, condition: str, *, as_of: Optional[_dt.datetime] = None) -> List[Customer]:
        """A segment's members in scope, masked."""
        when = None if as_of is None else _codec.format_instant(as_of, "as_of")
        return _codec.decode_list(Customer, self._call("segment_members", condition=condition, as_of=when))

    def explain_segment(self, condition: str, id: Union[str, Customer], *, as_of: Optional[_dt.datetime] = None) -> SegmentExplanation:
        """Why a customer in scope is in a segment or not, the values seen masked."""
        when = None if as_of is None else _codec.format_instant(as_of, "as_of")
        return decode_segment_explanation(self._call("explain_segment", condition=condition, id=self._id(id), as_of=when))

    def check_duplicates(self, customer: Union[Customer, Mapping[str, Any]]) -> List[DuplicateCandidate]:
        """Possible duplicates: each one's existence said, its values masked."""
        return _codec.decode_list(DuplicateCandidate, self._call("check_duplicates", customer=_codec.encode(Customer, customer, "customer")))

    def history(self, id: Union[str, Customer]) -> List[Change]:
        """A dossier's change log, values masked or left out."""
        return [decode_change(c) for c in self._call("history", id=self._id(id))]

    def related(self, id: Union[str, Customer]) -> List[RelatedRecord]:
        """A customer's related records, free text masked by the ``related`` field."""
        return [decode_related(r) for r in self._call("related", id=self._id(id))]

    def export_text(self, *, format: str = "csv") -> str:
        """The dossiers in scope, masked, as CSV or JSON Lines (needs the ``export`` operation)."""
        return str(self._call("export", options={"format": format}))

    def import_file(self, path: Union[str, "os.PathLike[str]"], **options: Any) -> ImportReport:
        """Imports a file when the principal may import (options as ``Book.import_file`` takes them,
        but for ``progress``)."""
        opts = {k: v for k, v in options.items() if v is not None}
        return _codec.decode(ImportReport, self._call("import_file", path=os.fspath(path), options=opts))

    def add(self, customer: Union[Customer, Mapping[str, Any]]) -> Saved:
        """Adds a dossier (owned by the principal when it names no owner)."""
        return _codec.decode(Saved, self._call("add", customer=_codec.encode(Customer, customer, "customer")))

    def update(self, customer: Union[Customer, Mapping[str, Any]]) -> Saved:
        """Saves a dossier in scope; fields the principal cannot see in full keep their stored values."""
        return _codec.decode(Saved, self._call("update", customer=_codec.encode(Customer, customer, "customer")))

    def remove(self, id: Union[str, Customer]) -> None:
        """Removes a dossier in scope."""
        self._call("remove", id=self._id(id))

    def forget(self, id: Union[str, Customer]) -> Erasure:
        """Erases a customer in scope."""
        return _codec.decode(Erasure, self._call("forget", id=self._id(id)))


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
