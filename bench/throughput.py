"""(a) Whole cases per second through the engine, against two bare Temporal workflows in the same run.

- ``engine``: a whole case, submit → accept → approve → licence issued (``bench.common.whole_case``).
- ``same shape``: a bare workflow making the server calls a case makes (1 start, 2 updates, 5 activities,
  4 local activities, 1 timer, 5 search-attribute upserts), with no domain logic.
- ``minimal``: the least a case can cost on this stack: 1 start, 2 updates, completion.

All three run on one dev server, in rounds that alternate their order so that the machine's noise hits
them alike; each round runs ``--cases`` of a shape with ``--in-flight`` at once. The payloads of all three
go through the same encrypting converter.

    .venv/bin/python -m bench.throughput [--rounds 5] [--cases 300] [--in-flight 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare import BareMinimal, BareSameShape, bare_effect
from bench.common import at_most, engine, table, whole_case


async def _same_shape(client: Client, task_queue: str, number: str) -> None:
    handle = await client.start_workflow(BareSameShape.run, number, id=number, task_queue=task_queue)
    await handle.execute_update(BareSameShape.accept, number)
    await handle.execute_update(BareSameShape.approve, number)
    await handle.result()


async def _minimal(client: Client, task_queue: str, number: str) -> None:
    handle = await client.start_workflow(BareMinimal.run, number, id=number, task_queue=task_queue)
    await handle.execute_update(BareMinimal.decide, number)
    await handle.execute_update(BareMinimal.decide, number)
    await handle.result()


async def _rate(one: Callable[[str], Awaitable[None]], count: int, in_flight: int) -> float:
    """Cases of one shape per second, ``in_flight`` at once."""
    tag = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    await at_most(in_flight, [f"B-{tag}-{index:06d}" for index in range(count)], one)
    return count / (time.perf_counter() - started)


async def measure(rounds: int, count: int, in_flight: int) -> None:
    """Alternate the three shapes for ``rounds`` rounds; print each round's rate, the medians, the ratios."""
    async with engine() as running:
        client, queue = running.env.client, f"bench-bare-{uuid.uuid4().hex[:6]}"
        shapes: dict[str, Callable[[str], Awaitable[None]]] = {
            "engine": lambda number: whole_case(running.cases, number),
            "same shape": lambda number: _same_shape(client, queue, number),
            "minimal": lambda number: _minimal(client, queue, number),
        }
        rates: dict[str, list[float]] = {name: [] for name in shapes}
        async with Worker(
            client, task_queue=queue, workflows=[BareSameShape, BareMinimal], activities=[bare_effect]
        ):
            await _rate(shapes["minimal"], min(count, 50), in_flight)  # warm up the server and both workers
            names = list(shapes)
            for round_index in range(rounds):
                order = names[round_index % 3 :] + names[: round_index % 3]
                for name in order:
                    rates[name].append(await _rate(shapes[name], count, in_flight))
                print(f"round {round_index + 1}: " + ", ".join(f"{n} {rates[n][-1]:.1f}/s" for n in names))
    median = {name: statistics.median(values) for name, values in rates.items()}
    rows = [
        [name, f"{median[name]:.1f}", " · ".join(f"{rate:.1f}" for rate in rates[name])] for name in shapes
    ]
    print(f"\n{count} cases a round, {in_flight} in flight, {rounds} rounds\n")
    print(table(["shape", "median cases/s", "each round"], rows))
    print(f"\nengine / same shape: {median['engine'] / median['same shape']:.2f}×")
    print(f"engine / minimal: {median['engine'] / median['minimal']:.2f}×")


def main() -> None:
    """Parse the options and run the rounds."""
    parser = argparse.ArgumentParser(description="onewindow against bare Temporal, cases per second")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(measure(args.rounds, args.cases, args.in_flight))


if __name__ == "__main__":
    main()
