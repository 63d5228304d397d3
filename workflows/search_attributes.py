"""Typed search attributes: how supervisors and portals find cases with one visibility query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

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
)


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
