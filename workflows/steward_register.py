"""StewardLoad: the open cases one steward (项目管家) holds, counted by Temporal so that every worker agrees.

How many green-channel cases a steward may hold at once is configurable; two cases assigned to the same
steward on two workers at the same instant must not both pass. So each steward has one register, the
workflow ``steward:<digest>:<task queue>``: the digest is the steward's pseudonym, never their id, since
workflow ids are not encrypted. Its updates run one at a time, each validator seeing the cases every
earlier update left: ``hold`` refuses ``StewardAtCapacity`` before history when the steward already holds
``capacity`` other cases, ``release`` frees a case's slot. Both are idempotent, so an activity's retry
changes nothing. They arrive by update-with-start (``activities.stewards``); the register never completes,
and continues as new, carrying its cases, when Temporal suggests it or its history passes a bound.

A register runs on the task queue of the worker that opened it and serves only the cases of that queue
(one in a deployment): the queue is in its id, so a worker on another queue (a test's) never waits on a
register that nobody polls any more.

The cases it holds must fit one payload (a continue-as-new input and the ``cases`` query's answer: 256 KiB
on our servers, ``workflows.server_limits``): at most ``MAX_CAPACITY`` numbers in ``MAX_CARRIED_BYTES``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, TypeAdapter
from temporalio import workflow
from temporalio.common import RawValue

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    from workflows.boundary import decode, refusal
    from workflows.domain.access import pseudonym
    from workflows.domain.errors import StewardAtCapacity
    from workflows.domain.values import ApplicationNumber, Identifier

REGISTER_PREFIX = "steward:"
DEFAULT_CAPACITY = 20
MAX_CAPACITY = 1000
# The held numbers as JSON: MAX_CAPACITY of the longest ASCII numbers fit; long CJK ones reach it sooner.
MAX_CARRIED_BYTES = 200 * 1024
HISTORY_BOUND = 2000  # events in one run before it continues as new

_CASE_BYTES = 1024  # one update's argument: a number of at most 200 characters, as JSON, with room


class Carried(BaseModel):
    """What a register starts with: no case, or the cases the run before held."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cases: tuple[ApplicationNumber, ...] = Field(default=(), max_length=MAX_CAPACITY)
    history_bound: int = Field(default=HISTORY_BOUND, ge=10, description="Events before continuing.")


class Hold(BaseModel):
    """Hold ``case_id`` among the steward's cases, unless they already hold ``capacity`` others."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: ApplicationNumber
    capacity: int = Field(ge=1, le=MAX_CAPACITY)


class StewardSlot(BaseModel):
    """A case's slot with its steward, as the case asks the ``hold_steward`` and ``release_steward``
    activities for it; ``sequence`` (the case's event count then) keys the call, so a retry is the same
    call and a later hold of the same case is a new one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steward_id: Identifier
    case_id: ApplicationNumber
    sequence: NonNegativeInt


_CARRIED: TypeAdapter[Carried] = TypeAdapter(Carried)
_HOLD: TypeAdapter[Hold] = TypeAdapter(Hold)
_CASE: TypeAdapter[str] = TypeAdapter(ApplicationNumber)
_CASES: TypeAdapter[tuple[str, ...]] = TypeAdapter(tuple[str, ...])

if TYPE_CHECKING:
    CarriedPayload: TypeAlias = Carried | RawValue
    HoldPayload: TypeAlias = Hold | RawValue
    CasePayload: TypeAlias = str | RawValue
else:
    CarriedPayload = HoldPayload = CasePayload = RawValue


def register_id(steward_id: str, task_queue: str) -> str:
    """The workflow id of a steward's register for the cases of ``task_queue``."""
    return f"{REGISTER_PREFIX}{pseudonym(steward_id)}:{task_queue}"


def carried_bytes(cases: tuple[str, ...]) -> int:
    """The size of ``cases`` as a register carries and answers them."""
    return len(_CASES.dump_json(cases))


@workflow.defn
class StewardLoad:
    """The open cases one steward holds (the workflow id is ``steward:<digest>:<task queue>``)."""

    @workflow.init
    def __init__(self, carried: CarriedPayload) -> None:
        """A register continued as new holds its cases before any update or query reaches it."""
        start = decode(carried, _CARRIED, "steward's cases", limit=MAX_CARRIED_BYTES + 1024)
        self._cases = dict.fromkeys(start.cases)  # an ordered set: every replay iterates it alike
        self._history_bound = start.history_bound

    @workflow.run
    async def run(self, carried: CarriedPayload) -> None:
        """Hold the cases for good: each run hands them to the next once its history is long."""
        await workflow.wait_condition(self._history_is_long)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(Carried(cases=tuple(self._cases), history_bound=self._history_bound))

    @workflow.update
    def hold(self, payload: HoldPayload) -> bool:
        """Hold the case; True, as it was for the first, when it is held already (a retried hold)."""
        self._cases.setdefault(decode(payload, _HOLD, "hold", limit=_CASE_BYTES).case_id)
        return True

    @hold.validator
    def _refuse_past_capacity(self, payload: HoldPayload) -> None:
        """Refuse before history a case past the steward's capacity, or past what the register carries."""
        hold = decode(payload, _HOLD, "hold", limit=_CASE_BYTES)
        if hold.case_id in self._cases:
            return
        if len(self._cases) >= hold.capacity:
            raise refusal(
                StewardAtCapacity(
                    f"the steward already holds {len(self._cases)} open cases, the most one steward "
                    f"may hold ({hold.capacity})"
                )
            )
        if carried_bytes((*self._cases, hold.case_id)) > MAX_CARRIED_BYTES:
            raise refusal(
                StewardAtCapacity(
                    f"the steward's {len(self._cases)} open cases fill their register "
                    f"({MAX_CARRIED_BYTES} bytes of case numbers)"
                )
            )

    @workflow.update
    def release(self, payload: CasePayload) -> None:
        """Free the case's slot; a case not held (released already, or never held) changes nothing."""
        self._cases.pop(decode(payload, _CASE, "case number", limit=_CASE_BYTES), None)

    @release.validator
    def _refuse_malformed(self, payload: CasePayload) -> None:
        """Only a payload that is not a case number is refused (before history)."""
        decode(payload, _CASE, "case number", limit=_CASE_BYTES)

    @workflow.query
    def cases(self) -> tuple[str, ...]:
        """The cases the steward holds now, in the order they took them."""
        return tuple(self._cases)

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_bound
