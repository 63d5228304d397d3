"""CompositeWorkflow: a process whose matters are child ``ApplicationWorkflow``s (a construction project, an
enterprise establishment), on the mechanism every workflow shares (``workflows.orchestration``).

Each process supplies its pure rules as a ``CompositeRules`` (its own domain module); this class runs them:
registration, the matters started as children of the accepted stage, what they report read from Temporal
(a child's signal carries nothing: ``activities.peers``), the open matters told when the process ends,
deadlines on durable timers, effects performed once, and continue-as-new for a long history, after its
handlers finish, carrying the domain log forward.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

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

from workflows.application_workflow import ApplicationWorkflow
from workflows.orchestration import CaseWorkflow, gather_all

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as search_attributes  # noqa: PLR0402 - see workflows.registry
    from workflows.boundary import decode, invalid, refusal, still_registering
    from workflows.domain.application import ENGINE
    from workflows.domain.calendar import local_date
    from workflows.domain.chain import ChainHash
    from workflows.domain.commands import Command
    from workflows.domain.composite import (
        BudgetWarningRaised,
        CompositePlan,
        CompositeState,
        Part,
        PartReading,
    )
    from workflows.domain.credit import CreditRecordKind
    from workflows.domain.errors import OneWindowError, UnknownMatter
    from workflows.domain.events import Event
    from workflows.identity import TrustedKeys, key_id_of
    from workflows.messages import (
        ApplicantNotice,
        CatalogueEntry,
        CreditEntry,
        Escalation,
        EventsPage,
        Intake,
        OutsideCall,
        PartOf,
        PartsRequest,
        ProcessOutcome,
        ProjectIntake,
        ReadRequest,
        SecurityContext,
        SupervisionPush,
        priority_of,
    )
# A snapshot carries the whole domain log of a long process forward: larger than one command may be.
_SNAPSHOT_BYTES = 1024 * 1024
_INTAKE: TypeAdapter[ProjectIntake] = TypeAdapter(ProjectIntake)

_S = TypeVar("_S", bound=CompositeState)
_E = TypeVar("_E", bound=Event)
_K = TypeVar("_K", bound=Command)
_V = TypeVar("_V", bound=BaseModel)

if TYPE_CHECKING:
    OpeningPayload: TypeAlias = ProjectIntake | RawValue
    CommandPayload: TypeAlias = Command | RawValue
else:
    OpeningPayload = CommandPayload = RawValue


@dataclass(frozen=True)
class CompositeRules(Generic[_S, _E, _K, _V]):
    """One composite process's pure rules, as its domain module defines them."""

    commands: TypeAdapter[_K]
    people_commands: Sequence[str]
    events: type[BaseModel]  # the snapshot carrying this process's events
    submission: Callable[[ProjectIntake, CatalogueEntry, Any, SecurityContext, str], _K]
    start: Callable[[Any], _S]  # the first event opens the state
    opened_by: type[Event]
    evolve: Callable[[_S, Any], _S]
    decide: Callable[[_S | None, Any, datetime], tuple[_E, ...]]
    plan_basis: Callable[[_S], tuple[object, ...]]
    deadlines: Callable[[_S, datetime], CompositePlan]
    record_deadlines: Callable[[CompositePlan], _K]
    next_timer: Callable[[_S], tuple[datetime, _K] | None]
    report: Callable[[tuple[PartReading, ...]], _K]
    parts_to_start: Callable[[_S], tuple[tuple[Part, ...], frozenset[str], datetime | None]]
    progress: Callable[[_S, datetime], _V]
    effects: Callable[[Any], tuple[str, ...]]
    status: Callable[[_S], str]
    news: Callable[[_S], str]  # changes whenever the open matters must look (the end, a precondition met)
    evidence: Callable[[_S], str | None]  # 模拟审批: the precondition's evidence, once it came


