"""The construction project end to end on the time-skipping server (DESIGN.md sections 4, 7, 9).

A ProjectWorkflow over child ApplicationWorkflows, on real 2026 dates: every matter of a stage is an
application of its own (accepted at the window, decided by its departments, its licence issued), and the
project counts only the government's time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from tests.builders import applicant, applicant_actor, approver, shipped_rules, steward, window_officer
from tests.conftest import RunWorker, StartAt
from tests.test_project import project_matter
from workflows import search_attributes
from workflows.application_workflow import ApplicationWorkflow
from workflows.domain.application import Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.chain import ChainHash
from workflows.domain.clock import WarningLevel, day_under_way
from workflows.domain.commands import (
    AcceptApplication,
    ApplicationCommand,
    RecordApproval,
    ResumeClock,
    SuspendClock,
)
from workflows.domain.composite import Budget, MatterProgress
from workflows.domain.events import Channel
from workflows.domain.project import (
    AcceptStage,
    MeetPrecondition,
    ProjectCommand,
    ProjectProgress,
    ProjectStatus,
    StageProgress,
    SubmitStage,
    WithdrawProject,
)
from workflows.messages import ApplicationView, Intake, PartOf, ProjectIntake, SecurityContext
from workflows.project_workflow import ProjectWorkflow
from workflows.testkit import kit_security

ProjectHandle = WorkflowHandle[ProjectWorkflow, ProjectProgress]

OFFICER = window_officer("window-project-1")
STAGE_MATERIALS = {
    "land_planning": (
        "project_approval_documents",
        "site_pre_review_application",
        "land_use_documents",
        "agent_authorisation",
    ),
    "construction_engineering": ("design_scheme", "agent_authorisation"),
    "construction_permit": (
        "drawing_review_certificate",
        "construction_contract",
        "funding_commitment",
        "agent_authorisation",
    ),
    "completion_acceptance": (
        "completion_report",
        "completion_survey",
        "archive_transfer_list",
        "agent_authorisation",
    ),
}
JANUARY_5 = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
# Small enough that one stage continues the project as new (Temporal suggests it at about 4,000 events).
HISTORY_THRESHOLD = 60


def shanghai(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    assert instant > now, f"{instant.isoformat()} is not ahead of {now.isoformat()}"
    await env.sleep(instant - now)


async def open_project(
    env: WorkflowEnvironment,
    task_queue: str,
    *,
    project_type: str | None = None,
    threshold: int | None = None,
    key_project: bool = False,
    commitment: str | None = None,
    materials: tuple[str, ...] = STAGE_MATERIALS["land_planning"],
) -> ProjectHandle:
    intake = ProjectIntake(
        actor=OFFICER,
        applicant=applicant(),
        materials=materials,
        channel=Channel.WINDOW,
        received_at=await env.get_current_time(),
        matter_code="CONSTRUCTION-PROJECT",
        project_type=project_type,
        history_threshold=threshold,
        green_channel=key_project,
        steward=steward() if key_project else None,
        commitment=commitment,
    )
    return await env.client.start_workflow(
        ProjectWorkflow.run, intake, id=f"PRJ-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )


async def until(
    handle: ProjectHandle, wanted: Callable[[ProjectProgress], bool], what: str
) -> ProjectProgress:
    """The project's progress once ``wanted`` holds (its matters report within moments of changing)."""
    progress = None
    for _ in range(300):
        try:
            progress = await handle.query(ProjectWorkflow.state)
        except Exception:
            progress = None
        if progress is not None and wanted(progress):
            return progress
        await asyncio.sleep(0.1)  # a read replays nothing, but a tighter loop slows the worker it asks
    raise AssertionError(f"{handle.id} never reached {what}: {progress}")


async def project_act(handle: ProjectHandle, command: ProjectCommand) -> ProjectProgress:
    await until(handle, lambda _: True, "registration")
    try:
        return await handle.execute_update(ProjectWorkflow.act, command)
    except WorkflowUpdateFailedError as error:
        raise AssertionError(f"{command.kind} was refused: {error.cause}") from error


