"""ConsultationWorkflow: 提前介入, early guidance for a green-channel case before its formal submission.

The rules are ``workflows.domain.consultation``; the mechanism is ``workflows.orchestration``'s, as every
process's: the chained log, signed commands, effects once, a durable timer (the consultation lapses after
its working days). The application submitted on it reads its ``findings`` query at registration.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import TypeAdapter, ValidationError
from temporalio import workflow
from temporalio.common import Priority, RawValue, SearchAttributeKey

from workflows.orchestration import CaseWorkflow, gather_all

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as search_attributes  # noqa: PLR0402 - see workflows.registry
    from workflows.boundary import decode, invalid, still_registering
    from workflows.domain.application import ENGINE
    from workflows.domain.calendar import local_date
    from workflows.domain.consultation import (
        EFFECTS,
        PEOPLE_COMMANDS,
        ConsultationCommand,
        ConsultationEvent,
        ConsultationOpened,
        ConsultationState,
        ConsultationView,
        LapseConsultation,
        OpenConsultation,
        decide,
        evolve,
        findings_of,
        lapses_at,
        start,
        view_of,
    )
    from workflows.domain.events import ConsultationFindings
    from workflows.identity import key_id_of
    from workflows.messages import (
        GREEN_CHANNEL_PRIORITY,
        ApplicantNotice,
        CatalogueEntry,
        ConsultationIntake,
        DepartmentNotice,
        EventsPage,
        OutsideCall,
        ReadRequest,
    )

_INTAKE: TypeAdapter[ConsultationIntake] = TypeAdapter(ConsultationIntake)
_COMMANDS: TypeAdapter[ConsultationCommand] = TypeAdapter(ConsultationCommand)

if TYPE_CHECKING:
    IntakePayload: TypeAlias = ConsultationIntake | RawValue
    CommandPayload: TypeAlias = ConsultationCommand | RawValue
else:
    IntakePayload = CommandPayload = RawValue


@workflow.defn
class ConsultationWorkflow(CaseWorkflow[ConsultationState, ConsultationEvent, ConsultationCommand]):
    """One consultation; the workflow id is its number, which an intake names as ``consultation_id``."""

    @workflow.run
    async def run(self, intake: IntakePayload) -> ConsultationView:
        """Register the consultation, then follow it until it is closed or lapses."""
        await self._register(decode(intake, _INTAKE, "intake"))
        while True:
            seen = self._current.version
            await self._perform_effects()
            if self._current.closed:
                break
            if await self._sleep_until_changed(seen, lapses_at(self._current)):
                self._record(self._decide(LapseConsultation(actor=ENGINE)))
        await self._perform_effects()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return view_of(self._current)

    async def _register(self, intake: ConsultationIntake) -> None:
        """Verify who opens it, pin the entry and the calendar, claim the number, record the opening."""
        self._start_version()
        started_at = self._now()
        context, entry, rules = await gather_all(
            self._verified_context(intake),
            self._local("lookup_matter", intake.matter_code, CatalogueEntry),
            self._deadline_rules(local_date(intake.received_at).year, reload=False),
        )
        try:
            opening = OpenConsultation(
                consultation_id=workflow.info().workflow_id,
                matter=entry.matter,
                catalogue_version=entry.catalogue_version,
                rules=rules,
                applicant_key=context.applicant_key,
                trusted_keys=context.trusted.key_ids,
                **intake.model_dump(exclude={"matter_code", "assertion"}),
            )
        except ValidationError as error:
            raise invalid("consultation", error) from None
        with self._clock_stopped_at(started_at):
            events = self._decide(opening)
        await self._claim_number()
        with self._clock_stopped_at(started_at):
            self._record(events, signed_by=key_id_of(intake.assertion))

    # --- messages -----------------------------------------------------------------------------------------

    @workflow.update
    async def act(self, payload: CommandPayload) -> ConsultationView:
        """Apply a person's command (a ``ConsultationCommand`` as JSON); the validator refused the rest."""
        await self._give(decode(payload, _COMMANDS, "command", PEOPLE_COMMANDS))
        return view_of(self._current)

    @act.validator
    def _refuse_invalid(self, payload: CommandPayload) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = decode(payload, _COMMANDS, "command", PEOPLE_COMMANDS)
        self._refuse_unadmitted(command, ConsultationState.admit)
        self._decide_as_the_handler_will(command)

    @workflow.query
    def state(self) -> ConsultationView:
        """What was brought, checked and said, who is awaited, and when it lapses."""
        return view_of(self._current)

    @workflow.query
    def events(self) -> list[ConsultationEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    @workflow.query
    def state_for(self, read: ReadRequest) -> ConsultationView | None:
        """``state`` as ``read.reader`` may see it: nothing (``null``) if their role does not cover it."""
        return view_of(self._current) if self._may_read(read) else None

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage[ConsultationEvent] | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first``."""
        if self._state is None:
            raise still_registering()
        return EventsPage.of(self._events, read.first) if self._may_read(read) else None

    @workflow.query
    def findings(self) -> ConsultationFindings:
        """What the application submitted on the consultation carries into its acceptance."""
        return findings_of(self._current)

    # --- what the shared mechanism asks of a process --------------------------------------------------

    def _may_read(self, read: ReadRequest) -> bool:
        return read.reader is None or self._current.may_read(read.reader)

    def _priority(self) -> Priority:
        return GREEN_CHANNEL_PRIORITY  # a consultation is the green channel's own

    def _fold(self, state: ConsultationState | None, event: ConsultationEvent) -> ConsultationState:
        if isinstance(event, ConsultationOpened):
            return start(event)
        if state is None:
            raise ValueError("a consultation's log starts with its opening")
        return evolve(state, event)

    def _decide_at(
        self, state: ConsultationState | None, command: ConsultationCommand, now: datetime
    ) -> tuple[ConsultationEvent, ...]:
        return decide(state, command, now)

    def _wanted_search_attributes(self, state: ConsultationState) -> Mapping[SearchAttributeKey[Any], object]:
        return {
            search_attributes.STATUS: state.status.value,
            search_attributes.MATTER: state.matter.code,
            search_attributes.DEPARTMENTS: list(state.matter.departments),
            search_attributes.GREEN_CHANNEL: True,
            search_attributes.APPLICANT_HASH: state.applicant_key,
            search_attributes.READERS: list(state.readers),
        }

    def _calls_of(self, event: ConsultationEvent, key: str) -> Iterator[tuple[str, OutsideCall]]:
        for effect in EFFECTS.get(event.kind, ()):
            yield effect, self._outside_message(effect, event, key)

    def _outside_message(self, effect: str, event: ConsultationEvent, key: str) -> OutsideCall:
        state = self._current
        base = {"key": key, "application_id": state.consultation_id}
        if effect == "notify_department":  # the departments are asked for their pre-review opinions
            return DepartmentNotice(
                **base, departments=state.matter.departments, notice=event.kind, text=event.reason
            )
        details = event.model_dump(mode="json", exclude={"kind", "at", "actor", "reason"})
        return ApplicantNotice(
            **base,
            applicant=state.opened.applicant,
            notice=event.kind,
            text=event.reason,
            details=details,
        )
