"""The mobile scenario through the uniffi-generated Python module: the same
steps as the Kotlin test (bindings/ffi/tests/kotlin/Scenario.kt)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

import kehu_ffi as k


def wei() -> k.Customer:
    c = k.new_person("Wei", "Zhang")
    c.emails = [k.new_email("Wei.Zhang@Example.com")]
    c.phones = [k.new_phone("+86 138 1234 5678")]
    c.birth_date = dt.date(1990, 5, 17)
    return c


@pytest.fixture
def book(tmp_path: Path) -> k.Book:
    b = k.Book.open(str(tmp_path / "phone.kehu"), k.OpenOptions(actor="rep-7"))
    yield b
    b.close_book()


def test_scenario(book: k.Book, tmp_path: Path) -> None:
    # Add a customer: normalised, with its id and version.
    saved = book.add(wei())
    c = saved.customer
    assert c.version == 1 and c.emails[0].address == "Wei.Zhang@example.com"
    assert c.phones[0].number == "+8613812345678" and c.birth_date == dt.date(1990, 5, 17)
    assert book.get(c.id) == c and book.count() == 1
    assert isinstance(c.created_at, dt.datetime) and c.created_at.tzinfo is not None
    assert saved.region is None, "a number with its country code needs no region"
    shanghai = k.new_person("Lei", "Li")
    shanghai.phones = [k.new_phone("021 6888 8888")]
    shanghai.addresses = [k.Address(city="上海")]
    inferred = book.validate(shanghai)
    assert inferred.region == k.ImpliedRegion(region="CN", clue="city"), inferred

    # Every violation at once, with field paths; nothing written.
    bad = k.new_person("", "")
    bad.emails = [k.new_email("not-an-email")]
    with pytest.raises(k.KehuError.Invalid) as e:
        book.add(bad)
    paths = {v.path for v in e.value.violations}
    assert "emails[0].address" in paths and "name" in paths, paths
    assert e.value.code == "invalid" and e.value.path in paths
    assert all(v.severity == k.Severity.ERROR for v in e.value.violations)
    assert "not-an-email" not in str(e.value)
    assert book.count() == 1

    # A duplicate at entry.
    candidates = book.check_duplicates(wei())
    assert candidates[0].id == c.id and candidates[0].probability > 0.99
    assert candidates[0].action == k.DuplicateAction.BLOCK
    with pytest.raises(k.KehuError.Duplicate) as d:
        book.add(wei())
    assert d.value.code == "duplicate" and d.value.candidates[0].id == c.id
    # The error's text (which may end up in a log) holds ids and scores, no personal values.
    assert "example.com" not in str(d.value) and "Zhang" not in str(d.value) and "8613812345678" not in str(d.value)
    second = book.add_allowing_duplicates(wei()).customer
    assert book.find_by_email("wei.zhang@EXAMPLE.com")[0].id in {c.id, second.id}

    # A purchase and a segment, now and as of before the purchase.
    before = dt.datetime.now(dt.timezone.utc)
    p = k.Purchase(customer_id=c.id, at=dt.datetime.now(dt.timezone.utc), amount=k.Money(minor=129900, currency="CNY"))
    stored = book.relate(k.RelatedRecord.PURCHASE(p))
    assert stored.record.id and book.purchases(c.id)[0].amount == k.Money(minor=129900, currency="CNY")
    members = book.segment_members('purchases.count >= 1 and email ends_with "@example.com"', None)
    assert [m.id for m in members] == [c.id]
    assert book.segment_count("purchases.count >= 1", before - dt.timedelta(seconds=1)) == 0
    why = book.explain_segment("purchases.count >= 1", c.id, None)
    assert why.member and why.tests[0].held
    saved_seg = book.save_segment("buyers", "purchases.count >= 1", True)
    assert saved_seg.dynamic and book.saved_segment_members("buyers") == [c.id]

    # Merge and unmerge.
    merged = book.merge([c.id, second.id], None, False)
    assert merged.customer.id == c.id and book.count() == 1 and merged.receipt is not None
    restored = book.unmerge(merged.receipt.id)
    assert sorted(x.id for x in restored) == sorted([c.id, second.id]) and book.count() == 2
    assert book.merge_receipt(merged.receipt.id).unmerged

    # History, export, audit.
    assert [h.op for h in book.history(c.id)][0] == "created"
    csv = book.export_text(k.ExportOptions())
    assert csv.count("\n") == 3 and "Wei.Zhang@example.com" in csv
    assert book.verify_audit().intact
    assert any(a.op == "merge" for a in book.audit_trail(1))


def test_errors_carry_codes(book: k.Book) -> None:
    cases = [
        (lambda: book.get(""), k.KehuError.InvalidArgument, "invalid_argument", "id"),
        (lambda: book.get("not-a-uuid"), k.KehuError.InvalidArgument, "invalid_argument", "id"),
        (lambda: book.get("0190f5c2-0000-7000-8000-000000000000"), k.KehuError.NotFound, "not_found", "id"),
        (lambda: book.segment_count("", None), k.KehuError.InvalidArgument, "invalid_argument", "condition"),
        (lambda: book.segment_count("purchases.count >=", None), k.KehuError.FilterSyntax, "filter_syntax", "condition"),
        (lambda: book.saved_segment("nope"), k.KehuError.NotFound, "segment_not_found", "name"),
        (lambda: book.merge(["x"], None, False), k.KehuError.InvalidArgument, "invalid_argument", "ids[0]"),
        (lambda: book.import_file("/no/such/file.csv", k.ImportOptions(), None), k.KehuError.Io, "io", "/no/such/file.csv"),
        (lambda: book.classify(k.ClassifyOptions(currency="EURO")), k.KehuError.InvalidArgument, "invalid_argument", "currency"),
        (lambda: book.as_principal(k.Principal(user="ann", roles=["sales"]), "not = [toml"), k.KehuError.InvalidArgument, "invalid_argument", "policy"),
    ]
    for call, kind, code, path in cases:
        with pytest.raises(kind) as e:
            call()
        if code is not None:
            assert e.value.code == code and e.value.path == path, (e.value.code, e.value.path)
    with pytest.raises(k.KehuError.InvalidArgument):
        k.Book.open("", k.OpenOptions())
    with pytest.raises(k.KehuError.InvalidArgument) as e:
        k.Book.open("x.kehu", k.OpenOptions(cache_mb=0))
    assert e.value.path == "cache_mb"


def test_huge_and_odd_input(book: k.Book) -> None:
    big = k.new_person("W" * 5_000_000, "Zhang")
    big.emails = [k.new_email("big@example.com")]
    with pytest.raises(k.KehuError.Invalid) as e:
        book.add(big)
    assert "W" * 100 not in str(e.value)
    with pytest.raises(k.KehuError.FilterSyntax):
        book.segment_count("(" * 100_000, None)
    c = wei()
    c.custom = {"level": k.CustomValue.DECIMAL(value="twelve")}
    with pytest.raises(k.KehuError.InvalidArgument) as e:
        book.validate(c)
    assert e.value.path == "custom.level"
    with pytest.raises(k.KehuError.InvalidArgument):
        book.relate(k.RelatedRecord.PURCHASE(k.Purchase(customer_id=wei().id, at=dt.datetime.now(dt.timezone.utc), amount=k.Money(minor=1, currency="??"))))
    # Out-of-range numbers are refused by the binding before the call.
    with pytest.raises((OverflowError, ValueError, TypeError)):
        book.stale(-1)
    assert book.count() == 0


def test_closed_book_and_threads(tmp_path: Path) -> None:
    book = k.Book.open(str(tmp_path / "t.kehu"), k.OpenOptions())
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                c = k.new_person(f"P{n}", f"Q{i}")
                c.emails = [k.new_email(f"p{n}.{i}@example.com")]
                book.add_allowing_duplicates(c)
                book.segment_count('email ends_with "@example.com"', None)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and book.count() == 200
    book.close_book()
    book.close_book()
    assert book.is_closed()
    with pytest.raises(k.KehuError.Closed) as e:
        book.count()
    assert e.value.code == "closed"


def test_encrypted_book_and_guarded_view(tmp_path: Path) -> None:
    path = str(tmp_path / "sealed.kehu")
    key = k.Key.PASSPHRASE(passphrase="correct horse battery staple")
    book = k.Book.open(path, k.OpenOptions(key=key))
    c = book.add(wei()).customer
    book.close_book()
    assert k.is_encrypted(path)
    assert b"Zhang" not in Path(path).read_bytes()
    with pytest.raises(k.KehuError.Key):
        k.Book.open(path, k.OpenOptions(key=k.Key.PASSPHRASE(passphrase="wrong")))
    book = k.Book.open(path, k.OpenOptions(key=key))
    assert book.get(c.id).name.family == "Zhang"
    policy = """
