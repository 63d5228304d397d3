"""Shared fixtures: Temporal environments from the pip-installed binaries (nothing downloads).

- ``time_skipping``: a session-wide time-skipping server at the machine's current time.
- ``time_skipping_at``: a factory starting a time-skipping server at a chosen instant (libfaketime), for
  cases on real past dates such as the 2025 and 2026 holidays.
- ``dev_server``: a session-wide embedded dev server, for what the test server lacks (visibility lists).
- ``run_worker``: a worker for onewindow's workflows on a fresh task queue per test.
"""

from __future__ import annotations

import contextlib
import importlib.util
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import all_activities
from activities.outbox import Outbox
from worker import temporal_binary
from workflows import search_attributes
from workflows.application_workflow import ApplicationWorkflow
from workflows.domain.catalogue import Catalogue
from workflows.reference_data import CalendarSource, load_catalogue, load_warning_policy


# The libfaketime wheel ships the preload library; located without importing the package.
def _libfaketime() -> Path:
    spec = importlib.util.find_spec("libfaketime")
    if spec is None or spec.origin is None:
        raise RuntimeError("libfaketime is missing: `pip install -e '.[test]'` provides it")
    return Path(spec.origin).parent / "vendor/libfaketime/src/libfaketime.so.1"


LIBFAKETIME = _libfaketime()

StartAt = Callable[[datetime], AbstractAsyncContextManager[WorkflowEnvironment]]
RunWorker = Callable[[Client], AbstractAsyncContextManager[str]]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The shipped matter catalogue, loaded once."""
    return load_catalogue()


@pytest.fixture(scope="session")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server shared by the session, at the machine's current time."""
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    ) as env:
        await search_attributes.register(env.client)
        yield env


def _faketime_wrapper(directory: Path, instant: datetime) -> Path:
    """A script that starts the test server with its clock set to ``instant`` (then ticking normally)."""
    if instant.tzinfo is None:
        raise ValueError("the start instant must be time-zone aware")
    utc_stamp = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    script = directory / f"temporal-test-server-at-{uuid.uuid4().hex[:8]}"
    script.write_text(
        "#!/bin/sh\n"
        f"export LD_PRELOAD='{LIBFAKETIME}'\n"
        "export TZ=UTC\n"
        f"export FAKETIME='@{utc_stamp}'\n"
        "export DONT_FAKE_MONOTONIC=1\n"
        f"exec '{temporal_binary('temporal-test-server')}' \"$@\"\n"
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def time_skipping_at(tmp_path: Path) -> StartAt:
    """Factory: ``async with time_skipping_at(instant) as env`` gives a server whose clock starts there."""

    @contextlib.asynccontextmanager
    async def start(instant: datetime) -> AsyncIterator[WorkflowEnvironment]:
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(_faketime_wrapper(tmp_path, instant)),
            data_converter=pydantic_data_converter,
        ) as env:
            await search_attributes.register(env.client)
            yield env

    return start


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The embedded dev server (real Temporal, in-memory), with onewindow's search attributes."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
    ) as env:
        yield env


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
        task_queue = f"test-{uuid.uuid4().hex[:12]}"
        activities = all_activities(catalogue, CalendarSource([calendar_dir]), outbox, load_warning_policy())
        async with Worker(
            client, task_queue=task_queue, workflows=[ApplicationWorkflow], activities=activities
        ):
            yield task_queue

    return run
