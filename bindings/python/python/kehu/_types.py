"""The dossier and its related records, and the answers the book gives.

Plain dataclasses: attribute access, ``repr``, equality, ``to_dict()`` and
``from_dict()``. Every method that takes one of them also takes a dict of its
fields. Dates are ``datetime.date``, instants UTC-aware ``datetime.datetime``,
money ``Money`` (integer minor units + ISO 4217 code, ``.amount`` as a
``Decimal``), custom decimals ``decimal.Decimal`` — never floats.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union

from . import _codec
from . import _kehu

T = TypeVar("T", bound="Record")

#: The value of a custom field: text (also an enum value), a whole number, an
#: exact decimal, yes/no, a date, an instant or a list of texts.
CustomValue = Union[str, int, Decimal, bool, _dt.date, _dt.datetime, List[str]]


def _enc_custom(value: Any, path: str) -> Any:
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"integer": value}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, float):
        raise TypeError(f"{path}: a float is not exact; give a decimal.Decimal (or an int)")
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, _dt.datetime):
        return {"date_time": _codec.format_instant(value, path)}
    if isinstance(value, _dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return {"text_list": list(value)}
    raise TypeError(
        f"{path}: a custom value is str, int, Decimal, bool, date, datetime or a list of str, "
        f"not {_codec.type_name(value)}"
    )


def _dec_custom(value: Any) -> Any:
    ((kind, v),) = value.items()
    if kind == "decimal":
        return Decimal(v)
    if kind == "date":
        return _dt.date.fromisoformat(v)
    if kind == "date_time":
        return _codec.parse_instant(v)
    return v


_codec._encoders[CustomValue] = (_enc_custom, _dec_custom)


class Record:
    """What every kehu class shares: ``to_dict``, ``from_dict`` and JSON-ready ``to_json``."""

    __slots__ = ()

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a dict of Python values (nested records as dicts too)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_json(self) -> Dict[str, Any]:
        """The record as kehu's JSON form (the form ``kehu export --format jsonl`` writes)."""
        return _codec.encode(type(self), self)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls: Type[T], data: Mapping[str, Any]) -> T:
        """A record from a dict of its fields (Python values or their JSON form)."""
        return _codec.decode(cls, _codec.encode(cls, data))


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _listed(key: str, inner: str) -> Any:
    """Lets ``emails=["a@b.cn"]`` stand for ``emails=[{"address": "a@b.cn"}]``."""

    def coerce(items: Any) -> Any:
        if isinstance(items, (list, tuple)):
            return [{inner: v} if isinstance(v, str) else v for v in items]
        return items

    return coerce


_emails = _listed("emails", "address")
_phones = _listed("phones", "number")


# --- the dossier -----------------------------------------------------------


@dataclass
class PersonName(Record):
    """A person's name in any script: given and family name, or the full name as written."""

    _sparse = True

    given: Optional[str] = None
    family: Optional[str] = None
    full: Optional[str] = None
    # When the rules split the full name into the parts: "certain", "likely" or "guess".
    split: Optional[str] = None


@dataclass
class Organization(Record):
    """An organisation customer's name, industry and head count."""

    _sparse = True

    name: Optional[str] = None
    industry: Optional[str] = None
    size: Optional[int] = None


@dataclass
class Email(Record):
    """An e-mail address (normalised; ``raw`` keeps it as entered)."""

    _sparse = True

    address: str = ""
    raw: str = ""
    label: Optional[str] = None
    primary: bool = False
    verified_at: Optional[_dt.datetime] = None


@dataclass
class Phone(Record):
    """A phone number (E.164 once saved; ``raw`` keeps it as entered)."""

    _sparse = True

    number: str = ""
    raw: str = ""
    label: Optional[str] = None
    primary: bool = False
    verified_at: Optional[_dt.datetime] = None


@dataclass
class Address(Record):
    """A postal address; ``country`` becomes an ISO 3166 alpha-2 code once saved."""

    _sparse = True

    label: Optional[str] = None
    primary: bool = False
    street: Optional[str] = None
    district: Optional[str] = None
    city: Optional[str] = None
    region: Optional[str] = None
    postcode: Optional[str] = None
    country: Optional[str] = None
    raw: Optional[str] = None
    verified_at: Optional[_dt.datetime] = None


@dataclass
class Customer(Record):
    """A customer dossier: who the customer is and how to reach them.

    ``emails`` and ``phones`` also take plain strings. ``id`` is given when the
    dossier is saved; ``version`` is the stored version ``update`` builds on.
    """

    id: Optional[str] = None
    external_id: Optional[str] = None
    kind: str = "person"
    name: PersonName = field(default_factory=PersonName)
    organization: Optional[Organization] = None
    company: Optional[str] = None
    job_title: Optional[str] = None
    birth_date: Optional[_dt.date] = None
    resident_id: Optional[str] = None
    credit_code: Optional[str] = None
    emails: List[Email] = field(default_factory=list)
    phones: List[Phone] = field(default_factory=list)
    addresses: List[Address] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)
    owner: Optional[str] = None
    source: Optional[str] = None
    lifecycle_stage: Optional[str] = None
    custom: Dict[str, CustomValue] = field(default_factory=dict)
    created_at: Optional[_dt.datetime] = None
    updated_at: Optional[_dt.datetime] = None
    verified_at: Optional[_dt.datetime] = None
    version: int = 0

    _skip_none = ("id", "created_at", "updated_at")
    _sparse = True

    def __post_init__(self) -> None:
        self.emails = [Email(address=e) if isinstance(e, str) else e for e in self.emails]
        self.phones = [Phone(number=p) if isinstance(p, str) else p for p in self.phones]

    @staticmethod
    def _coerce_input(data: Mapping[str, Any]) -> Mapping[str, Any]:
        if "emails" in data or "phones" in data:
            data = dict(data)
            if "emails" in data:
                data["emails"] = _emails(data["emails"])
            if "phones" in data:
                data["phones"] = _phones(data["phones"])
        return data

    @classmethod
    def person(cls, given: Optional[str] = None, family: Optional[str] = None, *, full: Optional[str] = None, **fields: Any) -> "Customer":
        """A person by given and family name (or ``full=`` name as written)."""
        return cls(kind="person", name=PersonName(given=given, family=family, full=full), **fields)

    @classmethod
    def organization_named(cls, name: str, **fields: Any) -> "Customer":
        """An organisation by its name."""
        return cls(kind="organization", organization=Organization(name=name), **fields)

    @property
    def display_name(self) -> str:
        """The name to show: the full name, given + family, or the organisation's name."""
        if self.name.full:
            return self.name.full
        parts = [p for p in (self.name.given, self.name.family) if p]
        if parts:
            return " ".join(parts)
        if self.organization and self.organization.name:
            return self.organization.name
        return ""

    @property
    def primary_email(self) -> Optional[str]:
        """The primary e-mail address (else the first), if any."""
        chosen = next((e for e in self.emails if e.primary), self.emails[0] if self.emails else None)
        return chosen.address if chosen else None

    @property
    def primary_phone(self) -> Optional[str]:
        """The primary phone number (else the first), if any."""
        chosen = next((p for p in self.phones if p.primary), self.phones[0] if self.phones else None)
        return chosen.number if chosen else None


# --- money and related records --------------------------------------------


def currency_exponent(code: str) -> int:
    """How many decimals an ISO 4217 currency has (CNY 2, JPY 0, BHD 3)."""
    return _exponents.get(code) or _exponents.setdefault(code, _kehu.currency_exponent(code))


_exponents: Dict[str, int] = {}


