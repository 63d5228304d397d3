"""The credit register every worker shares: the bar rule, the register workflow, the city platform's
adapter, the worker's settings, and a broken commitment on one worker refusing 容缺 on another."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

import worker
from activities.credit import (
    PLATFORM_UNAVAILABLE,
    REGISTER_FULL,
    CityCreditPlatform,
    CreditActivities,
    TemporalCreditRegister,
)
from activities.outbox import Outbox
from tests.builders import applicant, shipped_matter, window_officer
from tests.case_helpers import Handle, act, case_events, registered
from tests.conftest import RunWorker, StartAt
from workflows.application_workflow import ApplicationWorkflow
from workflows.boundary import BoundaryInterceptor
from workflows.credit_register import (
    MAX_ENTRY_BYTES,
    MAX_RECORDS,
    REASON_CHARS,
    Carried,
    CreditRegister,
    register_form,
    register_id,
)
from workflows.domain.application import Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.catalogue import Catalogue
from workflows.domain.commands import AcceptWithDeficiencies
from workflows.domain.credit import MAX_BAR_MONTHS, CreditRecordKind, standing, still_kept
from workflows.domain.events import Actor, Channel, Role
from workflows.domain.values import MAX_ID, MAX_TEXT
from workflows.messages import ApplicationView, CreditEntry, CreditQuery, Intake
from workflows.registry import WORKFLOW_RUNNER
from workflows.server_limits import DYNAMIC_CONFIG
from workflows.testkit import kit_security, onewindow_replayer, onewindow_worker

BROKEN_AT = datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI)
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
MISSING = ("food_safety_rules",)


def _entry(
    key: str = "APP-9:12",
    *,
    at: datetime = BROKEN_AT,
    kind: CreditRecordKind = CreditRecordKind.DEFICIENCY_COMMITMENT_BROKEN,
    applicant_key: str | None = "0123456789abcdef",
    applicant_id: str = "91210200MA0000003C",
    reason: str = "容缺承诺未履行",
) -> CreditEntry:
    return CreditEntry(
        key=key,
        application_id=key.partition(":")[0],
        applicant_id=applicant_id,
        applicant_key=applicant_key,
        kind=kind,
        reason=reason,
        at=at,
    )


def _fresh_applicant_id() -> str:
    """An applicant of this test alone: registers outlive a test on a shared server."""
    return f"91210200MA{uuid.uuid4().hex[:8].upper()}"


# --- the bar rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked_at", "eligible"),
    [
        pytest.param(BROKEN_AT, False, id="the-instant-it-was-recorded"),
        pytest.param(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI), False, id="six-months-to-the-minute"),
        pytest.param(datetime(2026, 9, 30, 10, 1, tzinfo=SHANGHAI), True, id="a-minute-after"),
        pytest.param(datetime(2026, 3, 30, 9, 59, tzinfo=SHANGHAI), True, id="before-it-was-recorded"),
    ],
)
def test_a_record_bars_from_its_instant_until_the_same_instant_six_calendar_months_later(
    asked_at: datetime, eligible: bool
) -> None:
    """The window is [at - 6 calendar months, at], both ends included; a later record does not bar."""
    assert standing([_entry()], asked_at, 6).eligible is eligible


def test_the_bar_period_is_configurable() -> None:
    """A city barring for 12 months still refuses after 7; one barring for 1 month no longer does."""
    seven_months_on = datetime(2026, 10, 30, 10, 0, tzinfo=SHANGHAI)
    assert not standing([_entry()], seven_months_on, 12).eligible
    assert standing([_entry()], seven_months_on, 1).eligible


@pytest.mark.parametrize("kind", list(CreditRecordKind))
def test_every_kind_of_record_bars_and_the_refusal_names_its_case_and_kind(kind: CreditRecordKind) -> None:
    """容缺 broken, 告知承诺 false, 投资承诺 failed: each bars, and the detail says which and where."""
    result = standing([_entry(kind=kind)], BROKEN_AT + timedelta(days=1), 6)
    assert not result.eligible
    assert result.detail == f"{kind.value} recorded on case APP-9 within 6 months"


def test_the_refusal_names_the_most_recent_barring_record_and_no_record_means_eligible() -> None:
    """Records in any order: the latest within the window is named; an applicant without one is eligible."""
    older = _entry("APP-1:3", at=BROKEN_AT - timedelta(days=20), kind=CreditRecordKind.FALSE_COMMITMENT)
    newer = _entry("APP-2:7", at=BROKEN_AT)
    result = standing([newer, older], BROKEN_AT + timedelta(days=1), 6)
    assert result.detail == "deficiency_commitment_broken recorded on case APP-2 within 6 months"
    assert standing([], BROKEN_AT, 6).detail == "no credit record within 6 months"


def test_a_register_drops_only_what_the_longest_bar_period_could_no_longer_reach() -> None:
    """Ten years kept (the longest configurable bar), oldest first; anything older is dropped."""
    now = datetime(2036, 3, 30, 10, 0, tzinfo=SHANGHAI)
    edge = _entry("APP-1:1", at=now.replace(year=2026))
    older = _entry("APP-0:1", at=edge.at - timedelta(seconds=1))
    recent = _entry("APP-2:1", at=now - timedelta(days=1))
    assert MAX_BAR_MONTHS == 120
    assert still_kept([recent, older, edge], now) == (edge, recent)


def test_a_full_register_of_the_largest_records_fits_one_payload() -> None:
    """A register starts with its records and answers with them: both are payloads under the blob limit."""
    longest = _entry(
        "案" * 200 + ":99999",
        applicant_id="企" * (4 * MAX_ID // 3),
        applicant_key="f" * 16,
        kind=CreditRecordKind.INVESTMENT_COMMITMENT_FAILED,
        reason="承" * MAX_TEXT,
    )
    kept = register_form(longest)
    assert len(kept.reason) == REASON_CHARS
    size = len(kept.model_dump_json().encode())
    assert size <= MAX_ENTRY_BYTES
    records = tuple(kept.model_copy(update={"key": f"{kept.key}{n}"}) for n in range(MAX_RECORDS))
    assert len(Carried(records=records).model_dump_json().encode()) < DYNAMIC_CONFIG["limit.blobSize.error"]


# --- the register workflow -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _register_worker(client: Client) -> AsyncIterator[str]:
    """A worker hosting registers alone, on a fresh queue."""
    task_queue = f"credit-test-{uuid.uuid4().hex[:12]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[CreditRegister],
        workflow_runner=WORKFLOW_RUNNER,
        interceptors=[BoundaryInterceptor()],
    ):
        yield task_queue


async def _write(
    client: Client, task_queue: str, entry: CreditEntry, carried: Carried | None = None, *, register: str = ""
) -> bool:
    start = WithStartWorkflowOperation(
        CreditRegister.run,
        carried or Carried(),
        id=register or register_id(entry.applicant_key or ""),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await client.execute_update_with_start_workflow(
        CreditRegister.record, entry, start_workflow_operation=start
    )


async def _refused(client: Client, task_queue: str, entry: CreditEntry, **given: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _write(client, task_queue, entry, **given)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


def _handle(client: Client, key: str) -> WorkflowHandle[CreditRegister, None]:
    return client.get_workflow_handle_for(CreditRegister.run, register_id(key))


async def test_a_retried_write_adds_nothing_and_a_stranger_s_entry_is_refused_before_history(
    time_skipping: WorkflowEnvironment,
) -> None:
    """Once per key; an entry of another applicant, without a key or too large is refused, typed."""
    client = time_skipping.client
    key = uuid.uuid4().hex[:16]
    async with _register_worker(client) as task_queue:
        entry = _entry(applicant_key=key)
        assert await _write(client, task_queue, entry)
        assert not await _write(client, task_queue, entry)
        handle = _handle(client, key)
        assert await handle.query(CreditRegister.records) == (entry,)

        stranger = _entry("APP-8:1", applicant_key="another-applicant")
        assert (await _refused(client, task_queue, stranger, register=handle.id)).type == "InvalidCommand"
        unkeyed = _entry("APP-8:2", applicant_key=None)
        assert (await _refused(client, task_queue, unkeyed, register=handle.id)).type == "InvalidCommand"
        large = _entry("APP-8:3", applicant_key=key, reason="长" * 1000)
        refusal = await _refused(client, task_queue, large)
        assert refusal.type == "InvalidCommand"
        assert f"at most {MAX_ENTRY_BYTES} are accepted" in refusal.message
        assert await handle.query(CreditRegister.records) == (entry,)
        accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        history = await handle.fetch_history()
        assert sum(event.event_type == accepted for event in history.events) == 2  # the two writes
        await handle.terminate()


async def test_a_full_register_refuses_one_more_record_typed_but_still_answers_a_retry(
    time_skipping: WorkflowEnvironment,
) -> None:
    """At MAX_RECORDS a new key is refused CreditRegisterFull; a key already kept is still answered."""
    client = time_skipping.client
    key = uuid.uuid4().hex[:16]
    now = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    full = tuple(_entry(f"APP-{n}:1", applicant_key=key, at=now) for n in range(MAX_RECORDS))
    async with _register_worker(client) as task_queue:
        assert not await _write(client, task_queue, full[0], Carried(records=full))
        refusal = await _refused(client, task_queue, _entry("APP-X:1", applicant_key=key, at=now))
        assert refusal.type == REGISTER_FULL
        assert len(await _handle(client, key).query(CreditRegister.records)) == MAX_RECORDS
        await _handle(client, key).terminate()


async def test_a_register_continues_as_new_with_its_records_when_its_history_is_long(
    time_skipping: WorkflowEnvironment,
) -> None:
    """The next run starts with every record (before any update reaches it), takes new ones, and both
    runs replay on this code."""
    client = time_skipping.client
    key = uuid.uuid4().hex[:16]
    entries = [_entry(f"APP-{n}:1", applicant_key=key, at=BROKEN_AT + timedelta(hours=n)) for n in range(8)]
    async with _register_worker(client) as task_queue:
        await _write(client, task_queue, entries[0], Carried(history_bound=10))
        handle = _handle(client, key)
        first_run = (await handle.describe()).run_id
        for entry in entries[1:]:
            await _write(client, task_queue, entry)
        assert not await _write(client, task_queue, entries[0])  # a retry, however many runs later
        assert (await handle.describe()).run_id != first_run
        assert await handle.query(CreditRegister.records) == tuple(entries)
        await handle.terminate()
    replayer = onewindow_replayer(kit_security().data_converter(), [CreditRegister])
    for run in (first_run, None):
        history = await client.get_workflow_handle(handle.id, run_id=run).fetch_history()
        assert (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None


async def test_the_embedded_register_reads_nothing_for_a_stranger_and_waits_when_full(
    time_skipping: WorkflowEnvironment,
) -> None:
    """Through an activity's client: no register is no record; a full one is retried, not lost."""
    client = time_skipping.client
    key = uuid.uuid4().hex[:16]
    now = (await time_skipping.get_current_time()).astimezone(SHANGHAI)
    full = tuple(_entry(f"APP-{n}:1", applicant_key=key, at=now) for n in range(MAX_RECORDS))
    async with _register_worker(client) as task_queue:
        env = ActivityEnvironment(client)
        env.info = dataclasses.replace(env.info, task_queue=task_queue)
        register = TemporalCreditRegister()
        query = CreditQuery(applicant_id="x", applicant_key=key, at=now)
        assert await env.run(register.records, query) == ()
        await _write(client, task_queue, full[0], Carried(records=full))
        with pytest.raises(ApplicationError) as waiting:
            await env.run(register.record, _entry("APP-X:1", applicant_key=key, at=now))
        assert (waiting.value.type, waiting.value.non_retryable) == (REGISTER_FULL, False)
        await _handle(client, key).terminate()


