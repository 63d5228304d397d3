"""What each endpoint does: HTTP onto ``workflows.client.Cases``, with the engine's answers translated.

Every read passes the caller as ``reader``: the client answers ``UnknownApplication`` for a case their
role does not cover and lists only the cases it does (``workflows.domain.access``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Generic, TypeVar

import structlog
from pydantic import BaseModel

from gateway.errors import EngineTimeout
from workflows.client import Announcement, CaseClient, Cases, CaseSummary, open_cases_query
from workflows.domain.calendar import WorkingCalendar, local_date
from workflows.domain.catalogue import Catalogue
from workflows.domain.commands import Command
from workflows.domain.errors import CalendarNotPublished, NotAuthorised
from workflows.domain.events import Actor, Role
from workflows.domain.figures import Report
from workflows.messages import FindingRecorded
from workflows.reference_data import load_calendar, load_catalogue
from workflows.reports import city_report

QUERY_TIMEOUT = 10.0  # seconds; a query waits for a worker to replay the case, forever if none is polling
REPORT_TIMEOUT = 60.0  # seconds; a report lists every case of its range from visibility
ACTION_TIMEOUT = 30.0  # seconds; an update runs the credit check and the deadline plan before it answers

log = structlog.get_logger()
_T = TypeVar("_T")
_I = TypeVar("_I", bound=Command)  # a submission, or a complaint's intake
_C = TypeVar("_C", bound=Command)
_V = TypeVar("_V", bound=BaseModel)
_E = TypeVar("_E", bound=BaseModel)


def utc_now() -> datetime:
    """The time a view is read at."""
    return datetime.now(UTC)


class Process(Generic[_I, _C, _V, _E]):
    """One process's endpoints (applications, projects): submit, act, read, history, each in time."""

    def __init__(
        self, client: CaseClient[_I, _C, _V, _E], query_timeout: float, action_timeout: float
    ) -> None:
        self.client = client
        self.query_timeout = query_timeout
        self.action_timeout = action_timeout

    async def submit(self, application_id: str, intake: _I, idempotency_key: str | None) -> bool:
        """Open the case; True when this was a retry of the submission that opened it.

        The same key with another intake is ``IdempotencyKeyReused`` (the client compares them).
        """
        opened = await in_time(
            self.client.submit(application_id, intake, idempotency_key=idempotency_key), self.action_timeout
        )
        if opened.replayed:
            return True
        try:  # an unknown matter code is refused now, as the worker registers the case, not on reading it
            async with asyncio.timeout(self.query_timeout):
                await self.client.registered(application_id, reader=intake.actor)
        except TimeoutError:  # submitted all the same: a worker will register it when one runs
            log.warning("application_not_yet_registered", application_id=application_id)
        return False

    async def act(self, application_id: str, command: _C, idempotency_key: str | None) -> _V:
        """Give the command; with a key a retry takes effect once, another command is refused."""
        return await in_time(
            self.client.act(application_id, command, idempotency_key=idempotency_key), self.action_timeout
        )

    async def state(self, application_id: str, reader: Actor, at: datetime) -> _V:
        """The case's view at ``at``, if ``reader``'s role covers it (why it never registered, if so)."""
        return await in_time(self.client.state(application_id, at, reader=reader), self.query_timeout)

    async def events(self, application_id: str, reader: Actor) -> list[_E]:
        """The case's domain log, if ``reader``'s role covers it."""
        return await in_time(self.client.events(application_id, reader=reader), self.query_timeout)


class Gateway:
    """The gateway's service: one method per endpoint, each bounded in time."""

    def __init__(
        self,
        cases: Cases,
        *,
        clock: Callable[[], datetime] = utc_now,
        query_timeout: float = QUERY_TIMEOUT,
        action_timeout: float = ACTION_TIMEOUT,
        catalogue: Catalogue | None = None,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self.cases = cases
        self.clock = clock
        self.catalogue = catalogue or load_catalogue()  # 网上可办率 counts its matters; departments' names
        self.calendar = calendar or load_calendar()  # the console's countdowns in working days
        self.query_timeout = query_timeout
        self.action_timeout = action_timeout
        self.applications = Process(cases, query_timeout, action_timeout)
        self.projects = Process(cases.projects(), query_timeout, action_timeout)
        self.establishments = Process(cases.establishments(), query_timeout, action_timeout)
        self.consultations = Process(cases.consultations(), query_timeout, action_timeout)
        self.complaints = Process(cases.complaints(), query_timeout, action_timeout)

    def working_days_left(self, deadline: datetime | None) -> int | None:
        """Working days from today through the deadline's last day (0: today is the last; negative: past),
        or None without a deadline or where the calendar has no data for its year yet."""
        if deadline is None:
            return None
        last_day = local_date(deadline - timedelta(microseconds=1))  # 24:00 belongs to the day it ends
        try:
            return self.calendar.working_days_between(self.clock(), last_day).days
        except CalendarNotPublished:
            return None

    async def find(
        self, listing: str | None, department: str | None, matter: str | None, limit: int, reader: Actor
    ) -> list[CaseSummary]:
        """The open cases ``reader`` may read, through the client's query builders, filters combined."""
        query = open_cases_query(
            overdue_at=self.clock() if listing == "overdue" else None,
            warned=listing == "warned",
            departments=[department] if department else [],
            matters=[matter] if matter else [],
        )
        return await self.find_cases(query, limit, reader)

    async def find_cases(self, query: str, limit: int, reader: Actor) -> list[CaseSummary]:
        """The applications a visibility query finds, of those ``reader`` may read."""
        return await in_time(self.cases.find(query, limit=limit, reader=reader), self.query_timeout)

    async def record_finding(self, actor: Actor, application_id: str, finding: str) -> FindingRecorded:
        """A supervision finding on the case's issued licence, kept in its holder's credit register."""
        entry = await in_time(
            self.cases.record_finding(application_id, finding, reader=actor), self.action_timeout
        )
        return FindingRecorded(
            application_id=entry.application_id, kind=entry.kind, key=entry.key, at=entry.at
        )

    async def report(self, actor: Actor, first_day: date, last_day: date) -> Report:
        """The city's figures as ``actor`` may read them: those of ``onewindow report``."""
        found = city_report(
            self.cases, first_day, last_day, reader=actor, now=self.clock(), catalogue=self.catalogue
        )
        return await in_time(found, REPORT_TIMEOUT)

    async def announce_calendar_revision(self, actor: Actor, version: str | None) -> Announcement:
        """R-CAL-4, by a supervisor: every running case (not yet on ``version``) recomputes its deadlines."""
        if actor.role is not Role.SUPERVISOR:
            raise NotAuthorised(actor.id, "announcing a calendar revision needs the role supervisor")
        return await in_time(self.cases.announce_calendar_revision(version), self.action_timeout)


async def in_time(call: Awaitable[_T], seconds: float) -> _T:
    """``call``'s answer, or ``EngineTimeout`` after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            return await call
    except TimeoutError:
        raise EngineTimeout(f"the engine did not answer within {seconds:g} s") from None
