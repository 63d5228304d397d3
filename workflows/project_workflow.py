"""ProjectWorkflow: an engineering-construction project, its stages in order over child applications.

The rules are ``workflows.domain.project``; how a composite process runs them (its matters as children,
read from Temporal, deadlines, effects, continue-as-new) is ``workflows.composite_workflow``, shared with
the enterprise establishment, on the mechanism every workflow shares (``workflows.orchestration``).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, TypeAdapter
from temporalio import workflow

from workflows.composite_workflow import (
    CommandPayload,
    CompositeRules,
    CompositeWorkflow,
    OpeningPayload,
    Snapshot,
)

with workflow.unsafe.imports_passed_through():
    from workflows.domain.application import ENGINE
    from workflows.domain.clock import DeadlineRules
    from workflows.domain.composite import (
        CompositePlan,
        Part,
        PartReading,
        RecordBudgets,
        ReportParts,
    )
    from workflows.domain.project import (
        PEOPLE_COMMANDS,
        ProjectCommand,
        ProjectEvent,
        ProjectProgress,
        ProjectState,
        ProjectSubmitted,
        SubmitProject,
        deadlines,
        decide,
        effects_of,
        evidence,
        evolve,
        news,
        next_timer,
        plan_basis,
        progress_of,
        start,
    )
    from workflows.messages import CatalogueEntry, EventsPage, ProjectIntake, ReadRequest, SecurityContext


class ProjectSnapshot(Snapshot):
    """A project carried into its next run."""

    events: list[ProjectEvent] = Field(min_length=1)


def _submission(
    intake: ProjectIntake, entry: CatalogueEntry, rules: DeadlineRules, context: SecurityContext, number: str
) -> SubmitProject:
    return SubmitProject(
        project_id=number,
        matter=entry.matter.of_type(intake.project_type),
        catalogue_version=entry.catalogue_version,
        rules=rules,
        applicant_key=context.applicant_key,
        trusted_keys=context.trusted.key_ids,
        skipped=entry.matter.commitment_skips(intake.project_type),
        **intake.model_dump(exclude={"matter_code", "assertion", "history_threshold"}),
    )


def _timer(state: ProjectState) -> tuple[datetime, ProjectCommand] | None:
    timer = next_timer(state)
    return (timer.at, timer.command) if timer else None


def _accepted_stage(state: ProjectState) -> tuple[tuple[Part, ...], frozenset[str], datetime | None]:
    """The accepted stage's matters; under 模拟审批 they are reviewed as if the awaited precondition were
    there (their opinions have no legal effect until it comes)."""
    simulation = state.simulation
    awaited = {simulation.material} if simulation and simulation.stage == state.stage.code else set()
    return state.run.parts, state.run.provided | awaited, state.run.accepted_at


def _deadlines_recorded(plan: CompositePlan) -> ProjectCommand:
    return RecordBudgets(actor=ENGINE, plan=plan)


def _reported(readings: tuple[PartReading, ...]) -> ProjectCommand:
    return ReportParts(actor=ENGINE, readings=readings)


PROJECT_RULES: CompositeRules[ProjectState, ProjectEvent, ProjectCommand, ProjectProgress] = CompositeRules(
    commands=TypeAdapter(ProjectCommand),
    people_commands=PEOPLE_COMMANDS,
    events=ProjectSnapshot,
    submission=_submission,
    start=start,
    opened_by=ProjectSubmitted,
    evolve=evolve,
    decide=decide,
    plan_basis=plan_basis,
    deadlines=deadlines,
    record_deadlines=_deadlines_recorded,
    next_timer=_timer,
    report=_reported,
    parts_to_start=_accepted_stage,
    progress=progress_of,
    effects=lambda event: tuple(effect.value for effect in effects_of(event)),
    status=lambda state: state.status.value,
    news=news,
    evidence=evidence,
)


@workflow.defn
class ProjectWorkflow(CompositeWorkflow[ProjectState, ProjectEvent, ProjectCommand, ProjectProgress]):
    """One project; the workflow id is its number, each matter's application is ``<number>.<matter>``."""

    rules = PROJECT_RULES

    @workflow.run
    async def run(self, opening: OpeningPayload) -> ProjectProgress:
        """Register the project, then follow it until it and its matters have ended."""
        return await self._follow(opening)

    @workflow.update
    async def act(self, payload: CommandPayload) -> ProjectProgress:
        """Apply a person's command (a ``ProjectCommand`` as JSON)."""
        return await self._act(payload)

    @act.validator
    def _validate_act(self, payload: CommandPayload) -> None:
        self._refuse_invalid(payload)

    @workflow.query
    def state(self, at: datetime | None = None) -> ProjectProgress:
        """The progress: stage, every matter's status, working days used and left per stage and overall."""
        return self._progress(at)

    @workflow.query
    def events(self) -> list[ProjectEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    @workflow.query
    def state_for(self, read: ReadRequest) -> ProjectProgress | None:
        """``state`` as ``read.reader`` may see it: nothing (``null``) if their role does not cover it."""
        return self._state_for(read)

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage[ProjectEvent] | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first``."""
        return self._events_for(read)
