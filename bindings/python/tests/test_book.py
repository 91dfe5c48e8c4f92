"""Dossiers: add, get, update, remove, find, related records, history, review — with classes and dicts."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

import kehu

from conftest import EXAMPLES


def test_add_normalises_and_returns_typed_dossier(book: kehu.Book) -> None:
    saved = book.add({"name": {"full": "张伟"}, "phones": ["+86 138 1234 5678"], "emails": ["Zhang.Wei@QQ.COM"]})
    c = saved.customer
    assert isinstance(c, kehu.Customer)
    assert c.phones[0].number == "+8613812345678" and c.phones[0].raw == "+86 138 1234 5678"
    assert c.emails[0].address == "Zhang.Wei@qq.com"
    assert c.version == 1 and c.id is not None
    assert c.created_at is not None and c.created_at.tzinfo is not None
    assert c.created_at.utcoffset() == dt.timedelta(0)
    assert saved.report.ok and saved.duplicates == []
    assert c.display_name == "张伟" and c.primary_email == "Zhang.Wei@qq.com"


def test_class_and_dict_inputs_give_the_same_dossier(book: kehu.Book) -> None:
    a = book.add(kehu.Customer.person("Anna", "Schmidt", emails=[kehu.Email("anna@example.de")], tags=["VIP"]))
    b = book.add(
        {"name": {"given": "Lena", "family": "Schmidt"}, "emails": [{"address": "lena@example.de"}], "tags": ["VIP"]}
    )
    assert a.customer.name.family == b.customer.name.family == "Schmidt"
    assert [c.display_name for c in book.find_by_tag("VIP")] == ["Anna Schmidt", "Lena Schmidt"]
    assert kehu.Customer.from_dict(a.customer.to_dict()) == a.customer
    assert json.loads(json.dumps(a.customer.to_json()))["emails"][0]["address"] == "anna@example.de"


def test_get_update_remove_and_count(book: kehu.Book) -> None:
    c = book.add(kehu.Customer.person("Jonas", "Weber", emails=[kehu.Email("jonas@example.de")])).customer
    assert book.get(c.id) == c and len(book) == 1 == book.count()
    c.job_title = "Einkauf"
    c.tags.append("B2B")
    saved = book.update(c)
    assert saved.customer.version == 2 and book.get(c.id).job_title == "Einkauf"
    book.remove(c.id)
    assert book.count() == 0
    with pytest.raises(kehu.NotFoundError) as e:
        book.get(c.id)
    assert e.value.id == c.id and c.id in str(e.value)


def test_conflict_error_carries_versions(book: kehu.Book) -> None:
    c = book.add(kehu.Customer.person("Mia", "Meyer", emails=[kehu.Email("mia@example.de")])).customer
    stale = kehu.Customer.from_dict(c.to_dict())
    c.company = "Acme"
    book.update(c)
    stale.company = "Other"
    with pytest.raises(kehu.ConflictError) as e:
        book.update(stale)
    assert (e.value.id, e.value.expected, e.value.found) == (c.id, 1, 2)
    assert "version conflict" in str(e.value)
    assert isinstance(e.value, kehu.KehuError)


def test_validation_error_lists_every_violation(book: kehu.Book) -> None:
    with pytest.raises(kehu.ValidationError) as e:
        book.add({"name": {"given": "Max"}, "emails": ["max@@example", "also@bad@"], "birth_date": "2999-01-01"})
    v = e.value.violations
    assert {x.path for x in v} >= {"emails[0].address", "emails[1].address", "birth_date"}
    assert all(isinstance(x, kehu.Violation) and x.severity == "error" for x in v)
    assert {x.code for x in v} >= {"format.email", "date.future"}
    assert isinstance(e.value, ValueError) and "record rejected" in str(e.value)
    assert book.count() == 0
    report = book.validate({"name": {"given": "Max"}, "emails": ["max@@example"]})
    assert not report.ok and report.errors[0].code == "format.email"


def test_find_by_email_phone_external_id(book: kehu.Book) -> None:
    c = book.add(
        {"external_id": "CRM-1", "name": {"full": "刘伟"}, "phones": ["+86 191 9897 3021"], "emails": ["liu@163.com"]}
    ).customer
    assert [x.id for x in book.find_by_email("LIU@163.COM")] == [c.id]
    assert [x.id for x in book.find_by_phone("+86 191-9897-3021")] == [c.id]
    assert [x.id for x in book.find_by_external_id("CRM-1")] == [c.id]
    assert book.find_by_email("nobody@example.com") == []


def test_dates_custom_values_and_money_round_trip(now: dt.datetime) -> None:
    rules = {
        "custom": [
            {"name": "credit_limit", "type": "decimal"},
            {"name": "since", "type": "date"},
            {"name": "last_call", "type": "datetime"},
            {"name": "vip", "type": "bool"},
            {"name": "visits", "type": "integer"},
            {"name": "hobbies", "type": "text_list"},
            {"name": "level", "type": "enum", "values": ["gold", "silver"]},
        ]
    }
    with kehu.Book.memory(rules) as book:
        east = dt.timezone(dt.timedelta(hours=8))
        custom = {
            "credit_limit": Decimal("12345.67"),
            "since": dt.date(2020, 2, 29),
            "last_call": dt.datetime(2026, 1, 2, 11, 30, 5, 123456, tzinfo=east),
            "vip": True,
            "visits": 7,
            "hobbies": ["tea", "go"],
            "level": "gold",
        }
        c = book.add(kehu.Customer.person("Wei", "Li", birth_date=dt.date(1990, 5, 1), emails=[kehu.Email("w@li.cn")], custom=custom)).customer
        got = book.get(c.id)
        assert got.birth_date == dt.date(1990, 5, 1)
        assert got.custom["credit_limit"] == Decimal("12345.67") and isinstance(got.custom["credit_limit"], Decimal)
        assert got.custom["since"] == dt.date(2020, 2, 29)
        assert got.custom["last_call"] == custom["last_call"]  # the same instant, now in UTC
        assert got.custom["last_call"].tzinfo == dt.timezone.utc  # type: ignore[union-attr]
        assert got.custom["vip"] is True and got.custom["visits"] == 7
        assert got.custom["hobbies"] == ["tea", "go"] and got.custom["level"] == "gold"

        amount = kehu.Money.of(Decimal("1299.99"), "CNY")
        assert amount == kehu.Money(129999, "CNY") and amount.amount == Decimal("1299.99")
        assert kehu.Money.of("1500", "JPY").minor == 1500
        assert kehu.Money.of(3, "BHD").minor == 3000
        with pytest.raises(ValueError):
            kehu.Money.of("1.234", "CNY")
        with pytest.raises(TypeError):
            kehu.Money.of(1.5, "CNY")  # type: ignore[arg-type]
        p = book.relate(kehu.Purchase(customer_id=c.id, at=now, amount=amount, channel="shop", items=2))  # type: ignore[arg-type]
        back = book.purchases(c.id)[0]
        assert back == p and back.amount.amount == Decimal("1299.99") and back.at == now.replace(microsecond=now.microsecond)


def test_every_related_kind_in_time_order(book: kehu.Book, now: dt.datetime) -> None:
    cid = book.add(kehu.Customer.person("Paul", "Becker", emails=[kehu.Email("paul@example.de")])).customer.id
    assert cid is not None
    t = [now - dt.timedelta(days=d) for d in (5, 4, 3, 2, 1)]
    book.relate(kehu.Interaction(customer_id=cid, at=t[1], channel="phone", direction="inbound", summary="asked about delivery"))
    book.relate({"purchase": {"customer_id": cid, "at": t[0], "amount": {"minor": 5000, "currency": "EUR"}}})
    book.relate(kehu.Feedback(customer_id=cid, at=t[2], kind="complaint", comment="late", score=kehu.Score("csat", 2)))
    book.relate(kehu.Consent(customer_id=cid, at=t[3], purpose="marketing", status="granted", channel="email"))
    book.relate(kehu.Note(customer_id=cid, at=t[4], text="prefers mornings", author="ops"))
    kinds = [type(r).__name__ for r in book.related(cid)]
    assert sorted(kinds) == ["Consent", "Feedback", "Interaction", "Note", "Purchase"]
    assert [r.at for r in book.related(cid)] == sorted(r.at for r in book.related(cid))
    assert book.purchases(cid)[0].amount == kehu.Money(5000, "EUR") and book.purchases(cid)[0].items == 1
    assert book.interactions(cid)[0].summary == "asked about delivery"
    assert book.feedback(cid)[0].score == kehu.Score("csat", 2) and book.feedback(cid)[0].status == "open"
    assert book.consents(cid)[0].channel == "email"
    assert book.notes(cid)[0].author == "ops"
    with pytest.raises(TypeError, match="Purchase, Interaction"):
        book.relate({"order": {}})


def test_history_names_actor_and_fields(tmp_path: Path) -> None:
    with kehu.Book.open(tmp_path / "h.kehu", actor="alice") as book:
        c = book.add(kehu.Customer.person("Emma", "Wagner", emails=[kehu.Email("emma@example.de")])).customer
        c.company = "Wagner GmbH"
        book.update(c)
        h = book.history(c.id)
    assert [x.op for x in h] == ["created", "updated"]
    assert all(x.actor == "alice" for x in h)
    assert h[1].fields[0].path == "company" and h[1].fields[0].after == '"Wagner GmbH"'


def test_verify_and_stale_queue(book: kehu.Book) -> None:
    c = book.add(kehu.Customer.person("Leon", "Schulz", emails=[kehu.Email("leon@example.de")])).customer
    assert [x.id for x in book.stale(0)] == [c.id]
    assert [x.id for x in book.stale(dt.timedelta(seconds=0))] == [c.id]
    verified = book.verify(c.id)
    assert verified.verified_at is not None
    assert book.stale(dt.timedelta(days=180)) == []


def test_file_book_persists_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "p.kehu"
    with kehu.Book.open(path, cache_mb=8) as book:
        cid = book.add(kehu.Customer.person("Felix", "Fischer", emails=[kehu.Email("felix@example.de")])).customer.id
    with kehu.Book.open(str(path)) as again:
        assert again.get(cid).name.given == "Felix"


def test_rules_from_dict_and_file(tmp_path: Path) -> None:
    strict = {"required": [{"id": "need_phone", "fields": ["phones"]}]}
    with kehu.Book.memory(strict) as book:
        with pytest.raises(kehu.ValidationError) as e:
            book.add(kehu.Customer.person("No", "Phone", emails=[kehu.Email("np@example.de")]))
        assert e.value.violations[0].code == "required"
        assert book.rules["required"][0]["id"] == "need_phone"
    with kehu.Book.memory(EXAMPLES / "rules.toml") as book:
        assert any(c["name"] == "member_level" for c in book.rules["custom"])
    with pytest.raises(kehu.RulesError):
        kehu.Book.memory({"no_such_key": 1})
    with pytest.raises(kehu.KehuError):
        kehu.Book.memory(tmp_path / "missing.toml")


def test_rules_given_on_opening_are_saved_and_apply_on_every_open(tmp_path: Path) -> None:
    path = tmp_path / "rules.kehu"
    rules = {"custom": [{"name": "member_level", "type": "enum", "values": ["gold", "silver"]}]}
    gold = kehu.Customer.person("Wei", "Zhang", emails=[kehu.Email("wei@example.com")], custom={"member_level": "gold"})
    with kehu.Book.open(path) as book:
        assert any(v.code == "custom.unknown" for v in book.validate(gold).violations)
    kehu.Book.open(path, rules).close()
    with kehu.Book.open(path) as book:  # no rules given: the saved ones apply
        assert book.validate(gold).violations == []
        book.add(gold)
        with pytest.raises(kehu.ValidationError) as e:
            book.add(kehu.Customer.person("Li", "Na", emails=[kehu.Email("na@example.com")], custom={"member_level": "platinum"}))
        assert e.value.violations[0].path == "custom.member_level"


def test_saved_rules_round_trip(book: kehu.Book) -> None:
    assert book.saved_rules() is None
    book.save_rules({"default_region": "DE"})
    saved = book.saved_rules()
    assert saved is not None and saved["default_region"] == "DE"
    with pytest.raises(kehu.RulesError):
        book.save_rules({"severity": {"email": "sometimes"}})


def test_repr_eq_and_to_dict() -> None:
    a = kehu.Customer.person("Wei", "Zhang", birth_date=dt.date(1990, 1, 1))
    b = kehu.Customer.person("Wei", "Zhang", birth_date=dt.date(1990, 1, 1))
    assert a == b and "Zhang" in repr(a)
    d = a.to_dict()
    assert d["birth_date"] == dt.date(1990, 1, 1) and d["name"] == {"given": "Wei", "family": "Zhang", "full": None, "split": None}
    assert kehu.Customer.from_dict({"name": {"full": "X"}, "birth_date": "1990-01-01"}).birth_date == dt.date(1990, 1, 1)
