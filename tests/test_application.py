"""One application's rules: the transition table, every refusal, and the behaviour of decide/evolve/replay."""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import product
from typing import Any

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tests.builders import (
    RECEIVED_AT,
    WINDOW_OFFICER_ID,
    Case,
    actor_in,
    applicant_actor,
    approver,
    department_head,
    drive_to,
    found_untrue,
    government_leader,
    opened,
    secondary_materials,
    shipped_matter,
    shipped_rules,
    steward,
    submit,
    supervisor,
    system,
    then,
    window_officer,
)
from workflows.domain.application import (
    AUTHORISED_ROLES,
    EXTENSION_BY_DEPARTMENT_HEAD,
    EXTENSION_BY_GOVERNMENT_LEADER,
    REPEAT_LIMITS,
    TRANSITIONS,
    ApplicationState,
    ApprovalStep,
    Effect,
    Status,
    approval_rounds,
    clock_reading,
    deadlines,
    decide,
    effects_of,
    evolve,
    next_timer,
    pending_actions,
    plan_request,
    replay,
    start,
)
from workflows.domain.calendar import SHANGHAI, Deadline
from workflows.domain.catalogue import STATUTORY_PAUSES, Matter
from workflows.domain.clock import DeadlinePlan, DeadlineRules, WarningLevel, WarningMark, WarningSubject
from workflows.domain.commands import (
    AbandonApplication,
    AcceptApplication,
    AcceptWithDeficiencies,
    AddSigner,
    ApplicationCommand,
    ChangeGreenChannel,
    Command,
    ConfirmSimulation,
    CreditStanding,
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
    CorrectionNotOneTime,
    DeadlineOutOfRange,
    DeficiencyNotTolerable,
    InvalidCommand,
    MaterialsIncomplete,
    NotAllowed,
    NotAuthorised,
    OneWindowError,
    ReceiptOutOfRange,
    RepeatLimitReached,
    SeparationOfDuties,
)
from workflows.domain.events import (
    AcceptedWithDeficiencies,
    Actor,
    ApplicationAccepted,
    ApplicationApproved,
    ApplicationDenied,
    ApplicationEvent,
    ApplicationNotAccepted,
    ApplicationSubmitted,
    ApprovalRecorded,
    CorrectionRequested,
    GreenChannelChanged,
    LicenceRevoked,
    Role,
    WarningRaised,
)

# Issue-then-supplement, staged and joint: the one shipped matter on which every row of the table can be
# exercised (revocation needs issue_then_supplement; abandonment needs a 容缺 promise outstanding).
ENTERPRISE = "ENTERPRISE-ESTABLISH"
COMMAND_TYPES: tuple[type[Command], ...] = typing.get_args(typing.get_args(ApplicationCommand)[0])
KINDS: tuple[str, ...] = tuple(AUTHORISED_ROLES)
COMMANDS = TypeAdapter[ApplicationCommand](ApplicationCommand)


_EVENT_LOG: TypeAdapter[list[ApplicationEvent]] = TypeAdapter(list[ApplicationEvent])


def _replayed_from_storage(events: tuple[ApplicationEvent, ...]) -> ApplicationState:
    """The state rebuilt from the events as they are stored (JSON in Temporal's history), not the objects."""
    return replay(_EVENT_LOG.validate_json(_EVENT_LOG.dump_json(list(events))))


def _first_or(codes: tuple[str, ...], matter: Matter) -> tuple[str, ...]:
    """``codes``, or the matter's first material so that a command is at least well-formed."""
    return codes or (matter.materials[0].code,)


def valid_command(kind: str, state: ApplicationState) -> ApplicationCommand:  # noqa: PLR0911, PLR0912 - one case per kind
    """A command of ``kind`` from the right person with the payload ``state`` calls for."""
    matter = state.matter
    officer = window_officer()
    match kind:
        case "submit_application":
            return submit(matter)
        case "request_correction":
            items = _first_or(state.correction_items or state.missing, matter)
            if state.status is Status.CORRECTION_REQUESTED:
                items = items[:1]  # the item that came back (``_prepared``), to be redone
            return RequestCorrection(actor=officer, missing=items)
        case "accept_application":
            return AcceptApplication(actor=officer)
        case "accept_with_deficiencies":
            return AcceptWithDeficiencies(
                actor=officer,
                missing=_first_or(state.missing, matter),
                supplement_within=max(matter.limit, 1),
                commitment="容缺承诺-0001",
                credit=CreditStanding(eligible=True),
            )
        case "reject_application":
            return RejectApplication(actor=officer, reason="申请事项依法不需要取得行政许可")
        case "refer_elsewhere":
            return ReferElsewhere(actor=officer, competent_organ="省市场监督管理局")
        case "deem_accepted":
            return DeemAccepted(actor=system())
        case "supplement_materials":
            return SupplementMaterials(
                actor=applicant_actor(), materials=_first_or(state.outstanding or state.missing, matter)
            )
        case "record_approval":
            step = (state.pending_steps or approval_rounds(matter)[0])[0]
            if state.status is Status.RETURNED:  # at the window: a refusal only
                return RecordApproval(
                    actor=approver(step.department), step=step.code, approved=False, reason="不符合法定条件"
                )
            return RecordApproval(actor=approver(step.department), step=step.code, approved=True)
        case "suspend_clock":
            step = (state.pending_steps or approval_rounds(matter)[0])[0]
            return SuspendClock(
                actor=approver(step.department), pause="expert_review", expected_working_days=5
            )
        case "resume_clock":
            pause = state.clock.open_suspension if state.clock else None
            return ResumeClock(actor=approver(pause.department if pause and pause.department else "x"))
        case "extend_deadline":
            if matter.joint_handling:
                return ExtendDeadline(
                    actor=government_leader(),
                    working_days=EXTENSION_BY_GOVERNMENT_LEADER,
                    reason="专家评审意见分歧",
                )
            return ExtendDeadline(
                actor=department_head(matter.departments[0]),
                working_days=EXTENSION_BY_DEPARTMENT_HEAD,
                reason="现场核查需要",
            )
        case "issue_licence":
            return IssueLicence(actor=system(), licence_number="LIC-0001")
        case "withdraw_application":
            return WithdrawApplication(actor=applicant_actor())
        case "change_green_channel":
            return ChangeGreenChannel(
                actor=supervisor(), green_channel=True, steward=steward(), reason="市重点项目"
            )
        case "abandon_application":
            return AbandonApplication(actor=system())
        case "revoke_licence":
            return RevokeLicence(actor=system())
        case "record_deadlines":
            return RecordDeadlines(actor=system(), plan=overdue_plan(RECEIVED_AT))
        case "revise_deadline_rules":
            return ReviseDeadlineRules(actor=system(), rules=revised_rules())
        case "revise_trusted_keys":
            return ReviseTrustedKeys(actor=supervisor(), trusted_keys=("ed25519-rotated",))
        case "confirm_simulation":
            return ConfirmSimulation(actor=system(), evidence="国有建设用地使用权出让合同 2026-001")
        case "end_with_project":
            return EndWithProject(actor=system(), reason="项目已撤回", project_status="withdrawn")
        case "raise_warning":
            subject = _WARNED_SUBJECT.get(state.status, WarningSubject.DECISION)
            return RaiseWarning(actor=system(), level=WarningLevel.RED, subject=subject)
        case "transfer_step" | "or_sign_step" | "urge_step":
            return _step_action(kind, (state.pending_steps or approval_rounds(matter)[0])[0])
        case "return_to_window":
            department = (state.reviewing_departments or matter.departments)[0]
            return ReturnToWindow(
                actor=approver(department),
                materials=_first_or(tuple(sorted(state.provided)), matter)[:1],
                supplement_within=1,
                reason="材料需加盖公章后重新提交",
            )
        case "add_signer":
            return AddSigner(actor=approver(matter.departments[0]), department="fire", reason="涉及消防安全")
        case "remove_signer":
            added = state.added_signers[0].step if state.added_signers else "add1_fire"
            return RemoveSigner(actor=approver(matter.departments[0]), step=added, reason="加签有误")
        case "verify_commitment":
            return VerifyCommitment(
                actor=approver(matter.departments[0]), kept=True, reason="现场核查：与承诺相符"
            )
        case "record_rectification":
            return RecordRectification(
                actor=approver(matter.departments[0]), rectified=True, reason="复查：已按期整改"
            )
        case "explain_overdue":
            return ExplainOverdue(actor=department_head(matter.departments[0]), explanation="专家意见分歧")
        case "link_complaint":
            return LinkComplaint(
                actor=system(), complaint_id="GD-0001", category_code="business_environment", department="x"
            )
    raise AssertionError(f"no builder for command kind {kind}")


def _step_action(kind: str, step: ApprovalStep) -> ApplicationCommand:
    """转办, 或签 or 催办 of ``step``, by the person each is for."""
    holder = approver(step.department)
    match kind:
        case "transfer_step":
            return TransferStep(actor=holder, step=step.code, to=approver(step.department, "approver-2"))
        case "or_sign_step":
            deciders = (approver(step.department, "approver-2"), approver(step.department, "approver-3"))
            return OrSignStep(actor=holder, step=step.code, deciders=deciders)
    return UrgeStep(actor=supervisor(), step=step.code, reason="申请人反映办理缓慢")


