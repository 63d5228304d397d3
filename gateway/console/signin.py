"""Signing in to the console with a token, out again, and each role's start page."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from gateway.console.pages import COOKIE, PREFIX, START_PAGES, FormForged, SignedIn, form_of, page
from gateway.limits import RateLimiter
from gateway.sessions import SESSION_LIFETIME, Sessions, same_token
from gateway.tokens import TokenBook, token_digest

router = APIRouter(prefix=PREFIX, include_in_schema=False)
log = structlog.get_logger()


@router.get("")
async def start(reader: SignedIn) -> Response:
    """The signed-in person's start page."""
    return RedirectResponse(START_PAGES[reader.actor.role], status_code=status.HTTP_303_SEE_OTHER)


@router.get("/signin")
async def sign_in_form(request: Request, next_page: Annotated[str, Query(alias="next")] = "") -> Response:
    """The sign-in form: the token the centre issued to this person for this role."""
    return page(request, "signin.html", None, title="登录工作台", next_page=_local(next_page), refused=False)


@router.post("/signin")
async def sign_in(request: Request) -> Response:
    """Open a session for the token's actor; the engine's own system tokens have no console.

    Each address may try ``RateLimits`` times a second (a guess at a token of 16 characters or more is
    hopeless, but it costs a lookup); a session the browser held before is ended.
    """
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(f"console-sign-in:{request.client.host if request.client else '-'}")
    fields = await form_of(request)
    tokens: TokenBook = request.app.state.tokens
    token = fields.get("token", [""])[0]
    actor = tokens.actor(token) if token else None
    next_page = _local(fields.get("next", [""])[0])
    if actor is None or actor.role not in START_PAGES:
        log.info("console_sign_in_refused", known=actor is not None)
        return page(
            request,
            "signin.html",
            None,
            status_code=status.HTTP_403_FORBIDDEN,
            title="登录工作台",
            next_page=next_page,
            refused=True,
        )
    sessions: Sessions = request.app.state.console_sessions
    sessions.close(request.cookies.get(COOKIE, ""))
    response = RedirectResponse(next_page or START_PAGES[actor.role], status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        sessions.open(actor, token_digest(token)),
        max_age=SESSION_LIFETIME,
        secure=request.url.scheme == "https",  # behind TLS, never sent in the clear
        **_COOKIE_FLAGS,
    )
    log.info("console_signed_in", actor=actor.id, role=actor.role.value)
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """End the session: a form of the console's own, with the session's anti-forgery token."""
    sessions: Sessions = request.app.state.console_sessions
    session_id = request.cookies.get(COOKIE, "")
    session = sessions.session(session_id)
    fields = await form_of(request)
    if session is not None and not same_token(fields.get("csrf", [""])[0], session.csrf):
        raise FormForged(session.actor.id, "the sign-out form is not one this session was given")
    sessions.close(session_id)
    response = RedirectResponse(f"{PREFIX}/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, **_COOKIE_FLAGS)
    return response


_COOKIE_FLAGS: dict[str, Any] = {
    "path": PREFIX,
    "httponly": True,
    "samesite": "strict",  # no other site's page sends it
}


def _local(target: str) -> str:
    """A page to go on to after signing in: one of the console's own, never another site or path."""
    path = target.split("?", 1)[0]
    segments = path.split("/")
    if path.startswith(f"{PREFIX}/") and "//" not in path and "\\" not in target and ".." not in segments:
        return target
    return ""
