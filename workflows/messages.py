"""The workflow's wire contract: the intake message that starts a case and the view a query returns.

Plain pydantic models, so every payload is plain JSON that the ``temporal`` CLI can send and read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from temporalio.common import Priority

from workflows.domain.application import (
    ApplicationState,
    ApprovalStep,
    PendingAction,
    Status,
    Verification,
    clock_reading,
    pending_actions,
)
from workflows.domain.catalogue import ComplaintCategory, Matter
from workflows.domain.chain import AuditRecord, ChainHash
from workflows.domain.clock import DeadlineRules, WarningLevel, WarningSubject, highest
from workflows.domain.commands import ApplicationCommand, Command, Submission
from workflows.domain.complaint import Caller, ComplaintChannel
from workflows.domain.composite import Budget
from workflows.domain.credit import CreditRecordKind
from workflows.domain.digests import sha256_hex
from workflows.domain.events import Actor, Applicant, Opinion
from workflows.domain.values import ApplicationNumber, Code, Instant, MatterCode, Name, Text
from workflows.identity import TrustedKeys

_Event = TypeVar("_Event", bound=BaseModel)

TASK_QUEUE = "onewindow"
# The error type (and, for a query, the message) of what reaches a case before its worker registered it.
NOT_YET_REGISTERED = "NotYetRegistered"
STILL_REGISTERING = "the application is still being registered; retry shortly"
# 绿色通道: priority in every queue. Temporal dispatches lower keys first; 3 is its default.
GREEN_CHANNEL_PRIORITY = Priority(priority_key=1)
ORDINARY_PRIORITY = Priority(priority_key=3)


def priority_of(green_channel: bool) -> Priority:
    """The task-queue priority of a case's workflow and activity tasks."""
    return GREEN_CHANNEL_PRIORITY if green_channel else ORDINARY_PRIORITY


class PartOf(BaseModel):
    """What a project tells the application of one of its matters: which, and the entry the project
    pinned. Honoured only from the project itself (Temporal names a child's parent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: ApplicationNumber
    item: Code
    matter: Matter
    catalogue_version: str = Field(min_length=1)
    simulated: bool = Field(default=False, description="模拟审批: opinions without legal effect for now.")
    rules: DeadlineRules = Field(description="The calendar and thresholds the project counts with.")
    security: SecurityContext = Field(description="The keys the project trusts, its applicant's pseudonym.")


class Intake(Submission):
    """What an intake system sends to open a case (the actor is the intake system or window officer).

    The workflow id is the application number; the matter is named by its catalogue code, and the
    engine copies the entry in force into the case.
    """

    matter_code: MatterCode = Field(description="Catalogue code, 'CODE' or 'CODE.TYPE'.")
    part_of: PartOf | None = Field(default=None, description="Set by a project for one of its matters.")
    commitment: Name | None = Field(
        default=None,
        description="告知承诺制: the applicant's written commitment (承诺书) in place of the proofs the"
        " matter names; the engine checks the applicant's credit.",
    )
    consultation_id: ApplicationNumber | None = Field(
        default=None,
        description="提前介入: the consultation the case comes from; its findings carry into acceptance.",
    )


class ConsultationIntake(Submission):
    """What opens a consultation (提前介入): the steward's, for a green-channel case, with the materials."""

    matter_code: MatterCode = Field(description="The catalogue code of the matter to be applied for.")


class ComplaintIntake(Command):
    """What a hotline operator sends to register a 12345/8890 complaint (the workflow id is its number).

    The caller is personal data: it travels in this (encrypted) payload only, never in an id or a log.
    """

    caller: Caller
    channel: ComplaintChannel
    content: Text = Field(min_length=1)
    category_code: Code = Field(description="The dispatch table's category (派单 follows from it).")
    concerns: ApplicationNumber | None = Field(
        default=None, description="The number of the application the complaint concerns, if any."
    )