# The deadline a warning is about in each status after the decision: the licence's delivery, then (on a
# 告知承诺 case) the department's verification.
_WARNED_SUBJECT = {Status.APPROVED: WarningSubject.DELIVERY, Status.ISSUED: WarningSubject.VERIFICATION}
# 告知承诺制: commands (and, once issued, warnings) only a case on a written commitment admits.
COMMITTED = "FOOD-BUSINESS"


# 加签 is offered on a single matter (a staged one's steps are its catalogue entry's).
SINGLE = "FOOD-BUSINESS"


def _matter_of(status: Status, kind: str) -> str:
    """The shipped matter a case of ``kind`` in ``status`` is driven on."""
    if _committed(status, kind):
        return COMMITTED
    signer = kind in ("add_signer", "remove_signer") and kind in TRANSITIONS[status]
    return SINGLE if signer else ENTERPRISE


def _committed(status: Status, kind: str) -> bool:
    return kind in {"verify_commitment", "record_rectification"} or (
        kind == "raise_warning" and status is Status.ISSUED
    )


def revised_rules() -> DeadlineRules:
    """The shipped rules under a new calendar version, as an announced revision brings them."""
    rules = shipped_rules()
    return rules.model_copy(update={"calendar": rules.calendar.model_copy(update={"version": "cal-revised"})})


def overdue_plan(at: datetime) -> DeadlinePlan:
    """A recorded plan whose decision and delivery deadlines both passed at ``at``."""
    marks = tuple(WarningMark(level=WarningLevel.RED, subject=subject, at=at) for subject in WarningSubject)
    return DeadlinePlan(calendar_version="cal-test", provisional=False, delivery_by=at, marks=marks)


def _prepared(case: Case, kind: str) -> Case:
    """A warning needs a recorded plan whose instant has passed; a second correction notice, an item that
    came back and needs redoing; other kinds need nothing more."""
    if kind == "request_correction" and case.state.status is Status.CORRECTION_REQUESTED:
        redo = case.state.correction_items[:1]
        return then(case, SupplementMaterials(actor=applicant_actor(), materials=redo))
    if kind == "record_rectification" and case.state.status is Status.ISSUED:
        return then(case, found_untrue(case.state.matter))
    if kind == "remove_signer" and "add_signer" in TRANSITIONS[case.state.status]:
        lead = approver(case.state.matter.departments[0])
        return then(case, AddSigner(actor=lead, department="fire", reason="涉及消防安全"))
    if kind == "explain_overdue" and kind in TRANSITIONS[case.state.status]:  # a red warning first
        planned = then(case, RecordDeadlines(actor=system(), plan=overdue_plan(RECEIVED_AT)))
        red = RaiseWarning(actor=system(), level=WarningLevel.RED, subject=WarningSubject.DECISION)
        return then(planned, red)
    if kind != "raise_warning" or "record_deadlines" not in TRANSITIONS[case.state.status]:
        return case
    return then(case, RecordDeadlines(actor=system(), plan=overdue_plan(RECEIVED_AT)))


def _needs_promise_outstanding(status: Status, kind: str) -> bool:
    """Whether ``kind`` succeeds in ``status`` only on a case with 容缺 materials missing or outstanding."""
    if kind == "supplement_materials":
        return True  # only a missing (or promised) material can be supplemented
    return kind in {"request_correction", "accept_with_deficiencies", "abandon_application", "revoke_licence"}


def _apply(state: ApplicationState, events: tuple[ApplicationEvent, ...]) -> ApplicationState:
    for event in events:
        state = evolve(state, event)
    return state


def _first_status_allowing(kind: str) -> Status:
    return next(status for status in Status if kind in TRANSITIONS[status])


def _case_for(kind: str, matter_code: str = ENTERPRISE) -> Case:
    """A case in the first status whose row admits ``kind``, prepared so a valid command succeeds."""
    status = Status.RECEIVED if kind == "submit_application" else _first_status_allowing(kind)
    matter = _matter_of(status, kind)
    case = drive_to(
        status,
        shipped_matter(matter if matter != ENTERPRISE else matter_code),
        deficient=_needs_promise_outstanding(status, kind),
        committed=_committed(status, kind),
    )
    return _prepared(case, kind)


def _refused(case: Case, command: ApplicationCommand) -> OneWindowError:
    """The error ``command`` is refused with (failing the test if it is accepted)."""
    with pytest.raises(OneWindowError) as refused:
        decide(case.state, command, case.now)
    return refused.value


# --- the transition table ------------------------------------------------------------------------------


def test_the_tables_have_a_row_for_every_status_and_every_command() -> None:
    """Every status has a transition row and every command kind names the roles that may send it."""
    assert set(TRANSITIONS) == set(Status)
    assert set(AUTHORISED_ROLES) == {t.model_fields["kind"].default for t in COMMAND_TYPES}


@pytest.mark.parametrize(("status", "kind"), list(product(Status, KINDS)), ids=str)
def test_a_command_is_admitted_exactly_where_the_transition_table_allows_it(
    status: Status, kind: str
) -> None:
    """Outside its row a command is NotAllowed before any other check; inside, a valid one yields events."""
    case = drive_to(
        status,
        shipped_matter(_matter_of(status, kind)),
        deficient=_needs_promise_outstanding(status, kind),
        simulated=kind == "confirm_simulation",
        committed=_committed(status, kind),
    )
    case = _prepared(case, kind)
    assert case.state.status is status
    command = valid_command(kind, case.state)
    if kind not in TRANSITIONS[status]:
        with pytest.raises(NotAllowed) as refused:
            decide(case.state, command, case.now)
        assert (refused.value.command, refused.value.status) == (kind, status.value)
        # The status is checked before the role: even a sender with no right to the command learns that.
        nobody = command.model_copy(update={"actor": actor_in(Role.HOTLINE_OPERATOR)})
        with pytest.raises(NotAllowed):
            decide(case.state, nobody, case.now)
        return
    events = decide(case.state, command, case.now)
    assert events
    after = _apply(case.state, events)
    assert after.version == case.state.version + len(events)
    assert replay(case.events + events) == after


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "submit_application"])
def test_nothing_but_a_submission_opens_a_case(kind: str) -> None:
    """Before submission there is no state, and every other command is NotAllowed."""
    command = valid_command(kind, drive_to(Status.RECEIVED, shipped_matter(ENTERPRISE)).state)
    with pytest.raises(NotAllowed, match="not submitted"):
        decide(None, command, RECEIVED_AT)


def test_a_case_is_submitted_only_once() -> None:
    """A second SubmitApplication on an open case is NotAllowed."""
    case = drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS"))
    with pytest.raises(NotAllowed):
        decide(case.state, submit(case.state.matter), case.now)


# --- who may act -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "role"),
    [(kind, role) for kind in KINDS for role in Role if role not in AUTHORISED_ROLES[kind]],
    ids=str,
)
def test_a_command_from_a_role_not_authorised_for_it_is_refused(kind: str, role: Role) -> None:
    """DESIGN section 1: each command names the roles that may send it; anyone else is NotAuthorised."""
    case = _case_for(kind)
    command = valid_command(kind, case.state).model_copy(
        update={"actor": actor_in(role, case.state.matter.departments[0])}
    )
    state = None if kind == "submit_application" else case.state
    with pytest.raises(NotAuthorised) as refused:
        decide(state, command, case.now)
    assert type(refused.value) is NotAuthorised
    assert role.value in refused.value.reason


def _decided_acceptance(matter: Matter) -> tuple[Case, str]:
    return drive_to(Status.UNDER_REVIEW, matter), WINDOW_OFFICER_ID


def _requested_correction(matter: Matter) -> tuple[Case, str]:
    case = opened(submit(matter, materials=tuple(m.code for m in matter.materials[:-1])))
    case = then(
        case, RequestCorrection(actor=window_officer("window-2"), missing=(matter.materials[-1].code,))
    )
    case = then(case, SupplementMaterials(actor=applicant_actor(), materials=(matter.materials[-1].code,)))
    return then(case, AcceptApplication(actor=window_officer())), "window-2"


def _submitted_at_the_window(matter: Matter) -> tuple[Case, str]:
    case = opened(submit(matter, actor=window_officer("window-3")))
    return then(case, AcceptApplication(actor=window_officer())), "window-3"


def _supplemented_a_promise(matter: Matter) -> tuple[Case, str]:
    case = drive_to(Status.UNDER_REVIEW, matter, deficient=True)
    return then(
        case, SupplementMaterials(actor=window_officer("window-4"), materials=case.state.outstanding)
    ), "window-4"


@pytest.mark.parametrize(
    "history",
    [_decided_acceptance, _requested_correction, _submitted_at_the_window, _supplemented_a_promise],
)
def test_whoever_acted_at_the_window_on_a_case_may_not_approve_it(
    history: Callable[[Matter], tuple[Case, str]],
) -> None:
    """受审分离: the acceptance decider, and any window officer on the case, is refused as an approver."""
    matter = shipped_matter("FOOD-BUSINESS")
    case, window_person = history(matter)
    step = case.state.pending_steps[0]
    same_person = approver(step.department, actor_id=window_person)
    command = RecordApproval(actor=same_person, step=step.code, approved=True)
    assert isinstance(_refused(case, command), SeparationOfDuties)


