"""onewindow's HTTP gateway: the workflow contract for intake systems and departments not written in Python.

A thin translation of HTTP onto ``workflows.client.Cases``; every rule stays in the engine.

- A bearer token names the caller: the gateway's token file maps each token to an ``Actor`` (id, role,
  department, name). The actor of every submission and command is the token's, never the body's.
- A request body is the command (or intake) without ``actor``; it is validated, the actor merged in, and
  the result validated again as the engine's own ``ApplicationCommand`` / ``Intake``.
- Refusals are ``{"type": <domain error type>, "detail": <message>}``: 403 for ``NotAuthorised`` and
  ``SeparationOfDuties``, 404 for ``UnknownApplication``, 409 for every other refusal; a body that does
  not validate is 422 with FastAPI's list of ``{loc, msg, type}``.
- ``Idempotency-Key``: an action's key becomes the Temporal update id, so a retry takes effect once; a
  retried submission is recognised by comparing it with the intake the case was started with.

Run it beside the worker: ``python gateway.py --tokens PATH`` (or ``ONEWINDOW_GATEWAY_TOKENS``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.metadata
import ipaddress
import json
import os
import tomllib
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from copy import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar
from urllib.parse import quote

import fastapi_offline
import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model, model_validator
from pydantic.fields import FieldInfo
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from workflows.client import (
    Cases,
    CaseSummary,
    UnknownApplication,
    connect,
    department_query,
    exit_process,
    matter_query,
    overdue_query,
    warned_query,
)
from workflows.domain.application import PEOPLE_COMMANDS
from workflows.domain.commands import ApplicationCommand
from workflows.domain.errors import NotAuthorised, OneWindowError
from workflows.domain.events import Actor, ApplicationEvent, Role
from workflows.logs import configure_logging
from workflows.messages import TASK_QUEUE, ApplicationView, Intake

EXAMPLE_TOKENS = Path(__file__).resolve().parent / "workflows/data/gateway_tokens.example.toml"
TOKENS_VARIABLE = "ONEWINDOW_GATEWAY_TOKENS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
QUERY_TIMEOUT = 10.0  # seconds; a query waits for a worker to replay the case, forever if none is polling
ACTION_TIMEOUT = 30.0  # seconds; an update runs the credit check and the deadline plan before it answers
MIN_TOKEN_LENGTH = 16

log = structlog.get_logger()
_T = TypeVar("_T")


# --- the gateway's own errors (same root, so one handler turns every refusal into {type, detail}) -------


class Unauthenticated(OneWindowError):
    """No bearer token, or one the token file does not know."""


class NotYetRegistered(OneWindowError):
    """The case exists but its worker has not yet registered the intake; ask again shortly."""


class EngineTimeout(OneWindowError):
    """The engine did not answer in time; an action retried with its Idempotency-Key takes effect once."""


class EngineUnavailable(OneWindowError):
    """Temporal could not be reached or answered with an error."""


class TokenFileInvalid(OneWindowError):
    """The token file is malformed; the message names the entry and the field."""


_STATUS_OF_TYPE: Mapping[str, int] = {
    Unauthenticated.__name__: status.HTTP_401_UNAUTHORIZED,
    "NotAuthorised": status.HTTP_403_FORBIDDEN,
    "SeparationOfDuties": status.HTTP_403_FORBIDDEN,
    UnknownApplication.__name__: status.HTTP_404_NOT_FOUND,
    "Refused": status.HTTP_502_BAD_GATEWAY,  # the update failed without a domain type: not a refusal
    NotYetRegistered.__name__: status.HTTP_503_SERVICE_UNAVAILABLE,
    EngineUnavailable.__name__: status.HTTP_503_SERVICE_UNAVAILABLE,
    EngineTimeout.__name__: status.HTTP_504_GATEWAY_TIMEOUT,
    "IdempotencyKeyReused": status.HTTP_422_UNPROCESSABLE_CONTENT,
}
"""Every other type (NotAllowed, InvalidCommand, AlreadySubmitted, ...) is a refusal in the case's
current state: 409."""


# --- tokens -----------------------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    """The SHA-256 a token file may store instead of the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenEntry(BaseModel):
    """One ``[[tokens]]`` entry: the token (or its SHA-256) and the actor it stands for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str | None = Field(default=None, min_length=MIN_TOKEN_LENGTH)
    token_sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    id: str = Field(min_length=1)
    role: Role
    department: str | None = None
    name: str = ""

    @model_validator(mode="after")
    def _one_token_and_a_valid_actor(self) -> Self:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token and token_sha256")
        try:
            self.actor()
        except ValidationError as error:
            raise ValueError("; ".join(e["msg"] for e in error.errors())) from error
        return self

    def actor(self) -> Actor:
        """The actor every command given with this token carries."""
        return Actor(id=self.id, role=self.role, department=self.department, name=self.name)

    def digest(self) -> str:
        """The token's SHA-256, however the file gave it."""
        return self.token_sha256 or token_digest(self.token or "")


