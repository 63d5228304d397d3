"""Proof and record: ``token`` prints a signed assertion, ``verify`` checks a case's record.

``token`` signs with this machine's signing key (``make run`` creates a development one), so a case can
be driven from the ``temporal`` CLI with the assertion in the command's JSON. ``verify`` recomputes a
case's event chain and compares it with the audit log the workers write (``activities.audit``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from activities.audit import SqliteAuditLog, audit_log_path
from cli.arguments import Commands, Parser, add_as, positive, subcommand
from cli.connection import Connection
from cli.errors import EXIT_OK, EXIT_TAMPERED, KeysUnusable
from workflows.domain.chain import verify as verify_chain
from workflows.identity import MAX_LIFETIME, Signer, signing_key_path


async def token(args: argparse.Namespace, _connection: Connection) -> int:
    """Print an assertion of ``--as``, valid for ``--minutes``."""
    try:
        signer = Signer.load(signing_key_path())
    except ValueError as error:
        raise KeysUnusable(f"{error}; `make run` creates a development key") from None
    lifetime = timedelta(minutes=args.minutes)
    if lifetime > MAX_LIFETIME:
        raise KeysUnusable(f"an assertion lives at most {int(MAX_LIFETIME.total_seconds() // 60)} minutes")
    print(signer.issue(args.actor, datetime.now(UTC), lifetime, application_id=args.case))
    return EXIT_OK


async def verify(args: argparse.Namespace, connection: Connection) -> int:
    """Exit 0 when the case's chain is intact and matches the audit log; else name the first bad event."""
    cases = await connection.cases()
    events = await cases.events(args.application_id, reader=None)
    log = SqliteAuditLog(args.audit_log)
    try:
        records = await log.records(args.application_id)
    finally:
        log.close()
    verdict = verify_chain(events, records)
    if args.json:
        print(verdict.model_dump_json(indent=2))
    elif verdict.intact:
        print(f"{args.application_id}: intact ({verdict.events} events, each in the audit log)")
    else:
        print(f"{args.application_id}: event {verdict.first_bad}: {verdict.problem}")
    return EXIT_OK if verdict.intact else EXIT_TAMPERED


def add_security(commands: Commands, with_cases: Sequence[Parser]) -> None:
    """``token`` (offline) and ``verify``."""
    issued = subcommand(commands, "token", token, "print a signed assertion of a person, for a raw command")
    add_as(issued, "whom the assertion vouches for, e.g. window-7:window_officer")
    issued.add_argument(
        "--minutes", type=positive, default=5, help="how long it is valid (default %(default)s, at most 15)"
    )
    issued.add_argument("--case", metavar="ID", help="valid on this application only (recommended)")
    checked = subcommand(
        commands, "verify", verify, "check a case's event chain against the audit log", parents=with_cases
    )
    checked.add_argument("application_id", metavar="ID", help="application number")
    checked.add_argument(
        "--audit-log",
        default=audit_log_path(),
        type=Path,
        help="the workers' audit log (default $ONEWINDOW_AUDIT_LOG, else .onewindow/audit.sqlite)",
    )