@pytest.mark.parametrize(
    ("matter_code", "department", "step"),
    [
        ("FOOD-BUSINESS", "health", "market_regulation"),
        ("ROAD-OCCUPATION", "urban_management", "public_security"),
        ("CONSTRUCTION-PROJECT", "natural_resources", "project_approval"),
    ],
)
def test_an_approver_decides_only_their_own_departments_step(
    matter_code: str, department: str, step: str
) -> None:
    """An approver of another department (even one on the matter) is NotAuthorised for the step."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter(matter_code))
    error = _refused(case, RecordApproval(actor=approver(department), step=step, approved=True))
    assert type(error) is NotAuthorised


def _someone_elses_case() -> tuple[Case, Actor]:
    return drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS")), applicant_actor("110101199001011234")


def _unassigned_steward_on_an_ordinary_case() -> tuple[Case, Actor]:
    return drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS")), steward()


def _another_steward_on_a_green_channel_case() -> tuple[Case, Actor]:
    command = submit(shipped_matter("FOOD-BUSINESS"), green_channel=True, assigned_steward=steward())
    return opened(command), steward("steward-2")


@pytest.mark.parametrize("kind", ["supplement_materials", "withdraw_application"])
@pytest.mark.parametrize(
    "intruder",
    [_someone_elses_case, _unassigned_steward_on_an_ordinary_case, _another_steward_on_a_green_channel_case],
)
def test_only_the_applicant_or_their_assigned_steward_acts_on_a_case(
    kind: str, intruder: Callable[[], tuple[Case, Actor]]
) -> None:
    """An applicant acts only on their own case, a steward only on the green-channel case assigned."""
    case, actor = intruder()
    command = valid_command(kind, case.state).model_copy(update={"actor": actor})
    assert type(_refused(case, command)) is NotAuthorised


@pytest.mark.parametrize("kind", ["supplement_materials", "withdraw_application"])
def test_the_assigned_steward_acts_for_the_applicant(kind: str) -> None:
    """帮办代办: the steward named on a green-channel case may do what the applicant may."""
    matter = shipped_matter("FOOD-BUSINESS")
    materials = tuple(m.code for m in matter.materials[:-1])  # one missing, for the steward to supplement
    case = opened(submit(matter, materials=materials, green_channel=True, assigned_steward=steward()))
    command = valid_command(kind, case.state).model_copy(update={"actor": steward()})
    assert decide(case.state, command, case.now)


def test_a_case_put_into_the_green_channel_gets_its_steward_and_is_told_so() -> None:
    """绿色通道 is an audited decision: who, when, why; from then on the steward acts for the applicant."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    withdraw = WithdrawApplication(actor=steward())
    assert type(_refused(case, withdraw)) is NotAuthorised
    designation = ChangeGreenChannel(
        actor=supervisor(), green_channel=True, steward=steward(), reason="市重点项目"
    )
    case = then(case, designation)
    changed = case.events[-1]
    assert isinstance(changed, GreenChannelChanged)
    assert (changed.actor, changed.reason, changed.steward) == (supervisor(), "市重点项目", steward())
    assert effects_of(changed) == (Effect.NOTIFY_APPLICANT, Effect.SET_CASE_PRIORITY)
    assert (case.state.green_channel, case.state.steward) == (True, steward())
    assert then(case, withdraw).state.status is Status.WITHDRAWN


def test_a_case_taken_out_of_the_green_channel_loses_its_steward() -> None:
    """Leaving the green channel ends the steward's mandate on the case."""
    case = opened(submit(shipped_matter("FOOD-BUSINESS"), green_channel=True, assigned_steward=steward()))
    case = then(case, ChangeGreenChannel(actor=supervisor(), green_channel=False, reason="不再列入重点项目"))
    assert (case.state.green_channel, case.state.steward) == (False, None)
    assert type(_refused(case, WithdrawApplication(actor=steward()))) is NotAuthorised


def test_the_steward_of_a_green_channel_case_may_be_replaced() -> None:
    """A new 项目管家 takes over; the old one no longer acts on the case."""
    case = opened(submit(shipped_matter("FOOD-BUSINESS"), green_channel=True, assigned_steward=steward()))
    successor = steward("steward-2")
    case = then(
        case, ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=successor, reason="管家调岗")
    )
    assert case.state.steward == successor
    assert type(_refused(case, WithdrawApplication(actor=steward()))) is NotAuthorised
    assert then(case, WithdrawApplication(actor=successor)).state.status is Status.WITHDRAWN


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            ChangeGreenChannel(actor=supervisor(), green_channel=False, steward=steward(), reason="x"),
            "only to green-channel cases",
            id="steward-outside-the-green-channel",
        ),
        pytest.param(
            ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=window_officer(), reason="x"),
            "not steward",
            id="steward-who-is-not-one",
        ),
        pytest.param(
            ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=steward()),
            "state its reason",
            id="no-reason",
        ),
        pytest.param(
            ChangeGreenChannel(actor=supervisor(), green_channel=False, reason="x"),
            "already",
            id="no-change",
        ),
    ],
)
def test_a_green_channel_decision_that_does_not_hold_is_refused(
    change: ChangeGreenChannel, message: str
) -> None:
    """Each refusal is an InvalidCommand naming what is wrong; nothing enters the log."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    error = _refused(case, change)
    assert type(error) is InvalidCommand
    assert message in str(error)


@pytest.mark.parametrize(
    "submitter",
    [
        pytest.param(applicant_actor("110101199001011234"), id="applicant-in-another-name"),
        pytest.param(steward(), id="steward-not-assigned"),
    ],
)
def test_a_submission_is_made_only_in_ones_own_name_or_as_the_assigned_steward(submitter: Actor) -> None:
    """The identity rule of supplement and withdrawal holds from submission: no one opens another's case."""
    command = submit(shipped_matter("FOOD-BUSINESS"), actor=submitter)
    with pytest.raises(NotAuthorised):
        decide(None, command, RECEIVED_AT)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            submit(shipped_matter("FOOD-BUSINESS"), assigned_steward=steward()), id="steward-off-green"
        ),
        pytest.param(
            submit(shipped_matter("FOOD-BUSINESS"), green_channel=True, assigned_steward=window_officer()),
            id="steward-in-wrong-role",
        ),
        pytest.param(submit(shipped_matter("FOOD-BUSINESS"), materials=("passport",)), id="unknown-material"),
    ],
)
def test_a_submission_that_breaks_the_intake_rules_is_refused(command: SubmitApplication) -> None:
    """A steward only on green-channel cases and only a steward as steward; materials the matter asks for."""
    with pytest.raises(InvalidCommand):
        decide(None, command, RECEIVED_AT)


# --- acceptance (R-XK-32, 容缺) ---------------------------------------------------------------------------


def test_a_second_correction_notice_may_not_ask_for_new_items() -> None:
    """R-XK-32 一次性告知: items not on the first notice cannot be asked for later."""
    matter = shipped_matter(ENTERPRISE)
    case = drive_to(Status.CORRECTION_REQUESTED, matter, deficient=True)
    first = case.state.correction_items
    error = _refused(
        case, RequestCorrection(actor=window_officer(), missing=(*first, "articles_of_association"))
    )
    assert isinstance(error, CorrectionNotOneTime)
    assert error.new_items == ("articles_of_association",)


def test_the_first_correction_notice_must_list_every_missing_item() -> None:
    """R-XK-32 一次性告知: a first notice naming only some of the missing items is refused."""
    matter = shipped_matter(ENTERPRISE)
    case = drive_to(Status.RECEIVED, matter, deficient=True)
    assert len(case.state.missing) > 1
    error = _refused(case, RequestCorrection(actor=window_officer(), missing=case.state.missing[:1]))
    assert isinstance(error, InvalidCommand)


def test_a_first_correction_notice_may_ask_to_redo_a_provided_item_which_then_counts_as_missing() -> None:
    """A material provided in the wrong form is listed on the one notice and must be supplied again."""
    case = drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS"), deficient=True)
    redo = next(code for code in case.state.provided)
    corrected = then(case, RequestCorrection(actor=window_officer(), missing=(*case.state.missing, redo)))
    assert redo in corrected.state.missing
    assert set(corrected.state.correction_items) == {*case.state.missing, redo}


def test_accepting_with_materials_missing_is_refused_naming_them() -> None:
    """受理 needs every material; the refusal lists what is missing."""
    case = drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS"), deficient=True)
    error = _refused(case, AcceptApplication(actor=window_officer()))
    assert isinstance(error, MaterialsIncomplete)
    assert error.missing == case.state.missing


def _deficient_acceptance(case: Case, **changes: Any) -> AcceptWithDeficiencies:
    command = valid_command("accept_with_deficiencies", case.state)
    assert isinstance(command, AcceptWithDeficiencies)
    return command.model_copy(update=changes)


def _core_missing() -> tuple[Case, AcceptWithDeficiencies]:
    matter = shipped_matter(ENTERPRISE)
    case = opened(
        submit(matter, materials=("registration_application", "investor_identity", "officer_appointment"))
    )
    return case, _deficient_acceptance(case)


def _matter_does_not_allow_it() -> tuple[Case, AcceptWithDeficiencies]:
    case = drive_to(Status.RECEIVED, shipped_matter("OUTDOOR-ADVERTISING"), deficient=True)
    return case, _deficient_acceptance(case)


def _credit_ineligible() -> tuple[Case, AcceptWithDeficiencies]:
    case = drive_to(Status.RECEIVED, shipped_matter(ENTERPRISE), deficient=True)
    bad_credit = CreditStanding(eligible=False, detail="失信被执行人")
    return case, _deficient_acceptance(case, credit=bad_credit)


