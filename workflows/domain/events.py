"""Domain events of one application: immutable facts, named in the past tense.

The event log is the application's history as supervision reads it (actor, instant, reason); the state is
always the fold of these events (``application.evolve``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.domain.catalogue import Matter
from workflows.domain.clock import DeadlinePlan, DeadlineRules, WarningLevel, WarningSubject
from workflows.domain.values import (
    ApplicationNumber,
    Code,
    Codes,
    Digest,
    Identifier,
    Instant,
    KeyId,
    Label,
    Name,
    Text,
    WorkingDays,
    person_key,
)

# 或签: at most this many approvers share one step (any one of them decides it).
MAX_DECIDERS = 10
# 提前介入: at most this many pre-review opinions in one consultation (one per department, and then some).
MAX_OPINIONS = 20


class Role(StrEnum):
    """Who may do what (DESIGN.md section 1)."""

    APPLICANT = "applicant"
    STEWARD = "steward"
    WINDOW_OFFICER = "window_officer"
    APPROVER = "approver"
    DEPARTMENT_HEAD = "department_head"
    GOVERNMENT_LEADER = "government_leader"
    SUPERVISOR = "supervisor"
    HOTLINE_OPERATOR = "hotline_operator"
    SYSTEM = "system"  # the engine itself: timers, intake systems


ROLES_OF_A_DEPARTMENT = frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Frozen):
    """A person or system acting on a case, in one role."""

    id: Identifier
    role: Role
    department: Code | None = None
    name: Label = ""

    @model_validator(mode="after")
    def _department_roles_name_their_department(self) -> Self:
        if self.role in ROLES_OF_A_DEPARTMENT and not self.department:
            raise ValueError(f"an actor in role {self.role.value} must name their department")
        return self

    @property
    def key(self) -> str:
        """Who this is, as identities are compared (``person_key``)."""
        return person_key(self.id)


class Applicant(_Frozen):
    """The natural or legal person applying."""

    id_number: Identifier = Field(description="Identity number or unified social credit code.")
    name: Name
    contact: Name

    @property
    def key(self) -> str:
        """The applicant as identities are compared: their actor id must have this key."""
        return person_key(self.id_number)


class Channel(StrEnum):
    """Where the application entered the one window."""

    ONLINE = "online"
    WINDOW = "window"


class Event(_Frozen):
    """What every event records for supervision: when, who, and why."""

    at: Instant
    actor: Actor
    reason: Text = ""
    signed_by: KeyId | None = Field(default=None, description="The key whose assertion vouched for actor.")
    previous: Digest | None = Field(default=None, description="The digest of the event before (the chain).")
    digest: Digest | None = Field(default=None, description="The digest of this event's canonical form.")


class Opinion(BaseModel):
    """提前介入: a department's pre-review opinion, as a consultation gave it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    department: Code
    opinion: Text = Field(min_length=1)
    given_by: Identifier
    at: Instant


class ConsultationFindings(BaseModel):
    """提前介入: what a consultation found, carried into the application submitted on it (the materials
    the window checked are not examined again; the departments' opinions are attached)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    consultation_id: ApplicationNumber
    matter_code: str
    applicant: Applicant
    checked: Codes = ()
    checked_by: tuple[str, ...] = Field(
        default=(), max_length=MAX_OPINIONS, description="Who checked them at the window (person keys)."
    )
    opinions: tuple[Opinion, ...] = Field(default=(), max_length=MAX_OPINIONS)


class ApplicationSubmitted(Event):
    """The intake received an application; the catalogue entry in force is copied in for good."""

    kind: Literal["application_submitted"] = "application_submitted"
    application_id: ApplicationNumber
    applicant: Applicant
    matter: Matter
    catalogue_version: str
    rules: DeadlineRules = Field(description="The calendar and warning thresholds the case counts with.")
    applicant_key: str | None = Field(default=None, description="The applicant's keyed pseudonym.")
    trusted_keys: tuple[KeyId, ...] = Field(default=(), description="The keys the case trusts.")
    materials: Codes
    channel: Channel
    received_at: Instant
    green_channel: bool = False
    steward: Actor | None = None
    simulated: bool = Field(
        default=False, description="模拟审批: opinions without legal effect until confirmed."
    )
    commitment: Name | None = Field(
        default=None,
        description="告知承诺制: the applicant's written commitment, in place of the matter's named proofs.",
    )
    consultation: ConsultationFindings | None = Field(
        default=None, description="提前介入: the findings of the consultation the case was submitted on."
    )
    internal_targets: bool = Field(
        default=False,
        description="绿色通道: held to an internal target while in the green channel (cases registered"
        " before internal targets existed are not: their replay must not change).",
    )


class CorrectionRequested(Event):
    """补正告知 (R-XK-32): the one notice listing every missing item."""

    kind: Literal["correction_requested"] = "correction_requested"
    missing: Codes
    notice_number: str


class MaterialsSupplemented(Event):
    """The applicant (or steward) provided materials."""

    kind: Literal["materials_supplemented"] = "materials_supplemented"
    materials: Codes
    channel: Channel | None = None  # brought to the window or sent online; not recorded before 2026-12


class ApplicationAccepted(Event):
    """受理 (R-XK-32b); ``as_of`` starts the clock (the receipt instant when deemed by silence)."""

    kind: Literal["application_accepted"] = "application_accepted"
    basis: Literal["decided", "deemed_by_silence"]
    as_of: Instant
    notice_number: str


class AcceptedWithDeficiencies(Event):
    """容缺受理: accepted on the applicant's written commitment to supply secondary materials in time."""

    kind: Literal["accepted_with_deficiencies"] = "accepted_with_deficiencies"
    as_of: Instant
    missing: Codes
    supplement_within: WorkingDays = Field(description="Working days after acceptance.")
    commitment: Name
    notice_number: str


