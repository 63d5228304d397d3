"""A test kit for integrators: onewindow on Temporal's time-skipping server, downloading nothing.

An intake team tests its own integration against the real workflows and activities::

    from workflows.testkit import onewindow_test_environment

    async def test_our_portal_sees_a_deemed_acceptance() -> None:
        async with onewindow_test_environment(start_at=datetime(2026, 9, 29, 9, tzinfo=SHANGHAI)) as kit:
            await kit.cases.submit("APP-1", intake)
            await kit.env.sleep(timedelta(days=8))
            assert (await kit.cases.state("APP-1", reader=None)).status is Status.UNDER_REVIEW

``start_at`` starts the server's clock at a chosen instant (real holiday dates) by preloading
``libfaketime`` (``pip install libfaketime``, part of onewindow's test extras); without it the server
starts at the machine's time. What the outside systems were told is in ``kit.outbox``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import all_activities
from activities.outbox import Outbox
from workflows import search_attributes
from workflows.application_workflow import ApplicationWorkflow
from workflows.binaries import installed_binary
from workflows.boundary import BoundaryInterceptor
from workflows.client import Cases
from workflows.domain.catalogue import Catalogue
from workflows.reference_data import CalendarSource, load_catalogue, load_warning_policy


def _libfaketime() -> Path:
    spec = importlib.util.find_spec("libfaketime")
    if spec is None or spec.origin is None:
        raise RuntimeError("start_at needs libfaketime: pip install libfaketime (onewindow's test extras)")
    return Path(spec.origin).parent / "vendor/libfaketime/src/libfaketime.so.1"


def faketime_server(directory: Path, start_at: datetime) -> Path:
    """A wrapper script starting the pip-installed test server with its clock at ``start_at``."""
    if start_at.tzinfo is None:
        raise ValueError("start_at must be time-zone aware")
    stamp = start_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    script = directory / f"temporal-test-server-at-{uuid.uuid4().hex[:8]}"
    script.write_text(
        "#!/bin/sh\n"
        f"export LD_PRELOAD='{_libfaketime()}'\n"
        "export TZ=UTC\n"
        f"export FAKETIME='@{stamp}'\n"
        "export DONT_FAKE_MONOTONIC=1\n"
        f"exec '{installed_binary('temporal-test-server')}' \"$@\"\n"
    )
    script.chmod(0o755)
    return script


@contextlib.asynccontextmanager
async def time_skipping_server(start_at: datetime | None = None) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server with onewindow's search attributes, at ``start_at`` or the current time."""
    with tempfile.TemporaryDirectory(prefix="onewindow-") as directory:
        binary = (
            faketime_server(Path(directory), start_at)
            if start_at
            else installed_binary("temporal-test-server")
        )
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(binary), data_converter=pydantic_data_converter
        ) as env:
            await search_attributes.register(env.client)
            yield env


@contextlib.asynccontextmanager
async def onewindow_worker(
    client: Client,
    outbox: Outbox,
    *,
    catalogue: Catalogue | None = None,
    calendar_dirs: Sequence[Path] = (),
    task_queue: str | None = None,
) -> AsyncIterator[Cases]:
    """onewindow's worker on ``task_queue`` (a fresh one by default), and a ``Cases`` client for it."""
    task_queue = task_queue or f"onewindow-test-{uuid.uuid4().hex[:12]}"
    activities = all_activities(
        catalogue or load_catalogue(), CalendarSource(calendar_dirs), outbox, load_warning_policy()
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ApplicationWorkflow],
        activities=activities,
        interceptors=[BoundaryInterceptor()],
    ):
        yield Cases(client, task_queue)


@dataclass(frozen=True)
class OneWindowTestEnvironment:
    """What a test gets: the server (``env.sleep`` moves time), a client, and the outbox."""

    env: WorkflowEnvironment
    cases: Cases
    outbox: Outbox


@contextlib.asynccontextmanager
async def onewindow_test_environment(
    start_at: datetime | None = None,
    *,
    catalogue: Catalogue | None = None,
    calendar_dirs: Sequence[Path] = (),
) -> AsyncIterator[OneWindowTestEnvironment]:
    """A time-skipping server running onewindow's workflows and activities, for one test."""
    with tempfile.TemporaryDirectory(prefix="onewindow-outbox-") as directory:
        outbox = Outbox(Path(directory) / "outbox.sqlite")
        try:
            async with (
                time_skipping_server(start_at) as env,
                onewindow_worker(
                    env.client, outbox, catalogue=catalogue, calendar_dirs=calendar_dirs
                ) as cases,
            ):
                yield OneWindowTestEnvironment(env=env, cases=cases, outbox=outbox)
        finally:
            outbox.close()
