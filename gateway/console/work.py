"""Work queues: 待受理 at the window, 待审批 in a department, and the cases a reader may open.

The lists come from Temporal's visibility (search attributes), as ``onewindow list`` does, scoped to what
the reader's role may read. 待受理 also reads each case's view, for its acceptance deadline, which no
search attribute carries: at most ``MAX_QUEUE`` cases, ``READS_AT_ONCE`` at a time, all within the
gateway's query timeout.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from gateway.console.pages import PREFIX, Reader, SignedIn, page
from gateway.dependencies import Service
from gateway.service import Gateway
from workflows.client import CaseSummary, open_cases_query
from workflows.domain.application import Status
from workflows.domain.errors import NotAuthorised, OneWindowError
from workflows.domain.events import ROLES_OF_A_DEPARTMENT, Role
from workflows.domain.values import ApplicationNumber
from workflows.messages import ApplicationView

router = APIRouter(prefix=PREFIX, include_in_schema=False)
MAX_QUEUE = 100
READS_AT_ONCE = 8
AWAITING_ACCEPTANCE = (Status.RECEIVED, Status.CORRECTION_REQUESTED)
AWAITING_DECISION = (Status.UNDER_REVIEW, Status.SUSPENDED, Status.RETURNED)


@dataclass(frozen=True)
class Row:
    """One line of a queue: the case, its deadline and the working days left to it."""

    application_id: str
    matter: str
    status: str
    deadline: datetime | None
    days_left: int | None
    warning_level: str
    missing: int = 0


@router.get("/acceptance")
async def acceptance(request: Request, reader: SignedIn, gateway: Service) -> Response:
    """待受理: cases at the window, the acceptance deadline first due at the top."""
    _require(reader, Role.WINDOW_OFFICER)
    query = open_cases_query(statuses=AWAITING_ACCEPTANCE)
    found = await gateway.find_cases(query, MAX_QUEUE, reader.actor)
    views = await _views(gateway, reader, [case.application_id for case in found])
    rows = sorted(
        (
            Row(
                view.application_id,
                view.matter_name,
                view.status.value,
                view.acceptance_by,
                gateway.working_days_left(view.acceptance_by),
                view.warning_level.value,
                len(view.missing),
            )
            for view in views
        ),
        key=_soonest,
    )
    unread = len(found) - len(views)
    return page(
        request, "queue.html", reader, title="待受理", rows=rows, unread=unread, deadline_label="受理期限"
    )


@router.get("/review")
async def review(request: Request, reader: SignedIn, gateway: Service) -> Response:
    """待审批: the department's cases under review, the decision deadline first due at the top."""
    _require(reader, *ROLES_OF_A_DEPARTMENT)
    query = open_cases_query(statuses=AWAITING_DECISION, departments=[reader.actor.department or ""])
    found = await gateway.find_cases(query, MAX_QUEUE, reader.actor)
    rows = sorted((_row(gateway, case) for case in found), key=_soonest)
    return page(request, "queue.html", reader, title="待审批", rows=rows, unread=0, deadline_label="办结期限")


@router.get("/cases")
async def cases(
    request: Request,
    reader: SignedIn,
    gateway: Service,
    number: Annotated[ApplicationNumber | None, Query(description="Open this case.")] = None,
) -> Response:
    """The open cases the reader may read, and a box to open one by its number."""
    if number:
        return RedirectResponse(f"{PREFIX}/cases/{number}", status_code=status.HTTP_303_SEE_OTHER)
    found = await gateway.find_cases(open_cases_query(), MAX_QUEUE, reader.actor)
    rows = sorted((_row(gateway, case) for case in found), key=_soonest)
    return page(
        request, "queue.html", reader, title="我的案件", rows=rows, unread=0, deadline_label="办结期限"
    )


def _require(reader: Reader, *roles: Role) -> None:
    if reader.actor.role not in roles:
        names = "、".join(role.value for role in roles)
        raise NotAuthorised(reader.actor.id, f"this page is for the roles {names}")


def _row(gateway: Gateway, case: CaseSummary) -> Row:
    return Row(
        case.application_id,
        gateway.catalogue.matter_name(case.matter) if case.matter else "—",
        case.status or "",
        case.due_at,
        gateway.working_days_left(case.due_at),
        case.warning_level or "none",
    )


def _soonest(row: Row) -> tuple[bool, datetime | str]:
    return (row.deadline is None, row.deadline or row.application_id)


async def _views(gateway: Gateway, reader: Reader, numbers: list[str]) -> list[ApplicationView]:
    """Each case's view, ``READS_AT_ONCE`` at a time, all within the query timeout; a case that cannot be
    read by then (no worker answers it now, say) is left out, and the page says how many were."""
    slots = asyncio.Semaphore(READS_AT_ONCE)

    async def read(number: str) -> ApplicationView | None:
        async with slots:
            try:
                return await gateway.applications.state(number, reader.actor, gateway.clock())
            except OneWindowError:
                return None

    reads = [asyncio.create_task(read(number)) for number in numbers]
    if not reads:
        return []
    done, late = await asyncio.wait(reads, timeout=gateway.query_timeout)
    for task in late:
        task.cancel()
    return [view for task in reads if task in done and (view := task.result()) is not None]
