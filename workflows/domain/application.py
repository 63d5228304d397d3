"""One application's rules: the transition table, ``decide`` (rules) and ``evolve`` (the fold).

``decide(state, command, now)`` either refuses with a ``OneWindowError`` or returns the events the command
causes; ``evolve`` applies one event and never raises. The state is always ``replay(events)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import reduce
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workflows.domain.calendar import SHANGHAI, local_date
from workflows.domain.catalogue import (
    MAX_DEPARTMENTS,
    AcceptanceMode,
    ApprovalMode,
    DeficiencyMode,
    Importance,
    Matter,
)
from workflows.domain.clock import (
    DeadlinePlan,
    DeadlineRules,
    Period,
    PlanRequest,
    StageLimit,
    StatutoryClock,
    Suspension,
    WarningLevel,
    WarningMark,
    WarningSubject,
    highest,
    plan_deadlines,
)
from workflows.domain.commands import (
    AbandonApplication,
    AcceptApplication,
    AcceptWithDeficiencies,
    AddSigner,
    ApplicationCommand,
    ChangeGreenChannel,
    ConfirmSimulation,
    DeemAccepted,
    EndWithProject,
    ExplainOverdue,
    ExtendDeadline,
    IssueLicence,
    LinkComplaint,
    OrSignStep,
    RaiseWarning,
    RecordApproval,
    RecordDeadlines,
    RecordRectification,
    ReferElsewhere,
    RejectApplication,
    RemoveSigner,
    RequestCorrection,
    ResumeClock,
    ReturnToWindow,
    ReviseDeadlineRules,
    ReviseTrustedKeys,
    RevocationCause,
    RevokeLicence,
    SubmitApplication,
    SupplementMaterials,
    SuspendClock,
    TransferStep,
    UrgeStep,
    VerifyCommitment,
    WithdrawApplication,
)
from workflows.domain.errors import (
    AcceptanceDeemed,
    CalendarNotPublished,
    CommitmentNotAllowed,
    CorrectionNotOneTime,
    DeadlineOutOfRange,
    DeficiencyNotTolerable,
    InvalidCommand,
    MaterialsIncomplete,
    NotAllowed,
    NotAuthorised,
    ReceiptOutOfRange,
    RepeatLimitReached,
    SeparationOfDuties,
)
from workflows.domain.events import (
    ROLES_OF_A_DEPARTMENT,
    AcceptedWithDeficiencies,
    Actor,
    Applicant,
    ApplicationAbandoned,
    ApplicationAccepted,
    ApplicationApproved,
    ApplicationDenied,
    ApplicationEndedWithProject,
    ApplicationEvent,
    ApplicationNotAccepted,
    ApplicationReferred,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    ApprovalRecorded,
    CalendarRevised,
    CalendarYearMissing,
    CaseReturned,
    Channel,
    ClockResumed,
    ClockSuspended,
    CommitmentFoundUntrue,
    CommitmentRectified,
    CommitmentVerified,
    ComplaintLinked,
    ConsultationFindings,
    CorrectionRequested,
    DeadlineExtended,
    DeadlinesPlanned,
    Event,
    GreenChannelChanged,
    LicenceIssued,
    LicenceRevoked,
    MaterialsSupplemented,
    OverdueExplained,
    Role,
    SignerAdded,
    SignerRemoved,
    SimulationConfirmed,
    StepAssigned,
    StepUrged,
    TrustedKeysRevised,
    WarningRaised,
)
from workflows.domain.figures import CaseFacts, CaseKind
from workflows.domain.values import Instant, visible

# R-XK-42a / R-XK-42b: the one extension and who may grant it.
EXTENSION_BY_DEPARTMENT_HEAD = 10
EXTENSION_BY_GOVERNMENT_LEADER = 15
# A receipt instant may run ahead of the engine's clock by this much (the intake system's clock skew);
# any later receipt is refused, since no period can start in the future.
RECEIPT_CLOCK_SKEW = timedelta(minutes=5)
# How often a case may record each event a person can repeat: more than any real case needs, and few
# enough that a case's accepted updates stay far below Temporal's limit per execution (2000 by default),
# past which every further command on the case would fail. Every other event happens once per case or
# once per approval step.
REPEAT_LIMITS: Mapping[str, int] = MappingProxyType(
    {
        "correction_requested": 10,
        "materials_supplemented": 100,
        "clock_suspended": 30,
        "green_channel_changed": 20,
        "case_returned": 10,
        "step_assigned": 30,
        "step_urged": 30,
        "signer_added": MAX_DEPARTMENTS,
        "complaint_linked": 20,
    }
)
# 退回: the pause a matter's catalogue entry lists (with its legal basis) when the time a returned case
# spends at the window does not count; without it the clock runs on (R-XK-45 is not such a pause).
RETURN_PAUSE = "returned_for_materials"


class Status(StrEnum):
    """Where an application stands."""

    RECEIVED = "received"
    CORRECTION_REQUESTED = "correction_requested"
    UNDER_REVIEW = "under_review"
    SUSPENDED = "suspended"
    RETURNED = "returned"  # 退回: back at the window for materials; the decision period runs on
    APPROVED = "approved"
    ISSUED = "issued"
    NOT_ACCEPTED = "not_accepted"
    REFERRED = "referred"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    ABANDONED = "abandoned"
    REVOKED = "revoked"
    ENDED_WITH_PROJECT = "ended_with_project"  # the project it was a matter of ended


class Verification(StrEnum):
    """告知承诺制 after issuance: the department's verification, and the rectification a failure allows."""

    OWED = "owed"
    VERIFIED = "verified"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"


# 告知承诺制: the licence stands, but the case stays open while verification or rectification is owed.
_VERIFICATION_OPEN = frozenset({Verification.OWED, Verification.RECTIFYING})

# The decision period runs (R-XK-42), whether or not a pause stops its counting.
DECIDING = frozenset({Status.UNDER_REVIEW, Status.SUSPENDED, Status.RETURNED})

_BEFORE_ACCEPTANCE = frozenset(
    {"accept_application", "accept_with_deficiencies", "reject_application", "refer_elsewhere"}
)
# The engine's bookkeeping while a case is open: its deadlines, recomputed whenever they may change, and
# the calendar they are counted with (R-CAL-4).
_WHILE_OPEN = frozenset(
    {"record_deadlines", "revise_deadline_rules", "revise_trusted_keys", "link_complaint"}
)
# Green-channel help (帮办代办) matters until the licence is issued; so does the project it is part of.
_UNTIL_ISSUED = _WHILE_OPEN | {"change_green_channel", "end_with_project", "confirm_simulation"}

# An office's actions on a pending step (转办, 或签, 催办), while its department reviews, paused or not.
_STEP_ACTIONS = frozenset({"transfer_step", "or_sign_step", "urge_step"})
# 第36条: an overdue case's explanation, while its decision is still owed.
_OVERDUE = frozenset({"explain_overdue"})

# The allowed transitions, as data a policy officer can review: status -> commands it admits.
# A status absent from a row's set refuses the command with NotAllowed before any other rule runs.
TRANSITIONS: Mapping[Status, frozenset[str]] = {
    Status.RECEIVED: _BEFORE_ACCEPTANCE
    | _UNTIL_ISSUED
    | {"request_correction", "deem_accepted", "supplement_materials", "withdraw_application"},
    # R-XK-32: while a correction notice is open, silence does not deem acceptance, and materials are
    # missing (the complete supplement brings the case back to RECEIVED with a new acceptance period), so
    # it cannot be accepted as complete.
    Status.CORRECTION_REQUESTED: (_BEFORE_ACCEPTANCE - {"accept_application"})
    | _UNTIL_ISSUED
    | {"request_correction", "supplement_materials", "withdraw_application"},
    Status.UNDER_REVIEW: _UNTIL_ISSUED
    | _STEP_ACTIONS
    | _OVERDUE
    | {
        "raise_warning",
        "record_approval",
        "suspend_clock",
        "extend_deadline",
        "supplement_materials",
        "withdraw_application",
        "abandon_application",
        "return_to_window",
        "add_signer",
        "remove_signer",
    },
    # Suspended: the clock stands still, but a deadline already passed stays passed, and the pause has
    # its own expected length: warnings still come due.
    Status.SUSPENDED: _UNTIL_ISSUED
    | _STEP_ACTIONS
    | _OVERDUE
    | {
        "raise_warning",
        "resume_clock",
        "extend_deadline",
        "supplement_materials",
        "withdraw_application",
        "abandon_application",
    },
    # 退回: the approvals wait for the materials; the period runs (or stands, if the matter says so).
    Status.RETURNED: _UNTIL_ISSUED
    | _OVERDUE
    | {
        "raise_warning",
        "record_approval",  # a refusal only: the approval waits for the materials
        "extend_deadline",
        "supplement_materials",
        "withdraw_application",
        "abandon_application",
    },
    Status.APPROVED: _UNTIL_ISSUED
    | {"raise_warning", "issue_licence", "supplement_materials", "abandon_application"},
    Status.ISSUED: _WHILE_OPEN
    | {
        "supplement_materials",
        "revoke_licence",
        "raise_warning",
        "verify_commitment",
        "record_rectification",
    },
    Status.NOT_ACCEPTED: frozenset(),
    Status.REFERRED: frozenset(),
    Status.DENIED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.ABANDONED: frozenset(),
    Status.REVOKED: frozenset(),
    Status.ENDED_WITH_PROJECT: frozenset(),
}

