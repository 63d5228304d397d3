"""A construction project through the CLI and the HTTP gateway, on the dev server, as the README shows."""

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

APPLICANT_ID = "91210200MA0000012K"
APPLICANT = f"{APPLICANT_ID}:applicant"
OFFICER = "window-9:window_officer"
STRANGER = "91210200MA0000099Z:applicant"
STAGE_1 = (
    "project_approval_documents",
    "site_pre_review_application",
    "land_use_documents",
    "agent_authorisation",
)
STAGE_2 = ("design_scheme", "agent_authorisation")
APPROVALS = {
    "project_approval": "development_reform",
    "site_land_pre_review": "natural_resources",
    "land_use_planning_permit": "natural_resources",
}


def _materials(codes: tuple[str, ...]) -> list[str]:
    return [flag for code in codes for flag in ("--material", code)]


async def _progress(cli: Cli, number: str, reader: str = OFFICER) -> dict[str, object]:
    ran = await cli("project", "status", number, "--as", reader, "--json")
    assert ran.code == 0, ran.err
    progress: dict[str, object] = json.loads(ran.out)
    return progress


async def _until_stage(cli: Cli, number: str, index: int, status: str) -> dict[str, object]:
    for _ in range(200):
        progress = await _progress(cli, number)
        stages = progress["stages"]
        assert isinstance(stages, list)
        if stages[index]["status"] == status and all(
            m["status"] != "started" for m in stages[index]["matters"]
        ):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"stage {index} of {number} never became {status}")


async def test_a_project_through_the_cli_its_matters_with_the_ordinary_verbs(cli: Cli) -> None:
    number = f"PRJ-{uuid.uuid4().hex[:8]}"
    opened = await cli(
        "project", "submit", "--id", number,
        "--applicant-id", APPLICANT_ID, "--applicant-name", "大连示例置业有限公司",
        "--contact", "0411-0000000",
        *_materials(STAGE_1), "--as", OFFICER,
    )  # fmt: skip
    assert opened.code == 0, opened.err
    assert "land_planning" in opened.out
    assert "project accept" in opened.out  # the window's verb
    accepted = await cli("project", "accept", number, "--as", OFFICER)
    assert accepted.code == 0, accepted.err
    await _until_stage(cli, number, 0, "with_government")
    for item, department in APPROVALS.items():
        child = f"{number}.{item}"
        assert (await cli("accept", child, "--as", OFFICER)).code == 0
        approved = await cli("approve", child, "--step", department, "--as", f"zhao:approver:{department}")
        assert approved.code == 0, approved.err
    progress = await _until_stage(cli, number, 0, "completed")
    assert progress["status"] == "awaiting_applicant"
    assert progress["waiting_for_applicant"] is True
    table = await cli("project", "status", number, "--as", APPLICANT)
    assert "the applicant (the clock stands)" in table.out
    assert "project stage --material CODE ..." in table.out  # the applicant's verb now

    wrong = await cli("project", "stage", number, "--material", "completion_report", "--as", APPLICANT)
    assert wrong.code == 2
    assert "InvalidCommand" in wrong.err
    assert (await cli("project", "stage", number, *_materials(STAGE_2), "--as", APPLICANT)).code == 0
    assert (await cli("project", "status", number, "--as", STRANGER)).code == 3  # as if it did not exist
    withdrawn = await cli("project", "withdraw", number, "--reason", "项目取消", "--as", APPLICANT, "--json")
    assert withdrawn.code == 0, withdrawn.err
    assert json.loads(withdrawn.out)["status"] == "withdrawn"
    trail = await cli("project", "events", number, "--as", OFFICER)
    assert trail.code == 0
    for kind in (
        "project_submitted",
        "stage_accepted",
        "stage_completed",
        "stage_materials_received",
        "project_withdrawn",
    ):
        assert kind in trail.out


