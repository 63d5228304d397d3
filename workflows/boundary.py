"""The boundary every workflow shares: what reaches a case from outside is bounded, decoded and refused here.

A workflow takes its input and each update's argument as a raw payload (``RawValue``) and decodes it with
``decode``: the payload must be JSON (``json/plain``), at most ``MAX_MESSAGE_BYTES``, valid UTF-8 without
lone surrogates, and match its model strictly (``"yes"`` is not a boolean, a number is not an instant).
Anything else is refused with a typed ``InvalidCommand`` instead of a workflow task failing for ever.

A refusal says which fields are wrong and why, in at most ``MAX_REFUSAL_CHARS`` characters, and never
repeats the values it was given: Temporal sends a rejected update back with its failure, and a refusal
that echoed a large value could itself exceed the payload limit and freeze the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from workflows.domain.errors import InvalidCommand, OneWindowError

MAX_MESSAGE_BYTES = 64 * 1024  # one command or intake, as JSON
MAX_REFUSAL_CHARS = 500
# Temporal hands a worker any update a client sends, and a worker that refuses (or accepts) one sends it
# back with its answer: an update near the 2 MB payload limit makes that answer too large, and the case
# stops answering. The server refuses such an update before any worker sees it when this limit is set
# (dynamic config; ``make run`` and the tests' dev server set it, a production cluster must too).
SERVER_DYNAMIC_CONFIG = {"history.maxInFlightUpdatePayloads": 1024 * 1024}


def dev_server_arguments() -> list[str]:
    """The ``temporal server start-dev`` arguments that set ``SERVER_DYNAMIC_CONFIG``."""
    arguments = []
    for key, value in SERVER_DYNAMIC_CONFIG.items():
        arguments += ["--dynamic-config-value", f"{key}={value}"]
    return arguments


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


def decode(raw: RawValue, adapter: TypeAdapter[_T], what: str, kinds: Sequence[str] = ()) -> _T:
    """The message in ``raw``, or an ``InvalidCommand`` refusal naming what is wrong with it.

    ``kinds`` lists the ``kind`` values a caller may send, for a message of the wrong kind.
    """
    payload = raw.payload
    if payload.metadata.get("encoding", b"") != JSON_ENCODING:
        encoding = JSON_ENCODING.decode()
        raise refusal(InvalidCommand(f"the {what} must be a JSON payload (encoding {encoding})"))
    size = len(payload.data)
    if size > MAX_MESSAGE_BYTES:
        limit = MAX_MESSAGE_BYTES
        raise refusal(InvalidCommand(f"the {what} has {size} bytes; at most {limit} are accepted"))
    try:
        return adapter.validate_json(payload.data, strict=True)
    except ValidationError as error:
        raise refusal(InvalidCommand(f"not a valid {what}: {summary(error, kinds)}")) from None


def summary(error: ValidationError, kinds: Sequence[str] = ()) -> str:
    """Each invalid field and why, on one line, without the values given."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
            problems.append(f"kind: one of {', '.join(kinds)} is needed" if kinds else "kind: unknown")
            continue
        where = ".".join(_short(str(part)) for part in problem["loc"])
        problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    listed = problems[:_PROBLEMS_LISTED]
    if len(problems) > _PROBLEMS_LISTED:
        listed.append(f"and {len(problems) - _PROBLEMS_LISTED} more")
    return "; ".join(listed)


def _short(name: str) -> str:
    """A field name as given, cut short: an unknown key is the caller's text, and may be long."""
    return name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…"
