"""The Python client of onewindow: what the CLI, the HTTP gateway and integrators' code all call.

Connection follows temporalio's own environment configuration (``TEMPORAL_ADDRESS``,
``TEMPORAL_NAMESPACE``, TLS and API-key variables, TOML profiles), with the pydantic converter so every
payload is plain JSON. Refusals come back as ``Refused`` carrying the domain error's type.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, ClassVar, Generic, NoReturn, TypeVar, cast

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.envconfig import ClientConfig
from temporalio.exceptions import ApplicationError, FailureError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from workflows import search_attributes
from workflows.application_workflow import ApplicationWorkflow
from workflows.boundary import MAX_MESSAGE_BYTES
from workflows.credit_register import keep_record
from workflows.domain.access import READS_EVERYTHING, Pseudonymiser, reader_keys
from workflows.domain.calendar import CALENDAR_VERSION_PATTERN, SHANGHAI, end_of_day
from workflows.domain.clock import WarningLevel
from workflows.domain.commands import ApplicationCommand, Command, Submission
from workflows.domain.complaint import ComplaintCommand, ComplaintEvent, ComplaintView
from workflows.domain.consultation import ConsultationCommand, ConsultationEvent, ConsultationView
from workflows.domain.credit import CreditRecordKind
from workflows.domain.digests import sha256_hex
from workflows.domain.errors import (
    AlreadySubmitted,
    IdempotencyKeyReused,
    InvalidCommand,
    NotAllowed,
    NotAuthorised,
    OneWindowError,
    UnknownApplication,
)
from workflows.domain.establishment import EstablishmentCommand, EstablishmentEvent, EstablishmentProgress
from workflows.domain.events import Actor, ApplicationEvent, ApplicationSubmitted, Role
from workflows.domain.figures import CaseFacts
from workflows.domain.project import ProjectCommand, ProjectEvent, ProjectProgress
from workflows.domain.values import (
    MAX_IDEMPOTENCY_KEY,
    MAX_TEXT,
    Code,
    IdempotencyKey,
    Instant,
    MatterCode,
    visible,
)
from workflows.messages import (
    NOT_YET_REGISTERED,
    STILL_REGISTERING,
    TASK_QUEUE,
    ApplicationView,
    ComplaintIntake,
    ConsultationIntake,
    CreditEntry,
    EventsPage,
    FindingRecorded,
    Intake,
    ProjectIntake,
    ReadRequest,
    idempotent_update_id,
    priority_of,
)
from workflows.number_claim import claim_id
from workflows.read_model import APPLICATION_READS, MemoReads
from workflows.security import Security

__all__ = [  # the client's API, with the domain errors its callers catch
    "DEFAULT_ADDRESS",
    "AlreadySubmitted",
    "Announcement",
    "CaseClient",
    "CaseSummary",
    "Cases",
    "Complaints",
    "Establishments",
    "IdempotencyKeyReused",
    "NotAllowed",
    "NotYetRegistered",
    "Opened",
    "Projects",
    "Refused",
    "UnknownApplication",
    "connect",
    "connect_cases",
    "department_query",
    "exit_process",
    "matter_query",
    "open_cases_query",
    "overdue_query",
    "readable_by",
    "warned_query",
]

DEFAULT_ADDRESS = "localhost:7233"
# Seconds between looks at a case its worker has not registered yet: soon at first (a case registers in
# tens of milliseconds), then at most this often.
_FIRST_REGISTRATION_POLL = 0.01
_REGISTRATION_POLL = 0.05
_REGISTRATION_PATIENCE = 10.0  # seconds a command waits for the case it acts on to be registered


class Refused(OneWindowError):
    """The engine refused a request; ``type`` is the domain error's name (``NotAuthorised``, ...)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self._error_type = error_type

    @property
    def type(self) -> str:
        """The domain error type the engine reported."""
        return self._error_type


class NotYetRegistered(OneWindowError):
    """The case exists but its worker has not registered it yet: ask again shortly."""


