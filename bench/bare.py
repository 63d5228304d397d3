"""The bare Temporal workflows ``bench.throughput`` compares the engine with: only temporalio imported, as
the workflow sandbox re-imports this module for each instance."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

STATUS = SearchAttributeKey.for_keyword("OwStatus")  # a keyword the dev server knows (onewindow's)
QUICK = timedelta(seconds=10)


@activity.defn(name="bare_effect")
async def bare_effect(number: str) -> str:
    """An activity that does nothing but answer."""
    return number


@workflow.defn(name="BareSameShape")
class BareSameShape:
    """The server calls of a whole case without its rules."""

    def __init__(self) -> None:
        self._approved = False

    @workflow.run
    async def run(self, number: str) -> None:
        for _ in range(2):  # registration: the catalogue entry and the deadline plan
            await workflow.execute_local_activity(bare_effect, number, start_to_close_timeout=QUICK)
        workflow.upsert_search_attributes([STATUS.value_set("received")])
        deadline = asyncio.ensure_future(workflow.sleep(timedelta(days=5)))  # the acceptance deadline
        await workflow.wait_condition(lambda: self._approved)
        await workflow.execute_activity(bare_effect, number, start_to_close_timeout=QUICK)  # issuance
        workflow.upsert_search_attributes([STATUS.value_set("issued")])
        deadline.cancel()
        workflow.upsert_search_attributes([STATUS.value_set("closed")])

    async def _decide(self, number: str, status: str) -> str:
        await workflow.execute_local_activity(bare_effect, number, start_to_close_timeout=QUICK)
        for _ in range(2):  # the effects: the applicant told, the department told
            await workflow.execute_activity(bare_effect, number, start_to_close_timeout=QUICK)
        workflow.upsert_search_attributes([STATUS.value_set(status)])
        return status

    @workflow.update
    async def accept(self, number: str) -> str:
        """As the window's acceptance: a plan, two effects, an upsert."""
        return await self._decide(number, "under_review")

    @workflow.update
    async def approve(self, number: str) -> str:
        """As the department's approval: a plan, two effects, an upsert; issuance follows."""
        decided = await self._decide(number, "approved")
        self._approved = True
        return decided


@workflow.defn(name="BareMinimal")
class BareMinimal:
    """The least a case costs: started, updated twice, completed."""

    def __init__(self) -> None:
        self._updates = 0

    @workflow.run
    async def run(self, number: str) -> None:
        await workflow.wait_condition(lambda: self._updates == 2)

    @workflow.update
    async def decide(self, number: str) -> str:
        """A decision that changes nothing but the count."""
        self._updates += 1
        return number
