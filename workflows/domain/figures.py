"""The figures a city's approval service is judged by (DESIGN.md section 8), as pure rules over one row per
case: 办结率, 按时办结率, 满意率, warning counts, the overdue list with the explanations still owed
(优化营商环境条例 第36条), counted against elapsed working days, 网上可办率 and 最多跑一次.

Each row (``CaseFacts``) is what a case keeps in its search attributes, so the report reads Temporal's
visibility and never a second copy of the truth. A case is *due* in a range when its deadline falls in it
and it is either done or its deadline has passed by now: a case in flight whose deadline is still ahead
is counted as in progress, not as late. The formulas are data (``workflows/data/figures.toml``).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.domain.calendar import local_date
from workflows.domain.clock import WarningLevel
from workflows.domain.errors import InvalidCommand
from workflows.domain.values import Instant

# A range is at most about three years long: a report is read by people, and each case in it is listed.
MAX_RANGE_DAYS = 1100


class CaseKind(StrEnum):
    """What is counted: an application's decision, or a complaint's handling."""

    APPLICATION = "application"
    COMPLAINT = "complaint"


class Count(StrEnum):
    """The counts a formula may add up (numerator or denominator)."""

    DUE = "due"
    DONE = "done"
    ON_TIME = "on_time"
    RATED = "rated"
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"


# The five levels of 好差评, as counts (a complaint's rating is one of them).
_RATINGS = frozenset(
    {
        Count.VERY_SATISFIED,
        Count.SATISFIED,
        Count.BASICALLY_SATISFIED,
        Count.DISSATISFIED,
        Count.VERY_DISSATISFIED,
    }
)


class CaseFacts(BaseModel):
    """One case as its search attributes describe it (what the report needs, and nothing personal)."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    kind: CaseKind
    matter: str = Field(description="The matter's code, or the complaint's category.")
    departments: tuple[str, ...]
    deadline: Instant | None = Field(description="When it is due: the decision, or the handling period.")
    done_at: Instant | None = None
    on_time: bool | None = None
    warnings: frozenset[WarningLevel] = frozenset()
    ratings: tuple[str, ...] = ()  # a complaint's call-backs, each one of the five levels
    window_visits: int | None = None  # an application's steps brought to the window in person
    counted_days: int | None = None  # the statutory clock's working days, at the decision
    elapsed_days: int | None = None  # working days from acceptance to the decision, pauses included
    explained: bool = False  # 第36条: the delay is explained


class Formula(BaseModel):
    """A rate: the sum of some counts over the sum of others, and the target it is held to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    applies_to: CaseKind
    numerator: tuple[Count, ...] = Field(min_length=1)
    denominator: tuple[Count, ...] = Field(min_length=1)
    target: Annotated[float, Field(ge=0, le=1)] | None = None


class FigureRules(BaseModel):
    """The formulas in force, and the service targets of the seed (网上可办率, 最多跑一次)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    formulas: tuple[Formula, ...] = Field(min_length=1)
    online_target: Annotated[float, Field(ge=0, le=1)] = 0.9
    one_visit_target: Annotated[float, Field(ge=0, le=1)] = 0.9

    @model_validator(mode="after")
    def _named_once(self) -> Self:
        names = [(f.applies_to, f.name) for f in self.formulas]
        if len(set(names)) != len(names):
            raise ValueError("formulas: each name once per kind of case")
        return self


def shipped_rules() -> FigureRules:
    """The formulas shipped with the engine (DESIGN.md section 8; Chaoyang's 90 % targets)."""
    text = resources.files("workflows.data").joinpath("figures.toml").read_text(encoding="utf-8")
    return FigureRules.model_validate(tomllib.loads(text))


class Rate(BaseModel):
    """One formula's value over a group of cases: None when its denominator is zero."""

    model_config = ConfigDict(frozen=True)

    name: str
    numerator: int
    denominator: int
    value: float | None
    target: float | None
    met: bool | None = Field(description="Whether the target is met; None without target or value.")


class GroupFigures(BaseModel):
    """The figures of one department or one matter (or of everything, for the totals)."""

    model_config = ConfigDict(frozen=True)

    kind: CaseKind
    group: str
    counts: dict[str, int]
    in_progress: int = Field(description="Deadline in the range and still ahead: not yet due.")
    rates: tuple[Rate, ...]
    warnings: dict[str, int] = Field(description="Cases warned at each level (notice, yellow, red).")
    average_counted_days: float | None
    average_elapsed_days: float | None


