"""``make crash``: crashes lose nothing. Hundreds of cases in flight while the worker and the server die.

The engine's promise is that a case's history is its record: a worker killed mid-task, or the Temporal
server killed mid-write, must cost time and nothing else. This script shows it end to end, on this
machine, with the real processes: a Temporal dev server keeping its state in a SQLite file, and the
onewindow worker (``worker.py``) as its own process.

While at least 200 cases are driven concurrently (submitted by an intake system, accepted by a window
officer, approved by the health department's approver; the engine then issues the licence and closes the
case), the worker is killed with SIGKILL three times and restarted, and the dev server is killed with
SIGKILL once and restarted on the same ports and the same database file. The driver retries every call
that failed for a transient reason, each with its idempotency key, and counts the retries. Once every case
shows its licence, it checks that each case completed exactly once: one run per number, every decisive
event exactly once, no event twice, one licence per case in the outbox (the hand-over point to the
licensing system) and the same licence number there as in the case.

Everything listens on 127.0.0.1 on ports free at start, lives in one temporary directory that is removed
afterwards, and is bounded in count and time: ``--timeout`` (default 230 s) fails the run loudly. Exit code
0 when every check passes; 1 naming the failing cases otherwise. ``TEMPORAL_*`` client settings of the
environment (TLS, API keys, profiles) are ignored: this run talks only to its own loopback server.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TypeVar

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowExecutionStatus
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode

from activities.audit import SqliteAuditLog
from activities.licensing import SYSTEM as LICENSING
from activities.outbox import Outbox
from workflows import search_attributes
from workflows.binaries import installed_binary
from workflows.client import Cases, NotAllowed, NotYetRegistered, Refused, connect_cases, exit_process
from workflows.domain.application import Status
from workflows.domain.chain import verify
from workflows.domain.commands import AcceptApplication, ApplicationCommand, RecordApproval
from workflows.domain.events import Actor, Applicant, Channel, LicenceIssued, Role
from workflows.keys import KEYS_DIR_VARIABLE
from workflows.messages import NOT_YET_REGISTERED, Intake
from workflows.number_claim import claim_id
from workflows.reference_data import load_catalogue
from workflows.security import Security
from workflows.server_limits import dev_server_arguments

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
TASK_QUEUE = "onewindow-crash"


# A matter that ends with a licence and no waiting period: one approval step, by the health department.
MATTER = "PUBLIC-PLACE-HYGIENE"
PORTAL = Actor(id="crash-portal", role=Role.SYSTEM)


def applicant_of(index: int) -> Applicant:
    """The applicant of the ``index``-th case: each one's data distinct, so a leak names its case."""
    return Applicant(
        id_number=f"CRASH{index:06d}X", name=f"崩溃测试企业第{index}号", contact=f"0411-{index:07d}"
    )


OFFICER = Actor(id="crash-window", role=Role.WINDOW_OFFICER)
APPROVER = Actor(id="crash-approver", role=Role.APPROVER, department="health")
STEP = "health"
# What a case of MATTER records exactly once on its way to the licence.
ONCE = ("application_submitted", "application_accepted", "approval_recorded", "application_approved")
ISSUED_KIND = "licence_issued"
ACTIONS_PER_CASE = 3  # submit, accept, approve

# Chaos: (fraction of all driver actions answered, what dies). Three worker kills, one server kill.
WORKER, SERVER = "worker", "server"
CHAOS_PLAN = ((0.20, WORKER), (0.40, SERVER), (0.60, WORKER), (0.80, WORKER))
WORKER_DOWN = 1.0  # seconds a killed worker stays down
SERVER_DOWN = 2.0  # seconds the killed server stays down
SETTLE = 3.0  # seconds a restarted process runs before the next kill
STARTUP_LIMIT = 45.0  # seconds a process may take to come up

FULL_RUN = 200  # cases the proof drives (``--cases`` may ask fewer, for a quick look)
IN_FLIGHT = 50  # cases driven at once
CALL_TIMEOUT = 30.0  # seconds one client call may take before it is abandoned and retried
RETRY_PAUSE = 0.5  # seconds between attempts
DRAIN_POLL = 0.5  # seconds between looks at the cases still waiting for their licence
LOOK_IN_FLIGHT = 50  # reads at once while draining and checking
SHOWN_FAILURES = 20  # failing cases named one per line (the rest are counted)

