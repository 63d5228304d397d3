"""优化营商环境条例 第36条: an overdue case's explanation, given by the head of a deciding department while
it is red, once, pushed to supervision and counted by the figures (on the time-skipping server)."""

from __future__ import annotations

import pytest

from activities.outbox import Outbox
from tests.builders import department_head, window_officer
from tests.conftest import RunWorker
from tests.test_complaint import _records
from tests.test_workflow_acceptance import MONDAY, desk_at, intake_of, until
from workflows.domain.application import replay, report_facts
from workflows.domain.clock import WarningLevel
from workflows.domain.commands import AcceptApplication, ExplainOverdue
from workflows.domain.errors import OneWindowError
from workflows.testkit import kit_cases

MARKET = "market_regulation"


async def test_an_overdue_case_is_explained_once_by_its_department_head(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    async with desk_at(run_worker, MONDAY) as desk:
        cases = kit_cases(desk.env.client, desk.task_queue)
        await cases.submit("LATE-1", intake_of("FOOD-BUSINESS", await desk.now()))
        await cases.registered("LATE-1", reader=None)
        view = await cases.act("LATE-1", AcceptApplication(actor=window_officer()))
        early = ExplainOverdue(actor=department_head(MARKET), explanation="专家意见分歧")
        with pytest.raises(OneWindowError, match="not overdue"):
            await cases.act("LATE-1", early)
        assert view.due_at is not None
        await desk.env.sleep(view.due_at - await desk.now())
        handle = desk.env.client.get_workflow_handle("LATE-1")
        await until(handle, lambda v: v.warning_level is WarningLevel.RED, "red")
        with pytest.raises(OneWindowError) as stranger:
            await cases.act("LATE-1", ExplainOverdue(actor=department_head("health"), explanation="x"))
        assert stranger.value.type in ("NotAuthorised", "UnknownApplication")
        explained = await cases.act("LATE-1", early)
        assert explained.overdue_explanation == "专家意见分歧"
        with pytest.raises(OneWindowError, match="explained already"):
            await cases.act("LATE-1", early)
        pushed = await _records(outbox, "supervision", "LATE-1", 2)
        assert "overdue_explained" in str(pushed)
        events = await cases.events("LATE-1", reader=None)
        facts = report_facts(replay(events))
        assert (facts.explained, facts.done_at, facts.deadline) == (True, None, view.due_at)
