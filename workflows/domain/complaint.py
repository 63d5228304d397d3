"""12345/8890 complaints as pure rules: the closed loop of DESIGN.md sections 8 and 9 (国办发〔2020〕53号).

A hotline operator registers a complaint and the dispatch table (the catalogue's ``complaint_categories``)
dispatches it at once (派单) to its category's department. The department signs for it (签收) or returns it
as misrouted within the category's ``misroute_hours`` (退单), and a returned complaint is re-dispatched to
another department (改派). It is handled within the category's ``handling_days`` working days counted from
the day after dispatch (R-CAL-1), extended once by ``extension_days`` with the department head's approval;
notice, yellow and red warnings fire on that deadline as on an application's (red: 督办). The
department replies (答复); the call-back (回访) rates the reply on the five levels of 好差评
(国办发〔2019〕51号): the top three close it (办结), the bottom two reopen it for handling again, a
new period counted from the reopening. A duplicate is merged into another complaint (并单); a key
complaint is jointly supervised.

The caller's name and phone are personal data: they live in the events (payloads, which the codec
encrypts) and the view only, never in a log line, a workflow id or a search attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.domain.access import pseudonym, reader_keys
from workflows.domain.catalogue import ComplaintCategory
from workflows.domain.clock import (
    DeadlineRules,
    StatutoryClock,
    WarningLevel,
    WarningMark,
    WarningSubject,
    _decision_marks,
)
from workflows.domain.commands import Command, ReviseTrustedKeys
from workflows.domain.composite import dispatch
from workflows.domain.errors import (
    CalendarNotPublished,
    InvalidCommand,
    NotAuthorised,
    UnknownApplication,
)
from workflows.domain.events import Actor, Event, Role, TrustedKeysRevised
from workflows.domain.figures import CaseFacts, CaseKind
from workflows.domain.values import ApplicationNumber, Code, Instant, KeyId, Name, Text, visible

# What a phone number may look like: digits, an optional leading +, and hyphens (0411-8888-1234).
PHONE_PATTERN = r"^\+?[0-9][0-9-]{2,23}$"


class ComplaintStatus(StrEnum):
    """Where a complaint stands in the closed loop."""

    DISPATCHED = "dispatched"  # 派单: the department signs for it or returns it
    RETURNED = "returned"  # 退单: misrouted, awaiting 改派 by the hotline
    HANDLING = "handling"  # 签收 (or reopened): the department handles it
    REPLIED = "replied"  # 答复: awaiting the call-back
    CLOSED = "closed"  # 办结: the caller is satisfied
    MERGED = "merged"  # 并单: a duplicate, merged into another complaint


class ComplaintChannel(StrEnum):
    """The hotline the complaint came in on."""

    HOTLINE_12345 = "12345"  # 政务服务便民热线
    HOTLINE_8890 = "8890"  # 大连 8890 (the city's older line, merged into 12345's closed loop)


class Rating(StrEnum):
    """The five levels of 好差评 (国办发〔2019〕51号); the bottom two are 差评."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"

    @property
    def chinese(self) -> str:
        """The level as the caller hears it."""
        return _RATING_NAMES[self]

    @property
    def satisfied(self) -> bool:
        """The top three close the complaint (and count towards 满意率); the bottom two reopen it."""
        return self in (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED)


_RATING_NAMES: Mapping[Rating, str] = {
    Rating.VERY_SATISFIED: "非常满意",
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.DISSATISFIED: "不满意",
    Rating.VERY_DISSATISFIED: "非常不满意",
}


class ReturnWindowPassed(InvalidCommand):
    """退单 after the category's misroute window: the department handles it (or asks the hotline)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Caller(_Frozen):
    """Who called: personal data, kept only in the encrypted payloads."""

    name: Name
    phone: Annotated[str, Field(pattern=PHONE_PATTERN)]


# --- commands -----------------------------------------------------------------------------------------


class RegisterComplaint(Command):
    """受理 and 派单: the hotline operator registers the call; the dispatch table's row is pinned."""

    kind: Literal["register_complaint"] = "register_complaint"
    complaint_id: ApplicationNumber
    caller: Caller
    channel: ComplaintChannel
    content: Text = Field(min_length=1)
    category: ComplaintCategory
    catalogue_version: str = Field(min_length=1)
    rules: DeadlineRules
    caller_key: str | None = Field(default=None, description="The caller's keyed pseudonym (their phone's).")
    trusted_keys: tuple[KeyId, ...] = ()
    application_id: ApplicationNumber | None = Field(
        default=None, description="The application the complaint concerns, if any."
    )


