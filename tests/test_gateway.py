"""The HTTP gateway: what intake systems and departments in other languages rely on.

Requests go through httpx's ASGI transport into the FastAPI app, on the suite's event loop. Most tests run
the real engine behind it: the session's dev server (real visibility, for lists) and a worker on a fresh
task queue. Tests of what is refused before the engine is asked (size, strict types, rates, filters) run
the app over an engine that fails the test if it is called at all. Tokens are the shipped example file's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from structlog.testing import capture_logs
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

import gateway.server
from gateway import (
    EXAMPLE_TOKENS,
    MAX_BODY_BYTES,
    TOKENS_VARIABLE,
    RateLimiter,
    RateLimits,
    TokenBook,
    TokenFileInvalid,
    create_app,
    token_digest,
)
from gateway.errors import RateLimited
from tests.builders import all_materials
from tests.conftest import RunWorker
from workflows.client import Cases
from workflows.domain.events import Role
from workflows.testkit import kit_cases

TOKENS = TokenBook.load(EXAMPLE_TOKENS)
PORTAL = "example-intake-portal"
OFFICER = "example-window-officer-li"
OFFICER_AS_APPROVER = "example-approver-li-health"  # the same person, li.na, in her approver role
APPROVER = "example-approver-wang-health"
APPLICANT = "example-applicant-dalian-food"  # id 91210200MA0000000X: the applicant of ``submission``
SUPERVISOR = "example-supervisor-zhao"  # stored in the file as its SHA-256 only
OTHER_APPLICANT_ID = "91210200MA0000009Z"

HYGIENE_MATERIALS = list(all_materials("PUBLIC-PLACE-HYGIENE"))
INTERNAL_TEXT = "dial tcp 10.1.2.3:7233: connect: connection refused (frontend-7f9c)"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def submission(
    number: str, received_at: datetime | None = None, applicant_id: str = "91210200MA0000000X", **changes: Any
) -> dict[str, Any]:
    """A complete public-place hygiene submission as an intake system sends it: no actor."""
    body: dict[str, Any] = {
        "application_id": number,
        "applicant": {"id_number": applicant_id, "name": "大连示例食品有限公司", "contact": "0411-1"},
        "matter_code": "PUBLIC-PLACE-HYGIENE",
        "materials": HYGIENE_MATERIALS,
        "channel": "online",
        "received_at": (received_at or datetime.now(UTC)).isoformat(),
    }
    return body | changes


def new_number() -> str:
    """A fresh application number (the dev server is shared by the whole session)."""
    return f"APP-{uuid.uuid4().hex[:10]}"


class NoEngine:
    """A Temporal client that fails the test if the gateway asks the engine anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the engine was asked ({name}) for a request refused at the door")


class FailingEngine:
    """A Temporal client whose every describe, query and update fails with ``error``, as a broken cluster
    would."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def get_workflow_handle(self, *_: object, **__: object) -> FailingEngine:
        return self

    async def describe(self, *_: object, **__: object) -> None:
        raise self.error

    async def query(self, *_: object, **__: object) -> None:
        raise self.error

    async def execute_update(self, *_: object, **__: object) -> None:
        raise self.error


class ManualClock:
    """Monotonic seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def client_of(app: Any) -> httpx.AsyncClient:
    """An HTTP client into ``app``; an exception the app lets out is answered 500, as uvicorn would."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@contextlib.asynccontextmanager
async def gateway_over(
    dev_server: WorkflowEnvironment, run_worker: RunWorker, tokens: TokenBook
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client into the gateway with ``tokens``, whose cases run on a worker of their own queue."""
    async with (
        run_worker(dev_server.client) as task_queue,
        client_of(create_app(kit_cases(dev_server.client, task_queue), tokens)) as client,
    ):
        yield client


