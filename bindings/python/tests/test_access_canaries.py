"""The access policy from Python and the CLI's JSON, randomised: canaries planted in every
field of the dossiers and in their related records' text; random policies (field access named
in English and Chinese, scope, filter_masked) and principals; every read path of the Python
book, then the same principal through the CLI's `--as … --json` reads and through the
uniffi-generated module (the FFI that Kotlin and Swift call) on the same file; then each surface's
writes (an update of what it was shown, a change of one field, a new dossier with a guessed e-mail,
an import). An answer must carry no canary of a field the principal does not see in full or of a
dossier outside its scope, a condition on a field it may not filter on must be refused, and after
the writes the owner must find every value the principal could not see where it was."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import kehu

ROOT = Path(__file__).resolve().parents[3]
CLI = Path(os.environ.get("KEHU_CLI", ROOT / "target" / "debug" / "kehu"))
FFI = Path(os.environ.get("KEHU_FFI_PYTHON", ROOT / "target" / "uniffi" / "python"))
# The test command sets this: there, a surface that is not built fails the test instead of
# leaving its leg out.
REQUIRE_ALL = os.environ.get("KEHU_REQUIRE_SURFACES") == "1"


def ffi_module() -> Any:
    """The uniffi-generated module, or None when it has not been generated."""
    if not (FFI / "kehu_ffi.py").exists():
        assert not REQUIRE_ALL, f"the uniffi module is not generated in {FFI}"
        return None
    sys.path.insert(0, str(FFI))
    try:
        return importlib.import_module("kehu_ffi")
    finally:
        sys.path.remove(str(FFI))

# (a name a policy or condition may use, the canonical field, its group)
NAMES: List[Tuple[str, str, str]] = [
    ("given_name", "given_name", "name"), ("名", "given_name", "name"),
    ("family_name", "family_name", "name"), ("姓", "family_name", "name"),
    ("company", "company", "company"), ("公司", "company", "company"),
    ("job_title", "job_title", "job_title"), ("职位", "job_title", "job_title"),
    ("birth_date", "birth_date", "birth_date"), ("生日", "birth_date", "birth_date"),
    ("emails", "emails", "emails"), ("邮箱", "emails", "emails"),
    ("phones", "phones", "phones"), ("手机", "phones", "phones"),
    ("street", "street", "addresses"), ("地址", "street", "addresses"),
    ("city", "city", "addresses"), ("城市", "city", "addresses"),
    ("district", "district", "addresses"), ("区县", "district", "addresses"),
    ("tags", "tags", "tags"), ("标签", "tags", "tags"),
    ("source", "source", "source"), ("来源", "source", "source"),
    ("name", "name", "name"), ("addresses", "addresses", "addresses"),
    ("organization", "organization", "organization"),
    ("related", "related", "related"),
    ("resident_id", "resident_id", "resident_id"), ("身份证号", "resident_id", "resident_id"),
    ("credit_code", "credit_code", "credit_code"), ("税号", "credit_code", "credit_code"),
]
# A policy's default shows a national identifier masked at most.
IDENTIFIERS = {"resident_id", "credit_code"}
GROUP = {c: g for _, c, g in NAMES}
RANK = {"hidden": 0, "masked": 1, "visible": 2}
OWNERS = ["li", "wang", "zhao", None]
TEAMS = {"east": ["li", "zhao"], "west": ["wang"]}


# The planted dossiers: (id, field → its canaries, owner).
Planted = List[Tuple[str, Dict[str, List[str]], Optional[str]]]


def resident_id(digits: str) -> str:
    """17 digits and their GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return digits + "10X98765432"[sum(int(d) * w for d, w in zip(digits, weights)) % 11]


