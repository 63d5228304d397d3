"""How activities tell outside systems: one ``OutsideSystem`` interface, two ways of delivering.

``OutboxAdapter`` (the embedded default) writes each delivery to the outbox, where the city's connectors
pick it up. ``HttpAdapter`` also POSTs it, as JSON, to the endpoint configured for its system.

Order, so an effect is never lost and never repeated beyond what its key dedupes: the outbox first, the
POST second, and the activity completes only after the receiver answered 2xx. A crash before the POST is
retried by Temporal; the outbox write is then a no-op that returns what it first stored, and that is
what is posted, so the receiver sees one body per key, however often it is sent. A crash after the
receiver answered re-sends the same key and body, which the receiver must dedupe. The outbox therefore
holds what was told or is being told; the activity's completion in the case's history says it arrived.
"""

from __future__ import annotations

import asyncio
import email.message
import http.client
import json
import random
import string
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Protocol
from urllib.parse import quote, urlsplit

import structlog
from temporalio.exceptions import ApplicationError

from activities.outbox import Outbox

SYSTEMS = ("notification", "department", "licensing", "supervision")
REFUSED = "OutsideSystemRefused"
UNAVAILABLE = "OutsideSystemUnavailable"
REQUEST_TIMEOUT = 10.0  # seconds per request (see Backoff)
MAX_ANSWER_BYTES = 1024 * 1024
# A refused call is tried again this long after (an operator fixes the receiver or its configuration).
REFUSED_RETRY = timedelta(minutes=10)
LONGEST_RETRY_AFTER = 600.0  # seconds: a receiver asking for longer is tried again after ten minutes
# Printable ASCII passes into the Idempotency-Key header as it is; anything else (a CJK application
# number) is percent-encoded, "%" included, so two keys never share a header.
_HEADER_SAFE = "".join(c for c in string.punctuation if c != "%")

log = structlog.get_logger()


