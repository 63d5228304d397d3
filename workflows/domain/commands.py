"""Commands: what a person or system asks of an application, named in the imperative.

Each is one typed, plain-JSON message; ``application.decide`` turns it into events or refuses it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.domain.catalogue import Matter
from workflows.domain.clock import DeadlinePlan, DeadlineRules, WarningLevel, WarningSubject
from workflows.domain.events import MAX_DECIDERS, Actor, Applicant, Channel, ConsultationFindings
from workflows.domain.values import (
    ApplicationNumber,
    Assertion,
    Code,
    Codes,
    Instant,
    KeyId,
    Name,
    Text,
    WorkingDays,
)


class Command(BaseModel):
    """Every command names who asks and may say why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor
    reason: Text = ""
    assertion: Assertion | None = Field(
        default=None, description="The signed assertion of ``actor`` (``workflows.identity``)."
    )


class Submission(Command):
    """What every submission states, however it enters the one window."""

    applicant: Applicant
    materials: Codes = ()
    channel: Channel
    received_at: Instant
    green_channel: bool = False
    steward: Actor | None = None


class CreditStanding(BaseModel):
    """The credit check 容缺 and 告知承诺 require (filled in by the engine, never by the caller)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    eligible: bool
    detail: str = ""


class SubmitApplication(Submission):
    """Open a case at the one window with the catalogue entry in force."""

    kind: Literal["submit_application"] = "submit_application"
    application_id: ApplicationNumber
    matter: Matter
    catalogue_version: str = Field(min_length=1)
    rules: DeadlineRules
    applicant_key: str | None = Field(default=None, description="The applicant's keyed pseudonym.")
    trusted_keys: tuple[KeyId, ...] = Field(default=(), description="The keys the case trusts.")
    simulated: bool = Field(
        default=False, description="模拟审批: a key project's matter before its precondition."
    )
    commitment: Name | None = Field(
        default=None, description="告知承诺制: the written commitment in place of the matter's named proofs."
    )
    credit: CreditStanding | None = Field(
        default=None, description="告知承诺制's credit check, run by the engine (never by the caller)."
    )
    consultation: ConsultationFindings | None = Field(
        default=None, description="提前介入: the findings the engine read of the consultation named."
    )
    internal_targets: bool = Field(
        default=False, description="绿色通道: the engine holds the case to internal targets (its version)."
    )


class RequestCorrection(Command):
    """Tell the applicant, at once, every item that is missing (R-XK-32)."""

    kind: Literal["request_correction"] = "request_correction"
    missing: Codes = Field(min_length=1)


class AcceptApplication(Command):
    """Accept: the materials are complete (受理)."""

    kind: Literal["accept_application"] = "accept_application"


class AcceptWithDeficiencies(Command):
    """容缺受理: accept with secondary materials missing, on a signed commitment."""

    kind: Literal["accept_with_deficiencies"] = "accept_with_deficiencies"
    missing: Codes = Field(min_length=1)
    supplement_within: WorkingDays = Field(description="Working days after acceptance to supply them.")
    commitment: Name = Field(description="Reference of the signed 容缺受理承诺书.")
    credit: CreditStanding | None = None


class RejectApplication(Command):
    """不予受理, with the reason stated in the written decision."""

    kind: Literal["reject_application"] = "reject_application"


class ReferElsewhere(Command):
    """R-XK-32c: outside competence; say where to apply."""

    kind: Literal["refer_elsewhere"] = "refer_elsewhere"
    competent_organ: Name


class DeemAccepted(Command):
    """R-XK-32: five working days of silence after receipt; accepted as of the receipt instant."""

    kind: Literal["deem_accepted"] = "deem_accepted"


class SupplementMaterials(Command):
    """Provide materials: after a correction notice, or to honour a 容缺 commitment."""

    kind: Literal["supplement_materials"] = "supplement_materials"
    materials: Codes = Field(min_length=1)
    channel: Channel | None = Field(
        default=None, description="Brought to the window or sent online (最多跑一次 counts the visits)."
    )


class RecordApproval(Command):
    """One department's decision on one pending step of the approval plan."""

    kind: Literal["record_approval"] = "record_approval"
    step: Code
    approved: bool


class TransferStep(Command):
    """转办: a pending step handed to another approver of its department, who alone decides it then."""

    kind: Literal["transfer_step"] = "transfer_step"
    step: Code
    to: Actor


class OrSignStep(Command):
    """或签: a pending step given to several approvers of its department; any one of them decides it."""

    kind: Literal["or_sign_step"] = "or_sign_step"
    step: Code
    deciders: tuple[Actor, ...] = Field(min_length=2, max_length=MAX_DECIDERS)


class ReturnToWindow(Command):
    """退回: the case goes back to the window for these materials; review resumes once they are in."""

    kind: Literal["return_to_window"] = "return_to_window"
    materials: Codes = Field(min_length=1)
    supplement_within: WorkingDays


class AddSigner(Command):
    """加签: the lead department adds a department's step before (or after) the step under review."""

    kind: Literal["add_signer"] = "add_signer"
    department: Code
    after: bool = False


class RemoveSigner(Command):
    """减签: the lead department takes back a step it added (加签) that has not been decided."""

    kind: Literal["remove_signer"] = "remove_signer"
    step: Code


