"""The statutory working-day calendar (DESIGN.md section 5, R-CAL-1 to R-CAL-4) and its data loading."""

from __future__ import annotations

import os
import subprocess
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.domain.calendar import (
    SHANGHAI,
    CalendarNotice,
    DayKind,
    RestDayReceipt,
    WorkingCalendar,
    YearCalendar,
    deadline_text,
    end_of_day,
    local_date,
)
from workflows.domain.errors import CalendarDataInvalid, CalendarNotPublished
from workflows.reference_data import CALENDAR_DIRS_VARIABLE, CalendarSource, load_calendar, read_notices


def _load_without_environment() -> WorkingCalendar:
    # The shipped calendar only: a developer's own ONEWINDOW_CALENDAR_DIRS must not change the expectations.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(CALENDAR_DIRS_VARIABLE, raising=False)
        return load_calendar()


# Immutable, and slow enough to load (the whole chinese-calendar table) that once per module is right.
CALENDAR = _load_without_environment()

FIRST_KNOWN_DAY = date(2004, 1, 1)
LAST_KNOWN_DAY = date(2027, 12, 31)
LAST_TRIGGER = date(2027, 11, 30)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _expand(*entries: str) -> set[date]:
    """'2025-01-28/2025-02-04' and '2025-01-01' style entries as the set of days they name."""
    days: set[date] = set()
    for entry in entries:
        start, _, end = entry.partition("/")
        days |= set(_days(date.fromisoformat(start), date.fromisoformat(end or start)))
    return days


# Every working day the data knows, so strategies can keep counts from running off the end of 2027.
_KNOWN_WORKING_DAYS = tuple(d for d in _days(FIRST_KNOWN_DAY, LAST_KNOWN_DAY) if CALENDAR.day(d).working)


def _working_days_left_after(day: date) -> int:
    return len(_KNOWN_WORKING_DAYS) - bisect_right(_KNOWN_WORKING_DAYS, day)


@st.composite
def triggers_and_counts(draw: st.DrawFn, most: int = 200) -> tuple[date, int]:
    """A trigger in 2004-01-01..2027-11-30 and a count of at most ``most`` that stays inside the data."""
    trigger = draw(st.dates(FIRST_KNOWN_DAY, LAST_TRIGGER))
    working_days = draw(st.integers(0, min(most, _working_days_left_after(trigger))))
    return trigger, working_days


known_dates = st.dates(FIRST_KNOWN_DAY, LAST_TRIGGER)
fast = settings(max_examples=150, deadline=None)


# --- Published data: the notices for 2025 and 2026 as the loaded calendar holds them -------------------

HOLIDAYS = {
    2025: _expand(
        "2025-01-01",
        "2025-01-28/2025-02-04",
        "2025-04-04/2025-04-06",
        "2025-05-01/2025-05-05",
        "2025-05-31/2025-06-02",
        "2025-10-01/2025-10-08",
    ),
    2026: _expand(
        "2026-01-01/2026-01-03",
        "2026-02-15/2026-02-23",
        "2026-04-04/2026-04-06",
        "2026-05-01/2026-05-05",
        "2026-06-19/2026-06-21",
        "2026-09-25/2026-09-27",
        "2026-10-01/2026-10-07",
    ),
}
MAKEUP_WORKDAYS = {
    2025: _expand("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"),
    2026: _expand("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"),
}
FIXED_2027_HOLIDAYS = _expand(
    "2027-01-01",
    "2027-02-05/2027-02-08",
    "2027-04-05",
    "2027-05-01/2027-05-02",
    "2027-06-09",
    "2027-09-15",
    "2027-10-01/2027-10-03",
)


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_notice_has_the_kind_the_notice_gives_it(year: int) -> None:
    """Each holiday is a HOLIDAY, each 调休 day a MAKEUP_WORKDAY, every other day follows the weekend rule."""
    for day in _days(date(year, 1, 1), date(year, 12, 31)):
        info = CALENDAR.day(day)
        if day in HOLIDAYS[year]:
            expected = DayKind.HOLIDAY
        elif day in MAKEUP_WORKDAYS[year]:
            expected = DayKind.MAKEUP_WORKDAY
        else:
            expected = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKDAY
        assert (info.kind, info.provisional) == (expected, False), day


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_loaded_year_lists_exactly_the_notices_days(year: int) -> None:
    """The packaged year holds the notice's holidays and make-up days, no more and no fewer."""
    loaded = CALENDAR.years[year]
    assert (set(loaded.holidays), set(loaded.makeup_workdays)) == (HOLIDAYS[year], MAKEUP_WORKDAYS[year])
    assert not loaded.provisional


