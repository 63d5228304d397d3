"""The credit bar as pure rules: who may be trusted on their word (容缺, 告知承诺; DESIGN.md §3, §6).

A credit record of any kind bars an applicant from both instruments for a bar period in calendar months
(Dalian: 6, configurable); a register keeps what the longest configurable bar could still reach.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from workflows.domain.commands import CreditStanding

DEFAULT_BAR_MONTHS = 6  # Dalian: a record bars 容缺 and 告知承诺 for six months
MAX_BAR_MONTHS = 120  # the longest bar a worker may be configured with; records are kept this long


class CreditRecordKind(StrEnum):
    """What an applicant's credit record says they did; each bars 容缺 and 告知承诺 for the bar period."""

    DEFICIENCY_COMMITMENT_BROKEN = "deficiency_commitment_broken"  # 容缺: promised materials never came
    FALSE_COMMITMENT = "false_commitment"  # 告知承诺: found untrue and not rectified; the licence revoked
    INVESTMENT_COMMITMENT_FAILED = "investment_commitment_failed"  # 投资承诺: failed completion acceptance
    SUPERVISION_FINDING = "supervision_finding"  # 事中事后监管: a supervisor's finding on an issued licence


class CreditRecord(Protocol):
    """What the bar reads of a record (``workflows.messages.CreditEntry`` is one)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> CreditRecordKind: ...
    @property
    def application_id(self) -> str: ...


_R = TypeVar("_R", bound=CreditRecord)


def months_before(instant: datetime, months: int) -> datetime:
    """The same day-of-month ``months`` earlier, clamped to that month's last day."""
    year, month_index = divmod(instant.year * 12 + instant.month - 1 - months, 12)
    day = min(instant.day, monthrange(year, month_index + 1)[1])
    return instant.replace(year=year, month=month_index + 1, day=day)


def standing(records: Iterable[CreditRecord], at: datetime, bar_months: int) -> CreditStanding:
    """Eligible at ``at`` unless a record of any kind was made within ``bar_months`` calendar months
    before; the refusal names the most recent such record's case and kind."""
    since = months_before(at, bar_months)
    barring = [record for record in records if since <= record.at <= at]
    if not barring:
        return CreditStanding(eligible=True, detail=f"no credit record within {bar_months} months")
    latest = max(barring, key=lambda record: record.at)
    return CreditStanding(
        eligible=False,
        detail=f"{latest.kind.value} recorded on case {latest.application_id} within {bar_months} months",
    )


def still_kept(records: Iterable[_R], now: datetime) -> tuple[_R, ...]:
    """The records the longest bar period could still reach at ``now`` (or later), oldest first."""
    horizon = months_before(now, MAX_BAR_MONTHS)
    return tuple(sorted((r for r in records if r.at >= horizon), key=lambda record: record.at))
