"""The city's figures as supervisors read them: one function the CLI and the gateway both call, so
``onewindow report`` and ``GET /report`` give the same numbers (``workflows.domain.figures``)."""

from __future__ import annotations

from datetime import date, datetime

from workflows.client import Cases
from workflows.domain.catalogue import Catalogue
from workflows.domain.errors import NotAuthorised
from workflows.domain.events import Actor, Role
from workflows.domain.figures import FigureRules, Report, check_range, report, shipped_rules

# Who reads figures: supervision and the government see every department; a department's own people,
# the cases of their department only (the visibility scope a list of cases has).
REPORT_READERS = frozenset(
    {Role.SUPERVISOR, Role.GOVERNMENT_LEADER, Role.DEPARTMENT_HEAD, Role.APPROVER, Role.HOTLINE_OPERATOR}
)
EVERY_DEPARTMENT = frozenset({Role.SUPERVISOR, Role.GOVERNMENT_LEADER, Role.HOTLINE_OPERATOR})


async def city_report(
    cases: Cases,
    first_day: date,
    last_day: date,
    *,
    reader: Actor,
    now: datetime,
    catalogue: Catalogue,
    rules: FigureRules | None = None,
) -> Report:
    """The figures of the cases ``reader`` may read whose deadline falls in the range, at ``now``."""
    if reader.role not in REPORT_READERS:
        raise NotAuthorised(reader.id, f"the city's figures are not for the role {reader.role.value}")
    check_range(first_day, last_day)
    rows = await cases.figures_rows(first_day, last_day, reader=reader)
    found = report(
        rows,
        first_day=first_day,
        last_day=last_day,
        now=now,
        rules=rules or shipped_rules(),
        online_matters={matter.code: matter.online for matter in catalogue.matters},
    )
    if reader.role in EVERY_DEPARTMENT or reader.department is None:
        return found
    # A department's own row only: another department's would count just the cases they share.
    own = tuple(group for group in found.by_department if group.group == reader.department)
    return found.model_copy(update={"by_department": own})