_TRANSIENT_RPC = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.INTERNAL,
    }
)

T = TypeVar("T")


class CrashTestFailed(Exception):
    """The run could not be carried out (a process that does not start, a bound exceeded)."""


# --- the client -----------------------------------------------------------------------------------------


async def open_cases(address: str, task_queue: str) -> Cases:
    """The driver's client, signing with the run's development key: the one place that makes ``Cases``."""
    return await connect_cases(task_queue, address=address)


# --- processes ------------------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file."""
    if not path.exists():
        return f"({path.name} is empty)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Child:
    """One child process (the dev server or the worker) that can be started, killed and started again.

    Its output goes to one log file, appended to by each incarnation; ``ready`` says when the current
    incarnation is serving.
    """

    def __init__(self, name: str, command: Sequence[str], environment: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = list(command)
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.log_offset = 0  # where the current incarnation's output starts
        self._log_file: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The running incarnation's pid."""
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def start(self) -> None:
        """Start a new incarnation (in its own session, so a Ctrl-C reaches this script only)."""
        if self._log_file is None:
            self._log_file = self.log.open("ab")
        self._log_file.flush()
        self.log_offset = self.log.stat().st_size
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and the pip-installed binary
            self.command,
            cwd=HERE,
            env=self.environment,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    async def terminate(self, grace: float) -> float:
        """SIGTERM, as a service manager stops it; SIGKILL after ``grace`` seconds. Seconds it took."""
        started = time.monotonic()
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            while self.process.poll() is None and time.monotonic() - started < grace:
                await asyncio.sleep(0.05)
            self.kill()
        return time.monotonic() - started

    def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL if it is still running after ``grace`` seconds; the log is closed."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def output(self) -> str:
        """What the current incarnation has written so far."""
        with self.log.open("rb") as file:
            file.seek(self.log_offset)
            return file.read().decode(errors="replace")

    def require_running(self) -> None:
        """Fail, with the end of its log, if the current incarnation has exited."""
        if self.process is None or self.process.poll() is not None:
            code = self.process.returncode if self.process else None
            raise CrashTestFailed(
                f"the {self.name} exited (code {code}); end of {self.log}:\n{tail(self.log)}"
            )

    async def wait_until(self, ready: Callable[[], Awaitable[bool]]) -> float:
        """Seconds until ``ready`` holds; fails if the process exits or takes over ``STARTUP_LIMIT``."""
        started = time.monotonic()
        while True:
            self.require_running()
            if await ready():
                return time.monotonic() - started
            if time.monotonic() - started > STARTUP_LIMIT:
                raise CrashTestFailed(
                    f"the {self.name} did not come up within {STARTUP_LIMIT:.0f} s; end of {self.log}:\n"
                    f"{tail(self.log)}"
                )
            await asyncio.sleep(0.1)


async def port_open(port: int) -> bool:
    """Whether something accepts connections on the loopback ``port``."""
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def namespace_ready(client: Client) -> bool:
    """Whether the server answers for the client's namespace (it may accept connections before)."""
    try:
        async with asyncio.timeout(5):
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=client.namespace)
            )
    except (RPCError, TimeoutError, RuntimeError, OSError) as error:
        reraise_cancellation(error)
        return False
    return True