@pytest.mark.parametrize("day", sorted(MAKEUP_WORKDAYS[2025] | MAKEUP_WORKDAYS[2026]))
def test_a_makeup_workday_is_a_weekend_day_that_is_worked(day: date) -> None:
    """调休上班日 fall on a Saturday or Sunday and count as working days."""
    info = CALENDAR.day(day)
    assert day.weekday() >= 5
    assert info.kind is DayKind.MAKEUP_WORKDAY
    assert info.working


@pytest.mark.parametrize(
    ("day", "kind", "working"),
    [
        (date(2026, 3, 9), DayKind.WORKDAY, True),  # an ordinary Monday
        (date(2026, 3, 7), DayKind.WEEKEND, False),  # an ordinary Saturday
        (date(2026, 2, 21), DayKind.HOLIDAY, False),  # a Saturday inside the Spring Festival
        (date(2026, 10, 1), DayKind.HOLIDAY, False),  # a Thursday holiday
        (date(2026, 10, 10), DayKind.MAKEUP_WORKDAY, True),  # a Saturday make-up workday
    ],
)
def test_a_day_is_classified_and_working_follows_its_kind(day: date, kind: DayKind, working: bool) -> None:
    """Holidays win over the weekend rule, make-up days over both; only WORKDAY and MAKEUP_WORKDAY work."""
    info = CALENDAR.day(day)
    assert (info.day, info.kind, info.working) == (day, kind, working)


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_year_has_248_working_days(year: int) -> None:
    """2026 has 248 working days (notice of 2025-11-04); 2025 has 248 as well."""
    count = CALENDAR.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
    assert (count.days, count.provisional) == (248, False)


def test_the_2027_data_is_provisional_with_the_fixed_statutory_days_and_no_makeup_days() -> None:
    """R-CAL-4: 2027 knows only its fixed statutory days and never guesses a 调休 day."""
    provisional = CALENDAR.years[2027]
    assert provisional.provisional
    assert set(provisional.holidays) == FIXED_2027_HOLIDAYS
    assert provisional.makeup_workdays == frozenset()
    assert all(CALENDAR.day(day).provisional for day in _days(date(2027, 1, 1), date(2027, 12, 31)))


def test_the_packaged_years_run_from_2004_to_2026_and_the_shipped_notice_adds_2027() -> None:
    """The calendar in force covers 2004-2027 and nothing else."""
    assert list(CALENDAR.years) == list(range(2004, 2028))
    assert [y for y, cal in CALENDAR.years.items() if cal.provisional] == [2027]


# --- R-CAL-1: counting n working days strictly after the trigger --------------------------------------


@pytest.mark.parametrize(
    ("trigger", "working_days", "last_day"),
    [
        # DESIGN.md section 5, verbatim.
        (date(2026, 9, 29), 5, date(2026, 10, 12)),
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # not 10-07: 10/10 is a make-up workday
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # a Saturday make-up workday
        (date(2026, 2, 13), 5, date(2026, 2, 27)),
        (date(2026, 1, 5), 90, date(2026, 5, 20)),
        # More of 2026.
        (date(2026, 1, 2), 1, date(2026, 1, 4)),  # the trigger is a holiday; 1/4 is a Sunday make-up day
        (date(2026, 2, 27), 1, date(2026, 2, 28)),  # Saturday make-up day after the Spring Festival
        (date(2026, 4, 3), 1, date(2026, 4, 7)),
        (date(2026, 4, 30), 1, date(2026, 5, 6)),
        (date(2026, 5, 8), 1, date(2026, 5, 9)),  # Saturday make-up day
        (date(2026, 6, 18), 1, date(2026, 6, 22)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Sunday make-up day
        (date(2026, 9, 24), 1, date(2026, 9, 28)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 12, 24), 5, date(2026, 12, 31)),
        # 2025.
        (date(2024, 12, 31), 1, date(2025, 1, 2)),
        (date(2025, 1, 24), 1, date(2025, 1, 26)),  # Sunday make-up day before the Spring Festival
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 2, 7), 1, date(2025, 2, 8)),  # Saturday make-up day after it
        (date(2025, 4, 3), 1, date(2025, 4, 7)),
        (date(2025, 4, 25), 1, date(2025, 4, 27)),  # Sunday make-up day
        (date(2025, 4, 30), 1, date(2025, 5, 6)),
        (date(2025, 5, 30), 1, date(2025, 6, 3)),
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Sunday make-up day
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),  # Saturday make-up day
        (date(2025, 9, 30), 5, date(2025, 10, 14)),
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # across the year into a Sunday make-up day
        (date(2025, 12, 31), 2, date(2026, 1, 5)),
        # The trigger itself is never counted, and 0 gives the trigger.
        (date(2026, 3, 9), 0, date(2026, 3, 9)),
        (date(2026, 10, 3), 0, date(2026, 10, 3)),
        (date(2026, 3, 9), 1, date(2026, 3, 10)),
    ],
)
def test_n_working_days_after_a_trigger_end_on_the_nth_working_day_strictly_after_it(
    trigger: date, working_days: int, last_day: date
) -> None:
    """R-CAL-1: the period ends on the n-th working day strictly after the trigger day."""
    result = CALENDAR.add_working_days(trigger, working_days)
    assert (result.day, result.provisional) == (last_day, False)
    assert result.calendar_version == CALENDAR.version


