"""告知承诺制 end to end on the time-skipping server: every outcome of the post-approval verification.

A 食品经营许可 on the applicant's written commitment: accepted without the premises proofs, approved the
same day, issued, then verified by the department within 60 working days (warned, and escalated when
late); found untrue, rectified within the deadline, or revoked with a credit record that bars the
applicant from the next commitment.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from activities.outbox import Outbox
from tests.builders import APPLICANT_ID, COMMITMENT, approver
from tests.case_helpers import Handle, act, case_events, final_view, refusal, registration_failure
from tests.conftest import RunWorker
from tests.test_workflow_acceptance import (
    MONDAY,
    OFFICER,
    Desk,
    approve_every_step,
    desk_at,
    intake_of,
    until,
)
from workflows.domain.application import Status, Verification
from workflows.domain.calendar import SHANGHAI, end_of_day
from workflows.domain.clock import WarningLevel, WarningSubject
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    RecordRectification,
    VerifyCommitment,
)
from workflows.domain.events import (
    CommitmentFoundUntrue,
    CommitmentVerified,
    LicenceRevoked,
    Role,
    WarningRaised,
)
from workflows.messages import ApplicationView

FOOD = "FOOD-BUSINESS"
INSPECTOR = approver("market_regulation", "inspector-1")  # the department's verifier (核查)


def _sent(outbox: Outbox, system: str, application_id: str) -> list[dict[str, Any]]:
    return [payload for _, payload in outbox.records(system, application_id)]


async def _credit_record(outbox: Outbox) -> dict[str, Any]:
    """The one credit record of the applicant, once written (effects follow the case's step)."""
    for _ in range(200):
        records = outbox.records("credit", APPLICANT_ID)
        if records:
            ((_, record),) = records
            return record
        await asyncio.sleep(0.025)
    raise AssertionError("no credit record was written")


async def _issued_on_commitment(desk: Desk) -> tuple[Handle, ApplicationView]:
    """Submitted on a commitment, accepted, approved on the spot and issued, on Monday 2 March 2026."""
    handle = await desk.start(intake_of(FOOD, MONDAY, commitment=COMMITMENT))
    view = await until(handle, lambda v: v.calendar_version is not None, "registered")
    assert view.commitment == COMMITMENT
    assert view.missing == ()  # the commitment stands in for premises_and_layout
    accepted = await act(handle, AcceptApplication(actor=OFFICER))
    assert accepted.due_at == end_of_day(date(2026, 3, 2))  # approval on the spot: the acceptance day
    await approve_every_step(handle)
    view = await until(handle, lambda v: v.status is Status.ISSUED, "issued")
    assert view.verification is Verification.OWED
    assert not view.closed
    return handle, view


async def test_a_commitment_verified_true_closes_the_case_with_the_licence(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """Verification owed 60 working days after issuance (to 28 May); found true, the case closes."""
    async with desk_at(run_worker, MONDAY) as desk:
        handle, view = await _issued_on_commitment(desk)
        assert view.verification_by == end_of_day(date(2026, 5, 28))
        assert any(a.command == "verify_commitment" for a in view.pending_actions)
        await act(handle, VerifyCommitment(actor=INSPECTOR, kept=True, reason="现场核查：经营布局与承诺相符"))
        result = await final_view(handle)
        assert (result.status, result.verification, result.closed) == (
            Status.ISSUED,
            Verification.VERIFIED,
            True,
        )
        verified = [e for e in await case_events(handle) if isinstance(e, CommitmentVerified)]
        assert [e.actor.id for e in verified] == [INSPECTOR.id]
        pushed = [p.get("result") for p in _sent(outbox, "supervision", handle.id)]
        assert pushed == ["licence_issued", "commitment_verified"]
        assert outbox.records("credit", APPLICANT_ID) == []


async def test_a_verification_not_made_in_time_is_warned_then_escalated_and_may_still_be_made(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """Notice, yellow and red on the verification's own deadline; red is 督办 to supervision."""
    async with desk_at(run_worker, MONDAY) as desk:
        handle, view = await _issued_on_commitment(desk)
        assert view.verification_by is not None
        await desk.env.sleep(view.verification_by - await desk.now() + timedelta(minutes=1))
        view = await until(handle, lambda v: v.warning_level is WarningLevel.RED, "red")
        warnings = [e for e in await case_events(handle) if isinstance(e, WarningRaised)]
        assert [(w.subject, w.level) for w in warnings] == [
            (WarningSubject.VERIFICATION, WarningLevel.NOTICE),
            (WarningSubject.VERIFICATION, WarningLevel.YELLOW),
            (WarningSubject.VERIFICATION, WarningLevel.RED),
        ]
        assert "verification" in warnings[-1].reason
        escalated = [p for p in _sent(outbox, "supervision", handle.id) if p.get("action") == "escalate"]
        assert [p["subject"] for p in escalated] == ["verification"]
        assert not view.closed  # late is escalated, never decided by the engine
        await act(handle, VerifyCommitment(actor=INSPECTOR, kept=True, reason="逾期核查：与承诺相符"))
        assert (await final_view(handle)).verification is Verification.VERIFIED


async def test_a_commitment_found_untrue_and_rectified_in_time_keeps_its_licence(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    async with desk_at(run_worker, MONDAY) as desk:
        handle, _ = await _issued_on_commitment(desk)
        untrue = VerifyCommitment(
            actor=INSPECTOR, kept=False, reason="现场核查：布局与承诺不符", rectify_within=5
        )
        view = await act(handle, untrue)
        assert view.verification is Verification.RECTIFYING
        assert view.rectification_by == end_of_day(date(2026, 3, 9))  # 5 working days from Monday
        await act(handle, RecordRectification(actor=INSPECTOR, rectified=True, reason="复查：已整改到位"))
        result = await final_view(handle)
        assert (result.status, result.verification) == (Status.ISSUED, Verification.RECTIFIED)
        notices = [p["notice"] for p in _sent(outbox, "notification", handle.id)]
        assert notices[-2:] == ["commitment_found_untrue", "commitment_rectified"]
        assert outbox.records("credit", APPLICANT_ID) == []


async def test_an_untrue_commitment_not_rectified_in_time_revokes_the_licence_and_bars_the_next(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """The rectification deadline passes: the engine revokes, the applicant is told, the credit record
    (false_commitment) is written, and the applicant's next commitment is refused at registration."""
    async with desk_at(run_worker, MONDAY) as desk:
        handle, view = await _issued_on_commitment(desk)
        untrue = VerifyCommitment(actor=INSPECTOR, kept=False, reason="现场核查：承诺不实")
        view = await act(handle, untrue)
        found = [e for e in await case_events(handle) if isinstance(e, CommitmentFoundUntrue)]
        assert [e.rectify_within for e in found] == [20]  # the matter's own rectification period
        assert view.rectification_by == end_of_day(date(2026, 3, 30))
        await desk.env.sleep(view.rectification_by - await desk.now() + timedelta(minutes=1))
        # Polled, not awaited: awaiting a closed case's result skips the test server's clock to its run
        # timeout, ten years on, where the record would no longer bar anyone.
        await until(handle, lambda v: v.status is Status.REVOKED, "revoked")
        revoked = [e for e in await case_events(handle) if isinstance(e, LicenceRevoked)]
        assert [(e.actor.role, e.missing) for e in revoked] == [(Role.SYSTEM, ())]
        assert revoked[0].at.astimezone(SHANGHAI).date() == date(2026, 3, 31)
        assert [p["action"] for p in _sent(outbox, "licensing", handle.id)] == ["issue", "revoke"]
        credit = await _credit_record(outbox)
        assert (credit["application_id"], credit["kind"]) == (handle.id, "false_commitment")
        assert _sent(outbox, "notification", handle.id)[-1]["notice"] == "licence_revoked"

        second = await desk.env.client.start_workflow(
            "ApplicationWorkflow",
            intake_of(FOOD, await desk.now(), commitment=COMMITMENT),
            id=f"{handle.id}-2",
            task_queue=desk.task_queue,
        )
        refused = await registration_failure(second)
        assert refused.type == "CommitmentNotAllowed"
        assert handle.id in refused.message


async def test_the_department_finding_no_rectification_revokes_at_once(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    async with desk_at(run_worker, MONDAY) as desk:
        handle, _ = await _issued_on_commitment(desk)
        await act(handle, VerifyCommitment(actor=INSPECTOR, kept=False, reason="现场核查：承诺不实"))
        await act(handle, RecordRectification(actor=INSPECTOR, rectified=False, reason="复查：拒不整改"))
        result = await final_view(handle)
        assert result.status is Status.REVOKED
        revoked = [e for e in await case_events(handle) if isinstance(e, LicenceRevoked)]
        assert [e.actor.id for e in revoked] == [INSPECTOR.id]
        ((_, credit),) = outbox.records("credit", APPLICANT_ID)
        assert credit["kind"] == "false_commitment"


async def test_verification_refusals_reach_the_caller_typed_and_leave_no_trace(
    run_worker: RunWorker,
) -> None:
    """Another department, the window, no findings, a rectification before any finding, or a deadline
    past the matter's own: each refused typed."""
    async with desk_at(run_worker, MONDAY) as desk:
        handle, _ = await _issued_on_commitment(desk)
        refused = [
            await refusal(handle, VerifyCommitment(actor=approver("health"), kept=True, reason="核查")),
            await refusal(handle, VerifyCommitment(actor=OFFICER, kept=True, reason="核查")),
            await refusal(handle, VerifyCommitment(actor=INSPECTOR, kept=True)),
            await refusal(handle, RecordRectification(actor=INSPECTOR, rectified=True, reason="已整改")),
            await refusal(
                handle,
                VerifyCommitment(actor=INSPECTOR, kept=False, reason="不符", rectify_within=21),
            ),
        ]
        assert refused == [
            "UnknownApplication",  # another department's approver is not told the case exists
            "NotAuthorised",
            "InvalidCommand",
            "InvalidCommand",
            "DeadlineOutOfRange",
        ]


@pytest.mark.parametrize("matter_code", ["PUBLIC-PLACE-HYGIENE", "REAL-ESTATE.mortgage"])
async def test_a_commitment_on_a_matter_that_excludes_or_does_not_offer_it_fails_registration(
    run_worker: RunWorker, matter_code: str
) -> None:
    """Refused typed before the case claims its number (health is excluded; real estate offers none)."""
    async with desk_at(run_worker, MONDAY) as desk:
        handle = await desk.env.client.start_workflow(
            "ApplicationWorkflow",
            intake_of(matter_code, MONDAY, commitment=COMMITMENT),
            id=f"APP-COMMIT-{matter_code}",
            task_queue=desk.task_queue,
        )
        assert (await registration_failure(handle)).type == "CommitmentNotAllowed"


async def test_a_broken_supplement_promise_on_a_commitment_case_is_recorded_as_such(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """告知承诺 and 容缺 together: the promised material never comes, the case is abandoned, and the credit
    record says a 容缺 promise was broken (not a false commitment)."""
    async with desk_at(run_worker, MONDAY) as desk:
        intake = intake_of(FOOD, MONDAY, commitment=COMMITMENT, leave_out=("food_safety_rules",))
        handle = await desk.start(intake)
        promise = AcceptWithDeficiencies(
            actor=OFFICER, missing=("food_safety_rules",), supplement_within=1, commitment="容缺承诺-0003"
        )
        view = await act(handle, promise)
        assert view.supplement_by is not None
        await desk.env.sleep(view.supplement_by - await desk.now() + timedelta(minutes=1))
        await until(handle, lambda v: v.status is Status.ABANDONED, "abandoned")
        credit = await _credit_record(outbox)
        assert credit["kind"] == "deficiency_commitment_broken"
