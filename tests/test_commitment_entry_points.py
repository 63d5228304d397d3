"""告知承诺制 through the CLI and the HTTP gateway, on the dev server, as the README shows."""

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

from gateway.tokens import TokenBook
from tests.conftest import Cli, RunWorker
from tests.test_gateway import bearer, gateway_over
from workflows.domain.events import Actor, Role

APPLICANT_ID = "91210200MA0000021L"  # the CLI test's; it ends with a credit record
HTTP_APPLICANT_ID = "91210200MA0000022M"  # a register outlives its test on the shared dev server
OFFICER = "window-3:window_officer"
INSPECTOR = "qian:approver:market_regulation"
# FOOD-BUSINESS without premises_and_layout, which the commitment replaces.
MATERIALS = ("application_form", "entity_qualification", "food_safety_rules", "agent_authorisation")


async def _status(cli: Cli, number: str, reader: str) -> dict[str, Any]:
    ran = await cli("status", number, "--as", reader, "--json")
    assert ran.code == 0, ran.err
    view: dict[str, Any] = json.loads(ran.out)
    return view


async def _until_cli(cli: Cli, number: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        view = await _status(cli, number, OFFICER)
        if view["status"] == status:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} never became {status}")


async def test_a_commitment_through_the_cli_verified_untrue_then_not_rectified(cli: Cli) -> None:
    number = f"FOOD-{uuid.uuid4().hex[:8]}"
    opened = await cli(
        "submit", "--id", number, "--matter", "FOOD-BUSINESS",
        "--applicant-id", APPLICANT_ID, "--applicant-name", "大连示例餐饮有限公司",
        "--contact", "0411-0000000", "--channel", "window",
        *[flag for code in MATERIALS for flag in ("--material", code)],
        "--commitment", "告知承诺书-2026-0021", "--as", OFFICER,
    )  # fmt: skip
    assert opened.code == 0, opened.err
    assert "告知承诺书-2026-0021" in opened.out
    assert (await cli("accept", number, "--as", OFFICER)).code == 0
    approved = await cli("approve", number, "--step", "market_regulation", "--as", INSPECTOR)
    assert approved.code == 0, approved.err
    await _until_cli(cli, number, "issued")
    table = await cli("status", number, "--as", INSPECTOR)
    assert "verification" in table.out
    assert "owed" in table.out
    assert "commitment-verified --reason WHY" in table.out  # the verifier's verbs
    assert "commitment-untrue --reason WHY" in table.out
    unreasoned = await cli("commitment-verified", number, "--as", INSPECTOR)
    assert unreasoned.code == 2  # --reason is required: the findings
    untrue = await cli(
        "commitment-untrue",
        number,
        "--within",
        "5",
        "--reason",
        "现场核查：布局与承诺不符",
        "--as",
        INSPECTOR,
    )
    assert untrue.code == 0, untrue.err
    assert "rectify by" in untrue.out
    ended = await cli("not-rectified", number, "--reason", "复查：逾期未整改", "--as", INSPECTOR, "--json")
    assert ended.code == 0, ended.err
    assert json.loads(ended.out)["status"] == "revoked"
    trail = await cli("events", number, "--as", OFFICER)
    for kind in ("commitment_found_untrue", "licence_revoked"):
        assert kind in trail.out


TOKENS = TokenBook.of(
    {
        "portal": Actor(id="intake-portal", role=Role.SYSTEM),
        "window": Actor(id="window-3", role=Role.WINDOW_OFFICER),
        "inspector": Actor(id="qian", role=Role.APPROVER, department="market_regulation"),
        "health": Actor(id="li", role=Role.APPROVER, department="health"),
    }
)


@pytest.fixture
async def http(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_over(dev_server, run_worker, TOKENS) as client:
        yield client


async def _until_http(http: httpx.AsyncClient, number: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        view: dict[str, Any] = (await http.get(f"/applications/{number}", headers=bearer("window"))).json()
        if view.get("status") == status:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number} never became {status}")


async def test_a_commitment_over_http_verified_true_with_its_refusals(http: httpx.AsyncClient) -> None:
    number = f"FOOD-{uuid.uuid4().hex[:8]}"
    body = {
        "application_id": number,
        "applicant": {
            "id_number": HTTP_APPLICANT_ID,
            "name": "大连示例餐饮有限公司",
            "contact": "0411-0000000",
        },
        "matter_code": "FOOD-BUSINESS",
        "materials": list(MATERIALS),
        "channel": "online",
        "received_at": datetime.now(UTC).isoformat(),
        "commitment": "告知承诺书-2026-0022",
    }
    claimed = await http.post(
        "/applications", json={**body, "credit": {"eligible": True}}, headers=bearer("portal")
    )
    assert claimed.status_code == 422  # the credit check is the engine's, never the caller's
    opened = await http.post("/applications", json=body, headers=bearer("portal"))
    assert opened.status_code == 201, opened.text
    actions = f"/applications/{number}/actions"
    accepted = await http.post(actions, json={"kind": "accept_application"}, headers=bearer("window"))
    assert accepted.status_code == 200, accepted.text
    approval = {"kind": "record_approval", "step": "market_regulation", "approved": True}
    assert (await http.post(actions, json=approval, headers=bearer("inspector"))).status_code == 200
    view = await _until_http(http, number, "issued")
    assert (view["commitment"], view["verification"]) == ("告知承诺书-2026-0022", "owed")
    assert view["verification_by"]
    verify = {"kind": "verify_commitment", "kept": True, "reason": "现场核查：与承诺相符"}
    by_the_window = await http.post(actions, json=verify, headers=bearer("window"))
    assert (by_the_window.status_code, by_the_window.json()["type"]) == (403, "NotAuthorised")
    not_a_bool = await http.post(actions, json={**verify, "kept": "yes"}, headers=bearer("inspector"))
    assert not_a_bool.status_code == 422
    verified = await http.post(actions, json=verify, headers=bearer("inspector"))
    assert verified.status_code == 200, verified.text
    assert (verified.json()["verification"], verified.json()["closed"]) == ("verified", True)
    document = (await http.get("/openapi.json")).json()
    assert "VerifyCommitmentBody" in document["components"]["schemas"]
    assert "RecordRectificationBody" in document["components"]["schemas"]
