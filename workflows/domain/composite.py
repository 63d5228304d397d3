"""What every composite process shares (a construction project, an enterprise establishment): stages whose
matters are applications of their own, what the engine reads of them, budgets in working days with their
warnings, and who reads the whole. Pure: each process's own rules (``project``, ``establishment``) decide
what these mean for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from workflows.domain.access import READS_EVERYTHING, pseudonym, reader_keys
from workflows.domain.application import (
    Status,
    require_acts_for,
    require_receipt_in_range,
    require_steward_fits,
)
from workflows.domain.calendar import end_of_day
from workflows.domain.catalogue import Matter, Stage
from workflows.domain.clock import DeadlineRules, StatutoryClock, WarningLevel, highest
from workflows.domain.commands import Command, ReviseTrustedKeys, Submission
from workflows.domain.errors import InvalidCommand, NotAllowed, NotAuthorised, UnknownApplication
from workflows.domain.events import Actor, Applicant, Channel, Event, Role, TrustedKeysRevised
from workflows.domain.values import ApplicationNumber, Code, Codes, Instant, KeyId, Text


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartReading(_Frozen):
    """One matter's application as the engine read it from Temporal (never as a caller claims it)."""

    application_id: ApplicationNumber
    status: Status
    closed: bool
    due_at: Instant | None = None
    decided_at: Instant | None = None
    warning_level: WarningLevel = WarningLevel.NONE
    working_days_used: int | None = None
    licence_number: str | None = None
    reason: Text = Field(default="", description="Why it ended, if it ended without a licence.")
    simulated: bool = False


class Part(_Frozen):
    """One matter of a stage and the application that decides it."""

    code: Code
    name: str
    departments: tuple[Code, ...]
    application_id: ApplicationNumber
    simulated: bool = False  # 模拟审批: its opinions have no legal effect until the precondition comes


class StageRun(_Frozen):
    """One stage as the process has run it so far."""

    code: Code
    provided: frozenset[str] = frozenset()
    accepted_at: Instant | None = None
    accepted_by: str | None = None
    parts: tuple[Part, ...] = ()
    decided_at: Instant | None = None  # the stage's last decision


def part_application_id(process_id: str, item: str) -> str:
    """The application number of one matter of a process: the process's, then the matter's code."""
    return f"{process_id}.{item}"


def parts_of(process_id: str, stage: Stage, *, simulated: bool = False) -> tuple[Part, ...]:
    """The applications a stage's administrative matters run as (a bank's service is tracked instead)."""
    return tuple(
        Part(
            code=item.code,
            name=item.name,
            departments=item.departments,
            application_id=part_application_id(process_id, item.code),
            simulated=simulated,
        )
        for item in stage.matters
        if item.administrative
    )


def changed_readings(
    runs: Iterable[StageRun], readings: Mapping[str, PartReading], read: Iterable[PartReading]
) -> dict[str, PartReading]:
    """What ``read`` changes of the recorded ``readings``, by part code; another's application is refused."""
    parts = {part.application_id: part.code for run in runs for part in run.parts}
    changed: dict[str, PartReading] = {}
    for reading in read:
        code = parts.get(reading.application_id)
        if code is None:
            raise InvalidCommand(f"{reading.application_id} is not a matter of this process")
        if readings.get(code) != reading:
            changed[code] = reading
    if not changed:
        raise InvalidCommand("nothing changed in the process's matters")
    return changed


# A matter whose application ended in one of these ended without a licence: the process cannot go on.
ENDED_WITHOUT_LICENCE = frozenset(
    {
        Status.NOT_ACCEPTED,
        Status.REFERRED,
        Status.WITHDRAWN,
        Status.ABANDONED,
        Status.REVOKED,
        Status.ENDED_WITH_PROJECT,
    }
)


class StageOutcome(_Frozen):
    """What a stage's matters mean for it: denied or ended by one of them, or all issued (and when the
    last was decided), or still under way (``None`` everywhere)."""

    denied: Part | None = None
    ended: Part | None = None
    reason: str = ""
    decided_at: Instant | None = None


def stage_outcome(parts: Iterable[Part], readings: Mapping[str, PartReading], now: datetime) -> StageOutcome:
    """A denial ends the stage (with its reason); a matter ended otherwise ends it too; all issued
    completes it, its counted time ending at the last decision."""
    current = [(part, readings.get(part.code)) for part in parts]
    for part, reading in current:
        if reading is not None and reading.status is Status.DENIED:
            why = f"{part.name}: 不予许可" + (f" — {reading.reason}" if reading.reason else "")
            return StageOutcome(denied=part, reason=why)
    for part, reading in current:
        if reading is not None and reading.status in ENDED_WITHOUT_LICENCE:
            why = f"{part.name}: {reading.status.value}" + (f" — {reading.reason}" if reading.reason else "")
            return StageOutcome(ended=part, reason=why)
    if current and all(reading is not None and reading.status is Status.ISSUED for _, reading in current):
        decided = [reading.decided_at for _, reading in current if reading and reading.decided_at]
        return StageOutcome(decided_at=max(decided, default=now))
    return StageOutcome()


