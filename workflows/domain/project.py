"""An engineering-construction project's rules (一家牵头、并联审批、限时办结; DESIGN.md sections 4, 7, 9).

A project runs its catalogue entry's stages in order. Each stage is one combined application at the one
window, with that stage's materials only, accepted by the window on behalf of the stage's lead department;
its matters then run in parallel as applications of their own (``Matter.part``), each with its own
acceptance, corrections, pauses, deadlines and decisions. The project counts the government's time only:
its clock runs from a stage's acceptance to the stage's last decision, and stands while the project waits
for the applicant (preparing the next stage's materials, building between the construction permit and
completion acceptance). Each budgeted stage has its own share of the limit.

``decide(state, command, now)`` refuses with a ``OneWindowError`` or returns events; ``evolve`` folds one
event and never raises; the state is always the fold of the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from functools import reduce
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.domain.application import (
    ENGINE,
    Status,
    require_acts_for,
)
from workflows.domain.calendar import local_date
from workflows.domain.catalogue import Importance, Matter, Stage
from workflows.domain.clock import (
    StatutoryClock,
    Suspension,
    WarningLevel,
    highest,
)
from workflows.domain.commands import Command, ReviseTrustedKeys
from workflows.domain.composite import (
    Budget,
    BudgetsPlanned,
    BudgetWarningRaised,
    CompositePlan,
    CompositeState,
    MatterProgress,
    Part,
    PartReported,
    ProcessSubmission,
    ProcessSubmitted,
    RaiseBudgetWarning,
    RecordBudgets,
    ReportParts,
    StageCompleted,
    StageRun,
    budget_marks,
    changed_readings,
    check_submission,
    dispatch,
    matters_of,
    next_mark,
    parts_of,
    record_budgets,
    revise_trusted_keys,
    stage_outcome,
)
from workflows.domain.errors import (
    CalendarNotPublished,
    DeadlineOutOfRange,
    InvalidCommand,
    MaterialsIncomplete,
)
from workflows.domain.events import Event, Role, TrustedKeysRevised
from workflows.domain.values import ApplicationNumber, Code, Codes, Instant, Name, WorkingDays

# How long the project stands between stages is the applicant's: a suspension of the project clock that
# nobody expects to end on a given day (the ledger needs a length; it raises no warning).
_APPLICANT_TIME = "applicant_time"


class ProjectStatus(StrEnum):
    """Where a project stands."""

    AWAITING_APPLICANT = "awaiting_applicant"  # between stages: the applicant's time, the clock stands
    STAGE_RECEIVED = "stage_received"  # a stage's materials are at the window
    IN_STAGE = "in_stage"  # with the government: the clocks run
    COMPLETED = "completed"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    ABANDONED = "abandoned"
    LAPSED = "lapsed"  # 模拟审批: the precondition was not met in time; the simulated opinions lapsed
    NOT_FOR_USE = "not_for_use"  # 投资承诺制: completion acceptance found the commitment broken


class Simulation(BaseModel):
    """模拟审批 of one stage: the precondition it waits for, by when, and whether it came."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Code
    material: Code
    due_at: Instant
    met_at: Instant | None = None
    evidence: str | None = None


# --- messages -----------------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- commands -----------------------------------------------------------------------------------------


class SubmitProject(ProcessSubmission):
    """Open a project at the one window; ``materials`` are the first stage's."""

    kind: Literal["submit_project"] = "submit_project"
    project_id: ApplicationNumber
    project_type: Code | None = None
    commitment: Name | None = Field(default=None, description="投资承诺制: the 承诺书 against the standards.")
    skipped: tuple[Code, ...] = Field(default=(), description="The pre-approvals the commitment replaces.")


class SubmitStage(Command):
    """The applicant (or steward, or window) brings the current stage's materials, or more of them."""

    kind: Literal["submit_stage"] = "submit_stage"
    materials: Codes = Field(min_length=1)


class AcceptStage(Command):
    """The window accepts the stage on behalf of its lead department: its matters start in parallel.

    模拟审批: a key project's stage may be accepted ``simulated`` while its precondition (the land rights)
    is still missing, the precondition due within ``precondition_within`` working days."""

    kind: Literal["accept_stage"] = "accept_stage"
    simulated: bool = False
    precondition_within: WorkingDays | None = None


class MeetPrecondition(Command):
    """模拟审批: the precondition's evidence (the land-use contract): the simulated opinions become formal."""

    kind: Literal["meet_precondition"] = "meet_precondition"
    evidence: Name