@pytest.mark.parametrize("attempt", [_core_missing, _matter_does_not_allow_it, _credit_ineligible])
def test_deficiency_tolerant_acceptance_is_refused_when_not_tolerable(
    attempt: Callable[[], tuple[Case, AcceptWithDeficiencies]],
) -> None:
    """容缺 only for secondary materials, on matters that allow it, for applicants in good credit."""
    case, command = attempt()
    assert isinstance(_refused(case, command), DeficiencyNotTolerable)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"credit": None}, id="no-credit-check"),
        pytest.param({"missing": ("premises_proof",)}, id="notice-omits-an-item"),
    ],
)
def test_deficiency_tolerant_acceptance_needs_a_credit_check_and_a_complete_notice(
    changes: dict[str, Any],
) -> None:
    """容缺: the credit check must have been made, and the one notice lists every missing item."""
    case = drive_to(Status.RECEIVED, shipped_matter(ENTERPRISE), deficient=True)
    assert type(_refused(case, _deficient_acceptance(case, **changes))) is InvalidCommand


@pytest.mark.parametrize(
    ("matter_code", "limit"), [("FOOD-BUSINESS", 5), (ENTERPRISE, 1), ("CONSTRUCTION-PROJECT", 90)]
)
def test_the_supplement_deadline_may_not_exceed_the_matters_own_limit(matter_code: str, limit: int) -> None:
    """容缺: the promise is due within the matter's limit at most; one day more is DeadlineOutOfRange."""
    case = drive_to(Status.RECEIVED, shipped_matter(matter_code), deficient=True)
    error = _refused(case, _deficient_acceptance(case, supplement_within=limit + 1))
    assert isinstance(error, DeadlineOutOfRange)
    assert (error.requested, error.limit) == (limit + 1, limit)
    assert decide(case.state, _deficient_acceptance(case, supplement_within=limit), case.now)


def test_a_refusal_to_accept_must_state_its_reason() -> None:
    """R-XK-32b: 不予受理决定书 says why."""
    case = drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS"))
    assert type(_refused(case, RejectApplication(actor=window_officer(), reason=" "))) is InvalidCommand


def test_silence_for_five_working_days_means_accepted_as_of_receipt() -> None:
    """R-XK-32: deemed acceptance back-dates the decision clock to the receipt instant, decided by no one."""
    case = drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS"), deficient=True)
    now = RECEIVED_AT + timedelta(days=7)
    (event,) = decide(case.state, DeemAccepted(actor=system()), now)
    assert isinstance(event, ApplicationAccepted)
    assert (event.basis, event.as_of, event.at) == ("deemed_by_silence", RECEIVED_AT, now)
    state = evolve(case.state, event)
    assert state.status is Status.UNDER_REVIEW
    assert state.clock is not None
    assert state.clock.started_at == case.state.received_at
    assert state.clock.budget == state.matter.limit
    assert state.acceptance_decided_by is None


_FOOD_SECONDARY = secondary_materials(shipped_matter("FOOD-BUSINESS"))


def _silent_until(matter_code: str, *, deficient: bool = False) -> tuple[Case, datetime]:
    """A received case whose plan says silence deems it accepted at the instant returned."""
    case = drive_to(Status.RECEIVED, shipped_matter(matter_code), deficient=deficient)
    acceptance_by = RECEIVED_AT + timedelta(days=7)
    plan = DeadlinePlan(calendar_version="cal-test", provisional=False, acceptance_by=acceptance_by)
    return then(case, RecordDeadlines(actor=system(), plan=plan)), acceptance_by


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(RequestCorrection(actor=window_officer(), missing=_FOOD_SECONDARY), id="correction"),
        pytest.param(RejectApplication(actor=window_officer(), reason="不符合受理条件"), id="rejection"),
        pytest.param(
            ReferElsewhere(actor=window_officer(), competent_organ="省市场监督管理局"), id="referral"
        ),
        pytest.param(
            AcceptWithDeficiencies(
                actor=window_officer(),
                missing=_FOOD_SECONDARY,
                supplement_within=5,
                commitment="容缺承诺-0001",
                credit=CreditStanding(eligible=True),
            ),
            id="deficiency-tolerant",
        ),
    ],
)
def test_after_five_silent_working_days_the_window_can_no_longer_refuse_or_hold_back_acceptance(
    command: ApplicationCommand,
) -> None:
    """R-XK-32: once the period has passed the law has accepted; a late notice or refusal is refused."""
    case, acceptance_by = _silent_until("FOOD-BUSINESS", deficient=True)
    assert decide(case.state, command, acceptance_by - timedelta(minutes=1))
    with pytest.raises(AcceptanceDeemed):
        decide(case.state, command, acceptance_by)


def test_a_late_acceptance_at_the_window_counts_from_receipt_as_the_law_does() -> None:
    """An officer's accept that reaches the case after the period is the deemed acceptance, back-dated."""
    case, acceptance_by = _silent_until("FOOD-BUSINESS")
    (on_time,) = decide(
        case.state, AcceptApplication(actor=window_officer()), acceptance_by - timedelta(hours=1)
    )
    (late,) = decide(
        case.state, AcceptApplication(actor=window_officer()), acceptance_by + timedelta(hours=1)
    )
    assert isinstance(on_time, ApplicationAccepted)
    assert isinstance(late, ApplicationAccepted)
    assert (on_time.basis, on_time.as_of) == ("decided", acceptance_by - timedelta(hours=1))
    assert (late.basis, late.as_of) == ("deemed_by_silence", RECEIVED_AT)


def test_a_decided_acceptance_starts_the_clock_when_it_is_made() -> None:
    """受理 at the window starts the promised limit's clock at the decision instant, recording who decided."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("REAL-ESTATE.mortgage"))
    accepted = case.events[-1]
    assert isinstance(accepted, ApplicationAccepted)
    assert case.state.clock is not None
    assert (case.state.clock.started_at, case.state.clock.budget) == (accepted.at, 5)
    assert case.state.acceptance_decided_by == WINDOW_OFFICER_ID


# --- the clock (R-XK-42, R-XK-45) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matter_code", "pause"),
    [
        ("FOOD-BUSINESS", "public_notice"),
        ("FOOD-BUSINESS", "site_visit"),
        ("CONSTRUCTION-PROJECT", "public_notice"),
    ],
)
def test_the_clock_stops_only_for_statutory_pauses_and_the_matters_own(matter_code: str, pause: str) -> None:
    """R-XK-45: a reason neither in the eight activities nor in the matter's entry does not stop the clock."""
    matter = shipped_matter(matter_code)
    case = drive_to(Status.UNDER_REVIEW, matter)
    reviewing = case.state.pending_steps[0].department
    command = SuspendClock(actor=approver(reviewing), pause=pause, expected_working_days=5)
    assert type(_refused(case, command)) is InvalidCommand


def test_a_pause_is_named_by_its_code_not_by_a_name_in_chinese() -> None:
    """A pause's code is a catalogue code: ``公示`` is refused as a message before any rule runs."""
    with pytest.raises(ValidationError, match="pause"):
        SuspendClock(actor=approver("health"), pause="公示", expected_working_days=5)


@pytest.mark.parametrize(
    ("matter_code", "pause"),
    [("FOOD-BUSINESS", code) for code in STATUTORY_PAUSES]
    + [("REAL-ESTATE.first_registration", "public_notice"), ("CONSTRUCTION-PROJECT", "planning_publicity")],
)
def test_the_clock_stops_for_each_statutory_pause_and_for_a_pause_the_matter_lists(
    matter_code: str, pause: str
) -> None:
    """R-XK-45 activities stop every matter's clock; a catalogue pause stops only its own matter's."""
    matter = shipped_matter(matter_code)
    case = drive_to(Status.UNDER_REVIEW, matter)
    case = then(
        case, SuspendClock(actor=approver(matter.departments[0]), pause=pause, expected_working_days=15)
    )
    assert case.state.status is Status.SUSPENDED
    assert case.state.clock is not None
    assert case.state.clock.suspended
    case = then(case, ResumeClock(actor=approver(matter.departments[0])))
    assert case.state.status is Status.UNDER_REVIEW
    assert case.state.clock is not None
    assert not case.state.clock.suspended


@pytest.mark.parametrize("kind", ["suspend_clock", "resume_clock"])
def test_only_an_approver_of_the_matter_stops_or_restarts_its_clock(kind: str) -> None:
    """An approver of a department not responsible for the matter is NotAuthorised."""
    case = drive_to(
        Status.UNDER_REVIEW if kind == "suspend_clock" else Status.SUSPENDED, shipped_matter("FOOD-BUSINESS")
    )
    command = valid_command(kind, case.state).model_copy(update={"actor": approver("health")})
    assert type(_refused(case, command)) is NotAuthorised


