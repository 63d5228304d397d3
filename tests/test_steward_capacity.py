"""How many open cases one steward (项目管家) may hold: the register's rules, the activity that asks it, the
worker's setting, and green-channel cases refused past the capacity at intake and on a supervisor's change."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

import worker
from activities.outbox import Outbox
from activities.stewards import StewardActivities
from cli import run as run_cli
from gateway.app import create_app
from gateway.tokens import TokenBook
from tests.builders import all_materials, applicant, supervisor
from tests.case_helpers import Handle, act, refusal, registered, registration_failure
from tests.test_gateway import bearer, client_of
from workflows.application_workflow import ApplicationWorkflow
from workflows.boundary import BoundaryInterceptor
from workflows.domain.calendar import SHANGHAI
from workflows.domain.catalogue import Catalogue
from workflows.domain.commands import ChangeGreenChannel, WithdrawApplication
from workflows.domain.events import Actor, Channel, Role
from workflows.domain.values import MAX_NAME
from workflows.messages import Intake
from workflows.registry import WORKFLOW_RUNNER
from workflows.server_limits import DYNAMIC_CONFIG
from workflows.steward_register import (
    MAX_CAPACITY,
    MAX_CARRIED_BYTES,
    Carried,
    Hold,
    StewardLoad,
    StewardSlot,
    carried_bytes,
    register_id,
)
from workflows.testkit import (
    kit_cases,
    kit_security,
    onewindow_replayer,
    onewindow_worker,
    time_skipping_server,
)

INTAKE_SYSTEM = Actor(id="intake-portal", role=Role.SYSTEM)
REPLAYER = onewindow_replayer(kit_security().data_converter())


def _fresh_steward() -> Actor:
    """A steward of this test alone: registers outlive a test on a shared server."""
    return Actor(id=f"steward-{uuid.uuid4().hex[:10]}", role=Role.STEWARD, name="项目管家")


# --- the register workflow -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _register_worker(client: Client) -> AsyncIterator[str]:
    """A worker hosting registers alone, on a fresh queue."""
    task_queue = f"steward-test-{uuid.uuid4().hex[:12]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[StewardLoad],
        workflow_runner=WORKFLOW_RUNNER,
        interceptors=[BoundaryInterceptor()],
    ):
        yield task_queue


def _start(
    register: str, task_queue: str, carried: Carried | None
) -> WithStartWorkflowOperation[StewardLoad, None]:
    return WithStartWorkflowOperation(
        StewardLoad.run,
        carried or Carried(),
        id=register,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def _hold(
    client: Client, task_queue: str, register: str, hold: Hold, carried: Carried | None = None
) -> bool:
    return await client.execute_update_with_start_workflow(
        StewardLoad.hold, hold, start_workflow_operation=_start(register, task_queue, carried)
    )


async def _release(client: Client, task_queue: str, register: str, case_id: str) -> None:
    await client.execute_update_with_start_workflow(
        StewardLoad.release, case_id, start_workflow_operation=_start(register, task_queue, None)
    )


async def _refused_hold(client: Client, task_queue: str, register: str, hold: Hold) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _hold(client, task_queue, register, hold)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


def _register(client: Client, register: str) -> WorkflowHandle[StewardLoad, None]:
    return client.get_workflow_handle_for(StewardLoad.run, register)


async def test_a_steward_holds_each_case_once_up_to_capacity_and_a_released_slot_is_free_again(
    time_skipping: WorkflowEnvironment,
) -> None:
    """Holding a held case answers True again; one more past capacity is refused StewardAtCapacity before
    history; a release frees a slot, and releasing a case not held changes nothing."""
    client = time_skipping.client
    steward = _fresh_steward()
    async with _register_worker(client) as task_queue:
        register = register_id(steward.id, task_queue)
        assert steward.id not in register
        assert await _hold(client, task_queue, register, Hold(case_id="APP-1", capacity=2))
        assert await _hold(client, task_queue, register, Hold(case_id="APP-1", capacity=2))
        assert await _hold(client, task_queue, register, Hold(case_id="APP-2", capacity=2))
        refused = await _refused_hold(client, task_queue, register, Hold(case_id="APP-3", capacity=2))
        assert (refused.type, refused.non_retryable) == ("StewardAtCapacity", True)
        assert "already holds 2 open cases" in refused.message
        assert await _hold(client, task_queue, register, Hold(case_id="APP-2", capacity=2))  # held: still yes
        handle = _register(client, register)
        assert await handle.query(StewardLoad.cases) == ("APP-1", "APP-2")

        await _release(client, task_queue, register, "APP-1")
        await _release(client, task_queue, register, "APP-1")
        await _release(client, task_queue, register, "APP-never-held")
        assert await handle.query(StewardLoad.cases) == ("APP-2",)
        assert await _hold(client, task_queue, register, Hold(case_id="APP-3", capacity=2))
        assert await handle.query(StewardLoad.cases) == ("APP-2", "APP-3")
        accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        history = await handle.fetch_history()
        assert sum(event.event_type == accepted for event in history.events) == 8  # the refusal is not there
        await handle.terminate()


async def test_two_simultaneous_holds_for_the_last_slot_do_not_both_pass(
    time_skipping: WorkflowEnvironment,
) -> None:
    """Two workers asking at the same instant: the register takes one, and refuses the other typed."""
    client = time_skipping.client
    async with _register_worker(client) as task_queue:
        register = register_id(_fresh_steward().id, task_queue)
        answers = await asyncio.gather(
            *(_hold(client, task_queue, register, Hold(case_id=f"APP-{n}", capacity=1)) for n in range(2)),
            return_exceptions=True,
        )
        refused = [a for a in answers if isinstance(a, WorkflowUpdateFailedError)]
        assert answers.count(True) == 1
        assert len(refused) == 1
        assert isinstance(refused[0].cause, ApplicationError)
        assert refused[0].cause.type == "StewardAtCapacity"
        assert len(await _register(client, register).query(StewardLoad.cases)) == 1
        await _register(client, register).terminate()


async def test_a_malformed_hold_or_release_is_refused_typed_and_the_capacity_is_bounded(
    time_skipping: WorkflowEnvironment,
) -> None:
    """A capacity outside 1..MAX_CAPACITY or a case number that is none is refused InvalidCommand."""
    client = time_skipping.client
    async with _register_worker(client) as task_queue:
        register = register_id(_fresh_steward().id, task_queue)
        for capacity in (0, MAX_CAPACITY + 1):
            bad = Hold.model_construct(case_id="APP-1", capacity=capacity)
            assert (await _refused_hold(client, task_queue, register, bad)).type == "InvalidCommand"
        unnumbered = Hold.model_construct(case_id="not a number", capacity=2)
        assert (await _refused_hold(client, task_queue, register, unnumbered)).type == "InvalidCommand"
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await _release(client, task_queue, register, "not a number")
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "InvalidCommand"
        assert await _register(client, register).query(StewardLoad.cases) == ()
        await _register(client, register).terminate()


def test_the_most_cases_a_register_holds_fit_one_payload() -> None:
    """MAX_CAPACITY of the longest ASCII numbers fit the register's bound, itself under the blob limit."""
    longest = tuple(f"{n:04d}" + "A" * (MAX_NAME - 4) for n in range(MAX_CAPACITY))
    assert carried_bytes(longest) <= MAX_CARRIED_BYTES < DYNAMIC_CONFIG["limit.blobSize.error"] - 1024
    assert len(Carried(cases=longest).model_dump_json().encode()) < DYNAMIC_CONFIG["limit.blobSize.error"]


