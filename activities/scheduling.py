"""Temporal as a system the case talks to: its task-queue priority follows the green channel (绿色通道).

A case starts with the priority of its intake (``Cases.submit``) and every activity it calls carries its
current one; this moves the case's own workflow tasks too when a supervisor changes its green-channel
status, through the server's UpdateWorkflowExecutionOptions.
"""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask
from temporalio import activity
from temporalio.api.common.v1 import Priority, WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
from temporalio.service import RPCError, RPCStatusCode

from workflows.messages import PriorityChange, priority_of


@activity.defn(name="set_case_priority")
async def set_case_priority(change: PriorityChange) -> bool:
    """Give the case's workflow the priority of its green-channel status; setting it twice is harmless.

    Returns False on a server that cannot or will not change a running workflow's options (the
    time-skipping test server lacks the call): the case then keeps its start priority for its own tasks,
    while its activities follow.
    """
    client = activity.client()
    request = UpdateWorkflowExecutionOptionsRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=change.application_id),
        workflow_execution_options=WorkflowExecutionOptions(
            priority=Priority(priority_key=priority_of(change.green_channel).priority_key or 0)
        ),
        update_mask=FieldMask(paths=["priority"]),
    )
    try:
        await client.workflow_service.update_workflow_execution_options(request)
    except RPCError as error:
        if error.status in _TRANSIENT:
            raise  # retried: the server will be back
        # Best effort: a server that refuses (lacks the call, forbids it) must not hold back the case's
        # other effects, which wait for this one.
        activity.logger.warning(
            "case_priority_unchanged",
            extra={"application_id": change.application_id, "status": error.status.name, "why": str(error)},
        )
        return False
    return True


_TRANSIENT = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)
