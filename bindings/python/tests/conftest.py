"""Shared fixtures: books in memory and on disk, the sample files, a generated CSV."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Iterator

import pytest

import kehu

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def book() -> Iterator[kehu.Book]:
    with kehu.Book.memory() as b:
        yield b


@pytest.fixture
def file_book(tmp_path: Path) -> Iterator[kehu.Book]:
    with kehu.Book.open(tmp_path / "test.kehu") as b:
        yield b


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


GIVEN = ["Wei", "Li", "Anna", "Jonas", "Marie", "Lukas", "Emma", "Noah", "Mia", "Leon", "Sofia", "Paul", "Lena", "Felix", "Hannah"]
FAMILY = ["Zhang", "Wang", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart"]


def people_csv(path: Path, n: int, dup_share: float = 0.2, seed: int = 7) -> Path:
    """A CSV of n people, a share of them typo'd copies of others (their id ends in "d")."""
    rng = random.Random(seed)
    rows = ["id,given_name,family_name,email,phone,birth_date,city"]
    base = []
    for i in range(n):
        if base and rng.random() < dup_share:
            g, f, e, p, b, c = rng.choice(base)
            g = g[:-1] + "x" if len(g) > 3 else g
            rows.append(f"{i}d,{g},{f},{e},{p},{b},{c}")
            continue
        g, f = rng.choice(GIVEN), rng.choice(FAMILY)
        e = f"{g.lower()}.{i}@example.com"
        p = f"+49 30 {rng.randrange(1000000, 9999999)}"
        b = f"{rng.randrange(1940, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
        c = rng.choice(CITIES)
        base.append((g, f, e, p, b, c))
        rows.append(f"{i},{g},{f},{e},{p},{b},{c}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