class LapsePrecondition(Command):
    """The precondition's deadline passed without it (the engine's own command, from a durable timer)."""

    kind: Literal["lapse_precondition"] = "lapse_precondition"


class WithdrawProject(Command):
    """The applicant withdraws the project; every open matter follows."""

    kind: Literal["withdraw_project"] = "withdraw_project"


ProjectCommand = Annotated[
    SubmitProject
    | SubmitStage
    | AcceptStage
    | MeetPrecondition
    | LapsePrecondition
    | WithdrawProject
    | ReportParts
    | RecordBudgets
    | RaiseBudgetWarning
    | ReviseTrustedKeys,
    Field(discriminator="kind"),
]


# --- events -------------------------------------------------------------------------------------------


class ProjectSubmitted(ProcessSubmitted):
    """The one window received a project (of its type)."""

    kind: Literal["project_submitted"] = "project_submitted"
    project_id: ApplicationNumber
    project_type: Code | None = None
    commitment: Name | None = None
    skipped: tuple[Code, ...] = ()


class StageMaterialsReceived(Event):
    """Materials of the current stage came to the window."""

    kind: Literal["stage_materials_received"] = "stage_materials_received"
    stage: Code
    materials: Codes


class StageAccepted(Event):
    """受理: the window accepted the stage for its lead department; its matters start (one notice number)."""

    kind: Literal["stage_accepted"] = "stage_accepted"
    stage: Code
    on_behalf_of: Code
    notice_number: str
    parts: tuple[Part, ...]
    simulation: Simulation | None = Field(default=None, description="模拟审批: the precondition awaited.")


class PreconditionMet(Event):
    """模拟审批: the precondition came (its evidence); every simulated opinion of the stage becomes formal."""

    kind: Literal["precondition_met"] = "precondition_met"
    material: Code
    evidence: Name


class SimulationLapsed(Event):
    """模拟审批: the precondition did not come by its deadline; the opinions lapse and the project ends."""

    kind: Literal["simulation_lapsed"] = "simulation_lapsed"


class CommitmentFailed(Event):
    """投资承诺制: completion acceptance found the commitment broken; the project may not be put into use."""

    kind: Literal["commitment_failed"] = "commitment_failed"
    part: Code


class ProjectCompleted(Event):
    """The last stage is completed (竣工验收 passed and filed)."""

    kind: Literal["project_completed"] = "project_completed"


class ProjectDenied(Event):
    """A matter was denied: the stage and the project end, with its reason."""

    kind: Literal["project_denied"] = "project_denied"
    part: Code


class ProjectWithdrawn(Event):
    """The applicant withdrew the project; its open matters follow."""

    kind: Literal["project_withdrawn"] = "project_withdrawn"


class ProjectAbandoned(Event):
    """A matter ended without a licence (not accepted, withdrawn, abandoned): the project cannot go on."""

    kind: Literal["project_abandoned"] = "project_abandoned"
    part: Code


ProjectEvent = Annotated[
    ProjectSubmitted
    | StageMaterialsReceived
    | StageAccepted
    | PartReported
    | StageCompleted
    | ProjectCompleted
    | ProjectDenied
    | ProjectWithdrawn
    | ProjectAbandoned
    | PreconditionMet
    | SimulationLapsed
    | CommitmentFailed
    | BudgetsPlanned
    | BudgetWarningRaised
    | TrustedKeysRevised,
    Field(discriminator="kind"),
]


# --- the transition table -----------------------------------------------------------------------------

FINAL = frozenset(
    {
        ProjectStatus.COMPLETED,
        ProjectStatus.DENIED,
        ProjectStatus.WITHDRAWN,
        ProjectStatus.ABANDONED,
        ProjectStatus.LAPSED,
        ProjectStatus.NOT_FOR_USE,
    }
)
_WHILE_OPEN = frozenset({"report_parts", "record_budgets", "revise_trusted_keys"})

# status -> the commands it admits, as data a policy officer can review. A closed project still hears
# from its matters while they follow it to their end.
TRANSITIONS: Mapping[ProjectStatus, frozenset[str]] = {
    ProjectStatus.AWAITING_APPLICANT: _WHILE_OPEN | {"submit_stage", "withdraw_project"},
    ProjectStatus.STAGE_RECEIVED: _WHILE_OPEN | {"submit_stage", "accept_stage", "withdraw_project"},
    ProjectStatus.IN_STAGE: _WHILE_OPEN
    | {"withdraw_project", "raise_budget_warning", "meet_precondition", "lapse_precondition"},
    **{status: frozenset({"report_parts"}) for status in FINAL},
}

