"""The ``onewindow`` command line, one module per resource as the ``temporal`` CLI groups its commands.

``starter.py`` is the entry point and documents the commands and exit codes; this package assembles them.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import NoReturn

from cli import actions, calendar, catalogue, composites, reading, report, security, submit
from cli.arguments import Parser, output_options
from cli.connection import Connection, Handler, temporal_options
from cli.errors import EPILOG, answered
from workflows.client import Cases, exit_process


def build_parser() -> argparse.ArgumentParser:
    """The ``onewindow`` command and its subcommands."""
    parser = Parser(prog="onewindow", description="onewindow intake and operator CLI", epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    output = output_options()
    with_cases = [temporal_options(), output]
    calendar.add_due(commands)
    catalogue.add_matters(commands, [output])
    submit.add_submit(commands, with_cases)
    actions.add_actions(commands, with_cases)
    reading.add_reading(commands, with_cases)
    report.add_report(commands, with_cases)
    composites.add_composites(commands, with_cases)
    calendar.add_calendar(commands, with_cases)
    security.add_security(commands, with_cases)
    return parser


async def run(argv: Sequence[str] | None = None, cases: Cases | None = None) -> int:
    """Run one subcommand and return its exit code; ``cases`` replaces the connection (tests, embedding)."""

    async def subcommand() -> int:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        return await handler(args, Connection(args, cases))

    return await answered(subcommand)


def main(argv: list[str] | None = None) -> int:
    """One subcommand, its exit code (see ``starter.py``)."""
    return asyncio.run(run(argv))


def script() -> NoReturn:
    """The ``onewindow`` command: ``main``, then an exit that cannot abort after the answer."""
    exit_process(main())