@dataclass
class Lab:
    """The temporary directory, the ports and the two child processes of one run."""

    directory: Path
    port: int
    server: Child
    worker: Child

    @property
    def address(self) -> str:
        """The dev server's frontend."""
        return f"{HOST}:{self.port}"

    @property
    def outbox_path(self) -> Path:
        """The worker's outbox: what it told the licensing system."""
        return self.directory / "outbox.sqlite"

    @classmethod
    def create(cls, directory: Path) -> Lab:
        """The two processes' commands, on loopback ports free now (the server's survive its restart)."""
        port, http_port, metrics_port = free_port(), free_port(), free_port()
        server_command = [
            str(installed_binary("temporal")),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            HOST,
            "--port",
            str(port),
            "--http-port",
            str(http_port),
            "--metrics-port",
            str(metrics_port),
            "--db-filename",
            str(directory / "temporal.sqlite"),
            "--log-level",
            "warn",
            *dev_server_arguments(),
        ]
        environment = dict(os.environ)
        worker_environment = environment | {
            "TEMPORAL_ADDRESS": f"{HOST}:{port}",
            "ONEWINDOW_OUTBOX": str(directory / "outbox.sqlite"),
            KEYS_DIR_VARIABLE: str(directory / "keys"),
            # The worker's embedded audit log (being added with the chains): here, not in .onewindow/.
            "ONEWINDOW_AUDIT_LOG": str(directory / "audit.sqlite"),
        }
        worker_command = [
            sys.executable,
            str(HERE / "worker.py"),
            "--metrics-port",
            "0",
            "--task-queue",
            TASK_QUEUE,
        ]
        return cls(
            directory=directory,
            port=port,
            server=Child("dev server", server_command, environment, directory / "server.log"),
            worker=Child("worker", worker_command, worker_environment, directory / "worker.log"),
        )

    async def start_server(self) -> float:
        """Start the dev server; seconds until it accepts connections."""
        self.server.start()
        return await self.server.wait_until(lambda: port_open(self.port))

    async def start_worker(self) -> float:
        """Start the worker; seconds until it polls (its ``worker_running`` log line)."""
        self.worker.start()

        async def running() -> bool:
            return "worker_running" in self.worker.output()

        return await self.worker.wait_until(running)

    def stop(self) -> None:
        """The worker first, then the server (SIGTERM; SIGKILL for one that does not stop in 5 s)."""
        self.worker.stop(grace=5)
        self.server.stop(grace=5)


# --- the driver -----------------------------------------------------------------------------------------


@dataclass
class Kill:
    """One kill: what, when (seconds into the run), and how long until it served again."""

    target: str
    at: float
    back_after: float
    outstanding: int  # driver actions not yet answered at the moment of the kill


