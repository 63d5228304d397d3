"""The integration outbox: a local SQLite ledger that every outside-system adapter writes through.

Each record is keyed by (system, idempotency key), the key being the application id and the event
sequence number that caused it, so an activity retried after a crash never issues, notifies or records
twice. Until the city's own licensing, notification and supervision systems are connected, this ledger
*is* the hand-over point: their connectors read it (see README, "Outside systems"). Credit records are
kept here as the worker's trail only: eligibility is read from the shared credit register.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    system TEXT NOT NULL,
    key TEXT NOT NULL,
    subject TEXT NOT NULL,
    at TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (system, key)
)
"""


class Outbox:
    """Idempotent writes and simple reads over one SQLite file (thread-safe for activity threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(_SCHEMA)
        self._lock = threading.Lock()

    async def record(
        self, system: str, key: str, subject: str, at: datetime, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Store ``payload`` once under (system, key); a repeat returns what the first write stored.

        The write runs in a thread: activities share the worker's event loop, which must never block.
        """
        return await asyncio.to_thread(self._record, system, key, subject, at, payload)

    def _record(
        self, system: str, key: str, subject: str, at: datetime, payload: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            self._connection.execute(
                "INSERT OR IGNORE INTO records (system, key, subject, at, payload) VALUES (?, ?, ?, ?, ?)",
                (system, key, subject, at.isoformat(), json.dumps(payload, ensure_ascii=False, default=str)),
            )
            row = self._connection.execute(
                "SELECT payload FROM records WHERE system = ? AND key = ?", (system, key)
            ).fetchone()
        stored: dict[str, Any] = json.loads(row[0])
        return stored

    def records(self, system: str, subject: str | None = None) -> list[tuple[datetime, dict[str, Any]]]:
        """Every record of ``system`` (about ``subject``, if given), oldest first."""
        query = "SELECT at, payload FROM records WHERE system = ?"
        parameters: tuple[str, ...] = (system,)
        if subject is not None:
            query += " AND subject = ?"
            parameters += (subject,)
        with self._lock:
            rows = self._connection.execute(query + " ORDER BY at", parameters).fetchall()
        return [(datetime.fromisoformat(at), json.loads(payload)) for at, payload in rows]

    def count(self, system: str) -> int:
        """How many records ``system`` has: counted by SQLite, none of them read (a monitor polling a busy
        outbox must not hold up the activities writing to it)."""
        with self._lock:
            (count,) = self._connection.execute(
                "SELECT COUNT(*) FROM records WHERE system = ?", (system,)
            ).fetchone()
        return int(count)

    def close(self) -> None:
        """Release the database file, after any write in flight on an activity thread has finished.

        An activity cancelled at worker shutdown leaves its thread running; closing the connection under
        that thread's feet crashes the interpreter, so closing waits for the lock like every other use.
        """
        with self._lock:
            self._connection.close()
