"""Determinism guard: a recorded history replays on the current workflow code without divergence."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.builders import all_materials
from tests.case_helpers import act
from tests.conftest import RunWorker, StartAt
from workflows.application_workflow import ApplicationWorkflow
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import AcceptApplication, RecordApproval, ResumeClock, SuspendClock
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.messages import Intake

HEALTH_APPROVER = Actor(id="approver-health-1", role=Role.APPROVER, department="health")


async def test_a_case_with_timers_suspension_and_issuance_replays_deterministically(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """Deadline plans, warnings, a suspension and issuance all come back identically on replay."""
    received = datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)
    intake = Intake(
        actor=Actor(id="intake-portal", role=Role.SYSTEM),
        applicant=Applicant(id_number="91210200MA0000009Z", name="示例公司", contact="0411-0000000"),
        matter_code="PUBLIC-PLACE-HYGIENE",
        materials=all_materials("PUBLIC-PLACE-HYGIENE"),
        channel=Channel.ONLINE,
        received_at=received,
    )
    async with time_skipping_at(received) as env, run_worker(env.client) as task_queue:
        handle = await env.client.start_workflow(
            ApplicationWorkflow.run, intake, id=f"APP-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        await act(handle, AcceptApplication(actor=Actor(id="window-1", role=Role.WINDOW_OFFICER)))
        await env.sleep(timedelta(days=1))
        await act(handle, SuspendClock(actor=HEALTH_APPROVER, pause="inspection", expected_working_days=3))
        await env.sleep(timedelta(days=4))
        await act(handle, ResumeClock(actor=HEALTH_APPROVER))
        await env.sleep(timedelta(days=12))  # past the deadline: warnings up to red fire
        await act(handle, RecordApproval(actor=HEALTH_APPROVER, step="health", approved=True))
        await handle.result()
        kinds = {event.kind for event in await handle.query(ApplicationWorkflow.events)}
        history = await handle.fetch_history()
    assert {"clock_suspended", "clock_resumed", "warning_raised", "licence_issued"} <= kinds
    replayer = Replayer(workflows=[ApplicationWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