# --- budgets, warnings and deadlines --------------------------------------------------------------------


class Budget(StrEnum):
    """Which budget of working days a warning is about."""

    STAGE = "stage"  # a stage's own share of the limit (catalogue split)
    WHOLE = "whole"  # the promised limit of the whole process (90, 1)


class BudgetMark(_Frozen):
    """An instant at which a warning level of a budget is reached."""

    level: WarningLevel
    subject: Budget
    at: Instant
    cause: str


class CompositePlan(_Frozen):
    """The running clocks' deadlines at one moment, computed with one calendar version (an event)."""

    calendar_version: str
    provisional: bool = False
    calendar_missing: int | None = None
    stage_due_at: Instant | None = None
    due_at: Instant | None = None
    marks: tuple[BudgetMark, ...] = ()

    def reached(self, subject: Budget, now: datetime) -> BudgetMark | None:
        """The highest mark of ``subject`` reached by ``now`` (the latest, among equals)."""
        passed = [mark for mark in self.marks if mark.subject is subject and mark.at <= now]
        return max(passed, key=lambda mark: (mark.level.rank, mark.at), default=None)


def budget_marks(
    clock: StatutoryClock, subject: Budget, what: str, rules: DeadlineRules, now: datetime
) -> tuple[datetime, bool, list[BudgetMark]]:
    """The clock's due instant, whether it is provisional, and its warning marks (DESIGN.md section 8:
    notice at ⅔ or one day left, yellow at 80 %, red when overdue; counted working days)."""
    deadline = clock.deadline(rules.working, now, rules.rest_day_receipt)
    days = clock.counted_days(rules.working, now, rules.rest_day_receipt)
    budget, policy = clock.budget, rules.warnings
    marks = [
        BudgetMark(level=level, subject=subject, at=end_of_day(days[day - 1]), cause=cause)
        for level, day, cause in (
            (
                WarningLevel.NOTICE,
                policy.notice_day(budget),
                f"{what} nears its limit of {budget} working days",
            ),
            (
                WarningLevel.YELLOW,
                policy.yellow_day(budget),
                f"{what} has used 80% of its {budget} working days",
            ),
            (WarningLevel.RED, budget, f"{what} overran its limit of {budget} working days"),
        )
        if 0 < day <= len(days)
    ]
    return deadline.due_at, deadline.provisional, marks


def next_mark(plan: CompositePlan | None, raised: Mapping[Budget, WarningLevel]) -> BudgetMark | None:
    """The earliest mark of a level not yet raised for its budget: the durable timer to arm."""
    if plan is None:
        return None
    ahead = [
        mark for mark in plan.marks if mark.level.rank > raised.get(mark.subject, WarningLevel.NONE).rank
    ]
    return min(ahead, key=lambda mark: mark.at, default=None)


# --- the engine's own commands, events and the state every composite process has --------------------------


class ReportParts(Command):
    """The engine's reading of the process's applications (the engine's own command)."""

    kind: Literal["report_parts"] = "report_parts"
    readings: tuple[PartReading, ...] = Field(min_length=1)


class RecordBudgets(Command):
    """The engine records the deadlines it computed (its own command)."""

    kind: Literal["record_budgets"] = "record_budgets"
    plan: CompositePlan


class RaiseBudgetWarning(Command):
    """A warning instant of the plan has passed (the engine's own command, from a durable timer)."""

    kind: Literal["raise_budget_warning"] = "raise_budget_warning"
    level: WarningLevel
    subject: Budget


class PartReported(Event):
    """A matter's application moved on, as the engine read it."""

    kind: Literal["part_reported"] = "part_reported"
    part: Code
    reading: PartReading


class StageCompleted(Event):
    """Every matter of the stage is decided and issued."""

    kind: Literal["stage_completed"] = "stage_completed"
    stage: Code
    decided_at: Instant = Field(description="The stage's last decision: where its counted time ends.")


class BudgetsPlanned(Event):
    """The process's deadlines, computed with one calendar version; replay reads them, never recomputes."""

    kind: Literal["budgets_planned"] = "budgets_planned"
    plan: CompositePlan


class BudgetWarningRaised(Event):
    """电子监察: a stage or the whole reached a warning level (red: overdue and escalated, 督办)."""

    kind: Literal["budget_warning_raised"] = "budget_warning_raised"
    level: WarningLevel
    subject: Budget
    stage: Code
    deadline_at: Instant


