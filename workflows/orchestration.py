"""The orchestration every onewindow process shares: one mechanism, not a copy per workflow.

An application, a construction project and an enterprise establishment differ in their rules (each has its
own pure domain module with ``decide`` and ``evolve``); how a workflow runs those rules is the same for
all, and lives here once:

- the domain log: each decided event is linked into the tamper-evident chain, folded into the state,
  logged (an applicant by pseudonym) and reflected in the typed search attributes, writing only changes;
  a process that says how (``workflows.read_model``) also keeps its state in the memo for readers;
- refusals: a domain error becomes a typed, non-retryable failure before anything enters history;
- identity: every person's command carries an assertion the case's trusted keys verify;
- effects performed once: one activity per change gives the audit log each new event's digest and tells
  outside systems of each new event, keyed by its sequence number (one round trip per change);
- the worker's own data (keys, catalogue, calendar, the number's claim) read as local activities, with
  the case's clock stopped at the instant the step began, so replay decides at the same instant;
- durable timers: the case sleeps until its next deadline or until it changes, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast, overload

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from workflows.boundary import IdempotencyKeys, refusal, still_registering
    from workflows.domain.calendar import SHANGHAI
    from workflows.domain.chain import AuditRecord, ChainHash, link
    from workflows.domain.clock import DeadlineRules
    from workflows.domain.commands import Command, ReviseTrustedKeys, Submission
    from workflows.domain.errors import AlreadySubmitted, OneWindowError, Unauthenticated
    from workflows.domain.events import Actor, Event, Role
    from workflows.identity import TrustedKeys, key_id_of, verify
    from workflows.messages import (
        AuditEntries,
        EffectBatch,
        OutsideCall,
        OutsideEffect,
        RulesRequest,
        SecurityContext,
        SecurityRequest,
    )
    from workflows.number_claim import Claim
    from workflows.read_model import STATE_IN_MEMO, MemoReads

# Outside systems may be down for a while; activities retry (they are idempotent per key) until they answer.
OUTSIDE_TIMEOUT = timedelta(seconds=30)
_LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=10))
# Cases registered since a change's effects are performed in one activity and its search attributes
# written in one upsert; histories recorded before replay as they ran (an activity per call, an upsert
# per batch of events).
ONE_ROUND_TRIP_PER_CHANGE = "one-round-trip-per-change"
# Cases registered since 8 December carry one marker for every version before it
# (``ONE_ROUND_TRIP_PER_CHANGE``, ``STATE_IN_MEMO``, and a process's own, such as the application's
# ``deadlines-due-together``): each marker is an event and an upsert of ``TemporalChangeVersion`` that the
# server stores for every case.
VERSIONS_OF_8_DECEMBER = "versions-of-2026-12-08"

_T = TypeVar("_T")
_A = TypeVar("_A")
_B = TypeVar("_B")
_C = TypeVar("_C")


@overload
async def gather_all(first: Awaitable[_A], second: Awaitable[_B], /) -> tuple[_A, _B]: ...
@overload
async def gather_all(
    first: Awaitable[_A], second: Awaitable[_B], third: Awaitable[_C], /
) -> tuple[_A, _B, _C]: ...
async def gather_all(*calls: Awaitable[object]) -> tuple[object, ...]:
    """Every call's result, run side by side; the first failure is raised only once all have ended.

    A failure raised while a sibling is still pending would fail the case while that sibling's command
    is still to come: Temporal refuses a task whose commands follow the workflow's end, for ever.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return tuple(results)


class CaseState(Protocol):
    """What the shared mechanism reads of any process's state."""

    @property
    def version(self) -> int: ...
    @property
    def trusted_keys(self) -> tuple[str, ...]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def applicant_key(self) -> str | None: ...


_S = TypeVar("_S", bound=CaseState)
_E = TypeVar("_E", bound=Event)
_K = TypeVar("_K", bound=Command)


