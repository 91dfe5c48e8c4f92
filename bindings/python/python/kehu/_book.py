"""``kehu.Book``: a customer book, the one entry point."""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
from decimal import Decimal
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _codec
from . import _frames
from . import _tables
from . import _kehu
from ._types import (
    AuditCheck,
    AuditEntry,
    BackupSummary,
    CompactSummary,
    BookReport,
    BookStats,
    Change,
    Classes,
    Consent,
    Customer,
    DuplicateCandidate,
    Erasure,
    Feedback,
    ImportReport,
    FeedEntry,
    ImportSummary,
    Interaction,
    MatchExplanation,
    MergeReceipt,
    Merged,
    Note,
    Pair,
    Purchase,
    RelatedRecord,
    Report,
    RevertReport,
    Saved,
    SavedSegment,
    SegmentExplanation,
    currency_exponent,
    decode_audit_entry,
    decode_change,
    decode_related,
    decode_segment_explanation,
    related_kind,
)

PathLike = Union[str, "os.PathLike[str]"]
#: A rule set: the path of a TOML or JSON file, or the rule set as a dict.
RulesArg = Union[PathLike, Mapping[str, Any], None]
#: Dedupe settings or a survivorship policy: a dict, or a TOML/JSON file's path.
SettingsArg = Union[PathLike, Mapping[str, Any], None]
#: A progress callback: (done, total or None, bytes done, bytes total or None).
ProgressFn = Callable[[int, Optional[int], int, Optional[int]], Any]
CustomerArg = Union[Customer, Mapping[str, Any]]


class BookDedupe(NamedTuple):
    """A dedupe of a book: pairs (strongest first), clusters of ids (largest first), warnings, stats."""

    pairs: List[Pair]
    clusters: List[List[str]]
    warnings: List[str]
    stats: Dict[str, Any]


class Classification(NamedTuple):
    """Every customer's classes, and the currency amounts were counted in."""

    currency: str
    classes: List[Classes]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _options(options: Mapping[str, Any]) -> str:
    """Options as the core's JSON: the ones given (None means "the default")."""
    return _json({k: v for k, v in options.items() if v is not None})


