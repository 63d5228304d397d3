"""onewindow's command line for intake staff and operators (installed as ``onewindow``).

``due``: the statutory calendar. ``python starter.py due 2026-09-30 5`` prints the last day of a 5
working-day period triggered on 2026-09-30, and ``provisional`` on a second line when the answer rests on
a year whose State Council notice is not yet loaded (R-CAL-4).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from workflows.domain.calendar import RestDayReceipt
from workflows.domain.errors import OneWindowError
from workflows.reference_data import load_calendar

EXIT_REFUSED = 2


def _due(args: argparse.Namespace) -> int:
    calendar = load_calendar(args.calendar_dir)
    trigger = calendar.trigger_day(args.trigger, RestDayReceipt(args.rest_day_receipt))
    deadline = calendar.deadline(trigger, args.working_days)
    print(deadline.last_day.isoformat())
    if deadline.provisional:
        print("provisional")
    if args.verbose:
        print(f"due at {deadline.due_at.isoformat()} (24:00 Asia/Shanghai of the last day)")
        print(f"calendar {deadline.calendar_version}")
    return 0


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``onewindow`` command and its subcommands."""
    parser = argparse.ArgumentParser(prog="onewindow", description="onewindow intake and operator CLI")
    commands = parser.add_subparsers(dest="command", required=True)
    due = commands.add_parser("due", help="last working day of a statutory period (R-CAL-1)")
    due.add_argument("trigger", type=date.fromisoformat, help="trigger date, ISO (the day is not counted)")
    due.add_argument("working_days", type=_non_negative, help="length of the period in working days")
    due.add_argument(
        "--rest-day-receipt",
        choices=[policy.value for policy in RestDayReceipt],
        default=RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE.value,
        help="R-CAL-3, when the trigger is not a working day (default: %(default)s)",
    )
    due.add_argument(
        "--calendar-dir",
        type=Path,
        action="append",
        default=[],
        help="extra directory of calendar notices (*.toml); may repeat",
    )
    due.add_argument("--verbose", "-v", action="store_true", help="also print the due instant and calendar")
    due.set_defaults(handler=_due)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a refused request prints one line to stderr and exits 2."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except OneWindowError as error:
        print(f"error: {error.type}: {error}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
