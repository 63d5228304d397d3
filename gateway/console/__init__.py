"""The console: the gateway's pages for the people who work the cases, in Chinese.

Server-rendered (Jinja2 templates, one stylesheet and one small script, all shipped in the package: no
CDN), over the same ``Gateway`` as the HTTP API, so a page shows what the API answers the same reader and
a form gives the same command. Pages by resource: ``signin`` (sessions), ``work`` (the queues), ``cases``
(a case, its commands and notices), ``supervision`` (the dashboard).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gateway.console import cases, signin, supervision, work
from gateway.console.pages import PREFIX, problem_page
from gateway.sessions import Sessions

STATIC = Path(__file__).parent / "static"


def add_console(app: FastAPI) -> None:
    """Serve the console under ``/console`` on ``app``, its refusals as pages."""
    app.state.console_sessions = Sessions()
    app.state.problem_page = problem_page
    for router in (signin.router, work.router, cases.router, supervision.router):
        app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
