"""The runtime's batch and grant APIs in Python: `SourceSession.k_anonymize` (against `polc
eval --k-anonymize`), `Session.warnings()` (against `polc eval`'s warnings), `pol.Grants`
(temporary unmask, approval, detokenize, masking levels) and typed `mask_values`."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

import pol

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)

PEOPLE = """
tag Secret;
source people { id: int key, zip: text, age: int, note: text tagged Secret, }
policy secret { mask column people.note using redact for everyone }
policy adults on source people { only show rows where row.age >= 18 for everyone }
"""

PEOPLE_ROWS = [
    {"id": 1, "zip": "10001", "age": 31, "note": "n1"},
    {"id": 2, "zip": "10002", "age": 32, "note": "n2"},
    {"id": 3, "zip": "10003", "age": 33, "note": "n3"},
    {"id": 4, "zip": "20001", "age": 41, "note": "n4"},
    {"id": 5, "zip": "20002", "age": 42, "note": "n5"},
    {"id": 6, "zip": "20003", "age": 44, "note": "n6"},
    {"id": 7, "zip": "99999", "age": 90, "note": "n7"},
    {"id": 8, "zip": "10004", "age": 12, "note": "n8"},
]


def polc_eval(polc: Path, bundle: Path, tmp: Path, subject: dict, source: str, rows: list, *extra: str):
    """`polc eval` on the bundle: (stdout rows, stderr lines)."""
    (tmp / "subject.json").write_text(json.dumps(subject))
    (tmp / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = subprocess.run(
        [
            str(polc), "eval", "--bundle", str(bundle), "--subject", str(tmp / "subject.json"),
            "--source", source, "--rows", str(tmp / "rows.jsonl"), "--now", "2026-06-01T00:00:00Z",
            *extra,
        ],
        check=True, capture_output=True, text=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines()], out.stderr.splitlines()


def test_k_anonymize_equals_polc_eval(polc, compile_policies, tmp_path):
    bundle = compile_policies(PEOPLE)
    people = pol.Engine.from_file(bundle).session({"login": "ana"}, NOW).source("people")
    masked = people.mask_rows(PEOPLE_ROWS)
    rows, report = people.k_anonymize(masked, 2, ["zip", "age"])
    expected, err = polc_eval(
        polc, bundle, tmp_path, {"login": "ana"}, "people", PEOPLE_ROWS,
        "--k-anonymize", "2", "--quasi-identifiers", "zip,age",
    )
    assert rows == expected
    assert rows[0] == {"id": 1, "zip": "1000*", "age": "30-35", "note": "*******"}
    assert rows[6] == {"id": 7, "zip": None, "age": None, "note": "*******"}
    assert report == {"levels": {"zip": 60, "age": 1}, "suppressed": [6]}
    assert err == ["k-anonymity (k = 2) over 7 rows: zip at level 60, age at level 1; 1 row suppressed"]
    # The rows given are not changed.
    assert masked[0]["zip"] == "10001"
    # A larger batch, other k and columns: still the runtime's result.
    many = [{"id": i, "zip": f"{10000 + i * 37 % 500}", "age": 18 + i % 60, "note": "x"} for i in range(300)]
    rows, _ = people.k_anonymize(people.mask_rows(many), 5, ["age", "zip"])
    expected, _ = polc_eval(
        polc, bundle, tmp_path, {"login": "ana"}, "people", many,
        "--k-anonymize", "5", "--quasi-identifiers", "age,zip",
    )
    assert rows == expected


def test_k_anonymize_refuses_bad_arguments(compile_policies):
    # (Duplicates are refused before the runtime, which refuses them too.)
    people = pol.Engine.from_file(compile_policies(PEOPLE)).session({}, NOW).source("people")
    with pytest.raises(pol.KAnonymityError, match="k must be at least 1"):
        people.k_anonymize([], 0, ["zip"])
    with pytest.raises(pol.KAnonymityError, match="no column `zipp` in source `people`"):
        people.k_anonymize([], 2, ["zipp"])
    with pytest.raises(pol.KAnonymityError, match="quasi-identifier `zip` is listed twice"):
        people.k_anonymize([{"zip": "1"}], 2, ["zip", "zip"])
    with pytest.raises(TypeError, match="a row must be a dict"):
        people.k_anonymize([1], 2, ["zip"])


DECLARED = """
subject { region: text, }
source people { id: int key, age: int, }
policy regional on source people {
  only show rows where user.region == "EU" for everyone
}
"""


def test_warnings_are_polc_evals(polc, compile_policies, tmp_path):
    bundle = compile_policies(DECLARED)
    engine = pol.Engine.from_file(bundle)
    subject = {"login": "ana", "region": 7, "groups": "Legal"}
    rows = [{"id": 1, "age": "old"}, {"id": 2, "age": 30}, {"id": 3, "age": "x"}]
    session = engine.session(subject, NOW)
    # The subject's issues are known when the session opens; cells only once rows are masked.
    assert session.warnings() == [
        "the subject's field `groups` is a string, not a list of texts: conditions on it are "
        "unknown, so they reveal nothing",
        "the subject's field `region` is a number, not a text value: conditions on it are "
        "unknown, so they reveal nothing",
    ]
    session.source("people").mask_rows(rows)
    _, err = polc_eval(polc, bundle, tmp_path, subject, "people", rows)
    assert [f"warning: {w}" for w in session.warnings()] == err
    assert session.warnings()[2] == (
        "2 cells of `people.age` are not of type int: treated as null, so they reveal nothing"
    )
    # Input that matches its declarations warns of nothing.
    clean = engine.session({"login": "ana", "region": "EU"}, NOW)
    clean.source("people").mask_rows([{"id": 1, "age": 3}])
    assert clean.warnings() == []


GRANTS = """
level High > Medium > Low;
source payments { id: int key, card: text, }
source participants level Medium from masking_level {
  id: int key, birth_date: date, masking_level: text,
}
policy tokens { mask column payments.card using tokenize for everyone }
policy billing { allow detokenize column payments.card for everyone who user has role "billing" }
policy unmasking on source payments {
  allow temporary unmask for 24h for everyone who user has role "support"
}
policy birth {
  mask column participants.birth_date using by level { High: null, Medium: year_only, Low: month_year }
  for everyone
}
"""


def test_grants_unmask_detokenize_and_levels(compile_policies, tmp_path):
    key = tmp_path / "masking.key"
    key.write_bytes(bytes(range(32)) * 2)
    engine = pol.Engine.from_file(compile_policies(GRANTS), key_file=key)
    grants = pol.Grants(tmp_path / "grants.jsonl", tmp_path / "audit.jsonl")
    rows = [{"id": 1, "card": "4111 1111 1111 1111"}, {"id": 2, "card": "5500 0000 0000 0004"}]
    amy = {"login": "amy", "roles": ["support"]}
    bob = {"login": "bob"}
    masked = grants.session(engine, bob).source("payments").mask_rows(rows)
    token = masked[0]["card"]
    assert token.startswith("tok_")
    # Temporary unmask: refused without the role (audited), granted with it.
    with pytest.raises(pol.GrantError, match="refused"):
        grants.request_unmask(engine, bob, "payments", 1, "curious")
    granted = grants.request_unmask(engine, amy, "payments", 1, "ticket 42")
    assert granted["state"] == "granted" and granted["key"] == "1" and granted["id"].startswith("g-")
    # Record 1 is clear for every subject in sessions opened with the grants; record 2 is not.
    after = grants.session(engine, bob).source("payments").mask_rows(rows)
    assert after[0]["card"] == "4111 1111 1111 1111"
    assert after[1]["card"] == masked[1]["card"] != rows[1]["card"]
    # A session without the grant service sees no grant.
    assert engine.session(bob).source("payments").mask_rows(rows)[0]["card"] == token
    # Revoked, the record is masked again; revoking it twice revokes nothing.
    assert grants.revoke(amy, granted["id"], "done") == [granted["id"]]
    assert grants.session(engine, bob).source("payments").mask_rows(rows)[0]["card"] == token
    with pytest.raises(pol.GrantError, match="nothing revoked"):
        grants.revoke(amy, granted["id"], "again")
    # Detokenize: for billing only.
    assert grants.detokenize(engine, {"login": "bo", "roles": ["billing"]}, "payments", "card", token, "refund") == rows[0]["card"]
    with pytest.raises(pol.GrantError, match="detokenize refused"):
        grants.detokenize(engine, bob, "payments", "card", token, "curious")
    assert grants.tokenize(engine, {"login": "bo", "roles": ["billing"]}, "payments", "card", rows[0]["card"], "vault") == token
    with pytest.raises(pol.UnknownSourceError):
        grants.request_unmask(engine, amy, "nope", 1, "x")
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert len(audit) >= 7
    assert {r.get("action") for r in audit} >= {"grant", "refusal", "detokenize", "revoke"}
    # Masking levels: the row's level column picks the technique (default Medium).
    people = engine.session(bob).source("participants").mask_rows([
        {"id": 1, "birth_date": "1980-05-17", "masking_level": None},
        {"id": 2, "birth_date": "1980-05-17", "masking_level": "Low"},
        {"id": 3, "birth_date": "1980-05-17", "masking_level": "High"},
        {"id": 4, "birth_date": "1980-05-17", "masking_level": "Bogus"},
    ])
    assert [p["birth_date"] for p in people] == ["1980", "May 1980", None, None]


def test_grants_with_approval(compile_policies, tmp_path):
    engine = pol.Engine.from_file(compile_policies("""
