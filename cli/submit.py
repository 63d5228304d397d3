"""``submit``: open a case from an ``Intake`` JSON file, from flags, or both (flags win).

The matter and materials are checked against the local catalogue before anything starts, so a typo is
answered with the nearest codes and leaves no failed workflow behind; the worker's own check still stands
for a catalogue that differs, and the CLI waits for registration to report it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from cli.actions import show
from cli.arguments import (
    Commands,
    Parser,
    actor,
    add_as,
    fields,
    flag_names,
    instant,
    nested,
    subcommand,
    validated,
)
from cli.connection import Connection
from cli.errors import EXIT_OK, InvalidInput
from workflows.boundary import MAX_MESSAGE_BYTES
from workflows.domain.calendar import SHANGHAI
from workflows.domain.errors import InvalidCommand
from workflows.domain.events import Channel
from workflows.domain.values import ApplicationNumber
from workflows.messages import ApplicationView, Intake
from workflows.reference_data import load_catalogue

REGISTRATION_WAIT = 10.0  # seconds; the worker registers a case within a workflow task or two
_NUMBER: TypeAdapter[str] = TypeAdapter(ApplicationNumber)
_INTAKE = TypeAdapter(Intake)


class Submitted(BaseModel):
    """What ``submit --json`` prints: the case opened, and its view once the worker has registered it."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    run_id: str
    view: ApplicationView | None


def _read_json(path: Path) -> dict[str, Any]:
    """The intake file (or stdin) as one JSON object, read no further than the engine's message limit."""
    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        else:
            with path.open("rb") as file:
                raw = file.read(MAX_MESSAGE_BYTES + 1)
        if len(raw) > MAX_MESSAGE_BYTES:
            raise InvalidInput(f"{path} is larger than an intake may be ({MAX_MESSAGE_BYTES} bytes)")
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"cannot read {path} as UTF-8 JSON: {error}") from error
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold one JSON object (the Intake)")
    return data


def _merged(file_data: dict[str, Any], flags: dict[str, Any]) -> dict[str, Any]:
    """The file's fields with each flag given over them, down to the applicant's own fields."""
    merged = dict(file_data)
    for name, value in nested(flags).items():
        below = merged.get(name)
        merged[name] = below | value if isinstance(below, dict) and isinstance(value, dict) else value
    merged.setdefault("received_at", datetime.now(SHANGHAI))
    return merged


def intake_of(args: argparse.Namespace) -> tuple[str, Intake]:
    """The application number and the Intake, checked against the local catalogue.

    A complaint names the flag that gave a field; a field from ``--file`` keeps its JSON path, as written.
    """
    data = _read_json(args.file) if args.file else {}
    name = flag_names(args, only_given=args.file is not None)
    from_file = data.pop("application_id", None)
    number = args.application_id or from_file
    if not isinstance(number, str) or not number:
        raise InvalidInput("no application number: give --id or an application_id key in the file")
    number = validated(_NUMBER, number, lambda _: name("application_id"))
    # As strictly as the engine decodes it: in a file, "yes" is no boolean and a number no instant.
    intake = validated(_INTAKE, _merged(data, fields(args, Intake.model_fields)), name, strict_json=True)
    _check_against_catalogue(intake, name)
    return number, intake


def _check_against_catalogue(intake: Intake, name: Callable[[str], str]) -> None:
    """Refuse what the worker's catalogue would, before any workflow starts, suggesting the nearest codes."""
    matter = load_catalogue().matter(intake.matter_code)  # UnknownMatter names the nearest codes
    unknown = matter.unknown_materials(intake.materials)
    if unknown:
        raise InvalidCommand(f"{name('materials')}: {unknown}")


async def submit(args: argparse.Namespace, connection: Connection) -> int:
    """Open the case and, unless ``--wait 0``, show it once the worker has registered it."""
    application_id, intake = intake_of(args)
    cases = await connection.cases()
    run_id = (await cases.submit(application_id, intake)).run_id
    view = None
    if args.wait > 0:
        try:
            async with asyncio.timeout(args.wait):
                view = await cases.registered(application_id, datetime.now(SHANGHAI), reader=intake.actor)
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
        await show(args, cases, view, intake.actor)
    return EXIT_OK


def add_submit(commands: Commands, parents: Sequence[Parser]) -> None:
    """``submit`` and its flags, each with the Intake field it fills as its ``dest``."""
    command = subcommand(
        commands,
        "submit",
        submit,
        "open a case from an Intake JSON file and/or flags",
        description="Open a case. Flags override the file's fields; received_at defaults to now.",
        parents=parents,
    )
    command.add_argument("--file", type=Path, help="Intake JSON (may hold application_id); - for stdin")
    command.add_argument("--id", dest="application_id", help="application number (the workflow id)")
    command.add_argument("--matter", dest="matter_code", help="catalogue code, CODE or CODE.TYPE (`matters`)")
    command.add_argument(
        "--applicant-id", dest="applicant.id_number", help="identity number or unified social credit code"
    )
    command.add_argument("--applicant-name", dest="applicant.name")
    command.add_argument("--contact", dest="applicant.contact", help="the applicant's contact")
    command.add_argument(
        "--material", dest="materials", action="append", metavar="CODE", help="a material received; repeat"
    )
    command.add_argument("--channel", choices=[channel.value for channel in Channel])
    command.add_argument(
        "--received-at", type=instant, help="ISO 8601; no offset means Shanghai (default now)"
    )
    command.add_argument("--green-channel", action=argparse.BooleanOptionalAction, help="绿色通道 case")
    command.add_argument("--steward", type=actor, metavar="ID:steward", help="assigned 项目管家")
    command.add_argument(
        "--consultation",
        dest="consultation_id",
        metavar="ID",
        help="提前介入: the consultation the case comes from (its checks and opinions carry over)",
    )
    command.add_argument(
        "--commitment",
        metavar="REF",
        help="告知承诺制: the signed 承诺书 in place of the proofs the matter names (credit is checked)",
    )
    add_as(command, "who submits", required=False)
    command.add_argument(
        "--wait",
        type=float,
        default=REGISTRATION_WAIT,
        metavar="SECONDS",
        help="wait this long for the worker to register the case (0: do not; default %(default)g)",
    )