@pytest.fixture
async def http(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client into the gateway, whose cases run on a worker of their own task queue."""
    async with gateway_over(dev_server, run_worker, TOKENS) as client:
        yield client


@pytest.fixture
async def offline() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client into the gateway over ``NoEngine``: for what is refused before the engine is asked."""
    async with client_of(create_app(Cases(cast(Client, NoEngine())), TOKENS)) as client:
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


def listed(response: httpx.Response) -> list[str]:
    """The application numbers a list answered."""
    return [case["application_id"] for case in response.json()["applications"]]


# --- authentication and rates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token-of-the-file"), {"Authorization": f"Basic {OFFICER}"}],
    ids=["no-token", "unknown-token", "not-bearer"],
)
async def test_a_request_without_a_known_bearer_token_is_refused_401(
    offline: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """No token, an unknown one or another scheme: 401 Unauthenticated with a Bearer challenge."""
    for response in (
        await offline.post("/applications", json=submission(new_number()), headers=headers),
        await offline.get("/applications/APP-ANY", headers=headers),
        await offline.get("/applications", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json()["type"] == "Unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_token_beyond_its_burst_is_refused_429_with_retry_after_until_it_refills() -> None:
    """A burst of 2 at 1 a second: the third request is 429 with Retry-After 1; a second later one more
    passes; another token has its own bucket."""
    clock = ManualClock()
    app = create_app(Cases(cast(Client, NoEngine())), TOKENS, limiter=RateLimiter(RateLimits(1, 2), clock))
    url = "/applications/APP-1/actions"  # {} is refused 422 after the token is counted, before the engine
    async with client_of(app) as http:
        burst = [(await http.post(url, json={}, headers=bearer(OFFICER))).status_code for _ in range(3)]
        assert burst == [422, 422, 429]
        refused = await http.post(url, json={}, headers=bearer(OFFICER))
        assert (refused.status_code, refused.json()["type"]) == (429, "RateLimited")
        assert refused.headers["Retry-After"] == "1"
        assert (await http.post(url, json={}, headers=bearer(APPROVER))).status_code == 422
        clock.seconds += 1
        assert (await http.post(url, json={}, headers=bearer(OFFICER))).status_code == 422
        assert (await http.post(url, json={}, headers=bearer(OFFICER))).status_code == 429


def test_a_drained_bucket_asks_for_the_whole_seconds_until_the_next_request() -> None:
    """At 0.25 requests a second an empty bucket needs 4 s; half-way there, 2 s."""
    clock = ManualClock()
    limiter = RateLimiter(RateLimits(rate=0.25, burst=1), clock)
    limiter.take("digest")
    with pytest.raises(RateLimited) as first:
        limiter.take("digest")
    clock.seconds += 2
    with pytest.raises(RateLimited) as later:
        limiter.take("digest")
    assert (first.value.retry_after, later.value.retry_after) == (4, 2)


# --- what is refused before the engine is asked -----------------------------------------------------------


async def test_a_body_declared_over_64_kib_is_refused_413_before_the_engine_is_asked(
    offline: httpx.AsyncClient,
) -> None:
    """Content-Length above MAX_BODY_BYTES: 413 BodyTooLarge, for a submission and for a command."""
    body = json.dumps({"kind": "withdraw_application", "reason": "x" * MAX_BODY_BYTES}).encode()
    for url, token in (("/applications", PORTAL), ("/applications/APP-1/actions", APPLICANT)):
        response = await offline.post(url, content=body, headers=bearer(token))
        assert (response.status_code, response.json()["type"]) == (413, "BodyTooLarge")
        assert str(MAX_BODY_BYTES) in response.json()["detail"]


async def test_a_chunked_body_over_64_kib_is_refused_413_while_it_streams(offline: httpx.AsyncClient) -> None:
    """No Content-Length: the gateway counts the chunks and stops at the limit, never reading the rest."""
    sent = 0

    async def chunks() -> AsyncIterable[bytes]:
        nonlocal sent
        yield b'{"kind": "withdraw_application", "reason": "'
        for _ in range(1000):
            sent += 1
            yield b"x" * 4096

    response = await offline.post("/applications/APP-1/actions", content=chunks(), headers=bearer(APPLICANT))
    assert (response.status_code, response.json()["type"]) == (413, "BodyTooLarge")
    assert sent < 1000


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"kind": "record_approval", "step": "health", "approved": "yes"}, ["body", "approved"], "bool_type"),
        ({"kind": "record_approval", "step": "health", "approved": 1}, ["body", "approved"], "bool_type"),
        (
            {"kind": "record_approval", "step": "health", "approved": "true"},
            ["body", "approved"],
            "bool_type",
        ),
        ({"kind": "suspend_clock", "pause": "p", "expected_working_days": "5"}, None, "int_type"),
        ({"kind": "request_correction", "missing": "hygiene_rules"}, ["body", "missing"], "tuple_type"),
    ],
    ids=["yes", "one", "true-string", "days-as-string", "string-as-list"],
)
async def test_a_command_is_read_in_strict_json_so_yes_is_no_boolean(
    offline: httpx.AsyncClient, body: dict[str, Any], loc: list[str] | None, error_type: str
) -> None:
    """Legal decisions are not guessed: "yes", 1 and "true" are refused 422, as are numbers in strings."""
    response = await offline.post("/applications/APP-1/actions", json=body, headers=bearer(APPROVER))
    assert (response.status_code, response.json()["type"]) == (422, "InvalidCommand")
    problems = {(tuple(p["loc"]), p["type"]) for p in response.json()["detail"]}
    assert any(t == error_type and (loc is None or list(where) == loc) for where, t in problems), problems


