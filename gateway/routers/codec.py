"""Temporal's remote codec protocol: the payload encryption, for supervisors reading histories.

The Temporal web UI (``--ui-codec-endpoint``) and the ``temporal`` CLI (``--codec-endpoint``) post
``{"payloads": [...]}`` (protobuf's JSON form of ``Payloads``) to ``<endpoint>/decode`` or ``/encode`` and
show what comes back. Decoding opens every case's personal data, so only a supervisor's bearer token may
call them; each call is logged with its actor. The codec is ``app.state.codec`` (None: 404).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from gateway.dependencies import BEARER, caller
from gateway.errors import BodyTooLarge, Problem, Unauthenticated
from gateway.limits import RateLimiter, read_body
from gateway.sessions import SESSION_LIFETIME, Sessions
from gateway.tokens import TokenBook, token_digest
from workflows.codec import EncryptionCodec, PayloadUndecryptable
from workflows.domain.errors import NotAuthorised
from workflows.domain.events import Actor, Role

router = APIRouter(prefix="/codec", tags=["codec"])
log = structlog.get_logger()

MAX_CODEC_BODY_BYTES = 4 * 1024 * 1024
MAX_PAYLOADS = 1000
DEVELOPMENT_UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")  # the dev server's web UI
UI_HEADERS = ("Authorization", "Content-Type", "X-Namespace")
_CODEC_PATHS = ("/codec/encode", "/codec/decode")  # answered with CORS for the web UI
_NAMESPACE_CHARS = 100  # of the X-Namespace header, as logged

_PAYLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "metadata": {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "byte"},
            "description": "Each value in base64: `encoding` is `binary/encrypted` for an encrypted payload.",
        },
        "data": {"type": "string", "format": "byte", "description": "The payload's bytes, in base64."},
    },
}
_PAYLOADS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"payloads": {"type": "array", "maxItems": MAX_PAYLOADS, "items": _PAYLOAD_SCHEMA}},
    "example": {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJhIjogMX0="}]},
}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": _PAYLOADS_SCHEMA}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The payloads, encoded or decoded, in the order given.",
        "content": {"application/json": {"schema": _PAYLOADS_SCHEMA}},
    },
    400: {
        "model": Problem,
        "description": "The body is not `Payloads` in protobuf JSON (`InvalidPayloads`).",
    },
    401: {"model": Problem, "description": "No bearer token, or an unknown one (`Unauthenticated`)."},
    403: {"model": Problem, "description": "The token's actor is not a supervisor (`NotAuthorised`)."},
    404: {"model": Problem, "description": "This gateway has no payload codec (`CodecNotConfigured`)."},
    413: {
        "model": Problem,
        "description": f"More than {MAX_CODEC_BODY_BYTES // (1024 * 1024)} MiB or {MAX_PAYLOADS} payloads "
        "(`BodyTooLarge`).",
    },
    422: {
        "model": Problem,
        "description": "A payload's key is not in the ring, or it fails authentication "
        "(`PayloadUndecryptable`).",
    },
    429: {"model": Problem, "description": "Too many requests with this token (`RateLimited`)."},
}


def _codec_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Actor:
    """The bearer token's actor (the ``temporal`` CLI's ``--codec-auth``), else the session cookie's (the
    web UI's, ``gateway.sessions``); 401 without either, 429 beyond the rate."""
    if credentials is not None:
        return caller(request, credentials)
    sessions: Sessions = request.app.state.codec_sessions
    session_id = request.cookies.get(COOKIE, "")
    session = sessions.session(session_id) if session_id else None
    if session is None:
        raise Unauthenticated("send Authorization: Bearer <token>, or sign in at /codec/session")
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(session.rate_key)
    return session.actor


CodecCaller = Annotated[Actor, Depends(_codec_caller)]


@router.get("/session", include_in_schema=False)
async def session_form() -> HTMLResponse:
    """The sign-in page: a supervisor's token, once a working day, for the web UI's codec calls."""
    return HTMLResponse(_PAGE.format(body=_FORM))