@pytest.mark.parametrize(
    ("matter_code", "by", "working_days", "error"),
    [
        pytest.param("FOOD-BUSINESS", "head", 11, DeadlineOutOfRange, id="head-over-10"),
        pytest.param("FOOD-BUSINESS", "leader", 10, NotAuthorised, id="leader-on-a-single-matter"),
        pytest.param("FOOD-BUSINESS", "other-head", 10, NotAuthorised, id="head-of-another-department"),
        pytest.param("ROAD-OCCUPATION", "leader", 16, DeadlineOutOfRange, id="leader-over-15-countersign"),
        pytest.param("CONSTRUCTION-PROJECT", "leader", 16, DeadlineOutOfRange, id="leader-over-15-staged"),
        pytest.param("ROAD-OCCUPATION", "head", 10, NotAuthorised, id="head-on-a-countersign-matter"),
        pytest.param("CONSTRUCTION-PROJECT", "head", 10, NotAuthorised, id="head-on-a-staged-matter"),
    ],
)
def test_an_extension_is_granted_only_by_the_right_authority_within_its_cap(
    matter_code: str, by: str, working_days: int, error: type[OneWindowError]
) -> None:
    """R-XK-42a: +10 by the department head; R-XK-42b: joint handling +15 by a government leader only."""
    matter = shipped_matter(matter_code)
    actor = {
        "head": department_head(matter.departments[0]),
        "other-head": department_head("health"),
        "leader": government_leader(),
    }[by]
    case = drive_to(Status.UNDER_REVIEW, matter)
    refusal = _refused(case, ExtendDeadline(actor=actor, working_days=working_days, reason="需要现场核查"))
    assert type(refusal) is error


@pytest.mark.parametrize(
    ("matter_code", "status", "cap"),
    [
        ("FOOD-BUSINESS", Status.UNDER_REVIEW, EXTENSION_BY_DEPARTMENT_HEAD),
        ("ROAD-OCCUPATION", Status.UNDER_REVIEW, EXTENSION_BY_GOVERNMENT_LEADER),
        ("CONSTRUCTION-PROJECT", Status.SUSPENDED, EXTENSION_BY_GOVERNMENT_LEADER),
    ],
)
def test_the_deadline_is_extended_once_only(matter_code: str, status: Status, cap: int) -> None:
    """R-XK-42: one extension up to the cap is granted and recorded; a second one is refused."""
    case = drive_to(status, shipped_matter(matter_code))
    command = valid_command("extend_deadline", case.state)
    case = then(case, command)
    assert case.state.clock is not None
    assert case.state.clock.extensions == (cap,)
    again = command.model_copy(update={"working_days": 1})
    assert type(_refused(case, again)) is InvalidCommand


def test_an_extension_must_give_the_reason_told_to_the_applicant() -> None:
    """R-XK-42a: the reason for the extension is told to the applicant, so it cannot be blank."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    command = ExtendDeadline(actor=department_head("market_regulation"), working_days=5)
    assert type(_refused(case, command)) is InvalidCommand


def test_an_extension_is_granted_within_the_period_not_after_it_has_run_out() -> None:
    """R-XK-42: the period is extended while it runs; after its end the case is overdue, not extended."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    due_at = RECEIVED_AT + timedelta(days=10)
    plan = DeadlinePlan(
        calendar_version="cal-test",
        provisional=False,
        decision=Deadline(
            last_day=(due_at - timedelta(days=1)).date(),
            due_at=due_at,
            provisional=False,
            calendar_version="cal-test",
        ),
    )
    case = then(case, RecordDeadlines(actor=system(), plan=plan))
    extend = ExtendDeadline(actor=department_head("market_regulation"), working_days=5, reason="现场核查")
    assert decide(case.state, extend, due_at - timedelta(seconds=1))
    with pytest.raises(InvalidCommand, match="within the period"):
        decide(case.state, extend, due_at)


# --- approval plans --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matter_code", "plan"),
    [
        ("FOOD-BUSINESS", ((("market_regulation", "market_regulation"),),)),
        (
            "ROAD-OCCUPATION",
            ((("urban_management", "urban_management"), ("public_security", "public_security")),),
        ),
        (
            ENTERPRISE,
            (
                (("business_licence", "market_regulation"),),
                (
                    ("seal_engraving", "public_security"),
                    ("tax_invoice", "tax"),
                    ("social_insurance_registration", "human_resources_social_security"),
                    ("housing_fund_registration", "housing_fund"),
                ),  # the bank account appointment is a service, tracked but not approved
            ),
        ),
    ],
)
def test_the_approval_plan_follows_the_matters_approval_mode(
    matter_code: str, plan: tuple[tuple[tuple[str, str], ...], ...]
) -> None:
    """Single: one step; countersign: one round; staged: a round per stage of administrative acts."""
    rounds = approval_rounds(shipped_matter(matter_code))
    assert tuple(tuple((s.code, s.department) for s in round_) for round_ in rounds) == plan


def _decide_step(case: Case, step: str, *, approved: bool = True) -> Case:
    department = next(s.department for r in approval_rounds(case.state.matter) for s in r if s.code == step)
    reason = "" if approved else "不符合法定条件"
    return then(case, RecordApproval(actor=approver(department), step=step, approved=approved, reason=reason))


@pytest.mark.parametrize(
    "decisions",
    [
        pytest.param((("urban_management", False),), id="urban-refuses-first"),
        pytest.param((("public_security", False),), id="police-refuses-first"),
        pytest.param((("urban_management", True), ("public_security", False)), id="police-refuses-after"),
    ],
)
def test_one_refusal_in_a_countersign_denies_the_application(decisions: tuple[tuple[str, bool], ...]) -> None:
    """会签: departments decide in parallel; a single refusal denies the whole application."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("ROAD-OCCUPATION"))
    for step, approved in decisions:
        case = _decide_step(case, step, approved=approved)
    last = case.events[-1]
    assert isinstance(last, ApplicationDenied)
    assert last.step == decisions[-1][0]
    assert case.state.status is Status.DENIED


def test_a_countersign_is_approved_once_every_department_approves() -> None:
    """会签: approval is decided by the last of the parallel approvals, and not before."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("ROAD-OCCUPATION"))
    case = _decide_step(case, "public_security")
    assert isinstance(case.events[-1], ApprovalRecorded)
    assert case.state.status is Status.UNDER_REVIEW
    case = _decide_step(case, "urban_management")
    assert isinstance(case.events[-1], ApplicationApproved)
    assert case.state.status is Status.APPROVED


def test_a_refusal_must_state_its_reason() -> None:
    """不予许可 is a written decision with reasons; a blank refusal is InvalidCommand."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    command = RecordApproval(actor=approver("market_regulation"), step="market_regulation", approved=False)
    assert type(_refused(case, command)) is InvalidCommand


def _sequential_matter() -> Matter:
    matter = shipped_matter("FOOD-BUSINESS")
    return Matter.model_validate(
        matter.model_dump()
        | {"code": "SEQUENTIAL-TEST", "approval": "sequential", "departments": ("health", "water")}
    )


def test_a_sequential_plan_is_decided_in_catalogue_order() -> None:
    """Sequential approval: the second department cannot decide before the first."""
    case = drive_to(Status.UNDER_REVIEW, _sequential_matter())
    early = RecordApproval(actor=approver("water"), step="water", approved=True)
    assert type(_refused(case, early)) is InvalidCommand
    case = _decide_step(case, "health")
    assert [s.code for s in case.state.pending_steps] == ["water"]
    assert case.state.status is Status.UNDER_REVIEW
    case = _decide_step(case, "water")
    assert case.state.status is Status.APPROVED


def test_a_staged_plan_opens_each_stage_when_the_previous_one_is_approved() -> None:
    """Staged matters: stages in order, parallel approvals inside each; later steps wait their turn."""
    matter = shipped_matter("CONSTRUCTION-PROJECT")
    case = drive_to(Status.UNDER_REVIEW, matter)
    for stage, next_stage in zip(matter.stages, (*matter.stages[1:], None), strict=True):
        assert [s.code for s in case.state.pending_steps] == [m.code for m in stage.matters]
        if next_stage is not None:
            too_early = next_stage.matters[0]
            command = RecordApproval(actor=approver(too_early.department), step=too_early.code, approved=True)
            assert type(_refused(case, command)) is InvalidCommand
        for step in stage.matters:
            assert case.state.status is Status.UNDER_REVIEW
            case = _decide_step(case, step.code)
    assert isinstance(case.events[-1], ApplicationApproved)
    assert case.state.status is Status.APPROVED
    assert case.state.pending_steps == ()


def test_a_budgeted_stage_starts_at_acceptance_and_then_when_the_stage_before_it_is_decided() -> None:
    """一家牵头、限时办结: the plan asks for the open stage's own limit, counted from when it opened."""
    matter = shipped_matter("CONSTRUCTION-PROJECT")
    case = drive_to(Status.UNDER_REVIEW, matter)
    assert case.state.clock is not None
    for index, stage in enumerate(matter.stages):
        limit = case.state.stage_limit
        assert limit is not None
        assert (limit.code, limit.name, limit.working_days) == (stage.code, stage.name, stage.working_days)
        opened_at = case.state.clock.started_at if index == 0 else case.events[-1].at
        assert limit.started_at == opened_at
        assert plan_request(case.state).stage == limit
        for step in stage.matters:
            case = _decide_step(case, step.code)
    assert case.state.status is Status.APPROVED
    assert case.state.stage_limit is None
    assert plan_request(case.state).stage is None


