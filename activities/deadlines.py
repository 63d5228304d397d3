"""The deadline rules in force: the worker's calendar and warning thresholds, pinned in each case (R-CAL-4).

A case asks once when it registers and again when a calendar revision is announced; the answer is
recorded in its history, so replaying a case never depends on the data files a worker has loaded since,
and every deadline is computed inside the workflow from what it pinned.
"""

from __future__ import annotations

from temporalio import activity

from workflows.domain.calendar import RestDayReceipt
from workflows.domain.clock import DeadlineRules, WarningPolicy
from workflows.messages import RulesRequest
from workflows.reference_data import CalendarSource


class DeadlineActivities:
    """Serves the calendar in force with the warning policy and the R-CAL-3 receipt rule configured."""

    def __init__(
        self,
        calendar: CalendarSource,
        policy: WarningPolicy,
        receipt_policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    ) -> None:
        self._calendar = calendar
        self._policy = policy
        self._receipt_policy = receipt_policy

    @activity.defn(name="deadline_rules")
    async def deadline_rules(self, request: RulesRequest) -> DeadlineRules:
        """The rules a case received in ``request.from_year`` counts with: its calendar from that year on.

        After an announced revision (or on a retry) the calendar files are read again, so publishing a
        notice (``onewindow calendar load``) reaches every case.
        """
        reload = request.reload_calendar or activity.info().attempt > 1
        calendar = self._calendar.current(reload=reload)
        return DeadlineRules(
            calendar=calendar.snapshot(request.from_year),
            warnings=self._policy,
            rest_day_receipt=self._receipt_policy,
        )
