"""What the benchmarks share: the engine as ``make run`` runs it (an embedded dev server, onewindow's
worker in this process, every command signed and every payload encrypted), one whole case, the worker's
resources, and the tables they print."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from workflows import search_attributes
from workflows.binaries import installed_binary
from workflows.client import Cases
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.messages import Intake
from workflows.reference_data import load_catalogue
from workflows.registry import freeze_start_up_heap
from workflows.security import Security
from workflows.server_limits import dev_server_arguments
from workflows.testkit import at_rest, onewindow_worker

_T = TypeVar("_T")
logging.basicConfig(level=logging.WARNING)  # a benchmark prints its figures, not each case's log lines
MATTER = "PUBLIC-PLACE-HYGIENE"
PORTAL = Actor(id="bench-portal", role=Role.SYSTEM)
OFFICER = Actor(id="bench-window", role=Role.WINDOW_OFFICER)
APPROVER = Actor(id="bench-approver", role=Role.APPROVER, department="health")


@dataclass(frozen=True)
class Engine:
    """The dev server, onewindow's worker on it, and the cases it serves."""

    env: WorkflowEnvironment
    cases: Cases
    security: Security


@contextlib.asynccontextmanager
async def engine() -> AsyncIterator[Engine]:
    """An in-memory dev server and onewindow's worker, keys and outbox in a temporary directory."""
    with tempfile.TemporaryDirectory() as directory:
        outbox = Outbox(Path(directory) / "outbox.sqlite")
        security = Security.development(Path(directory) / "keys")  # signed, encrypted, as make run
        try:
            async with (
                await WorkflowEnvironment.start_local(
                    dev_server_existing_path=str(installed_binary("temporal")),
                    data_converter=security.data_converter(),
                    interceptors=security.client_interceptors(),
                    search_attributes=search_attributes.ALL,
                    dev_server_extra_args=dev_server_arguments(),
                ) as env,
                onewindow_worker(env.client, outbox, security=security) as cases,
            ):
                freeze_start_up_heap()  # as worker.py does once it polls
                yield Engine(env, cases, security)
        finally:
            outbox.close()


@functools.cache
def _materials() -> tuple[str, ...]:
    """Every material ``MATTER`` asks for: read once, not once per intake."""
    return tuple(m.code for m in load_catalogue().matter(MATTER).materials)


def intake(number: str, received_at: datetime | None = None) -> Intake:
    """A complete online intake of ``MATTER`` for an applicant of its own."""
    return Intake(
        actor=PORTAL,
        applicant=Applicant(id_number=f"BENCH{number}", name="压测企业", contact="0411"),
        matter_code=MATTER,
        materials=_materials(),
        channel=Channel.ONLINE,
        received_at=received_at or datetime.now(UTC),
    )


async def whole_case(cases: Cases, number: str) -> None:
    """Submit → accept → approve → licence issued, waiting for the case to complete."""
    await cases.submit(number, intake(number))
    await cases.act(number, AcceptApplication(actor=OFFICER))
    await cases.act(number, RecordApproval(actor=APPROVER, step="health", approved=True))
    await cases.client.get_workflow_handle(number).result()


async def registered_at(client: Client, number: str) -> datetime:
    """When the case first wrote its search attributes (registration done), read from its history."""
    async for event in client.get_workflow_handle(number).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            return event.event_time.ToDatetime(tzinfo=UTC)
    raise NotYetRegisteredError(number)


class NotYetRegisteredError(Exception):
    """The case has not registered yet."""


async def drained(client: Client, number: str) -> datetime:
    """When ``number`` registered, waiting for it by reading its history: a query would need a replay,
    and time out behind the very backlog a benchmark measures."""
    while True:
        try:
            return await registered_at(client, number)
        except NotYetRegisteredError:
            await asyncio.sleep(1)


async def at_most(at_once: int, numbers: Sequence[str], call: Callable[[str], Awaitable[_T]]) -> list[_T]:
    """``call`` on every one of ``numbers``, ``at_once`` of them running at a time; the answers in order."""
    gate = asyncio.Semaphore(at_once)

    async def one(number: str) -> _T:
        async with gate:
            return await call(number)

    return await asyncio.gather(*(one(number) for number in numbers))


async def all_at_rest(client: Client, numbers: Sequence[str], readers: int = 20) -> None:
    """Wait until every one of ``numbers`` is at rest (``at_rest``), ``readers`` described at a time."""
    await at_most(readers, numbers, lambda number: at_rest(client, number))


async def open_cases(cases: Cases, count: int, prefix: str, received_at: datetime | None = None) -> list[str]:
    """``count`` complete intakes submitted 50 at a time, waited for until every one is at rest: what
    follows measures the engine's answers, not the tail of these registrations."""
    tag = uuid.uuid4().hex[:6]
    numbers = [f"{prefix}-{tag}-{index:06d}" for index in range(count)]
    await at_most(50, numbers, lambda number: cases.submit(number, intake(number, received_at)))
    await all_at_rest(cases.client, numbers)
    return numbers


async def paced(count: int, rate: float, start: Callable[[int], Awaitable[object]]) -> float:
    """Start ``start(index)`` for ``count`` indexes at ``rate`` a second, whatever the answers take (open
    loop); wait for them all; the seconds the offering took."""
    tasks = []
    started = time.perf_counter()
    for index in range(count):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(start(index)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0.5: the median) of ``values``, by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=1000, method="inclusive")[round(share * 1000) - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, as BENCHMARKS.md keeps them."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


class Process:
    """This process's memory and CPU: the worker runs in it."""

    def __init__(self) -> None:
        self._cpu = self._seconds()
        self._wall = time.perf_counter()

    @staticmethod
    def _seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    @staticmethod
    def rss_mb() -> float:
        """Resident memory now, in MB (Linux's /proc)."""
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 1e6

    def cpu_share(self) -> float:
        """CPU used since the last reading, as a share of one core over the wall time since."""
        cpu, wall = self._seconds(), time.perf_counter()
        share = (cpu - self._cpu) / max(wall - self._wall, 1e-9)
        self._cpu, self._wall = cpu, wall
        return share
