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
from typing import Annotated, Any, Generic

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo

from gateway.limits import read_body
from workflows.boundary import short
from workflows.domain import complaint, consultation, establishment, project
from workflows.domain.application import PEOPLE_COMMANDS
from workflows.domain.commands import ApplicationCommand, Command
from workflows.domain.complaint import ComplaintCommand
from workflows.domain.consultation import ConsultationCommand
from workflows.domain.establishment import EstablishmentCommand
from workflows.domain.events import Actor
from workflows.domain.project import ProjectCommand
from workflows.domain.values import ApplicationNumber
from workflows.messages import ComplaintIntake, ConsultationIntake, Intake, ProjectIntake

_FILLED_BY_THE_GATEWAY = frozenset({"actor"})  # taken from the bearer token
_FILLED_BY_THE_ENGINE = frozenset({"credit"})  # 容缺's credit check: run by the engine, never claimed
_UNION_TAG_ERRORS = frozenset({"union_tag_not_found", "union_tag_invalid"})
_T = typing.TypeVar("_T")
_C = typing.TypeVar("_C", bound=Command)
_I = typing.TypeVar("_I", bound=Command)  # a submission, or a complaint's intake


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


def _people_commands(union: object, people: Sequence[str]) -> dict[str, type[BaseModel]]:
    """The commands a person may give, by kind: those some role other than the engine's may give.

    Submission has its own endpoint; the engine's own commands (deemed acceptance, deadlines, warnings,
    issuance) are no part of the HTTP contract.
    """
    commands: dict[str, type[BaseModel]] = {}
    for command in typing.get_args(typing.get_args(union)[0]):
        kind = command.model_fields["kind"].default
        if kind in people:
            commands[kind] = _body_model(command, f"{command.__name__}Body")
    return commands