class ComplaintCategoryEntry(BaseModel):
    """The dispatch table's row in force when a complaint registers, with the catalogue's version."""

    model_config = ConfigDict(frozen=True)

    catalogue_version: str
    category: ComplaintCategory


class ProjectIntake(Submission):
    """What opens a composite process (a construction project): the first stage's materials with it."""

    matter_code: MatterCode = Field(description="The composite matter's catalogue code.")
    project_type: Code | None = Field(default=None, description="The catalogue's project type, if any.")
    commitment: Name | None = Field(
        default=None, description="投资承诺制: the 承诺书 a project of a commitment type builds on."
    )
    history_threshold: int | None = Field(
        default=None,
        ge=50,
        le=10_240,
        description="Continue as new past this many history events (Temporal's own suggestion otherwise).",
    )


class ComplaintLink(BaseModel):
    """What a complaint says of the application it concerns, as an application reads it (no caller)."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    application_id: str | None
    category_code: str
    department: str
    open: bool = True  # neither closed nor merged: it may take a duplicate (并单)


class PartsRequest(BaseModel):
    """The applications of a project's matters to read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_ids: tuple[ApplicationNumber, ...] = Field(min_length=1)


class ProcessOutcome(BaseModel):
    """How a project stands, as one of its matters reads it from Temporal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    closed: bool
    status: str
    reason: str = ""
    evidence: str | None = Field(default=None, description="模拟审批: the precondition's evidence, once met.")


class CatalogueEntry(BaseModel):
    """The catalogue entry in force when a case starts, with the catalogue's version."""

    model_config = ConfigDict(frozen=True)

    catalogue_version: str
    matter: Matter