@dataclass(frozen=True)
class Money(Record):
    """An amount of money: integer minor units (fen, cents) and an ISO 4217 code."""

    minor: int
    currency: str

    @classmethod
    def of(cls, amount: Union[Decimal, int, str], currency: str) -> "Money":
        """Money from a decimal amount (``Money.of("1299.00", "CNY")``); more decimals than the currency has are refused."""
        if isinstance(amount, float):
            raise TypeError("a float is not exact; give a decimal.Decimal, an int or a str")
        exp = currency_exponent(currency)
        try:
            d = Decimal(str(amount).strip())
        except ArithmeticError:
            raise ValueError(f"not an amount: {str(amount)[:40]!r}") from None
        minor = d.scaleb(exp)
        if minor != minor.to_integral_value():
            raise ValueError(f"{amount} has more decimals than {currency} ({exp})")
        return cls(int(minor), currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exactly."""
        return Decimal(self.minor).scaleb(-currency_exponent(self.currency))

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass
class Purchase(Record):
    """Something a customer bought: when, how much, through which channel."""

    customer_id: str
    at: _dt.datetime
    amount: Money
    channel: Optional[str] = None
    items: int = 1
    reference: Optional[str] = None
    id: Optional[str] = None

    _skip_none = ("id",)


@dataclass
class Interaction(Record):
    """A contact with a customer: channel (phone, email, chat, visit, social, other), direction, summary."""

    customer_id: str
    at: _dt.datetime
    channel: str
    direction: str
    summary: str
    outcome: Optional[str] = None
    id: Optional[str] = None

    _skip_none = ("id",)


@dataclass
class Score(Record):
    """A satisfaction score: ``csat`` (1–5) or ``nps`` (0–10)."""

    scale: str
    value: int


@dataclass
class Feedback(Record):
    """Feedback or a complaint (kind: complaint, suggestion, praise, survey), open or resolved."""

    customer_id: str
    at: _dt.datetime
    kind: str
    comment: str
    score: Optional[Score] = None
    status: str = "open"
    resolved_at: Optional[_dt.datetime] = None
    id: Optional[str] = None

    _skip_none = ("id",)


@dataclass
class Consent(Record):
    """A consent event: a purpose (and channel) granted or withdrawn, with evidence and expiry;
    ``separate`` when given apart from other terms (PIPL's 单独同意 for sensitive data)."""

    customer_id: str
    at: _dt.datetime
    purpose: str
    status: str
    channel: Optional[str] = None
    evidence: Optional[str] = None
    expires_at: Optional[_dt.datetime] = None
    separate: bool = False
    id: Optional[str] = None

    _skip_none = ("id",)


@dataclass
class Note(Record):
    """A free-text note on a dossier."""

    customer_id: str
    at: _dt.datetime
    text: str
    author: Optional[str] = None
    id: Optional[str] = None

    _skip_none = ("id",)


RelatedRecord = Union[Purchase, Interaction, Feedback, Consent, Note]

RELATED_KINDS: Dict[str, Type[Any]] = {
    "purchase": Purchase,
    "interaction": Interaction,
    "feedback": Feedback,
    "consent": Consent,
    "note": Note,
}


def related_kind(record: Any) -> Tuple[str, Type[Any]]:
    """The kind name and class of a related record (an instance or ``{"purchase": {...}}``)."""
    for name, cls in RELATED_KINDS.items():
        if isinstance(record, cls):
            return name, cls
    if isinstance(record, Mapping) and len(record) == 1:
        ((name, _),) = record.items()
        if name in RELATED_KINDS:
            return name, RELATED_KINDS[name]
    raise TypeError(
        "record: expected a Purchase, Interaction, Feedback, Consent or Note, "
        'or a dict like {"purchase": {...}}, got ' + _codec.type_name(record)
    )


def decode_related(value: Mapping[str, Any]) -> RelatedRecord:
    """A related record from its JSON form ``{"purchase": {...}}``."""
    ((name, body),) = value.items()
    return _codec.decode(RELATED_KINDS[name], body)  # type: ignore[no-any-return]


# --- answers -----------------------------------------------------------------


@dataclass
class Violation(Record):
    """One problem with a record: field path, stable code, rule, severity and message."""

    path: str
    code: str
    rule: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


@dataclass
class ImpliedRegion(Record):
    """The region a record's phone numbers without a country code were read in, and the clue
    that decided it: ``address_country``, ``city``, ``province``, ``street``, ``postcode``,
    ``email_domain``, ``mail_provider``, ``number`` or ``default``."""

    region: str
    clue: str


@dataclass
class Report(Record):
    """Every violation a check found; ``ok`` when none blocks the write. ``region``: the region
    numbers without a country code were read in, when one was needed."""

    violations: List[Violation] = field(default_factory=list)
    region: Optional[ImpliedRegion] = None

    @property
    def ok(self) -> bool:
        """True when nothing blocks the write (warnings may remain)."""
        return not self.errors

    @property
    def errors(self) -> List[Violation]:
        """The violations that block the write."""
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> List[Violation]:
        """The violations that only warn."""
        return [v for v in self.violations if v.severity == "warning"]


@dataclass
class FieldMatch(Record):
    """How one field compared in a duplicate score: the values, the level, its weight."""

    field: str
    left: str
    right: str
    level: str
    weight: float


@dataclass
class MatchExplanation(Record):
    """Why two records score as they do: the prior, each field's weight, the total."""

    id_l: str
    id_r: str
    prior_weight: float
    fields: List[FieldMatch]
    weight: float
    probability: float
    decision: str
    veto: Optional[str] = None

    def __str__(self) -> str:
        lines = [f"{self.id_l} ~ {self.id_r}: probability {self.probability:.4f} ({self.decision})"]
        lines += [f"  {f.field:<14} {f.level:<22} {f.weight:+.2f}  {f.left!r} / {f.right!r}" for f in self.fields]
        if self.veto:
            lines.append(f"  veto: {self.veto}")
        return "\n".join(lines)


@dataclass
class DuplicateCandidate(Record):
    """A dossier a draft may duplicate — in the book, or (``index``) written earlier
    in the same call; ``action`` is block, warn or allow."""

    id: str
    probability: float
    action: str
    explanation: MatchExplanation
    index: Optional[int] = None


@dataclass
class Saved(Record):
    """A dossier as a write left it, its warnings, and the dossiers it may duplicate.

    ``status``: added, updated, merged (into ``merged_into``) or skipped (a
    sure duplicate: not written, ``duplicates`` says of what).
    """

    customer: Customer
    report: Report
    duplicates: List[DuplicateCandidate] = field(default_factory=list)
    status: str = "added"
    merged_into: Optional[str] = None


@dataclass
class FieldChange(Record):
    """One field's change: its path and the values before and after, as JSON text."""

    path: str
    before: Optional[str] = None
    after: Optional[str] = None


@dataclass
class Change(Record):
    """One entry of a dossier's history: who did what, when, to which fields.

    ``op`` is created, updated, deleted, related or unrelated; for the last two
    ``record`` names the related record's kind and id.
    """

    seq: int
    customer_id: str
    at: _dt.datetime
    actor: str
    op: str
    fields: List[FieldChange] = field(default_factory=list)
    record: Optional[Dict[str, str]] = None


def decode_change(value: Dict[str, Any]) -> Change:
    """A change from its JSON form (the op is a name or ``{"related": {...}}``)."""
    op = value["op"]
    record = None
    if isinstance(op, dict):
        ((op, record),) = op.items()
    change = _codec.decode(Change, {**value, "op": op, "record": record})
    return change


@dataclass
class RowProblem(Record):
    """A problem with one input row (or one item of ``add_many``, counting from 1)."""

    line: int
    code: str
    severity: str
    message: str
    column: Optional[str] = None
    value: Optional[str] = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message} [{self.code}]"


@dataclass
class ColumnUse(Record):
    """An input column and the field it filled (none if unknown)."""

    column: str
    field: Optional[str] = None


@dataclass
class RowMatch(Record):
    """A dossier (or, with ``line``, an earlier row of the file) a row matches."""

    id: str
    probability: float
    action: str
    line: Optional[int] = None


@dataclass
class RowDuplicate(Record):
    """A row the duplicate check matched: ``outcome`` skipped, added or merged."""

    line: int
    outcome: str
    candidates: List[RowMatch] = field(default_factory=list)


@dataclass
class ImportReport(Record):
    """What an import (or ``add_many``) did, row by row.

    ``imported + updated + rejected + skipped == rows``; ``duplicates`` (of
    the skipped) are rows the duplicate check kept out, ``merged`` (of the
    updated) rows merged into the dossier they duplicate; ``duplicate_rows``
    lists every matched row with its candidates.
    """

    dry_run: bool
    source: str
    kind: str
    mode: str
    format: str
    encoding: str
    rows: int
    imported: int
    updated: int
    rejected: int
    skipped: int
    duplicates_in_file: int
    unchanged: int
    warnings: int
    started_at: _dt.datetime
    finished_at: _dt.datetime
    duplicates: int = 0
    merged: int = 0
    duplicate_rows: List[RowDuplicate] = field(default_factory=list)
    import_id: Optional[str] = None
    delimiter: Optional[str] = None
    columns: List[ColumnUse] = field(default_factory=list)
    unknown_columns: List[str] = field(default_factory=list)
    problems: List[RowProblem] = field(default_factory=list)
    rejects_file: Optional[str] = None

    @property
    def balances(self) -> bool:
        """Whether every row is accounted for."""
        return self.imported + self.updated + self.rejected + self.skipped == self.rows


@dataclass
class FeedEntry(Record):
    """One entry of the change feed: which dossier, what happened, which
    fields — never a value. ``seq`` is the cursor to ask again from."""

    seq: int
    at: _dt.datetime
    customer_id: str
    kind: str
    related_kind: Optional[str] = None
    record_id: Optional[str] = None
    fields: List[str] = field(default_factory=list)
    actor: Optional[str] = None


@dataclass
class ImportSummary(Record):
    """An import as the book remembers it."""

    id: str
    source: str
    kind: str
    mode: str
    actor: str
    started_at: _dt.datetime
    updated_at: _dt.datetime
    status: str
    rows: int
    imported: int
    updated: int
    rejected: int
    skipped: int
    batches: int


@dataclass
class RevertReport(Record):
    """What reverting an import undid."""

    import_id: str
    removed: int
    restored: int
    unrelated: int


@dataclass
class MergeReceipt(Record):
    """A merge as stored: the dossiers before (survivor first) and the related records moved."""

    id: str
    at: _dt.datetime
    actor: str
    survivor: str
    merged_version: int
    before: List[Customer]
    moved: List[Tuple[str, str]]
    unmerged: bool = False


@dataclass
class Merged(Record):
    """The answer of a merge: the merged dossier and its receipt (none on a dry run)."""

    customer: Customer
    receipt: Optional[MergeReceipt] = None
    duplicates: List[DuplicateCandidate] = field(default_factory=list)


@dataclass
class Pair(Record):
    """A scored pair of records; ``clustered`` when they ended in one cluster."""

    id_l: str
    id_r: str
    probability: float
    decision: str
    clustered: bool
    weight: Optional[float] = None


@dataclass
class SavedSegment(Record):
    """A segment saved in the book: dynamic (always current) or static (its members when saved)."""

    name: str
    condition: str
    dynamic: bool
    saved_at: _dt.datetime
    members: List[str] = field(default_factory=list)


@dataclass
class TestOutcome(Record):
    """How one test of a segment came out: true, false or None (the value is missing), and the values seen."""

    __test__ = False  # not a pytest test class

    test: str
    held: Optional[bool]
    seen: List[Any] = field(default_factory=list)
    field: Optional[str] = None


@dataclass
class SegmentExplanation(Record):
    """Why a customer is in a segment or not, test by test."""

    member: bool
    tests: List[TestOutcome]

    def __str__(self) -> str:
        mark = {True: "yes", False: "no", None: "unknown"}
        lines = [("member" if self.member else "not a member")]
        lines += [f"  {mark[t.held]:<8} {t.test}  (seen: {t.seen})" for t in self.tests]
        return "\n".join(lines)


def decode_segment_explanation(value: Dict[str, Any]) -> SegmentExplanation:
    """A segment explanation from JSON; a number seen becomes a Decimal, a date a date."""
    tests = []
    for t in value["tests"]:
        seen: List[Any] = []
        for s in t["seen"]:
            kind, v = s["type"], s.get("value")
            if kind == "number":
                v = Decimal(repr(v))
            elif kind == "date":
                v = _dt.date.fromisoformat(v)
            elif kind == "time":
                v = _codec.parse_instant(v)
            elif kind == "stage":
                v = ("potential", "new", "active", "at_risk", "churned")[v]
            seen.append(v)
        tests.append(TestOutcome(test=t["test"], held=t["held"], seen=seen))
    return SegmentExplanation(member=value["member"], tests=tests)


@dataclass
class Rfm(Record):
    """RFM scores (1–5 each) and the named group."""

    r: int
    f: int
    m: int
    group: str


@dataclass
class Classes(Record):
    """One customer's classes: purchases, monetary total, RFM, value tier, lifecycle stage."""

    id: str
    purchases: int
    monetary: Decimal
    stage: str
    rfm: Optional[Rfm] = None
    tier: Optional[str] = None


@dataclass
class BookStats(Record):
    """Counts of the dossiers by kind, stage, source and tag, and rows imported per month."""

    customers: int
    by_kind: Dict[str, int]
    by_stage: Dict[str, int]
    by_source: Dict[str, int]
    by_tag: Dict[str, int]
    imported_per_month: Dict[str, int]


@dataclass
class BookReport(Record):
    """The classification summed up: RFM groups and grid, tiers, stages, new per month, saved segments."""

    currency: str
    customers: int
    buyers: int
    rfm_groups: Dict[str, int]
    rfm_grid: List[List[int]]
    tiers: Dict[str, int]
    stages: Dict[str, int]
    new_per_month: Dict[str, int]
    saved_segments: Dict[str, int]


@dataclass
class Erasure(Record):
    """An entry of the erasure ledger: the customer's id, when and by whom — nothing personal."""

    id: str
    at: _dt.datetime
    actor: str


@dataclass
class AuditEntry(Record):
    """One entry of the audit trail: who did what to which customer and fields, when — never the values.

    ``prev`` and ``hash`` (hex) chain it to the entry before.
    """

    seq: int
    at: _dt.datetime
    actor: str
    op: str
    prev: str
    hash: str
    target: Optional[str] = None
    fields: List[str] = field(default_factory=list)
    note: Optional[str] = None


def decode_audit_entry(value: Dict[str, Any]) -> AuditEntry:
    """An audit entry from JSON (its hashes as byte lists) with hex hashes."""
    return _codec.decode(AuditEntry, {**value, "prev": bytes(value["prev"]).hex(), "hash": bytes(value["hash"]).hex()})


@dataclass
class AuditProblem(Record):
    """Where the audit trail was changed (the entry number) and how."""

    seq: int
    message: str


@dataclass
class AuditCheck(Record):
    """What checking the audit trail found: the entries read, and the first problem (none: intact)."""

    entries: int
    problem: Optional[AuditProblem] = None

    @property
    def intact(self) -> bool:
        """Whether the trail is intact."""
        return self.problem is None


@dataclass
class CompactSummary(Record):
    """What a compaction did: entries rewritten, the file's bytes before and after."""

    bytes_before: int
    bytes_after: int
    entries: int


@dataclass
class BackupSummary(Record):
    """What a backup holds: entries, bytes, and whether its checksum is keyed by the book key."""

    entries: int
    bytes: int
    keyed: bool
