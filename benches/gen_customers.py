#!/usr/bin/env python3
"""Deterministic synthetic customer-record generator with ground-truth clusters.

Usage (needs Faker: `python3 -m venv .venv && .venv/bin/pip install faker==40.54.0`):
  .venv/bin/python benches/gen_customers.py N OUT.csv [--seed 42] [--dup-frac 0.2]
        [--activity DIR]

With --activity DIR it also writes DIR/purchases.csv and DIR/interactions.csv: about five
purchases and three interactions per customer id on average (skewed: many customers have
none, a few have many), dated over the last three years before 2026-01-01, for segment and
RFM benchmarks. Same seed, same files.

Output columns:
  id, first_name, last_name, email, phone, date_of_birth, street, city, postcode, company
The ground truth goes to a separate file beside it, OUT.truth.csv (id, cluster_id): records with
the same cluster_id are the same person. Score a dedupe by the pairs inside each cluster.

Design
  * ~(1-dup_frac)*N distinct "entities" (people).  Locale mix: en_US 50%, zh_CN 20%, en_GB 15%,
    de_DE 15%.  Names/streets/cities/companies come from Faker, drawn once into per-locale pools
    (Faker is ~30-50 us per call, far too slow to call per record at 1M), then sampled.  Faker's
    own frequency weights are preserved by the pool draw, so common names collide as in real data.
  * ~dup_frac*N records are noisy duplicates of an entity (cluster sizes 2..4; 70% of duplicated
    entities get 1 dup, 20% get 2, 10% get 3).  Each duplicate gets 1-4 noise operations:
      - typo: substitute / delete / insert a character, transpose adjacent letters
      - swap first_name <-> last_name
      - nickname variant (William->Bill, Katherine->Kate, ...) for English names
      - missing fields (blank)
      - phone re-formatting ('+86 138 0013 8000' vs '13800138000', '(555) 123-4567' vs '+1 555...')
      - email case change (John.Smith@Gmail.com) or a new email
      - date of birth: day/month swap, one digit typo, or missing
      - street abbreviation (Street->St), postcode typo, company suffix change
      - moved house: new street/city/postcode (hard case)
  * Hard negatives: 3% of entities are "household members" of another entity: same last_name,
    street, city, postcode, often same (landline) phone, different first name / DOB / email.
  * Deterministic for a given (N, seed, Faker version).  Records are shuffled; ids are 1..N.
"""
import argparse
import csv
import random
import sys
import time

from faker import Faker

LOCALES = [("en_US", 0.50), ("zh_CN", 0.20), ("en_GB", 0.15), ("de_DE", 0.15)]

NICKNAMES = {
    "William": ["Bill", "Will", "Billy"], "Robert": ["Bob", "Rob", "Bobby"],
    "Elizabeth": ["Liz", "Beth", "Lizzie"], "Katherine": ["Kate", "Katie", "Kathy"],
    "Catherine": ["Cathy", "Kate"], "James": ["Jim", "Jimmy", "Jamie"],
    "Michael": ["Mike", "Mikey"], "Richard": ["Rick", "Dick", "Rich"],
    "Margaret": ["Maggie", "Peggy", "Meg"], "Jennifer": ["Jen", "Jenny"],
    "Christopher": ["Chris", "Kit"], "Matthew": ["Matt"], "Joseph": ["Joe", "Joey"],
    "Thomas": ["Tom", "Tommy"], "Daniel": ["Dan", "Danny"], "Anthony": ["Tony"],
    "Steven": ["Steve"], "Stephen": ["Steve"], "Andrew": ["Andy", "Drew"],
    "Jonathan": ["Jon"], "Nicholas": ["Nick"], "Benjamin": ["Ben"], "Samuel": ["Sam"],
    "Alexander": ["Alex"], "Patricia": ["Pat", "Trish"], "Susan": ["Sue"],
    "Deborah": ["Debbie", "Deb"], "Rebecca": ["Becky"], "Jessica": ["Jess"],
    "Timothy": ["Tim"], "Edward": ["Ed", "Ted", "Eddie"], "Charles": ["Charlie", "Chuck"],
    "Kenneth": ["Ken"], "Ronald": ["Ron"], "Donald": ["Don"], "Gregory": ["Greg"],
    "Joshua": ["Josh"], "Zachary": ["Zach"], "Victoria": ["Vicky", "Tori"],
    "Samantha": ["Sam"], "Abigail": ["Abby"], "Jacqueline": ["Jackie"],
    "Christina": ["Chris", "Tina"], "Christine": ["Chris"], "Alexandra": ["Alex"],
    "Nathan": ["Nate"], "Jacob": ["Jake"], "Raymond": ["Ray"], "Lawrence": ["Larry"],
    "Gerald": ["Jerry"], "Peter": ["Pete"], "Frederick": ["Fred"], "Douglas": ["Doug"],
    "Phillip": ["Phil"], "Philip": ["Phil"], "Jeffrey": ["Jeff"], "David": ["Dave"],
    "Kimberly": ["Kim"], "Pamela": ["Pam"], "Cynthia": ["Cindy"], "Dorothy": ["Dot"],
    "Barbara": ["Barb"], "Theresa": ["Terry"], "Judith": ["Judy"], "Sandra": ["Sandy"],
    "Johann": ["Hans"], "Johannes": ["Hannes", "Hans"], "Wolfgang": ["Wolf"],
    "Friedrich": ["Fritz"], "Katharina": ["Kathi"], "Franziska": ["Franzi"],
}