@pytest.mark.parametrize("instant", [1_795_000_000, 1_795_000_000.5, "1795000000", "20261126", "2026-11-26"])
async def test_an_instant_given_as_a_number_digits_or_a_date_is_refused_422(
    offline: httpx.AsyncClient, instant: object
) -> None:
    """A Unix time is not an instant: received_at must be an ISO 8601 date and time with an offset."""
    body = submission(new_number(), received_at=None) | {"received_at": instant}
    response = await offline.post("/applications", json=body, headers=bearer(PORTAL))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert (problem["loc"], problem["type"]) == (["body", "received_at"], "value_error")
    assert "ISO 8601" in problem["msg"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"kind": "withdraw_application", "reason": "\xff\xfe"}',
        b"\xff\xfe{\x00}\x00",
        json.dumps({"kind": "withdraw_application", "reason": "\ud800"}).encode(),
        b'{"kind": "withdraw_application",',
    ],
    ids=["invalid-utf8", "utf16", "lone-surrogate", "truncated"],
)
async def test_a_body_that_is_not_utf8_json_is_refused_422_not_500(
    offline: httpx.AsyncClient, raw: bytes
) -> None:
    """Bytes that are not UTF-8 JSON (or hold a lone surrogate) are json_invalid, a typed 422."""
    headers = bearer(APPLICANT) | {"Content-Type": "application/json"}
    response = await offline.post("/applications/APP-1/actions", content=raw, headers=headers)
    assert (response.status_code, response.json()["type"]) == (422, "InvalidCommand")
    assert [(p["loc"], p["type"]) for p in response.json()["detail"]] == [(["body"], "json_invalid")]


@pytest.mark.parametrize(
    "query",
    [
        {"department": "health' OR '1'='1"},
        {"department": 'health"'},
        {"department": "health\x00"},
        {"matter": "PUBLIC PLACE"},
        {"matter": "X" * 200},
    ],
    ids=["quote", "double-quote", "nul", "space", "too-long"],
)
async def test_a_list_filter_that_is_not_a_catalogue_code_is_refused_422(
    offline: httpx.AsyncClient, query: dict[str, str]
) -> None:
    """department and matter must be catalogue codes: nothing else reaches the visibility store."""
    response = await offline.get("/applications", params=query, headers=bearer(SUPERVISOR))
    assert (response.status_code, response.json()["type"]) == (422, "InvalidRequest")
    (name,) = query
    assert [problem["loc"] for problem in response.json()["detail"]] == [["query", name]]
    assert "input" not in response.json()["detail"][0]  # a refusal never repeats the value


