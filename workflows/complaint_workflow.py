"""ComplaintWorkflow: a 12345/8890 complaint's closed loop (DESIGN.md sections 8 and 9).

The rules are ``workflows.domain.complaint``; the mechanism is ``workflows.orchestration``'s, as every
process's: the chained log, signed commands, effects once, and one durable timer, on the next warning of
the handling period in force (notice, yellow, red with 督办), re-armed whenever the complaint changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import TypeAdapter, ValidationError
from temporalio import workflow
from temporalio.common import Priority, RawValue, SearchAttributeKey
from temporalio.exceptions import ActivityError

from workflows.orchestration import CaseWorkflow, gather_all

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as search_attributes  # noqa: PLR0402 - see workflows.registry
    from workflows.boundary import decode, invalid, refusal, still_registering
    from workflows.domain.application import ENGINE
    from workflows.domain.calendar import local_date
    from workflows.domain.clock import WarningSubject
    from workflows.domain.complaint import (
        PEOPLE_COMMANDS,
        ComplaintCommand,
        ComplaintEvent,
        ComplaintRegistered,
        ComplaintState,
        ComplaintView,
        HandlingWarningRaised,
        MergeComplaint,
        RaiseHandlingWarning,
        RegisterComplaint,
        decide,
        effects_of,
        evolve,
        handling_due,
        next_warning,
        report_facts,
        start,
        view_of,
    )
    from workflows.domain.errors import InvalidCommand, UnknownApplication
    from workflows.identity import key_id_of
    from workflows.messages import (
        ORDINARY_PRIORITY,
        ComplaintCategoryEntry,
        ComplaintIntake,
        ComplaintLink,
        DepartmentNotice,
        Escalation,
        EventsPage,
        OutsideCall,
        ReadRequest,
        SupervisionPush,
    )

_INTAKE: TypeAdapter[ComplaintIntake] = TypeAdapter(ComplaintIntake)
_COMMANDS: TypeAdapter[ComplaintCommand] = TypeAdapter(ComplaintCommand)

if TYPE_CHECKING:
    IntakePayload: TypeAlias = ComplaintIntake | RawValue
    CommandPayload: TypeAlias = ComplaintCommand | RawValue
else:
    IntakePayload = CommandPayload = RawValue


@workflow.defn
class ComplaintWorkflow(CaseWorkflow[ComplaintState, ComplaintEvent, ComplaintCommand]):
    """One complaint; the workflow id is its number (the hotline's work-order number)."""

    @workflow.run
    async def run(self, intake: IntakePayload) -> ComplaintView:
        """Register and dispatch the complaint, then follow it until it is closed or merged."""
        await self._register(decode(intake, _INTAKE, "intake"))
        while True:
            seen = self._current.version
            await self._perform_effects()
            if self._current.closed:
                break
            mark = next_warning(self._current)
            fired = await self._sleep_until_changed(seen, mark.at if mark else None)
            if fired and mark is not None:
                self._record(self._decide(RaiseHandlingWarning(actor=ENGINE, level=mark.level)))
        await self._perform_effects()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return view_of(self._current, self._now())

    async def _register(self, intake: ComplaintIntake) -> None:
        """Verify the operator, pin the dispatch table's row and the calendar, claim the number, record."""
        self._start_version()
        started_at = self._now()
        context, entry, rules = await gather_all(
            self._verified_context(intake, intake.caller.phone),  # the caller's pseudonym
            self._local("lookup_complaint_category", intake.category_code, ComplaintCategoryEntry),
            self._deadline_rules(local_date(started_at).year, reload=False),
        )
        try:
            registration = RegisterComplaint(
                complaint_id=workflow.info().workflow_id,
                category=entry.category,
                catalogue_version=entry.catalogue_version,
                rules=rules,
                caller_key=context.applicant_key,
                trusted_keys=context.trusted.key_ids,
                application_id=intake.concerns,
                **intake.model_dump(exclude={"category_code", "assertion", "concerns"}),
            )
        except ValidationError as error:
            raise invalid("complaint", error) from None
        with self._clock_stopped_at(started_at):
            events = self._decide(registration)  # a stranger is refused before any case is looked up
        if intake.concerns is not None:  # a mistyped number fails the registration, typed
            await self._call("concerned_application", intake.concerns)
        await self._claim_number()
        with self._clock_stopped_at(started_at):
            self._record(events, signed_by=key_id_of(intake.assertion))

    # --- messages -----------------------------------------------------------------------------------------

    @workflow.update
    async def act(self, payload: CommandPayload) -> ComplaintView:
        """Apply a person's command (a ``ComplaintCommand`` as JSON); the validator refused the rest.

        并单 first reads the complaint it merges into: only another open complaint takes a duplicate (a
        refusal here is an update that failed, typed, and stays in the history).
        """
        command = decode(payload, _COMMANDS, "command", PEOPLE_COMMANDS)
        if isinstance(command, MergeComplaint):
            await self._require_open(command.into)
        await self._give(command)
        return view_of(self._current, self._now())

    async def _require_open(self, complaint_id: str) -> None:
        try:
            target = await self._call("read_complaint", complaint_id, ComplaintLink)
        except ActivityError:
            raise refusal(UnknownApplication(f"no complaint {complaint_id}")) from None
        if not target.open:
            raise refusal(InvalidCommand(f"{complaint_id} is closed or merged: merge into an open one"))

    @act.validator
    def _refuse_invalid(self, payload: CommandPayload) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = decode(payload, _COMMANDS, "command", PEOPLE_COMMANDS)
        self._refuse_unadmitted(command, ComplaintState.admit)
        self._decide_as_the_handler_will(command)

    @workflow.query
    def state(self) -> ComplaintView:
        """Where the complaint stands, its handling deadline, and what may be done now."""
        return view_of(self._current, self._now())

    @workflow.query
    def link(self) -> ComplaintLink:
        """What the application it concerns reads of it before linking it (never the caller)."""
        state = self._current
        return ComplaintLink(
            complaint_id=state.complaint_id,
            application_id=state.registered.application_id,
            category_code=state.category.code,
            department=state.department,
            open=not state.closed,
        )

    @workflow.query
    def events(self) -> list[ComplaintEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    @workflow.query
    def state_for(self, read: ReadRequest) -> ComplaintView | None:
        """``state`` as ``read.reader`` may see it, at ``read.at``: nothing (``null``) if not theirs."""
        if not self._may_read(read):
            return None
        return view_of(self._current, read.at or self._now())

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage[ComplaintEvent] | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first``."""
        if self._state is None:
            raise still_registering()
        return EventsPage.of(self._events, read.first) if self._may_read(read) else None

    # --- what the shared mechanism asks of a process --------------------------------------------------

    def _may_read(self, read: ReadRequest) -> bool:
        return read.reader is None or self._current.may_read(read.reader)

    def _priority(self) -> Priority:
        return ORDINARY_PRIORITY

    def _fold(self, state: ComplaintState | None, event: ComplaintEvent) -> ComplaintState:
        if isinstance(event, ComplaintRegistered):
            return start(event)
        if state is None:
            raise ValueError("a complaint's log starts with its registration")
        return evolve(state, event)

    def _decide_at(
        self, state: ComplaintState | None, command: ComplaintCommand, now: datetime
    ) -> tuple[ComplaintEvent, ...]:
        return decide(state, command, now)

    def _wanted_search_attributes(self, state: ComplaintState) -> Mapping[SearchAttributeKey[Any], object]:
        # Never the caller: a search attribute is stored unencrypted.
        return {
            search_attributes.STATUS: state.status.value,
            search_attributes.DEPARTMENTS: [state.department],
            search_attributes.READERS: list(state.readers),
            search_attributes.DUE_AT: handling_due(state),
            search_attributes.WARNING_LEVEL: state.warned.value,
            search_attributes.MATTER: state.category.code,
            search_attributes.CONCERNS: state.registered.application_id,
            **search_attributes.reported(report_facts(state)),
        }

    def _calls_of(self, event: ComplaintEvent, key: str) -> Iterator[tuple[str, OutsideCall]]:
        for effect in effects_of(event):
            yield effect, self._outside_message(effect, event, key)

    async def _tell_peers(self, event: ComplaintEvent) -> None:
        """The application hears that a complaint concerns it, and reads the complaint itself; a case
        already closed hears nothing (the complaint still names it, ``OwConcerns``)."""
        if not isinstance(event, ComplaintRegistered) or event.application_id is None:
            return
        application = workflow.get_external_workflow_handle(event.application_id)
        try:
            await application.signal("complaint_filed", self._current.complaint_id)
        except Exception as error:
            workflow.logger.info("application_not_told", extra={"error": type(error).__name__})

    def _outside_message(self, effect: str, event: ComplaintEvent, key: str) -> OutsideCall:
        """The department's notice, or supervision's escalation; the caller is never in either."""
        state = self._current
        base = {"key": key, "application_id": state.complaint_id}
        departments = (state.department,)
        if effect == "escalate" and isinstance(event, HandlingWarningRaised):
            return Escalation(
                **base,
                matter_code=state.category.code,
                departments=departments,
                subject=WarningSubject.HANDLING,
                deadline_at=event.deadline_at,
            )
        if effect == "push_to_supervision":
            return SupervisionPush(
                **base, matter_code=state.category.code, departments=departments, result="joint_supervision"
            )
        return DepartmentNotice(
            **base, departments=departments, notice=event.kind, text=event.reason or state.category.name
        )
