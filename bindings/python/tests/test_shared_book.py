"""A book on PostgreSQL from Python: opened by URL, shared by two handles (as
two processes would), an encrypted one whose server sees no personal value,
and a password that never shows. Needs KEHU_PG_URL (``bash scripts/pg.sh
start``); the test command sets KEHU_REQUIRE_PG=1 so a missing server fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

import kehu

URL = os.environ.get("KEHU_PG_URL")
if not URL:
    if os.environ.get("KEHU_REQUIRE_PG") == "1":
        raise RuntimeError("KEHU_REQUIRE_PG=1 but KEHU_PG_URL names no server")
    pytest.skip("no PostgreSQL server: KEHU_PG_URL is not set", allow_module_level=True)
PSQL = shutil.which("psql")


def psql(url: str, sql: str) -> str:
    assert PSQL, "psql is installed with the server"
    return subprocess.run([PSQL, url, "-Atc", sql], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def url() -> str:
    """A fresh database's URL."""
    assert URL is not None
    name = "kehu_py_" + uuid.uuid4().hex[:12]
    psql(URL, f"CREATE DATABASE {name}")
    return URL.rsplit("/", 1)[0] + "/" + name


def test_two_handles_share_one_book(url: str) -> None:
    a = kehu.Book.open(url)
    b = kehu.Book.open(url)
    saved = a.add({"name": {"full": "李娜"}, "emails": ["li.na@example.cn"], "tags": ["VIP"]})
    assert [c.id for c in b.find_by_email("LI.NA@example.cn")] == [saved.customer.id]
    changed = b.get(saved.customer.id)
    changed.job_title = "采购经理"
    b.update(changed)
    stale = saved.customer
    stale.job_title = "经理"
    with pytest.raises(kehu.ConflictError):
        a.update(stale)  # the later writer, on the version it read, conflicts
    assert a.get(saved.customer.id).job_title == "采购经理"
    assert a.count() == b.count() == 1
    assert a.segment_count('tags contains "VIP"') == 1
    # A's warm segment answers see what the other handle writes next.
    b.add({"name": {"full": "王芳"}, "emails": ["wang.fang@example.cn"], "tags": ["VIP"]})
    assert a.segment_count('tags contains "VIP"') == 2
    assert [c.display_name for c in a.find_by_tag("VIP")] == ["李娜", "王芳"]
    # and so does its duplicate check.
    assert a.check_duplicates({"name": {"full": "王芳"}, "emails": ["wang.fang@example.cn"]})
    assert a.verify_audit().intact


def test_an_encrypted_book_leaves_the_server_nothing_personal(url: str) -> None:
    canary = "Canary" + uuid.uuid4().hex[:10]
    book = kehu.Book.open(url, passphrase="correct horse battery staple")
    saved = book.add({"name": {"given": canary, "family": "Zhang"}, "emails": [f"{canary.lower()}@example.com"]})
    assert book.find_by_email(f"{canary.lower()}@example.com")[0].id == saved.customer.id
    assert kehu.Book.is_encrypted(url)
    with pytest.raises(kehu.EncryptionError):
        kehu.Book.open(url, passphrase="a wrong one")
    with pytest.raises(kehu.KehuError):
        kehu.Book.open(url)
    dump = psql(
        url,
        "SELECT string_agg(encode(b, 'hex'), '') FROM ("
        " SELECT body AS b FROM kehu_customers UNION ALL SELECT key FROM kehu_index"
        " UNION ALL SELECT body FROM kehu_changes UNION ALL SELECT body FROM kehu_docs"
        " UNION ALL SELECT body FROM kehu_audit UNION ALL SELECT body FROM kehu_key_sets) t",
    )
    assert len(dump) > 100
    for needle in (canary, canary.lower(), "Zhang"):
        assert needle.encode().hex() not in dump, needle


def test_the_password_in_a_url_never_shows(url: str) -> None:
    with_password = url.replace("://kehu@", "://kehu:s3cretpw@")
    book = kehu.Book.open(with_password)
    assert "s3cretpw" not in repr(book)
    book.add({"name": {"full": "王芳"}})
    assert kehu.Book.open(with_password).count() == 1


def test_the_change_feed_follows_both_handles_by_a_cursor(url: str) -> None:
    a = kehu.Book.open(url)
    b = kehu.Book.open(url)
    first = a.add({"name": {"full": "李娜"}, "emails": ["li.na@example.cn"]}).customer
    second = b.add({"name": {"full": "王芳"}, "emails": ["wang.fang@example.cn"]}).customer
    changed = a.get(second.id)
    changed.job_title = "采购经理"
    a.update(changed)
    feed = b.changes_since()
    assert [(e.customer_id, e.kind) for e in feed] == [
        (first.id, "created"),
        (second.id, "created"),
        (second.id, "updated"),
    ]
    assert feed[2].fields == ["job_title"] and feed[0].at.tzinfo is not None
    cursor = feed[1].seq
    assert [e.seq for e in a.changes_since(cursor)] == [feed[2].seq]
    b.forget(first.id)
    last = a.changes_since(feed[2].seq)
    assert [(e.customer_id, e.kind, e.actor) for e in last] == [(first.id, "erased", None)]


def test_a_waiting_consumer_is_woken_by_another_handle(url: str) -> None:
    import threading
    import time

    a = kehu.Book.open(url)
    b = kehu.Book.open(url)
    a.add({"name": {"full": "李娜"}})
    cursor = a.changes_since()[-1].seq
    got: list = []
    waiter = threading.Thread(target=lambda: got.extend(a.wait_for_changes(cursor, timeout=120)))
    started = time.monotonic()
    waiter.start()
    time.sleep(0.3)
    added = b.add({"name": {"full": "王芳"}}).customer
    waiter.join()
    assert [e.customer_id for e in got] == [added.id]
    assert time.monotonic() - started < 60, "woken by the commit, not the timeout"
    assert a.wait_for_changes(got[-1].seq, timeout=0.05) == []
