"""Rows per second of `SourceSession.mask_batch` (one `pyarrow.RecordBatch`) against
`SourceSession.mask_rows` (a list of dicts) in Python, on the same rows. Interleaved rounds
(A B, then B A), medians.

    scripts/python-env
    cargo build -p pol-compiler --bin polc
    target/debug/polc build scripts/bench_sql/customers.pol -o target/customers.polb
    .venv/bin/python python/bench/batch_bench.py target/customers.polb [ROWS] [ROUNDS]

The source is the 20-column `customers` source of the runtime benchmark
(`compiler/benches/runtime.rs`, the same policy as `scripts/bench_sql/customers.pol`), masked
for the same `support` agent of team `A`, with the same deterministic rows (every 8th row of
another team). `mask_rows` is timed from the Python dicts to the masked dicts; `mask_batch`
from the input record batch to the masked record batch (through the Arrow C data interface).
Both give the same rows: the script checks it before timing.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa

import pol

KEY = b"pol-benchmark-key-0123456789abcdef"
SUBJECT = {"login": "amy", "roles": ["support"], "groups": [], "team": "A"}
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("ssn", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("birth_date", pa.date32()),
        ("street", pa.string()),
        ("zip", pa.string()),
        ("country", pa.string()),
        ("city", pa.string()),
        ("team", pa.string()),
        ("status", pa.string()),
        ("segment", pa.string()),
        ("salary", pa.float64()),
        ("balance", pa.float64()),
        ("credit_score", pa.int64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("notes", pa.string()),
    ]
)


def row(i: int) -> dict:
    """The benchmark's row `i` (as `row` in compiler/benches/runtime.rs)."""
    return {
        "id": i,
        "email": f"user{i}@example.com",
        "phone": f"555-{i % 1000:03}-{i % 10_000:04}",
        "ssn": f"{i % 1000:03}-{i % 100:02}-{i % 10_000:04}",
        "first_name": f"Jenny{i % 97}",
        "last_name": f"Smith{i % 89}",
        "birth_date": date(1950 + i % 50, 1 + i % 12, 1),
        "street": f"{i % 500} Main Street",
        "zip": f"{i % 100_000:05}",
        "country": "US" if i % 3 == 0 else "FR",
        "city": "Springfield",
        "team": "B" if i % 8 == 7 else "A",
        "status": "active",
        "segment": "smb",
        "salary": 1000.0 + (i % 7919) * 3.25,
        "balance": (i % 100_003) / 7.0,
        "credit_score": 300 + i % 550,
        "created_at": datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc) + timedelta(minutes=i),
        "notes": f"called on day {i}",
    }


def main() -> None:
    bundle = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 21
    source = pol.Engine.load(open(bundle, "rb").read(), key=KEY).session(SUBJECT, now=NOW).source(
        "customers"
    )
    rows = [row(i) for i in range(n)]
    batch = pa.RecordBatch.from_pylist(rows, schema=SCHEMA)

    masked_rows = source.mask_rows(rows)
    masked_batch = source.mask_batch(batch)
    if masked_batch.num_rows != len(masked_rows):
        sys.exit(f"mask_batch gave {masked_batch.num_rows} rows, mask_rows {len(masked_rows)}")
    for name in ("id", "email", "phone", "ssn", "salary", "credit_score", "team"):
        got = masked_batch.column(name).to_pylist()
        want = [r[name] for r in masked_rows]
        if got != want:
            sys.exit(f"column {name}: mask_batch and mask_rows differ")

    def time_rows() -> float:
        start = time.perf_counter()
        source.mask_rows(rows)
        return time.perf_counter() - start

    def time_batch() -> float:
        start = time.perf_counter()
        source.mask_batch(batch)
        return time.perf_counter() - start

    time_rows()
    time_batch()
    results = []
    print(f"{n} rows, {rounds} rounds")
    print("round  mask_rows_ms  mask_batch_ms  speed-up")
    for r in range(rounds):
        if r % 2 == 0:
            a = time_rows()
            b = time_batch()
        else:
            b = time_batch()
            a = time_rows()
        results.append((a, b))
        print(f"{r:>5}  {a * 1e3:>12.3f}  {b * 1e3:>13.3f}  {a / b:>7.2f}x")
    rows_s = statistics.median(a for a, _ in results)
    batch_s = statistics.median(b for _, b in results)
    ratio = statistics.median(a / b for a, b in results)
    print(
        f"median: mask_rows {rows_s * 1e3:.3f} ms ({n / rows_s:,.0f} rows/s), "
        f"mask_batch {batch_s * 1e3:.3f} ms ({n / batch_s:,.0f} rows/s), "
        f"median per-round speed-up {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
