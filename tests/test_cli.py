"""The ``onewindow`` CLI against the real dev server: what a window officer and an operator type.

Most tests await ``starter.run`` with ``Cases`` on the dev server and a fresh worker's task queue (pytest's
event loop is already running, so ``main``'s ``asyncio.run`` cannot); one runs ``main`` in a thread with
``--address``/``--task-queue`` to cover the real connection. Each command's translation into a domain
command is checked without a server, one row per subcommand.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from starter import build_parser, list_query, main, run
from tests.builders import all_materials
from tests.conftest import RunWorker
from workflows.client import Cases
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ApplicationCommand,
    ChangeGreenChannel,
    ExtendDeadline,
    RecordApproval,
    ReferElsewhere,
    RejectApplication,
    RequestCorrection,
    ResumeClock,
    SupplementMaterials,
    SuspendClock,
    WithdrawApplication,
)
from workflows.domain.events import Actor, Role
from workflows.messages import ApplicationView

MATTER = "PUBLIC-PLACE-HYGIENE"
MATERIALS = all_materials("PUBLIC-PLACE-HYGIENE")
OFFICER = "window-7:window_officer"
APPROVER = "zhang:approver:health"


@dataclass(frozen=True)
class Ran:
    """One invocation: exit code and what it printed."""

    code: int
    out: str
    err: str


Cli = Callable[..., Awaitable[Ran]]


@pytest.fixture
async def cases(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[Cases]:
    """Cases on the dev server, served by a worker on a fresh task queue."""
    async with run_worker(dev_server.client) as task_queue:
        yield Cases(dev_server.client, task_queue)


@pytest.fixture
def cli(cases: Cases, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``await cli("status", "APP-1")``: run the CLI on those cases and capture its output."""

    async def invoke(*argv: str) -> Ran:
        capsys.readouterr()
        code = await run(list(argv), cases=cases)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


def _number() -> str:
    return f"APP-{uuid.uuid4().hex[:8]}"


def _submit_flags(number: str, received_at: datetime | None = None) -> list[str]:
    flags = [
        "submit",
        "--id",
        number,
        "--matter",
        MATTER,
        "--applicant-id",
        "91210200MA0000009X",
        "--applicant-name",
        "大连示例餐饮有限公司",
        "--contact",
        "0411-0000000",
        "--channel",
        "window",
        "--as",
        OFFICER,
    ]
    for material in MATERIALS:
        flags += ["--material", material]
    if received_at:
        flags += ["--received-at", received_at.isoformat()]
    return flags


def _error_line(ran: Ran) -> str:
    """The one line a failure prints; nothing else is printed."""
    assert ran.out == ""
    (line,) = ran.err.splitlines()
    return line


async def _submitted(cli: Cli, received_at: datetime | None = None) -> str:
    number = _number()
    ran = await cli(*_submit_flags(number, received_at))
    assert ran.code == 0, ran.err
    return number


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll briefly: visibility and signals are eventually consistent."""
    for _ in range(50):
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail("not reached within 5 seconds")


# --- submitting ---------------------------------------------------------------------------------------------


async def test_submit_from_flags_opens_a_case_and_shows_it_received(cli: Cli) -> None:
    """Flags make the Intake; the CLI waits for registration and shows the view with the matter's name."""
    number = _number()
    ran = await cli(*_submit_flags(number))
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith(f"submitted {number} (run ")
    assert "公共场所卫生许可" in ran.out
    assert any(line.split() == ["status", "received"] for line in lines)
    assert any(line.startswith("acceptance by") for line in lines)


async def test_submit_from_a_json_file_takes_the_number_from_the_file(cli: Cli, tmp_path: Path) -> None:
    """The README's Intake JSON plus application_id; --json prints the Submitted model with the view."""
    number = _number()
    intake = {
        "application_id": number,
        "actor": {"id": "intake-portal", "role": "system"},
        "applicant": {"id_number": "91210200MA0000000X", "name": "大连示例食品有限公司", "contact": "0411"},
        "matter_code": MATTER,
        "materials": list(MATERIALS),
        "channel": "online",
        "received_at": "2026-11-26T09:00:00+08:00",
        "green_channel": True,
    }
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake, ensure_ascii=False), encoding="utf-8")
    ran = await cli("submit", "--file", str(path), "--json")
    assert ran.code == 0, ran.err
    submitted = json.loads(ran.out)
    assert submitted["application_id"] == number
    view = ApplicationView.model_validate(submitted["view"])
    assert (view.application_id, view.status.value, view.green_channel) == (number, "received", True)
    assert view.received_at == datetime(2026, 11, 26, 9, tzinfo=SHANGHAI)


