"""``project``, ``establishment`` and ``consultation``: processes opened, driven and read as applications are.

``project submit`` opens a construction project with its first stage's materials, ``project stage`` brings
the next stage's, ``project accept`` is the window accepting a stage for its lead department.
``establishment submit`` opens an enterprise establishment with the one form, ``establishment accept``
accepts it, ``establishment track`` records the bank's appointment, ``establishment release`` hands every
result over. Each matter is an application of its own (``<number>.<matter>``), driven with the ordinary
verbs (``accept``, ``approve``, ``suspend`` ...); ``status`` shows every stage or item and the working days.
``consultation submit`` is a steward opening 提前介入 for a green-channel case; ``check``, ``opinion`` and
``close`` follow, and ``onewindow submit --consultation ID`` carries its findings into the application.
``complaint submit`` is a hotline operator registering a 12345/8890 call (dispatched at once by the
catalogue's 派单表); ``sign``, ``return``, ``redispatch``, ``extend``, ``reply``, ``callback``, ``merge`` and
``supervise`` follow.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter

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
from cli.render import complaint_text, consultation_text, establishment_text, events_text, progress_text
from workflows.client import CaseClient, Cases
from workflows.domain import complaint, consultation, establishment, project
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import ReviseTrustedKeys
from workflows.domain.errors import InvalidCommand
from workflows.domain.events import Actor, Channel, Role
from workflows.domain.values import ApplicationNumber
from workflows.messages import ComplaintIntake, ConsultationIntake, ProjectIntake
from workflows.reference_data import load_catalogue

REGISTRATION_WAIT = 10.0
_NUMBER: TypeAdapter[str] = TypeAdapter(ApplicationNumber)
_ROTATION = "key rotation (supervisor): the process trusts its worker's trust store as it is now"


@dataclass(frozen=True)
class Process:
    """One composite process as the CLI offers it: its verbs as data, its client and how it is shown."""

    name: str
    summary: str
    matter: str | None  # the default catalogue entry (none: --matter is required)
    actions: tuple[Action, ...]
    transitions: Mapping[Any, frozenset[str]]
    roles: Mapping[str, frozenset[Role]]
    client: Callable[[Cases], CaseClient[Any, Any, Any, Any]]
    text: Callable[[Any, Sequence[str]], str]
    events: TypeAdapter[Any]
    first_materials: Callable[[Any], set[str]] | None  # what the opening may bring (None: no materials)
    intake: type[ProjectIntake] | type[ConsultationIntake] | type[ComplaintIntake] = ProjectIntake
    # The flags that open it (a lambda: the function is defined below, with the other parsers).
    opening: Callable[[Parser, Process], None] = lambda parser, process: _submission_flags(parser, process)  # noqa: PLW0108

    def may_now(self, progress: Any, reader: Actor) -> tuple[str, ...]:  # noqa: ANN401 - the process's view
        """The verbs ``reader``'s role may give in the process's status (its transition table)."""
        allowed = self.transitions[progress.status]
        return tuple(
            f"{self.name} {action.verb()}"
            for action in self.actions
            if action.kind in allowed and reader.role in self.roles[action.kind]
        )

    def show(self, args: argparse.Namespace, progress: BaseModel, reader: Actor) -> None:
        """The progress as ``--json`` (the engine's, unchanged) or as tables ending with the verbs."""
        print(
            progress.model_dump_json(indent=2)
            if args.json
            else self.text(progress, self.may_now(progress, reader))
        )


def _first_stage(intake: ProjectIntake) -> set[str]:
    matter = load_catalogue().matter(intake.matter_code).of_type(intake.project_type)
    if not matter.stages:
        raise InvalidCommand(f"{matter.code} has no stages: use `onewindow submit`")
    return {m.code for m in matter.stage_materials(matter.stages[0])}


def _whole_form(intake: ProjectIntake | ConsultationIntake) -> set[str]:
    return {m.code for m in load_catalogue().matter(intake.matter_code).materials}


PROJECT = Process(
    name="project",
    summary="construction projects: stages in order over their matters' applications",
    matter="CONSTRUCTION-PROJECT",
    actions=(
        Action(
            "stage",
            project.SubmitStage,
            "bring the current (or next) stage's materials to the window",
            (Flag("--material", "materials", "CODE", "a material of this stage; repeat", repeat=True),),
        ),
        Action("accept", project.AcceptStage, "受理 the stage for its lead department: its matters start"),
        Action("withdraw", project.WithdrawProject, "撤回 the project: every open matter ends with it"),
        Action("revise-keys", ReviseTrustedKeys, _ROTATION, reason_required=True),
    ),
    transitions=project.TRANSITIONS,
    roles=project.AUTHORISED_ROLES,
    client=lambda cases: cases.projects(),
    text=progress_text,
    events=TypeAdapter(list[project.ProjectEvent]),
    first_materials=_first_stage,
)
ESTABLISHMENT = Process(
    name="establishment",
    summary="enterprise establishment: one form, one window, one working day",
    matter="ENTERPRISE-ESTABLISH",
    actions=(
        Action(
            "supplement",
            establishment.SupplementForm,
            "more of the form's materials, before acceptance",
            (Flag("--material", "materials", "CODE", "a material of the form; repeat", repeat=True),),
        ),
        Action(
            "accept", establishment.AcceptEstablishment, "受理 the one form: business registration starts"
        ),
        Action(
            "track",
            establishment.TrackService,
            "a tracked service done (the bank-account appointment), with its reference",
            (
                Flag("--item", "item", "ITEM", "e.g. bank_account_appointment"),
                Flag("--reference", "reference", "REF", "the bank's reference"),
            ),
        ),
        Action("release", establishment.ReleaseResults, "一次出件: hand every result over at the window"),
        Action("withdraw", establishment.WithdrawEstablishment, "撤回: every open matter ends with it"),
        Action("revise-keys", ReviseTrustedKeys, _ROTATION, reason_required=True),
    ),
    transitions=establishment.TRANSITIONS,
    roles=establishment.AUTHORISED_ROLES,
    client=lambda cases: cases.establishments(),
    text=establishment_text,
    events=TypeAdapter(list[establishment.EstablishmentEvent]),
    first_materials=_whole_form,
)
CONSULTATION = Process(
    name="consultation",
    summary="提前介入: a green-channel case's early guidance before its formal submission",
    matter=None,
    actions=(
        Action(
            "bring",
            consultation.BringMaterials,
            "the steward brings more materials",
            (Flag("--material", "materials", "CODE", "a material; repeat", repeat=True),),
        ),
        Action(
            "check",
            consultation.CheckMaterials,
            "the window checks materials brought (not examined again at submission)",
            (Flag("--material", "materials", "CODE", "a material checked; repeat", repeat=True),),
        ),
        Action(
            "opinion",
            consultation.GiveOpinion,
            "a department's pre-review opinion (attached to the application)",
            (Flag("--opinion", "opinion", "TEXT", "the opinion"),),
        ),
        Action("close", consultation.CloseConsultation, "the steward closes the consultation"),
        Action("revise-keys", ReviseTrustedKeys, _ROTATION, reason_required=True),
    ),
    transitions=consultation.TRANSITIONS,
    roles=consultation.AUTHORISED_ROLES,
    client=lambda cases: cases.consultations(),
    text=consultation_text,
    events=TypeAdapter(list[consultation.ConsultationEvent]),
    first_materials=_whole_form,
    intake=ConsultationIntake,
)


COMPLAINT = Process(
    name="complaint",
    summary="12345/8890 complaints: dispatched, signed or returned, handled, replied, called back",
    matter=None,
    actions=(
        Action("sign", complaint.SignComplaint, "签收: the dispatched department takes it on"),
        Action(
            "return",
            complaint.ReturnComplaint,
            "退单: misrouted, within the dispatch table's hours",
            reason_required=True,
        ),
        Action(
            "redispatch",
            complaint.RedispatchComplaint,
            "改派: the hotline dispatches a returned complaint to another department",
            (Flag("--department", "department", "CODE", "the department it now goes to", type=code),),
        ),
        Action(
            "extend", complaint.ExtendHandling, "the department head's one extension", reason_required=True
        ),
        Action(
            "reply",
            complaint.ReplyComplaint,
            "答复: the department's reply to the caller",
            (Flag("--reply", "reply", "TEXT", "what the caller is told"),),
        ),
        Action(
            "callback",
            complaint.RecordCallback,
            "回访: the caller's rating; the bottom two reopen it",
            (Flag("--rating", "rating", "LEVEL", ", ".join(r.value for r in complaint.Rating)),),
        ),
        Action(
            "merge",
            complaint.MergeComplaint,
            "并单: a duplicate merged into another complaint",
            (Flag("--into", "into", "ID", "the complaint that carries on"),),
        ),
        Action(
            "supervise",
            complaint.SuperviseComplaint,
            "joint supervision of a key complaint (督办)",
            reason_required=True,
        ),
        Action("revise-keys", ReviseTrustedKeys, _ROTATION, reason_required=True),
    ),
    transitions=complaint.TRANSITIONS,
    roles=complaint.AUTHORISED_ROLES,
    client=lambda cases: cases.complaints(),
    text=complaint_text,
    events=TypeAdapter(list[complaint.ComplaintEvent]),
    first_materials=None,
    intake=ComplaintIntake,
    opening=lambda parser, process: _complaint_flags(parser),
)


def intake_of(args: argparse.Namespace) -> tuple[str, ProjectIntake | ConsultationIntake | ComplaintIntake]:
    """The number and the opening intake, checked against the local catalogue (nearest codes suggested)."""
    process: Process = args.process
    name = flag_names(args)
    number = validated(_NUMBER, args.application_id, lambda _: name("application_id"))
    data = nested(fields(args, process.intake.model_fields))
    if "received_at" in process.intake.model_fields:
        data.setdefault("received_at", datetime.now(SHANGHAI))
    adapter: TypeAdapter[ProjectIntake | ConsultationIntake | ComplaintIntake] = TypeAdapter(process.intake)
    intake = validated(adapter, data, name)
    if process.first_materials is None or isinstance(intake, ComplaintIntake):
        return number, intake
    asked = process.first_materials(intake)
    unknown = sorted(set(intake.materials) - asked)
    if unknown:
        raise InvalidCommand(
            f"{name('materials')}: the {process.name} opens with no {', '.join(unknown)}"
            f" (it asks for {', '.join(sorted(asked))})"
        )
    return number, intake


async def submit(args: argparse.Namespace, connection: Connection) -> int:
    """Open the process and, unless ``--wait 0``, show it once the worker has registered it."""
    process: Process = args.process
    number, intake = intake_of(args)
    client = process.client(await connection.cases())
    run_id = (await client.submit(number, intake)).run_id
    print(f"submitted {process.name} {number} (run {run_id})", file=sys.stderr if args.json else sys.stdout)
    if args.wait > 0:
        try:
            async with asyncio.timeout(args.wait):
                progress = await client.registered(number, datetime.now(SHANGHAI), reader=intake.actor)
        except TimeoutError:
            raise InvalidInput(
                f"{number} is not registered after {args.wait:g}s: is a worker running?"
            ) from None
        process.show(args, progress, intake.actor)
    return EXIT_OK


async def act(args: argparse.Namespace, connection: Connection) -> int:
    """Give the command (once per ``--idempotency-key``) and show the progress."""
    process: Process = args.process
    command = command_of(args)
    client = process.client(await connection.cases())
    progress = await client.act(args.application_id, command, idempotency_key=args.idempotency_key)
    process.show(args, progress, command.actor)
    return EXIT_OK


async def status(args: argparse.Namespace, connection: Connection) -> int:
    """The process now: every stage or item, the working days used and left."""
    process: Process = args.process
    client = process.client(await connection.cases())
    process.show(
        args, await client.state(args.application_id, datetime.now(SHANGHAI), reader=args.actor), args.actor
    )
    return EXIT_OK


async def events(args: argparse.Namespace, connection: Connection) -> int:
    """The process's audit trail."""
    process: Process = args.process
    found = await process.client(await connection.cases()).events(args.application_id, reader=args.actor)
    print(process.events.dump_json(found, indent=2).decode() if args.json else events_text(found))
    return EXIT_OK


def add_composites(commands: Commands, parents: Sequence[Parser]) -> None:
    """``project``, ``establishment``, ``consultation`` and ``complaint``, each with its verbs."""
    for process in (PROJECT, ESTABLISHMENT, CONSULTATION, COMPLAINT):
        _add(commands, parents, process)


def _add(commands: Commands, parents: Sequence[Parser], process: Process) -> None:
    group = subcommand(commands, process.name, _usage, process.summary)
    verbs: Commands = group.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=Parser)
    opened = subcommand(verbs, "submit", submit, f"open a {process.name}", parents=parents)
    opened.add_argument("--id", dest="application_id", required=True, help="its number (the workflow id)")
    process.opening(opened, process)
    add_as(opened, "who submits, e.g. window-7:window_officer")
    opened.add_argument("--wait", type=float, default=REGISTRATION_WAIT, metavar="SECONDS")
    opened.set_defaults(process=process)
    for action in process.actions:
        parser = subcommand(verbs, action.name, act, action.summary, parents=parents)
        parser.add_argument("application_id", metavar="ID", help=f"the {process.name}'s number")
        add_as(parser, "who acts, e.g. window-7:window_officer")
        for flag in action.all_flags:
            flag.add_to(parser)
        parser.add_argument("--idempotency-key", metavar="KEY", help="a retry takes effect once")
        parser.set_defaults(action=action, process=process, **action.fixed)
    for name, handler, summary in (
        ("status", status, "every stage or item, working days used and left"),
        ("events", events, "the audit trail"),
    ):
        read = subcommand(verbs, name, handler, summary, parents=parents)
        read.add_argument("application_id", metavar="ID", help=f"the {process.name}'s number")
        add_as(read, "who reads")
        read.set_defaults(process=process)