def credit_code(chars: str) -> str:
    """17 characters of the GB 32100 alphabet and their check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    return chars + alphabet[(31 - sum(alphabet.index(c) * w for c, w in zip(chars, weights)) % 31) % 31]


def token(rng: random.Random) -> str:
    return "zq" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))


def plant(book: kehu.Book, rng: random.Random) -> Planted:
    """Four dossiers full of canaries: (id, field → canaries, owner)."""
    out = []
    for i, owner in enumerate(OWNERS):
        k: Dict[str, List[str]] = {}

        def tok(field: str) -> str:
            t = token(rng)
            k.setdefault(field, []).append(t)
            return t

        national = "139" + "".join(rng.choice("0123456789") for _ in range(8))
        k["phones"] = [national]
        born = dt.date(1921 + 5 * i, 1 + i, 11 + i)
        # Every form a date takes in an answer: ISO text, compact digits, Python's repr.
        k["birth_date"] = [born.isoformat(), born.strftime("%Y%m%d"), repr(born).lower()]
        # Valid identifiers; the ID's birth date is not the dossier's (a role that shows the ID
        # shows the date inside it). Canaries are compared in lower case.
        resident = resident_id(f"4403051960{1 + i:02}{10 + i:02}" + "".join(rng.choice("0123456789") for _ in range(3)))
        code = credit_code("9144030" + "".join(rng.choice("0123456789") for _ in range(10)))
        k["resident_id"], k["credit_code"] = [resident.lower()], [code.lower()]
        c = kehu.Customer.person(
            tok("given_name").capitalize(), tok("family_name").capitalize(),
            emails=[kehu.Email(f"a{tok('emails')}@example.com")], phones=[kehu.Phone(f"+86 {national}")],
            owner=owner, birth_date=born, company=tok("company").capitalize(), job_title=tok("job_title"),
            source=tok("source"), tags=[tok("tags")], resident_id=resident, credit_code=code,
            addresses=[kehu.Address(street=f"{tok('street').capitalize()} Road 8", city=tok("city").capitalize(),
                                   district=tok("district").capitalize(), country="CN")],
        )
        saved = book.add(c, allow_duplicates=True).customer
        assert saved.id is not None
        now = dt.datetime.now(dt.timezone.utc)
        book.relate(kehu.Note(customer_id=saved.id, at=now, text=f"N {tok('related')}"))
        book.relate(kehu.Interaction(customer_id=saved.id, at=now, channel="phone", direction="inbound",
                                     summary=f"S {tok('related')}", outcome=f"O {tok('related')}"))
        out.append((saved.id, k, owner))
    return out


class Model:
    """The principal's grants, from the README's rules (not from the library)."""

    def __init__(self, user: str, roles: List[Dict[str, Any]]) -> None:
        self.user, self.roles = user, roles

    def access(self, field: str) -> int:
        def one(r: Dict[str, Any]) -> int:
            named = {canon(n): a for n, a in r["fields"].items()}
            default = min(RANK[r["default"]], 1) if field in IDENTIFIERS else RANK[r["default"]]
            return RANK[named[field]] if field in named else RANK[named[GROUP[field]]] if GROUP.get(field) in named else default
        return max(one(r) for r in self.roles)

    def may_filter(self, field: str) -> bool:
        if field == "name" and not all(self.may_filter(f) for f in ("given_name", "family_name", "organization")):
            return False
        a = self.access(field)
        if a != 1:
            return a == 2
        return any(canon(n) in (field, GROUP.get(field)) for r in self.roles for n in r["filter_masked"])

    def reaches(self, owner: Optional[str]) -> bool:
        scopes = {r["scope"] for r in self.roles}
        if "all" in scopes:
            return True
        if "team" in scopes:
            team = next((u for u in TEAMS.values() if self.user in u), [])
            return owner is not None and (owner == self.user or owner in team)
        return owner == self.user


def canon(name: str) -> str:
    return next(c for n, c, _ in NAMES if n == name)


def random_roles(rng: random.Random) -> List[Dict[str, Any]]:
    roles = []
    for _ in range(rng.choice([1, 1, 2])):
        fields: Dict[str, str] = {}
        for n, c, _ in rng.sample(NAMES, rng.randrange(0, 7)):
            if c not in {canon(x) for x in fields}:
                fields[n] = rng.choice(["visible", "masked", "hidden"])
        roles.append({
            "operations": ["read"] + [op for op in ("export", "add", "update", "import") if rng.random() < 0.6],
            "scope": rng.choice(["own", "team", "all"]),
            "default": rng.choice(["visible", "masked", "hidden"]),
            "fields": fields,
            "filter_masked": [n for n, _, _ in rng.sample(NAMES, rng.randrange(0, 3))],
        })
    return roles


def leaks(answer: str, planted: Planted, model: Model,
          typed: List[str]) -> List[str]:
    text = answer.lower()
    digits = "".join(ch for ch in answer if ch.isdigit())
    found = []
    for i, (_, k, owner) in enumerate(planted):
        reach = model.reaches(owner)
        for field, canaries in k.items():
            if reach and model.access(field) == 2:
                continue
            for c in canaries:
                if c in typed:
                    continue
                if (c in digits) if field == "phones" else (c in text):
                    found.append(f"dossier {i}'s {field} {c}")
    return found


def condition(name: str, k: Dict[str, List[str]]) -> Optional[Tuple[str, List[str]]]:
    field = canon(name)
    if field in ("addresses", "related", "organization", "resident_id", "credit_code"):
        return None
    if field == "birth_date":
        return f"{name} < 1940-01-01", []
    if field == "tags":
        return f"has tag {json.dumps(k['tags'][0])}", k["tags"]
    if field == "name":
        return f"{name} contains {json.dumps(k['family_name'][0])}", k["family_name"]
    return f"{name} contains {json.dumps(k[field][0])}", k[field]


def policy_of(roles: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"roles": {f"r{i}": r for i, r in enumerate(roles)}, "teams": TEAMS}


@pytest.mark.parametrize("seed", range(40))
def test_no_answer_carries_what_the_principal_cannot_see(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "canaries.kehu"
    owner_book = kehu.Book.open(path)
    planted = plant(owner_book, rng)
    roles = random_roles(rng)
    user = rng.choice(["li", "wang", "zhao", "sun"])
    model = Model(user, roles)
    policy = policy_of(roles)
    g = owner_book.as_principal(user, [f"r{i}" for i in range(len(roles))], policy)

    # Canaries the principal typed in a write: it knows them, and a dossier it wrote may hold them.
    known: List[str] = []
    expect = checker("", planted, model, policy, known, repr, lambda e: repr(e) + str(e),
                     kehu.KehuError, kehu.PermissionDeniedError)
    dossier_reads(expect, g, planted, rng, 4,
                  draft=lambda given, family, email: {"name": {"given": given, "family": family}, "emails": [email]},
                  members=g.segment_members, explain=g.explain_segment)
    expect("customers", g.customers, [])
    expect("export", lambda: g.export_text(format="jsonl"), [])
    expect("stats", g.stats, [])
    expect("subject export", lambda: g.subject_export(planted[0][0]), [])
    dossier_writes(expect, known, g, planted, "python", lambda email: {"name": {"given": "Ann", "family": "Lee"},
                                                                "emails": [email]})
    owner_book.close()
    nothing_unseen_lost("python", path, planted, model)

    ffi_leg(path, planted, model, policy, known, user, len(roles), rng)
    nothing_unseen_lost("ffi", path, planted, model)
    cli_leg(path, tmp_path, planted, model, policy, known, user, len(roles), rng)
    nothing_unseen_lost("cli", path, planted, model)


Expect = Callable[..., None]


def checker(label: str, planted: Planted, model: Model, policy: Dict[str, Any], known: List[str],
            show: Callable[[Any], str],
            show_error: Callable[[Exception], str], error: type, denied: type) -> Expect:
    """`expect(what, call, typed, field)` for one surface: the call's answer (or error) carries no
    canary the principal may not see, and a condition on `field` it may not filter on is denied."""

    def expect(what: str, call: Callable[[], Any], typed: List[str], field: Optional[str] = None) -> None:
        try:
            answer = show(call())
            refused = None
        except error as e:
            answer, refused = show_error(e), e
        found = leaks(answer, planted, model, typed + known)
        assert not found, f"{label}{what}: {found}\npolicy {policy}\n{answer}"
        if field is not None and not model.may_filter(field):
            assert isinstance(refused, denied), f"{label}{what}: a condition on {field} answered"

    return expect


def dossier_reads(expect: Expect, g: Any, planted: Planted, rng: random.Random, samples: int, *,
                  draft: Callable[[str, str, str], Any], members: Callable[[str], Any],
                  explain: Callable[[str, str], Any]) -> None:
    """Every per-dossier read of a surface's book `g`, with `samples` random segment conditions each."""
    for i, (cid, c, _) in enumerate(planted):
        expect(f"get {i}", lambda: g.get(cid), [])
        expect(f"history {i}", lambda: g.history(cid), [])
        expect(f"related {i}", lambda: g.related(cid), [])
        email = f"a{c['emails'][0]}@example.com"
        expect(f"find_by_email {i}", lambda: g.find_by_email(email), c["emails"], "emails")
        expect(f"find_by_tag {i}", lambda: g.find_by_tag(c["tags"][0]), c["tags"], "tags")
        expect(f"find_by_resident_id {i}", lambda: g.find_by_resident_id(c["resident_id"][0]), c["resident_id"],
               "resident_id")
        expect(f"find_by_credit_code {i}", lambda: g.find_by_credit_code(c["credit_code"][0]), c["credit_code"],
               "credit_code")
        person = draft(c["given_name"][0], c["family_name"][0], email)
        expect(f"check_duplicates {i}", lambda: g.check_duplicates(person),
               c["given_name"] + c["family_name"] + c["emails"])
        for name, _, _ in rng.sample(NAMES, samples):
            made = condition(name, c)
            if made is None:
                continue
            cond, typed = made
            expect(f"segment {cond}", lambda: members(cond), typed, canon(name))
            expect(f"explain {cond}", lambda: explain(cond, cid), typed, canon(name))