async def child(
    env: WorkflowEnvironment, application_id: str
) -> WorkflowHandle[ApplicationWorkflow, ApplicationView]:
    handle = env.client.get_workflow_handle_for(ApplicationWorkflow.run, application_id)
    for _ in range(400):
        try:
            await handle.query(ApplicationWorkflow.state)
            return handle
        except Exception:
            await asyncio.sleep(0.02)
    raise AssertionError(f"{application_id} never registered")


async def child_act(
    handle: WorkflowHandle[ApplicationWorkflow, ApplicationView], command: ApplicationCommand
) -> None:
    try:
        await handle.execute_update(ApplicationWorkflow.act, command)
    except WorkflowUpdateFailedError as error:
        raise AssertionError(f"{handle.id}: {command.kind} was refused: {error.cause}") from error


async def accept_stage(handle: ProjectHandle, code: str) -> ProjectProgress:
    await project_act(handle, AcceptStage(actor=OFFICER))
    return await until(
        handle,
        lambda p: all(m.application_id and m.status != "started" for m in matters(p, code)),
        f"{code}'s matters registered",
    )


async def decide_matters(
    env: WorkflowEnvironment, progress: ProjectProgress, code: str, *, skip: str = ""
) -> None:
    """Each matter of stage ``code``: accepted at the window, approved by every department it names."""
    for matter in matters(progress, code):
        if matter.code == skip or matter.application_id is None:
            continue
        handle = await child(env, matter.application_id)
        await child_act(handle, AcceptApplication(actor=OFFICER))
        for department in matter.departments:
            approval = RecordApproval(actor=approver(department), step=department, approved=True)
            await child_act(handle, approval)


def stage(progress: ProjectProgress, code: str) -> StageProgress:
    """One stage of the progress, by code."""
    return next(s for s in progress.stages if s.code == code)


def matters(progress: ProjectProgress, code: str) -> tuple[MatterProgress, ...]:
    """The matters of one stage, in catalogue order."""
    return stage(progress, code).matters


def stage_completed(code: str) -> Callable[[ProjectProgress], bool]:
    return lambda progress: stage(progress, code).status == "completed"


async def test_a_whole_project_from_2026_01_05_counts_only_the_governments_time(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """Four stages; an expert review pause in one matter overruns stage 1's 30 days (a stage warning); six
    months of building between stages 3 and 4 do not count; the project completes within its 90."""
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue)
        progress = await accept_stage(project, "land_planning")
        first = stage(progress, "land_planning")
        assert [m.code for m in first.matters] == [
            "project_approval",
            "site_land_pre_review",
            "land_use_planning_permit",
        ]
        assert first.due_at is not None
        assert day_under_way(first.due_at) == date(2026, 2, 14)
        assert progress.due_at is not None
        assert day_under_way(progress.due_at) == date(2026, 5, 20)

        # Stage 1: the site pre-review goes to expert review (R-XK-45) for weeks; the stage overruns.
        await decide_matters(env, progress, "land_planning", skip="site_land_pre_review")
        slow = await child(env, f"{project.id}.site_land_pre_review")
        await child_act(slow, AcceptApplication(actor=OFFICER))
        reviewer = approver("natural_resources")
        await child_act(slow, SuspendClock(actor=reviewer, pause="expert_review", expected_working_days=30))
        await sleep_until(env, shanghai(2026, 2, 24))  # past 02-14, the stage's own last day
        warned = await until(
            project,
            lambda p: stage(p, "land_planning").warning_level is WarningLevel.RED,
            "stage 1 red",
        )
        assert warned.status is ProjectStatus.IN_STAGE
        await child_act(slow, ResumeClock(actor=reviewer))
        await child_act(slow, RecordApproval(actor=reviewer, step="natural_resources", approved=True))
        progress = await until(
            project, lambda p: p.status is ProjectStatus.AWAITING_APPLICANT, "stage 1 completed"
        )
        assert progress.waiting_for_applicant
        used_after_stage_1 = progress.working_days_used

        # The applicant prepares stage 2 for three weeks: the project's clock stands.
        await sleep_until(env, shanghai(2026, 3, 16))
        standing = await project.query(ProjectWorkflow.state, await env.get_current_time())
        assert standing.working_days_used == used_after_stage_1
        for code, applied_on in (
            ("construction_engineering", shanghai(2026, 3, 16, 10)),
            ("construction_permit", shanghai(2026, 4, 7)),
        ):
            await sleep_until(env, applied_on)
            await project_act(project, SubmitStage(actor=applicant_actor(), materials=STAGE_MATERIALS[code]))
            progress = await accept_stage(project, code)
            await decide_matters(env, progress, code)
            progress = await until(project, stage_completed(code), f"{code} completed")

        # Six months of building between the construction permit and completion acceptance.
        await sleep_until(env, shanghai(2026, 11, 2))
        idle = await project.query(ProjectWorkflow.state, await env.get_current_time())
        assert idle.warning_level is WarningLevel.RED  # stage 1's overrun stands in the record
        assert idle.stages[0].warning_level is WarningLevel.RED
        assert all(s.warning_level is WarningLevel.NONE for s in idle.stages[1:])
        assert idle.working_days_used == progress.working_days_used  # building is the applicant's time
        assert idle.working_days_elapsed > idle.working_days_used + 100
        await project_act(
            project, SubmitStage(actor=applicant_actor(), materials=STAGE_MATERIALS["completion_acceptance"])
        )
        progress = await accept_stage(project, "completion_acceptance")
        joint = next(
            m for m in matters(progress, "completion_acceptance") if m.code == "joint_completion_acceptance"
        )
        assert joint.departments == (
            "housing_construction",
            "natural_resources",
            "fire",
            "civil_defence",
            "archives",
        )
        await decide_matters(env, progress, "completion_acceptance")
        final = await asyncio.wait_for(project.result(), timeout=30)

    assert final.status is ProjectStatus.COMPLETED
    assert [s.status for s in final.stages] == ["completed"] * 4
    assert final.working_days_used == sum(s.working_days_used or 0 for s in final.stages)
    assert final.working_days_used <= 90
    assert final.stages[0].working_days_used is not None
    assert final.stages[0].working_days_used > 30
    issued = [m for s in final.stages for m in s.matters]
    assert {m.status for m in issued} == {Status.ISSUED.value}
    assert all(m.licence_number for m in issued)
    escalated = [
        record
        for _, record in outbox.records("supervision", project.id)
        if record.get("subject") == Budget.STAGE.value
    ]
    assert escalated, "the stage overrun was escalated (督办)"