@pytest.mark.parametrize(
    ("trigger", "working_days", "last_day"),
    [
        (date(2026, 9, 30), 5, date(2026, 10, 13)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 1, 5), 90, date(2026, 5, 20)),
    ],
)
def test_a_deadline_expires_at_24_00_shanghai_of_its_last_day(
    trigger: date, working_days: int, last_day: date
) -> None:
    """R-CAL-1: due_at is midnight at the end of the last day in Asia/Shanghai (16:00 UTC), kept at +08:00."""
    deadline = CALENDAR.deadline(trigger, working_days)
    assert deadline.last_day == last_day
    assert deadline.due_at == datetime.combine(last_day, time(16), tzinfo=UTC)
    assert deadline.due_at.utcoffset() == timedelta(hours=8)
    assert deadline.due_at.astimezone(SHANGHAI) == datetime.combine(
        last_day + timedelta(days=1), time(0), tzinfo=SHANGHAI
    )
    assert (deadline.provisional, deadline.calendar_version) == (False, CALENDAR.version)


def test_end_of_day_is_the_first_instant_of_the_next_shanghai_day() -> None:
    """24:00 Shanghai on 2026-10-12 is 2026-10-12T16:00Z."""
    assert end_of_day(date(2026, 10, 12)) == datetime(2026, 10, 12, 16, tzinfo=UTC)


def test_counting_a_negative_number_of_working_days_forward_is_refused() -> None:
    """A period is never negative."""
    with pytest.raises(ValueError, match="-1"):
        CALENDAR.add_working_days(date(2026, 3, 9), -1)


# --- R-CAL-3: a receipt on a non-working day ----------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "default_last_day", "deemed_next_working_day_last_day"),
    [
        # An ordinary Saturday: day 1 is Monday 3/9; deemed received Monday, day 1 is Tuesday.
        (datetime(2026, 3, 7, 10, tzinfo=SHANGHAI), date(2026, 3, 13), date(2026, 3, 16)),
        # National Day: day 1 is 10/8; deemed received 10/8, day 1 is 10/9.
        (datetime(2026, 10, 1, 9, tzinfo=SHANGHAI), date(2026, 10, 13), date(2026, 10, 14)),
        # Spring Festival 2025 (a Saturday inside the holiday); 2/8 is a Saturday make-up day.
        (datetime(2025, 2, 1, 15, tzinfo=SHANGHAI), date(2025, 2, 10), date(2025, 2, 11)),
        # A working day: both policies agree.
        (datetime(2026, 9, 30, 17, tzinfo=SHANGHAI), date(2026, 10, 13), date(2026, 10, 13)),
        # 2026-02-13T16:30Z is 00:30 on Saturday 2/14 in Shanghai, a make-up workday.
        (datetime(2026, 2, 13, 16, 30, tzinfo=UTC), date(2026, 2, 28), date(2026, 2, 28)),
    ],
)
def test_a_receipt_on_a_rest_day_counts_from_the_next_working_day_by_default_or_as_configured(
    received_at: datetime, default_last_day: date, deemed_next_working_day_last_day: date
) -> None:
    """R-CAL-3: by default the rest day is the trigger; optionally receipt is deemed on the next workday."""
    default = CALENDAR.trigger_day(received_at)
    deemed = CALENDAR.trigger_day(received_at, RestDayReceipt.RECEIVED_ON_NEXT_WORKING_DAY)
    assert default == local_date(received_at)
    assert CALENDAR.day(deemed).working
    assert CALENDAR.add_working_days(default, 5).day == default_last_day
    assert CALENDAR.add_working_days(deemed, 5).day == deemed_next_working_day_last_day


