"""The construction project's rules without a server (DESIGN.md sections 4, 7, 9): stages in order, each
with its own materials, accepted at the window for its lead department; the government's time only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.builders import (
    APPLICANT_KEY,
    applicant,
    applicant_actor,
    approver,
    shipped_catalogue,
    shipped_matter,
    shipped_rules,
    steward,
    window_officer,
)
from workflows.domain.application import ENGINE, Status
from workflows.domain.calendar import SHANGHAI
from workflows.domain.catalogue import Matter
from workflows.domain.clock import WarningLevel, day_under_way
from workflows.domain.composite import Budget, PartReading, RaiseBudgetWarning, RecordBudgets, ReportParts
from workflows.domain.errors import (
    InvalidCommand,
    MaterialsIncomplete,
    NotAllowed,
    NotAuthorised,
    OneWindowError,
    UnknownApplication,
    UnknownMatter,
)
from workflows.domain.events import Actor, Channel, Role
from workflows.domain.project import (
    AcceptStage,
    LapsePrecondition,
    MeetPrecondition,
    ProjectCommand,
    ProjectEffect,
    ProjectEvent,
    ProjectState,
    ProjectStatus,
    ProjectSubmitted,
    StageAccepted,
    SubmitProject,
    SubmitStage,
    WithdrawProject,
    deadlines,
    decide,
    effects_of,
    evidence,
    evolve,
    news,
    next_timer,
    progress_of,
    replay,
    start,
)

# 2026-01-05 (a Monday) + 90 working days = 2026-05-20 (DESIGN.md R-CAL-1 example).
ACCEPTED = datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI)
STAGE_MATERIALS = {
    "land_planning": ("project_approval_documents", "site_pre_review_application", "land_use_documents"),
    "construction_engineering": ("design_scheme",),
    "construction_permit": ("drawing_review_certificate", "construction_contract"),
    "completion_acceptance": ("completion_report", "completion_survey"),
}


def project_matter(project_type: str | None = None) -> Matter:
    return shipped_matter("CONSTRUCTION-PROJECT").of_type(project_type)


@dataclass(frozen=True)
class Project:
    events: tuple[ProjectEvent, ...]
    state: ProjectState


def opened(
    matter: Matter | None = None,
    materials: tuple[str, ...] | None = None,
    *,
    key_project: bool = False,
    commitment: str | None = None,
    skipped: tuple[str, ...] = (),
) -> Project:
    """A project submitted by its applicant (a key project, 绿色通道, by the window, with a steward)."""
    command = SubmitProject(
        actor=window_officer() if key_project else applicant_actor(),
        green_channel=key_project,
        steward=steward() if key_project else None,
        commitment=commitment,
        skipped=skipped,
        project_id="PRJ-0001",
        applicant=applicant(),
        matter=matter or project_matter(),
        catalogue_version=shipped_catalogue().version,
        rules=shipped_rules(),
        materials=STAGE_MATERIALS["land_planning"] if materials is None else materials,
        channel=Channel.WINDOW,
        received_at=ACCEPTED - timedelta(hours=1),
        applicant_key=APPLICANT_KEY,
    )
    (event,) = decide(None, command, ACCEPTED - timedelta(hours=1))
    assert isinstance(event, ProjectSubmitted)
    return Project(events=(event,), state=start(event))


def then(project: Project, command: ProjectCommand, at: datetime) -> Project:
    new = decide(project.state, command, at)
    state = project.state
    for event in new:
        state = evolve(state, event)
    return Project(events=project.events + new, state=state)


def planned(project: Project, at: datetime) -> Project:
    plan = deadlines(project.state, at)
    if plan == project.state.plan:
        return project
    return then(project, RecordBudgets(actor=ENGINE, plan=plan), at)


def issued_all(project: Project, decided_at: datetime) -> Project:
    readings = tuple(
        PartReading(
            application_id=part.application_id,
            status=Status.ISSUED,
            closed=True,
            decided_at=decided_at,
            licence_number=f"LIC-{part.code}",
        )
        for part in project.state.run.parts
    )
    return then(project, ReportParts(actor=ENGINE, readings=readings), decided_at + timedelta(minutes=1))


def through_stage(project: Project, accepted_at: datetime, decided_at: datetime) -> Project:
    project = then(project, AcceptStage(actor=window_officer()), accepted_at)
    project = planned(project, accepted_at)
    return issued_all(project, decided_at)


def test_a_project_is_accepted_with_its_first_stages_materials_only() -> None:
    """The review's first finding: the completion report is not demanded at the first intake."""
    project = then(opened(), AcceptStage(actor=window_officer()), ACCEPTED)
    (accepted,) = project.events[-1:]
    assert isinstance(accepted, StageAccepted)
    assert accepted.on_behalf_of == "natural_resources"  # the stage's lead department
    assert [p.code for p in accepted.parts] == [
        "project_approval",
        "site_land_pre_review",
        "land_use_planning_permit",
    ]
    assert accepted.parts[0].application_id == "PRJ-0001.project_approval"
    assert project.state.status is ProjectStatus.IN_STAGE