@pytest.mark.parametrize("matter_code", ["ENTERPRISE-ESTABLISH", "ROAD-OCCUPATION", "FOOD-BUSINESS"])
def test_matters_without_stage_budgets_run_one_clock_only(matter_code: str) -> None:
    """Single, countersign and unbudgeted staged matters have no stage limit to overrun."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter(matter_code))
    assert case.state.stage_limit is None


def test_a_step_is_decided_only_once() -> None:
    """A decided step is no longer pending, so a second decision on it is refused."""
    case = _decide_step(drive_to(Status.UNDER_REVIEW, shipped_matter("ROAD-OCCUPATION")), "public_security")
    again = RecordApproval(
        actor=approver("public_security"), step="public_security", approved=False, reason="再议"
    )
    assert type(_refused(case, again)) is InvalidCommand


# --- issuance and broken promises -------------------------------------------------------------------------


def test_issuance_waits_for_promised_materials_when_the_matter_defers_it() -> None:
    """容缺, defer-issuance mode: review proceeds but the licence waits until the promise is kept."""
    case = drive_to(Status.APPROVED, shipped_matter("FOOD-BUSINESS"), deficient=True)
    issue = IssueLicence(actor=system(), licence_number="JY-0001")
    assert type(_refused(case, issue)) is InvalidCommand
    case = then(case, SupplementMaterials(actor=applicant_actor(), materials=case.state.outstanding))
    assert case.state.outstanding == ()
    case = then(case, issue)
    assert (case.state.status, case.state.licence_number) == (Status.ISSUED, "JY-0001")


def test_an_issue_then_supplement_licence_is_revoked_when_the_promise_is_broken() -> None:
    """证照分离: the licence is issued first; the unkept promise revokes it, naming what never came."""
    case = drive_to(Status.ISSUED, shipped_matter(ENTERPRISE), deficient=True)
    outstanding = case.state.outstanding
    assert outstanding
    case = then(case, RevokeLicence(actor=system()))
    assert case.state.status is Status.REVOKED
    revoked = case.events[-1]
    assert isinstance(revoked, LicenceRevoked)
    assert revoked.missing == outstanding


@pytest.mark.parametrize(
    ("status", "matter_code", "command"),
    [
        pytest.param(Status.UNDER_REVIEW, "FOOD-BUSINESS", AbandonApplication(actor=system()), id="abandon"),
        pytest.param(Status.ISSUED, ENTERPRISE, RevokeLicence(actor=system()), id="revoke-nothing-promised"),
        pytest.param(
            Status.ISSUED, "FOOD-BUSINESS", RevokeLicence(actor=system()), id="revoke-deferring-matter"
        ),
        pytest.param(
            Status.UNDER_REVIEW,
            "FOOD-BUSINESS",
            SupplementMaterials(actor=applicant_actor(), materials=("application_form",)),
            id="supplement-nothing-promised",
        ),
    ],
)
def test_a_promise_that_was_never_made_cannot_be_broken_or_kept(
    status: Status, matter_code: str, command: ApplicationCommand
) -> None:
    """Abandonment, revocation and later supplements exist only for outstanding 容缺 materials."""
    case = drive_to(status, shipped_matter(matter_code))
    assert type(_refused(case, command)) is InvalidCommand


# --- payloads ---------------------------------------------------------------------------------------------


def _raw_submission() -> dict[str, Any]:
    return submit(shipped_matter("FOOD-BUSINESS")).model_dump(mode="json")


_OFFICER: dict[str, Any] = {"id": "window-1", "role": "window_officer"}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_raw_submission() | {"received_at": "2026-03-02T09:00:00"}, id="naive-datetime"),
        pytest.param(_raw_submission() | {"priority": "high"}, id="extra-field-on-submit"),
        pytest.param(
            {"kind": "request_correction", "actor": _OFFICER, "missing": []}, id="empty-missing-list"
        ),
        pytest.param(
            {"kind": "accept_application", "actor": _OFFICER, "notice_number": "X-1"},
            id="extra-field-on-accept",
        ),
        pytest.param(
            {
                "kind": "accept_with_deficiencies",
                "actor": _OFFICER,
                "missing": ["premises_proof"],
                "supplement_within": 0,
                "commitment": "C-1",
            },
            id="zero-supplement-days",
        ),
        pytest.param(
            {
                "kind": "record_approval",
                "actor": {"id": "a-1", "role": "approver"},
                "step": "s",
                "approved": True,
            },
            id="approver-without-department",
        ),
        pytest.param(
            {"kind": "extend_deadline", "actor": _OFFICER, "working_days": -1}, id="negative-extension"
        ),
        pytest.param({"kind": "grant_everything", "actor": _OFFICER}, id="unknown-kind"),
    ],
)
def test_a_malformed_payload_is_refused_before_it_reaches_the_rules(raw: dict[str, Any]) -> None:
    """Commands are strict pydantic models: aware datetimes, non-empty lists, no unknown fields."""
    with pytest.raises(ValidationError):
        COMMANDS.validate_python(raw)


def test_a_well_formed_payload_round_trips_to_the_same_command() -> None:
    """The counterpart of the malformed payloads: a JSON submission validates back to an equal command."""
    command = submit(shipped_matter("REAL-ESTATE.mortgage"), green_channel=True, assigned_steward=steward())
    assert COMMANDS.validate_json(command.model_dump_json()) == command


# --- the fold ---------------------------------------------------------------------------------------------

_FOLD_MATTERS = (
    ENTERPRISE,
    "FOOD-BUSINESS",
    "ROAD-OCCUPATION",
    "CONSTRUCTION-PROJECT",
    "REAL-ESTATE.mortgage",
)


def _reachable(matter_code: str, status: Status, deficient: bool) -> bool:
    """Whether ``drive_to`` reaches ``status``: with 容缺 outstanding only issue-then-supplement issues."""
    if status in (Status.ABANDONED, Status.REVOKED):
        deficient = True
    if deficient and status in (Status.ISSUED, Status.REVOKED):
        return matter_code == ENTERPRISE
    # 不动产登记暂行条例 第17条: real estate has no correction period (refused on the spot instead).
    return not (status is Status.CORRECTION_REQUESTED and matter_code.startswith("REAL-ESTATE"))


@pytest.mark.parametrize(
    ("matter_code", "status", "deficient"),
    [c for c in product(_FOLD_MATTERS, Status, (False, True)) if _reachable(*c)],
    ids=str,
)
def test_replaying_the_log_gives_the_incrementally_evolved_state(
    matter_code: str, status: Status, deficient: bool
) -> None:
    """The state is the fold of its stored events: replayed from their JSON, they give the state reached."""
    case = drive_to(status, shipped_matter(matter_code), deficient=deficient)
    assert case.state.status is status
    assert _replayed_from_storage(case.events) == case.state
    assert case.state.version == len(case.events)


def test_a_log_must_start_with_a_submission() -> None:
    """Replay refuses a log whose first event does not open a case."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    with pytest.raises(ValueError, match="starts with ApplicationSubmitted"):
        replay(case.events[1:])


_NOTICES = (CorrectionRequested, ApplicationAccepted, AcceptedWithDeficiencies, ApplicationNotAccepted)


def _notice_numbers(events: tuple[ApplicationEvent, ...]) -> list[str]:
    return [e.notice_number for e in events if isinstance(e, _NOTICES)]


def test_every_written_notice_of_a_case_has_its_own_number() -> None:
    """R-XK-32b: two correction notices and an acceptance on one case carry three distinct numbers."""
    matter = shipped_matter(ENTERPRISE)
    case = drive_to(Status.CORRECTION_REQUESTED, matter, deficient=True)
    redo = case.state.correction_items[:1]  # it came back, and must be redone
    case = then(case, SupplementMaterials(actor=applicant_actor(), materials=redo))
    case = then(case, RequestCorrection(actor=window_officer(), missing=redo))
    case = then(case, _deficient_acceptance(case))
    numbers = _notice_numbers(case.events)
    assert len(numbers) == 3
    assert len(set(numbers)) == 3
    assert all(n.startswith(case.state.application_id) for n in numbers)


_WALK_MATTERS = (*_FOLD_MATTERS, "OUTDOOR-ADVERTISING", "REAL-ESTATE.seizure", "EIA-APPROVAL.report_form")
# Terminal commands weigh once and the others three times, so that walks get past acceptance.
_WALK_KINDS = KINDS + 2 * tuple(
    k for k in KINDS if k not in {"reject_application", "refer_elsewhere", "withdraw_application"}
)
# Someone other than the usual sender: mostly refused, occasionally a window officer turning approver.
_STRANGERS: tuple[Callable[[Matter], Actor], ...] = (
    lambda _: window_officer(),
    lambda _: window_officer("window-2"),
    lambda m: approver(m.departments[-1]),
    lambda m: approver(m.departments[0], actor_id=WINDOW_OFFICER_ID),
    lambda _: applicant_actor("110101199001011234"),
    lambda _: system(),
)


def _walk_start(matter: Matter, start: Status | tuple[bool, ...], deficient: bool) -> Case:
    """A random walk starts from a submission of some materials, or from a case driven to a status."""
    if isinstance(start, Status):
        try:
            return drive_to(start, matter, deficient=deficient)
        except OneWindowError:
            reject()  # e.g. 容缺 on a matter that does not allow it: not a reachable start
    kept = tuple(m.code for m, keep in zip(matter.materials, start, strict=False) if keep)
    return opened(submit(matter, materials=kept))


