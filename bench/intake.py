"""(b) Intake at the start of the working day: submissions at a fixed offered rate (open loop), and the time
from each submission to its registration (the case's search attributes first written: it is listed and
readable from then on), read from every case's history afterwards. Each rate starts once the cases of the
one before are at rest.

    .venv/bin/python -m bench.intake [--cases 10000] [--rates 20,35,50]
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from datetime import UTC, datetime

from bench.common import Process, all_at_rest, at_most, drained, engine, intake, paced, percentile, table
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


async def measure(count: int, rates: list[float]) -> None:
    """One run per offered rate on one dev server; print the lag from submission to registration."""
    rows = []
    async with engine() as running:
        process = Process()
        for rate in rates:
            sent, offered_for = await _offer(running.cases, count, rate)
            numbers = list(sent)
            # every case's history read back, 20 at a time
            registered = await at_most(20, numbers, lambda n: drained(running.env.client, n))
            lags = [(at - sent[n]).total_seconds() for n, at in zip(numbers, registered, strict=True)]
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
                    f"{max(lags):.1f} s",
                    f"{process.rss_mb():.0f} MB",
                ]
            )
            print(rows[-1])
            await all_at_rest(running.env.client, numbers)
    headers = ["offered", "cases", "sent", "registered", "lag p50", "lag p99", "lag max", "RSS"]
    print(table(headers, rows))


def main() -> None:
    """Parse the options and run the rates."""
    parser = argparse.ArgumentParser(description="onewindow's registration under a steady intake")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rates", default="20,35,50", help="offered submissions a second, comma-separated")
    args = parser.parse_args()
    asyncio.run(measure(args.cases, [float(rate) for rate in args.rates.split(",")]))


if __name__ == "__main__":
    main()