class SignComplaint(Command):
    """签收: the dispatched department takes the complaint on."""

    kind: Literal["sign_complaint"] = "sign_complaint"


class ReturnComplaint(Command):
    """退单: the dispatched department returns a misrouted complaint, saying why (within the window)."""

    kind: Literal["return_complaint"] = "return_complaint"


class RedispatchComplaint(Command):
    """改派: the hotline dispatches a returned complaint to another department."""

    kind: Literal["redispatch_complaint"] = "redispatch_complaint"
    department: Code


class ExtendHandling(Command):
    """The department head approves one extension of the handling period, with the reason."""

    kind: Literal["extend_handling"] = "extend_handling"


class ReplyComplaint(Command):
    """答复: the department's reply to the caller."""

    kind: Literal["reply_complaint"] = "reply_complaint"
    reply: Text = Field(min_length=1)


class RecordCallback(Command):
    """回访: the hotline calls the caller back and records the rating."""

    kind: Literal["record_callback"] = "record_callback"
    rating: Rating


class MergeComplaint(Command):
    """并单: a duplicate is merged into another complaint, which carries on."""

    kind: Literal["merge_complaint"] = "merge_complaint"
    into: ApplicationNumber


class SuperviseComplaint(Command):
    """A key complaint is jointly supervised: escalated to the supervision office, with the reason."""

    kind: Literal["supervise_complaint"] = "supervise_complaint"


class RaiseHandlingWarning(Command):
    """A warning instant of the handling period passed (the engine's own, from a durable timer)."""

    kind: Literal["raise_handling_warning"] = "raise_handling_warning"
    level: WarningLevel


ComplaintCommand = Annotated[
    RegisterComplaint
    | SignComplaint
    | ReturnComplaint
    | RedispatchComplaint
    | ExtendHandling
    | ReplyComplaint
    | RecordCallback
    | MergeComplaint
    | SuperviseComplaint
    | RaiseHandlingWarning
    | ReviseTrustedKeys,
    Field(discriminator="kind"),
]


# --- events -------------------------------------------------------------------------------------------


class ComplaintRegistered(Event):
    """A complaint registered and dispatched at once to its category's department; the row is pinned."""

    kind: Literal["complaint_registered"] = "complaint_registered"
    complaint_id: ApplicationNumber
    caller: Caller
    channel: ComplaintChannel
    content: Text
    category: ComplaintCategory
    catalogue_version: str
    rules: DeadlineRules
    caller_key: str | None = None
    trusted_keys: tuple[KeyId, ...] = ()
    application_id: ApplicationNumber | None = None
    department: Code = Field(description="The department it was dispatched to (the table's).")


class ComplaintSigned(Event):
    kind: Literal["complaint_signed"] = "complaint_signed"
    department: Code


class ComplaintReturned(Event):
    kind: Literal["complaint_returned"] = "complaint_returned"
    department: Code


class ComplaintRedispatched(Event):
    kind: Literal["complaint_redispatched"] = "complaint_redispatched"
    department: Code


class HandlingExtended(Event):
    kind: Literal["handling_extended"] = "handling_extended"
    working_days: int


class ComplaintReplied(Event):
    kind: Literal["complaint_replied"] = "complaint_replied"
    department: Code
    reply: Text


class CallbackRecorded(Event):
    kind: Literal["callback_recorded"] = "callback_recorded"
    rating: Rating


class ComplaintClosed(Event):
    kind: Literal["complaint_closed"] = "complaint_closed"


class ComplaintReopened(Event):
    """The caller was dissatisfied: handled again, a new period from now."""

    kind: Literal["complaint_reopened"] = "complaint_reopened"
    reopen_count: int


class ComplaintMerged(Event):
    kind: Literal["complaint_merged"] = "complaint_merged"
    into: ApplicationNumber


class ComplaintSupervised(Event):
    kind: Literal["complaint_supervised"] = "complaint_supervised"