class ApplicationView(BaseModel):
    """What supervisors and portals read of a case (the ``state`` query), derived from its state.

    Instants are in Asia/Shanghai (+08:00); periods are working days (R-XK-82).
    """

    model_config = ConfigDict(frozen=True)

    application_id: str
    matter_code: str
    matter_name: str
    status: Status
    closed: bool
    green_channel: bool
    steward: Actor | None = Field(description="The 项目管家 who acts for the applicant (green channel).")
    received_at: Instant
    due_at: Instant | None = Field(
        description="Decision deadline: 24:00 Shanghai of its last working day; none while suspended, when it"
        " depends on the resumption, unless it had already passed."
    )
    last_day: date | None
    provisional: bool = Field(description="The deadlines rest on a year without a State Council notice.")
    calendar_version: str
    calendar_missing: int | None = Field(
        description="A year the deadlines reach without calendar data: they wait for it (R-CAL-4)."
    )
    working_days_used: int | None = Field(
        description="Counted working days of the decision period, through the decision once decided."
    )
    working_days_left: int | None
    working_days_overdue: int | None = Field(description="Counted working days past the period's last day.")
    working_days_suspended: int = Field(
        description="Working days not counted (R-XK-45): elapsed = used + this."
    )
    suspended: bool
    warning_level: WarningLevel
    acceptance_by: Instant | None = Field(description="R-XK-32: silence until then means accepted.")
    supplement_by: Instant | None = Field(description="容缺: promised materials due by then.")
    delivery_by: Instant | None = Field(description="R-XK-44: the licence is due by then.")
    resume_expected_by: Instant | None = Field(
        description="While suspended: the end of the pause's expected working days (R-XK-45)."
    )
    stage: str | None = Field(description="The budgeted stage of a composite matter under review now.")
    stage_due_at: Instant | None = Field(description="When that stage overruns its own limit (yellow).")
    decided_at: Instant | None = Field(description="When the case was approved or denied.")
    issued_at: Instant | None = Field(description="When the licence was issued.")
    closed_at: Instant | None = Field(description="When the case ended without a decision (withdrawn, ...).")
    missing: tuple[str, ...]
    outstanding: tuple[str, ...]
    pending_actions: tuple[PendingAction, ...]
    licence_number: str | None
    simulated: bool = Field(
        default=False, description="模拟审批: the opinions have no legal effect until the precondition."
    )
    internal_target_by: Instant | None = Field(
        default=None,
        description="绿色通道: the office's internal target, beside the decision deadline (due_at).",
    )
    internal_target_days: int | None = Field(
        default=None, description="绿色通道: the internal target in working days (a share of the limit)."
    )
    internal_warning_level: WarningLevel = Field(
        default=WarningLevel.NONE, description="绿色通道: the highest warning raised on the internal target."
    )
    approval_plan: tuple[tuple[ApprovalStep, ...], ...] = Field(
        default=(), description="The approval rounds in order, with any step added on the case (加签)."
    )
    assignments: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Steps handed on (转办, 或签): the approvers who decide them."
    )
    returned: tuple[str, ...] = Field(default=(), description="退回: materials the window must bring back.")
    urges: dict[str, int] = Field(default_factory=dict, description="催办: how often each step was urged.")
    window_visits: int = Field(
        default=0, description="最多跑一次: the steps brought to the window in person."
    )
    overdue_explanation: str | None = Field(
        default=None, description="优化营商环境条例 第36条: why the overdue case is late, as published."
    )
    complaints: tuple[str, ...] = Field(default=(), description="12345/8890 complaints about the case.")
    commitment: str | None = Field(
        default=None, description="告知承诺制: the written commitment in place of the named proofs."
    )
    consultation_id: str | None = Field(default=None, description="提前介入: the consultation it came from.")
    checked_in_consultation: tuple[str, ...] = Field(
        default=(), description="提前介入: materials the consultation's window checked (not examined again)."
    )
    opinions: tuple[Opinion, ...] = Field(
        default=(), description="提前介入: the departments' pre-review opinions, attached."
    )
    verification: Verification | None = Field(
        default=None, description="告知承诺制 after issuance: owed, verified, rectifying or rectified."
    )
    verification_by: Instant | None = Field(default=None, description="告知承诺制: verify by then.")
    rectification_by: Instant | None = Field(
        default=None, description="告知承诺制: rectified by then, or the licence is revoked."
    )
    event_count: int

    @classmethod
    def of(cls, state: ApplicationState, now: datetime) -> ApplicationView:
        """The view of ``state`` at ``now``; nothing here is stored, all is derived."""
        plan = state.plan
        ended = state.decided_at is not None or state.closed_at is not None
        # The decision deadline while it runs, and once decided the one the case was held to; a case
        # closed without a decision (withdrawn, not accepted, abandoned) had none that still matters.
        held_to = state.decided_at is not None or state.deciding
        decision = plan.decision_in_force if plan and held_to else None
        running = plan is not None and plan.decision is not None  # while suspended, days are still counted
        reading = clock_reading(state, now)
        consultation = state.consultation
        return cls(
            application_id=state.application_id,
            matter_code=state.matter.code,
            matter_name=state.matter.name,
            status=state.status,
            closed=state.closed,
            green_channel=state.green_channel,
            steward=state.steward,
            received_at=state.received_at,
            due_at=decision.due_at if decision else None,
            last_day=decision.last_day if decision else None,
            provisional=plan.provisional if plan else False,
            calendar_version=state.rules.version,
            calendar_missing=plan.calendar_missing if plan else None,
            working_days_used=reading.used if reading else None,
            working_days_left=reading.left if reading and not ended else None,
            working_days_overdue=reading.overdue if reading else None,
            working_days_suspended=reading.suspended if reading else 0,
            suspended=state.status is Status.SUSPENDED,
            warning_level=highest(
                (state.warning_raised(), plan.level_at(now) if plan and running else WarningLevel.NONE)
            ),
            acceptance_by=plan.acceptance_by if plan and state.status is Status.RECEIVED else None,
            supplement_by=plan.supplement_by if plan and state.outstanding else None,
            delivery_by=plan.delivery_by if plan else None,
            resume_expected_by=plan.resume_expected_by if plan else None,
            stage=plan.stage if plan and running else None,
            stage_due_at=plan.stage_due_at if plan and running else None,
            decided_at=state.decided_at,
            issued_at=state.issued_at,
            closed_at=state.closed_at,
            missing=state.missing,
            outstanding=state.outstanding,
            pending_actions=pending_actions(state),
            licence_number=state.licence_number,
            simulated=state.simulated,
            internal_target_by=plan.internal_target_by if plan and running else None,
            internal_target_days=state.internal_target_days,
            internal_warning_level=state.warning_raised(WarningSubject.INTERNAL_TARGET),
            approval_plan=state.rounds,
            assignments={step: tuple(a.id for a in who) for step, who in state.assignees.items()},
            returned=state.returned,
            urges=state.urges,
            window_visits=state.window_visits,
            overdue_explanation=state.overdue_explanation,
            complaints=state.complaints,
            commitment=state.commitment,
            consultation_id=consultation.consultation_id if consultation else None,
            checked_in_consultation=consultation.checked if consultation else (),
            opinions=consultation.opinions if consultation else (),
            verification=state.verification,
            verification_by=plan.verification_by if plan else None,
            rectification_by=plan.rectification_by if plan else None,
            event_count=state.version,
        )


