"""Browser sessions held in a cookie: the Temporal web UI's codec calls, and the console's pages.

A browser sends no bearer token of ours, so a person gives their token once on a sign-in form and gets a
random session id in an HttpOnly, SameSite cookie. A session lives ``SESSION_LIFETIME`` and is kept in
this gateway's memory only (a restart signs everyone out). Each session carries its own anti-forgery
token, which every form the console renders sends back (``csrf``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from workflows.domain.errors import OneWindowError
from workflows.domain.events import Actor

SESSION_LIFETIME = 8 * 3600  # seconds: one working day
MAX_SESSIONS = 1000
MAX_SESSIONS_PER_ACTOR = 5  # a person's browsers; a sixth sign-in ends their oldest session, no one else's


@dataclass(frozen=True)
class Session:
    """Whose session it is, until when, and the anti-forgery token its forms carry."""

    actor: Actor
    expires_at: float
    csrf: str
    rate_key: str  # the signing token's digest: a session spends from its token's rate, not a rate of its own


class SessionsFull(OneWindowError):
    """Every session this gateway keeps is in use; signing in again later succeeds as sessions expire."""


class Sessions:
    """Open sessions by their random id, each for one person in one role, expiring on their own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions: dict[str, Session] = {}
        self._clock = clock

    def open(self, actor: Actor, rate_key: str) -> str:
        """A new session for ``actor``, signed in with the token whose digest is ``rate_key``.

        Beyond ``MAX_SESSIONS_PER_ACTOR`` the actor's own oldest session ends; when every session is in
        use, ``SessionsFull``: one token's holder can never sign anyone else out.
        """
        now = self._clock()
        self._sessions = {key: s for key, s in self._sessions.items() if s.expires_at > now}
        own = [key for key, session in self._sessions.items() if session.actor == actor]
        for key in own[: max(0, len(own) - MAX_SESSIONS_PER_ACTOR + 1)]:
            del self._sessions[key]
        if len(self._sessions) >= MAX_SESSIONS:
            raise SessionsFull(f"all {MAX_SESSIONS} sessions are in use; sign in again later")
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = Session(
            actor, now + SESSION_LIFETIME, secrets.token_urlsafe(24), rate_key
        )
        return session_id

    def session(self, session_id: str) -> Session | None:
        """The session ``session_id`` names, while it lasts."""
        session = self._sessions.get(session_id)
        if session is None or session.expires_at <= self._clock():
            return None
        return session

    def actor(self, session_id: str) -> Actor | None:
        """Whose session ``session_id`` is, while it lasts."""
        session = self.session(session_id)
        return session.actor if session else None

    def close(self, session_id: str) -> None:
        """Sign out: the session ends now."""
        self._sessions.pop(session_id, None)


def same_token(given: str, expected: str) -> bool:
    """Whether a form's anti-forgery token is its session's, compared in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())
