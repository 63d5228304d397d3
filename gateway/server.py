"""The gateway as a process: its options, the uvicorn server, and the checks before it serves."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
from pathlib import Path

import structlog
import uvicorn

from gateway.app import create_app
from gateway.limits import RateLimiter, RateLimits
from gateway.routers.codec import DEVELOPMENT_UI_ORIGINS
from gateway.tokens import EXAMPLE_TOKENS, TOKENS_VARIABLE, TokenBook
from workflows.client import Cases, connect_cases
from workflows.codec import EncryptionCodec
from workflows.domain.errors import OneWindowError
from workflows.logs import configure_logging
from workflows.messages import TASK_QUEUE
from workflows.security import Security

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
RATE_VARIABLE = "ONEWINDOW_GATEWAY_RATE"
BURST_VARIABLE = "ONEWINDOW_GATEWAY_BURST"

log = structlog.get_logger()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway",
        description="onewindow's HTTP gateway: the workflow contract for systems not written in Python.",
    )
    environment = os.environ.get
    defaults = RateLimits()
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)")
    parser.add_argument(
        "--tokens",
        type=Path,
        default=environment(TOKENS_VARIABLE),
        help=f"token file (TOML), required (or {TOKENS_VARIABLE}); a local try-out may use {EXAMPLE_TOKENS}",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=environment(RATE_VARIABLE, defaults.rate),
        help=f"requests a second each token may send, on average ({RATE_VARIABLE}; default: %(default)s)",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=environment(BURST_VARIABLE, defaults.burst),
        help=f"requests each token may send at once ({BURST_VARIABLE}; default: %(default)s)",
    )
    parser.add_argument("--task-queue", default=environment("ONEWINDOW_TASK_QUEUE", TASK_QUEUE))
    parser.add_argument("--profile", default=None, help="temporalio TOML client profile to connect with")
    return parser


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_server(
    cases: Cases,
    tokens: TokenBook,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    limits: RateLimits | None = None,
    codec: EncryptionCodec | None = None,
) -> uvicorn.Server:
    """The gateway as a uvicorn server (``worker.py`` runs one beside the worker for ``make run``), with
    the codec endpoint when given ``codec`` (the payload keys of the worker)."""
    limits = limits or RateLimits()
    app = create_app(
        cases, tokens, limiter=RateLimiter(limits), codec=codec, ui_origins=DEVELOPMENT_UI_ORIGINS
    )
    log.info(
        "gateway_running",
        url=f"http://{host}:{port}",
        docs=f"http://{host}:{port}/docs",
        tokens=len(tokens),
        rate=limits.rate,
        burst=limits.burst,
    )
    # log_config=None: uvicorn's loggers go through the structlog handler configured by configure_logging.
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None))


async def _serve(args: argparse.Namespace, tokens: TokenBook, limits: RateLimits) -> None:
    security = Security.load()
    cases = await connect_cases(args.task_queue, args.profile, security=security)
    codec = EncryptionCodec(security.payload_keys)
    await http_server(cases, tokens, args.host, args.port, limits=limits, codec=codec).serve()


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 2 without a usable token file, limits or connection."""
    args = _parser().parse_args(argv)
    configure_logging()
    if args.tokens is None:
        log.error("gateway_tokens_missing", hint=f"pass --tokens PATH or set {TOKENS_VARIABLE}")
        return 2
    try:
        tokens = TokenBook.load(Path(args.tokens))
        limits = RateLimits(rate=args.rate, burst=args.burst)
    except (OneWindowError, ValueError) as error:
        log.error("gateway_settings_invalid", error=str(error))
        return 2
    if tokens.insecure_example:
        if not _loopback(args.host):
            log.error("insecure_example_tokens_refused", host=args.host, hint="write your own token file")
            return 2
        log.warning("insecure_example_tokens", path=str(args.tokens), hint="never use them in production")
    try:
        asyncio.run(_serve(args, tokens, limits))
    except (OSError, RuntimeError) as error:
        log.error("gateway_failed", error=str(error), error_type=type(error).__name__)
        return 2
    return 0
