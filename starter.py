"""onewindow's command line for intake staff and operators (installed as ``onewindow``).

``due``: the statutory calendar. ``python starter.py due 2026-09-30 5`` prints the last day of a 5
working-day period triggered on 2026-09-30, and ``provisional`` on a second line when the answer rests on
a year whose State Council notice is not yet loaded (R-CAL-4).

Cases, through ``workflows.client.Cases`` on Temporal: ``--address``/``--namespace``/``--profile`` over
``TEMPORAL_ADDRESS``/``TEMPORAL_NAMESPACE`` and the rest of temporalio's configuration (``localhost:7233``,
the server of ``make run``, when nothing is set); ``--task-queue`` over ``ONEWINDOW_TASK_QUEUE``, as the
worker reads it.

- ``submit`` opens a case from an ``Intake`` JSON file, from flags, or both (flags win), and waits until
  the worker has registered it, so an unknown matter code is reported here rather than lost;
- one subcommand per action a person may take (``accept``, ``approve``, ``suspend``, ...), the actor
  given as ``--as ID:ROLE[:DEPARTMENT]``;
- ``status``, ``events`` and ``list`` read cases; ``calendar load`` publishes a calendar notice and tells
  every running case (R-CAL-4).

Output is an aligned table, or the pydantic models' JSON with ``--json``. Exit codes:

- 0: done;
- 1: anything else failed (``RPCError``: an unexpected server answer; ``QueryFailed``: e.g. a case
  still being registered), explained on the error line;
- 2: refused by the engine (its error type: ``NotAllowed``, ``SeparationOfDuties``, ``UnknownMatter``,
  ``AlreadySubmitted``, ...) or bad input (``Usage``, ``InvalidInput``, ``InvalidCommand``,
  ``CalendarDataInvalid``, ``CalendarNotPublished``, ``UnknownNamespace``);
- 3: no application with that number (``UnknownApplication``);
- 4: Temporal cannot be reached (``CannotConnect``).

Every error is one line on stderr: ``error: <Type>: <message>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tomllib
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from workflows.client import (
    DEFAULT_ADDRESS,
    Cases,
    CaseSummary,
    UnknownApplication,
    connect,
    department_query,
    exit_process,
    matter_query,
    overdue_query,
    warned_query,
)
from workflows.domain.application import PendingAction
from workflows.domain.calendar import SHANGHAI, CalendarNotice, RestDayReceipt, deadline_text
from workflows.domain.catalogue import Matter
from workflows.domain.clock import DeadlinePlan
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ApplicationCommand,
    ChangeGreenChannel,
    ExtendDeadline,
    RecordApproval,
    ReferElsewhere,
    RejectApplication,
    RequestCorrection,
    ResumeClock,
    SupplementMaterials,
    SuspendClock,
    WithdrawApplication,
)
from workflows.domain.errors import CalendarDataInvalid, OneWindowError
from workflows.domain.events import Actor, Applicant, ApplicationEvent, Channel, Role
from workflows.messages import TASK_QUEUE, ApplicationView, Intake
from workflows.reference_data import CALENDAR_DIRS_VARIABLE, calendar_dirs_from_environment, load_calendar

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_NOT_FOUND = 3
EXIT_UNREACHABLE = 4

EPILOG = """\
exit codes: 0 done; 1 anything else failed; 2 refused by the engine or bad input; 3 no application with
that number; 4 Temporal cannot be reached. Errors are one line on stderr: "error: <Type>: <message>".
"""

ADDRESS_VARIABLE = "TEMPORAL_ADDRESS"
TASK_QUEUE_VARIABLE = "ONEWINDOW_TASK_QUEUE"  # the worker's own default, so both meet on one queue
NAMESPACE_VARIABLE = "TEMPORAL_NAMESPACE"
REGISTRATION_WAIT = 10.0  # seconds; the worker registers a case within a workflow task or two
_POLL = 0.2
_NO_VALUE = "—"


class InvalidInput(OneWindowError):
    """A file or flag the CLI cannot use (unreadable, not JSON, a missing application number)."""


class CannotConnect(OneWindowError):
    """Temporal does not answer at the address given."""


class Usage(OneWindowError):
    """The command line itself is wrong (argparse's complaint, on one line)."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is raised (one line, exit 2) instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        raise Usage(f"{message} (see `{self.prog} --help`)")


# --- connection ---------------------------------------------------------------------------------------------


class Connection:
    """The cases the subcommand works on; connects on first use, so offline checks never need a server."""

    def __init__(self, args: argparse.Namespace, cases: Cases | None) -> None:
        self._args = args
        self._cases = cases

    async def cases(self) -> Cases:
        """The injected ``Cases``, or one connected as the flags and environment say."""
        if self._cases is None:
            client = await _connect(self._args)
            self._cases = Cases(client, self._args.task_queue)
        return self._cases


async def _connect(args: argparse.Namespace) -> Client:
    """``workflows.client.connect`` with ``--profile``/``--address``/``--namespace``."""
    try:
        return await connect(args.profile, address=args.address, namespace=args.namespace)
    except RuntimeError as error:  # the SDK's core raises RuntimeError("Failed client connect: ...")
        where = args.address or os.environ.get(ADDRESS_VARIABLE) or DEFAULT_ADDRESS
        raise CannotConnect(f"cannot reach Temporal at {where}: {error}") from error


def _now() -> datetime:
    return datetime.now(UTC)


# --- parsing flag values ------------------------------------------------------------------------------------


def _actor(spec: str) -> Actor:
    """``ID:ROLE[:DEPARTMENT]``, e.g. ``window-7:window_officer`` or ``zhang:approver:health``."""
    parts = spec.split(":")
    roles = ", ".join(role.value for role in Role)
    if len(parts) not in (2, 3) or not all(parts):
        raise argparse.ArgumentTypeError(f"{spec!r} is not ID:ROLE[:DEPARTMENT] (roles: {roles})")
    try:
        role = Role(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown role {parts[1]!r} (roles: {roles})") from None
    try:
        return Actor(id=parts[0], role=role, department=parts[2] if len(parts) == 3 else None)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(_validation_text(error)) from None


def _instant(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is Shanghai time, the one window's clock."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=SHANGHAI)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is less than {least}")
    return value


def _non_negative(text: str) -> int:
    return _whole(text, 0)


def _positive(text: str) -> int:
    return _whole(text, 1)


def _validation_text(error: ValidationError) -> str:
    """pydantic's complaints on one line: ``field.path: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in detail['loc']) or 'input'}: {detail['msg']}"
        for detail in error.errors()
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- rendering ----------------------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _table(headers: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned by display width, two spaces apart; no trailing blanks."""
    lines = [list(headers), *map(list, rows)] if headers else [list(row) for row in rows]
    widths = [max(_width(line[column]) for line in lines) for column in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(line)).rstrip()
        for line in lines
    )


def _moment(instant: datetime | None) -> str:
    """An instant in Shanghai time, to the second (the audit trail's precision)."""
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if instant else _NO_VALUE


def _deadline(instant: datetime | None) -> str:
    """A deadline in Shanghai time; one at midnight reads as 24:00 of its last day, as the law counts."""
    return _NO_VALUE if instant is None else deadline_text(instant)


def _actor_text(actor: Actor) -> str:
    role = f"{actor.role.value}/{actor.department}" if actor.department else actor.role.value
    return f"{actor.id} ({role})"


def _pending_text(action: PendingAction) -> str:
    text = f"{action.command}: {', '.join(role.value for role in action.roles)}"
    if action.departments:
        text += f" of {', '.join(action.departments)}"
    if action.steps:
        text += f" (steps: {', '.join(action.steps)})"
    return text


def _plan_text(plan: DeadlinePlan) -> str:
    parts = []
    if plan.acceptance_by:
        parts.append(f"acceptance by {_deadline(plan.acceptance_by)}")
    if plan.decision:
        parts.append(f"decision by {_deadline(plan.decision.due_at)}")
    if plan.stage and plan.stage_due_at:
        parts.append(f"stage {plan.stage} by {_deadline(plan.stage_due_at)}")
    if plan.supplement_by:
        parts.append(f"supplement by {_deadline(plan.supplement_by)}")
    if plan.delivery_by:
        parts.append(f"delivery by {_deadline(plan.delivery_by)}")
    parts.append(f"calendar {plan.calendar_version}{' provisional' if plan.provisional else ''}")
    return ", ".join(parts)


def _value_text(value: object) -> str:  # noqa: PLR0911 - one return per kind of value, a table
    """One field of an event, short: a matter by its code, a person by id and role, a plan by its dates."""
    match value:
        case DeadlinePlan():
            return _plan_text(value)
        case Actor():
            return _actor_text(value)
        case Matter():  # the whole catalogue entry copied into the first event: its code is enough here
            return value.code
        case Applicant():
            return value.name
        case bool():
            return "yes" if value else "no"
        case datetime():
            return _moment(value)
        case Enum():
            return str(value.value)
        case tuple():
            return ",".join(_value_text(item) for item in value)
        case _:
            return str(value)


_COMMON_EVENT_FIELDS = frozenset({"kind", "at", "actor", "reason", "application_id"})


def _details(event: ApplicationEvent) -> str:
    return " ".join(
        f"{name}={_value_text(value)}"
        for name, value in event
        if name not in _COMMON_EVENT_FIELDS and value not in (None, (), "")
    )


def _view_text(view: ApplicationView) -> str:
    """The state view as a two-column table; empty fields are left out."""
    left = view.working_days_left if view.working_days_left is not None else _NO_VALUE
    used = view.working_days_used if view.working_days_used is not None else _NO_VALUE
    due = _deadline(view.due_at) + (" (provisional calendar)" if view.provisional else "")
    rows: list[tuple[str, str]] = [
        ("application", view.application_id),
        ("matter", f"{view.matter_code} {view.matter_name}"),
        ("status", view.status.value + (" (closed)" if view.closed else "")),
        ("green channel", "yes" if view.green_channel else "no"),
        ("steward", _actor_text(view.steward) if view.steward else ""),
        ("received", _moment(view.received_at)),
        ("acceptance by", _deadline(view.acceptance_by) if view.acceptance_by else ""),
        ("due", due if view.due_at else ""),
        (
            "working days",
            f"{used} used, {left} left, {view.working_days_suspended} suspended"
            if view.working_days_used is not None
            else "",
        ),
        ("resume by", _deadline(view.resume_expected_by) if view.resume_expected_by else ""),
        ("warning", view.warning_level.value),
        ("stage", f"{view.stage} by {_deadline(view.stage_due_at)}" if view.stage_due_at else ""),
        ("missing", ", ".join(view.missing)),
        ("outstanding", ", ".join(view.outstanding)),
        ("supplement by", _deadline(view.supplement_by) if view.supplement_by else ""),
        ("delivery by", _deadline(view.delivery_by) if view.delivery_by else ""),
        ("licence", view.licence_number or ""),
        ("calendar", view.calendar_version or ""),
        ("events", str(view.event_count)),
    ]
    rows += [("may now", _pending_text(action)) for action in view.pending_actions]
    return _table(None, [row for row in rows if row[1]])


def _events_text(events: Sequence[ApplicationEvent]) -> str:
    rows = [
        (str(number), _moment(event.at), _actor_text(event.actor), event.kind, event.reason, _details(event))
        for number, event in enumerate(events, start=1)
    ]
    return _table(("#", "at (Shanghai)", "actor", "event", "reason", "details"), rows)


def _cases_text(cases: Sequence[CaseSummary]) -> str:
    rows = [
        (
            case.application_id,
            case.status or _NO_VALUE,
            case.matter or _NO_VALUE,
            ",".join(case.departments) or _NO_VALUE,
            _deadline(case.due_at),
            case.warning_level or _NO_VALUE,
            "yes" if case.green_channel else "no",
        )
        for case in cases
    ]
    return _table(("application", "status", "matter", "departments", "due", "warning", "green"), rows)


def _print_view(args: argparse.Namespace, view: ApplicationView) -> None:
    print(view.model_dump_json(indent=2) if args.json else _view_text(view))


# --- due ----------------------------------------------------------------------------------------------------


async def _due(args: argparse.Namespace, _connection: Connection) -> int:
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


# --- submit -------------------------------------------------------------------------------------------------


class Submitted(BaseModel):
    """What ``submit --json`` prints: the case opened, and its view once the worker has registered it."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    run_id: str
    view: ApplicationView | None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInput(f"cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold one JSON object (the Intake)")
    return data


def _intake(args: argparse.Namespace) -> tuple[str, Intake]:
    """The application number and the Intake: the file's fields, then each flag given over them."""
    data = _read_json(args.file) if args.file else {}
    application_id = data.pop("application_id", None)
    application_id = args.id or application_id
    if not isinstance(application_id, str) or not application_id:
        raise InvalidInput("no application number: give --id or an application_id key in the file")
    applicant = data.get("applicant")
    applicant = dict(applicant) if isinstance(applicant, dict) else {}
    flags = {"id_number": args.applicant_id, "name": args.applicant_name, "contact": args.contact}
    applicant |= {key: value for key, value in flags.items() if value is not None}
    if applicant:
        data["applicant"] = applicant
    given = {
        "actor": args.actor,
        "matter_code": args.matter,
        "materials": tuple(args.material) if args.material is not None else None,
        "channel": args.channel,
        "received_at": args.received_at,
        "green_channel": args.green_channel,
        "steward": args.steward,
    }
    data |= {key: value for key, value in given.items() if value is not None}
    data.setdefault("received_at", _now())
    return application_id, Intake.model_validate(data)


async def _view_now(cases: Cases, application_id: str) -> ApplicationView:
    """The state view at this instant; a case that never registered raises its refusal."""
    try:
        return await cases.state(application_id, _now())
    except WorkflowQueryFailedError:  # still registering, or it failed doing so
        refusal = await cases.registration_refusal(application_id)
        if refusal is not None:
            raise refusal from None
        raise


async def _submit(args: argparse.Namespace, connection: Connection) -> int:
    application_id, intake = _intake(args)
    cases = await connection.cases()
    run_id = (await cases.submit(application_id, intake)).run_id
    view = None
    if args.wait > 0:
        try:
            async with asyncio.timeout(args.wait):
                view = await cases.registered(application_id, _now())
        except TimeoutError:
            print(
                f"warning: {application_id} is submitted but not yet registered after {args.wait:g}s: is a "
                f"worker running on task queue {cases.task_queue!r}?",
                file=sys.stderr,
            )
    if args.json:
        print(Submitted(application_id=application_id, run_id=run_id, view=view).model_dump_json(indent=2))
        return EXIT_OK
    print(f"submitted {application_id} (run {run_id})")
    if view:
        print(_view_text(view))
    return EXIT_OK


# --- actions ------------------------------------------------------------------------------------------------

Build = Callable[[argparse.Namespace], ApplicationCommand]


async def _act(args: argparse.Namespace, connection: Connection) -> int:
    build: Build = args.build
    command = build(args)
    cases = await connection.cases()
    view = await cases.act(args.application_id, command, idempotency_key=args.idempotency_key)
    _print_view(args, view)
    return EXIT_OK


# --- reading ------------------------------------------------------------------------------------------------


async def _status(args: argparse.Namespace, connection: Connection) -> int:
    cases = await connection.cases()
    _print_view(args, await _view_now(cases, args.application_id))
    return EXIT_OK


_EVENTS: TypeAdapter[list[ApplicationEvent]] = TypeAdapter(list[ApplicationEvent])
_SUMMARIES: TypeAdapter[list[CaseSummary]] = TypeAdapter(list[CaseSummary])


async def _events(args: argparse.Namespace, connection: Connection) -> int:
    cases = await connection.cases()
    events = await cases.events(args.application_id)
    print(_EVENTS.dump_json(events, indent=2).decode() if args.json else _events_text(events))
    return EXIT_OK


def list_query(args: argparse.Namespace, now: datetime) -> str:
    """The visibility query of ``list``: every filter given must hold (AND); none lists all open cases."""
    queries = []
    if args.overdue:
        queries.append(overdue_query(now))
    if args.warned:
        queries.append(warned_query())
    queries += [department_query(department) for department in args.department]
    queries += [matter_query(matter) for matter in args.matter]
    return " AND ".join(f"({query})" for query in queries) or "ExecutionStatus = 'Running'"


async def _list(args: argparse.Namespace, connection: Connection) -> int:
    cases = await connection.cases()
    found = await cases.find(list_query(args, _now()), limit=args.limit)
    if args.json:
        print(_SUMMARIES.dump_json(found, indent=2).decode())
    else:
        print(_cases_text(found) if found else "no cases")
    return EXIT_OK


# --- calendar -----------------------------------------------------------------------------------------------


class CalendarLoaded(BaseModel):
    """What ``calendar load --json`` prints."""

    model_config = ConfigDict(frozen=True)

    year: int
    revision: str
    status: str
    path: Path
    calendar_version: str
    signalled: tuple[str, ...]


def _notice(path: Path) -> CalendarNotice:
    """The notice in ``path``, checked as the worker will read it."""
    try:
        notice = CalendarNotice.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise CalendarDataInvalid(f"calendar file {path}: {error}") from error
    except ValidationError as error:
        raise CalendarDataInvalid(f"calendar file {path}: {_validation_text(error)}") from error
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


async def _calendar_load(args: argparse.Namespace, connection: Connection) -> int:
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
    signalled = await cases.announce_calendar_revision()
    if args.json:
        loaded = CalendarLoaded(
            year=notice.year,
            revision=notice.revision,
            status=notice.status,
            path=target,
            calendar_version=version,
            signalled=tuple(signalled),
        )
        print(loaded.model_dump_json(indent=2))
        return EXIT_OK
    print(f"loaded {notice.year} revision {notice.revision} ({notice.status}) into {target}")
    print(f"calendar {version}; told {len(signalled)} running case(s)")
    return EXIT_OK


# --- the parser ---------------------------------------------------------------------------------------------


def _temporal_options() -> _Parser:
    options = _Parser(add_help=False)
    group = options.add_argument_group("Temporal")
    group.add_argument("--address", help=f"host:port (default ${ADDRESS_VARIABLE}, else {DEFAULT_ADDRESS})")
    group.add_argument("--namespace", help=f"namespace (default ${NAMESPACE_VARIABLE}, else 'default')")
    group.add_argument("--profile", help="temporal config profile (TOML), as for the temporal CLI")
    group.add_argument(
        "--task-queue",
        default=os.environ.get(TASK_QUEUE_VARIABLE, TASK_QUEUE),
        help=f"the worker's task queue (default ${TASK_QUEUE_VARIABLE}, else {TASK_QUEUE})",
    )
    options.add_argument("--json", action="store_true", help="print the models' JSON instead of a table")
    return options


def _add_due(commands: argparse._SubParsersAction[_Parser]) -> None:
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


def _add_submit(commands: argparse._SubParsersAction[_Parser], temporal: _Parser) -> None:
    submit = commands.add_parser(
        "submit",
        parents=[temporal],
        help="open a case from an Intake JSON file and/or flags",
        description="Open a case. Flags override the file's fields; received_at defaults to now.",
    )
    submit.add_argument("--file", type=Path, help="Intake JSON (may hold application_id); - for stdin")
    submit.add_argument("--id", help="application number (the workflow id)")
    submit.add_argument("--matter", help="catalogue code, CODE or CODE.TYPE")
    submit.add_argument("--applicant-id", help="identity number or unified social credit code")
    submit.add_argument("--applicant-name")
    submit.add_argument("--contact", help="the applicant's contact")
    submit.add_argument("--material", action="append", metavar="CODE", help="a material received; repeat")
    submit.add_argument("--channel", choices=[channel.value for channel in Channel])
    submit.add_argument(
        "--received-at", type=_instant, help="ISO 8601; no offset means Shanghai (default now)"
    )
    submit.add_argument("--green-channel", action=argparse.BooleanOptionalAction, help="绿色通道 case")
    submit.add_argument("--steward", type=_actor, metavar="ID:steward", help="assigned 项目管家")
    submit.add_argument("--as", dest="actor", type=_actor, metavar="ID:ROLE", help="who submits")
    submit.add_argument(
        "--wait",
        type=float,
        default=REGISTRATION_WAIT,
        metavar="SECONDS",
        help="wait this long for the worker to register the case (0: do not; default %(default)g)",
    )
    submit.set_defaults(handler=_submit)


def _add_action(
    commands: argparse._SubParsersAction[_Parser], temporal: _Parser, name: str, summary: str, build: Build
) -> _Parser:
    action = commands.add_parser(name, parents=[temporal], help=summary, description=summary, epilog=EPILOG)
    action.add_argument("application_id", metavar="ID", help="application number")
    action.add_argument(
        "--as",
        dest="actor",
        type=_actor,
        required=True,
        metavar="ID:ROLE[:DEPARTMENT]",
        help="who acts, e.g. window-7:window_officer or zhang:approver:health",
    )
    action.add_argument("--reason", default="", help="why (recorded, and told to the applicant)")
    action.add_argument(
        "--idempotency-key", metavar="KEY", help="update id: a retry with the same key takes effect once"
    )
    action.set_defaults(handler=_act, build=build)
    return action


def _add_actions(commands: argparse._SubParsersAction[_Parser], temporal: _Parser) -> None:
    def add(name: str, summary: str, build: Build) -> _Parser:
        return _add_action(commands, temporal, name, summary, build)

    correction = add(
        "request-correction",
        "补正告知: list every missing item at once (R-XK-32)",
        lambda a: RequestCorrection(actor=a.actor, reason=a.reason, missing=tuple(a.missing)),
    )
    correction.add_argument("--missing", action="append", required=True, metavar="CODE", help="repeat")
    add("accept", "受理: all materials present", lambda a: AcceptApplication(actor=a.actor, reason=a.reason))
    deficient = add(
        "accept-deficient",
        "容缺受理: accept with secondary materials promised (the engine checks credit)",
        lambda a: AcceptWithDeficiencies(
            actor=a.actor,
            reason=a.reason,
            missing=tuple(a.missing),
            supplement_within=a.within,
            commitment=a.commitment,
        ),
    )
    deficient.add_argument("--missing", action="append", required=True, metavar="CODE", help="repeat")
    deficient.add_argument("--within", type=_positive, required=True, metavar="DAYS", help="working days")
    deficient.add_argument("--commitment", required=True, metavar="REF", help="signed 承诺书 reference")
    add(
        "reject",
        "不予受理 (--reason required by the engine)",
        lambda a: RejectApplication(actor=a.actor, reason=a.reason),
    )
    refer = add(
        "refer",
        "outside competence: name where to apply (R-XK-32c)",
        lambda a: ReferElsewhere(actor=a.actor, reason=a.reason, competent_organ=a.to),
    )
    refer.add_argument("--to", required=True, metavar="ORGAN", help="the competent organ")
    supplement = add(
        "supplement",
        "materials provided (after 补正, or a 容缺 promise kept)",
        lambda a: SupplementMaterials(actor=a.actor, reason=a.reason, materials=tuple(a.material)),
    )
    supplement.add_argument("--material", action="append", required=True, metavar="CODE", help="repeat")
    approve = add(
        "approve",
        "record a department's approval of one step",
        lambda a: RecordApproval(actor=a.actor, reason=a.reason, step=a.step, approved=True),
    )
    approve.add_argument("--step", required=True, help="the approval step (see status: may now)")
    refuse = add(
        "refuse",
        "record a department's refusal of one step (--reason required by the engine)",
        lambda a: RecordApproval(actor=a.actor, reason=a.reason, step=a.step, approved=False),
    )
    refuse.add_argument("--step", required=True, help="the approval step (see status: may now)")
    suspend = add(
        "suspend",
        "stop the clock for an R-XK-45 pause or one the matter lists",
        lambda a: SuspendClock(actor=a.actor, reason=a.reason, pause=a.pause, expected_working_days=a.days),
    )
    suspend.add_argument("--pause", required=True, help="e.g. expert_review, inspection, hearing")
    suspend.add_argument("--days", type=_positive, required=True, help="expected working days")
    add("resume", "restart the clock", lambda a: ResumeClock(actor=a.actor, reason=a.reason))
    extend = add(
        "extend",
        "the one extension: +10 department head (R-XK-42a), +15 government leader (R-XK-42b)",
        lambda a: ExtendDeadline(actor=a.actor, reason=a.reason, working_days=a.days),
    )
    extend.add_argument("--days", type=_positive, required=True, help="working days added")
    add(
        "withdraw",
        "撤回 by the applicant or the green-channel steward",
        lambda a: WithdrawApplication(actor=a.actor, reason=a.reason),
    )
    green = add(
        "green-channel",
        "绿色通道 (supervisor): put the case in, with its steward, or take it out with --off",
        lambda a: ChangeGreenChannel(
            actor=a.actor,
            reason=a.reason,
            green_channel=not a.off,
            steward=Actor(id=a.steward, role=Role.STEWARD) if a.steward else None,
        ),
    )
    green.add_argument("--steward", metavar="ID", help="the 项目管家 who acts for the applicant")
    green.add_argument("--off", action="store_true", help="take the case out of the green channel")


def _add_reading(commands: argparse._SubParsersAction[_Parser], temporal: _Parser) -> None:
    status = commands.add_parser("status", parents=[temporal], help="the case as it stands now")
    status.add_argument("application_id", metavar="ID")
    status.set_defaults(handler=_status)
    events = commands.add_parser("events", parents=[temporal], help="the audit trail (Shanghai time)")
    events.add_argument("application_id", metavar="ID")
    events.set_defaults(handler=_events)
    listing = commands.add_parser(
        "list",
        parents=[temporal],
        help="open cases; filters combine (all must hold)",
        description="Open cases from Temporal visibility (eventually consistent: a second or so behind).",
    )
    listing.add_argument("--overdue", action="store_true", help="decision deadline passed, or red warning")
    listing.add_argument("--warned", action="store_true", help="any warning (notice, yellow, red)")
    listing.add_argument("--department", action="append", default=[], metavar="D", help="responsible; repeat")
    listing.add_argument("--matter", action="append", default=[], metavar="M", help="CODE or CODE.TYPE")
    listing.add_argument(
        "--limit", type=_positive, default=100, help="at most this many (default %(default)s)"
    )
    listing.set_defaults(handler=_list)


def _add_calendar(commands: argparse._SubParsersAction[_Parser], temporal: _Parser) -> None:
    calendar = commands.add_parser("calendar", help="the working-day calendar's notices (R-CAL-4)")
    actions = calendar.add_subparsers(dest="calendar_command", required=True, metavar="{load}")
    load = actions.add_parser(
        "load",
        parents=[temporal],
        help="validate a notice, publish it where the worker reads, tell every running case",
        description=(
            "Validate a calendar notice (TOML, README 'Calendar data'), copy it as <year>.toml into "
            f"--calendar-dir or the first directory of ${CALENDAR_DIRS_VARIABLE} (which the worker must "
            "also read), then signal calendar_revised to every running case."
        ),
        epilog=EPILOG,
    )
    load.add_argument("file", type=Path, metavar="FILE")
    load.add_argument(
        "--calendar-dir", help=f"where the worker reads notices (default: ${CALENDAR_DIRS_VARIABLE})"
    )
    load.set_defaults(handler=_calendar_load)


def build_parser() -> argparse.ArgumentParser:
    """The ``onewindow`` command and its subcommands."""
    parser = _Parser(prog="onewindow", description="onewindow intake and operator CLI", epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    temporal = _temporal_options()
    _add_due(commands)
    _add_submit(commands, temporal)
    _add_actions(commands, temporal)
    _add_reading(commands, temporal)
    _add_calendar(commands, temporal)
    return parser


# --- running ------------------------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, Connection], Awaitable[int]]


def _namespace_missing(error: RPCError) -> bool:
    """A mistyped namespace is NOT_FOUND too, which the client would report as an unknown application."""
    return error.status is RPCStatusCode.NOT_FOUND and "namespace" in error.message.lower()


def _fail(error_type: str, message: str, code: int) -> int:
    print(f"error: {error_type}: {_one_line(message)}", file=sys.stderr)
    return code


async def run(  # noqa: PLR0911 - one return per row of the exit-code table
    argv: Sequence[str] | None = None, cases: Cases | None = None
) -> int:
    """Run one subcommand and return its exit code; ``cases`` replaces the connection (tests, embedding)."""
    try:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        return await handler(args, Connection(args, cases))
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_OK
    except ValidationError as error:
        return _fail("InvalidCommand", _validation_text(error), EXIT_REFUSED)
    except UnknownApplication as error:
        cause = error.__cause__
        if isinstance(cause, RPCError) and _namespace_missing(cause):
            return _fail("UnknownNamespace", cause.message, EXIT_REFUSED)
        return _fail(error.type, str(error), EXIT_NOT_FOUND)
    except CannotConnect as error:
        return _fail(error.type, str(error), EXIT_UNREACHABLE)
    except OneWindowError as error:
        return _fail(error.type, str(error), EXIT_REFUSED)
    except RPCError as error:
        if _namespace_missing(error):
            return _fail("UnknownNamespace", error.message, EXIT_REFUSED)
        unreachable = error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
        status = error.status.name if error.status else "UNKNOWN"
        return _fail(
            "RPCError", f"{status}: {error.message}", EXIT_UNREACHABLE if unreachable else EXIT_FAILED
        )
    except WorkflowQueryFailedError as error:
        return _fail("QueryFailed", str(error), EXIT_FAILED)
    except OSError as error:  # e.g. the calendar directory is not writable
        return _fail(type(error).__name__, str(error), EXIT_FAILED)


def main(argv: list[str] | None = None) -> int:
    """One subcommand, its exit code (see the module docstring)."""
    return asyncio.run(run(argv))


def script() -> NoReturn:
    """The ``onewindow`` command: ``main``, then an exit that cannot abort after the answer."""
    exit_process(main())


if __name__ == "__main__":
    script()
