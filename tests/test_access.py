"""Who reads which case (DESIGN.md section 1, workflows.domain.access): the rule as a matrix of roles."""

from __future__ import annotations

import json

import pytest
import temporalio.converter

from tests.builders import (
    APPLICANT_ID,
    WINDOW_OFFICER_ID,
    Case,
    applicant_actor,
    approver,
    department_head,
    drive_to,
    government_leader,
    opened,
    shipped_matter,
    steward,
    submit,
    supervisor,
    then,
    window_officer,
)
from workflows.domain.access import MAX_WINDOW_READERS, admit, case_readers, may_read
from workflows.domain.application import Status
from workflows.domain.catalogue import MAX_DEPARTMENTS
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ChangeGreenChannel,
    CreditStanding,
    DeemAccepted,
    RequestCorrection,
    SupplementMaterials,
)
from workflows.domain.errors import InvalidCommand, NotAuthorised, UnknownApplication
from workflows.domain.events import Actor, Role
from workflows.domain.values import MAX_CODE


def _green(case: Case) -> Case:
    """The case in the green channel with steward-1 (项目管家)."""
    return then(
        case, ChangeGreenChannel(actor=supervisor(), green_channel=True, steward=steward(), reason="重点")
    )


# A food-business case (market_regulation alone) accepted by window-1, in the green channel with steward-1.
UNDER_REVIEW = _green(drive_to(Status.UNDER_REVIEW, shipped_matter("FOOD-BUSINESS")))
# The same matter just received, by the intake portal: at the window.
RECEIVED = opened(submit(shipped_matter("FOOD-BUSINESS"), actor=Actor(id="intake-portal", role=Role.SYSTEM)))

MATRIX = [
    # (reader, case, may read)
    (supervisor(), UNDER_REVIEW, True),
    (Actor(id="operator-1", role=Role.HOTLINE_OPERATOR), UNDER_REVIEW, True),
    (applicant_actor(), UNDER_REVIEW, True),
    (applicant_actor(APPLICANT_ID.lower()), UNDER_REVIEW, True),
    (applicant_actor("110101199001011234"), UNDER_REVIEW, False),
    (steward(), UNDER_REVIEW, True),
    (steward("steward-2"), UNDER_REVIEW, False),
    (steward(), RECEIVED, False),
    (approver("market_regulation"), UNDER_REVIEW, True),
    (approver("health"), UNDER_REVIEW, False),
    (department_head("market_regulation"), UNDER_REVIEW, True),
    (department_head("health"), UNDER_REVIEW, False),
    (government_leader(), UNDER_REVIEW, True),
    (window_officer(WINDOW_OFFICER_ID), UNDER_REVIEW, True),
    (window_officer("window-2"), UNDER_REVIEW, False),
    (window_officer("window-2"), RECEIVED, True),
    (Actor(id="intake-portal", role=Role.SYSTEM), RECEIVED, True),
    (Actor(id="other-portal", role=Role.SYSTEM), RECEIVED, False),
    (Actor(id="intake-portal", role=Role.SYSTEM), UNDER_REVIEW, False),
]


@pytest.mark.parametrize(
    ("reader", "case", "allowed"),
    MATRIX,
    ids=[f"{r.role.value}:{r.id}:{c.state.status.value}:{'reads' if a else 'not'}" for r, c, a in MATRIX],
)
def test_each_role_reads_exactly_the_cases_it_covers(reader: Actor, case: Case, allowed: bool) -> None:
    """Supervisors and hotline all; applicants and stewards their own; approvers their department's; ..."""
    assert may_read(case.state, reader) is allowed


def test_the_readers_of_a_case_carry_no_identity_number() -> None:
    """OwReaders is a search attribute: the applicant is in it by pseudonym only."""
    readers = " ".join(case_readers(UNDER_REVIEW.state))
    assert APPLICANT_ID not in readers
    assert APPLICANT_ID.lower() not in readers