def test_the_default_receipt_policy_is_that_the_next_working_day_is_day_one() -> None:
    """R-CAL-3 default: a receipt on Sunday 2026-03-08 has that Sunday as its trigger."""
    received_at = datetime(2026, 3, 8, 11, tzinfo=SHANGHAI)
    assert CALENDAR.trigger_day(received_at) == date(2026, 3, 8)
    assert CALENDAR.trigger_day(received_at, RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE) == date(2026, 3, 8)
    assert CALENDAR.trigger_day(received_at, RestDayReceipt.RECEIVED_ON_NEXT_WORKING_DAY) == date(2026, 3, 9)


def test_a_receipt_date_is_its_own_trigger_or_deemed_on_the_next_working_day() -> None:
    """A bare receipt date is already a Shanghai calendar day."""
    assert CALENDAR.trigger_day(date(2026, 10, 1)) == date(2026, 10, 1)
    assert CALENDAR.trigger_day(date(2026, 10, 1), RestDayReceipt.RECEIVED_ON_NEXT_WORKING_DAY) == date(
        2026, 10, 8
    )
    assert CALENDAR.trigger_day(date(2026, 10, 10), RestDayReceipt.RECEIVED_ON_NEXT_WORKING_DAY) == date(
        2026, 10, 10
    )


def test_a_receipt_time_without_a_time_zone_is_refused() -> None:
    """A naive instant cannot be placed on a Shanghai calendar day."""
    with pytest.raises(ValueError, match="time zone"):
        CALENDAR.trigger_day(datetime(2026, 3, 9, 10))  # noqa: DTZ001 - the naive time is the point


# --- Counting working days between two days --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 9, 30), date(2026, 10, 13), 5),
        (date(2026, 10, 13), date(2026, 9, 30), -5),
        (date(2026, 2, 13), date(2026, 2, 14), 1),
        (date(2026, 2, 14), date(2026, 2, 13), -1),
        (date(2026, 1, 5), date(2026, 5, 20), 90),
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 10, 1), date(2026, 10, 7), 0),  # a whole holiday counts nothing
        (date(2025, 12, 31), date(2026, 1, 4), 1),
        # Aware instants are taken on their Shanghai date: 2026-09-29T17:00Z is 2026-09-30 01:00 in Shanghai.
        (datetime(2026, 9, 29, 17, tzinfo=UTC), date(2026, 10, 13), 5),
        (datetime(2026, 9, 30, 23, 59, tzinfo=SHANGHAI), datetime(2026, 10, 13, 0, 1, tzinfo=SHANGHAI), 5),
        (date(2026, 9, 30), datetime(2026, 10, 13, 15, 59, tzinfo=UTC), 5),
        (date(2026, 9, 30), datetime(2026, 10, 13, 16, 0, tzinfo=UTC), 6),  # already 10/14 in Shanghai
        (datetime(2026, 10, 13, 8, tzinfo=SHANGHAI), datetime(2026, 9, 30, 20, tzinfo=SHANGHAI), -5),
    ],
)
def test_working_days_between_counts_days_after_the_start_up_to_and_including_the_end(
    start: date | datetime, end: date | datetime, days: int
) -> None:
    """Dates or aware instants, in Shanghai; negative when the end is before the start."""
    count = CALENDAR.working_days_between(start, end)
    assert (count.days, count.provisional, count.calendar_version) == (days, False, CALENDAR.version)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 3, 9, 10), date(2026, 3, 20)),  # noqa: DTZ001 - the naive time is the point
        (date(2026, 3, 9), datetime(2026, 3, 20, 10)),  # noqa: DTZ001 - the naive time is the point
    ],
)
def test_working_days_between_refuses_a_naive_datetime(start: date | datetime, end: date | datetime) -> None:
    """A naive datetime has no Shanghai date, so it is refused rather than guessed."""
    with pytest.raises(ValueError, match="time zone"):
        CALENDAR.working_days_between(start, end)


# --- R-CAL-4: provisional and unknown years --------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "working_days", "last_day", "provisional"),
    [
        (date(2026, 12, 25), 10, date(2027, 1, 11), True),
        (date(2026, 12, 31), 1, date(2027, 1, 4), True),
        (date(2027, 2, 4), 1, date(2027, 2, 9), True),
        (date(2027, 3, 1), 0, date(2027, 3, 1), True),
        (date(2026, 12, 24), 5, date(2026, 12, 31), False),
        (date(2026, 12, 31), 0, date(2026, 12, 31), False),
    ],
)
def test_a_result_resting_on_2027_is_provisional_and_one_inside_2026_is_not(
    trigger: date, working_days: int, last_day: date, provisional: bool
) -> None:
    """R-CAL-4: any day of the provisional year used in the count flags the answer."""
    result = CALENDAR.add_working_days(trigger, working_days)
    deadline = CALENDAR.deadline(trigger, working_days)
    assert (result.day, result.provisional) == (last_day, provisional)
    assert (deadline.last_day, deadline.provisional) == (last_day, provisional)


