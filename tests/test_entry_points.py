"""The command line and the worker's start-up, as a newcomer meets them."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.runtime import Runtime
from temporalio.testing import WorkflowEnvironment

import cli
import starter
import worker
from starter import main as onewindow
from workflows.logs import configure_logging
from workflows.testkit import kit_security

ROOT = Path(__file__).resolve().parent.parent


def test_due_prints_the_iso_date_alone_when_the_answer_is_final(capsys: pytest.CaptureFixture[str]) -> None:
    """`due 2026-09-30 5` prints 2026-10-13 (not 10-07): the National Day week and make-up 10/10 counted."""
    assert onewindow(["due", "2026-09-30", "5"]) == 0
    assert capsys.readouterr().out.splitlines() == ["2026-10-13"]


def test_due_says_provisional_on_the_second_line_for_a_year_without_a_notice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A period running into 2027 rests on provisional data, and says so."""
    assert onewindow(["due", "2026-12-25", "10"]) == 0
    assert capsys.readouterr().out.splitlines() == ["2027-01-11", "provisional"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("next-working-day-is-day-one", "2026-10-08"), ("received-on-next-working-day", "2026-10-09")],
)
def test_due_applies_the_chosen_rest_day_receipt_rule(
    capsys: pytest.CaptureFixture[str], policy: str, expected: str
) -> None:
    """R-CAL-3: received on holiday 2026-10-03, day 1 is 10/8; or receipt deemed on 10/8, so day 1 is 10/9."""
    assert onewindow(["due", "2026-10-03", "1", "--rest-day-receipt", policy]) == 0
    assert capsys.readouterr().out.splitlines() == [expected]


