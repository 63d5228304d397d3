"""Outside systems through one adapter: the outbox by default, HTTP where configured (a real local server
stands in for each receiving system)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

import worker
from activities import all_activities
from activities.adapters import (
    REFUSED,
    REFUSED_RETRY,
    SYSTEMS,
    UNAVAILABLE,
    AdapterSettings,
    Backoff,
    Endpoint,
    HttpAdapter,
    OutboxAdapter,
    adapter_settings,
)
from activities.audit import SqliteAuditLog
from activities.effects import UNKNOWN_EFFECT
from activities.outbox import Outbox
from tests.builders import applicant
from workflows.domain.chain import AuditRecord
from workflows.messages import ApplicantNotice, EffectBatch, LicenceRequest, OutsideEffect, SupervisionPush
from workflows.reference_data import CalendarSource, load_catalogue, load_warning_policy
from workflows.testkit import kit_security

TINY = Backoff(first=0.001, longest=0.01, budget=0.2)  # retries without making the test wait


class _Receiver(BaseHTTPRequestHandler):
    """A stand-in receiving system: it keeps every request and answers the scripted statuses in turn,
    the last one from then on."""

    requests: ClassVar[list[tuple[str, str, dict[str, str], Any]]] = []
    statuses: ClassVar[list[int]] = [201]
    retry_after: ClassVar[str | None] = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.command, self.path, dict(self.headers.items()), body))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        self.send_response(status)
        if self.retry_after is not None:
            self.send_header("Retry-After", self.retry_after)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output is its assertions."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    """The stand-in on a free local port, for one test; its URL and its handler class."""
    handler = type("Receiver", (_Receiver,), {"requests": [], "statuses": [201]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/inbox/licences", handler
    server.shutdown()
    server.server_close()


def _licence_request(key: str = "APP-1:7") -> LicenceRequest:
    return LicenceRequest(
        key=key,
        application_id=key.partition(":")[0],
        matter_code="REAL-ESTATE.mortgage",
        matter_name="不动产登记",
        applicant=applicant(),
    )


def _licensing_over_http(outbox: Outbox, url: str, token: str | None = None) -> HttpAdapter:
    return HttpAdapter(OutboxAdapter(outbox), {"licensing": Endpoint(url, token)}, backoff=TINY, timeout=2)


# --- the settings ---------------------------------------------------------------------------------------


def test_nothing_configured_hands_every_system_over_through_the_outbox() -> None:
    """The embedded default needs no variable; a blank URL is no URL."""
    assert adapter_settings({}) == AdapterSettings()
    assert adapter_settings({"ONEWINDOW_LICENSING_URL": "  "}) == AdapterSettings()


def test_each_system_reads_its_own_url_and_token() -> None:
    """One pair of variables per system; a system without a URL stays on the outbox."""
    settings = adapter_settings(
        {
            "ONEWINDOW_LICENSING_URL": "https://licence.example/api/v1/licences",
            "ONEWINDOW_LICENSING_TOKEN": "licence-secret",
            "ONEWINDOW_NOTIFICATION_URL": "http://sms.internal:8080/notices",
        }
    )
    assert settings.endpoints == {
        "licensing": Endpoint("https://licence.example/api/v1/licences", "licence-secret"),
        "notification": Endpoint("http://sms.internal:8080/notices"),
    }
    assert "licence-secret" not in repr(settings)
    assert SYSTEMS == ("notification", "department", "licensing", "supervision")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        pytest.param(
            {"ONEWINDOW_LICENSING_URL": "ftp://licence.example/"}, "ONEWINDOW_LICENSING_URL", id="ftp"
        ),
        pytest.param(
            {"ONEWINDOW_DEPARTMENT_URL": "queue.example/steps"}, "ONEWINDOW_DEPARTMENT_URL", id="bare"
        ),
        pytest.param(
            {"ONEWINDOW_NOTIFICATION_URL": "https:///notices"}, "ONEWINDOW_NOTIFICATION_URL", id="host"
        ),
        pytest.param(
            {"ONEWINDOW_SUPERVISION_TOKEN": "s3cret"}, "ONEWINDOW_SUPERVISION_TOKEN", id="token-without-url"
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable_and_never_its_value(
    environ: dict[str, str], named: str
) -> None:
    """The worker's log line names what to fix; a URL or token may be a secret, so neither is repeated."""
    with pytest.raises(ValueError, match=named) as refused:
        adapter_settings(environ)
    message = str(refused.value)
    assert "\n" not in message
    assert all(value not in message for value in environ.values())


def test_a_bad_setting_stops_the_worker_at_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and one JSON line naming the variable, before anything connects or listens."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # a cluster: no dev server is started
    monkeypatch.setenv("ONEWINDOW_SUPERVISION_URL", "supervision.example")
    assert worker.main(["--metrics-port", "0"]) == 2
    logged = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert logged["event"] == "worker_failed"
    assert "ONEWINDOW_SUPERVISION_URL" in logged["error"]