# Who may ask for what (DESIGN.md section 1); identity and department are checked per command.
AUTHORISED_ROLES: Mapping[str, frozenset[Role]] = {
    "submit_application": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER, Role.SYSTEM}),
    "request_correction": frozenset({Role.WINDOW_OFFICER}),
    "accept_application": frozenset({Role.WINDOW_OFFICER}),
    "accept_with_deficiencies": frozenset({Role.WINDOW_OFFICER}),
    "reject_application": frozenset({Role.WINDOW_OFFICER}),
    "refer_elsewhere": frozenset({Role.WINDOW_OFFICER}),
    "deem_accepted": frozenset({Role.SYSTEM}),
    "supplement_materials": frozenset({Role.APPLICANT, Role.STEWARD, Role.WINDOW_OFFICER}),
    "record_approval": frozenset({Role.APPROVER}),
    "suspend_clock": frozenset({Role.APPROVER}),
    "resume_clock": frozenset({Role.APPROVER}),
    "extend_deadline": frozenset({Role.DEPARTMENT_HEAD, Role.GOVERNMENT_LEADER}),
    "issue_licence": frozenset({Role.SYSTEM}),  # the engine issues on approval; the window hands it over
    "withdraw_application": frozenset({Role.APPLICANT, Role.STEWARD}),
    "change_green_channel": frozenset({Role.SUPERVISOR}),  # 营商局 designates key projects
    "abandon_application": frozenset({Role.SYSTEM}),
    "revoke_licence": frozenset({Role.SYSTEM}),
    "record_deadlines": frozenset({Role.SYSTEM}),
    "revise_deadline_rules": frozenset({Role.SYSTEM}),
    "raise_warning": frozenset({Role.SYSTEM}),
    "revise_trusted_keys": frozenset({Role.SUPERVISOR}),  # a key rotation, signed by a key still trusted
    "end_with_project": frozenset({Role.SYSTEM}),
    "confirm_simulation": frozenset({Role.SYSTEM}),
    "transfer_step": frozenset({Role.APPROVER}),
    "or_sign_step": frozenset({Role.APPROVER}),
    "return_to_window": frozenset({Role.APPROVER}),
    "add_signer": frozenset({Role.APPROVER}),  # of the lead department
    "remove_signer": frozenset({Role.APPROVER}),  # of the lead department
    "urge_step": frozenset({Role.SUPERVISOR, Role.WINDOW_OFFICER}),
    "verify_commitment": frozenset({Role.APPROVER}),  # the deciding department verifies (核查)
    "record_rectification": frozenset({Role.APPROVER}),
    "explain_overdue": frozenset({Role.DEPARTMENT_HEAD}),  # of a department deciding the case
    "link_complaint": frozenset({Role.SYSTEM}),  # read from the complaint that concerns the case
}


# The commands a person may give on an open case: not the engine's own, and not the submission that opens it.
PEOPLE_COMMANDS: tuple[str, ...] = tuple(
    kind for kind, roles in AUTHORISED_ROLES.items() if roles - {Role.SYSTEM} and kind != "submit_application"
)


class ApprovalStep(BaseModel):
    """One decision a department owes: a department (single, countersign, sequential) or a stage's matter."""

    model_config = ConfigDict(frozen=True)

    code: str
    department: str


def approval_rounds(matter: Matter) -> tuple[tuple[ApprovalStep, ...], ...]:
    """The approval plan: rounds in order, the steps of a round decided in parallel."""
    by_department = tuple(ApprovalStep(code=d, department=d) for d in matter.departments)
    match matter.approval:
        case ApprovalMode.SINGLE:
            return (by_department[:1],)
        case ApprovalMode.COUNTERSIGN | ApprovalMode.OR_SIGN:
            return (by_department,)
        case ApprovalMode.SEQUENTIAL:
            return tuple((step,) for step in by_department)
        case ApprovalMode.STAGED:
            # Services that are not administrative acts (the bank account) are tracked, not approved.
            return tuple(
                tuple(
                    ApprovalStep(code=m.code, department=m.department)
                    for m in stage.matters
                    if m.administrative
                )
                for stage in matter.stages
            )


