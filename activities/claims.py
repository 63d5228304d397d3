"""Claiming an application number for good (``workflows.number_claim``), as a case registers.

The claim is a workflow started with ``REJECT_DUPLICATE``, so the server itself arbitrates between two
runs of one number. Retried after a crash, the call finds its own claim and answers yes again. Anyone who
may start workflows could start ``claim:<number>`` first; such a claim (another type, not finished, or
naming no run of the number) is refused ``NumberClaimCorrupt``, typed and at once, never waited on.
"""

from __future__ import annotations

from typing import NoReturn

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from workflows.number_claim import Claim, NumberClaim, claim_id

CORRUPT = "NumberClaimCorrupt"
log = structlog.get_logger()


@activity.defn(name="claim_number")
async def claim_number(claim: Claim) -> bool:
    """Whether the number is now held by ``claim.holder`` (False: another case held it first)."""
    client = activity.client()
    try:
        await client.start_workflow(
            NumberClaim.run,
            claim.holder,
            id=claim_id(claim.application_number),
            task_queue=activity.info().task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return await _held_by(client, claim) == claim.holder
    return True


async def _held_by(client: Client, claim: Claim) -> str:
    """The run the existing claim names, once it is shown to be a claim of this number's case."""
    handle = client.get_workflow_handle(claim_id(claim.application_number))
    description = await handle.describe()
    if description.workflow_type != "NumberClaim":
        _corrupt(claim, f"claim:{claim.application_number} is a {description.workflow_type[:40]} workflow")
    ours = description.task_queue == activity.info().task_queue
    if description.status is WorkflowExecutionStatus.RUNNING and ours:
        raise ApplicationError("the number's claim is being recorded; retry")  # ours, a moment ago
    if description.status is not WorkflowExecutionStatus.COMPLETED:
        status = description.status.name if description.status else "unknown"
        _corrupt(claim, f"claim:{claim.application_number} is {status.lower()}, not completed")
    holder: str = await handle.result()
    if holder != claim.holder:
        # A number's claim names a run of that number; another claim (a credit code's) names
        # ``<workflow id>/<run id>`` of the case that holds it.
        owner, _, run = holder.rpartition("/")
        try:
            await client.get_workflow_handle(owner or claim.application_number, run_id=run).describe()
        except RPCError:
            _corrupt(claim, f"claim:{claim.application_number} names no run of this number")
    return holder


def _corrupt(claim: Claim, why: str) -> NoReturn:
    """A claim not made by a case: the operators must remove it (``temporal workflow delete``)."""
    log.error("number_claim_corrupt", application_id=claim.application_number, problem=why)
    raise ApplicationError(f"{why}: an operator must delete it", type=CORRUPT, non_retryable=True)
