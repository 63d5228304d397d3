"""Stewards' capacity: the slot a green-channel case takes with its steward (项目管家), in the register
every worker of the queue shares (``workflows.steward_register``), reached through the activity's client.

A steward at capacity is an answer, not a failure: ``hold_steward`` says False, and the case refuses the
assignment with its own typed error. Anything else that goes wrong raises, and Temporal retries.
"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.client import WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from workflows.domain.errors import StewardAtCapacity
from workflows.steward_register import (
    DEFAULT_CAPACITY,
    MAX_CAPACITY,
    Carried,
    Hold,
    StewardLoad,
    StewardSlot,
    register_id,
)

AT_CAPACITY = StewardAtCapacity.__name__

log = structlog.get_logger()


class StewardActivities:
    """Holds and releases cases' slots with their stewards, each steward holding at most ``capacity``."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"a steward's capacity is 1 to {MAX_CAPACITY} cases, not {capacity}")
        self._capacity = capacity

    @activity.defn(name="hold_steward")
    async def hold_steward(self, slot: StewardSlot) -> bool:
        """Hold the case's slot with its steward; False when they hold ``capacity`` other open cases."""
        try:
            await activity.client().execute_update_with_start_workflow(
                StewardLoad.hold,
                Hold(case_id=slot.case_id, capacity=self._capacity),
                start_workflow_operation=_register(slot),
                id=f"hold:{slot.case_id}:{slot.sequence}",
            )
        except WorkflowUpdateFailedError as error:
            if isinstance(error.cause, ApplicationError) and error.cause.type == AT_CAPACITY:
                log.info("steward_at_capacity", application_id=slot.case_id, capacity=self._capacity)
                return False
            raise _refused(error) from None
        log.info("steward_slot_held", application_id=slot.case_id)
        return True

    @activity.defn(name="release_steward")
    async def release_steward(self, slot: StewardSlot) -> None:
        """Free the case's slot with its steward (a slot freed before, or never held, stays free)."""
        try:
            await activity.client().execute_update_with_start_workflow(
                StewardLoad.release,
                slot.case_id,
                start_workflow_operation=_register(slot),
                id=f"release:{slot.case_id}:{slot.sequence}",
            )
        except WorkflowUpdateFailedError as error:
            raise _refused(error) from None
        log.info("steward_slot_released", application_id=slot.case_id)


def _register(slot: StewardSlot) -> WithStartWorkflowOperation[StewardLoad, None]:
    """The steward's register for this queue's cases, started if need be (it runs on this queue)."""
    task_queue = activity.info().task_queue
    return WithStartWorkflowOperation(
        StewardLoad.run,
        Carried(),
        id=register_id(slot.steward_id, task_queue),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


def _refused(error: WorkflowUpdateFailedError) -> ApplicationError:
    """The register's own refusal is final; anything else is tried again."""
    cause = error.cause
    if not isinstance(cause, ApplicationError):
        return ApplicationError(f"the steward's register did not answer: {cause}")
    return ApplicationError(cause.message, type=cause.type, non_retryable=True)