AUTHORISED_ROLES: Mapping[str, frozenset[Role]] = {
    "submit_project": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER, Role.SYSTEM}),
    "submit_stage": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER}),
    "accept_stage": frozenset({Role.WINDOW_OFFICER}),
    "withdraw_project": frozenset({Role.APPLICANT, Role.STEWARD}),
    "meet_precondition": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER}),
    "lapse_precondition": frozenset({Role.SYSTEM}),
    "report_parts": frozenset({Role.SYSTEM}),
    "record_budgets": frozenset({Role.SYSTEM}),
    "raise_budget_warning": frozenset({Role.SYSTEM}),
    "revise_trusted_keys": frozenset({Role.SUPERVISOR}),
}

# The commands a person may give on an open project.
PEOPLE_COMMANDS: tuple[str, ...] = tuple(
    kind for kind, roles in AUTHORISED_ROLES.items() if roles - {Role.SYSTEM} and kind != "submit_project"
)

# A matter whose application ended in one of these ended without a licence: the project cannot go on.
_ENDED_WITHOUT_LICENCE = frozenset(
    {Status.NOT_ACCEPTED, Status.REFERRED, Status.WITHDRAWN, Status.ABANDONED, Status.REVOKED}
)


# --- state --------------------------------------------------------------------------------------------


class ProjectState(CompositeState):
    """The fold of a project's events; never stored, always derived."""

    project_type: str | None
    status: ProjectStatus
    commitment: str | None = None
    skipped: tuple[str, ...] = ()
    simulation: Simulation | None = None

    @property
    def stage(self) -> Stage:
        """The stage the project is in (or last ran)."""
        return self.matter.stages[len(self.runs) - 1]

    @property
    def run(self) -> StageRun:
        """The current stage's run."""
        return self.runs[-1]

    @property
    def missing(self) -> tuple[str, ...]:
        """The current stage's materials not yet provided, in catalogue order."""
        return tuple(
            m.code for m in self.matter.stage_materials(self.stage) if m.code not in self.run.provided
        )

    def project_clock(self) -> StatutoryClock | None:
        """The government's time on the whole: from the first acceptance, the applicant's time between
        stages suspended (section 9); None before the first acceptance."""
        first = self.runs[0].accepted_at
        if first is None:
            return None
        waits = []
        for before, after in zip(self.runs, self.runs[1:], strict=False):
            if before.decided_at is None:
                continue
            waits.append(
                Suspension(
                    reason=_APPLICANT_TIME,
                    started_at=before.decided_at,
                    expected_working_days=1,
                    ended_at=after.accepted_at,
                )
            )
        last = self.runs[-1]
        if last.decided_at is not None and self.status is not ProjectStatus.COMPLETED:
            waits.append(
                Suspension(reason=_APPLICANT_TIME, started_at=last.decided_at, expected_working_days=1)
            )
        return StatutoryClock(started_at=first, budget=self.matter.limit, suspensions=tuple(waits))

    def stage_clock(self, index: int) -> StatutoryClock | None:
        """A budgeted stage's own clock, from its acceptance; None if unbudgeted or not yet accepted."""
        run, stage = self.runs[index], self.matter.stages[index]
        if run.accepted_at is None or stage.working_days is None:
            return None
        return StatutoryClock(started_at=run.accepted_at, budget=stage.working_days)

    @property
    def ended_at(self) -> datetime | None:
        """When the government's time ended for good: completion, or the project's close."""
        if self.status is ProjectStatus.COMPLETED:
            return self.runs[-1].decided_at
        return self.closed_at


def start(event: ProjectSubmitted) -> ProjectState:
    """The state opened by the first event."""
    first = event.matter.stages[0].code
    return ProjectState(
        process_id=event.project_id,
        commitment=event.commitment,
        skipped=event.skipped,
        applicant=event.applicant,
        applicant_key=event.applicant_key,
        matter=event.matter,
        project_type=event.project_type,
        catalogue_version=event.catalogue_version,
        rules=event.rules,
        channel=event.channel,
        received_at=event.received_at,
        submitted_by=event.actor,
        green_channel=event.green_channel,
        steward=event.steward,
        trusted_keys=event.trusted_keys,
        status=ProjectStatus.STAGE_RECEIVED,
        version=1,
        runs=(StageRun(code=first, provided=frozenset(event.materials)),),
    )


