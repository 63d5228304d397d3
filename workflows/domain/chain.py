"""The tamper-evident record: each event carries the digest of its canonical form and of the event before.

The chain alone shows an event changed after it was linked (its digest no longer matches) or a link
removed (the next one's ``previous`` no longer matches). An edit made in Temporal's history itself is
replayed into a chain that is consistent again, so every digest is also written, as it is made, to an
append-only audit log outside the case; ``verify`` compares the two, and so also sees events a reset
dropped or rewrote. SHA-256 by default; SM3 (GB/T 32905, required by GB/T 39786 deployments) as an option.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any, TypeVar

from cryptography.hazmat.primitives import hashes
from pydantic import BaseModel, ConfigDict

from workflows.domain.events import ApplicationEvent, Event

_E = TypeVar("_E", bound=Event)


class ChainHash(StrEnum):
    """The hash a case's chain is made with, named in each digest (``sha256:…``)."""

    SHA256 = "sha256"
    SM3 = "sm3"

    def hex(self, data: bytes) -> str:
        """The hexadecimal digest of ``data``."""
        if self is ChainHash.SHA256:
            return hashlib.sha256(data).hexdigest()
        digest = hashes.Hash(hashes.SM3())
        digest.update(data)
        return digest.finalize().hex()


# Fields added to an event, or to a model inside one, after chains were first made: while they hold their
# default they are left out of the canonical form, so an event recorded before they existed hashes as it
# did when it was linked (a case replayed on newer code keeps the digests its audit log holds). Every
# field added to an event model from now on is added here, by its model's name.
ADDED_LATER: dict[str, frozenset[str]] = {
    "ApplicationSubmitted": frozenset({"simulated", "commitment", "consultation", "internal_targets"}),
    "Matter": frozenset(
        {
            "project_types",
            "credit_code_prefix",
            "commitment_excluded",
            "verification_within",
            "rectification_within",
            "internal_target_share",
            "online",
        }
    ),
    "Material": frozenset({"replaced_by_commitment"}),
    "MaterialsSupplemented": frozenset({"channel"}),
    "DeadlinePlan": frozenset({"verification_by", "rectification_by", "internal_target_by"}),
    "Stage": frozenset({"materials", "precondition"}),
    "StageMatter": frozenset({"joint_departments"}),
}


def canonical(event: Event) -> bytes:
    """The event as the chain hashes it: sorted-key compact JSON of every field but its own digest (and
    the ``ADDED_LATER`` fields that hold their default).

    Sets are written sorted: their iteration order changes from one process to the next (string hashing
    is salted), and the same event must hash the same on every worker and in ``onewindow verify``.
    """
    fields = _plain(event)
    if isinstance(fields, dict):
        fields.pop("digest", None)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# How each type is made plain, chosen once per type: in workflow code every ``isinstance`` goes through the
# sandbox, and a case's first event holds thousands of values (its calendar). A value whose ``type`` is not
# its ``__class__`` (a proxy, a mock) is made plain by its type's rule: events hold validated values only.
_PLAINERS: dict[type, Callable[[Any], object]] = {}
_TYPES_KEPT = 512


def _plain(value: object) -> object:
    """``value`` as JSON values, every set as a sorted list, a model as its fields."""
    kind = type(value)
    plainer = _PLAINERS.get(kind)
    if plainer is None:
        plainer = _plainer(kind)
        if len(_PLAINERS) < _TYPES_KEPT:  # the events' types are few: a bound, not an eviction policy
            _PLAINERS[kind] = plainer
    return plainer(value)


