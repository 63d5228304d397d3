"""The supervision dashboard: the city's figures (those of ``onewindow report`` and ``GET /report``, from
the same ``Gateway.report``), a chart of the on-time rate per department, the red and yellow lists, the
open complaints, and the projects' progress, each as the reader's role may read it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gateway.console.pages import PREFIX, Reader, SignedIn, page
from gateway.dependencies import Service
from gateway.service import Gateway, in_time
from workflows.client import CaseSummary, open_cases_query
from workflows.domain.calendar import SHANGHAI
from workflows.domain.clock import WarningLevel
from workflows.domain.errors import OneWindowError
from workflows.domain.figures import CaseKind, GroupFigures, share
from workflows.domain.project import ProjectProgress

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ON_TIME = "按时办结率"
LOOK_BACK = timedelta(days=30)  # the default range: deadlines of the last month and the next quarter
LOOK_AHEAD = timedelta(days=90)
MAX_LISTED = 100
MAX_PROJECTS = 20  # each project's progress is one query


@dataclass(frozen=True)
class Bar:
    """One department's on-time rate in the chart."""

    department: str
    value: float | None
    numerator: int
    denominator: int
    met: bool | None


@router.get("/dashboard")
async def dashboard(
    request: Request,
    reader: SignedIn,
    gateway: Service,
    first_day: Annotated[date | None, Query(alias="from")] = None,
    last_day: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    """The figures of the cases whose deadline falls in the range, and the lists of open cases."""
    today = gateway.clock().astimezone(SHANGHAI).date()
    first_day = first_day or today - LOOK_BACK
    last_day = last_day or today + LOOK_AHEAD
    report = await gateway.report(reader.actor, first_day, last_day)
    warned = await gateway.find_cases(open_cases_query(warned=True), MAX_LISTED, reader.actor)
    complaints = await in_time(
        gateway.cases.complaints().find(open_cases_query(), MAX_LISTED, reader=reader.actor),
        gateway.query_timeout,
    )
    return page(
        request,
        "dashboard.html",
        reader,
        title="监督看板",
        report=report,
        bars=_bars(report.by_department, kind="application"),
        complaint_bars=_bars(report.by_department, kind="complaint"),
        red=[case for case in warned if case.warning_level == WarningLevel.RED.value],
        yellow=[case for case in warned if case.warning_level == WarningLevel.YELLOW.value],
        complaints=complaints,
        projects=await _projects(gateway, reader),
        days_left=gateway.working_days_left,
        first_day=first_day,
        last_day=last_day,
        share=share,
        matter_name=lambda kind, code: (
            gateway.catalogue.category_name(code)
            if kind == CaseKind.COMPLAINT.value
            else gateway.catalogue.matter_name(code)
        ),
    )


def _bars(groups: tuple[GroupFigures, ...], *, kind: str) -> list[Bar]:
    """The on-time rate of each department's cases of ``kind``, as the report gives it."""
    bars = []
    for group in groups:
        if group.kind.value != kind:
            continue
        rate = next((r for r in group.rates if r.name == ON_TIME), None)
        if rate is not None:
            bars.append(Bar(group.group, rate.value, rate.numerator, rate.denominator, rate.met))
    return bars


async def _projects(gateway: Gateway, reader: Reader) -> list[tuple[CaseSummary, ProjectProgress | None]]:
    """The open projects, each with its progress (None where it cannot be read now)."""
    projects = gateway.projects
    found = await in_time(
        projects.client.find(open_cases_query(), MAX_PROJECTS, reader=reader.actor), gateway.query_timeout
    )

    async def progress(case: CaseSummary) -> ProjectProgress | None:
        try:
            return await projects.state(case.application_id, reader.actor, gateway.clock())
        except OneWindowError:
            return None

    return list(zip(found, await asyncio.gather(*(progress(case) for case in found)), strict=True))
