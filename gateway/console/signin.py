"""Signing in to the console with a token, out again, and each role's start page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from gateway.console.forms import MAX_FORM_BYTES
from gateway.console.pages import COOKIE, PREFIX, START_PAGES, SignedIn, page
from gateway.limits import RateLimiter, read_body
from gateway.sessions import SESSION_LIFETIME, Sessions
from gateway.tokens import TokenBook

router = APIRouter(prefix=PREFIX, include_in_schema=False)
log = structlog.get_logger()
_SIGN_IN_RATE_KEY = "console-sign-in"  # every guess at a token spends from one shared budget


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
    """Open a session for the token's actor; the engine's own system tokens have no console."""
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(_SIGN_IN_RATE_KEY)
    fields = parse_qs((await read_body(request, MAX_FORM_BYTES)).decode("utf-8", "replace"))
    tokens: TokenBook = request.app.state.tokens
    token = fields.get("token", [""])[0].strip()
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
    response = RedirectResponse(next_page or START_PAGES[actor.role], status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        sessions.open(actor),
        max_age=SESSION_LIFETIME,
        path=PREFIX,
        httponly=True,
        samesite="strict",  # no other site's page can post a form with it
    )
    log.info("console_signed_in", actor=actor.id, role=actor.role.value)
    return response


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """End the session (a form post, so no link on another site can sign anyone out)."""
    sessions: Sessions = request.app.state.console_sessions
    sessions.close(request.cookies.get(COOKIE, ""))
    response = RedirectResponse(f"{PREFIX}/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _local(target: str) -> str:
    """A page to go on to after signing in: one of the console's own, never another site."""
    if target.startswith(f"{PREFIX}/") and "//" not in target and "\\" not in target:
        return target
    return ""