def _plainer(kind: type) -> Callable[[Any], object]:  # noqa: PLR0911 - one per JSON type
    """How a value of type ``kind`` is made plain."""
    if issubclass(kind, BaseModel):
        return _model_plainer(kind)
    if issubclass(kind, dict):
        return lambda value: {str(key): _plain(item) for key, item in value.items()}
    if issubclass(kind, (list, tuple)):
        return lambda value: [_plain(item) for item in value]
    if issubclass(kind, (set, frozenset)):
        return lambda value: sorted((_plain(item) for item in value), key=_json_order)
    if issubclass(kind, (datetime, date)):
        return lambda value: value.isoformat()
    if issubclass(kind, Enum):
        return lambda value: _plain(value.value)
    if kind is type(None) or issubclass(kind, (str, int, float, bool)):
        return lambda value: value
    return str


def _model_plainer(kind: type[BaseModel]) -> Callable[[Any], object]:
    """A model's fields, each plain, but those ``ADDED_LATER`` that hold their default."""
    later = ADDED_LATER.get(kind.__name__, frozenset())
    fields = tuple((name, field if name in later else None) for name, field in kind.model_fields.items())

    def plain(value: BaseModel) -> dict[str, object]:
        result: dict[str, object] = {}
        for name, added_later in fields:
            item = getattr(value, name)
            if added_later is None or item != added_later.get_default(call_default_factory=True):
                result[name] = _plain(item)
        return result

    return plain


def _json_order(item: object) -> str:
    return json.dumps(item, sort_keys=True)


def digest_of(event: Event, chain_hash: ChainHash) -> str:
    """The digest an event must carry."""
    return f"{chain_hash.value}:{chain_hash.hex(canonical(event))}"


def link(event: _E, previous: str | None, chain_hash: ChainHash) -> _E:
    """``event`` linked after the event whose digest is ``previous`` (None: the first)."""
    linked = event.model_copy(update={"previous": previous, "digest": None})
    return linked.model_copy(update={"digest": digest_of(linked, chain_hash)})


class AuditRecord(BaseModel):
    """One line of the audit log: the digest an event had when the case recorded it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: str
    sequence: int  # 1 for the first event
    kind: str
    digest: str


class Verdict(BaseModel):
    """What ``verify`` found: intact, or the first event that is not, and why."""

    model_config = ConfigDict(frozen=True)

    events: int
    audited: int
    first_bad: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        """Every event links, matches its digest, and matches the audit log, which holds nothing more."""
        return self.first_bad is None


def verify(events: Sequence[ApplicationEvent], records: Sequence[AuditRecord]) -> Verdict:
    """Recompute the chain of ``events`` and compare it with the audit log's ``records`` of the case."""
    logged: dict[int, set[str]] = {}
    for record in records:
        logged.setdefault(record.sequence, set()).add(record.digest)
    counts = {"events": len(events), "audited": len(logged)}
    previous: str | None = None
    for sequence, event in enumerate(events, start=1):
        problem = _problem(event, previous, logged.get(sequence, set()))
        if problem:
            return Verdict(**counts, first_bad=sequence, problem=f"{event.kind}: {problem}")
        previous = event.digest
    beyond = sorted(sequence for sequence in logged if sequence > len(events))
    if beyond:
        return Verdict(
            **counts,
            first_bad=beyond[0],
            problem=f"the audit log holds {len(beyond)} event(s) the case no longer has (a reset?)",
        )
    return Verdict(**counts)


def _problem(event: Event, previous: str | None, logged: set[str]) -> str:  # noqa: PLR0911 - one per finding
    if event.digest is None:
        return "carries no digest"
    if event.previous != previous:
        return "does not follow the event before it (an event was removed or reordered)"
    try:
        chain_hash = ChainHash(event.digest.partition(":")[0])
    except ValueError:
        return "its digest names a hash onewindow does not make"
    if digest_of(event, chain_hash) != event.digest:
        return "its content no longer matches its digest (edited)"
    if not logged:
        return "is missing from the audit log"
    if event.digest not in logged:
        return "differs from the audit log (its history was edited)"
    if len(logged) > 1:
        return "the audit log holds another version of it (rewritten, or reset and replaced)"
    return ""
