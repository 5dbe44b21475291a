"""Masking Spark DataFrames with Pol, on the executors, through Arrow.

``mask(df, bundle_path, subject, source)`` returns the DataFrame as ``subject`` may see it: every
column ``source`` declares (derived ones included), in declaration order, with its Spark type
(``int`` → long, ``decimal`` → double, ``text``/``enum`` → string, ``date`` → date,
``timestamp`` → timestamp, lists → arrays, structs → structs), and only the rows the row rules
show. It runs on ``DataFrame.mapInArrow``: each executor's Python worker loads the bundle once
and masks its partitions batch by batch, with the same bytecode and semantics as every other
Pol runtime.

``links={"orders": orders_df}`` gives the parent rows of linked visibility (``only show rows
linked to shown orders``, docs/language.md §13): each parent DataFrame is collected to the
driver as Arrow (its declared columns only) and broadcast, and every executor session gives
it to the runtime (``Session.link_batch``, grandparents first) before masking, so the parents'
visibility is decided for the same subject at the same clock by the same runtime path as in
Python. Without it, rows that follow a parent are hidden.
"""

from __future__ import annotations

import io
import os
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Optional

from ._pol import Engine, LinkError, Session

__all__ = ["link_order", "mask", "output_schema"]

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


def link_order(engine: Engine, source: str, parents: list[str]) -> list[str]:
    """``parents`` ordered grandparents first, each checked to be a parent of ``source``.

    Raises LinkError for a source that ``source``'s linked row rules never follow (directly or
    through a parent), and UnknownSourceError for one the bundle does not declare."""
    # Depth first from `source` over the parents its row rules follow; a source is listed after
    # all of its own parents (post-order). The verifier rules out cycles and long chains.
    ancestors: list[str] = []
    stack: list[tuple[str, Iterator[str]]] = [(source, iter(engine.link_parents(source)))]
    seen = {source}
    while stack:
        name, rest = stack[-1]
        parent = next(rest, None)
        if parent is None:
            stack.pop()
            if name != source:
                ancestors.append(name)
        elif parent not in seen:
            seen.add(parent)
            stack.append((parent, iter(engine.link_parents(parent))))
    for name in parents:
        engine.link_parents(name)  # UnknownSourceError for an undeclared source
        if name not in ancestors:
            followed = ", ".join(f"`{a}`" for a in ancestors) or "none"
            raise LinkError(
                f"`{name}` is not a parent of source `{source}`: its linked row rules follow "
                f"{followed}"
            )
    return [a for a in ancestors if a in parents]


def _arrow_bytes(df: Any, engine: Engine, source: str) -> bytes:
    """A parent DataFrame's declared columns, collected to the driver, as an Arrow IPC stream."""
    import pyarrow as pa

    if not hasattr(df, "toArrow") or not hasattr(df, "select"):
        raise TypeError(
            f"links[{source!r}] must be a Spark DataFrame of source `{source}`, "
            f"found `{type(df).__name__}`"
        )
    declared = set(engine.session({}).source(source).columns())
    table = df.select([c for c in df.columns if c in declared]).toArrow()
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _give_parents(session: Session, parents: list[tuple[str, bytes]]) -> None:
    """Gives a session the collected parent rows, in the order given (grandparents first)."""
    import pyarrow as pa

    for name, data in parents:
        reader = pa.ipc.open_stream(data)
        given = False
        for batch in reader:
            session.link_batch(name, batch)
            given = True
        if not given:
            # An empty parent DataFrame is still given (as `link_rows(name, [])`): its
            # children's keys are dangling rather than never given; hidden either way.
            session.link_batch(name, pa.RecordBatch.from_pylist([], schema=reader.schema))


_linked: dict[str, Session] = {}
_LINKED_KEPT = 4


def _linked_session(
    bundle_path: str,
    key_file: Optional[str],
    subject: dict,
    clock: datetime,
    shipped: Any,
    job: str,
) -> Session:
    """The session of this worker process for one ``mask`` call (``job``: its subject, clock
    and broadcast parent rows), given its parents once: the partitions of the job that a
    reused worker masks share it (masking only reads a session). A few jobs are kept."""
    with _engines_lock:
        session = _linked.get(job)
    if session is None:
        session = _engine(bundle_path, key_file).session(subject, clock)
        _give_parents(session, shipped.value)
        with _engines_lock:
            while len(_linked) >= _LINKED_KEPT:
                _linked.pop(next(iter(_linked)))
            _linked[job] = session
    return session


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
    links: Optional[Mapping[str, Any]] = None,
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

    ``links`` maps parent sources to their DataFrames (linked visibility, docs/language.md
    §13): a row of ``source`` that follows a parent (``only show rows linked to shown P``) is
    shown only if its parent row is in P's DataFrame and shown to ``subject`` — decided by the
    runtime for the same subject and clock, P's own linked rules included (give the
    grandparents too; their order does not matter). Each parent DataFrame is collected to the
    driver (its declared columns, as Arrow) and broadcast to the executors, like the small side
    of a broadcast join: it must fit in the driver's and each executor's memory. A parent left
    out hides every row that follows it. A source that ``source`` does not follow raises
    ``LinkError`` on the driver, an undeclared one ``UnknownSourceError``.
    """
    clock = now if now is not None else datetime.now(timezone.utc)
    subject = dict(subject)
    engine = _engine(bundle_path, key_file)
    # Fails early, on the driver, with the runtime's message.
    engine.session(subject, clock).source(source)
    schema = output_schema(bundle_path, source, key_file)
    given = dict(links or {})
    order = link_order(engine, source, list(given))
    parents = [(name, _arrow_bytes(given[name], engine, name)) for name in order]
    # The parent rows go to the executors once each (a broadcast), not with every task.
    shipped = _broadcast(df, parents) if parents else None
    # Names this call's parent rows in the workers' cache of linked sessions.
    job = uuid.uuid4().hex

    def mask_partition(batches: Iterator[Any]) -> Iterator[Any]:
        if shipped is None:
            session = _engine(bundle_path, key_file).session(subject, clock)
        else:
            session = _linked_session(bundle_path, key_file, subject, clock, shipped, job)
        src = session.source(source)
        for batch in batches:
            yield src.mask_batch(batch)

    return df.mapInArrow(mask_partition, schema)


def _broadcast(df: Any, value: Any) -> Any:
    """``value`` broadcast to the executors of ``df``'s Spark session."""
    return df.sparkSession.sparkContext.broadcast(value)