class TokenFile(BaseModel):
    """The token file: ``insecure_example`` marks the shipped example, which must never serve production."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insecure_example: bool = False
    tokens: tuple[TokenEntry, ...] = ()


class TokenBook:
    """Bearer tokens and the actors they stand for; only SHA-256 digests are kept in memory."""

    def __init__(self, actors: Mapping[str, Actor], *, insecure_example: bool = False) -> None:
        """``actors`` maps each token's SHA-256 (``token_digest``) to its actor."""
        self._actors = dict(actors)
        self.insecure_example = insecure_example

    @classmethod
    def of(cls, tokens: Mapping[str, Actor]) -> TokenBook:
        """A book from plain tokens (tests, embedding)."""
        return cls({token_digest(token): actor for token, actor in tokens.items()})

    @classmethod
    def from_toml(cls, text: str, source: str = "<token file>") -> TokenBook:
        """Parse and validate a token file; errors name the entry (``tokens[2].role``) and the field."""
        try:
            parsed = TokenFile.model_validate(tomllib.loads(text))
        except tomllib.TOMLDecodeError as error:
            raise TokenFileInvalid(f"{source}: not TOML: {error}") from error
        except ValidationError as error:
            problems = "; ".join(f"{_dotted(e['loc'])}: {e['msg']}" for e in error.errors())
            raise TokenFileInvalid(f"{source}: {problems}") from error
        if not parsed.tokens:
            raise TokenFileInvalid(f"{source}: no [[tokens]] entry")
        actors: dict[str, Actor] = {}
        for index, entry in enumerate(parsed.tokens):
            digest = entry.digest()
            if digest in actors:
                raise TokenFileInvalid(f"{source}: tokens[{index}]: the same token is given twice")
            actors[digest] = entry.actor()
        return cls(actors, insecure_example=parsed.insecure_example)

    @classmethod
    def load(cls, path: Path) -> TokenBook:
        """Read a token file."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise TokenFileInvalid(f"{path}: {error.strerror or error}") from error
        return cls.from_toml(text, str(path))

    def actor(self, token: str) -> Actor | None:
        """The actor for ``token``, or None for a token the file does not list."""
        return self._actors.get(token_digest(token))

    def __len__(self) -> int:
        return len(self._actors)


def _dotted(loc: Sequence[str | int]) -> str:
    """A pydantic location as a reader of the file writes it: ``tokens[2].role``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(file)"


# --- request bodies: the engine's messages without what the gateway fills in ---------------------------

_FILLED_BY_THE_GATEWAY = frozenset({"actor"})  # taken from the bearer token
_FILLED_BY_THE_ENGINE = frozenset({"credit"})  # 容缺's credit check: run by the engine, never claimed


def _body_model(model: type[BaseModel], name: str, **extra: tuple[type[Any], FieldInfo]) -> type[BaseModel]:
    """``model`` without the fields the gateway or the engine fill in; derived, so it never drifts."""
    fields: dict[str, Any] = {
        field_name: (field.annotation, copy(field))
        for field_name, field in model.model_fields.items()
        if field_name not in _FILLED_BY_THE_GATEWAY | _FILLED_BY_THE_ENGINE
    }
    if "kind" in fields:  # the discriminator: always stated in a body
        kind = model.model_fields["kind"]
        fields["kind"] = (kind.annotation, Field(description="Which command this is."))
    fields.update(extra)
    return create_model(
        name, __config__=ConfigDict(frozen=True, extra="forbid"), __doc__=model.__doc__, **fields
    )