# --- the city's credit platform over HTTP --------------------------------------------------------------


class _Platform(BaseHTTPRequestHandler):
    """A stand-in for the city's platform: it keeps what it is sent and answers as scripted."""

    requests: ClassVar[list[tuple[str, dict[str, str], Any]]] = []
    status: ClassVar[int] = 201
    answer: ClassVar[bytes] = b"{}"
    delay: ClassVar[float] = 0.0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, dict(self.headers.items()), body))
        time.sleep(self.delay)
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output is its assertions."""


@pytest.fixture
def platform() -> Iterator[tuple[str, type[_Platform]]]:
    """The stand-in platform on a free local port, for one test; its base URL and its handler class."""
    handler = type("Platform", (_Platform,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/credit/", handler
    server.shutdown()
    server.server_close()


async def test_a_record_is_posted_with_its_key_as_the_idempotency_key_and_the_bearer_token(
    platform: tuple[str, type[_Platform]],
) -> None:
    """The key travels as Idempotency-Key (percent-encoded when not ASCII), the record as JSON."""
    url, handler = platform
    city = CityCreditPlatform(url, "secret-token")
    entry = _entry("APP-9:12")
    await city.record(entry)
    await city.record(_entry("大连-1:3"))
    (path, headers, body), (_, cjk_headers, _) = handler.requests
    assert path == "/credit/records"
    assert headers["Idempotency-Key"] == "APP-9:12"
    assert cjk_headers["Idempotency-Key"] == "%E5%A4%A7%E8%BF%9E-1:3"
    assert headers["Authorization"] == "Bearer secret-token"
    assert CreditEntry.model_validate(body) == entry


@pytest.mark.parametrize(
    ("status", "answer", "delay"),
    [
        pytest.param(503, b"{}", 0.0, id="unavailable"),
        pytest.param(401, b"{}", 0.0, id="token-refused"),
        pytest.param(200, b"[1, 2]", 0.0, id="not-records"),
        pytest.param(200, b'{"records": []}', 1.0, id="too-slow"),
    ],
)
async def test_a_platform_that_fails_raises_a_retryable_error_without_echoing_its_answer(
    platform: tuple[str, type[_Platform]], status: int, answer: bytes, delay: float
) -> None:
    """Temporal retries the activity until the platform answers; the error names the call, not data."""
    url, handler = platform
    handler.status, handler.answer, handler.delay = status, answer, delay
    city = CityCreditPlatform(url, timeout=0.3)
    with pytest.raises(ApplicationError) as failed:
        await city.records(CreditQuery(applicant_id="91210200MA0000003C", at=BROKEN_AT))
    assert (failed.value.type, failed.value.non_retryable) == (PLATFORM_UNAVAILABLE, False)
    assert "91210200MA0000003C" not in failed.value.message


async def test_an_unreachable_platform_raises_a_retryable_error_and_a_bad_url_is_refused() -> None:
    """Nothing listens: retried. A URL that is not http(s) never makes a platform."""
    with pytest.raises(ApplicationError) as failed:
        await CityCreditPlatform("http://127.0.0.1:9/", timeout=0.3).record(_entry())
    assert (failed.value.type, failed.value.non_retryable) == (PLATFORM_UNAVAILABLE, False)
    for url in ("ftp://credit.example/", "credit.example", "https:///records"):
        with pytest.raises(ValueError, match="http"):
            CityCreditPlatform(url)


async def test_the_standing_comes_from_the_platform_s_records_of_the_applicant(
    platform: tuple[str, type[_Platform]], outbox: Outbox
) -> None:
    """The identity number goes in the body, never the URL; the platform's records bar as ours do."""
    url, handler = platform
    handler.status = 200
    kept = _entry(kind=CreditRecordKind.FALSE_COMMITMENT).model_dump(mode="json")
    handler.answer = json.dumps({"records": [kept], "next_page": None}).encode()
    credit = CreditActivities(outbox, lambda id_number: "derived-key", platform=CityCreditPlatform(url))
    result = await credit.check_credit(CreditQuery(applicant_id="91210200MA0000003C", at=BROKEN_AT))
    assert (result.eligible, result.detail) == (
        False,
        "false_commitment recorded on case APP-9 within 6 months",
    )
    ((path, _, body),) = handler.requests
    assert path == "/credit/records/search"
    assert body == {"applicant_id": "91210200MA0000003C"}