def test_a_person_s_command_is_admitted_only_from_someone_the_case_knows_and_never_as_the_engine() -> None:
    """A stranger learns nothing (UnknownApplication); the submitting system gives no engine command; a
    credit standing is the engine's to find."""
    with pytest.raises(UnknownApplication):
        admit(RECEIVED.state, AcceptApplication(actor=approver("health")))
    with pytest.raises(NotAuthorised):
        admit(RECEIVED.state, DeemAccepted(actor=Actor(id="intake-portal", role=Role.SYSTEM)))
    claimed = AcceptWithDeficiencies(
        actor=window_officer(),
        missing=("agent_authorisation",),
        supplement_within=1,
        commitment="容缺承诺-0001",
        credit=CreditStanding(eligible=True),
    )
    with pytest.raises(InvalidCommand, match="credit"):
        admit(RECEIVED.state, claimed)
    admit(RECEIVED.state, AcceptApplication(actor=window_officer()))  # someone the case knows: to its rules


def test_the_most_readers_a_case_can_have_fit_one_search_attribute_value() -> None:
    """The worst case the bounds allow: submitted by a system, a steward, the most departments of the
    longest codes, more window officers than keep a key, and an acceptor among the later ones."""
    case = opened(submit(shipped_matter("FOOD-BUSINESS"), actor=Actor(id="intake-portal", role=Role.SYSTEM)))
    departments = tuple(f"{'d' * (MAX_CODE - 2)}{n:02d}" for n in range(MAX_DEPARTMENTS))
    officers = tuple(f"officer-{n}" for n in range(MAX_WINDOW_READERS * 2))
    crowded = case.state.model_copy(
        update={
            "matter": case.state.matter.model_copy(update={"departments": departments}),
            "steward": steward(),
            "window_officers": officers,
            "acceptance_decided_by": officers[-1],
        }
    )
    readers = case_readers(crowded)
    assert len(readers) == 1 + 1 + MAX_DEPARTMENTS + 1 + 1 + MAX_WINDOW_READERS + 1
    (stored,) = temporalio.converter.default().payload_converter.to_payloads([list(readers)])
    assert len(stored.data) <= 2048 - 200  # with room to spare


def test_the_readers_of_a_case_stay_short_however_many_officers_act_and_however_their_ids_are_spelled() -> (
    None
):
    """OwReaders is one search-attribute value (Temporal: 2 KB): people are in it by a 16-digit digest, and
    only the first window officers, and the one who accepted, keep a key of their own."""
    matter = shipped_matter("CONSTRUCTION-PROJECT")
    everything = tuple(material.code for material in matter.materials)
    case = opened(submit(matter, materials=(), actor=Actor(id="intake-portal", role=Role.SYSTEM)))
    officers = iter(window_officer(f"审{'窗' * 50}{n:02d}") for n in range(100))
    for round_ in range(4):  # each hands in one material; then a correction notice asks for all again
        if round_:
            case = then(case, RequestCorrection(actor=next(officers), missing=everything))
        for code in everything:
            case = then(case, SupplementMaterials(actor=next(officers), materials=(code,)))
    acceptor = next(officers)
    case = then(case, AcceptApplication(actor=acceptor))
    assert len(case.state.window_officers) > MAX_WINDOW_READERS + 1
    readers = case_readers(case.state)
    assert len(json.dumps(readers)) < 2048  # as Temporal stores the value (non-ASCII escaped)
    assert all(len(key) <= 40 for key in readers)
    acted = [window_officer(key) for key in case.state.window_officers]
    assert acted[-1].key == acceptor.key
    # The case has left the window: the first officers and its acceptor read it, a later officer does not.
    assert [may_read(case.state, officer) for officer in acted[MAX_WINDOW_READERS - 1 :]] == [
        True,
        *[False] * (len(acted) - MAX_WINDOW_READERS - 1),
        True,
    ]
    assert may_read(case.state, acted[0])