# --- 5xx answers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "error_type"),
    [
        (RPCError(INTERNAL_TEXT, RPCStatusCode.UNAVAILABLE, b""), 503, "EngineUnavailable"),
        (WorkflowUpdateRPCTimeoutOrCancelledError(), 504, "EngineTimeout"),
        (WorkflowUpdateFailedError(RuntimeError(INTERNAL_TEXT)), 502, "Refused"),
        (RuntimeError(INTERNAL_TEXT), 500, "InternalError"),
    ],
    ids=["rpc-error", "update-timeout", "untyped-update-failure", "unhandled"],
)
async def test_a_5xx_answer_carries_no_internal_text_which_goes_to_the_log(
    error: BaseException, code: int, error_type: str
) -> None:
    """The engine failing: a typed problem with a generic detail; the internal text is logged only."""
    app = create_app(Cases(cast(Client, FailingEngine(error))), TOKENS)
    async with client_of(app) as http:
        with capture_logs() as logs:
            response = await http.post(
                "/applications/APP-1/actions", json={"kind": "accept_application"}, headers=bearer(OFFICER)
            )
    assert (response.status_code, response.json()["type"]) == (code, error_type)
    assert INTERNAL_TEXT not in response.text
    assert "Traceback" not in response.text
    (failure,) = [entry for entry in logs if entry["event"] == "request_failed"]
    assert (failure["status"], failure["type"]) == (code, error_type)
    if error_type != "EngineTimeout":  # that error has no text of its own
        assert INTERNAL_TEXT in failure["error"]


async def test_an_engine_failure_on_a_read_is_503_with_retry_after_and_no_internal_text() -> None:
    """A query the cluster cannot answer: 503 EngineUnavailable, Retry-After 1, a generic detail."""
    error = RPCError(INTERNAL_TEXT, RPCStatusCode.INTERNAL, b"")
    async with client_of(create_app(Cases(cast(Client, FailingEngine(error))), TOKENS)) as http:
        response = await http.get("/applications/APP-1", headers=bearer(SUPERVISOR))
    assert (response.status_code, response.json()["type"]) == (503, "EngineUnavailable")
    assert response.headers["Retry-After"] == "1"
    assert INTERNAL_TEXT not in response.text


# --- submission -------------------------------------------------------------------------------------------


@pytest.mark.devserver
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


@pytest.mark.devserver
async def test_a_retried_submission_with_the_same_idempotency_key_answers_the_same_201(
    http: httpx.AsyncClient,
) -> None:
    """The same intake again with a key is a retry (201, replayed); another submitter's key, or none, is a
    409."""
    number = new_number()
    body = submission(number)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await http.post("/applications", json=body, headers=bearer(PORTAL) | key)
    retry = await http.post("/applications", json=body, headers=bearer(PORTAL) | key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() == {"application_id": number}
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other_actor = await http.post("/applications", json=body, headers=bearer(OFFICER) | key)
    without_key = await http.post("/applications", json=body, headers=bearer(PORTAL))
    for refused in (other_actor, without_key):
        assert (refused.status_code, refused.json()["type"]) == (409, "AlreadySubmitted")


@pytest.mark.devserver
async def test_an_idempotency_key_reused_for_another_intake_is_refused_422(http: httpx.AsyncClient) -> None:
    """The same number and key with other materials is no retry: 422 IdempotencyKeyReused; the case is
    as it was."""
    number = new_number()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await http.post("/applications", json=submission(number), headers=bearer(PORTAL) | key)
    assert first.status_code == 201
    other = submission(number) | {"materials": ["application_form"]}
    reused = await http.post("/applications", json=other, headers=bearer(PORTAL) | key)
    assert (reused.status_code, reused.json()["type"]) == (422, "IdempotencyKeyReused")
    view = (await http.get(f"/applications/{number}", headers=bearer(SUPERVISOR))).json()
    assert view["status"] == "received"


@pytest.mark.devserver
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
    read = await http.get(f"/applications/{number}", headers=bearer(PORTAL))
    assert (read.status_code, read.json()["type"]) == (409, "UnknownMatter")
    # It never became a case: why is the submitter's to know, not another caller's.
    stranger = await http.get(f"/applications/{number}", headers=bearer(OFFICER))
    assert (stranger.status_code, stranger.json()["type"]) == (404, "UnknownApplication")
    await submitted(http, number)  # 201: the number is free again


# --- actions ----------------------------------------------------------------------------------------------


@pytest.mark.devserver
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


@pytest.mark.devserver
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


@pytest.mark.devserver
async def test_a_role_the_command_does_not_admit_is_refused_403_not_authorised(
    http: httpx.AsyncClient,
) -> None:
    """The intake portal (role system) may submit but not accept: 403 NotAuthorised."""
    number = await submitted(http)
    response = await http.post(
        f"/applications/{number}/actions", json={"kind": "accept_application"}, headers=bearer(PORTAL)
    )
    assert (response.status_code, response.json()["type"]) == (403, "NotAuthorised")


@pytest.mark.devserver
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


@pytest.mark.devserver
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
    offline: httpx.AsyncClient, body: object, loc: list[str], error_type: str
) -> None:
    """FastAPI-style detail: each problem's loc names the field; the type says InvalidCommand."""
    response = await offline.post("/applications/APP-1/actions", json=body, headers=bearer(OFFICER))
    assert response.status_code == 422
    assert response.json()["type"] == "InvalidCommand"
    assert [(problem["loc"], problem["type"]) for problem in response.json()["detail"]] == [(loc, error_type)]