def _people_commands() -> dict[str, type[BaseModel]]:
    """The commands a person may give, by kind: those some role other than the engine's may give.

    Submission has its own endpoint; the engine's own commands (deemed acceptance, deadlines, warnings,
    issuance) are no part of the HTTP contract.
    """
    union = typing.get_args(ApplicationCommand)[0]
    commands: dict[str, type[BaseModel]] = {}
    for command in typing.get_args(union):
        kind = command.model_fields["kind"].default
        if kind in PEOPLE_COMMANDS:
            commands[kind] = _body_model(command, f"{command.__name__}Body")
    return commands


ACTION_BODIES = _people_commands()
SUBMISSION_BODY = _body_model(
    Intake,
    "SubmissionBody",
    application_id=(
        str,
        Field(
            min_length=1,
            max_length=200,
            pattern=r"^[^/\s]+$",
            description="The application number: the case's id, its URL and the natural duplicate key.",
        ),
    ),
)
_COMMANDS: TypeAdapter[ApplicationCommand] = TypeAdapter(ApplicationCommand)


def _openapi_bodies() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Schemas of the two bodies read by hand (their validation is the gateway's), and their components."""
    ref = "#/components/schemas/{model}"
    components: dict[str, Any] = {}

    def component(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=ref)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
        return {"$ref": ref.format(model=model.__name__)}

    action = {
        "oneOf": [component(model) for model in ACTION_BODIES.values()],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {kind: ref.format(model=model.__name__) for kind, model in ACTION_BODIES.items()},
        },
    }
    return action, component(SUBMISSION_BODY), components


ACTION_SCHEMA, SUBMISSION_SCHEMA, BODY_COMPONENTS = _openapi_bodies()


def _validation_errors(error: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors located in the body, as FastAPI reports them (JSON-safe)."""
    errors: list[dict[str, Any]] = json.loads(error.json(include_url=False))
    for item in errors:
        item["loc"] = ["body", *item["loc"]]
    return errors


def _invalid(
    loc: Sequence[str | int], message: str, error_type: str, value: object
) -> RequestValidationError:
    return RequestValidationError(
        [{"type": error_type, "loc": ["body", *loc], "msg": message, "input": value}]
    )


async def _json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, refusing anything else as FastAPI would."""
    raw = await request.body()
    if not raw:
        raise _invalid([], "Field required", "missing", None)
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ["body", error.pos], "msg": "JSON decode error", "input": {}}]
        ) from error
    if not isinstance(body, dict):
        raise _invalid([], "Input should be a valid dictionary or object", "dict_type", body)
    if "actor" in body:
        raise _invalid(
            ["actor"], "The actor comes from the bearer token; leave it out", "extra_forbidden", body["actor"]
        )
    return body


def command_of(body: Mapping[str, Any], actor: Actor) -> ApplicationCommand:
    """The engine's command: the body validated as a person's command, with the token's actor."""
    kind = body.get("kind")
    if kind is None:
        raise _invalid(["kind"], "Field required", "missing", None)
    model = ACTION_BODIES.get(kind) if isinstance(kind, str) else None
    if model is None:
        expected = ", ".join(f"'{k}'" for k in ACTION_BODIES)
        raise _invalid(["kind"], f"Input should be {expected}", "literal_error", kind)
    try:
        fields = model.model_validate(body).model_dump()
    except ValidationError as error:
        raise RequestValidationError(_validation_errors(error)) from error
    return _COMMANDS.validate_python({**fields, "actor": actor})


def intake_of(body: Mapping[str, Any], actor: Actor) -> tuple[str, Intake]:
    """The application number and the engine's ``Intake``, with the token's actor."""
    try:
        fields = SUBMISSION_BODY.model_validate(body).model_dump()
    except ValidationError as error:
        raise RequestValidationError(_validation_errors(error)) from error
    application_id = fields.pop("application_id")
    return application_id, Intake.model_validate({**fields, "actor": actor})


# --- responses ----------------------------------------------------------------------------------------


class Problem(BaseModel):
    """A refusal: the domain error type callers branch on, and a message for people."""

    type: str = Field(examples=["SeparationOfDuties"])
    detail: str = Field(examples=["actor 'window-li' is not authorised: ..."])