class HandlingWarningRaised(Event):
    """电子监察 on the handling deadline (red: overdue and escalated, 督办)."""

    kind: Literal["handling_warning_raised"] = "handling_warning_raised"
    level: WarningLevel
    department: Code
    deadline_at: Instant


ComplaintEvent = Annotated[
    ComplaintRegistered
    | ComplaintSigned
    | ComplaintReturned
    | ComplaintRedispatched
    | HandlingExtended
    | ComplaintReplied
    | CallbackRecorded
    | ComplaintClosed
    | ComplaintReopened
    | ComplaintMerged
    | ComplaintSupervised
    | HandlingWarningRaised
    | TrustedKeysRevised,
    Field(discriminator="kind"),
]

# (status, command) → allowed: the closed loop as a policy officer reads it.
TRANSITIONS: Mapping[ComplaintStatus, frozenset[str]] = {
    ComplaintStatus.DISPATCHED: frozenset(
        {
            "sign_complaint",
            "redispatch_complaint",  # the hotline corrects its own dispatch before it is signed for
            "return_complaint",
            "merge_complaint",
            "supervise_complaint",
            "raise_handling_warning",
            "revise_trusted_keys",
        }
    ),
    ComplaintStatus.RETURNED: frozenset(
        {"redispatch_complaint", "merge_complaint", "supervise_complaint", "revise_trusted_keys"}
    ),
    ComplaintStatus.HANDLING: frozenset(
        {
            "extend_handling",
            "reply_complaint",
            "merge_complaint",
            "supervise_complaint",
            "raise_handling_warning",
            "revise_trusted_keys",
        }
    ),
    ComplaintStatus.REPLIED: frozenset({"record_callback", "supervise_complaint", "revise_trusted_keys"}),
    ComplaintStatus.CLOSED: frozenset(),
    ComplaintStatus.MERGED: frozenset(),
}
AUTHORISED_ROLES: Mapping[str, frozenset[Role]] = {
    "register_complaint": frozenset({Role.HOTLINE_OPERATOR}),
    "sign_complaint": frozenset({Role.APPROVER}),
    "return_complaint": frozenset({Role.APPROVER}),
    "redispatch_complaint": frozenset({Role.HOTLINE_OPERATOR}),
    "extend_handling": frozenset({Role.DEPARTMENT_HEAD}),
    "reply_complaint": frozenset({Role.APPROVER}),
    "record_callback": frozenset({Role.HOTLINE_OPERATOR}),
    "merge_complaint": frozenset({Role.HOTLINE_OPERATOR}),
    "supervise_complaint": frozenset({Role.SUPERVISOR}),
    "raise_handling_warning": frozenset({Role.SYSTEM}),
    "revise_trusted_keys": frozenset({Role.SUPERVISOR}),
}
PEOPLE_COMMANDS: tuple[str, ...] = tuple(
    kind for kind, roles in AUTHORISED_ROLES.items() if roles - {Role.SYSTEM} and kind != "register_complaint"
)
_HANDLED = frozenset({ComplaintStatus.DISPATCHED, ComplaintStatus.HANDLING})  # a handling period runs


# --- state --------------------------------------------------------------------------------------------


