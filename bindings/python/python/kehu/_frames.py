"""Tables for the people who look at the data: kehu's Arrow streams as
pyarrow, pandas and polars frames, and DataFrames (or any Arrow stream) as
rows for kehu. None of pyarrow, pandas or polars is required by kehu: each is
imported when asked for."""

from __future__ import annotations

import importlib
from typing import Any, List, Optional, Sequence, Tuple


def _module(name: str, what: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ImportError(f"{what} needs {name}: pip install {name}") from None


def _optional(name: str) -> Optional[Any]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def to_pyarrow(stream: Any, what: str) -> Any:
    """A ``pyarrow.Table`` of an Arrow stream."""
    return _module("pyarrow", what).table(stream)


def to_pandas(stream: Any, what: str) -> Any:
    """A pandas DataFrame of an Arrow stream, typed through pyarrow: dates as
    ``datetime.date``, instants as ``datetime64[us, UTC]``, whole numbers as
    nullable ``Int64``, money as ``Decimal``, lists as lists."""
    pd = _module("pandas", what)
    pa = _module("pyarrow", what + " (typed columns through Arrow)")
    table = pa.table(stream)
    nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}

    def dtype(t: Any) -> Any:
        # Lists stay Arrow-backed (no copy; a cell reads as a Python list).
        return pd.ArrowDtype(t) if pa.types.is_list(t) else nullable.get(t)

    return table.to_pandas(types_mapper=dtype)


def to_polars(stream: Any, what: str) -> Any:
    """A polars DataFrame of an Arrow stream (read without pyarrow)."""
    return _module("polars", what).DataFrame(stream)


def is_frame(value: Any) -> bool:
    """Whether a value is a table of columns kehu reads as rows: an Arrow
    stream (pyarrow, polars, DuckDB) or a pandas DataFrame."""
    return hasattr(value, "__arrow_c_stream__") or _is_pandas(value)


def _is_pandas(value: Any) -> bool:
    pd = _optional("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def rows_of(value: Any) -> Any:
    """What the native side reads a frame as: the object itself when it
    speaks Arrow (pandas needs pyarrow for that), else ``(headers, rows)``
    of text — a pandas frame without pyarrow, cell by cell."""
    if _is_pandas(value):
        if _optional("pyarrow") is not None:
            return _module("pyarrow", "a DataFrame").Table.from_pandas(value, preserve_index=False)
        return _pandas_rows(value)
    return value


def _pandas_rows(frame: Any) -> Tuple[List[str], List[List[str]]]:
    pd = _module("pandas", "a DataFrame")
    headers = [str(c) for c in frame.columns]

    def text(v: Any) -> str:
        if v is None or (not isinstance(v, (list, tuple, Sequence)) and pd.isna(v)):
            return ""
        if hasattr(v, "isoformat"):
            return str(v.isoformat())
        return str(v)

    return headers, [[text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