def test_a_count_that_reaches_into_2027_is_provisional() -> None:
    """R-CAL-4: working_days_between flags a count that crosses into the provisional year."""
    assert CALENDAR.working_days_between(date(2026, 12, 31), date(2027, 1, 4)).provisional
    assert not CALENDAR.working_days_between(date(2026, 12, 1), date(2026, 12, 31)).provisional


@pytest.mark.parametrize(
    ("ask", "year"),
    [
        (lambda cal: cal.day(date(2028, 1, 3)), 2028),
        (lambda cal: cal.day(date(2003, 6, 2)), 2003),
        (lambda cal: cal.add_working_days(date(2027, 12, 20), 10), 2028),
        (lambda cal: cal.add_working_days(date(2027, 12, 31), 1), 2028),
        (lambda cal: cal.add_working_days(date(2003, 12, 31), 0), 2003),
        (lambda cal: cal.deadline(date(2027, 12, 30), 5), 2028),
        (lambda cal: cal.working_days_between(date(2027, 12, 1), date(2028, 1, 10)), 2028),
        (lambda cal: cal.working_days_between(date(2004, 1, 10), date(2003, 12, 1)), 2003),
    ],
    ids=[
        "day-2028",
        "day-2003",
        "add-into-2028",
        "add-from-last-day",
        "add-2003",
        "deadline",
        "between",
        "back",
    ],
)
def test_a_year_with_nothing_known_raises_calendar_not_published_naming_the_year(
    ask: Callable[[WorkingCalendar], object], year: int
) -> None:
    """R-CAL-4: no notice and no provisional data means no answer, and the error says which year."""
    with pytest.raises(CalendarNotPublished) as raised:
        ask(CALENDAR)
    assert raised.value.year == year
    assert raised.value.type == "CalendarNotPublished"
    assert str(year) in str(raised.value)


# --- Hand-made calendars ----------------------------------------------------------------------------------


def _year(
    year: int, holidays: tuple[str, ...] = (), makeup: tuple[str, ...] = (), **fields: object
) -> YearCalendar:
    notice = CalendarNotice.model_validate(
        {
            "year": year,
            "revision": f"{year}-test-r1",
            "status": "published",
            "source": "hand-made for a test",
            "holidays": holidays,
            "makeup_workdays": makeup,
            **fields,
        }
    )
    return notice.to_year()


def test_a_hand_made_calendar_refuses_a_year_it_was_not_given() -> None:
    """Only the years handed in are known; the neighbours raise CalendarNotPublished."""
    calendar = WorkingCalendar([_year(2030)])
    assert calendar.day(date(2030, 6, 3)).kind is DayKind.WORKDAY
    with pytest.raises(CalendarNotPublished) as raised:
        calendar.add_working_days(date(2030, 12, 31), 1)
    assert raised.value.year == 2031


def test_two_calendars_for_the_same_year_are_refused() -> None:
    """A year is replaced wholesale before the calendar is built, never held twice."""
    with pytest.raises(CalendarDataInvalid, match="2030"):
        WorkingCalendar([_year(2030), _year(2030, revision="2030-test-r2")])


def test_the_version_depends_on_the_data_not_on_the_order_years_are_given() -> None:
    """The same years give the same version; any change to a year gives a new one."""
    years = [_year(2030, ("2030-01-01",)), _year(2031, ("2031-01-01",))]
    assert WorkingCalendar(years).version == WorkingCalendar(reversed(years)).version
    amended = [years[0], _year(2031, ("2031-01-01", "2031-01-02"), revision="2031-test-r2")]
    assert WorkingCalendar(amended).version != WorkingCalendar(years).version
    assert WorkingCalendar(years).version.startswith("cal-")


def test_the_calendar_version_is_the_same_in_every_worker_process() -> None:
    """Identical data must give an identical version id in every process, whatever its hash seed.

    The version is pinned per workflow (R-CAL-4); a worker restart must not make unchanged data look new.
    """
    program = "from workflows.reference_data import load_calendar; print(load_calendar().version)"
    versions = set()
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        environment.pop(CALENDAR_DIRS_VARIABLE, None)
        finished = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed program
            [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=environment
        )
        versions.add(finished.stdout.strip())
    assert versions == {CALENDAR.version}


def test_a_notice_range_includes_both_ends_and_single_days_are_allowed() -> None:
    """'start/end' is an ISO 8601 interval with both ends included; blanks around the slash are ignored."""
    year = _year(2027, ("2027-02-05/2027-02-08", "2027-10-01 / 2027-10-03", "2027-01-01"), ("2027-02-20",))
    assert set(year.holidays) == _expand("2027-02-05/2027-02-08", "2027-10-01/2027-10-03", "2027-01-01")
    assert year.makeup_workdays == frozenset({date(2027, 2, 20)})
    assert not year.provisional


