"""The Python client against the real dev server: what the CLI, the gateway and integrators rely on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.builders import (
    all_materials,
    applicant,
    approver,
    drive_to,
    shipped_matter,
    supervisor,
    window_officer,
)
from tests.conftest import RunWorker
from workflows import search_attributes
from workflows.application_workflow import ApplicationWorkflow
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
from workflows.domain.commands import (
    AcceptApplication,
    ChangeGreenChannel,
    RecordApproval,
    WithdrawApplication,
)
from workflows.domain.events import Actor, Channel, Role
from workflows.domain.values import MAX_IDEMPOTENCY_KEY
from workflows.messages import GREEN_CHANNEL_PRIORITY, ORDINARY_PRIORITY, ApplicationView, Intake
from workflows.reference_data import load_calendar
from workflows.server_limits import MAX_SIGNALS_PER_CASE
from workflows.testkit import kit_cases

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


@pytest.fixture
async def cases(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[Cases]:
    """The client of a onewindow worker running on the dev server, on a fresh task queue."""
    async with run_worker(dev_server.client) as task_queue:
        yield kit_cases(dev_server.client, task_queue)


async def _submitted(cases: Cases, received_at: datetime | None = None) -> str:
    """A new case of the hygiene permit, received at ``received_at`` (now by default); its number."""
    number = f"APP-{uuid.uuid4().hex[:8]}"
    await cases.submit(number, _intake(received_at or datetime.now(UTC)))
    return number


async def _eventually(find: Callable[[], Awaitable[list[CaseSummary]]], wanted: str) -> list[CaseSummary]:
    """Poll a visibility list briefly (it is eventually consistent) until ``wanted`` appears."""
    found: list[CaseSummary] = []
    for _ in range(50):
        found = await find()
        if any(case.application_id == wanted for case in found):
            break
        await asyncio.sleep(0.1)
    return found


async def test_a_case_is_submitted_once_acted_on_read_and_listed(cases: Cases) -> None:
    """Submit, refuse a duplicate, accept, read state and events, and find it by matter."""
    number = await _submitted(cases)
    with pytest.raises(AlreadySubmitted):
        await cases.submit(number, _intake(datetime.now(UTC)))
    view = await cases.act(number, AcceptApplication(actor=window_officer()), idempotency_key="accept-1")
    assert view.status is Status.UNDER_REVIEW
    assert (await cases.state(number, datetime.now(UTC), reader=None)).due_at == view.due_at
    # Accepted as soon as it was registered: the command waited for the worker, it was not refused.
    assert [e.kind for e in await cases.events(number, reader=None)][:3] == [
        "application_submitted",
        "deadlines_planned",
        "application_accepted",
    ]
    found = await _eventually(lambda: cases.find(matter_query("PUBLIC-PLACE-HYGIENE"), reader=None), number)
    (summary,) = [case for case in found if case.application_id == number]
    assert (summary.status, summary.departments, summary.running) == ("under_review", ("health",), True)


@pytest.mark.parametrize("key", ["", "k" * (MAX_IDEMPOTENCY_KEY + 1), "two words", "键", "tab\there"])
async def test_an_idempotency_key_temporal_could_not_carry_is_refused_typed_before_any_call(
    cases: Cases, key: str
) -> None:
    """A 5,000-character key came back as an untyped RPC error; now it is InvalidCommand, sent nowhere."""
    number = await _submitted(cases)
    with pytest.raises(Refused) as refused:
        await cases.act(number, AcceptApplication(actor=window_officer()), idempotency_key=key)
    assert refused.value.type == "InvalidCommand"
    with pytest.raises(Refused):
        await cases.submit(f"{number}-2", _intake(datetime.now(UTC)), idempotency_key=key)
    assert (await cases.registered(number, reader=None)).status is Status.RECEIVED


async def test_refusals_and_unknown_numbers_come_back_as_typed_client_errors(cases: Cases) -> None:
    """受审分离 refused as Refused('SeparationOfDuties'); an unknown number as UnknownApplication."""
    number = await _submitted(cases)
    await cases.act(number, AcceptApplication(actor=window_officer()))
    acceptor = Actor(id=window_officer().id, role=Role.APPROVER, department="health")
    with pytest.raises(Refused) as refused:
        await cases.act(number, RecordApproval(actor=acceptor, step="health", approved=True))
    assert refused.value.type == "SeparationOfDuties"
    with pytest.raises(UnknownApplication):
        await cases.state("APP-NO-SUCH-CASE", reader=None)


async def test_overdue_cases_are_listed_and_every_running_case_hears_of_a_new_calendar(cases: Cases) -> None:
    """A case received weeks ago (deemed accepted, overdue at once) is listed; the revision reaches it."""
    number = await _submitted(cases, datetime.now(UTC) - timedelta(days=30))
    found = await _eventually(lambda: cases.find(overdue_query(datetime.now(UTC)), reader=None), number)
    assert number in [case.application_id for case in found]
    assert number in (await cases.announce_calendar_revision()).signalled


async def test_a_calendar_announcement_skips_cases_on_that_version_and_reports_those_it_cannot_reach(
    cases: Cases,
) -> None:
    """Each case takes 100 signals: a repeated announcement spends none of them, and a case whose
    budget is spent is named, while the others still hear."""
    on_it, spent = await _submitted(cases), await _submitted(cases)
    version = load_calendar().version
    listed = set()
    for number in (on_it, spent):  # visibility may list one before the other
        found = await _eventually(
            lambda: cases.find(f"{search_attributes.CALENDAR.name} = '{version}'", reader=None), number
        )
        listed |= {case.application_id for case in found}
    assert {on_it, spent} <= listed
    handle = cases.client.get_workflow_handle(spent)
    for _ in range(MAX_SIGNALS_PER_CASE):  # signals by any name count
        await handle.signal("anything")
    announcement = await cases.announce_calendar_revision(version)
    assert {on_it, spent}.isdisjoint(announcement.signalled)
    assert spent not in announcement.unreached
    elsewhere = await cases.announce_calendar_revision("cal-000000000000")
    assert on_it in elsewhere.signalled
    assert "limit for signal events" in elsewhere.unreached[spent]
    with pytest.raises(Refused):
        await cases.announce_calendar_revision("cal-' OR 1=1 --")


async def _workflow_priority(handle: WorkflowHandle[Any, Any], wanted: int) -> int:
    """The case's own priority key once it is ``wanted`` (the activity that sets it runs a moment later)."""
    key = -1
    for _ in range(50):
        key = (await handle.describe()).raw_description.workflow_execution_info.priority.priority_key
        if key == wanted:
            break
        await asyncio.sleep(0.1)
    return key


