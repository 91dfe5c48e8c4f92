"""Segments, RFM, value tiers and lifecycle stages over a small shop.

Run: python examples/python/segments.py
"""

from __future__ import annotations

import datetime as dt
import random

import kehu


def main() -> None:
    rng = random.Random(7)
    now = dt.datetime.now(dt.timezone.utc)
    with kehu.Book.memory() as book:
        cities = ["上海", "北京", "深圳", "Berlin"]
        report = book.add_many(
            {"external_id": f"C{i:03}", "name": {"full": f"客户{i}"}, "emails": [f"c{i}@example.cn"],
             "addresses": [{"city": rng.choice(cities)}]}
            for i in range(60)
        )
        print(report.rows, "rows:", report.imported, "imported")
        for c in book.customers():
            assert c.id is not None
            for _ in range(rng.randrange(0, 6)):
                days = rng.randrange(1, 400)
                amount = kehu.Money.of(rng.randrange(50, 3000), "CNY")
                book.relate(kehu.Purchase(customer_id=c.id, at=now - dt.timedelta(days=days), amount=amount))

        cond = 'city in ["上海", "北京"] and purchases.sum(within 1y) >= 2000'
        print(f"\n{cond}: {book.segment_count(cond)} customers")
        members = book.segment_members(cond)
        if members and members[0].id is not None:
            print(book.explain_segment(cond, members[0].id))

        book.save_segment("big_spenders", "purchases.sum(within 1y) >= 5000")
        print("\nsaved segments:", {s.name: len(book.saved_segment_members(s.name)) for s in book.saved_segments()})

        classification = book.classify(currency="CNY")
        top = sorted(classification.classes, key=lambda k: k.monetary, reverse=True)[:3]
        for k in top:
            print(f"  {book.get(k.id).display_name}: {k.monetary} {classification.currency}, tier {k.tier}, stage {k.stage}, RFM {k.rfm}")

        r = book.report()
        print("\nRFM groups:", r.rfm_groups)
        print("value tiers:", r.tiers)
        print("lifecycle stages:", r.stages)
        tagged, untagged = book.apply_tier_tag("VIP")
        print(f"VIP tag: {tagged} tagged, {untagged} untagged")


if __name__ == "__main__":
    main()
