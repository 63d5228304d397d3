"""One construction project: submit it, give it a command, read its progress and its history.

A project's matters are applications of their own (``<project>.<matter>``), driven under ``/applications``.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request, Response, status

from gateway.bodies import PROJECT_ACTION_SCHEMA, PROJECT_BODIES, PROJECT_SUBMISSION_SCHEMA
from gateway.dependencies import ApplicationId, Caller, IdempotencyKey, Service
from gateway.errors import problems
from gateway.routers.applications import Submitted, json_body
from workflows.domain.project import ProjectEvent, ProjectProgress

router = APIRouter(prefix="/projects", tags=["projects"])
log = structlog.get_logger()

_SUBMISSION_EXAMPLE = {
    "application_id": "PRJ-2026-000042",
    "applicant": {
        "id_number": "91210200MA0000012K",
        "name": "大连示例置业有限公司",
        "contact": "0411-0000000",
    },
    "matter_code": "CONSTRUCTION-PROJECT",
    "project_type": "small_social_investment",
    "materials": ["project_approval_documents", "site_pre_review_application", "land_use_documents"],
    "channel": "window",
    "received_at": "2026-01-05T09:00:00+08:00",
}
_ACTION_EXAMPLES = {
    "accept": {
        "summary": "Accept the stage for its lead department (window)",
        "value": {"kind": "accept_stage"},
    },
    "stage": {
        "summary": "Bring the next stage's materials (applicant or steward)",
        "value": {"kind": "submit_stage", "materials": ["design_scheme"]},
    },
    "withdraw": {
        "summary": "Withdraw the project",
        "value": {"kind": "withdraw_project", "reason": "项目取消"},
    },
}


@router.post(
    "",
    summary="Submit a construction project",
    status_code=status.HTTP_201_CREATED,
    response_model=Submitted,
    responses=problems(403, 409, 413, 422, 503, 504),
    openapi_extra=json_body(PROJECT_SUBMISSION_SCHEMA, example=_SUBMISSION_EXAMPLE),
)
async def submit(
    request: Request, response: Response, actor: Caller, gateway: Service, idempotency_key: IdempotencyKey
) -> Submitted:
    """Open a project with its first stage's materials (only that stage's: another stage's are 409
    `InvalidCommand`), as an application is opened (idempotency, 409 `AlreadySubmitted`)."""
    number, intake = await PROJECT_BODIES.intake_of(request, actor)
    replayed = await gateway.projects.submit(number, intake, idempotency_key)
    response.headers["Location"] = f"/projects/{quote(number, safe='')}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    log.info("project_submitted", application_id=number, actor=actor.id, replayed=replayed)
    return Submitted(application_id=number)


@router.post(
    "/{application_id}/actions",
    summary="Give a command on a project",
    response_model=ProjectProgress,
    responses=problems(403, 404, 409, 413, 422, 503, 504),
    openapi_extra=json_body(PROJECT_ACTION_SCHEMA, examples=_ACTION_EXAMPLES),
)
async def act(
    request: Request,
    application_id: ApplicationId,
    actor: Caller,
    gateway: Service,
    idempotency_key: IdempotencyKey,
) -> ProjectProgress:
    """One command, chosen by `kind`, without `actor` (the token's); answered with the progress."""
    command = await PROJECT_BODIES.command_of(request, actor)
    progress = await gateway.projects.act(application_id, command, idempotency_key)
    log.info("command_given", application_id=application_id, kind=command.kind, actor=actor.id)
    return progress


@router.get(
    "/{application_id}",
    summary="Read a project's progress",
    response_model=ProjectProgress,
    responses=problems(404, 409, 422, 503, 504),
)
async def read(application_id: ApplicationId, actor: Caller, gateway: Service) -> ProjectProgress:
    """Stage, every matter's status, working days used and left per stage and overall, against elapsed."""
    return await gateway.projects.state(application_id, actor, gateway.clock())


@router.get(
    "/{application_id}/events",
    summary="Read a project's history",
    response_model=list[ProjectEvent],
    responses=problems(404, 409, 422, 503, 504),
)
async def events(application_id: ApplicationId, actor: Caller, gateway: Service) -> list[ProjectEvent]:
    """Every domain event of the project in order (404 for a project the token's role does not cover)."""
    return await gateway.projects.events(application_id, actor)
