"""ProjectWorkflow: an engineering-construction project, its stages in order over child applications.

The rules are ``workflows.domain.project``; the mechanism (log, chain, keys, effects once, timers) is
``workflows.orchestration``, shared with every process. A stage accepted at the window starts its matters
as child ``ApplicationWorkflow``s, each a whole application of its own. A child tells the project only that
it changed (a signal that carries nothing); the project then reads its children from Temporal
(``activities.peers``) and records what it read. When the project ends otherwise than by completion, it
tells its open children the same way, and each reads the project's end and ends with it.

A project may run for years (six months of building between stages is ordinary): when its history grows
long it continues as new, after its handlers finish, carrying its domain log forward.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from temporalio import workflow
from temporalio.common import (
    Priority,
    RawValue,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes
    from workflows.application_workflow import ApplicationWorkflow
    from workflows.boundary import decode, invalid, refusal, still_registering
    from workflows.domain.application import ENGINE
    from workflows.domain.calendar import local_date
    from workflows.domain.chain import ChainHash
    from workflows.domain.clock import highest
    from workflows.domain.commands import ReviseTrustedKeys
    from workflows.domain.composite import Part, PartReading
    from workflows.domain.errors import OneWindowError, UnknownMatter
    from workflows.domain.project import (
        PEOPLE_COMMANDS,
        ProjectCommand,
        ProjectEffect,
        ProjectEvent,
        ProjectProgress,
        ProjectState,
        ProjectSubmitted,
        ProjectWarningRaised,
        RecordProjectDeadlines,
        ReportParts,
        SubmitProject,
        admit,
        deadlines,
        decide,
        effects_of,
        evolve,
        may_read,
        next_timer,
        plan_basis,
        progress_of,
        project_readers,
        start,
    )
    from workflows.identity import TrustedKeys, key_id_of
    from workflows.messages import (
        ApplicantNotice,
        CatalogueEntry,
        Escalation,
        EventsPage,
        Intake,
        OutsideCall,
        PartOf,
        PartsRequest,
        ProjectIntake,
        ReadRequest,
        SupervisionPush,
        priority_of,
    )
    from workflows.orchestration import OUTSIDE_TIMEOUT, CaseWorkflow, gather_all

# A snapshot carries the whole domain log of a long project forward: larger than one command may be.
_SNAPSHOT_BYTES = 1024 * 1024


class ProjectSnapshot(BaseModel):
    """What a project carries into its next run when it continues as new."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events: list[ProjectEvent] = Field(min_length=1)
    effects_done: int
    audited: int
    started: tuple[str, ...]
    told_ended: tuple[str, ...]
    trusted: TrustedKeys
    chain_hash: ChainHash
    history_threshold: int | None
    parts_changed: bool


_INTAKE: TypeAdapter[ProjectIntake] = TypeAdapter(ProjectIntake)
_SNAPSHOT: TypeAdapter[ProjectSnapshot] = TypeAdapter(ProjectSnapshot)
_COMMANDS: TypeAdapter[ProjectCommand] = TypeAdapter(ProjectCommand)

if TYPE_CHECKING:
    StartPayload: TypeAlias = ProjectIntake | RawValue
    CommandPayload: TypeAlias = ProjectCommand | RawValue
else:
    StartPayload = CommandPayload = RawValue


def _command(payload: CommandPayload) -> ProjectCommand:
    return decode(payload, _COMMANDS, "command", PEOPLE_COMMANDS)


