"""``project``: construction projects (工程建设项目), opened, driven and read as applications are.

``project submit`` opens one with its first stage's materials; ``project stage`` brings the next stage's;
``project accept`` is the window accepting a stage for its lead department; each matter of a stage is
then an application of its own (``<project>.<matter>``), driven with the ordinary verbs (``accept``,
``approve``, ``suspend`` ...). ``project status`` shows every stage and matter with the working days used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from pydantic import TypeAdapter

from cli.actions import Action, Flag, command_of
from cli.arguments import (
    Commands,
    Parser,
    actor,
    add_as,
    code,
    fields,
    flag_names,
    instant,
    nested,
    subcommand,
    validated,
)
from cli.connection import Connection
from cli.errors import EXIT_OK, InvalidInput
from cli.render import events_text, progress_text
from workflows.client import Projects
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import ReviseTrustedKeys
from workflows.domain.errors import InvalidCommand
from workflows.domain.events import Actor, Channel
from workflows.domain.project import (
    AUTHORISED_ROLES,
    TRANSITIONS,
    AcceptStage,
    ProjectCommand,
    ProjectEvent,
    ProjectProgress,
    SubmitStage,
    WithdrawProject,
)
from workflows.domain.values import ApplicationNumber
from workflows.messages import ProjectIntake
from workflows.reference_data import load_catalogue

REGISTRATION_WAIT = 10.0
_NUMBER: TypeAdapter[str] = TypeAdapter(ApplicationNumber)
_INTAKE: TypeAdapter[ProjectIntake] = TypeAdapter(ProjectIntake)
_EVENTS: TypeAdapter[list[ProjectEvent]] = TypeAdapter(list[ProjectEvent])

PROJECT_ACTIONS: tuple[Action, ...] = (
    Action(
        "stage",
        SubmitStage,
        "bring the current (or next) stage's materials to the window",
        (Flag("--material", "materials", "CODE", "a material of this stage; repeat", repeat=True),),
    ),
    Action("accept", AcceptStage, "受理 the stage for its lead department: its matters start in parallel"),
    Action("withdraw", WithdrawProject, "撤回 the project: every open matter ends with it"),
    Action(
        "revise-keys",
        ReviseTrustedKeys,
        "key rotation (supervisor): the project trusts its worker's trust store as it is now",
        reason_required=True,
    ),
)


def may_now(progress: ProjectProgress, reader: Actor) -> tuple[str, ...]:
    """The ``project`` verbs ``reader``'s role may give in the project's status (the transition table)."""
    allowed = TRANSITIONS[progress.status]
    return tuple(
        f"project {action.verb()}"
        for action in PROJECT_ACTIONS
        if action.kind in allowed and reader.role in AUTHORISED_ROLES[action.kind]
    )


def show(args: argparse.Namespace, progress: ProjectProgress, reader: Actor) -> None:
    """The progress as ``--json`` (the engine's, unchanged) or as tables ending with the reader's verbs."""
    print(
        progress.model_dump_json(indent=2)
        if args.json
        else progress_text(progress, may_now(progress, reader))
    )


def intake_of(args: argparse.Namespace) -> tuple[str, ProjectIntake]:
    """The project number and its intake, checked against the local catalogue (nearest codes suggested)."""
    name = flag_names(args)
    number = validated(_NUMBER, args.application_id, lambda _: name("application_id"))
    data = nested(fields(args, ProjectIntake.model_fields))
    data.setdefault("received_at", datetime.now(SHANGHAI))
    intake = validated(_INTAKE, data, name)
    matter = load_catalogue().matter(intake.matter_code).of_type(intake.project_type)
    if not matter.stages:
        raise InvalidCommand(f"{name('matter_code')}: {matter.code} has no stages; use `onewindow submit`")
    first = matter.stages[0]
    asked = {m.code for m in matter.stage_materials(first)}
    unknown = sorted(set(intake.materials) - asked)
    if unknown:
        raise InvalidCommand(
            f"{name('materials')}: stage {first.code} asks for no {', '.join(unknown)}"
            f" (it asks for {', '.join(sorted(asked))})"
        )
    return number, intake


async def submit(args: argparse.Namespace, connection: Connection) -> int:
    """Open the project and, unless ``--wait 0``, show it once the worker has registered it."""
    number, intake = intake_of(args)
    projects = await connection.projects()
    run_id = (await projects.submit(number, intake)).run_id
    print(f"submitted project {number} (run {run_id})", file=sys.stderr if args.json else sys.stdout)
    if args.wait > 0:
        try:
            async with asyncio.timeout(args.wait):
                progress = await projects.registered(number, datetime.now(SHANGHAI), reader=intake.actor)
        except TimeoutError:
            raise InvalidInput(
                f"{number} is not registered after {args.wait:g}s: is a worker running?"
            ) from None
        show(args, progress, intake.actor)
    return EXIT_OK


async def act(args: argparse.Namespace, connection: Connection) -> int:
    """Give the project command (once per ``--idempotency-key``) and show the progress."""
    command = cast(ProjectCommand, command_of(args))  # a PROJECT_ACTIONS row names one of them
    projects = await connection.projects()
    progress = await projects.act(args.application_id, command, idempotency_key=args.idempotency_key)
    show(args, progress, command.actor)
    return EXIT_OK


async def status(args: argparse.Namespace, connection: Connection) -> int:
    """The project now: every stage and matter, the working days used and left."""
    projects = await connection.projects()
    show(args, await _progress(projects, args.application_id, args.actor), args.actor)
    return EXIT_OK


async def _progress(projects: Projects, number: str, reader: Actor) -> ProjectProgress:
    return await projects.state(number, datetime.now(SHANGHAI), reader=reader)


async def events(args: argparse.Namespace, connection: Connection) -> int:
    """The project's audit trail."""
    projects = await connection.projects()
    found = await projects.events(args.application_id, reader=args.actor)
    print(_EVENTS.dump_json(found, indent=2).decode() if args.json else events_text(found))
    return EXIT_OK


def add_projects(commands: Commands, parents: Sequence[Parser]) -> None:
    """``project`` and its subcommands."""
    project = subcommand(
        commands, "project", _usage, "construction projects: stages over matters' applications"
    )
    verbs: Commands = project.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=Parser)
    opened = subcommand(
        verbs, "submit", submit, "open a project with its first stage's materials", parents=parents
    )
    opened.add_argument("--id", dest="application_id", required=True, help="project number (the workflow id)")
    opened.add_argument(
        "--matter", dest="matter_code", default="CONSTRUCTION-PROJECT", help="composite matter"
    )
    opened.add_argument(
        "--type", dest="project_type", type=code, help="project type (e.g. small_social_investment)"
    )
    opened.add_argument(
        "--applicant-id", dest="applicant.id_number", required=True, help="unified social credit code"
    )
    opened.add_argument("--applicant-name", dest="applicant.name", required=True)
    opened.add_argument("--contact", dest="applicant.contact", required=True)
    opened.add_argument("--material", dest="materials", action="append", metavar="CODE", help="repeat")
    opened.add_argument("--channel", choices=[c.value for c in Channel], default=Channel.WINDOW.value)
    opened.add_argument(
        "--received-at", type=instant, help="ISO 8601; no offset means Shanghai (default now)"
    )
    opened.add_argument("--green-channel", action=argparse.BooleanOptionalAction, help="绿色通道 project")
    opened.add_argument("--steward", type=actor, metavar="ID:steward", help="assigned 项目管家")
    add_as(opened, "who submits, e.g. window-7:window_officer")
    opened.add_argument("--wait", type=float, default=REGISTRATION_WAIT, metavar="SECONDS")
    for action in PROJECT_ACTIONS:
        parser = subcommand(verbs, action.name, act, action.summary, parents=parents)
        parser.add_argument("application_id", metavar="ID", help="project number")
        add_as(parser, "who acts, e.g. window-7:window_officer")
        for flag in action.all_flags:
            flag.add_to(parser)
        parser.add_argument("--idempotency-key", metavar="KEY", help="a retry takes effect once")
        parser.set_defaults(action=action, **action.fixed)
    for name, handler, summary in (
        ("status", status, "every stage and matter, working days used and left"),
        ("events", events, "the project's audit trail"),
    ):
        read = subcommand(verbs, name, handler, summary, parents=parents)
        read.add_argument("application_id", metavar="ID", help="project number")
        add_as(read, "who reads")


async def _usage(args: argparse.Namespace, connection: Connection) -> int:
    """Never run: argparse requires a verb after ``project``."""
    raise InvalidInput("give a verb: onewindow project --help")