def exit_process(code: int) -> NoReturn:
    """End a short-lived client process now, skipping the interpreter's teardown.

    The Temporal client's native threads can outlive the event loop and abort a finalizing interpreter
    (temporalio/sdk-python#300), turning a finished command's exit code into 134. Once the answer is
    printed nothing is left to clean up.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def connect(
    profile: str | None = None,
    *,
    address: str | None = None,
    namespace: str | None = None,
    security: Security | None = None,
) -> Client:
    """A client configured the temporalio way (environment variables, then the TOML profile), signing
    its commands and encrypting its payloads with ``security`` (``Security.load()`` by default).

    ``address`` and ``namespace`` override both, as command-line options do; with nothing configured
    it connects to ``make run``'s dev server.
    """
    security = security or Security.load()
    environment = dict(os.environ)
    for variable, value in (("TEMPORAL_ADDRESS", address), ("TEMPORAL_NAMESPACE", namespace)):
        if value:
            environment[variable] = value
    config = ClientConfig.load_client_connect_config(profile=profile, override_env_vars=environment)
    config.setdefault("target_host", DEFAULT_ADDRESS)
    return await Client.connect(
        **config, data_converter=security.data_converter(), interceptors=security.client_interceptors()
    )


async def connect_cases(
    task_queue: str = TASK_QUEUE,
    profile: str | None = None,
    *,
    address: str | None = None,
    namespace: str | None = None,
    security: Security | None = None,
) -> Cases:
    """``Cases`` on a client made by ``connect``, listing applicants' cases by their keyed pseudonyms."""
    security = security or Security.load()
    client = await connect(profile, address=address, namespace=namespace, security=security)
    return Cases(client, task_queue, pseudonyms=security.pseudonyms.of)


class CaseSummary(BaseModel):
    """One line of a list: what the search attributes say of a case, without querying it."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    status: str | None
    matter: str | None
    departments: tuple[str, ...]
    due_at: Instant | None
    warning_level: str | None
    green_channel: bool | None
    running: bool


@dataclass(frozen=True)
class Opened:
    """A submission's outcome: the run that holds the case, and whether it was a retry of the first."""

    run_id: str
    replayed: bool


@dataclass(frozen=True)
class Announcement:
    """Who heard of a calendar revision, and the running cases the signal did not reach, with why."""

    signalled: list[str]
    unreached: dict[str, str]


_I = TypeVar("_I", bound=Command)  # a submission, or a complaint's intake
_C = TypeVar("_C", bound=Command)
_V = TypeVar("_V", bound=BaseModel)
_E = TypeVar("_E", bound=BaseModel)
_CALENDAR_VERSION = re.compile(CALENDAR_VERSION_PATTERN)
# Who records a supervision finding: the supervision office, or the head of a supervising department.
FINDING_ROLES = frozenset({Role.SUPERVISOR, Role.DEPARTMENT_HEAD})
# The complaints a closed case's view lists (found by visibility; an open case's are in its log).
MAX_COMPLAINTS_SHOWN = 100
# The most cases one figures' report reads (a year of a large centre's approvals and complaints).
MAX_FIGURES_ROWS = 200_000
_MEMO_IDEMPOTENCY = "idempotency"  # the digest of the submitter and key a case was started with
_CODE: TypeAdapter[str] = TypeAdapter(Code)
_MATTER_CODE: TypeAdapter[str] = TypeAdapter(MatterCode)


def _filter_value(adapter: TypeAdapter[str], value: str, what: str) -> str:
    """A list filter's value, checked as the code it names: nothing else reaches a visibility query."""
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise InvalidCommand(f"{what} must be a catalogue code (letters, digits, '_' and '-')") from None


def overdue_query(now: datetime) -> str:
    """Open cases whose decision deadline has passed (or whose warning is already red)."""
    return (
        f"ExecutionStatus = 'Running' AND ({search_attributes.WARNING_LEVEL.name} = "
        f"'{WarningLevel.RED.value}' OR {search_attributes.DUE_AT.name} < '{now.isoformat()}')"
    )


def warned_query() -> str:
    """Open cases with any warning (notice, yellow or red)."""
    levels = ", ".join(f"'{level.value}'" for level in WarningLevel if level is not WarningLevel.NONE)
    return f"ExecutionStatus = 'Running' AND {search_attributes.WARNING_LEVEL.name} IN ({levels})"


def department_query(department: str) -> str:
    """Open cases a department is responsible for (``InvalidCommand`` for a value that is no code)."""
    code = _filter_value(_CODE, department, "department")
    return f"ExecutionStatus = 'Running' AND {search_attributes.DEPARTMENTS.name} = '{code}'"


