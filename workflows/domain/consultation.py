"""提前介入 (early guidance before formal submission) as pure rules (DESIGN.md section 6).

A steward opens a consultation for a green-channel key project or park enterprise with the materials in
hand; the window checks materials, and the matter's departments give their pre-review opinions. The
consultation holds no legal effect: it closes when the steward says so, or lapses after
``CONSULTATION_DAYS`` working days. Its findings (``ConsultationFindings``) carry into the application
submitted on it: the materials the window checked are not examined again, and the opinions are attached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.domain.application import require_acts_for
from workflows.domain.catalogue import ApprovalMode, Matter
from workflows.domain.commands import Command, ReviseTrustedKeys
from workflows.domain.composite import (
    ProcessSubmission,
    ProcessSubmitted,
    admit,
    check_submission,
    dispatch,
    may_read,
    readers,
)
from workflows.domain.errors import CalendarNotPublished, InvalidCommand, NotAuthorised
from workflows.domain.events import (
    MAX_OPINIONS,
    Actor,
    ConsultationFindings,
    Event,
    Opinion,
    Role,
    TrustedKeysRevised,
)
from workflows.domain.values import ApplicationNumber, Codes, Instant, Text, visible

# How long a consultation stays open, in working days from its opening (a local choice: configurable as
# data once a city sets its own).
CONSULTATION_DAYS = 60


class ConsultationStatus(StrEnum):
    """Where a consultation stands."""

    OPEN = "open"
    CLOSED = "closed"  # by its steward
    LAPSED = "lapsed"  # its working days ran out


# --- commands -----------------------------------------------------------------------------------------


class OpenConsultation(ProcessSubmission):
    """提前介入: the steward opens a consultation for a green-channel case, with the materials in hand."""

    kind: Literal["open_consultation"] = "open_consultation"
    consultation_id: ApplicationNumber


class BringMaterials(Command):
    """The steward brings more materials to the consultation."""

    kind: Literal["bring_materials"] = "bring_materials"
    materials: Codes = Field(min_length=1)


class CheckMaterials(Command):
    """The window checks materials brought: at submission they are not examined again."""

    kind: Literal["check_materials"] = "check_materials"
    materials: Codes = Field(min_length=1)


class GiveOpinion(Command):
    """A department of the matter gives its pre-review opinion (the reason is free; the opinion is not)."""

    kind: Literal["give_opinion"] = "give_opinion"
    opinion: Text = Field(min_length=1)


class CloseConsultation(Command):
    """The steward closes the consultation (the case is submitted, or will not be)."""

    kind: Literal["close_consultation"] = "close_consultation"


class LapseConsultation(Command):
    """The engine closes a consultation whose working days ran out."""

    kind: Literal["lapse_consultation"] = "lapse_consultation"


ConsultationCommand = Annotated[
    OpenConsultation
    | BringMaterials
    | CheckMaterials
    | GiveOpinion
    | CloseConsultation
    | LapseConsultation
    | ReviseTrustedKeys,
    Field(discriminator="kind"),
]


# --- events -------------------------------------------------------------------------------------------


class ConsultationOpened(ProcessSubmitted):
    """A consultation opened; the catalogue entry in force is copied in for good."""

    kind: Literal["consultation_opened"] = "consultation_opened"
    consultation_id: ApplicationNumber


class MaterialsBrought(Event):
    kind: Literal["materials_brought"] = "materials_brought"
    materials: Codes


class MaterialsChecked(Event):
    kind: Literal["materials_checked"] = "materials_checked"
    materials: Codes


class OpinionGiven(Event):
    kind: Literal["opinion_given"] = "opinion_given"
    department: str
    opinion: Text


class ConsultationClosed(Event):
    kind: Literal["consultation_closed"] = "consultation_closed"


class ConsultationLapsed(Event):
    kind: Literal["consultation_lapsed"] = "consultation_lapsed"


ConsultationEvent = Annotated[
    ConsultationOpened
    | MaterialsBrought
    | MaterialsChecked
    | OpinionGiven
    | ConsultationClosed
    | ConsultationLapsed
    | TrustedKeysRevised,
    Field(discriminator="kind"),
]

_WHILE_OPEN = frozenset(
    {
        "bring_materials",
        "check_materials",
        "give_opinion",
        "close_consultation",
        "lapse_consultation",
        "revise_trusted_keys",
    }
)
TRANSITIONS: Mapping[ConsultationStatus, frozenset[str]] = {
    ConsultationStatus.OPEN: _WHILE_OPEN,
    ConsultationStatus.CLOSED: frozenset(),
    ConsultationStatus.LAPSED: frozenset(),
}
AUTHORISED_ROLES: Mapping[str, frozenset[Role]] = {
    "open_consultation": frozenset({Role.STEWARD}),
    "bring_materials": frozenset({Role.STEWARD}),
    "check_materials": frozenset({Role.WINDOW_OFFICER}),
    "give_opinion": frozenset({Role.APPROVER}),
    "close_consultation": frozenset({Role.STEWARD}),
    "lapse_consultation": frozenset({Role.SYSTEM}),
    "revise_trusted_keys": frozenset({Role.SUPERVISOR}),
}
PEOPLE_COMMANDS: tuple[str, ...] = tuple(
    kind for kind, roles in AUTHORISED_ROLES.items() if roles - {Role.SYSTEM} and kind != "open_consultation"
)


# --- state --------------------------------------------------------------------------------------------


class ConsultationState(BaseModel):
    """The fold of a consultation's events; never stored, always derived."""

    model_config = ConfigDict(frozen=True)

    consultation_id: str
    opened: ConsultationOpened
    status: ConsultationStatus
    version: int
    trusted_keys: tuple[str, ...]
    materials: tuple[str, ...]  # brought, in the order they came
    checked: tuple[str, ...] = ()
    checked_by: tuple[str, ...] = ()  # the window officers who checked (person keys): 受审分离 follows them
    opinions: tuple[Opinion, ...] = ()
    closed_at: Instant | None = None

    @property
    def matter(self) -> Matter:
        return self.opened.matter

    @property
    def steward(self) -> Actor | None:
        return self.opened.steward

    @property
    def applicant_key(self) -> str | None:
        return self.opened.applicant_key

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def readers(self) -> tuple[str, ...]:
        """The applicant, the steward, the matter's departments and the window (the composite key scheme)."""
        opened = self.opened
        return readers(opened.applicant_key, opened.actor, opened.matter.departments, opened.steward)

    def may_read(self, reader: Actor) -> bool:
        return may_read(self.opened.applicant, self.readers, reader)

    def admit(self, command: Command) -> None:
        """A stranger learns nothing of the consultation; the engine's role is the engine's own."""
        admit(self.consultation_id, self.opened.applicant, self.readers, command)

    @property
    def departments_awaited(self) -> tuple[str, ...]:
        """The matter's departments that have not given an opinion yet."""
        given = {opinion.department for opinion in self.opinions}
        return tuple(d for d in self.matter.departments if d not in given)


