"""Loading the reference data at start-up: the working-day calendar and the matter catalogue.

This is the only place that reads data files; the domain receives validated, immutable objects. Loading
runs in entry points and activities, never inside workflow code.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from datetime import date
from importlib.metadata import version
from pathlib import Path

from pydantic import ValidationError

from workflows.domain.calendar import CalendarNotice, WorkingCalendar, YearCalendar
from workflows.domain.catalogue import Catalogue, parse_catalogue
from workflows.domain.clock import WarningPolicy
from workflows.domain.errors import CalendarDataInvalid, CatalogueInvalid

DATA_DIR = Path(__file__).parent / "data"
SHIPPED_CALENDAR_DIR = DATA_DIR / "calendar"
SHIPPED_CATALOGUE = DATA_DIR / "catalogue.toml"

CALENDAR_DIRS_VARIABLE = "ONEWINDOW_CALENDAR_DIRS"
CATALOGUE_VARIABLE = "ONEWINDOW_CATALOGUE"


def packaged_years() -> list[YearCalendar]:
    """The years published by the State Council, as packaged by ``chinese-calendar`` (2004 onwards)."""
    from chinese_calendar import constants  # noqa: PLC0415 - heavy table, only needed at start-up

    package_version = version("chinese-calendar")
    holidays: dict[int, set[date]] = {}
    makeup: dict[int, set[date]] = {}
    for day in constants.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in constants.workdays:
        makeup.setdefault(day.year, set()).add(day)
    return [
        YearCalendar(
            year=year,
            revision=f"chinese-calendar-{package_version}",
            provisional=False,
            source=f"State Council notice for {year}, as packaged by chinese-calendar {package_version}",
            holidays=frozenset(holidays[year]),
            makeup_workdays=frozenset(makeup.get(year, ())),
        )
        for year in sorted(holidays)
    ]


def read_notices(directory: Path) -> list[YearCalendar]:
    """Every ``*.toml`` calendar notice in ``directory`` (format: ``CalendarNotice``; see the README)."""
    years = []
    for path in sorted(directory.glob("*.toml")):
        try:
            notice = CalendarNotice.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, ValidationError) as error:
            raise CalendarDataInvalid(f"calendar file {path}: {error}") from error
        try:
            years.append(notice.to_year())
        except CalendarDataInvalid as error:
            raise CalendarDataInvalid(f"calendar file {path}: {error}") from error
    return years


def calendar_dirs_from_environment() -> list[Path]:
    """Extra calendar directories named by ``ONEWINDOW_CALENDAR_DIRS`` (``os.pathsep``-separated)."""
    value = os.environ.get(CALENDAR_DIRS_VARIABLE, "")
    return [Path(part) for part in value.split(os.pathsep) if part]


def load_calendar(extra_dirs: Iterable[Path] = ()) -> WorkingCalendar:
    """The calendar in force: packaged years, then shipped notices, then ``extra_dirs``, later ones winning.

    A later source replaces a year wholesale, which is how a newly published notice replaces provisional
    data and how an amendment (as in 2019 and 2020) replaces a published year.
    """
    by_year = {year.year: year for year in packaged_years()}
    for directory in [SHIPPED_CALENDAR_DIR, *extra_dirs, *calendar_dirs_from_environment()]:
        if not directory.is_dir():
            raise CalendarDataInvalid(f"calendar directory {directory} does not exist")
        by_year |= {year.year: year for year in read_notices(directory)}
    return WorkingCalendar(by_year.values())


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The matter catalogue from ``path``, ``$ONEWINDOW_CATALOGUE`` or the shipped file, validated."""
    chosen = path or Path(os.environ.get(CATALOGUE_VARIABLE, SHIPPED_CATALOGUE))
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CatalogueInvalid(f"cannot read the matter catalogue {chosen}: {error}") from error
    return parse_catalogue(data)


class CalendarSource:
    """The calendar in force, loaded once and reloaded when a revision is announced (R-CAL-4).

    Workers keep running while the State Council publishes: an operator drops the new notice into a
    calendar directory and signals the running cases (``onewindow calendar load``); each case's next
    deadline computation then asks for a reload. A computation that failed (a year with no data) asks
    again on its retry, so a notice published without the announcement is still found. Either way the
    reload serves every case of the worker, each of which records the new version when it next plans.
    Nothing reads the disk otherwise.
    """

    def __init__(self, extra_dirs: Iterable[Path] = ()) -> None:
        self._extra_dirs = list(extra_dirs)
        self._calendar: WorkingCalendar | None = None

    def current(self, *, reload: bool = False) -> WorkingCalendar:
        """The loaded calendar; with ``reload``, the notice files as they are now."""
        if self._calendar is None or reload:
            self._calendar = load_calendar(self._extra_dirs)
        return self._calendar


SHIPPED_SUPERVISION = DATA_DIR / "supervision.toml"


def load_warning_policy(path: Path = SHIPPED_SUPERVISION) -> WarningPolicy:
    """The warning thresholds (DESIGN.md section 8) from ``supervision.toml``."""
    try:
        return WarningPolicy.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
        raise CatalogueInvalid(f"supervision settings {path}: {error}") from error
