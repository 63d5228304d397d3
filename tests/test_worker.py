"""The worker's own start-up: the ports it listens on, checked before anything starts."""

from __future__ import annotations

import gc
import json
import socket
from collections.abc import Iterator

import pytest

import worker
from workflows.registry import CACHED_CASES, freeze_start_up_heap


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something else already listens on, as a second ``make run`` finds the first one's."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_port_already_taken_stops_the_worker_with_one_line_naming_it(
    listening: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No traceback from a Prometheus exporter or a server: exit 2 and one JSON line saying which port."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # a cluster: no dev server is started
    assert worker.main(["--metrics-port", str(listening)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    logged = json.loads(lines[-1])  # after the reference data loaded, the one line that stops it
    assert logged["event"] == "worker_failed"
    assert f"port {listening} (worker metrics)" in logged["error"]


def test_the_metrics_endpoint_listens_on_this_machine_only_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Worker metrics are not published to the network by default; --metrics-host widens it on purpose."""
    monkeypatch.delenv("ONEWINDOW_METRICS_HOST", raising=False)
    assert worker.parse_settings([]).metrics_host == "127.0.0.1"
    assert worker.parse_settings(["--metrics-host", "0.0.0.0"]).metrics_host == "0.0.0.0"  # noqa: S104


def test_the_worker_keeps_300_cases_in_memory_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads come from the memo, so the cache serves moving cases only; an operator may size it."""
    monkeypatch.delenv("ONEWINDOW_MAX_CACHED_WORKFLOWS", raising=False)
    assert worker.parse_settings([]).max_cached_workflows == CACHED_CASES == 300
    monkeypatch.setenv("ONEWINDOW_MAX_CACHED_WORKFLOWS", "1000")
    assert worker.parse_settings([]).max_cached_workflows == 1000
    assert worker.parse_settings(["--max-cached-workflows", "50"]).max_cached_workflows == 50


def test_what_the_worker_loaded_at_start_is_left_out_of_later_collections() -> None:
    """Frozen: a full collection no longer walks the start-up heap (the objects stay alive, only unwalked)."""
    try:
        freeze_start_up_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # this process's modules, at the least
        assert len(gc.get_objects()) < frozen
    finally:
        gc.unfreeze()