class ApplicationNotAccepted(Event):
    """不予受理 (R-XK-32b), with the written decision's number; ``reason`` says why."""

    kind: Literal["application_not_accepted"] = "application_not_accepted"
    notice_number: str


class ApplicationReferred(Event):
    """R-XK-32c: outside this organ's competence; the applicant is told where to apply."""

    kind: Literal["application_referred"] = "application_referred"
    competent_organ: Name


class ApprovalRecorded(Event):
    """One department's decision on one step of the approval plan."""

    kind: Literal["approval_recorded"] = "approval_recorded"
    step: Code
    department: Code
    approved: bool


class StepAssigned(Event):
    """转办 (one approver of the step's department) or 或签 (several: any one of them decides the step)."""

    kind: Literal["step_assigned"] = "step_assigned"
    step: Code
    department: Code
    assignees: tuple[Actor, ...] = Field(min_length=1, max_length=MAX_DECIDERS)
    or_sign: bool


class CaseReturned(Event):
    """退回: an approver sends the case back to the window for these materials; review waits for them."""

    kind: Literal["case_returned"] = "case_returned"
    materials: Codes = Field(min_length=1)
    supplement_within: WorkingDays
    clock_stopped: bool = Field(description="Whether the matter's catalogue entry stops the clock for it.")


class SignerAdded(Event):
    """加签: the lead department adds a department's step before or after the step under review."""

    kind: Literal["signer_added"] = "signer_added"
    step: Code
    department: Code
    position: int = Field(ge=0, description="Where the step's round sits in the approval plan.")
    after: bool


class SignerRemoved(Event):
    """减签: the lead department takes back a step it added that has not been decided."""

    kind: Literal["signer_removed"] = "signer_removed"
    step: Code


class StepUrged(Event):
    """催办: the supervisor or the window urges a pending step; its department is told."""

    kind: Literal["step_urged"] = "step_urged"
    step: Code
    department: Code


class ApplicationApproved(Event):
    """Every step approved: the decision is made (准予许可)."""

    kind: Literal["application_approved"] = "application_approved"


class ApplicationDenied(Event):
    """A step was refused: the application is denied (不予许可)."""

    kind: Literal["application_denied"] = "application_denied"
    step: str


class ClockSuspended(Event):
    """A period that does not count began (R-XK-45); the applicant is told how long it will take."""

    kind: Literal["clock_suspended"] = "clock_suspended"
    pause: Code
    expected_working_days: WorkingDays


class ClockResumed(Event):
    """The suspended period ended; counting resumes."""

    kind: Literal["clock_resumed"] = "clock_resumed"


class DeadlineExtended(Event):
    """An authorised extension (R-XK-42a: +10 by a department head; R-XK-42b: +15 by a government leader)."""

    kind: Literal["deadline_extended"] = "deadline_extended"
    working_days: WorkingDays


class LicenceIssued(Event):
    """The licence was issued (出件)."""

    kind: Literal["licence_issued"] = "licence_issued"
    licence_number: str


class LicenceRevoked(Event):
    """The licence is revoked: issued-then-supplemented materials never came (容缺), or a 告知承诺
    commitment was found untrue and not rectified (``missing`` is then empty)."""

    kind: Literal["licence_revoked"] = "licence_revoked"
    missing: Codes


