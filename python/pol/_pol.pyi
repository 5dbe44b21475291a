"""Type stubs of the ``pol._pol`` extension module (re-exported by ``pol``)."""

from datetime import date, datetime
from os import PathLike
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import pyarrow

JsonLike = Union[None, bool, int, float, str, date, datetime, Sequence[Any], Mapping[str, Any]]

class PolError(Exception):
    """Base class of every error the pol package raises."""

class BundleError(PolError):
    """The bytes are not a valid Pol bundle, or the bundle file cannot be read."""

class MissingKeyError(PolError):
    """The policies use a keyed technique and no masking key was given."""

class KeyFileError(PolError):
    """The masking key is unusable: too short, or its file cannot be read."""

class SubjectError(PolError):
    """The subject is not a dict, or the clock is not a datetime."""

class UnknownSourceError(PolError):
    """The bundle declares no source of that name."""

class BatchError(PolError):
    """An Arrow batch cannot be imported, or the masked batch cannot be assembled."""

class TableError(PolError):
    """A lookup table cannot be set: not declared, read from a file, values of another type,
    or too many."""

class LinkError(PolError):
    """Parent rows cannot be given: the source has no key column, so its rows cannot be
    parents."""

class KAnonymityError(PolError):
    """``k_anonymize`` cannot run: k is 0, or a quasi-identifier is not a column of the source
    or is listed twice."""

class GrantError(PolError):
    """A grant, approval, detokenization or tokenization was refused (audited) or could not
    be stored or audited."""

class Engine:
    """A loaded, verified policy bundle (written by ``polc build``)."""

    @staticmethod
    def load(bundle: bytes, key: Optional[bytes] = None) -> Engine:
        """Loads a bundle from its bytes, with the masking key's bytes if the policies need one.

        Raises BundleError, MissingKeyError or KeyFileError."""
    @staticmethod
    def from_file(
        path: Union[str, PathLike[str]], key_file: Optional[Union[str, PathLike[str]]] = None
    ) -> Engine:
        """Loads a bundle file, with a key file if the policies use keyed techniques."""
    def source_names(self) -> list[str]:
        """The bundle's sources, in declaration order."""
    def link_parents(self, source: str) -> list[str]:
        """The sources whose shown rows the row rules of ``source`` follow (``only show rows
        linked to shown P``): its direct parents, in rule order. Raises UnknownSourceError."""
    def set_table(self, name: str, values: Union[list[str], list[int]]) -> None:
        """Supplies (or refreshes) a lookup table declared ``supplied at run time``; sessions
        opened afterwards see the values. Raises TableError."""
    def tables(self) -> list[tuple[str, str, bool]]:
        """The lookup tables: (name, type, supplied at run time)."""
    def session(self, subject: Mapping[str, Any], now: Optional[datetime] = None) -> Session:
        """Opens a session for a subject at a clock (default: now; a naive datetime is UTC).

        Raises SubjectError."""

class Session:
    """A bundle specialised for one subject at one clock."""

    def source(self, name: str) -> SourceSession:
        """The source ``name`` as the subject sees it. Raises UnknownSourceError."""
    def link_rows(self, parent: str, rows: Iterable[Mapping[str, JsonLike]]) -> int:
        """Gives the session rows of the parent source ``parent`` (linked visibility: rows of
        a source with ``only show rows linked to shown parent`` are shown only with their
        shown parent row). Give grandparents first; calls add up. Returns how many of the
        rows are shown to the subject. Raises UnknownSourceError or LinkError."""
    def link_batch(self, parent: str, batch: pyarrow.RecordBatch) -> int:
        """``link_rows`` for a record batch of the parent source (read as ``mask_batch`` reads
        it). Raises UnknownSourceError, LinkError or BatchError."""
    def warnings(self) -> list[str]:
        """The input this session treated as unknown or null so far (subject fields missing or
        of the wrong type, then per column the count of cells of the wrong type), as ``polc
        eval`` prints them. Masking already failed closed on each; this is for logging."""