def evolve(state: ProjectState, event: ProjectEvent) -> ProjectState:  # noqa: PLR0912 - a case per event
    """Apply one event. Never raises: every rule was checked by ``decide`` before the event existed."""
    changes: dict[str, Any] = {"version": state.version + 1}
    runs = list(state.runs)
    match event:
        case StageMaterialsReceived():
            if state.status is ProjectStatus.AWAITING_APPLICANT:
                runs.append(StageRun(code=event.stage))
            runs[-1] = runs[-1].model_copy(update={"provided": runs[-1].provided | set(event.materials)})
            changes |= {"runs": tuple(runs), "status": ProjectStatus.STAGE_RECEIVED}
        case StageAccepted():
            accepted = {"accepted_at": event.at, "accepted_by": event.actor.key, "parts": event.parts}
            runs[-1] = runs[-1].model_copy(update=accepted)
            changes |= {"runs": tuple(runs), "status": ProjectStatus.IN_STAGE, "simulation": event.simulation}
        case PreconditionMet() if state.simulation is not None:
            runs[-1] = runs[-1].model_copy(update={"provided": runs[-1].provided | {event.material}})
            met = {"met_at": event.at, "evidence": event.evidence}
            changes |= {"runs": tuple(runs), "simulation": state.simulation.model_copy(update=met)}
        case SimulationLapsed():
            changes |= {"status": ProjectStatus.LAPSED, "closed_at": event.at, "reason": event.reason}
        case CommitmentFailed():
            changes |= {"status": ProjectStatus.NOT_FOR_USE, "closed_at": event.at, "reason": event.reason}
        case PartReported():
            changes["readings"] = state.readings | {event.part: event.reading}
        case StageCompleted():
            runs[-1] = runs[-1].model_copy(update={"decided_at": event.decided_at})
            changes |= {"runs": tuple(runs), "status": ProjectStatus.AWAITING_APPLICANT}
        case ProjectCompleted():
            changes |= {"status": ProjectStatus.COMPLETED, "closed_at": event.at}
        case ProjectDenied():
            changes |= {"status": ProjectStatus.DENIED, "closed_at": event.at, "reason": event.reason}
        case ProjectWithdrawn():
            changes |= {"status": ProjectStatus.WITHDRAWN, "closed_at": event.at, "reason": event.reason}
        case ProjectAbandoned():
            changes |= {"status": ProjectStatus.ABANDONED, "closed_at": event.at, "reason": event.reason}
        case BudgetsPlanned():
            changes["plan"] = event.plan
        case BudgetWarningRaised():
            changes["warnings"] = (*state.warnings, event)
        case TrustedKeysRevised():
            changes["trusted_keys"] = event.trusted_keys
    return state.model_copy(update=changes)


def replay(events: Iterable[ProjectEvent]) -> ProjectState:
    """The current state: the fold of the whole event log."""
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, ProjectSubmitted):
        raise ValueError("a project's log starts with ProjectSubmitted")
    return reduce(evolve, iterator, start(first))


# --- decide -------------------------------------------------------------------------------------------


def decide(state: ProjectState | None, command: ProjectCommand, now: datetime) -> tuple[ProjectEvent, ...]:
    """The events ``command`` causes at ``now``, or a ``OneWindowError`` saying why it is refused
    (status first, then role, identity and the command's own rules)."""
    return dispatch(
        state,
        command,
        now,
        opens=SubmitProject,
        submit=_submit,
        transitions=TRANSITIONS,
        authorised=AUTHORISED_ROLES,
        handlers=_HANDLERS,
    )


def _submit(command: SubmitProject, now: datetime) -> ProjectSubmitted:
    if not command.matter.stages:
        raise InvalidCommand(f"matter {command.matter.code} has no stages: submit it as an application")
    check_submission(command, now)
    _require_stage_materials(command.matter, command.matter.stages[0], command.materials)
    if command.skipped and not command.commitment:
        raise InvalidCommand("commitment: a project of this type builds on its written commitment (承诺书)")
    if command.commitment and not command.skipped:
        raise InvalidCommand("commitment: only a 投资承诺制 project type takes a commitment")
    fields = command.model_dump(exclude={"kind", "actor", "reason", "assertion"})
    return ProjectSubmitted(at=now, actor=command.actor, reason=command.reason, **fields)


def _require_stage_materials(matter: Matter, stage: Stage, codes: Iterable[str]) -> None:
    """Section 9: each stage is accepted with its own materials only; another stage's are refused."""
    wanted = {m.code for m in matter.stage_materials(stage)}
    unknown = sorted(set(codes) - wanted)
    if unknown:
        raise InvalidCommand(
            f"stage {stage.code} asks for no material {', '.join(unknown)}"
            f" (it asks for {', '.join(sorted(wanted))})"
        )


