"""The book for the people who look at the data: its tables as Arrow,
pandas and polars (``Book.to_arrow``, ``to_pandas``, ``to_polars``) and
the report page (``Book.report_html``); a part of ``Book``."""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Optional, Sequence, Union

from . import _frames
from . import _kehu


class Tables:
    """The table methods of ``Book``."""

    _native: Any

    def to_arrow(
        self,
        table: str = "customers",
        *,
        tag: Optional[str] = None,
        segment: Optional[str] = None,
        stale: Union[_dt.timedelta, int, None] = None,
        ids: Optional[Sequence[str]] = None,
        consent: Optional[str] = None,
    ) -> "_kehu.ArrowStream":
        """A table of the book as typed Arrow columns: ``customers`` (the CSV
        export's columns), ``purchases``, ``interactions``, ``feedback`` or
        ``consents``, for the customers the filters select (as ``export``'s).

        The answer speaks Arrow's PyCapsule interface (``__arrow_c_stream__``):
        ``pyarrow.table(t)``, ``polars.DataFrame(t)`` and DuckDB read it without
        a copy; kehu needs none of them. Dates are dates, instants UTC
        timestamps, lists lists, money an exact ``amount`` decimal beside
        ``amount_minor`` and ``currency``. For a principal: its scope, masked.
        """
        from ._book import _export_filter

        chosen = _export_filter(tag, segment, stale, ids, consent)
        stream: _kehu.ArrowStream = self._native.arrow_table(table, json.dumps(chosen, ensure_ascii=False))
        return stream

    def to_pandas(self, table: str = "customers", **filters: Any) -> Any:
        """``to_arrow`` (the same table and filters) as a pandas DataFrame, typed
        through pyarrow (``pip install "kehu[pandas]"``): dates as
        ``datetime.date``, instants as ``datetime64[us, UTC]``, whole numbers as
        ``Int64``, money as ``Decimal``."""
        return _frames.to_pandas(self.to_arrow(table, **filters), "Book.to_pandas")

    def to_polars(self, table: str = "customers", **filters: Any) -> Any:
        """``to_arrow`` (the same table and filters) as a polars DataFrame
        (``pip install "kehu[polars]"``; no pyarrow needed)."""
        return _frames.to_polars(self.to_arrow(table, **filters), "Book.to_polars")

    def report_html(
        self,
        path: Optional["os.PathLike[str]"] = None,
        *,
        title: str = "kehu",
        stale_days: int = 180,
        duplicates: bool = True,
    ) -> str:
        """The data-quality report page (as ``kehu report BOOK --html``): one
        self-contained HTML file with charts, opening offline; written to
        ``path`` when given. Read through this book's policy."""
        options = {"stale_days": int(stale_days), "duplicates": bool(duplicates)}
        page: str = self._native.report_page(title, json.dumps(options))
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(page)
        return page
