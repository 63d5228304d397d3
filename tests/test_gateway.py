"""The HTTP gateway against the real dev server: what intake systems in other languages rely on.

Requests go through httpx's ASGI transport into the FastAPI app, on the suite's event loop; the app talks
to the session's dev server through a worker on a fresh task queue. Tokens are the shipped example file's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

import gateway
from gateway import EXAMPLE_TOKENS, TokenBook, TokenFileInvalid, create_app, token_digest
from tests.builders import all_materials
from tests.conftest import RunWorker
from workflows.client import Cases
from workflows.domain.events import Role

TOKENS = TokenBook.load(EXAMPLE_TOKENS)
PORTAL = "example-intake-portal"
OFFICER = "example-window-officer-li"
OFFICER_AS_APPROVER = "example-approver-li-health"  # the same person, li.na, in her approver role
APPROVER = "example-approver-wang-health"
APPLICANT = "example-applicant-dalian-food"
SUPERVISOR = "example-supervisor-zhao"  # stored in the file as its SHA-256 only

HYGIENE_MATERIALS = list(all_materials("PUBLIC-PLACE-HYGIENE"))


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def submission(number: str, received_at: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """A complete public-place hygiene submission as an intake system sends it: no actor."""
    body: dict[str, Any] = {
        "application_id": number,
        "applicant": {"id_number": "91210200MA0000000X", "name": "大连示例食品有限公司", "contact": "0411-1"},
        "matter_code": "PUBLIC-PLACE-HYGIENE",
        "materials": HYGIENE_MATERIALS,
        "channel": "online",
        "received_at": (received_at or datetime.now(UTC)).isoformat(),
    }
    return body | changes


def new_number() -> str:
    """A fresh application number (the dev server is shared by the whole session)."""
    return f"APP-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def http(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client into the gateway, whose cases run on a worker of their own task queue."""
    async with run_worker(dev_server.client) as task_queue:
        app = create_app(Cases(dev_server.client, task_queue), TOKENS)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def submitted(http: httpx.AsyncClient, number: str | None = None, **changes: Any) -> str:
    """Submit a case through the portal's token; its number."""
    number = number or new_number()
    response = await http.post("/applications", json=submission(number, **changes), headers=bearer(PORTAL))
    assert response.status_code == 201, response.text
    return number


async def accepted(http: httpx.AsyncClient) -> str:
    """A case submitted and accepted by the window officer li.na."""
    number = await submitted(http)
    response = await http.post(
        f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer(OFFICER)
    )
    assert response.status_code == 200, response.text
    return number


async def eventually(http: httpx.AsyncClient, url: str, token: str, done: Any) -> httpx.Response:
    """GET ``url`` until ``done(response)`` (registration and visibility lists lag by a moment)."""
    response = await http.get(url, headers=bearer(token))
    for _ in range(100):
        if done(response):
            break
        await asyncio.sleep(0.1)
        response = await http.get(url, headers=bearer(token))
    return response


