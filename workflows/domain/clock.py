"""The statutory clock: budget + suspension ledger + extensions, with the due instant derived (section 4).

Nothing is ever "paused" by waiting: a suspension is a ledger entry whose working days are added to the
budget (R-CAL-2), and the deadline is recomputed from the ledger whenever it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt

from workflows.domain.calendar import Deadline, RestDayReceipt, WorkingCalendar, end_of_day, local_date
from workflows.domain.catalogue import AcceptanceMode


class Suspension(BaseModel):
    """A period that does not count (R-XK-45 or the matter's own pause), open until resumed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    started_at: AwareDatetime
    expected_working_days: PositiveInt
    ended_at: AwareDatetime | None = None


class StatutoryClock(BaseModel):
    """One decision period, started by acceptance (or by receipt, when acceptance is deemed: R-XK-32)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    started_at: AwareDatetime
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
        """Counted working days used by ``now``, today included; more than the budget once overdue."""
        today = local_date(now)
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
    """An instant at which a warning level is reached, and why (recorded as the warning's reason)."""

    model_config = ConfigDict(frozen=True)

    level: WarningLevel
    subject: WarningSubject
    at: AwareDatetime
    cause: str = ""


class StageLimit(BaseModel):
    """The stage of a composite matter now under review, and its own share of the limit (一家牵头、限时办结).

    A stage starts when the previous one is decided (the first at acceptance); its working days are
    counted like the whole period's, suspensions excluded.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    started_at: AwareDatetime
    working_days: PositiveInt


class PlanRequest(BaseModel):
    """What the deadlines of a case depend on (derived from its state; see ``application.plan_request``)."""

    model_config = ConfigDict(frozen=True)

    received_at: AwareDatetime
    deem_acceptance: AcceptanceMode | None = Field(description="Set while silence can still deem acceptance.")
    clock: StatutoryClock | None = None
    decision_running: bool = False
    supplement_within: PositiveInt | None = None
    decided_at: AwareDatetime | None = None
    stage: StageLimit | None = Field(default=None, description="Set while a budgeted stage is under review.")


class DeadlinePlan(BaseModel):
    """Every deadline of a case at one moment, computed with one calendar version (recorded as an event)."""

    model_config = ConfigDict(frozen=True)

    calendar_version: str
    provisional: bool
    acceptance_by: AwareDatetime | None = None
    decision: Deadline | None = None
    counted_days: tuple[date, ...] = Field(default=(), description="The decision period's counted days.")
    suspended_working_days: int = Field(default=0, description="Working days not counted (R-XK-45 pauses).")
    supplement_by: AwareDatetime | None = None
    delivery_by: AwareDatetime | None = None
    counting_stopped_on: date | None = Field(
        default=None, description="While suspended: the pause's first day, the last one that counts."
    )
    resume_expected_by: AwareDatetime | None = Field(
        default=None, description="While suspended: the end of the pause's expected working days."
    )
    stage: str | None = Field(default=None, description="The budgeted stage under review, if any.")
    stage_due_at: AwareDatetime | None = Field(default=None, description="When that stage overruns.")
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
        return highest(m.level for m in self.marks if m.subject is subject and m.at <= now)

    def working_days_used(self, now: datetime) -> int:
        """Counted days of the decision period used by ``now``, today included (as ``StatutoryClock``).

        While suspended no day after the pause's first counts, however long ago that was.
        """
        today = local_date(now)
        if self.counting_stopped_on is not None:
            today = min(today, self.counting_stopped_on)
        return sum(1 for day in self.counted_days if day <= today)


# R-XK-32: silence for 5 working days after receipt means accepted. R-XK-44: deliver within 10.
DEEMED_ACCEPTANCE_DAYS = 5
DELIVERY_DAYS = 10


def plan_deadlines(
    request: PlanRequest,
    calendar: WorkingCalendar,
    now: datetime,
    policy: WarningPolicy = WarningPolicy(),  # noqa: B008 - immutable
    receipt_policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
) -> DeadlinePlan:
    """All deadlines of a case and the instants its warnings fire, from the ledger and the calendar."""
    provisional = False
    acceptance_by = None
    if request.deem_acceptance is AcceptanceMode.ON_THE_SPOT:
        # 不动产登记暂行条例 第17条: not refused in writing on the spot = accepted. The spot is the receipt
        # day, or for an application received on a rest day (online) the next working day (R-CAL-3).
        receipt_day = local_date(request.received_at)
        spot = calendar.deadline(receipt_day, 0 if calendar.day(receipt_day).working else 1)
        acceptance_by, provisional = spot.due_at, spot.provisional
    elif request.deem_acceptance is AcceptanceMode.NOTICE_WITHIN_FIVE_DAYS:
        deemed = calendar.deadline(
            calendar.trigger_day(request.received_at, receipt_policy), DEEMED_ACCEPTANCE_DAYS
        )
        acceptance_by, provisional = deemed.due_at, deemed.provisional
    decision: Deadline | None = None
    counted: tuple[date, ...] = ()
    suspended = 0
    marks: list[WarningMark] = []
    clock = request.clock
    if clock is not None and request.decision_running:
        decision = clock.deadline(calendar, now, receipt_policy)
        counted = clock.counted_days(calendar, now, receipt_policy)
        suspended, _ = clock.suspended_working_days(calendar, now)
        provisional = provisional or decision.provisional
        marks = _decision_marks(counted, decision, policy)
    stage_code, stage_due_at = None, None
    if clock is not None and decision is not None and request.stage is not None:
        stage_deadline = _stage_deadline(clock, request.stage, calendar, now, receipt_policy)
        stage_code, stage_due_at = request.stage.code, stage_deadline.due_at
        provisional = provisional or stage_deadline.provisional
        if stage_due_at < decision.due_at:
            marks.append(_stage_mark(request.stage, stage_due_at))
    pause = clock.open_suspension if clock is not None and decision is not None else None
    counting_stopped_on, resume_expected_by = None, None
    if pause is not None:
        # The counted time stands still: only instants on or before the pause's first day are certain
        # (a deadline that passed then stays passed); the pause itself is due after its expected days.
        counting_stopped_on = local_date(pause.started_at)
        marks = [mark for mark in marks if mark.at <= end_of_day(counting_stopped_on)]
        if stage_due_at is not None and stage_due_at > end_of_day(counting_stopped_on):
            stage_due_at = None  # like the decision deadline: it depends on the resumption
        expected = calendar.deadline(counting_stopped_on, pause.expected_working_days)
        resume_expected_by, provisional = expected.due_at, provisional or expected.provisional
        marks.append(_pause_mark(pause, resume_expected_by))
    supplement_by = None
    if clock is not None and request.supplement_within is not None:
        trigger = calendar.trigger_day(clock.started_at, receipt_policy)
        promised = calendar.deadline(trigger, request.supplement_within)
        supplement_by, provisional = promised.due_at, provisional or promised.provisional
    delivery_by = None
    if request.decided_at is not None:
        delivery = calendar.deadline(local_date(request.decided_at), DELIVERY_DAYS)
        delivery_by, provisional = delivery.due_at, provisional or delivery.provisional
        marks.append(
            WarningMark(
                level=WarningLevel.RED,
                subject=WarningSubject.DELIVERY,
                at=delivery_by,
                cause=f"R-XK-44: the licence was not delivered within {DELIVERY_DAYS} working days",
            )
        )
    return DeadlinePlan(
        calendar_version=calendar.version,
        provisional=provisional,
        acceptance_by=acceptance_by,
        decision=decision,
        counted_days=counted,
        suspended_working_days=suspended,
        supplement_by=supplement_by,
        delivery_by=delivery_by,
        counting_stopped_on=counting_stopped_on,
        resume_expected_by=resume_expected_by,
        stage=stage_code,
        stage_due_at=stage_due_at,
        marks=tuple(sorted(marks, key=lambda mark: mark.at)),
    )


def _decision_marks(
    counted: tuple[date, ...], decision: Deadline, policy: WarningPolicy
) -> list[WarningMark]:
    """Notice and yellow at the end of their counted day; red when the decision deadline passes."""
    budget = len(counted)
    marks = []
    for level, day in (
        (WarningLevel.NOTICE, policy.notice_day(budget)),
        (WarningLevel.YELLOW, policy.yellow_day(budget)),
    ):
        if 0 < day < budget:
            cause = f"{day} of {budget} counted working days used"
            marks.append(
                WarningMark(
                    level=level, subject=WarningSubject.DECISION, at=end_of_day(counted[day - 1]), cause=cause
                )
            )
    overdue = f"overdue: the decision was due by the end of {decision.last_day.isoformat()} (督办)"
    marks.append(
        WarningMark(
            level=WarningLevel.RED, subject=WarningSubject.DECISION, at=decision.due_at, cause=overdue
        )
    )
    return marks


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
