"""(c) A hundred operators reading and deciding cases all day, with many cases open.

``--open`` cases are registered first (none decided). Then:

- open loop: reads (``state`` at the reader's instant, as the gateway and the CLI read) and decisions
  (the window's ``accept``, each case once) offered at a steady ``--rate`` a second in the ``--reads``
  share, spread over ``--operators`` operators, for ``--seconds``; latency p50 and p99 per kind;
- closed loop: the same operators each read and decide as fast as answers come, for ``--seconds``: the
  saturation throughput.

A read comes from the case's memo (``workflows.read_model``); a decision is an update, so a case evicted
from the worker's cache (what ``onewindow_worker`` gives it) is replayed to take it.

    .venv/bin/python -m bench.operators [--open 10000] [--rate 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

from bench.common import OFFICER, Process, engine, open_cases, paced, percentile, table
from workflows.client import Cases
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import AcceptApplication


class Work:
    """The operators' pile: cases to read at random, cases to accept each once."""

    def __init__(self, cases: Cases, numbers: list[str]) -> None:
        self.cases = cases
        self.numbers = numbers
        self.undecided = list(numbers)
        random.shuffle(self.undecided)
        self.latencies: dict[str, list[float]] = {"read": [], "decide": []}
        self.failures: dict[str, Counter[str]] = {"read": Counter(), "decide": Counter()}

    async def read(self) -> None:
        number = random.choice(self.numbers)  # noqa: S311
        await self._timed("read", self.cases.state(number, datetime.now(SHANGHAI), reader=OFFICER))

    async def decide(self) -> None:
        number = self.undecided.pop()
        await self._timed("decide", self.cases.act(number, AcceptApplication(actor=OFFICER)))

    async def _timed(self, kind: str, call: Awaitable[object]) -> None:
        """The answer's latency; a call that failed (a timed-out query or update) counted apart."""
        started = time.perf_counter()
        try:
            await call
        except Exception as error:
            self.failures[kind][type(error).__name__] += 1
            return
        self.latencies[kind].append(time.perf_counter() - started)


def _next(work: Work, reads: float) -> Callable[[], Awaitable[None]]:
    return work.read if random.random() < reads or not work.undecided else work.decide  # noqa: S311


async def _open_loop(work: Work, rate: float, reads: float, seconds: float, operators: int) -> None:
    """Operations offered at ``rate`` a second, whatever the answers take (at most ``operators`` waiting)."""
    gate = asyncio.Semaphore(operators)

    async def one(_: int) -> None:
        operation = _next(work, reads)
        async with gate:
            await operation()

    await paced(int(rate * seconds), rate, one)


async def _closed_loop(work: Work, reads: float, seconds: float, operators: int) -> float:
    """Each operator acts as soon as their last answer (or failure) came; answered operations a second."""
    until = time.perf_counter() + seconds

    async def operator() -> None:
        while time.perf_counter() < until:
            await _next(work, reads)()

    started = time.perf_counter()
    await asyncio.gather(*(operator() for _ in range(operators)))
    answered = sum(len(values) for values in work.latencies.values())
    return answered / (time.perf_counter() - started)


def _rows(loop: str, work: Work) -> list[list[object]]:
    rows: list[list[object]] = []
    for kind, values in work.latencies.items():
        failed = ", ".join(f"{count} {name}" for name, count in work.failures[kind].items()) or "0"
        shares = [f"{percentile(values, share) * 1000:.0f} ms" if values else "—" for share in (0.5, 0.99)]
        rows.append([loop, kind, len(values), failed, *shares])
    return rows


async def measure(opened: int, rate: float, reads: float, seconds: float, operators: int) -> None:
    """Open the cases, then the open loop, then the closed loop; print the latencies and the saturation."""
    async with engine() as running:
        process = Process()
        started = time.perf_counter()
        numbers = await open_cases(running.cases, opened, "OP")
        print(f"{opened} cases open in {time.perf_counter() - started:.0f} s; RSS {process.rss_mb():.0f} MB")
        work = Work(running.cases, numbers)
        await _open_loop(work, rate, reads, seconds, operators)
        rows = _rows(f"open, {rate:g}/s offered", work)
        saturated = Work(running.cases, work.undecided)
        throughput = await _closed_loop(saturated, reads, seconds, operators)
        rows += _rows(f"closed, {throughput:.1f}/s", saturated)
        rss = process.rss_mb()
    print(f"\n{opened} open cases, {operators} operators, {reads:.0%} reads, {seconds:g} s a loop\n")
    print(table(["loop", "kind", "answered", "failed", "p50", "p99"], rows))
    print(f"\nworker process RSS at the end: {rss:.0f} MB")


def main() -> None:
    """Parse the options and run both loops."""
    parser = argparse.ArgumentParser(description="onewindow's reads and decisions with many open cases")
    parser.add_argument("--open", type=int, default=10_000, help="cases open before the operators start")
    parser.add_argument("--rate", type=float, default=20.0, help="operations offered a second (open loop)")
    parser.add_argument("--reads", type=float, default=0.8, help="the share of reads among operations")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each loop runs")
    parser.add_argument("--operators", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(measure(args.open, args.rate, args.reads, args.seconds, args.operators))


if __name__ == "__main__":
    main()
