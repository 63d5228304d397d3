"""绿色通道 in full (DESIGN.md section 6): the internal targets a green-channel case is held to on top of
the statutory ones, as pure rules and on the time-skipping server."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from activities.outbox import Outbox
from tests.builders import (
    Case,
    approver,
    opened,
    shipped_matter,
    steward,
    submit,
    system,
    then,
    window_officer,
)
from tests.case_helpers import act, case_events
from tests.conftest import RunWorker
from tests.test_workflow_acceptance import MONDAY, OFFICER, desk_at, intake_of, until
from workflows.domain.application import Effect, deadlines, decide, effects_of, evolve, next_timer
from workflows.domain.calendar import end_of_day
from workflows.domain.catalogue import parse_catalogue
from workflows.domain.clock import WarningLevel, WarningSubject
from workflows.domain.commands import AcceptApplication, RaiseWarning, RecordApproval, RecordDeadlines
from workflows.domain.errors import CatalogueInvalid
from workflows.domain.events import WarningRaised
from workflows.reference_data import load_catalogue

FOOD = "FOOD-BUSINESS"  # promised 5 working days: a green-channel case's internal target is 3
MARKET = "market_regulation"


def _accepted(*, green_channel: bool, share: tuple[int, int] | None = None) -> Case:
    matter = shipped_matter(FOOD)
    if share is not None:
        matter = matter.model_copy(update={"internal_target_share": share})
    command = submit(
        matter, green_channel=green_channel, assigned_steward=steward() if green_channel else None
    )
    case = then(opened(command), AcceptApplication(actor=window_officer()))
    return then(case, RecordDeadlines(actor=system(), plan=deadlines(case.state, case.now)))


def test_a_green_channel_case_has_an_internal_target_of_half_its_limit_beside_the_deadline() -> None:
    """Accepted Monday 2 March 2026: decision due 9 March (5 days), internal target 5 March (3 days)."""
    plan = _accepted(green_channel=True).state.plan
    assert plan is not None
    assert plan.decision is not None
    assert plan.decision.last_day == date(2026, 3, 9)
    assert plan.internal_target_by == end_of_day(date(2026, 3, 5))
    marks = [(m.level, m.at) for m in plan.marks if m.subject is WarningSubject.INTERNAL_TARGET]
    assert marks == [
        (WarningLevel.NOTICE, end_of_day(date(2026, 3, 4))),  # ⅔ of 3 = 2 counted days
        (WarningLevel.RED, end_of_day(date(2026, 3, 5))),  # yellow at 80 % would be day 3 itself
    ]


def test_an_ordinary_case_has_no_internal_target() -> None:
    plan = _accepted(green_channel=False).state.plan
    assert plan is not None
    assert plan.internal_target_by is None
    assert all(m.subject is not WarningSubject.INTERNAL_TARGET for m in plan.marks)


def test_the_share_is_the_matters_own() -> None:
    """A third of 5 working days, rounded up: 2 (due Wednesday 4 March)."""
    plan = _accepted(green_channel=True, share=(1, 3)).state.plan
    assert plan is not None
    assert plan.internal_target_by == end_of_day(date(2026, 3, 4))


def test_an_internal_target_missed_tells_the_department_and_is_not_the_cases_warning() -> None:
    """Its red is the office's own: the reviewing department is told, supervision is not (no 督办), and
    the case's warning level, the one lists and the overdue query read, stays as it was."""
    case = _accepted(green_channel=True)
    timer = next_timer(case.state)
    assert timer is not None
    assert isinstance(timer.command, RaiseWarning)
    assert timer.command.subject is WarningSubject.INTERNAL_TARGET
    plan = case.state.plan
    assert plan is not None
    assert plan.internal_target_by is not None
    red = RaiseWarning(actor=system(), level=WarningLevel.RED, subject=WarningSubject.INTERNAL_TARGET)
    (warning,) = decide(case.state, red, plan.internal_target_by + timedelta(minutes=1))
    assert isinstance(warning, WarningRaised)
    assert effects_of(warning) == (Effect.NOTIFY_DEPARTMENT,)
    after = evolve(case.state, warning)
    assert after.warning_raised() is WarningLevel.NONE
    assert after.warning_raised(WarningSubject.INTERNAL_TARGET) is WarningLevel.RED
    assert "督办" not in warning.reason  # the departments are told; nothing is escalated


def test_a_case_registered_before_internal_targets_keeps_its_deadlines_as_planned() -> None:
    """Its replay must plan what it planned then: no internal target, even in the green channel."""
    assigned = steward()
    command = submit(shipped_matter(FOOD), green_channel=True, assigned_steward=assigned)
    case = then(
        opened(command.model_copy(update={"internal_targets": False})),
        AcceptApplication(actor=window_officer()),
    )
    plan = deadlines(case.state, case.now)
    assert plan.internal_target_by is None
    assert case.state.internal_target_days is None


def test_a_share_above_one_is_refused_when_the_catalogue_loads() -> None:
    data: dict[str, Any] = load_catalogue().model_dump(mode="json")
    data["matters"][0]["internal_target_share"] = [3, 2]
    with pytest.raises(CatalogueInvalid, match="internal_target_share"):
        parse_catalogue(data)


async def test_a_green_channel_case_is_warned_on_its_internal_target_and_its_department_told(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """On the time-skipping server: notice and red of the internal target, each told to the department,
    none escalated; the view shows the target beside the statutory deadline."""
    async with desk_at(run_worker, MONDAY) as desk:
        intake = intake_of(FOOD, MONDAY, green_channel=True, steward=steward("steward-green-1"))
        handle = await desk.start(intake)
        view = await act(handle, AcceptApplication(actor=OFFICER))
        assert view.internal_target_by == end_of_day(date(2026, 3, 5))
        assert view.internal_target_days == 3
        assert view.due_at == end_of_day(date(2026, 3, 9))
        await desk.env.sleep(view.internal_target_by - await desk.now() + timedelta(minutes=1))
        view = await until(handle, lambda v: v.internal_warning_level is WarningLevel.RED, "internal red")
        assert view.warning_level is WarningLevel.NONE
        internal = [(e.subject, e.level) for e in await case_events(handle) if isinstance(e, WarningRaised)]
        assert internal == [
            (WarningSubject.INTERNAL_TARGET, WarningLevel.NOTICE),
            (WarningSubject.INTERNAL_TARGET, WarningLevel.RED),
        ]
        told = [payload for _, payload in outbox.records("department", handle.id)]
        assert [(t["notice"], t["departments"]) for t in told] == [
            ("internal_target_notice", ["market_regulation"]),
            ("internal_target_red", ["market_regulation"]),
        ]
        escalated = [p for _, p in outbox.records("supervision", handle.id) if p.get("action") == "escalate"]
        assert escalated == []
        approval = RecordApproval(
            actor=approver("market_regulation"), step="market_regulation", approved=True
        )
        assert (await act(handle, approval)).internal_target_by is None  # decided: no target runs
