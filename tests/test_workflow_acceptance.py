"""Acceptance at the one window, end to end on the time-skipping server (DESIGN.md sections 1-4).

Each test runs ApplicationWorkflow on a fresh task queue with the real activities, and reads the case the way
supervision does: the ``state`` query (the view), the ``events`` query (kind, instant, actor) and the outbox
(what licensing, supervision, notification and credit were told).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowHistory,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from tests.builders import (
    APPLICANT_ID,
    applicant,
    applicant_actor,
    approver,
    secondary_materials,
    shipped_matter,
    steward,
    supervisor,
    window_officer,
)
from tests.case_helpers import (
    Handle,
    act,
    case_events,
    final_view,
    notices_told,
    refusal,
    registration_failure,
)
from tests.conftest import RunWorker
from workflows.application_workflow import ApplicationWorkflow
from workflows.client import Cases
from workflows.domain.application import REPEAT_LIMITS, Status, approval_rounds
from workflows.domain.calendar import SHANGHAI
from workflows.domain.catalogue import Catalogue, DeficiencyMode, Importance
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ChangeGreenChannel,
    CreditStanding,
    DeemAccepted,
    RecordApproval,
    ReferElsewhere,
    RejectApplication,
    RequestCorrection,
    SupplementMaterials,
    WithdrawApplication,
)
from workflows.domain.events import (
    AcceptedWithDeficiencies,
    Actor,
    ApplicationAbandoned,
    ApplicationAccepted,
    ApplicationEvent,
    ApplicationNotAccepted,
    ApplicationReferred,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    Channel,
    CorrectionRequested,
    Event,
    GreenChannelChanged,
    LicenceIssued,
    LicenceRevoked,
    MaterialsSupplemented,
    Role,
)
from workflows.messages import ApplicationView, Intake
from workflows.orchestration import VERSIONS_OF_8_DECEMBER
from workflows.testkit import at_rest, onewindow_worker, time_skipping_server

INTAKE_SYSTEM = Actor(id="intake-portal", role=Role.SYSTEM)
OFFICER = window_officer("window-1")
OTHER_OFFICER = window_officer("window-2")
# A Monday, an ordinary working day: no holiday muddies the 容缺 deadlines.
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
_E = TypeVar("_E", bound=Event)


# --- helpers ---


def _application_id() -> str:
    return f"APP-{uuid.uuid4().hex[:10]}"


def intake_of(
    matter_code: str,
    received_at: datetime,
    *,
    leave_out: Sequence[str] = (),
    actor: Actor = INTAKE_SYSTEM,
    applicant_id: str = APPLICANT_ID,
    green_channel: bool = False,
    steward: Actor | None = None,
    commitment: str | None = None,
) -> Intake:
    """An intake of ``matter_code`` with every material except ``leave_out`` (and, on a 告知承诺
    ``commitment``, except the proofs it replaces)."""
    matter = shipped_matter(matter_code)
    if commitment is not None:
        leave_out = (*leave_out, *matter.commitment_proofs)
    return Intake(
        actor=actor,
        applicant=applicant(applicant_id),
        matter_code=matter_code,
        materials=tuple(m.code for m in matter.materials if m.code not in leave_out),
        channel=Channel.WINDOW,
        received_at=received_at,
        green_channel=green_channel,
        steward=steward,
        commitment=commitment,
    )


@dataclass
class Desk:
    """One environment with a worker on a fresh task queue."""

    env: WorkflowEnvironment
    task_queue: str

    async def now(self) -> datetime:
        """The server's clock, in Shanghai."""
        return (await self.env.get_current_time()).astimezone(SHANGHAI)

    async def start(self, intake: Intake, application_id: str = "") -> Handle:
        """Start a case and wait until it is registered with its first deadlines planned."""
        handle = await self.env.client.start_workflow(
            ApplicationWorkflow.run,
            intake,
            id=application_id or _application_id(),
            task_queue=self.task_queue,
        )
        await until(handle, lambda view: view.calendar_version is not None, "deadlines planned")
        return handle


@pytest.fixture
async def desk(run_worker: RunWorker) -> AsyncIterator[Desk]:
    """A time-skipping server of the test's own, at the current time, with a worker on a fresh queue.

    Of its own because the test server keeps a closed case's run-timeout timer (10 years when none is
    set): awaiting a result with nothing else pending skips the clock to it, and a server shared with later
    tests would hand them a date ten years ahead, where no calendar is published.
    """
    async with desk_at(run_worker) as opened:
        yield opened


@contextlib.asynccontextmanager
async def desk_at(run_worker: RunWorker, instant: datetime | None = None) -> AsyncIterator[Desk]:
    """A time-skipping server whose clock starts at ``instant`` (or now), with a worker on it."""
    async with time_skipping_server(instant) as env, run_worker(env.client) as task_queue:
        yield Desk(env, task_queue)


