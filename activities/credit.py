"""The social-credit system: records of broken commitments, and the eligibility check they feed.

Eligibility for what trusts an applicant's word (容缺, 告知承诺) must not depend on which worker ran their
earlier cases, so records live in one ``CreditPlatform`` every worker shares: by default the embedded
register in Temporal itself (``workflows.credit_register``), or the city's credit platform over HTTP.
Each record is also written to the worker's outbox, the trail of what outside systems were told.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.adapters import MAX_ANSWER_BYTES, REQUEST_TIMEOUT, HttpFailure, post_json, url_problem
from activities.outbox import Outbox
from workflows.credit_register import CreditRegister, CreditRegisterFull, keep_record, register_id
from workflows.domain.commands import CreditStanding
from workflows.domain.credit import DEFAULT_BAR_MONTHS, standing
from workflows.messages import CreditEntry, CreditQuery

SYSTEM = "credit"
REGISTER_FULL = CreditRegisterFull.__name__
PLATFORM_UNAVAILABLE = "CreditPlatformUnavailable"

log = structlog.get_logger()


class CreditPlatform(Protocol):
    """Where credit records are kept; every entry and query it gets names the applicant's key."""

    async def record(self, entry: CreditEntry) -> None:
        """Keep ``entry`` once per ``entry.key``; raise while it cannot (the activity is retried)."""
        ...

    async def records(self, query: CreditQuery) -> Sequence[CreditEntry]:
        """Every record kept about the applicant of ``query``."""
        ...


class TemporalCreditRegister:
    """The embedded default: one ``CreditRegister`` workflow per applicant, reached through the client of
    the worker running the activity (its registers run on that worker's task queue)."""

    async def record(self, entry: CreditEntry) -> None:
        """Update-with-start: the register is started if need be, and answers once the record is durable."""
        try:
            added = await keep_record(activity.client(), activity.info().task_queue, entry)
        except WorkflowUpdateFailedError as error:
            raise _refused(error) from None
        log.info("credit_recorded", application_id=entry.application_id, key=entry.key, repeated=not added)

    async def records(self, query: CreditQuery) -> Sequence[CreditEntry]:
        """The register's records; an applicant who never had one has no register."""
        handle = activity.client().get_workflow_handle(register_id(_key_of(query)))
        try:
            return await handle.query(CreditRegister.records)
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return ()
            raise


def _refused(error: WorkflowUpdateFailedError) -> ApplicationError:
    """A full register waits for an operator (retried, never lost); any other refusal is final."""
    cause = error.cause
    if not isinstance(cause, ApplicationError):  # not the register's own refusal: try again
        return ApplicationError(f"the credit register did not take the record: {cause}")
    if cause.type == REGISTER_FULL:
        log.error("credit_register_full", error=cause.message)
        return ApplicationError(cause.message, type=REGISTER_FULL)
    return ApplicationError(cause.message, type=cause.type, non_retryable=True)


def _key_of(message: CreditEntry | CreditQuery) -> str:
    if message.applicant_key is None:  # CreditActivities fills it in before any platform sees it
        raise ValueError("a credit register is found by the applicant's key")
    return message.applicant_key


class _PlatformRecords(BaseModel):
    """The city platform's answer to a records search."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    records: tuple[CreditEntry, ...]


class CityCreditPlatform:
    """The city's credit platform over HTTP: ``POST {base}/records`` keeps a record (its key in the
    ``Idempotency-Key`` header), ``POST {base}/records/search`` lists an applicant's records. The identity
    number travels in the body, never the URL, so it stays out of access logs.

    Any failure raises, and Temporal retries the activity until the platform answers.
    """

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = REQUEST_TIMEOUT) -> None:
        problem = url_problem(base_url)
        if problem:
            raise ValueError(f"the credit platform's URL {problem}")
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def record(self, entry: CreditEntry) -> None:
        """Send the record; the platform answers a repeated Idempotency-Key as it answered the first."""
        await self._exchange("/records", entry.model_dump(mode="json"), key=entry.key)

    async def records(self, query: CreditQuery) -> Sequence[CreditEntry]:
        """The platform's records of the applicant."""
        body = {"applicant_id": query.applicant_id}  # the platform knows people by number, not our key
        answer = await self._exchange("/records/search", body)
        try:
            return _PlatformRecords.model_validate_json(answer).records
        except ValidationError:
            raise ApplicationError(
                "the credit platform's answer to /records/search is not a list of records",
                type=PLATFORM_UNAVAILABLE,
            ) from None

    async def _exchange(self, path: str, body: dict[str, Any], *, key: str | None = None) -> bytes:
        """One POST through the outside systems' transport, not retried here: the activity is."""
        try:
            answer = await post_json(
                self._base + path, body, key=key, token=self._token, timeout=self._timeout
            )
        except HttpFailure as failure:
            raise _unavailable(path, failure.what) from None
        if len(answer) > MAX_ANSWER_BYTES:
            raise _unavailable(path, f"answered more than {MAX_ANSWER_BYTES} bytes")
        return answer


def _unavailable(path: str, what: str) -> ApplicationError:
    return ApplicationError(f"the credit platform's {path} {what}", type=PLATFORM_UNAVAILABLE)


class CreditActivities:
    """Writes credit records and bars applicants with a recent one from 容缺 and 告知承诺."""

    def __init__(
        self,
        outbox: Outbox,
        pseudonym: Callable[[str], str],
        *,
        platform: CreditPlatform | None = None,
        bar_months: int = DEFAULT_BAR_MONTHS,
    ) -> None:
        self._outbox = outbox
        self._pseudonym = pseudonym  # a case registered before keys names no applicant_key: derive it
        self._platform = platform or TemporalCreditRegister()
        self._bar_months = bar_months

    @activity.defn(name="write_credit_record")
    async def write_credit_record(self, entry: CreditEntry) -> None:
        """Record a broken commitment against the applicant (once per key), in the platform every worker
        reads and in this worker's trail."""
        keyed = entry.model_copy(
            update={"applicant_key": entry.applicant_key or self._pseudonym(entry.applicant_id)}
        )
        await self._outbox.record(
            SYSTEM, keyed.key, keyed.applicant_id, keyed.at, keyed.model_dump(mode="json")
        )
        await self._platform.record(keyed)

    @activity.defn(name="check_credit")
    async def check_credit(self, query: CreditQuery) -> CreditStanding:
        """Eligible unless a record of any kind was made within the bar period before ``query.at``."""
        keyed = query.model_copy(
            update={"applicant_key": query.applicant_key or self._pseudonym(query.applicant_id)}
        )
        return standing(await self._platform.records(keyed), keyed.at, self._bar_months)
