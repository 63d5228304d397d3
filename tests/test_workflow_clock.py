"""The statutory clock end to end on the time-skipping server, on real dates (DESIGN.md sections 4, 5, 7, 8).

Each test starts the time-skipping server at a chosen Shanghai instant (libfaketime), runs ApplicationWorkflow
with the real activities on a fresh task queue, moves time with ``env.sleep`` and reads the case the way
supervision does: the ``state`` query, the ``events`` query (kinds and Shanghai-local instants) and the
outbox. Expected dates are computed independently with ``load_calendar`` or written out from the 2026
State Council notice. One test runs on the dev server, for the visibility query the test server lacks.

A query computes the view at ``workflow.now()``, the instant of the case's last workflow task; views are
read where that instant and the reading fall on the same counted day, except in the test about exactly that.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from tests.builders import (
    all_materials,
    applicant,
    applicant_actor,
    approver,
    department_head,
    government_leader,
    secondary_materials,
    shipped_matter,
    window_officer,
)
from tests.case_helpers import Handle, act, case_events, final_view, refusal
from tests.conftest import RunWorker, StartAt
from workflows.application_workflow import ApplicationWorkflow
from workflows.domain.application import PendingAction, Status
from workflows.domain.calendar import SHANGHAI, WorkingCalendar
from workflows.domain.clock import WarningLevel, WarningSubject
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ExtendDeadline,
    RecordApproval,
    ResumeClock,
    SupplementMaterials,
    SuspendClock,
)
from workflows.domain.events import (
    Actor,
    ApplicationAccepted,
    ApplicationEvent,
    ApprovalRecorded,
    CalendarRevised,
    CalendarYearMissing,
    Channel,
    Role,
    WarningRaised,
)
from workflows.messages import ApplicationView, Intake
from workflows.reference_data import load_calendar

INTAKE_SYSTEM = Actor(id="intake-portal", role=Role.SYSTEM)
OFFICER = window_officer("window-clock-1")
CALENDAR = load_calendar()  # packaged 2004-2026 plus the shipped, provisional 2027

# A timer fires at its instant; the server's clock ticks on, so the task recording it runs a moment later.
FIRING_SLACK = timedelta(seconds=5)


# --- helpers -----------------------------------------------------------------------------------------------


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant on the Shanghai wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    """24:00 Shanghai of ``day``: when a period whose last day is ``day`` runs out (R-CAL-1)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def counted_days(
    trigger: date,
    budget: int,
    calendar: WorkingCalendar = CALENDAR,
    not_counted: tuple[date, date] | None = None,
) -> list[date]:
    """The ``budget`` working days after ``trigger``, skipping those in the half-open (start, end] window."""
    days: list[date] = []
    day = trigger
    while len(days) < budget:
        day += timedelta(days=1)
        skipped = not_counted is not None and not_counted[0] < day <= not_counted[1]
        if calendar.day(day).working and not skipped:
            days.append(day)
    return days


def intake(matter_code: str, received_at: datetime, materials: tuple[str, ...] | None = None) -> Intake:
    """What the intake portal sends for ``matter_code``, complete unless ``materials`` says otherwise."""
    return Intake(
        actor=INTAKE_SYSTEM,
        applicant=applicant(),
        matter_code=matter_code,
        materials=all_materials(matter_code) if materials is None else materials,
        channel=Channel.WINDOW,
        received_at=received_at,
    )


async def open_case(
    env: WorkflowEnvironment,
    task_queue: str,
    matter_code: str,
    *,
    received_at: datetime | None = None,
    materials: tuple[str, ...] | None = None,
) -> Handle:
    """Start a case received now (or at ``received_at``)."""
    received = received_at or await env.get_current_time()
    return await env.client.start_workflow(
        ApplicationWorkflow.run,
        intake(matter_code, received, materials),
        id=f"APP-CLOCK-{uuid.uuid4().hex[:10]}",
        task_queue=task_queue,
    )


async def open_accepted_case(
    env: WorkflowEnvironment, task_queue: str, matter_code: str
) -> tuple[Handle, ApplicationView]:
    """Start a complete case and accept it at once at the window: the clock starts now."""
    handle = await open_case(env, task_queue, matter_code)
    return handle, await act(handle, AcceptApplication(actor=OFFICER))


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    """Skip the server's clock forward to ``instant``, firing every timer on the way."""
    now = await env.get_current_time()
    assert instant > now, f"{instant.isoformat()} is not ahead of {now.isoformat()}"
    await env.sleep(instant - now)


def kinds(events: Sequence[ApplicationEvent]) -> list[str]:
    """The kinds of ``events``, in order."""
    return [event.kind for event in events]


def milestones(events: Sequence[ApplicationEvent]) -> list[str]:
    """The kinds of ``events`` without the engine's deadline bookkeeping."""
    return [kind for kind in kinds(events) if kind != "deadlines_planned"]


def issued_on(events: Sequence[ApplicationEvent]) -> date:
    """The Shanghai date the licence was issued."""
    issued = next(e for e in events if e.kind == "licence_issued")
    return issued.at.astimezone(SHANGHAI).date()


def warnings(events: Sequence[ApplicationEvent]) -> list[WarningRaised]:
    """The warnings raised, in order."""
    return [event for event in events if isinstance(event, WarningRaised)]


def warning_levels(events: Sequence[ApplicationEvent], subject: WarningSubject) -> list[WarningLevel]:
    """The levels of ``subject`` raised so far, in order."""
    return [w.level for w in warnings(events) if w.subject is subject]


def assert_fired_at(event: WarningRaised, instant: datetime) -> None:
    """A timer's event is recorded at its instant, never before it."""
    local = event.at.astimezone(SHANGHAI)
    assert instant <= local < instant + FIRING_SLACK, f"{event.level} at {local.isoformat()}, not {instant}"


