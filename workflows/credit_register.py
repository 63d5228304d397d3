"""CreditRegister: one applicant's credit records, kept by Temporal itself and so seen by every worker.

A broken 容缺 commitment, a false 告知承诺 commitment or a failed 投资承诺 is recorded wherever the case
ran; each worker's outbox is only its own trail. So each applicant has one register, the workflow
``credit:<applicant_key>``: the key is the applicant's keyed pseudonym, never the identity number, since
workflow ids are not encrypted (the records themselves are, as every payload). Records arrive by the
``record`` update, sent with update-with-start (``activities.credit``), once per ``entry.key``; the
``records`` query answers the eligibility checks. The register never completes: it continues as new,
carrying its records, when Temporal suggests it or its history passes a bound.

Every record must fit one payload (a start's input and a query's answer: 256 KiB on our servers,
``workflows.server_limits``), so a register keeps at most ``MAX_RECORDS`` of at most ``MAX_ENTRY_BYTES``,
and drops what no configurable bar period (at most ``MAX_BAR_MONTHS``) could still reach.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from temporalio import workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import RawValue, WorkflowIDConflictPolicy

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    from workflows.boundary import decode, refusal
    from workflows.domain.credit import still_kept
    from workflows.domain.errors import InvalidCommand, OneWindowError
    from workflows.messages import CreditEntry

REGISTER_PREFIX = "credit:"
MAX_RECORDS = 100
# One record as a register keeps it, as JSON: the longest application number twice (its key), in CJK
# characters of 3 bytes, and the start of its reason; MAX_RECORDS of them fit a payload with room to spare.
MAX_ENTRY_BYTES = 2048
REASON_CHARS = 100  # the register keeps the start of a reason; the case's history keeps all of it
HISTORY_BOUND = 2000  # events in one run before it continues as new
_CARRIED_BYTES = MAX_RECORDS * (MAX_ENTRY_BYTES + 1) + 1024


class CreditRegisterFull(OneWindowError):
    """The register holds ``MAX_RECORDS`` records that may still bar: an operator must look."""

    def __init__(self) -> None:
        super().__init__(f"the applicant's credit register already holds {MAX_RECORDS} records")


class Carried(BaseModel):
    """What a register starts with: nothing, or the records the run before kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    records: tuple[CreditEntry, ...] = Field(default=(), max_length=MAX_RECORDS)
    history_bound: int = Field(default=HISTORY_BOUND, ge=10, description="Events before continuing.")


_CARRIED: TypeAdapter[Carried] = TypeAdapter(Carried)
_ENTRY: TypeAdapter[CreditEntry] = TypeAdapter(CreditEntry)

if TYPE_CHECKING:
    CarriedPayload: TypeAlias = Carried | RawValue
    EntryPayload: TypeAlias = CreditEntry | RawValue
else:
    CarriedPayload = EntryPayload = RawValue


def register_id(applicant_key: str) -> str:
    """The workflow id of an applicant's register."""
    return f"{REGISTER_PREFIX}{applicant_key}"


def register_form(entry: CreditEntry) -> CreditEntry:
    """The entry as a register keeps it: the reason cut to its first ``REASON_CHARS`` characters, and
    without the identity number (the register is the applicant's own, found by their pseudonym)."""
    return entry.model_copy(update={"reason": entry.reason[:REASON_CHARS], "applicant_id": ""})


@workflow.defn
class CreditRegister:
    """One applicant's credit records (the workflow id is ``credit:<applicant_key>``)."""

    @workflow.init
    def __init__(self, carried: CarriedPayload) -> None:
        """A register continued as new has its records before any update or query reaches it."""
        start = decode(carried, _CARRIED, "register's records", limit=_CARRIED_BYTES)
        self._records = {record.key: record for record in start.records}
        self._history_bound = start.history_bound

    @workflow.run
    async def run(self, carried: CarriedPayload) -> None:
        """Keep the records for good: each run hands them to the next once its history is long."""
        await workflow.wait_condition(self._history_is_long)
        await workflow.wait_condition(workflow.all_handlers_finished)
        kept = still_kept(self._records.values(), workflow.now())
        workflow.continue_as_new(Carried(records=kept, history_bound=self._history_bound))

    @workflow.update
    def record(self, payload: EntryPayload) -> bool:
        """Add a record; False when its key is here already (a retried write adds nothing)."""
        entry = decode(payload, _ENTRY, "credit entry", limit=MAX_ENTRY_BYTES)
        if entry.key in self._records:
            return False
        self._records[entry.key] = entry
        self._records = {r.key: r for r in still_kept(self._records.values(), workflow.now())}
        return True

    @record.validator
    def _refuse_malformed(self, payload: EntryPayload) -> None:
        """Refuse before history: an entry that is malformed, too large, of another applicant, or one
        more than the register may hold."""
        entry = decode(payload, _ENTRY, "credit entry", limit=MAX_ENTRY_BYTES)
        if entry.applicant_key is None or register_id(entry.applicant_key) != workflow.info().workflow_id:
            raise refusal(InvalidCommand("the entry's applicant_key is not this register's applicant"))
        if entry.key in self._records:
            return
        if len(still_kept(self._records.values(), workflow.now())) >= MAX_RECORDS:
            raise refusal(CreditRegisterFull())

    @workflow.query
    def records(self) -> tuple[CreditEntry, ...]:
        """Every record kept, oldest first."""
        return tuple(sorted(self._records.values(), key=lambda record: record.at))

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_bound


async def keep_record(client: Client, task_queue: str, entry: CreditEntry) -> bool:
    """Keep ``entry`` in its applicant's register, starting it on ``task_queue`` if need be; False when
    its key was kept already. Update-with-start: answered once the record is durable. The register's
    refusal raises ``WorkflowUpdateFailedError``."""
    if entry.applicant_key is None:
        raise ValueError("a credit register is found by the applicant's key")
    start = WithStartWorkflowOperation(
        CreditRegister.run,
        Carried(),
        id=register_id(entry.applicant_key),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    added: bool = await client.execute_update_with_start_workflow(
        CreditRegister.record, register_form(entry), start_workflow_operation=start, id=f"record:{entry.key}"
    )
    return added
