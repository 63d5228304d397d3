"""Where the cases are: the Temporal flags, their environment variables, and a connection made on first use.

The flags and variables are temporalio's own (``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, profiles) and
the worker's task queue variable, so the CLI finds the server and the queue the worker uses.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable

from cli.arguments import Parser
from cli.errors import CannotConnect, KeysUnusable
from workflows.client import DEFAULT_ADDRESS, Cases, connect_cases
from workflows.messages import TASK_QUEUE

ADDRESS_VARIABLE = "TEMPORAL_ADDRESS"
NAMESPACE_VARIABLE = "TEMPORAL_NAMESPACE"
TASK_QUEUE_VARIABLE = "ONEWINDOW_TASK_QUEUE"  # the worker's own default, so both meet on one queue


class Connection:
    """The cases the subcommand works on; connects on first use, so offline checks never need a server."""

    def __init__(self, args: argparse.Namespace, cases: Cases | None) -> None:
        self._args = args
        self._cases = cases

    async def cases(self) -> Cases:
        """The injected ``Cases``, or one connected as the flags and environment say."""
        if self._cases is None:
            self._cases = await _connect(self._args)
        return self._cases


Handler = Callable[[argparse.Namespace, Connection], Awaitable[int]]


async def _connect(args: argparse.Namespace) -> Cases:
    """``workflows.client.connect_cases`` with ``--profile``/``--address``/``--namespace``."""
    try:
        return await connect_cases(
            args.task_queue, args.profile, address=args.address, namespace=args.namespace
        )
    except ValueError as error:  # a key file missing or unusable (workflows.security)
        raise KeysUnusable(f"{error}; `make run` creates development keys") from None
    except RuntimeError as error:  # the SDK's core raises RuntimeError("Failed client connect: ...")
        where = args.address or os.environ.get(ADDRESS_VARIABLE) or DEFAULT_ADDRESS
        raise CannotConnect(f"cannot reach Temporal at {where}: {error}") from error


def temporal_options() -> Parser:
    """The flags of every subcommand that talks to Temporal."""
    options = Parser(add_help=False)
    group = options.add_argument_group("Temporal")
    group.add_argument("--address", help=f"host:port (default ${ADDRESS_VARIABLE}, else {DEFAULT_ADDRESS})")
    group.add_argument("--namespace", help=f"namespace (default ${NAMESPACE_VARIABLE}, else 'default')")
    group.add_argument("--profile", help="temporal config profile (TOML), as for the temporal CLI")
    group.add_argument(
        "--task-queue",
        default=os.environ.get(TASK_QUEUE_VARIABLE, TASK_QUEUE),
        help=f"the worker's task queue (default ${TASK_QUEUE_VARIABLE}, else {TASK_QUEUE})",
    )
    return options
