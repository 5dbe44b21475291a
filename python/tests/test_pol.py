"""The `pol` package: engines, sessions, masking rows and Arrow batches, errors."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pj
import pytest

import pol

from conftest import SUPPORT_DESK

AMY = json.loads((SUPPORT_DESK / "demo" / "amy.json").read_text())
SUPERVISOR = {"login": "sam", "roles": ["supervisor"], "team": "tech"}
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def demo_rows() -> list[dict]:
    lines = (SUPPORT_DESK / "demo" / "customers.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def polc_eval(polc: Path, bundle: Path, subject: dict, source: str, rows: list[dict], tmp: Path):
    subject_file = tmp / "subject.json"
    subject_file.write_text(json.dumps(subject))
    rows_file = tmp / "rows.jsonl"
    rows_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = subprocess.run(
        [
            str(polc), "eval", "--bundle", str(bundle), "--subject", str(subject_file),
            "--source", source, "--rows", str(rows_file), "--now", "2026-06-01T00:00:00Z",
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_mask_rows_equals_polc_eval(polc, support_desk_bundle, tmp_path):
    engine = pol.Engine.from_file(support_desk_bundle)
    customers = engine.session(AMY, NOW).source("customers")
    got = customers.mask_rows(demo_rows())
    assert got == polc_eval(polc, support_desk_bundle, AMY, "customers", demo_rows(), tmp_path)
    assert got[0] == {
        "id": 1,
        "name": "Jenny Doe",
        "email": "*******.com",
        "phone": "*******5309",
        "account_number": "****-****-7731",
        "postal_address": None,
        "tier": "pro",
        "created_at": "2025-11-02T10:00:00Z",
    }


def test_load_from_bytes_and_sources(support_desk_bundle):
    engine = pol.Engine.load(support_desk_bundle.read_bytes())
    assert engine.source_names() == ["customers", "tickets"]
    assert "customers" in repr(engine)


def test_mask_batch_through_arrow(support_desk_bundle):
    engine = pol.Engine.from_file(str(support_desk_bundle))
    customers = engine.session(AMY, NOW).source("customers")
    schema = customers.batch_schema()
    table = pj.read_json(
        SUPPORT_DESK / "demo" / "customers.jsonl",
        parse_options=pj.ParseOptions(explicit_schema=schema),
    )
    masked = customers.mask_batch(table.to_batches()[0])
    assert isinstance(masked, pa.RecordBatch)
    assert masked.schema == schema
    assert masked.column("email").to_pylist() == ["*******.com", "*******.org"]
    assert masked.column("postal_address").null_count == 2
    assert masked.column("name").to_pylist() == ["Jenny Doe", "Li Wei"]
    assert masked.column("created_at").to_pylist() == [
        datetime(2025, 11, 2, 10, 0, tzinfo=timezone.utc),
        datetime(2026, 1, 15, 8, 30, tzinfo=timezone.utc),
    ]


def test_mask_batch_drops_hidden_rows_undeclared_columns_and_wrong_types(support_desk_bundle):
    engine = pol.Engine.from_file(support_desk_bundle)
    tickets = engine.session(AMY, NOW).source("tickets")
    batch = pa.record_batch(
        {
            "secret": ["x", "y", "z"],
            "id": pa.array([1, 2, 3], pa.int32()),
            "team": ["billing", "tech", "billing"],
            "title": ["a", "b", "c"],
            "reporter_email": ["a@x.com", "b@y.org", "c@z.net"],
            "customer_id": ["1", "2", "3"],  # text in an int column: null
        }
    )
    masked = tickets.mask_batch(batch)
    assert masked.column_names == tickets.columns()
    assert "secret" not in masked.column_names
    assert masked.column("id").to_pylist() == [1, 3]
    assert masked.column("customer_id").to_pylist() == [None, None]
    assert masked.column("reporter_email").to_pylist() == ["*******.com", "*******.net"]
    assert masked.column("callback_phone").to_pylist() == ["*******", "*******"]


def test_visible_columns_and_explain(support_desk_bundle):
    engine = pol.Engine.from_file(support_desk_bundle)
    customers = engine.session(AMY, NOW).source("customers")
    assert customers.visible_columns() == customers.columns()
    explanation = customers.explain({"id": 1, "email": "jenny@example.com"})
    email = next(c for c in explanation["cells"] if c["column"] == "email")
    assert email["value"] == "*******.com"
    assert email["decided_by"]["name"].startswith("emails")
    assert customers.explain()["shown"] is True


def test_errors_are_pol_errors(support_desk_bundle, tmp_path):
    with pytest.raises(pol.BundleError, match="not a Pol bundle") as e:
        pol.Engine.load(b"not a bundle")
    assert isinstance(e.value, pol.PolError)
    with pytest.raises(pol.BundleError, match="cannot read the bundle"):
        pol.Engine.from_file(tmp_path / "missing.polb")
    with pytest.raises(pol.KeyFileError):
        pol.Engine.load(support_desk_bundle.read_bytes(), key=b"short")
    engine = pol.Engine.from_file(support_desk_bundle)
    with pytest.raises(pol.SubjectError, match="must be a JSON object"):
        engine.session(["not", "a", "dict"])
    with pytest.raises(pol.SubjectError):
        engine.session(AMY, now="yesterday")
    with pytest.raises(pol.UnknownSourceError, match="no source `nope`"):
        engine.session(AMY).source("nope")
    with pytest.raises(pol.BatchError, match="pyarrow.RecordBatch"):
        engine.session(AMY).source("customers").mask_batch([1, 2])
    with pytest.raises(TypeError, match="a row must be a dict"):
        engine.session(AMY).source("customers").mask_rows([1])


def test_missing_key_is_a_missing_key_error(polc, tmp_path):
    (tmp_path / "p.pol").write_text(
        "source s { id: int key, email: text, }\n"
        "policy h { mask column s.email using hash for everyone }\n"
    )
    bundle = tmp_path / "p.polb"
    subprocess.run([str(polc), "build", str(tmp_path / "p.pol"), "-o", str(bundle)], check=True)
    with pytest.raises(pol.MissingKeyError, match="needs a masking key"):
        pol.Engine.from_file(bundle)
    key = tmp_path / "k.key"
    key.write_bytes(b"0123456789abcdef0123456789abcdef")
    rows = pol.Engine.from_file(bundle, key_file=key).session({}).source("s").mask_rows(
        [{"id": 1, "email": "a@b.c"}]
    )
    assert len(rows[0]["email"]) == 64


def test_naive_datetimes_are_utc(support_desk_bundle):
    engine = pol.Engine.from_file(support_desk_bundle)
    customers = engine.session(AMY, datetime(2026, 6, 1)).source("customers")
    rows = customers.mask_rows([{"id": 1, "created_at": datetime(2025, 1, 2, 3, 4, 5)}])
    assert rows[0]["created_at"] == "2025-01-02T03:04:05Z"


def test_the_gil_is_released_while_masking(support_desk_bundle):
    """Two threads masking large batches overlap (a held GIL would serialise them)."""
    import threading
    import time

    engine = pol.Engine.from_file(support_desk_bundle)
    customers = engine.session(AMY, NOW).source("customers")
    n = 200_000
    batch = pa.record_batch(
        {
            "id": pa.array(range(n), pa.int64()),
            "email": [f"user{i}@example.com" for i in range(n)],
            "phone": [f"555-{i % 1000:03}-{i % 10000:04}" for i in range(n)],
        }
    )
    start = time.perf_counter()
    customers.mask_batch(batch)
    alone = time.perf_counter() - start

    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    counter = threading.Thread(target=count)
    counter.start()
    # How far the counter gets in `alone` seconds when the main thread waits without the GIL...
    before = ticks
    time.sleep(alone)
    free = ticks - before
    # ...and while the main thread masks: a held GIL would stop it for the whole call.
    before = ticks
    customers.mask_batch(batch)
    during = ticks - before
    done.set()
    counter.join()
    assert during > free // 4, (during, free, alone)


def test_now_is_the_sessions_evaluation_clock(polc, tmp_path):
    """`engine.session(subject, now)` evaluates the clock-dependent techniques at `now`."""
    (tmp_path / "p.pol").write_text(
        "source s { id: int key, born: date, }\n"
        "policy a { mask column s.born using age_range(10) for everyone }\n"
    )
    bundle = tmp_path / "p.polb"
    subprocess.run([str(polc), "build", str(tmp_path / "p.pol"), "-o", str(bundle)], check=True)
    engine = pol.Engine.from_file(bundle)
    rows = [{"id": 1, "born": "2000-06-15"}]
    at = lambda now: engine.session({}, now=now).source("s").mask_rows(rows)[0]["born"]
    assert at(datetime(2026, 6, 1, tzinfo=timezone.utc)) == "20-30"
    assert at(datetime(2036, 6, 1, tzinfo=timezone.utc)) == "30-40"


def test_the_stubs_match_the_extension_and_everything_is_documented():
    """`_pol.pyi` declares exactly the extension's classes and public methods, and every
    class and method of the extension has a docstring."""
    import ast
    import inspect

    from pol import _pol

    tree = ast.parse((Path(pol.__file__).parent / "_pol.pyi").read_text())
    stubs = {
        c.name: {
            f.name
            for f in c.body
            if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")
        }
        for c in tree.body
        if isinstance(c, ast.ClassDef)
    }
    inherited = set(dir(Exception))
    classes = {name: obj for name, obj in vars(_pol).items() if inspect.isclass(obj)}
    public = {
        name: {m for m in dir(cls) if not m.startswith("_") and m not in inherited}
        for name, cls in classes.items()
    }
    assert stubs == public
    for name, cls in classes.items():
        assert (cls.__doc__ or "").strip(), f"{name} has no docstring"
        for m in public[name]:
            assert (getattr(cls, m).__doc__ or "").strip(), f"{name}.{m} has no docstring"
    for name in classes:
        assert getattr(pol, name) is classes[name], f"pol does not re-export {name}"


def test_lookup_tables_are_supplied_at_run_time(polc, tmp_path):
    """`Engine.set_table` supplies a table declared `supplied at run time`; sessions opened
    afterwards see it, and before that its conditions are unknown (they mask)."""
    example = Path(__file__).resolve().parents[2] / "examples" / "lookup-tables"
    out = tmp_path / "lookup.polb"
    subprocess.run([str(polc), "build", str(example), "-o", str(out)], check=True)
    engine = pol.Engine.from_file(out)
    assert engine.tables() == [
        ("eu_regions", "text", False),
        ("partners", "int", False),
        ("frozen_accounts", "int", True),
    ]
    row = {"id": 1, "country": "US", "partner_id": 1, "account": 7, "contact_email": "a@b.example", "amount": 2.5}
    subject = {"login": "amy"}
    before = engine.session(subject).source("orders")
    assert before.mask_rows([row])[0]["amount"] is None
    engine.set_table("frozen_accounts", [8])
    assert engine.session(subject).source("orders").mask_rows([row])[0]["amount"] == 2.5
    assert before.mask_rows([row])[0]["amount"] is None
    with pytest.raises(pol.TableError, match="L0002"):
        engine.set_table("partners", [1])
    with pytest.raises(pol.TableError, match="list of int"):
        engine.set_table("frozen_accounts", ["x"])
    with pytest.raises(pol.TableError, match="L0001"):
        engine.set_table("nope", ["x"])
