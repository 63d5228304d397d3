"""Signing the Temporal web UI in to the codec endpoint: a supervisor's session, held in a cookie.

The web UI calls the codec from the browser and sends no bearer token of ours: only its own login's token
(with OIDC), or, with its "include cross-origin credentials" setting, the browser's cookies. So a
supervisor opens ``/codec/session`` on the gateway once, gives their token, and gets an HttpOnly,
SameSite cookie scoped to ``/codec``; the UI's codec calls then carry it. A session lives
``SESSION_LIFETIME`` and is kept in this gateway's memory only (a restart signs everyone out).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from workflows.domain.events import Actor

COOKIE = "onewindow_codec_session"
SESSION_LIFETIME = 8 * 3600  # seconds: one working day
MAX_SESSIONS = 1000


@dataclass(frozen=True)
class _Session:
    actor: Actor
    expires_at: float


class CodecSessions:
    """Open sessions by their random id, each for one supervisor, expiring on their own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions: dict[str, _Session] = {}
        self._clock = clock

    def open(self, actor: Actor) -> str:
        """A new session for ``actor``; the oldest ones make room beyond ``MAX_SESSIONS``."""
        now = self._clock()
        self._sessions = {key: s for key, s in self._sessions.items() if s.expires_at > now}
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = _Session(actor, now + SESSION_LIFETIME)
        return session_id

    def actor(self, session_id: str) -> Actor | None:
        """Whose session ``session_id`` is, while it lasts."""
        session = self._sessions.get(session_id)
        if session is None or session.expires_at <= self._clock():
            return None
        return session.actor