class Snapshot(BaseModel):
    """What a process carries into its next run when it continues as new (its events are the
    ``events`` of its own rules' snapshot type)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effects_done: int
    audited: int
    started: tuple[str, ...]
    news_told: str | None
    trusted: TrustedKeys
    chain_hash: ChainHash
    history_threshold: int | None
    parts_changed: bool
    events: list[Any] = Field(min_length=1)


class CompositeWorkflow(CaseWorkflow[_S, _E, _K], Generic[_S, _E, _K, _V]):
    """The shared half of a composite process's workflow; the concrete class names its ``rules`` and
    declares ``run`` and its handlers (``act``, ``state``, ``events``, ``state_for``, ``events_for``) with
    its own types, each calling the method here."""

    rules: CompositeRules[_S, _E, _K, _V]

    @workflow.init
    def __init__(self, opening: OpeningPayload) -> None:
        """A run Temporal continued resumes here, before any update or query reaches it."""
        super().__init__()
        self._planned_for: tuple[object, ...] | None = None
        self._started: set[str] = set()  # the matters' applications started (as children, by any run)
        self._news_told: str | None = None  # what the open matters were last told to look at
        self._parts_changed = False
        self._history_threshold: int | None = None
        if workflow.info().continued_run_id is not None:
            self._resume(decode(opening, TypeAdapter(self.rules.events), "snapshot", limit=_SNAPSHOT_BYTES))

    # --- the process's life ----------------------------------------------------------------------------

    async def _follow(self, opening: OpeningPayload) -> _V:
        """Register the process (or resume it from the run before), then follow it until it and its
        matters have ended."""
        self._start_version()
        if self._state is None:
            await self._register(decode(opening, _INTAKE, "intake"))
        else:
            self._upsert_search_attributes()
        while True:
            seen = self._current.version
            # Side by side, one round trip: the new events' effects, the matters to start, what the
            # matters that said they changed now are.
            await gather_all(self._perform_effects(drain=False), self._start_parts(), self._read_parts())
            if self._current.version != seen or self._parts_changed:
                continue  # what was recorded meanwhile is acted on first
            await self._engine_step()
            if self._current.version != seen:
                continue
            await self._tell_parts_the_news()
            if self._current.closed:
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

    async def _engine_step(self) -> None:
        """What the engine itself does between a process's steps (none, unless the process says)."""

    async def _register(self, intake: ProjectIntake) -> None:
        """Verify who submits, pin the entry and the rules, claim the number, record the submission."""
        started_at = self._now()
        year = local_date(intake.received_at).year
        context, entry, rules = await gather_all(
            self._verified_context(intake),
            self._local("lookup_matter", intake.matter_code, CatalogueEntry),
            self._deadline_rules(year, reload=False),
        )
        self._history_threshold = intake.history_threshold
        try:
            submission = self.rules.submission(intake, entry, rules, context, workflow.info().workflow_id)
        except UnknownMatter as error:
            raise refusal(error) from None
        except ValidationError as error:
            raise invalid("submission", error) from None
        with self._clock_stopped_at(started_at):
            events = self._decide(submission)
        await self._claim_number()
        with self._clock_stopped_at(started_at):
            self._record(events, signed_by=key_id_of(intake.assertion))

    def _resume(self, snapshot: Any) -> None:  # noqa: ANN401 - the rules' own snapshot type
        """The process as the run before left it (only a run Temporal continued may resume)."""
        for event in snapshot.events:
            self._state = self._fold(self._state, event)
        self._events = list(snapshot.events)
        self._effects_done, self._audited = snapshot.effects_done, snapshot.audited
        self._started, self._news_told = set(snapshot.started), snapshot.news_told
        self._trusted, self._chain_hash = snapshot.trusted, snapshot.chain_hash
        self._history_threshold = snapshot.history_threshold
        self._parts_changed = snapshot.parts_changed
        self._planned_for = self.rules.plan_basis(self._current)

    def _snapshot(self) -> BaseModel:
        if self._trusted is None:  # a process registers only with its keys read
            raise RuntimeError("a process without trusted keys cannot continue")
        return self.rules.events(
            events=self._events,
            effects_done=self._effects_done,
            audited=self._audited,
            started=tuple(sorted(self._started)),
            news_told=self._news_told,
            trusted=self._trusted,
            chain_hash=self._chain_hash,
            history_threshold=self._history_threshold,
            parts_changed=self._parts_changed,
        )

    def _history_is_long(self) -> bool:
        """Temporal suggests continuing as new, or the process's own (smaller) threshold is passed."""
        info = workflow.info()
        threshold = self._history_threshold
        return info.is_continue_as_new_suggested() or (
            threshold is not None and info.get_current_history_length() > threshold
        )

    async def _start_parts(self) -> None:
        """Start the applications of the matters the process has opened and not started yet, side by side."""
        state = self._current
        if state.closed:
            return
        parts, provided, received_at = self.rules.parts_to_start(state)
        waiting = [part for part in parts if part.application_id not in self._started]
        received = received_at or self._now()
        await asyncio.gather(*(self._start_part(part, provided, received) for part in waiting))
        self._started.update(part.application_id for part in waiting)

    async def _start_part(self, part: Part, provided: frozenset[str], received_at: datetime) -> None:
        state = self._current
        matter = state.matter.part(part.code)
        intake = Intake(
            actor=ENGINE,
            applicant=state.applicant,
            materials=tuple(m.code for m in matter.materials if m.code in provided),
            channel=state.channel,
            received_at=received_at,
            green_channel=state.green_channel,
            steward=state.steward,
            matter_code=matter.code,
            part_of=PartOf(
                project_id=state.process_id,
                item=part.code,
                matter=matter,
                catalogue_version=state.catalogue_version,
                simulated=part.simulated,
                rules=state.rules,
                security=self._security_of(state),
            ),
        )
        await workflow.start_child_workflow(
            ApplicationWorkflow.run,
            intake,
            id=part.application_id,
            task_queue=workflow.info().task_queue,
            # A process continues as new and its runs end; its matters' applications go on regardless.
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(search_attributes.PARENT, state.process_id)]
            ),
            priority=self._priority(),
        )

    def _security_of(self, state: _S) -> SecurityContext:
        """What a matter's application trusts and names its applicant by: the process's own."""
        if self._trusted is None or state.applicant_key is None:  # a process registers with both
            raise RuntimeError("a process without its keys cannot start its matters")
        return SecurityContext(
            trusted=self._trusted, applicant_key=state.applicant_key, chain_hash=self._chain_hash
        )

    async def _read_parts(self) -> None:
        """Read the open matters' applications from Temporal, if any said it changed, and record what did."""
        if not self._parts_changed:
            return
        self._parts_changed = False
        open_ids = tuple(part.application_id for part in self._current.open_parts)
        ids = tuple(number for number in open_ids if number in self._started)
        if not ids:
            return
        request = PartsRequest(application_ids=ids)
        readings = await self._call("read_parts", request, tuple[PartReading, ...])
        state = self._current
        by_id = {part.application_id: part.code for run in state.runs for part in run.parts}
        changed = tuple(r for r in readings if state.readings.get(by_id[r.application_id]) != r)
        if changed:
            self._apply(self.rules.report(changed))

    async def _tell_parts_the_news(self) -> None:
        """When the process has news for its open matters (its end, a precondition met), each hears that
        it changed, once; each reads the process itself (``outcome``)."""
        news = self.rules.news(self._current)
        if news == self._news_told:
            return
        if self._news_told is not None:  # a process just registered has nothing to tell
            told = [
                part.application_id
                for part in self._current.open_parts
                if part.application_id in self._started
            ]
            await asyncio.gather(
                *(workflow.get_external_workflow_handle(number).signal("project_changed") for number in told)
            )
        self._news_told = news

    async def _wait_for_change_or_deadline(self, version: int) -> None:
        scheduled = self.rules.next_timer(self._current)
        wake_at = scheduled[0] if scheduled else None
        fired = await self._sleep_until_changed(version, wake_at, lambda: self._parts_changed)
        if not fired or scheduled is None or self._now() < scheduled[0]:
            return
        try:
            events = self.rules.decide(self._state, scheduled[1], self._now())
        except OneWindowError as error:
            raise RuntimeError(f"the engine's own {_kind(scheduled[1])} was refused: {error}") from error
        self._record(events)

    def _consequences(self) -> tuple[_E, ...]:
        """The deadlines recomputed when what they depend on has changed (pure: the rules are pinned)."""
        state = self._current
        basis = self.rules.plan_basis(state)
        if state.closed or basis == self._planned_for:
            return ()
        self._planned_for = basis
        plan = self.rules.deadlines(state, self._now())
        return self._decide(self.rules.record_deadlines(plan)) if plan != state.plan else ()

    # --- messages --------------------------------------------------------------------------------------

    def _command(self, payload: CommandPayload) -> _K:
        return decode(payload, self.rules.commands, "command", self.rules.people_commands)

    # The handlers: each concrete workflow declares them with its own types (the SDK decodes a result by
    # the handler's annotation, which here would be a type variable), calling these.

    async def _act(self, payload: CommandPayload) -> _V:
        """Apply a person's command; the validator (``_refuse_invalid``) refused anything else."""
        await self._give(self._command(payload))
        return self._progress()

    def _refuse_invalid(self, payload: CommandPayload) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = self._command(payload)
        self._refuse_unadmitted(command, lambda state, given: state.admit(given))
        self._decide_as_the_handler_will(command)

    @workflow.signal
    def part_changed(self, *_ignored: object) -> None:
        """One of the process's matters changed: the process reads them from Temporal itself.

        The signal carries nothing; anyone may send it, and it only makes the process look.
        """
        self._parts_changed = True

    @workflow.query
    def outcome(self) -> ProcessOutcome:
        """Whether the process has ended and how: what each of its matters reads when told it changed."""
        state = self._current
        return ProcessOutcome(
            closed=state.closed,
            status=self.rules.status(state),
            reason=state.reason,
            evidence=self.rules.evidence(state),
        )

    def _state_for(self, read: ReadRequest) -> _V | None:
        return self._progress(read.at) if self._may_read(read) else None

    def _events_for(self, read: ReadRequest) -> EventsPage[_E] | None:
        if self._state is None:
            raise still_registering()
        return EventsPage.of(self._events, read.first) if self._may_read(read) else None

    # --- what the shared mechanism asks of a composite process -----------------------------------------

    def _may_read(self, read: ReadRequest) -> bool:
        return read.reader is None or self._current.may_read(read.reader)

    def _progress(self, at: datetime | None = None) -> _V:
        return self.rules.progress(self._current, at or self._now())

    def _priority(self) -> Priority:
        return priority_of(self._state.green_channel) if self._state else Priority.default

    def _fold(self, state: _S | None, event: _E) -> _S:
        if isinstance(event, self.rules.opened_by):
            return self.rules.start(event)
        if state is None:
            raise ValueError("a process's log starts with its submission")
        return self.rules.evolve(state, event)

    def _decide_at(self, state: _S | None, command: _K, now: datetime) -> tuple[_E, ...]:
        return self.rules.decide(state, command, now)

    def _wanted_search_attributes(self, state: _S) -> Mapping[SearchAttributeKey[Any], object]:
        plan = state.plan
        closed: bool = state.closed
        return {
            search_attributes.STATUS: self.rules.status(state),
            search_attributes.MATTER: state.matter.code,
            search_attributes.DEPARTMENTS: list(state.matter.departments),
            search_attributes.GREEN_CHANNEL: state.green_channel,
            search_attributes.APPLICANT_HASH: state.applicant_key,
            search_attributes.WARNING_LEVEL: state.warning_raised().value,
            search_attributes.DUE_AT: plan.due_at if plan and not closed else None,
            search_attributes.READERS: list(state.readers),
            search_attributes.CALENDAR: state.rules.calendar.version,
        }

    def _calls_of(self, event: _E, key: str) -> Iterator[tuple[str, OutsideCall]]:
        for effect in self.rules.effects(event):
            yield effect, self._outside_message(effect, event, key)

    def _outside_message(self, effect: str, event: _E, key: str) -> OutsideCall:
        state = self._current
        base = {"key": key, "application_id": state.process_id}
        match effect:
            case "notify_applicant":
                details = event.model_dump(mode="json", exclude={"kind", "at", "actor", "reason"})
                return ApplicantNotice(
                    **base, applicant=state.applicant, notice=_kind(event), text=event.reason, details=details
                )
            case "push_to_supervision":
                return SupervisionPush(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.matter.departments,
                    result=_kind(event),
                )
            case "write_credit_record":  # 投资承诺制: a project that failed its commitment
                return CreditEntry(
                    **base,
                    applicant_id=state.applicant.id_number,
                    applicant_key=state.applicant_key,
                    kind=CreditRecordKind.INVESTMENT_COMMITMENT_FAILED,
                    reason=event.reason,
                    at=event.at,
                )
            case "escalate" if isinstance(event, BudgetWarningRaised):
                return Escalation(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.matter.departments,
                    subject=event.subject,
                    deadline_at=event.deadline_at,
                )
        raise ValueError(f"no {effect} message for this event")  # the rules' effects never ask for one


def _kind(message: BaseModel) -> str:
    """A command's or event's ``kind`` (every one of them has it; the base classes do not say so)."""
    return str(message.model_dump(include={"kind"})["kind"])