def matter_query(matter_code: str) -> str:
    """Open cases of one matter (``CODE`` or ``CODE.TYPE``)."""
    code = _filter_value(_MATTER_CODE, matter_code, "matter")
    return f"ExecutionStatus = 'Running' AND {search_attributes.MATTER.name} = '{code}'"


def status_query(statuses: Iterable[StrEnum]) -> str:
    """Open cases in one of ``statuses`` (the engine's own status values, never a caller's text)."""
    listed = ", ".join(f"'{status.value}'" for status in statuses)
    return f"ExecutionStatus = 'Running' AND {search_attributes.STATUS.name} IN ({listed})"


def open_cases_query(
    *,
    overdue_at: datetime | None = None,
    warned: bool = False,
    departments: Sequence[str] = (),
    matters: Sequence[str] = (),
    statuses: Sequence[StrEnum] = (),
) -> str:
    """The open cases every filter given admits (overdue at an instant, warned, of departments, of matters,
    in statuses); with none, every open case. What the CLI's ``list``, the gateway's list and the
    console's work queues ask."""
    queries = [overdue_query(overdue_at)] if overdue_at is not None else []
    if warned:
        queries.append(warned_query())
    if statuses:
        queries.append(status_query(statuses))
    queries += [department_query(department) for department in departments]
    queries += [matter_query(matter) for matter in matters]
    return " AND ".join(f"({query})" for query in queries) or "ExecutionStatus = 'Running'"


def readable_by(reader: Actor, keyed: Pseudonymiser) -> str | None:
    """The cases ``reader`` may read, as a visibility clause; None for a role that reads every case.

    Reader keys hold identifiers and codes only (no quote can occur in them: ``workflows.domain.values``);
    an applicant's is their keyed pseudonym (``keyed``).
    """
    keys = reader_keys(reader, keyed)
    if keys is None:
        return None
    listed = ", ".join(f"'{key}'" for key in keys)
    return f"{search_attributes.READERS.name} IN ({listed})"


def _require_within_limit(message: BaseModel, what: str) -> None:
    """Refuse here what the case would refuse: a message over the engine's size limit."""
    size = len(message.model_dump_json().encode())
    if size > MAX_MESSAGE_BYTES:
        raise Refused(InvalidCommand.__name__, f"the {what} has {size} bytes; at most {MAX_MESSAGE_BYTES}")


_IDEMPOTENCY_KEY: TypeAdapter[str] = TypeAdapter(IdempotencyKey)


def _require_key(idempotency_key: str) -> None:
    """Refuse a key Temporal would refuse untyped as part of an update id, or one nobody could retype."""
    try:
        _IDEMPOTENCY_KEY.validate_python(idempotency_key, strict=True)
    except ValidationError:
        raise Refused(
            InvalidCommand.__name__,
            f"an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces",
        ) from None


