"""The onewindow worker: connects to Temporal (or starts the embedded dev server) and runs the workflows.

``make run`` runs this file. With ``TEMPORAL_ADDRESS`` set it connects there using temporalio's own
environment configuration (``TEMPORAL_NAMESPACE``, TLS and API-key variables, TOML profiles) and starts
no server; otherwise it starts the pip-installed ``temporal`` dev server with its state in ``.temporal/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog
import uvicorn
from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import all_activities
from activities.adapters import adapter_settings
from activities.audit import SqliteAuditLog, audit_log_path
from activities.credit import CityCreditPlatform
from activities.outbox import Outbox
from gateway import TOKENS_VARIABLE, TokenBook, http_server
from workflows import search_attributes
from workflows.binaries import installed_binary
from workflows.boundary import BoundaryInterceptor
from workflows.client import Cases, exit_process
from workflows.codec import EncryptionCodec
from workflows.domain.credit import DEFAULT_BAR_MONTHS, MAX_BAR_MONTHS
from workflows.domain.errors import OneWindowError
from workflows.logs import configure_logging
from workflows.messages import TASK_QUEUE
from workflows.reference_data import CalendarSource, load_catalogue, load_warning_policy
from workflows.registry import CACHED_CASES, WORKFLOW_RUNNER, WORKFLOWS, freeze_start_up_heap
from workflows.security import Security
from workflows.server_limits import dev_server_arguments
from workflows.steward_register import DEFAULT_CAPACITY, MAX_CAPACITY

STATE_DIR = Path(".temporal")
OUTBOX = Path(os.environ.get("ONEWINDOW_OUTBOX", ".onewindow/outbox.sqlite"))
DEV_SERVER_PORT = 7233
UI_PORT = 8233
GRACEFUL_SHUTDOWN = timedelta(seconds=30)
CODEC_ENDPOINT = "http://localhost:8000/codec"  # the UI's host: its session cookie is same-site
CREDIT_BAR_MONTHS_VARIABLE = "ONEWINDOW_CREDIT_BAR_MONTHS"
CREDIT_PLATFORM_URL_VARIABLE = "ONEWINDOW_CREDIT_PLATFORM_URL"
CREDIT_PLATFORM_TOKEN_VARIABLE = "ONEWINDOW_CREDIT_PLATFORM_TOKEN"  # noqa: S105 - the variable's name
STEWARD_CAPACITY_VARIABLE = "ONEWINDOW_STEWARD_CAPACITY"

log = structlog.get_logger()


def _require_free_ports(ports: Mapping[int, str]) -> None:
    """Fail at once, in one line, when a port this worker would listen on is taken (a second ``make run``).

    Checked before anything starts, so nothing is left half-started and no component's own error (a
    Prometheus exporter's, a server's) surfaces as a traceback.
    """
    taken = []
    for port, purpose in ports.items():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                taken.append(f"{port} ({purpose})")
    if taken:
        raise OSError(
            f"already in use, probably by another `make run`: port {', '.join(taken)}; stop it, or set "
            f"TEMPORAL_ADDRESS=localhost:{DEV_SERVER_PORT} to use its server"
        )


def _listening_ports(settings: Settings) -> dict[int, str]:
    """The local ports this worker would listen on, and why."""
    ports: dict[int, str] = {}
    if not _cluster_configured(settings):
        ports |= {DEV_SERVER_PORT: "Temporal dev server", UI_PORT: "Temporal web UI"}
    if settings.metrics_port:
        ports[settings.metrics_port] = "worker metrics"
    if settings.gateway_tokens is not None and settings.gateway_port:
        ports[settings.gateway_port] = "HTTP gateway"
    return ports


@dataclass(frozen=True)
class Settings:
    """How this worker runs (command-line options, with environment defaults)."""

    task_queue: str
    profile: str | None
    max_concurrent_activities: int
    max_concurrent_workflow_tasks: int
    max_cached_workflows: int
    metrics_host: str
    metrics_port: int
    gateway_tokens: Path | None
    gateway_port: int


@dataclass(frozen=True)
class CreditSettings:
    """How long a credit record bars 容缺 and 告知承诺, and where records are kept (None: the register
    embedded in Temporal)."""

    bar_months: int
    platform: CityCreditPlatform | None


def credit_settings(environ: Mapping[str, str]) -> CreditSettings:
    """The credit settings from the environment; ``ValueError`` in one line naming what is wrong (the
    token and the URL are never repeated: either may hold a secret)."""
    months = (environ.get(CREDIT_BAR_MONTHS_VARIABLE) or str(DEFAULT_BAR_MONTHS)).strip()
    if not (months.isascii() and months.isdigit() and 1 <= int(months) <= MAX_BAR_MONTHS):
        raise ValueError(
            f"{CREDIT_BAR_MONTHS_VARIABLE} must be a whole number of months, 1 to {MAX_BAR_MONTHS}"
        )
    url = environ.get(CREDIT_PLATFORM_URL_VARIABLE)
    token = environ.get(CREDIT_PLATFORM_TOKEN_VARIABLE) or None
    if not url:
        if token:
            raise ValueError(
                f"{CREDIT_PLATFORM_TOKEN_VARIABLE} is set without {CREDIT_PLATFORM_URL_VARIABLE}"
            )
        return CreditSettings(bar_months=int(months), platform=None)
    try:
        platform = CityCreditPlatform(url, token)
    except ValueError as error:
        raise ValueError(f"{CREDIT_PLATFORM_URL_VARIABLE}: {error}") from None
    return CreditSettings(bar_months=int(months), platform=platform)


def steward_capacity(environ: Mapping[str, str]) -> int:
    """How many open cases one steward may hold at once; ``ValueError`` in one line naming the variable."""
    given = (environ.get(STEWARD_CAPACITY_VARIABLE) or str(DEFAULT_CAPACITY)).strip()
    if not (given.isascii() and given.isdigit() and 1 <= int(given) <= MAX_CAPACITY):
        raise ValueError(f"{STEWARD_CAPACITY_VARIABLE} must be a whole number of cases, 1 to {MAX_CAPACITY}")
    return int(given)


def _runtime(settings: Settings) -> Runtime:
    """The SDK runtime, exporting Temporal's worker metrics to Prometheus unless the port is 0."""
    if not settings.metrics_port:
        return Runtime.default()
    metrics = PrometheusConfig(bind_address=f"{settings.metrics_host}:{settings.metrics_port}")
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


