"""(d) Many deadlines at the same instant: ``--cases`` cases received on one day, none decided, so that all
their acceptance deadlines (R-XK-32: 24:00 of the fifth working day after) fall at one instant. Time is
skipped to that instant on the time-skipping server; the figure is the wall time until every case has
recorded its deemed acceptance and performed its effects (the outbox holds them all), with the worker
process's RSS and CPU while the cases wait and at the peak. A run that passes ``--within`` minutes after the
skip stops there and says how many effects were performed by then.

    .venv/bin/python -m bench.timers [--cases 10000] [--within 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta

from temporalio.service import RPCError

from activities.outbox import Outbox
from bench.common import Process, open_cases, table
from workflows.domain.calendar import SHANGHAI
from workflows.registry import freeze_start_up_heap
from workflows.testkit import OneWindowTestEnvironment, at_rest, onewindow_test_environment

START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday: accepted by silence at 24:00 on 9 March
SYSTEMS = ("notification", "department", "licensing", "supervision")


async def deemed_accepted(kit: OneWindowTestEnvironment, number: str) -> None:
    """Skip time past ``number``'s acceptance deadline and wait (two minutes at most) until the case has
    recorded its deemed acceptance and performed its effects."""
    view = await kit.cases.registered(number, reader=None)
    assert view.acceptance_by is not None  # noqa: S101 - the matter's acceptance is by notice
    await kit.env.sleep(view.acceptance_by - await kit.env.get_current_time() + timedelta(minutes=1))
    async with asyncio.timeout(120):  # a case that never wakes is a failure, not a wait
        while (await kit.cases.state(number, reader=None)).status.value == "received":
            await asyncio.sleep(0.1)
        await at_rest(kit.env.client, number, every=0.1)


def _effects(outbox: Outbox) -> int:
    return sum(outbox.count(system) for system in SYSTEMS)


async def _settled(outbox: Outbox, expected: int, process: Process, until: float) -> float:
    """Wait until the outbox holds ``expected`` effects or ``until`` (``time.perf_counter``) passes; the
    peak CPU share seen meanwhile."""
    peak = 0.0
    while _effects(outbox) < expected and time.perf_counter() < until:
        await asyncio.sleep(1)
        peak = max(peak, process.cpu_share())
    return max(peak, process.cpu_share())


async def measure(count: int, within: timedelta) -> None:
    """Measure one deemed acceptance's effects, then ``count`` at once."""
    async with onewindow_test_environment(START) as kit:
        freeze_start_up_heap()  # as worker.py does once it polls
        cases, outbox, process = kit.cases, kit.outbox, Process()
        # One case first: how many effects a deemed acceptance performs.
        (probe,) = await open_cases(cases, 1, "TM", await kit.env.get_current_time())
        before = _effects(outbox)
        await deemed_accepted(kit, probe)
        each = _effects(outbox) - before

        started = time.perf_counter()
        numbers = await open_cases(cases, count, "TM", await kit.env.get_current_time())
        opened_in = time.perf_counter() - started
        first = await cases.registered(numbers[-1], reader=None)
        assert first.acceptance_by is not None  # noqa: S101
        process.cpu_share()
        await asyncio.sleep(10)
        idle_cpu, idle_rss = process.cpu_share(), process.rss_mb()
        before = _effects(outbox)
        started = time.perf_counter()
        try:
            await kit.env.sleep(first.acceptance_by - await kit.env.get_current_time() + timedelta(minutes=1))
        except RPCError as error:  # the skip's own call outlasted its timeout: the server skips on
            print(f"skipping time answered {error.message!r}; waiting for the effects")
        process.cpu_share()
        peak_cpu = await _settled(outbox, before + each * count, process, started + within.total_seconds())
        handled_in = time.perf_counter() - started
        performed = _effects(outbox) - before
        peak_rss = process.rss_mb()
    rows = [
        [
            count,
            f"{opened_in:.0f} s",
            each,
            f"{performed:,} of {each * count:,}",
            f"{handled_in:.0f} s",
            f"{idle_rss:.0f} MB",
            f"{idle_cpu:.0%}",
            f"{peak_rss:.0f} MB",
            f"{peak_cpu:.0%}",
        ]
    ]
    headers = [
        "cases",
        "opened in",
        "effects each",
        "effects performed",
        "in",
        "RSS idle",
        "CPU idle",
        "RSS peak",
        "CPU peak",
    ]
    print(table(headers, rows))


def main() -> None:
    """Parse the options and run the measurement."""
    parser = argparse.ArgumentParser(description="onewindow with many deadlines at one instant")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--within", type=float, default=20.0, help="minutes after the skip before stopping")
    args = parser.parse_args()
    asyncio.run(measure(args.cases, timedelta(minutes=args.within)))


if __name__ == "__main__":
    main()
