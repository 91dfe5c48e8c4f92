"""Dedupe of tables: files, CSV bytes, DataFrames (pandas, polars) or any Arrow stream."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _codec
from . import _frames
from . import _kehu
from ._book import PathLike, ProgressFn, SettingsArg, _text_or_json
from ._types import MatchExplanation, Pair

# A path, CSV bytes, a pandas or polars DataFrame, or any Arrow stream (``__arrow_c_stream__``).
Table = Union[PathLike, bytes, Any]


class DedupeResult:
    """The answer of a dedupe: the fields as read, matched pairs, clusters of ids, warnings and stats.

    ``explain(id_l, id_r)`` scores any two records of the input with the
    model this run learned.
    """

    __slots__ = ("_native", "_rows", "_pairs", "fields", "clusters", "warnings", "stats")

    def __init__(self, native: Any) -> None:
        raw = json.loads(native.answer())
        self._native = native
        self._rows: List[List[Any]] = raw["pairs"]
        self._pairs: Optional[List[Pair]] = None
        #: Each field and the type it was read as (``("email", "email")``).
        self.fields: List[Tuple[str, str]] = [(f[0], f[1]) for f in raw["fields"]]
        #: Groups of two or more record ids that are one customer, largest first.
        self.clusters: List[List[str]] = raw["clusters"]
        #: What the run noticed (skipped blocks, thin columns).
        self.warnings: List[str] = raw["warnings"]
        #: Counts (records, candidates, matches, …) and seconds per stage.
        self.stats: Dict[str, Any] = raw["stats"]

    @property
    def pairs(self) -> List[Pair]:
        """Scored pairs at or above the review threshold, strongest first."""
        if self._pairs is None:
            self._pairs = [Pair(*row) for row in self._rows]
        return self._pairs

    @property
    def matches(self) -> List[Pair]:
        """The pairs that ended in one cluster."""
        return [p for p in self.pairs if p.clustered]

    @property
    def reviews(self) -> List[Pair]:
        """The pairs a person should look at (possible matches, or matches the chain guard left out)."""
        return [p for p in self.pairs if not p.clustered]

    def cluster_of(self) -> Dict[str, str]:
        """Each clustered record id and its cluster's name (the smallest id in it)."""
        return {m: c[0] for c in self.clusters for m in c}

    def pairs_arrow(self) -> "_kehu.ArrowStream":
        """The scored pairs as an Arrow table (``id_l``, ``id_r``, ``probability``,
        ``weight``, ``decision``, ``clustered``): ``pyarrow.table(r.pairs_arrow())``."""
        stream: _kehu.ArrowStream = self._native.pairs_arrow()
        return stream

    def clusters_arrow(self) -> "_kehu.ArrowStream":
        """Every record with its cluster (``id``, ``cluster``: the first record's id, ``size``) as an Arrow table."""
        stream: _kehu.ArrowStream = self._native.clusters_arrow()
        return stream

    def pairs_frame(self) -> Any:
        """The pairs as a pandas DataFrame (needs pandas and pyarrow)."""
        return _frames.to_pandas(self.pairs_arrow(), "DedupeResult.pairs_frame")

    def explain(self, id_l: str, id_r: str) -> MatchExplanation:
        """Why two records (by id) score as they do, field by field."""
        return _codec.decode(MatchExplanation, json.loads(self._native.explain(id_l, id_r)))

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"<kehu.DedupeResult {s.get('records')} records, {len(self.matches)} matched pairs, "
            f"{len(self.clusters)} clusters, {len(self.reviews)} to review>"
        )


def _table(value: Any, what: str) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    if _frames.is_frame(value):
        return _frames.rows_of(value)
    raise TypeError(
        f"{what}: expected a file path, CSV bytes, a DataFrame or an Arrow table, got {_codec.type_name(value)}"
    )


def dedupe(
    table: Table,
    *,
    link: Optional[Table] = None,
    id_column: Optional[str] = None,
    settings: SettingsArg = None,
    threshold: Optional[float] = None,
    progress: Optional[ProgressFn] = None,
) -> DedupeResult:
    """Finds the records of a table that are one customer: a file (CSV, JSON
    Lines), CSV bytes, a pandas or polars DataFrame, or any Arrow stream
    (``__arrow_c_stream__``: pyarrow, DuckDB); a frame is read as rows, never
    written out as CSV.

    Field types are read from the headers (English, 中文 and more) and the
    values; ``settings`` (a dict or a TOML/JSON file) overrides them, the
    blocking rules and thresholds. ``link``: a second table; only pairs
    across the two are sought. ``id_column``: the record id column (default
    one named id, rec_id, customer_id, 客户编号…; else the line number).
    The GIL is released while it runs.
    """
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
        raise TypeError(f"threshold: expected a number, got {_codec.type_name(threshold)}")
    native = _kehu.dedupe_table(
        _table(table, "table"),
        _text_or_json(settings, "settings"),
        None if link is None else _table(link, "link"),
        progress,
        id_column,
        None if threshold is None else float(threshold),
    )
    return DedupeResult(native)


def dedupe_frame(
    frame: Any,
    *,
    id_column: Optional[str] = None,
    settings: SettingsArg = None,
    threshold: Optional[float] = None,
    progress: Optional[ProgressFn] = None,
) -> DedupeResult:
    """``dedupe`` of a DataFrame (kept for older code: ``dedupe`` takes frames itself)."""
    if not _frames.is_frame(frame):
        raise TypeError(f"frame: expected a DataFrame or an Arrow table, got {_codec.type_name(frame)}")
    return dedupe(frame, id_column=id_column, settings=settings, threshold=threshold, progress=progress)