class ProcessSubmission(Submission):
    """What opens any composite process: the submission with the entry and rules in force pinned."""

    matter: Matter
    catalogue_version: str = Field(min_length=1)
    rules: DeadlineRules
    applicant_key: str | None = None
    trusted_keys: tuple[KeyId, ...] = ()


class ProcessSubmitted(Event):
    """What every composite process's first event records; the catalogue entry is copied in for good."""

    applicant: Applicant
    matter: Matter
    catalogue_version: str
    rules: DeadlineRules
    applicant_key: str | None = None
    trusted_keys: tuple[KeyId, ...] = ()
    materials: Codes
    channel: Channel
    received_at: Instant
    green_channel: bool = False
    steward: Actor | None = None


def check_submission(command: ProcessSubmission, now: datetime) -> None:
    """The rules every process's submission obeys: a steward only for the green channel (designated by
    the 营商局 or the intake, never by the applicant), a receipt the calendar knows, and an applicant or
    steward acting only for themselves or their own case."""
    require_steward_fits(command.green_channel, command.steward)
    require_receipt_in_range(command.received_at, command.rules, now)
    actor = command.actor
    if actor.role in (Role.APPLICANT, Role.STEWARD):
        require_acts_for(command.applicant, command.steward, actor)
    if actor.role is Role.APPLICANT and (command.green_channel or command.steward):
        raise NotAuthorised(actor.id, "绿色通道 is designated by the 营商局 or the intake")


class CompositeState(_Frozen):
    """What the fold of every composite process holds; each process adds its own status and fields."""

    process_id: str
    applicant: Applicant
    applicant_key: str | None
    matter: Matter
    catalogue_version: str
    rules: DeadlineRules
    channel: Channel
    received_at: Instant
    submitted_by: Actor
    green_channel: bool
    steward: Actor | None
    trusted_keys: tuple[str, ...]
    version: int
    runs: tuple[StageRun, ...]
    readings: dict[str, PartReading] = Field(default_factory=dict)  # by part code
    plan: CompositePlan | None = None
    warnings: tuple[BudgetWarningRaised, ...] = ()
    closed_at: Instant | None = None
    reason: str = ""

    @property
    def closed(self) -> bool:
        """No person's command changes the process any more (its matters may still be ending)."""
        return self.closed_at is not None

    @property
    def open_parts(self) -> tuple[Part, ...]:
        """The matters whose applications have not ended yet, by what the engine last read."""
        return tuple(
            part
            for run in self.runs
            for part in run.parts
            if part.code not in self.readings or not self.readings[part.code].closed
        )

    @property
    def readers(self) -> tuple[str, ...]:
        """The keys that may read the process."""
        return readers(self.applicant_key, self.submitted_by, self.matter.departments, self.steward)

    def warning_raised(self, subject: Budget | None = None, stage: str | None = None) -> WarningLevel:
        """The highest warning recorded (about ``subject``; a stage's: that stage's)."""
        return highest(
            w.level
            for w in self.warnings
            if (subject is None or w.subject is subject) and (stage is None or w.stage == stage)
        )

    def may_read(self, reader: Actor) -> bool:
        """Whether ``reader`` may read the process."""
        return may_read(self.applicant, self.readers, reader)

    def admit(self, command: Command) -> None:
        """A stranger learns nothing of the process; the engine's role is the engine's own."""
        admit(self.process_id, self.applicant, self.readers, command)


# --- reading -----------------------------------------------------------------------------------------


class MatterProgress(_Frozen):
    """One matter of a stage: its application and what the engine last read of it."""

    code: str
    name: str
    departments: tuple[str, ...]
    application_id: str | None
    status: str = Field(description="The application's status, 'started', 'not_started' or 'tracked'.")
    due_at: Instant | None = None
    decided_at: Instant | None = None
    warning_level: WarningLevel = WarningLevel.NONE
    licence_number: str | None = None
    simulated: bool = Field(default=False, description="模拟审批: an opinion without legal effect yet.")


def matters_of(
    stage: Stage, run: StageRun | None, readings: Mapping[str, PartReading]
) -> tuple[MatterProgress, ...]:
    """Every matter of ``stage`` as the progress shows it."""
    parts = {part.code: part for part in run.parts} if run else {}
    shown = []
    for item in stage.matters:
        part, reading = parts.get(item.code), readings.get(item.code)
        shown.append(
            MatterProgress(
                code=item.code,
                name=item.name,
                departments=item.departments,
                application_id=part.application_id if part else None,
                status=reading.status.value if reading else ("started" if part else "not_started"),
                due_at=reading.due_at if reading else None,
                decided_at=reading.decided_at if reading else None,
                warning_level=reading.warning_level if reading else WarningLevel.NONE,
                licence_number=reading.licence_number if reading else None,
                simulated=reading.simulated if reading else bool(part and part.simulated),
            )
        )
    return tuple(shown)