class CaseWorkflow(ABC, Generic[_S, _E, _K]):
    """The shared half of a process's workflow: its log, chain, keys, effects and clock.

    A subclass supplies its domain (``_fold``, ``_decide_at``, ``_wanted_search_attributes``,
    ``_calls_of``) and its Temporal handlers, which stay on the concrete class the SDK reads.
    """

    # How readers read the process's state from its memo, without a replay; None: through its queries.
    _reads: ClassVar[MemoReads[Any, Any] | None] = None

    def __init__(self) -> None:
        self._events: list[_E] = []
        self._state: _S | None = None
        self._effects_done = 0
        self._search_attributes: dict[str, object] = {}
        self._idempotency_keys = IdempotencyKeys()
        self._trusted: TrustedKeys | None = None  # None: registered before commands were signed
        self._chain_hash = ChainHash.SHA256
        self._audited = 0  # events whose digests the audit log has
        self._as_of: datetime | None = None  # the case's clock while stopped (``_clock_stopped_at``)
        self._since_8_december = False  # ``VERSIONS_OF_8_DECEMBER``: decided once, as the case starts
        self._one_round_trip = False  # ``ONE_ROUND_TRIP_PER_CHANGE``: likewise
        self._state_in_memo = False  # ``STATE_IN_MEMO``: likewise
        self._in_memo: _S | None = None  # the state last written to the memo (states are immutable)

    # --- what each process supplies ------------------------------------------------------------------

    @abstractmethod
    def _fold(self, state: _S | None, event: _E) -> _S:
        """The state after ``event`` (the first event opens it)."""

    @abstractmethod
    def _decide_at(self, state: _S | None, command: _K, now: datetime) -> tuple[_E, ...]:
        """The process's ``decide``."""

    @abstractmethod
    def _wanted_search_attributes(self, state: _S) -> Mapping[SearchAttributeKey[Any], object]:
        """Every search attribute the case keeps, and its value now (None: unset)."""

    @abstractmethod
    def _calls_of(self, event: _E, key: str) -> Iterator[tuple[str, OutsideCall]]:
        """The outside-system calls one new event causes (the activity that makes each alone, and its
        message), each keyed by ``key``."""

    async def _tell_peers(self, event: _E) -> None:
        """Tell other cases of one new event (none, unless the process says)."""

    def _consequences(self) -> tuple[_E, ...]:
        """The events a change causes at once, recorded with it (none, unless the process says: its
        deadlines replanned)."""
        return ()

    @abstractmethod
    def _priority(self) -> Priority:
        """The task-queue priority of the case's activities now."""

    # --- the log ---------------------------------------------------------------------------------------

    @property
    def _current(self) -> _S:
        if self._state is None:
            raise still_registering()
        return self._state

    def _decide(self, command: _K) -> tuple[_E, ...]:
        """The events ``command`` causes now, or its refusal as the typed failure callers receive."""
        try:
            return self._decide_at(self._state, command, self._now())
        except OneWindowError as error:
            raise refusal(error) from None  # the type and message say it all: no second, untyped cause

    def _record(self, events: Sequence[_E], *, signed_by: str | None = None) -> None:
        """Record ``events`` (with the key that vouched for their actor) and what they cause at once, and
        reflect the change in the search attributes."""
        self._link(events, signed_by)
        if not events:
            return
        if self._one_round_trip:  # one upsert for the change and its consequences
            self._link(self._consequences())
            self._upsert_search_attributes()
            self._upsert_memo()
            return
        self._upsert_search_attributes()  # as histories recorded before ran: an upsert per batch
        consequences = self._consequences()
        if consequences:
            self._link(consequences)
            self._upsert_search_attributes()

    def _link(self, events: Sequence[_E], signed_by: str | None = None) -> None:
        """Link each event into the chain (with the key that vouched for its actor) and fold it in."""
        for decided in events:
            vouched = decided.model_copy(update={"signed_by": signed_by}) if signed_by else decided
            previous = self._events[-1].digest if self._events else None
            event = link(vouched, previous, self._chain_hash)
            self._state = self._fold(self._state, event)
            self._events.append(event)
            workflow.logger.info(
                "event_recorded",
                extra={
                    "application_id": workflow.info().workflow_id,
                    "kind": event.kind,  # type: ignore[attr-defined]
                    "actor": self._logged(event.actor),
                },
            )

    def _start_version(self) -> None:
        """Whether the case performs a change's effects in one activity and upserts once per change
        (``ONE_ROUND_TRIP_PER_CHANGE``), and keeps its state in its memo (``STATE_IN_MEMO``, a process
        with ``_reads``); asked once, before the case's first local activity. A case since
        ``VERSIONS_OF_8_DECEMBER`` does both with that one marker; an earlier one as its history says."""
        since = self._since_8_december = workflow.patched(VERSIONS_OF_8_DECEMBER)
        self._one_round_trip = since or workflow.patched(ONE_ROUND_TRIP_PER_CHANGE)
        self._state_in_memo = self._reads is not None and (since or workflow.patched(STATE_IN_MEMO))

    def _logged(self, actor: Actor) -> str:
        """An actor as logs name them: an applicant by their keyed pseudonym, never their number."""
        if actor.role is Role.APPLICANT:
            return f"applicant:{self._current.applicant_key or 'unkeyed'}"
        return actor.id

    def _upsert_search_attributes(self) -> None:
        """Keep the typed search attributes current, writing only those that changed."""
        attributes = self._wanted_search_attributes(self._current)
        wanted = {key.name: value for key, value in attributes.items()}
        updates = [
            key.value_set(value) if value is not None else key.value_unset()
            for key, value in attributes.items()
            if self._search_attributes.get(key.name) != value
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
            self._search_attributes = wanted

    def _upsert_memo(self) -> None:
        """Keep the state in the memo for readers (``workflows.read_model``), its parts that rarely change
        only when they do: the same task as the change, so a decision is readable once it is answered."""
        if self._reads is None or not self._state_in_memo:
            return
        workflow.upsert_memo(self._reads.changes(self._current, self._in_memo))
        self._in_memo = self._current

    # --- identity ----------------------------------------------------------------------------------------

    def _authenticate(self, command: _K, *, rotation: bool) -> None:
        """The command's assertion must vouch for its actor, signed by a key the case trusts, unexpired.

        A case registered before commands were signed trusts no key: it takes one command, the rotation
        that installs its worker's trust store (``rotation``), and then signed ones.
        """
        if self._trusted is None:
            if not rotation:
                raise Unauthenticated("this case trusts no key yet: a supervisor revises its trusted keys")
            return
        verify(command.assertion, command.actor, self._trusted, workflow.now(), workflow.info().workflow_id)

    async def _security_context(self, applicant_id: str) -> SecurityContext:
        """The worker's trusted keys, the applicant's pseudonym and the chain's hash, recorded."""
        context = await self._local(
            "security_context", SecurityRequest(applicant_id=applicant_id), SecurityContext
        )
        self._trusted = context.trusted
        self._chain_hash = context.chain_hash
        return context

    async def _verified_context(self, intake: Command, subject_id: str | None = None) -> SecurityContext:
        """The worker's keys for the case, and the intake's assertion verified against them; the case's
        pseudonym is of ``subject_id`` (a complaint's caller), by default of the intake's applicant.

        The assertion is checked as of the instant the server took the submission (the run's started
        event), not when a worker got to it: a backlog that delays registration past an assertion's few
        minutes must not refuse a submission the intake system was told had been taken."""
        if subject_id is None:
            if not isinstance(intake, Submission):
                raise TypeError("an intake without an applicant names whom the case's pseudonym is of")
            subject_id = intake.applicant.id_number
        context = await self._security_context(subject_id)
        try:
            info = workflow.info()
            verify(
                intake.assertion, intake.actor, context.trusted, info.workflow_start_time, info.workflow_id
            )
        except OneWindowError as error:
            raise refusal(error) from None
        return context

    # --- a person's command: the ``act`` update's validator and handler -------------------------------------

    def _refuse_unadmitted(
        self, command: _K, admit: Callable[[_S, _K], None], *, rotation: bool = False
    ) -> None:
        """Before history: a case still registering, an assertion that does not vouch for its actor, a
        command the reader may not give, or an idempotency key reused, each refused typed."""
        if self._state is None:  # every rule needs the case: refuse now rather than record a refusal later
            raise still_registering()
        try:
            self._authenticate(command, rotation=rotation)
            admit(self._state, command)
        except OneWindowError as error:
            raise refusal(error) from None
        self._idempotency_keys.refuse_reused()

    def _decide_as_the_handler_will(self, command: _K) -> None:
        """Every rule checked in the validator; a key rotation's trust store, read in the handler, stands in
        as the case's own until then."""
        if isinstance(command, ReviseTrustedKeys):
            command = cast(
                "_K", command.model_copy(update={"trusted_keys": self._current.trusted_keys or ("unread",)})
            )
        self._decide(command)

    async def _read_trust_store(self, command: _K) -> tuple[_K, TrustedKeys | None]:
        """A key rotation reads the worker's trust store (the handler's I/O); other commands pass as sent."""
        if not isinstance(command, ReviseTrustedKeys):
            return command, None
        trusted = await workflow.execute_activity(
            "trusted_keys", result_type=TrustedKeys, start_to_close_timeout=OUTSIDE_TIMEOUT
        )
        return cast("_K", command.model_copy(update={"trusted_keys": trusted.key_ids})), trusted

    def _apply(self, command: _K, *, signed_by: str | None = None) -> None:
        """Decide ``command`` and record its events (a process with deadlines also replans them)."""
        self._record(self._decide(command), signed_by=signed_by)

    async def _give(self, command: _K) -> None:
        """A person's command the validator admitted: decided and recorded, signed by its assertion's key
        (a rotation with the trust store it read, trusted from then on)."""
        self._idempotency_keys.remember()
        command, trusted = await self._read_trust_store(command)
        self._apply(command, signed_by=key_id_of(command.assertion))
        self._trusted = trusted or self._trusted

    async def _claim_number(self) -> None:
        """Hold the number for good (``workflows.number_claim``); a number held before is refused."""
        info = workflow.info()
        claim = Claim(application_number=info.workflow_id, holder=info.first_execution_run_id)
        if not await self._local("claim_number", claim, bool):
            raise refusal(
                AlreadySubmitted(f"application {info.workflow_id} was registered before; its record stands")
            )

    # --- calls ---------------------------------------------------------------------------------------------

    async def _deadline_rules(self, from_year: int, *, reload: bool) -> DeadlineRules:
        """The calendar (from ``from_year`` on) and thresholds in force, recorded: replay never re-reads."""
        request = RulesRequest(from_year=from_year, reload_calendar=reload)
        return await self._local("deadline_rules", request, DeadlineRules)

    async def _local(self, activity: str, argument: object, result_type: type[_T]) -> _T:
        """A call the worker answers itself, beside the case's task (its reference data and keys, the
        number's claim), recorded in the history as its result: no round trip to a queue.

        Retried until it answers (a calendar or key file that does not load, a server briefly away); a
        typed refusal (``UnknownMatter``) is not retryable and fails the case at once.
        """
        result: _T = await workflow.execute_local_activity(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=_LOCAL_RETRY,
        )
        return result

    async def _call(
        self,
        activity: str,
        argument: object,
        result_type: type[_T] | None = None,
        *,
        timeout: timedelta = OUTSIDE_TIMEOUT,
    ) -> _T:
        """One outside-system call; the argument carries its idempotency key where it changes anything."""
        result: _T = await workflow.execute_activity(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=timeout,
            priority=self._priority(),
        )
        return result

    def _key(self, sequence: int) -> str:
        return f"{workflow.info().workflow_id}:{sequence}"

    # --- effects ---------------------------------------------------------------------------------------

    async def _perform_effects(self, *, audited: bool = True, drain: bool = True) -> None:
        """Give the audit log the new events' digests and tell outside systems of each new event once,
        keyed by its sequence number: one activity per change (cases since ``ONE_ROUND_TRIP_PER_CHANGE``),
        else the audit beside a call per effect, as histories recorded before ran.

        ``drain`` also performs what was recorded while a batch ran; a main loop that acts on every
        change itself passes False, so the next step (an issuance) goes beside that next batch."""
        if self._one_round_trip:
            await self._perform_in_one_activity(drain=drain)
        else:
            await gather_all(self._audit() if audited else _nothing(), self._tell_outside_systems())

    async def _perform_in_one_activity(self, *, drain: bool) -> None:
        """The new events' digests and calls in one activity, retried whole: every call is idempotent by
        its key, so a retry performs nothing twice."""
        while self._effects_done < len(self._events):
            first, end = self._effects_done, len(self._events)
            new = list(enumerate(self._events[first:end], start=first + 1))
            calls = tuple(
                OutsideEffect(activity=name, message=message.model_dump(mode="json"))
                for sequence, event in new
                for name, message in self._calls_of(event, self._key(sequence))
            )
            batch = EffectBatch(records=self._audit_records(first, end), calls=calls)
            # Each outside call has the time one alone has.
            timeout = OUTSIDE_TIMEOUT * max(1, len(calls))
            await gather_all(
                self._call("perform_effects", batch, timeout=timeout),
                self._tell_peers_of(event for _, event in new),
            )
            self._effects_done = self._audited = end
            if not drain:
                return

    async def _tell_peers_of(self, events: Iterable[_E]) -> None:
        for event in events:
            await self._tell_peers(event)

    async def _tell_outside_systems(self) -> None:
        while self._effects_done < len(self._events):
            sequence = self._effects_done + 1
            event = self._events[sequence - 1]
            await self._tell_peers(event)
            for name, message in self._calls_of(event, self._key(sequence)):
                await self._call(name, message)
            self._effects_done = sequence

    def _audit_records(self, first: int, end: int | None = None) -> tuple[AuditRecord, ...]:
        """The audit log's records of the events after the first ``first``."""
        number = workflow.info().workflow_id
        return tuple(
            AuditRecord(
                application_id=number,
                sequence=sequence,
                kind=event.kind,  # type: ignore[attr-defined]
                digest=event.digest or "",
            )
            for sequence, event in enumerate(self._events[first:end], start=first + 1)
        )

    async def _audit(self) -> None:
        if self._audited >= len(self._events):
            return
        records = self._audit_records(self._audited)
        # An activity, not a local one: what follows it in the main loop reads the case's clock, which
        # a local activity's result would move on in the first run only (``_clock_stopped_at``).
        await self._call("record_audit", AuditEntries(records=records))
        self._audited += len(records)

    # --- the clock -------------------------------------------------------------------------------------

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

    async def _sleep_until_changed(
        self, version: int, wake_at: datetime | None, also: Callable[[], bool] | None = None
    ) -> bool:
        """Sleep on one durable timer until ``wake_at``, unless the case moves on from ``version`` (or
        ``also()`` becomes true) first. True when the timer fired with nothing changed."""

        def changed() -> bool:
            return self._current.version != version or bool(also and also())

        if changed():
            return False
        timeout = None if wake_at is None else (wake_at - self._now()).total_seconds()
        if timeout is None or timeout > 0:
            try:
                await workflow.wait_condition(changed, timeout=timeout)
                return False
            except TimeoutError:
                pass
        # An update may have been applied in the same activation as the timer: re-read the case first.
        return not changed()


async def _nothing() -> None:
    return None
