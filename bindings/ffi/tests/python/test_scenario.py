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
    erased = book.forget(c.id)
    assert erased.id == c.id and [x.id for x in book.erasures()] == [c.id]
    book.close_book()