def start(event: ConsultationOpened) -> ConsultationState:
    return ConsultationState(
        consultation_id=event.consultation_id,
        opened=event,
        status=ConsultationStatus.OPEN,
        version=1,
        trusted_keys=event.trusted_keys,
        materials=event.materials,
    )


def evolve(state: ConsultationState, event: ConsultationEvent) -> ConsultationState:
    """Apply one event; never raises."""
    changes: dict[str, Any] = {"version": state.version + 1}
    match event:
        case MaterialsBrought():
            changes["materials"] = (*state.materials, *event.materials)
        case MaterialsChecked():
            changes |= {
                "checked": (*state.checked, *event.materials),
                "checked_by": tuple(dict.fromkeys((*state.checked_by, event.actor.key))),
            }
        case OpinionGiven():
            opinion = Opinion(
                department=event.department, opinion=event.opinion, given_by=event.actor.id, at=event.at
            )
            changes["opinions"] = (*state.opinions, opinion)
        case ConsultationClosed():
            changes |= {"status": ConsultationStatus.CLOSED, "closed_at": event.at}
        case ConsultationLapsed():
            changes |= {"status": ConsultationStatus.LAPSED, "closed_at": event.at}
        case TrustedKeysRevised():
            changes["trusted_keys"] = event.trusted_keys
    return state.model_copy(update=changes)