async def view_of(handle: Handle) -> ApplicationView:
    return await handle.query(ApplicationWorkflow.state)


async def until(handle: Handle, predicate: Callable[[ApplicationView], bool], what: str) -> ApplicationView:
    """The view once ``predicate`` holds; the worker reacts to a timer or an activity a moment later."""
    view: ApplicationView | None = None
    for _ in range(200):
        try:
            view = await view_of(handle)
        except WorkflowQueryFailedError:  # still registering: the state query has nothing to show yet
            view = None
        if view is not None and predicate(view):
            return view
        await asyncio.sleep(0.025)
    raise AssertionError(f"{what}: never reached; last view {view}")


def _kinds(events: Sequence[ApplicationEvent]) -> list[str]:
    """The people's and the engine's actions, without the deadline bookkeeping."""
    return [e.kind for e in events if e.kind not in ("deadlines_planned", "warning_raised")]


def _one(events: Sequence[ApplicationEvent], kind: type[_E]) -> _E:
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, f"expected one {kind.__name__}, found {len(found)}"
    return found[0]


def _shanghai_date(instant: datetime) -> date:
    return instant.astimezone(SHANGHAI).date()


async def approve_every_step(handle: Handle) -> ApplicationView:
    """Each pending approval step decided by an approver of its own department, round after round."""
    view = await view_of(handle)
    department_of = {
        s.code: s.department for r in approval_rounds(shipped_matter(view.matter_code)) for s in r
    }
    while True:
        steps = next(
            (tuple(s.code for s in a.steps) for a in view.pending_actions if a.command == "record_approval"),
            (),
        )
        if not steps:
            return view
        for step in steps:
            view = await act(
                handle, RecordApproval(actor=approver(department_of[step]), step=step, approved=True)
            )


def _deficiency(
    missing: Sequence[str], within: int, credit: CreditStanding | None = None
) -> AcceptWithDeficiencies:
    return AcceptWithDeficiencies(
        actor=OFFICER,
        missing=tuple(missing),
        supplement_within=within,
        commitment="容缺承诺-0001",
        credit=credit,
    )


# --- 1. starting a case ---


async def test_the_application_number_is_the_workflow_id_and_a_second_start_is_refused(
    desk: Desk, catalogue: Catalogue
) -> None:
    """One case per application number: a duplicate start is refused and the first case goes on unharmed."""
    application_id = _application_id()
    received = await desk.now()
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", received), application_id)
    view = await view_of(handle)
    assert view.application_id == application_id
    assert view.status is Status.RECEIVED
    submitted = _one(await case_events(handle), ApplicationSubmitted)
    assert isinstance(submitted, ApplicationSubmitted)
    assert submitted.application_id == application_id
    assert submitted.matter == catalogue.matter("PUBLIC-PLACE-HYGIENE")
    assert submitted.catalogue_version == catalogue.version
    assert submitted.actor == INTAKE_SYSTEM
    assert submitted.received_at == received

    count = len(await case_events(handle))
    imposter = intake_of("FOOD-BUSINESS", received, applicant_id="91210200MA9999999X")
    with pytest.raises(WorkflowAlreadyStartedError):
        await desk.env.client.start_workflow(
            ApplicationWorkflow.run, imposter, id=application_id, task_queue=desk.task_queue
        )

    assert len(await case_events(handle)) == count
    assert (await view_of(handle)).matter_code == "PUBLIC-PLACE-HYGIENE"
    accepted = await act(handle, AcceptApplication(actor=OFFICER))
    assert accepted.status is Status.UNDER_REVIEW
    assert accepted.application_id == application_id


async def test_an_intake_that_does_not_parse_fails_its_case_at_once_typed_and_frees_the_number(
    desk: Desk,
) -> None:
    """What `temporal workflow start --input` can send: plain JSON, missing the applicant and the channel."""
    application_id = _application_id()
    received = await desk.now()  # before awaiting the failed case: the test server may then skip years
    handle = await desk.env.client.start_workflow(
        "ApplicationWorkflow",
        {"actor": INTAKE_SYSTEM.model_dump(mode="json"), "matter_code": "FOOD-BUSINESS"},
        id=application_id,
        task_queue=desk.task_queue,
    )
    cause = await registration_failure(handle)
    assert cause.type == "InvalidCommand"
    assert "applicant" in cause.message
    assert "channel" in cause.message
    cases = Cases(desk.env.client, desk.task_queue)  # the product's reuse policy: only a failed number
    await cases.submit(application_id, intake_of("FOOD-BUSINESS", received))
    assert (await cases.registered(application_id, reader=None)).matter_code == "FOOD-BUSINESS"


# --- 2, 3. R-XK-32 and 不动产登记暂行条例 第17条: acceptance by silence ---