@contextlib.asynccontextmanager
async def temporal_client(settings: Settings, runtime: Runtime, security: Security) -> AsyncIterator[Client]:
    """A client to the configured cluster, or to a dev server started (and stopped) here.

    A cluster is configured the temporalio way: ``TEMPORAL_ADDRESS`` (with ``TEMPORAL_NAMESPACE``, TLS
    and API-key variables) or a TOML client profile (``--profile``, ``TEMPORAL_PROFILE``,
    ``TEMPORAL_CONFIG_FILE``).
    """
    if _cluster_configured(settings):
        config = ClientConfig.load_client_connect_config(profile=settings.profile)
        client = await Client.connect(
            **config,
            data_converter=security.data_converter(),
            interceptors=security.client_interceptors(),
            runtime=runtime,
        )
        log.info("temporal_connected", address=config.get("target_host"), namespace=client.namespace)
        yield client
        return
    STATE_DIR.mkdir(exist_ok=True)
    database = STATE_DIR / "onewindow.sqlite"
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(installed_binary("temporal")),
        dev_server_database_filename=str(database),
        port=DEV_SERVER_PORT,
        # The web UI decodes payloads through the gateway's codec endpoint (README, "Security").
        dev_server_extra_args=[*dev_server_arguments(), "--ui-codec-endpoint", CODEC_ENDPOINT],
        ui=True,
        ui_port=UI_PORT,
        data_converter=security.data_converter(),
        interceptors=security.client_interceptors(),
        runtime=runtime,
    ) as env:
        log.info(
            "dev_server_started",
            address=f"localhost:{DEV_SERVER_PORT}",
            ui=f"http://localhost:{UI_PORT}",
            database=str(database),
        )
        yield env.client


def _cluster_configured(settings: Settings) -> bool:
    """Whether a Temporal cluster is configured (the worker then starts no server of its own)."""
    configured = ("TEMPORAL_ADDRESS", "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE")
    return bool(settings.profile) or any(os.environ.get(variable) for variable in configured)


