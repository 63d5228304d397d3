"""The working-day calendar: ``due`` answers offline; ``calendar load`` publishes a notice (R-CAL-4).

``due`` reads the same calendar data the worker does, so the answer here is the engine's answer.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from cli.arguments import Commands, Parser, non_negative, subcommand
from cli.connection import Connection
from cli.errors import EXIT_OK, InvalidInput
from workflows.boundary import summary
from workflows.domain.calendar import CalendarNotice, RestDayReceipt
from workflows.domain.errors import CalendarDataInvalid
from workflows.reference_data import CALENDAR_DIRS_VARIABLE, calendar_dirs_from_environment, load_calendar


async def due(args: argparse.Namespace, _connection: Connection) -> int:
    """The last day of the period, and ``provisional`` when it rests on a year without a notice."""
    calendar = load_calendar(args.calendar_dir)
    trigger = calendar.trigger_day(args.trigger, RestDayReceipt(args.rest_day_receipt))
    deadline = calendar.deadline(trigger, args.working_days)
    print(deadline.last_day.isoformat())
    if deadline.provisional:
        print("provisional")
    if args.verbose:
        print(f"due at {deadline.due_at.isoformat()} (24:00 Asia/Shanghai of the last day)")
        print(f"calendar {deadline.calendar_version}")
    return EXIT_OK


class CalendarLoaded(BaseModel):
    """What ``calendar load --json`` prints."""

    model_config = ConfigDict(frozen=True)

    year: int
    revision: str
    status: str
    path: Path
    calendar_version: str
    signalled: tuple[str, ...]
    unreached: dict[str, str]  # running cases the signal did not reach, and why


def _notice(path: Path) -> CalendarNotice:
    """The notice in ``path``, checked as the worker will read it."""
    try:
        notice = CalendarNotice.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise CalendarDataInvalid(f"calendar file {path}: {error}") from error
    except ValidationError as error:
        raise CalendarDataInvalid(f"calendar file {path}: {summary(error)}") from error
    notice.to_year()  # raises CalendarDataInvalid on a day that is not a date or interval
    return notice


def _calendar_directory(args: argparse.Namespace) -> Path:
    if args.calendar_dir:
        return Path(args.calendar_dir)
    configured = calendar_dirs_from_environment()
    if not configured:
        raise InvalidInput(
            f"no calendar directory: pass --calendar-dir or set {CALENDAR_DIRS_VARIABLE}, as for the worker"
        )
    return configured[0]


async def load(args: argparse.Namespace, connection: Connection) -> int:
    """Validate the notice, publish it where the worker reads, and tell every running case."""
    notice = _notice(args.file)
    directory = _calendar_directory(args)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{notice.year}.toml"
    # Written aside then renamed: the worker rereads notices when one changes and must never see half a file.
    staging = directory / f".{notice.year}.toml.partial"
    staging.write_bytes(args.file.read_bytes())
    staging.replace(target)
    extra = [] if directory in calendar_dirs_from_environment() else [directory]
    version = load_calendar(extra).version  # every notice there still loads, and this is the result
    cases = await connection.cases()
    announcement = await cases.announce_calendar_revision(version)
    if args.json:
        loaded = CalendarLoaded(
            year=notice.year,
            revision=notice.revision,
            status=notice.status,
            path=target,
            calendar_version=version,
            signalled=tuple(announcement.signalled),
            unreached=announcement.unreached,
        )
        print(loaded.model_dump_json(indent=2))
        return EXIT_OK
    print(f"loaded {notice.year} revision {notice.revision} ({notice.status}) into {target}")
    print(f"calendar {version}; told {len(announcement.signalled)} running case(s) on another version")
    for number, why in announcement.unreached.items():
        print(f"not told: {number}: {why}", file=sys.stderr)
    return EXIT_OK


def add_due(commands: Commands) -> None:
    """``due TRIGGER WORKING_DAYS``: needs no server."""
    command = subcommand(commands, "due", due, "last working day of a statutory period (R-CAL-1)")
    command.add_argument(
        "trigger", type=date.fromisoformat, help="trigger date, ISO (the day is not counted)"
    )
    command.add_argument("working_days", type=non_negative, help="length of the period in working days")
    command.add_argument(
        "--rest-day-receipt",
        choices=[policy.value for policy in RestDayReceipt],
        default=RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE.value,
        help="R-CAL-3, when the trigger is not a working day (default: %(default)s)",
    )
    command.add_argument(
        "--calendar-dir",
        type=Path,
        action="append",
        default=[],
        help="extra directory of calendar notices (*.toml); may repeat",
    )
    command.add_argument(
        "--verbose", "-v", action="store_true", help="also print the due instant and calendar"
    )


def add_calendar(commands: Commands, parents: Sequence[Parser]) -> None:
    """``calendar load FILE``, the one subcommand of the calendar's group."""
    calendar = commands.add_parser("calendar", help="the working-day calendar's notices (R-CAL-4)")
    notices: Commands = calendar.add_subparsers(dest="calendar_command", required=True, metavar="{load}")
    command = subcommand(
        notices,
        "load",
        load,
        "validate a notice, publish it where the worker reads, tell every running case",
        description=(
            "Validate a calendar notice (TOML, README 'Calendar data'), copy it as <year>.toml into "
            f"--calendar-dir or the first directory of ${CALENDAR_DIRS_VARIABLE} (which the worker must "
            "also read), then signal calendar_revised to every running case."
        ),
        parents=parents,
    )
    command.add_argument("file", type=Path, metavar="FILE")
    command.add_argument(
        "--calendar-dir", help=f"where the worker reads notices (default: ${CALENDAR_DIRS_VARIABLE})"
    )
