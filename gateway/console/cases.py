"""A case's page: its status and working-day countdown, warnings, event timeline, notices, and the forms
of the commands its reader may give now; the commands posted; and each notice as a printable document.

A form's command goes the API's way: written as the API's body (``gateway.console.forms``), validated by
the same ``gateway.bodies``, checked against the same idempotency ledger, given through the same
``Gateway`` to the same workflow update, which refuses it (or records it, with the reader as actor)
before anything enters history. A refusal shows the page again with the engine's message, in Chinese.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence

import structlog
from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from gateway.bodies import APPLICATION_BODIES
from gateway.console import labels
from gateway.console.forms import FORMS, Offer, body_of_form, offer, problems_in_chinese
from gateway.console.messages import Names, in_chinese
from gateway.console.pages import PREFIX, FormMalformed, Reader, SignedIn, page, posted
from gateway.dependencies import ApplicationId, Service
from gateway.errors import STATUS_OF_TYPE
from gateway.limits import IdempotencyLedger
from gateway.service import Gateway
from workflows.domain.calendar import deadline_text
from workflows.domain.errors import OneWindowError
from workflows.domain.events import (
    AcceptedWithDeficiencies,
    ApplicationAccepted,
    ApplicationEvent,
    ApplicationNotAccepted,
    ApplicationSubmitted,
    ApprovalRecorded,
    ClockSuspended,
    CorrectionRequested,
    DeadlineExtended,
    DeadlinesPlanned,
    LicenceIssued,
    MaterialsSupplemented,
    WarningRaised,
)
from workflows.domain.notices import notices
from workflows.domain.values import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY
from workflows.messages import ApplicationView

router = APIRouter(prefix=f"{PREFIX}/cases", include_in_schema=False)
log = structlog.get_logger()
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


@router.get("/{application_id}")
async def case_page(
    request: Request, application_id: ApplicationId, reader: SignedIn, gateway: Service
) -> Response:
    """The case as its reader may see it, with the forms of what they may do now."""
    done = request.query_params.get("done", "")
    return await _case_page(request, gateway, reader, application_id, done=labels.COMMANDS.get(done, ""))


@router.post("/{application_id}/actions")
async def act(
    request: Request, application_id: ApplicationId, reader: SignedIn, gateway: Service
) -> Response:
    """Give the posted form's command; back to the case page, with the refusal if it was refused."""
    fields = await posted(request, reader)
    kind = fields.pop("kind", [""])[0]
    key = fields.pop("key", [""])[0] or None
    if kind not in FORMS:
        raise FormMalformed(f"the console offers no command {kind[:40]!r}")
    if key is not None and not (len(key) <= MAX_IDEMPOTENCY_KEY and _KEY.fullmatch(key)):
        raise FormMalformed("the form's key is not one the console writes")
    body = body_of_form(kind, fields)
    try:
        if key is not None:
            ledger: IdempotencyLedger = request.app.state.idempotency
            ledger.check(f"{reader.actor.role.value}:{reader.actor.key}", key, request.url.path, body)
        command = APPLICATION_BODIES.command_from(body, reader.actor)
        await gateway.applications.act(application_id, command, key)
    except RequestValidationError as error:
        problems = problems_in_chinese(kind, error.errors())
        return await _case_page(
            request,
            gateway,
            reader,
            application_id,
            refused=(labels.INVALID_FORM, problems),
            kept=(kind, fields),
            code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    except OneWindowError as error:
        if STATUS_OF_TYPE.get(error.type, status.HTTP_409_CONFLICT) >= status.HTTP_500_INTERNAL_SERVER_ERROR:
            raise  # a failure, not a refusal: the problem page says only what kind of failure it was
        log.info("console_command_refused", application_id=application_id, kind=kind, type=error.type)
        return await _case_page(
            request,
            gateway,
            reader,
            application_id,
            refused=(labels.refusal(error.type), []),
            engine_said=str(error),
            kept=(kind, fields),
            code=STATUS_OF_TYPE.get(error.type, status.HTTP_409_CONFLICT),
        )
    log.info("command_given", application_id=application_id, kind=kind, actor=reader.actor.id, via="console")
    target = f"{PREFIX}/cases/{application_id}?done={kind}"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/{application_id}/notices/{number}")
async def notice(
    request: Request, application_id: ApplicationId, number: str, reader: SignedIn, gateway: Service
) -> Response:
    """One written notice or decision as a printable document."""
    events = await gateway.applications.events(application_id, reader.actor)
    found = next((n for n in notices(events) if n.number == number), None)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such notice on this case")
    return page(
        request, "notice.html", reader, title=found.kind.value, notice=found, application_id=application_id
    )


async def _case_page(
    request: Request,
    gateway: Gateway,
    reader: Reader,
    application_id: str,
    *,
    done: str = "",
    refused: tuple[str, Sequence[str]] | None = None,
    engine_said: str = "",
    kept: tuple[str, Mapping[str, Sequence[str]]] = ("", {}),
    code: int = status.HTTP_200_OK,
) -> Response:
    """The case page; after a refusal, with it and with the refused form as it was filled in."""
    view = await gateway.applications.state(application_id, reader.actor, gateway.clock())
    events = await gateway.applications.events(application_id, reader.actor)
    materials = _material_names(events)
    if refused is not None and engine_said:  # the engine's sentence in Chinese, and as it wrote it
        names = Names(materials, gateway.catalogue.department_name)
        chinese = in_chinese(engine_said, names)
        refused = (refused[0], [chinese, f"原文：{engine_said}"] if chinese else [engine_said])
    return page(
        request,
        "case.html",
        reader,
        status_code=code,
        title=f"{view.matter_name} {view.application_id}",
        view=view,
        events=events,
        warnings=[event for event in events if isinstance(event, WarningRaised)],
        notices=notices(events),
        offers=_offers(gateway, reader, view, events),
        acceptance_days_left=gateway.working_days_left(view.acceptance_by),
        details=_describer(gateway, events, materials),
        names=materials,
        done=done,
        refused=refused,
        kept_kind=kept[0],
        kept=kept[1],
    )


def _offers(
    gateway: Gateway, reader: Reader, view: ApplicationView, events: Sequence[ApplicationEvent]
) -> list[tuple[Offer, str]]:
    """The forms of the commands the reader may give now, each with a fresh idempotency key."""
    if not events or not isinstance(events[0], ApplicationSubmitted):
        return []
    matter = events[0].matter
    missing = tuple(dict.fromkeys((*view.missing, *view.outstanding, *view.returned)))
    offers = []
    for pending in view.pending_actions:
        if pending.command not in FORMS or not pending.open_to(reader.actor):
            continue
        steps = pending.steps_for(reader.actor)
        if pending.command == "record_approval" and not steps:
            continue
        made = offer(
            pending.command,
            matter=matter,
            missing=missing,
            steps=steps,
            pending_steps=pending.steps,
            department_name=gateway.catalogue.departments,
        )
        offers.append((made, str(uuid.uuid4())))
    return offers


def _material_names(events: Sequence[ApplicationEvent]) -> dict[str, str]:
    """The case's materials by code, named as its own catalogue entry names them."""
    if not events or not isinstance(events[0], ApplicationSubmitted):
        return {}
    return {material.code: material.name for material in events[0].matter.materials}


def _describer(
    gateway: Gateway, events: Sequence[ApplicationEvent], names: Mapping[str, str]
) -> Callable[[ApplicationEvent], str]:
    """What each event says beyond who, when and why, in a few words, materials and departments named."""
    matter = events[0].matter if events and isinstance(events[0], ApplicationSubmitted) else None
    pauses = dict(matter.pause_reasons) if matter else {}

    def listed(codes: Sequence[str]) -> str:
        return "、".join(names.get(code, code) for code in codes)

    def describe(event: ApplicationEvent) -> str:  # noqa: PLR0911 - one sentence per kind of event
        match event:
            case ApplicationSubmitted():
                return f"{labels.CHANNELS[event.channel]}，材料 {len(event.materials)} 项"
            case CorrectionRequested():
                return f"文书 {event.notice_number}：{listed(event.missing)}"
            case AcceptedWithDeficiencies():
                within = f"{event.supplement_within} 个工作日内补齐"
                return f"文书 {event.notice_number}：容缺 {listed(event.missing)}，{within}"
            case ApplicationAccepted():
                how = "逾期未作决定，视为受理" if event.basis == "deemed_by_silence" else "决定受理"
                return f"文书 {event.notice_number}：{how}"
            case ApplicationNotAccepted():
                return f"文书 {event.notice_number}"
            case MaterialsSupplemented():
                return listed(event.materials)
            case ApprovalRecorded():
                opinion = "同意" if event.approved else "不同意"
                return f"{gateway.catalogue.department_name(event.department)}：{opinion}"
            case ClockSuspended():
                return f"{pauses.get(event.pause, event.pause)}，预计 {event.expected_working_days} 个工作日"
            case DeadlineExtended():
                return f"延长 {event.working_days} 个工作日"
            case LicenceIssued():
                return f"证照编号 {event.licence_number}"
            case WarningRaised():
                return f"{labels.WARNING_SUBJECTS[event.subject]}：{labels.WARNINGS[event.level]}"
            case DeadlinesPlanned():
                return (
                    f"办结期限 {deadline_text(event.plan.decision_due_at)}"
                    if event.plan.decision_due_at
                    else ""
                )
        return ""

    return describe
