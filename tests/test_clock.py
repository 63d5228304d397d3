"""The statutory clock: budget + suspension ledger + extensions, due instant derived (DESIGN.md section 4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.domain.calendar import SHANGHAI, RestDayReceipt, WorkingCalendar, local_date
from workflows.domain.catalogue import AcceptanceMode
from workflows.domain.clock import (
    DeadlineRules,
    PlanRequest,
    StageLimit,
    StatutoryClock,
    Suspension,
    WarningLevel,
    WarningSubject,
    plan_deadlines,
)
from workflows.reference_data import CALENDAR_DIRS_VARIABLE, load_calendar


def _load_without_environment() -> WorkingCalendar:
    # The shipped calendar only: a developer's own ONEWINDOW_CALENDAR_DIRS must not change the expectations.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(CALENDAR_DIRS_VARIABLE, raising=False)
        return load_calendar()


# Immutable, and slow enough to load that once per module is right.
CALENDAR = _load_without_environment()
RULES = DeadlineRules(calendar=CALENDAR.snapshot(2004))

fast = settings(max_examples=150, deadline=None)


def shanghai(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A wall-clock time in Asia/Shanghai, where every statutory period is counted."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def paused(started_at: datetime, ended_at: datetime | None = None) -> Suspension:
    """An expert review (专家评审, R-XK-45) from ``started_at``, resumed at ``ended_at`` if given."""
    return Suspension(reason="专家评审", started_at=started_at, expected_working_days=10, ended_at=ended_at)


def _paused_once(started_at: datetime, budget: int, gap: timedelta, length: timedelta) -> StatutoryClock:
    """A clock paused ``gap`` after its start and resumed ``length`` later."""
    suspended_at = started_at + gap
    clock = StatutoryClock(started_at=started_at, budget=budget)
    return clock.suspend(paused(suspended_at)).resume(suspended_at + length)


# Accepted on Monday 2026-03-02 with the 20-working-day statutory budget (R-XK-42a): due Monday 3/30.
MARCH = StatutoryClock(started_at=shanghai(2026, 3, 2, 9), budget=20)


# --- Without pauses: the calendar's own deadline ----------------------------------------------------------


@pytest.mark.parametrize(
    ("started_at", "budget", "last_day"),
    [
        (shanghai(2026, 9, 30, 10), 5, date(2026, 10, 13)),
        (shanghai(2026, 9, 29, 16), 5, date(2026, 10, 12)),
        (shanghai(2026, 2, 13, 9), 1, date(2026, 2, 14)),
        (shanghai(2026, 2, 13, 9), 5, date(2026, 2, 27)),
        (shanghai(2026, 1, 5, 9), 90, date(2026, 5, 20)),
        (shanghai(2026, 3, 2, 9), 20, date(2026, 3, 30)),
        (shanghai(2025, 9, 30, 9), 20, date(2025, 11, 4)),
        (datetime(2026, 9, 29, 17, tzinfo=UTC), 5, date(2026, 10, 13)),  # already 9/30 in Shanghai
        (shanghai(2026, 3, 2, 9), 0, date(2026, 3, 2)),
    ],
)
def test_a_clock_without_pauses_is_due_at_the_end_of_its_budgets_last_working_day(
    started_at: datetime, budget: int, last_day: date
) -> None:
    """R-CAL-1: the clock's deadline is the calendar's, counted from the Shanghai date it started."""
    deadline = StatutoryClock(started_at=started_at, budget=budget).deadline(CALENDAR, now=started_at)
    assert deadline.last_day == last_day
    assert deadline.due_at == datetime.combine(last_day, time(16), tzinfo=UTC)
    assert (deadline.provisional, deadline.calendar_version) == (False, CALENDAR.version)


@pytest.mark.parametrize(
    ("policy", "last_day", "used_on_10_9"),
    [
        (RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE, date(2026, 10, 13), 2),
        (RestDayReceipt.RECEIVED_ON_NEXT_WORKING_DAY, date(2026, 10, 14), 1),
    ],
)
def test_a_clock_started_on_a_holiday_follows_the_rest_day_receipt_policy(
    policy: RestDayReceipt, last_day: date, used_on_10_9: int
) -> None:
    """R-CAL-3: by default 10/8 is day 1; deemed received on 10/8, day 1 is 10/9."""
    clock = StatutoryClock(started_at=shanghai(2026, 10, 1, 11), budget=5)
    now = shanghai(2026, 10, 9, 12)
    assert clock.deadline(CALENDAR, now, policy).last_day == last_day
    assert clock.working_days_used(CALENDAR, now, policy) == used_on_10_9


def test_the_default_policy_makes_the_next_working_day_day_one() -> None:
    """R-CAL-3 default: receipt on Saturday 2026-03-07, five working days end on Friday 3/13."""
    clock = StatutoryClock(started_at=shanghai(2026, 3, 7), budget=5)
    assert clock.deadline(CALENDAR, now=shanghai(2026, 3, 7)).last_day == date(2026, 3, 13)


def test_a_clock_reaching_into_2027_is_provisional() -> None:
    """R-CAL-4: a deadline counted over provisional days says so."""
    clock = StatutoryClock(started_at=shanghai(2026, 12, 25), budget=10)
    deadline = clock.deadline(CALENDAR, now=shanghai(2026, 12, 25))
    assert (deadline.last_day, deadline.provisional) == (date(2027, 1, 11), True)


def test_a_deadline_resting_on_a_suspension_counted_in_2027_is_provisional() -> None:
    """R-CAL-4: a suspension pushing the period into 2027 makes the deadline provisional."""
    clock = StatutoryClock(started_at=shanghai(2026, 12, 21), budget=5).suspend(
        paused(shanghai(2026, 12, 22), shanghai(2027, 1, 5))
    )
    assert clock.suspended_working_days(CALENDAR, now=shanghai(2027, 1, 6)) == (9, True)
    deadline = clock.deadline(CALENDAR, now=shanghai(2027, 1, 6))
    # 12/22 counts (the start day); 12/23 to 1/5 do not; then 1/6, 1/7, 1/8, 1/11.
    assert (deadline.last_day, deadline.provisional) == (date(2027, 1, 11), True)


def test_a_suspension_begun_after_the_deadline_passed_cannot_hide_an_overdue_case() -> None:
    """R-CAL-2 removes days from the period; days after its end were never in it, so nothing moves."""
    clock = StatutoryClock(started_at=shanghai(2026, 3, 2), budget=3)
    overdue = clock.suspend(paused(shanghai(2026, 3, 10), shanghai(2026, 3, 20)))
    now = shanghai(2026, 3, 21)
    assert overdue.deadline(CALENDAR, now) == clock.deadline(CALENDAR, now)
    assert overdue.deadline(CALENDAR, now).last_day == date(2026, 3, 5)


# --- Extensions (R-XK-42a/b) ----------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [1, 10, 15])
def test_an_extension_adds_exactly_its_working_days(extension: int) -> None:
    """R-XK-42: +10 (department head) or +15 (government leader) working days on top of the budget."""
    now = shanghai(2026, 3, 2, 12)
    before = MARCH.deadline(CALENDAR, now)
    after = MARCH.extend(extension).deadline(CALENDAR, now)
    assert CALENDAR.working_days_between(before.last_day, after.last_day).days == extension
    assert after == CALENDAR.deadline(date(2026, 3, 2), 20 + extension)


def test_an_extension_of_10_over_national_day_ends_after_the_holiday() -> None:
    """20 working days from 2026-09-14 end on 10/16 (9/20 and 10/10 are make-up days); +10 ends on 10/30."""
    clock = StatutoryClock(started_at=shanghai(2026, 9, 14), budget=20)
    now = shanghai(2026, 9, 14)
    assert clock.deadline(CALENDAR, now).last_day == date(2026, 10, 16)
    assert clock.extend(10).deadline(CALENDAR, now).last_day == date(2026, 10, 30)


def test_extensions_add_up_and_leave_the_original_clock_unchanged() -> None:
    """The clock is immutable: extend() returns a new clock with the extension on its ledger."""
    extended = MARCH.extend(10).extend(5)
    assert extended.extensions == (10, 5)
    assert MARCH.extensions == ()
    assert extended.deadline(CALENDAR, shanghai(2026, 3, 2)) == CALENDAR.deadline(date(2026, 3, 2), 35)


# --- Suspensions (R-XK-45, R-CAL-2) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started_at", "ended_at", "removed"),
    [
        (shanghai(2026, 3, 4, 10), shanghai(2026, 3, 4, 16), 0),  # the start day still counts
        (shanghai(2026, 3, 4, 10), shanghai(2026, 3, 5, 9), 1),  # the resume day does not
        (shanghai(2026, 3, 4, 10), shanghai(2026, 3, 6, 15), 2),
        (shanghai(2026, 3, 6, 17), shanghai(2026, 3, 8, 9), 0),  # over a weekend only
        (shanghai(2026, 3, 6, 17), shanghai(2026, 3, 9, 9), 1),  # Friday to Monday
        (shanghai(2026, 3, 7, 10), shanghai(2026, 3, 10, 9), 2),  # from a Saturday
        (datetime(2026, 3, 4, 17, tzinfo=UTC), shanghai(2026, 3, 6, 10), 1),  # starts 3/5 01:00 Shanghai
        # Resumed at 00:30 on Saturday 3/7 in Shanghai: the Saturday removes nothing.
        (shanghai(2026, 3, 4, 10), datetime(2026, 3, 6, 16, 30, tzinfo=UTC), 2),
    ],
)
def test_a_suspension_removes_the_working_days_after_its_start_day_through_its_resume_day(
    started_at: datetime, ended_at: datetime, removed: int
) -> None:
    """R-CAL-2: the start day was partly worked and counts; the days after it through resumption do not."""
    clock = MARCH.suspend(paused(started_at)).resume(ended_at)
    now = shanghai(2026, 3, 20)
    assert clock.suspended_working_days(CALENDAR, now) == (removed, False)
    assert clock.deadline(CALENDAR, now) == CALENDAR.deadline(date(2026, 3, 2), 20 + removed)


@pytest.mark.parametrize(
    ("started_at", "ended_at", "removed"),
    [
        (shanghai(2026, 9, 30), shanghai(2026, 10, 9), 2),  # the National Day holiday is not removed again
        (shanghai(2026, 10, 9), shanghai(2026, 10, 12), 2),  # Saturday 10/10 is a make-up workday
        (shanghai(2026, 2, 13), shanghai(2026, 2, 24), 2),  # 2/14 make-up day, then the Spring Festival
        (shanghai(2025, 9, 26), shanghai(2025, 10, 11), 6),  # 9/28, 9/29, 9/30, 10/9, 10/10, 10/11
    ],
)
def test_a_suspension_over_holidays_and_makeup_days_removes_only_working_days(
    started_at: datetime, ended_at: datetime, removed: int
) -> None:
    """R-XK-82 inside R-CAL-2: holidays are never counted, make-up workdays always are."""
    clock = StatutoryClock(started_at=started_at - timedelta(days=1), budget=20)
    closed = clock.suspend(paused(started_at)).resume(ended_at)
    assert closed.suspended_working_days(CALENDAR, ended_at) == (removed, False)
    deadline = closed.deadline(CALENDAR, ended_at)
    assert CALENDAR.working_days_between(
        clock.deadline(CALENDAR, ended_at).last_day, deadline.last_day
    ).days == (removed)


def test_a_closed_suspension_moves_the_deadline_and_the_days_used_as_documented() -> None:
    """Suspended Wed 3/4 to Fri 3/6: 3/5 and 3/6 are removed, so 20 working days end on Wed 4/1, not 3/30."""
    clock = MARCH.suspend(paused(shanghai(2026, 3, 4, 10))).resume(shanghai(2026, 3, 6, 15))
    now = shanghai(2026, 3, 9, 12)
    assert not clock.suspended
    assert clock.deadline(CALENDAR, now).last_day == date(2026, 4, 1)
    assert clock.working_days_used(CALENDAR, now) == 3  # 3/3, 3/4 and 3/9


@pytest.mark.parametrize(
    ("now", "removed", "last_day", "used"),
    [
        (shanghai(2026, 3, 4, 17), 0, date(2026, 3, 30), 2),  # 3/3 and the start day 3/4
        (shanghai(2026, 3, 5, 9), 1, date(2026, 3, 31), 2),
        (shanghai(2026, 3, 6, 12), 2, date(2026, 4, 1), 2),
        (shanghai(2026, 3, 8, 12), 2, date(2026, 4, 1), 2),  # a weekend removes nothing
        (shanghai(2026, 3, 9, 12), 3, date(2026, 4, 2), 2),
    ],
)
def test_an_open_suspension_counts_up_to_now_and_the_days_used_stand_still(
    now: datetime, removed: int, last_day: date, used: int
) -> None:
    """While suspended, the deadline is the one that would hold if the clock resumed now."""
    clock = MARCH.suspend(paused(shanghai(2026, 3, 4, 10)))
    assert clock.suspended
    assert clock.suspended_working_days(CALENDAR, now) == (removed, False)
    assert clock.deadline(CALENDAR, now).last_day == last_day
    assert clock.deadline(CALENDAR, now) == clock.resume(now).deadline(CALENDAR, now + timedelta(days=30))
    assert clock.working_days_used(CALENDAR, now) == used


def test_working_days_used_excludes_every_suspended_day() -> None:
    """Two closed suspensions and an open one: only unsuspended working days after the start are used."""
    clock = (
        MARCH.suspend(paused(shanghai(2026, 3, 3)))  # removes 3/4, 3/5
        .resume(shanghai(2026, 3, 5))
        .suspend(paused(shanghai(2026, 3, 10)))  # removes 3/11, 3/12, 3/13
        .resume(shanghai(2026, 3, 13))
        .suspend(paused(shanghai(2026, 3, 17)))  # open: removes 3/18, 3/19 by 3/19
    )
    now = shanghai(2026, 3, 19, 18)
    assert clock.suspended_working_days(CALENDAR, now) == (7, False)
    # Working days after 3/2 through 3/19: 13; used: 3/3, 3/6, 3/9, 3/10, 3/16, 3/17.
    assert clock.working_days_used(CALENDAR, now) == 6
    assert clock.deadline(CALENDAR, now) == CALENDAR.deadline(date(2026, 3, 2), 27)


@pytest.mark.parametrize("now", [shanghai(2026, 3, 2, 9), shanghai(2026, 3, 2, 23), shanghai(2026, 2, 27)])
def test_no_working_day_is_used_on_or_before_the_start_day(now: datetime) -> None:
    """The trigger day is never counted, and a query from before the start does not go negative."""
    assert MARCH.working_days_used(CALENDAR, now) == 0


def test_resume_closes_only_the_open_suspension() -> None:
    """Earlier closed suspensions keep their own resume time; the clock is immutable."""
    first = paused(shanghai(2026, 3, 3), shanghai(2026, 3, 5))
    suspended = MARCH.suspend(first).suspend(paused(shanghai(2026, 3, 10)))
    resumed = suspended.resume(shanghai(2026, 3, 12))
    assert suspended.suspended
    assert not resumed.suspended
    assert [s.ended_at for s in resumed.suspensions] == [shanghai(2026, 3, 5), shanghai(2026, 3, 12)]
    assert suspended.suspensions[1].ended_at is None


def test_a_clock_and_a_suspension_refuse_times_without_a_zone() -> None:
    """Naive times cannot be placed on a Shanghai day, so the models refuse them."""
    naive = datetime(2026, 3, 2, 9)  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(ValidationError):
        StatutoryClock(started_at=naive, budget=20)
    with pytest.raises(ValidationError):
        paused(naive)
    with pytest.raises(ValidationError):
        paused(shanghai(2026, 3, 2), naive)


def test_a_suspension_expects_at_least_one_working_day_and_a_budget_is_never_negative() -> None:
    """The applicant is told in writing how long the pause takes (R-XK-45): zero is not a length."""
    with pytest.raises(ValidationError):
        Suspension(reason="听证", started_at=shanghai(2026, 3, 2), expected_working_days=0)
    with pytest.raises(ValidationError):
        StatutoryClock(started_at=shanghai(2026, 3, 2), budget=-1)


# --- Properties ----------------------------------------------------------------------------------------

starts = st.datetimes(
    datetime(2004, 1, 1),  # noqa: DTZ001 - bounds of a Shanghai wall-clock strategy
    datetime(2027, 3, 31),  # noqa: DTZ001
    timezones=st.just(SHANGHAI),
)
budgets = st.integers(0, 90)
gaps = st.timedeltas(timedelta(0), timedelta(days=90))
lengths = st.timedeltas(timedelta(0), timedelta(days=60))


@fast
@given(starts, budgets, gaps, lengths)
def test_a_closed_suspension_of_k_working_days_moves_the_last_day_by_exactly_k(
    started_at: datetime, budget: int, gap: timedelta, length: timedelta
) -> None:
    """R-CAL-2: the last day becomes add(trigger, budget + k), k working days after the old one."""
    suspended_at = started_at + gap
    resumed_at = suspended_at + length
    clock = StatutoryClock(started_at=started_at, budget=budget)
    closed = clock.suspend(paused(suspended_at)).resume(resumed_at)
    k = CALENDAR.working_days_between(suspended_at, resumed_at).days
    trigger = CALENDAR.trigger_day(started_at)
    old = clock.deadline(CALENDAR, resumed_at)
    assume(local_date(suspended_at) < old.last_day)  # a suspension after the period removes nothing
    new = closed.deadline(CALENDAR, resumed_at)
    assert closed.suspended_working_days(CALENDAR, resumed_at)[0] == k
    assert new.last_day == CALENDAR.add_working_days(trigger, budget + k).day
    assert CALENDAR.working_days_between(old.last_day, new.last_day).days == k


@fast
@given(starts, budgets, gaps, lengths, st.integers(1, 15))
def test_on_its_last_day_a_clock_has_used_exactly_its_budget_and_extension(
    started_at: datetime, budget: int, gap: timedelta, length: timedelta, extension: int
) -> None:
    """Counted time on the last day is budget + extension, however long the clock was suspended."""
    clock = _paused_once(started_at, budget, gap, length).extend(extension)
    last_day = clock.deadline(CALENDAR, started_at + gap + length).last_day
    on_last_day = datetime.combine(last_day, time(12), tzinfo=SHANGHAI)
    assert clock.working_days_used(CALENDAR, on_last_day) == budget + extension


@fast
@given(starts, budgets, gaps, lengths)
def test_an_open_suspensions_deadline_is_the_one_that_would_hold_if_resumed_now(
    started_at: datetime, budget: int, gap: timedelta, length: timedelta
) -> None:
    """While suspended, the deadline equals that of the same clock resumed at ``now``."""
    suspended_at = started_at + gap
    now = suspended_at + length
    clock = StatutoryClock(started_at=started_at, budget=budget).suspend(paused(suspended_at))
    assert clock.deadline(CALENDAR, now) == clock.resume(now).deadline(CALENDAR, now)


@fast
@given(starts, budgets, st.integers(1, 15))
def test_an_extension_moves_the_last_day_by_exactly_its_working_days(
    started_at: datetime, budget: int, extension: int
) -> None:
    """R-XK-42: the extended last day is ``extension`` working days after the original one."""
    clock = StatutoryClock(started_at=started_at, budget=budget)
    old = clock.deadline(CALENDAR, started_at).last_day
    new = clock.extend(extension).deadline(CALENDAR, started_at).last_day
    assert CALENDAR.working_days_between(old, new).days == extension
    assert CALENDAR.day(new).working


# --- Stages of a composite matter: each overruns its own limit (DESIGN.md section 8) ------------------------

# The construction project accepted Monday 2026-01-05: 90 working days, due 2026-05-20.
PROJECT = StatutoryClock(started_at=shanghai(2026, 1, 5, 9), budget=90)


def _stage_plan(clock: StatutoryClock, started_at: datetime, working_days: int) -> PlanRequest:
    stage = StageLimit(code="stage_2", name="工程建设许可", started_at=started_at, working_days=working_days)
    return PlanRequest(
        received_at=clock.started_at, deem_acceptance=None, clock=clock, decision_running=True, stage=stage
    )


@pytest.mark.parametrize(
    ("started_at", "working_days", "last_day"),
    [
        # 30 counted days from acceptance end on the 02-14 make-up Saturday, before the Spring Festival.
        (shanghai(2026, 1, 5, 9), 30, date(2026, 2, 14)),
        # Decided during the Spring Festival: day one is 02-24, the 25th counted day 03-27.
        (shanghai(2026, 2, 16, 10), 25, date(2026, 3, 27)),
        # Over Qingming (04-04..04-06): 20 days from 03-10 end on 04-08.
        (shanghai(2026, 3, 10, 10), 20, date(2026, 4, 8)),
    ],
)
def test_a_stage_overruns_at_the_end_of_its_own_working_days_counted_from_its_start(
    started_at: datetime, working_days: int, last_day: date
) -> None:
    """Yellow when one step overruns its own limit, at 24:00 of the stage's last counted day."""
    plan = plan_deadlines(_stage_plan(PROJECT, started_at, working_days), RULES, started_at)
    assert plan.stage == "stage_2"
    assert plan.stage_due_at == shanghai(last_day.year, last_day.month, last_day.day, 0) + timedelta(days=1)
    (stage_mark,) = [m for m in plan.marks if "stage_2" in m.cause]
    assert (stage_mark.level, stage_mark.subject, stage_mark.at) == (
        WarningLevel.YELLOW,
        WarningSubject.DECISION,
        plan.stage_due_at,
    )
    assert f"own limit of {working_days} working days" in stage_mark.cause


