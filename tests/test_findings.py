"""审批监管联动's way back, on the dev server: a supervision finding on an issued licence reaches the holder's
credit register, and their next 告知承诺 is refused, naming the case; through the CLI and HTTP alike."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from gateway.app import create_app
from tests.builders import approver, window_officer
from tests.case_helpers import registration_failure
from tests.conftest import Cli
from tests.test_gateway import SUPERVISOR, TOKENS, bearer, client_of
from tests.test_workflow_acceptance import intake_of
from workflows.client import Cases
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import AcceptApplication, RecordApproval

MARKET = "market_regulation"


async def _issued(cases: Cases, number: str, applicant_id: str) -> None:
    await cases.submit(number, intake_of("FOOD-BUSINESS", datetime.now(SHANGHAI), applicant_id=applicant_id))
    await cases.registered(number, reader=None)
    await cases.act(number, AcceptApplication(actor=window_officer()))
    await cases.act(number, RecordApproval(actor=approver(MARKET), step=MARKET, approved=True))
    for _ in range(200):
        if (await cases.state(number, reader=None)).licence_number:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{number} was never issued")


async def test_a_finding_bars_the_holders_next_commitment(cases: Cases, cli: Cli) -> None:
    holder = f"91210200MA{uuid.uuid4().hex[:8].upper()}"
    issued, pending = f"LIC-{uuid.uuid4().hex[:8]}", f"PEND-{uuid.uuid4().hex[:8]}"
    await _issued(cases, issued, holder)
    await cases.submit(pending, intake_of("FOOD-BUSINESS", datetime.now(SHANGHAI), applicant_id=holder))
    await cases.registered(pending, reader=None)

    refused = await cli(
        "finding", issued, "--finding", "现场检查：实际经营与许可不符", "--as", f"{holder}:applicant"
    )
    assert refused.code != 0
    assert "NotAuthorised" in refused.err
    unissued = await cli("finding", pending, "--finding", "现场检查", "--as", "zhao:supervisor")
    assert unissued.code != 0
    assert "no issued licence" in unissued.err
    blank = await cli("finding", issued, "--finding", "   ", "--as", "zhao:supervisor")
    assert blank.code != 0

    async with client_of(create_app(cases, TOKENS)) as http:
        body = {"finding": "现场检查：实际经营场所与许可不符"}
        first = await http.post(f"/applications/{issued}/findings", json=body, headers=bearer(SUPERVISOR))
        assert first.status_code == 201, first.text
        again = await http.post(f"/applications/{issued}/findings", json=body, headers=bearer(SUPERVISOR))
        assert again.json()["key"] == first.json()["key"]  # once per finding
        assert holder not in first.text
        assert first.json()["kind"] == "supervision_finding"
        extra = await http.post(
            f"/applications/{issued}/findings", json=body | {"kind": "x"}, headers=bearer(SUPERVISOR)
        )
        assert extra.status_code == 422

    committed = f"COM-{uuid.uuid4().hex[:8]}"
    intake = intake_of(
        "FOOD-BUSINESS", datetime.now(SHANGHAI), applicant_id=holder, commitment="告知承诺书 2026-1"
    )
    await cases.submit(committed, intake)
    failed = await registration_failure(cases.client.get_workflow_handle(committed))
    assert failed.type == "CommitmentNotAllowed"
    assert issued in failed.message