def test_a_one_day_range_is_that_day() -> None:
    """'d/d' names exactly the day d."""
    assert _year(2027, ("2027-06-09/2027-06-09",)).holidays == frozenset({date(2027, 6, 9)})


def test_a_provisional_notice_gives_a_provisional_year() -> None:
    """status = 'provisional' marks every answer that uses the year."""
    year = _year(2030, ("2030-01-01",), status="provisional")
    calendar = WorkingCalendar([year])
    assert year.provisional
    assert calendar.add_working_days(date(2030, 1, 1), 1).provisional


@pytest.mark.parametrize(
    ("holidays", "makeup", "complaint"),
    [
        (("2027-02-08/2027-02-05",), (), "ends before it starts"),
        (("2027-02-30",), (), "out of range"),
        (("not a date",), (), "not a date"),
        (("2027-02-05/2027-02-08/2027-02-09",), (), "2027-02-08/2027-02-09"),
        (("2026-12-31",), (), "outside 2027"),
        (("2027-12-31/2028-01-02",), (), "outside 2027"),
        ((), ("2028-01-01",), "outside 2027"),
        (("2027-02-05/2027-02-08",), ("2027-02-06",), "both holiday and make-up workday"),
    ],
)
def test_a_bad_notice_raises_calendar_data_invalid_naming_the_year_and_the_fault(
    holidays: tuple[str, ...], makeup: tuple[str, ...], complaint: str
) -> None:
    """Start-up stops rather than count with wrong days."""
    with pytest.raises(CalendarDataInvalid, match="2027") as raised:
        _year(2027, holidays, makeup)
    assert complaint in str(raised.value)


def test_a_year_calendar_refuses_days_of_another_year_and_clashing_days() -> None:
    """YearCalendar validates itself, whoever builds it."""
    common = {"year": 2030, "revision": "r", "provisional": False, "source": "test"}
    with pytest.raises(ValidationError, match="outside 2030"):
        YearCalendar.model_validate({**common, "holidays": {date(2031, 1, 1)}})
    with pytest.raises(ValidationError, match="both holiday and make-up"):
        YearCalendar.model_validate(
            {**common, "holidays": {date(2030, 1, 5)}, "makeup_workdays": {date(2030, 1, 5)}}
        )


# --- Loading notices from directories ---------------------------------------------------------------------

PUBLISHED_2027 = """
year = 2027
revision = "2027-notice-test"
status = "published"
source = "a State Council notice, invented for this test"
holidays = ["2027-01-01/2027-01-03", "2027-02-05/2027-02-11"]
makeup_workdays = ["2027-01-09", "2027-02-20"]
"""


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_notices_reads_every_toml_file_in_a_directory(tmp_path: Path) -> None:
    """Each *.toml file is one year's notice; other files are ignored."""
    _write(tmp_path, "2027.toml", PUBLISHED_2027)
    _write(tmp_path, "README.md", "not a notice")
    [year] = read_notices(tmp_path)
    assert (year.year, year.revision, year.provisional) == (2027, "2027-notice-test", False)
    assert date(2027, 1, 9) in year.makeup_workdays
    assert set(year.holidays) == _expand("2027-01-01/2027-01-03", "2027-02-05/2027-02-11")


@pytest.mark.parametrize(
    "text",
    [
        "year = 2027\nrevision = ",  # not TOML
        PUBLISHED_2027 + 'extra = "field"\n',  # an unknown field
        PUBLISHED_2027.replace('"published"', '"draft"'),  # an unknown status
        PUBLISHED_2027.replace('revision = "2027-notice-test"', 'revision = ""'),  # an empty revision
        PUBLISHED_2027.replace('"2027-01-09"', '"2027-01-32"'),  # not a day
        PUBLISHED_2027.replace('"2027-01-09"', '"2027-01-02"'),  # a holiday and a make-up day at once
    ],
    ids=["toml", "extra-field", "status", "revision", "day", "clash"],
)
def test_a_malformed_calendar_file_raises_calendar_data_invalid_naming_the_file(
    tmp_path: Path, text: str
) -> None:
    """Every fault in a data file is reported as CalendarDataInvalid with the file's path."""
    path = _write(tmp_path, "2027.toml", text)
    with pytest.raises(CalendarDataInvalid) as raised:
        read_notices(tmp_path)
    assert str(path) in str(raised.value)


