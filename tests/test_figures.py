"""The city's figures (DESIGN.md section 8) over a seeded set of cases and complaints, checked against
figures computed by hand: which department is late, by how much, and whether the 90 % targets are met."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from workflows.domain.calendar import SHANGHAI, end_of_day
from workflows.domain.clock import WarningLevel
from workflows.domain.errors import InvalidCommand
from workflows.domain.figures import (
    CaseFacts,
    CaseKind,
    FigureRules,
    GroupFigures,
    Report,
    deadline_day,
    report,
    shipped_rules,
)

NOTICE, YELLOW, RED = WarningLevel.NOTICE, WarningLevel.YELLOW, WarningLevel.RED
MARKET, HEALTH, LAND = "market_regulation", "health", "natural_resources"
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=SHANGHAI)
APP, COMPLAINT = CaseKind.APPLICATION, CaseKind.COMPLAINT


def _on(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=SHANGHAI)


def _due(month: int, day: int) -> datetime:
    return end_of_day(date(2026, month, day))


def _application(case_id: str, departments: tuple[str, ...], due: datetime, **facts: object) -> CaseFacts:
    matter = "FOOD-BUSINESS" if MARKET in departments else "PUBLIC-HEALTH"
    return CaseFacts.model_validate(
        {"case_id": case_id, "kind": APP, "matter": matter, "departments": departments, "deadline": due}
        | facts
    )


def _complaint(case_id: str, department: str, due: datetime, **facts: object) -> CaseFacts:
    category = "business_environment" if department == MARKET else "real_estate_registration"
    return CaseFacts.model_validate(
        {"case_id": case_id, "kind": COMPLAINT, "matter": category, "departments": (department,)}
        | {"deadline": due}
        | facts
    )


SEEDED = (
    # Applications: done in time, done late, overdue, done early, in progress, outside the range,
    # overdue but explained, and a joint case of both departments.
    _application(
        "A1",
        (MARKET,),
        _due(3, 9),
        done_at=_on(5),
        on_time=True,
        window_visits=1,
        counted_days=3,
        elapsed_days=3,
    ),
    _application(
        "A2",
        (MARKET,),
        _due(3, 9),
        done_at=_on(12),
        on_time=False,
        window_visits=2,
        counted_days=7,
        elapsed_days=9,
        warnings={NOTICE, YELLOW, RED},
    ),
    _application("A3", (MARKET,), _due(3, 20), window_visits=0, warnings={NOTICE, YELLOW, RED}),
    _application(
        "A4",
        (HEALTH,),
        _due(3, 16),
        done_at=_on(10),
        on_time=True,
        window_visits=0,
        counted_days=4,
        elapsed_days=4,
        warnings={NOTICE},
    ),
    _application("A5", (HEALTH,), _due(3, 31), window_visits=1),
    _application("A6", (MARKET,), _due(4, 20), window_visits=3, warnings={RED}),
    _application(
        "A8", (HEALTH,), _due(3, 25), window_visits=0, warnings={NOTICE, YELLOW, RED}, explained=True
    ),
    _application(
        "A9",
        (MARKET, HEALTH),
        _due(3, 13),
        done_at=_on(13, 16),
        on_time=True,
        window_visits=1,
        counted_days=5,
        elapsed_days=8,
        warnings={NOTICE, YELLOW},
    ),
    # Complaints: closed in time, closed with a late reply, reopened (rated, in progress), overdue,
    # closed in time.
    _complaint("C1", MARKET, _due(3, 9), done_at=_on(6), on_time=True, ratings=("satisfied",)),
    _complaint(
        "C2",
        MARKET,
        _due(3, 9),
        done_at=_on(11),
        on_time=False,
        ratings=("basically_satisfied",),
        warnings={NOTICE, YELLOW, RED},
    ),
    _complaint("C3", MARKET, _due(3, 30), ratings=("dissatisfied",)),
    # C6: returned as misrouted and not yet re-dispatched: counted in the totals, against no department.
    _complaint("C6", MARKET, _due(3, 30), departments=()),
    _complaint("C4", LAND, _due(3, 12), warnings={NOTICE, YELLOW, RED}),
    _complaint("C5", LAND, _due(3, 10), done_at=_on(9), on_time=True, ratings=("very_satisfied",)),
)
ONLINE = {f"M{n}": n != 0 for n in range(10)}  # nine of ten matters wholly online


def _march() -> Report:
    return report(
        SEEDED,
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 31),
        now=NOW,
        rules=shipped_rules(),
        online_matters=ONLINE,
    )


def _group(groups: tuple[GroupFigures, ...], kind: CaseKind, name: str) -> GroupFigures:
    (found,) = [g for g in groups if g.kind is kind and g.group == name]
    return found


def _rates(group: GroupFigures) -> dict[str, tuple[int, int, bool | None]]:
    return {r.name: (r.numerator, r.denominator, r.met) for r in group.rates}


def test_applications_in_total_as_counted_by_hand() -> None:
    """Due: A1 A2 A3 A4 A8 A9 (A5 not yet, A6 outside); done A1 A2 A4 A9; in time A1 A4 A9."""
    totals = _group(_march().totals, APP, "all")
    assert (totals.counts["due"], totals.counts["done"], totals.counts["on_time"]) == (6, 4, 3)
    assert totals.in_progress == 1
    assert _rates(totals) == {"办结率": (4, 6, False), "按时办结率": (3, 6, False)}
    assert totals.warnings == {"notice": 5, "yellow": 4, "red": 3}
    assert (totals.average_counted_days, totals.average_elapsed_days) == (4.75, 6.0)  # 19/4, 24/4


def test_per_department_a_joint_case_counts_in_each() -> None:
    figures = _march()
    market = _group(figures.by_department, APP, MARKET)
    assert _rates(market) == {"办结率": (3, 4, False), "按时办结率": (2, 4, False)}
    health = _group(figures.by_department, APP, HEALTH)
    assert _rates(health) == {"办结率": (2, 3, False), "按时办结率": (2, 3, False)}
    assert health.in_progress == 1
    rate = next(r for r in health.rates if r.name == "办结率")
    assert rate.value == pytest.approx(2 / 3)


def test_complaints_and_the_satisfaction_rate() -> None:
    """满意率 counts every call-back made (C3's 不满意 too, though C3 is not yet due)."""
    figures = _march()
    totals = _group(figures.totals, COMPLAINT, "all")
    assert _rates(totals) == {"办结率": (3, 4, False), "按时办结率": (2, 4, False), "满意率": (3, 4, False)}
    market = _group(figures.by_department, COMPLAINT, MARKET)
    assert _rates(market)["满意率"] == (2, 3, False)
    assert (totals.in_progress, market.in_progress) == (2, 1)  # C3 and C6; C6 is no department's
    land = _group(figures.by_department, COMPLAINT, LAND)
    assert _rates(land) == {"办结率": (1, 2, False), "按时办结率": (1, 2, False), "满意率": (1, 1, True)}
    by_category = _group(figures.by_matter, COMPLAINT, "real_estate_registration")
    assert by_category.counts == land.counts


def test_the_overdue_list_longest_first_with_the_explanations_owed() -> None:
    overdue = [(o.case_id, o.days_late, o.explanation_owed) for o in _march().overdue]
    assert overdue == [("C4", 15, None), ("A3", 7, True), ("A8", 2, False)]  # 第36条 is for cases


def test_the_seeds_service_figures() -> None:
    """网上可办率 9/10 meets 90 %; 最多跑一次: A1 A3 A4 A8 A9 of the six due applications (A2 came twice)."""
    online, one_visit = _march().service
    assert (online.name, online.numerator, online.denominator, online.met) == ("网上可办率", 9, 10, True)
    assert (one_visit.name, one_visit.numerator, one_visit.denominator, one_visit.met) == (
        "最多跑一次",
        5,
        6,
        False,
    )


def test_a_deadline_at_24_00_belongs_to_its_last_day() -> None:
    assert deadline_day(end_of_day(date(2026, 3, 31))) == date(2026, 3, 31)
    april = report(
        SEEDED,
        first_day=date(2026, 4, 1),
        last_day=date(2026, 4, 30),
        now=NOW,
        rules=shipped_rules(),
        online_matters=ONLINE,
    )
    assert [c.counts["due"] for c in april.totals] == [0]  # A6 is not yet due
    assert april.totals[0].in_progress == 1


def test_formulas_are_data_and_a_bad_one_is_refused() -> None:
    """A city that counts 基本满意 as dissatisfied changes the TOML, not the code."""
    rules = shipped_rules()
    strict = FigureRules.model_validate(
        rules.model_dump()
        | {
            "formulas": [
                {
                    "name": "满意率",
                    "applies_to": "complaint",
                    "numerator": ["very_satisfied", "satisfied"],
                    "denominator": ["rated"],
                    "target": 0.9,
                },
            ]
        }
    )
    figures = report(
        SEEDED,
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 31),
        now=NOW,
        rules=strict,
        online_matters=ONLINE,
    )
    assert _rates(_group(figures.totals, COMPLAINT, "all")) == {"满意率": (2, 4, False)}
    assert _group(figures.totals, APP, "all").rates == ()
    with pytest.raises(ValidationError):
        FigureRules.model_validate(
            {
                "formulas": [
                    {
                        "name": "x",
                        "applies_to": "complaint",
                        "numerator": ["nonsense"],
                        "denominator": ["due"],
                    }
                ]
            }
        )
    with pytest.raises(ValidationError):
        FigureRules.model_validate(
            {
                "formulas": [
                    {
                        "name": "x",
                        "applies_to": "complaint",
                        "numerator": ["done"],
                        "denominator": ["due"],
                        "target": 1.5,
                    }
                ]
            }
        )
    with pytest.raises(InvalidCommand, match="ends before"):
        report(
            SEEDED,
            first_day=date(2026, 3, 2),
            last_day=date(2026, 3, 1),
            now=NOW,
            rules=rules,
            online_matters=ONLINE,
        )