def replay(events: Iterable[ConsultationEvent]) -> ConsultationState:
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, ConsultationOpened):
        raise ValueError("a consultation's log starts with ConsultationOpened")
    state = start(first)
    for event in iterator:
        state = evolve(state, event)
    return state


# --- decide -------------------------------------------------------------------------------------------


def decide(
    state: ConsultationState | None, command: ConsultationCommand, now: datetime
) -> tuple[ConsultationEvent, ...]:
    """The events ``command`` causes at ``now``, or a ``OneWindowError`` saying why it is refused."""
    events: tuple[ConsultationEvent, ...] = dispatch(
        state,
        command,
        now,
        opens=OpenConsultation,
        submit=_open,
        transitions=TRANSITIONS,
        authorised=AUTHORISED_ROLES,
        handlers=_HANDLERS,
    )
    return events


def _open(command: OpenConsultation, now: datetime) -> ConsultationOpened:
    """The green channel's own: a steward acting for the applicant, on a single approval's matter."""
    check_submission(command, now)
    if not command.green_channel or command.steward is None:
        raise InvalidCommand("提前介入 is the green channel's: a key project's case with its steward")
    if command.matter.approval is ApprovalMode.STAGED:
        raise InvalidCommand(f"matter {command.matter.code} is a composite process: consult on its matters")
    _require_known(command.matter, command.materials)
    fields = command.model_dump(exclude={"kind", "actor", "reason", "assertion"})
    return ConsultationOpened(at=now, actor=command.actor, reason=command.reason, **fields)


def _require_known(matter: Matter, codes: Iterable[str]) -> None:
    unknown = matter.unknown_materials(codes)
    if unknown:
        raise InvalidCommand(unknown)


def _bring(state: ConsultationState, command: BringMaterials, now: datetime) -> tuple[ConsultationEvent, ...]:
    require_acts_for(state.opened.applicant, state.steward, command.actor)
    _require_known(state.matter, command.materials)
    already = [code for code in command.materials if code in state.materials]
    if already:
        raise InvalidCommand(f"already brought: {', '.join(already)}")
    return (
        MaterialsBrought(at=now, actor=command.actor, reason=command.reason, materials=command.materials),
    )


def _check(state: ConsultationState, command: CheckMaterials, now: datetime) -> tuple[ConsultationEvent, ...]:
    _require_known(state.matter, command.materials)
    absent = [code for code in command.materials if code not in state.materials]
    if absent:
        raise InvalidCommand(f"not brought to the consultation: {', '.join(absent)}")
    again = [code for code in command.materials if code in state.checked]
    if again:
        raise InvalidCommand(f"already checked: {', '.join(again)}")
    return (
        MaterialsChecked(at=now, actor=command.actor, reason=command.reason, materials=command.materials),
    )


def _opinion(state: ConsultationState, command: GiveOpinion, now: datetime) -> tuple[ConsultationEvent, ...]:
    department = command.actor.department or ""
    if department not in state.matter.departments:
        raise NotAuthorised(command.actor.id, f"department {department!r} does not decide this matter")
    if department not in state.departments_awaited:
        raise InvalidCommand(f"{department} has given its opinion on this consultation")
    if not visible(command.opinion):
        raise InvalidCommand("an opinion must say something")
    if len(state.opinions) >= MAX_OPINIONS:
        raise InvalidCommand(f"a consultation holds at most {MAX_OPINIONS} opinions")
    given = OpinionGiven(
        at=now, actor=command.actor, reason=command.reason, department=department, opinion=command.opinion
    )
    return (given,)


