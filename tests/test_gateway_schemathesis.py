"""The gateway under schemathesis: every operation of its own OpenAPI document, fuzzed, answers no 5xx.

The real engine is behind the app: a worker on the session's dev server (real visibility, so lists and
calendar revisions run too), with one supervisor's and one window officer's token. schemathesis's test
functions are synchronous while the worker must keep running between requests, and a Temporal client
answers on the loop that asked it: so the worker, its client and the app share one event loop in a thread
of their own (``Engine``), and each generated request is sent there in process, through httpx's ASGI
transport. The figures (requests tried by operation and status) are printed when the module ends.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from gateway import EXAMPLE_TOKENS, RateLimiter, RateLimits, TokenBook, create_app
from workflows.client import Cases
from workflows.testkit import onewindow_worker

pytestmark = pytest.mark.devserver

TOKENS = TokenBook.load(EXAMPLE_TOKENS)
CALLERS = {"supervisor": "example-supervisor-zhao", "window-officer": "example-window-officer-li"}
EXAMPLES_PER_OPERATION = 12  # per caller, besides the document's own examples and the coverage cases
REQUEST_TIMEOUT = 60.0  # seconds; far beyond any answer (the gateway's own timeouts are shorter)
# The fuzz is no load test: a limit generous enough that no request is refused 429 for its rate.
UNLIMITED = RateLimits(rate=10_000, burst=10_000)
BASE_URL = "http://testserver"

# The document alone: it does not depend on the engine behind the app.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Cases(cast(Client, None)), TOKENS))

_T = TypeVar("_T")


class Engine:
    """The gateway over the real engine, on an event loop of its own in a thread."""

    def __init__(self, server: WorkflowEnvironment) -> None:
        self._address = server.client.service_client.config.target_host
        self._namespace = server.client.namespace
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),))
        self.answers: Counter[tuple[str, str, int]] = Counter()

    def __enter__(self) -> Engine:
        self._thread.start()
        if not self._ready.wait(REQUEST_TIMEOUT):
            raise RuntimeError("the engine did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(REQUEST_TIMEOUT)
        self._loop.close()

    async def _serve(self) -> None:
        client = await Client.connect(
            self._address, namespace=self._namespace, data_converter=pydantic_data_converter
        )
        with tempfile.TemporaryDirectory(prefix="onewindow-schemathesis-") as directory:
            outbox = Outbox(Path(directory) / "outbox.sqlite")
            try:
                async with onewindow_worker(client, outbox) as cases:
                    app = create_app(cases, TOKENS, limiter=RateLimiter(UNLIMITED), query_timeout=5.0)
                    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
                    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                        self._http = http
                        self._ready.set()
                        await self._stop.wait()
            finally:
                outbox.close()

    def send(self, case: schemathesis.Case[Any], caller: str) -> httpx.Response:
        """Send ``case`` with ``caller``'s token, as ``requests`` would put it on the wire."""
        sent = case.as_transport_kwargs(
            base_url=BASE_URL, headers={"Authorization": f"Bearer {CALLERS[caller]}"}
        )
        response = self._run(self._request(sent))
        self.answers[(case.operation.label, caller, response.status_code)] += 1
        return response

    async def _request(self, sent: dict[str, Any]) -> httpx.Response:
        assert self._http is not None
        headers = {str(k).encode("latin-1"): str(v).encode("latin-1") for k, v in sent["headers"].items()}
        content = sent.get("data")
        if "json" in sent:  # as requests encodes it: ASCII with escapes, so any string goes through
            content = json.dumps(sent["json"], allow_nan=False).encode()
        return await self._http.request(
            sent["method"],
            sent["url"],
            params=sent.get("params"),
            headers=headers,  # the API reads no cookies: schemathesis generates none for it
            content=content,
        )

    def _run(self, call: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(REQUEST_TIMEOUT)

    def figures(self) -> str:
        """Requests by operation and caller, with the statuses they got."""
        lines = []
        by_operation: dict[tuple[str, str], Counter[int]] = {}
        for (operation, caller, status), count in sorted(self.answers.items()):
            by_operation.setdefault((operation, caller), Counter())[status] += count
        for (operation, caller), statuses in by_operation.items():
            shown = ", ".join(f"{status}×{count}" for status, count in sorted(statuses.items()))
            lines.append(f"  {operation} as {caller}: {statuses.total()} requests ({shown})")
        total = sum(self.answers.values())
        return f"schemathesis: {len(by_operation)} operation×caller, {total} requests\n" + "\n".join(lines)


@pytest.fixture(scope="module")
def engine(dev_server: WorkflowEnvironment) -> Iterator[Engine]:
    """The gateway over a worker on the dev server, for the whole module; prints the figures at the end."""
    with Engine(dev_server) as running:
        yield running
        print(f"\n{running.figures()}")  # the fuzz's figures, shown with -s or -rA


@pytest.mark.parametrize("caller", list(CALLERS))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,  # a request runs a real workflow: its time is the engine's, not the code under test's
    derandomize=True,  # the same requests on every run: a failure is reproduced by running it again
    # The autouse restore_logging fixture is function-scoped; it holds no state an example could share.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_5xx(case: schemathesis.Case[Any], caller: str, engine: Engine) -> None:
    """Every request schemathesis derives from /openapi.json is answered without a server error, with a
    documented status and content type."""
    response = engine.send(case, caller)
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance, content_type_conformance]
    )
