"""Enterprise establishment's rules (企业开办, DESIGN.md sections 7 and 9): one form, one window, one clock.

The window accepts the one form (企业开办"一表通") for the market regulator; business registration runs first
as an application of its own and, once issued, the engine assigns the unified social credit code (a
recorded event); then seal engraving, tax and invoices, social-insurance and housing-fund registration
run in parallel as applications, while the bank-account appointment (a bank's service, not an
administrative act) is tracked as a dependency. When every result is ready the window releases them all at
once (一次出件). One clock of the matter's promised limit (1 working day) runs on the whole, from acceptance
to release.
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
    require_acts_for,
)
from workflows.domain.catalogue import Importance, Matter, Stage
from workflows.domain.clock import StatutoryClock, WarningLevel
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
from workflows.domain.credit_code import is_valid
from workflows.domain.errors import (
    CalendarNotPublished,
    InvalidCommand,
    MaterialsIncomplete,
)
from workflows.domain.events import Event, Role, TrustedKeysRevised
from workflows.domain.values import ApplicationNumber, Code, Codes, Instant, Name


class EstablishmentStatus(StrEnum):
    """Where an establishment stands."""

    RECEIVED = "received"  # the one form at the window
    REGISTERING = "registering"  # business registration under way
    REGISTERED = "registered"  # the licence issued: the credit code is being assigned
    IN_PARALLEL = "in_parallel"  # seal, tax, social insurance, housing fund; the bank appointment
    READY = "ready_for_release"  # every result ready: one release at the window
    RELEASED = "released"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    ABANDONED = "abandoned"


# --- commands -----------------------------------------------------------------------------------------


class SubmitEstablishment(ProcessSubmission):
    """Open an establishment with the one form (its materials) at the one window."""

    kind: Literal["submit_establishment"] = "submit_establishment"
    establishment_id: ApplicationNumber


class SupplementForm(Command):
    """More of the form's materials, before acceptance."""

    kind: Literal["supplement_form"] = "supplement_form"
    materials: Codes = Field(min_length=1)


class AcceptEstablishment(Command):
    """The window accepts the one form for the market regulator: business registration starts."""

    kind: Literal["accept_establishment"] = "accept_establishment"


class AssignCreditCode(Command):
    """The engine assigns the unified social credit code it claimed (its own command)."""

    kind: Literal["assign_credit_code"] = "assign_credit_code"
    credit_code: str = Field(min_length=18, max_length=18)


class TrackService(Command):
    """A service that is no administrative act (the bank-account appointment) is done: its reference."""

    kind: Literal["track_service"] = "track_service"
    item: Code
    reference: Name


class ReleaseResults(Command):
    """一次出件: the window hands every result over at once."""

    kind: Literal["release_results"] = "release_results"


class WithdrawEstablishment(Command):
    """The applicant withdraws; every open matter follows."""

    kind: Literal["withdraw_establishment"] = "withdraw_establishment"


EstablishmentCommand = Annotated[
    SubmitEstablishment
    | SupplementForm
    | AcceptEstablishment
    | AssignCreditCode
    | TrackService
    | ReleaseResults
    | WithdrawEstablishment
    | ReportParts
    | RecordBudgets
    | RaiseBudgetWarning
    | ReviseTrustedKeys,
    Field(discriminator="kind"),
]


# --- events ---------------------------------------------------------------------------------------------


class EstablishmentSubmitted(ProcessSubmitted):
    """The one window received the one form."""

    kind: Literal["establishment_submitted"] = "establishment_submitted"
    establishment_id: ApplicationNumber


class FormSupplemented(Event):
    """More of the form's materials came to the window."""

    kind: Literal["form_supplemented"] = "form_supplemented"
    materials: Codes


class EstablishmentAccepted(Event):
    """受理 of the one form for the market regulator; business registration starts (its notice number)."""

    kind: Literal["establishment_accepted"] = "establishment_accepted"
    on_behalf_of: Code
    notice_number: str
    parts: tuple[Part, ...]


