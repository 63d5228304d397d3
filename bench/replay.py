"""What (d) is made of: the worker's cost of bringing one case evicted from its cache back, measured alone.

A case woken by its deadline is no longer in the worker's cache when 10,000 wake at once, so the worker
replays its history: a fresh sandboxed instance, then every workflow task since registration. This opens one
case as (d) does, records its history before and after its deemed acceptance, and replays each history
``--replays`` times on the worker's own runner and codec, with no server in the loop: the figures are the
worker's milliseconds of wall and CPU time per replay, free of the servers' share of the machine.

    .venv/bin/python -m bench.replay [--replays 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from bench.common import open_cases, table
from bench.timers import START, deemed_accepted
from workflows.testkit import onewindow_replayer, onewindow_test_environment


async def _histories() -> tuple[Replayer, dict[str, WorkflowHistory]]:
    """One case's history as it registered and once its acceptance deadline has passed, and a replayer
    with the worker's workflows, runner, interceptor and codec."""
    async with onewindow_test_environment(START) as kit:
        cases, client = kit.cases, kit.env.client
        (number,) = await open_cases(cases, 1, "RP", await kit.env.get_current_time())
        handle = client.get_workflow_handle(number)
        registered = await handle.fetch_history()
        await deemed_accepted(kit, number)
        woken = await handle.fetch_history()
        replayer = onewindow_replayer(client.data_converter)
    return replayer, {"registered": registered, "woken by its deadline": woken}


async def _replay(replayer: Replayer, history: WorkflowHistory, count: int) -> tuple[float, float]:
    """Milliseconds of wall and of the process's CPU per replay, ``count`` replays in one replayer."""

    async def repeated() -> AsyncIterator[WorkflowHistory]:
        for _ in range(count):
            yield WorkflowHistory(history.workflow_id, history.events)

    started, cpu = time.perf_counter(), time.process_time()
    results = await replayer.replay_workflows(repeated(), raise_on_replay_failure=False)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    if results.replay_failures:
        raise RuntimeError(f"a replay failed: {next(iter(results.replay_failures.values()))}")
    return wall * 1000 / count, used * 1000 / count


async def measure(replays: int, rounds: int) -> None:
    """Replay each history ``replays`` times a round, the histories alternating, for ``rounds`` rounds."""
    replayer, histories = await _histories()
    await _replay(replayer, histories["registered"], 10)  # warm up: the first replays import and compile
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in histories}
    for _ in range(rounds):
        for name, history in histories.items():
            figures[name].append(await _replay(replayer, history, replays))
    rows = [
        [
            name,
            len(histories[name].events),
            f"{statistics.median(wall for wall, _ in each):.1f} ms",
            f"{statistics.median(cpu for _, cpu in each):.1f} ms",
            " · ".join(f"{wall:.1f}" for wall, _ in each),
        ]
        for name, each in figures.items()
    ]
    print(f"\n{replays} replays a round, {rounds} rounds\n")
    print(table(["history", "events", "median wall", "median CPU", "each round (wall)"], rows))


def main() -> None:
    """Parse the options and run the rounds."""
    parser = argparse.ArgumentParser(description="onewindow's cost of replaying one case")
    parser.add_argument("--replays", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(measure(args.replays, args.rounds))


if __name__ == "__main__":
    main()