class Bodies(Generic[_C, _I]):
    """One process's request bodies: its people's commands (one union chosen by ``kind``) and its intake
    plus the number it is opened under; and their OpenAPI schemas."""

    def __init__(
        self, commands: object, people: Sequence[str], intake: type[_I], submission_name: str
    ) -> None:
        self.actions = _people_commands(commands, people)
        self.submission = _body_model(
            intake,
            submission_name,
            application_id=(
                ApplicationNumber,
                Field(description="The number: the case's id, its URL and the natural duplicate key."),
            ),
        )
        # The bodies as one union chosen by ``kind``, built at run time from the engine's commands (hence
        # the old spelling, and a type mypy cannot see).
        self._actions: TypeAdapter[BaseModel] = TypeAdapter(
            Annotated[typing.Union[tuple(self.actions.values())], Field(discriminator="kind")]  # type: ignore[arg-type]  # noqa: UP007
        )
        self._submission: TypeAdapter[BaseModel] = TypeAdapter(self.submission)
        self._commands: TypeAdapter[_C] = TypeAdapter(commands)  # type: ignore[arg-type]
        self._intake: TypeAdapter[_I] = TypeAdapter(intake)
        self._kinds = ", ".join(f"'{kind}'" for kind in self.actions)

    async def command_of(self, request: Request, actor: Actor) -> _C:
        """The engine's command: the body validated as a person's command, with the token's actor."""
        return self.command_from(await body_of(request), actor)

    def command_from(self, body: bytes, actor: Actor) -> _C:
        """The engine's command from a body's bytes (the API's, or a console form written as one)."""
        fields = self._validated(self._actions, body, tagged=True).model_dump()
        return self._validated(self._commands, {**fields, "actor": actor}, tagged=True)

    async def intake_of(self, request: Request, actor: Actor) -> tuple[str, _I]:
        """The number and the engine's intake, with the token's actor."""
        fields = self._validated(self._submission, await body_of(request), tagged=False).model_dump()
        application_id: str = fields.pop("application_id")
        return application_id, self._validated(self._intake, {**fields, "actor": actor}, tagged=False)

    def _validated(self, adapter: TypeAdapter[_T], data: bytes | dict[str, Any], *, tagged: bool) -> _T:
        """Raw bytes validated in strict JSON mode (a body), or fields as Python (the engine's message
        built from a body); a 422 naming each field that does not validate."""
        try:
            if isinstance(data, bytes):
                return adapter.validate_json(data, strict=True)
            return adapter.validate_python(data)
        except ValidationError as error:
            raise RequestValidationError(_located(error, tagged=tagged, kinds=self._kinds)) from None

    def schemas(self, components: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The action and submission schemas (read by hand, so FastAPI cannot describe them), adding the
        component schemas they refer to."""
        ref = "#/components/schemas/{model}"

        def component(model: type[BaseModel]) -> dict[str, str]:
            schema = model.model_json_schema(ref_template=ref)
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
            return {"$ref": ref.format(model=model.__name__)}

        action = {
            "oneOf": [component(model) for model in self.actions.values()],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {kind: ref.format(model=model.__name__) for kind, model in self.actions.items()},
            },
        }
        return action, component(self.submission)


APPLICATION_BODIES: Bodies[ApplicationCommand, Intake] = Bodies(
    ApplicationCommand, PEOPLE_COMMANDS, Intake, "SubmissionBody"
)
PROJECT_BODIES: Bodies[ProjectCommand, ProjectIntake] = Bodies(
    ProjectCommand, project.PEOPLE_COMMANDS, ProjectIntake, "ProjectSubmissionBody"
)
ESTABLISHMENT_BODIES: Bodies[EstablishmentCommand, ProjectIntake] = Bodies(
    EstablishmentCommand, establishment.PEOPLE_COMMANDS, ProjectIntake, "EstablishmentSubmissionBody"
)
CONSULTATION_BODIES: Bodies[ConsultationCommand, ConsultationIntake] = Bodies(
    ConsultationCommand, consultation.PEOPLE_COMMANDS, ConsultationIntake, "ConsultationSubmissionBody"
)
COMPLAINT_BODIES: Bodies[ComplaintCommand, ComplaintIntake] = Bodies(
    ComplaintCommand, complaint.PEOPLE_COMMANDS, ComplaintIntake, "ComplaintSubmissionBody"
)


async def body_of(request: Request) -> bytes:
    """The request's body, read once within the size limit (the idempotency check reads it first)."""
    cached: bytes | None = getattr(request.state, "body", None)
    if cached is None:
        cached = await read_body(request)
        if not cached:
            raise RequestValidationError([{"type": "missing", "loc": ["body"], "msg": "Field required"}])
        request.state.body = cached
    return cached


def _located(error: ValidationError, *, tagged: bool, kinds: str) -> list[dict[str, Any]]:
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
            problem["msg"] = "Field required" if missing else f"Input should be one of {kinds}"
            loc = ["kind"]
        elif tagged and loc:
            loc = loc[1:]
        if problem["type"] == "extra_forbidden" and list(loc) == ["actor"]:
            problem["msg"] = "The actor comes from the bearer token; leave it out"
        problem["loc"] = ["body", *(short(part) if isinstance(part, str) else part for part in loc)]
    return problems


BODY_COMPONENTS: dict[str, Any] = {}
ACTION_SCHEMA, SUBMISSION_SCHEMA = APPLICATION_BODIES.schemas(BODY_COMPONENTS)
PROJECT_ACTION_SCHEMA, PROJECT_SUBMISSION_SCHEMA = PROJECT_BODIES.schemas(BODY_COMPONENTS)
ESTABLISHMENT_ACTION_SCHEMA, ESTABLISHMENT_SUBMISSION_SCHEMA = ESTABLISHMENT_BODIES.schemas(BODY_COMPONENTS)
CONSULTATION_ACTION_SCHEMA, CONSULTATION_SUBMISSION_SCHEMA = CONSULTATION_BODIES.schemas(BODY_COMPONENTS)
COMPLAINT_ACTION_SCHEMA, COMPLAINT_SUBMISSION_SCHEMA = COMPLAINT_BODIES.schemas(BODY_COMPONENTS)
