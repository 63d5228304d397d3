"""The ``onewindow`` CLI as a window officer, an approver, an applicant and an operator type it.

Against the real dev server, most tests await ``cli.run`` with ``Cases`` on the dev server and a fresh
worker's task queue (pytest's event loop is already running, so ``main``'s ``asyncio.run`` cannot); one runs
``main`` in a thread with ``--address``/``--task-queue`` to cover the real connection. Without a server: each
action subcommand's domain command (one row per subcommand), complaints named by flag, the ``may now`` verbs
per role, and the catalogue.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from cli import build_parser, main, run
from cli.actions import command_of, may_now
from cli.reading import list_query
from tests.builders import (
    all_materials,
    applicant_actor,
    approver,
    department_head,
    drive_to,
    shipped_matter,
    supervisor,
    then,
    window_officer,
)
from tests.conftest import Cli, Ran
from workflows import search_attributes
from workflows.client import Cases
from workflows.domain.application import Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.catalogue import Catalogue, Matter
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
from workflows.reference_data import SHIPPED_CATALOGUE
from workflows.testkit import kit_cases

MATTER = "PUBLIC-PLACE-HYGIENE"
MATERIALS = all_materials("PUBLIC-PLACE-HYGIENE")
OFFICER = "window-7:window_officer"
APPROVER = "zhang:approver:health"
SUPERVISOR = "sup-1:supervisor"
APPLICANT_ID = "91210200MA0000009X"
APPLICANT = f"{APPLICANT_ID}:applicant"
NOWHERE = ("--address", "127.0.0.1:1")  # a command that got as far as connecting would exit 4


def _number() -> str:
    return f"APP-{uuid.uuid4().hex[:8]}"


def _submit_flags(
    number: str, received_at: datetime | None = None, applicant_id: str = APPLICANT_ID
) -> list[str]:
    flags = [
        "submit",
        "--id",
        number,
        "--matter",
        MATTER,
        "--applicant-id",
        applicant_id,
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


def _replaced(flags: list[str], flag: str, value: str) -> list[str]:
    """``flags`` with the value after ``flag`` replaced."""
    at = flags.index(flag) + 1
    return [*flags[:at], value, *flags[at + 1 :]]


def _error_line(ran: Ran) -> str:
    """The one line a failure prints; nothing else is printed."""
    assert ran.out == ""
    (line,) = ran.err.splitlines()
    return line


def _offline(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Ran:
    """``main`` without a server (sync tests only: ``main`` runs its own event loop)."""
    code = main(argv)
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def _may_now_rows(out: str) -> list[str]:
    return [line.removeprefix("may now").strip() for line in out.splitlines() if line.startswith("may now")]


async def _submitted(cli: Cli, received_at: datetime | None = None, applicant_id: str = APPLICANT_ID) -> str:
    number = _number()
    ran = await cli(*_submit_flags(number, received_at, applicant_id))
    assert ran.code == 0, ran.err
    return number


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll briefly: visibility and signals are eventually consistent."""
    for _ in range(50):
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail("not reached within 5 seconds")


async def _not_started(cases: Cases, number: str) -> bool:
    """No workflow (failed or otherwise) holds this number."""
    try:
        await cases.client.get_workflow_handle(number).describe()
    except RPCError as error:
        return error.status is RPCStatusCode.NOT_FOUND
    return False


# --- submitting ---------------------------------------------------------------------------------------------


@pytest.mark.devserver
async def test_submit_from_flags_opens_a_case_and_shows_it_received(cli: Cli) -> None:
    """Flags make the Intake; the CLI waits for registration and shows the view with the officer's verbs."""
    number = _number()
    ran = await cli(*_submit_flags(number))
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith(f"submitted {number} (run ")
    assert "公共场所卫生许可" in ran.out
    assert any(line.split() == ["status", "received"] for line in lines)
    assert any(line.startswith("acceptance by") for line in lines)
    assert "accept" in _may_now_rows(ran.out)


