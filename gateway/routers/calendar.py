"""The working-day calendar (R-CAL-4): a revision announced to every running case."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.dependencies import Caller, Service
from gateway.errors import problems
from workflows.domain.calendar import CALENDAR_VERSION_PATTERN

router = APIRouter(prefix="/calendar", tags=["calendar"])
log = structlog.get_logger()


class Announced(BaseModel):
    """The running cases told of the new calendar (each recomputes its deadlines), and those not reached."""

    signalled: list[str]
    unreached: dict[str, str] = Field(description="Running cases the signal did not reach, and why.")


@router.post(
    "/revisions",
    summary="Announce a calendar revision",
    response_model=Announced,
    responses=problems(403, 422, 503),
)
async def announce(
    actor: Caller,
    gateway: Service,
    calendar_version: Annotated[
        str | None,
        Query(
            pattern=CALENDAR_VERSION_PATTERN,
            description="The version now loaded (`onewindow calendar load` prints it): cases already "
            "counting with it are not told again, so a repeated announcement spends none of their signals.",
        ),
    ] = None,
) -> Announced:
    """R-CAL-4, supervisors only: a new calendar is loaded in the workers; every running case (on another
    version) recomputes its deadlines with it and records the revision."""
    announcement = await gateway.announce_calendar_revision(actor, calendar_version)
    log.info(
        "calendar_revision_announced",
        actor=actor.id,
        cases=len(announcement.signalled),
        unreached=len(announcement.unreached),
    )
    return Announced(signalled=announcement.signalled, unreached=announcement.unreached)
