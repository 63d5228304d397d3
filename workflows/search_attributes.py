"""Typed search attributes: how supervisors and portals find cases with one visibility query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from workflows.domain.clock import WarningLevel
from workflows.domain.figures import CaseFacts, CaseKind

MATTER = SearchAttributeKey.for_keyword("OwMatter")
DEPARTMENTS = SearchAttributeKey.for_keyword_list("OwDepartments")
STATUS = SearchAttributeKey.for_keyword("OwStatus")
DUE_AT = SearchAttributeKey.for_datetime("OwDueAt")
WARNING_LEVEL = SearchAttributeKey.for_keyword("OwWarningLevel")
GREEN_CHANNEL = SearchAttributeKey.for_bool("OwGreenChannel")
APPLICANT_HASH = SearchAttributeKey.for_keyword("OwApplicantHash")
# Who may read the case (``workflows.domain.access``): a list is filtered by the rule a single read obeys.
READERS = SearchAttributeKey.for_keyword_list("OwReaders")
# The calendar version the case counts with: an announcement skips the cases already on the new one.
CALENDAR = SearchAttributeKey.for_keyword("OwCalendar")
# The project a matter's application belongs to: set by the project when it starts the child.
PARENT = SearchAttributeKey.for_keyword("OwParent")

# A complaint's application (12345/8890): the complaints about a case, found with one query.
CONCERNS = SearchAttributeKey.for_keyword("OwConcerns")
# What the city's figures count (``workflows.domain.figures``): one row per case, read from visibility.
DEADLINE = SearchAttributeKey.for_datetime("OwDeadline")
DONE_AT = SearchAttributeKey.for_datetime("OwDoneAt")
ON_TIME = SearchAttributeKey.for_bool("OwOnTime")
WARNINGS = SearchAttributeKey.for_keyword_list("OwWarnings")
# Every call-back's rating, comma-separated (a keyword list is one of three the SQL visibility allows).
RATINGS = SearchAttributeKey.for_keyword("OwRatings")
WINDOW_VISITS = SearchAttributeKey.for_int("OwWindowVisits")
COUNTED_DAYS = SearchAttributeKey.for_int("OwCountedDays")
ELAPSED_DAYS = SearchAttributeKey.for_int("OwElapsedDays")
EXPLAINED = SearchAttributeKey.for_bool("OwExplained")

ALL: Sequence[SearchAttributeKey[Any]] = (
    MATTER,
    DEPARTMENTS,
    STATUS,
    DUE_AT,
    WARNING_LEVEL,
    GREEN_CHANNEL,
    APPLICANT_HASH,
    READERS,
    CALENDAR,
    PARENT,
    CONCERNS,
    DEADLINE,
    DONE_AT,
    ON_TIME,
    WARNINGS,
    RATINGS,
    WINDOW_VISITS,
    COUNTED_DAYS,
    ELAPSED_DAYS,
    EXPLAINED,
)

# The workflow type of each kind of case the figures count.
REPORTED_TYPES: Mapping[CaseKind, str] = {
    CaseKind.APPLICATION: "ApplicationWorkflow",
    CaseKind.COMPLAINT: "ComplaintWorkflow",
}


def reported(facts: CaseFacts) -> Mapping[SearchAttributeKey[Any], object]:
    """The search attributes a case keeps for the city's figures (nothing personal)."""
    return {
        DEADLINE: facts.deadline,
        DONE_AT: facts.done_at,
        ON_TIME: facts.on_time,
        WARNINGS: sorted(level.value for level in facts.warnings),
        RATINGS: ",".join(facts.ratings) or None,
        WINDOW_VISITS: facts.window_visits,
        COUNTED_DAYS: facts.counted_days,
        ELAPSED_DAYS: facts.elapsed_days,
        EXPLAINED: facts.explained or None,
    }


def facts_from(case_id: str, kind: CaseKind, attributes: TypedSearchAttributes) -> CaseFacts:
    """The row of the figures a case's search attributes describe (the inverse of ``reported``)."""
    return CaseFacts(
        case_id=case_id,
        kind=kind,
        matter=attributes.get(MATTER) or "",
        departments=tuple(attributes.get(DEPARTMENTS) or ()),
        deadline=attributes.get(DEADLINE),
        done_at=attributes.get(DONE_AT),
        on_time=attributes.get(ON_TIME),
        warnings=frozenset(WarningLevel(v) for v in attributes.get(WARNINGS) or () if v in _LEVELS),
        ratings=tuple(filter(None, (attributes.get(RATINGS) or "").split(","))),
        window_visits=attributes.get(WINDOW_VISITS),
        counted_days=attributes.get(COUNTED_DAYS),
        elapsed_days=attributes.get(ELAPSED_DAYS),
        explained=bool(attributes.get(EXPLAINED)),
    )


_LEVELS = frozenset(level.value for level in WarningLevel)


async def register(client: Client) -> list[str]:
    """Add the attributes the namespace lacks (idempotent); returns the names added.

    The time-skipping test server cannot list attributes; there every attribute is added (it starts empty).
    """
    namespace = client.namespace
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as error:
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in ALL
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