def _survivorship(value: SettingsArg) -> Optional[Dict[str, Any]]:
    """A survivorship policy as the core reads it: a dict, or a TOML/JSON file read by the core."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    text = _text_or_json(value, "survivorship")
    return None if text is None else json.loads(_kehu.check_survivorship(text))


def _text_or_json(value: SettingsArg, what: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _json(dict(value))
    if isinstance(value, (str, os.PathLike)):
        try:
            with open(value, encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            from ._errors import InputError

            raise InputError(f"{os.fspath(value)}: {e.strerror or e}", os.fspath(value)) from None
    raise TypeError(f"{what}: expected a dict or a file path, got {_codec.type_name(value)}")


def _customer(value: Any, path: str = "customer") -> str:
    return _json(_codec.encode(Customer, value, path))


def _id(value: Any, what: str = "id") -> str:
    if isinstance(value, Customer):
        if value.id is None:
            raise ValueError(f"{what}: the customer has no id yet (save it first)")
        return value.id
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected an id (str), got {_codec.type_name(value)}")
    return value


def _instant(value: Optional[_dt.datetime], what: str = "as_of") -> Optional[str]:
    return None if value is None else _codec.format_instant(value, what)


def _classify_options(
    currency: Optional[str],
    as_of: Optional[_dt.datetime],
    rfm: Optional[Mapping[str, Any]],
    tiers: Optional[Mapping[str, Any]],
    lifecycle: Optional[Mapping[str, Any]],
) -> str:
    return _options(
        {
            "currency": currency,
            "as_of": _instant(as_of),
            "rfm": dict(rfm) if rfm is not None else None,
            "tiers": dict(tiers) if tiers is not None else None,
            "lifecycle": dict(lifecycle) if lifecycle is not None else None,
        }
    )


def _flat_value(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return _codec.format_instant(value, "value")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write a {_codec.type_name(value)} into a row")


_CUSTOMER_FIELDS = frozenset(f for f in Customer.__dataclass_fields__)
_encode_customer = _codec.converters(Customer)[0]


def _row_line(item: Any, i: int) -> str:
    """One ``add_many`` item as a JSON line: a dossier, or a flat row of columns."""
    if isinstance(item, Customer) or (isinstance(item, Mapping) and _CUSTOMER_FIELDS.issuperset(item.keys())):
        return _json(_encode_customer(item, f"customers[{i}]"))
    if isinstance(item, Mapping):
        row = {}
        for k, v in item.items():
            if not isinstance(k, str):
                raise TypeError(f"customers[{i}]: keys must be str, got {_codec.type_name(k)}")
            row[k] = v
        return json.dumps(row, ensure_ascii=False, default=_flat_value, separators=(",", ":"))
    raise TypeError(f"customers[{i}]: expected a Customer or a dict, got {_codec.type_name(item)}")


class Book(_tables.Tables):
    """A customer book: dossiers with their related records and history.

    Every write is normalised and checked against the rules first, and
    commits whole or not at all. Open one with ``Book.open(path)`` (a redb
    file) or ``Book.memory()``; use it as a context manager to close it.
    One process may open a file once; a ``Book`` is safe to share between
    threads, and every call releases the GIL while it works.
    """

    __slots__ = ("_native", "_where")

    def __init__(self, native: Any, where: str) -> None:
        """Use ``Book.open`` or ``Book.memory``."""
        self._native = native
        self._where = where

    # --- opening and closing -------------------------------------------------

    @classmethod
    def open(
        cls,
        path: PathLike,
        rules: RulesArg = None,
        *,
        cache_mb: Optional[int] = None,
        actor: Optional[str] = None,
        passphrase: Optional[str] = None,
        key_file: Optional[PathLike] = None,
    ) -> "Book":
        """Opens the book file at ``path`` (created if missing), or the shared
        book a ``postgres://`` URL names.

        ``rules``: a TOML/JSON rule set file or a dict, saved in the book so
        every later open (in any language) applies it; none: the rules saved in
        the book, else the standard ones. ``cache_mb``: redb's page cache (default 256). ``actor``: the
        name written in the change log. ``passphrase`` or ``key_file``: open
        (or create) an encrypted book — personal data sealed under a key of
        each customer's own, lookups through blind indexes; a wrong key raises
        ``EncryptionError`` and writes nothing.
        """
        options, rules_path = cls._open_options(rules, cache_mb=cache_mb, actor=actor)
        kf = None if key_file is None else os.fspath(key_file)
        native = _kehu.NativeBook.open(os.fspath(path), options, rules_path, passphrase, kf)
        return cls(native, _kehu.display_address(os.fspath(path)))

    @staticmethod
    def is_encrypted(path: PathLike) -> bool:
        """Whether the book file at ``path`` is encrypted."""
        return bool(_kehu.is_encrypted(os.fspath(path)))

    @staticmethod
    def rotate_key(
        path: PathLike,
        *,
        old_passphrase: Optional[str] = None,
        old_key_file: Optional[PathLike] = None,
        new_passphrase: Optional[str] = None,
        new_key_file: Optional[PathLike] = None,
    ) -> int:
        """Puts the encrypted book at ``path`` (closed) under a new key, in one transaction; returns the keys re-wrapped."""
        okf = None if old_key_file is None else os.fspath(old_key_file)
        nkf = None if new_key_file is None else os.fspath(new_key_file)
        return int(_kehu.rotate_key(os.fspath(path), old_passphrase, okf, new_passphrase, nkf))

    @staticmethod
    def create_key_file(path: PathLike) -> None:
        """Writes a new random key file for ``Book.open(..., key_file=path)`` (never over an existing file)."""
        _kehu.create_key_file(os.fspath(path))

    @classmethod
    def memory(cls, rules: RulesArg = None, *, actor: Optional[str] = None) -> "Book":
        """A book in memory (nothing is written to disk), with the standard rules or ``rules``."""
        options, rules_path = cls._open_options(rules, actor=actor)
        return cls(_kehu.NativeBook.memory(options, rules_path), ":memory:")

    @staticmethod
    def _open_options(rules: RulesArg, **options: Any) -> Tuple[str, Optional[str]]:
        """``kehu::OpenOptions`` as JSON, and a rule set file for the core to read."""
        rules_path = None
        if isinstance(rules, Mapping):
            options["rules"] = dict(rules)
        elif isinstance(rules, (str, os.PathLike)):
            rules_path = os.fspath(rules)
        elif rules is not None:
            raise TypeError(f"rules: expected a dict or a file path, got {_codec.type_name(rules)}")
        return _options(options), rules_path

    def close(self) -> None:
        """Closes the book (after calls in flight end); the file can be opened again."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether the book was closed."""
        return bool(self._native.closed)

    def __enter__(self) -> "Book":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<kehu.Book {self._where!r} ({state})>"

    def __len__(self) -> int:
        return self.count()

    # --- dossiers ---------------------------------------------------------------

    @property
    def rules(self) -> Dict[str, Any]:
        """The rule set in force, as a dict."""
        return json.loads(self._native.rules())  # type: ignore[no-any-return]

    def validate(self, customer: CustomerArg) -> Report:
        """Normalises and checks a dossier without saving it: every violation at once."""
        return _codec.decode(Report, json.loads(self._native.validate(_customer(customer))))

    def add(self, customer: CustomerArg, *, allow_duplicates: bool = False) -> Saved:
        """Adds a new dossier, normalised and checked.

        Raises ``ValidationError`` (nothing written) when it breaks the rules
        and ``DuplicateError`` when it is almost surely a dossier already in
        the book (``allow_duplicates=True`` adds it anyway). Possible
        duplicates are listed in ``Saved.duplicates``.
        """
        raw = self._native.add(_customer(customer), bool(allow_duplicates))
        return _codec.decode(Saved, json.loads(raw))

    def add_many(
        self,
        customers: Union[Iterable[CustomerArg], Any],
        *,
        mode: str = "create",
        keys: Optional[Sequence[str]] = None,
        on_duplicate: str = "report",
        survivorship: SettingsArg = None,
        dry_run: bool = False,
        batch_size: Optional[int] = None,
        progress: Optional[ProgressFn] = None,
    ) -> ImportReport:
        """Adds many dossiers at once, like an import: the report accounts for each one.

        Items are ``Customer`` objects, dicts of its fields, or flat dicts of
        columns as a CSV import reads them (``{"name": "张伟", "email": ...}``);
        or ``customers`` is a table whose rows are such columns: a pandas or
        polars DataFrame, or any Arrow stream (read as rows, never as CSV).
        Bad items are rejected and reported (``line`` = position from 1);
        the rest are written. ``mode``: create, update or upsert; ``keys``:
        how an item finds its dossier (default kehu id, then external id).
        Each item is checked for duplicates against the book and the items
        before it: ``on_duplicate`` says what becomes of one — ``report`` (a
        sure duplicate is skipped, a possible one added; both listed in
        ``duplicate_rows``), ``skip``, ``merge`` (by ``survivorship``, a dict or
        a file) or ``allow``.
        """
        if _frames.is_frame(customers):
            frame_options: Dict[str, Any] = {
                "kind": "customers",
                "mode": mode,
                "on_duplicate": on_duplicate,
                "survivorship": _survivorship(survivorship),
                "dry_run": bool(dry_run),
                "keys": list(keys) if keys is not None else None,
                "batch_size": batch_size,
            }
            raw = self._native.import_rows(_frames.rows_of(customers), "add_many", _options(frame_options), progress)
            return _codec.decode(ImportReport, json.loads(raw))
        lines = "\n".join(_row_line(c, i) for i, c in enumerate(customers))
        options: Dict[str, Any] = {
            "kind": "customers",
            "format": "jsonl",
            "mode": mode,
            "on_duplicate": on_duplicate,
            "survivorship": _survivorship(survivorship),
            "dry_run": bool(dry_run),
        }
        if keys is not None:
            options["keys"] = list(keys)
        if batch_size is not None:
            options["batch_size"] = batch_size
        raw = self._native.import_bytes(lines.encode("utf-8"), "add_many", _options(options), progress)
        return _codec.decode(ImportReport, json.loads(raw))

    def update(self, customer: CustomerArg) -> Saved:
        """Saves a changed dossier; raises ``ConflictError`` when someone saved it since it was read."""
        return _codec.decode(Saved, json.loads(self._native.update(_customer(customer))))

    def get(self, id: Union[str, Customer]) -> Customer:
        """The dossier with this id (``NotFoundError`` if none)."""
        return _codec.decode(Customer, json.loads(self._native.get(_id(id))))

    def customer_as_of(self, id: Union[str, Customer], at: _dt.datetime) -> Optional[Customer]:
        """The dossier as it was at ``at`` (from its change log); ``None`` when
        it was created after it, or is gone (an erased customer stays erased)."""
        raw = self._native.customer_as_of(_id(id), _codec.format_instant(at, "at"))
        return None if raw is None else _codec.decode(Customer, json.loads(raw))

    def remove(self, id: Union[str, Customer]) -> None:
        """Removes a dossier and its related records."""
        self._native.remove(_id(id))

    def count(self) -> int:
        """How many dossiers the book holds."""
        return int(self._native.count())

    def customers(self) -> List[Customer]:
        """Every dossier, in id order (built in one call)."""
        return _codec.decode_list(Customer, json.loads(self._native.customers()))

    def find_by_email(self, address: str) -> List[Customer]:
        """Dossiers with this e-mail address (any case of the domain)."""
        return self._find("email", address)

    def find_by_phone(self, number: str) -> List[Customer]:
        """Dossiers with this phone number, in any format."""
        return self._find("phone", number)

    def find_by_external_id(self, external_id: str) -> List[Customer]:
        """Dossiers with this id in the source system."""
        return self._find("external_id", external_id)

    def find_by_tag(self, tag: str) -> List[Customer]:
        """Dossiers with this tag."""
        return self._find("tag", tag)

    def find_by_resident_id(self, number: str) -> List[Customer]:
        """Dossiers with this resident ID (居民身份证号); a 15-digit one is read as its 18-digit form."""
        return self._find("resident_id", number)

    def find_by_credit_code(self, code: str) -> List[Customer]:
        """Dossiers with this unified social credit code (统一社会信用代码)."""
        return self._find("credit_code", code)

    def find_by(self, field: str, value: str) -> List[Customer]:
        """Dossiers whose indexed ``field`` (any name the catalogue knows: ``email``,
        ``手机``, ``身份证号``…) holds ``value``."""
        return self._find(field, value)

    def _find(self, by: str, value: str) -> List[Customer]:
        if not isinstance(value, str):
            raise TypeError(f"{by}: expected str, got {_codec.type_name(value)}")
        return _codec.decode_list(Customer, json.loads(self._native.find(by, value)))

    def forget(self, id: Union[str, Customer], *, compact: bool = False) -> Erasure:
        """Erases a customer: dossier, related records, history, documents, duplicate keys and (encrypted book) its key.

        Copies of its sealed values (old pages, copies of the file) no longer
        open. The erasure ledger (``erasures()``) keeps the id, time and actor.
        The customers merged into it are erased with it; an id merged into
        another raises ``UsageError`` naming the survivor (forget that one).
        ``compact=True`` then compacts the book (``compact()``), so the file's
        freed pages keep nothing of the customer either.
        """
        erased = _codec.decode(Erasure, json.loads(self._native.forget(_id(id))))
        if compact:
            self.compact()
        return erased

    def compact(self) -> CompactSummary:
        """Rewrites the book's file to hold only live data: no freed page keeps old or erased values.

        The storage engine reuses freed pages but never wipes them; a fresh
        file holds only what is live and takes the book's place atomically.
        Writes and new reads wait meanwhile. The book's owner alone may.
        """
        return _codec.decode(CompactSummary, json.loads(self._native.compact()))

    def audit_trail(self, start: int = 1) -> List[AuditEntry]:
        """The audit trail from entry ``start`` on: every write, import, merge, export and erasure, without values."""
        return [decode_audit_entry(e) for e in json.loads(self._native.audit_trail(start))]

    def verify_audit(self) -> AuditCheck:
        """Checks the audit trail's hash chain: a changed, removed, inserted or reordered entry is found and located."""
        return _codec.decode(AuditCheck, json.loads(self._native.verify_audit()))

    def backup(self, path: PathLike) -> BackupSummary:
        """Writes a consistent backup to ``path`` (the book stays in use); sealed values stay sealed."""
        return _codec.decode(BackupSummary, json.loads(self._native.backup(os.fspath(path))))

    @classmethod
    def restore(
        cls,
        backup: PathLike,
        target: PathLike,
        *,
        passphrase: Optional[str] = None,
        key_file: Optional[PathLike] = None,
        actor: Optional[str] = None,
    ) -> "Book":
        """Restores a backup as the book at ``target`` (replaced; close it first) and opens it.

        The whole backup is checked first: a damaged, truncated or changed one
        raises and leaves ``target`` as it was. Customers erased since the
        backup (in the target's ledger, or the ledger file beside it) are erased again.
        """
        kf = None if key_file is None else os.fspath(key_file)
        native = _kehu.NativeBook.restore(os.fspath(backup), os.fspath(target), passphrase, kf, actor)
        return cls(native, os.fspath(target))

    def subject_export(self, id: Union[str, Customer]) -> Dict[str, Any]:
        """Everything the book holds about one customer — dossier, related records, consents, history,
        audit entries, merges — as one JSON document (a dict; ``json.dumps`` writes it). Audited."""
        return json.loads(self._native.subject_export(_id(id)))  # type: ignore[no-any-return]

    def as_principal(
        self,
        user: str,
        roles: Sequence[str],
        policy: Union[Mapping[str, Any], PathLike],
        *,
        team: Optional[str] = None,
    ) -> "Book":
        """This book as ``user`` with ``roles`` sees it under ``policy`` (a dict or a JSON/TOML file):
        a ``Book`` whose every method goes through the core's policy stage — reads limited to the
        roles' scope and masked, conditions on fields it may not filter on refused, operations
        checked (``PermissionDeniedError``, recorded in the audit trail), updates keeping what it
        cannot see. It shares this book's file; closing one does not close the other."""
        from ._access import policy_json

        principal = _json({"user": user, "roles": list(roles), "team": team})
        return Book(self._native.as_principal(principal, policy_json(policy)), self._where)

    @property
    def principal(self) -> Optional[Dict[str, Any]]:
        """The principal this book answers for (``user``, ``roles``, ``team``), or None for the owner."""
        text = self._native.principal()
        return None if text is None else json.loads(text)

    def check(self, operation: str) -> None:
        """Raises ``PermissionDeniedError`` unless the principal may do ``operation``
        (``read``, ``add``, ``update``, ``delete``, ``merge``, ``import``, ``export``, ``forget``)."""
        self._native.check(operation)

    def has_consent(self, id: Union[str, Customer], purpose: str, channel: Optional[str] = None) -> bool:
        """Whether the customer's consent to ``purpose`` (on ``channel``) holds now: the latest event about it grants it and has not lapsed."""
        return bool(self._native.has_consent(_id(id), purpose, channel))

    def erasures(self) -> List[Erasure]:
        """The erasure ledger: ids, times and actors only."""
        return _codec.decode_list(Erasure, json.loads(self._native.erasures()))

    # --- related records, history, review --------------------------------------

    def relate(self, record: Union[RelatedRecord, Mapping[str, Any]]) -> RelatedRecord:
        """Adds a purchase, interaction, feedback, consent or note; returns it as stored."""
        kind, cls = related_kind(record)
        body = record[kind] if isinstance(record, Mapping) else record
        wire = {kind: _codec.encode(cls, body, kind)}
        return decode_related(json.loads(self._native.relate(_json(wire))))

    def related(self, id: Union[str, Customer], kind: Optional[str] = None) -> List[RelatedRecord]:
        """A customer's related records in time order: all, or one ``kind`` (purchase, interaction, …)."""
        return [decode_related(r) for r in json.loads(self._native.related(_id(id), kind))]

    def purchases(self, id: Union[str, Customer]) -> List[Purchase]:
        """A customer's purchases, in time order."""
        return self.related(id, "purchase")  # type: ignore[return-value]

    def interactions(self, id: Union[str, Customer]) -> List[Interaction]:
        """A customer's interactions, in time order."""
        return self.related(id, "interaction")  # type: ignore[return-value]

    def feedback(self, id: Union[str, Customer]) -> List[Feedback]:
        """A customer's feedback and complaints, in time order."""
        return self.related(id, "feedback")  # type: ignore[return-value]

    def consents(self, id: Union[str, Customer]) -> List[Consent]:
        """A customer's consent events, in time order."""
        return self.related(id, "consent")  # type: ignore[return-value]

    def notes(self, id: Union[str, Customer]) -> List[Note]:
        """A customer's notes, in time order."""
        return self.related(id, "note")  # type: ignore[return-value]

    def history(self, id: Union[str, Customer]) -> List[Change]:
        """A dossier's change log: who changed which field, from what to what."""
        return [decode_change(c) for c in json.loads(self._native.history(_id(id)))]

    def verify(self, id: Union[str, Customer]) -> Customer:
        """Marks a dossier as confirmed correct now."""
        return _codec.decode(Customer, json.loads(self._native.verify(_id(id))))

    def stale(self, older_than: Union[_dt.timedelta, int]) -> List[Customer]:
        """The review queue: dossiers not verified for ``older_than`` (a timedelta, or days), oldest first."""
        seconds = _seconds(older_than, "older_than")
        return _codec.decode_list(Customer, json.loads(self._native.stale(seconds)))

    # --- import and export -------------------------------------------------------

    def import_file(
        self,
        path: Union[PathLike, Any],
        *,
        kind: str = "customers",
        format: Optional[str] = None,
        encoding: Optional[str] = None,
        delimiter: Optional[str] = None,
        mapping: Optional[Mapping[str, str]] = None,
        mode: str = "create",
        keys: Optional[Sequence[str]] = None,
        customer_key: Optional[str] = None,
        currency: Optional[str] = None,
        on_duplicate: str = "report",
        survivorship: SettingsArg = None,
        dry_run: bool = False,
        batch_size: Optional[int] = None,
        rejects: Optional[PathLike] = None,
        progress: Optional[ProgressFn] = None,
    ) -> ImportReport:
        """Imports a CSV or JSON Lines file — or a pandas or polars DataFrame,
        or any Arrow stream, read as rows under its column names — of
        customers, purchases, interactions, feedback or consents.

        ``mapping`` maps columns to fields (``{"手机": "phone"}``); other
        columns are mapped by their headers. ``progress(rows, rows_total,
        bytes, bytes_total)`` is called after each batch. ``rejects`` writes
        the refused rows to a file to fix and import again. Each new
        customer is checked for duplicates against the book and the rows
        before it; ``on_duplicate`` (report, skip, merge, allow) and
        ``survivorship`` as for ``add_many``.
        """
        options: Dict[str, Any] = {
            "kind": kind,
            "format": format,
            "encoding": encoding,
            "delimiter": delimiter,
            "mapping": dict(mapping) if mapping is not None else None,
            "mode": mode,
            "keys": list(keys) if keys is not None else None,
            "customer_key": customer_key,
            "currency": currency,
            "on_duplicate": on_duplicate,
            "survivorship": _survivorship(survivorship),
            "dry_run": bool(dry_run),
            "batch_size": batch_size,
            "rejects": os.fspath(rejects) if rejects is not None else None,
        }
        if _frames.is_frame(path):
            raw = self._native.import_rows(_frames.rows_of(path), "table", _options(options), progress)
        else:
            raw = self._native.import_file(os.fspath(path), _options(options), progress)
        return _codec.decode(ImportReport, json.loads(raw))

    def changes_since(self, after: int = 0, limit: int = 1000) -> List[FeedEntry]:
        """The change feed after sequence number ``after`` (0: from the start),
        at most ``limit`` entries in commit order: keep the last ``seq`` you
        handled and ask again from it to see every change once, whichever
        process wrote. Erasures come as ``kind == "erased"`` tombstones."""
        return _codec.decode_list(FeedEntry, json.loads(self._native.changes_since(after, limit)))

    def wait_for_changes(self, after: int = 0, limit: int = 1000, timeout: float = 30.0) -> List[FeedEntry]:
        """``changes_since``, waiting up to ``timeout`` seconds for there to be
        any: a commit — of this process, or of any process on a PostgreSQL
        book (LISTEN/NOTIFY) — wakes it at once; empty when the time is up."""
        native = self._native.wait_for_changes(after, limit, timeout)
        return _codec.decode_list(FeedEntry, json.loads(native))

    def imports(self) -> List[ImportSummary]:
        """The imports this book remembers, oldest first."""
        return _codec.decode_list(ImportSummary, json.loads(self._native.imports()))

    def import_summary(self, id: str) -> ImportSummary:
        """One import's summary."""
        return _codec.decode(ImportSummary, json.loads(self._native.import_summary(id)))

    def revert_import(self, id: str) -> RevertReport:
        """Undoes an import: removes what it created, restores what it changed (``ConflictError`` if changed since)."""
        return _codec.decode(RevertReport, json.loads(self._native.revert_import(id)))

    def export(
        self,
        path: PathLike,
        *,
        format: str = "csv",
        tag: Optional[str] = None,
        segment: Optional[str] = None,
        stale: Union[_dt.timedelta, int, None] = None,
        ids: Optional[Sequence[str]] = None,
        consent: Optional[str] = None,
    ) -> int:
        """Writes the book (or the dossiers with a tag, in a segment, stale, listed, or with
        ``consent="marketing"`` / ``"marketing:sms"`` holding) as CSV or JSON Lines; returns how many."""
        n, _ = self._native.export(os.fspath(path), self._export_options(format, tag, segment, stale, ids, consent))
        return int(n)

    def export_text(
        self,
        *,
        format: str = "csv",
        tag: Optional[str] = None,
        segment: Optional[str] = None,
        stale: Union[_dt.timedelta, int, None] = None,
        ids: Optional[Sequence[str]] = None,
        consent: Optional[str] = None,
    ) -> str:
        """The export as text, in memory."""
        _, data = self._native.export(None, self._export_options(format, tag, segment, stale, ids, consent))
        return bytes(data or b"").decode("utf-8")

    @staticmethod
    def _export_options(
        format: str,
        tag: Optional[str],
        segment: Optional[str],
        stale: Union[_dt.timedelta, int, None],
        ids: Optional[Sequence[str]],
        consent: Optional[str] = None,
    ) -> str:
        return _json({"format": format, "filter": _export_filter(tag, segment, stale, ids, consent)})

    # --- duplicates ----------------------------------------------------------------

    def check_duplicates(self, customer: CustomerArg) -> List[DuplicateCandidate]:
        """The dossiers a draft may duplicate, most likely first, each with its explanation. Writes nothing."""
        raw = self._native.check_duplicates(_customer(customer))
        return _codec.decode_list(DuplicateCandidate, json.loads(raw))

    def dedupe(self, settings: SettingsArg = None, *, progress: Optional[ProgressFn] = None) -> BookDedupe:
        """Finds every group of dossiers that are one customer (settings: thresholds, blocking)."""
        raw = json.loads(self._native.dedupe(_text_or_json(settings, "settings"), progress))
        return BookDedupe(
            pairs=_codec.decode_list(Pair, raw["pairs"]),
            clusters=raw["clusters"],
            warnings=raw["warnings"],
            stats=raw["stats"],
        )

    def explain_duplicate(self, a: Union[str, Customer], b: Union[str, Customer]) -> MatchExplanation:
        """Why two dossiers score as they do, field by field."""
        raw = self._native.explain_duplicate(_id(a, "a"), _id(b, "b"))
        return _codec.decode(MatchExplanation, json.loads(raw))

    def index_duplicates(self) -> int:
        """Writes the duplicate-check keys of every dossier (done by itself at the first check after an import)."""
        return int(self._native.index_duplicates())

    def merge(
        self,
        ids: Sequence[Union[str, Customer]],
        policy: SettingsArg = None,
        *,
        dry_run: bool = False,
    ) -> Merged:
        """Merges dossiers into the first: values chosen by the survivorship policy, related records moved.

        ``policy``: a dict or TOML/JSON file (``{"default": "most_recent",
        "fields": {"phones": "union"}}``). The receipt undoes it (``unmerge``).
        """
        if isinstance(ids, str):
            raise TypeError("ids: expected a list of ids, got one str")
        raw = self._native.merge([_id(i) for i in ids], _text_or_json(policy, "policy"), bool(dry_run))
        return _codec.decode(Merged, json.loads(raw))

    def merges(self) -> List[MergeReceipt]:
        """Every merge receipt, oldest first."""
        return _codec.decode_list(MergeReceipt, json.loads(self._native.merges()))

    def merge_receipt(self, id: str) -> MergeReceipt:
        """One merge receipt."""
        return _codec.decode(MergeReceipt, json.loads(self._native.merge_receipt(id)))

    def unmerge(self, receipt: Union[str, MergeReceipt]) -> List[Customer]:
        """Undoes a merge: the dossiers as they were (``ConflictError`` if the survivor changed since)."""
        rid = receipt.id if isinstance(receipt, MergeReceipt) else receipt
        return _codec.decode_list(Customer, json.loads(self._native.unmerge(rid)))

    # --- segments ---------------------------------------------------------------------

    def check_segment(self, condition: str) -> None:
        """Raises ``FilterSyntaxError`` (with line and column) if the condition does not parse or fit the book."""
        self._native.check_segment(condition)

    def segment_members(self, condition: str, *, as_of: Optional[_dt.datetime] = None) -> List[Customer]:
        """The dossiers a condition selects, in id order, now or ``as_of`` an instant."""
        raw = self._native.segment_members(condition, _instant(as_of))
        return _codec.decode_list(Customer, json.loads(raw))

    def segment_ids(self, condition: str, *, as_of: Optional[_dt.datetime] = None) -> List[str]:
        """The ids a condition selects, in id order."""
        return list(self._native.segment_ids(condition, _instant(as_of)))

    def segment_count(self, condition: str, *, as_of: Optional[_dt.datetime] = None) -> int:
        """How many customers a condition selects."""
        return int(self._native.segment_count(condition, _instant(as_of)))

    def explain_segment(
        self, condition: str, id: Union[str, Customer], *, as_of: Optional[_dt.datetime] = None
    ) -> SegmentExplanation:
        """Why a customer is in a segment or not, test by test, with the values seen."""
        raw = self._native.explain_segment(condition, _id(id), _instant(as_of))
        return decode_segment_explanation(json.loads(raw))

    def save_segment(self, name: str, condition: str, *, dynamic: bool = True) -> SavedSegment:
        """Saves a segment: dynamic (kept current) or static (its members now)."""
        return _codec.decode(SavedSegment, json.loads(self._native.save_segment(name, condition, bool(dynamic))))

    def saved_segments(self) -> List[SavedSegment]:
        """The saved segments."""
        return _codec.decode_list(SavedSegment, json.loads(self._native.saved_segments()))

    def saved_segment(self, name: str) -> SavedSegment:
        """One saved segment (``NotFoundError`` if none)."""
        return _codec.decode(SavedSegment, json.loads(self._native.saved_segment(name)))

    def delete_segment(self, name: str) -> None:
        """Deletes a saved segment."""
        self._native.delete_segment(name)

    def saved_segment_members(self, name: str) -> List[str]:
        """A saved segment's members' ids (current for a dynamic one)."""
        return list(self._native.saved_segment_members(name))

    def on_segment_change(self, callback: Callable[[str, str, bool], Any]) -> None:
        """Calls ``callback(segment, customer_id, entered)`` as customers enter or leave dynamic saved segments."""
        if not callable(callback):
            raise TypeError("callback: expected a callable")
        self._native.on_segment_change(callback)

    def refresh_segments(self) -> None:
        """Re-evaluates the dynamic saved segments over the whole book (time passing moves members too)."""
        self._native.refresh_segments()

    # --- classification and reports ---------------------------------------------------

    def classify(
        self,
        *,
        currency: Optional[str] = None,
        as_of: Optional[_dt.datetime] = None,
        rfm: Optional[Mapping[str, Any]] = None,
        tiers: Optional[Mapping[str, Any]] = None,
        lifecycle: Optional[Mapping[str, Any]] = None,
    ) -> Classification:
        """RFM scores, value tier and lifecycle stage of every customer.

        ``currency``: the one amounts count in (default: the most used);
        ``rfm``, ``tiers``, ``lifecycle``: cut-offs as dicts
        (``{"recency_days": [30, 90, 180, 365]}``, ``{"high_share": 0.2}``,
        ``{"new_days": 30, "active_days": 180, "churned_days": 365}``).
        """
        raw = json.loads(self._native.classify(_classify_options(currency, as_of, rfm, tiers, lifecycle)))
        exp = currency_exponent(raw["currency"])
        quantum = Decimal(1).scaleb(-exp)
        for c in raw["classes"]:
            c["monetary"] = Decimal(repr(c["monetary"])).quantize(quantum)
        return Classification(raw["currency"], _codec.decode_list(Classes, raw["classes"]))

    def apply_tier_tag(
        self,
        tag: str,
        *,
        currency: Optional[str] = None,
        as_of: Optional[_dt.datetime] = None,
        tiers: Optional[Mapping[str, Any]] = None,
    ) -> Tuple[int, int]:
        """Tags the high value tier and untags the rest (the VIP rule): (tagged, untagged)."""
        added, removed = self._native.apply_tier_tag(tag, _classify_options(currency, as_of, None, tiers, None))
        return int(added), int(removed)

    def stats(self) -> BookStats:
        """Counts of the dossiers by kind, stage, source and tag, and rows imported per month."""
        return _codec.decode(BookStats, json.loads(self._native.stats()))

    def report(
        self,
        *,
        currency: Optional[str] = None,
        as_of: Optional[_dt.datetime] = None,
        rfm: Optional[Mapping[str, Any]] = None,
        tiers: Optional[Mapping[str, Any]] = None,
        lifecycle: Optional[Mapping[str, Any]] = None,
    ) -> BookReport:
        """The book at a glance: RFM groups and grid, value tiers, stages, new customers per month, saved segments."""
        raw = self._native.report(_classify_options(currency, as_of, rfm, tiers, lifecycle))
        return _codec.decode(BookReport, json.loads(raw))

    # --- rules -----------------------------------------------------------------------------

    def saved_rules(self) -> Optional[Dict[str, Any]]:
        """The rule set saved in the book (by ``save_rules`` or an import), if any."""
        raw = self._native.saved_rules()
        return None if raw is None else json.loads(raw)

    def save_rules(self, rules: Mapping[str, Any]) -> None:
        """Saves a rule set in the book (checked first), for the next opening to use."""
        self._native.save_rules(_json(dict(rules)))


def _seconds(value: Union[_dt.timedelta, int], what: str) -> int:
    if isinstance(value, _dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{what}: a number of days, not {value}")
        if value > 100_000_000:
            raise ValueError(f"{what}: {value} days is too long")
        return value * 86_400
    raise TypeError(f"{what}: a timedelta or a number of days, not {_codec.type_name(value)}")


def _export_filter(
    tag: Optional[str],
    segment: Optional[str],
    stale: Union[_dt.timedelta, int, None],
    ids: Optional[Sequence[str]],
    consent: Optional[str],
) -> Dict[str, Any]:
    """Which dossiers an export (or a table) holds, as the core reads it: the conditions given."""
    given = {
        "consent": consent,
        "tag": tag,
        "segment": segment,
        "stale_seconds": None if stale is None else _seconds(stale, "stale"),
        "ids": [_id(i) for i in ids] if ids is not None else None,
    }
    return {k: v for k, v in given.items() if v is not None}