def _submission_flags(parser: Parser, process: Process) -> None:
    """What opens a process on an applicant's materials (a project, an establishment, a consultation)."""
    parser.add_argument(
        "--matter",
        dest="matter_code",
        default=process.matter,
        required=process.matter is None,
        help="the catalogue entry",
    )
    if process is PROJECT:
        parser.add_argument("--type", dest="project_type", type=code, help="e.g. small_social_investment")
    parser.add_argument(
        "--applicant-id", dest="applicant.id_number", required=True, help="identity number or code"
    )
    parser.add_argument("--applicant-name", dest="applicant.name", required=True)
    parser.add_argument("--contact", dest="applicant.contact", required=True)
    parser.add_argument("--material", dest="materials", action="append", metavar="CODE", help="repeat")
    parser.add_argument("--channel", choices=[c.value for c in Channel], default=Channel.WINDOW.value)
    parser.add_argument(
        "--received-at", type=instant, help="ISO 8601; no offset means Shanghai (default now)"
    )
    parser.add_argument("--green-channel", action=argparse.BooleanOptionalAction, help="绿色通道")
    parser.add_argument("--steward", type=actor, metavar="ID:steward", help="assigned 项目管家")


def _complaint_flags(parser: Parser) -> None:
    """What a hotline operator takes down when a complaint is called in."""
    parser.add_argument("--caller-name", dest="caller.name", required=True)
    parser.add_argument("--caller-phone", dest="caller.phone", required=True)
    channels = [c.value for c in complaint.ComplaintChannel]
    parser.add_argument("--channel", choices=channels, default=channels[0], help="the hotline")
    parser.add_argument("--content", required=True, help="what the caller says")
    parser.add_argument("--category", dest="category_code", type=code, required=True, help="派单表's row")
    parser.add_argument("--concerns", metavar="ID", help="the application it is about, if any")


async def _usage(args: argparse.Namespace, connection: Connection) -> int:
    """Never run: argparse requires a verb after the process's name."""
    raise InvalidInput("give a verb (see --help)")
