"""Bad input: a clear Python exception, never a crash, a panic or a half-written record."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, List

import pytest

import kehu


@pytest.mark.parametrize(
    "value, message",
    [
        ({"name": {"given": 5}}, "customer.name.given: expected str, got int"),
        ({"emails": "a@b.cn"}, "customer.emails: expected a list"),
        ({"emails": [{"adress": "a@b.cn"}]}, "has no field 'adress'"),
        ({"birth_date": 19900101}, "customer.birth_date: expected a date"),
        ({"birth_date": "01/02/1990"}, "not a YYYY-MM-DD date"),
        ({"birth_date": dt.datetime(1990, 1, 1)}, "got a datetime"),
        ({"custom": {"x": 1.5}}, "a float is not exact"),
        ({"custom": {"x": object()}}, "a custom value is"),
        ({"version": "1"}, "customer.version: expected int"),
        ({"kind": None}, "customer.kind: expected str, got NoneType"),
        ({"nickname": "x"}, "Customer has no field 'nickname'"),
        ({"kind": "robot"}, "unknown variant"),
        ({"verified_at": dt.datetime(2020, 1, 1)}, "naive datetime is ambiguous"),
        (42, "expected a Customer or a dict, got int"),
        (None, "expected a Customer or a dict, got NoneType"),
    ],
)
def test_wrong_types_raise_type_error_with_the_path(book: kehu.Book, value: Any, message: str) -> None:
    with pytest.raises(TypeError) as e:
        book.add(value)
    assert message in str(e.value)
    assert book.count() == 0


def test_related_records_need_their_fields(book: kehu.Book, now: dt.datetime) -> None:
    cid = book.add(kehu.Customer.person("A", "B", emails=[kehu.Email("a@b.de")])).customer.id
    with pytest.raises(TypeError, match="Purchase needs 'amount'"):
        book.relate({"purchase": {"customer_id": cid, "at": now}})
    with pytest.raises(TypeError, match="amount.minor: expected int"):
        book.relate({"purchase": {"customer_id": cid, "at": now, "amount": {"minor": 1.5, "currency": "CNY"}}})
    with pytest.raises(TypeError, match="currency"):
        book.relate({"purchase": {"customer_id": cid, "at": now, "amount": {"minor": 1, "currency": "XXXX"}}})
    with pytest.raises(TypeError, match="record.note.customer_id: UUID parsing failed"):
        book.relate(kehu.Note(customer_id="nope", at=now, text="x"))
    with pytest.raises(kehu.NotFoundError):
        book.relate(kehu.Note(customer_id="01a20c36-5f0a-70d9-ae19-6f32f9f8d7d9", at=now, text="x"))
    assert book.related(cid) == []


def test_bad_ids_and_arguments(book: kehu.Book) -> None:
    with pytest.raises(TypeError, match="not a kehu customer id"):
        book.get("not-an-id")
    with pytest.raises(TypeError, match="expected an id"):
        book.get(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        book.find_by_email(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        book.stale(-1)
    with pytest.raises(ValueError, match="too long"):
        book.stale(10**30)
    with pytest.raises(TypeError, match="one str"):
        book.merge("abc")
    with pytest.raises(kehu.UsageError):
        book.merge([])
    with pytest.raises(TypeError):
        kehu.Book.memory(rules=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        kehu.Book.open("x.kehu", cache_mb=-1)


def test_huge_strings_are_refused_cleanly(book: kehu.Book) -> None:
    huge = "长" * 5_000_000
    with pytest.raises(kehu.ValidationError) as e:
        book.add({"name": {"full": huge}, "emails": ["a@b.cn"]})
    assert any(v.code.startswith("size") or v.code.startswith("length") for v in e.value.violations)
    assert huge[:10] not in str(e.value)  # the message never echoes the value
    assert book.count() == 0
    assert book.find_by_email(huge) == []
    with pytest.raises(kehu.FilterSyntaxError):
        book.segment_count("city = " + "(" * 100_000)


def test_closed_book_raises_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "c.kehu"
    book = kehu.Book.open(path)
    book.add(kehu.Customer.person("A", "B", emails=[kehu.Email("a@b.de")]))
    book.close()
    assert book.closed and "closed" in repr(book)
    for call in (book.count, lambda: book.add({"name": {"full": "X"}}), lambda: book.segment_count("city = 'x'")):
        with pytest.raises(kehu.BookClosedError, match="the book is closed"):
            call()
    book.close()  # twice is fine
    with kehu.Book.open(path) as again:
        assert again.count() == 1


def test_a_file_open_twice_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.kehu"
    with kehu.Book.open(path):
        with pytest.raises(kehu.StorageError):
            kehu.Book.open(path)
    (tmp_path / "junk.kehu").write_bytes(b"this is not a book" * 100)
    with pytest.raises(kehu.StorageError):
        kehu.Book.open(tmp_path / "junk.kehu")


def test_one_book_from_several_threads(tmp_path: Path) -> None:
    errors: List[BaseException] = []
    with kehu.Book.open(tmp_path / "t.kehu") as book:

        def writer(t: int) -> None:
            try:
                for i in range(100):
                    book.add(kehu.Customer.person(f"P{t}", f"N{i}", emails=[kehu.Email(f"p{t}.{i}@example.com")]))
                    book.segment_count(f'given_name = "P{t}"')
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        book_closer = threading.Thread(target=lambda: None)
        book_closer.start()
        for t in threads:
            t.join()
        assert errors == [] and book.count() == 400
        assert book.segment_count('given_name = "P2"') == 100


def test_close_while_another_thread_works(tmp_path: Path) -> None:
    book = kehu.Book.open(tmp_path / "w.kehu")
    results: List[Any] = []

    def work() -> None:
        try:
            for i in range(200):
                book.add(kehu.Customer.person("W", f"N{i}", emails=[kehu.Email(f"w{i}@example.com")]))
            results.append("done")
        except kehu.BookClosedError as e:
            results.append(e)

    t = threading.Thread(target=work)
    t.start()
    book.close()
    t.join()
    assert results and (results[0] == "done" or isinstance(results[0], kehu.BookClosedError))
    with kehu.Book.open(tmp_path / "w.kehu") as again:  # whatever was written is whole
        for c in again.customers():
            assert c.emails and c.version == 1


def test_progress_callback_errors_do_not_break_the_import(book: kehu.Book, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    seen: List[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    def boom(*_: object) -> None:
        raise RuntimeError("callback failed")

    report = book.add_many([{"name": {"full": "X"}, "emails": ["x@example.com"]}], progress=boom)
    assert report.imported == 1
    assert seen and str(seen[0]) == "callback failed"


def test_money_and_decimal_edges() -> None:
    with pytest.raises(kehu.UsageError):
        kehu.Money.of("1", "ZZZ")
    with pytest.raises(ValueError):
        kehu.Money.of("abc", "CNY")
    assert kehu.Money.of(Decimal("-5.5"), "EUR").minor == -550