def warning_at(
    events: Sequence[ApplicationEvent], level: WarningLevel, subject: WarningSubject
) -> WarningRaised:
    """The one warning of ``level`` about ``subject``."""
    (found,) = [w for w in warnings(events) if w.level is level and w.subject is subject]
    return found


def action(view: ApplicationView, command: str) -> PendingAction | None:
    """The pending action ``command`` of the view, if people may give it now."""
    return next((a for a in view.pending_actions if a.command == command), None)


def pending_steps(view: ApplicationView) -> tuple[str, ...]:
    """The approval steps awaiting a decision, as the view lists them."""
    approval = action(view, "record_approval")
    return tuple(step.code for step in approval.steps) if approval else ()


def sent(outbox: Outbox, system: str, application_id: str) -> list[dict[str, Any]]:
    """What ``system`` was told about the case, oldest first."""
    return [payload for _, payload in outbox.records(system, application_id)]


async def eventually_sent(
    outbox: Outbox, system: str, application_id: str, field: str, value: str
) -> dict[str, Any]:
    """The record whose ``field`` is ``value``: effects run in the main loop, after an update returns."""
    for _ in range(100):
        matching = [p for p in sent(outbox, system, application_id) if p.get(field) == value]
        if matching:
            (record,) = matching
            return record
        await asyncio.sleep(0.05)
    raise AssertionError(f"{system} was never told {field}={value} about {application_id}")


def escalations(outbox: Outbox, application_id: str) -> list[dict[str, Any]]:
    """督办 records sent to supervision about the case."""
    return [p for p in sent(outbox, "supervision", application_id) if p["action"] == "escalate"]


def approve(step: str, department: str) -> RecordApproval:
    """An approver of ``department`` approves ``step``."""
    return RecordApproval(actor=approver(department), step=step, approved=True)


# --- 1. the 20-day period end to end -------------------------------------------------------------------