async def test_a_submission_body_that_does_not_validate_is_refused_422_naming_the_fields(
    offline: httpx.AsyncClient,
) -> None:
    """A missing applicant, a bad channel, a naive instant and a slash in the number are each named."""
    body = submission("APP/1", channel="fax") | {"received_at": "2026-11-26T09:00:00"}
    del body["applicant"]
    response = await offline.post("/applications", json=body, headers=bearer(PORTAL))
    assert response.status_code == 422
    problems = {tuple(problem["loc"]): problem["type"] for problem in response.json()["detail"]}
    assert problems == {
        ("body", "application_id"): "value_error",
        ("body", "applicant"): "missing",
        ("body", "channel"): "enum",
        ("body", "received_at"): "timezone_aware",
    }
    malformed = await offline.post(
        "/applications", content=b"{", headers=bearer(PORTAL) | {"Content-Type": "application/json"}
    )
    assert (malformed.status_code, malformed.json()["detail"][0]["type"]) == (422, "json_invalid")


@pytest.mark.devserver
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


@pytest.mark.devserver
async def test_an_idempotency_key_reused_for_another_command_is_refused_422(http: httpx.AsyncClient) -> None:
    """A key that accepted the case, sent again with a correction notice: 422, and no notice recorded."""
    number = await submitted(http)
    url = f"/applications/{number}/actions"
    headers = bearer(OFFICER) | {"Idempotency-Key": str(uuid.uuid4())}
    assert (await http.post(url, json={"kind": "accept_application"}, headers=headers)).status_code == 200
    correction = {"kind": "request_correction", "missing": ["hygiene_rules"]}
    reused = await http.post(url, json=correction, headers=headers)
    assert (reused.status_code, reused.json()["type"]) == (422, "IdempotencyKeyReused")
    history = (await http.get(f"/applications/{number}/events", headers=bearer(OFFICER))).json()
    assert "correction_requested" not in [event["kind"] for event in history]


async def test_an_idempotency_key_names_one_request_so_another_case_or_endpoint_is_refused_422() -> None:
    """The same caller's key sent first to one case, then to another (or as a submission): 422 at the door."""
    down = RPCError("the cluster is down", RPCStatusCode.UNAVAILABLE, b"")
    async with client_of(create_app(Cases(cast(Client, FailingEngine(down))), TOKENS)) as http:
        headers = bearer(OFFICER) | {"Idempotency-Key": "key-once"}
        body = {"kind": "reject_application", "reason": "不符合受理条件"}
        first = await http.post("/applications/A-1/actions", json=body, headers=headers)
        assert first.status_code == 503  # not refused at the door: it reached the (broken) engine
        for path in ("/applications/A-2/actions", "/applications"):
            reused = await http.post(path, json=body, headers=headers)
            assert (reused.status_code, reused.json()["type"]) == (422, "IdempotencyKeyReused"), path
        again = await http.post("/applications/A-1/actions", json=body, headers=headers)
        assert again.status_code == 503  # the same request again is a retry
        mine = bearer(APPROVER) | {"Idempotency-Key": "key-once"}
        assert (await http.post("/applications/A-2/actions", json=body, headers=mine)).status_code == 503


@pytest.mark.parametrize("key", ["k" * 201, "two words", "key\ttab"])
async def test_an_idempotency_key_too_long_or_with_spaces_is_refused_422_at_the_door(
    offline: httpx.AsyncClient, key: str
) -> None:
    """The key becomes part of a Temporal update id: 1 to 200 printable ASCII characters, as the engine's."""
    headers = bearer(OFFICER) | {"Idempotency-Key": key}
    body = {"kind": "accept_application"}
    refused = await offline.post("/applications/A-1/actions", json=body, headers=headers)
    assert refused.status_code == 422
    assert [problem["loc"] for problem in refused.json()["detail"]] == [["header", "Idempotency-Key"]]


