"""`make demo` against a real server: four cases opened, walked part-way, shown as the window sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

import demo
from activities.outbox import Outbox
from workflows.messages import TASK_QUEUE
from workflows.testkit import onewindow_worker


async def test_the_demo_walks_a_one_five_twenty_day_and_a_deficiency_case(
    dev_server: WorkflowEnvironment,
    outbox: Outbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The window's list shows each case at the step the demo left it, with the UI link."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_server.client.service_client.config.target_host)
    async with onewindow_worker(dev_server.client, outbox, task_queue=TASK_QUEUE):
        await demo.demo()
    printed = capsys.readouterr().out
    rows = {line.split()[1]: line for line in printed.splitlines() if line.startswith("DEMO-")}
    assert set(rows) == {
        "ENTERPRISE-ESTABLISH",
        "REAL-ESTATE.mortgage",
        "OUTDOOR-ADVERTISING",
        "FOOD-BUSINESS",
    }
    assert "correction_requested" in rows["OUTDOOR-ADVERTISING"]
    assert "under_review" in rows["FOOD-BUSINESS"]
    assert "http://localhost:8233" in printed
