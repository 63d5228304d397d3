"""ApplicationWorkflow: one application, from the intake system to a final decision.

Temporal's history is the event store: every domain event is produced by ``decide`` inside a workflow
task, so replaying the history rebuilds the same log. The workflow orchestrates; rules live in the domain.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes
    from workflows.domain.application import ApplicationState, decide, evolve, start
    from workflows.domain.commands import ApplicationCommand, SubmitApplication
    from workflows.domain.errors import InvalidCommand, OneWindowError
    from workflows.domain.events import ApplicationEvent, ApplicationSubmitted
    from workflows.messages import ApplicationView, CatalogueEntry, Intake, applicant_hash


def _refusal(error: OneWindowError) -> ApplicationError:
    """A domain refusal as the typed, non-retryable failure callers receive."""
    return ApplicationError(str(error), type=error.type, non_retryable=True)


@workflow.defn
class ApplicationWorkflow:
    """One case; the workflow id is the application number."""

    def __init__(self) -> None:
        self._events: list[ApplicationEvent] = []
        self._state: ApplicationState | None = None

    @workflow.run
    async def run(self, intake: Intake) -> ApplicationView:
        """Copy the catalogue entry in force, record the submission, then serve commands until closed."""
        entry = await workflow.execute_activity(
            "lookup_matter",
            intake.matter_code,
            result_type=CatalogueEntry,
            start_to_close_timeout=timedelta(seconds=30),
        )
        try:
            submission = SubmitApplication(
                application_id=workflow.info().workflow_id,
                catalogue_version=entry.catalogue_version,
                matter=entry.matter,
                **intake.model_dump(exclude={"matter_code"}),
            )
        except ValidationError as error:
            raise _refusal(InvalidCommand(str(error))) from error
        self._record(self._decide(submission))
        await workflow.wait_condition(lambda: self._current.closed and workflow.all_handlers_finished())
        return ApplicationView.of(self._current)

    @workflow.update
    async def act(self, command: ApplicationCommand) -> ApplicationView:
        """Apply a person's or system's command; the validator has already refused anything invalid.

        A command that arrives while the catalogue entry is still being fetched waits for it, and is
        then decided (a refusal at that point still reaches the caller as a typed error).
        """
        await workflow.wait_condition(lambda: self._state is not None)
        self._record(self._decide(command))
        return ApplicationView.of(self._current)

    @act.validator
    def _refuse_invalid(self, command: ApplicationCommand) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        if self._state is not None:
            self._decide(command)

    @workflow.query
    def state(self) -> ApplicationView:
        """The case as supervisors and portals see it."""
        return ApplicationView.of(self._current)

    @workflow.query
    def events(self) -> list[ApplicationEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    @property
    def _current(self) -> ApplicationState:
        if self._state is None:
            raise ApplicationError("the application is still being registered", type="NotSubmitted")
        return self._state

    def _decide(self, command: ApplicationCommand) -> tuple[ApplicationEvent, ...]:
        try:
            return decide(self._state, command, workflow.now())
        except OneWindowError as error:
            raise _refusal(error) from error

    def _record(self, events: tuple[ApplicationEvent, ...]) -> None:
        for event in events:
            self._state = (
                start(event) if isinstance(event, ApplicationSubmitted) else evolve(self._current, event)
            )
            self._events.append(event)
        state = self._current
        workflow.upsert_search_attributes(
            [
                search_attributes.STATUS.value_set(state.status.value),
                search_attributes.MATTER.value_set(state.matter.code),
                search_attributes.DEPARTMENTS.value_set(list(state.matter.departments)),
                search_attributes.GREEN_CHANNEL.value_set(state.green_channel),
                search_attributes.APPLICANT_HASH.value_set(applicant_hash(state.applicant.id_number)),
            ]
        )