def test_a_pause_inside_a_stage_moves_the_stages_limit_by_its_working_days() -> None:
    """Expert review 01-12..01-16 removes 4 working days: the stage's last day moves 02-14 -> 02-27."""
    clock = PROJECT.suspend(paused(shanghai(2026, 1, 12))).resume(shanghai(2026, 1, 16))
    now = shanghai(2026, 1, 20)
    plan = plan_deadlines(_stage_plan(clock, clock.started_at, 30), RULES, now)
    assert plan.stage_due_at == shanghai(2026, 2, 28, 0)


def test_while_suspended_only_the_pauses_own_deadline_is_armed_and_no_stage_limit_is_guessed() -> None:
    """The counted time stands still: no stage or period deadline ahead is known; the pause has its own."""
    clock = PROJECT.suspend(paused(shanghai(2026, 1, 12)))
    now = shanghai(2026, 1, 20)
    plan = plan_deadlines(_stage_plan(clock, clock.started_at, 30), RULES, now)
    # 10 expected working days after 01-12: 01-13 .. 01-26.
    assert plan.resume_expected_by == shanghai(2026, 1, 27, 0)
    assert [(m.level, m.at) for m in plan.marks] == [(WarningLevel.YELLOW, plan.resume_expected_by)]
    assert "专家评审 overran its expected 10 working days" in plan.marks[0].cause
    assert (plan.stage, plan.stage_due_at, plan.decision_in_force) == ("stage_2", None, None)
    assert plan.counting_stopped_on == date(2026, 1, 12)
    assert (
        clock.working_days_used(CALENDAR, shanghai(2026, 3, 1)) == 5
    )  # 01-06 .. 01-09, 01-12: it stood still