class ComplaintState(BaseModel):
    """The fold of a complaint's events; never stored, always derived."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    registered: ComplaintRegistered
    status: ComplaintStatus
    version: int
    trusted_keys: tuple[str, ...]
    department: str
    dispatched_at: Instant
    handling_from: Instant = Field(description="Where the handling period in force starts.")
    returned_by: tuple[str, ...] = ()
    signed_at: Instant | None = None
    extended: bool = False  # once per complaint
    period_extended: bool = False  # the period in force carries the extension
    warned: WarningLevel = WarningLevel.NONE  # the highest raised in the period in force
    warnings_raised: frozenset[WarningLevel] = frozenset()  # every level raised, in any period
    reopen_count: int = 0
    reply: str | None = None
    replied_at: Instant | None = None
    ratings: tuple[Rating, ...] = ()  # every call-back's, in order (满意率 counts each)
    replied_late: bool = False  # a reply came after the period it answered had ended
    figures_deadline: Instant | None = None  # the period the first reply answered: the figures' due date
    merged_into: str | None = None
    supervised: bool = False
    closed_at: Instant | None = None

    @property
    def rating(self) -> Rating | None:
        """The latest call-back's rating."""
        return self.ratings[-1] if self.ratings else None

    @property
    def category(self) -> ComplaintCategory:
        return self.registered.category

    @property
    def rules(self) -> DeadlineRules:
        return self.registered.rules

    @property
    def applicant_key(self) -> str | None:
        """The caller's keyed pseudonym (what the shared mechanism logs for an applicant: never here)."""
        return self.registered.caller_key

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def readers(self) -> tuple[str, ...]:
        """The department it is dispatched to (hotline operators and supervisors read every complaint)."""
        return (f"department:{self.department}",)

    def may_read(self, reader: Actor) -> bool:
        """The hotline and supervision read everything; a department, the complaints dispatched to it."""
        keys = reader_keys(reader, pseudonym)
        return keys is None or not set(keys).isdisjoint(self.readers)

    def admit(self, command: Command) -> None:
        """A stranger learns nothing of the complaint; the engine's role is the engine's own."""
        if not self.may_read(command.actor):
            raise UnknownApplication(f"no application {self.complaint_id}")
        if command.actor.role is Role.SYSTEM:
            raise NotAuthorised(command.actor.id, "system actions are the engine's own")
        if isinstance(command, ReviseTrustedKeys) and command.trusted_keys:
            raise InvalidCommand("trusted_keys: the engine reads the trust store itself; leave it out")

    @property
    def handling_clock(self) -> StatutoryClock | None:
        """The handling period in force, while one runs (dispatched or handling)."""
        return self.period_clock if self.status in _HANDLED else None

    @property
    def period_clock(self) -> StatutoryClock:
        """The last handling period, running or not: what the reply was due by."""
        category = self.category
        extensions = (category.extension_days,) if self.period_extended else ()
        return StatutoryClock(
            started_at=self.handling_from, budget=category.handling_days, extensions=extensions
        )


def start(event: ComplaintRegistered) -> ComplaintState:
    return ComplaintState(
        complaint_id=event.complaint_id,
        registered=event,
        status=ComplaintStatus.DISPATCHED,
        version=1,
        trusted_keys=event.trusted_keys,
        department=event.department,
        dispatched_at=event.at,
        handling_from=event.at,
    )


def evolve(state: ComplaintState, event: ComplaintEvent) -> ComplaintState:
    """Apply one event; never raises."""
    changes: dict[str, Any] = {"version": state.version + 1}
    new_period = {"handling_from": event.at, "period_extended": False, "warned": WarningLevel.NONE}
    match event:
        case ComplaintSigned():
            changes |= {"status": ComplaintStatus.HANDLING, "signed_at": event.at}
        case ComplaintReturned():
            changes |= {
                "status": ComplaintStatus.RETURNED,
                "returned_by": (*state.returned_by, event.department),
            }
        case ComplaintRedispatched():
            changes |= new_period | {
                "status": ComplaintStatus.DISPATCHED,
                "department": event.department,
                "dispatched_at": event.at,
                "signed_at": None,
            }
        case HandlingExtended():
            changes |= {"extended": True, "period_extended": True}
        case ComplaintReplied():
            due = handling_due(state)
            changes |= {
                "status": ComplaintStatus.REPLIED,
                "reply": event.reply,
                "replied_at": event.at,
                "replied_late": state.replied_late or (due is not None and event.at > due),
                "figures_deadline": state.figures_deadline or due,
            }
        case CallbackRecorded():
            changes["ratings"] = (*state.ratings, event.rating)
        case ComplaintClosed():
            changes |= {"status": ComplaintStatus.CLOSED, "closed_at": event.at}
        case ComplaintReopened():
            changes |= new_period | {"status": ComplaintStatus.HANDLING, "reopen_count": event.reopen_count}
        case ComplaintMerged():
            changes |= {"status": ComplaintStatus.MERGED, "merged_into": event.into, "closed_at": event.at}
        case ComplaintSupervised():
            changes["supervised"] = True
        case HandlingWarningRaised():
            changes |= {"warned": event.level, "warnings_raised": state.warnings_raised | {event.level}}
        case TrustedKeysRevised():
            changes["trusted_keys"] = event.trusted_keys
    return state.model_copy(update=changes)


