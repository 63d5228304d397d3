"""The city's figures read from Temporal's visibility, on the dev server: ``onewindow report`` and
``GET /report`` give the same numbers, and they are the ones counted by hand for the seeded cases.

The dev server runs on the real clock, so nothing here is late: lateness and the overdue list are counted
by hand in ``tests/test_figures.py`` over seeded rows; this test proves the rows that visibility gives
are what the cases hold, and that both entry points read them alike.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from gateway.app import create_app
from tests.builders import approver, window_officer
from tests.conftest import Cli
from tests.test_gateway import SUPERVISOR, TOKENS, bearer, client_of
from tests.test_workflow_acceptance import intake_of
from workflows.client import Cases
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import (
    AcceptApplication,
    RecordApproval,
    RequestCorrection,
    SupplementMaterials,
)
from workflows.domain.complaint import (
    Caller,
    ComplaintChannel,
    Rating,
    RecordCallback,
    ReplyComplaint,
    SignComplaint,
)
from workflows.domain.events import Actor, Channel, Role
from workflows.messages import ComplaintIntake

MARKET = "market_regulation"
OPERATOR = Actor(id="hotline-3", role=Role.HOTLINE_OPERATOR)


def _complaint(concerns: str | None = None) -> ComplaintIntake:
    return ComplaintIntake(
        actor=OPERATOR,
        caller=Caller(name="李先生", phone="13900000000"),
        channel=ComplaintChannel.HOTLINE_12345,
        content="办理进度无人告知",
        category_code="business_environment",
        concerns=concerns,
    )


async def _seed(cases: Cases) -> dict[str, str]:
    """A: decided in time (one visit to the window); B: at the window twice, still under review; C: a
    complaint answered and closed 满意; D: a complaint about A, reopened 不满意 and handled again."""
    tag = uuid.uuid4().hex[:6]
    numbers = {name: f"{name}-{tag}" for name in "ABCD"}
    now = datetime.now(SHANGHAI)
    await cases.submit(numbers["A"], intake_of("FOOD-BUSINESS", now))
    await cases.registered(numbers["A"], reader=None)
    await cases.act(numbers["A"], AcceptApplication(actor=window_officer()))
    await cases.act(numbers["A"], RecordApproval(actor=approver(MARKET), step=MARKET, approved=True))

    partial = intake_of("FOOD-BUSINESS", now, leave_out=("food_safety_rules",))
    await cases.submit(numbers["B"], partial.model_copy(update={"channel": Channel.WINDOW}))
    await cases.registered(numbers["B"], reader=None)
    await cases.act(numbers["B"], RequestCorrection(actor=window_officer(), missing=("food_safety_rules",)))
    brought = SupplementMaterials(
        actor=window_officer(), materials=("food_safety_rules",), channel=Channel.WINDOW
    )
    await cases.act(numbers["B"], brought)
    await cases.act(numbers["B"], AcceptApplication(actor=window_officer()))

    complaints = cases.complaints()
    for name, concerns in (("C", None), ("D", numbers["A"])):
        await complaints.submit(numbers[name], _complaint(concerns))
        await complaints.registered(numbers[name], reader=None)
        await complaints.act(numbers[name], SignComplaint(actor=approver(MARKET)))
        await complaints.act(numbers[name], ReplyComplaint(actor=approver(MARKET), reply="已答复"))
    await complaints.act(numbers["C"], RecordCallback(actor=OPERATOR, rating=Rating.SATISFIED))
    await complaints.act(numbers["D"], RecordCallback(actor=OPERATOR, rating=Rating.DISSATISFIED))
    return numbers


def _rates(group: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {rate["name"]: (rate["numerator"], rate["denominator"]) for rate in group["rates"]}


def without_instant(report: dict[str, Any]) -> dict[str, Any]:
    """A report's JSON without what changes between two readings: the instant, and days late."""
    return {key: value for key, value in report.items() if key != "as_of"} | {
        "overdue": [{k: v for k, v in o.items() if k != "days_late"} for o in report["overdue"]]
    }


async def test_the_cli_and_the_http_api_give_the_hand_counted_figures(cases: Cases, cli: Cli) -> None:
    numbers = await _seed(cases)
    first, last = datetime.now(SHANGHAI).date(), (datetime.now(SHANGHAI) + timedelta(days=90)).date()
    argv = ("report", "--from", first.isoformat(), "--to", last.isoformat(), "--as", "zhao:supervisor")
    printed: dict[str, Any] = {}
    for _ in range(100):  # visibility follows the cases by a moment
        ran = await cli(*argv, "--json")
        assert ran.code == 0, ran.err
        printed = json.loads(ran.out)
        totals = {group["kind"]: group for group in printed["totals"]}
        applications = totals.get("application", {})
        rated = totals.get("complaint", {}).get("counts", {}).get("rated")
        if rated == 2 and applications.get("in_progress") == 1 and applications["counts"]["due"] == 1:
            break
        await asyncio.sleep(0.1)
    totals = {group["kind"]: group for group in printed["totals"]}
    # Applications: A is due (decided) and in time; B's deadline is ahead: in progress.
    assert _rates(totals["application"]) == {"办结率": (1, 1), "按时办结率": (1, 1)}
    assert totals["application"]["in_progress"] == 1
    # Complaints: C closed in time; D reopened, its new period ahead; both called back, one 满意.
    assert _rates(totals["complaint"]) == {"办结率": (1, 1), "按时办结率": (1, 1), "满意率": (1, 2)}
    assert totals["complaint"]["in_progress"] == 1
    online, one_visit = printed["service"]
    assert (online["numerator"], online["denominator"]) == (8, 10)
    assert (one_visit["numerator"], one_visit["denominator"]) == (1, 1)  # A; B is not yet due
    assert printed["overdue"] == []

    async with client_of(create_app(cases, TOKENS)) as http:
        answered = await http.get(
            "/report", params={"from": first.isoformat(), "to": last.isoformat()}, headers=bearer(SUPERVISOR)
        )
        assert answered.status_code == 200, answered.text
        assert without_instant(answered.json()) == without_instant(printed)
        backwards = await http.get(
            "/report", params={"from": last.isoformat(), "to": first.isoformat()}, headers=bearer(SUPERVISOR)
        )
        assert backwards.status_code == 422
        assert "ends before" in backwards.text

    head = await cli(*argv[:-2], "--as", "h:department_head:health", "--json")
    assert head.code == 0, head.err
    assert json.loads(head.out)["by_department"] == []  # none of these cases is the health commission's
    own = await cli(*argv[:-2], "--as", "z:department_head:market_regulation", "--json")
    assert {g["group"] for g in json.loads(own.out)["by_department"]} == {MARKET}

    table = await cli(*argv)
    assert "1/2 50.0% missed" in table.out  # 满意率
    assert "网上可办率" in table.out
    refused = await cli(
        "report", "--from", first.isoformat(), "--to", last.isoformat(), "--as", "w:applicant"
    )
    assert refused.code != 0

    for _ in range(100):  # A closed before D was made: D is found by the number it names
        view = await cases.state(numbers["A"], reader=None)
        if view.complaints:
            break
        await asyncio.sleep(0.1)
    assert view.complaints == (numbers["D"],)
    assert view.window_visits == 1  # submitted at the window, nothing brought back
    assert (await cases.state(numbers["B"], reader=None)).window_visits == 2
