"""告知承诺制 on a single application (国办发〔2020〕42号; DESIGN.md section 6), as pure rules.

The written commitment replaces the proofs the catalogue names; approval is on the spot; the department
verifies within its period after issuance (warned like any deadline); a commitment found untrue gives a
rectification deadline, after which the licence is revoked and the applicant's credit recorded.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.builders import (
    COMMITMENT,
    Case,
    approver,
    drive_to,
    found_untrue,
    opened,
    shipped_matter,
    submit,
    system,
    then,
    window_officer,
)
from workflows.domain.application import (
    Effect,
    Status,
    Verification,
    deadlines,
    decide,
    effects_of,
    next_timer,
    pending_actions,
    replay,
)
from workflows.domain.calendar import end_of_day
from workflows.domain.catalogue import DeficiencyMode
from workflows.domain.clock import WarningLevel, WarningSubject
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    CreditStanding,
    IssueLicence,
    RaiseWarning,
    RecordApproval,
    RecordDeadlines,
    RecordRectification,
    RequestCorrection,
    RevocationCause,
    RevokeLicence,
    VerifyCommitment,
)
from workflows.domain.errors import (
    CommitmentNotAllowed,
    DeadlineOutOfRange,
    InvalidCommand,
    NotAuthorised,
    SeparationOfDuties,
)
from workflows.domain.events import CommitmentFoundUntrue, CommitmentVerified, LicenceRevoked, Role

FOOD = "FOOD-BUSINESS"  # 告知承诺 allowed: the commitment replaces premises_and_layout


def _planned(case: Case) -> Case:
    """The case with its deadlines recorded, as the workflow records them after every change."""
    return then(case, RecordDeadlines(actor=system(), plan=deadlines(case.state, case.now)))


def _issued() -> Case:
    return _planned(drive_to(Status.ISSUED, shipped_matter(FOOD), committed=True))


def _kept(reason: str = "现场核查：与承诺相符") -> VerifyCommitment:
    return VerifyCommitment(actor=approver("market_regulation"), kept=True, reason=reason)


def test_the_commitment_replaces_the_named_proofs_and_approval_is_on_the_spot() -> None:
    """Without premises_and_layout the case is complete; the decision is due the day it is accepted."""
    case = opened(submit(shipped_matter(FOOD), committed=True))
    assert "premises_and_layout" not in case.state.provided
    assert case.state.commitment == COMMITMENT
    assert case.state.missing == ()
    accepted = _planned(then(case, AcceptApplication(actor=window_officer())))
    plan = accepted.state.plan
    assert plan is not None
    assert plan.decision is not None
    assert accepted.state.clock is not None
    assert accepted.state.clock.budget == 0
    assert plan.decision.last_day == date(2026, 3, 2)  # accepted on Monday 2 March: decided that day


def test_without_a_commitment_the_same_proofs_are_missing() -> None:
    """The commitment, not the matter, lets the proofs go: an ordinary case still needs them."""
    matter = shipped_matter(FOOD)
    materials = tuple(m.code for m in matter.materials if m.code != "premises_and_layout")
    case = opened(submit(matter, materials=materials))
    assert case.state.missing == ("premises_and_layout",)
    assert case.state.clock is None


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("PUBLIC-PLACE-HYGIENE", "health"),
        ("OUTDOOR-ADVERTISING", "public_safety"),
        ("DRAINAGE-PERMIT", "ecology"),
        ("REAL-ESTATE.mortgage", "does not offer"),
    ],
)
def test_a_commitment_is_refused_where_the_matter_is_excluded_or_does_not_offer_it(
    code: str, why: str
) -> None:
    """国办发〔2020〕42号: safety, health and ecology are excluded; else only where the catalogue says."""
    matter = shipped_matter(code)
    command = submit(matter).model_copy(
        update={"commitment": COMMITMENT, "credit": CreditStanding(eligible=True)}
    )
    with pytest.raises(CommitmentNotAllowed, match=why):
        decide(None, command, command.received_at)


def test_an_applicant_with_bad_credit_or_a_past_false_commitment_is_refused() -> None:
    """The credit check bars the applicant, and the refusal says why (the register's detail)."""
    detail = "false_commitment recorded on case APP-0042 within 6 months"
    command = submit(shipped_matter(FOOD), committed=True).model_copy(
        update={"credit": CreditStanding(eligible=False, detail=detail)}
    )
    with pytest.raises(CommitmentNotAllowed, match="APP-0042"):
        decide(None, command, command.received_at)


def test_a_commitment_without_the_engines_credit_check_or_beside_its_proofs_is_refused() -> None:
    """The engine runs the credit check (never the caller); a commitment does not accompany its proofs."""
    unchecked = submit(shipped_matter(FOOD), committed=True).model_copy(update={"credit": None})
    with pytest.raises(InvalidCommand, match="credit check"):
        decide(None, unchecked, unchecked.received_at)
    matter = shipped_matter(FOOD)
    both = submit(matter, committed=True).model_copy(
        update={"materials": tuple(m.code for m in matter.materials)}
    )
    with pytest.raises(InvalidCommand, match="premises_and_layout"):
        decide(None, both, both.received_at)


def test_after_issuance_the_verification_is_owed_within_60_working_days_with_warnings() -> None:
    """Issued on Monday 2 March 2026: 60 working days (Qingming 4/4–4/6 and 5/1–5/5 off, Saturday 9 May
    a make-up working day) end on Thursday 28 May; notice, yellow and red fall on its counted days."""
    case = _issued()
    state = case.state
    assert (state.status, state.verification, state.closed) == (Status.ISSUED, Verification.OWED, False)
    plan = state.plan
    assert plan is not None
    assert plan.verification_by == end_of_day(date(2026, 5, 28))
    marks = [m for m in plan.marks if m.subject is WarningSubject.VERIFICATION]
    assert [m.level for m in marks] == [WarningLevel.NOTICE, WarningLevel.YELLOW, WarningLevel.RED]
    timer = next_timer(state)
    assert timer is not None
    assert isinstance(timer.command, RaiseWarning)
    assert (timer.command.subject, timer.at) == (WarningSubject.VERIFICATION, marks[0].at)
    offered = {a.command: a for a in pending_actions(state)}
    assert offered["verify_commitment"].departments == ("market_regulation",)
    assert "record_rectification" not in offered


def test_an_overdue_verification_is_red_and_escalated() -> None:
    """督办: the verification's red warning goes to supervision like a late decision."""
    case = _issued()
    plan = case.state.plan
    assert plan is not None
    assert plan.verification_by is not None
    late = plan.verification_by + timedelta(minutes=1)
    command = RaiseWarning(actor=system(), level=WarningLevel.RED, subject=WarningSubject.VERIFICATION)
    (warning,) = decide(case.state, command, late)
    assert Effect.ESCALATE in effects_of(warning)
    assert "verification" in warning.reason


def test_a_commitment_verified_closes_the_case_and_tells_supervision() -> None:
    case = then(_issued(), _kept())
    assert isinstance(case.events[-1], CommitmentVerified)
    assert (case.state.verification, case.state.closed) == (Verification.VERIFIED, True)
    assert effects_of(case.events[-1]) == (Effect.NOTIFY_APPLICANT, Effect.PUSH_TO_SUPERVISION)
    assert replay(case.events) == case.state


def test_a_commitment_found_untrue_gives_a_rectification_deadline_then_revocation() -> None:
    """Found untrue on the day of issuance: the matter's 20 working days; when they pass, the engine
    revokes the licence, the applicant is told and a credit record is written."""
    case = _planned(then(_issued(), found_untrue(shipped_matter(FOOD))))
    found = case.events[-2]
    assert isinstance(found, CommitmentFoundUntrue)
    assert found.rectify_within == 20
    state = case.state
    assert (state.verification, state.closed) == (Verification.RECTIFYING, False)
    plan = state.plan
    assert plan is not None
    assert plan.rectification_by == end_of_day(date(2026, 3, 30))
    timer = next_timer(state)
    assert timer is not None
    assert isinstance(timer.command, RevokeLicence)
    assert timer.at == plan.rectification_by
    (revoked,) = decide(state, timer.command, timer.at)
    assert isinstance(revoked, LicenceRevoked)
    assert revoked.missing == ()
    assert set(effects_of(revoked)) >= {
        Effect.NOTIFY_APPLICANT,
        Effect.REVOKE_LICENCE,
        Effect.WRITE_CREDIT_RECORD,
    }


@pytest.mark.parametrize(("rectified", "status"), [(True, Status.ISSUED), (False, Status.REVOKED)])
def test_the_department_records_the_rectification_done_or_not(rectified: bool, status: Status) -> None:
    """Rectified: the licence stands and the case closes. Not: revoked at once."""
    case = then(_issued(), found_untrue(shipped_matter(FOOD)))
    reason = "复查：已按期整改" if rectified else "复查：逾期未整改，承诺不实"
    command = RecordRectification(actor=approver("market_regulation"), rectified=rectified, reason=reason)
    after = then(case, command)
    assert (after.state.status, after.state.closed) == (status, True)
    expected = Verification.RECTIFIED if rectified else Verification.RECTIFYING
    assert after.state.verification is expected


def test_the_rectification_deadline_is_at_most_the_matters_own() -> None:
    command = found_untrue(shipped_matter(FOOD)).model_copy(update={"rectify_within": 21})
    with pytest.raises(DeadlineOutOfRange):
        decide(_issued().state, command, _issued().now)


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (VerifyCommitment(actor=approver("health"), kept=True, reason="核查"), NotAuthorised),
        (
            VerifyCommitment(actor=window_officer(), kept=True, reason="核查"),
            NotAuthorised,
        ),
        (VerifyCommitment(actor=approver("market_regulation"), kept=True), InvalidCommand),
        (
            VerifyCommitment(actor=approver("market_regulation"), kept=True, reason="相符", rectify_within=5),
            InvalidCommand,
        ),
        (
            RecordRectification(actor=approver("market_regulation"), rectified=True, reason="已整改"),
            InvalidCommand,
        ),
    ],
    ids=["other-department", "window-officer", "no-findings", "kept-with-deadline", "nothing-to-rectify"],
)
def test_verification_refusals(command: VerifyCommitment | RecordRectification, error: type) -> None:
    """Only the deciding department verifies, with its findings; a rectification only once one is owed."""
    case = _issued()
    with pytest.raises(error):
        decide(case.state, command, case.now)


