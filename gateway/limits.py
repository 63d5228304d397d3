"""What one caller may send: a body of at most ``MAX_BODY_BYTES``, and requests at a rate per token.

The body limit is the engine's own message limit, so a body the gateway reads is one a case can take; it
is enforced on the declared ``Content-Length`` and again while the body streams in (a chunked body
declares none). The rate is a token bucket per bearer token: ``burst`` requests at once, refilled at
``rate`` a second; buckets exist only for the token file's tokens, so unknown tokens cannot grow them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from gateway.errors import BodyTooLarge, RateLimited
from workflows.boundary import MAX_MESSAGE_BYTES

MAX_BODY_BYTES = MAX_MESSAGE_BYTES


async def read_body(request: Request) -> bytes:
    """The request body, refused with ``BodyTooLarge`` as soon as it is known to exceed the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body has {declared} bytes; at most {MAX_BODY_BYTES} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the body has more than {MAX_BODY_BYTES} bytes, the most accepted")
    return bytes(body)


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
