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
starts at the machine's time. What the outside systems were told is in ``kit.outbox``, and the digests
of every event in ``kit.audit``.

The kit's client signs every command with a development key its worker trusts, dated by the server's
own clock, and encrypts payloads with a development key (``kit_security``), as ``make run`` does.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import importlib.util
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities import all_activities
from activities.audit import AuditLog, SqliteAuditLog
from activities.outbox import Outbox
from workflows import search_attributes
from workflows.binaries import installed_binary
from workflows.boundary import BoundaryInterceptor
from workflows.client import Cases
from workflows.domain.catalogue import Catalogue
from workflows.reference_data import CalendarSource, load_catalogue, load_warning_policy
from workflows.registry import CACHED_CASES, WORKFLOW_RUNNER, WORKFLOWS
from workflows.security import Security
from workflows.steward_register import DEFAULT_CAPACITY


@functools.cache
def kit_keys_directory() -> Path:
    """A temporary keys directory for this process (removed at exit): point ``ONEWINDOW_KEYS_DIR`` here
    to run the CLI or another client against the kit's worker."""
    directory = Path(tempfile.mkdtemp(prefix="onewindow-keys-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


@functools.cache
def kit_security() -> Security:
    """Development keys for this process, created once in ``kit_keys_directory()``."""
    return Security.development(kit_keys_directory())


def kit_cases(client: Client, task_queue: str) -> Cases:
    """A ``Cases`` on the kit's worker's queue, listing applicants' cases by the kit's pseudonym key."""
    return Cases(client, task_queue, pseudonyms=kit_security().pseudonyms.of)


class _ServerClock:
    """The time-skipping server's clock, for dating assertions: its time is not the machine's."""

    def __init__(self) -> None:
        self.env: WorkflowEnvironment | None = None

    async def __call__(self) -> datetime:
        if self.env is None:
            return datetime.now(UTC)
        return await self.env.get_current_time()


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
        # The monotonic clock is real, so libfaketime's "monotonic fix" for timed waits is not needed;
        # left on (its default under this glibc) it makes the server spin: every case ran 6x slower.
        "export FAKETIME_FORCE_MONOTONIC_FIX=0\n"
        f"exec '{installed_binary('temporal-test-server')}' \"$@\"\n"
    )
    script.chmod(0o755)
    return script


@contextlib.asynccontextmanager
async def time_skipping_server(
    start_at: datetime | None = None, *, security: Security | None = None
) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server with onewindow's search attributes, at ``start_at`` or the current time;
    its client signs and encrypts with ``security`` (``kit_security()`` by default)."""
    security = security or kit_security()
    clock = _ServerClock()
    with tempfile.TemporaryDirectory(prefix="onewindow-") as directory:
        binary = (
            faketime_server(Path(directory), start_at)
            if start_at
            else installed_binary("temporal-test-server")
        )
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(binary),
            data_converter=security.data_converter(),
            interceptors=security.with_clock(clock).client_interceptors(),
        ) as env:
            clock.env = env
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
    security: Security | None = None,
    audit: AuditLog | None = None,
    steward_capacity: int = DEFAULT_CAPACITY,
) -> AsyncIterator[Cases]:
    """onewindow's worker on ``task_queue`` (a fresh one by default), and a ``Cases`` client for it.

    The worker trusts ``security``'s keys (``kit_security()`` by default) and writes event digests to
    ``audit`` (a fresh embedded audit log by default); a steward holds at most ``steward_capacity`` open
    cases.
    """
    security = security or kit_security()
    task_queue = task_queue or f"onewindow-test-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="onewindow-audit-") as directory, contextlib.ExitStack() as stack:
        if audit is None:
            own_audit = SqliteAuditLog(Path(directory) / "audit.sqlite")
            stack.callback(own_audit.close)
            audit = own_audit
        activities = all_activities(
            catalogue or load_catalogue(),
            CalendarSource(calendar_dirs),
            outbox,
            load_warning_policy(),
            security=security,
            audit=audit,
            steward_capacity=steward_capacity,
        )
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=list(WORKFLOWS),
            workflow_runner=WORKFLOW_RUNNER,
            activities=activities,
            interceptors=[BoundaryInterceptor()],
            max_cached_workflows=CACHED_CASES,
        ):
            yield Cases(client, task_queue, pseudonyms=security.pseudonyms.of)


@dataclass(frozen=True)
class OneWindowTestEnvironment:
    """What a test gets: the server (``env.sleep`` moves time), a client, and the outbox."""

    env: WorkflowEnvironment
    cases: Cases
    outbox: Outbox
    audit: SqliteAuditLog


def onewindow_replayer(data_converter: DataConverter, workflows: Sequence[type] = WORKFLOWS) -> Replayer:
    """A replayer of histories as onewindow's workers run them: their sandbox, interceptor and codec."""
    return Replayer(
        workflows=list(workflows),
        workflow_runner=WORKFLOW_RUNNER,
        data_converter=data_converter,
        interceptors=[BoundaryInterceptor()],
    )


async def at_rest(client: Client, number: str, every: float = 1.0) -> None:
    """Wait until ``number`` has registered and has nothing left to do: no workflow task and no activity
    pending, described every ``every`` seconds. A change's effects and the task after them follow the
    change, so a check of what a case told outside systems waits for this (under a backlog, for a while
    after every case has registered)."""
    handle = client.get_workflow_handle(number)
    while True:
        description = await handle.describe()
        raw = description.raw_description
        registered = description.typed_search_attributes.get(search_attributes.STATUS) is not None
        if registered and not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(every)


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
        audit = SqliteAuditLog(Path(directory) / "audit.sqlite")
        try:
            async with (
                time_skipping_server(start_at) as env,
                onewindow_worker(
                    env.client, outbox, catalogue=catalogue, calendar_dirs=calendar_dirs, audit=audit
                ) as cases,
            ):
                yield OneWindowTestEnvironment(env=env, cases=cases, outbox=outbox, audit=audit)
        finally:
            audit.close()
            outbox.close()
