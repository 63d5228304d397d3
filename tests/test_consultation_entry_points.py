"""提前介入 through the CLI and the HTTP gateway, on the dev server, as the README shows: a steward opens a
consultation, the window checks, a department gives its opinion, and the application submitted on it
carries both."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from gateway.tokens import TokenBook
from tests.conftest import Cli, RunWorker
from tests.test_gateway import bearer, gateway_over
from workflows.domain.events import Actor, Role

APPLICANT_ID = "91210200MA0000041Q"
STEWARD = "steward-con-9:steward"
OFFICER = "window-6:window_officer"
APPROVER = "qin:approver:market_regulation"
BROUGHT = ("application_form", "entity_qualification", "premises_and_layout")
APPLICANT = (
    "--applicant-id",
    APPLICANT_ID,
    "--applicant-name",
    "大连示例餐饮有限公司",
    "--contact",
    "0411-0000000",
)


def _materials(codes: tuple[str, ...]) -> list[str]:
    return [flag for code in codes for flag in ("--material", code)]


async def test_a_consultation_through_the_cli_then_the_application_on_it(cli: Cli) -> None:
    consultation = f"CON-{uuid.uuid4().hex[:8]}"
    opened = await cli(
        "consultation", "submit", "--id", consultation, "--matter", "FOOD-BUSINESS", *APPLICANT,
        *_materials(BROUGHT), "--green-channel", "--steward", STEWARD, "--as", STEWARD,
    )  # fmt: skip
    assert opened.code == 0, opened.err
    assert "market_regulation" in opened.out  # the department awaited
    checked = await cli(
        "consultation", "check", consultation, "--material", "premises_and_layout", "--as", OFFICER
    )
    assert checked.code == 0, checked.err
    refused = await cli("consultation", "opinion", consultation, "--opinion", "同意", "--as", OFFICER)
    assert refused.code == 2
    assert "NotAuthorised" in refused.err
    opinion = await cli(
        "consultation", "opinion", consultation, "--opinion", "经营布局符合要求", "--as", APPROVER, "--json"
    )
    assert opinion.code == 0, opinion.err
    assert json.loads(opinion.out)["departments_awaited"] == []

    number = f"FOOD-{uuid.uuid4().hex[:8]}"
    submitted = await cli(
        "submit", "--id", number, "--matter", "FOOD-BUSINESS", *APPLICANT, "--channel", "window",
        *_materials((*BROUGHT, "food_safety_rules", "agent_authorisation")),
        "--green-channel", "--steward", STEWARD, "--consultation", consultation, "--as", OFFICER,
    )  # fmt: skip
    assert submitted.code == 0, submitted.err
    assert "经营布局符合要求" in submitted.out
    assert "premises_and_layout" in submitted.out  # checked before
    again = await cli("request-correction", number, "--missing", "premises_and_layout", "--as", OFFICER)
    assert again.code == 2
    assert "not examined again" in again.err
    closed = await cli("consultation", "close", consultation, "--reason", "已正式申报", "--as", STEWARD)
    assert closed.code == 0, closed.err
    trail = await cli("consultation", "events", consultation, "--as", OFFICER)
    for kind in ("consultation_opened", "materials_checked", "opinion_given", "consultation_closed"):
        assert kind in trail.out


TOKENS = TokenBook.of(
    {
        "portal": Actor(id="intake-portal", role=Role.SYSTEM),
        "steward": Actor(id="steward-con-8", role=Role.STEWARD),
        "window": Actor(id="window-6", role=Role.WINDOW_OFFICER),
        "market": Actor(id="qin", role=Role.APPROVER, department="market_regulation"),
    }
)


@pytest.fixture
async def http(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_over(dev_server, run_worker, TOKENS) as client:
        yield client


async def test_a_consultation_over_http_with_its_refusals(http: httpx.AsyncClient) -> None:
    consultation = f"CON-{uuid.uuid4().hex[:8]}"
    applicant = {"id_number": "91210200MA0000042R", "name": "大连示例餐饮有限公司", "contact": "0411-0000000"}
    body = {
        "application_id": consultation,
        "applicant": applicant,
        "matter_code": "FOOD-BUSINESS",
        "materials": list(BROUGHT),
        "channel": "window",
        "received_at": datetime.now(UTC).isoformat(),
        "green_channel": True,
        "steward": {"id": "steward-con-8", "role": "steward"},
    }
    not_green = await http.post(
        "/consultations", json={**body, "green_channel": False, "steward": None}, headers=bearer("steward")
    )
    assert (not_green.status_code, not_green.json()["type"]) == (403, "NotAuthorised")
    opened = await http.post("/consultations", json=body, headers=bearer("steward"))
    assert opened.status_code == 201, opened.text
    actions = f"/consultations/{consultation}/actions"
    check = {"kind": "check_materials", "materials": ["premises_and_layout"]}
    assert (await http.post(actions, json=check, headers=bearer("market"))).status_code == 403
    assert (await http.post(actions, json=check, headers=bearer("window"))).status_code == 200
    opinion = {"kind": "give_opinion", "opinion": "经营布局符合要求"}
    given = await http.post(actions, json=opinion, headers=bearer("market"))
    assert given.status_code == 200, given.text
    assert given.json()["opinions"][0]["department"] == "market_regulation"
    forged = {"kind": "lapse_consultation"}
    assert (await http.post(actions, json=forged, headers=bearer("steward"))).status_code == 422

    number = f"FOOD-{uuid.uuid4().hex[:8]}"
    application = {
        "application_id": number,
        "applicant": applicant,
        "matter_code": "FOOD-BUSINESS",
        "materials": [*BROUGHT, "food_safety_rules", "agent_authorisation"],
        "channel": "online",
        "received_at": datetime.now(UTC).isoformat(),
        "green_channel": True,
        "steward": {"id": "steward-con-8", "role": "steward"},
        "consultation_id": consultation,
    }
    assert (await http.post("/applications", json=application, headers=bearer("portal"))).status_code == 201
    view = (await http.get(f"/applications/{number}", headers=bearer("window"))).json()
    assert (view["consultation_id"], view["checked_in_consultation"]) == (
        consultation,
        ["premises_and_layout"],
    )
    assert [o["opinion"] for o in view["opinions"]] == ["经营布局符合要求"]
    accepted = await http.post(
        f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer("window")
    )
    assert accepted.status_code == 200, accepted.text
    shown = accepted.json()  # 绿色通道: the internal target (3 of 5 working days) beside the deadline
    assert shown["internal_target_days"] == 3
    assert shown["internal_target_by"] < shown["due_at"]
    not_one = {**application, "application_id": f"{number}-2", "consultation_id": number}  # an application
    refused = await http.post("/applications", json=not_one, headers=bearer("portal"))
    assert (refused.status_code, refused.json()["type"]) == (404, "UnknownApplication")
    document = (await http.get("/openapi.json")).json()
    assert {"/consultations", "/consultations/{application_id}/actions"} <= set(document["paths"])