# --- authentication ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token-of-the-file"), {"Authorization": f"Basic {OFFICER}"}],
    ids=["no-token", "unknown-token", "not-bearer"],
)
async def test_a_request_without_a_known_bearer_token_is_refused_401(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """No token, an unknown one or another scheme: 401 Unauthenticated with a Bearer challenge."""
    for response in (
        await http.post("/applications", json=submission(new_number()), headers=headers),
        await http.get("/applications/APP-ANY", headers=headers),
        await http.get("/applications", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json()["type"] == "Unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- submission -------------------------------------------------------------------------------------------


async def test_a_submission_answers_201_with_the_number_and_a_duplicate_409(http: httpx.AsyncClient) -> None:
    """201 with the number and Location; the number again: 409 AlreadySubmitted. The actor is the token's."""
    number = new_number()
    first = await http.post("/applications", json=submission(number), headers=bearer(PORTAL))
    assert (first.status_code, first.json()) == (201, {"application_id": number})
    assert first.headers["Location"] == f"/applications/{number}"
    duplicate = await http.post("/applications", json=submission(number), headers=bearer(PORTAL))
    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == "AlreadySubmitted"
    history = await eventually(http, f"/applications/{number}/events", SUPERVISOR, lambda r: r.json())
    assert history.json()[0]["actor"] == {
        "id": "intake-portal",
        "role": "system",
        "department": None,
        "name": "网上办事大厅",
    }


async def test_a_retried_submission_with_the_same_idempotency_key_answers_the_same_201(
    http: httpx.AsyncClient,
) -> None:
    """The same intake again with a key is a retry (201, replayed); another intake with the same key is 422;
    another submitter's key, or none, is a 409."""
    number = new_number()
    body = submission(number)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await http.post("/applications", json=body, headers=bearer(PORTAL) | key)
    retry = await http.post("/applications", json=body, headers=bearer(PORTAL) | key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() == {"application_id": number}
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other_intake = await http.post(
        "/applications", json=body | {"materials": ["application_form"]}, headers=bearer(PORTAL) | key
    )
    other_actor = await http.post("/applications", json=body, headers=bearer(OFFICER) | key)
    without_key = await http.post("/applications", json=body, headers=bearer(PORTAL))
    assert (other_intake.status_code, other_intake.json()["type"]) == (422, "IdempotencyKeyReused")
    for refused in (other_actor, without_key):
        assert (refused.status_code, refused.json()["type"]) == (409, "AlreadySubmitted")


async def test_an_unknown_matter_is_refused_409_at_submission_and_the_number_stays_free(
    http: httpx.AsyncClient,
) -> None:
    """Only the worker knows the catalogue: the answer waits for it, so the mistake is reported at once."""
    number = new_number()
    refused = await http.post(
        "/applications", json=submission(number, matter_code="NO-SUCH-MATTER"), headers=bearer(PORTAL)
    )
    assert (refused.status_code, refused.json()["type"]) == (409, "UnknownMatter")
    assert "NO-SUCH-MATTER" in refused.json()["detail"]
    read = await http.get(f"/applications/{number}", headers=bearer(OFFICER))
    assert (read.status_code, read.json()["type"]) == (409, "UnknownMatter")
    await submitted(http, number)  # 201: the number is free again


# --- actions ----------------------------------------------------------------------------------------------


async def test_an_action_by_the_right_token_answers_200_with_the_view(http: httpx.AsyncClient) -> None:
    """The window officer accepts: 200 and the view under review; the event carries her, from the token."""
    number = await submitted(http)
    response = await http.post(
        f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer(OFFICER)
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["application_id"], view["status"]) == (number, "under_review")
    (approval,) = [action for action in view["pending_actions"] if action["command"] == "record_approval"]
    assert (approval["roles"], approval["departments"]) == (["approver"], ["health"])
    history = (await http.get(f"/applications/{number}/events", headers=bearer(OFFICER))).json()
    (acceptance,) = [event for event in history if event["kind"] == "application_accepted"]
    assert acceptance["actor"]["id"] == "li.na"


async def test_the_acceptor_approving_is_refused_403_separation_of_duties(http: httpx.AsyncClient) -> None:
    """受审分离: li.na accepted the case, so her approver token may not approve it; wang.fang may."""
    number = await accepted(http)
    approval = {"kind": "record_approval", "step": "health", "approved": True}
    refused = await http.post(
        f"/applications/{number}/actions", json=approval, headers=bearer(OFFICER_AS_APPROVER)
    )
    assert refused.status_code == 403
    assert refused.json()["type"] == "SeparationOfDuties"
    approved = await http.post(f"/applications/{number}/actions", json=approval, headers=bearer(APPROVER))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] in ("approved", "issued")


async def test_a_role_the_command_does_not_admit_is_refused_403_not_authorised(
    http: httpx.AsyncClient,
) -> None:
    """The intake portal (role system) may submit but not accept: 403 NotAuthorised."""
    number = await submitted(http)
    response = await http.post(
        f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer(PORTAL)
    )
    assert (response.status_code, response.json()["type"]) == (403, "NotAuthorised")


async def test_a_command_not_allowed_in_the_status_is_refused_409(http: httpx.AsyncClient) -> None:
    """Accepting an accepted case: 409 NotAllowed; a closed case refuses the same way, not as unknown."""
    number = await accepted(http)
    again = await http.post(
        f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer(OFFICER)
    )
    assert (again.status_code, again.json()["type"]) == (409, "NotAllowed")
    withdrawn = await http.post(
        f"/applications/{number}/actions", json={"kind": "withdraw_application"}, headers=bearer(APPLICANT)
    )
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    after_close = await http.post(
        f"/applications/{number}/actions",
        json={"kind": "record_approval", "step": "health", "approved": True},
        headers=bearer(APPROVER),
    )
    assert (after_close.status_code, after_close.json()["type"]) == (409, "NotAllowed")
    assert "withdrawn" in after_close.json()["detail"]


async def test_an_unknown_application_is_404(http: httpx.AsyncClient) -> None:
    """Acting on, reading or listing the history of a number nobody submitted: 404 UnknownApplication."""
    number = new_number()
    for response in (
        await http.post(
            f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer(OFFICER)
        ),
        await http.get(f"/applications/{number}", headers=bearer(OFFICER)),
        await http.get(f"/applications/{number}/events", headers=bearer(OFFICER)),
    ):
        assert (response.status_code, response.json()["type"]) == (404, "UnknownApplication")


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"kind": "record_approval", "step": "health"}, ["body", "approved"], "missing"),
        ({"kind": "record_approval", "step": "", "approved": True}, ["body", "step"], "string_too_short"),
        ({"kind": "suspend_clock", "pause": "expert_review"}, ["body", "expected_working_days"], "missing"),
        ({"kind": "accept_application", "notes": "x"}, ["body", "notes"], "extra_forbidden"),
        ({"step": "health", "approved": True}, ["body", "kind"], "missing"),
        ({"kind": "approve_everything"}, ["body", "kind"], "literal_error"),
        ({"kind": "deem_accepted"}, ["body", "kind"], "literal_error"),  # the engine's own command
        (
            {"kind": "accept_application", "actor": {"id": "someone.else", "role": "window_officer"}},
            ["body", "actor"],
            "extra_forbidden",
        ),
        (
            {
                "kind": "accept_with_deficiencies",
                "missing": ["x"],
                "supplement_within": 5,
                "commitment": "c",
                "credit": {"eligible": True},
            },
            ["body", "credit"],
            "extra_forbidden",
        ),
        (["accept_application"], ["body"], "dict_type"),
    ],
    ids=[
        "missing-field",
        "empty-step",
        "missing-days",
        "unknown-field",
        "no-kind",
        "unknown-kind",
        "engine-kind",
        "actor-in-body",
        "credit-claimed",
        "not-an-object",
    ],
)
async def test_a_command_body_that_does_not_validate_is_refused_422_naming_the_field(
    http: httpx.AsyncClient, body: object, loc: list[str], error_type: str
) -> None:
    """FastAPI-style detail: each problem's loc names the field; the type says InvalidCommand."""
    number = await submitted(http)
    response = await http.post(f"/applications/{number}/actions", json=body, headers=bearer(OFFICER))
    assert response.status_code == 422
    assert response.json()["type"] == "InvalidCommand"
    assert [(problem["loc"], problem["type"]) for problem in response.json()["detail"]] == [(loc, error_type)]