WRITTEN = "zzwritten"


def dossier_writes(expect: Expect, known: List[str], g: Any, planted: Planted, label: str, draft: Callable[[str], Any]) -> None:
    """A surface's writes through its book `g`: each dossier it was shown sent back as it was, then
    with a new job title; a new dossier with another's e-mail guessed. The job title is the one
    field a write sets (`nothing_unseen_lost` lets it change where the principal sees it)."""
    for i, (cid, c, _) in enumerate(planted):
        expect(f"update {i} as shown", lambda: g.update(g.get(cid)), [])

        def retitled() -> Any:
            shown = g.get(cid)
            shown.job_title = f"{WRITTEN} {label}"
            return g.update(shown)

        expect(f"update {i} job title", retitled, [])
        email = f"a{c['emails'][0]}@example.com"
        expect(f"add with {i}'s e-mail", lambda: g.add(draft(email)), c["emails"])
        known.extend(c["emails"])


def nothing_unseen_lost(label: str, path: Path, planted: Planted, model: Model) -> None:
    """The owner finds every canary where it was planted after a surface's writes: all of a dossier
    outside the scope, and of one inside all but a job title the principal sees (masked or not)."""
    book = kehu.Book.open(path)
    try:
        for i, (cid, k, owner) in enumerate(planted):
            now = (repr(book.get(cid)) + repr(book.related(cid))).lower()
            digits = "".join(ch for ch in now if ch.isdigit())
            for field, canaries in k.items():
                if field == "job_title" and model.reaches(owner) and model.access(field) > 0:
                    continue
                if field == "birth_date":
                    assert any(c in now for c in canaries), f"{label}: dossier {i} lost its birth date\n{now}"
                    continue
                for c in canaries:
                    held = c in digits if field == "phones" else c in now
                    assert held, f"{label}: dossier {i} lost {field} {c} (access {model.access(field)})\n{now}"
            if not model.reaches(owner):
                assert WRITTEN not in now, f"{label}: dossier {i} outside the scope was written"
    finally:
        book.close()


