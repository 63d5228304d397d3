"""Deadline computation with the worker's calendar in force (R-CAL-4).

The result is recorded in the case's history, so replaying a case never depends on the calendar data a
worker happens to have loaded later; a revision is an explicit event.
"""

from __future__ import annotations

from temporalio import activity

from workflows.domain.calendar import RestDayReceipt
from workflows.domain.clock import DeadlinePlan, WarningPolicy, plan_deadlines
from workflows.messages import PlanInput
from workflows.reference_data import CalendarSource


class DeadlineActivities:
    """Plans deadlines; configured with the warning policy and the R-CAL-3 receipt rule in force."""

    def __init__(
        self,
        calendar: CalendarSource,
        policy: WarningPolicy,
        receipt_policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> None:
        self._calendar = calendar
        self._policy = policy
        self._receipt_policy = receipt_policy

    @activity.defn(name="plan_deadlines")
    async def plan_deadlines(self, plan_input: PlanInput) -> DeadlinePlan:
        """Every deadline of the case at ``plan_input.now``.

        A year with no data (CalendarNotPublished) fails the attempt; each retry reads the calendar files
        again, so publishing the notice (``onewindow calendar load``) lets the case go on.
        """
        retry = activity.info().attempt > 1
        calendar = self._calendar.current(reload=plan_input.reload_calendar or retry)
        return plan_deadlines(
            plan_input.request, calendar, plan_input.now, self._policy, self._receipt_policy
        )
