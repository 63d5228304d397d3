"""The messages readers get: a page of a case's log stays within Temporal's payload limit."""

from __future__ import annotations

from datetime import datetime

from tests.builders import approver
from workflows.domain.calendar import SHANGHAI
from workflows.domain.events import ApplicationEvent, ApprovalRecorded
from workflows.domain.values import MAX_TEXT
from workflows.messages import EVENTS_PER_PAGE, PAGE_BYTES, EventsPage


def test_a_page_of_long_chinese_reasons_is_bounded_in_bytes_and_the_pages_cover_the_log() -> None:
    """A Chinese character is three bytes in UTF-8: the page limit counts bytes, as the server does."""
    events = [
        ApprovalRecorded(
            at=datetime(2026, 11, 26, 9, tzinfo=SHANGHAI),
            actor=approver("market_regulation"),
            reason="核" * MAX_TEXT,
            step="review",
            department="market_regulation",
            approved=True,
        )
        for _ in range(EVENTS_PER_PAGE + 10)
    ]
    read: list[ApplicationEvent] = []
    first: int | None = 0
    while first is not None:
        page = EventsPage.of(events, first)
        assert 0 < sum(len(event.model_dump_json().encode()) for event in page.events) <= PAGE_BYTES
        assert len(page.model_dump_json().encode()) < 2 * PAGE_BYTES
        read.extend(page.events)
        first = page.next_first
    assert len(read) == len(events)
    assert page.total == len(events)
