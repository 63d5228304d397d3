"""The city's figures over HTTP: the numbers ``onewindow report`` prints (``workflows.reports``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.dependencies import Caller, Service
from gateway.errors import problems
from workflows.domain.figures import Report

router = APIRouter(tags=["supervision"])


@router.get(
    "/report",
    summary="The city's figures",
    response_model=Report,
    responses=problems(403, 422, 503, 504),
)
async def figures(
    actor: Caller,
    gateway: Service,
    first_day: Annotated[date, Query(alias="from", description="First day of the deadlines (Shanghai).")],
    last_day: Annotated[date, Query(alias="to", description="Last day of the deadlines (Shanghai).")],
) -> Report:
    """办结率, 按时办结率 and 满意率 per department and per matter, warnings, the overdue list with the
    explanations owed (第36条), 网上可办率 and 最多跑一次, for the cases the token's role covers whose
    deadline falls in the range. A case is due once done or once its deadline has passed."""
    return await gateway.report(actor, first_day, last_day)