async def serve(settings: Settings) -> None:
    """Load and validate reference data, register search attributes, and run the worker until stopped.

    A mistake in the outside-system, credit or steward settings or the reference data is reported first,
    then a port already taken: all before anything starts listening.
    """
    adapters = adapter_settings(os.environ)
    credit = credit_settings(os.environ)
    capacity = steward_capacity(os.environ)
    catalogue = load_catalogue()
    calendar = CalendarSource()
    policy = load_warning_policy()
    log.info(
        "reference_data_loaded",
        catalogue=catalogue.version,
        matters=len(catalogue.matters),
        calendar=calendar.current().version,
    )
    log.info(
        "credit_configured",
        bar_months=credit.bar_months,
        platform="city" if credit.platform else "embedded register",
    )
    log.info("stewards_configured", capacity=capacity)
    # The systems' names only: a URL may hold a secret.
    log.info("outside_systems_configured", over_http=sorted(adapters.endpoints))
    _require_free_ports(_listening_ports(settings))
    # make run creates development keys once; a deployment supplies its own (README, "Security").
    # A worker alone gives no command, so it needs no signing key; beside the gateway it signs for it.
    gives_commands = settings.gateway_tokens is not None and bool(settings.gateway_port)
    security = (
        Security.load(signing=gives_commands) if _cluster_configured(settings) else Security.development()
    )
    log.info("keys_loaded", signer=security.signer.kid if security.signer else None)
    async with temporal_client(settings, _runtime(settings), security) as client:
        added = await search_attributes.register(client)
        log.info("search_attributes_ready", added=added)
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=list(WORKFLOWS),
            workflow_runner=WORKFLOW_RUNNER,
            activities=all_activities(
                catalogue,
                calendar,
                Outbox(OUTBOX),
                policy,
                security=security,
                audit=SqliteAuditLog(audit_log_path()),
                credit_bar_months=credit.bar_months,
                credit_platform=credit.platform,
                steward_capacity=capacity,
                adapters=adapters,
            ),
            interceptors=[BoundaryInterceptor()],
            max_concurrent_activities=settings.max_concurrent_activities,
            max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
            max_cached_workflows=settings.max_cached_workflows,
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
        # Ctrl-C and SIGTERM (a service manager's stop): stop polling, let running activities finish.
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, lambda: loop.create_task(worker.shutdown()))
        gateway = _gateway(settings, client, security)
        if gateway is not None:
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signal_number, lambda: _stop(loop, worker, gateway))
        metrics = f"http://localhost:{settings.metrics_port}/metrics" if settings.metrics_port else None
        log.info("worker_running", task_queue=settings.task_queue, metrics=metrics, stop="Ctrl-C")
        freeze_start_up_heap()
        await asyncio.gather(worker.run(), *([gateway.serve()] if gateway else []))
    log.info("worker_stopped")


def _gateway(settings: Settings, client: Client, security: Security) -> uvicorn.Server | None:
    """The HTTP gateway on loopback beside the worker, when a token file is configured."""
    if settings.gateway_tokens is None or not settings.gateway_port:
        return None
    tokens = TokenBook.load(settings.gateway_tokens)
    cases = Cases(client, settings.task_queue, pseudonyms=security.pseudonyms.of)
    return http_server(
        cases, tokens, port=settings.gateway_port, codec=EncryptionCodec(security.payload_keys)
    )


def _stop(loop: asyncio.AbstractEventLoop, worker: Worker, gateway: uvicorn.Server) -> None:
    gateway.should_exit = True
    loop.create_task(worker.shutdown())


def parse_settings(argv: list[str] | None) -> Settings:
    """Options, each defaulting to an ``ONEWINDOW_*`` environment variable."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    environment = os.environ.get
    parser.add_argument("--task-queue", default=environment("ONEWINDOW_TASK_QUEUE", TASK_QUEUE))
    parser.add_argument("--profile", default=None, help="temporalio TOML client profile to connect with")
    parser.add_argument(
        "--max-concurrent-activities", type=int, default=int(environment("ONEWINDOW_MAX_ACTIVITIES", "100"))
    )
    parser.add_argument(
        "--max-concurrent-workflow-tasks",
        type=int,
        default=int(environment("ONEWINDOW_MAX_WORKFLOW_TASKS", "100")),
    )
    parser.add_argument(
        "--max-cached-workflows",
        type=int,
        default=int(environment("ONEWINDOW_MAX_CACHED_WORKFLOWS", str(CACHED_CASES))),
        help="cases kept in memory between their tasks (reads need none: they come from the memo)",
    )
    parser.add_argument(
        "--metrics-host",
        default=environment("ONEWINDOW_METRICS_HOST", "127.0.0.1"),
        help="address the metrics endpoint listens on (default %(default)s: this machine only)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(environment("ONEWINDOW_METRICS_PORT", "9464")),
        help="Prometheus endpoint for worker metrics (0: off)",
    )
    parser.add_argument(
        "--gateway-tokens",
        type=Path,
        default=os.environ.get(TOKENS_VARIABLE),
        help="also serve the HTTP gateway on 127.0.0.1 with this token file (make run uses the example)",
    )
    parser.add_argument(
        "--gateway-port", type=int, default=int(environment("ONEWINDOW_GATEWAY_PORT", "8000"))
    )
    args = parser.parse_args(argv)
    return Settings(
        gateway_tokens=args.gateway_tokens,
        gateway_port=args.gateway_port,
        task_queue=args.task_queue,
        profile=args.profile,
        max_concurrent_activities=args.max_concurrent_activities,
        max_concurrent_workflow_tasks=args.max_concurrent_workflow_tasks,
        max_cached_workflows=args.max_cached_workflows,
        metrics_host=args.metrics_host,
        metrics_port=args.metrics_port,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 0 after a clean stop, 2 when reference data or the connection is unusable."""
    settings = parse_settings(argv)
    configure_logging()
    try:
        asyncio.run(serve(settings))
    except (OneWindowError, OSError, RuntimeError, ValueError) as error:
        log.error("worker_failed", error=str(error), error_type=type(error).__name__)
        return 2
    return 0


if __name__ == "__main__":
    exit_process(main())  # after a clean shutdown: the interpreter's teardown could still abort (see there)