class CreditCodeAssigned(Event):
    """The unified social credit code (GB 32100-2015), unique: the parallel matters start with it."""

    kind: Literal["credit_code_assigned"] = "credit_code_assigned"
    credit_code: str
    parts: tuple[Part, ...]


class ServiceTracked(Event):
    """A tracked service is done (the bank-account appointment), with its reference."""

    kind: Literal["service_tracked"] = "service_tracked"
    item: Code
    reference: Name


class ResultsReleased(Event):
    """一次出件: every result handed over at the window."""

    kind: Literal["results_released"] = "results_released"
    credit_code: str


class EstablishmentDenied(Event):
    """A matter was denied: the establishment ends with its reason."""

    kind: Literal["establishment_denied"] = "establishment_denied"
    part: Code


class EstablishmentWithdrawn(Event):
    """The applicant withdrew; the open matters follow."""

    kind: Literal["establishment_withdrawn"] = "establishment_withdrawn"


class EstablishmentAbandoned(Event):
    """A matter ended without a licence: the establishment cannot go on."""

    kind: Literal["establishment_abandoned"] = "establishment_abandoned"
    part: Code


EstablishmentEvent = Annotated[
    EstablishmentSubmitted
    | FormSupplemented
    | EstablishmentAccepted
    | PartReported
    | StageCompleted
    | CreditCodeAssigned
    | ServiceTracked
    | ResultsReleased
    | EstablishmentDenied
    | EstablishmentWithdrawn
    | EstablishmentAbandoned
    | BudgetsPlanned
    | BudgetWarningRaised
    | TrustedKeysRevised,
    Field(discriminator="kind"),
]


# --- the transition table -----------------------------------------------------------------------------

FINAL = frozenset(
    {
        EstablishmentStatus.RELEASED,
        EstablishmentStatus.DENIED,
        EstablishmentStatus.WITHDRAWN,
        EstablishmentStatus.ABANDONED,
    }
)
_WHILE_OPEN = frozenset({"report_parts", "record_budgets", "revise_trusted_keys", "withdraw_establishment"})
_RUNNING = _WHILE_OPEN | {"raise_budget_warning"}
TRANSITIONS: Mapping[EstablishmentStatus, frozenset[str]] = {
    EstablishmentStatus.RECEIVED: _WHILE_OPEN | {"supplement_form", "accept_establishment"},
    EstablishmentStatus.REGISTERING: _RUNNING,
    EstablishmentStatus.REGISTERED: _RUNNING | {"assign_credit_code"},
    EstablishmentStatus.IN_PARALLEL: _RUNNING | {"track_service"},
    EstablishmentStatus.READY: _RUNNING | {"release_results"},
    **{status: frozenset({"report_parts"}) for status in FINAL},
}

AUTHORISED_ROLES: Mapping[str, frozenset[Role]] = {
    "submit_establishment": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER, Role.SYSTEM}),
    "supplement_form": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER}),
    "accept_establishment": frozenset({Role.WINDOW_OFFICER}),
    "assign_credit_code": frozenset({Role.SYSTEM}),
    "track_service": frozenset({Role.WINDOW_OFFICER, Role.STEWARD}),  # the bank's answer, entered
    "release_results": frozenset({Role.WINDOW_OFFICER}),
    "withdraw_establishment": frozenset({Role.APPLICANT, Role.STEWARD}),
    "report_parts": frozenset({Role.SYSTEM}),
    "record_budgets": frozenset({Role.SYSTEM}),
    "raise_budget_warning": frozenset({Role.SYSTEM}),
    "revise_trusted_keys": frozenset({Role.SUPERVISOR}),
}

PEOPLE_COMMANDS: tuple[str, ...] = tuple(
    kind
    for kind, roles in AUTHORISED_ROLES.items()
    if roles - {Role.SYSTEM} and kind != "submit_establishment"
)


# --- state --------------------------------------------------------------------------------------------