_DIGEST_MARK = "#sha256:"


def idempotent_update_id(actor: Actor, key: str, command: Command) -> str:
    """The update id of a command given with an idempotency key: the same key and command, the same id.

    The command's digest is part of the id, so the same key reused for another command reaches the case
    as a different update, which the case refuses (``IdempotencyKeyReused``) instead of Temporal
    answering it with the first command's outcome.
    """
    digest = sha256_hex(command.model_dump_json(exclude={"assertion"}), 16)  # signed anew on each try
    return f"{actor.role.value}:{actor.key}:{key}{_DIGEST_MARK}{digest}"


def idempotency_of(update_id: str) -> tuple[str, str] | None:
    """(key scope, command digest) of an id made by ``idempotent_update_id``; None for any other id."""
    scope, mark, digest = update_id.rpartition(_DIGEST_MARK)
    return (scope, digest) if mark and scope else None


class OutsideCall(BaseModel):
    """Every call to an outside system carries its idempotency key: application id + event sequence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    application_id: str


class LicenceRequest(OutsideCall):
    """Issue the licence for an approved case."""

    matter_code: str
    matter_name: str
    applicant: Applicant


class LicenceRevocation(OutsideCall):
    """Revoke an issued licence (issue-then-supplement promise broken)."""

    licence_number: str
    reason: str


class SupervisionPush(OutsideCall):
    """审批监管联动: an approval result pushed to the supervising departments."""

    matter_code: str
    departments: tuple[str, ...]
    result: str
    licence_number: str | None = None


class ApplicantNotice(OutsideCall):
    """A written notice to the applicant (R-XK-32b, R-XK-45, R-XK-42a, results)."""

    applicant: Applicant
    notice: str
    text: str
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What the notice must state beyond its reason: e.g. the pause and its expected working"
        " days (R-XK-45), the extension's days (R-XK-42a), the items missing, the notice number.",
    )


class DepartmentNotice(OutsideCall):
    """Departments told of a step given to them (转办, 或签, 加签), urged (催办), or of their internal
    target's warning (绿色通道)."""

    departments: tuple[str, ...]
    step: str | None = None
    notice: str
    text: str
    assignees: tuple[str, ...] = Field(default=(), description="The approvers given the step, by id.")


class CreditEntry(OutsideCall):
    """A credit record against an applicant, written once per key wherever the case ran."""

    applicant_id: str
    applicant_key: str | None = Field(
        default=None, description="The applicant's keyed pseudonym (cases registered before keys: none)."
    )
    kind: CreditRecordKind = CreditRecordKind.DEFICIENCY_COMMITMENT_BROKEN
    reason: str
    at: Instant