def ffi_leg(path: Path, planted: Planted, model: Model, policy: Dict[str, Any], known: List[str], user: str,
            roles: int, rng: random.Random) -> None:
    """The same principal through the FFI, on the same file."""
    k = ffi_module()
    if k is None:
        return
    owner_book = k.Book.open(str(path), k.OpenOptions())
    g = owner_book.as_principal(k.Principal(user=user, roles=[f"r{i}" for i in range(roles)]), json.dumps(policy))

    expect = checker("ffi ", planted, model, policy, known, str, repr, k.KehuError, k.KehuError.Denied)

    def draft(given: str, family: str, email: str) -> Any:
        d = k.new_person(given, family)
        d.emails = [k.new_email(email)]
        return d

    try:
        dossier_reads(expect, g, planted, rng, 3, draft=draft,
                      members=lambda cond: g.segment_members(cond, None),
                      explain=lambda cond, cid: g.explain_segment(cond, cid, None))
        expect("customers", lambda: g.customers(None, 100), [])
        expect("export", lambda: g.export_text(k.ExportOptions(format=k.ExportFormat.JSONL)), [])
        expect("stale", lambda: g.stale(0), [])
        expect("stats", g.stats, [])
        expect("subject export", lambda: g.subject_export(planted[0][0]), [])
        dossier_writes(expect, known, g, planted, "ffi", lambda email: draft("Ann", "Lee", email))
    finally:
        owner_book.close_book()