async def test_a_small_project_runs_stages_2_and_3_as_one_and_withdrawal_ends_its_matters(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """社会投资小型项目: stages 2 and 3 merge (a catalogue property of the project type); withdrawing the
    project then ends every open matter's application with it."""
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue, project_type="small_social_investment")
        progress = await accept_stage(project, "land_planning")
        await decide_matters(env, progress, "land_planning")
        await until(project, stage_completed("land_planning"), "stage 1 completed")
        merged = "construction_engineering-construction_permit"
        materials = tuple(
            dict.fromkeys(
                STAGE_MATERIALS["construction_engineering"] + STAGE_MATERIALS["construction_permit"]
            )
        )
        await sleep_until(env, shanghai(2026, 2, 2))
        await project_act(project, SubmitStage(actor=applicant_actor(), materials=materials))
        progress = await accept_stage(project, merged)
        assert [s.code for s in progress.stages] == ["land_planning", merged, "completion_acceptance"]
        assert stage(progress, merged).working_days_budget == 45
        assert [m.code for m in matters(progress, merged)] == [
            "design_scheme_review",
            "engineering_planning_permit",
            "drawing_review_confirmation",
            "construction_permit_issue",
        ]
        await project_act(project, WithdrawProject(actor=applicant_actor(), reason="项目取消"))
        final = await asyncio.wait_for(project.result(), timeout=30)
        assert final.status is ProjectStatus.WITHDRAWN
        for matter in matters(progress, merged):
            assert matter.application_id is not None
            handle = env.client.get_workflow_handle_for(ApplicationWorkflow.run, matter.application_id)
            view = await handle.result()
            assert view.status is Status.ENDED_WITH_PROJECT
        assert {m.status for m in matters(final, merged)} == {Status.ENDED_WITH_PROJECT.value}
        assert {m.status for m in matters(final, "land_planning")} == {Status.ISSUED.value}


