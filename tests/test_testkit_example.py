"""How an intake team tests its integration: only the public kit, ``workflows.testkit``, is used here."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.client import Cases
from workflows.domain.application import Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.messages import Intake
from workflows.testkit import onewindow_test_environment

OUR_PORTAL = Actor(id="dalian-portal", role=Role.SYSTEM)


async def _submit_incomplete_food_licence(cases: Cases, received_at: datetime) -> None:
    """What our portal does: submit the form as the applicant filled it in, with a material missing."""
    await cases.submit(
        "DL-2026-000123",
        Intake(
            actor=OUR_PORTAL,
            applicant=Applicant(
                id_number="91210200MA0000123A", name="大连海鲜餐饮有限公司", contact="0411-8888"
            ),
            matter_code="FOOD-BUSINESS",
            materials=("application_form", "entity_qualification"),
            channel=Channel.ONLINE,
            received_at=received_at,
        ),
    )


async def test_our_portal_shows_a_case_accepted_by_silence_after_the_national_day_holiday() -> None:
    """Submitted 2026-09-29; with no notice in 5 working days it is accepted as of receipt (R-XK-32)."""
    received_at = datetime(2026, 9, 29, 9, 0, tzinfo=SHANGHAI)
    async with onewindow_test_environment(start_at=received_at) as kit:
        await _submit_incomplete_food_licence(kit.cases, received_at)
        waiting = await kit.cases.state("DL-2026-000123", received_at, reader=None)
        assert waiting.status is Status.RECEIVED
        assert waiting.acceptance_by == datetime(
            2026, 10, 13, 0, 0, tzinfo=SHANGHAI
        )  # 10/1-10/7 off, 10/10 worked

        await kit.env.sleep(timedelta(days=15))
        accepted = await kit.cases.state("DL-2026-000123", await kit.env.get_current_time(), reader=None)
        assert accepted.status is Status.UNDER_REVIEW
        notices = [payload["notice"] for _, payload in kit.outbox.records("notification", "DL-2026-000123")]
        assert "application_accepted" in notices
