"""One case: submit it, give it a command, read its view and its history."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from gateway.bodies import ACTION_SCHEMA, APPLICATION_BODIES, SUBMISSION_SCHEMA
from gateway.dependencies import ApplicationId, Caller, IdempotencyKey, Service
from gateway.errors import problems
from workflows.domain.events import ApplicationEvent
from workflows.messages import ApplicationView

router = APIRouter(prefix="/applications", tags=["applications"])
log = structlog.get_logger()


class Submitted(BaseModel):
    """The case is open; its URL is in ``Location``."""

    application_id: str


_ACTION_EXAMPLES = {
    "accept": {"summary": "Accept (window officer)", "value": {"kind": "accept_application"}},
    "approve": {
        "summary": "Approve a step (approver of its department)",
        "value": {"kind": "record_approval", "step": "health", "approved": True},
    },
    "correct": {
        "summary": "Ask for every missing item at once (R-XK-32)",
        "value": {"kind": "request_correction", "missing": ["hygiene_rules"], "reason": "缺少卫生管理制度"},
    },
}
_SUBMISSION_EXAMPLE = {
    "application_id": "APP-2026-000123",
    "applicant": {
        "id_number": "91210200MA0000000X",
        "name": "大连示例食品有限公司",
        "contact": "0411-0000000",
    },
    "matter_code": "PUBLIC-PLACE-HYGIENE",
    "materials": ["application_form", "operator_identity", "site_plans", "hygiene_assessment_report"],
    "channel": "online",
    "received_at": "2026-11-26T09:00:00+08:00",
}


def json_body(schema: dict[str, object], **examples: object) -> dict[str, object]:
    """An endpoint's body as OpenAPI describes it (the body is read by hand, within the size limit)."""
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema, **examples}}}
    }


@router.post(
    "",
    summary="Submit an application",
    status_code=status.HTTP_201_CREATED,
    response_model=Submitted,
    responses=problems(403, 409, 413, 422, 503, 504),
    openapi_extra=json_body(SUBMISSION_SCHEMA, example=_SUBMISSION_EXAMPLE),
)
async def submit(
    request: Request,
    response: Response,
    actor: Caller,
    gateway: Service,
    idempotency_key: IdempotencyKey,
) -> Submitted:
    """Open a case: the intake without `actor` (the token's), plus the `application_id`.

    A second submission of the same number is refused, 409 `AlreadySubmitted`, and the first case carries
    on; unless it carries an `Idempotency-Key` and is the very same intake from the same actor, a retry,
    which is answered 201 again with `Idempotent-Replayed: true` (the same key with another intake: 422
    `IdempotencyKeyReused`). The answer waits until the worker has registered the case (up to the query
    timeout): an unknown matter code is refused, 409 `UnknownMatter`, and the number stays free for a
    corrected submission.
    """
    application_id, intake = await APPLICATION_BODIES.intake_of(request, actor)
    replayed = await gateway.applications.submit(application_id, intake, idempotency_key)
    response.headers["Location"] = f"/applications/{quote(application_id, safe='')}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    log.info("application_submitted", application_id=application_id, actor=actor.id, replayed=replayed)
    return Submitted(application_id=application_id)


@router.post(
    "/{application_id}/actions",
    summary="Give a command on a case",
    response_model=ApplicationView,
    responses=problems(403, 404, 409, 413, 422, 503, 504),
    openapi_extra=json_body(ACTION_SCHEMA, examples=_ACTION_EXAMPLES),
)
async def act(
    request: Request,
    application_id: ApplicationId,
    actor: Caller,
    gateway: Service,
    idempotency_key: IdempotencyKey,
) -> ApplicationView:
    """One command, chosen by `kind`, without `actor` (the token's); answered with the case's view.

    Refused before anything enters the case's history: 403 `NotAuthorised` / `SeparationOfDuties`, 409
    `NotAllowed` (not in this status, or the case is closed) and the other rules of the matter. With an
    `Idempotency-Key` a retried request takes effect once and gets the same answer; the same key with
    another command is 422 `IdempotencyKeyReused`.
    """
    command = await APPLICATION_BODIES.command_of(request, actor)
    view = await gateway.applications.act(application_id, command, idempotency_key)
    log.info("command_given", application_id=application_id, kind=command.kind, actor=actor.id)
    return view


@router.get(
    "/{application_id}",
    summary="Read a case",
    response_model=ApplicationView,
    responses=problems(404, 409, 422, 503, 504),
)
async def read(application_id: ApplicationId, actor: Caller, gateway: Service) -> ApplicationView:
    """The case's view now: status, deadlines in working days, warning level and the pending actions.

    A case the token's role does not cover is 404, as a missing one is."""
    return await gateway.applications.state(application_id, actor, gateway.clock())


@router.get(
    "/{application_id}/events",
    summary="Read a case's history",
    response_model=list[ApplicationEvent],
    responses=problems(404, 409, 422, 503, 504),
)
async def events(application_id: ApplicationId, actor: Caller, gateway: Service) -> list[ApplicationEvent]:
    """Every domain event in order: `kind`, `at`, `actor`, `reason` and the event's fields (404 for a case
    the token's role does not cover)."""
    return await gateway.applications.events(application_id, actor)
