"""提前介入 (early guidance before formal submission; DESIGN.md section 6): a consultation's rules, and its
findings carried into the acceptance of the application submitted on it."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from activities.outbox import Outbox
from tests.builders import (
    RECEIVED_AT,
    applicant,
    applicant_actor,
    approver,
    opened,
    shipped_matter,
    shipped_rules,
    steward,
    submit,
    system,
    then,
    window_officer,
)
from tests.case_helpers import act, refusal, registration_failure
from tests.conftest import RunWorker
from tests.test_workflow_acceptance import MONDAY, OFFICER, desk_at, intake_of, until
from workflows.domain.application import Status
from workflows.domain.application import decide as decide_application
from workflows.domain.calendar import end_of_day
from workflows.domain.commands import AcceptApplication, RecordApproval, RequestCorrection, SubmitApplication
from workflows.domain.consultation import (
    CheckMaterials,
    CloseConsultation,
    ConsultationState,
    ConsultationStatus,
    GiveOpinion,
    LapseConsultation,
    OpenConsultation,
    decide,
    evolve,
    findings_of,
    lapses_at,
    start,
)
from workflows.domain.errors import (
    InvalidCommand,
    NotAllowed,
    NotAuthorised,
    OneWindowError,
    SeparationOfDuties,
)
from workflows.domain.events import Actor, Channel, ConsultationFindings
from workflows.messages import ConsultationIntake
from workflows.testkit import kit_cases

FOOD = "FOOD-BUSINESS"
MARKET = "market_regulation"
STEWARD = steward("steward-consult-1")
BROUGHT = ("application_form", "entity_qualification", "premises_and_layout")


def _opening(matter_code: str = FOOD, *, green_channel: bool = True) -> OpenConsultation:
    return OpenConsultation(
        actor=STEWARD,
        consultation_id="CON-0001",
        applicant=applicant(),
        matter=shipped_matter(matter_code),
        catalogue_version="test",
        rules=shipped_rules(),
        materials=BROUGHT,
        channel=Channel.WINDOW,
        received_at=RECEIVED_AT,
        green_channel=green_channel,
        steward=STEWARD if green_channel else None,
    )


def _open() -> ConsultationState:
    (event,) = decide(None, _opening(), RECEIVED_AT)
    return start(event)  # type: ignore[arg-type]


def _then(state: ConsultationState, command: object) -> ConsultationState:
    for event in decide(state, command, RECEIVED_AT + timedelta(hours=1)):  # type: ignore[arg-type]
        state = evolve(state, event)
    return state


def _refused(state: ConsultationState | None, command: object) -> OneWindowError:
    with pytest.raises(OneWindowError) as refused:
        decide(state, command, RECEIVED_AT)  # type: ignore[arg-type]
    return refused.value


def test_a_consultation_is_the_green_channels_and_a_single_approvals() -> None:
    assert "green-channel" in str(_refused(None, _opening(green_channel=False)))
    assert "composite" in str(_refused(None, _opening("CONSTRUCTION-PROJECT")))
    by_the_applicant = _opening().model_copy(update={"actor": applicant_actor()})
    assert isinstance(_refused(None, by_the_applicant), NotAuthorised)


def test_the_window_checks_what_was_brought_and_each_department_gives_one_opinion() -> None:
    state = _then(_open(), CheckMaterials(actor=window_officer(), materials=("premises_and_layout",)))
    assert state.checked == ("premises_and_layout",)
    assert isinstance(
        _refused(state, CheckMaterials(actor=window_officer(), materials=("premises_and_layout",))),
        InvalidCommand,
    )
    assert isinstance(
        _refused(state, CheckMaterials(actor=window_officer(), materials=("food_safety_rules",))),
        InvalidCommand,
    )
    state = _then(state, GiveOpinion(actor=approver(MARKET), opinion="布局符合要求，建议补充冷库温控记录"))
    assert [(o.department, o.given_by) for o in state.opinions] == [(MARKET, approver(MARKET).id)]
    assert state.departments_awaited == ()
    again = GiveOpinion(actor=approver(MARKET, "approver-2"), opinion="再议")
    assert isinstance(_refused(state, again), InvalidCommand)
    outsider = GiveOpinion(actor=approver("health"), opinion="无意见")
    assert isinstance(_refused(state, outsider), NotAuthorised)
    findings = findings_of(state)
    assert (findings.checked, findings.matter_code) == (("premises_and_layout",), FOOD)


def test_only_its_steward_closes_it_and_then_nothing_more_is_taken() -> None:
    other = steward("steward-other")
    assert isinstance(_refused(_open(), CloseConsultation(actor=other)), NotAuthorised)
    closed = _then(_open(), CloseConsultation(actor=STEWARD, reason="已正式申报"))
    assert (closed.status, closed.closed) == (ConsultationStatus.CLOSED, True)
    late = GiveOpinion(actor=approver(MARKET), opinion="迟到的意见")
    assert isinstance(_refused(closed, late), NotAllowed)
    assert lapses_at(closed) is None


def test_it_lapses_after_sixty_working_days() -> None:
    """Opened Monday 2 March 2026: 60 working days end on Thursday 28 May (Qingming and May Day off)."""
    assert lapses_at(_open()) == end_of_day(date(2026, 5, 28))


def _findings(checked: tuple[str, ...] = ("premises_and_layout",)) -> ConsultationFindings:
    return ConsultationFindings(
        consultation_id="CON-0001", matter_code=FOOD, applicant=applicant(), checked=checked
    )


def _submitted_on(findings: ConsultationFindings) -> SubmitApplication:
    return submit(shipped_matter(FOOD)).model_copy(update={"consultation": findings})


def test_who_checked_materials_in_the_consultation_may_not_approve_the_application() -> None:
    """受审分离: the consultation's check stands for the window's, so its officer acted at the window."""
    checker = window_officer("li.na")
    state = _then(_open(), CheckMaterials(actor=checker, materials=("premises_and_layout",)))
    case = opened(_submitted_on(findings_of(state)))
    assert checker.key in case.state.window_officers
    case = then(case, AcceptApplication(actor=window_officer()))
    disguised = approver(MARKET, "li.na")
    with pytest.raises(SeparationOfDuties):
        decide_application(case.state, RecordApproval(actor=disguised, step=MARKET, approved=True), case.now)


def test_materials_the_consultation_checked_are_not_examined_again_at_acceptance() -> None:
    case = opened(_submitted_on(_findings()))
    assert case.state.consultation == _findings()
    refused = RequestCorrection(actor=window_officer(), missing=("premises_and_layout",))
    with pytest.raises(InvalidCommand, match="premises_and_layout"):
        decide_application(case.state, refused, case.now)
    corrected = then(case, RequestCorrection(actor=window_officer(), missing=("application_form",)))
    assert corrected.state.status is Status.CORRECTION_REQUESTED


@pytest.mark.parametrize(
    "findings",
    [
        _findings().model_copy(update={"matter_code": "PUBLIC-PLACE-HYGIENE"}),
        _findings().model_copy(update={"applicant": applicant("91210200MA0000777Q")}),
    ],
    ids=["another-matter", "another-applicant"],
)
def test_findings_carry_only_into_the_same_applicants_application_of_the_same_matter(
    findings: ConsultationFindings,
) -> None:
    command = _submitted_on(findings)
    with pytest.raises(InvalidCommand, match="another matter or applicant"):
        decide_application(None, command, command.received_at)


def test_the_engine_lapses_an_open_consultation_only() -> None:
    lapsed = _then(_open(), LapseConsultation(actor=system()))
    assert lapsed.status is ConsultationStatus.LAPSED
    assert isinstance(_refused(_open(), LapseConsultation(actor=STEWARD)), NotAuthorised)


# --- on the time-skipping server ------------------------------------------------------------------------


async def _told(outbox: Outbox, consultation_id: str) -> list[dict[str, Any]]:
    """The departments' notices once there is one (effects follow the registration's answer)."""
    for _ in range(200):
        told = [payload for _, payload in outbox.records("department", consultation_id)]
        if told:
            return told
        await asyncio.sleep(0.025)
    return []


def _consultation_intake(received_at: datetime, steward_actor: Actor) -> ConsultationIntake:
    return ConsultationIntake(
        actor=steward_actor,
        applicant=applicant(),
        matter_code=FOOD,
        materials=BROUGHT,
        channel=Channel.WINDOW,
        received_at=received_at,
        green_channel=True,
        steward=steward_actor,
    )


async def test_a_consultations_findings_carry_into_the_application_submitted_on_it(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """Opened, checked, an opinion given; the application names it: its view shows the opinion and the
    checked material, and a correction notice naming that material is refused."""
    helper = steward("steward-consult-2")
    async with desk_at(run_worker, MONDAY) as desk:
        consultations = kit_cases(desk.env.client, desk.task_queue).consultations()
        await consultations.submit("CON-2026-1", _consultation_intake(MONDAY, helper))
        view = await consultations.registered("CON-2026-1", reader=None)
        assert (view.status, view.departments_awaited) == (ConsultationStatus.OPEN, (MARKET,))
        asked = await _told(outbox, "CON-2026-1")
        assert [(a["notice"], a["departments"]) for a in asked] == [("consultation_opened", [MARKET])]
        await consultations.act(
            "CON-2026-1", CheckMaterials(actor=OFFICER, materials=("premises_and_layout",))
        )
        opinion = GiveOpinion(actor=approver(MARKET), opinion="经营布局符合要求")
        view = await consultations.act("CON-2026-1", opinion)
        assert view.departments_awaited == ()
        with pytest.raises(OneWindowError) as stranger:  # another department: as if there were none
            await consultations.act("CON-2026-1", GiveOpinion(actor=approver("health"), opinion="无意见"))
        assert stranger.value.type == "UnknownApplication"

        intake = intake_of(FOOD, await desk.now(), green_channel=True, steward=helper)
        handle = await desk.start(intake.model_copy(update={"consultation_id": "CON-2026-1"}))
        case = await until(handle, lambda v: v.consultation_id == "CON-2026-1", "registered")
        assert case.checked_in_consultation == ("premises_and_layout",)
        assert [o.opinion for o in case.opinions] == ["经营布局符合要求"]
        not_again = RequestCorrection(actor=OFFICER, missing=("premises_and_layout",))
        assert await refusal(handle, not_again) == "InvalidCommand"
        accepted = await act(handle, AcceptApplication(actor=OFFICER))
        assert accepted.status is Status.UNDER_REVIEW


async def test_a_consultation_lapses_and_an_intake_naming_none_fails_registration(
    run_worker: RunWorker,
) -> None:
    helper = steward("steward-consult-3")
    async with desk_at(run_worker, MONDAY) as desk:
        consultations = kit_cases(desk.env.client, desk.task_queue).consultations()
        await consultations.submit("CON-2026-2", _consultation_intake(MONDAY, helper))
        view = await consultations.registered("CON-2026-2", reader=None)
        assert view.lapses_at == end_of_day(date(2026, 5, 28))
        await desk.env.sleep(view.lapses_at - await desk.now() + timedelta(minutes=1))
        for _ in range(200):
            view = await consultations.state("CON-2026-2", reader=None)
            if view.closed:
                break
            await asyncio.sleep(0.025)
        assert view.status is ConsultationStatus.LAPSED
        intake = intake_of(FOOD, await desk.now()).model_copy(update={"consultation_id": "CON-NONE"})
        handle = await desk.env.client.start_workflow(
            "ApplicationWorkflow", intake, id="APP-CON-NONE", task_queue=desk.task_queue
        )
        assert (await registration_failure(handle)).type == "UnknownApplication"