@dataclass
class Run:
    """What the driver and the chaos share, and the figures reported at the end."""

    lab: Lab
    cases: Cases
    numbers: list[str]
    started: float = field(default_factory=time.monotonic)
    answered: int = 0  # driver actions answered (a submission, an acceptance, an approval)
    driving_done: bool = False
    stage: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    retries: collections.Counter[str] = field(default_factory=collections.Counter)
    retry_examples: dict[str, str] = field(default_factory=dict)  # the first error of each kind
    replayed_submissions: int = 0
    kills: list[Kill] = field(default_factory=list)
    reconnected: bool = False
    worker_restarting: bool = False
    worker_stopped_in: float | None = None  # seconds the final SIGTERM took
    checked_in: float | None = None  # seconds the checks through the client took
    chains_verified: int = 0  # cases whose event chain matches the audit log
    bytes_scanned: int = 0  # of the server's database and the worker's log, for personal data
    plaintext_leaks: int = 0
    drained_at: float | None = None

    @property
    def total_actions(self) -> int:
        """Every action the driver will take."""
        return ACTIONS_PER_CASE * len(self.numbers)

    def now(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    # The calls, each retried on transient failures.

    async def retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` until it answers or fails for a reason no retry cures; each retry is counted."""
        while True:
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    return await call()
            except Exception as error:
                reraise_cancellation(error)
                reason = transient(error)
                if reason is None:
                    raise
                self.retries[f"{what}: {reason}"] += 1
                self.retry_examples.setdefault(f"{what}: {reason}", f"{type(error).__name__}: {error}"[:300])
            await asyncio.sleep(RETRY_PAUSE)

    async def drive(self, number: str, intake: Intake) -> None:
        """One case: submitted, accepted at the window, approved by its department."""
        opened = await self.retrying(
            "submit", lambda: self.cases.submit(number, intake, idempotency_key=f"{number}.submit")
        )
        self.replayed_submissions += opened.replayed
        self.stage[number] = "submitted"
        self.answered += 1
        await self.command(number, AcceptApplication(actor=OFFICER), "accept", "application_accepted")
        self.stage[number] = "accepted"
        self.answered += 1
        approval = RecordApproval(actor=APPROVER, step=STEP, approved=True)
        await self.command(number, approval, "approve", "approval_recorded")
        self.stage[number] = "approved"
        self.answered += 1

    async def command(self, number: str, command: ApplicationCommand, what: str, recorded: str) -> None:
        """Give ``command`` with its idempotency key, retried until answered.

        A retry of a command that took effect before its answer was lost may find the case moved on
        (closed, once approved) and be answered NotAllowed: the case's log then shows the command's event,
        and it counts as answered.
        """
        key = f"{number}.{what}"
        try:
            await self.retrying(what, lambda: self.cases.act(number, command, idempotency_key=key))
        except (NotAllowed, Refused) as error:
            if isinstance(error, Refused) and error.type != NotAllowed.__name__:
                raise
            events = await self.retrying("read", lambda: self.cases.events(number, reader=None))
            if recorded not in [event.kind for event in events]:
                raise
            self.retries[f"{what}: NotAllowed after it took effect"] += 1

    async def drive_all(self) -> None:
        """Every case, ``IN_FLIGHT`` at a time; a case that fails is recorded, the others carry on."""
        materials = tuple(m.code for m in load_catalogue().matter(MATTER).materials)
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def bounded(index: int, number: str) -> None:
            intake = Intake(
                actor=PORTAL,
                applicant=applicant_of(index),
                matter_code=MATTER,
                materials=materials,
                channel=Channel.ONLINE,
                received_at=datetime.now(UTC),
            )
            async with gate:
                try:
                    await self.drive(number, intake)
                except Exception as error:  # recorded, reported with the case's number
                    self.failures[number] = f"{type(error).__name__}: {error}"

        try:
            await asyncio.gather(*(bounded(i, number) for i, number in enumerate(self.numbers)))
        finally:
            self.driving_done = True

    # The chaos.

    async def chaos(self) -> None:
        """Kill the worker three times and the server once, as the driver's answers pass each mark."""
        last_back = time.monotonic()
        for fraction, target in CHAOS_PLAN:
            while self.answered < fraction * self.total_actions and not self.driving_done:
                await asyncio.sleep(0.05)
            await asyncio.sleep(max(0.0, last_back + SETTLE - time.monotonic()))
            outstanding = self.total_actions - self.answered
            at = self.now()
            if target == WORKER:
                self.worker_restarting = True
                self.lab.worker.kill()
                await asyncio.sleep(WORKER_DOWN)
                await self.lab.start_worker()
                self.worker_restarting = False
            else:
                self.lab.server.kill()
                await asyncio.sleep(SERVER_DOWN)
                await self.lab.start_server()
                await self.survive_server_restart()
            self.kills.append(Kill(target, at, self.now() - at, outstanding))
            last_back = time.monotonic()

    async def survive_server_restart(self) -> None:
        """The client reconnects by itself once the server is back; if it did not, connect again."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if await namespace_ready(self.cases.client):
                return
            await asyncio.sleep(0.2)
        self.cases = await open_cases(self.lab.address, TASK_QUEUE)
        self.reconnected = True

    async def watch_worker(self) -> None:
        """Fail at once if the worker exits by itself (only the chaos may end it)."""
        while True:
            if not self.worker_restarting:
                self.lab.worker.require_running()
            await asyncio.sleep(0.2)

    # Draining and checking.

    async def drain(self) -> None:
        """Wait until every driven case's workflow has completed, showing its licence.

        A case shows its licence (and counts as closed) a moment before its workflow completes: it still
        tells the applicant and the supervision platform first.
        """
        waiting = [number for number in self.numbers if number not in self.failures]
        gate = asyncio.Semaphore(LOOK_IN_FLIGHT)

        async def finished(number: str) -> bool:
            handle = self.cases.client.get_workflow_handle(number)
            async with gate:
                status = (await self.retrying("read", handle.describe)).status
                if status is WorkflowExecutionStatus.RUNNING:
                    return False
                view = await self.retrying("read", lambda: self.cases.state(number, reader=None))
            if status is WorkflowExecutionStatus.COMPLETED and view.licence_number is not None:
                self.stage[number] = "issued"
            else:
                name = status.name if status else "?"
                self.failures.setdefault(number, f"workflow {name} with status {view.status.value}")
            return True

        while waiting:
            done = await asyncio.gather(*(finished(number) for number in waiting))
            waiting = [number for number, ok in zip(waiting, done, strict=True) if not ok]
            if waiting:
                await asyncio.sleep(DRAIN_POLL)
        self.drained_at = self.now()

    async def check_cases(self) -> dict[str, str]:
        """Each case's view and domain log; the licence number each case shows (the problems go to
        ``failures``)."""
        licences: dict[str, str] = {}
        gate = asyncio.Semaphore(LOOK_IN_FLIGHT)

        async def check(number: str) -> None:
            async with gate:
                view = await self.retrying("read", lambda: self.cases.state(number, reader=None))
                events = await self.retrying("read", lambda: self.cases.events(number, reader=None))
                handle = self.cases.client.get_workflow_handle(number)
                description = await self.retrying("read", handle.describe)
            problems = []
            if view.status is not Status.ISSUED or not view.closed or view.licence_number is None:
                problems.append(
                    f"status {view.status.value}, closed {view.closed}, licence {view.licence_number}"
                )
            if description.status is not WorkflowExecutionStatus.COMPLETED:
                problems.append(f"workflow {description.status.name if description.status else '?'}")
            kinds = collections.Counter[str](event.kind for event in events)
            for kind in (*ONCE, ISSUED_KIND):
                if kinds[kind] != 1:
                    problems.append(f"{kinds[kind]} × {kind}")
            serialised = collections.Counter(event.model_dump_json() for event in events)
            repeated = sorted({json[:80] for json, count in serialised.items() if count > 1})
            problems += [f"event twice: {json}…" for json in repeated]
            issued = [event.licence_number for event in events if isinstance(event, LicenceIssued)]
            if view.licence_number is not None:
                licences[number] = view.licence_number
                if issued and issued[0] != view.licence_number:
                    problems.append(f"licence {view.licence_number} in the view, {issued[0]} in the log")
            if problems:
                self.failures.setdefault(number, "; ".join(problems))

        await asyncio.gather(*(check(number) for number in self.numbers if number not in self.failures))
        return licences

    async def check_runs(self) -> None:
        """One execution per number on the task queue, each holding its number's one claim
        (``workflows.number_claim``), and none of another number."""
        query = f"TaskQueue = '{TASK_QUEUE}'"
        claims = {claim_id(number): number for number in self.numbers}
        runs: collections.Counter[str] = collections.Counter()
        for _ in range(50):  # visibility is eventually consistent: look again briefly
            runs = collections.Counter()
            async for execution in self.cases.client.list_workflows(query):
                runs[claims.get(execution.id, execution.id)] += 1
            if set(runs) >= set(self.numbers) and all(runs[n] == 2 for n in self.numbers):
                break
            await asyncio.sleep(0.2)
        for number in self.numbers:
            if runs[number] != 2:
                self.failures.setdefault(number, f"{runs[number]} workflow runs with its claim (2 wanted)")
        strangers = sorted(set(runs) - set(self.numbers))
        if strangers:
            self.failures["(unknown)"] = f"runs of numbers never submitted: {', '.join(strangers[:10])}"

    def check_plaintext(self) -> None:
        """No applicant's identity number, name or contact in the server's database files or the
        worker's log, as bytes: history payloads are encrypted, search attributes keyed pseudonyms."""
        stored = b"".join(
            path.read_bytes()
            for path in [*self.lab.directory.glob("temporal.sqlite*"), self.lab.worker.log]
            if path.is_file()
        )
        self.bytes_scanned = len(stored)
        if self.numbers[0].encode() not in stored:  # the ids are plain: the scan must see them
            self.failures["(scan)"] = "the database files hold no case number: the scan read nothing useful"
        for index, number in enumerate(self.numbers):
            person = applicant_of(index)
            personal = {"identity number": person.id_number, "name": person.name, "contact": person.contact}
            found = [what for what, value in personal.items() if value.encode() in stored]
            if found:
                self.failures.setdefault(number, f"in plain text on disk: {', '.join(found)}")
                self.plaintext_leaks += len(found)

    def check_outbox(self, licences: dict[str, str]) -> None:
        """One licence issued per case in the outbox, with the number the case shows; no other case's."""
        outbox = Outbox(self.lab.outbox_path)
        try:
            records = outbox.records(LICENSING)
        finally:
            outbox.close()
        issued: dict[str, list[str]] = collections.defaultdict(list)
        for _, payload in records:
            if payload.get("action") == "issue":
                issued[str(payload.get("application_id"))].append(str(payload.get("licence_number")))
            else:
                self.failures.setdefault(
                    str(payload.get("application_id")), f"outbox: {payload.get('action')}"
                )
        for number in self.numbers:
            numbers = issued.get(number, [])
            if len(numbers) != 1:
                self.failures.setdefault(number, f"{len(numbers)} licence records in the outbox")
            elif number in licences and numbers[0] != licences[number]:
                self.failures.setdefault(
                    number, f"outbox licence {numbers[0]}, case shows {licences[number]}"
                )
        strangers = sorted(set(issued) - set(self.numbers))
        if strangers:
            self.failures["(unknown)"] = f"licences for cases never submitted: {', '.join(strangers[:10])}"


async def verify_chains(cases: Cases, ids: Sequence[str], audit_log: Path) -> dict[str, str]:
    """Each case whose event chain does not verify against the audit log the worker wrote, and why:
    a lost or repeated event, or one recorded twice differently across the kills, shows here."""
    log = SqliteAuditLog(audit_log)
    limit = asyncio.Semaphore(20)

    async def problem(number: str) -> str | None:
        async with limit:
            verdict = verify(await cases.events(number, reader=None), await log.records(number))
        return None if verdict.intact else f"chain: event {verdict.first_bad}: {verdict.problem}"

    try:
        found = await asyncio.gather(*(problem(number) for number in ids))
    finally:
        log.close()
    return {number: why for number, why in zip(ids, found, strict=True) if why}


def reraise_cancellation(error: Exception) -> None:
    """Raise ``CancelledError`` if this task is being cancelled (the run's bound has passed).

    The Temporal client turns a cancellation into an ordinary error (``RPCTimeoutOrCancelledError``),
    which a retry loop would otherwise swallow, carrying on past the bound.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error


def transient(error: BaseException) -> str | None:
    """Why a failed call may simply be tried again (None: it may not).

    The server down or restarting, a connection dropped, a call that took too long (a worker killed in
    the middle of the case's task: the server hands it on after the task's timeout), a case whose
    registration waits for a worker: each attempt carries the same idempotency key, so a repeat of
    something that took effect takes effect once.
    """
    if isinstance(error, RPCError):
        return error.status.name if error.status in _TRANSIENT_RPC and error.status else None
    if isinstance(error, TimeoutError | RPCTimeoutOrCancelledError):
        return "timeout"
    if isinstance(error, NotYetRegistered) or (
        isinstance(error, Refused) and error.type == NOT_YET_REGISTERED
    ):
        return "not yet registered"
    if isinstance(error, ConnectionError | OSError):
        return type(error).__name__
    return None


# --- the run --------------------------------------------------------------------------------------------


async def prepare(lab: Lab, count: int) -> Run:
    """Start the server and the worker, and connect the driver."""
    await lab.start_server()
    cases = await first_client(lab)
    await search_attributes.register(cases.client)
    await lab.start_worker()
    return Run(lab=lab, cases=cases, numbers=[f"CRASH-{i:05d}" for i in range(count)])


async def scenario(run: Run) -> None:
    """Drive every case through the chaos, drain, and check; the problems are in ``run.failures``."""
    try:
        async with asyncio.TaskGroup() as group:  # a worker that exits by itself stops the run at once
            watcher = group.create_task(run.watch_worker())
            chaos = group.create_task(run.chaos())
            await run.drive_all()
            await chaos
            await run.drain()
            checking = time.monotonic()
            licences = await run.check_cases()
            await run.check_runs()
            broken = await verify_chains(run.cases, run.numbers, run.lab.directory / "audit.sqlite")
            for number, problem in broken.items():
                run.failures.setdefault(number, problem)
            run.chains_verified = len(run.numbers) - len(broken)
            watcher.cancel()
    except ExceptionGroup as errors:
        raise errors.exceptions[0] from None
    run.checked_in = time.monotonic() - checking
    # SIGTERM: the worker lets what runs finish; the outbox is read once nothing writes to it.
    run.worker_stopped_in = await run.lab.worker.terminate(grace=40)
    run.check_outbox(licences)
    run.check_plaintext()


async def first_client(lab: Lab) -> Cases:
    """The driver's client, once the new server answers (it accepts connections a little before)."""
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        try:
            cases = await open_cases(lab.address, TASK_QUEUE)
        except (RuntimeError, RPCError, OSError) as error:  # the server not answering yet
            reraise_cancellation(error)
        except Exception as error:  # the client's own configuration (its keys, ...): no retry cures it
            message = f"the driver's client could not be opened: {type(error).__name__}: {error}"
            raise CrashTestFailed(message) from error
        else:
            if await namespace_ready(cases.client):
                return cases
        await asyncio.sleep(0.2)
    raise CrashTestFailed(
        f"no client could connect to {lab.address}; end of {lab.server.log}:\n{tail(lab.server.log)}"
    )


class SdkLog(logging.Handler):
    """Where the driver's Temporal client logs (its own retries of calls the server did not answer):
    counted, and kept in a file of the run rather than on the console."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.WARNING)
        self.path = path
        self.retry_warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count a retry warning; append the record to the file."""
        message = record.getMessage()
        self.retry_warnings += "retried" in message
        with self.path.open("a") as file:
            file.write(message + "\n")


def quiet_sdk(path: Path) -> SdkLog:
    """Forward the Temporal client's native logs to an ``SdkLog`` (before any client connects)."""
    handler = SdkLog(path)
    logger = logging.getLogger("crash.temporal")
    logger.propagate = False
    logger.addHandler(handler)
    forwarding = LogForwardingConfig(logger=logger)
    levels = TelemetryFilter(core_level="WARN", other_level="ERROR")
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(levels, forwarding))))
    return handler


def report(run: Run, wall: float, sdk: SdkLog, *, verbose: bool = False) -> None:
    """The figures, as a short table."""
    worker_kills = [kill for kill in run.kills if kill.target == WORKER]
    server_kills = [kill for kill in run.kills if kill.target == SERVER]
    last_kill = max((kill.at for kill in run.kills), default=0.0)
    issued = sum(1 for stage in run.stage.values() if stage == "issued")
    quick = "" if len(run.numbers) >= FULL_RUN else f"; a quick run: the proof takes {FULL_RUN}"
    rows = [
        ("cases", f"{len(run.numbers)} ({issued} issued, {len(run.failures)} failing){quick}"),
        ("in flight", str(IN_FLIGHT)),
        (
            "worker SIGKILLs",
            f"{len(worker_kills)} (back after {_seconds(k.back_after for k in worker_kills)})",
        ),
        (
            "server SIGKILLs",
            f"{len(server_kills)} (back after {_seconds(k.back_after for k in server_kills)})",
        ),
        ("kills at (s)", ", ".join(f"{k.target} {k.at:.1f}" for k in run.kills) or "-"),
        ("actions unanswered at kills", ", ".join(f"{k.outstanding}" for k in run.kills) or "-"),
        ("client after server restart", "reconnected by the script" if run.reconnected else "survived"),
        ("worker stop (SIGTERM)", f"{run.worker_stopped_in:.1f} s" if run.worker_stopped_in else "-"),
        ("wall time", f"{wall:.1f} s"),
        (
            "drained after last kill",
            f"{run.drained_at - last_kill:.1f} s" if run.drained_at is not None else "never",
        ),
        ("checks took", f"{run.checked_in:.1f} s" if run.checked_in is not None else "-"),
        ("chains verified against the audit log", f"{run.chains_verified} of {len(run.numbers)}"),
        (
            "personal data in plain text on disk",
            f"{run.plaintext_leaks} found in {run.bytes_scanned / 1e6:.1f} MB (database, worker log)",
        ),
        ("replayed submissions", str(run.replayed_submissions)),
        ("driver retries", str(sum(run.retries.values()))),
    ]
    rows += [(f"  {reason}", str(n)) for reason, n in sorted(run.retries.items())]
    rows.append(("SDK client retry warnings", str(sdk.retry_warnings)))
    width = max(len(name) for name, _ in rows)
    print("\ncrash test: crashes lose nothing")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    if verbose:
        print("\nthe first error of each kind the driver retried:")
        for reason, example in sorted(run.retry_examples.items()):
            print(f"  {reason}: {example}")


def _seconds(values: Iterable[float]) -> str:
    figures = [f"{value:.1f}" for value in values]
    return ", ".join(figures) + " s" if figures else "-"


def _fail_hard(lab: Lab, directory: Path, bound: float) -> None:
    """The watchdog's last resort when the event loop itself is stuck: stop everything, exit 3."""
    print(f"\ncrash test FAILED: still running {bound:.0f} s after its bound; stopping", file=sys.stderr)
    for child in (lab.worker, lab.server):
        child.kill()
    shutil.rmtree(directory, ignore_errors=True)
    exit_process(3)


def _print_failures(failures: dict[str, str], headline: str) -> None:
    shown = sorted(failures.items())
    print(f"\ncrash test FAILED: {headline}", file=sys.stderr)
    for number, problem in shown[:SHOWN_FAILURES]:
        print(f"  {number}: {problem}", file=sys.stderr)
    if len(shown) > SHOWN_FAILURES:
        print(f"  … and {len(shown) - SHOWN_FAILURES} more", file=sys.stderr)


async def main_async(count: int, bound: float, directory: Path, *, verbose: bool) -> int:
    """The whole run within ``bound`` seconds; the exit code."""
    sdk = quiet_sdk(directory / "driver.log")
    lab = Lab.create(directory)
    watchdog = threading.Timer(bound + 30, _fail_hard, (lab, directory, bound))
    watchdog.daemon = True
    watchdog.start()
    started = time.monotonic()
    run: Run | None = None
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM (make interrupted, a CI job cancelled): stop the children first
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    try:
        async with asyncio.timeout(bound):
            run = await prepare(lab, count)
            await scenario(run)
    except asyncio.CancelledError:
        print("\ncrash test interrupted", file=sys.stderr)
        return 130
    except TimeoutError:
        if run is not None:
            report(run, time.monotonic() - started, sdk, verbose=verbose)
            unfinished = {n: f"stuck {run.stage.get(n, 'before submission')}" for n in run.numbers}
            unfinished = {n: why for n, why in unfinished.items() if why != "stuck issued"} | run.failures
            _print_failures(unfinished, f"not finished within {bound:.0f} s; {len(unfinished)} case(s) open:")
        else:
            print(f"\ncrash test FAILED: not started within {bound:.0f} s", file=sys.stderr)
        print(f"end of the worker's log:\n{tail(lab.worker.log, 10)}", file=sys.stderr)
        return 1
    except CrashTestFailed as error:
        print(f"\ncrash test FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        lab.stop()
        watchdog.cancel()
    report(run, time.monotonic() - started, sdk, verbose=verbose)
    if run.failures:
        _print_failures(run.failures, f"{len(run.failures)} case(s) did not complete exactly once:")
        return 1
    print("\nevery case completed exactly once: one licence each, no event lost or repeated")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse options, run in a temporary directory removed afterwards; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--cases", type=int, default=FULL_RUN, help="applications driven (default %(default)s)"
    )
    parser.add_argument(
        "--timeout", type=float, default=230.0, help="seconds the whole run may take (default %(default)s)"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show the first error of each kind the driver retried"
    )
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    for variable in [name for name in os.environ if name.startswith("TEMPORAL_")]:
        del os.environ[variable]  # only this run's own loopback server
    with tempfile.TemporaryDirectory(prefix="onewindow-crash-") as directory:
        os.environ[KEYS_DIR_VARIABLE] = str(Path(directory) / "keys")
        Security.development(Path(directory) / "keys")  # the worker's and the driver's, as make run's
        try:
            return asyncio.run(main_async(args.cases, args.timeout, Path(directory), verbose=args.verbose))
        except KeyboardInterrupt:
            print("\ncrash test interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    exit_process(main())  # the Temporal client's native threads could abort the interpreter's teardown