def test_another_stages_material_is_refused_at_a_stages_intake() -> None:
    with pytest.raises(InvalidCommand, match="completion_report"):
        opened(materials=("project_approval_documents", "completion_report"))


def test_a_stage_missing_a_core_material_is_not_accepted_and_says_which() -> None:
    project = opened(materials=("project_approval_documents",))
    with pytest.raises(MaterialsIncomplete) as refused:
        decide(project.state, AcceptStage(actor=window_officer()), ACCEPTED)
    assert refused.value.missing == ("site_pre_review_application", "land_use_documents")
    project = then(project, SubmitStage(actor=applicant_actor(), materials=refused.value.missing), ACCEPTED)
    assert then(project, AcceptStage(actor=window_officer()), ACCEPTED).state.status is ProjectStatus.IN_STAGE


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (AcceptStage(actor=approver("natural_resources")), NotAuthorised),
        (AcceptStage(actor=applicant_actor()), NotAuthorised),
        (WithdrawProject(actor=applicant_actor("91210200MA0000009Z")), NotAuthorised),
        (WithdrawProject(actor=steward()), NotAuthorised),  # a steward not assigned to it
        (SubmitStage(actor=applicant_actor(), materials=("nonsense",)), InvalidCommand),
    ],
    ids=[
        "approver-accepts",
        "applicant-accepts",
        "another-applicant",
        "unassigned-steward",
        "bad-material",
    ],
)
def test_refusals(command: ProjectCommand, error: type[OneWindowError]) -> None:
    with pytest.raises(error):
        decide(opened().state, command, ACCEPTED)


def test_a_stranger_learns_nothing_and_the_engine_role_is_the_engines() -> None:
    state = opened().state
    with pytest.raises(UnknownApplication):
        state.admit(WithdrawProject(actor=Actor(id="someone", role=Role.APPLICANT)))
    with pytest.raises(UnknownApplication):  # the engine's own actor is no reader either
        state.admit(WithdrawProject(actor=ENGINE))
    state.admit(AcceptStage(actor=window_officer()))  # the window reads every project


def test_reports_of_another_projects_application_are_refused() -> None:
    project = then(opened(), AcceptStage(actor=window_officer()), ACCEPTED)
    forged = PartReading(application_id="PRJ-9999.project_approval", status=Status.DENIED, closed=True)
    with pytest.raises(InvalidCommand, match="not a matter of this process"):
        decide(project.state, ReportParts(actor=ENGINE, readings=(forged,)), ACCEPTED)


def test_the_next_stage_waits_until_the_current_one_is_completed() -> None:
    project = then(opened(), AcceptStage(actor=window_officer()), ACCEPTED)
    with pytest.raises(NotAllowed):
        decide(project.state, SubmitStage(actor=applicant_actor(), materials=("design_scheme",)), ACCEPTED)