class SourceSession:
    """One source of a session."""

    @property
    def name(self) -> str: ...
    def mask_batch(self, batch: pyarrow.RecordBatch) -> pyarrow.RecordBatch:
        """Masks a record batch: every declared column in declaration order, only the rows
        the row rules show. Releases the GIL. Raises BatchError."""
    def mask_rows(self, rows: Iterable[Mapping[str, JsonLike]]) -> list[dict[str, Any]]:
        """Masks rows given as dicts; hidden rows are left out. Values come back as JSON
        values (dates and timestamps as ISO text). On a source with ``k_anonymity``, the rows
        given are the batch made k-anonymous. Releases the GIL while masking."""
    def mask_values(self, rows: Iterable[Sequence[JsonLike]]) -> list[list[Any]]:
        """Masks typed rows (sequences in the order of ``input_columns()``; a value of
        another type than its column's is null and counted in ``warnings()``): the shown rows,
        each a list with one native value per column of ``columns()`` (``datetime.date``, aware
        UTC ``datetime.datetime``, ``float`` for decimals, lists, dicts for structs). The rows
        are one batch (``k_anonymity`` applies over them). Raises TypeError for a dict row."""
    def input_columns(self) -> list[str]:
        """The stored (not derived) top-level columns: the positions of a typed row."""
    def k_anonymize(
        self,
        rows: Iterable[Mapping[str, JsonLike]],
        k: int,
        quasi_identifiers: Sequence[str],
        max_suppressed: Optional[int] = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Makes rows already masked (as ``mask_rows`` returns them) k-anonymous over the
        named columns, each with its type's default hierarchy, as ``polc eval --k-anonymize``:
        the new rows (same order, none removed) and a report ``{"levels": {column: level},
        "suppressed": [row index, …]}``. ``max_suppressed`` defaults to ``k``. Raises
        KAnonymityError."""
    def batch_schema(self) -> pyarrow.Schema:
        """The schema of ``mask_batch``'s output (the same for every subject)."""
    def visible_columns(self) -> list[str]:
        """The columns listed for the subject, in declaration order."""
    def columns(self) -> list[str]:
        """Every declared top-level column, in declaration order."""
    def explain(self, row: Optional[Mapping[str, JsonLike]] = None) -> dict[str, Any]:
        """How a row (default: an empty one) is treated: row rules, and per column the
        deciding rule, clause and reason. A hidden row's cell values are withheld."""

class Grants:
    """A grant store and an audit trail (JSON-lines files, as ``polc grants`` keeps them) over
    the runtime's grant service: temporary unmask (with approval), detokenize, tokenize. Every
    request is audited before it is answered."""

    def __init__(
        self, store: Union[str, PathLike[str]], audit: Union[str, PathLike[str]]
    ) -> None:
        """Opens (creating if missing) the grant store and the audit trail. Raises GrantError."""
    def request_unmask(
        self, engine: Engine, subject: Mapping[str, Any], source: str, key: JsonLike, reason: str
    ) -> dict[str, str]:
        """Asks to unmask the record ``key`` of ``source``: ``{"state": "granted", "id", "until",
        …}`` or ``{"state": "pending", "id", "answer_by", …}`` when the rule needs approval.
        Raises GrantError (refused, audited; or not stored), UnknownSourceError."""
    def approve(
        self, engine: Engine, approver: Mapping[str, Any], request_id: str, reason: str
    ) -> dict[str, str]:
        """Approves a pending request: the grant. Raises GrantError."""
    def deny(
        self, engine: Engine, approver: Mapping[str, Any], request_id: str, reason: str
    ) -> dict[str, str]:
        """Denies a pending request: the request, ``"state": "denied"``. Raises GrantError."""
    def revoke(self, subject: Mapping[str, Any], grant_id: str, reason: str) -> list[str]:
        """Revokes the grant ``grant_id`` that holds now (the revoker is audited): the ids
        revoked. Raises GrantError when nothing holds to revoke."""
    def session(
        self, engine: Engine, subject: Mapping[str, Any], now: Optional[datetime] = None
    ) -> Session:
        """A session at ``now`` (default: now) with the temporary unmask grants that hold then."""
    def detokenize(
        self, engine: Engine, subject: Mapping[str, Any], source: str, column: str, masked: str,
        reason: str,
    ) -> str:
        """The original of a ``tokenize``/``format_preserving`` value, for a subject an ``allow
        detokenize`` rule allows. Audited. Raises GrantError."""
    def tokenize(
        self, engine: Engine, subject: Mapping[str, Any], source: str, column: str, value: str,
        reason: str,
    ) -> str:
        """The value masking would give ``value``, for a subject allowed to detokenize the
        column. Audited. Raises GrantError."""
