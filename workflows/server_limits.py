"""The Temporal server settings onewindow relies on: limits no worker can enforce, since they bite before
any workflow code runs (dynamic config; ``make run`` and the tests' dev servers set them, and a production
cluster must set the same).

- An update's payload is handed to a worker, and a worker that refuses (or accepts) it sends it back with
  its answer: one near the 2 MB blob limit makes that answer too large, and the case stops answering. The
  server refuses updates over ``maxInFlightUpdatePayloads`` before a worker sees them; the engine's own
  limit for one command is 64 KiB (``workflows.boundary.MAX_MESSAGE_BYTES``).
- A case writes its state to its memo with each change (``workflows.read_model``): a few KB, the first
  time with its pinned rules about 20 KB. The server's default warns in its log over 2 KB of memo per
  event, so once per change; the warning is raised above the most a case writes.
- A signal's payload is written to the case's history before any code runs, whatever the signal's name:
  a blob limit of 256 KiB and 100 signals per case keep a stranger's signals under the 50 MB at which the
  server terminates a case (the engine's one signal, ``calendar_revised``, carries nothing and is sent a
  few times a year, and only to cases on another calendar version). The blob limit also bounds a start's
  input, an activity's and a query's answer.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_SIGNALS_PER_CASE = 100

DYNAMIC_CONFIG: Mapping[str, int] = {
    "history.maxInFlightUpdatePayloads": 128 * 1024,
    "limit.blobSize.error": 256 * 1024,
    "limit.blobSize.warn": 64 * 1024,
    "history.maximumSignalsPerExecution": MAX_SIGNALS_PER_CASE,
    "limit.memoSize.warn": 128 * 1024,
}


def dev_server_arguments() -> list[str]:
    """The ``temporal server start-dev`` arguments that set ``DYNAMIC_CONFIG``."""
    arguments = []
    for key, value in DYNAMIC_CONFIG.items():
        arguments += ["--dynamic-config-value", f"{key}={value}"]
    return arguments
