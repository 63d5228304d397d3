"""Supervision over HTTP: the city's figures, the numbers ``onewindow report`` prints
(``workflows.reports``), and the findings that come back (``onewindow finding``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from gateway.dependencies import ApplicationId, Caller, Service
from gateway.errors import problems
from workflows.domain.figures import Report
from workflows.domain.values import Text
from workflows.messages import FindingRecorded

router = APIRouter(tags=["supervision"])
log = structlog.get_logger()


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


class FindingBody(BaseModel):
    """What supervision found on the case's issued licence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    finding: Text = Field(min_length=1, description="What was found (kept once per text and case).")


@router.post(
    "/applications/{application_id}/findings",
    summary="Record a supervision finding",
    status_code=status.HTTP_201_CREATED,
    response_model=FindingRecorded,
    responses=problems(403, 404, 409, 422, 503, 504),
)
async def record_finding(
    application_id: ApplicationId, body: FindingBody, actor: Caller, gateway: Service
) -> FindingRecorded:
    """审批监管联动's way back (supervisors, department heads): a finding on the case's issued licence is kept
    in the holder's credit register and bars 容缺 and 告知承诺 for the bar period, on every worker."""
    recorded = await gateway.record_finding(actor, application_id, body.finding)
    log.info("finding_recorded", application_id=application_id, actor=actor.id, key=recorded.key)
    return recorded
