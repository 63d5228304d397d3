"""ApplicationWorkflow: one application, from the intake system to the licence.

Temporal's history is the event store: every domain event is produced by ``decide`` inside a workflow
task and kept in the workflow, so replaying the history rebuilds the same log. Deadlines are computed by
an activity (their results are in history: R-CAL-4) and enforced by one durable timer, re-armed whenever
the state changes. The workflow orchestrates; every rule is in ``workflows.domain``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError
from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes
    from workflows.domain.application import (
        ENGINE,
        PEOPLE_COMMANDS,
        ApplicationState,
        Effect,
        Status,
        decide,
        effects_of,
        evolve,
        next_timer,
        plan_request,
        ready_to_issue,
        start,
    )
    from workflows.domain.clock import DeadlinePlan, PlanRequest
    from workflows.domain.commands import (
        AcceptWithDeficiencies,
        ApplicationCommand,
        CreditStanding,
        IssueLicence,
        RecordDeadlines,
        SubmitApplication,
    )
    from workflows.domain.errors import InvalidCommand, NotAuthorised, OneWindowError
    from workflows.domain.events import (
        ApplicationEvent,
        ApplicationSubmitted,
        GreenChannelChanged,
        Role,
        WarningRaised,
    )
    from workflows.messages import (
        NOT_YET_REGISTERED,
        ApplicantNotice,
        ApplicationView,
        CatalogueEntry,
        CreditEntry,
        CreditQuery,
        Escalation,
        Intake,
        LicenceRequest,
        LicenceRevocation,
        OutsideCall,
        PlanInput,
        PriorityChange,
        SupervisionPush,
        applicant_hash,
        priority_of,
    )

# Outside systems may be down for a while; activities retry (they are idempotent per key) until they answer.
_OUTSIDE_TIMEOUT = timedelta(seconds=30)
_T = TypeVar("_T")
_PLANNING_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=10))


_COMMANDS: TypeAdapter[ApplicationCommand] = TypeAdapter(ApplicationCommand)


def _parse(payload: object) -> ApplicationCommand:
    """The command in an update's payload, chosen by its ``kind`` (a payload without one is refused).

    Decoded here rather than by the SDK, which reads the handler's type hint without its discriminator
    and would take a kind-less payload for the first command whose fields it happens to fit.
    """
    try:
        return _COMMANDS.validate_python(payload)
    except ValidationError as error:
        raise _refusal(InvalidCommand(f"not a valid command: {_summary(error)}")) from None


def _summary(error: ValidationError) -> str:
    """Each invalid field and why, on one line; an unknown kind lists the commands a person may give."""
    problems = []
    for problem in error.errors(include_url=False):
        if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
            problems.append(f"kind: one of {', '.join(PEOPLE_COMMANDS)} is needed")
        else:
            where = ".".join(str(part) for part in problem["loc"])
            problems.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(problems)


def _intake(payload: object) -> Intake:
    try:
        return Intake.model_validate(payload)
    except ValidationError as error:
        raise _refusal(InvalidCommand(f"not a valid intake: {_summary(error)}")) from None


def _still_registering() -> ApplicationError:
    """A query or command that arrived before the catalogue entry was copied in: retry shortly."""
    return ApplicationError(
        "the application is still being registered; retry shortly", type=NOT_YET_REGISTERED
    )


def _refusal(error: OneWindowError) -> ApplicationError:
    """A domain refusal as the typed, non-retryable failure callers receive."""
    return ApplicationError(str(error), type=error.type, non_retryable=True)


@workflow.defn
class ApplicationWorkflow:
    """One case; the workflow id is the application number."""

    def __init__(self) -> None:
        self._events: list[ApplicationEvent] = []
        self._state: ApplicationState | None = None
        self._planned_for: PlanRequest | None = None
        self._calendar_revision_requested = False
        self._effects_done = 0
        self._search_attributes: dict[str, object] = {}
        self._planning = asyncio.Lock()

    # --- the case's life ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, intake: object) -> ApplicationView:
        """Copy the catalogue entry in force, record the submission, then follow the case until closed.

        ``intake`` is an ``Intake`` or its JSON. It is decoded here, not by the SDK: an intake that does not
        parse then fails the case at once with a typed InvalidCommand (its number free again), instead of
        failing its first workflow task over and over.
        """
        await self._register(_intake(intake))
        while True:
            # Updates may record events while this loop awaits an activity: a change since ``seen`` is
            # acted on at once rather than at the next change or deadline.
            seen = self._current.version
            await self._perform_effects()
            await self._replan_if_needed()
            if self._current.closed:
                break
            if ready_to_issue(self._current):
                await self._issue()
                continue
            await self._wait_for_change_or_deadline(seen)
        await self._perform_effects()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    async def _register(self, intake: Intake) -> None:
        entry = await self._call("lookup_matter", intake.matter_code, CatalogueEntry)
        try:
            submission = SubmitApplication(
                application_id=workflow.info().workflow_id,
                catalogue_version=entry.catalogue_version,
                matter=entry.matter,
                **intake.model_dump(exclude={"matter_code"}),
            )
        except ValidationError as error:
            raise _refusal(InvalidCommand(f"not a valid submission: {_summary(error)}")) from None
        self._record(self._decide(submission))

    async def _wait_for_change_or_deadline(self, version: int) -> None:
        """Sleep on one durable timer, unless the case moved on from ``version``."""
        if self._current.version != version:
            return
        scheduled = next_timer(self._current)
        timeout = None if scheduled is None else (scheduled.at - workflow.now()).total_seconds()
        if timeout is None or timeout > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._current.version != version or self._calendar_revision_requested,
                    timeout=timeout,
                )
                return
            except TimeoutError:
                pass
        # An update may have been applied in the same activation as the timer: re-read the case first.
        if scheduled is None or self._current.version != version or self._calendar_revision_requested:
            return
        try:
            events = decide(self._state, scheduled.command, workflow.now())
        except OneWindowError as error:
            # next_timer and decide disagree: a bug. Failing the workflow task (retried after a fix) keeps
            # the case; failing the workflow would end it.
            raise RuntimeError(f"the engine's own {scheduled.command.kind} was refused: {error}") from error
        self._record(events)

    async def _replan_if_needed(self) -> None:
        """Recompute deadlines until they match what they depend on, and after a calendar announcement.

        The main loop and update handlers both call this; the lock makes one computation at a time, and
        the loop catches a change that arrives while a computation runs.
        """
        async with self._planning:
            while True:
                request = plan_request(self._current)
                revision = self._calendar_revision_requested
                if request == self._planned_for and not revision:
                    return
                self._calendar_revision_requested = False
                plan = await workflow.execute_local_activity(
                    "plan_deadlines",
                    PlanInput(request=request, now=workflow.now(), reload_calendar=revision),
                    result_type=DeadlinePlan,
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=_PLANNING_RETRY,  # CalendarNotPublished: retried until the year is loaded
                )
                self._planned_for = request
                if not self._current.closed:  # a decision may have closed the case meanwhile
                    self._record(self._decide(RecordDeadlines(actor=ENGINE, plan=plan)))

    async def _issue(self) -> None:
        state = self._current
        request = LicenceRequest(
            key=self._key(state.version),
            application_id=state.application_id,
            matter_code=state.matter.code,
            matter_name=state.matter.name,
            applicant=state.applicant,
        )
        number = await self._call("issue_licence", request, str)
        self._record(self._decide(IssueLicence(actor=ENGINE, licence_number=number)))

    async def _perform_effects(self) -> None:
        """Tell outside systems about each new event once, keyed by its sequence number."""
        while self._effects_done < len(self._events):
            sequence = self._effects_done + 1
            await self._effects_of(self._events[sequence - 1], sequence)
            self._effects_done = sequence

    async def _effects_of(self, event: ApplicationEvent, sequence: int) -> None:
        for effect in effects_of(event):
            await self._call(effect.value, self._outside_message(effect, event, self._key(sequence)))

    def _outside_message(self, effect: Effect, event: ApplicationEvent, key: str) -> OutsideCall:
        state = self._current
        base = {"key": key, "application_id": state.application_id}
        match effect:
            case Effect.NOTIFY_APPLICANT:
                details = event.model_dump(mode="json", exclude={"kind", "at", "actor", "reason"})
                return ApplicantNotice(
                    **base, applicant=state.applicant, notice=event.kind, text=event.reason, details=details
                )
            case Effect.PUSH_TO_SUPERVISION:
                return SupervisionPush(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.matter.departments,
                    result=event.kind,
                    licence_number=state.licence_number,
                )
            case Effect.REVOKE_LICENCE:
                return LicenceRevocation(
                    **base, licence_number=state.licence_number or "", reason=event.reason
                )
            case Effect.WRITE_CREDIT_RECORD:
                return CreditEntry(
                    **base, applicant_id=state.applicant.id_number, reason=event.reason, at=event.at
                )
            case Effect.SET_CASE_PRIORITY if isinstance(event, GreenChannelChanged):
                return PriorityChange(**base, green_channel=event.green_channel)
            case Effect.ESCALATE if isinstance(event, WarningRaised):
                return Escalation(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.matter.departments,
                    subject=event.subject,
                    deadline_at=event.deadline_at,
                )
        raise ValueError(f"{event.kind} has no {effect.value} message")  # effects_of never asks for one

    # --- messages -----------------------------------------------------------------------------------------

    @workflow.update
    async def act(self, payload: object) -> ApplicationView:
        """Apply a person's command (any model of ``ApplicationCommand``, or its JSON).

        The validator has already refused anything invalid, and anything sent before the case was
        registered. 容缺 first runs the credit check; an ineligible applicant is refused here, still as a
        typed error, but this one refusal is an update that failed and so stays in the history.
        """
        command = _parse(payload)
        if isinstance(command, AcceptWithDeficiencies):
            query = CreditQuery(applicant_id=self._current.applicant.id_number, at=workflow.now())
            standing = await self._call("check_credit", query, CreditStanding)
            command = command.model_copy(update={"credit": standing})
        self._record(self._decide(command))
        await self._replan_if_needed()
        return self._view()

    @act.validator
    def _refuse_invalid(self, payload: object) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = _parse(payload)
        if command.actor.role is Role.SYSTEM:
            raise _refusal(NotAuthorised(command.actor.id, "system actions are the engine's own"))
        if self._state is None:  # every rule needs the case: refuse now rather than record a refusal later
            raise _still_registering()
        if isinstance(command, AcceptWithDeficiencies):
            # The credit check runs in the handler (it is I/O); every other rule is checked now.
            command = command.model_copy(update={"credit": CreditStanding(eligible=True)})
        self._decide(command)

    @workflow.signal
    def calendar_revised(self) -> None:
        """R-CAL-4: a new calendar version is loaded; recompute the deadlines with it."""
        self._calendar_revision_requested = True

    @workflow.query
    def state(self, at: datetime | None = None) -> ApplicationView:
        """The case as supervisors and portals see it at ``at`` (callers pass their current time).

        Without ``at`` the view is as of the case's last activity: a query cannot read a clock of its own.
        """
        return self._view(at)

    @workflow.query
    def events(self) -> list[ApplicationEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    # --- helpers ------------------------------------------------------------------------------------------

    @property
    def _current(self) -> ApplicationState:
        if self._state is None:
            raise _still_registering()
        return self._state

    def _view(self, at: datetime | None = None) -> ApplicationView:
        return ApplicationView.of(self._current, at or workflow.now())

    async def _call(self, activity: str, argument: object, result_type: type[_T] | None = None) -> _T:
        """One outside-system call; the argument carries its idempotency key where it changes anything."""
        result: _T = await workflow.execute_activity(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=_OUTSIDE_TIMEOUT,
            # Before registration the start's own priority is inherited; after, the case's current one.
            priority=priority_of(self._state.green_channel) if self._state else Priority.default,
        )
        return result

    def _key(self, sequence: int) -> str:
        return f"{workflow.info().workflow_id}:{sequence}"

    def _decide(self, command: ApplicationCommand) -> tuple[ApplicationEvent, ...]:
        try:
            return decide(self._state, command, workflow.now())
        except OneWindowError as error:
            raise _refusal(error) from None  # the type and message say it all: no second, untyped cause

    def _record(self, events: tuple[ApplicationEvent, ...]) -> None:
        for event in events:
            self._state = (
                start(event) if isinstance(event, ApplicationSubmitted) else evolve(self._current, event)
            )
            self._events.append(event)
            workflow.logger.info(
                "event_recorded",
                extra={
                    "application_id": self._current.application_id,
                    "kind": event.kind,
                    "actor": event.actor.id,
                },
            )
        self._upsert_search_attributes()

    def _upsert_search_attributes(self) -> None:
        """Keep the typed search attributes current, writing only those that changed."""
        state = self._current
        plan = state.plan
        deciding = state.status in (Status.UNDER_REVIEW, Status.SUSPENDED)  # a closed case keeps no plan
        due_at = plan.decision_due_at if plan and deciding else None
        warning = state.warning_raised()
        wanted: dict[str, object] = {
            search_attributes.STATUS.name: state.status.value,
            search_attributes.MATTER.name: state.matter.code,
            search_attributes.DEPARTMENTS.name: list(state.matter.departments),
            search_attributes.GREEN_CHANNEL.name: state.green_channel,
            search_attributes.APPLICANT_HASH.name: applicant_hash(state.applicant.id_number),
            search_attributes.WARNING_LEVEL.name: warning.value,
            search_attributes.DUE_AT.name: due_at,
        }
        updates = [
            key.value_set(wanted[key.name]) if wanted[key.name] is not None else key.value_unset()
            for key in search_attributes.ALL
            if self._search_attributes.get(key.name) != wanted[key.name]
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
            self._search_attributes = wanted