def replay(events: Iterable[ComplaintEvent]) -> ComplaintState:
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, ComplaintRegistered):
        raise ValueError("a complaint's log starts with ComplaintRegistered")
    state = start(first)
    for event in iterator:
        state = evolve(state, event)
    return state


# --- decide -------------------------------------------------------------------------------------------


def decide(
    state: ComplaintState | None, command: ComplaintCommand, now: datetime
) -> tuple[ComplaintEvent, ...]:
    """The events ``command`` causes at ``now``, or a ``OneWindowError`` saying why it is refused."""
    events: tuple[ComplaintEvent, ...] = dispatch(
        state,
        command,
        now,
        opens=RegisterComplaint,
        submit=_register,
        transitions=TRANSITIONS,
        authorised=AUTHORISED_ROLES,
        handlers=_HANDLERS,
    )
    return events


def _register(command: RegisterComplaint, now: datetime) -> ComplaintRegistered:
    """Dispatched at once to the department the pinned row of the dispatch table names."""
    if not visible(command.content):
        raise InvalidCommand("content: a complaint must say something")
    if command.application_id == command.complaint_id:
        raise InvalidCommand("application_id: a complaint does not concern itself")
    fields = command.model_dump(exclude={"kind", "actor", "reason", "assertion"})
    return ComplaintRegistered(
        at=now, actor=command.actor, reason=command.reason, department=command.category.department, **fields
    )


def _require_department(state: ComplaintState, actor: Actor) -> None:
    if actor.department != state.department:
        raise NotAuthorised(actor.id, f"the complaint is dispatched to {state.department}, not to them")


def _require_reason(command: Command, what: str) -> None:
    if not visible(command.reason):
        raise InvalidCommand(f"{what}: give the reason")


def _sign(state: ComplaintState, command: SignComplaint, now: datetime) -> tuple[ComplaintEvent, ...]:
    _require_department(state, command.actor)
    return (ComplaintSigned(at=now, actor=command.actor, reason=command.reason, department=state.department),)


def _return(state: ComplaintState, command: ReturnComplaint, now: datetime) -> tuple[ComplaintEvent, ...]:
    _require_department(state, command.actor)
    _require_reason(command, "退单")
    window_ends = misroute_until(state)
    if window_ends is not None and now > window_ends:
        hours = state.category.misroute_hours
        raise ReturnWindowPassed(f"退单 is possible within {hours} hours of dispatch, until {window_ends}")
    returned = ComplaintReturned(
        at=now, actor=command.actor, reason=command.reason, department=state.department
    )
    return (returned,)


def _redispatch(
    state: ComplaintState, command: RedispatchComplaint, now: datetime
) -> tuple[ComplaintEvent, ...]:
    if command.department in (state.department, *state.returned_by):
        raise InvalidCommand(f"{command.department} returned this complaint: dispatch it to another")
    redispatched = ComplaintRedispatched(
        at=now, actor=command.actor, reason=command.reason, department=command.department
    )
    return (redispatched,)


def _extend(state: ComplaintState, command: ExtendHandling, now: datetime) -> tuple[ComplaintEvent, ...]:
    _require_department(state, command.actor)
    _require_reason(command, "an extension")
    if state.extended:
        raise InvalidCommand("the handling period is extended once only")
    due = handling_due(state)
    if due is not None and now > due:
        raise InvalidCommand(f"the handling period ended at {due}: an overdue complaint is not extended")
    days = state.category.extension_days
    return (HandlingExtended(at=now, actor=command.actor, reason=command.reason, working_days=days),)


def _reply(state: ComplaintState, command: ReplyComplaint, now: datetime) -> tuple[ComplaintEvent, ...]:
    _require_department(state, command.actor)
    if not visible(command.reply):
        raise InvalidCommand("reply: a reply must say something")
    replied = ComplaintReplied(
        at=now, actor=command.actor, reason=command.reason, department=state.department, reply=command.reply
    )
    return (replied,)


def _callback(state: ComplaintState, command: RecordCallback, now: datetime) -> tuple[ComplaintEvent, ...]:
    recorded = CallbackRecorded(at=now, actor=command.actor, reason=command.reason, rating=command.rating)
    if command.rating.satisfied:
        return recorded, ComplaintClosed(at=now, actor=command.actor, reason=command.rating.chinese)
    why = f"回访{command.rating.chinese}: handled again"
    return recorded, ComplaintReopened(
        at=now, actor=command.actor, reason=why, reopen_count=state.reopen_count + 1
    )