async def test_a_submission_body_that_does_not_validate_is_refused_422_naming_the_fields(
    http: httpx.AsyncClient,
) -> None:
    """A missing applicant, a bad channel, a naive instant and a slash in the number are each named."""
    body = submission("APP/1", channel="fax") | {"received_at": "2026-11-26T09:00:00"}
    del body["applicant"]
    response = await http.post("/applications", json=body, headers=bearer(PORTAL))
    assert response.status_code == 422
    problems = {tuple(problem["loc"]): problem["type"] for problem in response.json()["detail"]}
    assert problems == {
        ("body", "application_id"): "string_pattern_mismatch",
        ("body", "applicant"): "missing",
        ("body", "channel"): "enum",
        ("body", "received_at"): "timezone_aware",
    }
    malformed = await http.post(
        "/applications", content=b"{", headers=bearer(PORTAL) | {"Content-Type": "application/json"}
    )
    assert (malformed.status_code, malformed.json()["detail"][0]["type"]) == (422, "json_invalid")


async def test_a_retried_action_with_the_same_idempotency_key_takes_effect_once(
    http: httpx.AsyncClient,
) -> None:
    """Two identical requests with one key: the same 200 twice and one acceptance in the history."""
    number = await submitted(http)
    url = f"/applications/{number}/actions"
    headers = bearer(OFFICER) | {"Idempotency-Key": str(uuid.uuid4())}
    first = await http.post(url, json={"kind": "accept_application"}, headers=headers)
    retry = await http.post(url, json={"kind": "accept_application"}, headers=headers)
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()
    history = (await http.get(f"/applications/{number}/events", headers=bearer(OFFICER))).json()
    assert [event["kind"] for event in history].count("application_accepted") == 1
    new_request = await http.post(url, json={"kind": "accept_application"}, headers=bearer(OFFICER))
    assert (new_request.status_code, new_request.json()["type"]) == (409, "NotAllowed")


