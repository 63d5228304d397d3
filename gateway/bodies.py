"""Request bodies: the engine's commands and intake without what the gateway fills in, read strictly.

A body is derived from the engine's own message (so it never drifts) without ``actor``, which is the bearer
token's, and without what the engine fills in itself. It is read within ``limits.MAX_BODY_BYTES`` and
validated from the raw bytes in pydantic's strict JSON mode, as the engine's boundary decodes a payload:
``"yes"`` or ``1`` is no boolean, a number no instant, and bytes that are not UTF-8 or hold a lone
surrogate are not JSON. The result, with the actor merged in, is validated again as the engine's message.
A refusal names each field and never repeats the values given.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from copy import copy
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo

from gateway.limits import read_body
from workflows.boundary import short
from workflows.domain.application import PEOPLE_COMMANDS
from workflows.domain.commands import ApplicationCommand
from workflows.domain.events import Actor
from workflows.domain.values import ApplicationNumber
from workflows.messages import Intake

_FILLED_BY_THE_GATEWAY = frozenset({"actor"})  # taken from the bearer token
_FILLED_BY_THE_ENGINE = frozenset({"credit"})  # 容缺's credit check: run by the engine, never claimed
_UNION_TAG_ERRORS = frozenset({"union_tag_not_found", "union_tag_invalid"})


def _body_model(model: type[BaseModel], name: str, **extra: tuple[Any, FieldInfo]) -> type[BaseModel]:
    """``model`` without the fields the gateway or the engine fill in."""
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
        ApplicationNumber,
        Field(description="The application number: the case's id, its URL and the natural duplicate key."),
    ),
)
# The bodies as one union chosen by ``kind``, built at run time from the engine's commands (hence the
# old spelling, and a type mypy cannot see).
_ACTIONS: TypeAdapter[BaseModel] = TypeAdapter(
    Annotated[typing.Union[tuple(ACTION_BODIES.values())], Field(discriminator="kind")]  # type: ignore[arg-type]  # noqa: UP007
)
_SUBMISSION: TypeAdapter[BaseModel] = TypeAdapter(SUBMISSION_BODY)
_COMMANDS: TypeAdapter[ApplicationCommand] = TypeAdapter(ApplicationCommand)
_INTAKE: TypeAdapter[Intake] = TypeAdapter(Intake)
_KINDS = ", ".join(f"'{kind}'" for kind in ACTION_BODIES)
_T = typing.TypeVar("_T")


async def command_of(request: Request, actor: Actor) -> ApplicationCommand:
    """The engine's command: the body validated as a person's command, with the token's actor."""
    fields = _validated(_ACTIONS, await body_of(request), tagged=True).model_dump()
    return _validated(_COMMANDS, {**fields, "actor": actor}, tagged=True)


async def intake_of(request: Request, actor: Actor) -> tuple[str, Intake]:
    """The application number and the engine's ``Intake``, with the token's actor."""
    fields = _validated(_SUBMISSION, await body_of(request), tagged=False).model_dump()
    application_id: str = fields.pop("application_id")
    return application_id, _validated(_INTAKE, {**fields, "actor": actor}, tagged=False)


async def body_of(request: Request) -> bytes:
    """The request's body, read once within the size limit (the idempotency check reads it first)."""
    cached: bytes | None = getattr(request.state, "body", None)
    if cached is None:
        cached = await read_body(request)
        if not cached:
            raise RequestValidationError([{"type": "missing", "loc": ["body"], "msg": "Field required"}])
        request.state.body = cached
    return cached


def _validated(adapter: TypeAdapter[_T], data: bytes | dict[str, Any], *, tagged: bool) -> _T:
    """Raw bytes validated in strict JSON mode (a body), or fields as Python (the engine's message built
    from a body); a 422 naming each field that does not validate."""
    try:
        if isinstance(data, bytes):
            return adapter.validate_json(data, strict=True)
        return adapter.validate_python(data)
    except ValidationError as error:
        raise RequestValidationError(_located(error, tagged=tagged)) from None


def _located(error: ValidationError, *, tagged: bool) -> list[dict[str, Any]]:
    """pydantic's problems located in the body as FastAPI locates them, JSON-safe: without the input,
    which may not even be text.

    In a union chosen by ``kind`` (``tagged``) a field's location starts with the kind: it is dropped, and
    a missing or unknown kind is reported on ``kind`` itself.
    """
    problems: list[dict[str, Any]] = json.loads(error.json(include_url=False, include_input=False))
    for problem in problems:
        loc: Sequence[str | int] = problem["loc"]
        if problem["type"] in _UNION_TAG_ERRORS:
            missing = problem["type"] == "union_tag_not_found"
            problem.pop("ctx", None)
            problem["type"] = "missing" if missing else "literal_error"
            problem["msg"] = "Field required" if missing else f"Input should be one of {_KINDS}"
            loc = ["kind"]
        elif tagged and loc:
            loc = loc[1:]
        if problem["type"] == "extra_forbidden" and list(loc) == ["actor"]:
            problem["msg"] = "The actor comes from the bearer token; leave it out"
        problem["loc"] = ["body", *(short(part) if isinstance(part, str) else part for part in loc)]
    return problems


def _openapi_bodies() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The schemas of the action and submission bodies (read by hand, so FastAPI cannot describe them),
    and the component schemas they refer to."""
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
