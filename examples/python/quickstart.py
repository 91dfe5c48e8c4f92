"""The kehu quickstart in Python: the same story as examples/quickstart.rs.

A book in a fresh file, entry rules at work, a dossier with its purchases
and interactions, its history, a duplicate caught at entry, a segment, and
the review queue. Run: python examples/python/quickstart.py
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import kehu

RULES = Path(__file__).resolve().parents[1] / "rules.toml"


def main() -> None:
    path = Path(tempfile.gettempdir()) / "kehu-quickstart-py.kehu"
    path.unlink(missing_ok=True)
    now = dt.datetime.now(dt.timezone.utc)

    with kehu.Book.open(path, RULES, actor="sales:li.na") as book:
        print(f"opened a new book at {path}\n")

        # 1. Customers as people type them: full-width digits, spaces, any case.
        wei = book.add(
            kehu.Customer(
                name=kehu.PersonName(full="张伟"),
                phones=[kehu.Phone("１３８ １２３４ ５６７８")],
                emails=[kehu.Email("Zhang.Wei@QQ.COM")],
                addresses=[kehu.Address(city="上海", postcode="200120", country="中国")],
                tags=["vip"],
                lifecycle_stage="active",
            )
        ).customer
        assert wei.id is not None
        print(f"added {wei.display_name} ({wei.id})")
        print(f"  phone  {wei.phones[0].raw:>22}  ->  {wei.phones[0].number}")
        print(f"  email  {wei.emails[0].raw:>22}  ->  {wei.emails[0].address}")

        # A plain dict works wherever a Customer does.
        olivia = book.add(
            {
                "name": {"given": "Olivia", "family": "Smith"},
                "emails": ["olivia.smith@example.co.uk"],
                "phones": ["020 7946 0018"],
                "addresses": [{"street": "10 Downing Street", "city": "London", "postcode": "sw1a2aa", "country": "United Kingdom"}],
            }
        ).customer
        print(f"added {olivia.display_name}: phone {olivia.phones[0].number}, postcode {olivia.addresses[0].postcode}")

        # 2. A warning that does not block.
        yunfan = book.add(kehu.Customer.organization_named("上海云帆贸易有限公司", phones=[kehu.Phone("021-6888 8888")], emails=[kehu.Email("purchasing@yunfan.example.cn")]))
        print(f"\nadded {yunfan.customer.display_name} with a warning:")
        for w in yunfan.report.warnings:
            print(f"  {w}")

        # 3. A rejected record: every problem at once, with its field path; nothing written.
        try:
            book.add(
                kehu.Customer.person(
                    "Max", "Mustermann",
                    emails=[kehu.Email("max.mustermann@@example")],
                    phones=[kehu.Phone("12")],
                    addresses=[kehu.Address(postcode="1011", country="DE")],
                    birth_date=dt.date(2031, 2, 28),
                    lifecycle_stage="new",
                )
            )
        except kehu.ValidationError as e:
            print(f"\nrejected a record ({len(e.violations)} problems), nothing written:")
            for v in e.violations:
                print(f"  {v.severity:<7} {v.path:<20} {v.code:<16} {v.message}")
        print(f"the book still holds {book.count()} customers")

        # 4. Related records, in time order; money is exact.
        book.relate(kehu.Purchase(customer_id=wei.id, at=now - dt.timedelta(days=3), amount=kehu.Money.of("1299.00", "CNY"), channel="tmall"))
        book.relate(kehu.Interaction(customer_id=wei.id, at=now - dt.timedelta(days=1), channel="phone", direction="inbound", summary="asked about delivery"))
        total = sum((p.amount.amount for p in book.purchases(wei.id)), start=kehu.Money(0, "CNY").amount)
        print(f"\n{wei.display_name}: {len(book.purchases(wei.id))} purchase(s), {total} CNY; last contact: {book.interactions(wei.id)[-1].summary}")

        # 5. An update, and the history it leaves.
        wei.job_title = "采购经理"
        book.update(wei)
        for change in book.history(wei.id):
            fields = ", ".join(f.path for f in change.fields)
            print(f"  {change.at:%Y-%m-%d %H:%M} {change.actor:<12} {change.op:<8} {fields}")

        # 6. The same customer typed again is caught at entry.
        try:
            book.add({"name": {"full": "张伟"}, "phones": ["+86 138-1234-5678"], "emails": ["zhang.wei@qq.com"]})
        except kehu.DuplicateError as e:
            top = e.candidates[0]
            print(f"\nduplicate refused: matches {top.id} with probability {top.probability:.3f}")

        # 7. A segment, and why someone is in it.
        cond = 'has tag "vip" and purchases.sum(within 30d) >= 1000'
        print(f"\nsegment {cond!r}: {[c.display_name for c in book.segment_members(cond)]}")
        print(book.explain_segment(cond, wei.id))

        # 8. The review queue: dossiers not confirmed within a period (here: at all yet).
        queue = book.stale(dt.timedelta(0))
        print(f"\nreview queue: {len(queue)} dossiers not verified; verifying {queue[0].display_name}")
        print(f"verified at {book.verify(queue[0]).verified_at:%Y-%m-%d %H:%M:%S} UTC")


if __name__ == "__main__":
    main()