# --- reading and lists ------------------------------------------------------------------------------------


async def test_the_state_and_the_events_of_a_case_are_read_with_any_token(http: httpx.AsyncClient) -> None:
    """GET the view (as of now: deadlines counted, working days used) and the history in order."""
    number = await accepted(http)
    response = await http.get(f"/applications/{number}", headers=bearer(SUPERVISOR))
    assert response.status_code == 200
    view = response.json()
    assert (view["status"], view["matter_code"], view["closed"]) == (
        "under_review",
        "PUBLIC-PLACE-HYGIENE",
        False,
    )
    assert view["due_at"] is not None
    assert view["working_days_left"] is not None
    history = await http.get(f"/applications/{number}/events", headers=bearer(APPLICANT))
    assert history.status_code == 200
    assert [event["kind"] for event in history.json()][:3] == [
        "application_submitted",
        "deadlines_planned",
        "application_accepted",
    ]
    assert len(history.json()) == view["event_count"]


async def test_open_cases_are_listed_overdue_by_matter_and_by_department(http: httpx.AsyncClient) -> None:
    """A case received 30 days ago (deemed accepted, overdue at once) is on the overdue list, filtered too."""
    number = await submitted(http, received_at=datetime.now(UTC) - timedelta(days=30))
    url = "/applications?list=overdue&matter=PUBLIC-PLACE-HYGIENE&department=health"

    def listed(response: httpx.Response) -> bool:
        return number in [case["application_id"] for case in response.json()["applications"]]

    response = await eventually(http, url, SUPERVISOR, listed)
    assert response.status_code == 200
    assert listed(response)
    (case,) = [case for case in response.json()["applications"] if case["application_id"] == number]
    assert (case["departments"], case["running"]) == (["health"], True)
    elsewhere = await http.get("/applications?department=urban_management", headers=bearer(SUPERVISOR))
    assert not listed(elsewhere)
    bad = await http.get("/applications?list=everything", headers=bearer(SUPERVISOR))
    assert (bad.status_code, bad.json()["type"]) == (422, "InvalidRequest")
    assert bad.json()["detail"][0]["loc"] == ["query", "list"]


async def test_only_a_supervisor_announces_a_calendar_revision(http: httpx.AsyncClient) -> None:
    """R-CAL-4 from a supervisor reaches the running case; a window officer is refused 403."""
    number = await accepted(http)
    refused = await http.post("/calendar/revisions", headers=bearer(OFFICER))
    assert (refused.status_code, refused.json()["type"]) == (403, "NotAuthorised")
    announced = await http.post("/calendar/revisions", headers=bearer(SUPERVISOR))
    assert announced.status_code == 200
    assert number in announced.json()["signalled"]


# --- the contract's documentation -------------------------------------------------------------------------


