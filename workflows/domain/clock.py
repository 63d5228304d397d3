"""The statutory clock: budget + suspension ledger + extensions, with the due instant derived (section 4).

Nothing is ever "paused" by waiting: a suspension is a ledger entry whose working days are added to the
budget (R-CAL-2), and the deadline is recomputed from the ledger whenever it changes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, NonNegativeInt, PositiveInt

from workflows.domain.calendar import Deadline, RestDayReceipt, WorkingCalendar


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
    def suspended(self) -> bool:
        """True while a suspension is open: the counted time stands still."""
        return any(s.ended_at is None for s in self.suspensions)

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

    def deadline(
        self,
        calendar: WorkingCalendar,
        now: datetime,
        policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> Deadline:
        """Due instant = start + budget + suspended working days + extensions (R-CAL-1, R-CAL-2).

        While suspended, the deadline is the one that would hold if the clock resumed at ``now``.
        """
        removed, provisional = self.suspended_working_days(calendar, now)
        trigger = calendar.trigger_day(self.started_at, policy)
        deadline = calendar.deadline(trigger, self.budget + removed + sum(self.extensions))
        if provisional and not deadline.provisional:
            return deadline.model_copy(update={"provisional": True})
        return deadline

    def working_days_used(
        self,
        calendar: WorkingCalendar,
        now: datetime,
        policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> int:
        """Counted working days so far: elapsed working days minus suspended ones."""
        trigger = calendar.trigger_day(self.started_at, policy)
        elapsed = calendar.working_days_between(trigger, now).days
        removed, _ = self.suspended_working_days(calendar, now)
        return max(elapsed - removed, 0)