class CaseClient(Generic[_I, _C, _V, _E]):
    """Cases of one process on one Temporal namespace and task queue: every process is started, driven
    and read the same way (its workflow's ``run``, the ``act`` update, ``state_for`` and ``events_for``)."""

    _workflow: ClassVar[str]
    _intake: ClassVar[type[Command]]
    _view: ClassVar[type[BaseModel]]
    _page: ClassVar[Any]  # the events page of the process's own event type
    _reads: ClassVar[MemoReads[Any, Any] | None] = None  # its state in the memo; None: read by query

    def __init__(
        self, client: Client, task_queue: str = TASK_QUEUE, *, pseudonyms: Pseudonymiser | None = None
    ) -> None:
        """``client`` signs the commands it sends (``workflows.security``); ``pseudonyms`` is the keyed
        pseudonym of an identity number, without which an applicant's own cases cannot be listed."""
        self.client = client
        self.task_queue = task_queue
        self._pseudonyms = pseudonyms

    async def submit(self, application_id: str, intake: _I, *, idempotency_key: str | None = None) -> Opened:
        """Open a case; green-channel cases run with priority.

        A number in use is ``AlreadySubmitted``, unless this is a retry: the same ``idempotency_key`` from
        the same submitter with the same intake, answered as the first was (``replayed``). The same key
        with another intake is ``IdempotencyKeyReused``.
        """
        _require_within_limit(intake, "intake")
        if idempotency_key is not None:
            _require_key(idempotency_key)
        marker = _submission_marker(intake.actor, idempotency_key) if idempotency_key else None
        try:
            handle = await self.client.start_workflow(
                self._workflow,
                intake,
                id=application_id,
                result_type=self._view,
                task_queue=self.task_queue,
                # A case that failed to register (a mistyped matter code) frees its number; no other does.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                priority=priority_of(isinstance(intake, Submission) and intake.green_channel),
                memo={_MEMO_IDEMPOTENCY: marker} if marker else None,
            )
        except WorkflowAlreadyStartedError as error:
            started = await self._started_with(application_id) if marker else None
            if started is None or started[0] != marker:
                raise AlreadySubmitted(f"application {application_id} exists already") from error
            if started[1] is None or _unsigned(started[1]) != _unsigned(intake):
                raise IdempotencyKeyReused(
                    f"this idempotency key opened {application_id} with another intake"
                ) from error
            return Opened(run_id=error.run_id or "", replayed=True)
        return Opened(run_id=handle.result_run_id or "", replayed=False)

    async def act(self, application_id: str, command: _C, *, idempotency_key: str | None = None) -> _V:
        """Give a command; a retry with the same ``idempotency_key`` and command takes effect once.

        A command on a closed case is ``NotAllowed`` (the case's status says why); the same key with
        another command is ``IdempotencyKeyReused``.
        """
        _require_within_limit(command, "command")
        if idempotency_key is not None:
            _require_key(idempotency_key)
        update_id = idempotent_update_id(command.actor, idempotency_key, command) if idempotency_key else None
        handle = self.client.get_workflow_handle(application_id)
        give_up_at = asyncio.get_running_loop().time() + _REGISTRATION_PATIENCE
        pauses = _registration_pauses()
        while True:
            try:
                view: _V = await handle.execute_update("act", command, id=update_id, result_type=self._view)
                return view
            except WorkflowUpdateFailedError as error:
                refused = _refused(error)
                # A case submitted a moment ago is registered within milliseconds: wait for that only.
                if refused.type != NOT_YET_REGISTERED or asyncio.get_running_loop().time() > give_up_at:
                    raise refused from error
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                why = await self._why_no_update(application_id, command)
                # An open case the server did not find a moment ago is one just started: try again.
                if why is not None or asyncio.get_running_loop().time() > give_up_at:
                    raise (why or NotYetRegistered(f"{application_id} took no update")) from error
            await asyncio.sleep(next(pauses))

    async def registered(
        self, application_id: str, at: datetime | None = None, *, reader: Actor | None
    ) -> _V:
        """The case's view once its worker has registered it; a refused intake raises its ``Refused``.

        Waits as long as no worker takes the case: bound it with ``asyncio.timeout``.
        """
        handle = self.client.get_workflow_handle(application_id)
        pauses = _registration_pauses()
        while True:
            try:
                return await self.state(application_id, at, reader=reader)
            except NotYetRegistered:
                status = (await handle.describe()).status
                # Failed since the refusal was looked for: the next round finds why.
                if status not in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.FAILED):
                    name = status.name.lower() if status else "closed"
                    raise Refused(
                        "NotRegistered", f"application {application_id} was {name} before it was registered"
                    ) from None
            await asyncio.sleep(next(pauses))

    async def registration_refusal(self, application_id: str, *, reader: Actor | None) -> Refused | None:
        """Why a case failed before it was registered (``UnknownMatter``, an invalid intake: the only way a
        case fails); None if it has not failed, e.g. while it waits for a worker to register it.

        A case that never registered has no readers but its submitter: anyone else with a ``reader``
        scope gets ``UnknownApplication``, as for a missing case.
        """
        handle = self.client.get_workflow_handle(application_id)
        try:
            if (await handle.describe()).status is not WorkflowExecutionStatus.FAILED:
                return None
            if reader is not None and reader.role not in READS_EVERYTHING:
                _, intake = await self._started_with(application_id)
                if intake is None or (intake.actor.role, intake.actor.key) != (reader.role, reader.key):
                    raise UnknownApplication(f"no application {application_id}")
            await handle.result()
        except RPCError as error:
            raise _translated(application_id, error) from error
        except WorkflowFailureError as failure:
            cause: BaseException | None = failure.cause
            while isinstance(cause, FailureError):
                if isinstance(cause, ApplicationError) and cause.type:
                    return Refused(cause.type, cause.message)
                cause = cause.cause
            return Refused("Refused", str(failure.cause or failure))
        return Refused("Refused", f"application {application_id} failed without a reason")

    async def state(self, application_id: str, at: datetime | None = None, *, reader: Actor | None) -> _V:
        """The case's view at ``at`` (the caller's time; the case's last activity if omitted).

        A case ``reader``'s role does not cover is ``UnknownApplication``, as a missing one is
        (``reader=None`` reads as an operator, unscoped). A case that never registered raises why; one
        still being registered, ``NotYetRegistered``.

        Given ``at``, a case that keeps its state in its memo is read from there (one describe, no
        replay: ``workflows.read_model``); any other is asked through the ``state_for`` query.
        """
        kept, found = await self._from_memo(application_id, at, reader)
        if not kept:
            request = ReadRequest(reader=reader, at=at)
            _, found = await self._first_read(application_id, "state_for", request, _or_null(self._view))
        if found is None:
            raise UnknownApplication(f"no application {application_id}")
        view: _V = found
        return view

    async def _from_memo(
        self, application_id: str, at: datetime | None, reader: Actor | None
    ) -> tuple[bool, Any]:
        """Whether the case's memo holds its state, and the view derived from it as ``state_for`` would
        answer it (None: not the reader's case)."""
        if at is None or self._reads is None:
            return False, None
        try:
            description = await self.client.get_workflow_handle(application_id).describe()
        except RPCError as error:
            raise _translated(application_id, error) from error
        state = self._reads.state_of(await description.memo())
        if state is None:
            return False, None
        return True, self._reads.view_for(state, at, reader)

    async def events(self, application_id: str, *, reader: Actor | None) -> list[_E]:
        """The case's whole domain log, read page by page (``UnknownApplication`` for a reader it does not
        concern; ``reader=None`` reads as an operator, unscoped)."""
        page_type = _or_null(self._page)
        handle, page = await self._first_read(
            application_id, "events_for", ReadRequest(reader=reader, first=0), page_type
        )
        events: list[_E] = []
        try:
            while page is not None:
                events += page.events
                if page.next_first is None:
                    return events
                request = ReadRequest(reader=reader, first=page.next_first)
                page = await handle.query("events_for", request, result_type=page_type)
        except WorkflowQueryFailedError as error:
            raise await self._unanswered(application_id, reader, error) from error
        except RPCError as error:
            raise _translated(application_id, error) from error
        raise UnknownApplication(f"no application {application_id}")

    async def _first_read(
        self, application_id: str, query: str, request: ReadRequest, result_type: type
    ) -> tuple[WorkflowHandle[Any, Any], Any]:
        """A read of the case, and the run that answered it: the number's latest run, or the one holding
        the number when a refused duplicate stands in front of it (``_shadowed_by_duplicate``)."""
        handle = self.client.get_workflow_handle(application_id)
        try:
            return handle, await handle.query(query, request, result_type=result_type)
        except WorkflowQueryFailedError as error:
            holder = await self._shadowed_by_duplicate(application_id)
            if holder is None:
                raise await self._unanswered(application_id, reader=request.reader, error=error) from error
            return holder, await holder.query(query, request, result_type=result_type)
        except RPCError as error:
            raise _translated(application_id, error) from error

    async def find(self, query: str, limit: int = 100, *, reader: Actor | None) -> list[CaseSummary]:
        """Cases a visibility query over onewindow's search attributes finds, of those ``reader`` may read,
        among this deployment's (its task queue's): a case no worker of ours serves cannot be read."""
        clauses = [f"WorkflowType = '{self._workflow}'", f"TaskQueue = '{self.task_queue}'", f"({query})"]
        scope = readable_by(reader, self._pseudonym) if reader is not None else None
        if scope is not None:
            clauses.append(scope)
        found = []
        async for execution in self.client.list_workflows(" AND ".join(clauses), limit=limit):
            attributes = execution.typed_search_attributes
            found.append(
                CaseSummary(
                    application_id=execution.id,
                    status=attributes.get(search_attributes.STATUS),
                    matter=attributes.get(search_attributes.MATTER),
                    departments=tuple(attributes.get(search_attributes.DEPARTMENTS) or ()),
                    due_at=attributes.get(search_attributes.DUE_AT),
                    warning_level=attributes.get(search_attributes.WARNING_LEVEL),
                    green_channel=attributes.get(search_attributes.GREEN_CHANNEL),
                    running=execution.status is WorkflowExecutionStatus.RUNNING,
                )
            )
        return found

    async def figures_rows(self, first_day: date, last_day: date, *, reader: Actor | None) -> list[CaseFacts]:
        """Every application and complaint ``reader`` may read whose deadline falls from ``first_day`` to
        ``last_day`` (Shanghai), as its search attributes describe it: the rows of the city's figures."""
        after = datetime.combine(first_day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
        until = end_of_day(last_day).astimezone(UTC)
        types = " OR ".join(f"WorkflowType = '{name}'" for name in search_attributes.REPORTED_TYPES.values())
        clauses = [
            f"({types})",
            f"TaskQueue = '{self.task_queue}'",  # this deployment's cases (a queue name holds no quote)
            f"{search_attributes.DEADLINE.name} > '{after.isoformat()}'",
            f"{search_attributes.DEADLINE.name} <= '{until.isoformat()}'",
        ]
        scope = readable_by(reader, self._pseudonym) if reader is not None else None
        if scope is not None:
            clauses.append(scope)
        kinds = {name: kind for kind, name in search_attributes.REPORTED_TYPES.items()}
        rows: dict[str, CaseFacts] = {}
        async for execution in self.client.list_workflows(" AND ".join(clauses), limit=MAX_FIGURES_ROWS + 1):
            if execution.id in rows:  # an earlier run of the number (a registration that failed)
                continue
            if len(rows) == MAX_FIGURES_ROWS:
                raise Refused(
                    "RangeTooLarge", f"more than {MAX_FIGURES_ROWS} cases fall in the range: narrow it"
                )
            kind = kinds[execution.workflow_type]
            rows[execution.id] = search_attributes.facts_from(
                execution.id, kind, execution.typed_search_attributes
            )
        return list(rows.values())

    async def _shadowed_by_duplicate(self, application_id: str) -> WorkflowHandle[Any, Any] | None:
        """The run holding the number, when a later run of it (started by a raw client, whatever its
        id-reuse policy) was refused ``AlreadySubmitted`` and now stands in front of it."""
        refusal = await self.registration_refusal(application_id, reader=None)
        if refusal is None or refusal.type != AlreadySubmitted.__name__:
            return None
        try:
            holder: str = await self.client.get_workflow_handle(claim_id(application_id)).result()
            handle = self.client.get_workflow_handle(application_id, run_id=holder)
            await handle.describe()  # a claim someone else started may name no run of this number at all
        except (RPCError, WorkflowFailureError):
            return None
        return handle

    def _pseudonym(self, identifier: str) -> str:
        if self._pseudonyms is None:
            raise Refused(
                "NotConfigured", "this client holds no pseudonym key: it cannot list an applicant's cases"
            )
        return self._pseudonyms(identifier)

    async def _started_with(self, application_id: str) -> tuple[str | None, _I | None]:
        """The submission marker and the intake a case was started with (its first history event)."""
        handle = self.client.get_workflow_handle(application_id)
        description = await handle.describe()
        memo: Mapping[str, Any] = await description.memo()
        marker = memo.get(_MEMO_IDEMPOTENCY)
        async for event in handle.fetch_history_events():
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            try:
                (intake,) = await self.client.data_converter.decode(payloads, [self._intake])
            except Exception:  # started by other means, with any input at all
                return marker, None
            return marker, cast("_I", intake) if isinstance(intake, self._intake) else None
        return marker, None

    async def _unanswered(
        self, application_id: str, reader: Actor | None, error: WorkflowQueryFailedError
    ) -> Exception:
        """Why a case did not answer a query: it never registered (and why, if the reader may know), or
        it is still being registered; anything else is the query's own failure."""
        refusal = await self.registration_refusal(application_id, reader=reader)
        if refusal is not None:
            return refusal
        if STILL_REGISTERING in error.message:
            return NotYetRegistered(f"application {application_id} is still being registered; retry shortly")
        return error

    async def _why_no_update(self, application_id: str, command: _C) -> OneWindowError | None:
        """The server takes no update for a closed case: say it is closed (or was never a case); None
        for a case that is open (one just started, which the server found a moment later)."""
        refusal = await self.registration_refusal(application_id, reader=command.actor)
        if refusal is not None:
            return refusal
        view = await self.state(application_id, reader=command.actor)
        if not view.closed:  # type: ignore[attr-defined]
            return None
        return NotAllowed(command.kind, view.status.value)  # type: ignore[attr-defined]


class Cases(CaseClient[Intake, ApplicationCommand, ApplicationView, ApplicationEvent]):
    """Applications on one Temporal namespace and task queue."""

    _workflow = "ApplicationWorkflow"
    _intake = Intake
    _view = ApplicationView
    _page = EventsPage[ApplicationEvent]
    _reads = APPLICATION_READS

    async def state(
        self, application_id: str, at: datetime | None = None, *, reader: Actor | None
    ) -> ApplicationView:
        """As every process's, and a closed case's complaints besides: a complaint made after the case
        closed cannot enter its log, so it is found by the number it names (``OwConcerns``)."""
        view = await super().state(application_id, at, reader=reader)
        if not view.closed:
            return view
        query = (
            f"WorkflowType = '{Complaints._workflow}' AND TaskQueue = '{self.task_queue}' AND "
            f"{search_attributes.CONCERNS.name} = '{_quoted(application_id)}'"
        )
        try:
            later = [c.id async for c in self.client.list_workflows(query, limit=MAX_COMPLAINTS_SHOWN)]
        except RPCError as error:  # a server without visibility (the time-skipping test server)
            if error.status is not RPCStatusCode.UNIMPLEMENTED:
                raise
            return view
        return view.model_copy(update={"complaints": tuple(dict.fromkeys((*view.complaints, *later)))})

    async def record_finding(self, application_id: str, finding: str, *, reader: Actor) -> FindingRecorded:
        """审批监管联动's way back: a supervision finding on the case's issued licence, kept in the
        applicant's credit register, where it bars 容缺 and 告知承诺 like any record (for the bar's months).

        Once per finding: the same text on the same case is one record. The embedded register only (a
        deployment on the city's credit platform records findings there).
        """
        if reader.role not in FINDING_ROLES:
            raise NotAuthorised(reader.id, "a finding is recorded by supervision or a department head")
        if not visible(finding) or len(finding) > MAX_TEXT:
            raise InvalidCommand(f"finding: say what was found, in at most {MAX_TEXT} characters")
        view = await self.state(application_id, reader=reader)
        if view.licence_number is None:
            raise InvalidCommand(f"{application_id} holds no issued licence: a finding concerns one")
        submitted = next(iter(await self.events(application_id, reader=reader)))
        if not isinstance(submitted, ApplicationSubmitted):
            raise InvalidCommand(f"{application_id} did not start with its submission")
        applicant = submitted.applicant
        entry = CreditEntry(
            key=f"{application_id}:finding:{sha256_hex(finding)[:16]}",
            application_id=application_id,
            applicant_id=applicant.id_number,
            applicant_key=submitted.applicant_key or self._pseudonym(applicant.id_number),
            kind=CreditRecordKind.SUPERVISION_FINDING,
            reason=finding,
            at=datetime.now(UTC),
        )
        try:
            await keep_record(self.client, self.task_queue, entry)
        except WorkflowUpdateFailedError as error:
            raise _refused(error) from error
        return FindingRecorded(application_id=application_id, kind=entry.kind, key=entry.key, at=entry.at)

    def projects(self) -> Projects:
        """Construction projects on the same client, task queue and pseudonym key."""
        return Projects(self.client, self.task_queue, pseudonyms=self._pseudonyms)

    def establishments(self) -> Establishments:
        """Enterprise establishments on the same client, task queue and pseudonym key."""
        return Establishments(self.client, self.task_queue, pseudonyms=self._pseudonyms)

    def consultations(self) -> Consultations:
        """提前介入 consultations on the same client, task queue and pseudonym key."""
        return Consultations(self.client, self.task_queue, pseudonyms=self._pseudonyms)

    def complaints(self) -> Complaints:
        """12345/8890 complaints on the same client, task queue and pseudonym key."""
        return Complaints(self.client, self.task_queue, pseudonyms=self._pseudonyms)

    async def announce_calendar_revision(self, version: str | None = None) -> Announcement:
        """R-CAL-4: tell the running cases that a new calendar is loaded.

        Given the ``version`` now loaded, cases already counting with it are not told again: each case
        takes at most 100 signals (``workflows.server_limits``), so a repeated announcement must not spend
        them. A case that closed meanwhile, or refuses the signal, is reported, and the others still hear.
        """
        query = f"WorkflowType = '{self._workflow}' AND ExecutionStatus = 'Running'"
        if version is not None:
            if not _CALENDAR_VERSION.fullmatch(version):
                raise Refused(InvalidCommand.__name__, "a calendar version reads cal-<hex digits>")
            name = search_attributes.CALENDAR.name
            query += f" AND ({name} IS NULL OR {name} != '{version}')"
        announcement = Announcement(signalled=[], unreached={})
        async for execution in self.client.list_workflows(query):
            try:
                await self.client.get_workflow_handle(execution.id).signal(
                    ApplicationWorkflow.calendar_revised
                )
            except RPCError as error:
                status = error.status.name if error.status else "UNKNOWN"
                announcement.unreached[execution.id] = f"{status}: {error.message}"
                continue
            announcement.signalled.append(execution.id)
        return announcement


class Projects(CaseClient[ProjectIntake, ProjectCommand, ProjectProgress, ProjectEvent]):
    """Construction projects on one Temporal namespace and task queue: each is read as its progress."""

    _workflow = "ProjectWorkflow"
    _intake = ProjectIntake
    _view = ProjectProgress
    _page = EventsPage[ProjectEvent]


class Establishments(
    CaseClient[ProjectIntake, EstablishmentCommand, EstablishmentProgress, EstablishmentEvent]
):
    """Enterprise establishments on one Temporal namespace and task queue, read as their progress."""

    _workflow = "EstablishmentWorkflow"
    _intake = ProjectIntake
    _view = EstablishmentProgress
    _page = EventsPage[EstablishmentEvent]


class Consultations(CaseClient[ConsultationIntake, ConsultationCommand, ConsultationView, ConsultationEvent]):
    """提前介入 consultations on one Temporal namespace and task queue, read as their view."""

    _workflow = "ConsultationWorkflow"
    _intake = ConsultationIntake
    _view = ConsultationView
    _page = EventsPage[ConsultationEvent]


class Complaints(CaseClient[ComplaintIntake, ComplaintCommand, ComplaintView, ComplaintEvent]):
    """12345/8890 complaints on one Temporal namespace and task queue, read as their view."""

    _workflow = "ComplaintWorkflow"
    _intake = ComplaintIntake
    _view = ComplaintView
    _page = EventsPage[ComplaintEvent]


def _quoted(text: str) -> str:
    """``text`` inside a visibility query's single quotes (an application number holds none, but a
    query is never built from a caller's text unescaped)."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _or_null(result: type) -> type:
    """The result type of a read a reader may be refused: ``result``, or ``null``."""
    return cast(type, result | None)


def _registration_pauses() -> Iterator[float]:
    """The pauses between looks at a case not yet registered: doubling up to ``_REGISTRATION_POLL``."""
    pause = _FIRST_REGISTRATION_POLL
    while True:
        yield pause
        pause = min(pause * 2, _REGISTRATION_POLL)


def _unsigned(intake: _I) -> _I:
    """An intake as a retry is compared: each try carries an assertion of its own."""
    return intake.model_copy(update={"assertion": None})


def _submission_marker(actor: Actor, idempotency_key: str) -> str:
    """What a case started with an idempotency key remembers of it: a digest of who sent which key."""
    return sha256_hex(f"{actor.role.value}:{actor.key}:{idempotency_key}", 32)


def _refused(error: WorkflowUpdateFailedError) -> OneWindowError:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type == UnknownApplication.__name__:
        return UnknownApplication(cause.message)  # a case the actor's role does not cover
    if isinstance(cause, ApplicationError):
        return Refused(cause.type or "Refused", cause.message)
    return Refused("Refused", str(cause or error))


def _translated(application_id: str, error: RPCError) -> Exception:
    if error.status is RPCStatusCode.NOT_FOUND:
        return UnknownApplication(f"no application {application_id}")
    return error
