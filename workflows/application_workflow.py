"""ApplicationWorkflow: one application, from the intake system to the licence.

Temporal's history is the event store: every domain event is produced by ``decide`` inside a workflow
task and kept in the workflow, so replaying the history rebuilds the same log. The calendar and warning
thresholds are pinned in the case when it registers (an activity whose result is in history: R-CAL-4), so
deadlines are computed in the workflow itself, and enforced by one durable timer re-armed whenever the
state changes. The workflow orchestrates; every rule is in ``workflows.domain``; everything that reaches
it from outside passes ``workflows.boundary``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias, TypeVar, overload

from pydantic import TypeAdapter, ValidationError
from temporalio import workflow
from temporalio.common import Priority, RawValue, RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes
    from workflows.boundary import IdempotencyKeys, decode, invalid, refusal, still_registering
    from workflows.domain.access import admit, case_readers, may_read
    from workflows.domain.application import (
        ENGINE,
        PEOPLE_COMMANDS,
        ApplicationState,
        Effect,
        deadlines,
        decide,
        effects_of,
        evolve,
        next_timer,
        plan_request,
        ready_to_issue,
        start,
    )
    from workflows.domain.calendar import SHANGHAI, local_date
    from workflows.domain.chain import AuditRecord, ChainHash, link
    from workflows.domain.clock import DeadlineRules, PlanRequest
    from workflows.domain.commands import (
        AcceptWithDeficiencies,
        ApplicationCommand,
        CreditStanding,
        IssueLicence,
        RecordDeadlines,
        ReviseDeadlineRules,
        ReviseTrustedKeys,
        SubmitApplication,
    )
    from workflows.domain.errors import (
        AlreadySubmitted,
        DeficiencyNotTolerable,
        OneWindowError,
        Unauthenticated,
    )
    from workflows.domain.events import (
        Actor,
        ApplicationEvent,
        ApplicationSubmitted,
        GreenChannelChanged,
        Role,
        WarningRaised,
    )
    from workflows.identity import TrustedKeys, key_id_of, verify
    from workflows.messages import (
        ApplicantNotice,
        ApplicationView,
        AuditEntries,
        CatalogueEntry,
        CreditEntry,
        CreditQuery,
        Escalation,
        EventsPage,
        Intake,
        LicenceRequest,
        LicenceRevocation,
        OutsideCall,
        PriorityChange,
        ReadRequest,
        RulesRequest,
        SecurityContext,
        SecurityRequest,
        SupervisionPush,
        priority_of,
    )
    from workflows.number_claim import Claim

# Outside systems may be down for a while; activities retry (they are idempotent per key) until they answer.
_OUTSIDE_TIMEOUT = timedelta(seconds=30)
_RULES_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=10))
# While the deadlines reach a year without calendar data, the case looks for it again this often, besides
# an announced revision (R-CAL-4).
_CALENDAR_RECHECK = timedelta(days=1)
# Cases registered since signed commands, the number claim and the audit log (issue 8); histories
# recorded before replay as they ran.
_SECURED = "signed-commands-number-claim-audit-log"
_T = TypeVar("_T")

_INTAKE: TypeAdapter[Intake] = TypeAdapter(Intake)
_COMMANDS: TypeAdapter[ApplicationCommand] = TypeAdapter(ApplicationCommand)

if TYPE_CHECKING:
    # Callers send the typed messages; the worker hands the workflow their raw payloads, which it decodes
    # itself (``workflows.boundary``). The SDK reads these hints at run time, where they are RawValue.
    IntakePayload: TypeAlias = Intake | RawValue
    CommandPayload: TypeAlias = ApplicationCommand | RawValue
else:
    IntakePayload = CommandPayload = RawValue


_A = TypeVar("_A")
_B = TypeVar("_B")
_C = TypeVar("_C")


@overload
async def _all(first: Awaitable[_A], second: Awaitable[_B], /) -> tuple[_A, _B]: ...
@overload
async def _all(first: Awaitable[_A], second: Awaitable[_B], third: Awaitable[_C], /) -> tuple[_A, _B, _C]: ...
async def _all(*calls: Awaitable[object]) -> tuple[object, ...]:
    """Every call's result, run side by side; the first failure is raised only once all have ended.

    A failure raised while a sibling is still pending would fail the case while that sibling's command
    is still to come: Temporal refuses a task whose commands follow the workflow's end, for ever.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return tuple(results)


