"""Masking Spark DataFrames with Pol, on the executors, through Arrow.

``mask(df, bundle_path, subject, source)`` returns the DataFrame as ``subject`` may see it: every
column ``source`` declares (derived ones included), in declaration order, with its Spark type
(``int`` → long, ``decimal`` → double, ``text``/``enum`` → string, ``date`` → date,
``timestamp`` → timestamp, lists → arrays, structs → structs), and only the rows the row rules
show. It runs on ``DataFrame.mapInArrow``: each executor's Python worker loads the bundle once
and masks its partitions batch by batch, with the same bytecode and semantics as every other
Pol runtime.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Optional

from ._pol import Engine

__all__ = ["mask", "output_schema"]

_engines: dict[tuple[str, Optional[str]], Engine] = {}
_engines_lock = threading.Lock()


def _resolve(path: str) -> str:
    """A path readable here: as given, else the file of that name shipped with ``SparkContext.addFile``."""
    if os.path.exists(path):
        return path
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(os.path.basename(path))
        if os.path.exists(shipped):
            return shipped
    except Exception:  # noqa: BLE001 - outside Spark, or no file shipped: report the path given
        pass
    return path


def _engine(bundle_path: str, key_file: Optional[str]) -> Engine:
    """The engine of this process for a bundle and key (loaded once per executor process)."""
    cache_key = (bundle_path, key_file)
    with _engines_lock:
        engine = _engines.get(cache_key)
        if engine is None:
            engine = Engine.from_file(
                _resolve(bundle_path), None if key_file is None else _resolve(key_file)
            )
            _engines[cache_key] = engine
        return engine


def output_schema(bundle_path: str, source: str, key_file: Optional[str] = None):
    """The Spark schema of ``mask``'s result for ``source`` (the same for every subject)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    engine = _engine(bundle_path, key_file)
    return from_arrow_schema(engine.session({}).source(source).batch_schema())


def mask(
    df: Any,
    bundle_path: str,
    subject: Mapping[str, Any],
    source: str,
    key_file: Optional[str] = None,
    now: Optional[datetime] = None,
) -> Any:
    """Masks a Spark DataFrame for ``subject`` with the policies of ``source`` in the bundle.

    ``bundle_path`` and ``key_file`` must be readable by every executor (a shared path, or files
    shipped with ``spark.sparkContext.addFile``). ``now`` is the policies' clock, fixed for the
    whole job (default: now, on the driver). The bundle, the subject and the source are checked
    on the driver first, so that a mistake fails before any task runs.

    On a source whose policies declare ``k_anonymity K over …``, each Arrow batch of each
    partition is made K-anonymous on its own (``mask_batch``). That is sound: the union of
    K-anonymous batches is K-anonymous, so the whole result is; it is coarser than one global
    pass, and a batch of fewer than K rows shows no quasi-identifier (see docs/language.md,
    "Source metadata, scopes by metadata, and k-anonymity").
    """
    clock = now if now is not None else datetime.now(timezone.utc)
    subject = dict(subject)
    # Fails early, on the driver, with the runtime's message.
    _engine(bundle_path, key_file).session(subject, clock).source(source)
    schema = output_schema(bundle_path, source, key_file)

    def mask_partition(batches: Iterator[Any]) -> Iterator[Any]:
        src = _engine(bundle_path, key_file).session(subject, clock).source(source)
        for batch in batches:
            yield src.mask_batch(batch)

    return df.mapInArrow(mask_partition, schema)
