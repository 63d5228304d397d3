"""EstablishmentWorkflow: enterprise establishment (企业开办) in one working day, over child applications.

The rules are ``workflows.domain.establishment``; the composite mechanism is ``workflows.composite_workflow``.
Between business registration and the parallel matters the engine assigns the unified social credit code:
a candidate of GB 32100-2015, held for good in Temporal by the same claim that holds application numbers
(``workflows.number_claim``), the next candidate if another establishment holds it.
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

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    from workflows.boundary import refusal
    from workflows.domain.application import ENGINE
    from workflows.domain.clock import DeadlineRules
    from workflows.domain.composite import (
        CompositePlan,
        Part,
        PartReading,
        RecordBudgets,
        ReportParts,
    )
    from workflows.domain.credit_code import candidate
    from workflows.domain.errors import InvalidCommand
    from workflows.domain.establishment import (
        PEOPLE_COMMANDS,
        AssignCreditCode,
        EstablishmentCommand,
        EstablishmentEvent,
        EstablishmentProgress,
        EstablishmentState,
        EstablishmentStatus,
        EstablishmentSubmitted,
        SubmitEstablishment,
        deadlines,
        decide,
        effects_of,
        evolve,
        next_timer,
        plan_basis,
        progress_of,
        start,
    )
    from workflows.messages import CatalogueEntry, EventsPage, ProjectIntake, ReadRequest, SecurityContext
    from workflows.number_claim import Claim

# Candidates tried for a credit code before the case gives up (another establishment holding one of them
# is already a one-in-ten-million event).
_CODE_ATTEMPTS = 16


class EstablishmentSnapshot(Snapshot):
    """An establishment carried into its next run."""

    events: list[EstablishmentEvent] = Field(min_length=1)


def _submission(
    intake: ProjectIntake, entry: CatalogueEntry, rules: DeadlineRules, context: SecurityContext, number: str
) -> SubmitEstablishment:
    if intake.project_type is not None or intake.commitment is not None:
        raise refusal(InvalidCommand("an establishment has no project type nor commitment; leave them out"))
    return SubmitEstablishment(
        establishment_id=number,
        matter=entry.matter,
        catalogue_version=entry.catalogue_version,
        rules=rules,
        applicant_key=context.applicant_key,
        trusted_keys=context.trusted.key_ids,
        **intake.model_dump(
            exclude={"matter_code", "assertion", "history_threshold", "project_type", "commitment"}
        ),
    )


def _current_stage(state: EstablishmentState) -> tuple[tuple[Part, ...], frozenset[str], datetime | None]:
    if not state.runs:
        return (), frozenset(), None
    run = state.runs[-1]
    return run.parts, run.provided, run.accepted_at


def _deadlines_recorded(plan: CompositePlan) -> EstablishmentCommand:
    return RecordBudgets(actor=ENGINE, plan=plan)


def _reported(readings: tuple[PartReading, ...]) -> EstablishmentCommand:
    return ReportParts(actor=ENGINE, readings=readings)


ESTABLISHMENT_RULES: CompositeRules[
    EstablishmentState, EstablishmentEvent, EstablishmentCommand, EstablishmentProgress
] = CompositeRules(
    commands=TypeAdapter(EstablishmentCommand),
    people_commands=PEOPLE_COMMANDS,
    events=EstablishmentSnapshot,
    submission=_submission,
    start=start,
    opened_by=EstablishmentSubmitted,
    evolve=evolve,
    decide=decide,
    plan_basis=plan_basis,
    deadlines=deadlines,
    record_deadlines=_deadlines_recorded,
    next_timer=next_timer,
    report=_reported,
    parts_to_start=_current_stage,
    progress=progress_of,
    effects=effects_of,
    status=lambda state: state.status.value,
    news=lambda state: "closed" if state.closed else "open",
    evidence=lambda _: None,
)


@workflow.defn
class EstablishmentWorkflow(
    CompositeWorkflow[EstablishmentState, EstablishmentEvent, EstablishmentCommand, EstablishmentProgress]
):
    """One establishment; the workflow id is its number, each matter's application ``<number>.<matter>``."""

    rules = ESTABLISHMENT_RULES

    @workflow.run
    async def run(self, opening: OpeningPayload) -> EstablishmentProgress:
        """Register the one form, then follow the establishment until it and its matters have ended."""
        return await self._follow(opening)

    async def _engine_step(self) -> None:
        """Once business registration is issued, claim the first free credit code and assign it."""
        state = self._current
        if state.status is not EstablishmentStatus.REGISTERED:
            return
        asked_at = self._now()  # the claims are local activities: decide as of before them
        info = workflow.info()
        holder = f"{info.workflow_id}/{info.first_execution_run_id}"
        prefix = state.matter.credit_code_prefix or ""
        for attempt in range(_CODE_ATTEMPTS):
            code = candidate(prefix, state.process_id, attempt)
            if await self._local(
                "claim_number", Claim(application_number=f"USCC-{code}", holder=holder), bool
            ):
                with self._clock_stopped_at(asked_at):
                    self._apply(AssignCreditCode(actor=ENGINE, credit_code=code))
                return
        raise RuntimeError(
            f"{_CODE_ATTEMPTS} credit codes in a row are held by others: the claims need a look"
        )

    @workflow.update
    async def act(self, payload: CommandPayload) -> EstablishmentProgress:
        """Apply a person's command (an ``EstablishmentCommand`` as JSON)."""
        return await self._act(payload)

    @act.validator
    def _validate_act(self, payload: CommandPayload) -> None:
        self._refuse_invalid(payload)

    @workflow.query
    def state(self, at: datetime | None = None) -> EstablishmentProgress:
        """Every sub-item, the credit code, the one clock's working days used and left."""
        return self._progress(at)

    @workflow.query
    def events(self) -> list[EstablishmentEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    @workflow.query
    def state_for(self, read: ReadRequest) -> EstablishmentProgress | None:
        """``state`` as ``read.reader`` may see it: nothing (``null``) if their role does not cover it."""
        return self._state_for(read)

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage[EstablishmentEvent] | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first``."""
        return self._events_for(read)