async def test_a_register_whose_numbers_fill_its_payload_refuses_one_more_case(
    time_skipping: WorkflowEnvironment,
) -> None:
    """Long CJK numbers fill the register's bytes before its capacity: the next is StewardAtCapacity."""
    client = time_skipping.client
    numbers = tuple(f"{n:03d}" + "案" * (MAX_NAME - 3) for n in range(MAX_CAPACITY))
    fitting = next(n for n in range(MAX_CAPACITY) if carried_bytes(numbers[: n + 1]) > MAX_CARRIED_BYTES)
    async with _register_worker(client) as task_queue:
        register = register_id(_fresh_steward().id, task_queue)
        carried = Carried(cases=numbers[:fitting])
        held = Hold(case_id=numbers[0], capacity=MAX_CAPACITY)
        assert await _hold(client, task_queue, register, held, carried)
        refused = await _refused_hold(
            client, task_queue, register, Hold(case_id=numbers[fitting], capacity=1000)
        )
        assert refused.type == "StewardAtCapacity"
        assert "fill their register" in refused.message
        await _register(client, register).terminate()


async def test_a_register_continues_as_new_with_its_cases_when_its_history_is_long(
    time_skipping: WorkflowEnvironment,
) -> None:
    """The next run holds every case (before any update reaches it), and both runs replay on this code."""
    client = time_skipping.client
    async with _register_worker(client) as task_queue:
        register = register_id(_fresh_steward().id, task_queue)
        assert await _hold(
            client, task_queue, register, Hold(case_id="APP-0", capacity=5), Carried(history_bound=10)
        )
        handle = _register(client, register)
        first_run = (await handle.describe()).run_id
        for n in range(1, 5):
            await _hold(client, task_queue, register, Hold(case_id=f"APP-{n}", capacity=5))
        await _release(client, task_queue, register, "APP-2")
        refused = await _refused_hold(client, task_queue, register, Hold(case_id="APP-9", capacity=4))
        assert refused.type == "StewardAtCapacity"
        assert (await handle.describe()).run_id != first_run
        assert await handle.query(StewardLoad.cases) == ("APP-0", "APP-1", "APP-3", "APP-4")
        await handle.terminate()
    for run in (first_run, None):
        history = await client.get_workflow_handle(register, run_id=run).fetch_history()
        assert (await REPLAYER.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None


# --- the activity ----------------------------------------------------------------------------------------


async def test_the_hold_activity_answers_false_at_capacity_instead_of_failing(
    time_skipping: WorkflowEnvironment,
) -> None:
    """Through the activity's client, on its own queue: True, True again for a retry, False when full, and
    True once a release has freed the slot."""
    client = time_skipping.client
    steward = _fresh_steward()
    stewards = StewardActivities(capacity=1)
    async with _register_worker(client) as task_queue:
        env = ActivityEnvironment(client)
        env.info = dataclasses.replace(env.info, task_queue=task_queue)
        first = StewardSlot(steward_id=steward.id, case_id="APP-1", sequence=0)
        second = StewardSlot(steward_id=steward.id, case_id="APP-2", sequence=0)
        assert await env.run(stewards.hold_steward, first)
        assert await env.run(stewards.hold_steward, first)
        assert not await env.run(stewards.hold_steward, second)
        await env.run(stewards.release_steward, first.model_copy(update={"sequence": 5}))
        assert await env.run(stewards.hold_steward, second)
        register = _register(client, register_id(steward.id, task_queue))
        assert await register.query(StewardLoad.cases) == ("APP-2",)
        await register.terminate()


@pytest.mark.parametrize("capacity", [0, MAX_CAPACITY + 1])
def test_a_capacity_outside_its_range_is_refused_when_the_activities_are_made(capacity: int) -> None:
    """A steward holds 1 to MAX_CAPACITY cases: anything else is a configuration mistake."""
    with pytest.raises(ValueError, match="capacity"):
        StewardActivities(capacity)


# --- the worker's setting --------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["0", "1001", "twenty", "-3", "２０"])
def test_a_bad_steward_capacity_stops_the_worker_at_start_with_one_line_naming_it(
    given: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and one JSON line naming the variable, before anything connects or listens."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # a cluster: no dev server is started
    for variable in (
        worker.CREDIT_BAR_MONTHS_VARIABLE,
        worker.CREDIT_PLATFORM_URL_VARIABLE,
        worker.CREDIT_PLATFORM_TOKEN_VARIABLE,
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(worker.STEWARD_CAPACITY_VARIABLE, given)
    assert worker.main(["--metrics-port", "0"]) == 2
    logged = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert logged["event"] == "worker_failed"
    assert "ONEWINDOW_STEWARD_CAPACITY" in logged["error"]


def test_the_steward_capacity_defaults_to_twenty_cases() -> None:
    """Nothing set: 20; a value set is read, spaces around it ignored."""
    assert worker.steward_capacity({}) == 20
    assert worker.steward_capacity({"ONEWINDOW_STEWARD_CAPACITY": " 5 "}) == 5


# --- green-channel cases, end to end ---------------------------------------------------------------------


@dataclass
class Window:
    """A time-skipping server of the test's own, with a worker whose stewards hold at most two cases."""

    env: WorkflowEnvironment
    task_queue: str

    async def open(self, steward: Actor | None = None, number: str = "") -> Handle:
        """Start a hygiene case (in the green channel with ``steward``, if given)."""
        now = (await self.env.get_current_time()).astimezone(SHANGHAI)
        return await self.env.client.start_workflow(
            ApplicationWorkflow.run,
            _intake(now, steward),
            id=number or f"APP-{uuid.uuid4().hex[:10]}",
            task_queue=self.task_queue,
        )

    async def held_by(self, steward: Actor) -> tuple[str, ...]:
        """The cases the steward's register holds."""
        return await _register(self.env.client, register_id(steward.id, self.task_queue)).query(
            StewardLoad.cases
        )

    async def once_held(self, steward: Actor, expected: tuple[str, ...]) -> None:
        """Wait until the register holds ``expected``: a closing case frees its slot a moment later."""
        held: tuple[str, ...] = ()
        for _ in range(400):
            held = await self.held_by(steward)
            if held == expected:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"the steward holds {held}, not {expected}")

    async def replay_all(self, *handles: WorkflowHandle[Any, Any]) -> None:
        """Each case's history replays on this code without divergence."""
        for handle in handles:
            history = await handle.fetch_history()
            assert (
                await REPLAYER.replay_workflow(history, raise_on_replay_failure=False)
            ).replay_failure is None


def _intake(received_at: datetime, steward: Actor | None) -> Intake:
    return Intake(
        actor=INTAKE_SYSTEM,
        applicant=applicant(),
        matter_code="PUBLIC-PLACE-HYGIENE",
        materials=all_materials("PUBLIC-PLACE-HYGIENE"),
        channel=Channel.WINDOW,
        received_at=received_at,
        green_channel=steward is not None,
        steward=steward,
    )


@pytest.fixture
async def window(catalogue: Catalogue, outbox: Outbox) -> AsyncIterator[Window]:
    """Stewards of two cases at most, on a server of the test's own (its clock is the test's alone)."""
    async with (
        time_skipping_server() as env,
        onewindow_worker(env.client, outbox, catalogue=catalogue, steward_capacity=2) as cases,
    ):
        yield Window(env, cases.task_queue)


async def _failed(handle: Handle) -> ApplicationError:
    """The typed error the case failed with, read once it has (a result awaited here may skip time)."""
    for _ in range(400):
        if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
            return await registration_failure(handle)
        await asyncio.sleep(0.025)
    raise AssertionError(f"{handle.id} is still running")


def _designation(steward: Actor) -> ChangeGreenChannel:
    return ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=steward, reason="市重点项目")


async def test_a_steward_at_capacity_is_refused_at_intake_and_on_a_change_until_a_case_closes(
    window: Window,
) -> None:
    """Two cases with S register; a third intake fails StewardAtCapacity (its number free again), and a
    supervisor moving a fourth case to S is refused so; once S withdraws one, S takes the third."""
    steward = _fresh_steward()
    first = await window.open(steward)
    await registered(first)  # one after the other: the register keeps the order its cases came in
    second = await window.open(steward)
    await registered(second)
    await window.once_held(steward, (first.id, second.id))

    third = await window.open(steward)
    failure = await _failed(third)
    assert (failure.type, failure.non_retryable) == ("StewardAtCapacity", True)
    fourth = await window.open()
    assert await refusal(fourth, _designation(steward)) == "StewardAtCapacity"
    assert await window.held_by(steward) == (first.id, second.id)

    await act(first, WithdrawApplication(actor=steward))
    await window.once_held(steward, (second.id,))
    again = await window.open(steward, number=third.id)  # never claimed: the number is free
    await registered(again)
    assert await window.held_by(steward) == (second.id, third.id)
    assert await refusal(fourth, _designation(steward)) == "StewardAtCapacity"
    await window.replay_all(first, second, third, again, fourth)


async def test_a_replaced_steward_frees_the_slot_and_a_case_taken_out_frees_the_new_one(
    window: Window,
) -> None:
    """A supervisor's change holds the new steward's slot and frees the previous one's; out of the green
    channel, the case holds none; a change to a full steward leaves the case with the steward it had."""
    steward, successor = _fresh_steward(), _fresh_steward()
    case = await window.open(steward)
    await registered(case)
    await window.once_held(steward, (case.id,))

    view = await act(case, _designation(successor))
    assert view.steward == successor
    assert (await window.held_by(steward), await window.held_by(successor)) == ((), (case.id,))

    others = [await window.open(steward) for _ in range(2)]
    for other in others:
        await registered(other)  # side by side: the register holds them in either order
    assert await refusal(case, _designation(steward)) == "StewardAtCapacity"
    assert set(await window.held_by(steward)) == {other.id for other in others}
    assert await window.held_by(successor) == (case.id,)

    out = ChangeGreenChannel(actor=supervisor(), green_channel=False, reason="不再列入重点项目")
    assert (await act(case, out)).steward is None
    assert await window.held_by(successor) == ()
    await window.replay_all(case, *others)


async def test_a_case_without_a_steward_asks_no_register(window: Window) -> None:
    """An ordinary case registers and closes without a steward's slot: no hold or release is scheduled."""
    case = await window.open()
    await registered(case)
    await act(case, WithdrawApplication(actor=Actor(id=applicant().id_number, role=Role.APPLICANT)))
    for _ in range(400):
        if (await case.describe()).status is not WorkflowExecutionStatus.RUNNING:
            break
        await asyncio.sleep(0.025)
    scheduled = {
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in (await case.fetch_history()).events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    assert not scheduled & {"hold_steward", "release_steward"}


async def test_a_steward_past_capacity_is_refused_through_the_gateway_and_the_cli(
    dev_server: WorkflowEnvironment, outbox: Outbox, catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a capacity of one, the steward's second case is refused 409 StewardAtCapacity over HTTP and
    exit 2 from the CLI, and the first case is untouched."""
    helper = f"steward-cap-{uuid.uuid4().hex[:6]}"
    tokens = TokenBook.of({"portal": Actor(id="intake-portal", role=Role.SYSTEM)})
    async with onewindow_worker(dev_server.client, outbox, catalogue=catalogue, steward_capacity=1) as served:
        cases = kit_cases(dev_server.client, served.task_queue)
        body = {
            "applicant": {
                "id_number": "91210200MA0000051S",
                "name": "大连示例食品有限公司",
                "contact": "0411-1",
            },
            "matter_code": "FOOD-BUSINESS",
            "materials": list(all_materials("FOOD-BUSINESS")),
            "channel": "online",
            "received_at": datetime.now(SHANGHAI).isoformat(),
            "green_channel": True,
            "steward": {"id": helper, "role": "steward"},
        }
        async with client_of(create_app(cases, tokens)) as http:
            first = await http.post(
                "/applications", json={**body, "application_id": f"{helper}-1"}, headers=bearer("portal")
            )
            assert first.status_code == 201, first.text
            second = await http.post(
                "/applications", json={**body, "application_id": f"{helper}-2"}, headers=bearer("portal")
            )
            assert (second.status_code, second.json()["type"]) == (409, "StewardAtCapacity")
        capsys.readouterr()
        code = await run_cli(
            [
                "submit", "--id", f"{helper}-3", "--matter", "FOOD-BUSINESS",
                "--applicant-id", "91210200MA0000051S", "--applicant-name", "大连示例食品有限公司",
                "--contact", "0411-1", "--channel", "window",
                *[flag for code in all_materials("FOOD-BUSINESS") for flag in ("--material", code)],
                "--green-channel", "--steward", f"{helper}:steward", "--as", "window-8:window_officer",
            ],
            cases=cases,
        )  # fmt: skip
        assert code == 2
        assert "StewardAtCapacity" in capsys.readouterr().err
        assert (await cases.state(f"{helper}-1", reader=None)).status.value == "received"