STREET_ABBR = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"),
               ("Lane", "Ln"), ("Court", "Ct"), ("Boulevard", "Blvd"), ("Place", "Pl"),
               ("Apt.", "#"), ("Suite", "Ste"), ("straße", "str."), ("Straße", "Str."),
               ("North", "N"), ("South", "S"), ("East", "E"), ("West", "W"), ("路", "道")]

COMPANY_SUFFIX = [(" Inc", ""), (" LLC", ""), (" Ltd", ""), (" PLC", ""), (" GmbH", ""),
                  (" and Sons", " & Sons"), ("有限公司", ""), (", ", " "), (" Group", "")]

EMAIL_DOMAINS = {"en_US": ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"],
                 "en_GB": ["gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "outlook.com"],
                 "de_DE": ["gmail.com", "web.de", "gmx.de", "t-online.de", "yahoo.de"],
                 "zh_CN": ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "foxmail.com"]}

ALPHA = "abcdefghijklmnopqrstuvwxyz"


def build_pools(seed, n_entities):
    """Draw per-locale value pools from Faker once (pool size scales with N, capped)."""
    pools = {}
    for li, (loc, share) in enumerate(LOCALES):
        fk = Faker(loc)
        fk.seed_instance(seed * 100 + li)
        k = max(200, min(int(n_entities * share * 0.05), 6000))  # 5% of entities, <= 6000
        p = {
            "first": [fk.first_name() for _ in range(k)],
            "last": [fk.last_name() for _ in range(k)],
            "street": [fk.street_address().replace("\n", " ") for _ in range(k * 2)],
            "cityzip": [(fk.city(), fk.postcode()) for _ in range(max(100, k // 3))],
            "company": [fk.company().replace("\n", " ") for _ in range(k)],
        }
        if loc == "zh_CN":
            p["first_roman"] = [fk.first_romanized_name() for _ in range(k)]
            p["last_roman"] = [fk.last_romanized_name() for _ in range(k)]
        pools[loc] = p
    return pools


# ---------------------------------------------------------------- phone formats
def phone_digits(rng, loc):
    if loc == "zh_CN":
        return rng.choice(["13", "15", "18", "17", "19"]) + str(rng.randint(0, 9)) + "".join(
            str(rng.randint(0, 9)) for _ in range(8))  # 11 digits
    if loc == "en_US":
        return str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(9))
    if loc == "en_GB":
        return "7" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return "1" + str(rng.randint(5, 7)) + "".join(str(rng.randint(0, 9)) for _ in range(9))  # de mobile


def fmt_phone(rng, loc, d, style=None):
    styles = {
        "zh_CN": [lambda d: d, lambda d: f"+86 {d[:3]} {d[3:7]} {d[7:]}", lambda d: f"+86{d}",
                  lambda d: f"{d[:3]}-{d[3:7]}-{d[7:]}", lambda d: f"0086 {d}"],
        "en_US": [lambda d: d, lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}", lambda d: f"{d[:3]}-{d[3:6]}-{d[6:]}",
                  lambda d: f"+1 {d[:3]} {d[3:6]} {d[6:]}", lambda d: f"+1-{d[:3]}-{d[3:6]}-{d[6:]}",
                  lambda d: f"{d[:3]}.{d[3:6]}.{d[6:]}"],
        "en_GB": [lambda d: "0" + d, lambda d: f"+44 {d[:4]} {d[4:]}", lambda d: f"0{d[:4]} {d[4:]}",
                  lambda d: f"+44{d}"],
        "de_DE": [lambda d: "0" + d, lambda d: f"+49 {d[:3]} {d[3:]}", lambda d: f"0{d[:3]}/{d[3:]}",
                  lambda d: f"+49{d}"],
    }[loc]
    if style is None:
        style = rng.randrange(len(styles))
    return styles[style % len(styles)](d), style


# ---------------------------------------------------------------- string noise
def typo(rng, s):
    if not s:
        return s
    chars = list(s)
    op = rng.random()
    i = rng.randrange(len(chars))
    ascii_word = all(c.isascii() for c in s)
    if op < 0.3 and len(chars) > 1:  # transpose adjacent
        j = min(i + 1, len(chars) - 1)
        if j == i:
            i -= 1
        chars[i], chars[j] = chars[j], chars[i]
    elif op < 0.55 and len(chars) > 2:  # delete
        del chars[i]
    elif op < 0.8:  # substitute
        chars[i] = rng.choice(ALPHA) if ascii_word else rng.choice(s)
        if chars[i].isalpha() and s[i].isupper():
            chars[i] = chars[i].upper()
    else:  # insert / double letter
        chars.insert(i, chars[i] if rng.random() < 0.5 or not ascii_word else rng.choice(ALPHA))
    return "".join(chars)


def ascii_slug(s):
    out = []
    for c in s.lower():
        if c in "äàá":
            out.append("a")
        elif c in "öó":
            out.append("o")
        elif c in "üú":
            out.append("u")
        elif c == "ß":
            out.append("ss")
        elif c.isascii() and c.isalnum():
            out.append(c)
    return "".join(out)


def make_email(rng, loc, first, last, first_roman=None, last_roman=None):
    f = ascii_slug(first_roman or first)
    l = ascii_slug(last_roman or last)
    if not f:
        f = "user"
    if not l:
        l = "x"
    pat = rng.random()
    if pat < 0.3:
        user = f"{f}.{l}"
    elif pat < 0.5:
        user = f"{f[0]}{l}"
    elif pat < 0.7:
        user = f"{f}{l}{rng.randint(1, 99)}"
    elif pat < 0.85:
        user = f"{f}_{l}{rng.randint(1950, 2005)}"
    else:
        user = f"{l}{f}{rng.randint(100, 9999)}"
    return f"{user}@{rng.choice(EMAIL_DOMAINS[loc])}"


def make_entity(rng, pools, loc):
    p = pools[loc]
    first = rng.choice(p["first"])
    last = rng.choice(p["last"])
    fr = lr = None
    if loc == "zh_CN":
        fr, lr = rng.choice(p["first_roman"]), rng.choice(p["last_roman"])
        if rng.random() < 0.3:  # some Chinese customers entered in pinyin
            first, last = fr, lr
    city, postcode = rng.choice(p["cityzip"])
    d = phone_digits(rng, loc)
    phone, pstyle = fmt_phone(rng, loc, d)
    y = rng.randint(1940, 2006); m = rng.randint(1, 12); dd = rng.randint(1, 28)
    return {
        "loc": loc, "first_name": first, "last_name": last,
        "email": make_email(rng, loc, first, last, fr, lr),
        "phone": phone, "_pd": d, "_ps": pstyle,
        "date_of_birth": f"{y:04d}-{m:02d}-{dd:02d}",
        "street": rng.choice(p["street"]), "city": city, "postcode": postcode,
        "company": rng.choice(p["company"]) if rng.random() < 0.7 else "",
    }


NOISE_OPS = ["typo_first", "typo_last", "swap_names", "nickname", "missing", "phone_format",
             "email_case", "email_new", "dob", "street_abbr", "street_typo", "postcode_typo",
             "company_variant", "moved", "typo_email"]
NOISE_W = [12, 12, 4, 6, 14, 14, 8, 3, 6, 6, 4, 3, 4, 2, 3]


def apply_noise(rng, pools, e, n_ops, counter):
    r = dict(e)
    for op in rng.choices(NOISE_OPS, weights=NOISE_W, k=n_ops):
        counter[op] = counter.get(op, 0) + 1
        if op == "typo_first":
            r["first_name"] = typo(rng, r["first_name"])
        elif op == "typo_last":
            r["last_name"] = typo(rng, r["last_name"])
        elif op == "swap_names":
            r["first_name"], r["last_name"] = r["last_name"], r["first_name"]
        elif op == "nickname":
            nn = NICKNAMES.get(r["first_name"])
            if nn:
                r["first_name"] = rng.choice(nn)
            elif r["first_name"] and r["first_name"].isascii() and len(r["first_name"]) > 4:
                r["first_name"] = r["first_name"][: rng.randint(3, 4)]  # truncated short form
            else:
                r["first_name"] = typo(rng, r["first_name"])
        elif op == "missing":
            for f in rng.sample(["email", "phone", "date_of_birth", "street", "city", "postcode",
                                 "company", "first_name"], k=rng.choice([1, 1, 2, 3])):
                r[f] = ""
        elif op == "phone_format" and r["phone"]:
            r["phone"], _ = fmt_phone(rng, r["loc"], e["_pd"], e["_ps"] + 1 + rng.randrange(3))
        elif op == "email_case" and r["email"]:
            u, dom = r["email"].split("@", 1)
            choice = rng.random()
            if choice < 0.4:
                r["email"] = r["email"].upper()
            elif choice < 0.8:
                r["email"] = ".".join(x.capitalize() for x in u.split(".")) + "@" + dom.capitalize()
            else:
                r["email"] = " " + r["email"] + " "
        elif op == "email_new":
            r["email"] = make_email(rng, r["loc"], r["first_name"] or "x", r["last_name"] or "y")
        elif op == "typo_email" and r["email"]:
            u, dom = r["email"].split("@", 1)
            r["email"] = typo(rng, u) + "@" + dom
        elif op == "dob" and r["date_of_birth"].count("-") == 2:
            y, m, d = r["date_of_birth"].split("-")
            c = rng.random()
            if c < 0.4 and int(d) <= 12 and d != m:
                r["date_of_birth"] = f"{y}-{d}-{m}"  # day/month swap
            elif c < 0.8:
                s = list(y + m + d)
                i = rng.choice([2, 3, 5, 6, 7])
                s[i] = str(rng.randint(0, 9) if i not in (6,) else rng.randint(0, 2))
                y2, m2, d2 = "".join(s[:4]), "".join(s[4:6]), "".join(s[6:])
                if 1 <= int(m2) <= 12 and 1 <= int(d2) <= 28:
                    r["date_of_birth"] = f"{y2}-{m2}-{d2}"
            else:
                r["date_of_birth"] = f"{y}{m}{d}"  # format variant
        elif op == "street_abbr" and r["street"]:
            for a, b in STREET_ABBR:
                if a in r["street"]:
                    r["street"] = r["street"].replace(a, b, 1)
                    break
            else:
                r["street"] = r["street"].lower()
        elif op == "street_typo" and r["street"]:
            r["street"] = typo(rng, r["street"])
        elif op == "postcode_typo" and r["postcode"]:
            r["postcode"] = typo(rng, r["postcode"])
        elif op == "company_variant" and r["company"]:
            for a, b in COMPANY_SUFFIX:
                if a in r["company"]:
                    r["company"] = r["company"].replace(a, b, 1)
                    break
            else:
                r["company"] = r["company"].upper()
        elif op == "moved":
            p = pools[r["loc"]]
            r["street"] = rng.choice(p["street"])
            r["city"], r["postcode"] = rng.choice(p["cityzip"])
    return r


def generate(n, seed=42, dup_frac=0.2):
    rng = random.Random(seed)
    n_dups_target = int(round(n * dup_frac))
    n_ent = n - n_dups_target
    pools = build_pools(seed, n_ent)
    locs = [l for l, _ in LOCALES]
    wts = [w for _, w in LOCALES]
    entities = []
    n_household = 0
    for i in range(n_ent):
        if entities and rng.random() < 0.03:  # household member of an existing entity
            base = entities[rng.randrange(len(entities))]
            e = make_entity(rng, pools, base["loc"])
            e["last_name"] = base["last_name"]
            e["street"], e["city"], e["postcode"] = base["street"], base["city"], base["postcode"]
            if rng.random() < 0.5:
                e["phone"], e["_pd"], e["_ps"] = base["phone"], base["_pd"], base["_ps"]
            n_household += 1
        else:
            e = make_entity(rng, pools, rng.choices(locs, wts)[0])
        e["cluster_id"] = i + 1
        entities.append(e)
    # choose duplicated entities and their dup counts
    records = list(entities)
    counter = {}
    made = 0
    order = list(range(n_ent))
    rng.shuffle(order)
    k = 0
    while made < n_dups_target and k < len(order):
        e = entities[order[k]]; k += 1
        nd = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
        nd = min(nd, n_dups_target - made)
        for _ in range(nd):
            n_ops = rng.choices([1, 2, 3, 4], weights=[35, 35, 20, 10])[0]
            records.append(apply_noise(rng, pools, e, n_ops, counter))
            made += 1
    rng.shuffle(records)
    return records, dict(entities=n_ent, dups=made, dup_entities=k, household=n_household, ops=counter)


COLS = ["id", "first_name", "last_name", "email", "phone", "date_of_birth", "street", "city",
        "postcode", "company", "cluster_id"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dup-frac", type=float, default=0.2)
    ap.add_argument("--activity", metavar="DIR", help="also write purchases.csv and interactions.csv here")
    a = ap.parse_args()
    t = time.perf_counter()
    recs, info = generate(a.n, a.seed, a.dup_frac)
    truth = a.out[:-4] + ".truth.csv" if a.out.endswith(".csv") else a.out + ".truth.csv"
    with open(a.out, "w", newline="", encoding="utf-8") as f, \
            open(truth, "w", newline="", encoding="utf-8") as ft:
        w, wt = csv.writer(f), csv.writer(ft)
        w.writerow(COLS[:-1])
        wt.writerow(["id", "cluster_id"])
        for i, r in enumerate(recs, 1):
            w.writerow([i] + [r[c] for c in COLS[1:-1]])
            wt.writerow([i, r["cluster_id"]])
    from collections import Counter
    sizes = Counter(Counter(r["cluster_id"] for r in recs).values())
    true_pairs = sum(c * s * (s - 1) // 2 for s, c in sizes.items())
    print(f"generated n={len(recs)} entities={info['entities']} dup_records={info['dups']} "
          f"dup_entities={info['dup_entities']} household_members={info['household']} "
          f"cluster_sizes={dict(sorted(sizes.items()))} true_pairs={true_pairs} "
          f"seconds={time.perf_counter() - t:.1f}", file=sys.stderr)
    print(f"noise_ops={dict(sorted(info['ops'].items()))}", file=sys.stderr)
    if a.activity:
        write_activity(a.activity, len(recs), a.seed)


CHANNELS = ["store", "web", "app", "phone", "wechat", "partner"]
INTERACTION_CHANNELS = ["phone", "email", "chat", "visit", "social", "other"]
OUTCOMES = ["resolved", "follow_up", "no_answer", "interested", "not_interested", "complaint"]
CURRENCIES = [("CNY", 0.45), ("USD", 0.30), ("EUR", 0.15), ("GBP", 0.10)]


def write_activity(out_dir, n_customers, seed):
    """Purchases and interactions for customer ids 1..n_customers, deterministic for the seed."""
    import datetime as dt
    import math
    import os
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(seed * 7919 + 1)
    end = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    span = 3 * 365 * 86400
    cur_names = [c for c, _ in CURRENCIES]
    cur_w = [w for _, w in CURRENCIES]
    n_p = n_i = 0
    with open(os.path.join(out_dir, "purchases.csv"), "w", newline="", encoding="utf-8") as fp, \
            open(os.path.join(out_dir, "interactions.csv"), "w", newline="", encoding="utf-8") as fi:
        wp, wi = csv.writer(fp), csv.writer(fi)
        wp.writerow(["purchase_id", "customer_id", "at", "amount_minor", "currency", "channel", "items"])
        wi.writerow(["interaction_id", "customer_id", "at", "channel", "direction", "outcome"])
        for cid in range(1, n_customers + 1):
            # geometric-ish activity: 30% never buy, a long tail buys a lot
            active = rng.random() >= 0.30
            k = int(rng.expovariate(1 / 7.0)) if active else 0
            last = rng.random() ** 2  # recency skew: many bought recently
            currency = rng.choices(cur_names, cur_w)[0]
            base = math.exp(rng.gauss(8.5, 1.0))  # typical basket in minor units
            for _ in range(k):
                ago = int(span * min(1.0, last + rng.random() * (1 - last)))
                at = end - dt.timedelta(seconds=ago)
                amount = max(100, int(base * rng.lognormvariate(0, 0.5)))
                n_p += 1
                wp.writerow([n_p, cid, at.strftime("%Y-%m-%dT%H:%M:%SZ"), amount, currency,
                             rng.choice(CHANNELS), rng.randint(1, 6)])
            for _ in range(int(rng.expovariate(1 / 3.0))):
                at = end - dt.timedelta(seconds=rng.randrange(span))
                n_i += 1
                wi.writerow([n_i, cid, at.strftime("%Y-%m-%dT%H:%M:%SZ"), rng.choice(INTERACTION_CHANNELS),
                             rng.choice(["inbound", "outbound"]), rng.choice(OUTCOMES)])
    print(f"activity purchases={n_p} interactions={n_i} dir={out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
