"""Duplicates: at entry, in a book, in CSV files and DataFrames; merge and unmerge."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import kehu

from conftest import people_csv


def _wei(**extra: object) -> kehu.Customer:
    return kehu.Customer.person(
        "Wei", "Zhang", emails=[kehu.Email("wei.zhang@example.com")], phones=[kehu.Phone("+86 138 1234 5678")], **extra  # type: ignore[arg-type]
    )


def test_entry_check_blocks_a_sure_duplicate(book: kehu.Book) -> None:
    first = book.add(_wei()).customer
    candidates = book.check_duplicates(_wei())
    assert candidates[0].id == first.id and candidates[0].action == "block"
    assert candidates[0].probability > 0.99
    assert isinstance(candidates[0].explanation, kehu.MatchExplanation)
    assert any(f.field == "emails" and f.level == "exact" for f in candidates[0].explanation.fields)
    with pytest.raises(kehu.DuplicateError) as e:
        book.add(_wei())
    assert e.value.candidates[0].id == first.id and "likely duplicate" in str(e.value)
    again = book.add(_wei(), allow_duplicates=True)
    assert again.customer.id != first.id and book.count() == 2
    assert book.check_duplicates(kehu.Customer.person("Anna", "Schmidt", emails=[kehu.Email("anna@example.de")])) == []


def test_book_dedupe_explain_merge_unmerge(book: kehu.Book) -> None:
    a = book.add(_wei(company="Acme")).customer
    b = book.add(_wei(job_title="Buyer", tags=["VIP"]), allow_duplicates=True).customer
    c = book.add(kehu.Customer.person("Anna", "Schmidt", emails=[kehu.Email("anna@example.de")])).customer
    result = book.dedupe()
    assert result.clusters == [sorted([a.id, b.id])] or sorted(result.clusters[0]) == sorted([a.id, b.id])
    assert result.pairs[0].clustered and result.pairs[0].decision == "match"
    assert result.stats["records"] == 3
    why = book.explain_duplicate(a.id, b.id)  # type: ignore[arg-type]
    assert why.probability > 0.9 and "email" in str(why)

    dry = book.merge([a.id, b.id], {"fields": {"job_title": "most_recent"}}, dry_run=True)  # type: ignore[list-item]
    assert dry.receipt is None and book.count() == 3
    merged = book.merge([a.id, b.id])  # type: ignore[list-item]
    assert merged.customer.id == a.id and merged.customer.company == "Acme" and merged.customer.job_title == "Buyer"
    assert "VIP" in merged.customer.tags and book.count() == 2
    assert merged.receipt is not None and [r.id for r in book.merges()] == [merged.receipt.id]
    assert book.merge_receipt(merged.receipt.id).survivor == a.id
    restored = book.unmerge(merged.receipt)
    assert sorted(x.id for x in restored) == sorted([a.id, b.id]) and book.count() == 3  # type: ignore[type-var]
    assert book.merge_receipt(merged.receipt.id).unmerged
    assert book.index_duplicates() == 3
    with pytest.raises(kehu.UsageError):
        book.merge([a.id, c.id], {"default": "no_such_rule"})  # type: ignore[list-item]


def test_dedupe_csv_file_bytes_link_and_explain(tmp_path: Path) -> None:
    path = people_csv(tmp_path / "people.csv", 400)
    result = kehu.dedupe(path)
    assert result.stats["records"] == 400
    assert ("email", "email") in result.fields
    pairs = {(p.id_l, p.id_r) for p in result.matches}
    dups = [line.split(",")[0] for line in path.read_text().splitlines()[1:] if line.split(",")[0].endswith("d")]
    assert len(dups) > 40
    clustered = result.cluster_of()
    found = sum(1 for d in dups if d in clustered)
    assert found >= 0.9 * len(dups), f"{found} of {len(dups)} typo'd copies clustered"
    assert pairs
    id_l, id_r = next(iter(pairs))
    assert result.explain(id_l, id_r).probability >= 0.9
    with pytest.raises(kehu.UsageError):
        result.explain("no-such-id", id_r)
    same = kehu.dedupe(path.read_bytes())
    assert same.clusters == result.clusters
    assert result.cluster_of()[id_l] == result.cluster_of()[id_r]

    lines = path.read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(lines[:201]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([lines[0]] + lines[201:]) + "\n")
    linked = kehu.dedupe(tmp_path / "a.csv", link=tmp_path / "b.csv")
    assert linked.matches and all(int(p.id_l.rstrip("d")) < 200 <= int(p.id_r.rstrip("d")) or int(p.id_r.rstrip("d")) < 200 <= int(p.id_l.rstrip("d")) for p in linked.matches)

    strict = kehu.dedupe(path, threshold=0.999999, id_column="id")
    assert len(strict.matches) <= len(result.matches)
    with pytest.raises(ValueError):
        kehu.dedupe(path, threshold=2.0)
    with pytest.raises(kehu.InputError, match="empty"):
        kehu.dedupe(b"")


def test_dedupe_frame(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(people_csv(tmp_path / "p.csv", 300), dtype=str)
    result = kehu.dedupe_frame(df, id_column="id")
    assert result.stats["records"] == 300 and result.clusters
    with pytest.raises(TypeError):
        kehu.dedupe_frame([1, 2, 3])


def test_long_dedupe_releases_the_gil(tmp_path: Path) -> None:
    path = people_csv(tmp_path / "big.csv", 30_000)
    done = threading.Event()
    ticks = 0
    out: list = []

    def work() -> None:
        out.append(kehu.dedupe(path))
        done.set()

    t = threading.Thread(target=work)
    start = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0)
    t.join()
    took = time.perf_counter() - start
    assert out[0].stats["records"] == 30_000
    # With the GIL held for the whole run, this loop would stall for all of it.
    assert took > 0.05
    assert ticks > 1000, f"only {ticks} iterations in {took:.2f} s: the GIL was held"
