"""Pol: policies for data masking and fine-grained data access, in Python.

Load a bundle written by ``polc build``, open a session per user, and mask Arrow record batches
(through the Arrow C data interface, no Python object per cell) or rows::

    import pol
    engine = pol.Engine.from_file("policies.polb", key_file="masking.key")
    session = engine.session({"login": "amy", "roles": ["agent"]})
    customers = session.source("customers")
    masked = customers.mask_batch(batch)          # pyarrow.RecordBatch -> pyarrow.RecordBatch
    rows = customers.mask_rows([{"id": 1, "email": "jenny@example.com"}])

``pol.spark.mask`` masks a Spark DataFrame on the executors.
"""

from ._pol import (
    BatchError,
    BundleError,
    Engine,
    GrantError,
    Grants,
    KAnonymityError,
    KeyFileError,
    LinkError,
    MissingKeyError,
    PolError,
    Session,
    SourceSession,
    SubjectError,
    TableError,
    UnknownSourceError,
)

__all__ = [
    "BatchError",
    "BundleError",
    "Engine",
    "GrantError",
    "Grants",
    "KAnonymityError",
    "KeyFileError",
    "LinkError",
    "MissingKeyError",
    "PolError",
    "Session",
    "SourceSession",
    "SubjectError",
    "TableError",
    "UnknownSourceError",
]
