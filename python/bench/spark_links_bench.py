"""What parent rows cost `pol.spark.mask`: masking a child source with `links=` (its parents
collected, broadcast and decided on the executors) against an identity `mapInArrow` over the
same child rows. Interleaved runs, medians.

    scripts/python-env
    cargo build -p pol-compiler --bin polc
    .venv/bin/python python/bench/spark_links_bench.py target/debug/polc [LINES] [ORDERS] [RUNS]

The policy set (written to a temporary directory and built with the given `polc`) is the chain
of python/tests/test_spark.py: `lines` follow `orders`, which follow `customers`; LINES child
rows (default 1,000,000) against ORDERS orders (default 100,000) and ORDERS / 10 customers.
Every run writes to Spark's `noop` sink; the child data is cached first.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import pol.spark
from spark_bench import NOW, timed  # the sibling benchmark (this directory is on sys.path)

CHAIN = """
source customers { id: int key, status: text, }
source orders { id: int key, customer_id: int links customers.id, region: text, }
source lines { id: int key, order_id: int links orders.id, sku: text, }
policy active on source customers { only show rows where row.status == "active" for everyone }
policy regional on source orders { only show rows where row.region == "EU" for everyone }
policy orders_follow on source orders { only show rows linked to shown customers for everyone }
policy lines_follow on source lines { only show rows linked to shown orders for everyone }
"""
ANA = {"login": "ana"}


def main() -> None:
    polc = sys.argv[1]
    n_lines = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    n_orders = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    tmp = Path(tempfile.mkdtemp())
    (tmp / "set").mkdir()
    (tmp / "set" / "p.pol").write_text(CHAIN)
    bundle = str(tmp / "set.polb")
    subprocess.run([polc, "build", str(tmp / "set"), "-o", bundle], check=True, capture_output=True)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    n_customers = max(1, n_orders // 10)
    customers = spark.range(n_customers).select(
        F.col("id"), F.when(F.col("id") % 3 == 0, "closed").otherwise("active").alias("status")
    ).cache()
    orders = spark.range(n_orders).select(
        F.col("id"),
        (F.col("id") % n_customers).alias("customer_id"),
        F.when(F.col("id") % 4 == 0, "US").otherwise("EU").alias("region"),
    ).cache()
    lines = (
        spark.range(n_lines)
        .select(
            F.col("id"),
            ((F.col("id") * 7) % n_orders).alias("order_id"),
            F.concat(F.lit("s"), F.col("id")).alias("sku"),
        )
        .repartition(2)
        .cache()
    )
    for df in (customers, orders, lines):
        df.count()
    links = {"orders": orders, "customers": customers}

    def identity(batches):
        yield from batches

    def run_identity():
        lines.mapInArrow(identity, lines.schema).write.format("noop").mode("overwrite").save()

    def run_linked():
        masked = pol.spark.mask(lines, bundle, ANA, "lines", now=NOW, links=links)
        masked.write.format("noop").mode("overwrite").save()

    run_identity()  # warm-up
    run_linked()
    identity_s, linked_s = [], []
    for _ in range(runs):
        identity_s.append(timed(run_identity))
        linked_s.append(timed(run_linked))
    shown = pol.spark.mask(lines, bundle, ANA, "lines", now=NOW, links=links).count()
    mi, ml = statistics.median(identity_s), statistics.median(linked_s)
    print(f"lines: {n_lines}, orders: {n_orders}, customers: {n_customers}, runs: {runs} (interleaved), local[2]")
    print(f"identity mapInArrow:        median {mi:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in identity_s)})")
    print(f"pol.spark.mask with links:  median {ml:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in linked_s)})")
    print(f"lines shown: {shown}; overhead: {ml / mi:.2f}x the identity job's time")
    spark.stop()


if __name__ == "__main__":
    main()
