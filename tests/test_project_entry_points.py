"""A construction project through the CLI and the HTTP gateway, on the dev server, as the README shows."""

from __future__ import annotations

import asyncio
import json
import uuid

from tests.conftest import Cli

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