def test_a_case_without_a_commitment_owes_no_verification() -> None:
    """An ordinary issued case closes at issuance; verifying it is refused."""
    case = drive_to(Status.ISSUED, shipped_matter(FOOD))
    assert (case.state.verification, case.state.closed) == (None, True)
    assert case.state.commitment is None
    assert Role.APPROVER not in {r for a in pending_actions(case.state) for r in a.roles}


def test_a_correction_notice_may_not_ask_for_a_proof_the_commitment_replaces() -> None:
    """It would leave the case awaiting a material nobody asks for: refused, naming it."""
    case = opened(submit(shipped_matter(FOOD), committed=True))
    ask = RequestCorrection(actor=window_officer(), missing=("premises_and_layout",))
    with pytest.raises(InvalidCommand, match="replaced by the applicant's commitment: premises_and_layout"):
        decide(case.state, ask, case.now)


def test_who_accepted_the_case_does_not_verify_its_commitment() -> None:
    """受审分离 holds for the verification too: the acceptor, with an approver's token, is refused."""
    case = _issued()
    acceptor = approver("market_regulation", case.state.acceptance_decided_by or "")
    with pytest.raises(SeparationOfDuties):
        decide(case.state, _kept().model_copy(update={"actor": acceptor}), case.now)


def test_a_broken_supplement_promise_is_revoked_for_itself_not_as_an_untrue_commitment() -> None:
    """告知承诺 and 容缺 issue-then-supplement on one case: the supplement deadline comes first and revokes
    the licence naming the missing material; the rectification timer is its own."""
    matter = shipped_matter(FOOD).model_copy(update={"deficiency_mode": DeficiencyMode.ISSUE_THEN_SUPPLEMENT})
    materials = tuple(
        m.code for m in matter.materials if not m.replaced_by_commitment and m.code != "food_safety_rules"
    )
    case = opened(submit(matter, materials=materials, committed=True))
    promise = AcceptWithDeficiencies(
        actor=window_officer(),
        missing=("food_safety_rules",),
        supplement_within=1,
        commitment="容缺承诺-0002",
        credit=CreditStanding(eligible=True),
    )
    case = then(case, promise)
    case = then(
        case, RecordApproval(actor=approver("market_regulation"), step="market_regulation", approved=True)
    )
    case = then(case, IssueLicence(actor=system(), licence_number="LIC-0002"))
    case = _planned(then(case, found_untrue(matter)))
    timer = next_timer(case.state)
    assert timer is not None
    assert isinstance(timer.command, RevokeLicence)
    assert timer.command.cause is RevocationCause.DEFICIENCY
    (revoked,) = decide(case.state, timer.command, timer.at)
    assert isinstance(revoked, LicenceRevoked)
    assert revoked.missing == ("food_safety_rules",)