@router.post("/session", include_in_schema=False)
async def open_session(request: Request) -> HTMLResponse:
    """Sign in with a supervisor's token (a form post); the cookie is HttpOnly, SameSite, for /codec."""
    fields = parse_qs((await read_body(request, MAX_FORM_BYTES)).decode("utf-8", "replace"))
    tokens: TokenBook = request.app.state.tokens
    token = fields.get("token", [""])[0]
    actor = tokens.actor(token)
    if actor is None or actor.role != Role.SUPERVISOR:
        log.info("codec_session_refused", known=actor is not None)
        page = _PAGE.format(
            body="<p>只有监督人员的令牌可以登录 (a supervisor's token is needed).</p>" + _FORM
        )
        return HTMLResponse(page, status_code=status.HTTP_403_FORBIDDEN)
    sessions: Sessions = request.app.state.codec_sessions
    response = HTMLResponse(_PAGE.format(body=_SIGNED_IN))
    response.set_cookie(
        COOKIE,
        sessions.open(actor, token_digest(token)),
        max_age=SESSION_LIFETIME,
        path="/codec",
        httponly=True,
        samesite="lax",  # the UI on another port of the same host is the same site: the cookie goes
    )
    log.info("codec_session_opened", actor=actor.id)
    return response


COOKIE = "onewindow_codec_session"
MAX_FORM_BYTES = 4096
_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>onewindow 解码登录</title></head><body><h1>onewindow: 解码登录 (codec sign-in)</h1>
{body}</body></html>"""
_REFUSED = "<p>只有监督人员的令牌可以登录 (a supervisor's token is needed).</p>"
_FORM = """<form method="post" action="/codec/session">
<label>监督令牌 (supervisor token) <input type="password" name="token" autocomplete="off"></label>
<button type="submit">登录</button></form>"""
_SIGNED_IN = """<p>已登录 (signed in for 8 hours).</p><p>In the Temporal web UI, open the codec server
settings, keep this gateway's <code>/codec</code> endpoint and turn on
<em>Include cross-origin credentials</em>: payloads then show decoded.</p>"""


class _Refused(Exception):
    """A codec request answered with a problem of the codec's own (the gateway has no type for it)."""

    def __init__(self, code: int, error_type: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.error_type = error_type
        self.detail = detail


@router.post(
    "/encode",
    summary="Encrypt payloads (remote codec)",
    response_class=JSONResponse,
    responses=_RESPONSES,
    openapi_extra=_BODY,
)
async def encode(request: Request, actor: CodecCaller) -> Response:
    """Temporal's remote codec `/encode`, supervisors only: each payload encrypted with the current key."""
    return await _transcode(request, actor, "encode")


@router.post(
    "/decode",
    summary="Decrypt payloads (remote codec)",
    response_class=JSONResponse,
    responses=_RESPONSES,
    openapi_extra=_BODY,
)
async def decode(request: Request, actor: CodecCaller) -> Response:
    """Temporal's remote codec `/decode`, supervisors only: each encrypted payload opened, the others as
    they are; 422 `PayloadUndecryptable` if one cannot be opened."""
    return await _transcode(request, actor, "decode")


async def _transcode(request: Request, actor: Actor, direction: Literal["encode", "decode"]) -> Response:
    """Check the caller, read the payloads, run the codec; a refusal as a problem."""
    if actor.role != Role.SUPERVISOR:
        raise NotAuthorised(actor.id, f"the payload codec is for supervisors, not {actor.role.value}")
    try:
        codec = _codec(request)
        payloads = _payloads(await _body(request))
        if direction == "encode":
            await codec.encode_wrapper(payloads)
        else:
            await codec.decode_wrapper(payloads)
    except PayloadUndecryptable as error:
        return _refusal(
            request, _Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, type(error).__name__, str(error))
        )
    except _Refused as refusal:
        return _refusal(request, refusal)
    log.info(
        f"payloads_{direction}d",
        actor=actor.id,
        payloads=len(payloads.payloads),
        namespace=request.headers.get("x-namespace", "")[:_NAMESPACE_CHARS],
    )
    return JSONResponse(_as_json(payloads))


