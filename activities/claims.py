"""Claiming an application number for good (``workflows.number_claim``), as a case registers.

The claim is a workflow started with ``REJECT_DUPLICATE``, so the server itself arbitrates between two
runs of one number. Retried after a crash, the call finds its own claim and answers yes again.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows.number_claim import Claim, NumberClaim, claim_id


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
        holder: str = await client.get_workflow_handle(claim_id(claim.application_number)).result()
        return holder == claim.holder
    return True
