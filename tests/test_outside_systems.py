"""The outside-system adapters: idempotent per key, and the credit bar that feeds 容缺 and 告知承诺."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.credit import CreditActivities
from activities.licensing import LicensingActivities
from activities.outbox import Outbox
from workflows.domain.calendar import SHANGHAI
from workflows.domain.credit import CreditRecordKind, months_before
from workflows.domain.events import Applicant
from workflows.messages import CreditEntry, CreditQuery, LicenceRequest

APPLICANT = Applicant(id_number="91210200MA0000003C", name="示例公司", contact="0411-0000000")


class FakePlatform:
    """A credit platform in memory: records by applicant key, once per entry key."""

    def __init__(self) -> None:
        self.kept: dict[str, dict[str, CreditEntry]] = {}

    async def record(self, entry: CreditEntry) -> None:
        assert entry.applicant_key is not None
        self.kept.setdefault(entry.applicant_key, {}).setdefault(entry.key, entry)

    async def records(self, query: CreditQuery) -> Sequence[CreditEntry]:
        assert query.applicant_key is not None
        return tuple(self.kept.get(query.applicant_key, {}).values())


def _pseudonym(id_number: str) -> str:
    return f"key-{id_number}"


def _licence_request(key: str) -> LicenceRequest:
    return LicenceRequest(
        key=key,
        application_id="APP-1",
        matter_code="REAL-ESTATE.mortgage",
        matter_name="不动产登记",
        applicant=APPLICANT,
    )


async def test_a_retried_issuance_returns_the_first_licence_and_records_it_once(outbox: Outbox) -> None:
    """Same key, same licence: a retry after a crash never issues twice."""
    licensing = LicensingActivities(outbox)
    first = await licensing.issue_licence(_licence_request("APP-1:7"))
    again = await licensing.issue_licence(_licence_request("APP-1:7"))
    assert first == again == "REAL-ESTATE-APP-1"
    assert len(outbox.records("licensing")) == 1 == outbox.count("licensing")
    assert outbox.count("notification") == 0


async def test_a_broken_commitment_bars_deficiency_tolerance_for_six_months_then_not(outbox: Outbox) -> None:
    """Dalian's rule (configurable): a credit record within 6 months makes the applicant ineligible."""
    platform = FakePlatform()
    credit = CreditActivities(outbox, _pseudonym, platform=platform, bar_months=6)
    broken_at = datetime(2026, 3, 31, 10, tzinfo=SHANGHAI)
    entry = CreditEntry(
        key="APP-9:12",
        application_id="APP-9",
        applicant_id=APPLICANT.id_number,
        reason="容缺承诺未履行",
        at=broken_at,
    )
    await credit.write_credit_record(entry)
    await credit.write_credit_record(entry)
    assert len(outbox.records("credit")) == 1
    assert list(platform.kept) == [_pseudonym(APPLICANT.id_number)]  # a case without keys: derived
    within = await credit.check_credit(
        CreditQuery(applicant_id=APPLICANT.id_number, at=datetime(2026, 9, 30, 9, tzinfo=SHANGHAI))
    )
    after = await credit.check_credit(
        CreditQuery(applicant_id=APPLICANT.id_number, at=datetime(2026, 10, 1, 9, tzinfo=SHANGHAI))
    )
    other = await credit.check_credit(CreditQuery(applicant_id="110101199001011234", at=broken_at))
    assert (within.eligible, after.eligible, other.eligible) == (False, True, True)
    assert "APP-9" in within.detail


async def test_eligibility_comes_from_the_platform_and_names_the_latest_record_of_any_kind(
    outbox: Outbox,
) -> None:
    """A record another worker kept bars the applicant here, whatever this worker's own outbox holds."""
    platform = FakePlatform()
    at = datetime(2026, 5, 6, 10, tzinfo=SHANGHAI)
    for key, case, kind, day in [
        ("APP-1:9", "APP-1", CreditRecordKind.DEFICIENCY_COMMITMENT_BROKEN, 1),
        ("APP-2:14", "APP-2", CreditRecordKind.FALSE_COMMITMENT, 3),
    ]:
        await platform.record(
            CreditEntry(
                key=key,
                application_id=case,
                applicant_id=APPLICANT.id_number,
                applicant_key="the-worker-s-key",
                kind=kind,
                reason="承诺不实",
                at=at.replace(day=day),
            )
        )
    credit = CreditActivities(outbox, _pseudonym, platform=platform)
    query = CreditQuery(applicant_id=APPLICANT.id_number, applicant_key="the-worker-s-key", at=at)
    standing = await credit.check_credit(query)
    assert not standing.eligible
    assert standing.detail == "false_commitment recorded on case APP-2 within 6 months"
    assert outbox.records("credit") == []


@pytest.mark.parametrize(
    ("instant", "months", "expected"),
    [
        (datetime(2026, 8, 31, tzinfo=UTC), 6, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 15, tzinfo=UTC), 6, datetime(2025, 9, 15, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2025, 12, 31, tzinfo=UTC)),
    ],
)
def test_months_before_keeps_the_day_or_clamps_it_to_the_months_end(
    instant: datetime, months: int, expected: datetime
) -> None:
    """Calendar months, not 30-day blocks: 31 August minus six months is 28 February."""
    assert months_before(instant, months) == expected


async def test_closing_the_outbox_while_activity_threads_write_loses_nothing_written_and_never_crashes(
    tmp_path: Path,
) -> None:
    """Worker shutdown cancels activities but not their threads: closing must wait for a write in flight."""
    store = Outbox(tmp_path / "outbox.sqlite")
    at = datetime(2026, 9, 30, 9, tzinfo=SHANGHAI)

    async def write(n: int) -> bool:
        try:
            await store.record("licensing", f"APP-1:{n}", "APP-1", at, {"n": n})
        except sqlite3.ProgrammingError:
            return False
        return True

    writes = [asyncio.create_task(write(n)) for n in range(200)]
    await asyncio.sleep(0)
    await asyncio.to_thread(store.close)
    written = sum(await asyncio.gather(*writes))
    reopened = Outbox(tmp_path / "outbox.sqlite")
    try:
        assert len(reopened.records("licensing")) == written
    finally:
        reopened.close()