def _submit_stage(state: ProjectState, command: SubmitStage, now: datetime) -> tuple[ProjectEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    index = len(state.runs) - 1
    if state.status is ProjectStatus.AWAITING_APPLICANT:
        index += 1
        if index >= len(state.matter.stages):  # not reachable: the last stage completes the project
            raise InvalidCommand("the project has no further stage")
    stage = state.matter.stages[index]
    _require_stage_materials(state.matter, stage, command.materials)
    received = StageMaterialsReceived(
        at=now, actor=command.actor, reason=command.reason, stage=stage.code, materials=command.materials
    )
    return (received,)


def _accept_stage(state: ProjectState, command: AcceptStage, now: datetime) -> tuple[ProjectEvent, ...]:
    stage = state.stage
    simulation = _simulation(state, command, now) if command.simulated else None
    core_missing = tuple(
        code
        for code in state.missing
        if state.matter.material(code).importance is Importance.CORE  # type: ignore[union-attr]
        and not (simulation and code == simulation.material)
    )
    if core_missing:
        raise MaterialsIncomplete(core_missing)
    accepted = StageAccepted(
        at=now,
        actor=command.actor,
        reason=command.reason,
        stage=stage.code,
        on_behalf_of=stage.lead_department,
        notice_number=f"{state.process_id}-{state.version + 1:03d}",
        parts=parts_of(state.process_id, stage, simulated=simulation is not None),
        simulation=simulation,
    )
    return (accepted,)


def _simulation(state: ProjectState, command: AcceptStage, now: datetime) -> Simulation:
    """模拟审批 (DESIGN.md section 6): for a key project, a stage whose precondition is still missing,
    with the precondition's own deadline in working days."""
    stage = state.stage
    if not state.green_channel:
        raise InvalidCommand("simulated: 模拟审批 is for key projects (the green channel)")
    if stage.precondition is None:
        raise InvalidCommand(f"simulated: stage {stage.code} has no precondition to wait for")
    if stage.precondition in state.run.provided:
        raise InvalidCommand(f"simulated: {stage.precondition} is here already; accept the stage formally")
    if command.precondition_within is None:
        raise InvalidCommand("precondition_within: how many working days the precondition may take")
    try:
        due = state.rules.working.deadline(local_date(now), command.precondition_within)
    except CalendarNotPublished as missing:
        raise DeadlineOutOfRange(
            "precondition_within", command.precondition_within, f"the calendar data ({missing.year})"
        ) from None
    return Simulation(stage=stage.code, material=stage.precondition, due_at=due.due_at)


def _meet_precondition(
    state: ProjectState, command: MeetPrecondition, now: datetime
) -> tuple[ProjectEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    simulation = state.simulation
    if simulation is None or simulation.stage != state.stage.code or simulation.met_at is not None:
        raise InvalidCommand("no simulated approval awaits its precondition in this stage")
    met = PreconditionMet(
        at=now,
        actor=command.actor,
        reason=command.reason,
        material=simulation.material,
        evidence=command.evidence,
    )
    return (met,)


def _lapse(state: ProjectState, command: LapsePrecondition, now: datetime) -> tuple[ProjectEvent, ...]:
    simulation = state.simulation
    if simulation is None or simulation.met_at is not None or now < simulation.due_at:
        raise InvalidCommand("no precondition is overdue")
    reason = f"模拟审批意见失效：{simulation.material} 未在期限内提供"
    return (SimulationLapsed(at=now, actor=command.actor, reason=reason),)


def _withdraw(state: ProjectState, command: WithdrawProject, now: datetime) -> tuple[ProjectEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    return (ProjectWithdrawn(at=now, actor=command.actor, reason=command.reason or "撤回申请"),)


def _report_parts(state: ProjectState, command: ReportParts, now: datetime) -> tuple[ProjectEvent, ...]:
    """Record what changed in the matters' applications, and what it means for the stage and project."""
    changed = changed_readings(state.runs, state.readings, command.readings)
    actor = command.actor
    events: list[ProjectEvent] = [
        PartReported(at=now, actor=actor, part=code, reading=reading) for code, reading in changed.items()
    ]
    if state.status is not ProjectStatus.IN_STAGE:
        return tuple(events)
    outcome = stage_outcome(state.run.parts, state.readings | changed, now)
    last_stage = len(state.runs) == len(state.matter.stages)
    if outcome.denied is not None and state.commitment and last_stage:
        # 投资承诺制: completion acceptance checks the commitment; a failure keeps the building out of use.
        why = f"投资承诺未兑现，不得投入使用：{outcome.reason}"
        events.append(CommitmentFailed(at=now, actor=actor, reason=why, part=outcome.denied.code))
    elif outcome.denied is not None:
        events.append(ProjectDenied(at=now, actor=actor, reason=outcome.reason, part=outcome.denied.code))
    elif outcome.ended is not None:
        events.append(ProjectAbandoned(at=now, actor=actor, reason=outcome.reason, part=outcome.ended.code))
    elif outcome.decided_at is not None:
        events.append(
            StageCompleted(at=now, actor=actor, stage=state.stage.code, decided_at=outcome.decided_at)
        )
        if last_stage:
            events.append(ProjectCompleted(at=now, actor=actor, reason="各阶段全部办结"))
    return tuple(events)


def _raise_warning(
    state: ProjectState, command: RaiseBudgetWarning, now: datetime
) -> tuple[ProjectEvent, ...]:
    """Raise the highest level of ``subject`` reached by ``now`` (several marks may have passed at once)."""
    plan = state.plan
    mark = plan.reached(command.subject, now) if plan else None
    if plan is None or mark is None or command.level.rank > mark.level.rank:
        raise InvalidCommand(f"{command.subject.value} has not reached {command.level.value}")
    stage = state.stage.code
    if mark.level.rank <= state.warning_raised(command.subject, _subject_stage(command.subject, stage)).rank:
        raise InvalidCommand(f"{command.subject.value} warning {mark.level.value} was already raised")
    deadline = plan.stage_due_at if command.subject is Budget.STAGE else plan.due_at
    raised = BudgetWarningRaised(
        at=now,
        actor=command.actor,
        reason=f"{_used_text(state, command.subject, now)}{mark.cause}",
        level=mark.level,
        subject=command.subject,
        stage=stage,
        deadline_at=deadline or now,
    )
    return (raised,)


def _subject_stage(subject: Budget, stage: str) -> str | None:
    return stage if subject is Budget.STAGE else None


def _used_text(state: ProjectState, subject: Budget, now: datetime) -> str:
    reading = progress_of(state, now)
    if subject is Budget.WHOLE:
        return f"{reading.working_days_used} of {reading.working_days_budget} counted working days used; "
    current = reading.stages[len(state.runs) - 1]
    return f"{current.working_days_used} of {current.working_days_budget} counted working days used; "


_HANDLERS: Mapping[type, Callable[[ProjectState, Any, datetime], tuple[ProjectEvent, ...]]] = {
    SubmitStage: _submit_stage,
    AcceptStage: _accept_stage,
    WithdrawProject: _withdraw,
    MeetPrecondition: _meet_precondition,
    LapsePrecondition: _lapse,
    ReportParts: _report_parts,
    RecordBudgets: record_budgets,
    RaiseBudgetWarning: _raise_warning,
    ReviseTrustedKeys: revise_trusted_keys,
}


# --- deadlines, timers and the progress reading -----------------------------------------------------------


def plan_basis(state: ProjectState) -> tuple[object, ...]:
    """What the deadlines depend on: when it changes, they are recomputed."""
    return (state.status, len(state.runs), state.run.accepted_at, state.rules.version)


def deadlines(state: ProjectState, now: datetime) -> CompositePlan:
    """The running clocks' deadlines and warning marks (section 8 thresholds, counted working days)."""
    version = state.rules.version
    if state.status is not ProjectStatus.IN_STAGE:
        return CompositePlan(calendar_version=version)
    stage_clock, project_clock = state.stage_clock(len(state.runs) - 1), state.project_clock()
    stage = f"stage {state.stage.code} ({state.stage.name})"
    try:
        stage_due, stage_provisional, marks = (
            budget_marks(stage_clock, Budget.STAGE, stage, state.rules, now)
            if stage_clock
            else (None, False, [])
        )
        due, provisional, whole = (
            budget_marks(project_clock, Budget.WHOLE, "the project", state.rules, now)
            if project_clock
            else (None, False, [])
        )
    except CalendarNotPublished as missing:
        return CompositePlan(calendar_version=version, calendar_missing=missing.year)
    return CompositePlan(
        calendar_version=version,
        provisional=stage_provisional or provisional,
        stage_due_at=stage_due,
        due_at=due,
        marks=(*marks, *whole),
    )


class ProjectTimer(_Frozen):
    """What the engine does when a project deadline passes, and when."""

    at: Instant
    command: RaiseBudgetWarning | LapsePrecondition


def next_timer(state: ProjectState) -> ProjectTimer | None:
    """The earliest deadline still ahead while a stage runs (a warning, or a simulated approval's
    precondition): the durable timer to arm."""
    if state.status is not ProjectStatus.IN_STAGE:
        return None
    raised = {
        Budget.STAGE: state.warning_raised(Budget.STAGE, state.stage.code),
        Budget.WHOLE: state.warning_raised(Budget.WHOLE),
    }
    candidates = []
    mark = next_mark(state.plan, raised)
    if mark is not None:
        warning = RaiseBudgetWarning(actor=ENGINE, level=mark.level, subject=mark.subject)
        candidates.append(ProjectTimer(at=mark.at, command=warning))
    simulation = state.simulation
    if simulation is not None and simulation.met_at is None:
        candidates.append(ProjectTimer(at=simulation.due_at, command=LapsePrecondition(actor=ENGINE)))
    return min(candidates, key=lambda timer: timer.at, default=None)


class StageProgress(_Frozen):
    """One stage as the progress query shows it."""

    code: str
    name: str
    lead_department: str
    status: Literal["not_started", "materials_received", "with_government", "completed", "ended"]
    materials_missing: tuple[str, ...]
    accepted_at: Instant | None
    decided_at: Instant | None
    due_at: Instant | None
    working_days_budget: int | None
    working_days_used: int | None
    working_days_left: int | None
    working_days_elapsed: int | None = Field(description="Working days from acceptance, counted or not.")
    warning_level: WarningLevel
    matters: tuple[MatterProgress, ...]


class ProjectProgress(_Frozen):
    """The ``progress`` query: stage, every matter's status, working days used and left per stage and on
    the whole, counted against elapsed."""

    project_id: str
    matter_code: str
    matter_name: str
    project_type: str | None
    commitment: str | None = Field(default=None, description="投资承诺制: the 承诺书 the project builds on.")
    skipped: tuple[str, ...] = Field(default=(), description="投资承诺制: the pre-approvals it replaced.")
    simulation: Simulation | None = Field(default=None, description="模拟审批: the precondition awaited.")
    status: ProjectStatus
    closed: bool
    waiting_for_applicant: bool
    current_stage: str
    reason: str
    received_at: Instant
    due_at: Instant | None = Field(description="The project's deadline while a stage runs.")
    provisional: bool
    working_days_budget: int
    working_days_used: int
    working_days_left: int
    working_days_elapsed: int = Field(description="Working days since the first acceptance, counted or not.")
    warning_level: WarningLevel
    stages: tuple[StageProgress, ...]
    event_count: int


def progress_of(state: ProjectState, now: datetime) -> ProjectProgress:
    """The progress of ``state`` at ``now``; nothing here is stored, all is derived."""
    rules = state.rules
    end = min(now, state.ended_at) if state.ended_at else now
    clock = state.project_clock()
    used = _used(clock, state, end)
    first = state.runs[0].accepted_at
    elapsed = rules.working.working_days_between(first, end).days if first and end > first else 0
    plan = state.plan
    running = state.status is ProjectStatus.IN_STAGE
    level = highest(
        (
            state.warning_raised(Budget.WHOLE),
            *(w.level for w in state.warnings),
            *(m.level for m in (plan.marks if plan and running else ()) if m.at <= now),
        )
    )
    return ProjectProgress(
        project_id=state.process_id,
        matter_code=state.matter.code,
        matter_name=state.matter.name,
        project_type=state.project_type,
        commitment=state.commitment,
        skipped=state.skipped,
        simulation=state.simulation,
        status=state.status,
        closed=state.closed,
        waiting_for_applicant=state.status
        in (ProjectStatus.AWAITING_APPLICANT, ProjectStatus.STAGE_RECEIVED),
        current_stage=state.stage.code,
        reason=state.reason,
        received_at=state.received_at,
        due_at=plan.due_at if plan and running else None,
        provisional=plan.provisional if plan else False,
        working_days_budget=state.matter.limit,
        working_days_used=used,
        working_days_left=max(state.matter.limit - used, 0),
        working_days_elapsed=elapsed,
        warning_level=level,
        stages=tuple(_stage_progress(state, index, now) for index in range(len(state.matter.stages))),
        event_count=state.version,
    )


def _used(clock: StatutoryClock | None, state: ProjectState, end: datetime) -> int:
    if clock is None:
        return 0
    try:
        return clock.working_days_used(state.rules.working, end, state.rules.rest_day_receipt)
    except CalendarNotPublished:
        return 0


def _stage_progress(state: ProjectState, index: int, now: datetime) -> StageProgress:
    stage = state.matter.stages[index]
    run = state.runs[index] if index < len(state.runs) else None
    matters = matters_of(stage, run, state.readings)
    if run is None:
        return StageProgress(
            code=stage.code,
            name=stage.name,
            lead_department=stage.lead_department,
            status="not_started",
            materials_missing=(),
            accepted_at=None,
            decided_at=None,
            due_at=None,
            working_days_budget=stage.working_days,
            working_days_used=None,
            working_days_left=None,
            working_days_elapsed=None,
            warning_level=WarningLevel.NONE,
            matters=matters,
        )
    current = index == len(state.runs) - 1
    end = run.decided_at or (min(now, state.closed_at) if state.closed_at else now)
    clock = state.stage_clock(index)
    used = _used(clock, state, end) if run.accepted_at else None
    elapsed = (
        state.rules.working.working_days_between(run.accepted_at, end).days
        if run.accepted_at and end > run.accepted_at
        else (0 if run.accepted_at else None)
    )
    status: Literal["not_started", "materials_received", "with_government", "completed", "ended"]
    if run.decided_at is not None:
        status = "completed"
    elif state.closed:
        status = "ended"
    elif run.accepted_at is not None:
        status = "with_government"
    else:
        status = "materials_received"
    plan = state.plan
    return StageProgress(
        code=stage.code,
        name=stage.name,
        lead_department=stage.lead_department,
        status=status,
        materials_missing=state.missing if current and run.accepted_at is None else (),
        accepted_at=run.accepted_at,
        decided_at=run.decided_at,
        due_at=plan.stage_due_at if plan and current and status == "with_government" else None,
        working_days_budget=stage.working_days,
        working_days_used=used,
        working_days_left=max(stage.working_days - used, 0)
        if stage.working_days and used is not None
        else None,
        working_days_elapsed=elapsed,
        warning_level=state.warning_raised(Budget.STAGE, stage.code),
        matters=matters,
    )


# --- outside effects and readers --------------------------------------------------------------------------


class ProjectEffect(StrEnum):
    """What outside systems are told of a project event (the values name the activities)."""

    NOTIFY_APPLICANT = "notify_applicant"
    PUSH_TO_SUPERVISION = "push_to_supervision"
    WRITE_CREDIT_RECORD = "write_credit_record"
    ESCALATE = "escalate"


_NOTICE = frozenset({ProjectEffect.NOTIFY_APPLICANT})
EFFECTS: Mapping[str, frozenset[ProjectEffect]] = {
    "stage_accepted": _NOTICE,
    "stage_completed": _NOTICE,
    "project_completed": _NOTICE | {ProjectEffect.PUSH_TO_SUPERVISION},
    "project_denied": _NOTICE | {ProjectEffect.PUSH_TO_SUPERVISION},
    "project_withdrawn": _NOTICE,
    "project_abandoned": _NOTICE | {ProjectEffect.PUSH_TO_SUPERVISION},
    "precondition_met": _NOTICE,
    "simulation_lapsed": _NOTICE | {ProjectEffect.PUSH_TO_SUPERVISION},
    # 投资承诺制: a broken commitment is supervision's and the credit register's business too.
    "commitment_failed": _NOTICE | {ProjectEffect.PUSH_TO_SUPERVISION, ProjectEffect.WRITE_CREDIT_RECORD},
}


def news(state: ProjectState) -> str:
    """What the project's open matters must look at when it changes: its end, and a precondition met."""
    met = state.simulation.met_at.isoformat() if state.simulation and state.simulation.met_at else ""
    return f"{'closed' if state.closed else 'open'}:{met}"


def evidence(state: ProjectState) -> str | None:
    """The precondition's evidence once it came (模拟审批): the matters' opinions become formal."""
    return state.simulation.evidence if state.simulation and state.simulation.met_at else None


def effects_of(event: ProjectEvent) -> tuple[ProjectEffect, ...]:
    """The outside effects of ``event``, in a fixed order; a red warning is escalated (督办)."""
    wanted = set(EFFECTS.get(event.kind, ()))
    if isinstance(event, BudgetWarningRaised) and event.level is WarningLevel.RED:
        wanted.add(ProjectEffect.ESCALATE)
    return tuple(effect for effect in ProjectEffect if effect in wanted)