def _merge(state: ComplaintState, command: MergeComplaint, now: datetime) -> tuple[ComplaintEvent, ...]:
    if command.into == state.complaint_id:
        raise InvalidCommand("a complaint is not merged into itself")
    return (ComplaintMerged(at=now, actor=command.actor, reason=command.reason, into=command.into),)


def _supervise(
    state: ComplaintState, command: SuperviseComplaint, now: datetime
) -> tuple[ComplaintEvent, ...]:
    _require_reason(command, "joint supervision")
    if state.supervised:
        raise InvalidCommand("the complaint is jointly supervised already")
    return (ComplaintSupervised(at=now, actor=command.actor, reason=command.reason),)


def _warn(state: ComplaintState, command: RaiseHandlingWarning, now: datetime) -> tuple[ComplaintEvent, ...]:
    mark = next_warning(state)
    if mark is None or mark.level is not command.level or mark.at > now:
        raise InvalidCommand(f"no {command.level.value} warning is due on the handling period now")
    raised = HandlingWarningRaised(
        at=now,
        actor=command.actor,
        reason=command.reason or mark.cause,
        level=mark.level,
        department=state.department,
        deadline_at=handling_due(state) or mark.at,
    )
    return (raised,)


def _revise_keys(
    state: ComplaintState, command: ReviseTrustedKeys, now: datetime
) -> tuple[ComplaintEvent, ...]:
    if not command.trusted_keys:
        raise InvalidCommand("trusted_keys: the trust store names no key")
    return (
        TrustedKeysRevised(
            at=now, actor=command.actor, reason=command.reason, trusted_keys=command.trusted_keys
        ),
    )


_HANDLERS: Mapping[type, Callable[[ComplaintState, Any, datetime], tuple[ComplaintEvent, ...]]] = {
    SignComplaint: _sign,
    ReturnComplaint: _return,
    RedispatchComplaint: _redispatch,
    ExtendHandling: _extend,
    ReplyComplaint: _reply,
    RecordCallback: _callback,
    MergeComplaint: _merge,
    SuperviseComplaint: _supervise,
    RaiseHandlingWarning: _warn,
    ReviseTrustedKeys: _revise_keys,
}


# --- derived ------------------------------------------------------------------------------------------


def misroute_until(state: ComplaintState) -> datetime | None:
    """Until when the dispatched department may return it (退单); None once it is not dispatched."""
    if state.status is not ComplaintStatus.DISPATCHED:
        return None
    return state.dispatched_at + timedelta(hours=state.category.misroute_hours)


def handling_due(state: ComplaintState) -> datetime | None:
    """24:00 Shanghai of the handling period's last working day (R-CAL-1); None while no period runs or
    while the calendar does not reach that far (it then waits for the data, R-CAL-4)."""
    return period_due(state.handling_clock, state)


def period_due(clock: StatutoryClock | None, state: ComplaintState) -> datetime | None:
    """When ``clock`` (a handling period of ``state``) ends; None without one or without the calendar."""
    if clock is None:
        return None
    try:
        return clock.deadline(state.rules.working, state.handling_from, state.rules.rest_day_receipt).due_at
    except CalendarNotPublished:
        return None


def handling_marks(state: ComplaintState) -> tuple[WarningMark, ...]:
    """Notice, yellow and red on the handling period in force (DESIGN.md section 8's thresholds)."""
    clock = state.handling_clock
    if clock is None:
        return ()
    rules = state.rules
    try:
        deadline = clock.deadline(rules.working, state.handling_from, rules.rest_day_receipt)
        counted = clock.counted_days(rules.working, state.handling_from, rules.rest_day_receipt)
    except CalendarNotPublished:
        return ()
    return tuple(_decision_marks(counted, deadline, rules.warnings, WarningSubject.HANDLING))


def next_warning(state: ComplaintState) -> WarningMark | None:
    """The earliest mark of a level above the one raised in this period: the durable timer to arm."""
    ahead = [mark for mark in handling_marks(state) if mark.level.rank > state.warned.rank]
    return min(ahead, key=lambda mark: (mark.at, mark.level.rank), default=None)


