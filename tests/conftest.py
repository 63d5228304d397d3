"""Shared fixtures, built on onewindow's public test kit (``workflows.testkit``); nothing downloads.

- ``time_skipping``: a session-wide time-skipping server at the machine's current time.
- ``time_skipping_at``: a factory starting a time-skipping server at a chosen instant (libfaketime), for
  cases on real past dates such as the 2025 and 2026 holidays.
- ``dev_server``: a session-wide embedded dev server, for what the test server lacks (visibility lists).
- ``run_worker``: onewindow's worker on a fresh task queue per test, writing to a fresh ``outbox``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from cli import run
from workflows import search_attributes
from workflows.binaries import installed_binary
from workflows.client import Cases
from workflows.domain.catalogue import Catalogue
from workflows.keys import KEYS_DIR_VARIABLE
from workflows.reference_data import load_catalogue
from workflows.server_limits import dev_server_arguments
from workflows.testkit import (
    kit_cases,
    kit_keys_directory,
    kit_security,
    onewindow_worker,
    time_skipping_server,
)

StartAt = Callable[[datetime], AbstractAsyncContextManager[WorkflowEnvironment]]
Cli = Callable[..., Awaitable["Ran"]]
RunWorker = Callable[[Client], AbstractAsyncContextManager[str]]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The shipped matter catalogue, loaded once."""
    return load_catalogue()


@pytest.fixture(scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server shared by the session, at the machine's current time."""
    async with time_skipping_server() as env:
        yield env


@pytest.fixture
def time_skipping_at() -> StartAt:
    """Factory: ``async with time_skipping_at(instant) as env`` gives a server whose clock starts there."""
    return time_skipping_server


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The embedded dev server (real Temporal, in-memory), with onewindow's search attributes."""
    security = kit_security()
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        data_converter=security.data_converter(),
        interceptors=security.client_interceptors(),
        search_attributes=search_attributes.ALL,
        dev_server_extra_args=dev_server_arguments(),
    ) as env:
        yield env


@pytest.fixture(autouse=True)
def kit_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every client a test makes (the CLI's, the gateway's, the demo's) uses the kit's development keys."""
    kit_security()
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(kit_keys_directory()))


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Entry points configure logging for the whole process: each test gets back the logging it found."""
    handlers, level = list(logging.root.handlers), logging.root.level
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    """A fresh integration outbox per test: what the outside systems were told."""
    store = Outbox(tmp_path / "outbox.sqlite")
    yield store
    store.close()


@pytest.fixture
def calendar_dir(tmp_path: Path) -> Path:
    """An empty extra calendar directory the worker reads; a test may publish a notice into it."""
    directory = tmp_path / "calendar"
    directory.mkdir()
    return directory


@pytest.fixture
def run_worker(catalogue: Catalogue, outbox: Outbox, calendar_dir: Path) -> RunWorker:
    """Factory: ``async with run_worker(client) as task_queue`` runs onewindow's worker on a fresh queue."""

    @contextlib.asynccontextmanager
    async def run(client: Client) -> AsyncIterator[str]:
        async with onewindow_worker(
            client, outbox, catalogue=catalogue, calendar_dirs=[calendar_dir]
        ) as cases:
            yield cases.task_queue

    return run


@dataclass(frozen=True)
class Ran:
    """One invocation: exit code and what it printed."""

    code: int
    out: str
    err: str


@pytest.fixture
async def cases(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[Cases]:
    """Cases on the dev server, served by a worker on a fresh task queue."""
    async with run_worker(dev_server.client) as task_queue:
        yield kit_cases(dev_server.client, task_queue)


@pytest.fixture
def cli(cases: Cases, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``await cli("status", "APP-1", "--as", OFFICER)``: run the CLI on those cases, capture its output."""

    async def invoke(*argv: str) -> Ran:
        capsys.readouterr()
        code = await run(list(argv), cases=cases)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke
