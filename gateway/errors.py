"""The gateway's refusals: its own error types, the HTTP status of every type, and the handlers.

Every refusal is ``{"type": <error type>, "detail": <message>}``, the type being the engine's (or the
gateway's) class name that callers branch on. A 5xx answer never carries internal text (an RPC error, an
untyped update failure, a traceback): its detail is the type's own generic sentence, and the internal text
goes to the log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Literal

import structlog
from fastapi import FastAPI, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.exceptions import TemporalError

from workflows.client import NotYetRegistered, UnknownApplication
from workflows.domain.errors import IdempotencyKeyReused, OneWindowError
from workflows.domain.figures import RangeInvalid

log = structlog.get_logger()


class Unauthenticated(OneWindowError):
    """No bearer token, or one the token file does not know."""


class RateLimited(OneWindowError):
    """The token sent more requests than its rate allows; ``retry_after`` whole seconds bring one back."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests with this token; retry in {retry_after} s")
        self.retry_after = retry_after


class BodyTooLarge(OneWindowError):
    """The request body is larger than the gateway reads (``limits.MAX_BODY_BYTES``)."""


class EngineTimeout(OneWindowError):
    """The engine did not answer in time; an action retried with its Idempotency-Key takes effect once."""


class EngineUnavailable(OneWindowError):
    """Temporal could not be reached or answered with an error."""


class InternalError(OneWindowError):
    """The gateway failed unexpectedly (a defect): the request may be retried, the failure is logged."""


class TokenFileInvalid(OneWindowError):
    """The token file is malformed; the message names the entry and the field."""


UNTYPED_FAILURE = "Refused"  # the client's type for an update that failed without a domain error type

STATUS_OF_TYPE: Mapping[str, int] = {
    Unauthenticated.__name__: status.HTTP_401_UNAUTHORIZED,
    "NotAuthorised": status.HTTP_403_FORBIDDEN,
    "SeparationOfDuties": status.HTTP_403_FORBIDDEN,
    "FormForged": status.HTTP_403_FORBIDDEN,  # the console's form without its session's token
    "SignInNeeded": status.HTTP_401_UNAUTHORIZED,  # the console without a session
    "FormMalformed": status.HTTP_422_UNPROCESSABLE_CONTENT,  # a form no browser writes
    "SessionsFull": status.HTTP_503_SERVICE_UNAVAILABLE,  # every console or codec session is in use
    UnknownApplication.__name__: status.HTTP_404_NOT_FOUND,
    BodyTooLarge.__name__: status.HTTP_413_CONTENT_TOO_LARGE,
    IdempotencyKeyReused.__name__: status.HTTP_422_UNPROCESSABLE_CONTENT,
    RangeInvalid.__name__: status.HTTP_422_UNPROCESSABLE_CONTENT,
    "RangeTooLarge": status.HTTP_422_UNPROCESSABLE_CONTENT,
    RateLimited.__name__: status.HTTP_429_TOO_MANY_REQUESTS,
    InternalError.__name__: status.HTTP_500_INTERNAL_SERVER_ERROR,
    UNTYPED_FAILURE: status.HTTP_502_BAD_GATEWAY,
    NotYetRegistered.__name__: status.HTTP_503_SERVICE_UNAVAILABLE,
    EngineUnavailable.__name__: status.HTTP_503_SERVICE_UNAVAILABLE,
    EngineTimeout.__name__: status.HTTP_504_GATEWAY_TIMEOUT,
}
"""Every other type (NotAllowed, InvalidCommand, AlreadySubmitted, UnknownMatter, ...) is a refusal in the
case's current state: 409."""

PUBLIC_DETAIL: Mapping[str, str] = {
    InternalError.__name__: "the gateway failed unexpectedly; the failure is logged",
    UNTYPED_FAILURE: "the engine failed the request without a refusal type; the failure is logged",
    NotYetRegistered.__name__: "the case is still being registered; retry shortly",
    EngineUnavailable.__name__: "the engine is unreachable or failed; retry shortly",
    EngineTimeout.__name__: "the engine did not answer in time; retry, with the same Idempotency-Key",
    "SessionsFull": "every session is in use; sign in again in a while",
}
"""What a 5xx answer says, by type: never the error's own text."""

RETRY_AFTER_UNAVAILABLE = 1  # seconds: registration takes milliseconds, a restarting frontend a moment


class Problem(BaseModel):
    """A refusal: the error type callers branch on, and a message for people."""

    type: str = Field(examples=["SeparationOfDuties"])
    detail: str = Field(examples=["not authorised: 受审分离: ..."])


class ValidationProblem(BaseModel):
    """A request that does not validate: each problem names its field in ``loc`` (as FastAPI does)."""

    type: Literal["InvalidCommand", "InvalidRequest"] = Field(
        description="InvalidCommand when the body is at fault (as the engine names it), else InvalidRequest."
    )
    detail: list[dict[str, Any]] = Field(
        examples=[[{"type": "missing", "loc": ["body", "approved"], "msg": "Field required"}]]
    )


_DESCRIBED = {
    401: "No bearer token, or an unknown one (`Unauthenticated`).",
    403: "The token's actor may not do this (`NotAuthorised`, `SeparationOfDuties`).",
    404: "No application with this number that the token's actor may read (`UnknownApplication`).",
    409: "Refused in the case's current state (`NotAllowed`, `AlreadySubmitted`, `InvalidCommand`, ...).",
    413: "The body is larger than 64 KiB (`BodyTooLarge`).",
    422: "The body or a parameter does not validate (`loc` names the field), or an `Idempotency-Key` is "
    "reused for another request (`IdempotencyKeyReused`).",
    429: "Too many requests with this token (`RateLimited`): retry after `Retry-After` seconds.",
    503: "The engine is unreachable, or the case is still being registered: retry shortly.",
    504: "The engine did not answer in time: retry (with the same `Idempotency-Key`).",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of an endpoint that may answer ``codes`` (401 and 429 come with a token)."""
    return {
        code: {
            "model": ValidationProblem | Problem if code == 422 else Problem,
            "description": _DESCRIBED[code],
        }
        for code in sorted({401, 429, *codes})
    }


def refusal_response(request: Request, error: Exception) -> Response:
    """A ``OneWindowError`` as its status and ``{type, detail}``."""
    assert isinstance(error, OneWindowError)  # noqa: S101 - registered for OneWindowError only
    return _problem(request, error)


def engine_failure_response(request: Request, error: Exception) -> Response:
    """A Temporal error that the client did not translate: the engine timed out or is unavailable."""
    failure = EngineTimeout if isinstance(error, RPCTimeoutOrCancelledError) else EngineUnavailable
    return _problem(request, failure(str(error)), cause=error)


def validation_response(request: Request, error: Exception) -> Response:
    """422 with each problem located, never repeating the value given: InvalidCommand when the body is at
    fault (as the engine names it), else InvalidRequest."""
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    in_body = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    error_type = "InvalidCommand" if in_body else "InvalidRequest"
    detail = [{key: value for key, value in e.items() if key != "input"} for e in errors]
    log.info("request_refused", path=request.url.path, type=error_type, status=422)
    shown = _as_page(request, error_type, "; ".join(_field_problems(detail)), 422)
    if shown is not None:
        return shown
    return JSONResponse(
        {"type": error_type, "detail": jsonable_encoder(detail)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _field_problems(problems: list[dict[str, Any]]) -> list[str]:
    """Each problem as ``field: message``, for a page."""
    return [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in problems]


def http_error_response(request: Request, error: Exception) -> Response:
    """Routing's own refusals (no such path, a method the path does not take) as problems too."""
    assert isinstance(error, StarletteHTTPException)  # noqa: S101 - registered for it only
    error_type = HTTPStatus(error.status_code).phrase.title().replace(" ", "")  # MethodNotAllowed
    log.info("request_refused", path=request.url.path, type=error_type, status=error.status_code)
    shown = _as_page(request, error_type, str(error.detail), error.status_code)
    if shown is not None:
        shown.headers.update(error.headers or {})
        return shown
    return JSONResponse(
        Problem(type=error_type, detail=str(error.detail)).model_dump(),
        status_code=error.status_code,
        headers=error.headers,
    )


def unexpected_response(request: Request, error: Exception) -> Response:
    """Anything else is a defect: 500 with a generic detail, the traceback logged."""
    return _problem(request, InternalError(str(error)), cause=error)


def _problem(request: Request, error: OneWindowError, cause: Exception | None = None) -> Response:
    """The answer to ``error``: a 5xx says only its type's generic sentence and logs the rest."""
    error_type = error.type
    code = STATUS_OF_TYPE.get(error_type, status.HTTP_409_CONFLICT)
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="onewindow"'
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if code == status.HTTP_503_SERVICE_UNAVAILABLE:
        headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    if code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        detail = PUBLIC_DETAIL.get(error_type, PUBLIC_DETAIL[InternalError.__name__])
        log.warning(
            "request_failed",
            path=request.url.path,
            type=error_type,
            status=code,
            error=str(error),
            error_type=type(cause or error).__name__,
            exc_info=cause,
        )
    else:
        detail = str(error)
        log.info("request_refused", path=request.url.path, type=error_type, status=code)
    shown = _as_page(request, error_type, detail, code)
    if shown is not None:
        shown.headers.update(headers)
        return shown
    return JSONResponse(
        Problem(type=error_type, detail=detail).model_dump(), status_code=code, headers=headers
    )


ProblemPage = Callable[[Request, str, str, int], Response | None]
"""The console's refusals as pages: ``app.state.problem_page`` answers its own requests, else None."""


def _as_page(request: Request, error_type: str, detail: str, code: int) -> Response | None:
    render: ProblemPage | None = getattr(request.app.state, "problem_page", None)
    return render(request, error_type, detail, code) if render else None


def add_handlers(app: FastAPI) -> None:
    """Answer every error the gateway or the engine raises as a problem."""
    app.add_exception_handler(OneWindowError, refusal_response)
    app.add_exception_handler(TemporalError, engine_failure_response)
    app.add_exception_handler(RequestValidationError, validation_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    # Starlette calls this one last, for whatever no other handler took, and re-raises for the server's log.
    app.add_exception_handler(Exception, unexpected_response)