def test_a_published_notice_replaces_the_provisional_year(tmp_path: Path) -> None:
    """R-CAL-4: once the notice is loaded, 2027 answers are no longer provisional and the version changes."""
    _write(tmp_path, "2027.toml", PUBLISHED_2027)
    published = load_calendar([tmp_path])
    year = published.years[2027]
    assert (year.revision, year.provisional) == ("2027-notice-test", False)
    assert published.version != CALENDAR.version
    before = CALENDAR.deadline(date(2026, 12, 25), 10)
    after = published.deadline(date(2026, 12, 25), 10)
    assert (before.last_day, before.provisional) == (date(2027, 1, 11), True)
    assert (after.last_day, after.provisional, after.calendar_version) == (
        date(2027, 1, 9),  # the notice's Saturday make-up day now counts
        False,
        published.version,
    )
    assert published.years[2026] == CALENDAR.years[2026]


def test_the_calendar_dirs_environment_variable_adds_notices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ONEWINDOW_CALENDAR_DIRS names extra directories, os.pathsep-separated, read after the shipped data."""
    empty, notices = tmp_path / "empty", tmp_path / "notices"
    empty.mkdir()
    _write(notices, "2027.toml", PUBLISHED_2027)
    expected_version = load_calendar([notices]).version
    monkeypatch.setenv(CALENDAR_DIRS_VARIABLE, os.pathsep.join([str(empty), str(notices)]))
    calendar = load_calendar()
    assert not calendar.years[2027].provisional
    assert not calendar.add_working_days(date(2026, 12, 25), 10).provisional
    assert calendar.version == expected_version != CALENDAR.version


def test_a_later_directory_wins_over_an_earlier_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Packaged, then shipped, then extra_dirs in order, then the environment's: the last word counts."""
    first, second, third = tmp_path / "first", tmp_path / "second", tmp_path / "third"
    _write(first, "2027.toml", PUBLISHED_2027)
    _write(second, "2027.toml", PUBLISHED_2027.replace("2027-notice-test", "2027-notice-r2"))
    _write(third, "2027.toml", PUBLISHED_2027.replace("2027-notice-test", "2027-notice-r3"))
    assert load_calendar([first, second]).years[2027].revision == "2027-notice-r2"
    assert load_calendar([second, first]).years[2027].revision == "2027-notice-test"
    monkeypatch.setenv(CALENDAR_DIRS_VARIABLE, str(third))
    assert load_calendar([first, second]).years[2027].revision == "2027-notice-r3"


def test_an_amendment_replaces_a_published_year_wholesale(tmp_path: Path) -> None:
    """Mid-year amendments (as in 2019, 2020) replace the whole year: days it does not list are ordinary."""
    _write(
        tmp_path,
        "2026-amended.toml",
        """
        year = 2026
        revision = "2026-amendment-test"
        status = "published"
        source = "an amendment, invented for this test"
        holidays = ["2026-01-01/2026-01-03", "2026-12-31"]
        """,
    )
    amended = load_calendar([tmp_path])
    assert amended.years[2026].revision == "2026-amendment-test"
    assert amended.day(date(2026, 12, 31)).kind is DayKind.HOLIDAY
    assert amended.day(date(2026, 10, 1)).kind is DayKind.WORKDAY  # no longer listed
    assert amended.day(date(2026, 10, 10)).kind is DayKind.WEEKEND  # no longer a make-up day
    assert amended.add_working_days(date(2026, 12, 30), 1).day == date(2027, 1, 4)
    assert amended.years[2025] == CALENDAR.years[2025]
    assert amended.version != CALENDAR.version


def test_a_calendar_directory_that_does_not_exist_stops_start_up(tmp_path: Path) -> None:
    """A mistyped directory is an error, not a silently smaller calendar."""
    missing = tmp_path / "missing"
    with pytest.raises(CalendarDataInvalid, match="does not exist"):
        load_calendar([missing])


# --- Properties ----------------------------------------------------------------------------------------


@fast
@given(triggers_and_counts())
def test_the_nth_working_day_after_a_trigger_is_a_working_day(case: tuple[date, int]) -> None:
    """For n >= 1 the last day of a period is always a working day, strictly after the trigger."""
    trigger, working_days = case
    result = CALENDAR.add_working_days(trigger, working_days)
    if working_days == 0:
        assert result.day == trigger
    else:
        assert result.day > trigger
        assert CALENDAR.day(result.day).working


@fast
@given(triggers_and_counts())
def test_counting_back_from_the_nth_working_day_gives_n(case: tuple[date, int]) -> None:
    """working_days_between(d, add(d, n)) == n, and the reverse count is -n."""
    trigger, working_days = case
    last = CALENDAR.add_working_days(trigger, working_days).day
    assert CALENDAR.working_days_between(trigger, last).days == working_days
    assert CALENDAR.working_days_between(last, trigger).days == -working_days


