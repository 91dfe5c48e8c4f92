"""kehu (客户, "customer"): the data core of a CRM, as a library.

A ``Book`` keeps customer dossiers — in a redb file or in memory — and runs
every write through the entry rules; it keeps each dossier's purchases,
interactions, feedback, consents, notes and history; it finds duplicates at
entry and in bulk, merges and unmerges them, and answers segments, RFM,
value tiers and lifecycle stages. ``dedupe`` finds duplicates in CSV files
and DataFrames without a book.

    >>> import kehu
    >>> with kehu.Book.memory() as book:
    ...     saved = book.add({"name": {"full": "张伟"}, "phones": ["+86 138 1234 5678"]})
    ...     saved.customer.phones[0].number
    '+8613812345678'
"""

from ._book import Book, BookDedupe, Classification
from ._dedupe import DedupeResult, dedupe, dedupe_frame
from ._errors import (
    BookClosedError,
    ConflictError,
    DuplicateError,
    EncryptionError,
    FilterSyntaxError,
    InputError,
    InternalError,
    KehuError,
    NotFoundError,
    PermissionDeniedError,
    RulesError,
    StorageError,
    UsageError,
    ValidationError,
)
from ._kehu import __version__
from ._types import (
    Address,
    AuditCheck,
    AuditEntry,
    AuditProblem,
    BackupSummary,
    CompactSummary,
    BookReport,
    BookStats,
    Change,
    Classes,
    ColumnUse,
    Consent,
    Customer,
    CustomValue,
    DuplicateCandidate,
    Email,
    Erasure,
    Feedback,
    FieldChange,
    FieldMatch,
    ImpliedRegion,
    ImportReport,
    FeedEntry,
    ImportSummary,
    Interaction,
    MatchExplanation,
    MergeReceipt,
    Merged,
    Money,
    Note,
    Organization,
    Pair,
    PersonName,
    Phone,
    Purchase,
    Record,
    RelatedRecord,
    Report,
    RevertReport,
    Rfm,
    RowDuplicate,
    RowMatch,
    RowProblem,
    Saved,
    SavedSegment,
    Score,
    SegmentExplanation,
    TestOutcome,
    Violation,
)

__all__ = [
    "Address", "AuditCheck", "AuditEntry", "AuditProblem", "BackupSummary", "Book", "CompactSummary", "BookClosedError", "BookDedupe", "BookReport", "BookStats", "Change",
    "Classes", "Classification", "ColumnUse", "ConflictError", "Consent", "Customer", "CustomValue",
    "DedupeResult", "DuplicateCandidate", "DuplicateError", "Email", "EncryptionError", "Erasure", "FeedEntry", "Feedback", "FieldChange",
    "FieldMatch", "FilterSyntaxError", "PermissionDeniedError", "ImpliedRegion", "ImportReport", "ImportSummary", "InputError", "InternalError",
    "Interaction", "KehuError", "MatchExplanation", "MergeReceipt", "Merged", "Money", "Note",
    "NotFoundError", "Organization", "Pair", "PersonName", "Phone", "Purchase", "Record",
    "RelatedRecord", "Report", "RevertReport", "Rfm", "RowDuplicate", "RowMatch", "RowProblem", "RulesError", "Saved",
    "SavedSegment", "Score", "SegmentExplanation", "StorageError", "TestOutcome", "UsageError",
    "ValidationError", "Violation", "__version__", "dedupe", "dedupe_frame",
]