@settings(max_examples=300, deadline=None)
@given(
    matter_code=st.sampled_from(_WALK_MATTERS),
    start=st.sampled_from(Status) | st.tuples(*[st.booleans()] * 12),
    deficient=st.booleans(),
    steps=st.lists(
        st.tuples(st.sampled_from(_WALK_KINDS), st.sampled_from((None, None, None, *range(len(_STRANGERS))))),
        max_size=30,
    ),
)
def test_evolve_accepts_whatever_decide_produces_and_replay_agrees(
    matter_code: str,
    start: Status | tuple[bool, ...],
    deficient: bool,
    steps: list[tuple[str, int | None]],
) -> None:
    """Random command walks: accepted events always evolve, notice numbers stay unique, replay agrees."""
    matter = shipped_matter(matter_code)
    case = _walk_start(matter, start, deficient)
    for kind, stranger in steps:
        command = valid_command(kind, case.state)
        if stranger is not None:
            command = command.model_copy(update={"actor": _STRANGERS[stranger](matter)})
        try:
            case = then(case, command)
        except OneWindowError:
            continue
    assert _replayed_from_storage(case.events) == case.state
    assert case.state.version == len(case.events)
    numbers = _notice_numbers(case.events)
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize(
    ("level", "escalated"),
    [(WarningLevel.NOTICE, False), (WarningLevel.YELLOW, False), (WarningLevel.RED, True)],
)
def test_only_a_red_warning_is_escalated(level: WarningLevel, escalated: bool) -> None:
    """督办 is for overdue cases; notice and yellow are recorded for supervision but sent nowhere."""
    warning = WarningRaised(
        at=RECEIVED_AT,
        actor=system(),
        level=level,
        subject=WarningSubject.DECISION,
        deadline_at=RECEIVED_AT,
    )
    assert (Effect.ESCALATE in effects_of(warning)) is escalated


def test_a_revoked_licence_is_told_to_the_applicant_supervision_licensing_and_credit() -> None:
    """Issue-then-supplement broken: notice, result pushed, licence revoked, credit record, in that order."""
    revoked = LicenceRevoked(at=RECEIVED_AT, actor=system(), missing=("premises_proof",))
    assert effects_of(revoked) == (
        Effect.NOTIFY_APPLICANT,
        Effect.PUSH_TO_SUPERVISION,
        Effect.REVOKE_LICENCE,
        Effect.WRITE_CREDIT_RECORD,
    )


@pytest.mark.parametrize(
    ("left_out", "offered"),
    [
        pytest.param((), {"accept_application"}, id="complete"),
        pytest.param(_FOOD_SECONDARY, {"accept_with_deficiencies", "supplement_materials"}, id="secondary"),
        pytest.param(("premises_and_layout",), {"supplement_materials"}, id="core"),
    ],
)
def test_the_window_is_offered_only_the_acceptance_the_materials_allow(
    left_out: tuple[str, ...], offered: set[str]
) -> None:
    """pending_actions: accept when complete, 容缺 when only secondary items are missing, else neither."""
    matter = shipped_matter("FOOD-BUSINESS")
    case = opened(submit(matter, materials=tuple(m.code for m in matter.materials if m.code not in left_out)))
    kinds = {action.command for action in pending_actions(case.state)}
    acceptance = {"accept_application", "accept_with_deficiencies", "supplement_materials"}
    assert kinds & acceptance == offered


# --- issue 7: the defects a review found, and what a hostile caller tried ---------------------------------


@pytest.mark.parametrize("spelling", ["W-1", "window-1 ", "ｗｉｎｄｏｗ－１", "WINDOW-1"])
def test_the_window_officer_spelled_another_way_is_still_refused_as_approver(spelling: str) -> None:
    """受审分离 compares people as people are: case, width and surrounding space do not make another one."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    step = case.state.pending_steps[0]
    if spelling == "W-1":
        spelling = WINDOW_OFFICER_ID.upper()
    disguised = approver(step.department, actor_id=spelling)
    assert isinstance(
        _refused(case, RecordApproval(actor=disguised, step=step.code, approved=True)), SeparationOfDuties
    )


def test_the_complete_supplement_after_a_correction_notice_starts_a_new_acceptance_period() -> None:
    """R-XK-32: the notice stops the five days; the complete materials start five new ones, then deemed."""
    matter = shipped_matter("FOOD-BUSINESS")
    case = drive_to(Status.CORRECTION_REQUESTED, matter)
    supplied_at = case.now
    case = then(case, SupplementMaterials(actor=applicant_actor(), materials=case.state.correction_items))
    assert case.state.status is Status.RECEIVED
    assert case.state.acceptance_from == supplied_at
    plan = deadlines(case.state, case.now)
    # Supplied Monday 2026-03-02: five working days end on Monday 03-09.
    assert plan.acceptance_by == datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI)
    (deemed,) = decide(case.state, DeemAccepted(actor=system()), plan.acceptance_by)
    assert isinstance(deemed, ApplicationAccepted)
    assert (deemed.basis, deemed.as_of) == ("deemed_by_silence", supplied_at)


def test_a_partial_supplement_keeps_the_correction_notice_open() -> None:
    """Until every listed item is in, the case waits for the applicant: no acceptance period runs."""
    case = drive_to(Status.CORRECTION_REQUESTED, shipped_matter("FOOD-BUSINESS"))
    first, *rest = case.state.correction_items
    assert rest
    case = then(case, SupplementMaterials(actor=applicant_actor(), materials=(first,)))
    assert case.state.status is Status.CORRECTION_REQUESTED
    assert deadlines(case.state, case.now).acceptance_by is None


def test_a_command_that_changes_nothing_is_refused_rather_than_recorded() -> None:
    """History stays bounded: the same notice twice, or materials already in hand, record nothing."""
    case = drive_to(Status.CORRECTION_REQUESTED, shipped_matter("FOOD-BUSINESS"))
    same_notice = RequestCorrection(actor=window_officer(), missing=case.state.correction_items)
    assert type(_refused(case, same_notice)) is InvalidCommand
    narrower = RequestCorrection(actor=window_officer(), missing=case.state.correction_items[:1])
    assert type(_refused(case, narrower)) is InvalidCommand  # still awaited: the open notice says so
    in_hand = next(m.code for m in case.state.matter.materials if m.code in case.state.provided)
    assert (
        type(_refused(case, SupplementMaterials(actor=applicant_actor(), materials=(in_hand,))))
        is InvalidCommand
    )
    accepted = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"), deficient=True)
    promised = accepted.state.outstanding
    kept = then(accepted, SupplementMaterials(actor=applicant_actor(), materials=promised))
    again = SupplementMaterials(actor=applicant_actor(), materials=promised)
    assert type(_refused(kept, again)) is InvalidCommand


def test_only_a_department_whose_step_is_under_review_stops_the_clock_and_only_it_resumes() -> None:
    """Stage 1 of a construction project: the archives approver may not pause it, nor fire resume it."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("CONSTRUCTION-PROJECT"))
    reviewing = {step.department for step in case.state.pending_steps}
    assert "archives" not in reviewing
    pause = SuspendClock(actor=approver("archives"), pause="expert_review", expected_working_days=5)
    assert type(_refused(case, pause)) is NotAuthorised
    by = sorted(reviewing)[0]
    case = then(case, pause.model_copy(update={"actor": approver(by)}))
    other = next(d for d in case.state.matter.departments if d != by)
    assert type(_refused(case, ResumeClock(actor=approver(other)))) is NotAuthorised
    assert then(case, ResumeClock(actor=approver(by))).state.status is Status.UNDER_REVIEW


def test_a_refused_extension_names_the_real_reason() -> None:
    """A government leader on a single department's matter is told who grants it, not 'department None'."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    refusal = _refused(case, ExtendDeadline(actor=government_leader(), working_days=5, reason="现场核查"))
    assert "R-XK-42a" in str(refusal)
    assert "department_head" in str(refusal)
    assert "None" not in str(refusal)


def test_an_extension_cap_set_by_the_matters_own_law_replaces_r_xk_42s() -> None:
    """A matter whose law caps the extension at 5 refuses 6 from its department head (R-XK-42: 'unless')."""
    matter = shipped_matter("FOOD-BUSINESS").model_copy(update={"extension_limit": 5})
    case = drive_to(Status.UNDER_REVIEW, matter)
    head = department_head("market_regulation")
    refusal = _refused(case, ExtendDeadline(actor=head, working_days=6, reason="现场核查"))
    assert isinstance(refusal, DeadlineOutOfRange)
    assert refusal.limit == 5
    assert then(case, ExtendDeadline(actor=head, working_days=5, reason="现场核查")).state.clock is not None


@pytest.mark.parametrize(
    ("received_at", "why"),
    [
        (RECEIVED_AT + timedelta(minutes=10), "future"),
        (datetime(2150, 1, 1, tzinfo=SHANGHAI), "future"),
        (datetime(2003, 6, 1, 9, tzinfo=SHANGHAI), "before the working-day calendar"),
    ],
)
def test_a_receipt_no_period_can_run_from_is_refused(received_at: datetime, why: str) -> None:
    """A receipt in the future (beyond a few minutes of clock skew) or before 2004 cannot start a period."""
    command = submit(shipped_matter("FOOD-BUSINESS"), received_at=received_at)
    with pytest.raises(ReceiptOutOfRange, match=why):
        decide(None, command, RECEIVED_AT)
    assert decide(None, submit(shipped_matter("FOOD-BUSINESS")), RECEIVED_AT + timedelta(minutes=1))


def test_a_pause_whose_expected_end_lies_past_the_calendar_data_is_refused() -> None:
    """1000 working days reach a year nobody has published: the clock is not taken off for ever."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    step = case.state.pending_steps[0]
    pause = SuspendClock(actor=approver(step.department), pause="expert_review", expected_working_days=1000)
    assert isinstance(_refused(case, pause), DeadlineOutOfRange)