async def test_silence_for_five_working_days_means_accepted_as_of_the_receipt_date(
    run_worker: RunWorker,
) -> None:
    """R-XK-32: received 2026-09-29, no notice by 10-12 (National Day, 10-10 worked): accepted as of 09-29."""
    received = datetime(2026, 9, 29, 9, 0, tzinfo=SHANGHAI)
    async with desk_at(run_worker, received) as desk:
        handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", received))
        view = await view_of(handle)
        deemed_at = datetime(2026, 10, 13, 0, 0, tzinfo=SHANGHAI)  # 24:00 of 10-12, the 5th working day
        assert view.acceptance_by == deemed_at
        assert view.due_at is None

        await desk.env.sleep(deemed_at - await desk.now() - timedelta(minutes=1))
        assert (await view_of(handle)).status is Status.RECEIVED
        assert "application_accepted" not in _kinds(await case_events(handle))

        await desk.env.sleep(timedelta(minutes=2))
        view = await until(handle, lambda v: v.status is Status.UNDER_REVIEW, "deemed accepted")
        accepted = _one(await case_events(handle), ApplicationAccepted)
        assert isinstance(accepted, ApplicationAccepted)
        assert accepted.basis == "deemed_by_silence"
        assert accepted.as_of == received
        assert accepted.actor.role is Role.SYSTEM
        assert accepted.at >= deemed_at
        assert _shanghai_date(accepted.at) == date(2026, 10, 13)
        # The clock runs from the receipt date: the promised 5 working days end on 10-12, not 5 after 10-13.
        assert view.last_day == date(2026, 10, 12)
        assert view.due_at == deemed_at
        assert view.acceptance_by is None


