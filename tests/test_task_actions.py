"""An office's everyday actions on a case, as pure rules: 转办, 或签, 退回, 加签, 催办 (DESIGN.md section 9).

Each is a command with its authorisation, recorded as an event with who, when and why, and visible in the
view the supervisors read.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.builders import (
    WINDOW_OFFICER_ID,
    Case,
    applicant_actor,
    approver,
    drive_to,
    shipped_matter,
    supervisor,
    system,
    then,
    window_officer,
)
from workflows.domain.access import may_read
from workflows.domain.application import (
    REPEAT_LIMITS,
    RETURN_PAUSE,
    Effect,
    Status,
    deadlines,
    decide,
    effects_of,
    pending_actions,
    replay,
)
from workflows.domain.catalogue import ApprovalMode, ClockPause, Matter
from workflows.domain.commands import (
    AddSigner,
    ApplicationCommand,
    OrSignStep,
    RecordApproval,
    RecordDeadlines,
    RemoveSigner,
    ReturnToWindow,
    SupplementMaterials,
    TransferStep,
    UrgeStep,
)
from workflows.domain.errors import (
    DeadlineOutOfRange,
    InvalidCommand,
    NotAuthorised,
    OneWindowError,
    RepeatLimitReached,
    SeparationOfDuties,
)
from workflows.domain.events import (
    Actor,
    CaseReturned,
    SignerAdded,
    SignerRemoved,
    StepAssigned,
    StepUrged,
)

FOOD = "FOOD-BUSINESS"  # one step, market_regulation's; limit 5 working days
MARKET = "market_regulation"
HOLDER = approver(MARKET, "approver-1")
COLLEAGUE = approver(MARKET, "approver-2")


def _reviewing(matter: Matter | None = None) -> Case:
    return drive_to(Status.UNDER_REVIEW, matter or shipped_matter(FOOD))


def _planned(case: Case) -> Case:
    return then(case, RecordDeadlines(actor=system(), plan=deadlines(case.state, case.now)))


def _refused(case: Case, command: ApplicationCommand) -> OneWindowError:
    with pytest.raises(OneWindowError) as refused:
        decide(case.state, command, case.now)
    return refused.value


def _approve(approver_actor: Actor, step: str = MARKET) -> RecordApproval:
    return RecordApproval(actor=approver_actor, step=step, approved=True)


# --- 转办 (transfer) ------------------------------------------------------------------------------------


def test_a_transferred_step_is_decided_by_the_approver_it_went_to_and_no_one_else() -> None:
    case = then(_reviewing(), TransferStep(actor=HOLDER, step=MARKET, to=COLLEAGUE, reason="承办人出差"))
    assigned = case.events[-1]
    assert isinstance(assigned, StepAssigned)
    assert (assigned.assignees, assigned.or_sign, assigned.actor.id) == ((COLLEAGUE,), False, HOLDER.id)
    assert effects_of(assigned) == (Effect.NOTIFY_DEPARTMENT,)
    refused = _refused(case, _approve(HOLDER))
    assert isinstance(refused, NotAuthorised)
    assert "approver-2" in str(refused)
    approved = then(case, _approve(COLLEAGUE))
    assert approved.state.status is Status.APPROVED
    assert replay(approved.events) == approved.state


def test_the_approver_given_a_step_may_transfer_it_on_but_the_one_who_gave_it_may_not() -> None:
    case = then(_reviewing(), TransferStep(actor=HOLDER, step=MARKET, to=COLLEAGUE))
    third = approver(MARKET, "approver-3")
    assert isinstance(_refused(case, TransferStep(actor=HOLDER, step=MARKET, to=third)), NotAuthorised)
    case = then(case, TransferStep(actor=COLLEAGUE, step=MARKET, to=third))
    assert then(case, _approve(third)).state.status is Status.APPROVED


@pytest.mark.parametrize(
    ("to", "error"),
    [
        (approver("health", "approver-9"), InvalidCommand),  # another department's approver
        (window_officer("window-9"), InvalidCommand),  # no approver at all
        (approver(MARKET, WINDOW_OFFICER_ID), SeparationOfDuties),  # who accepted the case
        (HOLDER, InvalidCommand),  # oneself
    ],
    ids=["other-department", "not-an-approver", "the-acceptor", "oneself"],
)
def test_a_transfer_to_someone_who_may_not_decide_the_step_is_refused(to: Actor, error: type) -> None:
    command = TransferStep(actor=HOLDER, step=MARKET, to=to)
    assert type(_refused(_reviewing(), command)) is error


def test_a_step_is_transferred_only_by_an_approver_of_its_department() -> None:
    outsider = approver("health", "approver-h")
    refused = _refused(_reviewing(), TransferStep(actor=outsider, step=MARKET, to=COLLEAGUE))
    assert isinstance(refused, NotAuthorised)
    assert isinstance(
        _refused(_reviewing(), TransferStep(actor=HOLDER, step="health", to=COLLEAGUE)), InvalidCommand
    )


# --- 或签 (or-sign) -------------------------------------------------------------------------------------


def test_an_or_signed_step_is_decided_by_any_one_of_its_approvers() -> None:
    deciders = (COLLEAGUE, approver(MARKET, "approver-3"))
    case = then(_reviewing(), OrSignStep(actor=HOLDER, step=MARKET, deciders=deciders, reason="或签"))
    assert isinstance(case.events[-1], StepAssigned)
    assert case.events[-1].or_sign
    assert isinstance(_refused(case, _approve(approver(MARKET, "approver-4"))), NotAuthorised)
    assert then(case, _approve(deciders[1])).state.status is Status.APPROVED


def test_or_sign_names_each_approver_once() -> None:
    command = OrSignStep(actor=HOLDER, step=MARKET, deciders=(COLLEAGUE, COLLEAGUE))
    assert isinstance(_refused(_reviewing(), command), InvalidCommand)


def test_under_a_catalogue_or_sign_any_one_department_decides_for_all() -> None:
    """或签 between departments (catalogue ``approval = "or_sign"``): no joint handling, one decision."""
    matter = shipped_matter(FOOD).model_copy(
        update={"approval": ApprovalMode.OR_SIGN, "departments": (MARKET, "health")}
    )
    assert not matter.joint_handling
    case = _reviewing(matter)
    assert {s.department for s in case.state.pending_steps} == {MARKET, "health"}
    decided = then(case, _approve(approver("health"), step="health"))
    assert decided.state.status is Status.APPROVED
    assert decided.state.pending_steps == ()


# --- 退回 (return to the window) --------------------------------------------------------------------------


def _returned(case: Case, within: int = 3) -> Case:
    back = ReturnToWindow(
        actor=HOLDER, materials=("application_form",), supplement_within=within, reason="申请书未签字"
    )
    return _planned(then(case, back))


def _last_return(case: Case) -> CaseReturned:
    return next(e for e in reversed(case.events) if isinstance(e, CaseReturned))


def test_a_returned_case_waits_at_the_window_while_its_clock_runs_on() -> None:
    """R-XK-45 does not stop the clock for a return: the decision stays due when it was."""
    before = _planned(_reviewing())
    due = before.state.plan.decision_due_at if before.state.plan else None
    case = _returned(before)
    returned = _last_return(case)
    assert not returned.clock_stopped
    assert effects_of(returned) == (Effect.NOTIFY_APPLICANT,)
    state = case.state
    assert (state.status, state.returned, state.missing) == (
        Status.RETURNED,
        ("application_form",),
        ("application_form",),
    )
    assert state.plan is not None
    assert state.plan.decision_due_at == due
    assert may_read(state, window_officer("window-77"))  # back at the window: any officer there
    assert "at the window" in str(_refused(case, _approve(HOLDER)))  # the approval waits
    back = then(case, SupplementMaterials(actor=applicant_actor(), materials=("application_form",)))
    assert (back.state.status, back.state.returned) == (Status.UNDER_REVIEW, ())
    assert then(back, _approve(HOLDER)).state.status is Status.APPROVED


def test_where_the_catalogue_says_so_the_time_at_the_window_does_not_count() -> None:
    """A matter listing the return pause (with its legal basis) stops the clock until the materials come."""
    pause = ClockPause(code=RETURN_PAUSE, name="退回补正", legal_basis="某条例 第X条（示例）")
    matter = shipped_matter(FOOD).model_copy(update={"clock_pauses": (pause,)})
    case = _returned(_planned(_reviewing(matter)))
    assert _last_return(case).clock_stopped
    assert case.state.clock is not None
    assert case.state.clock.open_suspension is not None
    back = then(case, SupplementMaterials(actor=applicant_actor(), materials=("application_form",)))
    assert back.state.clock is not None
    assert back.state.clock.open_suspension is None
    assert back.state.status is Status.UNDER_REVIEW


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (ReturnToWindow(actor=HOLDER, materials=("application_form",), supplement_within=3), InvalidCommand),
        (
            ReturnToWindow(actor=HOLDER, materials=("nonsense",), supplement_within=3, reason="x"),
            InvalidCommand,
        ),
        (
            ReturnToWindow(
                actor=approver("health"), materials=("application_form",), supplement_within=3, reason="x"
            ),
            NotAuthorised,
        ),
        (
            ReturnToWindow(actor=HOLDER, materials=("application_form",), supplement_within=6, reason="x"),
            DeadlineOutOfRange,
        ),
    ],
    ids=["no-reason", "unknown-material", "not-reviewing", "beyond-the-limit"],
)
def test_return_refusals(command: ReturnToWindow, error: type) -> None:
    assert type(_refused(_reviewing(), command)) is error


def test_a_case_is_returned_at_most_ten_times() -> None:
    case = _reviewing()
    for _ in range(REPEAT_LIMITS["case_returned"]):
        case = _returned(case)
        case = then(case, SupplementMaterials(actor=applicant_actor(), materials=("application_form",)))
    back = ReturnToWindow(
        actor=HOLDER, materials=("application_form",), supplement_within=3, reason="再次退回"
    )
    assert isinstance(_refused(case, back), RepeatLimitReached)


# --- 加签 (add signer) -------------------------------------------------------------------------------------


def test_a_signer_added_before_decides_first_and_then_the_step_it_went_before() -> None:
    case = then(_reviewing(), AddSigner(actor=HOLDER, department="fire", reason="涉及消防安全"))
    added = case.events[-1]
    assert isinstance(added, SignerAdded)
    assert (added.position, added.after, added.department) == (0, False, "fire")
    assert [s.department for s in case.state.pending_steps] == ["fire"]
    assert case.state.departments == (MARKET, "fire")
    assert may_read(case.state, approver("fire"))  # the added department now reads the case
    assert isinstance(_refused(case, _approve(HOLDER)), InvalidCommand)  # its step waits
    case = then(case, _approve(approver("fire"), step=added.step))
    assert [s.code for s in case.state.pending_steps] == [MARKET]
    assert then(case, _approve(HOLDER)).state.status is Status.APPROVED


def test_a_signer_added_after_decides_once_the_step_under_review_is_decided() -> None:
    case = then(_reviewing(), AddSigner(actor=HOLDER, department="fire", after=True, reason="会签消防"))
    added = case.events[-1]
    assert isinstance(added, SignerAdded)
    assert [s.code for s in case.state.pending_steps] == [MARKET]
    case = then(case, _approve(HOLDER))
    assert case.state.status is Status.UNDER_REVIEW
    assert [s.department for s in case.state.pending_steps] == ["fire"]
    assert [[s.department for s in r] for r in case.state.rounds] == [[MARKET], ["fire"]]
    assert then(case, _approve(approver("fire"), step=added.step)).state.status is Status.APPROVED


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (AddSigner(actor=approver("health"), department="fire", reason="x"), NotAuthorised),
        (AddSigner(actor=HOLDER, department=MARKET, reason="x"), InvalidCommand),
        (AddSigner(actor=HOLDER, department="fire"), InvalidCommand),
    ],
    ids=["not-the-lead", "already-reviewing", "no-reason"],
)
def test_add_signer_refusals(command: AddSigner, error: type) -> None:
    assert type(_refused(_reviewing(), command)) is error


def test_no_signer_is_added_on_a_staged_matter() -> None:
    case = drive_to(Status.UNDER_REVIEW, shipped_matter("ENTERPRISE-ESTABLISH"))
    lead = case.state.matter.departments[0]
    refused = _refused(case, AddSigner(actor=approver(lead), department="fire", reason="x"))
    assert isinstance(refused, InvalidCommand)
    assert "add_signer" not in {a.command for a in pending_actions(case.state)}


# --- 催办 (urge) -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [supervisor(), window_officer("window-5")], ids=["supervisor", "window"])
def test_an_urge_is_counted_and_told_to_the_department_and_supervision(who: Actor) -> None:
    case = then(_reviewing(), UrgeStep(actor=who, step=MARKET))
    case = then(case, UrgeStep(actor=supervisor(), step=MARKET, reason="企业反映进度慢"))
    urged = case.events[-1]
    assert isinstance(urged, StepUrged)
    assert urged.department == MARKET
    assert case.state.urges == {MARKET: 2}
    assert effects_of(urged) == (Effect.PUSH_TO_SUPERVISION, Effect.NOTIFY_DEPARTMENT)


def test_urges_are_refused_from_an_approver_for_a_step_not_pending_and_past_the_limit() -> None:
    assert isinstance(_refused(_reviewing(), UrgeStep(actor=HOLDER, step=MARKET)), NotAuthorised)
    assert isinstance(_refused(_reviewing(), UrgeStep(actor=supervisor(), step="health")), InvalidCommand)
    case = _reviewing()
    for _ in range(REPEAT_LIMITS["step_urged"]):
        case = then(case, UrgeStep(actor=supervisor(), step=MARKET))
    assert isinstance(_refused(case, UrgeStep(actor=supervisor(), step=MARKET)), RepeatLimitReached)


def test_the_office_actions_are_offered_to_whom_they_are_for() -> None:
    offered = {a.command: a for a in pending_actions(_reviewing().state)}
    assert offered["transfer_step"].departments == (MARKET,)
    assert [s.code for s in offered["or_sign_step"].steps] == [MARKET]
    assert set(offered["urge_step"].roles) == {supervisor().role, window_officer().role}
    assert offered["add_signer"].departments == (MARKET,)
    assert offered["return_to_window"].departments == (MARKET,)


def test_a_returned_case_counts_its_warnings_as_any_running_decision() -> None:
    """The decision period runs at the window: the deadline is kept in the plan (2 March + 5 = 9 March)."""
    case = _returned(_planned(_reviewing()))
    plan = case.state.plan
    assert plan is not None
    assert plan.decision is not None
    assert plan.decision.last_day == date(2026, 3, 9)


def test_a_returned_case_may_still_be_refused_so_it_never_waits_for_ever() -> None:
    """退回 answered by nobody: the department may refuse (the case ends denied) instead of waiting."""
    case = _returned(_reviewing())
    refusal = RecordApproval(actor=HOLDER, step=MARKET, approved=False, reason="逾期未补回材料，不符合条件")
    assert then(case, refusal).state.status is Status.DENIED


def test_an_added_step_the_lead_takes_back_leaves_the_plan_as_it_was() -> None:
    """减签: a signer added by mistake (a mistyped department nobody could decide for) is taken back by the
    lead department, and the department no longer reads the case."""
    case = then(_reviewing(), AddSigner(actor=HOLDER, department="fier", reason="涉及消防安全"))
    typo = case.events[-1]
    assert isinstance(typo, SignerAdded)
    outsider = RemoveSigner(actor=approver("fier"), step=typo.step, reason="x")
    assert isinstance(_refused(case, outsider), (NotAuthorised, OneWindowError))
    assert isinstance(_refused(case, RemoveSigner(actor=HOLDER, step=MARKET, reason="x")), InvalidCommand)
    case = then(case, RemoveSigner(actor=HOLDER, step=typo.step, reason="加签部门有误"))
    assert isinstance(case.events[-1], SignerRemoved)
    assert effects_of(case.events[-1]) == (Effect.NOTIFY_DEPARTMENT,)
    assert [s.code for s in case.state.pending_steps] == [MARKET]
    assert case.state.departments == (MARKET,)
    assert not may_read(case.state, approver("fier"))
    assert then(case, _approve(HOLDER)).state.status is Status.APPROVED


def test_a_decided_added_step_is_not_taken_back() -> None:
    case = then(_reviewing(), AddSigner(actor=HOLDER, department="fire", reason="涉及消防安全"))
    step = case.events[-1].step  # type: ignore[union-attr]
    case = then(case, _approve(approver("fire"), step=step))
    assert isinstance(_refused(case, RemoveSigner(actor=HOLDER, step=step, reason="x")), InvalidCommand)
