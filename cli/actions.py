"""One subcommand per action a person may take on a case, declared as data (``ACTIONS``).

Each row names the subcommand, the domain command it gives and the flags that fill that command's fields.
The same rows make the parser, build the command, and write the ``may now`` verbs of a status table, so
the verbs a person is shown are exactly the ones the CLI takes.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import TypeAdapter

from cli.arguments import (
    Commands,
    Parser,
    actor,
    add_as,
    fields,
    flag_names,
    positive,
    steward,
    subcommand,
    validated,
)
from cli.connection import Connection
from cli.errors import EXIT_OK
from cli.render import view_text
from workflows.client import Cases
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    AddSigner,
    ChangeGreenChannel,
    Command,
    ExplainOverdue,
    ExtendDeadline,
    OrSignStep,
    RecordApproval,
    RecordRectification,
    ReferElsewhere,
    RejectApplication,
    RemoveSigner,
    RequestCorrection,
    ResumeClock,
    ReturnToWindow,
    ReviseTrustedKeys,
    SupplementMaterials,
    SuspendClock,
    TransferStep,
    UrgeStep,
    VerifyCommitment,
    WithdrawApplication,
)
from workflows.domain.events import Actor, Channel
from workflows.messages import ApplicationView

# The commands a person gives through the CLI (the engine gives the rest itself).
PersonCommand = (
    RequestCorrection
    | AcceptApplication
    | AcceptWithDeficiencies
    | RejectApplication
    | ReferElsewhere
    | SupplementMaterials
    | RecordApproval
    | SuspendClock
    | ResumeClock
    | ExtendDeadline
    | WithdrawApplication
    | ChangeGreenChannel
    | ReviseTrustedKeys
    | VerifyCommitment
    | RecordRectification
    | TransferStep
    | OrSignStep
    | ReturnToWindow
    | AddSigner
    | RemoveSigner
    | UrgeStep
)


@dataclass(frozen=True)
class Flag:
    """An option that fills the command's field ``field`` (its ``dest``, so errors name the option)."""

    option: str
    field: str
    metavar: str
    help: str
    type: Callable[[str], Any] = str
    repeat: bool = False
    required: bool = True
    switch_off: bool = False  # a flag without a value that sets the field to False (``--off``)
    switch_on: bool = False  # a flag without a value that sets the field to True (``--after``)

    def add_to(self, parser: Parser) -> None:
        """Declare the option on ``parser``."""
        if self.switch_off or self.switch_on:
            action = "store_false" if self.switch_off else "store_true"
            parser.add_argument(self.option, dest=self.field, action=action, help=self.help)
            return
        parser.add_argument(
            self.option,
            dest=self.field,
            type=self.type,
            required=self.required,
            metavar=self.metavar,
            help=self.help,
            action="append" if self.repeat else "store",
        )

    def usage(self, value: str | None = None) -> str:
        """How the flag is typed: ``--step health`` with a known value, else ``--missing CODE ...``."""
        if value is not None:
            return f"{self.option} {value}"
        return f"{self.option} {self.metavar}{' ...' if self.repeat else ''}"


@dataclass(frozen=True)
class Action:
    """A subcommand that gives one domain command; ``fixed`` fields are set by the subcommand itself."""

    name: str
    command: type[Command]
    summary: str
    flags: tuple[Flag, ...] = ()
    reason_required: bool = False  # the engine refuses the command without a reason
    fixed: Mapping[str, object] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The command's ``kind``, as the engine names it in pending actions."""
        return str(self.command.model_fields["kind"].default)

    @property
    def all_flags(self) -> tuple[Flag, ...]:
        """Its own flags, then ``--reason``."""
        reason = Flag(
            "--reason",
            "reason",
            "WHY",
            "why (recorded, and told to the applicant)",
            required=self.reason_required,
        )
        return (*self.flags, reason)

    def verb(self, **known: str) -> str:
        """The subcommand as a person would type it, with the required flags (and any value known)."""
        given = [f.usage(known.get(f.field)) for f in self.all_flags if f.required or f.field in known]
        return " ".join([self.name, *given])


_STEP = Flag("--step", "step", "STEP", "the approval step (see status: may now)")

