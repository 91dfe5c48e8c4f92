"""The peer for the validate + normalise benchmark: pydantic v2 with
email-validator and phonenumbers, doing the work kehu's standard rules do on
the same generated customers (trim and NFKC, e-mail syntax with the domain
lower-cased, phone parsed with region CN and validated and formatted E.164,
birth date parsed and not in the future).

    .venv/bin/python benches/pydantic_peer.py benches/data/cust_1m.csv --runs 3
"""
import argparse
import csv
import datetime as dt
import statistics
import sys
import time
import unicodedata
from typing import Optional

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, field_validator


def clean(v: Optional[str]) -> Optional[str]:
    if v is None:
        return None
    v = " ".join(unicodedata.normalize("NFKC", v).split())
    return v or None


class Customer(BaseModel):
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    date_of_birth: Optional[dt.date] = None
    street: Optional[str] = None
    city: Optional[str] = None
    postcode: Optional[str] = None
    company: Optional[str] = None

    @field_validator("first_name", "last_name", "street", "city", "postcode", "company", mode="before")
    @classmethod
    def _clean(cls, v):
        return clean(v)

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v):
        v = clean(v)
        if v is None:
            return None
        try:
            return validate_email(v, check_deliverability=False).normalized
        except EmailNotValidError as e:
            raise ValueError(str(e))

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v):
        v = clean(v)
        if v is None:
            return None
        try:
            n = phonenumbers.parse(v, "CN")
        except phonenumbers.NumberParseException:
            return v  # kept as entered, like kehu's warning
        if phonenumbers.is_valid_number(n):
            return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
        return v

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _dob(cls, v):
        return v or None

    @field_validator("date_of_birth")
    @classmethod
    def _not_future(cls, v):
        if v is not None and v > dt.date.today():
            raise ValueError("in the future")
        return v


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    with open(args.csv, newline="", encoding="utf-8") as f:
        rows = [{k: (v or None) for k, v in r.items() if k != "id"} for r in csv.DictReader(f)]
    if args.limit:
        rows = rows[: args.limit]
    times, rejected = [], 0
    for _ in range(args.runs):
        rejected = 0
        t = time.perf_counter()
        for r in rows:
            try:
                Customer.model_validate(r)
            except Exception:
                rejected += 1
        times.append(time.perf_counter() - t)
    n = len(rows)
    best, median = min(times), statistics.median(times)
    print(f"pydantic {n} rows: best {n / best:,.0f}/s  median {n / median:,.0f}/s  "
          f"(runs {len(times)}, rejected {rejected})")


if __name__ == "__main__":
    sys.exit(main())