async def test_the_openapi_document_describes_every_endpoint_and_body(http: httpx.AsyncClient) -> None:
    """/openapi.json lists the paths, the bearer scheme and the bodies (without actor); /docs serves it."""
    document = (await http.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert {
        "/applications": {"get", "post"},
        "/applications/{application_id}": {"get"},
        "/applications/{application_id}/actions": {"post"},
        "/applications/{application_id}/events": {"get"},
        "/calendar/revisions": {"post"},
    }.items() <= {path: set(operations) for path, operations in document["paths"].items()}.items()
    action = document["paths"]["/applications/{application_id}/actions"]["post"]
    schema = action["requestBody"]["content"]["application/json"]["schema"]
    assert schema["discriminator"]["mapping"]["record_approval"] == "#/components/schemas/RecordApprovalBody"
    components = document["components"]["schemas"]
    for name in [
        *(ref.rsplit("/", 1)[1] for ref in schema["discriminator"]["mapping"].values()),
        "SubmissionBody",
    ]:
        assert "actor" not in components[name]["properties"], name
    assert "application_id" in components["SubmissionBody"]["required"]
    assert {"401", "403", "409", "422"} <= set(action["responses"])
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    docs = await http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert "https://" not in docs.text  # offline networks: the script and styles come from this server
    script = await http.get("/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000


# --- the token file and the entry point (no server) ------------------------------------------------------


def test_the_example_token_file_is_marked_insecure_and_may_store_digests_only() -> None:
    """The shipped file says it is an example; the supervisor's token is found by its SHA-256 alone."""
    assert TOKENS.insecure_example
    assert f'token = "{SUPERVISOR}"' not in EXAMPLE_TOKENS.read_text()
    assert token_digest(SUPERVISOR) in EXAMPLE_TOKENS.read_text()
    supervisor = TOKENS.actor(SUPERVISOR)
    assert supervisor is not None
    assert (supervisor.id, supervisor.role) == ("zhao.min", Role.SUPERVISOR)
    assert TOKENS.actor("example-window-officer-li!") is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[tokens]]\ntoken = "short"\nid = "a"\nrole = "window_officer"\n', "tokens[0].token"),
        ('[[tokens]]\ntoken = "long-enough-token-1"\nid = "a"\nrole = "boss"\n', "tokens[0].role"),
        ('[[tokens]]\ntoken = "long-enough-token-1"\nid = "a"\nrole = "approver"\n', "department"),
        ('[[tokens]]\nid = "a"\nrole = "supervisor"\n', "exactly one of token and token_sha256"),
        (
            '[[tokens]]\ntoken = "long-enough-token-1"\nid = "a"\nrole = "supervisor"\n' * 2,
            "tokens[1]: the same token is given twice",
        ),
        ("insecure_example = true\n", "no [[tokens]] entry"),
        ("tokens = [", "not TOML"),
    ],
    ids=[
        "short-token",
        "unknown-role",
        "approver-without-department",
        "no-token",
        "duplicate",
        "empty",
        "toml",
    ],
)
def test_a_malformed_token_file_is_refused_naming_the_entry_and_the_field(text: str, named: str) -> None:
    """The gateway never starts with a token file it cannot read exactly."""
    with pytest.raises(TokenFileInvalid, match=None) as refused:
        TokenBook.from_toml(text, "tokens.toml")
    assert named in str(refused.value)
    assert str(refused.value).startswith("tokens.toml: ")


def test_the_gateway_does_not_start_without_a_token_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """No --tokens and no ONEWINDOW_GATEWAY_TOKENS: exit 2, no fallback to the example file."""
    monkeypatch.setattr(gateway, "configure_logging", lambda: None)
    monkeypatch.delenv(gateway.TOKENS_VARIABLE, raising=False)
    assert gateway.main([]) == 2
    assert gateway.main(["--tokens", str(Path("no/such/tokens.toml"))]) == 2


def test_the_example_tokens_are_never_served_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public example tokens on a routable address: exit 2 before connecting to anything."""
    monkeypatch.setattr(gateway, "configure_logging", lambda: None)
    assert gateway.main(["--tokens", str(EXAMPLE_TOKENS), "--host", "192.0.2.10"]) == 2