def test_due_for_a_year_nothing_is_known_about_fails_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """2028 has no notice and no provisional data: exit 2 and one explanatory line, never a date."""
    assert onewindow(["due", "2028-03-01", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: CalendarNotPublished: ")
    assert len(captured.err.splitlines()) == 1


def test_due_reads_a_newly_published_year_from_a_calendar_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A notice file for 2028 added as data makes 2028 answerable, with no code change."""
    (tmp_path / "2028.toml").write_text(
        'year = 2028\nrevision = "2028-test-r1"\nstatus = "published"\nsource = "test notice"\n'
        'holidays = ["2028-01-01/2028-01-03"]\nmakeup_workdays = []\n',
        encoding="utf-8",
    )
    assert onewindow(["due", "2027-12-31", "1", "--calendar-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == ["2028-01-04"]


def test_starter_is_the_entry_point_and_the_cli_package_holds_the_commands() -> None:
    """The design card's starter.py re-exports what callers use; the installed script is the same one."""
    assert (starter.script, starter.main, starter.run, starter.build_parser) == (
        cli.script,
        cli.main,
        cli.run,
        cli.build_parser,
    )


def test_the_script_runs_as_documented_in_the_readme() -> None:
    """`python starter.py due 2026-09-30 5` works from the project root as a plain script."""
    done = subprocess.run(
        [sys.executable, "starter.py", "due", "2026-09-30", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[0] == "2026-10-13"


@pytest.mark.parametrize(("argv", "code"), [(["due", "2026-09-30", "5"], 0), (["due", "2028-03-01", "5"], 2)])
def test_the_installed_command_prints_its_answer_and_exits_with_its_code(argv: list[str], code: int) -> None:
    """`onewindow` ends without the interpreter's teardown: its output is flushed first, its code kept."""
    command = [str(Path(sys.executable).parent / "onewindow"), *argv]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own command
    assert done.returncode == code
    if code == 0:
        assert done.stdout.splitlines()[0] == "2026-10-13"
    else:
        assert done.stderr.startswith("error: CalendarNotPublished")


def test_a_malformed_catalogue_stops_the_worker_naming_the_entry_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker refuses to start on a bad catalogue, before connecting to anything (exit 2)."""
    bad = tmp_path / "catalogue.toml"
    bad.write_text(
        'version = "bad-1"\n[[matters]]\ncode = "BROKEN-PERMIT"\nname = "坏事项"\nlegal_basis = "x"\n'
        'departments = ["health"]\npromised_limit = -1\n'
        '[[matters.materials]]\ncode = "form"\nname = "表"\nimportance = "core"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ONEWINDOW_CATALOGUE", str(bad))
    assert worker.main([]) == 2
    logged = capsys.readouterr().err
    assert "BROKEN-PERMIT" in logged
    assert "promised_limit" in logged


def test_worker_options_default_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Task queue, concurrency and metrics port come from ONEWINDOW_* variables unless given as options."""
    monkeypatch.setenv("ONEWINDOW_TASK_QUEUE", "onewindow-dalian")
    monkeypatch.setenv("ONEWINDOW_MAX_ACTIVITIES", "7")
    settings = worker.parse_settings(["--metrics-port", "0", "--max-concurrent-workflow-tasks", "3"])
    assert (settings.task_queue, settings.max_concurrent_activities) == ("onewindow-dalian", 7)
    assert (settings.max_concurrent_workflow_tasks, settings.metrics_port) == (3, 0)


async def test_with_temporal_address_set_the_worker_connects_there_and_starts_no_server(
    dev_server: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TEMPORAL_ADDRESS (temporalio's own variable) points the worker at an existing cluster."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_server.client.service_client.config.target_host)
    settings = worker.parse_settings(["--metrics-port", "0"])
    async with worker.temporal_client(settings, Runtime.default(), kit_security()) as client:
        assert await client.service_client.check_health()
        assert client.service_client.config.target_host == dev_server.client.service_client.config.target_host


def test_the_cli_explains_its_exit_codes_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`onewindow --help` ends with the exit codes a script can branch on, and exits 0."""
    assert onewindow(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert (
        "exit codes: 0 done; 1 anything else failed; 2 refused by the engine or bad input; 3 no" in help_text
    )
    assert "4 Temporal cannot be reached" in help_text


def test_a_usage_mistake_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --as is argparse's complaint, on one line, without argparse's usage block."""
    assert onewindow(["accept", "APP-1", "--as", "window-7"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("error: Usage: argument --as: 'window-7' is not ID:ROLE[:DEPARTMENT]")


def test_an_approver_without_a_department_is_a_usage_mistake(capsys: pytest.CaptureFixture[str]) -> None:
    """`--as zhang:approver` names no department; the actor model refuses it before anything connects."""
    assert onewindow(["approve", "APP-1", "--step", "health", "--as", "zhang:approver"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "must name their department" in line


def test_the_cli_says_when_temporal_cannot_be_reached_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listens on the address: CannotConnect on one line naming it, exit 4."""
    assert onewindow(["status", "APP-1", "--as", "sup-1:supervisor", "--address", "127.0.0.1:1"]) == 4
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: CannotConnect: cannot reach Temporal at 127.0.0.1:1: ")


def test_calendar_load_needs_to_know_where_the_worker_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --calendar-dir and no ONEWINDOW_CALENDAR_DIRS: InvalidInput, exit 2, before connecting."""
    monkeypatch.delenv("ONEWINDOW_CALENDAR_DIRS", raising=False)
    notice = tmp_path / "2030.toml"
    notice.write_text('year = 2030\nrevision = "r1"\nstatus = "published"\nsource = "s"\n', encoding="utf-8")
    assert onewindow(["calendar", "load", str(notice), "--address", "127.0.0.1:1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: InvalidInput: no calendar directory: pass --calendar-dir or set ")


def test_submit_without_an_application_number_is_refused_before_connecting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The number is the workflow id: without --id or application_id there is nothing to submit."""
    assert onewindow(["submit", "--matter", "FOOD-BUSINESS", "--address", "127.0.0.1:1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        line == "error: InvalidInput: no application number: give --id or an application_id key in the file"
    )


def test_log_lines_follow_stderr_when_the_process_replaces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSON line per record, with the application id as a key, on the stderr of the moment."""
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging()
    logging.getLogger("onewindow.test").info("event_recorded", extra={"application_id": "APP-1"})
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("onewindow.test").info("event_recorded", extra={"application_id": "APP-2"})
    (line,) = second.getvalue().splitlines()
    assert json.loads(line) | {"timestamp": None} == {
        "event": "event_recorded",
        "level": "info",
        "application_id": "APP-2",
        "timestamp": None,
    }