source payments { id: int key, card: text, }
policy hide { mask column payments.card using redact for everyone }
policy unmasking on source payments {
  allow temporary unmask for 24h for everyone who user has role "support"
    with approval by user has role "manager" within 8h
}
"""))
    grants = pol.Grants(tmp_path / "grants.jsonl", tmp_path / "audit.jsonl")
    amy = {"login": "amy", "roles": ["support"]}
    asked = grants.request_unmask(engine, amy, "payments", 3, "ticket 7")
    assert asked["state"] == "pending" and asked["id"].startswith("r-")
    rows = [{"id": 3, "card": "4111"}]
    assert grants.session(engine, amy).source("payments").mask_rows(rows)[0]["card"] != "4111"
    with pytest.raises(pol.GrantError):
        grants.approve(engine, {"login": "amy", "roles": ["manager"]}, asked["id"], "self")
    granted = grants.approve(engine, {"login": "max", "roles": ["manager"]}, asked["id"], "ok")
    assert granted["state"] == "granted"
    assert grants.session(engine, amy).source("payments").mask_rows(rows)[0]["card"] == "4111"


TYPED = """
source events {
  id: int key, at: timestamp, day: date, amount: decimal, who: text, tags: list<text>,
  kind: enum("a", "b"),
}
policy hide_who { mask column events.who using stars for everyone }
policy recent on source events { only show rows where row.amount >= 0 for everyone }
"""


def test_mask_values_takes_and_gives_typed_values(compile_policies):
    engine = pol.Engine.from_file(compile_policies(TYPED))
    session = engine.session({"login": "ana"}, NOW)
    events = session.source("events")
    assert events.input_columns() == ["id", "at", "day", "amount", "who", "tags", "kind"]
    at = datetime(2026, 5, 1, 12, 30, 15, 250000, tzinfo=timezone.utc)
    rows = [
        (1, at, date(2026, 5, 1), 3, "jenny", ["x", "y"], "a"),
        [2, at, date(2026, 5, 2), -1.5, "bob", [], "b"],  # hidden by the row rule
        (3, "not a time", date(2026, 5, 3), 2.5, "al", None, "c"),  # mismatches are null
        (4,),  # missing trailing values are null
    ]
    got = events.mask_values(rows)
    assert got == [
        [1, at, date(2026, 5, 1), 3.0, "*****", ["x", "y"], "a"],
        [3, None, date(2026, 5, 3), 2.5, "**", None, None],
    ]
    assert isinstance(got[0][3], float)
    # The same rows through mask_rows (dicts, JSON values) are the same rows.
    names = events.columns()
    as_dicts = events.mask_rows([dict(zip(names, r)) for r in rows])
    assert [r["id"] for r in as_dicts] == [1, 3]
    assert as_dicts[0]["at"] == "2026-05-01T12:30:15.250Z"
    # Mismatched cells are counted in the session's warnings.
    assert any("`events.at`" in w for w in session.warnings())
    with pytest.raises(TypeError, match="a typed row is a sequence"):
        events.mask_values([{"id": 1}])
