"""Issue 13 in Python: parent rows for linked visibility (`Session.link_rows` /
`link_batch`), k-anonymity over the rows given to `mask_rows`, and explanations that withhold
the cells of a hidden row."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

import pol

LINKED = """
source orders { id: int key, region: text, }
source lines { id: int key, order_id: int links orders.id, sku: text, }
source notes { text: text, }
policy regional on source orders {
  only show rows where row.region == "EU" for everyone except user in group "Legal"
}
policy follow on source lines {
  only show rows linked to shown orders for everyone except user in group "Legal"
}
"""

ORDERS = [{"id": 1, "region": "EU"}, {"id": 2, "region": "US"}]
LINES = [
    {"id": 10, "order_id": 1, "sku": "a"},
    {"id": 11, "order_id": 2, "sku": "b"},
    {"id": 12, "order_id": 3, "sku": "c"},
    {"id": 13, "order_id": None, "sku": "d"},
]


def build(polc: Path, tmp: Path, text: str) -> Path:
    src = tmp / "set"
    src.mkdir()
    (src / "p.pol").write_text(text)
    out = tmp / "set.polb"
    subprocess.run([str(polc), "build", str(src), "-o", str(out)], check=True)
    return out


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_parent_rows_decide_the_rows_that_follow_them_as_polc_eval_does(polc, tmp_path):
    bundle = build(polc, tmp_path, LINKED)
    engine = pol.Engine.from_file(bundle)
    ana = {"login": "ana"}
    # Without parent rows, every line is hidden (fail closed); Legal is exempt.
    assert engine.session(ana).source("lines").mask_rows(LINES) == []
    assert len(engine.session({"login": "lee", "groups": ["Legal"]}).source("lines").mask_rows(LINES)) == 4
    session = engine.session(ana)
    assert session.link_rows("orders", ORDERS) == 1
    lines = session.source("lines")
    shown = lines.mask_rows(LINES)
    assert shown == [{"id": 10, "order_id": 1, "sku": "a"}]
    subject = tmp_path / "ana.json"
    subject.write_text(json.dumps(ana))
    printed = subprocess.run(
        [
            str(polc), "eval", "--bundle", str(bundle), "--subject", str(subject),
            "--source", "lines", "--rows", str(jsonl(tmp_path / "lines.jsonl", LINES)),
            "--link-rows", f"orders={jsonl(tmp_path / 'orders.jsonl', ORDERS)}",
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    assert shown == [json.loads(line) for line in printed.splitlines()]
    # The Arrow path enforces the same rule, with parents given as a batch too.
    batch = pa.RecordBatch.from_pylist(LINES)
    assert engine.session(ana).source("lines").mask_batch(batch).num_rows == 0
    by_batch = engine.session(ana)
    assert by_batch.link_batch("orders", pa.RecordBatch.from_pylist(ORDERS)) == 1
    assert by_batch.source("lines").mask_batch(batch).to_pylist() == shown


def test_bad_parent_rows_are_refused(polc, tmp_path):
    engine = pol.Engine.from_file(build(polc, tmp_path, LINKED))
    session = engine.session({"login": "ana"})
    with pytest.raises(pol.UnknownSourceError, match="no source `shipments`"):
        session.link_rows("shipments", [])
    with pytest.raises(pol.LinkError, match="source `notes` has no key column"):
        session.link_rows("notes", [{"text": "x"}])
    with pytest.raises(TypeError, match="a row must be a dict"):
        session.link_rows("orders", [1])


def test_mask_rows_makes_the_rows_given_k_anonymous(polc, tmp_path):
    engine = pol.Engine.from_file(build(polc, tmp_path, """
source people { id: int key, zip: text, age: int, note: text, }
policy anonymity on source people { k_anonymity 2 over zip, age }
"""))
    people = engine.session({"login": "ana"}).source("people")
    rows = [
        {"id": 1, "zip": "10001", "age": 31, "note": "a"},
        {"id": 2, "zip": "10002", "age": 33, "note": "b"},
        {"id": 3, "zip": "20001", "age": 52, "note": "c"},
    ]
    # As pol-server's /mask and polc eval (server/tests/k_anonymity.rs).
    assert people.mask_rows(rows) == [
        {"id": 1, "zip": "1000*", "age": "30-35", "note": "a"},
        {"id": 2, "zip": "1000*", "age": "30-35", "note": "b"},
        {"id": 3, "zip": None, "age": None, "note": "c"},
    ]


def test_explaining_a_hidden_row_withholds_its_cells(polc, tmp_path):
    engine = pol.Engine.from_file(build(polc, tmp_path, LINKED))
    orders = engine.session({"login": "ana"}).source("orders")
    hidden = orders.explain({"id": 2, "region": "US"})
    assert hidden["shown"] is False
    assert all(c.get("value") is None for c in hidden["cells"]), hidden
    shown = orders.explain({"id": 1, "region": "EU"})
    assert shown["shown"] is True
    assert {c["column"]: c.get("value") for c in shown["cells"]} == {"id": 1, "region": "EU"}