# --- the HTTP adapter -----------------------------------------------------------------------------------


async def test_a_delivery_is_a_json_post_with_its_key_and_token_and_the_outbox_keeps_it(
    receiver: tuple[str, type[_Receiver]], outbox: Outbox
) -> None:
    """POST to the system's URL, the payload as JSON, the key in Idempotency-Key (percent-encoded when
    it is not ASCII), the bearer token; the outbox record is the one the embedded default writes."""
    url, handler = receiver
    http = _licensing_over_http(outbox, url, "licence-secret")
    told = await http.deliver("licensing", "APP-1:7", "APP-1", {"action": "issue", "number": "证-1"})
    await http.deliver("licensing", "大连-2:3", "大连-2", {"action": "revoke"})
    (method, path, headers, body), (_, _, cjk_headers, _) = handler.requests
    assert (method, path) == ("POST", "/inbox/licences")
    assert body == told == {"action": "issue", "number": "证-1"}
    assert headers["Idempotency-Key"] == "APP-1:7"
    assert cjk_headers["Idempotency-Key"] == "%E5%A4%A7%E8%BF%9E-2:3"
    assert headers["Authorization"] == "Bearer licence-secret"
    assert headers["Content-Type"] == "application/json"
    assert [payload for _, payload in outbox.records("licensing", "APP-1")] == [told]


async def test_a_repeated_key_posts_again_the_body_first_recorded(
    receiver: tuple[str, type[_Receiver]], outbox: Outbox
) -> None:
    """A retried activity re-sends; the receiver sees one key with one body, which it dedupes."""
    url, handler = receiver
    http = _licensing_over_http(outbox, url)
    await http.deliver("licensing", "APP-1:7", "APP-1", {"n": 1})
    again = await http.deliver("licensing", "APP-1:7", "APP-1", {"n": 2})
    assert again == {"n": 1}
    assert [body for *_, body in handler.requests] == [{"n": 1}, {"n": 1}]
    assert len(outbox.records("licensing")) == 1


async def test_a_receiver_briefly_away_is_tried_again_until_it_takes_the_delivery(
    receiver: tuple[str, type[_Receiver]], outbox: Outbox
) -> None:
    """503, 503, 429 (Retry-After: 0) then 200: four tries inside one activity attempt, one key."""
    url, handler = receiver
    handler.statuses = [503, 503, 429, 200]
    handler.retry_after = "0"
    await _licensing_over_http(outbox, url).deliver("licensing", "APP-1:7", "APP-1", {"n": 1})
    assert len(handler.requests) == 4
    assert {headers["Idempotency-Key"] for _, _, headers, _ in handler.requests} == {"APP-1:7"}


async def test_a_refusal_waits_ten_minutes_and_the_outbox_still_shows_what_was_sent(
    receiver: tuple[str, type[_Receiver]], outbox: Outbox
) -> None:
    """A 4xx other than 429 would be refused again at once: not retried here, typed, and left to Temporal
    to try again in ten minutes (failing the activity would end the case); the error echoes no data."""
    url, handler = receiver
    handler.statuses = [400]
    with pytest.raises(ApplicationError) as refused:
        await _licensing_over_http(outbox, url).deliver("licensing", "APP-1:7", "APP-1", {"who": "张三"})
    assert (refused.value.type, refused.value.non_retryable) == (
        REFUSED,
        False,
    )  # the case waits, never fails
    assert refused.value.next_retry_delay == REFUSED_RETRY
    assert refused.value.message == "the licensing system answered 400"
    assert len(handler.requests) == 1
    assert len(outbox.records("licensing")) == 1


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [pytest.param(None, None, id="budget-spent"), pytest.param("3600", 600, id="asks-for-an-hour")],
)
async def test_a_receiver_still_away_is_left_to_temporal_s_retry(
    receiver: tuple[str, type[_Receiver]], outbox: Outbox, retry_after: str | None, delay: int | None
) -> None:
    """Past the budget, or asked to wait longer than any backoff: retryable, at most ten minutes on."""
    url, handler = receiver
    handler.statuses, handler.retry_after = [503], retry_after
    with pytest.raises(ApplicationError) as away:
        await _licensing_over_http(outbox, url).deliver("licensing", "APP-1:7", "APP-1", {"n": 1})
    assert (away.value.type, away.value.non_retryable) == (UNAVAILABLE, False)
    retried = away.value.next_retry_delay
    assert (retried.total_seconds() if retried else None) == delay
    assert handler.requests