ACTIONS: tuple[Action, ...] = (
    Action(
        "request-correction",
        RequestCorrection,
        "补正告知: list every missing item at once (R-XK-32)",
        (Flag("--missing", "missing", "CODE", "a missing item; repeat", repeat=True),),
    ),
    Action("accept", AcceptApplication, "受理: all materials present"),
    Action(
        "accept-deficient",
        AcceptWithDeficiencies,
        "容缺受理: accept with secondary materials promised (the engine checks credit)",
        (
            Flag("--missing", "missing", "CODE", "a secondary material promised; repeat", repeat=True),
            Flag("--within", "supplement_within", "DAYS", "working days to supply them", type=positive),
            Flag("--commitment", "commitment", "REF", "the signed 承诺书's reference"),
        ),
    ),
    Action(
        "reject", RejectApplication, "不予受理, with the reason told to the applicant", reason_required=True
    ),
    Action(
        "refer",
        ReferElsewhere,
        "outside competence: name where to apply (R-XK-32c)",
        (Flag("--to", "competent_organ", "ORGAN", "the competent organ"),),
    ),
    Action(
        "supplement",
        SupplementMaterials,
        "materials provided (after 补正, or a 容缺 promise kept)",
        (
            Flag("--material", "materials", "CODE", "a material provided; repeat", repeat=True),
            Flag(
                "--channel",
                "channel",
                "online|window",
                "brought to the window or sent online (最多跑一次 counts the visits)",
                type=Channel,
                required=False,
            ),
        ),
    ),
    Action(
        "approve",
        RecordApproval,
        "record a department's approval of one step",
        (_STEP,),
        fixed={"approved": True},
    ),
    Action(
        "refuse",
        RecordApproval,
        "record a department's refusal of one step",
        (_STEP,),
        reason_required=True,
        fixed={"approved": False},
    ),
    Action(
        "suspend",
        SuspendClock,
        "stop the clock for an R-XK-45 pause or one the matter lists",
        (
            Flag("--pause", "pause", "PAUSE", "e.g. expert_review, inspection, hearing"),
            Flag("--days", "expected_working_days", "DAYS", "expected working days", type=positive),
        ),
    ),
    Action("resume", ResumeClock, "restart the clock"),
    Action(
        "transfer",
        TransferStep,
        "转办: hand a pending step to another approver of its department",
        (_STEP, Flag("--to", "to", "ID:approver:DEPT", "the approver who decides it now", type=actor)),
    ),
    Action(
        "or-sign",
        OrSignStep,
        "或签: give a pending step to several approvers of its department; any one decides",
        (
            _STEP,
            Flag("--decider", "deciders", "ID:approver:DEPT", "an approver; repeat", type=actor, repeat=True),
        ),
    ),
    Action(
        "return",
        ReturnToWindow,
        "退回: send the case back to the window for materials (the reason is told to the applicant)",
        (
            Flag("--material", "materials", "CODE", "a material to bring again; repeat", repeat=True),
            Flag("--within", "supplement_within", "DAYS", "working days to bring them", type=positive),
        ),
        reason_required=True,
    ),
    Action(
        "add-signer",
        AddSigner,
        "加签 (lead department): add a department's step before the one under review, or --after it",
        (
            Flag("--department", "department", "DEPT", "the department whose step is added"),
            Flag("--after", "after", "", "after the step under review", required=False, switch_on=True),
        ),
        reason_required=True,
    ),
    Action(
        "remove-signer",
        RemoveSigner,
        "减签 (lead department): take back an added step not decided yet",
        (_STEP,),
        reason_required=True,
    ),
    Action(
        "urge", UrgeStep, "催办 (supervisor, window): urge a pending step; its department is told", (_STEP,)
    ),
    Action(
        "explain-overdue",
        ExplainOverdue,
        "优化营商环境条例 第36条: the department head says why an overdue case is late (published)",
        (Flag("--explanation", "explanation", "TEXT", "why the case is late"),),
    ),
    Action(
        "extend",
        ExtendDeadline,
        "the one extension: department head (R-XK-42a), government leader for joint handling (R-XK-42b)",
        (Flag("--days", "working_days", "DAYS", "working days added", type=positive),),
        reason_required=True,
    ),
    Action(
        "commitment-verified",
        VerifyCommitment,
        "告知承诺 核查 (approver): the commitment found true",
        reason_required=True,
        fixed={"kept": True},
    ),
    Action(
        "commitment-untrue",
        VerifyCommitment,
        "告知承诺 核查 (approver): found untrue; the applicant must rectify",
        (
            Flag(
                "--within",
                "rectify_within",
                "DAYS",
                "working days to rectify (default and most: the matter's own)",
                type=positive,
                required=False,
            ),
        ),
        reason_required=True,
        fixed={"kept": False},
    ),
    Action(
        "rectified",
        RecordRectification,
        "告知承诺 (approver): the rectification was made; the licence stands",
        reason_required=True,
        fixed={"rectified": True},
    ),
    Action(
        "not-rectified",
        RecordRectification,
        "告知承诺 (approver): not rectified; the licence is revoked and the credit record written",
        reason_required=True,
        fixed={"rectified": False},
    ),
    Action("withdraw", WithdrawApplication, "撤回 by the applicant or the green-channel steward"),
    Action(
        "revise-keys",
        ReviseTrustedKeys,
        "key rotation (supervisor): the case trusts the keys of its worker's trust store as it is now",
        reason_required=True,
    ),
    Action(
        "green-channel",
        ChangeGreenChannel,
        "绿色通道 (supervisor): put the case in, with its steward, or take it out with --off",
        (
            Flag(
                "--steward",
                "steward",
                "ID",
                "the 项目管家 who acts for the applicant",
                type=steward,
                required=False,
            ),
            Flag(
                "--off",
                "green_channel",
                "",
                "take the case out of the green channel",
                required=False,
                switch_off=True,
            ),
        ),
        reason_required=True,
    ),
)


