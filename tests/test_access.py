"""Who reads which case (DESIGN.md section 1, workflows.domain.access): the rule as a matrix of roles."""

from __future__ import annotations

import pytest

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
from workflows.domain.access import case_readers, may_read, reader_keys
from workflows.domain.application import Status
from workflows.domain.commands import ChangeGreenChannel
from workflows.domain.events import Actor, Role


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


def test_a_list_is_filtered_by_the_same_keys_a_single_read_is_checked_by() -> None:
    """The case's OwReaders keys and a reader's keys meet exactly when may_read says so."""
    for reader, case, allowed in MATRIX:
        keys = reader_keys(reader)
        meets = keys is None or bool(set(keys) & set(case_readers(case.state)))
        assert meets is allowed, reader


def test_the_readers_of_a_case_carry_no_identity_number() -> None:
    """OwReaders is a search attribute: the applicant is in it by pseudonym only."""
    readers = " ".join(case_readers(UNDER_REVIEW.state))
    assert APPLICANT_ID not in readers
    assert APPLICANT_ID.lower() not in readers
