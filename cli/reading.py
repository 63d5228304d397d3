"""Reading cases on behalf of a person (``--as``): ``status``, ``events`` and ``list``.

Every read carries the reader, so a person sees only what their role covers: another person's case is
``UnknownApplication`` (exit 3) exactly as a missing one, and a list holds only the cases they may read.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime

from pydantic import TypeAdapter

from cli.actions import show
from cli.arguments import Commands, Parser, add_as, code, matter_code, positive, subcommand
from cli.connection import Connection
from cli.errors import EXIT_OK
from cli.render import cases_text, events_text
from workflows.client import Cases, CaseSummary, open_cases_query
from workflows.domain.calendar import SHANGHAI
from workflows.domain.events import Actor, ApplicationEvent
from workflows.messages import ApplicationView

_EVENTS: TypeAdapter[list[ApplicationEvent]] = TypeAdapter(list[ApplicationEvent])
_SUMMARIES: TypeAdapter[list[CaseSummary]] = TypeAdapter(list[CaseSummary])
_READER = "who reads (only the cases their role covers), e.g. window-7:window_officer"


async def view_now(cases: Cases, application_id: str, reader: Actor) -> ApplicationView:
    """The view now, as ``reader`` sees it; a case that never registered raises its refusal."""
    return await cases.state(application_id, datetime.now(SHANGHAI), reader=reader)


async def status(args: argparse.Namespace, connection: Connection) -> int:
    """The case now, with the verbs the reader may give."""
    cases = await connection.cases()
    await show(args, cases, await view_now(cases, args.application_id, args.actor), args.actor)
    return EXIT_OK


async def events(args: argparse.Namespace, connection: Connection) -> int:
    """The audit trail."""
    cases = await connection.cases()
    found = await cases.events(args.application_id, reader=args.actor)
    print(_EVENTS.dump_json(found, indent=2).decode() if args.json else events_text(found))
    return EXIT_OK


def list_query(args: argparse.Namespace, now: datetime) -> str:
    """The visibility query of ``list``: every filter given must hold (AND); none lists all open cases."""
    return open_cases_query(
        overdue_at=now if args.overdue else None,
        warned=args.warned,
        departments=args.department,
        matters=args.matter,
    )


async def listing(args: argparse.Namespace, connection: Connection) -> int:
    """The open cases the filters and the reader's role both admit."""
    cases = await connection.cases()
    found = await cases.find(list_query(args, datetime.now(SHANGHAI)), limit=args.limit, reader=args.actor)
    print(_SUMMARIES.dump_json(found, indent=2).decode() if args.json else cases_text(found))
    return EXIT_OK


def add_reading(commands: Commands, parents: Sequence[Parser]) -> None:
    """``status``, ``events`` and ``list``."""
    for name, handler, summary in (
        ("status", status, "the case as it stands now, and what you may do"),
        ("events", events, "the audit trail (Shanghai time)"),
    ):
        read = subcommand(commands, name, handler, summary, parents=list(parents))
        read.add_argument("application_id", metavar="ID", help="application number")
        add_as(read, _READER)
    found = subcommand(
        commands,
        "list",
        listing,
        "open cases you may read; filters combine (all must hold)",
        description="Open cases from Temporal visibility (eventually consistent: a second or so behind).",
        parents=parents,
    )
    add_as(found, _READER)
    found.add_argument("--overdue", action="store_true", help="decision deadline passed, or red warning")
    found.add_argument("--warned", action="store_true", help="any warning (notice, yellow, red)")
    found.add_argument(
        "--department", action="append", default=[], type=code, metavar="D", help="responsible; repeat"
    )
    found.add_argument(
        "--matter", action="append", default=[], type=matter_code, metavar="M", help="CODE or CODE.TYPE"
    )
    found.add_argument("--limit", type=positive, default=100, help="at most this many (default %(default)s)")
