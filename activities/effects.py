"""One change's effects in one activity: the audit log's digests, then every outside-system call.

A case's change used to cost an activity per call (and one for the audit), each a round trip through the
server; a batch costs one. Each call is made by the same code its own activity runs, with the same
idempotency key, so a batch retried after a crash or a failed call performs nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit import AuditLog
from workflows.messages import EffectBatch

UNKNOWN_EFFECT = "UnknownEffect"

Performer = Callable[[dict[str, Any]], Awaitable[object]]


def performer(message_type: type[BaseModel], call: Callable[[Any], Awaitable[object]]) -> Performer:
    """``call`` (an outside-system activity's code) given its message decoded from a batch's JSON."""

    async def perform(message: dict[str, Any]) -> object:
        return await call(message_type.model_validate(message))

    return perform


class EffectActivities:
    """Performs a batch of effects: the digests first, then each call in its events' order."""

    def __init__(self, audit: AuditLog, performers: Mapping[str, Performer]) -> None:
        self._audit = audit
        self._performers = performers

    @activity.defn(name="perform_effects")
    async def perform_effects(self, batch: EffectBatch) -> None:
        """Everything one change tells outside systems; a call no system performs is refused, typed."""
        unknown = sorted({call.activity for call in batch.calls} - self._performers.keys())
        if unknown:
            raise ApplicationError(
                f"no outside system performs {', '.join(name[:40] for name in unknown[:5])}",
                type=UNKNOWN_EFFECT,
                non_retryable=True,
            )
        if batch.records:
            await self._audit.append(batch.records)
        for call in batch.calls:
            await self._performers[call.activity](call.message)