class ComplaintView(BaseModel):
    """The ``state`` query: where the complaint stands, its handling deadline and what may be done now."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    status: ComplaintStatus
    closed: bool
    channel: ComplaintChannel
    caller: Caller
    content: str
    category_code: str
    category_name: str
    department: str
    dispatched_at: Instant
    misroute_until: Instant | None
    returned_by: tuple[str, ...]
    signed_at: Instant | None
    handling_due_at: Instant | None = Field(description="24:00 Shanghai of the last handling day.")
    working_days_used: int | None
    working_days_left: int | None
    extended: bool
    warning_level: WarningLevel
    reopen_count: int
    reply: str | None
    rating: Rating | None
    merged_into: str | None
    supervised: bool
    application_id: str | None
    closed_at: Instant | None
    may_now: tuple[str, ...] = Field(description="The commands people may give now.")
    event_count: int


def view_of(state: ComplaintState, now: datetime) -> ComplaintView:
    """The view at ``now`` (the working days used are counted up to it)."""
    used = left = None
    clock = state.handling_clock
    if clock is not None:
        try:
            rules = state.rules
            used = clock.working_days_used(rules.working, now, rules.rest_day_receipt)
            left = max(clock.budget + sum(clock.extensions) - used, 0)
        except CalendarNotPublished:
            pass
    allowed = TRANSITIONS[state.status]
    registered = state.registered
    return ComplaintView(
        complaint_id=state.complaint_id,
        status=state.status,
        closed=state.closed,
        channel=registered.channel,
        caller=registered.caller,
        content=registered.content,
        category_code=state.category.code,
        category_name=state.category.name,
        department=state.department,
        dispatched_at=state.dispatched_at,
        misroute_until=misroute_until(state),
        returned_by=state.returned_by,
        signed_at=state.signed_at,
        handling_due_at=handling_due(state),
        working_days_used=used,
        working_days_left=left,
        extended=state.extended,
        warning_level=state.warned,
        reopen_count=state.reopen_count,
        reply=state.reply,
        rating=state.rating,
        merged_into=state.merged_into,
        supervised=state.supervised,
        application_id=registered.application_id,
        closed_at=state.closed_at,
        may_now=tuple(kind for kind in PEOPLE_COMMANDS if kind in allowed and kind != "revise_trusted_keys"),
        event_count=state.version,
    )


# What outside systems are told: the department of each dispatch and warning, supervision of red
# warnings (督办) and of joint supervision.
EFFECTS: Mapping[str, tuple[str, ...]] = {
    "complaint_registered": ("notify_department",),
    "complaint_redispatched": ("notify_department",),
    "complaint_reopened": ("notify_department",),
    "handling_warning_raised": ("notify_department",),  # red: escalated as well (``effects_of``)
    "complaint_supervised": ("push_to_supervision",),
}


def effects_of(event: ComplaintEvent) -> tuple[str, ...]:
    """The outside calls one event causes: a red warning is escalated (督办) besides the notice."""
    effects = EFFECTS.get(event.kind, ())
    if isinstance(event, HandlingWarningRaised) and event.level is WarningLevel.RED:
        return (*effects, "escalate")
    return effects


def report_facts(state: ComplaintState) -> CaseFacts:
    """The complaint as the city's figures count it: due at the end of the period its first reply
    answered (or of the period in force, before any reply), done when a call-back closed it, in time if
    no reply ever came after its period; every call-back's rating counted. A duplicate merged into
    another (并单) is not counted (the other one is); one returned as misrouted (退单) counts against no
    department until it is re-dispatched."""
    merged = state.status is ComplaintStatus.MERGED
    deadline = None if merged else state.figures_deadline or period_due(state.period_clock, state)
    closed = None if merged else state.closed_at
    returned = state.status is ComplaintStatus.RETURNED
    return CaseFacts(
        case_id=state.complaint_id,
        kind=CaseKind.COMPLAINT,
        matter=state.category.code,
        departments=() if returned else (state.department,),
        deadline=deadline,
        done_at=closed,
        on_time=None if closed is None else not state.replied_late,
        warnings=state.warnings_raised,
        ratings=tuple(rating.value for rating in state.ratings),
    )
