"""Segments, saved segments, RFM, tiers, lifecycle and reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import List, Tuple

import pytest

import kehu


@pytest.fixture
def shop(book: kehu.Book, now: dt.datetime) -> kehu.Book:
    for i, (name, city, spend) in enumerate([("Anna", "Berlin", [120, 80]), ("Paul", "Hamburg", [15]), ("Mia", "Berlin", [])]):
        c = book.add(
            kehu.Customer.person(name, "Test", emails=[kehu.Email(f"{name.lower()}@example.de")],
                                 addresses=[kehu.Address(city=city, country="DE")], tags=["VIP"] if i == 0 else [])
        ).customer
        assert c.id is not None
        for d, amount in enumerate(spend):
            book.relate(kehu.Purchase(customer_id=c.id, at=now - dt.timedelta(days=10 + d), amount=kehu.Money.of(amount, "EUR")))
    return book


def test_members_ids_count_and_explain(shop: kehu.Book, now: dt.datetime) -> None:
    cond = 'city = "Berlin" and purchases.sum(within 90d) >= 100'
    members = shop.segment_members(cond)
    assert [m.name.given for m in members] == ["Anna"]
    assert shop.segment_ids(cond) == [members[0].id] and shop.segment_count(cond) == 1
    why = shop.explain_segment(cond, members[0])
    assert why.member and [t.held for t in why.tests] == [True, True]
    assert Decimal("200") in why.tests[1].seen
    mia = shop.find_by_email("mia@example.de")[0]
    no = shop.explain_segment(cond, mia)
    assert not no.member and "not a member" in str(no)
    # as of a time before any purchase: nobody spent anything yet
    assert shop.segment_count(cond, as_of=now - dt.timedelta(days=30)) == 0


def test_filter_syntax_error_points_at_the_problem(shop: kehu.Book) -> None:
    with pytest.raises(kehu.FilterSyntaxError) as e:
        shop.segment_count('city = "Berlin" and\n  purchases.sum(within 90d) >= ')
    assert e.value.line == 2 and e.value.column > 1
    with pytest.raises(kehu.FilterSyntaxError) as e:
        shop.check_segment("citty = 1")
    assert (e.value.line, e.value.column, e.value.suggestion) == (1, 1, "city")
    assert "did you mean city" in str(e.value) and isinstance(e.value, ValueError)


def test_saved_segments_and_change_events(shop: kehu.Book) -> None:
    events: List[Tuple[str, str, bool]] = []
    shop.on_segment_change(lambda seg, cid, entered: events.append((seg, cid, entered)))
    saved = shop.save_segment("berlin", 'city = "Berlin"')
    assert saved.dynamic and isinstance(saved.saved_at, dt.datetime)
    frozen = shop.save_segment("vip_now", 'has tag "VIP"', dynamic=False)
    assert len(frozen.members) == 1
    assert [s.name for s in shop.saved_segments()] == ["berlin", "vip_now"]
    assert len(shop.saved_segment_members("berlin")) == 2
    c = shop.add(kehu.Customer.person("Lena", "Test", emails=[kehu.Email("lena@example.de")], addresses=[kehu.Address(city="Berlin", country="DE")])).customer
    assert ("berlin", c.id, True) in events
    assert shop.segment_count('in segment "berlin"') == 3
    shop.refresh_segments()
    shop.delete_segment("vip_now")
    with pytest.raises(kehu.NotFoundError):
        shop.saved_segment("vip_now")


def test_classify_report_stats_and_tier_tag(shop: kehu.Book) -> None:
    cls = shop.classify(currency="EUR")
    assert cls.currency == "EUR" and len(cls.classes) == 3
    anna = next(k for k in cls.classes if k.purchases == 2)
    assert anna.monetary == Decimal("200.00") and isinstance(anna.monetary, Decimal)
    assert anna.rfm is not None and 1 <= anna.rfm.r <= 5 and anna.tier in ("high", "medium", "low")
    assert {k.stage for k in cls.classes} <= {"potential", "new", "active", "at_risk", "churned"}
    report = shop.report()
    assert report.customers == 3 and report.buyers == 2 and sum(map(sum, report.rfm_grid)) == 2
    stats = shop.stats()
    assert stats.customers == 3 and stats.by_tag == {"VIP": 1}
    tagged, untagged = shop.apply_tier_tag("top", tiers={"high_share": 0.5, "medium_share": 0.3})
    assert tagged >= 1 and untagged == 0
    assert shop.stats().by_tag.get("top") == tagged
    with pytest.raises(TypeError):
        shop.classify(currency="EUR", as_of=dt.datetime(2026, 1, 1))  # naive: refused
    with pytest.raises(kehu.UsageError, match="currency"):
        shop.classify(currency="EURO")


def test_as_of_sees_each_dossier_as_it_was(book: kehu.Book) -> None:
    import time

    wei = book.add(kehu.Customer.person("Wei", "Zhang", emails=[kehu.Email("wei@example.cn")],
                                        addresses=[kehu.Address(city="上海")])).customer
    time.sleep(0.01)
    before = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.01)
    wei.addresses[0].city = "北京"
    wei.tags.append("VIP")
    book.update(wei)
    later = book.add(kehu.Customer.person("Na", "Li", emails=[kehu.Email("na@example.cn")],
                                          addresses=[kehu.Address(city="上海")])).customer
    cond = 'city = "上海"'
    assert book.segment_ids(cond) == [later.id]
    assert book.segment_ids(cond, as_of=before) == [wei.id]  # Na Li came later
    assert book.segment_count('has tag "VIP"', as_of=before) == 0
    then = book.customer_as_of(wei, before)
    assert then is not None and then.addresses[0].city == "上海" and then.tags == []
    assert book.customer_as_of(later, before) is None
    assert book.explain_segment(cond, wei, as_of=before).member
    with pytest.raises(kehu.UsageError, match="created after"):
        book.explain_segment(cond, later, as_of=before)
