"""The workflow's wire contract: the intake message that starts a case and the view a query returns.

Plain pydantic models, so every payload is plain JSON that the ``temporal`` CLI can send and read.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from temporalio.common import Priority

from workflows.domain.application import ApplicationState, PendingAction, Status, pending_actions
from workflows.domain.catalogue import Matter
from workflows.domain.clock import PlanRequest, WarningLevel, WarningSubject, highest
from workflows.domain.commands import Submission
from workflows.domain.events import Actor, Applicant

TASK_QUEUE = "onewindow"
# The error type of a query or command that reaches a case before the worker has registered it.
NOT_YET_REGISTERED = "NotYetRegistered"
# 绿色通道: priority in every queue. Temporal dispatches lower keys first; 3 is its default.
GREEN_CHANNEL_PRIORITY = Priority(priority_key=1)
ORDINARY_PRIORITY = Priority(priority_key=3)


def priority_of(green_channel: bool) -> Priority:
    """The task-queue priority of a case's workflow and activity tasks."""
    return GREEN_CHANNEL_PRIORITY if green_channel else ORDINARY_PRIORITY


class Intake(Submission):
    """What an intake system sends to open a case (the actor is the intake system or window officer).

    The workflow id is the application number; the matter is named by its catalogue code, and the
    engine copies the entry in force into the case.
    """

    matter_code: str = Field(min_length=1, description="Catalogue code, 'CODE' or 'CODE.TYPE'.")


class CatalogueEntry(BaseModel):
    """The catalogue entry in force when a case starts, with the catalogue's version."""

    model_config = ConfigDict(frozen=True)

    catalogue_version: str
    matter: Matter


class ApplicationView(BaseModel):
    """What supervisors and portals read of a case (the ``state`` query), derived from its state."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    matter_code: str
    matter_name: str
    status: Status
    closed: bool
    green_channel: bool
    steward: Actor | None = Field(description="The 项目管家 who acts for the applicant (green channel).")
    received_at: datetime
    due_at: datetime | None = Field(
        description="Decision deadline: 24:00 Shanghai of its last working day; none while suspended, when it"
        " depends on the resumption, unless it had already passed."
    )
    last_day: date | None
    provisional: bool = Field(description="The deadlines rest on a year without a State Council notice.")
    calendar_version: str | None
    working_days_used: int | None
    working_days_left: int | None
    working_days_suspended: int = Field(
        description="Working days not counted (R-XK-45): elapsed = used + this."
    )
    suspended: bool
    warning_level: WarningLevel
    acceptance_by: datetime | None = Field(description="R-XK-32: silence until then means accepted.")
    supplement_by: datetime | None = Field(description="容缺: promised materials due by then.")
    delivery_by: datetime | None = Field(description="R-XK-44: the licence is due by then.")
    resume_expected_by: datetime | None = Field(
        description="While suspended: the end of the pause's expected working days (R-XK-45)."
    )
    stage: str | None = Field(description="The budgeted stage of a composite matter under review now.")
    stage_due_at: datetime | None = Field(description="When that stage overruns its own limit (yellow).")
    missing: tuple[str, ...]
    outstanding: tuple[str, ...]
    pending_actions: tuple[PendingAction, ...]
    licence_number: str | None
    event_count: int

    @classmethod
    def of(cls, state: ApplicationState, now: datetime) -> ApplicationView:
        """The view of ``state`` at ``now``; nothing here is stored, all is derived."""
        plan = state.plan
        decision = plan.decision_in_force if plan else None
        running = plan is not None and plan.decision is not None  # while suspended, days are still counted
        used = plan.working_days_used(now) if plan and running else None
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
            calendar_version=plan.calendar_version if plan else None,
            working_days_used=used,
            working_days_left=len(plan.counted_days) - used if plan and used is not None else None,
            working_days_suspended=plan.suspended_working_days if plan else 0,
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
            missing=state.missing,
            outstanding=state.outstanding,
            pending_actions=pending_actions(state),
            licence_number=state.licence_number,
            event_count=state.version,
        )


def applicant_hash(id_number: str) -> str:
    """A stable pseudonym for the applicant's identity number, searchable without exposing it."""
    return hashlib.sha256(id_number.encode()).hexdigest()[:16]


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


class CreditEntry(OutsideCall):
    """A credit record against an applicant (broken 容缺 commitment)."""

    applicant_id: str
    reason: str
    at: AwareDatetime


class CreditQuery(BaseModel):
    """Is the applicant eligible for 容缺 at ``at``?"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    applicant_id: str
    at: AwareDatetime


class Escalation(OutsideCall):
    """督办: a red warning sent to supervision."""

    matter_code: str
    departments: tuple[str, ...]
    subject: WarningSubject
    deadline_at: AwareDatetime


class PriorityChange(OutsideCall):
    """绿色通道: the case's own workflow tasks follow its green-channel status in the task queue."""

    green_channel: bool


class PlanInput(BaseModel):
    """Compute a case's deadlines at ``now`` with the worker's calendar in force."""

    model_config = ConfigDict(frozen=True)

    request: PlanRequest
    now: AwareDatetime
    reload_calendar: bool = Field(default=False, description="A calendar revision was announced (R-CAL-4).")
