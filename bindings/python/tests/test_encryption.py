"""Encrypted books and erasure from Python."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import kehu


def _customer(i: int) -> kehu.Customer:
    return kehu.Customer.person(
        f"Xinyue{i}", f"Dongfang{i}", emails=[kehu.Email(f"xinyue{i}.dongfang@example.cn")],
        phones=[kehu.Phone(f"+86 137 0000 {1000 + i}")], external_id=f"P-{i:03}",
    )


def test_passphrase_book_seals_everything_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "e.kehu"
    with kehu.Book.open(path, passphrase="ein langer satz") as book:
        ids = [book.add(_customer(i), allow_duplicates=True).customer.id for i in range(5)]
        assert book.find_by_email("xinyue2.dongfang@example.cn")[0].id == ids[2]
        assert book.find_by_external_id("P-003")[0].id == ids[3]
        assert book.segment_count('given_name starts_with "Xinyue"') == 5
    raw = path.read_bytes()
    for needle in ["Xinyue1", "Dongfang1", "xinyue1.dongfang@example.cn", "+8613700001001", "P-001"]:
        assert needle.encode() not in raw, needle
    assert kehu.Book.is_encrypted(path)
    with pytest.raises(kehu.EncryptionError, match="wrong key"):
        kehu.Book.open(path, passphrase="falsch")
    with pytest.raises(kehu.EncryptionError, match="encrypted"):
        kehu.Book.open(path)
    with kehu.Book.open(path, passphrase="ein langer satz") as again:
        assert again.count() == 5


def test_key_file_book(tmp_path: Path) -> None:
    key = tmp_path / "b.key"
    kehu.Book.create_key_file(key)
    with pytest.raises(kehu.EncryptionError):
        kehu.Book.create_key_file(key)  # never overwritten
    with kehu.Book.open(tmp_path / "k.kehu", key_file=key) as book:
        book.add(_customer(1))
    with pytest.raises(kehu.EncryptionError):
        kehu.Book.open(tmp_path / "k.kehu", key_file=tmp_path / "missing.key")
    with pytest.raises(TypeError, match="not both"):
        kehu.Book.open(tmp_path / "k.kehu", key_file=key, passphrase="x")
    with kehu.Book.open(tmp_path / "plain.kehu") as plain:
        plain.add(_customer(2))
    with pytest.raises(kehu.EncryptionError, match="not encrypted"):
        kehu.Book.open(tmp_path / "plain.kehu", key_file=key)


def test_forget_erases_and_keeps_only_the_ledger(tmp_path: Path) -> None:
    with kehu.Book.open(tmp_path / "f.kehu", passphrase="pw for test", actor="dpo") as book:
        a = book.add(_customer(1)).customer
        b = book.add(_customer(2), allow_duplicates=True).customer
        assert a.id is not None and b.id is not None
        e = book.forget(a)
        assert isinstance(e, kehu.Erasure) and e.id == a.id and e.actor == "dpo"
        with pytest.raises(kehu.NotFoundError):
            book.get(a.id)
        assert book.find_by_email("xinyue1.dongfang@example.cn") == []
        assert book.history(a.id) == []
        assert [x.id for x in book.erasures()] == [a.id]
        assert book.get(b.id).external_id == "P-002"


def test_audit_trail_records_without_values(book: kehu.Book) -> None:
    c = book.add(_customer(4)).customer
    c.job_title = "Einkauf"
    book.update(c)
    book.export_text()
    assert c.id is not None
    book.forget(c.id)
    trail = book.audit_trail()
    assert [e.op for e in trail] == ["create", "update", "export", "forget"]
    assert trail[1].fields == ["job_title"] and trail[1].target == c.id
    assert trail[1].prev == trail[0].hash and len(trail[0].hash) == 64
    assert "Xinyue4" not in repr(trail) and "Einkauf" not in repr(trail)
    check = book.verify_audit()
    assert check.intact and check.entries == 4
    assert book.audit_trail(3)[0].seq == 3


def test_backup_and_restore_with_erasures_reapplied(tmp_path: Path) -> None:
    path, bak = tmp_path / "r.kehu", tmp_path / "r.bak"
    with kehu.Book.open(path, passphrase="pw for backups") as book:
        a = book.add(_customer(1)).customer
        b = book.add(_customer(2), allow_duplicates=True).customer
        s = book.backup(bak)
        assert isinstance(s, kehu.BackupSummary) and s.keyed and s.entries > 5
        assert a.id is not None and b.id is not None
        book.forget(a.id)
    assert b"Xinyue1" not in bak.read_bytes()
    with pytest.raises(kehu.EncryptionError):
        kehu.Book.restore(bak, path, passphrase="wrong")
    data = bak.read_bytes()
    (tmp_path / "cut.bak").write_bytes(data[: len(data) // 2])
    with pytest.raises(kehu.StorageError, match="checksum|truncated"):
        kehu.Book.restore(tmp_path / "cut.bak", path, passphrase="pw for backups")
    with kehu.Book.restore(bak, path, passphrase="pw for backups") as restored:
        assert restored.count() == 1
        with pytest.raises(kehu.NotFoundError):
            restored.get(a.id)
        assert restored.get(b.id).external_id == "P-002"


def test_subject_export(book: kehu.Book) -> None:
    c = book.add(_customer(5)).customer
    other = book.add(_customer(6), allow_duplicates=True).customer
    assert c.id is not None and other.id is not None
    book.relate(kehu.Note(customer_id=c.id, at=dt.datetime.now(dt.timezone.utc), text="prefers calls"))
    doc = book.subject_export(c.id)
    assert doc["customer"]["id"] == c.id and doc["related"][0]["note"]["text"] == "prefers calls"
    assert "xinyue6" not in json.dumps(doc)
    assert book.audit_trail()[-1].op == "subject_export"


def test_rotate_key(tmp_path: Path) -> None:
    path = tmp_path / "rot.kehu"
    with kehu.Book.open(path, passphrase="old one") as book:
        cid = book.add(_customer(7)).customer.id
    assert kehu.Book.rotate_key(path, old_passphrase="old one", new_passphrase="new one") == 1
    with pytest.raises(kehu.EncryptionError):
        kehu.Book.open(path, passphrase="old one")
    with kehu.Book.open(path, passphrase="new one") as book:
        assert cid is not None and book.get(cid).external_id == "P-007"
    with pytest.raises(TypeError, match="new key"):
        kehu.Book.rotate_key(path, old_passphrase="new one")


def test_consent_ledger(book: kehu.Book) -> None:
    c = book.add(_customer(8)).customer
    assert c.id is not None
    now = dt.datetime.now(dt.timezone.utc)
    book.relate(kehu.Consent(customer_id=c.id, at=now - dt.timedelta(days=3), purpose="marketing", status="granted"))
    book.relate(kehu.Consent(customer_id=c.id, at=now - dt.timedelta(days=1), purpose="marketing", status="withdrawn", channel="sms"))
    book.relate(kehu.Consent(customer_id=c.id, at=now, purpose="health", status="granted", separate=True))
    assert book.has_consent(c.id, "marketing", "email") and not book.has_consent(c.id, "marketing", "sms")
    assert [x.separate for x in book.consents(c.id)] == [False, False, True]
    assert "xinyue8" in book.export_text(consent="marketing:email")
    assert book.segment_count('has consent "marketing" via "email"') == 1
    assert book.segment_count('has consent "marketing" via "sms"') == 0
    assert book.export_text(consent="marketing:sms").count("\n") == 1  # the header only


def test_forget_with_compaction_leaves_nothing_of_the_customer_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "compact.kehu"
    book = kehu.Book.open(path)
    keep = book.add(kehu.Customer.person("Kept", "Person", emails=[kehu.Email("kept.zq@example.com")])).customer
    gone = book.add(kehu.Customer.person("Zqgone", "Canary", emails=[kehu.Email("zqgone.canary@example.com")])).customer
    assert keep.id and gone.id
    book.forget(gone.id)
    assert b"zqgone.canary" in path.read_bytes(), "the test bites: freed pages keep the value"
    book.forget(gone.id, compact=True)
    assert b"zqgone.canary" not in path.read_bytes()
    summary = book.compact()
    assert isinstance(summary, kehu.CompactSummary) and summary.entries > 0 and summary.bytes_after > 0
    assert book.get(keep.id).emails[0].address == "kept.zq@example.com"
    book.close()


def test_forget_follows_merges(tmp_path: Path) -> None:
    path = tmp_path / "merged.kehu"
    book = kehu.Book.open(path)
    a = book.add(kehu.Customer.person("Zqa", "Canary", emails=[kehu.Email("zqa.canary@example.com")])).customer
    b = book.add(kehu.Customer.person("Zqb", "Canary", emails=[kehu.Email("zqb.canary@example.com")]),
                 allow_duplicates=True).customer
    assert a.id and b.id
    book.merge([a.id, b.id])
    with pytest.raises(kehu.UsageError, match=a.id):
        book.forget(b.id)
    book.forget(a.id, compact=True)
    assert {e.id for e in book.erasures()} == {a.id, b.id}
    data = path.read_bytes()
    assert b"zqa.canary" not in data and b"zqb.canary" not in data
    book.close()