@fast
@given(triggers_and_counts(most=199))
def test_one_more_working_day_ends_strictly_later_with_only_rest_days_between(case: tuple[date, int]) -> None:
    """add(d, n) is strictly increasing in n, and no working day is skipped on the way."""
    trigger, working_days = case
    if _working_days_left_after(trigger) == working_days:
        return  # the data ends here; n + 1 would need 2028
    shorter = CALENDAR.add_working_days(trigger, working_days).day
    longer = CALENDAR.add_working_days(trigger, working_days + 1).day
    assert shorter < longer
    assert not any(
        CALENDAR.day(day).working for day in _days(shorter + timedelta(days=1), longer - timedelta(1))
    )


@st.composite
def nearby_dates(draw: st.DrawFn) -> tuple[date, date, date]:
    """Three dates within a year or so of each other, all inside the known data."""
    base = draw(known_dates)
    offsets = st.integers(-400, 400)

    def near() -> date:
        return min(max(base + timedelta(days=draw(offsets)), FIRST_KNOWN_DAY), LAST_KNOWN_DAY)

    return near(), near(), near()


@fast
@given(nearby_dates())
def test_working_days_between_is_antisymmetric_and_additive(days: tuple[date, date, date]) -> None:
    """Swapping the ends negates the count, and counts chain: (a, b) + (b, c) == (a, c)."""
    a, b, c = days
    forward = CALENDAR.working_days_between(a, b).days
    assert CALENDAR.working_days_between(b, a).days == -forward
    assert forward + CALENDAR.working_days_between(b, c).days == CALENDAR.working_days_between(a, c).days


@fast
@given(
    st.datetimes(
        datetime(2004, 1, 1),  # noqa: DTZ001 - bounds of a Shanghai wall-clock strategy
        datetime(2027, 9, 30),  # noqa: DTZ001 - 61 working days later is still inside 2027
        timezones=st.just(SHANGHAI),
    ),
    st.integers(0, 60),
)
def test_deeming_a_rest_day_receipt_on_the_next_working_day_adds_one_working_day(
    received_at: datetime, working_days: int
) -> None:
    """R-CAL-3: the configured policy shifts a rest-day receipt's period by exactly one working day."""
    default = CALENDAR.trigger_day(received_at)
    deemed = CALENDAR.trigger_day(received_at, RestDayReceipt.RECEIVED_ON_NEXT_WORKING_DAY)
    shift = 0 if CALENDAR.day(default).working else 1
    assert CALENDAR.add_working_days(deemed, working_days).day == (
        CALENDAR.add_working_days(default, working_days + shift).day
    )


@fast
@given(triggers_and_counts())
def test_a_deadline_is_due_at_the_end_of_the_last_counted_day(case: tuple[date, int]) -> None:
    """deadline() agrees with add_working_days() and expires at 24:00 Shanghai of that day."""
    trigger, working_days = case
    deadline = CALENDAR.deadline(trigger, working_days)
    last = CALENDAR.add_working_days(trigger, working_days)
    assert (deadline.last_day, deadline.provisional) == (last.day, last.provisional)
    assert deadline.due_at == datetime.combine(last.day, time(16), tzinfo=UTC)
    assert deadline.provisional == (last.day.year == 2027)


def test_a_calendar_source_keeps_its_calendar_until_a_revision_asks_for_the_new_notice(
    tmp_path: Path,
) -> None:
    """R-CAL-4: a notice dropped in a directory is read on an announced revision, not on every computation."""
    source = CalendarSource([tmp_path])
    before = source.current()
    (tmp_path / "2027.toml").write_text(
        'year = 2027\nrevision = "2027-test-r1"\nstatus = "published"\nsource = "test notice"\n'
        'holidays = ["2027-01-01/2027-01-03"]\nmakeup_workdays = []\n',
        encoding="utf-8",
    )
    assert source.current() is before
    revised = source.current(reload=True)
    assert revised.version != before.version
    assert not revised.day(date(2027, 1, 4)).provisional


def test_a_deadline_reads_as_24_00_of_its_last_day_in_shanghai() -> None:
    """R-CAL-1 for people: the end of 2026-10-13 is 2026-10-13 24:00, not 10-14 00:00 (or 16:00 UTC)."""
    assert deadline_text(end_of_day(date(2026, 10, 13))) == "2026-10-13 24:00"
    assert deadline_text(datetime(2026, 10, 13, 2, 30, tzinfo=UTC)) == "2026-10-13 10:30"