@workflow.defn
class ProjectWorkflow(CaseWorkflow[ProjectState, ProjectEvent, ProjectCommand]):
    """One project; the workflow id is its application number, each matter's is ``<number>.<matter>``."""

    @workflow.init
    def __init__(self, opening: StartPayload) -> None:
        """A run Temporal continued resumes here, before any update or query reaches it."""
        super().__init__()
        self._planned_for: tuple[object, ...] | None = None
        self._started: set[str] = set()  # the matters' applications started (as children, by any run)
        self._told_ended: set[str] = set()  # the open matters told that the project ended
        self._parts_changed = False
        self._history_threshold: int | None = None
        if workflow.info().continued_run_id is not None:
            self._resume(decode(opening, _SNAPSHOT, "snapshot", limit=_SNAPSHOT_BYTES))

    # --- the project's life ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, opening: StartPayload) -> ProjectProgress:
        """Register the project (or resume it from the run before), then follow it until it and its
        matters have ended."""
        if self._state is None:
            await self._register(decode(opening, _INTAKE, "intake"))
        else:
            self._upsert_search_attributes()
        while True:
            seen = self._current.version
            await self._perform_effects()
            await self._start_parts()
            if self._parts_changed:
                await self._read_parts()
                continue
            if self._current.closed:
                await self._tell_parts_the_project_ended()
                if not self._current.open_parts:
                    break
                await workflow.wait_condition(lambda: self._parts_changed)
                continue
            if self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._snapshot())
            await self._wait_for_change_or_deadline(seen)
        await self._perform_effects()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._progress()

    async def _register(self, intake: ProjectIntake) -> None:
        """Verify who submits, pin the entry (of the project's type) and the rules, claim the number."""
        started_at = self._now()
        year = local_date(intake.received_at).year
        context, entry, rules = await gather_all(
            self._verified_context(intake),
            self._local("lookup_matter", intake.matter_code, CatalogueEntry),
            self._deadline_rules(year, reload=False),
        )
        self._history_threshold = intake.history_threshold
        try:
            submission = SubmitProject(
                project_id=workflow.info().workflow_id,
                matter=entry.matter.of_type(intake.project_type),
                catalogue_version=entry.catalogue_version,
                rules=rules,
                applicant_key=context.applicant_key,
                trusted_keys=context.trusted.key_ids,
                **intake.model_dump(exclude={"matter_code", "assertion", "history_threshold"}),
            )
        except UnknownMatter as error:
            raise refusal(error) from None
        except ValidationError as error:
            raise invalid("submission", error) from None
        with self._clock_stopped_at(started_at):
            events = self._decide(submission)
        await self._claim_number()
        with self._clock_stopped_at(started_at):
            self._record(events, signed_by=key_id_of(intake.assertion))
            self._replan()

    def _resume(self, snapshot: ProjectSnapshot) -> None:
        """The project as the run before left it (only a run Temporal continued may resume)."""
        for event in snapshot.events:
            self._state = self._fold(self._state, event)
        self._events = list(snapshot.events)
        self._effects_done, self._audited = snapshot.effects_done, snapshot.audited
        self._started, self._told_ended = set(snapshot.started), set(snapshot.told_ended)
        self._trusted, self._chain_hash = snapshot.trusted, snapshot.chain_hash
        self._history_threshold = snapshot.history_threshold
        self._parts_changed = snapshot.parts_changed
        self._planned_for = self._plan_basis()

    def _snapshot(self) -> ProjectSnapshot:
        if self._trusted is None:  # a project registers only with its keys read
            raise RuntimeError("a project without trusted keys cannot continue")
        return ProjectSnapshot(
            events=self._events,
            effects_done=self._effects_done,
            audited=self._audited,
            started=tuple(sorted(self._started)),
            told_ended=tuple(sorted(self._told_ended)),
            trusted=self._trusted,
            chain_hash=self._chain_hash,
            history_threshold=self._history_threshold,
            parts_changed=self._parts_changed,
        )

    def _history_is_long(self) -> bool:
        """Temporal suggests continuing as new, or the project's own (smaller) threshold is passed."""
        info = workflow.info()
        threshold = self._history_threshold
        return info.is_continue_as_new_suggested() or (
            threshold is not None and info.get_current_history_length() > threshold
        )

    async def _start_parts(self) -> None:
        """Start the applications of the accepted stage's matters not started yet, side by side."""
        state = self._current
        if state.closed:
            return
        run = state.run
        waiting = [part for part in run.parts if part.application_id not in self._started]
        accepted_at = run.accepted_at or self._now()
        await asyncio.gather(*(self._start_part(part, run.provided, accepted_at) for part in waiting))
        self._started.update(part.application_id for part in waiting)

    async def _start_part(self, part: Part, provided: frozenset[str], accepted_at: datetime) -> None:
        state = self._current
        matter = state.matter.part(part.code)
        intake = Intake(
            actor=ENGINE,
            applicant=state.applicant,
            materials=tuple(m.code for m in matter.materials if m.code in provided),
            channel=state.channel,
            received_at=accepted_at,
            green_channel=state.green_channel,
            steward=state.steward,
            matter_code=matter.code,
            part_of=PartOf(
                project_id=state.project_id,
                item=part.code,
                matter=matter,
                catalogue_version=state.catalogue_version,
            ),
        )
        await workflow.start_child_workflow(
            ApplicationWorkflow.run,
            intake,
            id=part.application_id,
            task_queue=workflow.info().task_queue,
            # A project continues as new and its runs end; its matters' applications go on regardless.
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(search_attributes.PARENT, state.project_id)]
            ),
            priority=self._priority(),
        )

    async def _read_parts(self) -> None:
        """Read the open matters' applications from Temporal and record what changed."""
        self._parts_changed = False
        ids = tuple(
            part.application_id for part in self._current.open_parts if part.application_id in self._started
        )
        if not ids:
            return
        readings = await self._call("read_parts", PartsRequest(application_ids=ids), tuple[PartReading, ...])
        state = self._current
        by_id = {part.application_id: part.code for run in state.runs for part in run.parts}
        changed = tuple(r for r in readings if state.readings.get(by_id[r.application_id]) != r)
        if changed:
            self._apply(ReportParts(actor=ENGINE, readings=changed))

    async def _tell_parts_the_project_ended(self) -> None:
        """Each open matter hears once that the project changed; it reads the project's end itself."""
        untold = [
            part.application_id
            for part in self._current.open_parts
            if part.application_id in self._started and part.application_id not in self._told_ended
        ]
        await asyncio.gather(
            *(workflow.get_external_workflow_handle(number).signal("project_changed") for number in untold)
        )
        self._told_ended.update(untold)

    async def _wait_for_change_or_deadline(self, version: int) -> None:
        scheduled = next_timer(self._current)
        fired = await self._sleep_until_changed(
            version, scheduled.at if scheduled else None, lambda: self._parts_changed
        )
        if not fired or scheduled is None or self._now() < scheduled.at:
            return
        try:
            events = decide(self._state, scheduled.command, self._now())
        except OneWindowError as error:
            raise RuntimeError(f"the engine's own {scheduled.command.kind} was refused: {error}") from error
        self._record(events)
        self._replan()

    def _apply(self, command: ProjectCommand, *, signed_by: str | None = None) -> None:
        self._record(self._decide(command), signed_by=signed_by)
        self._replan()

    def _plan_basis(self) -> tuple[object, ...]:
        return plan_basis(self._current)

    def _replan(self) -> None:
        """Recompute the deadlines when what they depend on has changed (pure: the rules are pinned)."""
        basis = self._plan_basis()
        if self._current.closed or basis == self._planned_for:
            return
        self._planned_for = basis
        plan = deadlines(self._current, self._now())
        if plan != self._current.plan:
            self._record(self._decide(RecordProjectDeadlines(actor=ENGINE, plan=plan)))

    # --- messages --------------------------------------------------------------------------------------

    @workflow.update
    async def act(self, payload: CommandPayload) -> ProjectProgress:
        """Apply a person's command (a ``ProjectCommand`` as JSON); the validator refused anything else."""
        command = _command(payload)
        self._idempotency_keys.remember()
        trusted = None
        if isinstance(command, ReviseTrustedKeys):
            trusted = await workflow.execute_activity(
                "trusted_keys", result_type=TrustedKeys, start_to_close_timeout=OUTSIDE_TIMEOUT
            )
            command = command.model_copy(update={"trusted_keys": trusted.key_ids})
        self._apply(command, signed_by=key_id_of(command.assertion))
        self._trusted = trusted or self._trusted
        return self._progress()

    @act.validator
    def _refuse_invalid(self, payload: CommandPayload) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = _command(payload)
        if self._state is None:
            raise still_registering()
        try:
            self._authenticate(command, rotation=False)
            admit(self._state, command)
        except OneWindowError as error:
            raise refusal(error) from None
        self._idempotency_keys.refuse_reused()
        if isinstance(command, ReviseTrustedKeys):  # the trust store is read in the handler
            command = command.model_copy(update={"trusted_keys": self._current.trusted_keys or ("unread",)})
        self._decide(command)

    @workflow.signal
    def part_changed(self, *_ignored: object) -> None:
        """One of the project's matters changed: the project reads them from Temporal itself.

        The signal carries nothing; anyone may send it, and it only makes the project look.
        """
        self._parts_changed = True

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
        return self._progress(read.at) if self._may_read(read) else None

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage[ProjectEvent] | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first``."""
        if self._state is None:
            raise still_registering()
        return EventsPage.of(self._events, read.first) if self._may_read(read) else None

    # --- what the shared mechanism asks of a project ---------------------------------------------------

    def _may_read(self, read: ReadRequest) -> bool:
        return read.reader is None or may_read(self._current, read.reader)

    def _progress(self, at: datetime | None = None) -> ProjectProgress:
        return progress_of(self._current, at or self._now())

    def _priority(self) -> Priority:
        return priority_of(self._state.green_channel) if self._state else Priority.default

    def _fold(self, state: ProjectState | None, event: ProjectEvent) -> ProjectState:
        if isinstance(event, ProjectSubmitted):
            return start(event)
        if state is None:
            raise ValueError("a project's log starts with ProjectSubmitted")
        return evolve(state, event)

    def _decide_at(
        self, state: ProjectState | None, command: ProjectCommand, now: datetime
    ) -> tuple[ProjectEvent, ...]:
        return decide(state, command, now)

    def _wanted_search_attributes(self, state: ProjectState) -> Mapping[SearchAttributeKey[Any], object]:
        plan = state.plan
        return {
            search_attributes.STATUS: state.status.value,
            search_attributes.MATTER: state.matter.code,
            search_attributes.DEPARTMENTS: list(state.matter.departments),
            search_attributes.GREEN_CHANNEL: state.green_channel,
            search_attributes.APPLICANT_HASH: state.applicant_key,
            search_attributes.WARNING_LEVEL: highest(w.level for w in state.warnings).value,
            search_attributes.DUE_AT: plan.due_at if plan and not state.closed else None,
            search_attributes.READERS: list(project_readers(state)),
            search_attributes.CALENDAR: state.rules.calendar.version,
        }

    async def _effects_of(self, event: ProjectEvent, sequence: int) -> None:
        for effect in effects_of(event):
            await self._call(effect.value, self._outside_message(effect, event, self._key(sequence)))

    def _outside_message(self, effect: ProjectEffect, event: ProjectEvent, key: str) -> OutsideCall:
        state = self._current
        base = {"key": key, "application_id": state.project_id}
        match effect:
            case ProjectEffect.NOTIFY_APPLICANT:
                details = event.model_dump(mode="json", exclude={"kind", "at", "actor", "reason"})
                return ApplicantNotice(
                    **base, applicant=state.applicant, notice=event.kind, text=event.reason, details=details
                )
            case ProjectEffect.PUSH_TO_SUPERVISION:
                return SupervisionPush(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.matter.departments,
                    result=event.kind,
                )
            case ProjectEffect.ESCALATE if isinstance(event, ProjectWarningRaised):
                return Escalation(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.matter.departments,
                    subject=event.subject,
                    deadline_at=event.deadline_at,
                )
        raise ValueError(f"{event.kind} has no {effect.value} message")  # effects_of never asks for one