async def _scheduled_priorities(handle: WorkflowHandle[Any, Any]) -> dict[str, int]:
    """Each activity the case scheduled, with the priority key it was scheduled with (the last, if many)."""
    scheduled = {}
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            scheduled[attributes.activity_type.name] = attributes.priority.priority_key
    return scheduled


async def test_a_case_put_into_the_green_channel_runs_with_priority_in_every_queue(cases: Cases) -> None:
    """绿色通道: the case's own tasks and every activity after the change go first; out again, they do not."""
    number = await _submitted(cases)
    handle = cases.client.get_workflow_handle_for(ApplicationWorkflow.run, number)
    assert await _workflow_priority(handle, ORDINARY_PRIORITY.priority_key or 0) == 3

    steward = Actor(id="steward-1", role=Role.STEWARD)
    designation = ChangeGreenChannel(
        actor=supervisor(), green_channel=True, steward=steward, reason="市重点项目"
    )
    assert (await cases.act(number, designation)).green_channel
    assert await _workflow_priority(handle, 1) == GREEN_CHANNEL_PRIORITY.priority_key
    assert (await handle.describe()).typed_search_attributes.get(search_attributes.GREEN_CHANNEL) is True
    await cases.act(number, AcceptApplication(actor=window_officer()))
    assert (await _scheduled_priorities(handle))["perform_effects"] == 1

    leaving = ChangeGreenChannel(actor=supervisor(), green_channel=False, reason="不再列入重点项目")
    await cases.act(number, leaving)
    assert await _workflow_priority(handle, 3) == 3
    await cases.act(number, RecordApproval(actor=approver("health"), step="health", approved=True))
    assert (await handle.result()).status is Status.ISSUED
    assert (await _scheduled_priorities(handle))["issue_licence"] == 3