# --- the worker's settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        pytest.param({"ONEWINDOW_CREDIT_BAR_MONTHS": "0"}, "ONEWINDOW_CREDIT_BAR_MONTHS", id="zero-months"),
        pytest.param(
            {"ONEWINDOW_CREDIT_BAR_MONTHS": "121"}, "ONEWINDOW_CREDIT_BAR_MONTHS", id="over-ten-years"
        ),
        pytest.param(
            {"ONEWINDOW_CREDIT_BAR_MONTHS": "six"}, "ONEWINDOW_CREDIT_BAR_MONTHS", id="not-a-number"
        ),
        pytest.param(
            {"ONEWINDOW_CREDIT_PLATFORM_URL": "ftp://credit.example"},
            "ONEWINDOW_CREDIT_PLATFORM_URL",
            id="ftp",
        ),
        pytest.param(
            {"ONEWINDOW_CREDIT_PLATFORM_TOKEN": "t"}, "ONEWINDOW_CREDIT_PLATFORM_URL", id="token-without-url"
        ),
    ],
)
def test_a_bad_credit_setting_stops_the_worker_at_start_with_one_line_naming_it(
    environ: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and one JSON line naming the variable, before anything connects or listens."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # a cluster: no dev server is started
    for variable in (
        worker.CREDIT_BAR_MONTHS_VARIABLE,
        worker.CREDIT_PLATFORM_URL_VARIABLE,
        worker.CREDIT_PLATFORM_TOKEN_VARIABLE,
    ):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    assert worker.main(["--metrics-port", "0"]) == 2
    logged = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert logged["event"] == "worker_failed"
    assert named in logged["error"]


def test_the_credit_settings_default_to_six_months_in_the_embedded_register() -> None:
    """Nothing set: Dalian's six months, no city platform; both are read when set."""
    assert worker.credit_settings({}) == worker.CreditSettings(bar_months=6, platform=None)
    given = worker.credit_settings(
        {"ONEWINDOW_CREDIT_BAR_MONTHS": "12", "ONEWINDOW_CREDIT_PLATFORM_URL": "https://credit.example/api"}
    )
    assert given.bar_months == 12
    assert isinstance(given.platform, CityCreditPlatform)


# --- a broken commitment on one worker, 容缺 refused on another ---------------------------------------


class Through(BaseModel):
    """A credit record for the worker serving ``task_queue`` to write."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry: CreditEntry
    task_queue: str


# It only hands its input to an activity on another queue: no sandbox needed.
@workflow.defn(sandboxed=False)
class WriteThrough:
    """Has the worker on ``task_queue`` write a credit record, as a case of its own would."""

    @workflow.run
    async def run(self, through: Through) -> None:
        """Write it through that worker's ``write_credit_record``."""
        await workflow.execute_activity(
            "write_credit_record",
            through.entry,
            task_queue=through.task_queue,
            start_to_close_timeout=timedelta(seconds=30),
        )


INTAKE_SYSTEM = Actor(id="intake-portal", role=Role.SYSTEM)


def _deficient_intake(applicant_id: str, received_at: datetime) -> Intake:
    matter = shipped_matter("FOOD-BUSINESS")
    return Intake(
        actor=INTAKE_SYSTEM,
        applicant=applicant(applicant_id),
        matter_code=matter.code,
        materials=tuple(m.code for m in matter.materials if m.code not in MISSING),
        channel=Channel.WINDOW,
        received_at=received_at,
    )


def _deficiency() -> AcceptWithDeficiencies:
    return AcceptWithDeficiencies(
        actor=window_officer("window-1"), missing=MISSING, supplement_within=3, commitment="容缺承诺-0001"
    )


async def _open(client: Client, task_queue: str, applicant_id: str, received_at: datetime) -> Handle:
    return await client.start_workflow(
        ApplicationWorkflow.run,
        _deficient_intake(applicant_id, received_at),
        id=f"APP-{uuid.uuid4().hex[:10]}",
        task_queue=task_queue,
    )


async def _abandoned(handle: Handle) -> ApplicationView:
    """The case's view once the worker has acted on its passed deadline."""
    for _ in range(400):
        view = await handle.query(ApplicationWorkflow.state)
        if view.status is Status.ABANDONED:
            return view
        await asyncio.sleep(0.025)
    raise AssertionError(f"{handle.id} was never abandoned")


async def _records_once_written(client: Client, key: str) -> tuple[CreditEntry, ...]:
    """The register's records, once the closing case's worker has written one (it starts the register)."""
    for _ in range(400):
        with contextlib.suppress(RPCError):
            if records := await _handle(client, key).query(CreditRegister.records):
                return records
        await asyncio.sleep(0.025)
    raise AssertionError("nothing was written to the register")


async def _refusal(handle: Handle) -> ApplicationError:
    """容缺 asked and refused: the typed cause."""
    await registered(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ApplicationWorkflow.act, _deficiency())
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


@pytest.mark.devserver
async def test_a_commitment_broken_on_one_worker_refuses_deficiency_tolerance_on_another(
    dev_server: WorkflowEnvironment, catalogue: Catalogue, tmp_path: Path
) -> None:
    """Worker A accepts a case with 容缺 and records its broken commitment; worker B, on another queue
    with an outbox of its own, refuses the same applicant's next 容缺 naming A's case."""
    client = dev_server.client
    applicant_id = _fresh_applicant_id()
    outbox_a, outbox_b = Outbox(tmp_path / "a.sqlite"), Outbox(tmp_path / "b.sqlite")
    driver = f"credit-driver-{uuid.uuid4().hex[:12]}"
    try:
        async with (
            onewindow_worker(client, outbox_a, catalogue=catalogue) as on_a,
            onewindow_worker(client, outbox_b, catalogue=catalogue) as on_b,
            Worker(client, task_queue=driver, workflows=[WriteThrough]),
        ):
            now = (await dev_server.get_current_time()).astimezone(SHANGHAI)
            first = await _open(client, on_a.task_queue, applicant_id, now)
            await act(first, _deficiency())  # eligible: no record yet, anywhere
            # What the case writes when its deadline passes (on the dev server time does not skip).
            broken = _entry(f"{first.id}:9", applicant_id=applicant_id, applicant_key=None, at=now)
            await client.execute_workflow(
                WriteThrough.run,
                Through(entry=broken, task_queue=on_a.task_queue),
                id=driver,
                task_queue=driver,
            )

            second = await _open(client, on_b.task_queue, applicant_id, now)
            refusal = await _refusal(second)
            assert refusal.type == "DeficiencyNotTolerable"
            assert f"on case {first.id}" in refusal.message
            assert "accepted_with_deficiencies" not in [e.kind for e in await case_events(second)]
            assert [p["application_id"] for _, p in outbox_a.records("credit", applicant_id)] == [first.id]
            assert outbox_b.records("credit") == []
            key = kit_security().pseudonyms.of(applicant_id)
            records = await _handle(client, key).query(CreditRegister.records)
            assert [r.application_id for r in records] == [first.id]
            assert applicant_id not in register_id(key)
            await _handle(client, key).terminate()
    finally:
        outbox_a.close()
        outbox_b.close()


async def test_an_abandoned_case_writes_to_the_register_and_another_worker_refuses_the_next_deficiency(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox, catalogue: Catalogue, tmp_path: Path
) -> None:
    """The deadline passes unkept on the time-skipping server: the case abandons, its worker writes the
    register, and a worker that never saw the case refuses the applicant 容缺."""
    applicant_id = _fresh_applicant_id()
    other_outbox = Outbox(tmp_path / "other.sqlite")
    try:
        async with (
            time_skipping_at(MONDAY) as env,
            run_worker(env.client) as task_queue,
            onewindow_worker(env.client, other_outbox, catalogue=catalogue) as elsewhere,
        ):
            first = await _open(env.client, task_queue, applicant_id, MONDAY)
            await act(first, _deficiency())
            await env.sleep(timedelta(days=5))  # past 24:00 of Thursday, the third working day
            # Read, not awaited: a result awaited on this server may skip its clock years ahead.
            await _abandoned(first)

            key = kit_security().pseudonyms.of(applicant_id)
            (record,) = await _records_once_written(env.client, key)
            assert (record.application_id, record.kind) == (
                first.id,
                CreditRecordKind.DEFICIENCY_COMMITMENT_BROKEN,
            )
            assert record.applicant_key == key

            now = (await env.get_current_time()).astimezone(SHANGHAI)
            second = await _open(env.client, elsewhere.task_queue, applicant_id, now)
            refusal = await _refusal(second)
            assert refusal.type == "DeficiencyNotTolerable"
            assert f"on case {first.id}" in refusal.message
            assert other_outbox.records("credit") == []
            assert [p["application_id"] for _, p in outbox.records("credit", applicant_id)] == [first.id]
    finally:
        other_outbox.close()
