"""Smoke tests: the environments start from the pip-installed binaries and run onewindow's workflow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.builders import all_materials
from tests.case_helpers import act
from tests.conftest import RunWorker, StartAt
from workflows.application_workflow import ApplicationWorkflow
from workflows.domain.application import Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.messages import Intake

OFFICER = Actor(id="window-007", role=Role.WINDOW_OFFICER)
INTAKE_SYSTEM = Actor(id="intake-portal", role=Role.SYSTEM)


def _intake(received_at: datetime) -> Intake:
    return Intake(
        actor=INTAKE_SYSTEM,
        applicant=Applicant(
            id_number="91210200MA0000000X", name="大连示例食品有限公司", contact="0411-0000000"
        ),
        matter_code="PUBLIC-PLACE-HYGIENE",
        materials=all_materials("PUBLIC-PLACE-HYGIENE"),
        channel=Channel.WINDOW,
        received_at=received_at,
    )


async def test_time_skipping_server_starts_at_the_chosen_past_instant_and_skips_forward(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """A case received 2026-09-29 09:00 Shanghai sees that instant, then a skipped day, in its history."""
    received = datetime(2026, 9, 29, 9, 0, tzinfo=SHANGHAI)
    async with time_skipping_at(received) as env, run_worker(env.client) as task_queue:
        assert abs(await env.get_current_time() - received) < timedelta(minutes=1)
        handle = await env.client.start_workflow(
            ApplicationWorkflow.run,
            _intake(received),
            id=f"APP-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        await env.sleep(timedelta(days=1))
        view = await act(handle, AcceptApplication(actor=OFFICER))
        assert view.status is Status.UNDER_REVIEW
        events = await handle.query(ApplicationWorkflow.events)
        dates = {e.kind: e.at.astimezone(SHANGHAI).date().isoformat() for e in events}
        assert dates["application_submitted"] == "2026-09-29"
        assert dates["application_accepted"] == "2026-09-30"


async def test_time_skipping_refusal_reaches_the_caller_typed_and_leaves_the_case_running(
    time_skipping: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """The officer who accepted cannot approve: a typed refusal, nothing recorded, the case goes on."""
    async with run_worker(time_skipping.client) as task_queue:
        handle = await time_skipping.client.start_workflow(
            ApplicationWorkflow.run,
            _intake(datetime.now(UTC)),
            id=f"APP-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        await act(handle, AcceptApplication(actor=OFFICER))
        same_person = Actor(id=OFFICER.id, role=Role.APPROVER, department="health")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                ApplicationWorkflow.act, RecordApproval(actor=same_person, step="health", approved=True)
            )
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "SeparationOfDuties"
        view = await handle.query(ApplicationWorkflow.state)
        assert view.status is Status.UNDER_REVIEW
        await handle.terminate("test over")  # an open case would hold back time on the shared server
        assert [e.kind for e in await handle.query(ApplicationWorkflow.events)].count(
            "approval_recorded"
        ) == 0


async def test_dev_server_lists_cases_by_status_through_a_visibility_query(
    dev_server: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """Accepted cases are found with one visibility query on OwStatus (real dev server)."""
    async with run_worker(dev_server.client) as task_queue:
        application_id = f"APP-{uuid.uuid4().hex[:8]}"
        handle = await dev_server.client.start_workflow(
            ApplicationWorkflow.run, _intake(datetime.now(UTC)), id=application_id, task_queue=task_queue
        )
        await act(handle, AcceptApplication(actor=OFFICER))
        query = (
            "OwStatus = 'under_review' AND OwMatter = 'PUBLIC-PLACE-HYGIENE' "
            f"AND WorkflowId = '{application_id}'"
        )
        found: list[str] = []
        for _ in range(50):  # visibility is eventually consistent
            found = [wf.id async for wf in dev_server.client.list_workflows(query)]
            if found:
                break
            await asyncio.sleep(0.1)
        assert found == [application_id]
