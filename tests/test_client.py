"""The Python client against the real dev server: what the CLI, the gateway and integrators rely on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.builders import all_materials, applicant, window_officer
from tests.conftest import RunWorker
from workflows.client import (
    AlreadySubmitted,
    Cases,
    CaseSummary,
    Refused,
    UnknownApplication,
    matter_query,
    overdue_query,
)
from workflows.domain.application import Status
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.events import Actor, Channel, Role
from workflows.messages import Intake

HYGIENE_MATERIALS = all_materials("PUBLIC-PLACE-HYGIENE")


def _intake(received_at: datetime) -> Intake:
    return Intake(
        actor=Actor(id="intake-portal", role=Role.SYSTEM),
        applicant=applicant(),
        matter_code="PUBLIC-PLACE-HYGIENE",
        materials=HYGIENE_MATERIALS,
        channel=Channel.ONLINE,
        received_at=received_at,
    )


async def _eventually(find: Callable[[], Awaitable[list[CaseSummary]]], wanted: str) -> list[CaseSummary]:
    """Poll a visibility list briefly (it is eventually consistent) until ``wanted`` appears."""
    found: list[CaseSummary] = []
    for _ in range(50):
        found = await find()
        if any(case.application_id == wanted for case in found):
            break
        await asyncio.sleep(0.1)
    return found


async def test_a_case_is_submitted_once_acted_on_read_and_listed(
    dev_server: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """Submit, refuse a duplicate, accept, read state and events, and find it by matter."""
    async with run_worker(dev_server.client) as task_queue:
        cases = Cases(dev_server.client, task_queue)
        number = f"APP-{uuid.uuid4().hex[:8]}"
        await cases.submit(number, _intake(datetime.now(UTC)))
        with pytest.raises(AlreadySubmitted):
            await cases.submit(number, _intake(datetime.now(UTC)))
        view = await cases.act(
            number, AcceptApplication(actor=window_officer()), update_id=f"{number}-accept"
        )
        assert view.status is Status.UNDER_REVIEW
        assert (await cases.state(number, datetime.now(UTC))).due_at == view.due_at
        assert [e.kind for e in await cases.events(number)][:2] == [
            "application_submitted",
            "application_accepted",
        ]
        found = await _eventually(lambda: cases.find(matter_query("PUBLIC-PLACE-HYGIENE")), number)
        (summary,) = [case for case in found if case.application_id == number]
        assert (summary.status, summary.departments, summary.running) == ("under_review", ("health",), True)


async def test_refusals_and_unknown_numbers_come_back_as_typed_client_errors(
    dev_server: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """受审分离 refused as Refused('SeparationOfDuties'); an unknown number as UnknownApplication."""
    async with run_worker(dev_server.client) as task_queue:
        cases = Cases(dev_server.client, task_queue)
        number = f"APP-{uuid.uuid4().hex[:8]}"
        await cases.submit(number, _intake(datetime.now(UTC)))
        await cases.act(number, AcceptApplication(actor=window_officer()))
        acceptor = Actor(id=window_officer().id, role=Role.APPROVER, department="health")
        with pytest.raises(Refused) as refused:
            await cases.act(number, RecordApproval(actor=acceptor, step="health", approved=True))
        assert refused.value.type == "SeparationOfDuties"
        with pytest.raises(UnknownApplication):
            await cases.state("APP-NO-SUCH-CASE")


async def test_overdue_cases_are_listed_and_every_running_case_hears_of_a_new_calendar(
    dev_server: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """A case received weeks ago (deemed accepted, overdue at once) is listed; the revision reaches it."""
    async with run_worker(dev_server.client) as task_queue:
        cases = Cases(dev_server.client, task_queue)
        number = f"APP-{uuid.uuid4().hex[:8]}"
        await cases.submit(number, _intake(datetime.now(UTC) - timedelta(days=30)))
        found = await _eventually(lambda: cases.find(overdue_query(datetime.now(UTC))), number)
        assert number in [case.application_id for case in found]
        assert number in await cases.announce_calendar_revision()