class ApplicationState(BaseModel):
    """The fold of an application's events; never stored, always derived."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    applicant: Applicant
    matter: Matter
    catalogue_version: str
    rules: DeadlineRules
    channel: Channel
    received_at: Instant
    acceptance_from: Instant  # when the complete materials came: receipt, or the complete supplement
    submitted_by: Actor
    applicant_key: str | None = None  # the applicant's keyed pseudonym (search attributes, reader keys)
    trusted_keys: tuple[str, ...] = ()  # ids of the keys whose assertions the case accepts
    green_channel: bool
    steward: Actor | None
    status: Status
    version: int
    provided: frozenset[str]
    correction_items: tuple[str, ...] = ()
    outstanding: tuple[str, ...] = ()
    supplement_within: int | None = None
    acceptance_decided_by: str | None = None  # a person_key
    window_officers: tuple[str, ...] = ()  # person_keys of who acted as window officer, in order of first act
    decisions: tuple[ApprovalRecorded, ...] = ()
    clock: StatutoryClock | None = None
    decided_at: Instant | None = None  # approved or denied
    issued_at: Instant | None = None
    closed_at: Instant | None = None  # ended otherwise than by a decision: withdrawn, not accepted, abandoned
    plan: DeadlinePlan | None = None
    warnings: tuple[WarningRaised, ...] = ()
    licence_number: str | None = None
    repeats: dict[str, int] = Field(default_factory=dict)  # events of REPEAT_LIMITS kinds recorded so far
    simulated: bool = False  # 模拟审批: no licence until the project's precondition is met
    commitment: str | None = None  # 告知承诺制: the written commitment in place of the named proofs
    consultation: ConsultationFindings | None = None  # 提前介入: what the consultation found
    verification: Verification | None = None  # 告知承诺制, once the licence is issued
    rectification: Period | None = None  # 告知承诺制: the rectification a failed verification allows
    assignees: dict[str, tuple[Actor, ...]] = Field(default_factory=dict)  # 转办 / 或签, by step
    added_signers: tuple[SignerAdded, ...] = ()  # 加签, in the order added
    removed_signers: frozenset[str] = frozenset()  # 减签: added steps taken back
    internal_targets: bool = False  # 绿色通道: held to internal targets (cases registered before: never)
    returned: tuple[str, ...] = ()  # 退回: the materials the window must bring back
    urges: dict[str, int] = Field(default_factory=dict)  # 催办, by step
    window_visits: int = 0  # 最多跑一次: the steps brought to the window in person
    overdue_explanation: str | None = None  # 第36条: why the overdue case is late, as published
    complaints: tuple[str, ...] = ()  # 12345/8890 complaints that concern the case

    def warning_raised(self, subject: WarningSubject | None = None) -> WarningLevel:
        """The highest warning (of ``subject``, or of any statutory one) recorded so far: a warning once
        raised stands. An internal target's warnings are the office's own, never the case's level."""
        levels = [
            w.level
            for w in self.warnings
            if w.subject is subject or (subject is None and w.subject.statutory)
        ]
        return highest(levels)

    @property
    def closed(self) -> bool:
        """No command can change the case any more: a final status, or issued with nothing promised and
        no 告知承诺 verification owed."""
        if not TRANSITIONS[self.status]:
            return True
        return (
            self.status is Status.ISSUED
            and not self.outstanding
            and self.verification not in _VERIFICATION_OPEN
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """Materials the matter asks for that have not been provided, in catalogue order (告知承诺制: the
        proofs the commitment replaces are not asked for)."""
        replaced = self.matter.commitment_proofs if self.commitment else ()
        return tuple(
            m.code for m in self.matter.materials if m.code not in self.provided and m.code not in replaced
        )

    @property
    def internal_target_days(self) -> int | None:
        """绿色通道: the internal target in working days, while the case is in the green channel."""
        return self.matter.internal_target if self.internal_targets and self.green_channel else None

    @property
    def rounds(self) -> tuple[tuple[ApprovalStep, ...], ...]:
        """The approval plan: the catalogue's rounds, with the steps added on the case (加签) in place."""
        rounds = list(approval_rounds(self.matter))
        for added in self.added_signers:
            rounds.insert(added.position, (ApprovalStep(code=added.step, department=added.department),))
        return tuple(r for r in rounds if not (len(r) == 1 and r[0].code in self.removed_signers))

    @property
    def departments(self) -> tuple[str, ...]:
        """Every department with a step on the case: the matter's, then those added (加签)."""
        added = (a.department for a in self.added_signers if a.step not in self.removed_signers)
        return tuple(dict.fromkeys((*self.matter.departments, *added)))

    def _round_done(self, round_: tuple[ApprovalStep, ...], decided: set[str]) -> bool:
        """All of a round's steps decided; under 或签 (several departments), any one of them."""
        done = [step.code in decided for step in round_]
        return any(done) if self.matter.approval is ApprovalMode.OR_SIGN else all(done)

    @property
    def open_round(self) -> int | None:
        """Index of the approval round under review now (None once decided or before acceptance)."""
        if not self.deciding:
            return None
        decided = {d.step for d in self.decisions}
        for index, round_ in enumerate(self.rounds):
            if not self._round_done(round_, decided):
                return index
        return None

    @property
    def pending_steps(self) -> tuple[ApprovalStep, ...]:
        """The approval steps awaiting a decision now (empty once decided or before acceptance)."""
        index = self.open_round
        if index is None:
            return ()
        decided = {d.step for d in self.decisions}
        return tuple(s for s in self.rounds[index] if s.code not in decided)

    @property
    def reviewing_departments(self) -> tuple[str, ...]:
        """The departments whose approval steps are under review now, in plan order."""
        return tuple(dict.fromkeys(step.department for step in self.pending_steps))

    @property
    def deciding(self) -> bool:
        """Under review, suspended or not: the decision period runs."""
        return self.status in DECIDING

    @property
    def stage_limit(self) -> StageLimit | None:
        """The budgeted stage under review (composite matters with a split limit) and when it started."""
        index = self.open_round
        if index is None or self.clock is None or self.matter.approval is not ApprovalMode.STAGED:
            return None
        stage = self.matter.stages[index]
        if stage.working_days is None:
            return None
        started_at = self.clock.started_at
        if index > 0:
            previous = {s.code for s in self.rounds[index - 1]}
            started_at = max(d.at for d in self.decisions if d.step in previous)
        return StageLimit(
            code=stage.code, name=stage.name, started_at=started_at, working_days=stage.working_days
        )


def start(event: ApplicationSubmitted) -> ApplicationState:
    """The state opened by the first event."""
    return ApplicationState(
        application_id=event.application_id,
        applicant=event.applicant,
        matter=event.matter,
        catalogue_version=event.catalogue_version,
        rules=event.rules,
        channel=event.channel,
        received_at=event.received_at,
        acceptance_from=event.received_at,
        window_visits=int(event.channel is Channel.WINDOW),
        submitted_by=event.actor,
        applicant_key=event.applicant_key,
        trusted_keys=event.trusted_keys,
        green_channel=event.green_channel,
        steward=event.steward,
        simulated=event.simulated,
        commitment=event.commitment,
        consultation=event.consultation,
        internal_targets=event.internal_targets,
        status=Status.RECEIVED,
        version=1,
        provided=frozenset(event.materials),
        window_officers=_first_window_officers(event),
    )


def _first_window_officers(event: ApplicationSubmitted) -> tuple[str, ...]:
    """Who acted at the window before anything else: the submitting officer, and the officers who checked
    materials in the consultation the case comes from (受审分离: their check stands for the window's)."""
    keys = [event.actor.key] if event.actor.role is Role.WINDOW_OFFICER else []
    keys += event.consultation.checked_by if event.consultation else ()
    return tuple(dict.fromkeys(keys))


def evolve(state: ApplicationState, event: ApplicationEvent) -> ApplicationState:  # noqa: PLR0912, PLR0915 - a case per event
    """Apply one event. Never raises: every rule was checked by ``decide`` before the event existed."""
    changes: dict[str, Any] = {"version": state.version + 1}
    if event.actor.role is Role.WINDOW_OFFICER and event.actor.key not in state.window_officers:
        changes["window_officers"] = (*state.window_officers, event.actor.key)
    if event.kind in REPEAT_LIMITS:
        changes["repeats"] = state.repeats | {event.kind: state.repeats.get(event.kind, 0) + 1}
    match event:
        case CorrectionRequested():
            changes |= {
                "status": Status.CORRECTION_REQUESTED,
                "correction_items": state.correction_items or event.missing,
                "provided": state.provided - set(event.missing),  # provided items to correct are re-supplied
            }
        case MaterialsSupplemented():
            provided = state.provided | set(event.materials)
            changes |= {
                "provided": provided,
                "outstanding": tuple(m for m in state.outstanding if m not in event.materials),
                "window_visits": state.window_visits + int(event.channel is Channel.WINDOW),
            }
            if state.status is Status.CORRECTION_REQUESTED and _complete(state, provided):
                # R-XK-32: the complete materials start a new acceptance period from their receipt.
                changes |= {"status": Status.RECEIVED, "acceptance_from": event.at}
            if state.status is Status.RETURNED and set(state.returned) <= provided:
                changes |= _back_from_the_window(state, event.at)
        case CaseReturned():
            changes |= {
                "status": Status.RETURNED,
                "provided": state.provided - set(event.materials),
                "returned": event.materials,
            }
            if event.clock_stopped and state.clock is not None:
                pause = Suspension(
                    reason=RETURN_PAUSE,
                    started_at=event.at,
                    expected_working_days=event.supplement_within,
                    department=event.actor.department,
                )
                changes["clock"] = state.clock.suspend(pause)
        case StepAssigned():
            changes["assignees"] = state.assignees | {event.step: event.assignees}
        case SignerAdded():
            changes["added_signers"] = (*state.added_signers, event)
        case SignerRemoved():
            changes["removed_signers"] = state.removed_signers | {event.step}
        case StepUrged():
            changes["urges"] = state.urges | {event.step: state.urges.get(event.step, 0) + 1}
        case OverdueExplained():
            changes["overdue_explanation"] = event.explanation
        case ComplaintLinked():
            changes["complaints"] = (*state.complaints, event.complaint_id)
        case ApplicationAccepted():
            changes |= _accepted(state, event, event.as_of)
        case AcceptedWithDeficiencies():
            changes |= _accepted(state, event, event.as_of)
            changes |= {"outstanding": event.missing, "supplement_within": event.supplement_within}
        case ApplicationNotAccepted():
            changes |= {
                "status": Status.NOT_ACCEPTED,
                "acceptance_decided_by": event.actor.key,
                "closed_at": event.at,
            }
        case ApplicationReferred():
            changes |= {
                "status": Status.REFERRED,
                "acceptance_decided_by": event.actor.key,
                "closed_at": event.at,
            }
        case ApprovalRecorded():
            changes["decisions"] = (*state.decisions, event)
        case ApplicationApproved():
            changes |= {"status": Status.APPROVED, "decided_at": event.at}
        case ApplicationDenied():
            changes |= {"status": Status.DENIED, "decided_at": event.at}
        case ClockSuspended() if state.clock is not None:
            suspension = Suspension(
                reason=event.pause,
                started_at=event.at,
                expected_working_days=event.expected_working_days,
                department=event.actor.department,
            )
            changes |= {"status": Status.SUSPENDED, "clock": state.clock.suspend(suspension)}
        case ClockResumed() if state.clock is not None:
            changes |= {"status": Status.UNDER_REVIEW, "clock": state.clock.resume(event.at)}
        case DeadlineExtended() if state.clock is not None:
            changes["clock"] = state.clock.extend(event.working_days)
        case LicenceIssued():
            changes |= {
                "status": Status.ISSUED,
                "licence_number": event.licence_number,
                "issued_at": event.at,
                "verification": Verification.OWED if state.commitment else None,
            }
        case CommitmentVerified():
            changes["verification"] = Verification.VERIFIED
        case CommitmentFoundUntrue():
            changes |= {
                "verification": Verification.RECTIFYING,
                "rectification": Period(started_at=event.at, working_days=event.rectify_within),
            }
        case CommitmentRectified():
            changes["verification"] = Verification.RECTIFIED
        case LicenceRevoked():
            changes["status"] = Status.REVOKED
        case ApplicationWithdrawn():
            changes |= {"status": Status.WITHDRAWN, "closed_at": event.at}
        case GreenChannelChanged():
            changes |= {"green_channel": event.green_channel, "steward": event.steward}
        case ApplicationAbandoned():
            changes |= {"status": Status.ABANDONED, "closed_at": event.at}
        case ApplicationEndedWithProject():
            changes |= {"status": Status.ENDED_WITH_PROJECT, "closed_at": event.at}
        case SimulationConfirmed():
            changes["simulated"] = False
        case DeadlinesPlanned():
            changes["plan"] = event.plan
        case CalendarRevised():
            changes["rules"] = event.rules
        case TrustedKeysRevised():
            changes["trusted_keys"] = event.trusted_keys
        case WarningRaised():
            changes["warnings"] = (*state.warnings, event)
    return state.model_copy(update=changes)


def _back_from_the_window(state: ApplicationState, at: datetime) -> dict[str, Any]:
    """退回 answered: review resumes, and a clock the return stopped counts again from ``at``."""
    changes: dict[str, Any] = {"status": Status.UNDER_REVIEW, "returned": ()}
    pause = state.clock.open_suspension if state.clock else None
    if state.clock is not None and pause is not None and pause.reason == RETURN_PAUSE:
        changes["clock"] = state.clock.resume(at)
    return changes


def _complete(state: ApplicationState, provided: frozenset[str]) -> bool:
    return not state.model_copy(update={"provided": provided}).missing


def _accepted(state: ApplicationState, event: Event, as_of: datetime) -> dict[str, Any]:
    """Under review from ``as_of``; 告知承诺制 is approved on the spot (0 working days: that day)."""
    decided_by = event.actor.key if event.actor.role is not Role.SYSTEM else None
    budget = 0 if state.commitment else state.matter.limit
    return {
        "status": Status.UNDER_REVIEW,
        "acceptance_decided_by": decided_by,
        "clock": StatutoryClock(started_at=as_of, budget=budget),
    }


def replay(events: Iterable[ApplicationEvent]) -> ApplicationState:
    """The current state: the fold of the whole event log."""
    iterator = iter(events)
    first = next(iterator, None)
    if not isinstance(first, ApplicationSubmitted):
        raise ValueError("an application's log starts with ApplicationSubmitted")
    return reduce(evolve, iterator, start(first))


# --- decide --------------------------------------------------------------------------------------------


def decide(
    state: ApplicationState | None, command: ApplicationCommand, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """The events ``command`` causes at ``now``, or a ``OneWindowError`` saying why it is refused.

    Checks run in a fixed order: status (the transition table), role, identity/department, then the
    command's own rules, so a caller always learns the most basic reason first.
    """
    if isinstance(command, SubmitApplication):
        if state is not None:
            raise NotAllowed(command.kind, state.status.value)
        _require_role(command.actor, command.kind)
        return (_submit(command, now),)
    if state is None:
        raise NotAllowed(command.kind, "not submitted")
    if command.kind not in TRANSITIONS[state.status]:
        raise NotAllowed(command.kind, state.status.value)
    _require_role(command.actor, command.kind)
    handler: Callable[[ApplicationState, Any, datetime], tuple[ApplicationEvent, ...]]
    handler = _HANDLERS[type(command)]
    events = handler(state, command, now)
    for event in events:
        limit = REPEAT_LIMITS.get(event.kind)
        if limit is not None and state.repeats.get(event.kind, 0) >= limit:
            raise RepeatLimitReached(command.kind, limit)
    return events


def _require_role(actor: Actor, kind: str) -> None:
    allowed = AUTHORISED_ROLES[kind]
    if actor.role not in allowed:
        roles = ", ".join(sorted(r.value for r in allowed))
        raise NotAuthorised(actor.id, f"{kind} needs the role {roles}, not {actor.role.value}")


def require_acts_for(applicant: Applicant, steward: Actor | None, actor: Actor) -> None:
    """An applicant acts only on their own case; a steward only on the green-channel case assigned."""
    if actor.role is Role.APPLICANT and actor.key != applicant.key:
        raise NotAuthorised(actor.id, "an applicant acts only on their own application")
    if actor.role is Role.STEWARD and (steward is None or steward.key != actor.key):
        raise NotAuthorised(actor.id, "a steward acts only on the green-channel cases assigned to them")


def _require_department(state: ApplicationState, actor: Actor) -> None:
    if actor.department not in state.matter.departments:
        raise NotAuthorised(actor.id, f"department {actor.department!r} is not responsible for this matter")


def _unknown_materials(matter: Matter, codes: Iterable[str]) -> None:
    unknown = matter.unknown_materials(codes)
    if unknown:
        raise InvalidCommand(unknown)


def _notice_number(state: ApplicationState) -> str:
    """R-XK-32b: written notices carry a number; the event sequence makes it unique and replay-stable."""
    return notice_number(state.application_id, state.version + 1)


def notice_number(application_id: str, sequence: int) -> str:
    """The number of the written notice or decision that the case's ``sequence``-th event (from 1) makes."""
    return f"{application_id}-{sequence:03d}"


def require_steward_fits(green_channel: bool, steward: Actor | None) -> None:
    """A steward (项目管家) is assigned only to a green-channel case, and must be one."""
    if steward is None:
        return
    if not green_channel:
        raise InvalidCommand("a steward is assigned only to green-channel cases")
    if steward.role is not Role.STEWARD:
        raise InvalidCommand(f"the assigned steward has role {steward.role.value}, not steward")


def require_receipt_in_range(received_at: datetime, rules: DeadlineRules, now: datetime) -> None:
    """A period can run only from a past receipt on a day the pinned calendar knows (R-CAL-1, R-CAL-4)."""
    if received_at > now + RECEIPT_CLOCK_SKEW:
        raise ReceiptOutOfRange(
            f"received_at is in the future (more than {RECEIPT_CLOCK_SKEW.total_seconds() / 60:g} minutes "
            "ahead of the engine's clock)"
        )
    first_year = rules.calendar.first_year
    if local_date(received_at).year < first_year:
        raise ReceiptOutOfRange(f"received_at lies before the working-day calendar begins ({first_year})")


def _submit(command: SubmitApplication, now: datetime) -> ApplicationSubmitted:
    _unknown_materials(command.matter, command.materials)
    require_steward_fits(command.green_channel, command.steward)
    require_receipt_in_range(command.received_at, command.rules, now)
    actor = command.actor
    if actor.role is Role.APPLICANT and (command.green_channel or command.steward is not None):
        raise NotAuthorised(
            actor.id, "绿色通道 is designated by the 营商局 or the intake, not by the applicant"
        )
    if actor.role is Role.APPLICANT and actor.key != command.applicant.key:
        raise NotAuthorised(actor.id, "an applicant submits only in their own name")
    if actor.role is Role.STEWARD and (command.steward is None or command.steward.key != actor.key):
        raise NotAuthorised(actor.id, "a steward submits only for a green-channel case assigned to them")
    if command.commitment is not None:
        _require_commitment_allowed(command)
    if command.consultation is not None:
        _require_consultation_fits(command, command.consultation)
    return ApplicationSubmitted(
        at=now,
        actor=command.actor,
        reason=command.reason,
        application_id=command.application_id,
        applicant=command.applicant,
        matter=command.matter,
        catalogue_version=command.catalogue_version,
        rules=command.rules,
        materials=command.materials,
        channel=command.channel,
        received_at=command.received_at,
        green_channel=command.green_channel,
        steward=command.steward,
        applicant_key=command.applicant_key,
        trusted_keys=command.trusted_keys,
        simulated=command.simulated,
        commitment=command.commitment,
        consultation=command.consultation,
        internal_targets=command.internal_targets,
    )


def _require_consultation_fits(command: SubmitApplication, findings: ConsultationFindings) -> None:
    """提前介入's findings carry only into the same applicant's application of the same matter."""
    if findings.matter_code != command.matter.code or findings.applicant.key != command.applicant.key:
        raise InvalidCommand(f"consultation {findings.consultation_id} was for another matter or applicant")


def _require_commitment_allowed(command: SubmitApplication) -> None:
    """国办发〔2020〕42号: offered where the catalogue allows it, never for safety, health or ecology, and
    never to an applicant with bad credit or a past false commitment."""
    matter = command.matter
    if matter.commitment_excluded is not None:
        raise CommitmentNotAllowed(
            f"国办发〔2020〕42号: 告知承诺制 is excluded for matters of {matter.commitment_excluded.value}"
            f" ({matter.code})"
        )
    if not matter.commitment_allowed or matter.approval is ApprovalMode.STAGED:
        raise CommitmentNotAllowed(f"matter {matter.code} does not offer 告知承诺制")
    if command.credit is None:
        raise InvalidCommand("告知承诺制 needs the applicant's credit check, which has not been made")
    if not command.credit.eligible:
        raise CommitmentNotAllowed(f"applicant not eligible for 告知承诺制: {command.credit.detail}")
    given = sorted(set(command.materials) & set(matter.commitment_proofs))
    if given:
        raise InvalidCommand(
            f"告知承诺制: the commitment replaces {', '.join(given)}; submit the proofs or the commitment"
        )


def _acceptance_lapsed(state: ApplicationState, now: datetime) -> bool:
    """Whether the time to decide on acceptance has passed: the application is then accepted by law.

    The engine's timer records the deemed acceptance at that instant; this holds when a person's command
    reaches the case first (the same moment, or a worker that was down).
    """
    acceptance_by = state.plan.acceptance_by if state.plan else None
    return state.status is Status.RECEIVED and acceptance_by is not None and now >= acceptance_by


def _require_acceptance_open(state: ApplicationState, command: ApplicationCommand, now: datetime) -> None:
    if _acceptance_lapsed(state, now) and state.plan and state.plan.acceptance_by:
        raise AcceptanceDeemed(command.kind, state.plan.acceptance_by)


def _request_correction(
    state: ApplicationState, command: RequestCorrection, now: datetime
) -> tuple[ApplicationEvent, ...]:
    _require_acceptance_open(state, command, now)
    _unknown_materials(state.matter, command.missing)
    if state.matter.acceptance is AcceptanceMode.ON_THE_SPOT:
        raise InvalidCommand(
            "不动产登记暂行条例 第17条: incomplete materials are refused in writing on the spot, listing "
            "every item to correct (reject_application); there is no later correction period"
        )
    neither = [code for code in command.missing if code not in state.missing and code not in state.provided]
    if neither:  # 告知承诺制: the proofs the commitment replaces are asked for by no one
        raise InvalidCommand(f"replaced by the applicant's commitment: {', '.join(neither)}")
    checked = _checked_in_consultation(state, command.missing)
    if checked:
        raise InvalidCommand(
            f"提前介入: checked in the consultation, not examined again: {', '.join(checked)}"
        )
    if state.status is Status.CORRECTION_REQUESTED and set(command.missing) <= set(state.missing):
        # Everything named is still awaited: the open notice says so already.
        raise InvalidCommand("the applicant has already been told of these items; the notice stands")
    if state.correction_items:
        new_items = tuple(m for m in command.missing if m not in state.correction_items)
        if new_items:
            raise CorrectionNotOneTime(new_items)  # R-XK-32: 一次性告知
    else:
        # R-XK-32: the first notice lists every missing item at once; it may add provided items to correct.
        omitted = tuple(m for m in state.missing if m not in command.missing)
        if omitted:
            raise InvalidCommand(
                f"R-XK-32: the notice must list every missing item at once; add {', '.join(omitted)}"
            )
    event = CorrectionRequested(
        at=now,
        actor=command.actor,
        reason=command.reason,
        missing=command.missing,
        notice_number=_notice_number(state),
    )
    return (event,)


def _checked_in_consultation(state: ApplicationState, codes: Iterable[str]) -> tuple[str, ...]:
    """The materials among ``codes`` in hand that the consultation's window already checked."""
    checked = state.consultation.checked if state.consultation else ()
    return tuple(code for code in codes if code in checked and code in state.provided)


def _accept(
    state: ApplicationState, command: AcceptApplication, now: datetime
) -> tuple[ApplicationEvent, ...]:
    if state.missing:
        raise MaterialsIncomplete(state.missing)
    lapsed = _acceptance_lapsed(state, now)  # accepted by law already: the clock runs from receipt
    event = ApplicationAccepted(
        at=now,
        actor=command.actor,
        reason=command.reason,
        basis="deemed_by_silence" if lapsed else "decided",
        as_of=state.acceptance_from if lapsed else now,
        notice_number=_notice_number(state),
    )
    return (event,)


def _accept_with_deficiencies(
    state: ApplicationState, command: AcceptWithDeficiencies, now: datetime
) -> tuple[ApplicationEvent, ...]:
    _require_acceptance_open(state, command, now)
    matter = state.matter
    if matter.deficiency_mode is DeficiencyMode.NOT_ALLOWED:
        raise DeficiencyNotTolerable(f"matter {matter.code} does not allow 容缺受理")
    if not state.missing:
        raise InvalidCommand("nothing is missing: accept the application instead")
    if set(command.missing) != set(state.missing):
        raise InvalidCommand(
            f"the 容缺 notice must list every missing item at once: {', '.join(state.missing)}"
        )
    core = [code for code in state.missing if _importance(matter, code) is Importance.CORE]
    if core:
        raise DeficiencyNotTolerable(f"core materials are missing: {', '.join(core)}")
    if command.supplement_within > matter.limit:
        raise DeadlineOutOfRange(
            "supplement deadline (working days)", command.supplement_within, matter.limit
        )
    if command.credit is None:
        raise InvalidCommand("容缺 needs the applicant's credit check, which has not been made")
    if not command.credit.eligible:
        raise DeficiencyNotTolerable(f"applicant not eligible for 容缺: {command.credit.detail}")
    event = AcceptedWithDeficiencies(
        at=now,
        actor=command.actor,
        reason=command.reason,
        as_of=now,
        missing=state.missing,
        supplement_within=command.supplement_within,
        commitment=command.commitment,
        notice_number=_notice_number(state),
    )
    return (event,)


def _importance(matter: Matter, code: str) -> Importance:
    material = matter.material(code)
    return material.importance if material else Importance.CORE


def _reject(
    state: ApplicationState, command: RejectApplication, now: datetime
) -> tuple[ApplicationEvent, ...]:
    _require_acceptance_open(state, command, now)
    if not visible(command.reason):
        raise InvalidCommand("a decision not to accept must state its reason (R-XK-32b)")
    event = ApplicationNotAccepted(
        at=now, actor=command.actor, reason=command.reason, notice_number=_notice_number(state)
    )
    return (event,)


def _refer(state: ApplicationState, command: ReferElsewhere, now: datetime) -> tuple[ApplicationEvent, ...]:
    _require_acceptance_open(state, command, now)
    event = ApplicationReferred(
        at=now, actor=command.actor, reason=command.reason, competent_organ=command.competent_organ
    )
    return (event,)


def _deem_accepted(
    state: ApplicationState, command: DeemAccepted, now: datetime
) -> tuple[ApplicationEvent, ...]:
    event = ApplicationAccepted(
        at=now,
        actor=command.actor,
        reason=command.reason or "R-XK-32: no notice within 5 working days of receipt",
        basis="deemed_by_silence",
        as_of=state.acceptance_from,
        notice_number=_notice_number(state),
    )
    return (event,)


def _supplement(
    state: ApplicationState, command: SupplementMaterials, now: datetime
) -> tuple[ApplicationEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    _unknown_materials(state.matter, command.materials)
    # Missing items (before acceptance, or left when silence deemed it accepted) and 容缺 promises; a
    # material already in hand changes nothing and is not recorded again.
    wanted = {*state.outstanding, *state.missing}
    already = [code for code in command.materials if code not in wanted]
    if already:
        raise InvalidCommand(f"already provided, nothing to supplement: {', '.join(already)}")
    event = MaterialsSupplemented(
        at=now,
        actor=command.actor,
        reason=command.reason,
        materials=command.materials,
        channel=command.channel,
    )
    return (event,)


def _record_approval(
    state: ApplicationState, command: RecordApproval, now: datetime
) -> tuple[ApplicationEvent, ...]:
    actor = command.actor
    _require_separated(state, actor)
    if state.status is Status.RETURNED and command.approved:
        raise InvalidCommand(f"the case is at the window for {', '.join(state.returned)}: refuse, or wait")
    step = _pending_step(state, command.step)
    if actor.department != step.department:
        raise NotAuthorised(actor.id, f"step {step.code} belongs to department {step.department}")
    _require_holds_step(state, step, actor)
    if not command.approved and not visible(command.reason):
        raise InvalidCommand("a refusal must state its reason")
    recorded = ApprovalRecorded(
        at=now,
        actor=actor,
        reason=command.reason,
        step=step.code,
        department=step.department,
        approved=command.approved,
    )
    if not command.approved:
        return (recorded, ApplicationDenied(at=now, actor=actor, reason=command.reason, step=step.code))
    after = evolve(state, recorded)
    if not after.pending_steps:
        return (recorded, ApplicationApproved(at=now, actor=actor, reason=command.reason))
    return (recorded,)


def _require_separated(state: ApplicationState, actor: Actor) -> None:
    """受审分离: who accepted the case, or acted at its window, never decides on it."""
    if actor.key == state.acceptance_decided_by or actor.key in state.window_officers:
        raise SeparationOfDuties(actor.id, "受审分离: who accepted, or acted at the window, may not approve")


def _pending_step(state: ApplicationState, code: str) -> ApprovalStep:
    step = next((s for s in state.pending_steps if s.code == code), None)
    if step is None:
        pending = ", ".join(s.code for s in state.pending_steps) or "none"
        raise InvalidCommand(f"step {code!r} is not awaiting a decision (pending: {pending})")
    return step


def _require_holds_step(state: ApplicationState, step: ApprovalStep, actor: Actor) -> None:
    """A step handed on (转办, 或签) is decided, and handed on again, only by whom it was given to."""
    assignees = state.assignees.get(step.code)
    if assignees and all(a.key != actor.key for a in assignees):
        names = ", ".join(a.id for a in assignees)
        raise NotAuthorised(actor.id, f"step {step.code} was handed to {names}")


def _hand_on(
    state: ApplicationState, command: TransferStep | OrSignStep, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """转办 to one approver, or 或签 among several, of the step's own department; never to someone who may
    not decide it (受审分离), nor back to the one handing it on."""
    actor = command.actor
    step = _pending_step(state, command.step)
    if actor.department != step.department:
        raise NotAuthorised(actor.id, f"step {step.code} belongs to department {step.department}")
    _require_holds_step(state, step, actor)
    assignees = (command.to,) if isinstance(command, TransferStep) else command.deciders
    for assignee in assignees:
        if assignee.role is not Role.APPROVER or assignee.department != step.department:
            raise InvalidCommand(
                f"{assignee.id} is no approver of {step.department}, which owns step {step.code}"
            )
        _require_separated(state, assignee)
    if len({a.key for a in assignees}) < len(assignees):
        raise InvalidCommand("or-sign names each approver once")
    if isinstance(command, TransferStep) and command.to.key == actor.key:
        raise InvalidCommand("a step is transferred to another approver")
    assigned = StepAssigned(
        at=now,
        actor=actor,
        reason=command.reason,
        step=step.code,
        department=step.department,
        assignees=assignees,
        or_sign=isinstance(command, OrSignStep),
    )
    return (assigned,)


def _return_to_window(
    state: ApplicationState, command: ReturnToWindow, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """退回: for materials already in hand that must come again; the reason is told to the applicant."""
    actor = command.actor
    if actor.department not in state.reviewing_departments:
        raise NotAuthorised(actor.id, "a case is returned by an approver of a department reviewing it")
    _unknown_materials(state.matter, command.materials)
    absent = [code for code in command.materials if code not in state.provided]
    if absent:
        raise InvalidCommand(f"not in hand, nothing to return for: {', '.join(absent)}")
    if not visible(command.reason):
        raise InvalidCommand("a return must state its reason, which the applicant is told")
    limit = max(state.matter.limit, 1)
    if command.supplement_within > limit:
        raise DeadlineOutOfRange("supplement (working days)", command.supplement_within, limit)
    returned = CaseReturned(
        at=now,
        actor=actor,
        reason=command.reason,
        materials=command.materials,
        supplement_within=command.supplement_within,
        clock_stopped=RETURN_PAUSE in state.matter.pause_reasons,
    )
    return (returned,)


def _add_signer(state: ApplicationState, command: AddSigner, now: datetime) -> tuple[ApplicationEvent, ...]:
    """加签 by the lead department: a new step before the round under review, or right after it."""
    actor = command.actor
    lead = state.matter.departments[0]
    if state.matter.approval is ApprovalMode.STAGED:
        raise InvalidCommand("加签 on a staged matter: a stage's matters are its catalogue entry's")
    if actor.department != lead:
        raise NotAuthorised(actor.id, f"加签 is the lead department's ({lead})")
    if command.department in state.reviewing_departments:
        raise InvalidCommand(f"{command.department} is reviewing the case already")
    if command.department not in state.departments and len(state.departments) >= MAX_DEPARTMENTS:
        raise DeadlineOutOfRange("departments on one case", len(state.departments) + 1, MAX_DEPARTMENTS)
    if not visible(command.reason):
        raise InvalidCommand("加签 must state its reason")
    index = state.open_round
    if index is None:
        raise InvalidCommand("no step is under review")
    added = SignerAdded(
        at=now,
        actor=actor,
        reason=command.reason,
        step=f"add{len(state.added_signers) + 1}_{command.department}"[:64],
        department=command.department,
        position=index + 1 if command.after else index,
        after=command.after,
    )
    return (added,)


def _remove_signer(
    state: ApplicationState, command: RemoveSigner, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """减签 by the lead department: a step it added, not decided yet (one added by mistake, say)."""
    lead = state.matter.departments[0]
    if command.actor.department != lead:
        raise NotAuthorised(command.actor.id, f"减签 is the lead department's ({lead})")
    added = {a.step for a in state.added_signers} - state.removed_signers
    decided = {d.step for d in state.decisions}
    if command.step not in added or command.step in decided:
        open_steps = ", ".join(sorted(added - decided)) or "none"
        raise InvalidCommand(f"step {command.step!r} is no undecided added step (those: {open_steps})")
    if not visible(command.reason):
        raise InvalidCommand("减签 must state its reason")
    return (SignerRemoved(at=now, actor=command.actor, reason=command.reason, step=command.step),)


def _explain_overdue(
    state: ApplicationState, command: ExplainOverdue, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """第36条: only an overdue case is explained, by the head of a department deciding it, once."""
    _require_department(state, command.actor)
    if state.warning_raised() is not WarningLevel.RED:
        raise InvalidCommand("the case is not overdue: nothing to explain")
    if state.overdue_explanation is not None:
        raise InvalidCommand("the delay is explained already")
    if not visible(command.explanation):
        raise InvalidCommand("explanation: say why the case is late")
    explained = OverdueExplained(
        at=now, actor=command.actor, reason=command.reason, explanation=command.explanation
    )
    return (explained,)


def _link_complaint(
    state: ApplicationState, command: LinkComplaint, now: datetime
) -> tuple[ApplicationEvent, ...]:
    if command.complaint_id in state.complaints:
        raise InvalidCommand(f"complaint {command.complaint_id} is linked already")
    linked = ComplaintLinked(
        at=now,
        actor=command.actor,
        reason=command.reason,
        complaint_id=command.complaint_id,
        category_code=command.category_code,
        department=command.department,
    )
    return (linked,)


def _urge_step(state: ApplicationState, command: UrgeStep, now: datetime) -> tuple[ApplicationEvent, ...]:
    step = _pending_step(state, command.step)
    urged = StepUrged(
        at=now,
        actor=command.actor,
        reason=command.reason or f"催办: step {step.code} is awaited",
        step=step.code,
        department=step.department,
    )
    return (urged,)


def _suspend(state: ApplicationState, command: SuspendClock, now: datetime) -> tuple[ApplicationEvent, ...]:
    reviewing = state.reviewing_departments
    if command.actor.department not in reviewing:
        raise NotAuthorised(
            command.actor.id,
            f"the clock is stopped by an approver of a department whose step is under review "
            f"({', '.join(reviewing)})",
        )
    if command.pause not in state.matter.pause_reasons:
        allowed = ", ".join(state.matter.pause_reasons)
        raise InvalidCommand(f"R-XK-45: {command.pause!r} does not stop the clock on this matter ({allowed})")
    _require_pause_within_calendar(state, command, now)
    event = ClockSuspended(
        at=now,
        actor=command.actor,
        reason=command.reason,
        pause=command.pause,
        expected_working_days=command.expected_working_days,
    )
    return (event,)


def _require_pause_within_calendar(state: ApplicationState, command: SuspendClock, now: datetime) -> None:
    """Its expected end, and the decision deadline it pushes back, must lie within the calendar data: a
    pause that reaches a year nobody has published would take the case off the statutory clock for good."""
    calendar = state.rules.working
    try:
        last_day = calendar.deadline(local_date(now), command.expected_working_days).last_day
        if state.clock is not None:
            resumed = datetime.combine(last_day, time(12), tzinfo=SHANGHAI)  # during its last expected day
            pause = Suspension(
                reason=command.pause,
                started_at=now,
                expected_working_days=command.expected_working_days,
                ended_at=resumed,
            )
            state.clock.suspend(pause).deadline(calendar, resumed, state.rules.rest_day_receipt)
    except CalendarNotPublished as error:
        raise DeadlineOutOfRange(
            "pause (expected working days)",
            command.expected_working_days,
            f"the calendar data ({error.year})",
        ) from None


def _resume(state: ApplicationState, command: ResumeClock, now: datetime) -> tuple[ApplicationEvent, ...]:
    pause = state.clock.open_suspension if state.clock else None
    if pause is not None and command.actor.department != pause.department:
        raise NotAuthorised(
            command.actor.id,
            f"the pause is resumed by an approver of {pause.department}, who stopped the clock",
        )
    return (ClockResumed(at=now, actor=command.actor, reason=command.reason),)


def _extend(state: ApplicationState, command: ExtendDeadline, now: datetime) -> tuple[ApplicationEvent, ...]:
    actor = command.actor
    if state.matter.joint_handling:
        authority, limit, rule = Role.GOVERNMENT_LEADER, EXTENSION_BY_GOVERNMENT_LEADER, "R-XK-42b"
    else:
        authority, limit, rule = Role.DEPARTMENT_HEAD, EXTENSION_BY_DEPARTMENT_HEAD, "R-XK-42a"
    if actor.role is not authority:
        handling = (
            "joint handling by several departments"
            if authority is Role.GOVERNMENT_LEADER
            else "a single department's matter"
        )
        raise NotAuthorised(
            actor.id, f"{rule}: the extension of {handling} is granted by a {authority.value}"
        )
    if authority is Role.DEPARTMENT_HEAD:
        _require_department(state, actor)
    if state.clock is not None and state.clock.extensions:
        raise InvalidCommand("the deadline has already been extended once (R-XK-42)")
    if state.matter.extension_limit is not None:  # the matter's own law, where it sets one (0: none)
        limit = state.matter.extension_limit
    if command.working_days > limit:
        raise DeadlineOutOfRange("extension (working days)", command.working_days, limit)
    if not visible(command.reason):
        raise InvalidCommand("an extension must give the reason told to the applicant")
    due_at = state.plan.decision_due_at if state.plan else None
    if due_at is not None and now >= due_at:
        raise InvalidCommand(f"R-XK-42: an extension is granted within the period, which ended at {due_at}")
    if state.clock is not None:
        extended = state.clock.extend(command.working_days)
        try:
            extended.deadline(state.rules.working, now, state.rules.rest_day_receipt)
        except CalendarNotPublished as error:
            raise DeadlineOutOfRange(
                "extension (working days)", command.working_days, f"the calendar data ({error.year})"
            ) from None
    event = DeadlineExtended(at=now, actor=actor, reason=command.reason, working_days=command.working_days)
    return (event,)


def _issue(state: ApplicationState, command: IssueLicence, now: datetime) -> tuple[ApplicationEvent, ...]:
    if state.outstanding and state.matter.deficiency_mode is DeficiencyMode.DEFER_ISSUANCE:
        raise InvalidCommand(f"issuance waits for the promised materials: {', '.join(state.outstanding)}")
    event = LicenceIssued(
        at=now, actor=command.actor, reason=command.reason, licence_number=command.licence_number
    )
    return (event,)


def _withdraw(
    state: ApplicationState, command: WithdrawApplication, now: datetime
) -> tuple[ApplicationEvent, ...]:
    require_acts_for(state.applicant, state.steward, command.actor)
    return (ApplicationWithdrawn(at=now, actor=command.actor, reason=command.reason),)


def _change_green_channel(
    state: ApplicationState, command: ChangeGreenChannel, now: datetime
) -> tuple[ApplicationEvent, ...]:
    require_steward_fits(command.green_channel, command.steward)
    steward_key = command.steward.key if command.steward else None
    current_key = state.steward.key if state.steward else None
    if (command.green_channel, steward_key) == (state.green_channel, current_key):
        raise InvalidCommand("the case is already in that state of the green channel")
    if not visible(command.reason):
        raise InvalidCommand("a green-channel decision must state its reason")
    changed = GreenChannelChanged(
        at=now,
        actor=command.actor,
        reason=command.reason,
        green_channel=command.green_channel,
        steward=command.steward,
    )
    return (changed,)


def _abandon(
    state: ApplicationState, command: AbandonApplication, now: datetime
) -> tuple[ApplicationEvent, ...]:
    if not state.outstanding:
        raise InvalidCommand("no promised material is outstanding; nothing was broken")
    event = ApplicationAbandoned(
        at=now,
        actor=command.actor,
        reason=command.reason or "容缺 commitment broken: materials not supplied in time",
        missing=state.outstanding,
    )
    return (event,)


def _confirm_simulation(
    state: ApplicationState, command: ConfirmSimulation, now: datetime
) -> tuple[ApplicationEvent, ...]:
    if not state.simulated:
        raise InvalidCommand("the case is no simulated approval")
    return (
        SimulationConfirmed(at=now, actor=command.actor, reason=command.reason, evidence=command.evidence),
    )


def _end_with_project(
    state: ApplicationState, command: EndWithProject, now: datetime
) -> tuple[ApplicationEvent, ...]:
    ended = ApplicationEndedWithProject(
        at=now, actor=command.actor, reason=command.reason, project_status=command.project_status
    )
    return (ended,)


def _revoke(state: ApplicationState, command: RevokeLicence, now: datetime) -> tuple[ApplicationEvent, ...]:
    if command.cause is RevocationCause.COMMITMENT:
        if state.verification is not Verification.RECTIFYING:
            raise InvalidCommand("no 告知承诺 rectification is awaited on this case")
        reason = command.reason or "告知承诺: not rectified in time"
        return (_revoked_for_false_commitment(command.actor, reason, now),)
    if not state.outstanding or state.matter.deficiency_mode is not DeficiencyMode.ISSUE_THEN_SUPPLEMENT:
        raise InvalidCommand(
            "a licence is revoked here only for an unkept issue-then-supplement promise or an unrectified "
            "告知承诺 commitment"
        )
    event = LicenceRevoked(
        at=now,
        actor=command.actor,
        reason=command.reason or "容缺 commitment broken after issuance",
        missing=state.outstanding,
    )
    return (event,)


def _revoked_for_false_commitment(actor: Actor, reason: str, now: datetime) -> LicenceRevoked:
    return LicenceRevoked(at=now, actor=actor, reason=reason, missing=())


def _require_verification_step(
    state: ApplicationState, command: VerifyCommitment | RecordRectification
) -> None:
    """The deciding department, never who accepted (受审分离), at the verification's stage that admits the
    command, with its findings."""
    _require_department(state, command.actor)
    _require_separated(state, command.actor)
    if state.verification is not _VERIFICATION_STEPS[command.kind]:
        raise InvalidCommand(f"no 告知承诺 {command.kind.split('_', 1)[1]} is awaited on this case")
    if not visible(command.reason):
        raise InvalidCommand("a verification's finding must state its reason")


def _verify_commitment(
    state: ApplicationState, command: VerifyCommitment, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """核查: the deciding department finds the commitment true (closed) or untrue (rectify by a deadline)."""
    _require_verification_step(state, command)
    if command.kept:
        if command.rectify_within is not None:
            raise InvalidCommand("rectify_within: a commitment found true needs no rectification")
        return (CommitmentVerified(at=now, actor=command.actor, reason=command.reason),)
    limit = state.matter.rectification_within
    within = command.rectify_within or limit
    if within > limit:
        raise DeadlineOutOfRange("rectification (working days)", within, limit)
    untrue = CommitmentFoundUntrue(at=now, actor=command.actor, reason=command.reason, rectify_within=within)
    return (untrue,)


def _record_rectification(
    state: ApplicationState, command: RecordRectification, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """Rectified: the licence stands. Not: revoked at once, with a credit record (false commitment)."""
    _require_verification_step(state, command)
    if command.rectified:
        return (CommitmentRectified(at=now, actor=command.actor, reason=command.reason),)
    return (_revoked_for_false_commitment(command.actor, command.reason, now),)


def _record_deadlines(
    state: ApplicationState, command: RecordDeadlines, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """Record recomputed deadlines; a year they reach without calendar data is itself an event (R-CAL-4)."""
    if command.plan == state.plan:
        return ()
    planned = DeadlinesPlanned(at=now, actor=command.actor, reason=command.reason, plan=command.plan)
    missing = command.plan.calendar_missing
    if missing is None or (state.plan is not None and state.plan.calendar_missing == missing):
        return (planned,)
    unknown = CalendarYearMissing(
        at=now,
        actor=command.actor,
        reason=f"R-CAL-4: no calendar data for {missing}: the deadlines reaching it wait for its notice "
        f"(or provisional data) to be loaded and announced",
        year=missing,
    )
    return (planned, unknown)


def _revise_trusted_keys(
    state: ApplicationState, command: ReviseTrustedKeys, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """A key rotation: the keys the engine read from the trust store, audited with who asked and why."""
    if not command.trusted_keys:
        raise InvalidCommand("trusted_keys: the engine reads the trust store itself; none was read")
    revised = TrustedKeysRevised(
        at=now,
        actor=command.actor,
        reason=command.reason or "the trusted keys were rotated",
        trusted_keys=command.trusted_keys,
    )
    return (revised,)


def _revise_deadline_rules(
    state: ApplicationState, command: ReviseDeadlineRules, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """R-CAL-4: count with the announced calendar from now on; the same data again changes nothing."""
    if command.rules == state.rules:
        return ()
    revised = CalendarRevised(
        at=now,
        actor=command.actor,
        reason=command.reason or "R-CAL-4: a new calendar version was announced; deadlines are recomputed",
        previous_version=state.rules.version,
        version=command.rules.version,
        rules=command.rules,
    )
    return (revised,)


def _raise_warning(
    state: ApplicationState, command: RaiseWarning, now: datetime
) -> tuple[ApplicationEvent, ...]:
    """Raise the highest level reached by ``now`` (several marks may have passed at once)."""
    if state.status not in _WARNING_STATUSES[command.subject]:
        raise InvalidCommand(
            f"no {command.subject.value} deadline runs while the case is {state.status.value}"
        )
    plan = state.plan
    mark = plan.mark_reached(now, command.subject) if plan else None
    reached = mark.level if mark else WarningLevel.NONE
    if plan is None or mark is None or command.level.rank > reached.rank:
        raise InvalidCommand(
            f"{command.subject.value} has not reached {command.level.value} (it is {reached.value})"
        )
    if reached.rank <= state.warning_raised(command.subject).rank:
        raise InvalidCommand(f"{command.subject.value} warning {reached.value} was already raised")
    deadline = {
        WarningSubject.DELIVERY: plan.delivery_by,
        WarningSubject.VERIFICATION: plan.verification_by,
        WarningSubject.INTERNAL_TARGET: plan.internal_target_by,
    }.get(command.subject, plan.decision_due_at)
    event = WarningRaised(
        at=now,
        actor=command.actor,
        reason=_warning_reason(state, mark, now),
        level=reached,
        subject=command.subject,
        deadline_at=deadline or now,
    )
    return (event,)


def _warning_reason(state: ApplicationState, mark: WarningMark, now: datetime) -> str:
    """The mark's cause; for the counted budget, preceded by the working days completed when it is raised.

    Marks fall at 24:00 of a day, and the timer's task runs a moment after: the day just begun is not
    counted, so a warning raised at the end of day 4 of 5 says 4, and red at the very instant the period
    expires says 5 of 5 (not 6, nor, as when the counting stopped at the mark itself, 4).
    """
    reading = clock_reading(state, datetime.combine(local_date(now), time(0), tzinfo=SHANGHAI))
    if not mark.counts or reading is None:
        return mark.cause
    return f"{reading.used} of {reading.budget} counted working days used; {mark.cause}"


_HANDLERS: Mapping[type, Callable[[ApplicationState, Any, datetime], tuple[ApplicationEvent, ...]]] = {
    RequestCorrection: _request_correction,
    AcceptApplication: _accept,
    AcceptWithDeficiencies: _accept_with_deficiencies,
    RejectApplication: _reject,
    ReferElsewhere: _refer,
    DeemAccepted: _deem_accepted,
    SupplementMaterials: _supplement,
    RecordApproval: _record_approval,
    SuspendClock: _suspend,
    ResumeClock: _resume,
    ExtendDeadline: _extend,
    IssueLicence: _issue,
    WithdrawApplication: _withdraw,
    ChangeGreenChannel: _change_green_channel,
    AbandonApplication: _abandon,
    RevokeLicence: _revoke,
    EndWithProject: _end_with_project,
    ConfirmSimulation: _confirm_simulation,
    TransferStep: _hand_on,
    OrSignStep: _hand_on,
    ReturnToWindow: _return_to_window,
    AddSigner: _add_signer,
    RemoveSigner: _remove_signer,
    UrgeStep: _urge_step,
    ExplainOverdue: _explain_overdue,
    LinkComplaint: _link_complaint,
    VerifyCommitment: _verify_commitment,
    RecordRectification: _record_rectification,
    RecordDeadlines: _record_deadlines,
    ReviseDeadlineRules: _revise_deadline_rules,
    RaiseWarning: _raise_warning,
    ReviseTrustedKeys: _revise_trusted_keys,
}


# --- derived views ---------------------------------------------------------------------------------------


def plan_request(state: ApplicationState) -> PlanRequest:
    """What the case's deadlines depend on now; when this changes, the deadlines are recomputed."""
    return PlanRequest(
        received_at=state.acceptance_from,
        deem_acceptance=state.matter.acceptance if state.status is Status.RECEIVED else None,
        clock=state.clock,
        decision_running=state.deciding,
        supplement_within=state.supplement_within if state.outstanding else None,
        decided_at=state.decided_at if state.status is Status.APPROVED else None,
        stage=state.stage_limit,
        verification=_verification_period(state),
        internal_target=state.internal_target_days,
        rectification=state.rectification if state.verification is Verification.RECTIFYING else None,
    )


def _verification_period(state: ApplicationState) -> Period | None:
    """告知承诺制: the verification owed, counted from the licence's issuance."""
    if state.verification is not Verification.OWED or state.issued_at is None:
        return None
    return Period(started_at=state.issued_at, working_days=state.matter.verification_within)


def deadlines(state: ApplicationState, now: datetime) -> DeadlinePlan:
    """The case's deadlines computed now, with the calendar pinned in it."""
    return plan_deadlines(plan_request(state), state.rules, now)


class ClockReading(BaseModel):
    """The decision period as counted at one instant (R-XK-42, R-CAL-2): used, left, late, not counted.

    Counting ends when the case is decided (or closed without a decision); while a pause is open it
    stands at the pause's first day.
    """

    model_config = ConfigDict(frozen=True)

    budget: int = Field(description="Working days of the period, extensions included.")
    used: int
    left: int
    overdue: int = Field(description="Working days past the period's last day.")
    suspended: int = Field(description="Working days not counted (R-XK-45): elapsed = used + suspended.")


def clock_reading(state: ApplicationState, now: datetime) -> ClockReading | None:
    """The decision period at ``now``; None before acceptance or when the calendar lacks the days."""
    clock = state.clock
    if clock is None:
        return None
    ended = state.decided_at or state.closed_at
    at = min(now, ended) if ended else now
    calendar = state.rules.working
    try:
        used = clock.working_days_used(calendar, at, state.rules.rest_day_receipt)
        suspended, _ = clock.suspended_working_days(calendar, at)
    except CalendarNotPublished:
        return None
    budget = clock.budget + sum(clock.extensions)
    return ClockReading(
        budget=budget,
        used=used,
        left=max(budget - used, 0),
        overdue=max(used - budget, 0),
        suspended=suspended,
    )


class PendingAction(BaseModel):
    """Something a person may do on the case now, and who may do it."""

    model_config = ConfigDict(frozen=True)

    command: str
    roles: tuple[Role, ...]
    departments: tuple[str, ...] = ()
    steps: tuple[ApprovalStep, ...] = Field(default=(), description="Approval steps awaiting a decision.")

    def open_to(self, actor: Actor) -> bool:
        """Whether ``actor`` may give it: a role it names, and for a department's roles one of its
        departments (what the CLI's verbs and the console's forms offer)."""
        if actor.role not in self.roles:
            return False
        if actor.role in ROLES_OF_A_DEPARTMENT and self.departments:
            return actor.department in self.departments
        return True

    def steps_for(self, actor: Actor) -> tuple[ApprovalStep, ...]:
        """The steps awaiting a decision that ``actor`` decides: their department's, for its roles."""
        if actor.role not in ROLES_OF_A_DEPARTMENT:
            return self.steps
        return tuple(step for step in self.steps if step.department == actor.department)


# 告知承诺制: each verification command, and the stage of the verification that admits it.
_VERIFICATION_STEPS: Mapping[str, Verification] = {
    "verify_commitment": Verification.OWED,
    "record_rectification": Verification.RECTIFYING,
}


def _worth_offering(state: ApplicationState, kind: str) -> bool:  # noqa: PLR0911 - a case per command
    """Whether the materials make ``kind`` possible at all (the transition table allows it already)."""
    if kind in _VERIFICATION_STEPS:
        return state.verification is _VERIFICATION_STEPS[kind]
    match kind:
        case "supplement_materials":
            return bool(state.missing or state.outstanding)
        case "accept_application":
            return not state.missing
        case "accept_with_deficiencies":
            return (
                bool(state.missing)
                and state.matter.deficiency_mode is not DeficiencyMode.NOT_ALLOWED
                and all(_importance(state.matter, code) is Importance.SECONDARY for code in state.missing)
            )
        case "revise_trusted_keys":  # an operator's key rotation, not a step of the case
            return False
        case "add_signer":
            return state.matter.approval is not ApprovalMode.STAGED
        case "remove_signer":
            return bool({a.step for a in state.added_signers} - state.removed_signers)
        case "explain_overdue":
            return state.warning_raised() is WarningLevel.RED and state.overdue_explanation is None
    return True


def pending_actions(state: ApplicationState) -> tuple[PendingAction, ...]:
    """The commands people (not the engine) may give in the current status, with who may give them."""
    actions = []
    for kind in sorted(TRANSITIONS[state.status]):
        roles = tuple(sorted(AUTHORISED_ROLES[kind] - {Role.SYSTEM}))
        if not roles or not _worth_offering(state, kind):
            continue
        actions.append(_offered(state, kind, roles))
    return tuple(actions)


def _offered(state: ApplicationState, kind: str, roles: tuple[Role, ...]) -> PendingAction:  # noqa: PLR0911 - a case per command
    """``kind`` as offered now: narrowed to the departments (and the authority) its rules admit."""
    reviewing = state.reviewing_departments
    match kind:
        case "record_approval" | "transfer_step" | "or_sign_step" | "urge_step":
            return PendingAction(command=kind, roles=roles, departments=reviewing, steps=state.pending_steps)
        case "return_to_window":
            return PendingAction(command=kind, roles=roles, departments=reviewing)
        case "add_signer" | "remove_signer":
            return PendingAction(command=kind, roles=roles, departments=state.matter.departments[:1])
        case "suspend_clock":
            return PendingAction(command=kind, roles=roles, departments=reviewing)
        case "resume_clock":
            pause = state.clock.open_suspension if state.clock else None
            paused_by = (pause.department,) if pause and pause.department else ()
            return PendingAction(command=kind, roles=roles, departments=paused_by)
        case "verify_commitment" | "record_rectification" | "explain_overdue":
            return PendingAction(command=kind, roles=roles, departments=state.matter.departments)
        case "extend_deadline" if state.matter.joint_handling:  # R-XK-42b
            return PendingAction(command=kind, roles=(Role.GOVERNMENT_LEADER,))
        case "extend_deadline":  # R-XK-42a
            return PendingAction(
                command=kind, roles=(Role.DEPARTMENT_HEAD,), departments=state.matter.departments
            )
    return PendingAction(command=kind, roles=roles)


class Effect(StrEnum):
    """What outside systems must be told of an event (the values name the activities that do it)."""

    NOTIFY_APPLICANT = "notify_applicant"
    PUSH_TO_SUPERVISION = "push_to_supervision"
    REVOKE_LICENCE = "revoke_licence"
    WRITE_CREDIT_RECORD = "write_credit_record"
    ESCALATE = "escalate"
    SET_CASE_PRIORITY = "set_case_priority"
    NOTIFY_DEPARTMENT = "notify_department"


_NOTICE = frozenset({Effect.NOTIFY_APPLICANT})
# R-XK-32b (acceptance decisions), R-XK-45 (how long a pause takes), R-XK-42a (an extension's reason) and
# every result are told to the applicant in writing; results go to supervision (审批监管联动); a broken
# 容缺 promise is written to the applicant's credit record.
EFFECTS: Mapping[str, frozenset[Effect]] = {
    "correction_requested": _NOTICE,
    "application_accepted": _NOTICE,
    "accepted_with_deficiencies": _NOTICE,
    "application_not_accepted": _NOTICE,
    "application_referred": _NOTICE,
    "clock_suspended": _NOTICE,
    "deadline_extended": _NOTICE,
    "green_channel_changed": _NOTICE | {Effect.SET_CASE_PRIORITY},
    "application_denied": _NOTICE | {Effect.PUSH_TO_SUPERVISION},
    "licence_issued": _NOTICE | {Effect.PUSH_TO_SUPERVISION},
    "application_abandoned": _NOTICE | {Effect.WRITE_CREDIT_RECORD},
    "application_ended_with_project": _NOTICE,
    "simulation_confirmed": _NOTICE,
    # An office's actions: who is given a step is told, the applicant what to bring back (退回), and an
    # urge (催办) reaches both the department and supervision, which counts it.
    "step_assigned": frozenset({Effect.NOTIFY_DEPARTMENT}),
    "signer_added": frozenset({Effect.NOTIFY_DEPARTMENT}),
    "signer_removed": frozenset({Effect.NOTIFY_DEPARTMENT}),
    "case_returned": _NOTICE,
    "step_urged": frozenset({Effect.NOTIFY_DEPARTMENT, Effect.PUSH_TO_SUPERVISION}),
    "overdue_explained": frozenset({Effect.PUSH_TO_SUPERVISION}),  # 第36条: published
    # 告知承诺制: the verification's findings go to the applicant and to supervision (审批监管联动).
    "commitment_verified": _NOTICE | {Effect.PUSH_TO_SUPERVISION},
    "commitment_found_untrue": _NOTICE | {Effect.PUSH_TO_SUPERVISION},
    "commitment_rectified": _NOTICE | {Effect.PUSH_TO_SUPERVISION},
    # R-CAL-4: deadlines that cannot be computed are a supervision matter, not a silent wait.
    "calendar_year_missing": frozenset({Effect.PUSH_TO_SUPERVISION}),
    "licence_revoked": _NOTICE
    | {Effect.PUSH_TO_SUPERVISION, Effect.REVOKE_LICENCE, Effect.WRITE_CREDIT_RECORD},
}


def effects_of(event: ApplicationEvent) -> tuple[Effect, ...]:
    """The outside effects of ``event``, in a fixed order; a red warning is escalated (督办), and an internal
    target's warnings go to the departments reviewing (the office's own target, not supervision's)."""
    wanted = set(EFFECTS.get(event.kind, ()))
    if isinstance(event, WarningRaised) and not event.subject.statutory:
        wanted.add(Effect.NOTIFY_DEPARTMENT)
    elif isinstance(event, WarningRaised) and event.level is WarningLevel.RED:
        wanted.add(Effect.ESCALATE)
    return tuple(effect for effect in Effect if effect in wanted)


ENGINE = Actor(id="onewindow", role=Role.SYSTEM, name="onewindow engine")


def ready_to_issue(state: ApplicationState) -> bool:
    """Approved, no 容缺 promise holds issuance back (defer mode waits for the supplement), and no
    opinion is still simulated (模拟审批: no licence before the precondition)."""
    deferred = bool(state.outstanding) and state.matter.deficiency_mode is DeficiencyMode.DEFER_ISSUANCE
    return state.status is Status.APPROVED and not deferred and not state.simulated


class ScheduledCommand(BaseModel):
    """What the engine itself does when a deadline passes, and when."""

    model_config = ConfigDict(frozen=True)

    at: Instant
    command: ApplicationCommand


_WARNING_STATUSES = {
    WarningSubject.DECISION: tuple(DECIDING),
    WarningSubject.DELIVERY: (Status.APPROVED,),
    WarningSubject.VERIFICATION: (Status.ISSUED,),
    WarningSubject.INTERNAL_TARGET: tuple(DECIDING),
}


def next_timer(state: ApplicationState) -> ScheduledCommand | None:
    """The earliest deadline still ahead of the case: the durable timer the workflow arms now.

    Derived from the state alone, so any change (suspension, extension, supplement, calendar revision)
    re-arms it; nothing polls.
    """
    plan = state.plan
    if plan is None or state.closed:
        return None
    candidates: list[ScheduledCommand] = []
    if state.status is Status.RECEIVED and plan.acceptance_by is not None:
        candidates.append(ScheduledCommand(at=plan.acceptance_by, command=DeemAccepted(actor=ENGINE)))
    if state.verification is Verification.RECTIFYING and plan.rectification_by is not None:
        revoke = RevokeLicence(
            actor=ENGINE,
            reason="告知承诺: the commitment was not rectified in time",
            cause=RevocationCause.COMMITMENT,
        )
        candidates.append(ScheduledCommand(at=plan.rectification_by, command=revoke))
    if state.outstanding and plan.supplement_by is not None:
        broken: ApplicationCommand = (
            RevokeLicence(actor=ENGINE) if state.status is Status.ISSUED else AbandonApplication(actor=ENGINE)
        )
        candidates.append(ScheduledCommand(at=plan.supplement_by, command=broken))
    for mark in plan.marks:
        if (
            state.status in _WARNING_STATUSES[mark.subject]
            and mark.level.rank > state.warning_raised(mark.subject).rank
        ):
            warning = RaiseWarning(actor=ENGINE, reason=mark.cause, level=mark.level, subject=mark.subject)
            candidates.append(ScheduledCommand(at=mark.at, command=warning))
    return min(candidates, key=lambda scheduled: scheduled.at, default=None)


def _decision_deadline(state: ApplicationState, done_at: datetime | None) -> datetime | None:
    """The decision deadline: as planned while the case is decided on (none while a pause leaves it
    open), as it stood when the case was done afterwards; none before acceptance."""
    clock = state.clock
    if clock is None:
        return None
    if done_at is None:
        return state.plan.decision_due_at if state.plan else None
    try:
        return clock.deadline(state.rules.working, done_at, state.rules.rest_day_receipt).due_at
    except CalendarNotPublished:
        return None


def report_facts(state: ApplicationState) -> CaseFacts:
    """The case as the city's figures count it (``workflows.domain.figures``): due at its decision
    deadline once accepted; done at its decision, or when it ended otherwise after acceptance."""
    done_at = state.decided_at or (state.closed_at if state.clock is not None else None)
    deadline = _decision_deadline(state, done_at)
    reading = clock_reading(state, done_at) if done_at is not None else None
    return CaseFacts(
        case_id=state.application_id,
        kind=CaseKind.APPLICATION,
        matter=state.matter.code,
        departments=state.departments,
        deadline=deadline,
        done_at=done_at,
        on_time=None if done_at is None or deadline is None else done_at <= deadline,
        warnings=frozenset(w.level for w in state.warnings if w.subject.statutory),
        window_visits=state.window_visits,
        counted_days=reading.used if reading else None,
        elapsed_days=reading.used + reading.suspended if reading else None,
        explained=state.overdue_explanation is not None,
    )