class FindingRecorded(BaseModel):
    """A supervision finding kept in its applicant's credit register (who it concerns stays out)."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    kind: CreditRecordKind
    key: str
    at: Instant


class CreditQuery(BaseModel):
    """Is the applicant eligible, at ``at``, for an instrument that trusts their word (容缺, 告知承诺)?"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    applicant_id: str
    applicant_key: str | None = None
    at: Instant


class Escalation(OutsideCall):
    """督办: a red warning sent to supervision."""

    matter_code: str
    departments: tuple[str, ...]
    subject: WarningSubject | Budget
    deadline_at: Instant


class PriorityChange(OutsideCall):
    """绿色通道: the case's own workflow tasks follow its green-channel status in the task queue."""

    green_channel: bool


class ReadRequest(BaseModel):
    """A read of a case on behalf of a person, only what their role covers (``workflows.domain.access``);
    with no reader, an operator's read of everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reader: Actor | None
    at: Instant | None = Field(default=None, description="The reader's current instant, for the view.")
    first: int = Field(default=0, ge=0, description="For the events: the index of the first one wanted.")


# A page of a case's log stays well within Temporal's payload limit (256 KiB: workflows.server_limits).
EVENTS_PER_PAGE = 100
PAGE_BYTES = 128 * 1024


class EventsPage(BaseModel, Generic[_Event]):
    """Events of a case's log from ``first``, and where the next page starts (None after the last)."""

    model_config = ConfigDict(frozen=True)

    first: int
    events: list[_Event]
    next_first: int | None
    total: int

    @classmethod
    def of(cls, events: Sequence[_Event], first: int) -> Self:
        """Up to ``EVENTS_PER_PAGE`` events from ``first``, and no more than ``PAGE_BYTES`` of them."""
        page: list[_Event] = []
        size = 0
        for event in events[first : first + EVENTS_PER_PAGE]:
            size += len(event.model_dump_json().encode())  # bytes, as the payload limit counts them
            if page and size > PAGE_BYTES:
                break
            page.append(event)
        end = first + len(page)
        return cls(first=first, events=page, next_first=end if end < len(events) else None, total=len(events))


class RulesRequest(BaseModel):
    """The deadline rules in force for a case received in ``from_year`` (its calendar from that year on)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_year: int
    reload_calendar: bool = Field(default=False, description="A calendar revision was announced (R-CAL-4).")


class AuditEntries(BaseModel):
    """Digests of newly recorded events, for the audit log outside the case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    records: tuple[AuditRecord, ...]


class OutsideEffect(BaseModel):
    """One call of an effect batch: the activity that would make it alone, and its message as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    activity: str
    message: dict[str, Any]


class EffectBatch(BaseModel):
    """What one change of a case tells outside systems, performed by one activity: the new events'
    digests for the audit log, then each call in the order its events were recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    records: tuple[AuditRecord, ...] = ()
    calls: tuple[OutsideEffect, ...] = ()


class SecurityRequest(BaseModel):
    """What a case asks of its worker's keys when it registers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    applicant_id: str


class SecurityContext(BaseModel):
    """What a case keeps of its worker's keys, recorded once (replay never re-reads a key file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trusted: TrustedKeys
    applicant_key: str = Field(description="The applicant's keyed pseudonym (HMAC), never the number.")
    chain_hash: ChainHash


# Built once per worker: this module passes through the sandbox, while a workflow's own module is imported
# again for each instance, where building these adapters was a quarter of an application's start.
APPLICATION_INTAKES: TypeAdapter[Intake] = TypeAdapter(Intake)
APPLICATION_COMMANDS: TypeAdapter[ApplicationCommand] = TypeAdapter(ApplicationCommand)