async def test_nothing_listening_is_retried_and_then_left_to_temporal(outbox: Outbox) -> None:
    """A receiver down: retryable, and the error names the system, not its URL."""
    with pytest.raises(ApplicationError) as away:
        await _licensing_over_http(outbox, "http://127.0.0.1:9/").deliver("licensing", "APP-1:7", "APP-1", {})
    assert (away.value.type, away.value.non_retryable) == (UNAVAILABLE, False)
    assert "could not be reached" in away.value.message


# --- the activities ------------------------------------------------------------------------------------


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[SqliteAuditLog]:
    """A fresh audit log: ``all_activities`` wants one."""
    log = SqliteAuditLog(tmp_path / "audit.sqlite")
    yield log
    log.close()


def _activities(
    outbox: Outbox, audit: SqliteAuditLog, adapters: AdapterSettings | None
) -> dict[str, Callable[..., Any]]:
    """The worker's activities by name, as ``worker.py`` wires them."""
    registered = all_activities(
        load_catalogue(),
        CalendarSource(),
        outbox,
        load_warning_policy(),
        security=kit_security(),
        audit=audit,
        adapters=adapters,
    )
    return {function.__name__: function for function in registered}


async def test_a_configured_system_is_told_over_http_and_the_others_through_the_outbox(
    receiver: tuple[str, type[_Receiver]], outbox: Outbox, audit: SqliteAuditLog
) -> None:
    """Licensing configured: the licence goes over HTTP with its number; the notice goes to the outbox."""
    url, handler = receiver
    activities = _activities(outbox, audit, adapter_settings({"ONEWINDOW_LICENSING_URL": url}))
    number = await activities["issue_licence"](_licence_request())
    notice = ApplicantNotice(
        key="APP-1:8", application_id="APP-1", applicant=applicant(), notice="x", text="y"
    )
    await activities["notify_applicant"](notice)
    ((_, _, headers, body),) = handler.requests
    assert (headers["Idempotency-Key"], body["licence_number"]) == ("APP-1:7", number)
    assert [payload for _, payload in outbox.records("licensing")] == [body]
    assert len(outbox.records("notification")) == 1


async def test_by_default_every_system_is_told_through_the_outbox_alone(
    outbox: Outbox, audit: SqliteAuditLog
) -> None:
    """No settings: the outbox records exactly what it recorded before adapters existed."""
    number = await _activities(outbox, audit, None)["issue_licence"](_licence_request())
    assert number == "REAL-ESTATE-APP-1"
    ((_, told),) = outbox.records("licensing")
    assert (told["action"], told["licence_number"]) == ("issue", number)


def _batch(*calls: OutsideEffect) -> EffectBatch:
    record = AuditRecord(application_id="APP-1", sequence=8, kind="application_accepted", digest="d" * 64)
    return EffectBatch(records=(record,), calls=calls)


async def test_one_batch_audits_and_tells_each_system_once_however_often_it_is_retried(
    outbox: Outbox, audit: SqliteAuditLog
) -> None:
    """A change's effects in one activity: the digest, the notice and the push, each kept once per key."""
    notice = ApplicantNotice(
        key="APP-1:8", application_id="APP-1", applicant=applicant(), notice="x", text="y"
    )
    push = SupervisionPush(
        key="APP-1:8", application_id="APP-1", matter_code="M", departments=("health",), result="approved"
    )
    batch = _batch(
        OutsideEffect(activity="notify_applicant", message=notice.model_dump(mode="json")),
        OutsideEffect(activity="push_to_supervision", message=push.model_dump(mode="json")),
    )
    perform = _activities(outbox, audit, None)["perform_effects"]
    await perform(batch)
    await perform(batch)  # retried after a crash: nothing twice
    assert [record.sequence for record in await audit.records("APP-1")] == [8]
    ((_, told),) = outbox.records("notification")
    assert told == notice.model_dump(mode="json")
    ((_, pushed),) = outbox.records("supervision")
    assert (pushed["action"], pushed["result"]) == ("result", "approved")


async def test_a_batch_naming_a_call_no_system_makes_is_refused_before_anything_is_told(
    outbox: Outbox, audit: SqliteAuditLog
) -> None:
    """Typed and not retried: retrying would never find the system; nothing of the batch is performed."""
    batch = _batch(OutsideEffect(activity="launch_rockets", message={}))
    with pytest.raises(ApplicationError) as refused:
        await _activities(outbox, audit, None)["perform_effects"](batch)
    assert (refused.value.type, refused.value.non_retryable) == (UNKNOWN_EFFECT, True)
    assert await audit.records("APP-1") == []


async def test_a_batch_call_whose_message_does_not_fit_its_system_is_not_delivered(
    outbox: Outbox, audit: SqliteAuditLog
) -> None:
    """A notice without its applicant is not delivered half-formed."""
    batch = _batch(OutsideEffect(activity="notify_applicant", message={"key": "APP-1:8"}))
    with pytest.raises(ValidationError):
        await _activities(outbox, audit, None)["perform_effects"](batch)
    assert outbox.records("notification") == []