async def test_a_second_submission_with_the_same_number_is_refused_in_one_line(cli: Cli) -> None:
    """AlreadySubmitted: exit 2, one line; the first case carries on."""
    number = await _submitted(cli)
    ran = await cli(*_submit_flags(number))
    assert ran.code == 2
    assert _error_line(ran).startswith(f"error: AlreadySubmitted: application {number} exists already")
    assert (await cli("status", number)).code == 0


async def test_a_submission_no_worker_registers_is_reported_but_stands(
    dev_server: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    """No worker on the queue: the case is started (exit 0) and a warning names the queue to check."""
    queue = f"no-worker-{uuid.uuid4().hex[:8]}"
    number = _number()
    code = await run([*_submit_flags(number), "--wait", "0.5"], cases=Cases(dev_server.client, queue))
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.splitlines()[0].startswith(f"submitted {number} (run ")
    (warning,) = captured.err.splitlines()
    assert warning.startswith(f"warning: {number} is submitted but not yet registered after 0.5s")
    assert queue in warning
    await dev_server.client.get_workflow_handle(number).terminate("test over")


async def test_an_unknown_matter_is_refused_at_submission_not_lost(cli: Cli) -> None:
    """The worker's catalogue lacks the code: UnknownMatter, exit 2, at once and from status later."""
    number = _number()
    ran = await cli(*[flag if flag != MATTER else "NO-SUCH-MATTER" for flag in _submit_flags(number)])
    assert ran.code == 2
    assert _error_line(ran) == "error: UnknownMatter: unknown matter code 'NO-SUCH-MATTER'"
    later = await cli("status", number)
    assert (later.code, _error_line(later)) == (
        2,
        "error: UnknownMatter: unknown matter code 'NO-SUCH-MATTER'",
    )


async def test_a_submission_without_an_applicant_is_refused_before_anything_starts(cli: Cli) -> None:
    """pydantic's complaints, on one line, exit 2: nothing reaches Temporal."""
    number = _number()
    ran = await cli("submit", "--id", number, "--matter", MATTER, "--channel", "window", "--as", OFFICER)
    assert ran.code == 2
    assert _error_line(ran) == "error: InvalidCommand: applicant: Field required"
    assert (await cli("status", number)).code == 3


# --- acting -------------------------------------------------------------------------------------------------


async def test_accept_then_approval_by_the_acceptor_is_refused_as_separation_of_duties(cli: Cli) -> None:
    """受审分离: the officer who accepted cannot approve, even as an approver of the department."""
    number = await _submitted(cli)
    accepted = await cli("accept", number, "--as", OFFICER, "--idempotency-key", f"{number}-accept")
    assert accepted.code == 0, accepted.err
    assert any(line.split() == ["status", "under_review"] for line in accepted.out.splitlines())
    ran = await cli("approve", number, "--step", "health", "--as", "window-7:approver:health")
    assert ran.code == 2
    line = _error_line(ran)
    assert line.startswith("error: SeparationOfDuties: ")
    retried = await cli("accept", number, "--as", OFFICER, "--idempotency-key", f"{number}-accept")
    assert retried.code == 0, retried.err  # the same update id: answered again, not refused as NotAllowed
    approved = await cli("approve", number, "--step", "health", "--as", APPROVER, "--json")
    assert approved.code == 0, approved.err
    assert ApplicationView.model_validate_json(approved.out).status.value in ("approved", "issued")


async def test_an_action_not_allowed_now_is_refused_with_the_engines_type(cli: Cli) -> None:
    """Resuming a clock that runs is NotAllowed: exit 2, the domain's message on one line."""
    number = await _submitted(cli)
    ran = await cli("resume", number, "--as", APPROVER)
    assert ran.code == 2
    assert _error_line(ran).startswith("error: NotAllowed: resume_clock is not allowed")


# --- reading ------------------------------------------------------------------------------------------------


async def test_status_prints_a_table_and_the_same_view_as_json(cli: Cli) -> None:
    """The table names the deadline in Shanghai time at 24:00; --json is the ApplicationView."""
    number = await _submitted(cli)
    await cli("accept", number, "--as", OFFICER)
    table = await cli("status", number)
    assert table.code == 0, table.err
    as_json = await cli("status", number, "--json")
    view = ApplicationView.model_validate_json(as_json.out)
    assert view.last_day is not None
    rows = {line.split("  ")[0]: line for line in table.out.splitlines()}
    assert f"{view.last_day.isoformat()} 24:00" in rows["due"]
    assert "record_approval: approver of health (steps: health)" in table.out


async def test_events_read_as_an_audit_trail_in_shanghai_time(cli: Cli) -> None:
    """Numbered rows: Shanghai time, actor with role, event kind, reason and the key fields."""
    received = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
    number = await _submitted(cli, received)
    await cli(
        "request-correction", number, "--missing", "site_plans", "--as", OFFICER, "--reason", "平面图缺页"
    )
    ran = await cli("events", number)
    assert ran.code == 0, ran.err
    header, *rows = ran.out.splitlines()
    assert header.split() == ["#", "at", "(Shanghai)", "actor", "event", "reason", "details"]
    first = rows[0]
    assert first.startswith("1 ")
    assert "window-7 (window_officer)" in first
    assert "application_submitted" in first
    assert f"received_at={received:%Y-%m-%d %H:%M:%S}" in first
    assert f"matter={MATTER}" in first
    (correction,) = [row for row in rows if "correction_requested" in row]
    assert "平面图缺页" in correction
    assert "missing=site_plans" in correction
    events = json.loads((await cli("events", number, "--json")).out)
    assert [event["kind"] for event in events][:1] == ["application_submitted"]


async def test_list_finds_an_overdue_case_and_filters_by_matter(cli: Cli) -> None:
    """Received 30 days ago (deemed accepted, overdue at once): in --overdue, --overdue --matter, --matter."""
    number = await _submitted(cli, datetime.now(UTC) - timedelta(days=30))

    async def listed(*filters: str) -> bool:
        ran = await cli("list", *filters, "--json")
        return number in [case["application_id"] for case in json.loads(ran.out)]

    await _until(lambda: listed("--overdue"))
    assert await listed("--overdue", "--matter", MATTER)
    assert await listed("--matter", MATTER)
    assert not await listed("--matter", "ENTERPRISE-ESTABLISH")
    table = await cli("list", "--overdue", "--department", "health")
    (row,) = [line for line in table.out.splitlines() if line.startswith(number)]
    assert row.split()[1:4] == ["under_review", MATTER, "health"]


async def test_an_unknown_application_number_exits_3(cli: Cli) -> None:
    """status, events and an action on a number no case has: UnknownApplication, exit 3."""
    for argv in (
        ("status", "APP-NO-SUCH"),
        ("events", "APP-NO-SUCH"),
        ("accept", "APP-NO-SUCH", "--as", OFFICER),
    ):
        ran = await cli(*argv)
        assert ran.code == 3
        assert _error_line(ran) == "error: UnknownApplication: no application APP-NO-SUCH"


# --- the calendar -------------------------------------------------------------------------------------------


async def test_calendar_load_publishes_the_notice_and_a_running_case_recomputes(
    cli: Cli, cases: Cases, calendar_dir: Path, tmp_path: Path
) -> None:
    """R-CAL-4: the notice lands as <year>.toml where the worker reads; the case records calendar_revised."""
    number = await _submitted(cli)
    notice = tmp_path / "notice-2030.toml"
    notice.write_text(
        'year = 2030\nrevision = "2030-notice-r1"\nstatus = "published"\nsource = "测试通知"\n'
        'holidays = ["2030-01-01"]\nmakeup_workdays = []\n',
        encoding="utf-8",
    )
    ran = await cli("calendar", "load", str(notice), "--calendar-dir", str(calendar_dir), "--json")
    assert ran.code == 0, ran.err
    loaded = json.loads(ran.out)
    assert (loaded["year"], loaded["revision"]) == (2030, "2030-notice-r1")
    assert (calendar_dir / "2030.toml").read_text(encoding="utf-8") == notice.read_text(encoding="utf-8")
    assert number in loaded["signalled"]

    async def revised() -> bool:
        return any(event.kind == "calendar_revised" for event in await cases.events(number))

    await _until(revised)
    events = await cases.events(number)
    (revision,) = [event for event in events if event.kind == "calendar_revised"]
    assert getattr(revision, "version", None) == loaded["calendar_version"]


async def test_calendar_load_refuses_a_malformed_notice_and_tells_no_one(
    cli: Cli, calendar_dir: Path, tmp_path: Path
) -> None:
    """A day that is not a date: CalendarDataInvalid, exit 2, nothing copied."""
    notice = tmp_path / "bad.toml"
    notice.write_text(
        'year = 2030\nrevision = "r"\nstatus = "published"\nsource = "s"\nholidays = ["2030-13-01"]\n',
        encoding="utf-8",
    )
    ran = await cli("calendar", "load", str(notice), "--calendar-dir", str(calendar_dir))
    assert ran.code == 2
    assert _error_line(ran).startswith("error: CalendarDataInvalid: ")
    assert list(calendar_dir.iterdir()) == []


# --- the real connection ------------------------------------------------------------------------------------


async def test_main_connects_by_address_and_task_queue(
    cli: Cli, cases: Cases, dev_server: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    """`onewindow status ID --address HOST:PORT --task-queue Q`, through main() as the script runs it."""
    number = await _submitted(cli)
    address = dev_server.client.service_client.config.target_host
    argv = ["status", number, "--json", "--address", address, "--task-queue", cases.task_queue]
    assert await asyncio.to_thread(main, argv) == 0
    assert ApplicationView.model_validate_json(capsys.readouterr().out).application_id == number


async def test_a_mistyped_namespace_is_not_taken_for_an_unknown_application(
    dev_server: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    """Temporal says NOT_FOUND for both; the CLI names the namespace (exit 2), not the case (exit 3)."""
    address = dev_server.client.service_client.config.target_host
    argv = ["status", "APP-1", "--address", address, "--namespace", "no-such-namespace"]
    assert await asyncio.to_thread(main, argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: UnknownNamespace: ")
    assert "no-such-namespace" in line


# --- each subcommand's command, without a server ------------------------------------------------------------

ZHANG = Actor(id="zhang", role=Role.APPROVER, department="health")
WINDOW_7 = Actor(id="window-7", role=Role.WINDOW_OFFICER)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["request-correction", "--missing", "a", "--missing", "b", "--as", OFFICER],
            RequestCorrection(actor=WINDOW_7, missing=("a", "b")),
        ),
        (["accept", "--as", OFFICER], AcceptApplication(actor=WINDOW_7)),
        (
            ["accept-deficient", "--missing", "b", "--within", "5", "--commitment", "C-1", "--as", OFFICER],
            AcceptWithDeficiencies(actor=WINDOW_7, missing=("b",), supplement_within=5, commitment="C-1"),
        ),
        (
            ["reject", "--reason", "不属于许可事项", "--as", OFFICER],
            RejectApplication(actor=WINDOW_7, reason="不属于许可事项"),
        ),
        (
            ["refer", "--to", "省卫健委", "--as", OFFICER],
            ReferElsewhere(actor=WINDOW_7, competent_organ="省卫健委"),
        ),
        (
            ["supplement", "--material", "a", "--as", "91210200MA0000009X:applicant"],
            SupplementMaterials(actor=Actor(id="91210200MA0000009X", role=Role.APPLICANT), materials=("a",)),
        ),
        (
            ["approve", "--step", "health", "--as", APPROVER],
            RecordApproval(actor=ZHANG, step="health", approved=True),
        ),
        (
            ["refuse", "--step", "health", "--reason", "不符合", "--as", APPROVER],
            RecordApproval(actor=ZHANG, step="health", approved=False, reason="不符合"),
        ),
        (
            ["suspend", "--pause", "expert_review", "--days", "5", "--as", APPROVER],
            SuspendClock(actor=ZHANG, pause="expert_review", expected_working_days=5),
        ),
        (["resume", "--as", APPROVER], ResumeClock(actor=ZHANG)),
        (
            ["extend", "--days", "10", "--reason", "情况复杂", "--as", "li:department_head:health"],
            ExtendDeadline(
                actor=Actor(id="li", role=Role.DEPARTMENT_HEAD, department="health"),
                working_days=10,
                reason="情况复杂",
            ),
        ),
        (
            ["withdraw", "--as", "steward-3:steward"],
            WithdrawApplication(actor=Actor(id="steward-3", role=Role.STEWARD)),
        ),
        (
            ["green-channel", "--as", "sup-1:supervisor", "--steward", "steward-3", "--reason", "市重点项目"],
            ChangeGreenChannel(
                actor=Actor(id="sup-1", role=Role.SUPERVISOR),
                green_channel=True,
                steward=Actor(id="steward-3", role=Role.STEWARD),
                reason="市重点项目",
            ),
        ),
        (
            ["green-channel", "--as", "sup-1:supervisor", "--off", "--reason", "项目已投产"],
            ChangeGreenChannel(
                actor=Actor(id="sup-1", role=Role.SUPERVISOR), green_channel=False, reason="项目已投产"
            ),
        ),
    ],
)
def test_each_action_subcommand_gives_its_domain_command(
    argv: list[str], expected: ApplicationCommand
) -> None:
    """One row per subcommand: the flags become exactly this command (update `act`'s payload)."""
    args = build_parser().parse_args([argv[0], "APP-1", *argv[1:]])
    assert args.build(args) == expected


def test_list_filters_combine_so_every_one_must_hold() -> None:
    """--overdue --department health --matter M: the three visibility conditions joined by AND."""
    now = datetime(2026, 11, 26, tzinfo=UTC)
    args = build_parser().parse_args(["list", "--overdue", "--department", "health", "--matter", MATTER])
    query = list_query(args, now)
    assert query.count(") AND (") == 2
    assert "OwDepartments = 'health'" in query
    assert f"OwMatter = '{MATTER}'" in query
    assert now.isoformat() in query
    assert list_query(build_parser().parse_args(["list"]), now) == "ExecutionStatus = 'Running'"