def add_actions(commands: Commands, parents: Sequence[Parser]) -> None:
    """One subcommand per row of ``ACTIONS``."""
    for action in ACTIONS:
        parser = subcommand(commands, action.name, act, action.summary, parents=parents)
        parser.add_argument("application_id", metavar="ID", help="application number")
        add_as(parser, "who acts, e.g. window-7:window_officer or zhang:approver:health")
        for flag in action.all_flags:
            flag.add_to(parser)
        parser.add_argument(
            "--idempotency-key", metavar="KEY", help="a retry with the same key and command takes effect once"
        )
        parser.set_defaults(action=action, **action.fixed)


def command_of(args: argparse.Namespace) -> Command:
    """The domain command the subcommand's flags make; a bad value is refused naming its flag."""
    action: Action = args.action
    adapter: TypeAdapter[Command] = TypeAdapter(action.command)
    return validated(adapter, fields(args, action.command.model_fields), flag_names(args))


async def act(args: argparse.Namespace, connection: Connection) -> int:
    """Give the command (once per ``--idempotency-key``) and show the case as it now stands."""
    command = cast(PersonCommand, command_of(args))  # an ACTIONS row names one of them
    cases = await connection.cases()
    view = await cases.act(args.application_id, command, idempotency_key=args.idempotency_key)
    await show(args, cases, view, command.actor)
    return EXIT_OK


# --- what a person may do now -------------------------------------------------------------------------------


def may_now(view: ApplicationView, reader: Actor) -> tuple[str, ...]:
    """The CLI verbs ``reader`` may give now, as typed (without the number and ``--as``).

    Only what their role allows: a role the action names, and for approvers and department heads one of
    the action's departments; an approval step only where it is their department's.
    """
    verbs: list[str] = []
    for pending in view.pending_actions:
        if not pending.open_to(reader):
            continue
        for action in ACTIONS:
            if action.kind != pending.command:
                continue
            if pending.steps:
                verbs += [action.verb(step=step.code) for step in pending.steps_for(reader)]
            else:
                verbs.append(action.verb())
    return tuple(verbs)


async def show(args: argparse.Namespace, cases: Cases, view: ApplicationView, reader: Actor) -> None:
    """The view as ``--json`` (the engine's, unchanged) or as a table ending with ``reader``'s verbs."""
    if args.json:
        print(view.model_dump_json(indent=2))
        return
    print(view_text(view, may_now(view, reader)))
