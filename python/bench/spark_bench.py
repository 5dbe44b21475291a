"""Rows per second of `pol.spark.mask` against an identity `mapInArrow` over the same data: the
overhead Pol adds to a Spark job. Interleaved runs, medians.

    scripts/python-env
    cargo build -p pol-compiler --bin polc
    target/debug/polc build examples/support-desk -o target/support-desk.polb
    .venv/bin/python python/bench/spark_bench.py target/support-desk.polb [ROWS] [RUNS]

Each run masks the `tickets` source of the support-desk example for an agent (row rule, e-mail
and phone techniques) and writes to Spark's `noop` sink, which forces every row through without
collecting them. The data is cached first, so that reading it is not measured.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime, timezone

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import pol.spark

AGENT = {"login": "amy", "roles": ["agent"], "team": "billing"}
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def tickets(spark: SparkSession, n: int):
    teams = F.element_at(F.array(*(F.lit(t) for t in ["billing", "tech", "sales", "ops"])), (F.col("id") % 4 + 1).cast("int"))
    return (
        spark.range(n)
        .select(
            F.col("id"),
            (F.col("id") % 977).alias("customer_id"),
            teams.alias("team"),
            F.concat(F.lit("ticket "), F.col("id")).alias("title"),
            F.concat(F.lit("user"), F.col("id"), F.lit("@example.com")).alias("reporter_email"),
            F.format_string("555-%03d-%04d", F.col("id") % 1000, F.col("id") % 10000).alias("callback_phone"),
            F.timestamp_seconds(F.lit(1767225600) + F.col("id") * 60).alias("opened_at"),
        )
        .repartition(2)
        .cache()
    )


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    bundle = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    df = tickets(spark, n)
    df.count()

    def identity(batches):
        yield from batches

    def run_identity():
        df.mapInArrow(identity, df.schema).write.format("noop").mode("overwrite").save()

    def run_pol():
        pol.spark.mask(df, bundle, AGENT, "tickets", now=NOW).write.format("noop").mode("overwrite").save()

    run_identity()  # warm-up: Python workers started, engine cached
    run_pol()
    identity_s, pol_s = [], []
    for _ in range(runs):
        identity_s.append(timed(run_identity))
        pol_s.append(timed(run_pol))
    mi, mp = statistics.median(identity_s), statistics.median(pol_s)
    print(f"rows: {n}, runs: {runs} (interleaved), local[2]")
    print(f"identity mapInArrow: median {mi:.2f} s = {n / mi:,.0f} rows/s  (runs: {', '.join(f'{t:.2f}' for t in identity_s)})")
    print(f"pol.spark.mask:      median {mp:.2f} s = {n / mp:,.0f} rows/s  (runs: {', '.join(f'{t:.2f}' for t in pol_s)})")
    print(f"overhead: {mp / mi:.2f}x the identity job's time")
    spark.stop()


if __name__ == "__main__":
    main()
