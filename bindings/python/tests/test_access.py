"""Roles and masking from Python: every read path limited and masked, denials raised."""

from __future__ import annotations

import datetime as dt

import pytest

import kehu

POLICY = {
    "roles": {
        "sales": {
            "operations": ["read", "add", "update"],
            "scope": "own",
            "fields": {"phones": "masked", "emails": "masked", "birth_date": "hidden", "related": "masked"},
        },
        "manager": {"operations": ["read", "export"], "scope": "team", "default": "masked"},
    },
    "teams": {"east": ["li", "zhao"], "west": ["wang"]},
}


@pytest.fixture
def shop(book: kehu.Book) -> kehu.Book:
    for given, family, owner, email, phone in [
        ("Wei", "Zhang", "li", "zhang.wei@163.com", "+86 138 1234 8000"),
        ("Fang", "Liu", "wang", "liu.fang@qq.com", "+86 139 5555 1234"),
        ("Min", "Chen", "zhao", "chen.min@126.com", "+86 137 0000 4321"),
    ]:
        c = kehu.Customer.person(given, family, emails=[kehu.Email(email)], phones=[kehu.Phone(phone)],
                                 owner=owner, birth_date=dt.date(1990, 5, 1))
        saved = book.add(c, allow_duplicates=True).customer
        assert saved.id is not None
        book.relate(kehu.Note(customer_id=saved.id, at=dt.datetime.now(dt.timezone.utc), text=f"secret about {given}"))
    return book


def test_sales_sees_own_masked_everywhere(shop: kehu.Book) -> None:
    li = shop.find_by_email("zhang.wei@163.com")[0]
    wang = shop.find_by_email("liu.fang@qq.com")[0]
    assert li.id is not None and wang.id is not None
    g = shop.as_principal("li", ["sales"], POLICY)
    own = g.get(li.id)
    assert own.phones[0].number == "138****8000" and own.emails[0].address == "z***@163.com"
    assert own.birth_date is None and own.name.given == "Wei"
    with pytest.raises(kehu.NotFoundError):
        g.get(wang.id)
    # A condition on a masked field would read it one answer at a time: refused, under any name.
    for ask in (lambda: g.find_by_email("liu.fang@qq.com"), lambda: g.segment_members('phone starts_with "+86"'),
                lambda: g.explain_segment('邮箱 contains "163"', li.id or ""),
                lambda: g.segment_members("生日 < 1995-01-01")):
        with pytest.raises(kehu.PermissionDeniedError) as denied:
            ask()
        assert "filter on" in denied.value.operation
    members = g.segment_members("kind = person")
    assert [m.id for m in members] == [li.id]
    why = g.explain_segment('family_name = "Zhang"', li.id)
    assert "8613812348000" not in repr(why) and why.member
    # Another owner's customer typed again: li's check keeps to li's scope and says nothing of it;
    # the owner's check finds it.
    fang = {"name": {"given": "Fang", "family": "Liu"}, "emails": ["liu.fang@qq.com"]}
    assert g.check_duplicates(fang) == []
    assert shop.check_duplicates(fang)[0].id == wang.id
    assert "secret" not in repr(g.related(li.id))
    assert "8613812348000" not in repr(g.history(li.id))
    with pytest.raises(kehu.PermissionDeniedError) as e:
        g.export_text()
    assert e.value.operation == "export" and e.value.user == "li"
    assert shop.audit_trail()[-1].op == "denied"


def test_manager_export_and_no_rights(shop: kehu.Book) -> None:
    text = shop.as_principal("zhao", ["manager"], POLICY).export_text(format="jsonl")
    assert text.count("\n") == 2 and "zhang.wei@163.com" not in text and "liu" not in text.lower().replace("liu.fang", "")
    nobody = shop.as_principal("li", [], POLICY)
    li = shop.find_by_email("zhang.wei@163.com")[0]
    assert li.id is not None
    for call in (lambda: nobody.import_file("nothing.csv"), lambda: nobody.get(li.id or ""), lambda: nobody.find_by_tag("x"),
                 lambda: nobody.segment_members("city = 'x'"), lambda: nobody.history(li.id or ""),
                 lambda: nobody.check_duplicates(li), lambda: nobody.export_text(),
                 lambda: nobody.add({"name": {"full": "X"}, "emails": ["x@y.cn"]})):
        with pytest.raises(kehu.PermissionDeniedError):
            call()
    assert shop.count() == 3


def test_a_principals_book_is_a_book(shop: kehu.Book) -> None:
    g = shop.as_principal("li", ["sales"], POLICY)
    assert isinstance(g, kehu.Book)
    assert shop.principal is None
    assert g.principal == {"user": "li", "roles": ["sales"], "team": None}
    g.check("read")
    with pytest.raises(kehu.PermissionDeniedError):
        g.check("export")
    with pytest.raises(kehu.UsageError):
        g.check("fly")
    # Every method of the book goes through the policy: whole-book answers need scope all,
    # the owner's paths are refused, a principal cannot hand itself other roles.
    for call in (g.stats, lambda: g.audit_trail(), lambda: g.backup("x.bak"),
                 lambda: g.as_principal("li", ["manager"], POLICY)):
        with pytest.raises(kehu.PermissionDeniedError):
            call()
    assert [c.id for c in g.customers()] == [c.id for c in shop.customers() if c.owner == "li"]
    # Closing the principal's book leaves the owner's open; closing the owner's closes both.
    g.close()
    assert g.closed and not shop.closed
    with pytest.raises(kehu.BookClosedError):
        g.count()
    h = shop.as_principal("zhao", ["manager"], POLICY)
    shop.close()
    assert h.closed
    with pytest.raises(kehu.BookClosedError):
        h.count()
