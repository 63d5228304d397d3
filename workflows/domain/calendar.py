"""The statutory working-day calendar (DESIGN.md section 5, R-CAL-1 to R-CAL-4).

Every answer carries whether it rests on a provisional year (no State Council notice yet) and the version
of the calendar data that produced it, so a deadline can be recomputed and audited when a notice lands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from functools import cached_property
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

from workflows.domain.digests import sha256_hex
from workflows.domain.errors import CalendarDataInvalid, CalendarNotPublished

# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tz database, which keeps
# the arithmetic identical on every worker and inside the workflow sandbox.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
# A calendar version names its data by digest: ``cal-`` and 12 hex digits.
_VERSION_DIGITS = 12
CALENDAR_VERSION_PATTERN = rf"^cal-[0-9a-f]{{{_VERSION_DIGITS}}}$"

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


class DayKind(StrEnum):
    """Why a day is, or is not, a working day."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班日: a weekend day that is worked


class RestDayReceipt(StrEnum):
    """R-CAL-3 (configurable): how a submission received on a non-working day starts its period."""

    NEXT_WORKING_DAY_IS_DAY_ONE = "next-working-day-is-day-one"
    """Default: the receipt date is the trigger, so day 1 is the next working day."""
    RECEIVED_ON_NEXT_WORKING_DAY = "received-on-next-working-day"
    """The receipt is deemed to happen on the next working day, which is then the (uncounted) trigger."""


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant {instant.isoformat()} has no time zone; the calendar needs an aware time")
    return instant


def local_date(instant: datetime) -> date:
    """The calendar date of an instant in Asia/Shanghai, where every statutory period is counted."""
    return _require_aware(instant).astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """24:00 Asia/Shanghai of ``day`` (R-CAL-1: a period ends at the end of its last day)."""
    return datetime.combine(day + _ONE_DAY, time(0), tzinfo=SHANGHAI)


def deadline_text(instant: datetime) -> str:
    """A deadline as people read it, in Shanghai time: midnight is 24:00 of the last day (R-CAL-1)."""
    local = instant.astimezone(SHANGHAI)
    if local.time() == time(0):
        return f"{(local - _ONE_DAY).date().isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


class YearCalendar(BaseModel):
    """One year's exceptions to the weekend rule, as one revision of published or provisional data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1949, le=9999)
    revision: str = Field(min_length=1, description="Version id of this year's data, e.g. '2027-r1'.")
    provisional: bool = Field(description="True until the State Council notice for the year is loaded.")
    source: str = Field(min_length=1)
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()

    @model_validator(mode="after")
    def _days_belong_to_the_year_and_do_not_clash(self) -> Self:
        for field_name, days in (("holidays", self.holidays), ("makeup_workdays", self.makeup_workdays)):
            strays = sorted(d.isoformat() for d in days if d.year != self.year)
            if strays:
                raise ValueError(f"{field_name} lists days outside {self.year}: {', '.join(strays)}")
        clash = sorted(d.isoformat() for d in self.holidays & self.makeup_workdays)
        if clash:
            raise ValueError(f"days are both holiday and make-up workday: {', '.join(clash)}")
        return self

    def kind(self, day: date) -> DayKind:
        """Classify a day of this year."""
        if day in self.makeup_workdays:
            return DayKind.MAKEUP_WORKDAY
        if day in self.holidays:
            return DayKind.HOLIDAY
        return DayKind.WEEKEND if day.weekday() >= _SATURDAY else DayKind.WORKDAY


def _parse_day_or_range(entry: str) -> frozenset[date]:
    """'2027-02-05' or the ISO 8601 interval '2027-02-05/2027-02-08' (both ends included)."""
    start_text, _, end_text = entry.partition("/")
    start = date.fromisoformat(start_text.strip())
    end = date.fromisoformat(end_text.strip()) if end_text else start
    if end < start:
        raise ValueError(f"range {entry!r} ends before it starts")
    return frozenset(start + timedelta(days=i) for i in range((end - start).days + 1))


class CalendarNotice(BaseModel):
    """The documented data-file format for a year's notice or amendment (see README, 'Calendar data').

    Holidays and make-up workdays are ISO dates or ISO 8601 intervals ``start/end``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1949, le=9999)
    revision: str = Field(min_length=1)
    status: Literal["published", "provisional"]
    source: str = Field(min_length=1)
    holidays: tuple[str, ...] = ()
    makeup_workdays: tuple[str, ...] = ()

    def to_year(self) -> YearCalendar:
        """The year's calendar this notice defines; raises ``CalendarDataInvalid`` on bad days."""
        try:
            holidays = frozenset().union(*(_parse_day_or_range(e) for e in self.holidays))
            makeup = frozenset().union(*(_parse_day_or_range(e) for e in self.makeup_workdays))
            return YearCalendar(
                year=self.year,
                revision=self.revision,
                provisional=self.status == "provisional",
                source=self.source,
                holidays=holidays,
                makeup_workdays=makeup,
            )
        except ValueError as error:
            raise CalendarDataInvalid(f"calendar notice for {self.year}: {error}") from error


class DayInfo(BaseModel):
    """Whether one day is a working day, and on what data that answer rests."""

    model_config = ConfigDict(frozen=True)

    day: date
    kind: DayKind
    provisional: bool

    @property
    def working(self) -> bool:
        """Working days are ordinary weekdays and make-up workdays."""
        return self.kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