async def test_a_denied_matter_ends_the_project_with_its_reason(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue)
        await accept_stage(project, "land_planning")
        handle = await child(env, f"{project.id}.project_approval")
        await child_act(handle, AcceptApplication(actor=OFFICER))
        denial = RecordApproval(
            actor=approver("development_reform"),
            step="development_reform",
            approved=False,
            reason="不符合产业政策",
        )
        await child_act(handle, denial)
        final = await asyncio.wait_for(project.result(), timeout=30)
        assert final.status is ProjectStatus.DENIED
        assert "不符合产业政策" in final.reason
        assert {m.status for m in matters(final, "land_planning")} == {
            "denied",
            Status.ENDED_WITH_PROJECT.value,
        }


async def _read_after_last_signal(project: ProjectHandle) -> None:
    """Wait until the project has read its matters (``read_parts`` completed) after its last
    ``part_changed`` signal."""
    for _ in range(200):
        events = [event async for event in project.fetch_history_events()]
        signalled = max(
            i
            for i, e in enumerate(events)
            if e.workflow_execution_signaled_event_attributes.signal_name == "part_changed"
        )
        scheduled = {
            e.event_id
            for e in events[signalled:]
            if e.activity_task_scheduled_event_attributes.activity_type.name == "read_parts"
        }
        if any(e.activity_task_completed_event_attributes.scheduled_event_id in scheduled for e in events):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{project.id} never read its matters after the signal")


async def test_a_stranger_cannot_start_a_projects_matter_nor_forge_its_news(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """A matter's application names its project; only that project may start it. A signal carries no
    news: the project reads its matters from Temporal, so a forged one changes nothing."""
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue)
        await accept_stage(project, "land_planning")
        matter = project_matter().part("project_approval")
        forged = Intake(
            actor=OFFICER,
            applicant=applicant(),
            materials=STAGE_MATERIALS["land_planning"],
            channel=Channel.WINDOW,
            received_at=await env.get_current_time(),
            matter_code=matter.code,
            part_of=PartOf(
                project_id=project.id,
                item="project_approval",
                matter=matter,
                catalogue_version="x",
                rules=shipped_rules(),
                security=SecurityContext(
                    trusted=kit_security().trusted_keys(), applicant_key="forged", chain_hash=ChainHash.SHA256
                ),
            ),
        )
        stranger = await env.client.start_workflow(
            ApplicationWorkflow.run, forged, id=f"{project.id}.forged", task_queue=task_queue
        )
        # Time stands still while we wait: a skipped day would let the project's own deadlines record
        # warnings after ``before`` is counted, and the count would race them (seen under load in CI).
        with env.auto_time_skipping_disabled(), pytest.raises(WorkflowFailureError) as failed:
            await stranger.result()
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == "Unauthenticated"
        before = len(await project.query(ProjectWorkflow.events))
        await project.signal(ProjectWorkflow.part_changed)
        await project.signal("project_changed")  # a signal the project does not take: ignored
        await _read_after_last_signal(project)  # the forged news made the project look, nothing more
        after = await project.query(ProjectWorkflow.state)
        assert after.status is ProjectStatus.IN_STAGE
        assert len(await project.query(ProjectWorkflow.events)) == before  # nothing changed, nothing recorded
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await project.execute_update(ProjectWorkflow.act, AcceptStage(actor=OFFICER))  # already accepted
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "NotAllowed"