[roles.sales]
operations = ["read", "add"]
scope = "all"
fields = { phones = "masked", emails = "masked", birth_date = "hidden" }
"""
    sales = book.as_principal(k.Principal(user="ann", roles=["sales"]), policy)
    seen = sales.get(c.id)
    assert seen.phones[0].number == "138****5678" and seen.birth_date is None
    with pytest.raises(k.KehuError.Denied) as e:
        sales.export_text(k.ExportOptions())
    assert e.value.code == "denied"
    # The principal's book is a Book: every method through the policy stage.
    assert sales.principal() == k.Principal(user="ann", roles=["sales"], team=None) and book.principal() is None
    sales.check(k.Operation.READ)
    for denied in (lambda: sales.check(k.Operation.FORGET), lambda: sales.backup(path + ".bak"), sales.compact,
                   lambda: sales.as_principal(k.Principal(user="ann", roles=["admin"]), policy)):
        with pytest.raises(k.KehuError.Denied):
            denied()
    erased = book.forget(c.id)
    assert erased.id == c.id and [x.id for x in book.erasures()] == [c.id]
    compacted = book.compact()
    assert compacted.entries > 0 and compacted.bytes_after > 0
    d = book.add(wei()).customer
    book.close_book()

    # A key from the platform's key store: 32 raw bytes; rotation re-wraps every customer key.
    raw = k.Key.RAW(bytes=bytes(range(32)))
    assert k.rotate_key(path, key, raw) == 1
    with pytest.raises(k.KehuError.Key):
        k.Book.open(path, k.OpenOptions(key=key))
    with pytest.raises(k.KehuError.InvalidArgument) as e:
        k.Book.open(path, k.OpenOptions(key=k.Key.RAW(bytes=b"short")))
    assert e.value.path == "key.bytes"
    book = k.Book.open(path, k.OpenOptions(key=raw))
    assert book.get(d.id).name.given == "Wei"
    book.close_book()


class Progress(k.ProgressListener):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def on_progress(self, stage: str, done: int, total: int | None) -> None:
        self.calls.append((stage, done, total))


class Segments(k.SegmentListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, bool]] = []

    def on_change(self, segment: str, customer_id: str, entered: bool) -> None:
        self.events.append((segment, customer_id, entered))


def test_files_callbacks_classes_and_backup(book: k.Book, tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text(
        "name,email,phone,city\n张伟,zhang.wei@example.com,13812345678,上海\n"
        "Anna Schmidt,anna@example.de,,Berlin\nbad row,not-an-email,,\n",
        encoding="utf-8",
    )
    progress = Progress()
    report = book.import_file(str(csv), k.ImportOptions(), progress)
    assert (report.rows, report.imported, report.rejected) == (3, 2, 1)
    assert report.columns["email"] == "emails"
    assert any(p.line == 4 and p.severity == k.Severity.ERROR for p in report.problems)
    assert progress.calls and progress.calls[-1][1] == progress.calls[-1][2]
    assert [i.id for i in book.imports()] == [report.import_id]

    listener = Segments()
    book.save_segment("shanghai", 'city = "上海"', True)
    book.on_segment_change(listener)
    anna = book.find_by_email("anna@example.de")[0]
    anna.addresses[0].city = "上海"
    book.update(anna)
    assert ("shanghai", anna.id, True) in listener.events

    out = tmp_path / "out.jsonl"
    assert book.export_file(str(out), k.ExportOptions(format=k.ExportFormat.JSONL)) == 2
    assert out.read_text(encoding="utf-8").count("\n") == 2

    book.relate(k.RelatedRecord.PURCHASE(k.Purchase(customer_id=anna.id, at=dt.datetime.now(dt.timezone.utc), amount=k.Money(minor=1050, currency="EUR"))))
    classes = {c.id: c for c in book.classify(k.ClassifyOptions(currency="EUR"))}
    assert classes[anna.id].monetary_minor == 1050 and classes[anna.id].purchases == 1
    assert book.report(k.ClassifyOptions()).buyers == 1 and book.stats().customers == 2
    dd = book.dedupe(None, progress)
    assert dd.clusters == []

    backup = tmp_path / "b.kehu-backup"
    assert book.backup(str(backup)).entries > 0
    subject = book.subject_export(anna.id)
    assert subject.customer.id == anna.id and len(subject.related) == 1
    assert book.saved_rules() is None
    book.save_rules('[[required]]\nfields = ["name"]\n')
    assert book.saved_rules() is not None
    book.forget(anna.id)
    book.close_book()
    # Restored over the book: the customer erased after the backup stays erased.
    restored = k.Book.restore(str(backup), str(tmp_path / "phone.kehu"), k.OpenOptions())
    assert restored.count() == 1
    with pytest.raises(k.KehuError.NotFound):
        restored.get(anna.id)
    restored.close_book()
