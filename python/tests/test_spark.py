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
