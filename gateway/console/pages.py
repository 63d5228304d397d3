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
from gateway.sessions import Session, Sessions, same_token
from workflows.domain.calendar import SHANGHAI, deadline_text
from workflows.domain.errors import InvalidCommand, NotAuthorised, OneWindowError
from workflows.domain.events import Actor, Role
from workflows.reports import REPORT_READERS

PREFIX = "/console"
COOKIE = "onewindow_console"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
MAX_FORM_FIELDS = 200
PAGE_HEADERS = {
    "Cache-Control": "no-store",  # a case's page is personal data: no shared cache keeps it
    # Only the console's own script, styles and forms; never inside another page's frame.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

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
    """A form posted without its session's anti-forgery token, or from another site's page."""


class FormMalformed(InvalidCommand):
    """A form no browser writes: not UTF-8, or more fields than any of the console's forms has."""


@dataclass(frozen=True)
class Reader:
    """The signed-in person: their actor, and the anti-forgery token their forms carry."""

    actor: Actor
    csrf: str


def _session_of(request: Request) -> Session | None:
    sessions: Sessions = request.app.state.console_sessions
    session_id = request.cookies.get(COOKIE, "")
    return sessions.session(session_id) if session_id else None


def _reader(request: Request) -> Reader:
    """The session's reader, or ``SignInNeeded``; ``RateLimited`` once the session's token has spent its
    rate (a token's sessions share the token's rate, as its bearer requests do)."""
    session = _session_of(request)
    if session is None:
        raise SignInNeeded("sign in with your token")
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(session.rate_key)
    return Reader(session.actor, session.csrf)


SignedIn = Annotated[Reader, Depends(_reader)]


def require_same_site(request: Request) -> None:
    """Refuse a post that another site's page made (the browser says so in ``Sec-Fetch-Site`` and
    ``Origin``): signing someone in as another person, or out, takes a page of the console's own."""
    fetched_from = request.headers.get("sec-fetch-site", "same-origin")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if fetched_from not in ("same-origin", "none") or (origin is not None and origin != own):
        raise FormForged("-", "the form was posted from another site")


async def form_of(request: Request) -> dict[str, list[str]]:
    """The posted form's fields, read within ``MAX_FORM_BYTES`` and ``MAX_FORM_FIELDS``, strictly UTF-8."""
    require_same_site(request)
    raw = await read_body(request, MAX_FORM_BYTES)
    try:
        return parse_qs(
            raw.decode("ascii"),  # a browser percent-encodes every other byte
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise FormMalformed("the form is not UTF-8 text") from None
    except ValueError:  # parse_qs: beyond max_num_fields
        raise FormMalformed(f"a form has at most {MAX_FORM_FIELDS} fields") from None


async def posted(request: Request, reader: Reader) -> dict[str, list[str]]:
    """The posted form's fields, refused without the session's anti-forgery token."""
    fields = await form_of(request)
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
        headers=PAGE_HEADERS,
    )


def _menu_of(actor: Actor) -> dict[str, str]:
    start = START_PAGES.get(actor.role)
    shown = {start} if start else set()
    if actor.role in (Role.WINDOW_OFFICER, Role.APPROVER, Role.DEPARTMENT_HEAD):
        shown.add(f"{PREFIX}/cases")
    if actor.role in REPORT_READERS:  # a department's own figures, for its approvers and head
        shown.add(f"{PREFIX}/dashboard")
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
        return RedirectResponse(
            f"{PREFIX}/signin?next={quote(_after_sign_in(request), safe='/')}",
            status_code=status.HTTP_303_SEE_OTHER,
        )
    session = _session_of(request)
    return page(
        request,
        "problem.html",
        Reader(session.actor, session.csrf) if session else None,
        status_code=code,
        title=labels.refusal(error_type),
        error_type=error_type,
        detail=detail,
    )


def _after_sign_in(request: Request) -> str:
    """Where to go once signed in: the page asked for, or the case whose form was posted (a post itself
    cannot be repeated by a redirect, and its session's token is gone)."""
    path = request.url.path
    if request.method != "GET":
        return path.removesuffix("/actions")
    return f"{path}?{request.url.query}" if request.url.query else path


def covers(request: Request) -> bool:
    """Whether the request is the console's, answered with pages rather than JSON problems."""
    path = request.url.path
    return path == PREFIX or path.startswith(f"{PREFIX}/")
