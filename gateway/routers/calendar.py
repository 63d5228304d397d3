"""The working-day calendar (R-CAL-4): a revision announced to every running case."""

from __future__ import annotations

import structlog
from fastapi import APIRouter
from pydantic import BaseModel

from gateway.dependencies import Caller, Service
from gateway.errors import problems

router = APIRouter(prefix="/calendar", tags=["calendar"])
log = structlog.get_logger()


class Announced(BaseModel):
    """The running cases told of the new calendar; each recomputes its deadlines."""

    signalled: list[str]


@router.post(
    "/revisions",
    summary="Announce a calendar revision",
    response_model=Announced,
    responses=problems(403, 503),
)
async def announce(actor: Caller, gateway: Service) -> Announced:
    """R-CAL-4, supervisors only: a new calendar is loaded in the workers; every running case recomputes
    its deadlines with it and records the revision."""
    signalled = await gateway.announce_calendar_revision(actor)
    log.info("calendar_revision_announced", actor=actor.id, cases=len(signalled))
    return Announced(signalled=signalled)
