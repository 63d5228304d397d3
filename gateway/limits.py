"""What one caller may send: a body of at most ``MAX_BODY_BYTES``, and requests at a rate per token.

The body limit is the engine's own message limit, so a body the gateway reads is one a case can take; it
is enforced on the declared ``Content-Length`` and again while the body streams in (a chunked body
declares none). The rate is a token bucket per bearer token: ``burst`` requests at once, refilled at
``rate`` a second; buckets exist only for the token file's tokens, so unknown tokens cannot grow them.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from gateway.errors import BodyTooLarge, RateLimited
from workflows.boundary import MAX_MESSAGE_BYTES
from workflows.domain.digests import sha256_hex
from workflows.domain.errors import IdempotencyKeyReused

MAX_BODY_BYTES = MAX_MESSAGE_BYTES


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused with ``BodyTooLarge`` as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body has {int(declared)} bytes; at most {limit} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"the body has more than {limit} bytes, the most accepted")
    return bytes(body)


class IdempotencyLedger:
    """The request each caller's ``Idempotency-Key`` was first sent with, in this gateway's memory.

    The engine refuses a key reused for another command on the same case (the key's command digest is in
    the update id); this also refuses it on another case or another endpoint, as a public API's key names
    one request. Each caller keeps its last ``per_caller`` keys.
    """

    def __init__(self, per_caller: int = 1000) -> None:
        self._per_caller = per_caller
        self._first: dict[str, OrderedDict[str, str]] = {}

    def check(self, caller: str, key: str, target: str, body: bytes) -> None:
        """Refuse ``key`` if ``caller`` first sent it to another target or with another body."""
        fingerprint = sha256_hex(f"{target}\n{_canonical(body)}")
        keys = self._first.setdefault(caller, OrderedDict())
        first = keys.setdefault(key, fingerprint)
        keys.move_to_end(key)
        if len(keys) > self._per_caller:
            keys.popitem(last=False)
        if first != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was first sent with another request")


def _canonical(body: bytes) -> str:
    """The body as JSON with sorted keys, so a retry that serialises it otherwise is the same request."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False)
    except ValueError:  # not JSON at all (it will be refused): its bytes are what it is
        return body.hex()


@dataclass(frozen=True)
class RateLimits:
    """Requests a second each token may send, and how many at once."""

    rate: float = 20.0
    burst: int = 40

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")


@dataclass
class _Bucket:
    tokens: float
    filled_at: float


class RateLimiter:
    """A token bucket per key (a bearer token's digest); ``clock`` is monotonic seconds."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> None:
        """Spend one request of ``key``'s bucket, or raise ``RateLimited`` with the seconds to wait."""
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(tokens=self.limits.burst, filled_at=now))
        bucket.tokens = min(self.limits.burst, bucket.tokens + (now - bucket.filled_at) * self.limits.rate)
        bucket.filled_at = now
        if bucket.tokens < 1:
            raise RateLimited(retry_after=math.ceil((1 - bucket.tokens) / self.limits.rate))
        bucket.tokens -= 1