@pytest.mark.parametrize(
    ("suspended_on", "fired"),
    [
        # Accepted 09-30 for 5 days: counted 10-08, 10-09, 10-10 (make-up), 10-12, 10-13; notice and
        # yellow at the end of 10-12, red at the end of 10-13. A pause begun on 10-13 cannot hold back red.
        (shanghai(2026, 10, 13, 10), [WarningLevel.NOTICE, WarningLevel.YELLOW, WarningLevel.RED]),
        (shanghai(2026, 10, 12, 10), [WarningLevel.NOTICE, WarningLevel.YELLOW]),
        (shanghai(2026, 10, 9, 10), []),  # the rest waits for the resumption
    ],
)
def test_a_pause_keeps_the_warnings_its_first_day_already_reached(
    suspended_on: datetime, fired: list[WarningLevel]
) -> None:
    """Only instants on or before the pause's first day are certain whatever the resumption: they stay."""
    clock = StatutoryClock(started_at=shanghai(2026, 9, 30, 10), budget=5).suspend(paused(suspended_on))
    request = PlanRequest(
        received_at=clock.started_at, deem_acceptance=None, clock=clock, decision_running=True
    )
    plan = plan_deadlines(request, RULES, suspended_on)
    kept = [m.level for m in plan.marks if "overran its expected" not in m.cause]
    assert kept == fired