async def test_an_unknown_field_name_is_not_repeated_in_full_in_the_422(offline: httpx.AsyncClient) -> None:
    """A 30 KB field name comes back cut short: the answer never carries the caller's payload back."""
    body = {"kind": "accept_application", "x" * 30_000: 1}
    refused = await offline.post("/applications/A-1/actions", json=body, headers=bearer(OFFICER))
    assert refused.status_code == 422
    assert len(refused.content) < 2_000


# --- reading and lists ------------------------------------------------------------------------------------


@pytest.mark.devserver
async def test_the_state_and_the_events_of_a_case_are_read_by_those_it_concerns(
    http: httpx.AsyncClient,
) -> None:
    """GET the view (as of now: deadlines counted, working days used) and the history in order: by a
    supervisor, and by the applicant of the case."""
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


@pytest.mark.devserver
async def test_open_cases_are_listed_overdue_by_matter_and_by_department(http: httpx.AsyncClient) -> None:
    """A case received 30 days ago (deemed accepted, overdue at once) is on the overdue list, filtered too."""
    number = await submitted(http, received_at=datetime.now(UTC) - timedelta(days=30))
    url = "/applications?list=overdue&matter=PUBLIC-PLACE-HYGIENE&department=health"
    response = await eventually(http, url, SUPERVISOR, lambda r: number in listed(r))
    assert response.status_code == 200
    assert number in listed(response)
    (case,) = [case for case in response.json()["applications"] if case["application_id"] == number]
    assert (case["departments"], case["running"]) == (["health"], True)
    elsewhere = await http.get("/applications?department=urban_management", headers=bearer(SUPERVISOR))
    assert number not in listed(elsewhere)
    bad = await http.get("/applications?list=everything", headers=bearer(SUPERVISOR))
    assert (bad.status_code, bad.json()["type"]) == (422, "InvalidRequest")
    assert bad.json()["detail"][0]["loc"] == ["query", "list"]


@pytest.mark.devserver
async def test_an_applicant_reads_and_lists_only_their_own_cases(http: httpx.AsyncClient) -> None:
    """Another applicant's case is 404 to them, its history too, and absent from every list they get."""
    own = await submitted(http)
    other = await submitted(http, applicant_id=OTHER_APPLICANT_ID)
    for url in (f"/applications/{other}", f"/applications/{other}/events"):
        refused = await http.get(url, headers=bearer(APPLICANT))
        assert (refused.status_code, refused.json()["type"]) == (404, "UnknownApplication")
        assert OTHER_APPLICANT_ID not in refused.text
    assert (await http.get(f"/applications/{own}", headers=bearer(APPLICANT))).status_code == 200
    everyone = await eventually(http, "/applications", SUPERVISOR, lambda r: {own, other} <= set(listed(r)))
    assert {own, other} <= set(listed(everyone))
    mine = await eventually(http, "/applications", APPLICANT, lambda r: own in listed(r))
    assert own in listed(mine)
    assert other not in listed(mine)
    matter = await http.get("/applications?matter=PUBLIC-PLACE-HYGIENE", headers=bearer(APPLICANT))
    assert other not in listed(matter)


@pytest.mark.devserver
async def test_an_approver_reads_only_the_cases_of_their_department(http: httpx.AsyncClient) -> None:
    """A health case under review: the health approver reads it, the market regulation approver gets 404;
    li.na, who accepted it, still reads it."""
    number = await accepted(http)
    assert (await http.get(f"/applications/{number}", headers=bearer(OFFICER))).status_code == 200
    assert (await http.get(f"/applications/{number}", headers=bearer(APPROVER))).status_code == 200
    market = await http.get(f"/applications/{number}", headers=bearer("example-approver-zhang-market"))
    assert (market.status_code, market.json()["type"]) == (404, "UnknownApplication")