class ValidationProblem(BaseModel):
    """A request that does not validate: FastAPI's list of problems, each naming its field in ``loc``."""

    type: Literal["InvalidCommand", "InvalidRequest"] = Field(
        description="InvalidCommand when the body is at fault (as the engine names it), else InvalidRequest."
    )
    detail: list[dict[str, Any]] = Field(
        examples=[[{"type": "missing", "loc": ["body", "approved"], "msg": "Field required"}]]
    )


class Submitted(BaseModel):
    """The case is open; its URL is in ``Location``."""

    application_id: str


class CaseList(BaseModel):
    """Cases found by a list, as their search attributes describe them (no query per case)."""

    applications: list[CaseSummary]


class Announced(BaseModel):
    """The running cases told of the new calendar; each recomputes its deadlines."""

    signalled: list[str]


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "No bearer token, or an unknown one (`Unauthenticated`).",
        403: "The token's actor may not do this (`NotAuthorised`, `SeparationOfDuties`).",
        404: "No application with this number (`UnknownApplication`).",
        409: "Refused in the case's current state (`NotAllowed`, `AlreadySubmitted`, `InvalidCommand`, ...).",
        422: "The body or a parameter does not validate; `loc` names the field.",
        503: "The engine is unreachable, or the case is still being registered: retry shortly.",
        504: "The engine did not answer in time: retry (with the same `Idempotency-Key`).",
    }
    return {
        code: {"model": ValidationProblem if code == 422 else Problem, "description": described[code]}
        for code in codes
    }


# --- the gateway: HTTP onto Cases -----------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


class Gateway:
    """What each endpoint does, with the engine's answers translated into the gateway's errors."""

    def __init__(
        self,
        cases: Cases,
        tokens: TokenBook,
        *,
        clock: Callable[[], datetime] = _now,
        query_timeout: float = QUERY_TIMEOUT,
        action_timeout: float = ACTION_TIMEOUT,
    ) -> None:
        self.cases = cases
        self.tokens = tokens
        self.clock = clock
        self.query_timeout = query_timeout
        self.action_timeout = action_timeout

    async def submit(self, application_id: str, intake: Intake, idempotency_key: str | None) -> bool:
        """Open the case; True when this was a retry of the submission that opened it."""
        opened = await self._in_time(
            self.cases.submit(application_id, intake, idempotency_key=idempotency_key), self.action_timeout
        )
        if opened.replayed:
            return True
        try:  # an unknown matter code is refused now, as the worker registers the case, not on reading it
            async with asyncio.timeout(self.query_timeout):
                await self.cases.registered(application_id, reader=intake.actor)
        except TimeoutError:  # submitted all the same: a worker will register it when one runs
            log.warning("application_not_yet_registered", application_id=application_id)
        return False

    async def act(
        self, application_id: str, command: ApplicationCommand, idempotency_key: str | None
    ) -> ApplicationView:
        """Give the command; with a key, a retry of the same command takes effect once."""
        return await self._in_time(
            self.cases.act(application_id, command, idempotency_key=idempotency_key), self.action_timeout
        )

    async def state(self, application_id: str, reader: Actor) -> ApplicationView:
        """The case's view now, if ``reader``'s role covers it."""
        try:
            return await self._in_time(
                self.cases.state(application_id, self.clock(), reader=reader), self.query_timeout
            )
        except WorkflowQueryFailedError:
            raise await self._why_unregistered(application_id) from None

    async def events(self, application_id: str, reader: Actor) -> list[ApplicationEvent]:
        """The case's domain log, if ``reader``'s role covers it."""
        try:
            return await self._in_time(self.cases.events(application_id, reader=reader), self.query_timeout)
        except WorkflowQueryFailedError:
            raise await self._why_unregistered(application_id) from None

    async def find(
        self, listing: str | None, department: str | None, matter: str | None, limit: int, reader: Actor
    ) -> list[CaseSummary]:
        """Open cases through the client's query builders, all filters combined."""
        queries = [
            overdue_query(self.clock()) if listing == "overdue" else None,
            warned_query() if listing == "warned" else None,
            department_query(department) if department else None,
            matter_query(matter) if matter else None,
        ]
        query = " AND ".join(f"({q})" for q in queries if q) or "ExecutionStatus = 'Running'"
        return await self._in_time(self.cases.find(query, limit=limit, reader=reader), self.query_timeout)

    async def announce_calendar_revision(self, actor: Actor) -> list[str]:
        """R-CAL-4, by a supervisor: every running case recomputes its deadlines."""
        if actor.role is not Role.SUPERVISOR:
            raise NotAuthorised(actor.id, "announcing a calendar revision needs the role supervisor")
        return await self.cases.announce_calendar_revision()

    # --- why the engine could not answer ---------------------------------------------------------------

    async def _in_time(self, call: Awaitable[_T], seconds: float) -> _T:
        try:
            async with asyncio.timeout(seconds):
                return await call
        except TimeoutError:
            raise EngineTimeout(f"the engine did not answer within {seconds:g} s") from None

    async def _why_unregistered(self, application_id: str) -> OneWindowError:
        """A case that cannot be queried yet: its intake was refused, or no worker has registered it."""
        refusal = await self.cases.registration_refusal(application_id)
        if refusal is not None:
            return refusal
        return NotYetRegistered(f"application {application_id} is still being registered; retry shortly")