@pytest.mark.devserver
async def test_submit_from_a_json_file_takes_the_number_from_the_file(cli: Cli, tmp_path: Path) -> None:
    """The README's Intake JSON plus application_id; --json prints the Submitted model, offsets +08:00."""
    number = _number()
    intake = {
        "application_id": number,
        "actor": {"id": "intake-portal", "role": "system"},
        "applicant": {"id_number": "91210200MA0000000X", "name": "大连示例食品有限公司", "contact": "0411"},
        "matter_code": MATTER,
        "materials": list(MATERIALS),
        "channel": "online",
        "received_at": "2026-11-26T01:00:00Z",
        "green_channel": True,
    }
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake, ensure_ascii=False), encoding="utf-8")
    ran = await cli("submit", "--file", str(path), "--json")
    assert ran.code == 0, ran.err
    submitted = json.loads(ran.out)
    assert submitted["application_id"] == number
    assert submitted["view"]["received_at"] == "2026-11-26T09:00:00+08:00"
    view = ApplicationView.model_validate(submitted["view"])
    assert (view.application_id, view.status.value, view.green_channel) == (number, "received", True)


@pytest.mark.devserver
async def test_a_second_submission_with_the_same_number_is_refused_in_one_line(cli: Cli) -> None:
    """AlreadySubmitted: exit 2, one line; the first case carries on."""
    number = await _submitted(cli)
    ran = await cli(*_submit_flags(number))
    assert ran.code == 2
    assert _error_line(ran).startswith(f"error: AlreadySubmitted: application {number} exists already")
    assert (await cli("status", number, "--as", OFFICER)).code == 0


@pytest.mark.devserver
async def test_a_submission_no_worker_registers_is_reported_but_stands(
    dev_server: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    """No worker on the queue: the case is started (exit 0) and a warning names the queue to check."""
    queue = f"no-worker-{uuid.uuid4().hex[:8]}"
    number = _number()
    code = await run(
        [*_submit_flags(number), "--wait", "0.5"],
        cases=kit_cases(dev_server.client, queue),
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.splitlines()[0].startswith(f"submitted {number} (run ")
    (warning,) = captured.err.splitlines()
    assert warning.startswith(f"warning: {number} is submitted but not yet registered after 0.5s")
    assert queue in warning
    await dev_server.client.get_workflow_handle(number).terminate("test over")


@pytest.mark.devserver
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            lambda number: _replaced(_submit_flags(number), "--matter", "PUBLIC-PLACE-HYGENE"),
            "error: UnknownMatter: unknown matter code 'PUBLIC-PLACE-HYGENE'; "
            "did you mean PUBLIC-PLACE-HYGIENE?",
        ),
        (
            lambda number: [*_submit_flags(number), "--material", "site_plan"],
            "error: InvalidCommand: --material: matter PUBLIC-PLACE-HYGIENE asks for no material site_plan "
            "(did you mean site_plans?)",
        ),
    ],
)
async def test_an_unknown_matter_or_material_is_refused_with_the_nearest_codes_before_anything_starts(
    cli: Cli, cases: Cases, typed: Callable[[str], list[str]], expected: str
) -> None:
    """The local catalogue answers a typo with the nearest codes, exit 2; no workflow is left behind."""
    number = _number()
    ran = await cli(*typed(number))
    assert (ran.code, _error_line(ran)) == (2, expected)
    assert await _not_started(cases, number)