@pytest.mark.devserver
async def test_only_a_supervisor_announces_a_calendar_revision(http: httpx.AsyncClient) -> None:
    """R-CAL-4 from a supervisor reaches the running case; a window officer is refused 403."""
    number = await accepted(http)
    refused = await http.post("/calendar/revisions", headers=bearer(OFFICER))
    assert (refused.status_code, refused.json()["type"]) == (403, "NotAuthorised")
    announced = await http.post("/calendar/revisions", headers=bearer(SUPERVISOR))
    assert announced.status_code == 200
    assert number in announced.json()["signalled"]
    assert isinstance(announced.json()["unreached"], dict)
    forged_version = {"calendar_version": "cal-' OR 1=1"}
    forged = await http.post("/calendar/revisions", params=forged_version, headers=bearer(SUPERVISOR))
    assert (forged.status_code, forged.json()["detail"][0]["loc"]) == (422, ["query", "calendar_version"])


# --- the contract's documentation -------------------------------------------------------------------------


async def test_the_openapi_document_describes_every_endpoint_and_body(offline: httpx.AsyncClient) -> None:
    """/openapi.json lists the paths, the bearer scheme, the bodies (without actor) and the limits' answers;
    /docs serves it."""
    http = offline
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
    assert {"401", "403", "409", "413", "422", "429"} <= set(action["responses"])
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    docs = await http.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert "https://" not in docs.text  # offline networks: the script and styles come from this server
    script = await http.get("/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000


# --- the token file and the entry point (no server) ------------------------------------------------------


def supervisor_entry(actor_id: str) -> str:
    """A token file with one supervisor's entry, its id as TOML writes it (escapes kept)."""
    return f'[[tokens]]\ntoken = "long-enough-token-1"\nid = "{actor_id}"\nrole = "supervisor"\n'


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
        (supervisor_entry("w1\\u200b"), "tokens[0].id"),
        (supervisor_entry("li na"), "tokens[0].id"),
        (supervisor_entry("li'na"), "tokens[0].id"),
        (supervisor_entry("a\\u0007"), "tokens[0].id"),
        (supervisor_entry("x" * 65), "tokens[0].id"),
    ],
    ids=[
        "short-token",
        "unknown-role",
        "approver-without-department",
        "no-token",
        "duplicate",
        "empty",
        "toml",
        "invisible-id",
        "space-in-id",
        "quote-in-id",
        "control-in-id",
        "long-id",
    ],
)
def test_a_malformed_token_file_is_refused_naming_the_entry_and_the_field(text: str, named: str) -> None:
    """The gateway never starts with a token file it cannot read exactly; ids are the engine's Actor ids."""
    with pytest.raises(TokenFileInvalid, match=None) as refused:
        TokenBook.from_toml(text, "tokens.toml")
    assert named in str(refused.value)
    assert str(refused.value).startswith("tokens.toml: ")


def test_the_gateway_does_not_start_without_a_token_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """No --tokens and no ONEWINDOW_GATEWAY_TOKENS: exit 2, no fallback to the example file."""
    monkeypatch.setattr(gateway.server, "configure_logging", lambda: None)
    monkeypatch.delenv(TOKENS_VARIABLE, raising=False)
    assert gateway.server.main([]) == 2
    assert gateway.server.main(["--tokens", str(Path("no/such/tokens.toml"))]) == 2


def test_the_example_tokens_are_never_served_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The public example tokens on a routable address: exit 2 before connecting to anything."""
    monkeypatch.setattr(gateway.server, "configure_logging", lambda: None)
    assert gateway.server.main(["--tokens", str(EXAMPLE_TOKENS), "--host", "192.0.2.10"]) == 2


def test_the_rate_limits_are_options_with_environment_defaults_shown_in_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--rate and --burst default to ONEWINDOW_GATEWAY_RATE and _BURST; a rate of 0 is refused, exit 2."""
    monkeypatch.setattr(gateway.server, "configure_logging", lambda: None)
    monkeypatch.setenv("ONEWINDOW_GATEWAY_RATE", "0")
    assert gateway.server.main(["--tokens", str(EXAMPLE_TOKENS)]) == 2
    monkeypatch.setenv("ONEWINDOW_GATEWAY_RATE", "5")
    with pytest.raises(SystemExit):
        gateway.server.main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())  # as wrapped for any terminal width
    assert "(ONEWINDOW_GATEWAY_RATE; default: 5)" in shown
    assert "(ONEWINDOW_GATEWAY_BURST; default: 40)" in shown
