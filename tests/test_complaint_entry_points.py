"""A 12345/8890 complaint through the CLI and the HTTP gateway, on the dev server: registered by the
hotline, signed, replied, called back and closed; a stranger department learns nothing; a typo in the
category fails the registration with the nearest code named."""

from __future__ import annotations

import json
import uuid

from gateway.app import create_app
from tests.conftest import Cli
from tests.test_gateway import TOKENS, bearer, client_of
from workflows.client import Cases

HOTLINE = "chen:hotline_operator"
MARKET = "zhang:approver:market_regulation"
# The example token file's (workflows/data/gateway_tokens.example.toml), no secret.
HOTLINE_TOKEN = "example-hotline-operator-chen"  # noqa: S105
MARKET_TOKEN = "example-approver-zhang-market"  # noqa: S105
HEALTH_TOKEN = "example-approver-wang-health"  # noqa: S105


async def test_a_complaint_through_the_cli_from_the_call_to_the_call_back(cli: Cli) -> None:
    number = f"GD-{uuid.uuid4().hex[:8]}"
    opened = await cli(
        "complaint", "submit", "--id", number, "--caller-name", "王女士", "--caller-phone", "13800000000",
        "--content", "窗口要求重复提交材料", "--category", "business_environment", "--as", HOTLINE,
    )  # fmt: skip
    assert opened.code == 0, opened.err
    assert "market_regulation" in opened.out
    assert "complaint sign" in opened.out or "complaint merge" in opened.out
    assert (await cli("complaint", "sign", number, "--as", MARKET)).code == 0
    replied = await cli("complaint", "reply", number, "--reply", "已责成窗口一次性告知", "--as", MARKET)
    assert replied.code == 0, replied.err
    closed = await cli("complaint", "callback", number, "--rating", "satisfied", "--as", HOTLINE, "--json")
    assert closed.code == 0, closed.err
    assert json.loads(closed.out)["status"] == "closed"
    trail = await cli("complaint", "events", number, "--as", HOTLINE)
    assert "callback_recorded" in trail.out
    stranger = await cli("complaint", "status", number, "--as", "wang:approver:health")
    assert stranger.code != 0
    assert "UnknownApplication" in stranger.err or "no application" in stranger.err

    typo = await cli(
        "complaint", "submit", "--id", f"{number}-x", "--caller-name", "王女士",
        "--caller-phone", "13800000000", "--content", "投诉", "--category", "food_safty", "--as", HOTLINE,
    )  # fmt: skip
    assert typo.code != 0
    assert "food_safety" in typo.err


async def test_a_complaint_over_http_with_its_refusals(cases: Cases) -> None:
    number = f"GD-{uuid.uuid4().hex[:8]}"
    async with client_of(create_app(cases, TOKENS)) as http:
        body = {
            "application_id": number,
            "caller": {"name": "李先生", "phone": "13900000000"},
            "channel": "8890",
            "content": "办理进度无人告知",
            "category_code": "business_environment",
        }
        created = await http.post("/complaints", json=body, headers=bearer(HOTLINE_TOKEN))
        assert created.status_code == 201, created.text
        for _ in range(100):
            read = await http.get(f"/complaints/{number}", headers=bearer(MARKET_TOKEN))
            if read.status_code == 200:
                break
        assert read.json()["department"] == "market_regulation"
        hidden = await http.get(f"/complaints/{number}", headers=bearer(HEALTH_TOKEN))
        assert hidden.status_code == 404
        late = {"kind": "return_complaint"}  # 退单 without its reason
        refused = await http.post(f"/complaints/{number}/actions", json=late, headers=bearer(MARKET_TOKEN))
        assert refused.status_code == 409
        assert "reason" in refused.text
        forged = {"kind": "raise_handling_warning", "level": "red"}
        assert (
            await http.post(f"/complaints/{number}/actions", json=forged, headers=bearer(HOTLINE_TOKEN))
        ).status_code == 422
        signed = await http.post(
            f"/complaints/{number}/actions", json={"kind": "sign_complaint"}, headers=bearer(MARKET_TOKEN)
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["status"] == "handling"
        with_actor = body | {"application_id": f"{number}-2", "actor": {"id": "x", "role": "supervisor"}}
        assert (
            await http.post("/complaints", json=with_actor, headers=bearer(HOTLINE_TOKEN))
        ).status_code == 422
