"""The reference cases whose histories ``tests/test_replay.py`` replays, and their recorder.

Temporal replays a running case's history on whatever workflow code the worker has now, so a change to
``ApplicationWorkflow`` that issues its commands differently breaks every case that was running when it
was deployed. The histories in this directory were recorded by an earlier version of the code; replaying
them in the tests catches such a change, which then needs ``workflow.patched`` (or worker versioning).

After a deliberate, patched change, add new recordings beside the old ones, named after the change
(``RECORDING``). Since signed commands and encrypted payloads (issue 8) the recordings are encrypted with
``payload-keys.json`` here: a public key for these recordings only, never for a deployment. Replace them
only for a version that is deliberately incompatible with the cases running before it (the README's
"Upgrading" says what a deployment must then do), as the version that pinned the deadline rules in each
case was:

    .venv/bin/python -m tests.histories.record
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from tests.builders import (
    all_materials,
    applicant_actor,
    approver,
    department_head,
    secondary_materials,
    shipped_matter,
    steward,
)
from tests.builders import supervisor as supervisor_actor
from tests.case_helpers import act, final_view
from tests.test_workflow_acceptance import until as case_until
from tests.test_workflow_project import (
    STAGE_MATERIALS,
    accept_stage,
    child,
    child_act,
    decide_matters,
    project_act,
    stage_completed,
    until,
)
from workflows.application_workflow import ApplicationWorkflow
from workflows.client import Cases
from workflows.codec import PayloadKeys
from workflows.domain.calendar import SHANGHAI
from workflows.domain.clock import WarningLevel
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    AddSigner,
    ChangeGreenChannel,
    ExtendDeadline,
    OrSignStep,
    RecordApproval,
    ResumeClock,
    ReturnToWindow,
    ReviseTrustedKeys,
    SupplementMaterials,
    SuspendClock,
    TransferStep,
    UrgeStep,
    VerifyCommitment,
)
from workflows.domain.complaint import (
    Caller,
    ComplaintChannel,
    MergeComplaint,
    Rating,
    RecordCallback,
    RedispatchComplaint,
    ReplyComplaint,
    ReturnComplaint,
    SignComplaint,
)
from workflows.domain.consultation import CheckMaterials, CloseConsultation, GiveOpinion
from workflows.domain.establishment import (
    AcceptEstablishment,
    EstablishmentProgress,
    ReleaseResults,
    TrackService,
)
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.domain.project import SubmitStage, WithdrawProject
from workflows.establishment_workflow import EstablishmentWorkflow
from workflows.messages import ComplaintIntake, ConsultationIntake, Intake, ProjectIntake
from workflows.project_workflow import ProjectWorkflow
from workflows.security import Security
from workflows.testkit import onewindow_worker, time_skipping_server

HERE = Path(__file__).parent
RECORDING = "versions"  # this version's: one marker for every version (VERSIONS_OF_8_DECEMBER)
# The workflow id of each recording, by the last word of its file name.
NUMBERS = {
    "food": "REF-FOOD",
    "hygiene": "REF-HYGIENE",
    "project": "REF-PROJECT",
    "part": "REF-PROJECT.design_scheme_review",  # a matter of stage 2, ended with the project
    "establishment": "REF-ESTABLISHMENT",
    "commitment": "REF-COMMITMENT",
    "office": "REF-OFFICE",
    "consultation": "REF-CONSULTATION",
    "consulted": "REF-CONSULTED",  # the application submitted on it
    "green": "REF-GREEN",  # recorded by the version before internal targets (drive_reference_green)
    "complained": "REF-COMPLAINED",  # an application a complaint concerns
    "complaint": "REF-GD-1",  # about it: reopened once, then closed
    "returned": "REF-GD-2",  # returned, re-dispatched and merged into the first
    "woken": "REF-WOKEN",  # two deadlines due at one wake (drive_reference_woken)
}
RECORDING_KEYS = HERE / "payload-keys.json"
RECEIVED = datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)
APPLICANT = Applicant(id_number="91210200MA0000009Z", name="示例公司", contact="0411-0000000")
OFFICER = Actor(id="window-1", role=Role.WINDOW_OFFICER)
_UNREAD = ("started", "not_started")  # a matter whose application the process has not read yet


def _intake(matter_code: str, materials: tuple[str, ...], commitment: str | None = None) -> Intake:
    return Intake(
        actor=Actor(id="intake-portal", role=Role.SYSTEM),
        applicant=APPLICANT,
        matter_code=matter_code,
        materials=materials,
        channel=Channel.ONLINE,
        received_at=RECEIVED,
        commitment=commitment,
    )


async def drive_reference_cases(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """Two cases through most of what the workflow does, from 2026-09-28: their histories by name."""
    client = env.client
    hygiene = await client.start_workflow(
        ApplicationWorkflow.run,
        _intake("PUBLIC-PLACE-HYGIENE", all_materials("PUBLIC-PLACE-HYGIENE")),
        id="REF-HYGIENE",
        task_queue=task_queue,
    )
    food_matter = shipped_matter("FOOD-BUSINESS")
    promised = secondary_materials(food_matter)
    food = await client.start_workflow(
        ApplicationWorkflow.run,
        _intake("FOOD-BUSINESS", tuple(m.code for m in food_matter.materials if m.code not in promised)),
        id="REF-FOOD",
        task_queue=task_queue,
    )
    health = approver("health")
    await act(hygiene, AcceptApplication(actor=OFFICER))
    deficient = AcceptWithDeficiencies(
        actor=OFFICER, missing=promised, supplement_within=5, commitment="容缺受理承诺书 REF-1"
    )
    await act(food, deficient)
    await act(
        food,
        ChangeGreenChannel(
            actor=supervisor_actor(), green_channel=True, steward=steward(), reason="重点项目"
        ),
    )
    await env.sleep(timedelta(days=1))
    await act(hygiene, SuspendClock(actor=health, pause="inspection", expected_working_days=3))
    await act(
        food, RecordApproval(actor=approver("market_regulation"), step="market_regulation", approved=True)
    )
    await env.sleep(timedelta(days=4))
    await act(hygiene, ResumeClock(actor=health))
    await act(hygiene, ExtendDeadline(actor=department_head("health"), working_days=5, reason="现场核查"))
    await act(food, SupplementMaterials(actor=steward(), materials=promised))
    await act(food, ReviseTrustedKeys(actor=supervisor_actor(), reason="年度密钥轮换"))
    await env.sleep(timedelta(days=30))  # past the hygiene deadline: notice, yellow and red fire
    await act(hygiene, RecordApproval(actor=health, step="health", approved=True))
    await final_view(hygiene)
    await final_view(food)
    return {"hygiene": await hygiene.fetch_history(), "food": await food.fetch_history()}


async def drive_reference_project(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """A project: stage 1 accepted, its matters decided (one after an expert review), the applicant's
    time between stages, stage 2 brought and accepted, then withdrawn with its open matters."""
    intake = ProjectIntake(
        actor=OFFICER,
        applicant=APPLICANT,
        matter_code="CONSTRUCTION-PROJECT",
        materials=STAGE_MATERIALS["land_planning"],
        channel=Channel.WINDOW,
        received_at=await env.get_current_time(),
    )
    project = await env.client.start_workflow(
        ProjectWorkflow.run, intake, id=NUMBERS["project"], task_queue=task_queue
    )
    progress = await accept_stage(project, "land_planning")
    await decide_matters(env, progress, "land_planning", skip="site_land_pre_review")
    slow = await child(env, "REF-PROJECT.site_land_pre_review")
    reviewer = approver("natural_resources")
    await child_act(slow, AcceptApplication(actor=OFFICER))
    await child_act(slow, SuspendClock(actor=reviewer, pause="expert_review", expected_working_days=5))
    await env.sleep(timedelta(days=7))
    await child_act(slow, ResumeClock(actor=reviewer))
    await child_act(slow, RecordApproval(actor=reviewer, step="natural_resources", approved=True))
    await until(project, stage_completed("land_planning"), "stage 1 completed")
    await env.sleep(timedelta(days=10))
    stage_2 = SubmitStage(
        actor=applicant_actor(APPLICANT.id_number), materials=STAGE_MATERIALS["construction_engineering"]
    )
    await project_act(project, stage_2)
    await accept_stage(project, "construction_engineering")
    await project_act(project, WithdrawProject(actor=applicant_actor(APPLICANT.id_number), reason="项目取消"))
    await asyncio.wait_for(project.result(), timeout=30)
    part = env.client.get_workflow_handle(NUMBERS["part"])
    await part.result()
    return {"project": await project.fetch_history(), "part": await part.fetch_history()}


async def drive_reference_establishment(
    env: WorkflowEnvironment, task_queue: str
) -> dict[str, WorkflowHistory]:
    """An establishment: the one form accepted, registration issued, the credit code claimed and
    assigned, the parallel matters issued, the bank tracked, one release."""
    intake = ProjectIntake(
        actor=OFFICER,
        applicant=APPLICANT,
        matter_code="ENTERPRISE-ESTABLISH",
        materials=all_materials("ENTERPRISE-ESTABLISH"),
        channel=Channel.WINDOW,
        received_at=await env.get_current_time(),
    )
    number = NUMBERS["establishment"]
    establishment = await env.client.start_workflow(
        EstablishmentWorkflow.run, intake, id=number, task_queue=task_queue
    )
    cases = Cases(env.client, task_queue)
    establishments = cases.establishments()

    async def until(done: Callable[[EstablishmentProgress], bool]) -> None:
        while not done(await establishments.state(number, reader=None)):
            await asyncio.sleep(0.02)

    await establishments.act(number, AcceptEstablishment(actor=OFFICER))
    for stage in shipped_matter("ENTERPRISE-ESTABLISH").stages:
        items = {item.code: item.department for item in stage.matters if item.administrative}
        await until(partial(_read, codes=frozenset(items)))
        for code, department in items.items():
            await cases.act(f"{number}.{code}", AcceptApplication(actor=OFFICER))
            approval = RecordApproval(actor=approver(department), step=department, approved=True)
            await cases.act(f"{number}.{code}", approval)
    await until(lambda p: all(i.status == "issued" for i in p.items if i.application_id))
    await establishments.act(
        number, TrackService(actor=OFFICER, item="bank_account_appointment", reference="ICBC-REF-1")
    )
    await establishments.act(number, ReleaseResults(actor=OFFICER))
    await asyncio.wait_for(establishment.result(), timeout=30)
    return {"establishment": await establishment.fetch_history()}


async def drive_reference_commitment(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """告知承诺制: registered after the credit check, accepted without the proof the commitment replaces,
    approved on the spot, issued, verification warned, found untrue, and revoked when the rectification
    deadline passes."""
    matter = shipped_matter("FOOD-BUSINESS")
    materials = tuple(m.code for m in matter.materials if not m.replaced_by_commitment)
    case = await env.client.start_workflow(
        ApplicationWorkflow.run,
        _intake("FOOD-BUSINESS", materials, commitment="告知承诺书 REF-2"),
        id=NUMBERS["commitment"],
        task_queue=task_queue,
    )
    inspector = approver("market_regulation")
    await act(case, AcceptApplication(actor=OFFICER))
    await act(case, RecordApproval(actor=inspector, step="market_regulation", approved=True))
    await env.sleep(timedelta(days=60))  # past the verification's notice
    await act(
        case, VerifyCommitment(actor=inspector, kept=False, reason="现场核查：承诺不实", rectify_within=3)
    )
    await env.sleep(timedelta(days=7))  # past the rectification deadline: revoked
    await final_view(case)
    return {"commitment": await case.fetch_history()}


async def drive_reference_office(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """An office's day on one case: urged (催办), transferred (转办), returned for a material and brought
    back (退回), a signer added after the step (加签), the step or-signed (或签), and both decided."""
    case = await env.client.start_workflow(
        ApplicationWorkflow.run,
        _intake("FOOD-BUSINESS", all_materials("FOOD-BUSINESS")),
        id=NUMBERS["office"],
        task_queue=task_queue,
    )
    first, second, third = (approver("market_regulation", name) for name in ("wang", "qian", "sun"))
    await act(case, AcceptApplication(actor=OFFICER))
    await act(case, UrgeStep(actor=supervisor_actor(), step="market_regulation", reason="企业反映进度慢"))
    await act(case, TransferStep(actor=first, step="market_regulation", to=second))
    back = ReturnToWindow(
        actor=second, materials=("premises_and_layout",), supplement_within=3, reason="未盖章"
    )
    await act(case, back)
    await env.sleep(timedelta(days=1))
    await act(case, SupplementMaterials(actor=OFFICER, materials=("premises_and_layout",)))
    view = await act(case, AddSigner(actor=second, department="fire", after=True, reason="涉及消防安全"))
    await act(case, OrSignStep(actor=second, step="market_regulation", deciders=(first, third)))
    await act(case, RecordApproval(actor=third, step="market_regulation", approved=True))
    fire_step = view.approval_plan[1][0].code
    await act(case, RecordApproval(actor=approver("fire"), step=fire_step, approved=True))
    await final_view(case)
    return {"office": await case.fetch_history()}


async def drive_reference_consultation(
    env: WorkflowEnvironment, task_queue: str
) -> dict[str, WorkflowHistory]:
    """提前介入: a consultation opened by its steward, a material checked, an opinion given, a green-channel
    application submitted on it (its findings read, its steward's slot held at registration), accepted
    and approved (the slot freed), the consultation closed."""
    helper = steward("steward-ref")
    consultations = Cases(env.client, task_queue).consultations()
    number = NUMBERS["consultation"]
    brought = ("application_form", "entity_qualification", "premises_and_layout")
    opening = ConsultationIntake(
        actor=helper,
        applicant=APPLICANT,
        matter_code="FOOD-BUSINESS",
        materials=brought,
        channel=Channel.WINDOW,
        received_at=RECEIVED,
        green_channel=True,
        steward=helper,
    )
    await consultations.submit(number, opening)
    await consultations.registered(number, reader=None)
    await consultations.act(number, CheckMaterials(actor=OFFICER, materials=("premises_and_layout",)))
    inspector = approver("market_regulation")
    await consultations.act(number, GiveOpinion(actor=inspector, opinion="经营布局符合要求"))
    # A green-channel case with its steward: its slot held at registration and freed when it closes,
    # and its internal target planned beside the deadline.
    intake = _intake("FOOD-BUSINESS", all_materials("FOOD-BUSINESS")).model_copy(
        update={"consultation_id": number, "green_channel": True, "steward": helper}
    )
    case = await env.client.start_workflow(
        ApplicationWorkflow.run, intake, id=NUMBERS["consulted"], task_queue=task_queue
    )
    await act(case, AcceptApplication(actor=OFFICER))
    await act(case, RecordApproval(actor=inspector, step="market_regulation", approved=True))
    # Closed before anything waits on a result: the time-skipping server skips while a result is awaited,
    # and the consultation's lapse is the next timer it would reach.
    await consultations.act(number, CloseConsultation(actor=helper, reason="已正式申报"))
    await asyncio.wait_for(env.client.get_workflow_handle(number).result(), timeout=30)
    await final_view(case)
    return {
        "consultation": await env.client.get_workflow_handle(number).fetch_history(),
        "consulted": await case.fetch_history(),
    }


async def drive_reference_green(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """A green-channel case with its steward, received Monday 2 November 2026, accepted, idle past the
    end of its fourth working day (a notice), then approved: a case running when internal targets came.
    Its recording was made by the version before them (77eb584), received at its own instant."""
    received = await env.get_current_time()
    intake = _intake("FOOD-BUSINESS", all_materials("FOOD-BUSINESS")).model_copy(
        update={"received_at": received, "green_channel": True, "steward": steward()}
    )
    case = await env.client.start_workflow(
        ApplicationWorkflow.run, intake, id=NUMBERS["green"], task_queue=task_queue
    )
    await act(case, AcceptApplication(actor=OFFICER))
    await env.sleep(timedelta(days=4, hours=16))
    await act(
        case, RecordApproval(actor=approver("market_regulation"), step="market_regulation", approved=True)
    )
    await final_view(case)
    return {"green": await case.fetch_history()}


async def drive_reference_complaints(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """12345/8890: a complaint about an open application (checked at registration, linked by the case
    after reading it), signed, replied, called back 不满意 and reopened, replied again and closed 满意; a
    second complaint returned as misrouted, re-dispatched and merged into the first (read first); the
    application left past its deadline and escalated, then decided."""
    operator = Actor(id="hotline-ref", role=Role.HOTLINE_OPERATOR)
    market = approver("market_regulation")
    case = await env.client.start_workflow(
        ApplicationWorkflow.run,
        _intake("FOOD-BUSINESS", all_materials("FOOD-BUSINESS")),
        id=NUMBERS["complained"],
        task_queue=task_queue,
    )
    await act(case, AcceptApplication(actor=OFFICER))
    complaints = Cases(env.client, task_queue).complaints()
    call = ComplaintIntake(
        actor=operator,
        caller=Caller(name="王女士", phone="13800000000"),
        channel=ComplaintChannel.HOTLINE_12345,
        content="办理进度无人告知",
        category_code="business_environment",
        concerns=NUMBERS["complained"],
    )
    first, second = NUMBERS["complaint"], NUMBERS["returned"]
    await complaints.submit(first, call)
    await complaints.registered(first, reader=None)
    await case_until(case, lambda view: bool(view.complaints), "the complaint linked")
    await complaints.submit(second, call.model_copy(update={"concerns": None}))
    await complaints.registered(second, reader=None)
    await complaints.act(second, ReturnComplaint(actor=market, reason="属不动产登记职责"))
    await complaints.act(second, RedispatchComplaint(actor=operator, department="natural_resources"))
    await complaints.act(second, MergeComplaint(actor=operator, into=first, reason="重复来电"))
    for rating in (Rating.DISSATISFIED, Rating.SATISFIED):
        if rating is Rating.DISSATISFIED:
            await complaints.act(first, SignComplaint(actor=market))
        await complaints.act(first, ReplyComplaint(actor=market, reply="已告知办理进度"))
        await complaints.act(first, RecordCallback(actor=operator, rating=rating))
    await env.sleep(timedelta(days=17))  # the application past its deadline: escalated (督办)
    await act(case, RecordApproval(actor=market, step="market_regulation", approved=True))
    await final_view(case)
    for number in (first, second):
        await asyncio.wait_for(env.client.get_workflow_handle(number).result(), timeout=30)
    return {
        "complained": await case.fetch_history(),
        "complaint": await env.client.get_workflow_handle(first).fetch_history(),
        "returned": await env.client.get_workflow_handle(second).fetch_history(),
    }


async def drive_reference_woken(env: WorkflowEnvironment, task_queue: str) -> dict[str, WorkflowHistory]:
    """A case deemed accepted as of its receipt, when the review's first warning is due at once: recorded
    one deadline per task before ``deadlines-due-together``, both in the one task since; then approved an
    hour later and issued."""
    case = await env.client.start_workflow(
        ApplicationWorkflow.run,
        _intake("PUBLIC-PLACE-HYGIENE", all_materials("PUBLIC-PLACE-HYGIENE")),
        id=NUMBERS["woken"],
        task_queue=task_queue,
    )
    view = await case_until(case, lambda view: view.acceptance_by is not None, "registered")
    assert view.acceptance_by is not None
    await env.sleep(view.acceptance_by - await env.get_current_time() + timedelta(hours=1))
    await case_until(case, lambda view: view.warning_level is not WarningLevel.NONE, "accepted and warned")
    await act(case, RecordApproval(actor=approver("health"), step="health", approved=True))
    await final_view(case)
    return {"woken": await case.fetch_history()}


def _read(progress: EstablishmentProgress, codes: frozenset[str]) -> bool:
    """Whether the establishment has read the applications of these matters."""
    return all(item.status not in _UNREAD for item in progress.items if item.code in codes)


# The drives whose histories this version adds (the earlier ones lie beside them already).
RECORDED_NOW = (drive_reference_woken, drive_reference_complaints, drive_reference_consultation)


def recording_keys() -> PayloadKeys:
    """The public payload key of the recordings (created once)."""
    return PayloadKeys.create_development(RECORDING_KEYS)


async def _record() -> None:
    histories: dict[str, WorkflowHistory] = {}
    with tempfile.TemporaryDirectory() as directory:
        keys = Security.development(Path(directory) / "keys")
        security = dataclasses.replace(keys, payload_keys=recording_keys())
        for drive in RECORDED_NOW:  # each on a server of its own
            async with (
                time_skipping_server(RECEIVED, security=security) as env,
                onewindow_worker(
                    env.client, Outbox(Path(directory) / "outbox.sqlite"), security=security
                ) as cases,
            ):
                histories |= await drive(env, cases.task_queue)
    for name, history in histories.items():
        path = HERE / f"{datetime.now(SHANGHAI).date().isoformat()}-{RECORDING}-{name}.json"
        path.write_text(history.to_json(), encoding="utf-8")
        print(f"recorded {path}")


if __name__ == "__main__":
    asyncio.run(_record())
