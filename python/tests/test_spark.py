"""`pol.spark.mask` in local Spark (`local[2]`): a 100k-row DataFrame masked for two subjects,
compared cell for cell with `polc eval` on the same rows."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone

import pyarrow as pa
import pytest

import pol
import pol.spark

N = 100_000
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
AGENT = {"login": "amy", "roles": ["agent"], "team": "billing"}
SUPERVISOR = {"login": "sam", "roles": ["supervisor"], "team": "tech"}
TEAMS = ["billing", "tech", "sales", None]


def ticket_rows(n: int) -> pa.Table:
    """Deterministic tickets; some cells null, some e-mails without a domain."""
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "customer_id": pa.array([i % 977 if i % 50 else None for i in range(n)], pa.int64()),
            "team": pa.array([TEAMS[i % 4] for i in range(n)], pa.string()),
            "title": pa.array([f"ticket {i}" for i in range(n)], pa.string()),
            "reporter_email": pa.array(
                [f"user{i}@example.{'com' if i % 3 else 'org'}" if i % 7 else f"user{i}" for i in range(n)],
                pa.string(),
            ),
            "callback_phone": pa.array(
                [f"555-{i % 1000:03}-{i % 10000:04}" if i % 11 else None for i in range(n)],
                pa.string(),
            ),
            "opened_at": pa.array(
                [datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp() * 1e6 + i * 60e6 for i in range(n)],
                pa.int64(),
            ).cast(pa.timestamp("us", tz="UTC")),
            "undeclared": pa.array([i * 2 for i in range(n)], pa.int64()),
        }
    )


def as_json_cell(v):
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return v


def polc_eval(polc, bundle, subject, rows: pa.Table, tmp):
    subject_file = tmp / "subject.json"
    subject_file.write_text(json.dumps(subject))
    rows_file = tmp / "rows.jsonl"
    with rows_file.open("w") as f:
        for r in rows.to_pylist():
            f.write(json.dumps({k: as_json_cell(v) for k, v in r.items()}) + "\n")
    out = subprocess.run(
        [
            str(polc), "eval", "--bundle", str(bundle), "--subject", str(subject_file),
            "--source", "tickets", "--rows", str(rows_file), "--now", "2026-06-01T00:00:00Z",
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("subject", [AGENT, SUPERVISOR], ids=["agent", "supervisor"])
def test_spark_mask_equals_polc_eval(spark, polc, support_desk_bundle, subject, tmp_path):
    table = ticket_rows(N)
    # From Arrow directly (pandas would turn the int column with nulls into doubles, which an
    # `int` column does not accept: they would be null).
    df = spark.createDataFrame(table).repartition(4)
    masked = pol.spark.mask(df, str(support_desk_bundle), subject, "tickets", now=NOW)
    assert masked.columns == ["id", "customer_id", "team", "title", "reporter_email", "callback_phone", "opened_at"]
    got = sorted(
        ({k: as_json_cell(v) for k, v in r.asDict().items()} for r in masked.collect()),
        key=lambda r: r["id"],
    )
    expected = sorted(polc_eval(polc, support_desk_bundle, subject, table, tmp_path), key=lambda r: r["id"])
    assert len(got) == len(expected)
    if subject is AGENT:
        assert len(got) == N // 4  # only the billing queue
    else:
        assert len(got) == N
    for g, e in zip(got, expected):
        assert g == e


def test_spark_schema_is_the_declared_columns(spark, support_desk_bundle):
    from pyspark.sql.types import LongType, StringType, TimestampType

    df = spark.createDataFrame([(1, "billing")], "id long, team string")
    masked = pol.spark.mask(df, str(support_desk_bundle), AGENT, "tickets", now=NOW)
    types = {f.name: f.dataType for f in masked.schema.fields}
    assert types["id"] == LongType()
    assert types["team"] == StringType()
    assert types["opened_at"] == TimestampType()
    rows = masked.collect()
    assert [r.id for r in rows] == [1]
    # Missing columns are null; partial techniques show a null as seven stars.
    assert rows[0].title is None
    assert rows[0].reporter_email == "*******" and rows[0].callback_phone == "*******"


def test_spark_mask_fails_on_the_driver_for_a_bad_source(spark, support_desk_bundle):
    df = spark.createDataFrame([(1,)], "id long")
    with pytest.raises(pol.UnknownSourceError):
        pol.spark.mask(df, str(support_desk_bundle), AGENT, "nope")


# Linked visibility (docs/language.md §13): a chain customers → orders → lines.
CHAIN = """
source customers { id: int key, status: text, }
source orders { id: int key, customer_id: int links customers.id, region: text, }
source lines { id: int key, order_id: int links orders.id, sku: text, }
source notes { text: text, }
policy active on source customers {
  only show rows where row.status == "active" for everyone except user in group "Legal"
}
policy regional on source orders {
  only show rows where row.region == "EU" for everyone except user in group "Legal"
}
policy orders_follow on source orders {
  only show rows linked to shown customers for everyone except user in group "Legal"
}
policy lines_follow on source lines {
  only show rows linked to shown orders for everyone except user in group "Legal"
}
"""
ANA = {"login": "ana"}
LEGAL = {"login": "lee", "groups": ["Legal"]}


def chain_rows():
    customers = [{"id": c, "status": "active" if c % 3 else "closed"} for c in range(60)]
    orders = [
        {"id": o, "customer_id": o % 70 if o % 13 else None, "region": "EU" if o % 4 else "US"}
        for o in range(400)
    ]
    # A key given twice, once shown and once hidden: its lines are hidden.
    orders.append({"id": 1, "customer_id": 1, "region": "US"})
    lines = [{"id": i, "order_id": (i * 7) % 450 if i % 17 else None, "sku": f"s{i}"} for i in range(3000)]
    return customers, orders, lines


def python_lines(engine, subject, parents):
    """The lines `subject` sees with `parents` given through `Session.link_rows`."""
    session = engine.session(subject, NOW)
    for name, rows in parents:
        session.link_rows(name, rows)
    return sorted(session.source("lines").mask_rows(LINES_ROWS), key=lambda r: r["id"])


CUSTOMERS, ORDERS, LINES_ROWS = chain_rows()


def spark_df(spark, rows, schema):
    return spark.createDataFrame(pa.Table.from_pylist(rows, schema)).repartition(3)


ORDERS_SCHEMA = pa.schema([("id", pa.int64()), ("customer_id", pa.int64()), ("region", pa.string())])
LINES_SCHEMA = pa.schema([("id", pa.int64()), ("order_id", pa.int64()), ("sku", pa.string())])
CUSTOMERS_SCHEMA = pa.schema([("id", pa.int64()), ("status", pa.string())])


@pytest.mark.parametrize("subject", [ANA, LEGAL], ids=["ana", "legal"])
def test_spark_parent_rows_equal_python_link_rows(spark, compile_policies, subject):
    bundle = compile_policies(CHAIN)
    engine = pol.Engine.from_file(bundle)
    expected = python_lines(engine, subject, [("customers", CUSTOMERS), ("orders", ORDERS)])
    lines = spark_df(spark, LINES_ROWS, LINES_SCHEMA)
    # Given children first: `mask` gives them to the runtime grandparents first.
    links = {
        "orders": spark_df(spark, ORDERS, ORDERS_SCHEMA),
        "customers": spark_df(spark, CUSTOMERS, CUSTOMERS_SCHEMA),
    }
    masked = pol.spark.mask(lines, str(bundle), subject, "lines", now=NOW, links=links)
    got = sorted((r.asDict() for r in masked.collect()), key=lambda r: r["id"])
    assert got == expected
    if subject is ANA:
        # Some lines shown, many hidden (hidden, dangling, null and twice-given parents).
        assert 0 < len(got) < len(LINES_ROWS) // 2
        shown_orders = {r["id"] for r in python_orders(engine)}
        assert all(r["order_id"] in shown_orders for r in got)
        assert not any(r["order_id"] == 1 for r in got)
    else:
        assert len(got) == len(LINES_ROWS)


def python_orders(engine):
    session = engine.session(ANA, NOW)
    session.link_rows("customers", CUSTOMERS)
    return session.source("orders").mask_rows(ORDERS)


def test_spark_hidden_or_missing_parents_hide_their_children(spark, compile_policies):
    bundle = compile_policies(CHAIN)
    engine = pol.Engine.from_file(bundle)
    lines = spark_df(spark, LINES_ROWS, LINES_SCHEMA)
    orders = spark_df(spark, ORDERS, ORDERS_SCHEMA)
    # Without the grandparents every order is hidden, so every line is.
    only_orders = pol.spark.mask(lines, str(bundle), ANA, "lines", now=NOW, links={"orders": orders})
    assert only_orders.count() == 0 == len(python_lines(engine, ANA, [("orders", ORDERS)]))
    # Without any parent rows, too.
    assert pol.spark.mask(lines, str(bundle), ANA, "lines", now=NOW).count() == 0
    # Every customer closed: every order hidden, every line hidden.
    closed = spark_df(spark, [{"id": c["id"], "status": "closed"} for c in CUSTOMERS], CUSTOMERS_SCHEMA)
    hidden = pol.spark.mask(
        lines, str(bundle), ANA, "lines", now=NOW, links={"orders": orders, "customers": closed}
    )
    assert hidden.count() == 0
    # An empty parent DataFrame: every line hidden, as with `link_rows("orders", [])`.
    no_orders = spark_df(spark, [], ORDERS_SCHEMA)
    empty = pol.spark.mask(
        lines, str(bundle), ANA, "lines", now=NOW,
        links={"orders": no_orders, "customers": spark_df(spark, CUSTOMERS, CUSTOMERS_SCHEMA)},
    )
    assert empty.count() == 0 == len(python_lines(engine, ANA, [("customers", CUSTOMERS), ("orders", [])]))
    # The parents' own rows, masked with their grandparents given, match Python too.
    masked_orders = pol.spark.mask(
        orders, str(bundle), ANA, "orders", now=NOW,
        links={"customers": spark_df(spark, CUSTOMERS, CUSTOMERS_SCHEMA)},
    )
    got = sorted((r.asDict() for r in masked_orders.collect()), key=lambda r: r["id"])
    assert got == sorted(python_orders(engine), key=lambda r: r["id"])


def test_spark_links_refuse_a_source_that_is_not_a_parent(spark, compile_policies):
    bundle = str(compile_policies(CHAIN))
    lines = spark_df(spark, LINES_ROWS, LINES_SCHEMA)
    notes = spark.createDataFrame([("x",)], "text string")
    with pytest.raises(pol.LinkError, match=r"`notes` is not a parent of source `lines`.*`customers`, `orders`"):
        pol.spark.mask(lines, bundle, ANA, "lines", now=NOW, links={"notes": notes})
    # A child is not a parent of its parent.
    orders = spark_df(spark, ORDERS, ORDERS_SCHEMA)
    with pytest.raises(pol.LinkError, match="`lines` is not a parent of source `orders`"):
        pol.spark.mask(orders, bundle, ANA, "orders", now=NOW, links={"lines": lines})
    with pytest.raises(pol.UnknownSourceError, match="no source `shipments`"):
        pol.spark.mask(lines, bundle, ANA, "lines", now=NOW, links={"shipments": notes})
    with pytest.raises(TypeError, match=r"links\['orders'\] must be a Spark DataFrame"):
        pol.spark.mask(lines, bundle, ANA, "lines", now=NOW, links={"orders": ORDERS})
