"""Driving one case through its workflow handle, shared by the workflow test suites."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import (
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, FailureError

from activities.outbox import Outbox
from workflows.application_workflow import ApplicationWorkflow
from workflows.domain.commands import ApplicationCommand
from workflows.domain.events import ApplicationEvent
from workflows.messages import ApplicationView

Handle = WorkflowHandle[ApplicationWorkflow, ApplicationView]

RESULT_TIMEOUT = 15.0  # seconds of wall time for a closing case to finish its outside-system calls


async def registered(handle: Handle) -> None:
    """Wait until the worker has registered the case: a command sent before is refused NotYetRegistered."""
    for _ in range(400):
        try:
            await handle.query(ApplicationWorkflow.state)  # refused until registered (events is [] then)
        except WorkflowQueryFailedError:
            await asyncio.sleep(0.025)
        else:
            return
    raise AssertionError(f"{handle.id} was never registered")


async def act(handle: Handle, command: ApplicationCommand) -> ApplicationView:
    """Send a command that must succeed; a refusal fails the test with the engine's reason."""
    await registered(handle)
    try:
        return await handle.execute_update(ApplicationWorkflow.act, command)
    except WorkflowUpdateFailedError as error:
        raise AssertionError(f"{command.kind} was refused: {error.cause}") from error


async def case_events(handle: Handle) -> list[ApplicationEvent]:
    """The domain log, as supervision reads it."""
    return await handle.query(ApplicationWorkflow.events)


async def refusal(handle: Handle, command: ApplicationCommand) -> str:
    """Send ``command``, expect a typed refusal, and check that nothing entered the case's log."""
    await registered(handle)
    before = len(await case_events(handle))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ApplicationWorkflow.act, command)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type is not None
    assert len(await case_events(handle)) == before
    return cause.type


async def notices_told(outbox: Outbox, application_id: str, at_least: int) -> list[str]:
    """The notices the applicant was sent, once there are ``at_least``: an update answers before the
    case's next step tells the outside systems (after writing the audit log)."""
    for _ in range(400):
        notices = [record["notice"] for _, record in outbox.records("notification", application_id)]
        if len(notices) >= at_least:
            return notices
        await asyncio.sleep(0.025)
    return notices


async def registration_failure(handle: WorkflowHandle[Any, Any]) -> ApplicationError:
    """The typed error a case failed with at registration (its number then free again): the first in
    the chain of causes that names a type, as the client reads it (a refused activity's is inside)."""
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause: BaseException | None = failed.value.cause
    while isinstance(cause, FailureError) and not (isinstance(cause, ApplicationError) and cause.type):
        cause = cause.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def final_view(handle: Handle) -> ApplicationView:
    """The closed case's final view; a failed run fails the test with the engine's reason."""
    try:
        return await asyncio.wait_for(handle.result(), timeout=RESULT_TIMEOUT)
    except WorkflowFailureError as error:
        raise AssertionError(f"the case's run failed instead of closing: {error.cause}") from error