def _command(payload: CommandPayload) -> ApplicationCommand:
    """The command in an update's payload, chosen by its ``kind``."""
    return decode(payload, _COMMANDS, "command", PEOPLE_COMMANDS)


@workflow.defn
class ApplicationWorkflow:
    """One case; the workflow id is the application number."""

    def __init__(self) -> None:
        self._events: list[ApplicationEvent] = []
        self._state: ApplicationState | None = None
        self._planned_for: tuple[PlanRequest, str] | None = None
        self._calendar_revision_requested = False
        self._effects_done = 0
        self._search_attributes: dict[str, object] = {}
        self._idempotency_keys = IdempotencyKeys()
        self._credit_refused: str | None = None  # 容缺's credit check said no: asking again changes nothing
        self._trusted: TrustedKeys | None = None  # None: registered before commands were signed
        self._chain_hash = ChainHash.SHA256
        self._audited = 0  # events whose digests the audit log has
        self._as_of: datetime | None = None  # the case's clock while stopped (``_clock_stopped_at``)

    # --- the case's life ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, intake: IntakePayload) -> ApplicationView:
        """Pin the catalogue entry and the deadline rules in force, record the submission, then follow the
        case until it closes.

        ``intake`` is an ``Intake`` as JSON, decoded here rather than by the SDK: an intake that does not
        decode fails the case at once with a typed InvalidCommand (its number free again), instead of
        failing its first workflow task over and over.
        """
        await self._register(decode(intake, _INTAKE, "intake"))
        while True:
            # Updates may record events while this loop awaits an activity: a change since ``seen`` is
            # acted on at once rather than at the next change or deadline.
            seen = self._current.version
            await self._perform_effects()
            if self._calendar_revision_requested and not self._current.closed:
                await self._revise_rules()
                continue
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
        """Verify who submits, pin what the case counts with, claim its number, and record the submission.

        Anything refused here fails the case before it claims its number, which is then free again.
        """
        secured = workflow.patched(_SECURED)
        started_at = self._now()  # the registration's instant: its reads are local activities
        year = local_date(intake.received_at).year
        context: SecurityContext | None = None
        if secured:
            # The keys, the catalogue and the calendar are the worker's own data: read side by side,
            # in the worker (local activities), with no round trip to the server.
            context, entry, rules = await _all(
                self._security_context(intake),
                self._local("lookup_matter", intake.matter_code, CatalogueEntry),
                self._deadline_rules(year, reload=False),
            )
        else:
            entry = await self._call("lookup_matter", intake.matter_code, CatalogueEntry)
            rules = await self._deadline_rules(year, reload=False)
        try:
            submission = SubmitApplication(
                application_id=workflow.info().workflow_id,
                catalogue_version=entry.catalogue_version,
                matter=entry.matter,
                rules=rules,
                applicant_key=context.applicant_key if context else None,
                trusted_keys=context.trusted.key_ids if context else (),
                **intake.model_dump(exclude={"matter_code", "assertion"}),
            )
        except ValidationError as error:
            raise invalid("submission", error) from None
        decided_at = started_at if secured else self._now()
        with self._clock_stopped_at(decided_at):
            events = self._decide(submission)
        if secured:
            await self._claim_number()
        with self._clock_stopped_at(decided_at):
            self._record(events, signed_by=key_id_of(intake.assertion))
            self._replan()

    async def _security_context(self, intake: Intake) -> SecurityContext:
        """The worker's trusted keys, the applicant's pseudonym and the chain's hash, recorded; and the
        intake's assertion verified against those keys."""
        request = SecurityRequest(applicant_id=intake.applicant.id_number)
        context = await self._local("security_context", request, SecurityContext)
        try:
            verify(
                intake.assertion, intake.actor, context.trusted, workflow.now(), workflow.info().workflow_id
            )
        except OneWindowError as error:
            raise refusal(error) from None
        self._trusted = context.trusted
        self._chain_hash = context.chain_hash
        return context

    async def _claim_number(self) -> None:
        """Hold the number for good (``workflows.number_claim``); a number held before is refused."""
        info = workflow.info()
        claim = Claim(application_number=info.workflow_id, holder=info.first_execution_run_id)
        if not await self._local("claim_number", claim, bool):
            raise refusal(
                AlreadySubmitted(f"application {info.workflow_id} was registered before; its record stands")
            )

    async def _deadline_rules(self, from_year: int, *, reload: bool) -> DeadlineRules:
        """The calendar (from ``from_year`` on) and thresholds in force, recorded: replay never re-reads."""
        request = RulesRequest(from_year=from_year, reload_calendar=reload)
        return await self._local("deadline_rules", request, DeadlineRules)

    async def _local(self, activity: str, argument: object, result_type: type[_T]) -> _T:
        """A call the worker answers itself, beside the case's task (its reference data and keys, the
        number's claim, the audit log), recorded in the history as its result: no round trip to a queue.

        Retried until it answers (a calendar or key file that does not load, a server briefly away); a
        typed refusal (``UnknownMatter``) is not retryable and fails the case at once.
        """
        result: _T = await workflow.execute_local_activity(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=_RULES_RETRY,
        )
        return result

    async def _revise_rules(self) -> None:
        """R-CAL-4: count with the calendar as the workers have it now (nothing is recorded if unchanged)."""
        self._calendar_revision_requested = False
        asked_at = self._now()
        rules = await self._deadline_rules(local_date(self._current.received_at).year, reload=True)
        if not self._current.closed:  # a decision may have closed the case meanwhile
            with self._clock_stopped_at(asked_at):
                self._apply(ReviseDeadlineRules(actor=ENGINE, rules=rules))

    async def _wait_for_change_or_deadline(self, version: int) -> None:
        """Sleep on one durable timer, unless the case moved on from ``version``."""
        if self._current.version != version:
            return
        state = self._current
        scheduled = next_timer(state)
        wake_at = scheduled.at if scheduled else None
        calendar_missing = state.plan is not None and state.plan.calendar_missing is not None
        if calendar_missing:
            recheck_at = self._now() + _CALENDAR_RECHECK
            wake_at = min(wake_at, recheck_at) if wake_at else recheck_at
        timeout = None if wake_at is None else (wake_at - self._now()).total_seconds()
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
        if self._current.version != version or self._calendar_revision_requested:
            return
        if scheduled is None or self._now() < scheduled.at:
            self._calendar_revision_requested = calendar_missing  # look for the missing year's data again
            return
        try:
            events = decide(self._state, scheduled.command, self._now())
        except OneWindowError as error:
            # next_timer and decide disagree: a bug. Failing the workflow task (retried after a fix) keeps
            # the case; failing the workflow would end it.
            raise RuntimeError(f"the engine's own {scheduled.command.kind} was refused: {error}") from error
        self._record(events)
        self._replan()

    def _apply(self, command: ApplicationCommand, *, signed_by: str | None = None) -> None:
        """Decide ``command``, record its events (``signed_by`` the key that vouched for its actor), and
        recompute the deadlines they change."""
        self._record(self._decide(command), signed_by=signed_by)
        self._replan()

    def _replan(self) -> None:
        """Recompute the deadlines when what they depend on has changed (pure: the rules are pinned)."""
        state = self._current
        basis = (plan_request(state), state.rules.version)
        if state.closed or basis == self._planned_for:
            return
        self._planned_for = basis
        plan = deadlines(state, self._now())
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
        self._apply(IssueLicence(actor=ENGINE, licence_number=number))

    async def _perform_effects(self) -> None:
        """Write the new events' digests to the audit log and, at the same time, tell outside systems
        about each new event once, keyed by its sequence number (one round trip, not two, per change)."""
        await _all(self._audit(), self._tell_outside_systems())

    async def _tell_outside_systems(self) -> None:
        while self._effects_done < len(self._events):
            sequence = self._effects_done + 1
            await self._effects_of(self._events[sequence - 1], sequence)
            self._effects_done = sequence

    async def _effects_of(self, event: ApplicationEvent, sequence: int) -> None:
        for effect in effects_of(event):
            await self._call(effect.value, self._outside_message(effect, event, self._key(sequence)))

    async def _audit(self) -> None:
        if self._audited >= len(self._events) or not workflow.patched(_SECURED):
            return
        number = workflow.info().workflow_id
        records = tuple(
            AuditRecord(application_id=number, sequence=sequence, kind=event.kind, digest=event.digest or "")
            for sequence, event in enumerate(self._events[self._audited :], start=self._audited + 1)
        )
        # An activity, not a local one: what follows it in the main loop reads the case's clock, which
        # a local activity's result would move on in the first run only (``_clock_stopped_at``).
        await self._call("record_audit", AuditEntries(records=records))
        self._audited += len(records)

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
    async def act(self, payload: CommandPayload) -> ApplicationView:
        """Apply a person's command (an ``ApplicationCommand`` as JSON).

        The validator has already refused anything invalid, and anything sent before the case was
        registered. 容缺 first runs the credit check; an ineligible applicant is refused here, still as a
        typed error, but this one refusal is an update that failed and so stays in the history.
        """
        command = _command(payload)
        self._idempotency_keys.remember()
        trusted = None
        if isinstance(command, ReviseTrustedKeys):
            trusted = await workflow.execute_activity(
                "trusted_keys", result_type=TrustedKeys, start_to_close_timeout=_OUTSIDE_TIMEOUT
            )
            command = command.model_copy(update={"trusted_keys": trusted.key_ids})
        if isinstance(command, AcceptWithDeficiencies):
            query = CreditQuery(applicant_id=self._current.applicant.id_number, at=self._now())
            standing = await self._call("check_credit", query, CreditStanding)
            if not standing.eligible:
                self._credit_refused = standing.detail
            command = command.model_copy(update={"credit": standing})
        self._apply(command, signed_by=key_id_of(command.assertion))
        self._trusted = trusted or self._trusted
        return self._view()

    @act.validator
    def _refuse_invalid(self, payload: CommandPayload) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = _command(payload)
        if self._state is None:  # every rule needs the case: refuse now rather than record a refusal later
            raise still_registering()
        try:
            self._authenticate(command)
            admit(self._state, command)
        except OneWindowError as error:
            raise refusal(error) from None
        self._idempotency_keys.refuse_reused()
        if isinstance(command, AcceptWithDeficiencies):
            if self._credit_refused is not None:  # the check already said no on this case
                raise refusal(
                    DeficiencyNotTolerable(f"applicant not eligible for 容缺: {self._credit_refused}")
                )
            # The credit check runs in the handler (it is I/O); every other rule is checked now.
            command = command.model_copy(update={"credit": CreditStanding(eligible=True)})
        if isinstance(command, ReviseTrustedKeys):  # likewise the trust store, read in the handler
            command = command.model_copy(update={"trusted_keys": self._current.trusted_keys or ("unread",)})
        self._decide(command)

    def _authenticate(self, command: ApplicationCommand) -> None:
        """The command's assertion must vouch for its actor, signed by a key the case trusts, unexpired.

        A case registered before commands were signed trusts no key: it takes one command, the rotation
        that installs its worker's trust store (which only ever reads that store), and then signed ones.
        """
        if self._trusted is None:
            if not isinstance(command, ReviseTrustedKeys):
                raise Unauthenticated("this case trusts no key yet: a supervisor revises its trusted keys")
            return
        verify(command.assertion, command.actor, self._trusted, workflow.now(), workflow.info().workflow_id)

    @workflow.signal
    def calendar_revised(self, *_ignored: object) -> None:
        """R-CAL-4: a new calendar version is loaded; recompute the deadlines with it.

        The signal carries nothing; whatever a sender adds is ignored rather than failing the case.
        """
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

    @workflow.query
    def state_for(self, read: ReadRequest) -> ApplicationView | None:
        """``state`` as ``read.reader`` may see it: nothing (``null``) if their role does not cover the case.

        The client, the CLI and the gateway read through this and ``events_for``, on behalf of the person
        asking; ``state`` and ``events`` serve operators with direct access to Temporal.
        """
        return self._view(read.at) if self._may_read(read) else None

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first`` (``null`` as for
        ``state_for``): a long case's log is read in pages, each within Temporal's payload limit."""
        if self._state is None:  # a case not (yet) registered has no log to page: say so
            raise still_registering()
        return EventsPage.of(self._events, read.first) if self._may_read(read) else None

    # --- helpers ------------------------------------------------------------------------------------------

    @property
    def _current(self) -> ApplicationState:
        if self._state is None:
            raise still_registering()
        return self._state

    def _may_read(self, read: ReadRequest) -> bool:
        return read.reader is None or may_read(self._current, read.reader)

    def _now(self) -> datetime:
        """The case's clock: the workflow's, or the instant a step that reads the worker began at."""
        return self._as_of or workflow.now().astimezone(SHANGHAI)

    @contextlib.contextmanager
    def _clock_stopped_at(self, instant: datetime) -> Iterator[None]:
        """Decide as of ``instant``. ``workflow.now()`` moves on when a local activity's result arrives in
        the first run of a task, but not when the result is replayed from its marker: what is decided
        after a local activity must be dated before it, or its events (and their digests) differ on
        replay."""
        self._as_of = instant
        try:
            yield
        finally:
            self._as_of = None

    def _view(self, at: datetime | None = None) -> ApplicationView:
        return ApplicationView.of(self._current, at or self._now())

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
            return decide(self._state, command, self._now())
        except OneWindowError as error:
            raise refusal(error) from None  # the type and message say it all: no second, untyped cause

    def _record(self, events: tuple[ApplicationEvent, ...], *, signed_by: str | None = None) -> None:
        """Link each event into the chain (with the key that vouched for its actor) and fold it in."""
        for decided in events:
            vouched = decided.model_copy(update={"signed_by": signed_by}) if signed_by else decided
            previous = self._events[-1].digest if self._events else None
            event = link(vouched, previous, self._chain_hash)
            self._state = (
                start(event) if isinstance(event, ApplicationSubmitted) else evolve(self._current, event)
            )
            self._events.append(event)
            workflow.logger.info(
                "event_recorded",
                extra={
                    "application_id": self._current.application_id,
                    "kind": event.kind,
                    "actor": self._logged(event.actor),
                },
            )
        if events:
            self._upsert_search_attributes()

    def _logged(self, actor: Actor) -> str:
        """An actor as logs name them: an applicant by their keyed pseudonym, never their number."""
        if actor.role is Role.APPLICANT:
            return f"applicant:{self._current.applicant_key or 'unkeyed'}"
        return actor.id

    def _upsert_search_attributes(self) -> None:
        """Keep the typed search attributes current, writing only those that changed."""
        state = self._current
        plan = state.plan
        due_at = plan.decision_due_at if plan and state.deciding else None  # a closed case keeps no plan
        warning = state.warning_raised()
        wanted: dict[str, object] = {
            search_attributes.STATUS.name: state.status.value,
            search_attributes.MATTER.name: state.matter.code,
            search_attributes.DEPARTMENTS.name: list(state.matter.departments),
            search_attributes.GREEN_CHANNEL.name: state.green_channel,
            search_attributes.APPLICANT_HASH.name: state.applicant_key,
            search_attributes.WARNING_LEVEL.name: warning.value,
            search_attributes.DUE_AT.name: due_at,
            search_attributes.READERS.name: list(case_readers(state)),
            search_attributes.CALENDAR.name: state.rules.calendar.version,
        }
        updates = [
            key.value_set(wanted[key.name]) if wanted[key.name] is not None else key.value_unset()
            for key in search_attributes.ALL
            if self._search_attributes.get(key.name) != wanted[key.name]
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
            self._search_attributes = wanted
