"""The gateway's FastAPI application: its routers, its error handlers, its OpenAPI document and /docs."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from gateway.bodies import BODY_COMPONENTS
from gateway.console import add_console
from gateway.errors import add_handlers
from gateway.limits import IdempotencyLedger, RateLimiter, RateLimits
from gateway.routers import applications, calendar, composites, lists, report
from gateway.routers import codec as codec_routes
from gateway.service import ACTION_TIMEOUT, QUERY_TIMEOUT, Gateway, utc_now
from gateway.sessions import Sessions
from gateway.tokens import TokenBook
from workflows.client import Cases
from workflows.codec import EncryptionCodec

_DESCRIPTION = """
The one-window engine's contract over HTTP, for intake systems and departments not written in Python.

**Authentication.** Every request carries `Authorization: Bearer <token>`. The gateway's token file maps
each token to an actor (id, role, department); that actor gives every submission and command, so a body
never names one, and reads only the cases their role covers (another person's case is 404).

**Bodies** are the engine's messages without `actor`: an intake plus its `application_id`, or one command
chosen by `kind`, at most 64 KiB (413 beyond), in strict JSON (`true` is a boolean, `"yes"` is not; instants
are ISO 8601 strings with an offset). All periods are working days.

**Refusals** are `{"type": ..., "detail": ...}` with the engine's error type: 403 `NotAuthorised` /
`SeparationOfDuties`, 404 `UnknownApplication`, 409 `NotAllowed`, `AlreadySubmitted` and the matter's rules;
422 lists the fields that do not validate. A 5xx says only what kind of failure it was.

**Rates.** Each token may send a burst of requests, then a steady rate a second; beyond it the answer is
429 `RateLimited` with `Retry-After` in seconds.

**Retries.** Send an `Idempotency-Key` (a UUID per logical request): a retried action takes effect once, and
a retried submission of the same intake is answered 201 again instead of 409; the same key with another
body is 422 `IdempotencyKeyReused`.
"""


def create_app(
    cases: Cases,
    tokens: TokenBook,
    *,
    limiter: RateLimiter | None = None,
    clock: Callable[[], datetime] = utc_now,
    query_timeout: float = QUERY_TIMEOUT,
    action_timeout: float = ACTION_TIMEOUT,
    codec: EncryptionCodec | None = None,
    ui_origins: Sequence[str] = (),
) -> FastAPI:
    """The gateway over ``cases``, authenticating with ``tokens``, each token within ``limiter``'s rate
    (``RateLimits()`` by default); with ``codec``, Temporal's codec endpoint for supervisors, callable
    from the web UI at ``ui_origins``."""
    app = _GatewayApp(
        title="onewindow gateway",
        summary="一窗综合受理: submit applications, act on cases, read them and list them.",
        description=_DESCRIPTION,
        version=_version(),
        openapi_tags=[
            {"name": "applications", "description": "One case: submit, act, read, history."},
            {
                "name": "projects",
                "description": "A construction project: stages in order over its matters' applications.",
            },
            {
                "name": "establishments",
                "description": "An enterprise establishment: one form, one window, one working day.",
            },
            {
                "name": "consultations",
                "description": "提前介入: a green-channel case's early guidance before its submission.",
            },
            {"name": "lists", "description": "Open cases found by their search attributes."},
            {"name": "calendar", "description": "The working-day calendar (R-CAL-4)."},
            {"name": "codec", "description": "Temporal's remote codec, for supervisors."},
        ],
        docs_url=None,  # served below from the pip-installed Swagger UI: government networks are offline
        redoc_url=None,
    )
    app.state.gateway = Gateway(
        cases, clock=clock, query_timeout=query_timeout, action_timeout=action_timeout
    )
    app.state.tokens = tokens
    app.state.limiter = limiter or RateLimiter(RateLimits())
    app.state.idempotency = IdempotencyLedger()
    app.state.codec = codec
    app.state.codec_sessions = Sessions()
    routers = (
        applications.router,
        composites.projects,
        composites.establishments,
        composites.consultations,
        composites.complaints,
        lists.router,
        report.router,
    )
    for router in (*routers, calendar.router, codec_routes.router):
        app.include_router(router)
    codec_routes.allow_ui_origins(app, ui_origins)
    add_console(app)
    add_handlers(app)
    _serve_docs_offline(app)
    return app


class _GatewayApp(FastAPI):
    """FastAPI, with the schemas of the hand-validated bodies added to the OpenAPI components."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3 document, built once."""
        if self.openapi_schema is None:
            schema = super().openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in BODY_COMPONENTS.items():
                components.setdefault(name, definition)
        return super().openapi()


def _serve_docs_offline(app: FastAPI) -> None:
    """``/docs`` with Swagger UI's script and styles from the ``fastapi-offline`` package, not a CDN.

    That package ships Swagger UI 5, which renders the OpenAPI 3.1 that FastAPI writes (UI 4 cannot).
    """
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs/static", StaticFiles(directory=assets), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="",
        )


def _version() -> str:
    try:
        return importlib.metadata.version("onewindow")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"