class WorkingDate(BaseModel):
    """A date found by counting working days."""

    model_config = ConfigDict(frozen=True)

    day: date
    provisional: bool
    calendar_version: str


class WorkingDayCount(BaseModel):
    """A number of working days between two dates (negative when the end is before the start)."""

    model_config = ConfigDict(frozen=True)

    days: int
    provisional: bool
    calendar_version: str


class Deadline(BaseModel):
    """A statutory period's end: its last working day and the instant (24:00 Shanghai) it expires."""

    model_config = ConfigDict(frozen=True)

    last_day: date
    due_at: datetime
    provisional: bool
    calendar_version: str


class WorkingCalendar:
    """Working-day arithmetic over a set of year calendars; immutable once built."""

    def __init__(self, years: Iterable[YearCalendar], *, version: str | None = None) -> None:
        """``version`` names a calendar cut from a larger one (``snapshot``); by default it is a digest."""
        by_year: dict[int, YearCalendar] = {}
        for year in years:
            if year.year in by_year:
                raise CalendarDataInvalid(
                    f"two calendars for {year.year}: {by_year[year.year].revision!r} and {year.revision!r}"
                )
            by_year[year.year] = year
        self._years: Mapping[int, YearCalendar] = dict(sorted(by_year.items()))
        self.version = version or self._digest()

    def _digest(self) -> str:
        """The version id: a digest of every year's data (sets sorted: their order varies per process)."""
        canonical = "".join(
            repr(
                (
                    year.year,
                    year.revision,
                    year.provisional,
                    sorted(year.holidays),
                    sorted(year.makeup_workdays),
                )
            )
            for year in self._years.values()
        )
        return f"cal-{sha256_hex(canonical, _VERSION_DIGITS)}"

    @property
    def years(self) -> Mapping[int, YearCalendar]:
        """The loaded years, oldest first."""
        return self._years

    def snapshot(self, from_year: int) -> CalendarSnapshot:
        """The years from ``from_year`` on, to pin in a case: all it can ever count (R-CAL-4)."""
        return CalendarSnapshot(
            version=self.version,
            first_year=min(self._years, default=from_year),
            years=tuple(y for y in self._years.values() if y.year >= from_year),
        )

    def _year(self, year: int) -> YearCalendar:
        try:
            return self._years[year]
        except KeyError:
            raise CalendarNotPublished(year) from None

    def day(self, day: date) -> DayInfo:
        """Is ``day`` a working day (R-CAL-1, R-XK-82), and is that provisional (R-CAL-4)?"""
        year = self._year(day.year)
        return DayInfo(day=day, kind=year.kind(day), provisional=year.provisional)

    def trigger_day(
        self, received: date | datetime, policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE
    ) -> date:
        """The uncounted trigger date of a period started by a receipt on ``received`` (R-CAL-3)."""
        received_on = local_date(received) if isinstance(received, datetime) else received
        if policy is RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE or self.day(received_on).working:
            return received_on
        return self.add_working_days(received_on, 1).day

    def add_working_days(self, trigger: date, working_days: NonNegativeInt) -> WorkingDate:
        """The ``working_days``-th working day strictly after ``trigger`` (R-CAL-1); 0 gives the trigger.

        Deliberately not ``chinese_calendar.find_workday``, which counts differently from a rest day.
        """
        if working_days < 0:
            raise ValueError(f"cannot count {working_days} working days forward")
        provisional = self._year(trigger.year).provisional and working_days == 0
        day, counted = trigger, 0
        while counted < working_days:
            day += _ONE_DAY
            info = self.day(day)
            provisional = provisional or info.provisional
            counted += info.working
        return WorkingDate(day=day, provisional=provisional, calendar_version=self.version)

    def working_days_between(self, start: date | datetime, end: date | datetime) -> WorkingDayCount:
        """Working days after ``start``'s date up to and including ``end``'s date (both in Shanghai).

        Counting from a trigger to ``add_working_days(trigger, n)`` gives ``n``.
        """
        first = local_date(start) if isinstance(start, datetime) else start
        last = local_date(end) if isinstance(end, datetime) else end
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        days, provisional = 0, False
        day = first
        while day < last:
            day += _ONE_DAY
            info = self.day(day)
            provisional = provisional or info.provisional
            days += info.working
        return WorkingDayCount(days=sign * days, provisional=provisional, calendar_version=self.version)

    def deadline(self, trigger: date, working_days: NonNegativeInt) -> Deadline:
        """The period of ``working_days`` triggered on ``trigger`` ends at 24:00 Shanghai of its last day."""
        last = self.add_working_days(trigger, working_days)
        return Deadline(
            last_day=last.day,
            due_at=end_of_day(last.day),
            provisional=last.provisional,
            calendar_version=self.version,
        )


class CalendarSnapshot(BaseModel):
    """The calendar a case counts with, pinned in its history and replaced only by an announced revision.

    It holds the years from the case's receipt on, so replaying a case never depends on the data files a
    worker has loaded since (R-CAL-4), and every rule can count working days without I/O.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    first_year: int = Field(
        description="The first year the source calendar holds: none earlier can be counted."
    )
    years: tuple[YearCalendar, ...] = ()

    @cached_property
    def working(self) -> WorkingCalendar:
        """The snapshot as a calendar to count with (built once per snapshot)."""
        return WorkingCalendar(self.years, version=self.version)