@pytest.mark.parametrize("registered_before_8_december", [False, True], ids=["now", "before-8-december"])
async def test_a_deemed_acceptance_and_the_warning_it_makes_due_are_recorded_at_once(
    run_worker: RunWorker, monkeypatch: pytest.MonkeyPatch, registered_before_8_december: bool
) -> None:
    """Deemed accepted as of its receipt, a case's review clock has run five working days already and its
    first warning is due at once: the case records both in the one workflow task and performs their effects
    in one activity, not an activity and a task each. A case registered before ``versions-of-2026-12-08``
    (its marker refused here, as a history without it answers) marks the wake ``deadlines-due-together``;
    one since has no marker of its own for it."""
    if registered_before_8_december:
        patched = workflow.patched
        monkeypatch.setattr(workflow, "patched", lambda id: id != VERSIONS_OF_8_DECEMBER and patched(id))
    received = datetime(2026, 9, 29, 9, 0, tzinfo=SHANGHAI)
    async with desk_at(run_worker, received) as desk:
        handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", received))
        view = await view_of(handle)
        assert view.acceptance_by is not None
        before = len(await case_events(handle))
        await desk.env.sleep(view.acceptance_by - await desk.now() + timedelta(hours=1))
        await until(handle, lambda v: v.status is Status.UNDER_REVIEW, "deemed accepted")
        await asyncio.wait_for(at_rest(desk.env.client, handle.id, every=0.05), timeout=10)  # its effects
        woken = [e.kind for e in (await case_events(handle))[before:]]
        assert woken == ["application_accepted", "deadlines_planned", "warning_raised"]
        history = [event async for event in handle.fetch_history_events()]
        fired = max(i for i, e in enumerate(history) if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED)
        after = history[fired:]
        scheduled = [e for e in after if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert [e.activity_task_scheduled_event_attributes.activity_type.name for e in scheduled] == [
            "perform_effects"
        ]
        tasks = [e for e in after if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
        assert len(tasks) == 2  # the wake (both deadlines recorded) and the effects' result
        markers = [e for e in after if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
        if registered_before_8_december:
            assert any(b"deadlines-due-together" in e.SerializeToString() for e in markers)  # its marker
        else:
            assert not markers  # the case's one marker, recorded as it started, has this version too


async def test_a_real_estate_registration_not_refused_on_the_spot_is_accepted_at_the_end_of_the_receipt_day(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """不动产登记暂行条例 第17条: silence on the receipt day is acceptance; there is no correction period."""
    received = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    async with desk_at(run_worker, received) as desk:
        intake = intake_of("REAL-ESTATE.mortgage", received, leave_out=("tax_payment_proof",))
        handle = await desk.start(intake)
        end_of_receipt_day = datetime(2026, 3, 3, 0, 0, tzinfo=SHANGHAI)
        assert (await view_of(handle)).acceptance_by == end_of_receipt_day

        correction = RequestCorrection(actor=OFFICER, missing=("tax_payment_proof",))
        assert await refusal(handle, correction) == "InvalidCommand"

        await desk.env.sleep(end_of_receipt_day - await desk.now() - timedelta(minutes=1))
        assert (await view_of(handle)).status is Status.RECEIVED
        await desk.env.sleep(timedelta(minutes=2))
        view = await until(handle, lambda v: v.status is Status.UNDER_REVIEW, "accepted at 24:00")
        events = await case_events(handle)
        accepted = _one(events, ApplicationAccepted)
        assert isinstance(accepted, ApplicationAccepted)
        assert accepted.basis == "deemed_by_silence"
        assert accepted.as_of == received
        assert accepted.actor.role is Role.SYSTEM
        assert _shanghai_date(accepted.at) == date(2026, 3, 3)
        assert _kinds(events) == ["application_submitted", "application_accepted"]
        assert view.last_day == date(2026, 3, 9)  # mortgage: 5 working days counted from 03-02
        assert await notices_told(outbox, view.application_id, 1) == ["application_accepted"]


# --- 4. R-XK-32 correction, one notice ---


async def test_a_correction_notice_stops_deemed_acceptance_and_only_the_first_notice_may_name_items(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """R-XK-32: one notice lists every missing item; silence no longer deems; supplement then accept."""
    missing = ("hygiene_rules", "staff_health_certificates")
    async with desk_at(run_worker, MONDAY) as desk:
        handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", MONDAY, leave_out=missing))
        incomplete = RequestCorrection(actor=OFFICER, missing=missing[:1])
        assert await refusal(handle, incomplete) == "InvalidCommand"

        view = await act(handle, RequestCorrection(actor=OFFICER, missing=missing))
        assert view.status is Status.CORRECTION_REQUESTED
        assert view.acceptance_by is None
        notice = _one(await case_events(handle), CorrectionRequested)
        assert isinstance(notice, CorrectionRequested)
        assert notice.missing == missing
        assert notice.actor == OFFICER
        assert _shanghai_date(notice.at) == date(2026, 3, 2)

        await desk.env.sleep(timedelta(days=10))
        assert (await view_of(handle)).status is Status.CORRECTION_REQUESTED
        assert "application_accepted" not in _kinds(await case_events(handle))

        second = RequestCorrection(actor=OFFICER, missing=(*missing, "site_plans"))
        assert await refusal(handle, second) == "CorrectionNotOneTime"

        view = await act(handle, SupplementMaterials(actor=applicant_actor(), materials=missing))
        assert view.missing == ()
        supplied = _one(await case_events(handle), MaterialsSupplemented)
        assert supplied.actor.id == APPLICANT_ID
        assert supplied.actor.role is Role.APPLICANT

        view = await act(handle, AcceptApplication(actor=OTHER_OFFICER))
        assert view.status is Status.UNDER_REVIEW
        accepted = _one(await case_events(handle), ApplicationAccepted)
        assert isinstance(accepted, ApplicationAccepted)
        assert accepted.basis == "decided"
        assert accepted.actor == OTHER_OFFICER
        assert accepted.as_of == accepted.at
        assert _shanghai_date(accepted.at) == date(2026, 3, 12)
        assert view.last_day == date(2026, 3, 19)  # 5 working days counted from the acceptance, 03-12
        notices = await notices_told(outbox, view.application_id, 2)
        assert notices == ["correction_requested", "application_accepted"]


async def test_a_command_sent_before_the_case_is_registered_is_refused_and_retried_with_its_update_id(
    catalogue: Catalogue, outbox: Outbox
) -> None:
    """No rule can be checked before the catalogue entry is in: refused (NotYetRegistered), not recorded.

    The case and the command wait together for a worker, so the command reaches the case before its
    registration. A refusal recorded as a failed update would be returned again to a retry with the same
    update id; refused in the validator, the retry is a new attempt and takes effect once.
    """
    task_queue = f"onewindow-test-{uuid.uuid4().hex[:12]}"
    async with time_skipping_server() as env:
        received = (await env.get_current_time()).astimezone(SHANGHAI)
        handle = await env.client.start_workflow(
            ApplicationWorkflow.run,
            intake_of("PUBLIC-PLACE-HYGIENE", received),
            id=_application_id(),
            task_queue=task_queue,
        )
        accept = AcceptApplication(actor=OFFICER)
        early = asyncio.create_task(handle.execute_update(ApplicationWorkflow.act, accept, id="accept-1"))
        await asyncio.sleep(1.0)  # ample for the update to reach the server before any worker polls
        async with onewindow_worker(env.client, outbox, catalogue=catalogue, task_queue=task_queue):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await early
            assert isinstance(refused.value.cause, ApplicationError)
            assert refused.value.cause.type == "NotYetRegistered"

            await until(handle, lambda view: view.calendar_version is not None, "deadlines planned")
            view = await handle.execute_update(ApplicationWorkflow.act, accept, id="accept-1")
            assert view.status is Status.UNDER_REVIEW
            assert _accepted_updates(await handle.fetch_history()) == 1
            notices: list[str] = []
            for _ in range(100):  # real time only: the notice must not wait for the clock to move
                notices = [payload["notice"] for _, payload in outbox.records("notification", handle.id)]
                if notices:
                    break
                await asyncio.sleep(0.05)
            assert notices == ["application_accepted"]


# --- 5. R-XK-32b, R-XK-32c: not accepted, referred ---


async def test_a_rejection_states_its_reason_and_closes_the_case(desk: Desk, outbox: Outbox) -> None:
    """R-XK-32b: 不予受理 needs a reason; the written decision is numbered and the case ends not accepted."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    assert await refusal(handle, RejectApplication(actor=OFFICER)) == "InvalidCommand"

    reason = "申请事项依法不需要取得行政许可"
    view = await act(handle, RejectApplication(actor=OFFICER, reason=reason))
    assert view.status is Status.NOT_ACCEPTED
    result = await final_view(handle)
    assert result.status is Status.NOT_ACCEPTED
    assert result.closed
    events = await case_events(handle)
    rejected = _one(events, ApplicationNotAccepted)
    assert isinstance(rejected, ApplicationNotAccepted)
    assert rejected.reason == reason
    assert rejected.actor == OFFICER
    assert rejected.notice_number.startswith(result.application_id)
    assert _kinds(events) == ["application_submitted", "application_not_accepted"]
    ((_, told),) = outbox.records("notification", result.application_id)
    assert told["notice"] == "application_not_accepted"
    assert told["text"] == reason


async def test_a_matter_outside_this_organs_power_is_referred_elsewhere_and_closed(desk: Desk) -> None:
    """R-XK-32c: refused at once, saying where to apply; the case is closed as referred."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    view = await act(handle, ReferElsewhere(actor=OFFICER, competent_organ="省卫生健康委员会"))
    assert view.status is Status.REFERRED
    result = await final_view(handle)
    assert result.status is Status.REFERRED
    assert result.closed
    referred = _one(await case_events(handle), ApplicationReferred)
    assert isinstance(referred, ApplicationReferred)
    assert referred.competent_organ == "省卫生健康委员会"
    assert referred.actor == OFFICER


# --- 6. 容缺受理 ---


def test_the_deficiency_matters_used_here_have_the_modes_the_tests_assume(catalogue: Catalogue) -> None:
    """FOOD-BUSINESS defers issuance, ENTERPRISE-ESTABLISH issues then supplements (catalogue data)."""
    food = catalogue.matter("FOOD-BUSINESS")
    assert food.deficiency_mode is DeficiencyMode.DEFER_ISSUANCE
    assert "food_safety_rules" in secondary_materials(food)
    enterprise = catalogue.matter("ENTERPRISE-ESTABLISH")
    assert enterprise.deficiency_mode is DeficiencyMode.ISSUE_THEN_SUPPLEMENT
    assert "premises_proof" in secondary_materials(enterprise)


async def test_deferred_issuance_waits_for_the_promised_material_and_then_issues(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """容缺, defer mode: review proceeds and approves; the licence waits for the supplement, then issues."""
    missing = ("food_safety_rules",)
    async with desk_at(run_worker, MONDAY) as desk:
        handle = await desk.start(intake_of("FOOD-BUSINESS", MONDAY, leave_out=missing))
        view = await act(handle, _deficiency(missing, within=3))
        assert view.status is Status.UNDER_REVIEW
        assert view.outstanding == missing
        assert view.supplement_by == datetime(2026, 3, 6, 0, 0, tzinfo=SHANGHAI)
        accepted = _one(await case_events(handle), AcceptedWithDeficiencies)
        assert isinstance(accepted, AcceptedWithDeficiencies)
        assert accepted.missing == missing
        assert accepted.supplement_within == 3
        assert accepted.actor == OFFICER

        view = await approve_every_step(handle)
        assert view.status is Status.APPROVED
        await desk.env.sleep(timedelta(days=1))
        view = await view_of(handle)
        assert view.status is Status.APPROVED
        assert view.licence_number is None
        assert outbox.records("licensing") == []

        await act(handle, SupplementMaterials(actor=applicant_actor(), materials=missing))
        result = await final_view(handle)
        assert result.status is Status.ISSUED
        assert result.outstanding == ()
        assert result.licence_number == f"FOOD-BUSINESS-{result.application_id}"
        events = await case_events(handle)
        assert _kinds(events)[-4:] == [
            "approval_recorded",
            "application_approved",
            "materials_supplemented",
            "licence_issued",
        ]
        issued = _one(events, LicenceIssued)
        assert _shanghai_date(issued.at) == date(2026, 3, 3)
        ((_, licence),) = outbox.records("licensing", result.application_id)
        assert licence["action"] == "issue"
        assert outbox.records("credit") == []


async def test_a_broken_promise_in_defer_mode_abandons_the_case_and_bars_the_applicant_from_deficiencies(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """容缺 missed: abandoned at the deadline, credit record, applicant told; the next case refused 容缺."""
    missing = ("food_safety_rules",)
    async with desk_at(run_worker, MONDAY) as desk:
        handle = await desk.start(intake_of("FOOD-BUSINESS", MONDAY, leave_out=missing))
        view = await act(handle, _deficiency(missing, within=3))
        supplement_by = datetime(2026, 3, 6, 0, 0, tzinfo=SHANGHAI)  # 24:00 of Thursday 03-05
        assert view.supplement_by == supplement_by

        await desk.env.sleep(supplement_by - await desk.now() - timedelta(minutes=1))
        assert (await view_of(handle)).status is Status.UNDER_REVIEW
        await desk.env.sleep(timedelta(minutes=2))
        view = await until(handle, lambda v: v.status is Status.ABANDONED, "abandoned")
        abandoned = _one(await case_events(handle), ApplicationAbandoned)
        assert isinstance(abandoned, ApplicationAbandoned)
        assert abandoned.missing == missing
        assert abandoned.actor.role is Role.SYSTEM
        assert _shanghai_date(abandoned.at) == date(2026, 3, 6)

        ((recorded_at, credit),) = outbox.records("credit", APPLICANT_ID)
        assert credit["application_id"] == view.application_id
        assert _shanghai_date(recorded_at) == date(2026, 3, 6)
        notices = [payload["notice"] for _, payload in outbox.records("notification", view.application_id)]
        assert notices == ["accepted_with_deficiencies", "application_abandoned"]

        # The same applicant's next case: the engine's credit check refuses 容缺; a caller cannot claim a
        # credit standing of their own.
        second = await desk.start(intake_of("FOOD-BUSINESS", await desk.now(), leave_out=missing))
        claimed = _deficiency(missing, within=3, credit=CreditStanding(eligible=True))
        assert await refusal(second, claimed) == "InvalidCommand"
        assert await refusal(second, _deficiency(missing, within=3)) == "DeficiencyNotTolerable"
        assert (await view_of(second)).status is Status.RECEIVED

        # Abandonment closes the case: its run ends with the final view, not a failure.
        result = await final_view(handle)
        assert result.status is Status.ABANDONED
        assert result.closed


async def test_a_broken_promise_after_issuance_revokes_the_licence(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """容缺, issue-then-supplement (证照分离): issued on approval, revoked when the deadline passes unkept."""
    missing = ("premises_proof",)
    async with desk_at(run_worker, MONDAY) as desk:
        handle = await desk.start(intake_of("ENTERPRISE-ESTABLISH", MONDAY, leave_out=missing))
        view = await act(handle, _deficiency(missing, within=1))
        supplement_by = datetime(2026, 3, 4, 0, 0, tzinfo=SHANGHAI)  # 24:00 of Tuesday 03-03
        assert view.supplement_by == supplement_by

        await approve_every_step(handle)
        view = await until(handle, lambda v: v.status is Status.ISSUED, "issued before the supplement")
        assert view.licence_number == f"ENTERPRISE-ESTABLISH-{view.application_id}"
        assert view.outstanding == missing
        assert not view.closed
        ((_, licence),) = outbox.records("licensing", view.application_id)
        assert licence["action"] == "issue"

        await desk.env.sleep(supplement_by - await desk.now() + timedelta(minutes=1))
        result = await final_view(handle)
        assert result.status is Status.REVOKED
        revoked = _one(await case_events(handle), LicenceRevoked)
        assert isinstance(revoked, LicenceRevoked)
        assert revoked.missing == missing
        assert revoked.actor.role is Role.SYSTEM
        assert _shanghai_date(revoked.at) == date(2026, 3, 4)
        licensing = [payload for _, payload in outbox.records("licensing", result.application_id)]
        assert [p["action"] for p in licensing] == ["issue", "revoke"]
        assert licensing[1]["licence_number"] == view.licence_number
        ((_, credit),) = outbox.records("credit", APPLICANT_ID)
        assert credit["application_id"] == result.application_id
        pushed = [
            p["result"] for _, p in outbox.records("supervision", result.application_id) if "result" in p
        ]
        assert pushed == ["licence_issued", "licence_revoked"]
        notices = [p["notice"] for _, p in outbox.records("notification", result.application_id)]
        assert notices[-1] == "licence_revoked"


async def test_deficiency_acceptance_is_refused_for_a_missing_core_material_or_a_deadline_beyond_the_limit(
    desk: Desk, catalogue: Catalogue
) -> None:
    """容缺 only for secondary materials, and the supplement deadline may not exceed the matter's limit."""
    matter = catalogue.matter("FOOD-BUSINESS")
    core = next(m.code for m in matter.materials if m.importance is Importance.CORE)
    now = await desk.now()
    core_missing = ("food_safety_rules", core)
    handle = await desk.start(intake_of("FOOD-BUSINESS", now, leave_out=core_missing))
    assert await refusal(handle, _deficiency(core_missing, within=3)) == "DeficiencyNotTolerable"

    secondary = ("food_safety_rules",)
    other = await desk.start(intake_of("FOOD-BUSINESS", now, leave_out=secondary))
    too_long = _deficiency(secondary, within=matter.limit + 1)
    assert await refusal(other, too_long) == "DeadlineOutOfRange"
    assert (await act(other, _deficiency(secondary, within=matter.limit))).status is Status.UNDER_REVIEW


# --- 7. 撤回 ---


async def test_the_applicant_withdraws_before_a_decision(desk: Desk) -> None:
    """撤回 by the applicant under review closes the case as withdrawn; another applicant may not."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    await act(handle, AcceptApplication(actor=OFFICER))
    stranger = applicant_actor("91210200MA7777777X")  # a stranger to the case learns nothing of it
    assert await refusal(handle, WithdrawApplication(actor=stranger)) == "UnknownApplication"

    view = await act(handle, WithdrawApplication(actor=applicant_actor(), reason="经营计划调整"))
    assert view.status is Status.WITHDRAWN
    result = await final_view(handle)
    assert result.status is Status.WITHDRAWN
    withdrawn = _one(await case_events(handle), ApplicationWithdrawn)
    assert withdrawn.actor == applicant_actor()
    assert withdrawn.reason == "经营计划调整"


async def test_the_assigned_steward_withdraws_a_green_channel_case_and_no_other_steward_may(
    desk: Desk,
) -> None:
    """帮办代办: only the steward assigned to the green-channel case acts for the applicant."""
    assigned = Actor(id="steward-1", role=Role.STEWARD, name="项目管家")
    intake = intake_of("PUBLIC-PLACE-HYGIENE", await desk.now(), green_channel=True, steward=assigned)
    handle = await desk.start(intake)
    assert (await view_of(handle)).green_channel

    other = Actor(id="steward-2", role=Role.STEWARD)  # not this case's steward: it is not theirs to see
    assert await refusal(handle, WithdrawApplication(actor=other)) == "UnknownApplication"

    view = await act(handle, WithdrawApplication(actor=assigned))
    assert view.status is Status.WITHDRAWN
    result = await final_view(handle)
    assert result.status is Status.WITHDRAWN
    withdrawn = _one(await case_events(handle), ApplicationWithdrawn)
    assert withdrawn.actor == assigned


async def test_a_supervisor_puts_a_running_case_into_the_green_channel_and_its_steward_then_acts(
    desk: Desk, outbox: Outbox
) -> None:
    """DESIGN.md section 6: switching into the green channel is an audited event, told to the applicant."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    assigned = Actor(id="steward-1", role=Role.STEWARD, name="项目管家")
    assert await refusal(handle, WithdrawApplication(actor=assigned)) == "UnknownApplication"
    designate = ChangeGreenChannel(
        actor=supervisor(), green_channel=True, steward=assigned, reason="市重点项目"
    )
    by_the_window = designate.model_copy(update={"actor": OFFICER})
    assert await refusal(handle, by_the_window) == "NotAuthorised"

    view = await act(handle, designate)
    assert (view.green_channel, view.steward) == (True, assigned)
    changed = _one(await case_events(handle), GreenChannelChanged)
    assert (changed.actor, changed.reason, changed.steward) == (supervisor(), "市重点项目", assigned)
    assert await refusal(handle, designate) == "InvalidCommand"  # already so: nothing to record

    view = await act(handle, WithdrawApplication(actor=assigned, reason="项目选址调整"))
    assert view.status is Status.WITHDRAWN
    await final_view(handle)
    notices = [payload["notice"] for _, payload in outbox.records("notification", view.application_id)]
    assert "green_channel_changed" in notices


async def test_a_case_toggled_in_and_out_of_the_green_channel_is_refused_typed_past_the_limit(
    desk: Desk,
) -> None:
    """Each toggle is an accepted update; past ``REPEAT_LIMITS`` the case refuses, and still runs."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    into = ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=steward(), reason="市重点项目")
    out = ChangeGreenChannel(actor=supervisor(), green_channel=False, reason="不再列入重点项目")
    for toggle in range(REPEAT_LIMITS["green_channel_changed"]):
        await act(handle, out if toggle % 2 else into)
    assert await refusal(handle, into) == "RepeatLimitReached"
    assert (await act(handle, AcceptApplication(actor=OFFICER))).status is Status.UNDER_REVIEW


async def test_withdrawal_after_the_approval_decision_is_not_allowed(desk: Desk) -> None:
    """撤回 only before a decision: an approved case awaiting its 容缺 supplement refuses it."""
    missing = ("food_safety_rules",)
    handle = await desk.start(intake_of("FOOD-BUSINESS", await desk.now(), leave_out=missing))
    await act(handle, _deficiency(missing, within=3))
    assert (await approve_every_step(handle)).status is Status.APPROVED
    assert await refusal(handle, WithdrawApplication(actor=applicant_actor())) == "NotAllowed"
    assert (await view_of(handle)).status is Status.APPROVED


# --- 8. roles, 受审分离, and malformed messages ---


def _accepted_updates(history: WorkflowHistory) -> int:
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return sum(1 for event in history.events if event.event_type == accepted)


async def test_every_role_refusal_reaches_the_caller_typed_and_leaves_no_trace_in_history(desk: Desk) -> None:
    """Wrong role, 受审分离 for the acceptor and any window officer, foreign department, outside 'system'."""
    intake_officer = window_officer("window-0")
    missing = ("hygiene_rules",)
    intake = intake_of("PUBLIC-PLACE-HYGIENE", await desk.now(), leave_out=missing, actor=intake_officer)
    handle = await desk.start(intake)
    assert await refusal(handle, AcceptApplication(actor=applicant_actor())) == "NotAuthorised"
    engine_impostor = Actor(id="onewindow", role=Role.SYSTEM)  # a system the case does not know of
    assert await refusal(handle, DeemAccepted(actor=engine_impostor)) == "UnknownApplication"
    assert await refusal(handle, AcceptApplication(actor=engine_impostor)) == "UnknownApplication"
    assert await refusal(handle, AcceptApplication(actor=OFFICER)) == "MaterialsIncomplete"

    await act(handle, RequestCorrection(actor=OFFICER, missing=missing))
    await act(handle, SupplementMaterials(actor=applicant_actor(), materials=missing))
    await act(handle, AcceptApplication(actor=OTHER_OFFICER))

    def approval_by(actor_id: str, department: str = "health") -> RecordApproval:
        approving = Actor(id=actor_id, role=Role.APPROVER, department=department)
        return RecordApproval(actor=approving, step="health", approved=True)

    # 受审分离: who decided acceptance, who sent the correction notice, who took the intake at the window.
    for window_person in (OTHER_OFFICER.id, OFFICER.id, intake_officer.id):
        assert await refusal(handle, approval_by(window_person)) == "SeparationOfDuties"
    # Another department's approver is a stranger to a health case: as if it did not exist.
    assert await refusal(handle, approval_by("approver-mr", "market_regulation")) == "UnknownApplication"
    as_officer = RecordApproval(actor=OFFICER, step="health", approved=True)
    assert await refusal(handle, as_officer) == "NotAuthorised"

    # Only the three successful commands reached the workflow's history; refusals left nothing there.
    assert _accepted_updates(await handle.fetch_history()) == 3

    assert (await act(handle, approval_by("approver-health"))).status is Status.APPROVED
    result = await final_view(handle)
    assert result.status is Status.ISSUED


async def test_a_malformed_command_is_refused_before_history_and_the_case_keeps_running(desk: Desk) -> None:
    """A payload missing its actor, of an unknown kind, or with a stray field: InvalidCommand, unharmed."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    count = len(await case_events(handle))
    officer = OFFICER.model_dump(mode="json")
    for payload in (
        {"kind": "accept_application"},
        {"kind": "approve_everything", "actor": officer},
        {"kind": "accept_application", "actor": officer, "credit": "excellent"},
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update("act", payload, result_type=ApplicationView)
        # Refused in the validator with the domain's typed error, naming what does not parse.
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == "InvalidCommand"
        assert "not a valid command" in cause.message

    assert len(await case_events(handle)) == count
    assert _accepted_updates(await handle.fetch_history()) == 0
    assert (await view_of(handle)).status is Status.RECEIVED
    view = await handle.execute_update("act", AcceptApplication(actor=OFFICER), result_type=ApplicationView)
    assert view.status is Status.UNDER_REVIEW


async def test_a_command_without_its_kind_is_refused_rather_than_read_as_another_command(desk: Desk) -> None:
    """The command union is discriminated by ``kind``: a payload without one names no command at all."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    count = len(await case_events(handle))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "act", {"actor": OFFICER.model_dump(mode="json")}, result_type=ApplicationView
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "InvalidCommand"
    assert len(await case_events(handle)) == count
    assert (await view_of(handle)).status is Status.RECEIVED


# --- 9. retried updates ---


async def test_a_retried_update_with_the_same_update_id_takes_effect_once(desk: Desk, outbox: Outbox) -> None:
    """A client retry of one acceptance (same update id) is deduplicated: one acceptance event, one notice."""
    handle = await desk.start(intake_of("PUBLIC-PLACE-HYGIENE", await desk.now()))
    accept = AcceptApplication(actor=OFFICER)
    first = await handle.execute_update(ApplicationWorkflow.act, accept, id="accept-1")
    again = await handle.execute_update(ApplicationWorkflow.act, accept, id="accept-1")
    assert first.status is again.status is Status.UNDER_REVIEW
    assert again.event_count == first.event_count
    assert _kinds(await case_events(handle)).count("application_accepted") == 1
    assert await notices_told(outbox, first.application_id, 1) == ["application_accepted"]
    # A new update id is a new command: the same acceptance is now refused by the transition table.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ApplicationWorkflow.act, accept, id="accept-2")
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "NotAllowed"
