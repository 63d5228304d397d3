"""The audit log: every event's digest, written as the case records it, outside the case (append-only).

``AuditLog`` is the adapter a deployment implements for its own audit store (a WORM store, a government
audit platform); ``SqliteAuditLog`` is the embedded default, one local file whose triggers refuse every
change and deletion. Writes are idempotent per (case, sequence, digest), so an activity retried after a
crash writes nothing twice, while a different digest for the same event (an edit, a reset) is kept
beside the first for ``onewindow verify`` to find.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from temporalio import activity

from workflows.domain.chain import AuditRecord
from workflows.messages import AuditEntries

AUDIT_LOG_VARIABLE = "ONEWINDOW_AUDIT_LOG"
DEFAULT_AUDIT_LOG = Path(".onewindow/audit.sqlite")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    application_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (application_id, sequence, digest)
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def audit_log_path() -> Path:
    """Where this process finds the embedded audit log (``$ONEWINDOW_AUDIT_LOG``)."""
    return Path(os.environ.get(AUDIT_LOG_VARIABLE) or DEFAULT_AUDIT_LOG)


class AuditLog(Protocol):
    """An append-only store of event digests."""

    async def append(self, records: Sequence[AuditRecord]) -> None:
        """Store each record once; a repeat changes nothing."""

    async def records(self, application_id: str) -> list[AuditRecord]:
        """Every record of one case, by sequence."""


class SqliteAuditLog:
    """The embedded audit log: one SQLite file (thread-safe for activity threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.executescript(_SCHEMA)
        self._lock = threading.Lock()

    async def append(self, records: Sequence[AuditRecord]) -> None:
        """Store each record once (in a thread: the worker's event loop must never block)."""
        await asyncio.to_thread(self._append, records)

    def _append(self, records: Sequence[AuditRecord]) -> None:
        rows = [(r.application_id, r.sequence, r.kind, r.digest) for r in records]
        with self._lock:
            self._connection.executemany(
                "INSERT OR IGNORE INTO audit (application_id, sequence, kind, digest) VALUES (?, ?, ?, ?)",
                rows,
            )

    async def records(self, application_id: str) -> list[AuditRecord]:
        """Every record of one case, by sequence."""
        return await asyncio.to_thread(self._records, application_id)

    def _records(self, application_id: str) -> list[AuditRecord]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT sequence, kind, digest FROM audit WHERE application_id = ? ORDER BY sequence, rowid",
                (application_id,),
            ).fetchall()
        return [
            AuditRecord(application_id=application_id, sequence=sequence, kind=kind, digest=digest)
            for sequence, kind, digest in rows
        ]

    def close(self) -> None:
        """Release the file, after any write in flight has finished."""
        with self._lock:
            self._connection.close()


class AuditActivities:
    """Writes each case's event digests to the audit log."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    @activity.defn(name="record_audit")
    async def record_audit(self, entries: AuditEntries) -> None:
        """Append the digests of newly recorded events (idempotent: retried after a crash, no harm)."""
        await self._log.append(entries.records)