async def test_a_twenty_working_day_matter_runs_from_acceptance_to_an_issued_licence_pushed_to_supervision(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Outdoor advertising (statutory 20, R-XK-42a): due 03-30, notice at ⅔, approved, issued, pushed."""
    matter = shipped_matter("OUTDOOR-ADVERTISING")
    assert (matter.promised_limit, matter.statutory_limit) == (None, 20)
    monday = shanghai(2026, 3, 2, 9)
    async with time_skipping_at(monday) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "OUTDOOR-ADVERTISING")
        counted = counted_days(date(2026, 3, 2), 20)
        assert counted[-1] == date(2026, 3, 30)
        assert view.status is Status.UNDER_REVIEW
        assert view.last_day == date(2026, 3, 30)
        assert view.due_at == end_of(date(2026, 3, 30))
        assert (view.working_days_used, view.working_days_left) == (0, 20)
        assert view.warning_level is WarningLevel.NONE
        assert not view.provisional
        approval = action(view, "record_approval")
        assert approval is not None
        assert tuple(step.code for step in approval.steps) == ("urban_management",)
        assert approval.departments == ("urban_management",)
        assert approval.roles == (Role.APPROVER,)

        # Notice at the end of the 14th counted day (⅔ of 20), 2026-03-20; yellow (16th) not yet.
        await sleep_until(env, shanghai(2026, 3, 22, 12))  # a Sunday: nothing more is used until Monday
        events = await case_events(handle)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.NOTICE]
        assert_fired_at(warning_at(events, WarningLevel.NOTICE, WarningSubject.DECISION), end_of(counted[13]))
        assert counted[13] == date(2026, 3, 20)
        view = await handle.query(ApplicationWorkflow.state)
        assert (view.working_days_used, view.working_days_left) == (14, 6)
        assert view.warning_level is WarningLevel.NOTICE
        await sleep_until(env, shanghai(2026, 3, 23, 9))

        # 受审分离: the acceptor may not approve; nor may another department's approver.
        acceptor = Actor(id=OFFICER.id, role=Role.APPROVER, department="urban_management")
        assert await refusal(
            handle, RecordApproval(actor=acceptor, step="urban_management", approved=True)
        ) == ("SeparationOfDuties")
        assert await refusal(handle, approve("urban_management", "water")) == "UnknownApplication"
        view = await act(handle, approve("urban_management", "urban_management"))
        assert view.status is Status.APPROVED
        assert view.delivery_by == end_of(CALENDAR.add_working_days(date(2026, 3, 23), 10).day)  # R-XK-44

        result = await final_view(handle)
        assert result.status is Status.ISSUED
        assert result.closed
        assert result.licence_number == f"OUTDOOR-ADVERTISING-{handle.id}"
        events = await case_events(handle)
        assert milestones(events)[-3:] == ["approval_recorded", "application_approved", "licence_issued"]
        assert issued_on(events) == date(2026, 3, 23)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.NOTICE]
        pushes = sent(outbox, "supervision", handle.id)
        assert [(p["action"], p["result"], p["licence_number"]) for p in pushes] == [
            ("result", "licence_issued", result.licence_number)
        ]
        assert pushes[0]["departments"] == ["urban_management"]
        notices = [p["notice"] for p in sent(outbox, "notification", handle.id)]
        assert notices == ["application_accepted", "licence_issued"]
        assert [p["action"] for p in sent(outbox, "licensing", handle.id)] == ["issue"]


# --- 2. real estate, 5 days across the National Day holiday ----------------------------------------------


async def test_a_mortgage_registration_accepted_on_30_september_turns_red_only_at_the_end_of_13_october(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """R-CAL-1: 09-30 + 5 → 10-13 (10/10 worked); yellow at 10-13 00:00 (notice too, but yellow is higher),
    red at 10-14 00:00, each saying how many working days were used when it fired."""
    async with time_skipping_at(shanghai(2026, 9, 30, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "REAL-ESTATE.mortgage")
        assert view.last_day == date(2026, 10, 13)
        assert view.due_at == shanghai(2026, 10, 14)
        assert (view.working_days_used, view.working_days_left) == (0, 5)
        counted = counted_days(date(2026, 9, 30), 5)
        assert counted == [date(2026, 10, d) for d in (8, 9, 10, 12, 13)]

        # 4 of 5 counted days is both ⅔ (rounded up) and 80 %: the higher, yellow, at the end of 10-12.
        await sleep_until(env, shanghai(2026, 10, 13, 23, 59))
        events = await case_events(handle)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.YELLOW]
        yellow = warning_at(events, WarningLevel.YELLOW, WarningSubject.DECISION)
        assert_fired_at(yellow, shanghai(2026, 10, 13))
        assert yellow.reason == "4 of 5 counted working days used; yellow at 4 of 5 counted working days"
        assert escalations(outbox, handle.id) == []
        view = await handle.query(ApplicationWorkflow.state)
        assert view.warning_level is WarningLevel.YELLOW
        assert view.status is Status.UNDER_REVIEW

        await sleep_until(env, shanghai(2026, 10, 14, 0, 1))
        events = await case_events(handle)
        red = warning_at(events, WarningLevel.RED, WarningSubject.DECISION)
        assert_fired_at(red, shanghai(2026, 10, 14))
        assert red.deadline_at == shanghai(2026, 10, 14)
        assert red.reason.startswith("5 of 5 counted working days used; overdue")
        view = await handle.query(ApplicationWorkflow.state)
        assert view.warning_level is WarningLevel.RED
        assert view.status is Status.UNDER_REVIEW  # overdue is escalated, not decided by the engine
        (escalation,) = escalations(outbox, handle.id)
        assert escalation["subject"] == "decision"
        assert escalation["matter_code"] == "REAL-ESTATE.mortgage"
        assert datetime.fromisoformat(escalation["deadline_at"]) == shanghai(2026, 10, 14)


async def test_a_pause_begun_on_the_last_day_cannot_hold_back_red(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Due at the end of 10-13; an inspection from 10-13 10:00 expected to take 2 working days.

    The deadline passed whatever the resumption: red at 10-14 00:00 all the same, escalated, while the
    case stays suspended. (A pause's own overrun is the next test.)
    """
    async with time_skipping_at(shanghai(2026, 9, 30, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "REAL-ESTATE.mortgage")
        await sleep_until(env, shanghai(2026, 10, 13, 10))
        department = shipped_matter("REAL-ESTATE.mortgage").departments[0]
        pause = SuspendClock(actor=approver(department), pause="inspection", expected_working_days=2)
        view = await act(handle, pause)
        assert view.status is Status.SUSPENDED
        assert view.due_at == shanghai(2026, 10, 14)  # already certain: it falls on the pause's first day
        assert view.resume_expected_by == end_of(date(2026, 10, 15))

        await sleep_until(env, shanghai(2026, 10, 14, 0, 1))
        events = await case_events(handle)
        assert_fired_at(warning_at(events, WarningLevel.RED, WarningSubject.DECISION), shanghai(2026, 10, 14))
        (escalation,) = escalations(outbox, handle.id)
        assert escalation["subject"] == "decision"
        view = await handle.query(ApplicationWorkflow.state)
        assert (view.status, view.warning_level) == (Status.SUSPENDED, WarningLevel.RED)


async def test_a_pause_that_overruns_its_expected_working_days_turns_the_case_yellow(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """R-XK-45: a paused step still has its own deadline. Expert review from 03-18, expected 3 days."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "EIA-APPROVAL.report_book")
        await sleep_until(env, shanghai(2026, 3, 18, 10))
        review = SuspendClock(
            actor=approver("ecology_environment"), pause="expert_review", expected_working_days=3
        )
        view = await act(handle, review)
        assert view.resume_expected_by == end_of(date(2026, 3, 23))  # 03-19, 03-20, 03-23

        await sleep_until(env, shanghai(2026, 3, 23, 23, 59))
        assert warnings(await case_events(handle)) == []
        await sleep_until(env, shanghai(2026, 3, 24, 0, 1))
        (yellow,) = warnings(await case_events(handle))
        assert yellow.level is WarningLevel.YELLOW
        assert_fired_at(yellow, end_of(date(2026, 3, 23)))
        assert "expert_review overran its expected 3 working days" in yellow.reason
        view = await act(handle, ResumeClock(actor=approver("ecology_environment")))
        assert (view.status, view.warning_level) == (Status.UNDER_REVIEW, WarningLevel.YELLOW)


async def test_the_state_view_counts_the_working_days_used_up_to_the_day_it_is_read(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """Read on 2026-10-09 (the caller passes its time), 10/8 and 10/9 are used: 2 used, 3 left."""
    async with time_skipping_at(shanghai(2026, 9, 30, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "REAL-ESTATE.mortgage")
        assert (view.working_days_used, view.working_days_left) == (0, 5)
        await sleep_until(env, shanghai(2026, 10, 9, 15))
        view = await handle.query(ApplicationWorkflow.state, await env.get_current_time())
        assert (view.working_days_used, view.working_days_left) == (2, 3)
        assert view.working_days_overdue == 0


async def test_an_overdue_case_says_by_how_many_working_days_it_is_late_and_a_decided_one_what_it_used(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """Due at the end of 10-13; read on 10-16 it is 3 working days late; approved then, it used 8 of 5."""
    async with time_skipping_at(shanghai(2026, 9, 30, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "REAL-ESTATE.mortgage")
        await sleep_until(env, shanghai(2026, 10, 16, 15))
        view = await handle.query(ApplicationWorkflow.state, await env.get_current_time())
        # 10-14, 10-15 and 10-16 are past the last day, 10-13.
        assert (view.working_days_used, view.working_days_left, view.working_days_overdue) == (8, 0, 3)
        decided = await act(handle, approve("natural_resources", "natural_resources"))
        assert decided.decided_at is not None
        await sleep_until(env, shanghai(2026, 10, 20, 15))
        closed = await final_view(handle)
        assert closed.status is Status.ISSUED
        assert closed.decided_at == decided.decided_at
        assert closed.issued_at is not None
        assert closed.issued_at >= closed.decided_at
        assert (closed.working_days_used, closed.working_days_overdue) == (8, 3)  # counted to the decision
        assert closed.decided_at.utcoffset() == timedelta(hours=8)


# --- 3. one working day over a make-up Saturday ------------------------------------------------------------


async def test_an_enterprise_accepted_on_friday_13_february_is_due_on_the_make_up_saturday(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """R-CAL-1: 2026-02-13 + 1 → 02-14 (a make-up Saturday), not 02-16; red at 02-15 00:00 if undecided."""
    async with time_skipping_at(shanghai(2026, 2, 13, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "ENTERPRISE-ESTABLISH")
        assert view.last_day == date(2026, 2, 14)
        assert view.due_at == shanghai(2026, 2, 15)
        assert (view.working_days_used, view.working_days_left) == (0, 1)
        assert not view.provisional

        await sleep_until(env, shanghai(2026, 2, 14, 23, 59))
        assert warnings(await case_events(handle)) == []
        await sleep_until(env, shanghai(2026, 2, 15, 0, 1))
        events = await case_events(handle)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.RED]
        assert_fired_at(warnings(events)[0], shanghai(2026, 2, 15))
        assert len(escalations(outbox, handle.id)) == 1


# --- 4. countersign ---------------------------------------------------------------------------------------


async def test_one_refusal_in_a_road_occupation_countersign_denies_and_closes_the_case(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Urban management refuses: application_denied, the result pushed to supervision, the applicant told."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "ROAD-OCCUPATION")
        assert pending_steps(view) == ("urban_management", "public_security")
        await env.sleep(timedelta(days=1))
        refusal_command = RecordApproval(
            actor=approver("urban_management"),
            step="urban_management",
            approved=False,
            reason="占道影响消防通道",
        )
        view = await act(handle, refusal_command)
        assert view.status is Status.DENIED
        assert view.closed
        assert view.pending_actions == ()

        result = await final_view(handle)
        assert result.status is Status.DENIED
        assert result.licence_number is None
        events = await case_events(handle)
        assert milestones(events)[-2:] == ["approval_recorded", "application_denied"]
        denied = next(e for e in events if e.kind == "application_denied")
        assert denied.at.astimezone(SHANGHAI).date() == date(2026, 3, 3)
        pushes = sent(outbox, "supervision", handle.id)
        assert [(p["action"], p["result"]) for p in pushes] == [("result", "application_denied")]
        assert pushes[0]["departments"] == ["urban_management", "public_security"]
        assert [p["notice"] for p in sent(outbox, "notification", handle.id)] == [
            "application_accepted",
            "application_denied",
        ]
        assert sent(outbox, "licensing", handle.id) == []


async def test_a_road_occupation_countersign_is_approved_and_issued_when_both_departments_approve(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """The first approval leaves the other department pending; the second approves, and the licence issues."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "ROAD-OCCUPATION")
        view = await act(handle, approve("public_security", "public_security"))
        assert view.status is Status.UNDER_REVIEW
        assert pending_steps(view) == ("urban_management",)
        await env.sleep(timedelta(days=1))
        view = await act(handle, approve("urban_management", "urban_management"))
        assert view.status is Status.APPROVED

        result = await final_view(handle)
        assert result.status is Status.ISSUED
        events = await case_events(handle)
        assert kinds(events).count("approval_recorded") == 2
        assert "application_approved" in kinds(events)
        assert [p["result"] for p in sent(outbox, "supervision", handle.id)] == ["licence_issued"]


# --- 5. staged rounds --------------------------------------------------------------------------------------


async def test_enterprise_establishment_opens_its_parallel_stage_only_after_the_business_licence_is_approved(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Stage 1 (business licence) first; then seal, tax, social insurance and housing fund in parallel."""
    stage_two = {
        "seal_engraving": "public_security",
        "tax_invoice": "tax",
        "social_insurance_registration": "human_resources_social_security",
        "housing_fund_registration": "housing_fund",
    }
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "ENTERPRISE-ESTABLISH")
        assert pending_steps(view) == ("business_licence",)
        approval = action(view, "record_approval")
        assert approval is not None
        assert approval.departments == ("market_regulation",)
        assert await refusal(handle, approve("seal_engraving", "public_security")) == "InvalidCommand"

        view = await act(handle, approve("business_licence", "market_regulation"))
        assert view.status is Status.UNDER_REVIEW
        assert pending_steps(view) == tuple(stage_two)  # the bank appointment is tracked, not approved
        approval = action(view, "record_approval")
        assert approval is not None
        assert approval.departments == tuple(stage_two.values())
        assert await refusal(handle, approve("bank_account_appointment", "bank")) == "InvalidCommand"

        for step, department in stage_two.items():
            view = await act(handle, approve(step, department))
        assert view.status is Status.APPROVED
        result = await final_view(handle)
        assert result.status is Status.ISSUED
        recorded = [e for e in await case_events(handle) if isinstance(e, ApprovalRecorded)]
        assert [e.step for e in recorded] == ["business_licence", *stage_two]
        assert [p["result"] for p in sent(outbox, "supervision", handle.id)] == ["licence_issued"]


# --- 6. R-XK-45 suspension ---------------------------------------------------------------------------------


async def test_an_expert_review_moves_the_due_date_by_the_suspended_working_days_and_silences_warnings(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """R-XK-45, R-CAL-2: expert review 03-18 → 04-02 removes 11 working days; no warning fires meanwhile."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "EIA-APPROVAL.report_book")
        original_last_day = view.last_day
        assert original_last_day == date(2026, 3, 30)

        await sleep_until(env, shanghai(2026, 3, 18, 10))
        view = await act(
            handle,
            SuspendClock(
                actor=approver("ecology_environment"),
                pause="expert_review",
                expected_working_days=11,
                reason="环评报告书技术评估（专家评审）",
            ),
        )
        assert view.status is Status.SUSPENDED
        assert view.suspended
        # No due instant while the clock stands still; the pause has its own: 11 working days, to 04-02.
        assert (view.due_at, view.resume_expected_by) == (None, end_of(date(2026, 4, 2)))
        assert action(view, "resume_clock") is not None
        assert action(view, "record_approval") is None

        # Past the original notice (03-21), yellow (03-25) and red (03-31) instants: nothing fires.
        await sleep_until(env, shanghai(2026, 4, 2, 10))
        events = await case_events(handle)
        assert warnings(events) == []
        assert escalations(outbox, handle.id) == []
        view = await act(handle, ResumeClock(actor=approver("ecology_environment"), reason="专家评审结束"))
        assert view.status is Status.UNDER_REVIEW

        suspended = CALENDAR.working_days_between(date(2026, 3, 18), date(2026, 4, 2)).days
        assert suspended == 11
        expected_last_day = CALENDAR.add_working_days(original_last_day, suspended).day
        assert expected_last_day == date(2026, 4, 15)  # Qingming 04-04..04-06 is not counted either
        assert view.last_day == expected_last_day
        assert view.due_at == end_of(expected_last_day)
        assert view.working_days_suspended == suspended
        assert (view.working_days_used, view.working_days_left) == (12, 8)  # 03-03 .. 03-18
        assert view.warning_level is WarningLevel.NONE
        (told,) = [p for p in sent(outbox, "notification", handle.id) if p["notice"] == "clock_suspended"]
        # R-XK-45: the applicant is told in writing why and how long it takes.
        assert told["text"] == "环评报告书技术评估（专家评审）"
        assert (told["details"]["pause"], told["details"]["expected_working_days"]) == ("expert_review", 11)

        # The marks are re-armed on the counted days: notice at the end of the 14th, 04-07.
        counted = counted_days(date(2026, 3, 2), 20, not_counted=(date(2026, 3, 18), date(2026, 4, 2)))
        assert counted[-1] == expected_last_day
        assert counted[13] == date(2026, 4, 7)
        await sleep_until(env, shanghai(2026, 4, 8, 0, 1))
        events = await case_events(handle)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.NOTICE]
        assert_fired_at(warnings(events)[0], end_of(counted[13]))


async def test_the_clock_stops_only_for_a_statutory_pause_or_one_the_matter_lists_and_only_for_its_department(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """R-XK-45: public notice, planning publicity or a site visit do not stop an EIA clock; nor may water."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "EIA-APPROVAL.report_book")
        for pause in ("public_notice", "planning_publicity", "site_visit"):
            command = SuspendClock(
                actor=approver("ecology_environment"), pause=pause, expected_working_days=5
            )
            assert await refusal(handle, command) == "InvalidCommand", pause
        other = SuspendClock(actor=approver("water"), pause="expert_review", expected_working_days=5)
        assert await refusal(handle, other) == "UnknownApplication"  # not their department's case
        view = await handle.query(ApplicationWorkflow.state)
        assert view.status is Status.UNDER_REVIEW
        assert "clock_suspended" not in kinds(await case_events(handle))


# --- 7. extensions (R-XK-42) -------------------------------------------------------------------------------


async def test_a_department_head_extends_a_single_department_matter_once_by_at_most_ten_working_days(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """R-XK-42a: +10 by the head moves 03-30 to 04-14; +11, a leader, another head, a second time: refused."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "EIA-APPROVAL.report_book")
        assert view.last_day == date(2026, 3, 30)
        head = department_head("ecology_environment")
        reason = "需补充现场核查，经本机关负责人批准延长"
        assert await refusal(handle, ExtendDeadline(actor=head, working_days=11, reason=reason)) == (
            "DeadlineOutOfRange"
        )
        assert await refusal(
            handle, ExtendDeadline(actor=government_leader(), working_days=10, reason=reason)
        ) == ("NotAuthorised")
        other_head = department_head("water")
        assert await refusal(handle, ExtendDeadline(actor=other_head, working_days=10, reason=reason)) == (
            "UnknownApplication"
        )
        assert await refusal(handle, ExtendDeadline(actor=head, working_days=10)) == "InvalidCommand"

        await env.sleep(timedelta(days=3))
        view = await act(handle, ExtendDeadline(actor=head, working_days=10, reason=reason))
        expected = CALENDAR.add_working_days(date(2026, 3, 30), 10).day
        assert expected == date(2026, 4, 14)
        assert view.last_day == expected
        assert view.due_at == end_of(expected)
        assert (view.working_days_used, view.working_days_left) == (3, 27)  # 03-03 .. 03-05 used
        assert (
            await refusal(handle, ExtendDeadline(actor=head, working_days=5, reason=reason))
            == "InvalidCommand"
        )
        assert kinds(await case_events(handle)).count("deadline_extended") == 1
        told = await eventually_sent(outbox, "notification", handle.id, "notice", "deadline_extended")
        assert told["text"] == reason  # R-XK-42a: the reason is told to the applicant


async def test_a_government_leader_extends_a_joint_handling_matter_by_fifteen_and_a_department_head_may_not(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """R-XK-42b: road occupation due 03-09; a head is refused, +16 is refused, +15 moves it to 03-30."""
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "ROAD-OCCUPATION")
        assert view.last_day == date(2026, 3, 9)
        reason = "两部门联合现场勘查，经本级人民政府负责人批准延长"
        head = department_head("urban_management")
        assert (
            await refusal(handle, ExtendDeadline(actor=head, working_days=10, reason=reason))
            == "NotAuthorised"
        )
        leader = government_leader()
        assert await refusal(handle, ExtendDeadline(actor=leader, working_days=16, reason=reason)) == (
            "DeadlineOutOfRange"
        )
        view = await act(handle, ExtendDeadline(actor=leader, working_days=15, reason=reason))
        expected = CALENDAR.add_working_days(date(2026, 3, 9), 15).day
        assert expected == date(2026, 3, 30)
        assert view.last_day == expected
        assert view.due_at == end_of(expected)
        assert (view.working_days_used, view.working_days_left) == (0, 20)


# --- 8. the 90-working-day construction project ------------------------------------------------------------


async def test_a_construction_project_runs_its_four_stages_over_four_months_and_is_issued_before_turning_red(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """01-05 + 90 → 05-20; notice (60th day, 04-03) and yellow (72nd, 04-22) fire; decided 05-18, no red."""
    stages: list[tuple[datetime, dict[str, str]]] = [
        (
            shanghai(2026, 2, 10, 10),
            {
                "project_approval": "development_reform",
                "site_land_pre_review": "natural_resources",
                "land_use_planning_permit": "natural_resources",
            },
        ),
        (
            shanghai(2026, 3, 10, 10),
            {"design_scheme_review": "natural_resources", "engineering_planning_permit": "natural_resources"},
        ),
        (
            shanghai(2026, 4, 8, 10),
            {
                "drawing_review_confirmation": "housing_construction",
                "construction_permit_issue": "housing_construction",
            },
        ),
        (
            shanghai(2026, 5, 18, 10),
            {
                "joint_completion_acceptance": "housing_construction",
                "completion_filing": "housing_construction",
            },
        ),
    ]
    counted = counted_days(date(2026, 1, 5), 90)
    assert (counted[-1], counted[59], counted[71]) == (date(2026, 5, 20), date(2026, 4, 3), date(2026, 4, 22))
    async with time_skipping_at(shanghai(2026, 1, 5, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "CONSTRUCTION-PROJECT")
        assert view.last_day == date(2026, 5, 20)
        assert view.due_at == shanghai(2026, 5, 21)
        assert (view.working_days_used, view.working_days_left) == (0, 90)
        assert pending_steps(view) == tuple(stages[0][1])

        for number, (when, steps) in enumerate(stages):
            await sleep_until(env, when)
            for step, department in steps.items():
                view = await act(handle, approve(step, department))
            if number + 1 < len(stages):
                assert view.status is Status.UNDER_REVIEW
                assert pending_steps(view) == tuple(stages[number + 1][1])
                used = CALENDAR.working_days_between(date(2026, 1, 5), when).days
                assert (view.working_days_used, view.working_days_left) == (used, 90 - used)
        assert view.status is Status.APPROVED

        result = await final_view(handle)
        assert result.status is Status.ISSUED
        events = await case_events(handle)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.NOTICE, WarningLevel.YELLOW]
        assert_fired_at(
            warning_at(events, WarningLevel.NOTICE, WarningSubject.DECISION), shanghai(2026, 4, 4)
        )
        assert_fired_at(
            warning_at(events, WarningLevel.YELLOW, WarningSubject.DECISION), shanghai(2026, 4, 23)
        )
        assert milestones(events)[-1] == "licence_issued"
        assert issued_on(events) == date(2026, 5, 18)
        assert escalations(outbox, handle.id) == []
        assert kinds(events).count("approval_recorded") == 9


async def test_a_construction_stage_that_overruns_its_own_thirty_days_turns_the_case_yellow_months_early(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Stage 1's 30 counted days from 01-05 end on the 02-14 make-up Saturday: yellow at 02-15 00:00.

    The next stage opens when stage 1 is decided (02-16, in the Spring Festival) with its own 25 days.
    """
    project = shipped_matter("CONSTRUCTION-PROJECT")
    first, second = project.stages[0], project.stages[1]
    async with time_skipping_at(shanghai(2026, 1, 5, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "CONSTRUCTION-PROJECT")
        assert (view.stage, view.stage_due_at) == (first.code, end_of(date(2026, 2, 14)))
        assert view.due_at == end_of(date(2026, 5, 20))

        await sleep_until(env, shanghai(2026, 2, 14, 23, 59))
        view = await handle.query(ApplicationWorkflow.state)
        assert view.warning_level is WarningLevel.NONE
        await sleep_until(env, shanghai(2026, 2, 15, 0, 1))
        view = await handle.query(ApplicationWorkflow.state)
        assert view.warning_level is WarningLevel.YELLOW
        events = await case_events(handle)
        yellow = warning_at(events, WarningLevel.YELLOW, WarningSubject.DECISION)
        assert_fired_at(yellow, end_of(date(2026, 2, 14)))
        assert f"stage {first.code}" in yellow.reason
        assert "30 working days" in yellow.reason
        assert escalations(outbox, handle.id) == []

        await sleep_until(env, shanghai(2026, 2, 16, 10))
        for step in first.matters:
            view = await act(handle, approve(step.code, step.department))
        assert (view.stage, view.stage_due_at) == (second.code, end_of(date(2026, 3, 27)))
        assert view.warning_level is WarningLevel.YELLOW
        await handle.terminate("the stages after the first are not the subject of this test")


# --- 9. a calendar revision mid-case (R-CAL-4) --------------------------------------------------------------

# A fictional 2027 notice for the test: New Year 01-01..01-03 off, Saturday 01-09 worked.
NOTICE_2027 = """\
year = 2027
revision = "2027-notice-test-r1"
status = "published"
source = "国务院办公厅关于2027年部分节假日安排的通知 (test fixture)"
holidays = [
    "2027-01-01/2027-01-03",
    "2027-02-05/2027-02-11",
    "2027-04-03/2027-04-05",
    "2027-05-01/2027-05-05",
    "2027-06-09/2027-06-11",
    "2027-09-15/2027-09-17",
    "2027-10-01/2027-10-07",
]
makeup_workdays = ["2027-01-09", "2027-02-20", "2027-10-09"]
"""


async def test_a_published_2027_notice_revises_a_provisional_deadline_and_re_arms_its_timers(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox, calendar_dir: Path
) -> None:
    """R-CAL-4: accepted 2026-12-21, due 2027-01-19 provisionally; a notice working 01-09 moves it to 01-18"""
    async with time_skipping_at(shanghai(2026, 12, 21, 9)) as env, run_worker(env.client) as task_queue:
        handle, view = await open_accepted_case(env, task_queue, "EIA-APPROVAL.report_book")
        assert view.last_day == date(2027, 1, 19)
        assert view.provisional
        first_version = view.calendar_version
        assert first_version == CALENDAR.version

        await sleep_until(env, shanghai(2026, 12, 28, 10))
        (calendar_dir / "2027.toml").write_text(NOTICE_2027, encoding="utf-8")
        published = load_calendar([calendar_dir])
        expected_last_day = published.add_working_days(date(2026, 12, 21), 20).day
        assert expected_last_day == date(2027, 1, 18)
        await handle.signal(ApplicationWorkflow.calendar_revised)

        events = await case_events(handle)
        for _ in range(100):  # the revision is computed by a local activity after the signal
            if "calendar_revised" in kinds(events):
                break
            await asyncio.sleep(0.05)
            events = await case_events(handle)
        revised = [e for e in events if isinstance(e, CalendarRevised)]
        assert len(revised) == 1
        assert revised[0].previous_version == first_version
        assert revised[0].version == published.version
        assert kinds(events)[-2:] == ["calendar_revised", "deadlines_planned"]
        view = await handle.query(ApplicationWorkflow.state)
        assert view.calendar_version == published.version != first_version
        assert not view.provisional
        assert view.last_day == expected_last_day
        assert view.due_at == end_of(expected_last_day)

        # Timers follow the revised plan: notice at the end of the 14th counted day (the make-up 01-09).
        counted = counted_days(date(2026, 12, 21), 20, published)
        assert counted[13] == date(2027, 1, 9)
        assert counted[15] == date(2027, 1, 12)
        await sleep_until(env, shanghai(2027, 1, 18, 23, 59))
        events = await case_events(handle)
        assert warning_levels(events, WarningSubject.DECISION) == [WarningLevel.NOTICE, WarningLevel.YELLOW]
        assert_fired_at(
            warning_at(events, WarningLevel.NOTICE, WarningSubject.DECISION), shanghai(2027, 1, 10)
        )
        assert_fired_at(
            warning_at(events, WarningLevel.YELLOW, WarningSubject.DECISION), shanghai(2027, 1, 13)
        )
        await sleep_until(env, shanghai(2027, 1, 19, 0, 1))
        events = await case_events(handle)
        red = warning_at(events, WarningLevel.RED, WarningSubject.DECISION)
        assert_fired_at(red, shanghai(2027, 1, 19))  # not 01-20, the provisional instant
        (escalation,) = escalations(outbox, handle.id)
        assert datetime.fromisoformat(escalation["deadline_at"]) == shanghai(2027, 1, 19)


# --- 10. R-XK-44 delivery ----------------------------------------------------------------------------------


async def test_a_licence_held_back_by_a_deferred_promise_turns_red_ten_working_days_after_the_decision(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """R-XK-44: complex real estate (30 days), 容缺 to 04-14, approved 03-03: delivery red at 03-18 00:00."""
    code = "REAL-ESTATE.complex"
    matter = shipped_matter(code)
    assert matter.limit == 30
    missing = secondary_materials(matter)
    core = tuple(m for m in all_materials(code) if m not in missing)
    async with time_skipping_at(shanghai(2026, 3, 2, 9)) as env, run_worker(env.client) as task_queue:
        handle = await open_case(env, task_queue, code, materials=core)
        view = await act(
            handle,
            AcceptWithDeficiencies(
                actor=OFFICER, missing=missing, supplement_within=30, commitment="容缺承诺-0042"
            ),
        )
        assert view.outstanding == missing
        supplement_last_day = CALENDAR.add_working_days(date(2026, 3, 2), 30).day
        assert supplement_last_day == date(2026, 4, 14)
        assert view.supplement_by == end_of(supplement_last_day)

        await sleep_until(env, shanghai(2026, 3, 3, 10))
        view = await act(handle, approve("natural_resources", "natural_resources"))
        assert view.status is Status.APPROVED
        delivery_last_day = CALENDAR.add_working_days(date(2026, 3, 3), 10).day
        assert delivery_last_day == date(2026, 3, 17)
        assert view.delivery_by == end_of(delivery_last_day)
        assert view.supplement_by is not None
        assert view.delivery_by < view.supplement_by
        assert view.licence_number is None

        await sleep_until(env, shanghai(2026, 3, 17, 23, 59))
        assert warning_levels(await case_events(handle), WarningSubject.DELIVERY) == []
        await sleep_until(env, shanghai(2026, 3, 18, 0, 1))
        events = await case_events(handle)
        red = warning_at(events, WarningLevel.RED, WarningSubject.DELIVERY)
        assert_fired_at(red, shanghai(2026, 3, 18))
        assert red.deadline_at == shanghai(2026, 3, 18)
        view = await handle.query(ApplicationWorkflow.state)
        assert view.status is Status.APPROVED  # still waiting for the promised materials
        (escalation,) = escalations(outbox, handle.id)
        assert escalation["subject"] == "delivery"
        assert sent(outbox, "licensing", handle.id) == []

        await act(handle, SupplementMaterials(actor=applicant_actor(), materials=missing))
        result = await final_view(handle)
        assert result.status is Status.ISSUED
        assert result.outstanding == ()


# --- 11. visibility: listing overdue cases (dev server) ----------------------------------------------------


@pytest.mark.devserver
async def test_supervision_lists_overdue_cases_with_one_visibility_query_on_the_typed_attributes(
    dev_server: WorkflowEnvironment, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Received 3 weeks ago, never answered: deemed accepted on receipt (R-XK-32), overdue, red, listed."""
    now = datetime.now(UTC)
    async with run_worker(dev_server.client) as task_queue:
        overdue = await open_case(
            dev_server, task_queue, "PUBLIC-PLACE-HYGIENE", received_at=now - timedelta(days=21)
        )
        fresh = await open_case(dev_server, task_queue, "PUBLIC-PLACE-HYGIENE", received_at=now)
        query = f"OwWarningLevel = 'red' AND OwStatus = 'under_review' AND OwDueAt < '{now.isoformat()}'"
        found: list[str] = []
        for _ in range(100):  # visibility is eventually consistent: poll briefly
            found = [execution.id async for execution in dev_server.client.list_workflows(query)]
            if overdue.id in found:
                break
            await asyncio.sleep(0.1)
        assert overdue.id in found
        assert fresh.id not in found

        view = await overdue.query(ApplicationWorkflow.state)
        assert view.status is Status.UNDER_REVIEW
        assert view.warning_level is WarningLevel.RED
        assert view.due_at is not None
        assert view.due_at < now
        events = await case_events(overdue)
        accepted = next(e for e in events if isinstance(e, ApplicationAccepted))
        assert accepted.basis == "deemed_by_silence"
        assert accepted.as_of == now - timedelta(days=21)
        # Every mark had passed when silence deemed it accepted: red at once, alone, counting what it says.
        (red,) = warnings(events)
        assert red.level is WarningLevel.RED
        counted = re.match(r"(\d+) of 5 counted working days used; overdue", red.reason)
        assert counted is not None, red.reason
        assert int(counted.group(1)) > 5
        assert len(escalations(outbox, overdue.id)) == 1
        fresh_view = await fresh.query(ApplicationWorkflow.state)
        assert fresh_view.status is Status.RECEIVED
        assert fresh_view.warning_level is WarningLevel.NONE


NOTICE_2028 = """\
year = 2028
revision = "2028-notice-test-r1"
status = "published"
source = "国务院办公厅关于2028年部分节假日安排的通知 (test fixture)"
holidays = ["2028-01-01/2028-01-03"]
makeup_workdays = []
"""


async def test_a_case_whose_deadline_reaches_an_unpublished_year_warns_supervision_and_goes_on_once_published(
    time_skipping_at: StartAt, run_worker: RunWorker, calendar_dir: Path, outbox: Outbox
) -> None:
    """Accepted 2027-12-20 for 20 days: 2028 has no data, so nothing is guessed and supervision is told;
    once the notice is in the worker's calendar directory, the case finds it within a day, unannounced."""
    async with time_skipping_at(shanghai(2027, 12, 20, 9)) as env, run_worker(env.client) as task_queue:
        handle = await open_case(env, task_queue, "EIA-APPROVAL.report_book")
        view = await act(handle, AcceptApplication(actor=OFFICER))
        assert (view.status, view.calendar_missing, view.due_at) == (Status.UNDER_REVIEW, 2028, None)
        missing = [e for e in await case_events(handle) if isinstance(e, CalendarYearMissing)]
        assert [e.year for e in missing] == [2028]
        await eventually_sent(outbox, "supervision", handle.id, "result", "calendar_year_missing")

        (calendar_dir / "2028.toml").write_text(NOTICE_2028, encoding="utf-8")
        await env.sleep(timedelta(days=1, hours=1))
        view = await handle.query(ApplicationWorkflow.state)
        published = load_calendar([calendar_dir])
        assert view.calendar_missing is None
        assert view.last_day == published.add_working_days(date(2027, 12, 20), 20).day
        assert view.calendar_version == published.version
        revised = [e for e in await case_events(handle) if isinstance(e, CalendarRevised)]
        assert [e.version for e in revised] == [published.version]


async def test_a_pause_or_extension_reaching_past_the_calendar_data_is_refused_before_history(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """1000 expected working days, an extension past 2027, or a pause pushing the deadline into it: the
    days cannot be counted, so DeadlineOutOfRange and nothing in history.

    Accepted on Friday 2027-12-24, 5 working days end on 12-31; 2028 has no calendar data. Accepted on
    Wednesday 12-01 instead, a 5-day pause still ends within 2027.
    """
    async with time_skipping_at(shanghai(2027, 12, 24, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "PUBLIC-PLACE-HYGIENE")
        long_pause = SuspendClock(actor=approver("health"), pause="expert_review", expected_working_days=1000)
        assert await refusal(handle, long_pause) == "DeadlineOutOfRange"
        extension = ExtendDeadline(actor=department_head("health"), working_days=10, reason="现场核查")
        assert await refusal(handle, extension) == "DeadlineOutOfRange"
        one_day = SuspendClock(actor=approver("health"), pause="expert_review", expected_working_days=1)
        assert await refusal(handle, one_day) == "DeadlineOutOfRange"  # the deadline would move into 2028
    async with time_skipping_at(shanghai(2027, 12, 1, 9)) as env, run_worker(env.client) as task_queue:
        handle, _ = await open_accepted_case(env, task_queue, "PUBLIC-PLACE-HYGIENE")
        short_pause = SuspendClock(actor=approver("health"), pause="expert_review", expected_working_days=5)
        assert (await act(handle, short_pause)).status is Status.SUSPENDED
        assert (await act(handle, ResumeClock(actor=approver("health")))).status is Status.UNDER_REVIEW
