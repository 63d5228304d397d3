"""What every console page shares: the signed-in reader, their forms' anti-forgery token, the templates,
and refusals shown as pages.

A person signs in once with their token (``gateway.console.signin``) and gets a session cookie: HttpOnly,
SameSite=Strict, scoped to ``/console``. Each request is then the session's actor, within the same rate
as a bearer token; each form carries the session's anti-forgery token and is refused without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gateway.console import labels
from gateway.console.forms import MAX_FORM_BYTES
from gateway.limits import RateLimiter, read_body
from gateway.service import Gateway
from gateway.sessions import Sessions, same_token
from gateway.tokens import token_digest
from workflows.domain.calendar import SHANGHAI, deadline_text
from workflows.domain.errors import NotAuthorised, OneWindowError
from workflows.domain.events import Actor, Role

PREFIX = "/console"
COOKIE = "onewindow_console"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
MAX_FORM_FIELDS = 200

# Each role's start page, and the pages its menu lists (path, name).
START_PAGES: Mapping[Role, str] = {
    Role.WINDOW_OFFICER: f"{PREFIX}/acceptance",
    Role.APPROVER: f"{PREFIX}/review",
    Role.DEPARTMENT_HEAD: f"{PREFIX}/review",
    Role.SUPERVISOR: f"{PREFIX}/dashboard",
    Role.GOVERNMENT_LEADER: f"{PREFIX}/dashboard",
    Role.HOTLINE_OPERATOR: f"{PREFIX}/dashboard",
    Role.APPLICANT: f"{PREFIX}/cases",
    Role.STEWARD: f"{PREFIX}/cases",
}
_MENU = {
    f"{PREFIX}/acceptance": "待受理",
    f"{PREFIX}/review": "待审批",
    f"{PREFIX}/dashboard": "监督看板",
    f"{PREFIX}/cases": "我的案件",
}


class SignInNeeded(OneWindowError):
    """No session, or an expired one: the page sends the browser to the sign-in form."""


class FormForged(NotAuthorised):
    """A form posted without its session's anti-forgery token (another site's, or an old page's)."""


@dataclass(frozen=True)
class Reader:
    """The signed-in person: their actor, and the anti-forgery token their forms carry."""

    actor: Actor
    csrf: str


def _session_of(request: Request) -> tuple[str, Reader] | None:
    sessions: Sessions = request.app.state.console_sessions
    session_id = request.cookies.get(COOKIE, "")
    session = sessions.session(session_id) if session_id else None
    return (session_id, Reader(session.actor, session.csrf)) if session else None


def _reader(request: Request) -> Reader:
    """The session's reader, or ``SignInNeeded``; ``RateLimited`` once the session has spent its rate."""
    found = _session_of(request)
    if found is None:
        raise SignInNeeded("sign in with your token")
    session_id, reader = found
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(token_digest(session_id))
    return reader


SignedIn = Annotated[Reader, Depends(_reader)]


async def posted(request: Request, reader: Reader) -> dict[str, list[str]]:
    """The posted form's fields, within ``MAX_FORM_BYTES``, refused without the session's token."""
    raw = await read_body(request, MAX_FORM_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FormForged(reader.actor.id, "the form is not UTF-8") from None
    fields = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    if not same_token(fields.pop("csrf", [""])[0], reader.csrf):
        raise FormForged(reader.actor.id, "the form is not one this session was given; reload the page")
    return fields


def page(
    request: Request,
    template: str,
    reader: Reader | None,
    *,
    status_code: int = status.HTTP_200_OK,
    **context: Any,  # noqa: ANN401 - what the template reads
) -> Response:
    """A template rendered for ``reader``, with the menu of their role and the console's labels."""
    gateway: Gateway = request.app.state.gateway
    menu = _menu_of(reader.actor) if reader else {}
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "reader": reader,
            "menu": menu,
            "labels": labels,
            "department": gateway.catalogue.department_name,
            "moment": _moment,
            "deadline": _deadline,
            "day": _day,
            **context,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},  # a case's page is personal data: no shared cache keeps it
    )


def _menu_of(actor: Actor) -> dict[str, str]:
    start = START_PAGES.get(actor.role)
    shown = {start} if start else set()
    if actor.role in (Role.WINDOW_OFFICER, Role.APPROVER, Role.DEPARTMENT_HEAD):
        shown.add(f"{PREFIX}/cases")
    return {path: name for path, name in _MENU.items() if path in shown}


def _moment(instant: datetime | None) -> str:
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if instant else "—"


def _day(instant: datetime) -> str:
    local = instant.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def _deadline(instant: datetime | None) -> str:
    return deadline_text(instant) if instant else "—"


def problem_page(request: Request, error_type: str, detail: str, code: int) -> Response | None:
    """A refusal or failure of a console request as a page in Chinese (a missing session: the sign-in
    form instead); None for the API's requests, answered with JSON problems."""
    if not covers(request):
        return None
    if error_type in (SignInNeeded.__name__, "Unauthenticated"):
        target = f"{PREFIX}/signin?next={quote(request.url.path, safe='/')}"
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    found = _session_of(request)
    return page(
        request,
        "problem.html",
        found[1] if found else None,
        status_code=code,
        title=labels.refusal(error_type),
        error_type=error_type,
        detail=detail,
    )


def covers(request: Request) -> bool:
    """Whether the request is the console's, answered with pages rather than JSON problems."""
    path = request.url.path
    return path == PREFIX or path.startswith(f"{PREFIX}/")