def test_six_months_of_building_between_stages_do_not_count() -> None:
    """Section 9: stages 1-3 in 30+25+20 working days, six months of building, stage 4 in 15: 90, not red."""
    project = opened()
    project = through_stage(project, ACCEPTED, datetime(2026, 2, 13, 17, tzinfo=SHANGHAI))  # 29 working days
    progress = progress_of(project.state, datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    assert progress.waiting_for_applicant
    assert progress.status is ProjectStatus.AWAITING_APPLICANT
    assert progress.stages[0].status == "completed"
    assert progress.stages[0].working_days_used == 29
    assert progress.working_days_used == 29  # standing: the weeks of preparing stage 2 do not count
    for stage, accepted, decided in (
        (
            "construction_engineering",
            datetime(2026, 3, 2, 9, tzinfo=SHANGHAI),
            datetime(2026, 4, 3, 17, tzinfo=SHANGHAI),
        ),
        (
            "construction_permit",
            datetime(2026, 4, 7, 9, tzinfo=SHANGHAI),
            datetime(2026, 4, 30, 17, tzinfo=SHANGHAI),
        ),
    ):
        project = then(
            project, SubmitStage(actor=applicant_actor(), materials=STAGE_MATERIALS[stage]), accepted
        )
        project = through_stage(project, accepted, decided)
    building_ends = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)  # six months after the construction permit
    project = then(
        project,
        SubmitStage(actor=applicant_actor(), materials=STAGE_MATERIALS["completion_acceptance"]),
        building_ends,
    )
    project = then(project, AcceptStage(actor=window_officer()), building_ends)
    project = planned(project, building_ends)
    assert project.state.plan is not None
    before = progress_of(project.state, building_ends)
    assert before.working_days_used == sum(stage.working_days_used or 0 for stage in before.stages[:3])
    assert before.working_days_elapsed > 150  # elapsed counts the building; used does not
    assert before.warning_level is not WarningLevel.RED
    project = issued_all(project, datetime(2026, 11, 13, 17, tzinfo=SHANGHAI))
    assert project.state.status is ProjectStatus.COMPLETED
    final = progress_of(project.state, datetime(2026, 12, 1, tzinfo=SHANGHAI))
    assert final.working_days_used <= 90
    assert final.closed
    assert [s.status for s in final.stages] == ["completed"] * 4


def test_a_stage_overrunning_its_own_budget_warns_for_the_stage() -> None:
    project = planned(then(opened(), AcceptStage(actor=window_officer()), ACCEPTED), ACCEPTED)
    timer = next_timer(project.state)
    assert timer is not None
    assert isinstance(timer.command, RaiseBudgetWarning)
    assert timer.command.subject is Budget.STAGE
    assert timer.command.level is WarningLevel.NOTICE  # ⅔ of 30 = day 20, before the project's 60
    plan = project.state.plan
    assert plan is not None
    assert plan.stage_due_at is not None
    # 30 working days after 2026-01-05 end on the make-up Saturday 02-14; 90 on 05-20 (R-CAL-1's example).
    assert day_under_way(plan.stage_due_at).isoformat() == "2026-02-14"
    assert plan.due_at is not None
    assert day_under_way(plan.due_at).isoformat() == "2026-05-20"
    with pytest.raises(NotAuthorised):  # the engine's own command
        decide(project.state, timer.command.model_copy(update={"actor": window_officer()}), ACCEPTED)
    red = next(m for m in plan.marks if m.subject is Budget.STAGE and m.level is WarningLevel.RED)
    project = then(
        project,
        RaiseBudgetWarning(actor=ENGINE, level=WarningLevel.NOTICE, subject=Budget.STAGE),
        red.at,
    )
    raised = project.events[-1]
    assert raised.kind == "budget_warning_raised"
    assert raised.level is WarningLevel.RED
    assert "overran its limit of 30" in raised.reason


def test_a_denied_matter_ends_the_stage_and_the_project_with_its_reason() -> None:
    project = then(opened(), AcceptStage(actor=window_officer()), ACCEPTED)
    part = project.state.run.parts[1]
    denial = PartReading(
        application_id=part.application_id, status=Status.DENIED, closed=True, reason="选址不符合国土空间规划"
    )
    project = then(project, ReportParts(actor=ENGINE, readings=(denial,)), ACCEPTED + timedelta(days=3))
    assert project.state.status is ProjectStatus.DENIED
    assert "选址不符合国土空间规划" in project.state.reason