def cli_leg(path: Path, tmp_path: Path, planted: Planted, model: Model, policy: Dict[str, Any],
            known: List[str], user: str, roles: int, rng: random.Random) -> None:
    """The same principal through the CLI's JSON output, on the same file."""
    if not CLI.exists():
        assert not REQUIRE_ALL, f"the CLI is not built at {CLI}"
        return
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy), encoding="utf-8")
    who = ["--as", user, "--roles", ",".join(f"r{i}" for i in range(roles)), "--policy", str(policy_file)]

    def cli(what: str, args: List[str], typed: List[str], field: Optional[str] = None) -> None:
        run = subprocess.run([str(CLI), *args, *who], capture_output=True, text=True, check=False)
        said = run.stdout + run.stderr
        found = leaks(said, planted, model, typed + known)
        assert not found, f"kehu {what}: {found}\npolicy {policy}\n{said}"
        if field is not None and not model.may_filter(field):
            # Refused: denied, or (an explanation of a dossier outside the scope) not found first.
            assert run.returncode == 1 and ("may not" in said or "no customer" in said), \
                f"kehu {what}: a condition on {field} answered\n{said}"

    p = str(path)
    for i, (cid, k, _) in enumerate(planted):
        cli(f"get {i}", ["get", p, cid, "--json"], [])
        name = rng.choice(NAMES)[0]
        made = condition(name, k)
        if made is not None:
            cond, typed = made
            cli(f"segment {cond}", ["segment", p, cond, "--json"], typed, canon(name))
            cli(f"explain {cond}", ["segment", p, cond, "--explain", cid, "--json"], typed, canon(name))
        cli(f"find {i}", ["find", p, "--email", f"a{k['emails'][0]}@example.com", "--json"], k["emails"], "emails")
        cli(f"find id {i}", ["find", p, "--resident-id", k["resident_id"][0], "--json"], k["resident_id"], "resident_id")
    cli("export", ["export", p, "--format", "jsonl"], [])
    cli("stale", ["stale", p, "--days", "0", "--json"], [])
    # Writes: an upsert of every dossier's job title by its kehu id (a principal needs scope all),
    # then new rows with the planted e-mails guessed.
    titles = tmp_path / "titles.csv"
    titles.write_text("kehu_id,职位\n" + "".join(f"{cid},{WRITTEN} cli\n" for cid, _, _ in planted), encoding="utf-8")
    cli("import upsert", ["import", p, str(titles), "--mode", "upsert", "--json"], [])
    guesses = tmp_path / "guesses.csv"
    guesses.write_text("姓名,邮箱\n" + "".join(f"李{i}华,a{k['emails'][0]}@example.com\n"
                                                for i, (_, k, _) in enumerate(planted)), encoding="utf-8")
    cli("import guesses", ["import", p, str(guesses), "--json"], [c for _, k, _ in planted for c in k["emails"]])