def _close(
    state: ConsultationState, command: CloseConsultation, now: datetime
) -> tuple[ConsultationEvent, ...]:
    require_acts_for(state.opened.applicant, state.steward, command.actor)
    return (ConsultationClosed(at=now, actor=command.actor, reason=command.reason),)


def _lapse(
    state: ConsultationState, command: LapseConsultation, now: datetime
) -> tuple[ConsultationEvent, ...]:
    reason = command.reason or f"提前介入: {CONSULTATION_DAYS} working days passed without a close"
    return (ConsultationLapsed(at=now, actor=command.actor, reason=reason),)


def _revise_keys(
    state: ConsultationState, command: ReviseTrustedKeys, now: datetime
) -> tuple[ConsultationEvent, ...]:
    if not command.trusted_keys:
        raise InvalidCommand("trusted_keys: the trust store names no key")
    return (
        TrustedKeysRevised(
            at=now, actor=command.actor, reason=command.reason, trusted_keys=command.trusted_keys
        ),
    )


_HANDLERS: Mapping[type, Callable[[ConsultationState, Any, datetime], tuple[ConsultationEvent, ...]]] = {
    BringMaterials: _bring,
    CheckMaterials: _check,
    GiveOpinion: _opinion,
    CloseConsultation: _close,
    LapseConsultation: _lapse,
    ReviseTrustedKeys: _revise_keys,
}


# --- derived ------------------------------------------------------------------------------------------


def lapses_at(state: ConsultationState) -> datetime | None:
    """When an open consultation lapses: the end of its ``CONSULTATION_DAYS``-th working day; None once
    closed, or while the calendar does not reach that far (it then waits for the data, R-CAL-4)."""
    if state.closed:
        return None
    rules = state.opened.rules
    calendar = rules.working
    try:
        trigger = calendar.trigger_day(state.opened.at, rules.rest_day_receipt)
        return calendar.deadline(trigger, CONSULTATION_DAYS).due_at
    except CalendarNotPublished:
        return None


def findings_of(state: ConsultationState) -> ConsultationFindings:
    """What the application submitted on the consultation carries into its acceptance."""
    return ConsultationFindings(
        consultation_id=state.consultation_id,
        matter_code=state.matter.code,
        applicant=state.opened.applicant,
        checked=state.checked,
        checked_by=state.checked_by,
        opinions=state.opinions,
    )


class ConsultationView(BaseModel):
    """The ``state`` query: what was brought, checked and said, and who is still awaited."""

    model_config = ConfigDict(frozen=True)

    consultation_id: str
    matter_code: str
    matter_name: str
    status: ConsultationStatus
    closed: bool
    steward: Actor | None
    opened_at: Instant
    lapses_at: Instant | None
    materials: tuple[str, ...]
    checked: tuple[str, ...]
    unchecked: tuple[str, ...]
    opinions: tuple[Opinion, ...]
    departments_awaited: tuple[str, ...]
    may_now: tuple[str, ...] = Field(description="The commands people may give now.")
    event_count: int


def view_of(state: ConsultationState) -> ConsultationView:
    allowed = TRANSITIONS[state.status]
    return ConsultationView(
        consultation_id=state.consultation_id,
        matter_code=state.matter.code,
        matter_name=state.matter.name,
        status=state.status,
        closed=state.closed,
        steward=state.steward,
        opened_at=state.opened.at,
        lapses_at=lapses_at(state),
        materials=state.materials,
        checked=state.checked,
        unchecked=tuple(code for code in state.materials if code not in state.checked),
        opinions=state.opinions,
        departments_awaited=state.departments_awaited,
        may_now=tuple(kind for kind in PEOPLE_COMMANDS if kind in allowed and kind != "revise_trusted_keys"),
        event_count=state.version,
    )


# What outside systems are told: the departments are asked for their opinions, the applicant told of them.
EFFECTS: Mapping[str, tuple[str, ...]] = {
    "consultation_opened": ("notify_department",),
    "opinion_given": ("notify_applicant",),
    "materials_checked": ("notify_applicant",),
}
