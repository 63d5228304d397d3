"""Each person reads only what their role covers, through the client the CLI and the gateway use (issue 7):
a role × own/other case × read/list matrix on the dev server, whose visibility store holds OwReaders."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.builders import (
    all_materials,
    applicant,
    applicant_actor,
    approver,
    department_head,
    government_leader,
    steward,
    supervisor,
    window_officer,
)
from tests.conftest import RunWorker
from workflows.application_workflow import ApplicationWorkflow
from workflows.client import Cases, UnknownApplication
from workflows.domain.commands import AcceptApplication, ChangeGreenChannel
from workflows.domain.events import Actor, Channel, Role
from workflows.messages import Intake, ReadRequest
from workflows.testkit import kit_cases

pytestmark = pytest.mark.devserver

PORTAL = Actor(id="intake-portal", role=Role.SYSTEM)
FOOD_APPLICANT = "91210200MA00000F0D"
HYGIENE_APPLICANT = "91210200MA00000H1G"


@dataclass(frozen=True)
class TwoCases:
    """A food case (market_regulation) accepted by window-a, in the green channel with steward-1; a hygiene
    case (health) still at the window. Both from the intake portal."""

    cases: Cases
    food: str
    hygiene: str


def _intake(matter_code: str, applicant_id: str) -> Intake:
    return Intake(
        actor=PORTAL,
        applicant=applicant(applicant_id),
        matter_code=matter_code,
        materials=all_materials(matter_code),
        channel=Channel.ONLINE,
        received_at=datetime.now(UTC),
    )


@pytest.fixture
async def two_cases(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[TwoCases]:
    """The two cases, once visibility shows both with the readers they have now."""
    async with run_worker(dev_server.client) as task_queue:
        cases = kit_cases(dev_server.client, task_queue)
        food, hygiene = (f"SCOPE-{name}-{uuid.uuid4().hex[:8]}" for name in ("FOOD", "HYGIENE"))
        await cases.submit(food, _intake("FOOD-BUSINESS", FOOD_APPLICANT))
        await cases.submit(hygiene, _intake("PUBLIC-PLACE-HYGIENE", HYGIENE_APPLICANT))
        await cases.act(food, AcceptApplication(actor=window_officer("window-a")))
        designation = ChangeGreenChannel(
            actor=supervisor(), green_channel=True, steward=steward(), reason="重点"
        )
        await cases.act(food, designation)
        await cases.registered(hygiene, reader=None)
        both = TwoCases(cases, food, hygiene)
        for _ in range(100):  # visibility is eventually consistent: wait for the readers the cases have now
            if await _listed(both, steward()) == {food}:
                break
            await asyncio.sleep(0.1)
        yield both


async def _listed(both: TwoCases, reader: Actor) -> set[str]:
    query = f"WorkflowId IN ('{both.food}', '{both.hygiene}')"
    return {case.application_id for case in await both.cases.find(query, reader=reader)}


async def _reads(both: TwoCases, reader: Actor, application_id: str) -> bool:
    """Whether ``reader`` gets the case's state and events; a case they may not read is unknown to them.

    The state comes from the case's memo (the client's read with the caller's instant); the case's own
    ``state_for`` query, asked at the same instant, must answer the same."""
    at = datetime.now(UTC)
    asked = await both.cases.client.get_workflow_handle(application_id).query(
        ApplicationWorkflow.state_for, ReadRequest(reader=reader, at=at)
    )
    try:
        view = await both.cases.state(application_id, at, reader=reader)
    except UnknownApplication:
        assert asked is None
        with pytest.raises(UnknownApplication):
            await both.cases.events(application_id, reader=reader)
        return False
    assert view == asked
    assert view.application_id == application_id
    assert await both.cases.events(application_id, reader=reader)
    return True


READERS: list[tuple[Actor, set[str]]] = [
    (supervisor(), {"food", "hygiene"}),
    (Actor(id="operator-8890", role=Role.HOTLINE_OPERATOR), {"food", "hygiene"}),
    (applicant_actor(FOOD_APPLICANT), {"food"}),
    (applicant_actor(HYGIENE_APPLICANT), {"hygiene"}),
    (applicant_actor("110101199001011234"), set()),
    (steward(), {"food"}),
    (steward("steward-2"), set()),
    (approver("market_regulation"), {"food"}),
    (approver("health"), {"hygiene"}),
    (department_head("health"), {"hygiene"}),
    (government_leader(), {"food", "hygiene"}),
    (
        window_officer("window-a"),
        {"food", "hygiene"},
    ),  # acted on the food case; the hygiene one is at the window
    (window_officer("window-b"), {"hygiene"}),
    (PORTAL, {"food", "hygiene"}),
    (Actor(id="other-portal", role=Role.SYSTEM), set()),
]


async def test_each_role_reads_and_lists_exactly_the_cases_it_covers(two_cases: TwoCases) -> None:
    """For every reader: each case read or 'unknown', and the list, agree with the role's scope."""
    names = {"food": two_cases.food, "hygiene": two_cases.hygiene}
    for reader, expected in READERS:
        readable = {name for name, number in names.items() if await _reads(two_cases, reader, number)}
        assert readable == expected, reader
        listed = {name for name, number in names.items() if number in await _listed(two_cases, reader)}
        assert listed == expected, reader