def _codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec | None = getattr(request.app.state, "codec", None)
    if codec is None:
        raise _Refused(
            status.HTTP_404_NOT_FOUND,
            "CodecNotConfigured",
            "this gateway has no payload codec: start it with the payload keys to serve /codec",
        )
    return codec


async def _body(request: Request) -> bytes:
    """The body, refused 413 as soon as it is known to exceed ``MAX_CODEC_BODY_BYTES``."""
    return await read_body(request, MAX_CODEC_BODY_BYTES)


def _payloads(body: bytes) -> Payloads:
    """``Payloads`` from protobuf JSON; 400 with a short reason (never the body) if it is not."""
    if not body.lstrip().startswith(b"{"):  # protobuf's parser would take a JSON array for a message
        raise _Refused(status.HTTP_400_BAD_REQUEST, "InvalidPayloads", 'send {"payloads": [...]}')
    try:
        payloads = json_format.Parse(body.decode("utf-8"), Payloads())
    except UnicodeDecodeError:
        raise _Refused(status.HTTP_400_BAD_REQUEST, "InvalidPayloads", "the body is not UTF-8") from None
    except (json_format.ParseError, RecursionError, ValueError):
        raise _Refused(
            status.HTTP_400_BAD_REQUEST,
            "InvalidPayloads",
            'the body is not Payloads in protobuf JSON: {"payloads": [{"metadata": {"<key>": "<base64>"}, '
            '"data": "<base64>"}]}',
        ) from None
    if len(payloads.payloads) > MAX_PAYLOADS:
        raise BodyTooLarge(f"{len(payloads.payloads)} payloads; at most {MAX_PAYLOADS} a request")
    return payloads


def _as_json(payloads: Payloads) -> dict[str, Any]:
    """Protobuf JSON with every payload's ``metadata`` and ``data`` present (even empty)."""
    answer = json_format.MessageToDict(payloads)
    for payload in answer.setdefault("payloads", []):
        payload.setdefault("metadata", {})
        payload.setdefault("data", "")
    return answer


def _refusal(request: Request, refusal: _Refused) -> JSONResponse:
    """The refusal as the gateway answers every refusal: ``{type, detail}``, logged."""
    log.info("request_refused", path=request.url.path, type=refusal.error_type, status=refusal.code)
    problem = Problem(type=refusal.error_type, detail=refusal.detail)
    return JSONResponse(problem.model_dump(), status_code=refusal.code)


def allow_ui_origins(app: FastAPI, origins: Sequence[str]) -> None:
    """Let the Temporal web UI at ``origins`` call the codec from the browser (CORS, credentials allowed).

    Each origin is ``scheme://host[:port]`` as the browser sends it (``DEVELOPMENT_UI_ORIGINS`` under
    ``make run``); ``*`` is refused, credentials being allowed. Only the codec's paths answer CORS: the
    other endpoints stay closed to scripts of other origins.
    """
    allowed = [_origin(origin) for origin in origins]
    if allowed:
        app.add_middleware(_CodecCors, origins=allowed)


class _CodecCors:
    """``CORSMiddleware`` for the codec's paths only; every other request goes straight to the app."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self._app = app
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST", "OPTIONS"],
            allow_headers=list(UI_HEADERS),
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] == "http" and path.endswith(_CODEC_PATHS):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def _origin(origin: str) -> str:
    """``origin`` as browsers write it (lower case, no trailing slash); ValueError if it is not one."""
    parts = urlsplit(origin.strip())
    try:
        port_valid = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or beyond 65535
        port_valid = False
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "*" in parts.netloc
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or not port_valid
    ):
        raise ValueError(
            f"{origin!r} is not a web origin: give scheme://host[:port], such as http://localhost:8233"
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
