"""The statutory clock: budget + suspension ledger + extensions, with the due instant derived (section 4).

Nothing is ever "paused" by waiting: a suspension is a ledger entry whose working days are added to the
budget (R-CAL-2), and the deadline is recomputed from the ledger whenever it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from workflows.domain.calendar import (
    CalendarSnapshot,
    Deadline,
    RestDayReceipt,
    WorkingCalendar,
    end_of_day,
    local_date,
)
from workflows.domain.catalogue import AcceptanceMode
from workflows.domain.errors import CalendarNotPublished
from workflows.domain.values import Instant

_T = TypeVar("_T")


def day_under_way(now: datetime) -> date:
    """The day the instant ``now`` falls in, counted as begun: 24:00 of a day still belongs to that day.

    So at the very instant a period expires its last day is used and the next one is not yet.
    """
    return local_date(now - timedelta(microseconds=1))


class Suspension(BaseModel):
    """A period that does not count (R-XK-45 or the matter's own pause), open until resumed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    started_at: Instant
    expected_working_days: PositiveInt
    department: str | None = Field(default=None, description="Whose step is paused; only it resumes.")
    ended_at: Instant | None = None


class StatutoryClock(BaseModel):
    """One decision period, started by acceptance (or by receipt, when acceptance is deemed: R-XK-32)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    started_at: Instant
    budget: NonNegativeInt
    suspensions: tuple[Suspension, ...] = ()
    extensions: tuple[PositiveInt, ...] = ()

    @property
    def open_suspension(self) -> Suspension | None:
        """The suspension not yet resumed, if any."""
        return next((s for s in self.suspensions if s.ended_at is None), None)

    @property
    def suspended(self) -> bool:
        """True while a suspension is open: the counted time stands still."""
        return self.open_suspension is not None

    def suspend(self, suspension: Suspension) -> StatutoryClock:
        """The clock with one more (open) suspension."""
        return self.model_copy(update={"suspensions": (*self.suspensions, suspension)})

    def resume(self, at: datetime) -> StatutoryClock:
        """The clock with its open suspension closed at ``at``."""
        closed = tuple(s if s.ended_at else s.model_copy(update={"ended_at": at}) for s in self.suspensions)
        return self.model_copy(update={"suspensions": closed})

    def extend(self, working_days: int) -> StatutoryClock:
        """The clock with an authorised extension (R-XK-42a/b) added."""
        return self.model_copy(update={"extensions": (*self.extensions, working_days)})

    def suspended_working_days(self, calendar: WorkingCalendar, now: datetime) -> tuple[int, bool]:
        """Working days removed by suspensions (an open one counts up to ``now``), and the provisional flag.

        A suspension's own start day still counts (it was partly worked); the days after it up to and
        including the resume day do not, so counting resumes the working day after (R-CAL-2).
        """
        total, provisional = 0, False
        for suspension in self.suspensions:
            counted = calendar.working_days_between(suspension.started_at, suspension.ended_at or now)
            total += counted.days
            provisional = provisional or counted.provisional
        return total, provisional

    def _count(
        self, calendar: WorkingCalendar, now: datetime, policy: RestDayReceipt, through: date | None = None
    ) -> tuple[date, tuple[date, ...], bool]:
        """The trigger, the counted days (at least the budget's, and through ``through``), provisional flag.

        A working day counts unless a suspension covers it: a suspension covers the days after its start
        day up to and including its resume day (an open one, up to ``now``), as R-CAL-2 says. So a
        suspension begun after the deadline passed removes nothing from the period: it cannot hide an
        overdue case.
        """
        trigger = calendar.trigger_day(self.started_at, policy)
        windows = [(local_date(s.started_at), local_date(s.ended_at or now)) for s in self.suspensions]
        needed = self.budget + sum(self.extensions)
        days: list[date] = []
        provisional = calendar.day(trigger).provisional
        day = trigger
        while len(days) < needed or (through is not None and day < through):
            day += timedelta(days=1)
            info = calendar.day(day)
            provisional = provisional or info.provisional
            if info.working and not any(start < day <= end for start, end in windows):
                days.append(day)
        return trigger, tuple(days), provisional

    def deadline(
        self,
        calendar: WorkingCalendar,
        now: datetime,
        policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> Deadline:
        """Due instant: the end of the (budget + extensions)-th counted day (R-CAL-1, R-CAL-2).

        While suspended, the deadline is the one that would hold if the clock resumed at ``now``.
        """
        trigger, days, provisional = self._count(calendar, now, policy)
        needed = self.budget + sum(self.extensions)
        last = days[needed - 1] if needed else trigger
        return Deadline(
            last_day=last, due_at=end_of_day(last), provisional=provisional, calendar_version=calendar.version
        )

    def counted_days(
        self,
        calendar: WorkingCalendar,
        now: datetime,
        policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> tuple[date, ...]:
        """The working days of the period that count, in order, through its last day."""
        _, days, _ = self._count(calendar, now, policy)
        return days[: self.budget + sum(self.extensions)]

    def working_days_used(
        self,
        calendar: WorkingCalendar,
        now: datetime,
        policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> int:
        """Counted working days begun by ``now``; more than the budget once overdue."""
        today = day_under_way(now)
        _, days, _ = self._count(calendar, now, policy, through=today)
        return sum(1 for day in days if day <= today)


class WarningLevel(StrEnum):
    """电子监察 warning levels (DESIGN.md section 8), in rising order."""

    NONE = "none"
    NOTICE = "notice"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        """Position in the rising order, for comparisons."""
        return list(WarningLevel).index(self)


def highest(levels: Iterable[WarningLevel]) -> WarningLevel:
    """The highest of ``levels``; none if there are none."""
    return max(levels, key=lambda level: level.rank, default=WarningLevel.NONE)


class WarningSubject(StrEnum):
    """Which deadline a warning is about."""

    DECISION = "decision"  # the statutory clock (R-XK-42, the reform's promised limit)
    DELIVERY = "delivery"  # R-XK-44: the licence within 10 working days of the decision
    VERIFICATION = "verification"  # 告知承诺制: the department verifies the commitment after issuance
    INTERNAL_TARGET = "internal_target"  # 绿色通道: the shorter target the office sets itself
    HANDLING = "handling"  # 12345/8890: a complaint handled within its category's working days

    @property
    def statutory(self) -> bool:
        """A deadline of law or of the reform's promise (supervised, escalated); not an internal target."""
        return self is not WarningSubject.INTERNAL_TARGET


class WarningPolicy(BaseModel):
    """When warnings fire (configurable; defaults from DESIGN.md section 8), in counted working days.

    Shares are exact fractions (numerator, denominator) so that two thirds of 90 days is 60, not 61.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice_share: tuple[PositiveInt, PositiveInt] = (2, 3)
    notice_days_left: NonNegativeInt = 1
    yellow_share: tuple[PositiveInt, PositiveInt] = (4, 5)

    def notice_day(self, budget: int) -> int:
        """The counted day whose end raises a notice: ⅔ of the budget, or 1 working day left if earlier."""
        return max(min(_share(budget, self.notice_share), budget - self.notice_days_left), 0)

    def yellow_day(self, budget: int) -> int:
        """The counted day whose end raises yellow: 80 % of the budget."""
        return _share(budget, self.yellow_share)


def _share(budget: int, share: tuple[int, int]) -> int:
    numerator, denominator = share
    return -(-budget * numerator // denominator)  # ceiling, in integers


class WarningMark(BaseModel):
    """An instant at which a warning level is reached, and why (the warning's reason).

    A mark that ``counts`` is about the counted budget: when it is raised, its reason is preceded by the
    working days used at that instant, which may be more than at the mark itself.
    """

    model_config = ConfigDict(frozen=True)

    level: WarningLevel
    subject: WarningSubject
    at: Instant
    cause: str = ""
    counts: bool = False


class StageLimit(BaseModel):
    """The stage of a composite matter now under review, and its own share of the limit (一家牵头、限时办结).

    A stage starts when the previous one is decided (the first at acceptance); its working days are
    counted like the whole period's, suspensions excluded.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    started_at: Instant
    working_days: PositiveInt


class DeadlineRules(BaseModel):
    """What a case's deadlines are computed with, pinned in the case when it registers (R-CAL-4).

    Replaced only by an announced revision, so a case replays the same way whatever data files a worker
    has loaded since, and its rules can count working days without I/O.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    calendar: CalendarSnapshot
    warnings: WarningPolicy = WarningPolicy()
    rest_day_receipt: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE

    @property
    def version(self) -> str:
        """The calendar version the rules count with."""
        return self.calendar.version

    @property
    def working(self) -> WorkingCalendar:
        """The calendar to count with."""
        return self.calendar.working


class Period(BaseModel):
    """A period of working days counted from an instant (R-CAL-1), with no pauses: the verification of a
    commitment, the rectification it allows."""

    model_config = ConfigDict(frozen=True)

    started_at: Instant
    working_days: PositiveInt


class PlanRequest(BaseModel):
    """What the deadlines of a case depend on (derived from its state; see ``application.plan_request``)."""

    model_config = ConfigDict(frozen=True)

    received_at: Instant = Field(
        description="When the complete materials the acceptance period runs from came."
    )
    deem_acceptance: AcceptanceMode | None = Field(description="Set while silence can still deem acceptance.")
    clock: StatutoryClock | None = None
    decision_running: bool = False
    supplement_within: PositiveInt | None = None
    decided_at: Instant | None = None
    stage: StageLimit | None = Field(default=None, description="Set while a budgeted stage is under review.")
    verification: Period | None = Field(
        default=None, description="告知承诺制: set while the department's verification is owed."
    )
    internal_target: NonNegativeInt | None = Field(
        default=None, description="绿色通道: the internal target in working days, counted like the limit."
    )
    rectification: Period | None = Field(
        default=None, description="告知承诺制: set while a failed verification's rectification is owed."
    )


class DeadlinePlan(BaseModel):
    """Every deadline of a case at one moment, computed with one calendar version (recorded as an event)."""

    model_config = ConfigDict(frozen=True)

    calendar_version: str
    provisional: bool
    calendar_missing: int | None = Field(
        default=None, description="A year the deadlines reach that has no calendar data: they wait for it."
    )
    acceptance_by: Instant | None = None
    decision: Deadline | None = None
    counted_days: tuple[date, ...] = Field(default=(), description="The decision period's counted days.")
    suspended_working_days: int = Field(default=0, description="Working days not counted (R-XK-45 pauses).")
    supplement_by: Instant | None = None
    delivery_by: Instant | None = None
    counting_stopped_on: date | None = Field(
        default=None, description="While suspended: the pause's first day, the last one that counts."
    )
    resume_expected_by: Instant | None = Field(
        default=None, description="While suspended: the end of the pause's expected working days."
    )
    stage: str | None = Field(default=None, description="The budgeted stage under review, if any.")
    stage_due_at: Instant | None = Field(default=None, description="When that stage overruns.")
    verification_by: Instant | None = Field(default=None, description="告知承诺制: verify by then.")
    internal_target_by: Instant | None = Field(
        default=None, description="绿色通道: the internal target, before the decision deadline."
    )
    rectification_by: Instant | None = Field(
        default=None, description="告知承诺制: rectified by then, or the licence is revoked."
    )
    marks: tuple[WarningMark, ...] = ()

    @property
    def decision_in_force(self) -> Deadline | None:
        """The decision deadline, if one is running and certain.

        While suspended the deadline depends on when the pause ends, so there is none, unless it fell on
        or before the pause's first day: then it has passed, whatever the resumption.
        """
        decision = self.decision
        if decision is None or self.counting_stopped_on is None:
            return decision
        return decision if decision.last_day <= self.counting_stopped_on else None

    @property
    def decision_due_at(self) -> datetime | None:
        """When the decision period expires (see ``decision_in_force``)."""
        return self.decision_in_force.due_at if self.decision_in_force else None

    def level_at(self, now: datetime, subject: WarningSubject = WarningSubject.DECISION) -> WarningLevel:
        """The highest level of ``subject`` reached by ``now``."""
        reached = self.mark_reached(now, subject)
        return reached.level if reached else WarningLevel.NONE

    def mark_reached(self, now: datetime, subject: WarningSubject) -> WarningMark | None:
        """The mark of the highest level of ``subject`` reached by ``now`` (the latest, among equals)."""
        reached = [mark for mark in self.marks if mark.subject is subject and mark.at <= now]
        return max(reached, key=lambda mark: (mark.level.rank, mark.at), default=None)


# R-XK-32: silence for 5 working days after receipt means accepted. R-XK-44: deliver within 10.
DEEMED_ACCEPTANCE_DAYS = 5
DELIVERY_DAYS = 10


def plan_deadlines(request: PlanRequest, rules: DeadlineRules, now: datetime) -> DeadlinePlan:
    """All deadlines of a case and the instants its warnings fire, from the ledger and the pinned rules."""
    planner = _Planner(rules, now)
    acceptance = planner.acceptance(request)
    decision, counted, suspended, marks = planner.decision(request)
    stage_code, stage_due_at = planner.stage(request, decision, marks)
    internal_target_by = planner.internal_target(request, decision, marks)
    counting_stopped_on, resume_expected_by = None, None
    pause = request.clock.open_suspension if request.clock is not None and decision is not None else None
    if pause is not None:
        # The counted time stands still: only instants on or before the pause's first day are certain
        # (a deadline that passed then stays passed); the pause itself is due after its expected days.
        counting_stopped_on = local_date(pause.started_at)
        marks = [mark for mark in marks if mark.at <= end_of_day(counting_stopped_on)]
        if stage_due_at is not None and stage_due_at > end_of_day(counting_stopped_on):
            stage_due_at = None  # like the decision deadline: it depends on the resumption
        if internal_target_by is not None and internal_target_by > end_of_day(counting_stopped_on):
            internal_target_by = None
        resume_expected_by = planner.pause_end(pause, marks)
    delivery = planner.delivery(request, marks)
    verification_by = planner.verification(request, marks)
    return DeadlinePlan(
        calendar_version=rules.version,
        provisional=planner.provisional,
        calendar_missing=planner.missing,
        acceptance_by=acceptance.due_at if acceptance else None,
        decision=decision,
        counted_days=counted,
        suspended_working_days=suspended,
        supplement_by=planner.supplement_by(request),
        delivery_by=delivery,
        counting_stopped_on=counting_stopped_on,
        resume_expected_by=resume_expected_by,
        stage=stage_code,
        stage_due_at=stage_due_at,
        verification_by=verification_by,
        internal_target_by=internal_target_by,
        rectification_by=planner.rectification_by(request),
        marks=tuple(sorted(marks, key=lambda mark: mark.at)),
    )


class _Planner:
    """Computes each part of a plan on its own, so a year without calendar data loses only what needs it.

    A part that reaches such a year is left out and the year is remembered: the case then waits for the
    year's notice (R-CAL-4) instead of guessing, and supervision is told.
    """

    def __init__(self, rules: DeadlineRules, now: datetime) -> None:
        self.calendar = rules.working
        self.receipt_policy = rules.rest_day_receipt
        self.warnings = rules.warnings
        self.now = now
        self.provisional = False
        self.missing: int | None = None

    def attempt(self, compute: Callable[[], _T]) -> _T | None:
        """``compute()``, or None when it reaches a year without calendar data."""
        try:
            return compute()
        except CalendarNotPublished as error:
            self.missing = error.year if self.missing is None else min(self.missing, error.year)
            return None

    def deadline(self, compute: Callable[[], Deadline]) -> Deadline | None:
        """A deadline, noting whether it rests on provisional data."""
        found = self.attempt(compute)
        self.provisional = self.provisional or bool(found and found.provisional)
        return found

    def acceptance(self, request: PlanRequest) -> Deadline | None:
        """When silence (or no refusal on the spot) means accepted (R-XK-32; 不动产登记暂行条例 第17条)."""
        calendar = self.calendar
        if request.deem_acceptance is AcceptanceMode.ON_THE_SPOT:
            # The spot is the receipt day, or for a rest-day (online) receipt the next working day (R-CAL-3).
            receipt_day = local_date(request.received_at)
            return self.deadline(
                lambda: calendar.deadline(receipt_day, 0 if calendar.day(receipt_day).working else 1)
            )
        if request.deem_acceptance is AcceptanceMode.NOTICE_WITHIN_FIVE_DAYS:
            return self.deadline(
                lambda: calendar.deadline(
                    calendar.trigger_day(request.received_at, self.receipt_policy), DEEMED_ACCEPTANCE_DAYS
                )
            )
        return None

    def decision(
        self, request: PlanRequest
    ) -> tuple[Deadline | None, tuple[date, ...], int, list[WarningMark]]:
        """The decision deadline, its counted days, the days not counted, and its warning marks."""
        clock = request.clock
        if clock is None or not request.decision_running:
            return None, (), 0, []
        calendar, now = self.calendar, self.now
        decision = self.deadline(lambda: clock.deadline(calendar, now, self.receipt_policy))
        ledger = self.attempt(
            lambda: (
                clock.counted_days(calendar, now, self.receipt_policy),
                clock.suspended_working_days(calendar, now)[0],
            )
        )
        if decision is None or ledger is None:
            return None, (), 0, []
        counted, suspended = ledger
        return decision, counted, suspended, _decision_marks(counted, decision, self.warnings)

    def stage(
        self, request: PlanRequest, decision: Deadline | None, marks: list[WarningMark]
    ) -> tuple[str | None, datetime | None]:
        """The budgeted stage under review and when it overruns; yellow then, if before the whole period."""
        clock, stage = request.clock, request.stage
        if clock is None or decision is None or stage is None:
            return None, None
        found = self.deadline(
            lambda: _stage_deadline(clock, stage, self.calendar, self.now, self.receipt_policy)
        )
        if found is None:
            return None, None
        if found.due_at < decision.due_at:
            marks.append(_stage_mark(stage, found.due_at))
        return stage.code, found.due_at

    def internal_target(
        self, request: PlanRequest, decision: Deadline | None, marks: list[WarningMark]
    ) -> datetime | None:
        """绿色通道: the internal target, counted as the decision period is (pauses excluded), with its own
        notice, yellow and red; none when it would not fall before the decision deadline."""
        clock, target = request.clock, request.internal_target
        if clock is None or decision is None or target is None:
            return None
        target_clock = clock.model_copy(update={"budget": target, "extensions": ()})
        found = self.attempt(
            lambda: (
                target_clock.deadline(self.calendar, self.now, self.receipt_policy),
                target_clock.counted_days(self.calendar, self.now, self.receipt_policy),
            )
        )
        if found is None or found[0].due_at >= decision.due_at:
            return None
        deadline, counted = found
        marks += _decision_marks(counted, deadline, self.warnings, WarningSubject.INTERNAL_TARGET)
        return deadline.due_at

    def pause_end(self, pause: Suspension, marks: list[WarningMark]) -> datetime | None:
        """R-XK-45: the end of the pause's expected working days, a deadline of its own (yellow)."""
        stopped_on = local_date(pause.started_at)
        expected = self.deadline(lambda: self.calendar.deadline(stopped_on, pause.expected_working_days))
        if expected is None:
            return None
        marks.append(_pause_mark(pause, expected.due_at))
        return expected.due_at

    def supplement_by(self, request: PlanRequest) -> datetime | None:
        """容缺: when the promised materials are due, counted from acceptance."""
        clock, within = request.clock, request.supplement_within
        if clock is None or within is None:
            return None
        calendar = self.calendar
        promised = self.deadline(
            lambda: calendar.deadline(calendar.trigger_day(clock.started_at, self.receipt_policy), within)
        )
        return promised.due_at if promised else None

    def delivery(self, request: PlanRequest, marks: list[WarningMark]) -> datetime | None:
        """R-XK-44: the licence within 10 working days of the decision; red when that passes."""
        if request.decided_at is None:
            return None
        decided_on = local_date(request.decided_at)
        delivery = self.deadline(lambda: self.calendar.deadline(decided_on, DELIVERY_DAYS))
        if delivery is None:
            return None
        marks.append(
            WarningMark(
                level=WarningLevel.RED,
                subject=WarningSubject.DELIVERY,
                at=delivery.due_at,
                cause=f"R-XK-44: the licence was not delivered within {DELIVERY_DAYS} working days",
            )
        )
        return delivery.due_at

    def verification(self, request: PlanRequest, marks: list[WarningMark]) -> datetime | None:
        """告知承诺制: the verification owed after issuance, warned like a decision (notice, yellow, red)."""
        if request.verification is None:
            return None
        clock = _period_clock(request.verification)
        found = self.attempt(
            lambda: (
                clock.deadline(self.calendar, self.now, self.receipt_policy),
                clock.counted_days(self.calendar, self.now, self.receipt_policy),
            )
        )
        if found is None:
            return None
        deadline, counted = found
        self.provisional = self.provisional or deadline.provisional
        marks += _decision_marks(counted, deadline, self.warnings, WarningSubject.VERIFICATION)
        return deadline.due_at

    def rectification_by(self, request: PlanRequest) -> datetime | None:
        """告知承诺制: when the rectification a failed verification allows ends."""
        if request.rectification is None:
            return None
        clock = _period_clock(request.rectification)
        found = self.deadline(lambda: clock.deadline(self.calendar, self.now, self.receipt_policy))
        return found.due_at if found else None


def _decision_marks(
    counted: tuple[date, ...],
    decision: Deadline,
    policy: WarningPolicy,
    subject: WarningSubject = WarningSubject.DECISION,
) -> list[WarningMark]:
    """Notice and yellow at the end of their counted day; red when the deadline of ``subject`` passes."""
    budget = len(counted)
    marks = []
    for level, day in (
        (WarningLevel.NOTICE, policy.notice_day(budget)),
        (WarningLevel.YELLOW, policy.yellow_day(budget)),
    ):
        if 0 < day < budget:
            cause = f"{level.value} at {day} of {budget} counted working days"
            marks.append(
                WarningMark(
                    level=level, subject=subject, at=end_of_day(counted[day - 1]), cause=cause, counts=True
                )
            )
    escalated = " (督办)" if subject.statutory else ""  # an internal target's is the office's own
    overdue = f"overdue: the {subject.value} was due by the end of {decision.last_day.isoformat()}{escalated}"
    marks.append(
        WarningMark(level=WarningLevel.RED, subject=subject, at=decision.due_at, cause=overdue, counts=True)
    )
    return marks


def _period_clock(period: Period) -> StatutoryClock:
    return StatutoryClock(started_at=period.started_at, budget=period.working_days)


def _stage_deadline(
    clock: StatutoryClock,
    stage: StageLimit,
    calendar: WorkingCalendar,
    now: datetime,
    receipt_policy: RestDayReceipt,
) -> Deadline:
    """The end of the stage's own limit: its working days from its start, the case's pauses excluded."""
    stage_clock = StatutoryClock(
        started_at=stage.started_at, budget=stage.working_days, suspensions=clock.suspensions
    )
    return stage_clock.deadline(calendar, now, receipt_policy)


def _pause_mark(pause: Suspension, due_at: datetime) -> WarningMark:
    """R-XK-45: a paused step still has its own deadline; overrunning it is a step overrunning (yellow)."""
    cause = f"the pause for {pause.reason} overran its expected {pause.expected_working_days} working days"
    return WarningMark(level=WarningLevel.YELLOW, subject=WarningSubject.DECISION, at=due_at, cause=cause)


def _stage_mark(stage: StageLimit, due_at: datetime) -> WarningMark:
    """DESIGN.md section 8: yellow when one step overruns its own limit, before the whole period does."""
    cause = f"stage {stage.code} ({stage.name}) overran its own limit of {stage.working_days} working days"
    return WarningMark(level=WarningLevel.YELLOW, subject=WarningSubject.DECISION, at=due_at, cause=cause)