async def test_a_long_project_continues_as_new_and_keeps_its_whole_log(
    dev_server: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """The project's history stays bounded: past its threshold it continues as new, after its handlers
    finish, with its domain log, its matters and its chain carried over. On the dev server: the
    time-skipping server stops skipping time for the children of a workflow that continued as new
    (temporalio/sdk-java#1540)."""
    async with run_worker(dev_server.client) as task_queue:
        project = await open_project(dev_server, task_queue, threshold=HISTORY_THRESHOLD)
        progress = await accept_stage(project, "land_planning")
        # Every matter's application carries its project's number (OwParent), for one visibility query.
        wanted = {m.application_id for m in matters(progress, "land_planning")}
        query = f"{search_attributes.PARENT.name} = '{project.id}'"
        for _ in range(100):
            found = {execution.id async for execution in dev_server.client.list_workflows(query)}
            if found == wanted:
                break
            await asyncio.sleep(0.1)
        assert found == wanted
        await decide_matters(dev_server, progress, "land_planning")
        progress = await until(project, stage_completed("land_planning"), "stage 1 completed")
        await project_act(
            project,
            SubmitStage(actor=applicant_actor(), materials=STAGE_MATERIALS["construction_engineering"]),
        )
        progress = await accept_stage(project, "construction_engineering")
        await project_act(project, WithdrawProject(actor=applicant_actor(), reason="项目取消"))
        final = await asyncio.wait_for(project.result(), timeout=60)
        events = await project.query(ProjectWorkflow.events)
        first_run = dev_server.client.get_workflow_handle(project.id, run_id=project.first_execution_run_id)
        assert (await first_run.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert final.status is ProjectStatus.WITHDRAWN
    assert len(events) == final.event_count
    assert [e.kind for e in events][:2] == ["project_submitted", "budgets_planned"]
    assert all(later.previous == earlier.digest for earlier, later in itertools.pairwise(events))
    assert {m.status for m in matters(final, "construction_engineering")} == {Status.ENDED_WITH_PROJECT.value}
    assert {m.status for m in matters(final, "land_planning")} == {Status.ISSUED.value}


# --- 模拟审批 and 投资承诺制 -------------------------------------------------------------------------

WITHOUT_LAND = tuple(code for code in STAGE_MATERIALS["land_planning"] if code != "land_use_documents")


async def test_a_key_projects_simulated_opinions_become_approvals_when_the_land_rights_come(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    """模拟审批: reviewed before the land rights, no licence issued; the evidence comes and each opinion
    becomes a formal approval without a second review: the licences are issued, the stage completes."""
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue, key_project=True, materials=WITHOUT_LAND)
        await project_act(project, AcceptStage(actor=OFFICER, simulated=True, precondition_within=20))
        progress = await until(
            project, lambda p: all(m.status != "started" for m in matters(p, "land_planning")), "registered"
        )
        assert all(m.simulated for m in matters(progress, "land_planning"))
        await decide_matters(env, progress, "land_planning")
        approved = await until(
            project,
            lambda p: {m.status for m in matters(p, "land_planning")} == {"approved"},
            "simulated opinions",
        )
        assert all(m.licence_number is None for m in matters(approved, "land_planning"))  # no legal effect
        assert approved.simulation is not None
        assert approved.simulation.met_at is None
        await sleep_until(env, shanghai(2026, 1, 20))
        evidence = "国有建设用地使用权出让合同 大国土出 2026-001"
        await project_act(project, MeetPrecondition(actor=steward(), evidence=evidence))
        done = await until(project, stage_completed("land_planning"), "stage 1 completed after the evidence")
        assert {m.status for m in matters(done, "land_planning")} == {Status.ISSUED.value}
        assert not any(m.simulated for m in matters(done, "land_planning"))
        child_events = await (await child(env, f"{project.id}.project_approval")).query(
            ApplicationWorkflow.events
        )
    assert [e.kind for e in child_events].count("approval_recorded") == 1  # the review was not repeated
    assert "simulation_confirmed" in [e.kind for e in child_events]


async def test_simulated_opinions_lapse_when_the_land_rights_do_not_come_in_time(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue, key_project=True, materials=WITHOUT_LAND)
        await project_act(project, AcceptStage(actor=OFFICER, simulated=True, precondition_within=10))
        progress = await until(
            project, lambda p: all(m.status != "started" for m in matters(p, "land_planning")), "registered"
        )
        await decide_matters(env, progress, "land_planning")
        await sleep_until(env, shanghai(2026, 1, 21))  # past the 10th working day, 01-19
        final = await asyncio.wait_for(project.result(), timeout=30)
    assert final.status is ProjectStatus.LAPSED
    assert {m.status for m in matters(final, "land_planning")} == {Status.ENDED_WITH_PROJECT.value}
    notices = [record["notice"] for _, record in outbox.records("notification", project.id)]
    assert "simulation_lapsed" in notices  # the applicant is told


async def _through_commitment_project(
    env: WorkflowEnvironment, task_queue: str, *, acceptance_passes: bool
) -> tuple[ProjectHandle, ProjectProgress]:
    project = await open_project(
        env, task_queue, project_type="investment_commitment", commitment="投资项目承诺书 2026-017"
    )
    for index, code in enumerate(STAGE_MATERIALS):
        if index:
            await sleep_until(env, shanghai(2026, 1 + 2 * index, 2))
            await project_act(project, SubmitStage(actor=applicant_actor(), materials=STAGE_MATERIALS[code]))
        progress = await accept_stage(project, code)
        if code == "completion_acceptance" and not acceptance_passes:
            failed = await child(env, f"{project.id}.joint_completion_acceptance")
            await child_act(failed, AcceptApplication(actor=OFFICER))
            refusal = RecordApproval(
                actor=approver("fire"), step="fire", approved=False, reason="消防验收不合格"
            )
            await child_act(failed, refusal)
            break
        await decide_matters(env, progress, code)
        if code != "completion_acceptance":
            await until(project, stage_completed(code), f"{code} completed")
    return project, await asyncio.wait_for(project.result(), timeout=30)


async def test_an_investment_commitment_project_skips_its_pre_approvals_and_completes(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        _, final = await _through_commitment_project(env, task_queue, acceptance_passes=True)
    assert final.status is ProjectStatus.COMPLETED
    assert final.skipped == ("design_scheme_review", "drawing_review_confirmation")
    codes = {m.code for s in final.stages for m in s.matters}
    assert codes.isdisjoint(final.skipped)


async def test_an_investment_commitment_that_fails_completion_acceptance_may_not_be_put_into_use(
    time_skipping_at: StartAt, run_worker: RunWorker, outbox: Outbox
) -> None:
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project, final = await _through_commitment_project(env, task_queue, acceptance_passes=False)
    assert final.status is ProjectStatus.NOT_FOR_USE
    assert "不得投入使用" in final.reason
    assert "消防验收不合格" in final.reason
    credit = [record for _, record in outbox.records("credit", applicant().id_number)]
    assert [record["application_id"] for record in credit] == [project.id]  # it bars 容缺 for a while
    assert [r["result"] for _, r in outbox.records("supervision", project.id)][-1] == "commitment_failed"


async def test_what_a_stranger_sends_a_project_is_refused_typed_before_history(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """The hardening of applications holds for a project: a payload not JSON, over the limit, of an
    engine's own kind, unsigned, or for a case the sender cannot see is refused with its type, and
    nothing enters the project's history."""
    async with time_skipping_at(JANUARY_5) as env, run_worker(env.client) as task_queue:
        project = await open_project(env, task_queue)
        await until(project, lambda _: True, "registration")
        before = len(await project.query(ProjectWorkflow.events))

        def raw(data: bytes, encoding: bytes = b"json/plain") -> RawValue:
            return RawValue(Payload(metadata={"encoding": encoding}, data=data))

        officer = OFFICER.model_dump(mode="json")
        attempts = {
            "not-json": (raw(b"\x00\x01", b"binary/plain"), "InvalidCommand"),
            "broken-json": (raw(b'{"kind": "accept_stage",'), "InvalidCommand"),
            "too-large": (
                raw(json.dumps({"kind": "accept_stage", "reason": "x" * 70_000}).encode()),
                "InvalidCommand",
            ),
            "engine-kind": (
                raw(json.dumps({"kind": "report_parts", "actor": officer, "readings": []}).encode()),
                "InvalidCommand",
            ),
            "unsigned": (
                raw(json.dumps({"kind": "accept_stage", "actor": officer}).encode()),
                "Unauthenticated",
            ),
        }
        for name, (payload, expected) in attempts.items():
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await env.client.get_workflow_handle(project.id).execute_update("act", payload)
            assert isinstance(refused.value.cause, ApplicationError), name
            assert refused.value.cause.type == expected, name
        stranger = WithdrawProject(actor=applicant_actor("91210200MA0000099Z"))
        with pytest.raises(WorkflowUpdateFailedError) as unknown:
            await project.execute_update(ProjectWorkflow.act, stranger)
        assert isinstance(unknown.value.cause, ApplicationError)
        assert unknown.value.cause.type == "UnknownApplication"
        assert len(await project.query(ProjectWorkflow.events)) == before
        assert (await project.query(ProjectWorkflow.state)).status is ProjectStatus.STAGE_RECEIVED
