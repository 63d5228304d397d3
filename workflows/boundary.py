"""The boundary every workflow shares: what reaches a case from outside is bounded, decoded and refused here.

A workflow takes its input and each update's argument as a raw payload (``RawValue``) and decodes it with
``decode``: the payload must be JSON (``json/plain``), at most ``MAX_MESSAGE_BYTES``, valid UTF-8 without
lone surrogates, and match its model strictly (``"yes"`` is not a boolean, a number is not an instant).
Anything else is refused with a typed ``InvalidCommand`` instead of a workflow task failing for ever.
``BoundaryInterceptor`` refuses a start or an update with the wrong number of arguments the same way.

A refusal says which fields are wrong and why, in at most ``MAX_REFUSAL_CHARS`` characters, and never
repeats the values it was given: Temporal sends a rejected update back with its failure, and a refusal
that echoed a large value could itself exceed the payload limit and freeze the case.

``IdempotencyKeys`` keeps the commands each idempotency key has given (``messages.idempotent_update_id``),
so the same key with another command is refused rather than answered with the first one's outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from workflows.domain.errors import IdempotencyKeyReused, InvalidCommand, OneWindowError
from workflows.messages import NOT_YET_REGISTERED, STILL_REGISTERING, idempotency_of

MAX_MESSAGE_BYTES = 64 * 1024  # one command or intake, as JSON
MAX_REFUSAL_CHARS = 500
JSON_ENCODING = b"json/plain"
_PROBLEMS_LISTED = 5
_NAME_CHARS = 40

_T = TypeVar("_T")


def refusal(error: OneWindowError) -> ApplicationError:
    """A domain refusal as the typed, non-retryable failure callers receive, its message bounded."""
    message = str(error)
    if len(message) > MAX_REFUSAL_CHARS:
        message = message[: MAX_REFUSAL_CHARS - 1] + "…"
    return ApplicationError(message, type=error.type, non_retryable=True)


def invalid(what: str, error: ValidationError, kinds: Sequence[str] = ()) -> ApplicationError:
    """``what`` refused as ``InvalidCommand``, each invalid field named and why."""
    return refusal(InvalidCommand(f"not a valid {what}: {summary(error, kinds)}"))


def still_registering() -> ApplicationError:
    """A query or command that arrived before the case was registered: retry shortly."""
    return ApplicationError(STILL_REGISTERING, type=NOT_YET_REGISTERED)


def raw(payload: object) -> RawValue:
    """The raw payload a ``RawValue`` parameter receives (typed for callers as their message)."""
    if not isinstance(payload, RawValue):  # the SDK passes every argument of a RawValue hint undecoded
        raise TypeError(f"expected the raw payload, got {type(payload).__name__}")
    return payload


def decode(
    payload: object,
    adapter: TypeAdapter[_T],
    what: str,
    kinds: Sequence[str] = (),
    *,
    limit: int = MAX_MESSAGE_BYTES,
) -> _T:
    """The message in ``payload``, or an ``InvalidCommand`` refusal naming what is wrong with it.

    ``kinds`` lists the ``kind`` values a caller may send, for a message of the wrong kind; ``limit`` is
    the most bytes taken (a project's own snapshot, carried into its next run, may be larger).
    """
    content = raw(payload).payload
    if content.metadata.get("encoding", b"") != JSON_ENCODING:
        encoding = JSON_ENCODING.decode()
        raise refusal(InvalidCommand(f"the {what} must be a JSON payload (encoding {encoding})"))
    size = len(content.data)
    if size > limit:
        raise refusal(InvalidCommand(f"the {what} has {size} bytes; at most {limit} are accepted"))
    try:
        return adapter.validate_json(content.data, strict=True)
    except ValidationError as error:
        raise invalid(what, error, kinds) from None


def summary(error: ValidationError, kinds: Sequence[str] = (), name: Callable[[str], str] = str) -> str:
    """Each invalid field and why, on one line, without the values given.

    ``name`` says a field's dotted path (empty for the value itself) as the caller knows the field (the
    CLI: by its flag).
    """
    problems = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
            problems.append(f"kind: one of {', '.join(kinds)} is needed" if kinds else "kind: unknown")
            continue
        where = name(".".join(short(str(part)) for part in problem["loc"]))
        problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    listed = problems[:_PROBLEMS_LISTED]
    if len(problems) > _PROBLEMS_LISTED:
        listed.append(f"and {len(problems) - _PROBLEMS_LISTED} more")
    return "; ".join(listed)


def short(name: str) -> str:
    """A field name as given, cut short: an unknown key is the caller's text, and may be long."""
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"


class IdempotencyKeys:
    """The command digest each idempotency key has given on this case, rebuilt on replay with the updates.

    Temporal answers a repeated update id with its first outcome; the key's digest is in the id, so the
    same key with another command arrives as another update, refused here.
    """

    def __init__(self) -> None:
        self._given: dict[str, str] = {}

    def refuse_reused(self) -> None:
        """In a validator: refuse the current update if its key already gave another command."""
        scope = self._scope()
        if scope is not None and self._given.get(scope[0], scope[1]) != scope[1]:
            raise refusal(IdempotencyKeyReused("this idempotency key already gave another command here"))

    def remember(self) -> None:
        """In a handler: the current update's key has now given its command."""
        scope = self._scope()
        if scope is not None:
            self._given.setdefault(*scope)

    @staticmethod
    def _scope() -> tuple[str, str] | None:
        update = workflow.current_update_info()
        return idempotency_of(update.id) if update else None


class BoundaryInterceptor(Interceptor):
    """Refuses a start or an update whose number of arguments the workflow does not take.

    The SDK hands a workflow its raw payloads only when their number matches its signature; a start with
    none, or an update with two, would otherwise fail in the workflow's code, as a task failure for ever
    (a start) or an untyped refusal (an update). Here both are refused with a typed ``InvalidCommand``.
    """

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        """The inbound interceptor counting arguments."""
        return _CountedArguments


def _one_argument(args: Sequence[Any], what: str) -> None:
    if len(args) != 1:
        raise refusal(InvalidCommand(f"the {what} takes exactly one argument, not {len(args)}"))


class _CountedArguments(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> object:
        _one_argument(input.args, "workflow input")
        return await super().execute_workflow(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        _one_argument(input.args, f"update {short(input.update)}")
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> object:
        _one_argument(input.args, f"update {short(input.update)}")
        return await super().handle_update_handler(input)