class OutsideSystem(Protocol):
    """Where activities deliver what an outside system must be told, once per idempotency key."""

    async def deliver(self, system: str, key: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Tell ``system`` about ``subject``; the payload as told (the first one, when ``key`` repeats).

        Raises while the system cannot be told: the activity is retried, or fails if the error says so.
        """
        ...


class OutboxAdapter:
    """The embedded default: the outbox is the hand-over point."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def deliver(self, system: str, key: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Write the record once per (system, key)."""
        return await self._outbox.record(system, key, subject, datetime.now(UTC), payload)


def reached(target: OutsideSystem | Outbox) -> OutsideSystem:
    """An outbox alone is delivered to as the embedded default."""
    return OutboxAdapter(target) if isinstance(target, Outbox) else target


@dataclass(frozen=True)
class Endpoint:
    """One system's receiving URL and its bearer token (kept out of any repr: it is a secret)."""

    url: str
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AdapterSettings:
    """The systems reached over HTTP; every other system is handed over through the outbox."""

    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive a POST from a worker, or None when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    return None


def adapter_settings(environ: Mapping[str, str]) -> AdapterSettings:
    """``ONEWINDOW_<SYSTEM>_URL`` and ``_TOKEN`` for each system; ``ValueError`` in one line naming the
    variable (its value is never repeated: a URL or token may hold a secret)."""
    endpoints: dict[str, Endpoint] = {}
    for system in SYSTEMS:
        url_variable, token_variable = f"ONEWINDOW_{system.upper()}_URL", f"ONEWINDOW_{system.upper()}_TOKEN"
        url = environ.get(url_variable, "").strip()
        token = environ.get(token_variable, "").strip() or None
        if not url:
            if token:
                raise ValueError(f"{token_variable} is set without {url_variable}")
            continue
        problem = url_problem(url)
        if problem:
            raise ValueError(f"{url_variable} {problem}")
        endpoints[system] = Endpoint(url, token)
    return AdapterSettings(endpoints)


def idempotency_header(key: str) -> str:
    """The ``Idempotency-Key`` header's value for ``key`` (headers are ASCII; keys may not be)."""
    return quote(key, safe=_HEADER_SAFE)


class HttpFailure(Exception):
    """A POST that got no 2xx answer: ``status`` is None when nothing answered."""

    def __init__(self, what: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.retry_after = retry_after


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a hop: urllib would re-send a POST as a GET, without its body."""

    def redirect_request(  # noqa: PLR0917 - urllib's signature
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: email.message.Message,
        newurl: str,
    ) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


async def post_json(
    url: str, body: dict[str, Any], *, key: str | None = None, token: str | None = None, timeout: float
) -> bytes:
    """One JSON POST (in a thread: the worker's event loop never blocks); the answer's body, read up to
    one byte past ``MAX_ANSWER_BYTES`` so the caller can tell an overlong one. ``HttpFailure`` otherwise.
    """
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        **({"Authorization": f"Bearer {token}"} if token else {}),
        **({"Idempotency-Key": idempotency_header(key)} if key is not None else {}),
    }
    request = urllib.request.Request(  # noqa: S310 - every URL is checked by url_problem first
        url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST", headers=headers
    )
    return await asyncio.to_thread(_exchange, request, timeout)


def _exchange(request: urllib.request.Request, timeout: float) -> bytes:
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            answer: bytes = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:  # its body is the receiver's, unread: it may echo the payload
        retry_after = _seconds(error.headers.get("Retry-After"))
        raise HttpFailure(f"answered {error.code}", error.code, retry_after) from None
    except (OSError, http.client.HTTPException) as error:
        raise HttpFailure(f"could not be reached ({type(error).__name__})") from None
    return answer


def _seconds(retry_after: str | None) -> float | None:
    """A Retry-After in seconds; an HTTP date or anything else is ignored (the backoff applies)."""
    given = (retry_after or "").strip()
    return float(given) if given.isascii() and given.isdigit() else None


def _retried(status: int | None) -> bool:
    """Nothing answered, the receiver failed (5xx) or asked to slow down (429): trying again may help."""
    return status is None or status == 429 or status >= 500


@dataclass(frozen=True)
class Backoff:
    """How long one activity attempt keeps trying (seconds) before Temporal's own retry takes over.

    The n-th wait is ``first * 2**n`` capped at ``longest``, jittered down to half at random so workers
    do not retry in step; a Retry-After up to ``longest`` is waited instead. No wait may end past
    ``budget`` seconds from the first try, so the last try ends within ``budget`` plus the request
    timeout: 22 s by default, inside the activity's 30 s.
    """

    first: float = 0.5
    longest: float = 4.0
    budget: float = 12.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """The wait before try ``attempt + 1``."""
        if retry_after is not None:
            return retry_after
        return min(self.longest, self.first * 2.0**attempt) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


class HttpAdapter:
    """Posts to each system with an endpoint, after writing the delivery to ``trail``; a system
    without one is handed over through ``trail`` alone.

    The POST carries the payload as JSON, the key in ``Idempotency-Key`` and the system's token as a
    bearer token. 5xx, 429 and no answer are retried with backoff inside ``backoff.budget``, then raised
    retryable (``OutsideSystemUnavailable``); any other answer but 2xx is final (``OutsideSystemRefused``,
    not retried): the same request would be refused again.
    """

    def __init__(
        self,
        trail: OutsideSystem,
        endpoints: Mapping[str, Endpoint],
        *,
        backoff: Backoff | None = None,
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self._trail = trail
        self._endpoints = dict(endpoints)
        self._backoff = backoff or Backoff()
        self._timeout = timeout

    async def deliver(self, system: str, key: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Write the trail, then post what it holds under ``key`` until the receiver takes it."""
        told = await self._trail.deliver(system, key, subject, payload)
        endpoint = self._endpoints.get(system)
        if endpoint is not None:
            await self._post(system, endpoint, key, told)
        return told

    async def _post(self, system: str, endpoint: Endpoint, key: str, body: dict[str, Any]) -> None:
        deadline = time.monotonic() + self._backoff.budget
        attempt = 0
        while True:
            try:
                await post_json(endpoint.url, body, key=key, token=endpoint.token, timeout=self._timeout)
                return
            except HttpFailure as failure:
                if not _retried(failure.status):
                    # Refused as sent: asking again soon changes nothing, but failing the activity would
                    # end the case. It waits, retried every REFUSED_RETRY, until the receiver is fixed.
                    log.error("outside_system_refused", system=system, key=key, error=failure.what)
                    raise ApplicationError(
                        f"the {system} system {failure.what}", type=REFUSED, next_retry_delay=REFUSED_RETRY
                    ) from None
                wait = self._backoff.wait(attempt, failure.retry_after)
                attempt += 1
                # A Retry-After longer than any backoff wait is left to Temporal, which waits it out.
                if wait > self._backoff.longest or time.monotonic() + wait > deadline:
                    raise ApplicationError(
                        f"the {system} system {failure.what} ({attempt} tries)",
                        type=UNAVAILABLE,
                        next_retry_delay=(
                            timedelta(seconds=min(wait, LONGEST_RETRY_AFTER)) if failure.retry_after else None
                        ),
                    ) from None
                log.warning(
                    "outside_system_retry", system=system, key=key, attempt=attempt, error=failure.what
                )
                await asyncio.sleep(wait)


def outside_systems(outbox: Outbox, settings: AdapterSettings | None = None) -> OutsideSystem:
    """The adapter activities deliver through: over HTTP to the configured systems, else the outbox."""
    embedded = OutboxAdapter(outbox)
    if settings is None or not settings.endpoints:
        return embedded
    return HttpAdapter(embedded, settings.endpoints)