# --- who reads and acts ------------------------------------------------------------------------------


def readers(
    applicant_key: str | None, submitted_by: Actor, departments: Iterable[str], steward: Actor | None
) -> tuple[str, ...]:
    """The keys that may read the process (the key scheme of ``access.case_readers``); every composite
    process comes to the one window, so every window officer reads it."""
    keys = [f"applicant:{applicant_key}"] if applicant_key else []
    if submitted_by.role is Role.SYSTEM:
        keys.append(f"submitter:{pseudonym(submitted_by.id)}")
    keys += [f"department:{department}" for department in departments]
    if steward is not None:
        keys.append(f"steward:{pseudonym(steward.id)}")
    keys.append("window")
    return tuple(keys)


def may_read(applicant: Applicant, keys: tuple[str, ...], reader: Actor) -> bool:
    """Whether ``reader`` may read a process with reader ``keys`` (see ``access.may_read``)."""
    if reader.role in READS_EVERYTHING:
        return True
    if reader.role is Role.APPLICANT:
        return reader.key == applicant.key
    return not set(reader_keys(reader, pseudonym) or ()).isdisjoint(keys)


def admit(process_id: str, applicant: Applicant, keys: tuple[str, ...], command: Command) -> None:
    """A stranger learns nothing of the process; the engine's role and the trust store are the engine's."""
    if not may_read(applicant, keys, command.actor):
        raise UnknownApplication(f"no application {process_id}")
    if command.actor.role is Role.SYSTEM:
        raise NotAuthorised(command.actor.id, "system actions are the engine's own")
    if isinstance(command, ReviseTrustedKeys) and command.trusted_keys:
        raise InvalidCommand("trusted_keys: the engine reads the trust store itself; leave it out")


def require_role(authorised: Mapping[str, frozenset[Role]], actor: Actor, kind: str) -> None:
    """``actor``'s role must be one ``authorised`` names for ``kind``."""
    allowed = authorised[kind]
    if actor.role not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise NotAuthorised(actor.id, f"{kind} needs the role {roles}, not {actor.role.value}")


def revise_trusted_keys(
    state: CompositeState, command: ReviseTrustedKeys, now: datetime
) -> tuple[TrustedKeysRevised]:
    """A key rotation: the trust store as the worker read it, if it names keys and changes them."""
    if not command.trusted_keys:
        raise InvalidCommand("trusted_keys: the trust store names no key")
    if command.trusted_keys == state.trusted_keys:
        raise InvalidCommand("the process already trusts exactly these keys")
    revised = TrustedKeysRevised(
        at=now, actor=command.actor, reason=command.reason, trusted_keys=command.trusted_keys
    )
    return (revised,)


def record_budgets(state: CompositeState, command: RecordBudgets, now: datetime) -> tuple[BudgetsPlanned]:
    """The engine records the deadlines it computed, when they changed."""
    if command.plan == state.plan:
        raise InvalidCommand("the process's deadlines are unchanged")
    return (BudgetsPlanned(at=now, actor=command.actor, plan=command.plan),)


class _Statused(Protocol):
    """A state with a status: all the shared ``dispatch`` reads of any process's state."""

    @property
    def status(self) -> StrEnum: ...


_St = TypeVar("_St", bound=_Statused)
_Ev = TypeVar("_Ev")


def dispatch(
    state: _St | None,
    command: Command,
    now: datetime,
    *,
    opens: type[Command],
    submit: Callable[[Any, datetime], _Ev],
    transitions: Mapping[Any, frozenset[str]],
    authorised: Mapping[str, frozenset[Role]],
    handlers: Mapping[type, Callable[[_St, Any, datetime], tuple[_Ev, ...]]],
) -> tuple[_Ev, ...]:
    """A process's ``decide``: the events ``command`` causes at ``now``, or a ``OneWindowError`` saying
    why it is refused. Checks run in a fixed order, status (the transition table), role, then the
    command's own rules (identity among them), so a caller always learns the most basic reason first."""
    kind = str(command.model_dump(include={"kind"})["kind"])
    if isinstance(command, opens):
        if state is not None:
            raise NotAllowed(kind, state.status.value)
        require_role(authorised, command.actor, kind)
        return (submit(command, now),)
    if state is None:
        raise NotAllowed(kind, "not submitted")
    status = state.status
    if kind not in transitions[status]:
        raise NotAllowed(kind, status.value)
    require_role(authorised, command.actor, kind)
    return handlers[type(command)](state, command, now)
