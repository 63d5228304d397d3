"""The worker's own start-up: the ports it listens on, checked before anything starts."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

import worker


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