@pytest.mark.devserver
async def test_a_matter_the_workers_catalogue_lacks_is_still_refused_at_submission(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's catalogue knows a code the worker's lacks: the worker refuses it, reported now and later."""
    local = tmp_path / "catalogue.toml"
    extra = SHIPPED_CATALOGUE.read_text(encoding="utf-8").replace(
        f'code = "{MATTER}"', 'code = "LOCAL-ONLY"', 1
    )
    local.write_text(extra, encoding="utf-8")
    monkeypatch.setenv("ONEWINDOW_CATALOGUE", str(local))
    number = _number()
    ran = await cli(*_replaced(_submit_flags(number), "--matter", "LOCAL-ONLY"))
    assert ran.code == 2
    assert _error_line(ran).startswith("error: UnknownMatter: unknown matter code 'LOCAL-ONLY'")
    later = await cli("status", number, "--as", OFFICER)
    assert (later.code, _error_line(later)) == (2, _error_line(ran))


@pytest.mark.devserver
async def test_a_submission_without_an_applicant_is_refused_before_anything_starts(cli: Cli) -> None:
    """pydantic's complaint names the applicant's flags, on one line, exit 2: nothing reaches Temporal."""
    number = _number()
    ran = await cli("submit", "--id", number, "--matter", MATTER, "--channel", "window", "--as", OFFICER)
    assert ran.code == 2
    assert _error_line(ran) == (
        "error: InvalidCommand: --applicant-id, --applicant-name, --contact: Field required"
    )
    assert (await cli("status", number, "--as", OFFICER)).code == 3


# --- acting -------------------------------------------------------------------------------------------------


@pytest.mark.devserver
async def test_accept_then_approval_by_the_acceptor_is_refused_as_separation_of_duties(cli: Cli) -> None:
    """受审分离: the officer who accepted cannot approve, even as an approver of the department."""
    number = await _submitted(cli)
    accepted = await cli("accept", number, "--as", OFFICER)
    assert accepted.code == 0, accepted.err
    assert any(line.split() == ["status", "under_review"] for line in accepted.out.splitlines())
    ran = await cli("approve", number, "--step", "health", "--as", "window-7:approver:health")
    assert ran.code == 2
    assert _error_line(ran).startswith("error: SeparationOfDuties: ")
    approved = await cli("approve", number, "--step", "health", "--as", APPROVER, "--json")
    assert approved.code == 0, approved.err
    assert ApplicationView.model_validate_json(approved.out).status.value in ("approved", "issued")


@pytest.mark.devserver
async def test_an_action_not_allowed_now_is_refused_with_the_engines_type(cli: Cli) -> None:
    """Resuming a clock that runs is NotAllowed: exit 2, the domain's message on one line."""
    number = await _submitted(cli)
    ran = await cli("resume", number, "--as", APPROVER)
    assert ran.code == 2
    assert _error_line(ran).startswith("error: NotAllowed: resume_clock is not allowed")


@pytest.mark.devserver
async def test_a_command_on_a_closed_case_is_not_allowed_rather_than_unknown(cli: Cli, cases: Cases) -> None:
    """Withdrawn and its workflow completed: an approval is NotAllowed, exit 2, naming the status."""
    number = await _submitted(cli)
    withdrawn = await cli("withdraw", number, "--as", APPLICANT, "--reason", "不再经营")
    assert withdrawn.code == 0, withdrawn.err

    async def completed() -> bool:
        described = await cases.client.get_workflow_handle(number).describe()
        return described.status is WorkflowExecutionStatus.COMPLETED

    await _until(completed)
    ran = await cli("approve", number, "--step", "health", "--as", APPROVER)
    assert (ran.code, _error_line(ran)) == (
        2,
        "error: NotAllowed: record_approval is not allowed while the application is withdrawn",
    )


@pytest.mark.devserver
async def test_a_retry_with_the_same_idempotency_key_takes_effect_once_and_another_command_is_refused(
    cli: Cli, cases: Cases
) -> None:
    """The same key and command twice: one acceptance; the same key with another command: exit 2."""
    number = await _submitted(cli)
    key = ("--idempotency-key", f"{number}-accept")
    first = await cli("accept", number, "--as", OFFICER, *key, "--json")
    retried = await cli("accept", number, "--as", OFFICER, *key, "--json")
    assert (first.code, retried.code) == (0, 0), retried.err
    assert ApplicationView.model_validate_json(retried.out).status is Status.UNDER_REVIEW
    reused = await cli("reject", number, "--as", OFFICER, "--reason", "材料不符", *key)
    assert reused.code == 2
    assert _error_line(reused).startswith("error: IdempotencyKeyReused: ")
    kinds = [event.kind for event in await cases.events(number, reader=None)]
    assert kinds.count("application_accepted") == 1
    assert "application_not_accepted" not in kinds
    for unusable in ("k" * 5000, "a key with spaces", "键"):
        refused = await cli(
            "reject", number, "--as", OFFICER, "--reason", "材料不符", "--idempotency-key", unusable
        )
        assert refused.code == 2
        assert _error_line(refused).startswith("error: InvalidCommand: an idempotency key is 1 to 200 ")


# --- reading ------------------------------------------------------------------------------------------------


@pytest.mark.devserver
async def test_status_prints_a_table_with_the_readers_verbs_and_the_same_view_as_json(cli: Cli) -> None:
    """The table names the deadline in Shanghai time at 24:00 and the approver's verbs; --json is the view."""
    number = await _submitted(cli)
    await cli("accept", number, "--as", OFFICER)
    table = await cli("status", number, "--as", APPROVER)
    assert table.code == 0, table.err
    as_json = await cli("status", number, "--as", APPROVER, "--json")
    view = ApplicationView.model_validate_json(as_json.out)
    assert view.last_day is not None
    assert json.loads(as_json.out)["received_at"].endswith("+08:00")
    rows = {line.split("  ")[0]: line for line in table.out.splitlines()}
    assert f"{view.last_day.isoformat()} 24:00" in rows["due"]
    assert _may_now_rows(table.out) == [
        "add-signer --department DEPT --reason WHY",
        "or-sign --step health --decider ID:approver:DEPT ...",
        "approve --step health",
        "refuse --step health --reason WHY",
        "return --material CODE ... --within DAYS --reason WHY",
        "suspend --pause PAUSE --days DAYS",
        "transfer --step health --to ID:approver:DEPT",
    ]
    assert [action.command for action in view.pending_actions] == [
        "add_signer",
        "change_green_channel",
        "extend_deadline",
        "or_sign_step",
        "record_approval",
        "return_to_window",
        "suspend_clock",
        "transfer_step",
        "urge_step",
        "withdraw_application",
    ]


@pytest.mark.devserver
async def test_events_read_as_an_audit_trail_in_shanghai_time(cli: Cli) -> None:
    """Numbered rows: Shanghai time, actor with role, event kind, reason and the key fields."""
    # An hour ago, not a fixed date: a fixed one falls past its acceptance deadline a week later, when
    # the case is deemed accepted on registering and a correction can no longer be asked for.
    received = (datetime.now(SHANGHAI) - timedelta(hours=1)).replace(microsecond=0)
    number = await _submitted(cli, received)
    await cli(
        "request-correction", number, "--missing", "site_plans", "--as", OFFICER, "--reason", "平面图缺页"
    )
    ran = await cli("events", number, "--as", OFFICER)
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
    events = json.loads((await cli("events", number, "--as", OFFICER, "--json")).out)
    assert [event["kind"] for event in events][:1] == ["application_submitted"]
    assert events[0]["at"].endswith("+08:00")


@pytest.mark.devserver
async def test_another_persons_case_reads_exactly_as_a_missing_one(cli: Cli) -> None:
    """An applicant reading someone else's case: UnknownApplication, exit 3, the line a missing case gets."""
    number = await _submitted(cli)
    other = "91210200MA00000Z1X:applicant"
    assert (await cli("status", number, "--as", APPLICANT)).code == 0
    for read in ("status", "events"):
        ran = await cli(read, number, "--as", other)
        missing = await cli(read, "APP-NO-SUCH", "--as", other)
        assert (ran.code, missing.code) == (3, 3)
        assert _error_line(ran) == f"error: UnknownApplication: no application {number}"
        assert _error_line(missing) == "error: UnknownApplication: no application APP-NO-SUCH"


@pytest.mark.devserver
async def test_list_finds_an_overdue_case_and_filters_by_matter(cli: Cli) -> None:
    """Received 30 days ago (deemed accepted, overdue at once): in --overdue, --overdue --matter, --matter."""
    number = await _submitted(cli, datetime.now(UTC) - timedelta(days=30))

    async def listed(*filters: str) -> bool:
        ran = await cli("list", *filters, "--as", SUPERVISOR, "--json")
        return number in [case["application_id"] for case in json.loads(ran.out)]

    await _until(lambda: listed("--overdue"))
    assert await listed("--overdue", "--matter", MATTER)
    assert await listed("--matter", MATTER)
    assert not await listed("--matter", "ENTERPRISE-ESTABLISH")
    table = await cli("list", "--overdue", "--department", "health", "--as", SUPERVISOR)
    (row,) = [line for line in table.out.splitlines() if line.startswith(number)]
    assert row.split()[1:4] == ["under_review", MATTER, "health"]


@pytest.mark.devserver
async def test_a_list_holds_only_the_cases_the_readers_role_covers(cli: Cli) -> None:
    """Two applicants' cases: a supervisor lists both, each applicant only their own."""
    mine = await _submitted(cli)
    theirs = await _submitted(cli, applicant_id="91210200MA00000Z1X")

    async def listed(reader: str) -> set[str]:
        ran = await cli("list", "--matter", MATTER, "--limit", "1000", "--as", reader, "--json")
        assert ran.code == 0, ran.err
        return {case["application_id"] for case in json.loads(ran.out)} & {mine, theirs}

    async def both_indexed() -> bool:
        return await listed(SUPERVISOR) == {mine, theirs}

    await _until(both_indexed)
    assert await listed(APPLICANT) == {mine}
    assert await listed("91210200MA00000Z1X:applicant") == {theirs}
    assert await listed("li:approver:fire") == set()


@pytest.mark.devserver
async def test_an_unknown_application_number_exits_3(cli: Cli) -> None:
    """status, events and an action on a number no case has: UnknownApplication, exit 3."""
    for argv in (
        ("status", "APP-NO-SUCH", "--as", OFFICER),
        ("events", "APP-NO-SUCH", "--as", OFFICER),
        ("accept", "APP-NO-SUCH", "--as", OFFICER),
    ):
        ran = await cli(*argv)
        assert ran.code == 3
        assert _error_line(ran) == "error: UnknownApplication: no application APP-NO-SUCH"


# --- the calendar -------------------------------------------------------------------------------------------


@pytest.mark.devserver
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
        return any(event.kind == "calendar_revised" for event in await cases.events(number, reader=None))

    await _until(revised)
    events = await cases.events(number, reader=None)
    (revision,) = [event for event in events if event.kind == "calendar_revised"]
    assert getattr(revision, "version", None) == loaded["calendar_version"]

    async def on_the_new_version() -> bool:
        query = f"{search_attributes.CALENDAR.name} = '{loaded['calendar_version']}'"
        return number in [case.application_id for case in await cases.find(query, reader=None)]

    await _until(on_the_new_version)
    again = await cli("calendar", "load", str(notice), "--calendar-dir", str(calendar_dir), "--json")
    assert again.code == 0, again.err
    assert number not in json.loads(again.out)["signalled"]  # it counts with that version already


@pytest.mark.devserver
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


@pytest.mark.devserver
async def test_main_connects_by_address_and_task_queue(
    cli: Cli, cases: Cases, dev_server: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    """`onewindow status ID --as R --address HOST:PORT --task-queue Q`, through main() as the script runs."""
    number = await _submitted(cli)
    address = dev_server.client.service_client.config.target_host
    argv = [
        "status",
        number,
        "--as",
        OFFICER,
        "--json",
        "--address",
        address,
        "--task-queue",
        cases.task_queue,
    ]
    assert await asyncio.to_thread(main, argv) == 0
    assert ApplicationView.model_validate_json(capsys.readouterr().out).application_id == number


@pytest.mark.devserver
async def test_a_mistyped_namespace_is_not_taken_for_an_unknown_application(
    dev_server: WorkflowEnvironment, capsys: pytest.CaptureFixture[str]
) -> None:
    """Temporal says NOT_FOUND for both; the CLI names the namespace (exit 2), not the case (exit 3)."""
    address = dev_server.client.service_client.config.target_host
    argv = ["status", "APP-1", "--as", OFFICER, "--address", address, "--namespace", "no-such-namespace"]
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
            ["supplement", "--material", "a", "--as", APPLICANT],
            SupplementMaterials(actor=Actor(id=APPLICANT_ID, role=Role.APPLICANT), materials=("a",)),
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
            ["green-channel", "--as", SUPERVISOR, "--steward", "steward-3", "--reason", "市重点项目"],
            ChangeGreenChannel(
                actor=Actor(id="sup-1", role=Role.SUPERVISOR),
                green_channel=True,
                steward=Actor(id="steward-3", role=Role.STEWARD),
                reason="市重点项目",
            ),
        ),
        (
            ["green-channel", "--as", SUPERVISOR, "--off", "--reason", "项目已投产"],
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
    assert command_of(args) == expected


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["supplement", "APP-1", "--material", "site plans", "--as", APPLICANT],
            "error: InvalidCommand: --material: String should match pattern",
        ),
        (
            ["accept-deficient", "APP-1", "--missing", "b", "--within", "20000", "--commitment", "C"],
            "error: InvalidCommand: --within: Input should be less than or equal to 10000",
        ),
        (
            ["refer", "APP-1", "--to", "", "--as", OFFICER],
            "error: InvalidCommand: --to: String should have at least 1 character",
        ),
        (
            ["suspend", "APP-1", "--pause", "expert_review", "--days", "20000", "--as", APPROVER],
            "error: InvalidCommand: --days: Input should be less than or equal to 10000",
        ),
        (
            ["extend", "APP-1", "--days", "20000", "--reason", "x", "--as", "li:department_head:health"],
            "error: InvalidCommand: --days: Input should be less than or equal to 10000",
        ),
        (
            ["reject", "APP-1", "--reason", "x" * 2001, "--as", OFFICER],
            "error: InvalidCommand: --reason: String should have at most 2000 characters",
        ),
        (
            ["list", "--department", 'health"', "--as", SUPERVISOR],
            "error: Usage: argument --department: 'health\"' is not a catalogue code",
        ),
        (
            _replaced(_submit_flags("APP-1"), "--applicant-id", "9121 0200"),
            "error: InvalidCommand: --applicant-id: Value error, an identifier holds only",
        ),
        (
            _replaced(_submit_flags("APP-1"), "--id", "APP/1"),
            "error: InvalidCommand: --id: Value error, an application number holds only",
        ),
        (
            _replaced(_submit_flags("APP-1"), "--material", "site plans"),
            "error: InvalidCommand: --material: String should match pattern",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_flag_before_connecting(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each complaint names the flag typed, not the JSON path; exit 2 before any server is asked."""
    if "--as" not in argv:
        argv = [*argv, "--as", OFFICER]
    ran = _offline([*argv, *NOWHERE], capsys)
    assert ran.code == 2
    assert _error_line(ran).startswith(expected)


def test_a_field_from_the_intake_file_keeps_its_json_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`submit --file`: the user wrote JSON, so its path names a bad field; a flag given over it, the flag."""
    intake = {
        "actor": {"id": "intake-portal", "role": "system"},
        "applicant": {"id_number": "9121 0200", "name": "大连示例食品有限公司", "contact": "0411"},
        "matter_code": MATTER,
        "channel": "online",
    }
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(intake, ensure_ascii=False), encoding="utf-8")
    from_file = _offline(["submit", "--file", str(path), "--id", "APP-1", *NOWHERE], capsys)
    assert _error_line(from_file).startswith(
        "error: InvalidCommand: applicant.id_number: Value error, an identifier holds only"
    )
    over_it = _offline(
        ["submit", "--file", str(path), "--id", "APP-1", "--applicant-id", "a b", *NOWHERE], capsys
    )
    assert _error_line(over_it).startswith("error: InvalidCommand: --applicant-id: Value error")


def _intake_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "intake.json"
    path.write_bytes(content)
    return path


def test_an_intake_file_is_read_as_strictly_as_the_engine_decodes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a file the user wrote JSON: a number is no instant and "yes" no boolean, named by their path."""
    intake = {
        "actor": {"id": "intake-portal", "role": "system"},
        "applicant": {"id_number": APPLICANT_ID, "name": "大连示例食品有限公司", "contact": "0411"},
        "matter_code": MATTER,
        "materials": list(MATERIALS),
        "channel": "online",
    }
    refusals = (("received_at", 1764550800), ("received_at", "1764550800"), ("green_channel", "yes"))
    for field, value in refusals:
        path = _intake_file(tmp_path, json.dumps(intake | {field: value}).encode())
        ran = _offline(["submit", "--file", str(path), "--id", "APP-1", *NOWHERE], capsys)
        assert ran.code == 2
        assert _error_line(ran).startswith(f"error: InvalidCommand: {field}: "), field


@pytest.mark.parametrize(
    ("content", "says"),
    [(b'{"application_id": "F-2\xff"}', "UTF-8"), (b"[" * 70_000, "larger than an intake")],
    ids=["not-utf8", "oversized"],
)
def test_an_intake_file_that_is_not_utf8_json_or_too_large_is_invalid_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
) -> None:
    """One line and exit 2, never a traceback, and a file is read no further than an intake may be."""
    path = _intake_file(tmp_path, content)
    ran = _offline(["submit", "--file", str(path), "--id", "APP-1", *NOWHERE], capsys)
    assert ran.code == 2
    line = _error_line(ran)
    assert line.startswith("error: InvalidInput: ")
    assert says in line


def test_list_filters_combine_so_every_one_must_hold() -> None:
    """--overdue --department health --matter M: the three visibility conditions joined by AND."""
    now = datetime(2026, 11, 26, tzinfo=UTC)
    argv = ["list", "--overdue", "--department", "health", "--matter", MATTER, "--as", SUPERVISOR]
    query = list_query(build_parser().parse_args(argv), now)
    assert query.count(") AND (") == 2
    assert "OwDepartments = 'health'" in query
    assert f"OwMatter = '{MATTER}'" in query
    assert now.isoformat() in query
    every = build_parser().parse_args(["list", "--as", SUPERVISOR])
    assert list_query(every, now) == "ExecutionStatus = 'Running'"


def test_reads_need_the_reader(capsys: pytest.CaptureFixture[str]) -> None:
    """status, events and list without --as: a usage mistake, exit 2, before connecting."""
    for argv in (["status", "APP-1"], ["events", "APP-1"], ["list"]):
        ran = _offline([*argv, *NOWHERE], capsys)
        assert ran.code == 2
        assert _error_line(ran).startswith("error: Usage: the following arguments are required: --as")


# --- what each person may do now, without a server ----------------------------------------------------------

HYGIENE = shipped_matter(MATTER)
FOOD = shipped_matter("FOOD-BUSINESS")
ESTABLISH = shipped_matter("ENTERPRISE-ESTABLISH")


def _second_round_of_establishment() -> ApplicationView:
    """企业开办 with its business licence approved: the post-registration round, four departments at once."""
    case = drive_to(Status.UNDER_REVIEW, ESTABLISH)
    (licence,) = case.state.pending_steps
    case = then(case, RecordApproval(actor=approver(licence.department), step=licence.code, approved=True))
    return ApplicationView.of(case.state, case.now)


def _view(status: Status, matter: Matter, *, deficient: bool = False) -> ApplicationView:
    case = drive_to(status, matter, deficient=deficient)
    return ApplicationView.of(case.state, case.now)


@pytest.mark.parametrize(
    ("view", "reader", "verbs"),
    [
        (
            _view(Status.RECEIVED, HYGIENE),
            window_officer(),
            ("accept", "refer --to ORGAN", "reject --reason WHY", "request-correction --missing CODE ..."),
        ),
        (_view(Status.RECEIVED, HYGIENE), applicant_actor(), ("withdraw",)),
        (
            _view(Status.RECEIVED, FOOD, deficient=True),
            window_officer(),
            (
                "accept-deficient --missing CODE ... --within DAYS --commitment REF",
                "refer --to ORGAN",
                "reject --reason WHY",
                "request-correction --missing CODE ...",
                "supplement --material CODE ...",
            ),
        ),
        (
            _view(Status.RECEIVED, FOOD, deficient=True),
            applicant_actor(),
            ("supplement --material CODE ...", "withdraw"),
        ),
        (
            _view(Status.UNDER_REVIEW, HYGIENE),
            approver("health"),
            (
                "add-signer --department DEPT --reason WHY",
                "or-sign --step health --decider ID:approver:DEPT ...",
                "approve --step health",
                "refuse --step health --reason WHY",
                "return --material CODE ... --within DAYS --reason WHY",
                "suspend --pause PAUSE --days DAYS",
                "transfer --step health --to ID:approver:DEPT",
            ),
        ),
        (_view(Status.UNDER_REVIEW, HYGIENE), approver("fire"), ()),
        (
            _view(Status.UNDER_REVIEW, HYGIENE),
            department_head("health"),
            ("extend --days DAYS --reason WHY",),
        ),
        (_view(Status.UNDER_REVIEW, HYGIENE), department_head("fire"), ()),
        (
            _view(Status.UNDER_REVIEW, HYGIENE),
            supervisor(),
            ("green-channel --reason WHY", "urge --step health"),
        ),
        (_view(Status.UNDER_REVIEW, HYGIENE), Actor(id="hotline-1", role=Role.HOTLINE_OPERATOR), ()),
        (
            _view(Status.SUSPENDED, HYGIENE),
            approver("health"),
            (
                "or-sign --step health --decider ID:approver:DEPT ...",
                "resume",
                "transfer --step health --to ID:approver:DEPT",
            ),
        ),
        (
            _second_round_of_establishment(),
            approver("tax"),
            (
                "or-sign --step tax_invoice --decider ID:approver:DEPT ...",
                "approve --step tax_invoice",
                "refuse --step tax_invoice --reason WHY",
                "return --material CODE ... --within DAYS --reason WHY",
                "suspend --pause PAUSE --days DAYS",
                "transfer --step tax_invoice --to ID:approver:DEPT",
            ),
        ),
        (_view(Status.WITHDRAWN, HYGIENE), applicant_actor(), ()),
    ],
)
def test_may_now_shows_the_cli_verbs_the_readers_role_allows(
    view: ApplicationView, reader: Actor, verbs: tuple[str, ...]
) -> None:
    """Only the reader's verbs, as typed: an approver only their department's steps, a closed case none."""
    assert may_now(view, reader) == verbs


# --- the catalogue, without a server ------------------------------------------------------------------------


def test_matters_lists_every_code_with_its_limits_materials_and_types(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    """One block per matter: core and secondary materials apart, the types as CODE.TYPE."""
    ran = _offline(["matters"], capsys)
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[0] == f"catalogue {catalogue.version}"
    headings = [line.split()[0] for line in ran.out.splitlines() if line and not line.startswith(" ")]
    assert headings[1:] == [matter.code for matter in catalogue.matters]
    block = ran.out.split("FOOD-BUSINESS  食品经营许可\n")[1].split("\n\n")[0]
    rows = {line.split()[0]: " ".join(line.split()[1:]) for line in block.splitlines()}
    assert rows["limits"] == "5 working days promised, 10 statutory"
    assert rows["core"] == "application_form, entity_qualification, premises_and_layout"
    assert rows["secondary"] == "food_safety_rules, agent_authorisation"
    assert "REAL-ESTATE.mortgage" in ran.out
    as_json = _offline(["matters", "--json"], capsys)
    assert Catalogue.model_validate_json(as_json.out) == catalogue


def test_matters_code_shows_one_matter_in_detail_and_as_json(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each material with its importance, each type with its limits; a CODE.TYPE is that type's matter."""
    ran = _offline(["matters", "REAL-ESTATE"], capsys)
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split()[:2] == ["matter", "REAL-ESTATE"]
    assert any(line.split()[:3] == ["material", "application_form", "(core)"] for line in lines)
    assert any(line.split()[:3] == ["material", "agent_authorisation", "(secondary)"] for line in lines)
    assert any(line.split()[:2] == ["type", "REAL-ESTATE.mortgage"] for line in lines)
    mortgage = _offline(["matters", "REAL-ESTATE.mortgage", "--json"], capsys)
    assert Matter.model_validate_json(mortgage.out) == catalogue.matter("REAL-ESTATE.mortgage")


def test_an_unknown_matter_code_is_refused_with_the_nearest_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """`matters FOOD-BUSINES`: UnknownMatter, exit 2, suggesting FOOD-BUSINESS."""
    ran = _offline(["matters", "FOOD-BUSINES"], capsys)
    assert (ran.code, _error_line(ran)) == (
        2,
        "error: UnknownMatter: unknown matter code 'FOOD-BUSINES'; did you mean FOOD-BUSINESS?",
    )


def test_matters_reads_the_catalogue_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """$ONEWINDOW_CATALOGUE, as for the worker: its matters are the ones listed."""
    local = tmp_path / "catalogue.toml"
    local.write_text(
        SHIPPED_CATALOGUE.read_text(encoding="utf-8").replace(
            'code = "FOOD-BUSINESS"', 'code = "FOOD-LOCAL"'
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("ONEWINDOW_CATALOGUE", str(local))
    ran = _offline(["matters", "FOOD-LOCAL"], capsys)
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[0].split()[:2] == ["matter", "FOOD-LOCAL"]