class EstablishmentState(CompositeState):
    """The fold of an establishment's events; never stored, always derived."""

    status: EstablishmentStatus
    provided: frozenset[str]
    accepted_at: Instant | None = None
    credit_code: str | None = None
    services: dict[str, str] = Field(default_factory=dict)  # tracked item -> reference

    @property
    def registration(self) -> Stage:
        """The first stage: business registration."""
        return self.matter.stages[0]

    @property
    def tracked_items(self) -> tuple[str, ...]:
        """The matters that are services to track, not applications (the bank appointment)."""
        return tuple(
            item.code for stage in self.matter.stages for item in stage.matters if not item.administrative
        )

    @property
    def missing_core(self) -> tuple[str, ...]:
        """The form's core materials not yet provided."""
        return tuple(
            m.code
            for m in self.matter.materials
            if m.importance is Importance.CORE and m.code not in self.provided
        )

    def clock(self) -> StatutoryClock | None:
        """One clock on the whole, from acceptance (the promised limit: 1 working day)."""
        if self.accepted_at is None:
            return None
        return StatutoryClock(started_at=self.accepted_at, budget=self.matter.limit)


def start(event: EstablishmentSubmitted) -> EstablishmentState:
    """The state opened by the first event."""
    return EstablishmentState(
        process_id=event.establishment_id,
        applicant=event.applicant,
        applicant_key=event.applicant_key,
        matter=event.matter,
        catalogue_version=event.catalogue_version,
        rules=event.rules,
        channel=event.channel,
        received_at=event.received_at,
        submitted_by=event.actor,
        green_channel=event.green_channel,
        steward=event.steward,
        trusted_keys=event.trusted_keys,
        version=1,
        runs=(),
        status=EstablishmentStatus.RECEIVED,
        provided=frozenset(event.materials),
    )


def evolve(state: EstablishmentState, event: EstablishmentEvent) -> EstablishmentState:  # noqa: PLR0912 - a case per event
    """Apply one event. Never raises: every rule was checked by ``decide`` before the event existed."""
    changes: dict[str, Any] = {"version": state.version + 1}
    stages = state.matter.stages
    match event:
        case FormSupplemented():
            changes["provided"] = state.provided | set(event.materials)
        case EstablishmentAccepted():
            run = StageRun(
                code=stages[0].code, provided=state.provided, accepted_at=event.at, parts=event.parts
            )
            changes |= {"runs": (run,), "accepted_at": event.at, "status": EstablishmentStatus.REGISTERING}
        case PartReported():
            changes["readings"] = state.readings | {event.part: event.reading}
        case StageCompleted():
            runs = list(state.runs)
            runs[-1] = runs[-1].model_copy(update={"decided_at": event.decided_at})
            first = len(runs) == 1
            status = EstablishmentStatus.REGISTERED if first else _after_parallel(state, state.services)
            changes |= {"runs": tuple(runs), "status": status}
        case CreditCodeAssigned():
            run = StageRun(
                code=stages[1].code, provided=state.provided, accepted_at=event.at, parts=event.parts
            )
            changes |= {
                "runs": (*state.runs, run),
                "credit_code": event.credit_code,
                "status": EstablishmentStatus.IN_PARALLEL,
            }
        case ServiceTracked():
            services = state.services | {event.item: event.reference}
            changes["services"] = services
            if state.runs[-1].decided_at is not None and len(state.runs) == len(stages):
                changes["status"] = _after_parallel(state, services)
        case ResultsReleased():
            changes |= {"status": EstablishmentStatus.RELEASED, "closed_at": event.at}
        case EstablishmentDenied():
            changes |= {"status": EstablishmentStatus.DENIED, "closed_at": event.at, "reason": event.reason}
        case EstablishmentWithdrawn():
            changes |= {
                "status": EstablishmentStatus.WITHDRAWN,
                "closed_at": event.at,
                "reason": event.reason,
            }
        case EstablishmentAbandoned():
            changes |= {
                "status": EstablishmentStatus.ABANDONED,
                "closed_at": event.at,
                "reason": event.reason,
            }
        case BudgetsPlanned():
            changes["plan"] = event.plan
        case BudgetWarningRaised():
            changes["warnings"] = (*state.warnings, event)
        case TrustedKeysRevised():
            changes["trusted_keys"] = event.trusted_keys
    return state.model_copy(update=changes)


