"""What one workflow of a process learns of another, read from Temporal itself.

A project and the applications of its matters tell each other only that something changed (a signal that
carries nothing); what changed is read here, by querying the other workflow through the worker's own
client. So a signal from a stranger can make a case look, never make it believe.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows.domain.application import Status
from workflows.domain.composite import PartReading
from workflows.domain.errors import UnknownApplication
from workflows.domain.events import (
    ApplicationDenied,
    ApplicationEvent,
    ApprovalRecorded,
    ConsultationFindings,
)
from workflows.messages import ApplicationView, ComplaintLink, PartsRequest, ProcessOutcome


@activity.defn(name="read_parts")
async def read_parts(request: PartsRequest) -> tuple[PartReading, ...]:
    """How each of a process's applications stands now, read side by side (a case still registering
    fails the call, which is retried until it answers)."""
    client = activity.client()
    return tuple(await asyncio.gather(*(_reading(client, number) for number in request.application_ids)))


async def _reading(client: Client, application_id: str) -> PartReading:
    handle = client.get_workflow_handle(application_id)
    view = await handle.query("state", result_type=ApplicationView)
    reason = ""
    if view.status is Status.DENIED:  # why, from the decision itself
        events = await handle.query("events", result_type=list[ApplicationEvent])
        denials = (e.reason for e in reversed(events) if isinstance(e, ApplicationDenied | ApprovalRecorded))
        reason = next((why for why in denials if why), "")
    return PartReading(
        application_id=application_id,
        status=view.status,
        closed=view.closed,
        due_at=view.due_at,
        decided_at=view.decided_at,
        warning_level=view.warning_level,
        working_days_used=view.working_days_used,
        licence_number=view.licence_number,
        simulated=view.simulated,
        reason=reason[:2000],
    )


@activity.defn(name="read_project")
async def read_project(project_id: str) -> ProcessOutcome:
    """How the process (a project, an establishment) an application is a matter of stands now."""
    handle = activity.client().get_workflow_handle(project_id)
    outcome: ProcessOutcome = await handle.query("outcome", result_type=ProcessOutcome)
    return outcome


@activity.defn(name="read_consultation")
async def read_consultation(consultation_id: str) -> ConsultationFindings:
    """提前介入: what a consultation found, for the application submitted on it (a consultation that does
    not exist fails the registration typed; one still registering is asked again)."""
    handle = await _described(activity.client(), consultation_id, "ConsultationWorkflow", "consultation")
    findings: ConsultationFindings = await handle.query("findings", result_type=ConsultationFindings)
    return findings


@activity.defn(name="read_complaint")
async def read_complaint(complaint_id: str) -> ComplaintLink:
    """What a complaint says of the application it concerns, or of itself before a merge; a complaint that
    failed to register (or was ended by an operator) is none, at once, rather than asked for ever."""
    handle = await _described(
        activity.client(), complaint_id, "ComplaintWorkflow", "complaint", statuses=_REGISTERED
    )
    link: ComplaintLink = await handle.query("link", result_type=ComplaintLink)
    return link


@activity.defn(name="concerned_application")
async def concerned_application(application_id: str) -> None:
    """A complaint names an application: it must be one (a typo fails the registration typed)."""
    await _described(activity.client(), application_id, "ApplicationWorkflow", "application")


async def _described(
    client: Client,
    workflow_id: str,
    workflow_type: str,
    what: str,
    *,
    statuses: frozenset[WorkflowExecutionStatus] | None = None,
) -> WorkflowHandle[Any, Any]:
    """The handle of ``workflow_id`` if it is a ``workflow_type``, else a permanent UnknownApplication.

    The description is read raw: only its type and status are wanted, and decoding its search attributes
    fails on the time-skipping server once one was unset (a closed case's deadline).
    """
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    try:
        described = (
            await client.workflow_service.describe_workflow_execution(request)
        ).workflow_execution_info
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise _unknown(what, workflow_id) from None
        raise
    status = WorkflowExecutionStatus(described.status)
    if described.type.name != workflow_type or (statuses and status not in statuses):
        raise _unknown(what, workflow_id)
    return client.get_workflow_handle(workflow_id)


# A workflow whose state can be read: running, or ended as its process ends.
_REGISTERED = frozenset({WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED})


def _unknown(what: str, workflow_id: str) -> ApplicationError:
    return ApplicationError(f"no {what} {workflow_id}", type=UnknownApplication.__name__, non_retryable=True)
