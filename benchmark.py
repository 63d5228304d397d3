"""``make bench``: whole cases per second through the real engine, on the embedded dev server.

Each case is submitted, accepted at the window, approved by its department and issued (six outside-system
calls, two deadline plans); the figure to compare with is bare Temporal on this machine (TEMPORAL.md:
about 115 start→signal→complete workflows/s with 100 in flight on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from workflows import search_attributes
from workflows.binaries import installed_binary
from workflows.client import Cases
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.messages import Intake
from workflows.reference_data import load_catalogue
from workflows.security import Security
from workflows.server_limits import dev_server_arguments
from workflows.testkit import onewindow_worker

MATTER = "PUBLIC-PLACE-HYGIENE"
OFFICER = Actor(id="bench-window", role=Role.WINDOW_OFFICER)
APPROVER = Actor(id="bench-approver", role=Role.APPROVER, department="health")


async def _one_case(cases: Cases, number: str, materials: tuple[str, ...], latencies: list[float]) -> None:
    intake = Intake(
        actor=Actor(id="bench-portal", role=Role.SYSTEM),
        applicant=Applicant(id_number=f"BENCH{number}", name="压测企业", contact="0411"),
        matter_code=MATTER,
        materials=materials,
        channel=Channel.ONLINE,
        received_at=datetime.now(UTC),
    )
    await cases.submit(number, intake)
    started = time.perf_counter()
    await cases.act(number, AcceptApplication(actor=OFFICER))
    latencies.append(time.perf_counter() - started)
    await cases.act(number, RecordApproval(actor=APPROVER, step="health", approved=True))
    await cases.client.get_workflow_handle(number).result()


async def measure(count: int, in_flight: int) -> None:
    """Run ``count`` cases with at most ``in_flight`` at once; print throughput and update latency."""
    materials = tuple(m.code for m in load_catalogue().matter(MATTER).materials)
    with tempfile.TemporaryDirectory() as directory:
        outbox = Outbox(Path(directory) / "outbox.sqlite")
        security = Security.development(Path(directory) / "keys")  # signed, encrypted, as make run
        async with (
            await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(installed_binary("temporal")),
                data_converter=security.data_converter(),
                interceptors=security.client_interceptors(),
                search_attributes=search_attributes.ALL,
                dev_server_extra_args=dev_server_arguments(),
            ) as env,
            onewindow_worker(env.client, outbox, security=security) as cases,
        ):
            gate = asyncio.Semaphore(in_flight)
            latencies: list[float] = []

            async def bounded(index: int) -> None:
                async with gate:
                    await _one_case(cases, f"BENCH-{index:06d}", materials, latencies)

            started = time.perf_counter()
            await asyncio.gather(*(bounded(i) for i in range(count)))
            elapsed = time.perf_counter() - started
        outbox.close()
    quantiles = statistics.quantiles(latencies, n=20)
    print(f"{count} cases (submit → accept → approve → issued), {in_flight} in flight: {elapsed:.1f} s")
    print(f"throughput: {count / elapsed:.1f} cases/s")
    print(f"accept update latency: p50 {quantiles[9] * 1000:.0f} ms, p95 {quantiles[18] * 1000:.0f} ms")


def main() -> None:
    """Parse options and run the measurement."""
    parser = argparse.ArgumentParser(description="onewindow end-to-end throughput on the dev server")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(measure(args.cases, args.in_flight))


if __name__ == "__main__":
    main()