def test_withdrawal_closes_the_project_and_its_matters_still_report() -> None:
    project = then(opened(), AcceptStage(actor=window_officer()), ACCEPTED)
    project = then(
        project, WithdrawProject(actor=applicant_actor(), reason="项目取消"), ACCEPTED + timedelta(days=1)
    )
    assert project.state.status is ProjectStatus.WITHDRAWN
    assert len(project.state.open_parts) == 3
    followed = tuple(
        PartReading(application_id=p.application_id, status=Status.WITHDRAWN, closed=True)
        for p in project.state.run.parts
    )
    project = then(project, ReportParts(actor=ENGINE, readings=followed), ACCEPTED + timedelta(days=1))
    assert project.state.status is ProjectStatus.WITHDRAWN
    assert not project.state.open_parts
    with pytest.raises(NotAllowed):
        decide(project.state, SubmitStage(actor=applicant_actor(), materials=("design_scheme",)), ACCEPTED)


def test_small_social_investment_projects_run_stages_2_and_3_as_one() -> None:
    matter = project_matter("small_social_investment")
    assert [s.code for s in matter.stages] == [
        "land_planning",
        "construction_engineering-construction_permit",
        "completion_acceptance",
    ]
    assert [s.working_days for s in matter.stages] == [30, 45, 15]
    project = through_stage(opened(matter), ACCEPTED, datetime(2026, 2, 2, tzinfo=SHANGHAI))
    merged = STAGE_MATERIALS["construction_engineering"] + STAGE_MATERIALS["construction_permit"]
    project = then(
        project, SubmitStage(actor=applicant_actor(), materials=merged), datetime(2026, 3, 2, tzinfo=SHANGHAI)
    )
    project = then(project, AcceptStage(actor=window_officer()), datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    assert [p.code for p in project.state.run.parts] == [
        "design_scheme_review",
        "engineering_planning_permit",
        "drawing_review_confirmation",
        "construction_permit_issue",
    ]


def test_an_unknown_project_type_is_refused_with_the_nearest() -> None:
    with pytest.raises(UnknownMatter, match="small_social_investment"):
        project_matter("small_social_investmnt")


def test_a_joint_step_is_one_application_its_departments_countersign() -> None:
    """联合验收: planning, land, fire, civil defence and archives opinions as one step with one deadline."""
    part = project_matter().part("joint_completion_acceptance")
    assert part.departments == (
        "housing_construction",
        "natural_resources",
        "fire",
        "civil_defence",
        "archives",
    )
    assert part.approval.value == "countersign"
    assert part.limit == 15
    assert [m.code for m in part.materials] == [
        "completion_report",
        "completion_survey",
        "archive_transfer_list",
        "agent_authorisation",
    ]


def test_the_state_is_the_fold_of_the_events() -> None:
    project = through_stage(opened(), ACCEPTED, datetime(2026, 2, 2, tzinfo=SHANGHAI))
    assert replay(project.events) == project.state


# --- 模拟审批 and 投资承诺制 ------------------------------------------------------------------------------

WITHOUT_LAND = ("project_approval_documents", "site_pre_review_application", "agent_authorisation")


@pytest.mark.parametrize(
    ("project", "command", "why"),
    [
        (lambda: opened(materials=WITHOUT_LAND), {"precondition_within": 20}, "key projects"),
        (lambda: opened(key_project=True), {"precondition_within": 20}, "here already"),
        (lambda: opened(materials=WITHOUT_LAND, key_project=True), {}, "precondition_within"),
    ],
    ids=["not-a-key-project", "precondition-already-met", "no-deadline"],
)
def test_a_simulated_acceptance_is_refused_where_the_rule_does_not_allow_it(
    project: Callable[[], Project], command: dict[str, int], why: str
) -> None:
    with pytest.raises(InvalidCommand, match=why):
        decide(project().state, AcceptStage(actor=window_officer(), simulated=True, **command), ACCEPTED)


def test_without_the_land_rights_a_key_project_is_reviewed_simulated_and_confirmed_when_they_come() -> None:
    project = opened(materials=WITHOUT_LAND, key_project=True)
    with pytest.raises(MaterialsIncomplete):  # formally, the land rights are a core material
        decide(project.state, AcceptStage(actor=window_officer()), ACCEPTED)
    accept = AcceptStage(actor=window_officer(), simulated=True, precondition_within=20)
    project = planned(then(project, accept, ACCEPTED), ACCEPTED)
    simulation = project.state.simulation
    assert simulation is not None
    assert simulation.material == "land_use_documents"
    assert day_under_way(simulation.due_at).isoformat() == "2026-02-02"  # 20 working days from 01-05
    assert all(part.simulated for part in project.state.run.parts)
    timer = next_timer(project.state)
    assert timer is not None  # the stage's notice (day 20) and the precondition fall due together
    assert {type(timer.command).__name__} <= {"RaiseBudgetWarning", "LapsePrecondition"}
    met = MeetPrecondition(actor=steward(), evidence="国有建设用地使用权出让合同 大国土出 2026-001")
    project = then(project, met, ACCEPTED + timedelta(days=10))
    assert project.state.run.provided >= {"land_use_documents"}
    assert news(project.state) != "open:"  # the matters are told to look
    assert evidence(project.state) == met.evidence
    with pytest.raises(InvalidCommand):
        decide(project.state, met, ACCEPTED + timedelta(days=11))  # once


def test_a_precondition_not_met_by_its_deadline_lapses_the_opinions_and_ends_the_project() -> None:
    accept = AcceptStage(actor=window_officer(), simulated=True, precondition_within=5)
    project = then(opened(materials=WITHOUT_LAND, key_project=True), accept, ACCEPTED)
    simulation = project.state.simulation
    assert simulation is not None
    with pytest.raises(InvalidCommand):
        decide(project.state, LapsePrecondition(actor=ENGINE), ACCEPTED + timedelta(days=1))
    project = then(project, LapsePrecondition(actor=ENGINE), simulation.due_at)
    assert project.state.status is ProjectStatus.LAPSED
    assert "模拟审批意见失效" in project.state.reason
    assert effects_of(project.events[-1]) == (
        ProjectEffect.NOTIFY_APPLICANT,
        ProjectEffect.PUSH_TO_SUPERVISION,
    )


def test_an_investment_commitment_skips_its_pre_approvals_and_a_failed_acceptance_keeps_it_out_of_use() -> (
    None
):
    base = shipped_matter("CONSTRUCTION-PROJECT")
    matter = base.of_type("investment_commitment")
    skipped = base.commitment_skips("investment_commitment")
    assert skipped == ("design_scheme_review", "drawing_review_confirmation")
    assert all(m.code not in skipped for stage in matter.stages for m in stage.matters)
    with pytest.raises(InvalidCommand, match="承诺书"):
        opened(matter, skipped=skipped)
    with pytest.raises(InvalidCommand, match="only"):
        opened(commitment="承诺书-1")
    project = opened(matter, commitment="投资项目承诺书 2026-017", skipped=skipped)
    for index, (code, materials) in enumerate(STAGE_MATERIALS.items()):
        at = ACCEPTED + timedelta(days=30 * index)
        if index:
            project = then(project, SubmitStage(actor=applicant_actor(), materials=materials), at)
        project = then(project, AcceptStage(actor=window_officer()), at)
        if code != "completion_acceptance":
            project = issued_all(project, at + timedelta(days=5))
    joint = next(p for p in project.state.run.parts if p.code == "joint_completion_acceptance")
    failed = PartReading(
        application_id=joint.application_id, status=Status.DENIED, closed=True, reason="消防不合格"
    )
    project = then(project, ReportParts(actor=ENGINE, readings=(failed,)), ACCEPTED + timedelta(days=100))
    assert project.state.status is ProjectStatus.NOT_FOR_USE
    assert "不得投入使用" in project.state.reason
    assert ProjectEffect.WRITE_CREDIT_RECORD in effects_of(project.events[-1])