# --- HTTP -----------------------------------------------------------------------------------------------

_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A token from the gateway's token file; it names the actor of every command.",
)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A fresh value (a UUID) per logical request; a retry with it takes effect once.",
    ),
]


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
) -> Actor:
    """The token's actor, or 401."""
    if credentials is None:
        raise Unauthenticated("send Authorization: Bearer <token>")
    actor = _gateway(request).tokens.actor(credentials.credentials)
    if actor is None:
        raise Unauthenticated("unknown bearer token")
    return actor


Authenticated = Annotated[Actor, Depends(_authenticated)]
router = APIRouter()

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


@router.post(
    "/applications",
    tags=["applications"],
    summary="Submit an application",
    status_code=status.HTTP_201_CREATED,
    response_model=Submitted,
    responses=_problems(401, 409, 422, 503, 504),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SUBMISSION_SCHEMA, "example": _SUBMISSION_EXAMPLE}},
        }
    },
)
async def submit(
    request: Request, response: Response, actor: Authenticated, idempotency_key: IdempotencyKey = None
) -> Submitted:
    """Open a case: the intake without `actor` (the token's), plus the `application_id`.

    A second submission of the same number is refused, 409 `AlreadySubmitted`, and the first case carries
    on; unless it carries an `Idempotency-Key` and is the very same intake from the same actor, a retry,
    which is answered 201 again with `Idempotent-Replayed: true`. The answer waits until the worker has
    registered the case (up to the query timeout): an unknown matter code is refused, 409 `UnknownMatter`,
    and the number stays free for a corrected submission.
    """
    application_id, intake = intake_of(await _json_object(request), actor)
    replayed = await _gateway(request).submit(application_id, intake, idempotency_key)
    response.headers["Location"] = f"/applications/{quote(application_id, safe='')}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    log.info("application_submitted", application_id=application_id, actor=actor.id, replayed=replayed)
    return Submitted(application_id=application_id)


@router.post(
    "/applications/{application_id}/actions",
    tags=["applications"],
    summary="Give a command on a case",
    response_model=ApplicationView,
    responses=_problems(401, 403, 404, 409, 422, 503, 504),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ACTION_SCHEMA, "examples": _ACTION_EXAMPLES}},
        }
    },
)
async def act(
    request: Request, application_id: str, actor: Authenticated, idempotency_key: IdempotencyKey = None
) -> ApplicationView:
    """One command, chosen by `kind`, without `actor` (the token's); answered with the case's view.

    Refused before anything enters the case's history: 403 `NotAuthorised` / `SeparationOfDuties`, 409
    `NotAllowed` (not in this status, or the case is closed) and the other rules of the matter. With an
    `Idempotency-Key` a retried request takes effect once and gets the same answer; reuse a key only for
    the same command.
    """
    command = command_of(await _json_object(request), actor)
    view = await _gateway(request).act(application_id, command, idempotency_key)
    log.info("command_given", application_id=application_id, kind=command.kind, actor=actor.id)
    return view