async def test_a_case_closed_before_its_decision_leaves_no_due_date_for_the_overdue_list(
    cases: Cases,
) -> None:
    """Withdrawn under review: OwDueAt is cleared, so `OwDueAt < now` never lists a closed case."""
    number = await _submitted(cases)
    handle = cases.client.get_workflow_handle_for(ApplicationWorkflow.run, number)
    await cases.act(number, AcceptApplication(actor=window_officer()))
    assert (await handle.describe()).typed_search_attributes.get(search_attributes.DUE_AT) is not None
    withdrawal = WithdrawApplication(actor=Actor(id=applicant().id_number, role=Role.APPLICANT))
    view = await cases.act(number, withdrawal)
    assert view.status is Status.WITHDRAWN
    # No deadline still shown for it, nor days "left"; when it closed, and the days it used, are.
    assert (view.due_at, view.last_day, view.working_days_left) == (None, None, None)
    assert view.closed_at is not None
    assert view.working_days_used == 0
    await handle.result()
    assert (await handle.describe()).typed_search_attributes.get(search_attributes.DUE_AT) is None


async def test_why_a_case_never_registered_is_told_to_its_submitter_and_to_no_stranger(cases: Cases) -> None:
    """A mistyped matter fails the case; its submitter learns UnknownMatter, another applicant nothing."""
    number = f"APP-{uuid.uuid4().hex[:8]}"
    portal = Actor(id="intake-portal", role=Role.SYSTEM)
    await cases.submit(number, _intake(datetime.now(UTC)).model_copy(update={"matter_code": "FOOD-BUSNESS"}))
    with pytest.raises(Refused) as refused:
        await cases.registered(number, reader=portal)
    assert refused.value.type == "UnknownMatter"
    stranger = Actor(id="110101199001011234", role=Role.APPLICANT)
    with pytest.raises(UnknownApplication):
        await cases.registered(number, reader=stranger)
    assert await cases.registration_refusal(number, reader=supervisor()) is not None


class _JustStarted:
    """A Temporal client over a case that was started a moment ago: the first update finds no execution
    (the server has not made it yet), the next one is taken."""

    def __init__(self, view: ApplicationView) -> None:
        self.view = view
        self.updates = 0

    def get_workflow_handle(self, *_: object, **__: object) -> _JustStarted:
        return self

    async def execute_update(self, *_: object, **__: object) -> ApplicationView:
        self.updates += 1
        if self.updates == 1:
            raise RPCError("Execution not found in mutable state", RPCStatusCode.NOT_FOUND, b"")
        return self.view

    async def describe(self) -> Any:
        return SimpleNamespace(status=WorkflowExecutionStatus.RUNNING)

    async def query(self, *_: object, **__: object) -> ApplicationView:
        return self.view


async def test_an_update_the_server_did_not_find_on_an_open_case_just_started_is_sent_again() -> None:
    """Not ``NotAllowed`` for a case that is open: a NOT_FOUND on one just started is transient."""
    case = drive_to(Status.RECEIVED, shipped_matter("PUBLIC-PLACE-HYGIENE"))
    fake = _JustStarted(ApplicationView.of(case.state, case.now))
    cases = Cases(cast(Client, fake))
    view = await cases.act("APP-0001", AcceptApplication(actor=window_officer()))
    assert view.status is Status.RECEIVED
    assert fake.updates == 2