PROJECT_TOKENS = TokenBook.of(
    {
        "portal": Actor(id="intake-portal", role=Role.SYSTEM),
        "window": Actor(id="window-9", role=Role.WINDOW_OFFICER),
        "applicant": Actor(id=APPLICANT_ID, role=Role.APPLICANT),
        "stranger": Actor(id="91210200MA0000099Z", role=Role.APPLICANT),
        **{
            f"approver-{department}": Actor(
                id=f"zhao-{department}", role=Role.APPROVER, department=department
            )
            for department in set(APPROVALS.values())
        },
    }
)


@pytest.fixture
async def http(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_over(dev_server, run_worker, PROJECT_TOKENS) as client:
        yield client


async def _until_http(http: httpx.AsyncClient, number: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        response = await http.get(f"/projects/{number}", headers=bearer("window"))
        progress: dict[str, Any] = response.json()
        first = progress["stages"][0]
        if first["status"] == status and all(m["status"] != "started" for m in first["matters"]):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number}'s first stage never became {status}")


async def test_a_project_over_http_with_its_refusals(http: httpx.AsyncClient) -> None:
    number = f"PRJ-{uuid.uuid4().hex[:8]}"
    body = {
        "application_id": number,
        "applicant": {"id_number": APPLICANT_ID, "name": "大连示例置业有限公司", "contact": "0411-0000000"},
        "matter_code": "CONSTRUCTION-PROJECT",
        "materials": list(STAGE_1),
        "channel": "online",
        "received_at": datetime.now(UTC).isoformat(),
    }
    wrong_stage = await http.post(
        "/projects", json={**body, "materials": ["completion_report"]}, headers=bearer("portal")
    )
    assert (wrong_stage.status_code, wrong_stage.json()["type"]) == (409, "InvalidCommand")
    opened = await http.post("/projects", json=body, headers=bearer("portal"))
    assert opened.status_code == 201, opened.text
    assert opened.headers["Location"] == f"/projects/{number}"
    refused = await http.post(
        f"/projects/{number}/actions", json={"kind": "accept_stage"}, headers=bearer("applicant")
    )
    assert (refused.status_code, refused.json()["type"]) == (403, "NotAuthorised")
    forged = await http.post(
        f"/projects/{number}/actions",
        json={"kind": "report_parts", "readings": []},
        headers=bearer("window"),
    )
    assert forged.status_code == 422  # the engine's own commands are no part of the contract
    accepted = await http.post(
        f"/projects/{number}/actions", json={"kind": "accept_stage"}, headers=bearer("window")
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "in_stage"
    await _until_http(http, number, "with_government")
    for item, department in APPROVALS.items():
        child = f"/applications/{number}.{item}/actions"
        assert (
            await http.post(child, json={"kind": "accept_application"}, headers=bearer("window"))
        ).status_code == 200
        approval = {"kind": "record_approval", "step": department, "approved": True}
        assert (
            await http.post(child, json=approval, headers=bearer(f"approver-{department}"))
        ).status_code == 200
    progress = await _until_http(http, number, "completed")
    assert progress["status"] == "awaiting_applicant"
    assert (await http.get(f"/projects/{number}", headers=bearer("stranger"))).status_code == 404
    history = await http.get(f"/projects/{number}/events", headers=bearer("applicant"))
    assert [e["kind"] for e in history.json()][:2] == ["project_submitted", "budgets_planned"]
    document = (await http.get("/openapi.json")).json()
    assert {"/projects", "/projects/{application_id}", "/projects/{application_id}/actions"} <= set(
        document["paths"]
    )


FORM = (
    "registration_application",
    "articles_of_association",
    "investor_identity",
    "officer_appointment",
    "premises_proof",
    "agent_authorisation",
)
ESTABLISHMENT_DECISIONS = {
    "business_licence": "market_regulation",
    "seal_engraving": "public_security",
    "tax_invoice": "tax",
    "social_insurance_registration": "human_resources_social_security",
    "housing_fund_registration": "housing_fund",
}


async def _establishment(cli: Cli, number: str) -> dict[str, Any]:
    ran = await cli("establishment", "status", number, "--as", OFFICER, "--json")
    assert ran.code == 0, ran.err
    found: dict[str, Any] = json.loads(ran.out)
    return found


async def _until_items(cli: Cli, number: str, codes: tuple[str, ...]) -> dict[str, Any]:
    for _ in range(200):
        progress = await _establishment(cli, number)
        if all(
            i["status"] not in ("started", "not_started") for i in progress["items"] if i["code"] in codes
        ):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"{number}'s {codes} never registered")


async def test_an_establishment_through_the_cli_from_the_one_form_to_the_one_release(cli: Cli) -> None:
    number = f"EST-{uuid.uuid4().hex[:8]}"
    opened = await cli(
        "establishment", "submit", "--id", number,
        "--applicant-id", APPLICANT_ID, "--applicant-name", "大连示例科技有限公司", "--contact", "0411-1",
        *_materials(FORM), "--as", OFFICER,
    )  # fmt: skip
    assert opened.code == 0, opened.err
    assert "establishment accept" in opened.out
    assert (await cli("establishment", "accept", number, "--as", OFFICER)).code == 0
    await _until_items(cli, number, ("business_licence",))
    for item, department in ESTABLISHMENT_DECISIONS.items():
        if item != "business_licence":
            await _until_items(cli, number, (item,))
        child = f"{number}.{item}"
        assert (await cli("accept", child, "--as", OFFICER)).code == 0
        approved = await cli("approve", child, "--step", department, "--as", f"qian:approver:{department}")
        assert approved.code == 0, approved.err
    for _ in range(200):
        progress = await _establishment(cli, number)
        if all(i["status"] == "issued" for i in progress["items"] if i["code"] in ESTABLISHMENT_DECISIONS):
            break
        await asyncio.sleep(0.05)
    table = await cli("establishment", "status", number, "--as", OFFICER)
    assert "establishment track --item ITEM --reference REF" in table.out
    assert "credit code" in table.out
    tracked = await cli(
        "establishment", "track", number, "--item", "bank_account_appointment", "--reference", "ICBC-1",
        "--as", OFFICER,
    )  # fmt: skip
    assert tracked.code == 0, tracked.err
    released = await cli("establishment", "release", number, "--as", OFFICER, "--json")
    assert released.code == 0, released.err
    assert json.loads(released.out)["status"] == "released"
    trail = await cli("establishment", "events", number, "--as", OFFICER)
    assert "credit_code_assigned" in trail.out
    assert "results_released" in trail.out


async def test_an_establishment_over_http_is_opened_read_and_refused_as_the_contract_says(
    http: httpx.AsyncClient,
) -> None:
    number = f"EST-{uuid.uuid4().hex[:8]}"
    body = {
        "application_id": number,
        "applicant": {"id_number": APPLICANT_ID, "name": "大连示例科技有限公司", "contact": "0411-1"},
        "matter_code": "ENTERPRISE-ESTABLISH",
        "materials": list(FORM),
        "channel": "online",
        "received_at": datetime.now(UTC).isoformat(),
    }
    typed = await http.post(
        "/establishments", json={**body, "project_type": "ordinary"}, headers=bearer("portal")
    )
    assert (typed.status_code, typed.json()["type"]) == (409, "InvalidCommand")
    opened = await http.post("/establishments", json=body, headers=bearer("portal"))
    assert opened.status_code == 201, opened.text
    early = await http.post(
        f"/establishments/{number}/actions", json={"kind": "release_results"}, headers=bearer("window")
    )
    assert (early.status_code, early.json()["type"]) == (409, "NotAllowed")
    code = {"kind": "assign_credit_code", "credit_code": "91350100M000100Y43"}
    forged = await http.post(f"/establishments/{number}/actions", json=code, headers=bearer("window"))
    assert forged.status_code == 422  # the engine assigns the code; no person may
    accepted = await http.post(
        f"/establishments/{number}/actions", json={"kind": "accept_establishment"}, headers=bearer("window")
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "registering"
    assert (await http.get(f"/establishments/{number}", headers=bearer("stranger"))).status_code == 404
    document = (await http.get("/openapi.json")).json()
    assert {"/establishments", "/establishments/{application_id}/actions"} <= set(document["paths"])