def test_a_stage_whose_limit_lies_beyond_the_whole_deadline_adds_no_warning_of_its_own() -> None:
    """Started late, the last stage would overrun after the period itself: red comes first, alone."""
    started_at = shanghai(2026, 5, 18, 10)
    plan = plan_deadlines(_stage_plan(PROJECT, started_at, 15), RULES, started_at)
    assert plan.decision is not None
    assert plan.stage_due_at is not None
    assert plan.stage_due_at > plan.decision.due_at
    assert not any("stage_2" in m.cause for m in plan.marks)


def test_every_warning_mark_says_which_threshold_it_crosses() -> None:
    """The cause becomes the warning event's reason: the audit trail says why a case turned yellow."""
    request = PlanRequest(
        received_at=PROJECT.started_at, deem_acceptance=None, clock=PROJECT, decision_running=True
    )
    plan = plan_deadlines(request, RULES, PROJECT.started_at)
    assert [(m.level, m.cause) for m in plan.marks] == [
        (WarningLevel.NOTICE, "notice at 60 of 90 counted working days"),
        (WarningLevel.YELLOW, "yellow at 72 of 90 counted working days"),
        (WarningLevel.RED, "overdue: the decision was due by the end of 2026-05-20 (督办)"),
    ]


@pytest.mark.parametrize(
    ("received_at", "accepted_by"),
    [
        (shanghai(2026, 10, 10, 9), shanghai(2026, 10, 11, 0)),  # the make-up Saturday is worked
        (shanghai(2026, 10, 11, 23, 50), shanghai(2026, 10, 13, 0)),  # Sunday, online: Monday is the spot
        (shanghai(2026, 10, 3, 9), shanghai(2026, 10, 9, 0)),  # National Day: the first working day, 10-08
    ],
)
def test_real_estate_not_refused_on_the_spot_is_accepted_at_the_end_of_a_working_day(
    received_at: datetime, accepted_by: datetime
) -> None:
    """不动产登记暂行条例 第17条: the spot is the receipt day, or the next working day after a rest day."""
    request = PlanRequest(received_at=received_at, deem_acceptance=AcceptanceMode.ON_THE_SPOT)
    assert plan_deadlines(request, RULES, received_at).acceptance_by == accepted_by
