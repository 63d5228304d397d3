"""Enterprise establishment's rules and the unified social credit code, without a server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.builders import (
    APPLICANT_KEY,
    all_materials,
    applicant,
    applicant_actor,
    shipped_catalogue,
    shipped_matter,
    shipped_rules,
    window_officer,
)
from workflows.domain.application import ENGINE, Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.clock import day_under_way
from workflows.domain.composite import PartReading, RecordBudgets, ReportParts
from workflows.domain.credit_code import candidate, check_character, is_valid, organisation_check
from workflows.domain.errors import InvalidCommand, MaterialsIncomplete, NotAllowed, NotAuthorised
from workflows.domain.establishment import (
    AcceptEstablishment,
    AssignCreditCode,
    EstablishmentCommand,
    EstablishmentState,
    EstablishmentStatus,
    EstablishmentSubmitted,
    ReleaseResults,
    SubmitEstablishment,
    TrackService,
    deadlines,
    decide,
    evolve,
    progress_of,
    replay,
    start,
)
from workflows.domain.events import Channel

FRIDAY = datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"])
def test_the_check_characters_reproduce_published_codes(code: str) -> None:
    """GB 32100-2015's example (91350100M000100Y43) and two codes of record: both check characters."""
    assert check_character(code[:17]) == code[17]
    assert organisation_check(code[8:16]) == code[16]
    assert is_valid(code)


@pytest.mark.parametrize(
    "code", ["91350100M000100Y44", "91350100M000100Y4", "9135010OM000100Y43", "913501I0M000100Y43"]
)
def test_a_wrong_check_a_wrong_length_or_a_letter_outside_the_alphabet_is_invalid(code: str) -> None:
    assert not is_valid(code)


def test_candidates_are_valid_distinct_and_stable() -> None:
    codes = [candidate("91210200", "EST-1", attempt) for attempt in range(50)]
    assert all(is_valid(code) and code.startswith("91210200") for code in codes)
    assert len(set(codes)) == 50
    assert candidate("91210200", "EST-1", 0) == codes[0]  # replay draws the same


def _then(
    state: EstablishmentState | None, command: EstablishmentCommand, at: datetime
) -> EstablishmentState:
    events = decide(state, command, at)
    for event in events:
        state = start(event) if isinstance(event, EstablishmentSubmitted) else evolve(state, event)  # type: ignore[arg-type]
    assert state is not None
    return state


def opened(materials: tuple[str, ...] | None = None) -> EstablishmentState:
    submit = SubmitEstablishment(
        actor=window_officer(),
        establishment_id="EST-0001",
        applicant=applicant(),
        matter=shipped_matter("ENTERPRISE-ESTABLISH"),
        catalogue_version=shipped_catalogue().version,
        rules=shipped_rules(),
        materials=all_materials("ENTERPRISE-ESTABLISH") if materials is None else materials,
        channel=Channel.WINDOW,
        received_at=FRIDAY - timedelta(minutes=30),
        applicant_key=APPLICANT_KEY,
    )
    return _then(None, submit, FRIDAY - timedelta(minutes=30))


def _issued(state: EstablishmentState, at: datetime) -> EstablishmentState:
    readings = tuple(
        PartReading(application_id=part.application_id, status=Status.ISSUED, closed=True, decided_at=at)
        for part in state.runs[-1].parts
    )
    return _then(state, ReportParts(actor=ENGINE, readings=readings), at)


def test_the_one_form_missing_a_core_material_is_not_accepted() -> None:
    state = opened(materials=("registration_application",))
    with pytest.raises(MaterialsIncomplete):
        decide(state, AcceptEstablishment(actor=window_officer()), FRIDAY)


def test_one_working_day_from_friday_02_13_ends_with_the_make_up_saturday() -> None:
    state = _then(opened(), AcceptEstablishment(actor=window_officer()), FRIDAY)
    plan = deadlines(state, FRIDAY)
    assert plan.due_at is not None
    assert day_under_way(plan.due_at).isoformat() == "2026-02-14"
    assert [part.code for part in state.runs[0].parts] == ["business_licence"]  # registration first


def test_registration_then_the_code_then_the_rest_in_parallel_then_one_release() -> None:
    state = _then(opened(), AcceptEstablishment(actor=window_officer()), FRIDAY)
    state = _issued(state, FRIDAY + timedelta(hours=2))
    assert state.status is EstablishmentStatus.REGISTERED
    with pytest.raises(InvalidCommand):  # a forged or foreign code
        decide(state, AssignCreditCode(actor=ENGINE, credit_code="91350100M000100Y43"), FRIDAY)
    code = candidate("91210200", state.process_id, 0)
    state = _then(state, AssignCreditCode(actor=ENGINE, credit_code=code), FRIDAY + timedelta(hours=2))
    assert state.credit_code == code
    assert [p.code for p in state.runs[1].parts] == [
        "seal_engraving",
        "tax_invoice",
        "social_insurance_registration",
        "housing_fund_registration",
    ]  # the bank appointment is a service, tracked, not an application
    with pytest.raises(NotAllowed):
        decide(state, ReleaseResults(actor=window_officer()), FRIDAY + timedelta(hours=3))
    state = _issued(state, FRIDAY + timedelta(hours=5))
    assert state.status is EstablishmentStatus.IN_PARALLEL
    with pytest.raises(NotAuthorised):
        decide(
            state,
            TrackService(actor=applicant_actor(), item="bank_account_appointment", reference="B"),
            FRIDAY,
        )
    with pytest.raises(InvalidCommand):
        decide(state, TrackService(actor=window_officer(), item="seal_engraving", reference="B"), FRIDAY)
    state = _then(
        state,
        TrackService(actor=window_officer(), item="bank_account_appointment", reference="工行-001"),
        FRIDAY,
    )
    assert state.status is EstablishmentStatus.READY
    state = _then(state, ReleaseResults(actor=window_officer()), FRIDAY + timedelta(hours=6))
    assert state.status is EstablishmentStatus.RELEASED
    progress = progress_of(state, FRIDAY + timedelta(days=3))
    assert progress.working_days_used == 0  # released on the day of acceptance
    assert [item.status for item in progress.items][-1] == "tracked"
    assert progress.credit_code == code


def test_the_engines_own_commands_are_not_a_persons() -> None:
    state = _then(opened(), AcceptEstablishment(actor=window_officer()), FRIDAY)
    with pytest.raises(NotAuthorised):
        decide(state, RecordBudgets(actor=window_officer(), plan=deadlines(state, FRIDAY)), FRIDAY)


def test_the_state_is_the_fold_of_the_events() -> None:
    state = opened()
    log = list(decide(None, _resubmission(state), FRIDAY - timedelta(minutes=30)))
    for command in (AcceptEstablishment(actor=window_officer()),):
        new = decide(state, command, FRIDAY)
        log += new
        for event in new:
            state = evolve(state, event)
    assert replay(log) == state


def _resubmission(state: EstablishmentState) -> SubmitEstablishment:
    """The submission that opened ``state`` again (the log's first event)."""
    return SubmitEstablishment(
        actor=window_officer(),
        establishment_id=state.process_id,
        applicant=state.applicant,
        matter=state.matter,
        catalogue_version=state.catalogue_version,
        rules=state.rules,
        materials=all_materials("ENTERPRISE-ESTABLISH"),
        channel=state.channel,
        received_at=state.received_at,
        applicant_key=APPLICANT_KEY,
    )