@router.get(
    "/applications/{application_id}",
    tags=["applications"],
    summary="Read a case",
    response_model=ApplicationView,
    responses=_problems(401, 404, 409, 503, 504),
)
async def read(request: Request, application_id: str, actor: Authenticated) -> ApplicationView:
    """The case's view now: status, deadlines in working days, warning level and the pending actions."""
    return await _gateway(request).state(application_id, actor)


@router.get(
    "/applications/{application_id}/events",
    tags=["applications"],
    summary="Read a case's history",
    response_model=list[ApplicationEvent],
    responses=_problems(401, 404, 409, 503, 504),
)
async def events(request: Request, application_id: str, actor: Authenticated) -> list[ApplicationEvent]:
    """Every domain event in order: `kind`, `at`, `actor`, `reason` and the event's fields."""
    return await _gateway(request).events(application_id, actor)


@router.get(
    "/applications",
    tags=["lists"],
    summary="List open cases",
    response_model=CaseList,
    responses=_problems(401, 422, 503, 504),
)
async def find(
    request: Request,
    actor: Authenticated,
    *,
    listing: Annotated[
        Literal["overdue", "warned"] | None,
        Query(alias="list", description="overdue: past the decision deadline or red; warned: any warning."),
    ] = None,
    department: Annotated[str | None, Query(description="A responsible department.")] = None,
    matter: Annotated[str | None, Query(description="A matter code, `CODE` or `CODE.TYPE`.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CaseList:
    """Open cases, filters combined (all open cases without any); lists lag a case's changes by a moment."""
    found = await _gateway(request).find(listing, department, matter, limit, actor)
    return CaseList(applications=found)


@router.post(
    "/calendar/revisions",
    tags=["calendar"],
    summary="Announce a calendar revision",
    response_model=Announced,
    responses=_problems(401, 403, 503),
)
async def announce(request: Request, actor: Authenticated) -> Announced:
    """R-CAL-4, supervisors only: a new calendar is loaded in the workers; every running case recomputes
    its deadlines with it and records the revision."""
    signalled = await _gateway(request).announce_calendar_revision(actor)
    log.info("calendar_revision_announced", actor=actor.id, cases=len(signalled))
    return Announced(signalled=signalled)


def _refusal_response(request: Request, error: Exception) -> Response:
    error_type = error.type if isinstance(error, OneWindowError) else type(error).__name__
    code = _STATUS_OF_TYPE.get(error_type, status.HTTP_409_CONFLICT)
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="onewindow"'
    if code == status.HTTP_503_SERVICE_UNAVAILABLE:
        headers["Retry-After"] = "1"
    log.info("request_refused", path=request.url.path, type=error_type, status=code)
    return JSONResponse(
        Problem(type=error_type, detail=str(error)).model_dump(), status_code=code, headers=headers
    )


def _engine_failure_response(request: Request, error: Exception) -> Response:
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        return _refusal_response(request, EngineTimeout(str(error)))
    return _refusal_response(request, EngineUnavailable(str(error)))


def _validation_response(request: Request, error: Exception) -> Response:
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    in_body = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    error_type = "InvalidCommand" if in_body else "InvalidRequest"
    log.info("request_refused", path=request.url.path, type=error_type, status=422)
    return JSONResponse(
        {"type": error_type, "detail": jsonable_encoder(errors)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _version() -> str:
    try:
        return importlib.metadata.version("onewindow")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


_DESCRIPTION = """
The one-window engine's contract over HTTP, for intake systems and departments not written in Python.

**Authentication.** Every request carries `Authorization: Bearer <token>`. The gateway's token file maps
each token to an actor (id, role, department); that actor gives every submission and command, so a body
never names one.

**Bodies** are the engine's messages without `actor`: an intake plus its `application_id`, or one command
chosen by `kind`. All periods are working days; instants are ISO 8601 with an offset.

**Refusals** are `{"type": ..., "detail": ...}` with the engine's error type: 403 `NotAuthorised` /
`SeparationOfDuties`, 404 `UnknownApplication`, 409 `NotAllowed`, `AlreadySubmitted` and the matter's rules;
422 lists the fields that do not validate.

**Retries.** Send an `Idempotency-Key` (a UUID per logical request): a retried action takes effect once, and
a retried submission of the same intake is answered 201 again instead of 409.
"""


def create_app(
    cases: Cases,
    tokens: TokenBook,
    *,
    clock: Callable[[], datetime] = _now,
    query_timeout: float = QUERY_TIMEOUT,
    action_timeout: float = ACTION_TIMEOUT,
) -> FastAPI:
    """The gateway's FastAPI application over ``cases``, authenticating with ``tokens``."""
    app = _GatewayApp(
        title="onewindow gateway",
        summary="一窗综合受理: submit applications, act on cases, read them and list them.",
        description=_DESCRIPTION,
        version=_version(),
        openapi_tags=[
            {"name": "applications", "description": "One case: submit, act, read, history."},
            {"name": "lists", "description": "Open cases found by their search attributes."},
            {"name": "calendar", "description": "The working-day calendar (R-CAL-4)."},
        ],
        docs_url=None,  # served below from the pip-installed Swagger UI: government networks are offline
        redoc_url=None,
    )
    _serve_docs_offline(app)
    app.state.gateway = Gateway(
        cases, tokens, clock=clock, query_timeout=query_timeout, action_timeout=action_timeout
    )
    app.include_router(router)
    app.add_exception_handler(OneWindowError, _refusal_response)
    app.add_exception_handler(RPCError, _engine_failure_response)
    app.add_exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError, _engine_failure_response)
    app.add_exception_handler(RequestValidationError, _validation_response)
    return app


def _serve_docs_offline(app: FastAPI) -> None:
    """``/docs`` with Swagger UI's script and styles from the ``fastapi-offline`` package, not a CDN.

    That package ships Swagger UI 5, which renders the OpenAPI 3.1 that FastAPI writes (UI 4 cannot).
    """
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs/static", StaticFiles(directory=assets), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="",
        )


class _GatewayApp(FastAPI):
    """FastAPI, with the schemas of the hand-validated bodies added to the OpenAPI components."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3 document, built once."""
        if self.openapi_schema is None:
            schema = super().openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in BODY_COMPONENTS.items():
                components.setdefault(name, definition)
        return super().openapi()


# --- entry point ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    environment = os.environ.get
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)")
    parser.add_argument(
        "--tokens",
        type=Path,
        default=environment(TOKENS_VARIABLE),
        help=f"token file (TOML), required (or {TOKENS_VARIABLE}); a local try-out may use {EXAMPLE_TOKENS}",
    )
    parser.add_argument("--task-queue", default=environment("ONEWINDOW_TASK_QUEUE", TASK_QUEUE))
    parser.add_argument("--profile", default=None, help="temporalio TOML client profile to connect with")
    return parser


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_server(
    cases: Cases, tokens: TokenBook, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> uvicorn.Server:
    """The gateway as a uvicorn server (``worker.py`` runs one beside the worker for ``make run``)."""
    app = create_app(cases, tokens)
    log.info(
        "gateway_running", url=f"http://{host}:{port}", docs=f"http://{host}:{port}/docs", tokens=len(tokens)
    )
    # log_config=None: uvicorn's loggers go through the structlog handler configured by configure_logging.
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None))


async def _serve(args: argparse.Namespace, tokens: TokenBook) -> None:
    client = await connect(args.profile)
    await http_server(Cases(client, args.task_queue), tokens, args.host, args.port).serve()


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 2 without a usable token file or connection."""
    args = _parser().parse_args(argv)
    configure_logging()
    if args.tokens is None:
        log.error("gateway_tokens_missing", hint=f"pass --tokens PATH or set {TOKENS_VARIABLE}")
        return 2
    try:
        tokens = TokenBook.load(Path(args.tokens))
    except OneWindowError as error:
        log.error("gateway_tokens_invalid", error=str(error))
        return 2
    if tokens.insecure_example:
        if not _loopback(args.host):
            log.error("insecure_example_tokens_refused", host=args.host, hint="write your own token file")
            return 2
        log.warning("insecure_example_tokens", path=str(args.tokens), hint="never use them in production")
    try:
        asyncio.run(_serve(args, tokens))
    except (OSError, RuntimeError) as error:
        log.error("gateway_failed", error=str(error), error_type=type(error).__name__)
        return 2
    return 0


if __name__ == "__main__":
    exit_process(main())  # after a clean shutdown: the interpreter's teardown could still abort (see there)
