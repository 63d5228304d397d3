"""The processes beside applications over HTTP: a construction project, an enterprise establishment, a
consultation (提前介入) and a 12345/8890 complaint, each opened, given commands, and read as its view and
its history, as an application is.

A process's matters are applications of their own (``<number>.<matter>``), driven under ``/applications``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request, Response, status

from gateway.bodies import (
    COMPLAINT_ACTION_SCHEMA,
    COMPLAINT_BODIES,
    COMPLAINT_SUBMISSION_SCHEMA,
    CONSULTATION_ACTION_SCHEMA,
    CONSULTATION_BODIES,
    CONSULTATION_SUBMISSION_SCHEMA,
    ESTABLISHMENT_ACTION_SCHEMA,
    ESTABLISHMENT_BODIES,
    ESTABLISHMENT_SUBMISSION_SCHEMA,
    PROJECT_ACTION_SCHEMA,
    PROJECT_BODIES,
    PROJECT_SUBMISSION_SCHEMA,
    Bodies,
)
from gateway.dependencies import ApplicationId, Caller, IdempotencyKey, Service
from gateway.errors import problems
from gateway.routers.applications import Submitted, json_body
from gateway.service import Gateway, Process
from workflows.domain.complaint import ComplaintEvent, ComplaintView
from workflows.domain.consultation import ConsultationEvent, ConsultationView
from workflows.domain.establishment import EstablishmentEvent, EstablishmentProgress
from workflows.domain.project import ProjectEvent, ProjectProgress

log = structlog.get_logger()


def composite_router(
    name: str,
    *,
    bodies: Bodies[Any, Any],
    process: Any,  # noqa: ANN401 - picks the gateway's process service
    view: type,
    event: object,
    schemas: tuple[dict[str, Any], dict[str, Any]],
    examples: tuple[dict[str, Any], dict[str, Any]],
) -> APIRouter:
    """``/{name}s``: submit, actions, progress, history of one composite process."""
    router = APIRouter(prefix=f"/{name}s", tags=[f"{name}s"])
    action_schema, submission_schema = schemas
    submission_example, action_examples = examples

    def service(gateway: Gateway) -> Process[Any, Any, Any, Any]:
        served: Process[Any, Any, Any, Any] = process(gateway)
        return served

    @router.post(
        "",
        summary=f"Submit a {name}",
        status_code=status.HTTP_201_CREATED,
        response_model=Submitted,
        responses=problems(403, 409, 413, 422, 503, 504),
        openapi_extra=json_body(submission_schema, example=submission_example),
    )
    async def submit(
        request: Request, response: Response, actor: Caller, gateway: Service, idempotency_key: IdempotencyKey
    ) -> Submitted:
        """Open it with its first materials (a project: its first stage's only), as an application is
        opened (idempotency, 409 `AlreadySubmitted`, the registration's refusal)."""
        number, intake = await bodies.intake_of(request, actor)
        replayed = await service(gateway).submit(number, intake, idempotency_key)
        response.headers["Location"] = f"/{name}s/{quote(number, safe='')}"
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        log.info(f"{name}_submitted", application_id=number, actor=actor.id, replayed=replayed)
        return Submitted(application_id=number)

    @router.post(
        "/{application_id}/actions",
        summary=f"Give a command on a {name}",
        response_model=view,
        responses=problems(403, 404, 409, 413, 422, 503, 504),
        openapi_extra=json_body(action_schema, examples=action_examples),
    )
    async def act(
        request: Request,
        application_id: ApplicationId,
        actor: Caller,
        gateway: Service,
        idempotency_key: IdempotencyKey,
    ) -> Any:  # noqa: ANN401 - the process's view (``response_model``)
        """One command, chosen by `kind`, without `actor` (the token's); answered with the progress."""
        command = await bodies.command_of(request, actor)
        progress = await service(gateway).act(application_id, command, idempotency_key)
        log.info("command_given", application_id=application_id, kind=command.kind, actor=actor.id)
        return progress

    @router.get(
        "/{application_id}",
        summary=f"Read a {name}'s progress",
        response_model=view,
        responses=problems(404, 409, 422, 503, 504),
    )
    async def read(application_id: ApplicationId, actor: Caller, gateway: Service) -> Any:  # noqa: ANN401
        """Its view: a project's or establishment's every stage or item with the working days used and
        left; a consultation's materials, checks and opinions."""
        return await service(gateway).state(application_id, actor, gateway.clock())

    @router.get(
        "/{application_id}/events",
        summary=f"Read a {name}'s history",
        response_model=list[event],  # type: ignore[valid-type]
        responses=problems(404, 409, 422, 503, 504),
    )
    async def events(application_id: ApplicationId, actor: Caller, gateway: Service) -> Any:  # noqa: ANN401
        """Every domain event in order (404 for one the token's role does not cover)."""
        return await service(gateway).events(application_id, actor)

    return router


_APPLICANT = {"id_number": "91210200MA0000012K", "name": "大连示例置业有限公司", "contact": "0411-0000000"}
projects = composite_router(
    "project",
    bodies=PROJECT_BODIES,
    process=lambda gateway: gateway.projects,
    view=ProjectProgress,
    event=ProjectEvent,
    schemas=(PROJECT_ACTION_SCHEMA, PROJECT_SUBMISSION_SCHEMA),
    examples=(
        {
            "application_id": "PRJ-2026-000042",
            "applicant": _APPLICANT,
            "matter_code": "CONSTRUCTION-PROJECT",
            "project_type": "small_social_investment",
            "materials": ["project_approval_documents", "site_pre_review_application", "land_use_documents"],
            "channel": "window",
            "received_at": "2026-01-05T09:00:00+08:00",
        },
        {
            "accept": {"summary": "Accept the stage (window)", "value": {"kind": "accept_stage"}},
            "stage": {
                "summary": "Bring the next stage's materials",
                "value": {"kind": "submit_stage", "materials": ["design_scheme"]},
            },
            "withdraw": {"summary": "Withdraw", "value": {"kind": "withdraw_project", "reason": "项目取消"}},
        },
    ),
)
establishments = composite_router(
    "establishment",
    bodies=ESTABLISHMENT_BODIES,
    process=lambda gateway: gateway.establishments,
    view=EstablishmentProgress,
    event=EstablishmentEvent,
    schemas=(ESTABLISHMENT_ACTION_SCHEMA, ESTABLISHMENT_SUBMISSION_SCHEMA),
    examples=(
        {
            "application_id": "EST-2026-000007",
            "applicant": _APPLICANT,
            "matter_code": "ENTERPRISE-ESTABLISH",
            "materials": ["registration_application", "articles_of_association", "investor_identity"],
            "channel": "online",
            "received_at": "2026-02-13T09:30:00+08:00",
        },
        {
            "accept": {"summary": "Accept the one form (window)", "value": {"kind": "accept_establishment"}},
            "track": {
                "summary": "The bank's appointment made",
                "value": {"kind": "track_service", "item": "bank_account_appointment", "reference": "ICBC-1"},
            },
            "release": {"summary": "一次出件 (window)", "value": {"kind": "release_results"}},
        },
    ),
)
consultations = composite_router(
    "consultation",
    bodies=CONSULTATION_BODIES,
    process=lambda gateway: gateway.consultations,
    view=ConsultationView,
    event=ConsultationEvent,
    schemas=(CONSULTATION_ACTION_SCHEMA, CONSULTATION_SUBMISSION_SCHEMA),
    examples=(
        {
            "application_id": "CON-2026-000003",
            "applicant": _APPLICANT,
            "matter_code": "FOOD-BUSINESS",
            "materials": ["application_form", "premises_and_layout"],
            "channel": "window",
            "received_at": "2026-03-02T09:00:00+08:00",
            "green_channel": True,
            "steward": {"id": "steward-li", "role": "steward"},
        },
        {
            "check": {
                "summary": "Check materials (window)",
                "value": {"kind": "check_materials", "materials": ["premises_and_layout"]},
            },
            "opinion": {
                "summary": "A department's pre-review opinion",
                "value": {"kind": "give_opinion", "opinion": "经营布局符合要求"},
            },
            "close": {"summary": "Close (steward)", "value": {"kind": "close_consultation"}},
        },
    ),
)
complaints = composite_router(
    "complaint",
    bodies=COMPLAINT_BODIES,
    process=lambda gateway: gateway.complaints,
    view=ComplaintView,
    event=ComplaintEvent,
    schemas=(COMPLAINT_ACTION_SCHEMA, COMPLAINT_SUBMISSION_SCHEMA),
    examples=(
        {
            "application_id": "GD-2026-000101",
            "caller": {"name": "王女士", "phone": "13800000000"},
            "channel": "12345",
            "content": "窗口要求重复提交已提交过的材料",
            "category_code": "business_environment",
            "concerns": "APP-2026-000042",
        },
        {
            "sign": {"summary": "Sign for it (签收, the department)", "value": {"kind": "sign_complaint"}},
            "return": {
                "summary": "Return it as misrouted (退单, within the hours)",
                "value": {"kind": "return_complaint", "reason": "属不动产登记职责"},
            },
            "reply": {
                "summary": "Reply (答复)",
                "value": {"kind": "reply_complaint", "reply": "已责成窗口一次性告知，不再重复收取"},
            },
            "callback": {
                "summary": "Call back (回访, the hotline)",
                "value": {"kind": "record_callback", "rating": "satisfied"},
            },
        },
    ),
)
