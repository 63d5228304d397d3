"""An office's actions (转办, 或签, 退回, 加签, 催办) through the CLI and the HTTP gateway, on the dev server.

The same commands, refusals and audit as every other: each action is an event in the case's history, the
department it concerns is told (the outbox's ``department`` records), and the view shows it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from gateway.tokens import TokenBook
from tests.conftest import Cli, RunWorker
from tests.test_gateway import bearer, gateway_over
from workflows.domain.events import Actor, Role

APPLICANT_ID = "91210200MA0000031P"
OFFICER = "window-4:window_officer"
WANG = "wang:approver:market_regulation"  # the approver the step first falls to
QIAN = "qian:approver:market_regulation"
SUN = "sun:approver:market_regulation"
FIRE = "zhou:approver:fire"
MATERIALS = (
    "application_form",
    "entity_qualification",
    "premises_and_layout",
    "food_safety_rules",
    "agent_authorisation",
)


async def _view(cli: Cli, number: str, reader: str = OFFICER) -> dict[str, Any]:
    ran = await cli("status", number, "--as", reader, "--json")
    assert ran.code == 0, ran.err
    view: dict[str, Any] = json.loads(ran.out)
    return view


async def _told(outbox: Outbox, number: str, count: int) -> list[dict[str, Any]]:
    """The department notices of the case, once there are ``count`` (effects follow the update's answer)."""
    notices: list[dict[str, Any]] = []
    for _ in range(200):
        notices = [payload for _, payload in outbox.records("department", number)]
        if len(notices) >= count:
            return notices
        await asyncio.sleep(0.05)
    return notices


async def test_a_days_office_work_through_the_cli(cli: Cli, outbox: Outbox) -> None:
    """Urged, transferred, returned and brought back, a signer added after, or-signed, and decided."""
    number = f"FOOD-{uuid.uuid4().hex[:8]}"
    opened = await cli(
        "submit", "--id", number, "--matter", "FOOD-BUSINESS",
        "--applicant-id", APPLICANT_ID, "--applicant-name", "大连示例餐饮有限公司",
        "--contact", "0411-0000000", "--channel", "window",
        *[flag for code in MATERIALS for flag in ("--material", code)], "--as", OFFICER,
    )  # fmt: skip
    assert opened.code == 0, opened.err
    assert (await cli("accept", number, "--as", OFFICER)).code == 0
    table = await cli("status", number, "--as", "zhao:supervisor")
    assert "urge --step market_regulation" in table.out

    urged = await cli(
        "urge", number, "--step", "market_regulation", "--reason", "企业反映进度慢", "--as", OFFICER
    )
    assert urged.code == 0, urged.err
    assert "market_regulation ×1" in urged.out
    moved = await cli("transfer", number, "--step", "market_regulation", "--to", QIAN, "--as", WANG)
    assert moved.code == 0, moved.err
    refused = await cli("approve", number, "--step", "market_regulation", "--as", WANG)
    assert refused.code == 2
    assert "NotAuthorised" in refused.err

    back = await cli(
        "return", number, "--material", "premises_and_layout", "--within", "3",
        "--reason", "经营布局图未盖章", "--as", QIAN,
    )  # fmt: skip
    assert back.code == 0, back.err
    assert (await _view(cli, number))["status"] == "returned"
    brought = await cli(
        "supplement", number, "--material", "premises_and_layout", "--as", f"{APPLICANT_ID}:applicant"
    )
    assert brought.code == 0, brought.err
    assert (await _view(cli, number))["status"] == "under_review"

    added = await cli(
        "add-signer", number, "--department", "fire", "--after", "--reason", "涉及消防安全", "--as", QIAN
    )
    assert added.code == 0, added.err
    shared = await cli(
        "or-sign", number, "--step", "market_regulation", "--decider", WANG, "--decider", SUN, "--as", QIAN
    )
    assert shared.code == 0, shared.err
    assert (await cli("approve", number, "--step", "market_regulation", "--as", SUN)).code == 0
    view = await _view(cli, number)
    fire_step = view["approval_plan"][1][0]["code"]
    approval = next(a for a in view["pending_actions"] if a["command"] == "record_approval")
    assert [step["department"] for step in approval["steps"]] == ["fire"]  # the signer added after
    approved = await cli("approve", number, "--step", fire_step, "--as", FIRE)
    assert approved.code == 0, approved.err
    notices = await _told(outbox, number, 4)
    assert [(n["notice"], n["departments"]) for n in notices] == [
        ("step_urged", ["market_regulation"]),
        ("step_assigned", ["market_regulation"]),
        ("signer_added", ["fire"]),
        ("step_assigned", ["market_regulation"]),
    ]
    assert notices[-1]["assignees"] == ["wang", "sun"]
    trail = await cli("events", number, "--as", OFFICER)
    for kind in ("step_urged", "step_assigned", "case_returned", "signer_added", "application_approved"):
        assert kind in trail.out


TOKENS = TokenBook.of(
    {
        "portal": Actor(id="intake-portal", role=Role.SYSTEM),
        "window": Actor(id="window-4", role=Role.WINDOW_OFFICER),
        "supervisor": Actor(id="zhao", role=Role.SUPERVISOR),
        "wang": Actor(id="wang", role=Role.APPROVER, department="market_regulation"),
        "fire": Actor(id="zhou", role=Role.APPROVER, department="fire"),
    }
)


@pytest.fixture
async def http(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_over(dev_server, run_worker, TOKENS) as client:
        yield client


async def test_the_office_actions_over_http_with_their_refusals(http: httpx.AsyncClient) -> None:
    number = f"FOOD-{uuid.uuid4().hex[:8]}"
    body = {
        "application_id": number,
        "applicant": {"id_number": APPLICANT_ID, "name": "大连示例餐饮有限公司", "contact": "0411-0000000"},
        "matter_code": "FOOD-BUSINESS",
        "materials": list(MATERIALS),
        "channel": "online",
        "received_at": datetime.now(UTC).isoformat(),
    }
    assert (await http.post("/applications", json=body, headers=bearer("portal"))).status_code == 201
    actions = f"/applications/{number}/actions"
    accepted = await http.post(actions, json={"kind": "accept_application"}, headers=bearer("window"))
    assert accepted.status_code == 200, accepted.text

    urge = {"kind": "urge_step", "step": "market_regulation", "reason": "12345 来电催办"}
    by_the_approver = await http.post(actions, json=urge, headers=bearer("wang"))
    assert (by_the_approver.status_code, by_the_approver.json()["type"]) == (403, "NotAuthorised")
    urged = await http.post(actions, json=urge, headers=bearer("supervisor"))
    assert urged.status_code == 200, urged.text
    assert urged.json()["urges"] == {"market_regulation": 1}

    signer = {"kind": "add_signer", "department": "fire", "reason": "涉及消防安全"}
    not_the_lead = await http.post(actions, json=signer, headers=bearer("fire"))
    assert not_the_lead.status_code == 404  # the fire department has no step yet: the case is not theirs
    added = await http.post(actions, json=signer, headers=bearer("wang"))
    assert added.status_code == 200, added.text
    plan = added.json()["approval_plan"]
    assert [[step["department"] for step in round_] for round_ in plan] == [["fire"], ["market_regulation"]]
    fire_step = plan[0][0]["code"]

    bad_transfer = {"kind": "transfer_step", "step": fire_step, "to": "qian"}
    assert (await http.post(actions, json=bad_transfer, headers=bearer("fire"))).status_code == 422
    colleague = {"id": "zhou-2", "role": "approver", "department": "fire"}
    transfer = {"kind": "transfer_step", "step": fire_step, "to": colleague, "reason": "承办人出差"}
    moved = await http.post(actions, json=transfer, headers=bearer("fire"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignments"] == {fire_step: ["zhou-2"]}
    shared = {
        "kind": "or_sign_step",
        "step": "market_regulation",
        "deciders": [
            {"id": "wang", "role": "approver", "department": "market_regulation"},
            {"id": "sun", "role": "approver", "department": "market_regulation"},
        ],
    }
    waits = await http.post(actions, json=shared, headers=bearer("wang"))
    assert (waits.status_code, waits.json()["type"]) == (409, "InvalidCommand")  # its step is not pending yet
    returned = {
        "kind": "return_to_window",
        "materials": ["agent_authorisation"],
        "supplement_within": 2,
        "reason": "委托书过期",
    }
    back = await http.post(actions, json=returned, headers=bearer("fire"))  # still fire's to return
    assert back.status_code == 200, back.text
    assert (back.json()["status"], back.json()["returned"]) == ("returned", ["agent_authorisation"])
    approve = {"kind": "record_approval", "step": fire_step, "approved": True}
    waiting = await http.post(actions, json=approve, headers=bearer("fire"))
    assert (waiting.status_code, waiting.json()["type"]) == (409, "InvalidCommand")  # approvals wait
    assert "at the window" in waiting.json()["detail"]
    history = (await http.get(f"/applications/{number}/events", headers=bearer("supervisor"))).json()
    assert {"step_urged", "signer_added", "case_returned"} <= {event["kind"] for event in history}
    document = (await http.get("/openapi.json")).json()
    for body_name in (
        "TransferStepBody",
        "OrSignStepBody",
        "ReturnToWindowBody",
        "AddSignerBody",
        "UrgeStepBody",
    ):
        assert body_name in document["components"]["schemas"]
