"""add_many, import, revert, export and pandas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import List, Tuple

import pytest

import kehu

from conftest import EXAMPLES


def test_add_many_reports_each_item(book: kehu.Book) -> None:
    seen: List[Tuple[int, object, int, object]] = []
    report = book.add_many(
        [
            kehu.Customer.person("Anna", "Weber", emails=[kehu.Email("anna@weber.de")]),
            {"name": {"given": "Jonas"}, "emails": ["jonas@@bad"]},
            {"姓名": "王芳", "手机": "+86 139 0000 1111", "生日": dt.date(1988, 3, 4)},
            {"given_name": "Lena", "family_name": "Koch", "email": "lena@koch.de"},
        ],
        progress=lambda rows, total, b, bt: seen.append((rows, total, b, bt)),
    )
    assert isinstance(report, kehu.ImportReport) and report.balances
    assert (report.rows, report.imported, report.rejected) == (4, 3, 1)
    assert report.problems[0].line == 2 and report.problems[0].code == "format.email"
    assert report.import_id is not None and seen and seen[-1][0] == 4
    wang = book.find_by_phone("+8613900001111")[0]
    assert wang.name.full == "王芳" and wang.birth_date == dt.date(1988, 3, 4)
    assert book.count() == 3


def test_add_many_dry_run_and_upsert(book: kehu.Book) -> None:
    rows = [{"external_id": str(i), "name": {"full": f"客户{i}"}, "emails": [f"c{i}@example.cn"]} for i in range(50)]
    dry = book.add_many(rows, dry_run=True)
    assert dry.dry_run and dry.imported == 50 and book.count() == 0
    assert book.add_many(rows).imported == 50
    again = book.add_many(rows)
    assert again.skipped == 50 and again.imported == 0
    changed = [dict(r, job_title="Buyer") for r in rows[:10]]
    up = book.add_many(changed, mode="upsert", keys=["external_id"])
    assert up.updated == 10 and book.find_by_external_id("3")[0].job_title == "Buyer"


def test_import_file_with_mapping_revert_and_journal(tmp_path: Path) -> None:
    with kehu.Book.open(tmp_path / "i.kehu", EXAMPLES / "rules.toml") as book:
        report = book.import_file(
            EXAMPLES / "data" / "customers.csv",
            mapping={"会员等级": "custom.member_level"},
            rejects=tmp_path / "rejects.csv",
        )
        assert report.balances and report.imported > 0 and report.rejected > 0
        assert report.rejects_file and Path(report.rejects_file).exists()
        assert {c.column: c.field for c in report.columns}["会员等级"] == "custom.member_level"
        imports = book.imports()
        assert [i.id for i in imports] == [report.import_id]
        assert book.import_summary(imports[0].id).imported == report.imported
        purchases = book.import_file(EXAMPLES / "data" / "purchases.csv", kind="purchases", currency="CNY")
        assert purchases.imported > 0
        undo = book.revert_import(imports[0].id)
        assert undo.removed == report.imported and book.count() == 0
        with pytest.raises(kehu.ConflictError):
            book.revert_import(imports[0].id)
        with pytest.raises(kehu.NotFoundError):
            book.import_summary("01a20c36-5f0a-70d9-ae19-6f32f9f8d7d9")
        with pytest.raises(kehu.UsageError, match="unknown mode"):
            book.import_file(EXAMPLES / "data" / "customers.csv", mode="merge")
        with pytest.raises(kehu.InputError):
            book.import_file(tmp_path / "nope.csv")


def test_export_round_trips_and_filters(book: kehu.Book, tmp_path: Path) -> None:
    book.add(kehu.Customer.person("Anna", "Weber", emails=[kehu.Email("anna@weber.de")], tags=["VIP"]))
    book.add(kehu.Customer.person("Paul", "Koch", emails=[kehu.Email("paul@koch.de")]))
    assert book.export(tmp_path / "all.jsonl", format="jsonl") == 2
    assert book.export_text(tag="VIP").count("\n") == 2  # header + one row
    assert "anna@weber.de" in book.export_text(segment='has tag "VIP"')
    assert book.export_text(segment='family_name = "Nobody"').count("\n") == 1  # the header alone
    with kehu.Book.memory() as other:
        assert other.import_file(tmp_path / "all.jsonl").imported == 2
        assert sorted(c.display_name for c in other.customers()) == ["Anna Weber", "Paul Koch"]


def test_to_pandas(book: kehu.Book) -> None:
    pd = pytest.importorskip("pandas")
    book.add(kehu.Customer.person("Anna", "Weber", emails=[kehu.Email("anna@weber.de")]))
    pytest.importorskip("pyarrow")
    df = book.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == 1
    assert df.loc[0, "emails"] == ["anna@weber.de"] and df.loc[0, "given_name"] == "Anna"


def _people(n: int, upper: bool = False) -> List[dict]:
    rows = []
    for i in range(n):
        email = f"person{i}@example.cn"
        rows.append({
            "姓名": f"客户{i:04d}",
            "邮箱": email.upper() if upper else email,
            "手机": f"+86 139 {1000 + i:04d} {2000 + i:04d}" if not upper else f"139-{1000 + i:04d}-{2000 + i:04d}",
            "生日": dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
        })
    return rows


def test_add_many_checks_every_row_for_duplicates(book: kehu.Book) -> None:
    first = book.add_many(_people(200))
    assert first.imported == 200 and first.duplicates == 0
    again = book.add_many(_people(200, upper=True))
    assert (again.imported, again.duplicates, again.skipped) == (0, 200, 200)
    assert len(again.duplicate_rows) == 200
    row = again.duplicate_rows[0]
    assert row.outcome == "skipped" and row.candidates[0].action == "block"
    assert row.candidates[0].id == book.find_by_email("person0@example.cn")[0].id
    assert any(p.code == "duplicate" and "sure duplicate" in p.message for p in again.problems)
    merged = book.add_many([dict(r, 公司="Acme") for r in _people(10, upper=True)], on_duplicate="merge")
    assert merged.merged == 10 and book.count() == 200
    assert book.find_by_email("person3@example.cn")[0].company == "Acme"
    allowed = book.add_many(_people(5, upper=True), on_duplicate="allow")
    assert allowed.imported == 5 and book.count() == 205
    with pytest.raises(kehu.UsageError, match="duplicate policy"):
        book.add_many(_people(1), on_duplicate="ignore")


def test_a_chinese_crm_file_needs_no_region_set(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text("姓名,手机,城市,邮箱\n张伟,13800138000,北京,zhang.wei@163.com\n"
                    "Hans Müller,030 901820,Berlin,hans@example.de\n", encoding="utf-8")
    book = kehu.Book.open(tmp_path / "crm.kehu")
    report = book.import_file(path)
    assert report.imported == 2
    numbers = sorted(p.number for c in book.customers() for p in c.phones)
    assert numbers == ["+4930901820", "+8613800138000"]
    saved = book.add({"name": {"full": "欧阳娜娜"}, "phones": ["139-1234-5678"]})
    assert saved.report.region == kehu.ImpliedRegion(region="CN", clue="number")
    assert saved.customer.name == kehu.PersonName(given="娜娜", family="欧阳", full="欧阳娜娜", split="certain")
    assert book.validate({"name": {"full": "A"}, "phones": ["+86 139 1234 5678"]}).region is None
    book.close()


def test_resident_ids_and_credit_codes_are_checked_kept_and_found(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("姓名,手机,身份证号,生日,企业名称,统一社会信用代码\n"
                    "张伟,13800138000,11010519491231002x,1949-12-31,,\n"
                    "李娜,13912345678,440305199003071237,,,\n"
                    "陈静,15212345678,310115198511204566,1985-11-21,,\n"
                    ",13612345678,,,前海科技有限公司,91350100M000100Y43\n", encoding="utf-8")
    book = kehu.Book.open(tmp_path / "ids.kehu")
    report = book.import_file(path)
    ids = [(p.line, p.code, p.severity, p.column) for p in report.problems if p.code.startswith("id.")]
    assert ids == [(3, "id.check", "error", "身份证号"), (4, "id.birth_date", "warning", "身份证号")]
    assert (report.imported, report.rejected) == (3, 1)
    [zhang] = book.find_by_resident_id("11010519491231002X")
    assert zhang.resident_id == "11010519491231002X" and zhang.name.family == "张"
    [firm] = book.find_by("税号", "91350100m000100y43")
    assert firm.kind == "organization" and firm.credit_code == "91350100M000100Y43"
    assert book.find_by_credit_code("91350100M000100Y43")[0].id == firm.id
    with pytest.raises(kehu.UsageError, match="no index"):
        book.find_by("job_title", "x")
    bad = book.validate({"name": {"full": "王芳"}, "resident_id": "110105199002301231"})
    assert [(v.path, v.code) for v in bad.violations] == [("resident_id", "id.date")]
    # A policy's default shows them masked; a role naming the field shows it whole.
    policy = {"roles": {"sales": {"operations": ["read"], "scope": "all", "default": "visible"},
                        "kyc": {"operations": ["read"], "scope": "all", "default": "visible",
                                "fields": {"resident_id": "visible"}}}}
    assert book.as_principal("li", ["sales"], policy).get(zhang.id or "").resident_id == "110***********002X"
    assert book.as_principal("li", ["kyc"], policy).get(zhang.id or "").resident_id == "11010519491231002X"
    book.close()
