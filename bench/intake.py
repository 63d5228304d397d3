"""(b) Intake at the start of the working day: submissions at a fixed offered rate (open loop), and the time
from each submission to its registration (the case's search attributes first written: it is listed and
readable from then on), read from the case's history afterwards for a sample of the cases.

    .venv/bin/python -m bench.intake [--cases 10000] [--rates 20,35,50] [--sample 500]
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime

from bench.common import Process, drained, engine, intake, paced, percentile, table
from workflows.client import Cases


async def _offer(cases: Cases, count: int, rate: float) -> tuple[dict[str, datetime], float]:
    """Submit ``count`` cases at ``rate`` a second whatever the answers take; when each was sent."""
    tag = uuid.uuid4().hex[:6]
    sent: dict[str, datetime] = {}

    async def submit(index: int) -> None:
        number = f"IN-{tag}-{index:06d}"
        sent[number] = datetime.now(UTC)
        await cases.submit(number, intake(number))

    return sent, await paced(count, rate, submit)


async def measure(count: int, rates: list[float], sample: int) -> None:
    """One run per offered rate on one dev server; print the lag from submission to registration."""
    rows = []
    async with engine() as running:
        process = Process()
        for rate in rates:
            sent, offered_for = await _offer(running.cases, count, rate)
            numbers = list(sent)
            await drained(running.env.client, numbers[-1])
            step = max(1, len(numbers) // sample)
            picked = [*numbers[::step], numbers[-1]]
            registered = await asyncio.gather(*(drained(running.env.client, n) for n in picked))
            lags = [(at - sent[n]).total_seconds() for n, at in zip(picked, registered, strict=True)]
            first, last = min(sent.values()), max(registered)
            kept_up = count / (last - first).total_seconds()
            rows.append(
                [
                    f"{rate:g}/s",
                    count,
                    f"{count / offered_for:.1f}/s",
                    f"{kept_up:.1f}/s",
                    f"{percentile(lags, 0.5):.2f} s",
                    f"{percentile(lags, 0.99):.2f} s",
                    f"{lags[-1]:.1f} s",
                    f"{process.rss_mb():.0f} MB",
                ]
            )
            print(rows[-1])
    headers = ["offered", "cases", "sent", "registered", "lag p50", "lag p99", "last case's lag", "RSS"]
    print(table(headers, rows))


def main() -> None:
    """Parse the options and run the rates."""
    parser = argparse.ArgumentParser(description="onewindow's registration under a steady intake")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rates", default="20,35,50", help="offered submissions a second, comma-separated")
    parser.add_argument("--sample", type=int, default=500, help="cases whose registration is read back")
    args = parser.parse_args()
    asyncio.run(measure(args.cases, [float(rate) for rate in args.rates.split(",")], args.sample))


if __name__ == "__main__":
    main()
