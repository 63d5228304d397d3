"""What the endpoints depend on, in one place: the caller, the service, and the parameters they share.

The caller is the bearer token's actor, within the token's rate: 401 without a known token, 429 beyond it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.bodies import body_of
from gateway.errors import Unauthenticated
from gateway.limits import IdempotencyLedger, RateLimiter
from gateway.service import Gateway
from gateway.tokens import TokenBook, token_digest
from workflows.domain.events import Actor
from workflows.domain.values import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY, ApplicationNumber

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A token from the gateway's token file; it names the actor of every command.",
)


def _service(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Actor:
    """The token's actor, or 401; 429 once the token has spent its rate."""
    if credentials is None:
        raise Unauthenticated("send Authorization: Bearer <token>")
    tokens: TokenBook = request.app.state.tokens
    actor = tokens.actor(credentials.credentials)
    if actor is None:
        raise Unauthenticated("unknown bearer token")
    limiter: RateLimiter = request.app.state.limiter
    limiter.take(token_digest(credentials.credentials))
    return actor


Caller = Annotated[Actor, Depends(caller)]
Service = Annotated[Gateway, Depends(_service)]
ApplicationId = Annotated[ApplicationNumber, Path(description="The application number.")]


async def _idempotency_key(
    request: Request,
    actor: Annotated[Actor, Depends(caller)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY,
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="A fresh value (a UUID) per logical request; a retry with it takes effect once.",
        ),
    ] = None,
) -> str | None:
    """The request's key, refused (422) if the caller first sent it with another request."""
    if key is not None:
        ledger: IdempotencyLedger = request.app.state.idempotency
        ledger.check(f"{actor.role.value}:{actor.key}", key, request.url.path, await body_of(request))
    return key


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]
