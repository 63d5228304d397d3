"""The social-credit system: records of broken commitments, and the 容缺 eligibility check they feed."""

from __future__ import annotations

import asyncio
from calendar import monthrange
from datetime import datetime

from temporalio import activity

from activities.outbox import Outbox
from workflows.domain.commands import CreditStanding
from workflows.messages import CreditEntry, CreditQuery

SYSTEM = "credit"


def months_before(instant: datetime, months: int) -> datetime:
    """The same day-of-month ``months`` earlier, clamped to that month's last day."""
    year, month_index = divmod(instant.year * 12 + instant.month - 1 - months, 12)
    day = min(instant.day, monthrange(year, month_index + 1)[1])
    return instant.replace(year=year, month=month_index + 1, day=day)


class CreditActivities:
    """Writes credit records and bars applicants with a recent one from 容缺 (Dalian: 6 months)."""

    def __init__(self, outbox: Outbox, bar_months: int = 6) -> None:
        self._outbox = outbox
        self._bar_months = bar_months

    @activity.defn(name="write_credit_record")
    async def write_credit_record(self, entry: CreditEntry) -> None:
        """Record a broken commitment against the applicant (once per key)."""
        await self._outbox.record(
            SYSTEM, entry.key, entry.applicant_id, entry.at, entry.model_dump(mode="json")
        )

    @activity.defn(name="check_credit")
    async def check_credit(self, query: CreditQuery) -> CreditStanding:
        """Eligible unless a broken commitment was recorded within the bar period before ``query.at``."""
        since = months_before(query.at, self._bar_months)
        recent = [
            payload
            for at, payload in await asyncio.to_thread(self._outbox.records, SYSTEM, query.applicant_id)
            if since <= at <= query.at
        ]
        if recent:
            return CreditStanding(
                eligible=False,
                detail=f"broken commitment recorded on case {recent[-1]['application_id']} "
                f"within {self._bar_months} months",
            )
        return CreditStanding(eligible=True, detail=f"no broken commitment within {self._bar_months} months")