class OverdueCase(BaseModel):
    """A case past its deadline and not done: late now, and its explanation still owed or given."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    kind: CaseKind
    matter: str
    departments: tuple[str, ...]
    deadline: Instant
    days_late: int = Field(description="Calendar days since the deadline passed (rounded down).")
    explanation_owed: bool | None = Field(description="第36条, for an application (a complaint: none).")


class ServiceFigure(BaseModel):
    """网上可办率 or 最多跑一次: a share, its parts and its target."""

    model_config = ConfigDict(frozen=True)

    name: str
    numerator: int
    denominator: int
    value: float | None
    target: float
    met: bool | None


class Report(BaseModel):
    """What a supervisor reads: which department is late, by how much, and whether the targets are met."""

    model_config = ConfigDict(frozen=True)

    first_day: date
    last_day: date
    as_of: Instant
    totals: tuple[GroupFigures, ...]
    by_department: tuple[GroupFigures, ...]
    by_matter: tuple[GroupFigures, ...]
    overdue: tuple[OverdueCase, ...]
    service: tuple[ServiceFigure, ...]


def deadline_day(deadline: datetime) -> date:
    """The last day a deadline counts (R-CAL-1: 24:00 of that day is the next day's first instant)."""
    return local_date(deadline - timedelta(microseconds=1))


def share(value: float | None) -> str:
    """A rate as a percentage with one decimal, as the CLI and the console print it ("—" without one)."""
    return "—" if value is None else f"{value:.1%}"


class RangeInvalid(InvalidCommand):
    """The report's range ends before it begins, or spans more than a person reads."""


def check_range(first_day: date, last_day: date) -> None:
    """A range of whole days that a person can read: refused otherwise, before anything is read."""
    if last_day < first_day:
        raise RangeInvalid("the range ends before it begins")
    if (last_day - first_day).days > MAX_RANGE_DAYS:
        raise RangeInvalid(f"a range spans at most {MAX_RANGE_DAYS} days")


def report(
    cases: Iterable[CaseFacts],
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    rules: FigureRules,
    online_matters: Mapping[str, bool],
) -> Report:
    """The figures of the cases whose deadline falls from ``first_day`` to ``last_day`` (Shanghai), at
    ``now``; ``online_matters`` is the catalogue's 全程网办 flag of each matter (网上可办率)."""
    check_range(first_day, last_day)
    in_range = [
        c for c in cases if c.deadline is not None and first_day <= deadline_day(c.deadline) <= last_day
    ]
    in_range.sort(key=lambda c: (c.kind, c.case_id))
    overdue = tuple(
        OverdueCase(
            case_id=c.case_id,
            kind=c.kind,
            matter=c.matter,
            departments=c.departments,
            deadline=c.deadline,
            days_late=(now - c.deadline).days,
            explanation_owed=not c.explained if c.kind is CaseKind.APPLICATION else None,
        )
        for c in in_range
        if c.deadline is not None and c.done_at is None and c.deadline <= now
    )
    return Report(
        first_day=first_day,
        last_day=last_day,
        as_of=now,
        totals=_grouped(in_range, lambda c: ("all",), now, rules),
        by_department=_grouped(in_range, lambda c: c.departments, now, rules),
        by_matter=_grouped(in_range, lambda c: (c.matter,), now, rules),
        overdue=tuple(sorted(overdue, key=lambda o: (-o.days_late, o.case_id))),
        service=(_online(online_matters, rules), _one_visit(in_range, now, rules)),
    )


def _grouped(
    cases: list[CaseFacts], groups: Callable[[CaseFacts], Iterable[str]], now: datetime, rules: FigureRules
) -> tuple[GroupFigures, ...]:
    """Each (kind, group) with its figures; a case of several departments counts in each of them."""
    members: dict[tuple[CaseKind, str], list[CaseFacts]] = {}
    for case in cases:
        for group in dict.fromkeys(groups(case)):
            members.setdefault((case.kind, group), []).append(case)
    return tuple(_figures(kind, group, members[kind, group], now, rules) for kind, group in sorted(members))


def _due(case: CaseFacts, now: datetime) -> bool:
    return case.done_at is not None or (case.deadline is not None and case.deadline <= now)


def _counts(cases: list[CaseFacts], now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter({c.value: 0 for c in Count})
    for case in cases:
        for rating in case.ratings:  # a call-back made counts whether or not the complaint is due
            if rating in _RATINGS:
                counts[Count.RATED] += 1
                counts[rating] += 1
        if not _due(case, now):
            continue
        counts[Count.DUE] += 1
        if case.done_at is not None:
            counts[Count.DONE] += 1
            counts[Count.ON_TIME] += bool(case.on_time)
    return counts


def _figures(
    kind: CaseKind, group: str, cases: list[CaseFacts], now: datetime, rules: FigureRules
) -> GroupFigures:
    counts = _counts(cases, now)
    decided = [c for c in cases if c.done_at is not None and c.counted_days is not None]
    return GroupFigures(
        kind=kind,
        group=group,
        counts=dict(counts),
        in_progress=sum(not _due(c, now) for c in cases),
        rates=tuple(_rate(f, counts) for f in rules.formulas if f.applies_to is kind),
        warnings={
            level.value: sum(level in c.warnings for c in cases)
            for level in (WarningLevel.NOTICE, WarningLevel.YELLOW, WarningLevel.RED)
        },
        average_counted_days=_average(c.counted_days for c in decided),
        average_elapsed_days=_average(c.elapsed_days for c in decided),
    )


def _rate(formula: Formula, counts: Counter[str]) -> Rate:
    numerator = sum(counts[c] for c in formula.numerator)
    denominator = sum(counts[c] for c in formula.denominator)
    value = numerator / denominator if denominator else None
    met = None if value is None or formula.target is None else value >= formula.target
    return Rate(
        name=formula.name,
        numerator=numerator,
        denominator=denominator,
        value=value,
        target=formula.target,
        met=met,
    )


def _average(values: Iterable[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 2) if known else None


def _share(name: str, numerator: int, denominator: int, target: float) -> ServiceFigure:
    value = numerator / denominator if denominator else None
    return ServiceFigure(
        name=name,
        numerator=numerator,
        denominator=denominator,
        value=value,
        target=target,
        met=None if value is None else value >= target,
    )


def _online(online_matters: Mapping[str, bool], rules: FigureRules) -> ServiceFigure:
    """网上可办率: the catalogue's matters that can be done wholly online, of all its matters."""
    return _share("网上可办率", sum(online_matters.values()), len(online_matters), rules.online_target)


def _one_visit(cases: list[CaseFacts], now: datetime, rules: FigureRules) -> ServiceFigure:
    """最多跑一次: the due applications whose steps took the applicant to the window at most once."""
    counted = [
        c for c in cases if c.kind is CaseKind.APPLICATION and c.window_visits is not None and _due(c, now)
    ]
    at_most_once = sum(c.window_visits is not None and c.window_visits <= 1 for c in counted)
    return _share("最多跑一次", at_most_once, len(counted), rules.one_visit_target)