class ApplicationWithdrawn(Event):
    """撤回 by the applicant or their steward before a decision."""

    kind: Literal["application_withdrawn"] = "application_withdrawn"


class GreenChannelChanged(Event):
    """The case entered or left the green channel, or its steward changed (DESIGN.md section 6)."""

    kind: Literal["green_channel_changed"] = "green_channel_changed"
    green_channel: bool
    steward: Actor | None


class ApplicationAbandoned(Event):
    """视为放弃申请: a 容缺 commitment was broken; the case closes and a credit record follows."""

    kind: Literal["application_abandoned"] = "application_abandoned"
    missing: Codes


class ApplicationEndedWithProject(Event):
    """The project this application was a matter of ended; the application ends with it (no credit
    record: the applicant broke nothing here)."""

    kind: Literal["application_ended_with_project"] = "application_ended_with_project"
    project_status: Code


class SimulationConfirmed(Event):
    """模拟审批: the precondition is met; the case's opinions are formal from now on."""

    kind: Literal["simulation_confirmed"] = "simulation_confirmed"
    evidence: Name


class CommitmentVerified(Event):
    """告知承诺制: the department's verification found the commitment true; the case closes."""

    kind: Literal["commitment_verified"] = "commitment_verified"


class CommitmentFoundUntrue(Event):
    """告知承诺制: the verification found the commitment untrue; the applicant is told to rectify."""

    kind: Literal["commitment_found_untrue"] = "commitment_found_untrue"
    rectify_within: WorkingDays


class CommitmentRectified(Event):
    """告知承诺制: the department found the rectification done; the licence stands and the case closes."""

    kind: Literal["commitment_rectified"] = "commitment_rectified"


class OverdueExplained(Event):
    """优化营商环境条例 第36条: why an overdue case is late, published by its department head."""

    kind: Literal["overdue_explained"] = "overdue_explained"
    explanation: Text


class ComplaintLinked(Event):
    """A 12345/8890 complaint concerns the case (read from the complaint, not from whoever told)."""

    kind: Literal["complaint_linked"] = "complaint_linked"
    complaint_id: ApplicationNumber
    category_code: Code
    department: Code


class DeadlinesPlanned(Event):
    """The case's deadlines, computed with one calendar version; replay reads them, never recomputes."""

    kind: Literal["deadlines_planned"] = "deadlines_planned"
    plan: DeadlinePlan


class WarningRaised(Event):
    """电子监察: a warning level was reached (red means overdue and escalated, 督办)."""

    kind: Literal["warning_raised"] = "warning_raised"
    level: WarningLevel
    subject: WarningSubject
    deadline_at: Instant


class CalendarRevised(Event):
    """R-CAL-4: a new calendar version was announced; the case counts with it from now on."""

    kind: Literal["calendar_revised"] = "calendar_revised"
    previous_version: str
    version: str
    rules: DeadlineRules


class CalendarYearMissing(Event):
    """R-CAL-4: the deadlines reach a year with no calendar data; they wait for it, and supervision knows."""

    kind: Literal["calendar_year_missing"] = "calendar_year_missing"
    year: int


class TrustedKeysRevised(Event):
    """The keys whose assertions the case accepts were rotated, by an authorised and signed command."""

    kind: Literal["trusted_keys_revised"] = "trusted_keys_revised"
    trusted_keys: tuple[KeyId, ...] = Field(min_length=1)


ApplicationEvent = Annotated[
    ApplicationSubmitted
    | CorrectionRequested
    | MaterialsSupplemented
    | ApplicationAccepted
    | AcceptedWithDeficiencies
    | ApplicationNotAccepted
    | ApplicationReferred
    | ApprovalRecorded
    | ApplicationApproved
    | ApplicationDenied
    | ClockSuspended
    | ClockResumed
    | DeadlineExtended
    | LicenceIssued
    | LicenceRevoked
    | ApplicationWithdrawn
    | GreenChannelChanged
    | ApplicationAbandoned
    | ApplicationEndedWithProject
    | SimulationConfirmed
    | StepAssigned
    | CaseReturned
    | SignerAdded
    | SignerRemoved
    | StepUrged
    | CommitmentVerified
    | CommitmentFoundUntrue
    | CommitmentRectified
    | OverdueExplained
    | ComplaintLinked
    | DeadlinesPlanned
    | TrustedKeysRevised
    | WarningRaised
    | CalendarRevised
    | CalendarYearMissing,
    Field(discriminator="kind"),
]
