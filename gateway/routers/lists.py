"""Lists of open cases, found by their search attributes and filtered by who reads them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gateway.dependencies import Caller, Service
from gateway.errors import problems
from workflows.client import CaseSummary
from workflows.domain.values import Code, MatterCode

router = APIRouter(tags=["lists"])


class CaseList(BaseModel):
    """Cases found by a list, as their search attributes describe them (no query per case)."""

    applications: list[CaseSummary]


@router.get(
    "/applications",
    summary="List open cases",
    response_model=CaseList,
    responses=problems(422, 503, 504),
)
async def find(
    actor: Caller,
    gateway: Service,
    *,
    listing: Annotated[
        Literal["overdue", "warned"] | None,
        Query(alias="list", description="overdue: past the decision deadline or red; warned: any warning."),
    ] = None,
    department: Annotated[Code | None, Query(description="A responsible department's code.")] = None,
    matter: Annotated[MatterCode | None, Query(description="A matter code, `CODE` or `CODE.TYPE`.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CaseList:
    """The open cases the token's role covers, filters combined (all of them without any); lists lag a
    case's changes by a moment. A filter that is not a catalogue code is 422."""
    return CaseList(applications=await gateway.find(listing, department, matter, limit, actor))