def test_a_warning_raised_at_the_instant_a_deemed_case_expires_counts_every_day_used() -> None:
    """Deemed accepted on receipt at the very end of its 5 days: red at once, saying 5 of 5, not 4."""
    matter = shipped_matter("PUBLIC-PLACE-HYGIENE")
    case = drive_to(Status.RECEIVED, matter)
    expires = deadlines(case.state, case.now).acceptance_by
    assert expires is not None
    state = case.state
    for event in decide(state, DeemAccepted(actor=system()), expires):
        state = evolve(state, event)
    plan = deadlines(state, expires)
    assert plan.decision_due_at == expires
    for event in decide(state, RecordDeadlines(actor=system(), plan=plan), expires):
        state = evolve(state, event)
    timer = next_timer(state)
    assert timer is not None
    (warning,) = decide(state, timer.command, expires + timedelta(milliseconds=30))
    assert isinstance(warning, WarningRaised)
    assert warning.level is WarningLevel.RED
    assert warning.reason.startswith("5 of 5 counted working days used; overdue")


def test_a_decided_case_keeps_the_working_days_it_counted_and_an_overdue_one_how_late_it_is() -> None:
    """The reading stops at the decision; past the last day it says how many working days late."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("PUBLIC-PLACE-HYGIENE"))
    # Accepted Monday 03-02 for 5 days: due at the end of 03-09; on Thursday 03-12 three days late.
    late = clock_reading(case.state, datetime(2026, 3, 12, 15, tzinfo=SHANGHAI))
    assert late is not None
    assert (late.used, late.left, late.overdue) == (8, 0, 3)
    # Approved on Wednesday 03-04 (through decide, like any case): two working days were counted.
    step = case.state.pending_steps[0]
    approval = RecordApproval(actor=approver(step.department), step=step.code, approved=True)
    state = case.state
    for event in decide(state, approval, datetime(2026, 3, 4, 15, tzinfo=SHANGHAI)):
        state = evolve(state, event)
    assert state.status is Status.APPROVED
    decided = clock_reading(state, datetime(2026, 6, 1, tzinfo=SHANGHAI))
    assert decided is not None
    assert (decided.used, decided.left, decided.overdue) == (2, 3, 0)


def test_the_actions_offered_name_only_the_departments_and_authority_their_rules_admit() -> None:
    """A construction project in stage 1: its reviewing departments may pause; only a leader may extend."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("CONSTRUCTION-PROJECT"))
    offered = {action.command: action for action in pending_actions(case.state)}
    reviewing = tuple(dict.fromkeys(step.department for step in case.state.pending_steps))
    assert offered["suspend_clock"].departments == reviewing
    assert offered["extend_deadline"].roles == (Role.GOVERNMENT_LEADER,)
    single = drive_to(Status.SUSPENDED, shipped_matter("FOOD-BUSINESS"))
    offered = {action.command: action for action in pending_actions(single.state)}
    assert offered["resume_clock"].departments == ("market_regulation",)
    assert offered["extend_deadline"].roles == (Role.DEPARTMENT_HEAD,)


def test_an_applicant_does_not_put_their_own_case_into_the_green_channel() -> None:
    """绿色通道 brings priority and a steward: the 营商局 or the intake designates it, never the applicant."""
    matter = shipped_matter("FOOD-BUSINESS")
    for command in (
        submit(matter, actor=applicant_actor(), green_channel=True),
        submit(matter, actor=applicant_actor(), green_channel=True, assigned_steward=steward()),
    ):
        with pytest.raises(NotAuthorised, match="绿色通道"):
            decide(None, command, RECEIVED_AT)


def test_the_same_steward_spelled_another_way_is_no_change_of_steward() -> None:
    """``STEWARD-1`` is ``steward-1``: re-designating them would only record a no-op event."""
    case = then(
        drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS")),
        ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=steward(), reason="重点项目"),
    )
    again = ChangeGreenChannel(
        actor=supervisor(), green_channel=True, steward=steward("STEWARD-1"), reason="x"
    )
    assert type(_refused(case, again)) is InvalidCommand


def test_a_matter_whose_law_allows_no_extension_refuses_every_one() -> None:
    """``extension_limit = 0``: the matter's own law allows none, so even one working day is refused."""
    matter = shipped_matter("FOOD-BUSINESS").model_copy(update={"extension_limit": 0})
    case = drive_to(Status.UNDER_REVIEW, matter)
    extension = ExtendDeadline(actor=department_head("market_regulation"), working_days=1, reason="现场核查")
    assert isinstance(_refused(case, extension), DeadlineOutOfRange)


@pytest.mark.parametrize(
    "reason",
    ["", "   ", "\u200b", "\u2060\u200b", "\u3000", "\u3164\u3164", "\u2800", "\u115f\u1160", "\u0301"],
)
def test_a_reason_the_law_requires_must_say_something_visible(reason: str) -> None:
    """A refusal, a rejection, an extension or a green-channel decision needs a reason one can see."""
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS"))
    step = case.state.pending_steps[0]
    for command in (
        RecordApproval(actor=approver(step.department), step=step.code, approved=False, reason=reason),
        ExtendDeadline(actor=department_head("market_regulation"), working_days=5, reason=reason),
        ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=steward(), reason=reason),
    ):
        assert type(_refused(case, command)) is InvalidCommand, command.kind
    received = drive_to(Status.RECEIVED, shipped_matter("FOOD-BUSINESS"))
    assert (
        type(_refused(received, RejectApplication(actor=window_officer(), reason=reason))) is InvalidCommand
    )


def test_a_pause_that_pushes_the_decision_past_the_calendar_data_is_refused() -> None:
    """Accepted 2027-12-24 for 5 days (due 12-31): even one day's pause moves the deadline into 2028."""
    matter = shipped_matter("PUBLIC-PLACE-HYGIENE")
    accepted_at = datetime(2027, 12, 24, 9, tzinfo=SHANGHAI)
    case = opened(submit(matter, received_at=accepted_at))
    state = case.state
    for event in decide(state, AcceptApplication(actor=window_officer()), accepted_at):
        state = evolve(state, event)
    pause = SuspendClock(actor=approver("health"), pause="expert_review", expected_working_days=1)
    with pytest.raises(DeadlineOutOfRange):
        decide(state, pause, accepted_at)


def test_a_receipt_in_a_year_without_calendar_data_is_registered_and_waits_for_the_data() -> None:
    """1 January of a year nobody has published: the intake is not refused; its deadlines wait (R-CAL-4)."""
    received = datetime(2028, 1, 3, 9, tzinfo=SHANGHAI)
    command = submit(shipped_matter("FOOD-BUSINESS"), received_at=received)
    (event,) = decide(None, command, received)
    assert isinstance(event, ApplicationSubmitted)
    assert deadlines(start(event), received).calendar_missing == 2028


# --- how often a case may repeat a command ------------------------------------------------------------


def _green_channel_toggled(case: Case) -> Case:
    entering = not case.state.green_channel
    return then(
        case,
        ChangeGreenChannel(
            actor=supervisor(),
            green_channel=entering,
            steward=steward() if entering else None,
            reason="市重点项目" if entering else "不再列入重点项目",
        ),
    )


def _paused_and_resumed(case: Case) -> Case:
    pause = SuspendClock(actor=approver("market_regulation"), pause="expert_review", expected_working_days=1)
    case = then(case, pause)
    return then(case, ResumeClock(actor=approver("market_regulation")))


def _correction_noticed_and_redone(case: Case) -> Case:
    item = case.state.matter.materials[-1].code
    case = then(case, RequestCorrection(actor=window_officer(), missing=(item,)))
    return then(case, SupplementMaterials(actor=applicant_actor(), materials=(item,)))


@pytest.mark.parametrize(
    ("kind", "repeat", "status"),
    [
        ("green_channel_changed", _green_channel_toggled, Status.UNDER_REVIEW),
        ("clock_suspended", _paused_and_resumed, Status.UNDER_REVIEW),
        ("correction_requested", _correction_noticed_and_redone, Status.RECEIVED),
    ],
)
def test_a_command_a_case_may_repeat_is_refused_past_its_limit_so_the_case_never_freezes(
    kind: str, repeat: Callable[[Case], Case], status: Status
) -> None:
    """Temporal refuses every update past 2000 on one execution: the engine stops far before, typed."""
    case = drive_to(status, shipped_matter("FOOD-BUSINESS"))
    for _ in range(REPEAT_LIMITS[kind]):
        case = repeat(case)
    assert case.state.repeats[kind] == REPEAT_LIMITS[kind]
    assert _replayed_from_storage(case.events).repeats == case.state.repeats
    with pytest.raises(RepeatLimitReached, match=f"{REPEAT_LIMITS[kind]} times"):
        repeat(case)


def test_supplements_are_refused_past_their_limit_even_one_material_at_a_time() -> None:
    """Ten correction notices of all eleven materials, each redone one by one: the 101st is refused."""
    case = opened(submit(shipped_matter("CONSTRUCTION-PROJECT")))
    everything = tuple(m.code for m in case.state.matter.materials)
    supplemented = 0
    while supplemented < REPEAT_LIMITS["materials_supplemented"]:
        case = then(case, RequestCorrection(actor=window_officer(), missing=everything))
        for code in everything[: REPEAT_LIMITS["materials_supplemented"] - supplemented]:
            case = then(case, SupplementMaterials(actor=applicant_actor(), materials=(code,)))
            supplemented += 1
    with pytest.raises(RepeatLimitReached):
        then(case, SupplementMaterials(actor=applicant_actor(), materials=(case.state.missing[0],)))
    assert supplemented == REPEAT_LIMITS["materials_supplemented"]
    assert case.state.repeats["correction_requested"] == 10