def _after_parallel(state: EstablishmentState, services: Mapping[str, str]) -> EstablishmentStatus:
    """Ready for the one release once every tracked service is done too; else still in parallel."""
    done = all(item in services for item in state.tracked_items)
    return EstablishmentStatus.READY if done else EstablishmentStatus.IN_PARALLEL


def replay(events: Iterable[EstablishmentEvent]) -> EstablishmentState:
    """The current state: the fold of the whole event log."""
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, EstablishmentSubmitted):
        raise ValueError("an establishment's log starts with EstablishmentSubmitted")
    return reduce(evolve, iterator, start(first))


# --- decide -------------------------------------------------------------------------------------------


def decide(
    state: EstablishmentState | None, command: EstablishmentCommand, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    """The events ``command`` causes at ``now``, or a ``OneWindowError`` saying why it is refused
    (status first, then role, identity and the command's own rules)."""
    return dispatch(
        state,
        command,
        now,
        opens=SubmitEstablishment,
        submit=_submit,
        transitions=TRANSITIONS,
        authorised=AUTHORISED_ROLES,
        handlers=_HANDLERS,
    )


def _submit(command: SubmitEstablishment, now: datetime) -> EstablishmentSubmitted:
    matter = command.matter
    if len(matter.stages) != 2 or matter.credit_code_prefix is None:
        raise InvalidCommand(
            f"matter {matter.code} is no establishment (registration, then the rest, a code)"
        )
    check_submission(command, now)
    _require_known(matter, command.materials)
    fields = command.model_dump(exclude={"kind", "actor", "reason", "assertion"})
    return EstablishmentSubmitted(at=now, actor=command.actor, reason=command.reason, **fields)


def _require_known(matter: Matter, codes: Iterable[str]) -> None:
    unknown = matter.unknown_materials(codes)
    if unknown:
        raise InvalidCommand(unknown)


def _supplement(
    state: EstablishmentState, command: SupplementForm, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    _require_known(state.matter, command.materials)
    return (
        FormSupplemented(at=now, actor=command.actor, reason=command.reason, materials=command.materials),
    )


def _accept(
    state: EstablishmentState, command: AcceptEstablishment, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    if state.missing_core:
        raise MaterialsIncomplete(state.missing_core)
    registration = state.registration
    accepted = EstablishmentAccepted(
        at=now,
        actor=command.actor,
        reason=command.reason,
        on_behalf_of=registration.lead_department,
        notice_number=f"{state.process_id}-{state.version + 1:03d}",
        parts=parts_of(state.process_id, registration),
    )
    return (accepted,)


def _assign(
    state: EstablishmentState, command: AssignCreditCode, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    prefix = state.matter.credit_code_prefix or ""
    if not is_valid(command.credit_code) or not command.credit_code.startswith(prefix):
        raise InvalidCommand("not a valid unified social credit code of this registration authority")
    assigned = CreditCodeAssigned(
        at=now,
        actor=command.actor,
        credit_code=command.credit_code,
        parts=parts_of(state.process_id, state.matter.stages[1]),
    )
    return (assigned,)


def _track(state: EstablishmentState, command: TrackService, now: datetime) -> tuple[EstablishmentEvent, ...]:
    if command.actor.role is Role.STEWARD:
        require_acts_for(state.applicant, state.steward, command.actor)
    if command.item not in state.tracked_items:
        raise InvalidCommand(
            f"{command.item} is no tracked service of this matter ({', '.join(state.tracked_items)})"
        )
    if command.item in state.services:
        raise InvalidCommand(f"{command.item} is tracked already")
    tracked = ServiceTracked(at=now, actor=command.actor, item=command.item, reference=command.reference)
    return (tracked,)


def _release(
    state: EstablishmentState, command: ReleaseResults, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    return (
        ResultsReleased(at=now, actor=command.actor, reason="一次出件", credit_code=state.credit_code or ""),
    )


def _withdraw(
    state: EstablishmentState, command: WithdrawEstablishment, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    return (EstablishmentWithdrawn(at=now, actor=command.actor, reason=command.reason or "撤回申请"),)


def _report(state: EstablishmentState, command: ReportParts, now: datetime) -> tuple[EstablishmentEvent, ...]:
    """Record what changed in the matters' applications, and what it means for the establishment."""
    changed = changed_readings(state.runs, state.readings, command.readings)
    actor = command.actor
    events: list[EstablishmentEvent] = [
        PartReported(at=now, actor=actor, part=code, reading=reading) for code, reading in changed.items()
    ]
    if state.closed or not state.runs or state.runs[-1].decided_at is not None:
        return tuple(events)
    outcome = stage_outcome(state.runs[-1].parts, state.readings | changed, now)
    if outcome.denied is not None:
        events.append(
            EstablishmentDenied(at=now, actor=actor, reason=outcome.reason, part=outcome.denied.code)
        )
    elif outcome.ended is not None:
        events.append(
            EstablishmentAbandoned(at=now, actor=actor, reason=outcome.reason, part=outcome.ended.code)
        )
    elif outcome.decided_at is not None:
        stage = state.runs[-1].code
        events.append(StageCompleted(at=now, actor=actor, stage=stage, decided_at=outcome.decided_at))
    return tuple(events)


def _raise_warning(
    state: EstablishmentState, command: RaiseBudgetWarning, now: datetime
) -> tuple[EstablishmentEvent, ...]:
    plan = state.plan
    mark = plan.reached(Budget.WHOLE, now) if plan else None
    if plan is None or mark is None or command.level.rank > mark.level.rank:
        raise InvalidCommand(f"the establishment has not reached {command.level.value}")
    if mark.level.rank <= state.warning_raised(Budget.WHOLE).rank:
        raise InvalidCommand(f"warning {mark.level.value} was already raised")
    stage = state.runs[-1].code if state.runs else state.registration.code
    raised = BudgetWarningRaised(
        at=now,
        actor=command.actor,
        reason=mark.cause,
        level=mark.level,
        subject=Budget.WHOLE,
        stage=stage,
        deadline_at=plan.due_at or now,
    )
    return (raised,)


_HANDLERS: Mapping[type, Callable[[EstablishmentState, Any, datetime], tuple[EstablishmentEvent, ...]]] = {
    SupplementForm: _supplement,
    AcceptEstablishment: _accept,
    AssignCreditCode: _assign,
    TrackService: _track,
    ReleaseResults: _release,
    WithdrawEstablishment: _withdraw,
    ReportParts: _report,
    RecordBudgets: record_budgets,
    RaiseBudgetWarning: _raise_warning,
    ReviseTrustedKeys: revise_trusted_keys,
}


# --- deadlines, timers and the progress ----------------------------------------------------------------

_CLOCK_RUNS = frozenset(
    {
        EstablishmentStatus.REGISTERING,
        EstablishmentStatus.REGISTERED,
        EstablishmentStatus.IN_PARALLEL,
        EstablishmentStatus.READY,
    }
)


def plan_basis(state: EstablishmentState) -> tuple[object, ...]:
    """What the deadline depends on: acceptance, and the calendar."""
    return (state.accepted_at, state.status in _CLOCK_RUNS, state.rules.version)


def deadlines(state: EstablishmentState, now: datetime) -> CompositePlan:
    """The one clock's deadline and warning marks, from acceptance to release."""
    version = state.rules.version
    clock = state.clock()
    if clock is None or state.status not in _CLOCK_RUNS:
        return CompositePlan(calendar_version=version)
    try:
        due, provisional, marks = budget_marks(clock, Budget.WHOLE, "the establishment", state.rules, now)
    except CalendarNotPublished as missing:
        return CompositePlan(calendar_version=version, calendar_missing=missing.year)
    return CompositePlan(calendar_version=version, provisional=provisional, due_at=due, marks=tuple(marks))


def next_timer(state: EstablishmentState) -> tuple[datetime, RaiseBudgetWarning] | None:
    """The earliest warning still ahead while the clock runs: the durable timer to arm."""
    if state.status not in _CLOCK_RUNS:
        return None
    mark = next_mark(state.plan, {Budget.WHOLE: state.warning_raised(Budget.WHOLE)})
    if mark is None:
        return None
    return mark.at, RaiseBudgetWarning(actor=ENGINE, level=mark.level, subject=mark.subject)


class EstablishmentProgress(BaseModel):
    """The ``state`` query: every sub-item of the establishment, the credit code, the one clock."""

    model_config = ConfigDict(frozen=True)

    establishment_id: str
    matter_code: str
    matter_name: str
    status: EstablishmentStatus
    closed: bool
    reason: str
    credit_code: str | None
    received_at: Instant
    accepted_at: Instant | None
    due_at: Instant | None = Field(description="The whole's deadline: 24:00 of its last working day.")
    provisional: bool
    working_days_budget: int
    working_days_used: int
    working_days_left: int
    working_days_elapsed: int
    warning_level: WarningLevel
    missing: tuple[str, ...]
    items: tuple[MatterProgress, ...] = Field(description="Every sub-item, applications and services.")
    event_count: int


def progress_of(state: EstablishmentState, now: datetime) -> EstablishmentProgress:
    """The progress of ``state`` at ``now``; nothing here is stored, all is derived."""
    end = min(now, state.closed_at) if state.closed_at else now
    clock, rules = state.clock(), state.rules
    try:
        used = clock.working_days_used(rules.working, end, rules.rest_day_receipt) if clock else 0
    except CalendarNotPublished:
        used = 0
    accepted = state.accepted_at
    elapsed = rules.working.working_days_between(accepted, end).days if accepted and end > accepted else 0
    runs = {run.code: run for run in state.runs}
    items = [
        item
        for stage in state.matter.stages
        for item in _tracked(matters_of(stage, runs.get(stage.code), state.readings), stage, state.services)
    ]
    plan = state.plan
    return EstablishmentProgress(
        establishment_id=state.process_id,
        matter_code=state.matter.code,
        matter_name=state.matter.name,
        status=state.status,
        closed=state.closed,
        reason=state.reason,
        credit_code=state.credit_code,
        received_at=state.received_at,
        accepted_at=accepted,
        due_at=plan.due_at if plan and state.status in _CLOCK_RUNS else None,
        provisional=plan.provisional if plan else False,
        working_days_budget=state.matter.limit,
        working_days_used=used,
        working_days_left=max(state.matter.limit - used, 0),
        working_days_elapsed=elapsed,
        warning_level=state.warning_raised(),
        missing=state.missing_core,
        items=tuple(items),
        event_count=state.version,
    )


def _tracked(
    items: tuple[MatterProgress, ...], stage: Stage, services: Mapping[str, str]
) -> tuple[MatterProgress, ...]:
    """A service's row says whether it is tracked yet (its reference as the licence column)."""
    services_of_stage = {item.code for item in stage.matters if not item.administrative}
    return tuple(
        item.model_copy(
            update={
                "status": "tracked" if item.code in services else "awaiting_service",
                "licence_number": services.get(item.code),
            }
        )
        if item.code in services_of_stage
        else item
        for item in items
    )


# --- outside effects ---------------------------------------------------------------------------------------

EFFECTS: Mapping[str, tuple[str, ...]] = {
    "establishment_accepted": ("notify_applicant",),
    "credit_code_assigned": ("notify_applicant",),
    "results_released": ("notify_applicant", "push_to_supervision"),
    "establishment_denied": ("notify_applicant", "push_to_supervision"),
    "establishment_withdrawn": ("notify_applicant",),
    "establishment_abandoned": ("notify_applicant", "push_to_supervision"),
}


def effects_of(event: EstablishmentEvent) -> tuple[str, ...]:
    """The outside effects of ``event``; a red warning is escalated (督办)."""
    if isinstance(event, BudgetWarningRaised) and event.level is WarningLevel.RED:
        return ("escalate",)
    return EFFECTS.get(event.kind, ())