class UrgeStep(Command):
    """催办: the supervisor or the window urges a pending step; its department is told."""

    kind: Literal["urge_step"] = "urge_step"
    step: Code


class SuspendClock(Command):
    """Stop counting for an R-XK-45 activity or a pause the matter's entry lists."""

    kind: Literal["suspend_clock"] = "suspend_clock"
    pause: Code
    expected_working_days: WorkingDays


class ResumeClock(Command):
    """The non-counting period ended."""

    kind: Literal["resume_clock"] = "resume_clock"


class ExtendDeadline(Command):
    """The one authorised extension (R-XK-42a/b), with the reason told to the applicant."""

    kind: Literal["extend_deadline"] = "extend_deadline"
    working_days: WorkingDays


class IssueLicence(Command):
    """Issue the licence after approval (出件)."""

    kind: Literal["issue_licence"] = "issue_licence"
    licence_number: Name


class WithdrawApplication(Command):
    """撤回 before a decision."""

    kind: Literal["withdraw_application"] = "withdraw_application"


class ChangeGreenChannel(Command):
    """Put a case into the green channel (with its steward) or take it out; an audited decision (绿色通道)."""

    kind: Literal["change_green_channel"] = "change_green_channel"
    green_channel: bool
    steward: Actor | None = None


class AbandonApplication(Command):
    """The 容缺 supplement deadline passed with materials missing (视为放弃申请)."""

    kind: Literal["abandon_application"] = "abandon_application"


class RevocationCause(StrEnum):
    """Which broken promise the engine revokes a licence for."""

    DEFICIENCY = "deficiency"  # 容缺, issue-then-supplement: the supplement deadline passed
    COMMITMENT = "commitment"  # 告知承诺: the rectification deadline passed


class RevokeLicence(Command):
    """The engine revokes an issued licence whose promise was broken."""

    kind: Literal["revoke_licence"] = "revoke_licence"
    cause: RevocationCause = RevocationCause.DEFICIENCY


class RecordDeadlines(Command):
    """Record the deadlines the engine computed after the case changed (the engine's own command)."""

    kind: Literal["record_deadlines"] = "record_deadlines"
    plan: DeadlinePlan


class ReviseDeadlineRules(Command):
    """Count with a newly announced calendar from now on (the engine's own command, R-CAL-4)."""

    kind: Literal["revise_deadline_rules"] = "revise_deadline_rules"
    rules: DeadlineRules


class ReviseTrustedKeys(Command):
    """Trust the keys of the trust store as it is now (a rotation), read by the engine, never given."""

    kind: Literal["revise_trusted_keys"] = "revise_trusted_keys"
    trusted_keys: tuple[KeyId, ...] = ()


class EndWithProject(Command):
    """The project this application is a matter of has ended (withdrawn, denied, abandoned): so does the
    application (the engine's own command, after it read the project's end from Temporal)."""

    kind: Literal["end_with_project"] = "end_with_project"
    project_status: Code


class ConfirmSimulation(Command):
    """模拟审批: the project's precondition is met (its evidence); the simulated opinion becomes formal (the
    engine's own command, after it read the project from Temporal)."""

    kind: Literal["confirm_simulation"] = "confirm_simulation"
    evidence: Name


class ExplainOverdue(Command):
    """优化营商环境条例 第36条: the department head of an overdue case publishes why it is late."""

    kind: Literal["explain_overdue"] = "explain_overdue"
    explanation: Text = Field(min_length=1)


class LinkComplaint(Command):
    """A 12345/8890 complaint concerning the case, as the complaint itself says (the engine's own)."""

    kind: Literal["link_complaint"] = "link_complaint"
    complaint_id: ApplicationNumber
    category_code: Code
    department: Code


class RaiseWarning(Command):
    """A warning instant of the plan has passed (the engine's own command, from a durable timer)."""

    kind: Literal["raise_warning"] = "raise_warning"
    level: WarningLevel
    subject: WarningSubject


class VerifyCommitment(Command):
    """告知承诺制: the department's post-approval verification; ``kept`` False starts a rectification."""

    kind: Literal["verify_commitment"] = "verify_commitment"
    kept: bool
    rectify_within: WorkingDays | None = Field(
        default=None, description="Working days to rectify (at most the matter's own; default: it)."
    )


class RecordRectification(Command):
    """告知承诺制: whether the applicant rectified in time; not rectified, the licence is revoked."""

    kind: Literal["record_rectification"] = "record_rectification"
    rectified: bool


ApplicationCommand = Annotated[
    SubmitApplication
    | RequestCorrection
    | AcceptApplication
    | AcceptWithDeficiencies
    | RejectApplication
    | ReferElsewhere
    | DeemAccepted
    | SupplementMaterials
    | RecordApproval
    | SuspendClock
    | ResumeClock
    | ExtendDeadline
    | IssueLicence
    | WithdrawApplication
    | ChangeGreenChannel
    | AbandonApplication
    | RevokeLicence
    | RecordDeadlines
    | ReviseDeadlineRules
    | ReviseTrustedKeys
    | EndWithProject
    | ConfirmSimulation
    | TransferStep
    | OrSignStep
    | ReturnToWindow
    | AddSigner
    | RemoveSigner
    | UrgeStep
    | VerifyCommitment
    | RecordRectification
    | ExplainOverdue
    | LinkComplaint
    | RaiseWarning,
    Field(discriminator="kind"),
]
