"""onewindow's command line for intake staff and operators (installed as ``onewindow``).

``due``: the statutory calendar. ``python starter.py due 2026-09-30 5`` prints the last day of a 5
working-day period triggered on 2026-09-30, and ``provisional`` on a second line when the answer rests on
a year whose State Council notice is not yet loaded (R-CAL-4).

``matters [CODE]``: the matter catalogue (the shipped file or ``$ONEWINDOW_CATALOGUE``), the whole or one
matter in detail: codes, names, departments, limits, materials marked core or secondary, types.

Cases, through ``workflows.client.Cases`` on Temporal: ``--address``/``--namespace``/``--profile`` over
``TEMPORAL_ADDRESS``/``TEMPORAL_NAMESPACE`` and the rest of temporalio's configuration (``localhost:7233``,
the server of ``make run``, when nothing is set); ``--task-queue`` over ``ONEWINDOW_TASK_QUEUE``, as the
worker reads it. The person is always ``--as ID:ROLE[:DEPARTMENT]``.

- ``submit`` opens a case from an ``Intake`` JSON file, from flags, or both (flags win). The matter and
  materials are checked against the local catalogue first (nothing starts on a typo; the nearest codes are
  suggested), then it waits until the worker has registered the case, so a code the worker's catalogue
  lacks is reported here rather than lost;
- one subcommand per action a person may take (``accept``, ``approve``, ``suspend``, ...); with
  ``--idempotency-key`` a retry of the same command takes effect once;
- ``status``, ``events`` and ``list`` read cases on behalf of the ``--as`` person: only what their role
  covers, another's case answering as a missing one. ``status`` ends with the verbs they may give now;
- ``calendar load`` publishes a calendar notice and tells every running case (R-CAL-4);
- ``revise-keys`` (a supervisor) makes a running case trust the worker's trust store as it is now;
- ``verify`` recomputes a case's event chain and compares it with the workers' audit log.

``token --as ID:ROLE[:DEPARTMENT]`` prints a signed assertion of that person (this machine's signing key,
valid 5 minutes), for a command sent with the ``temporal`` CLI. Every command the CLI sends is signed so.

Output is an aligned table in Shanghai time, or the pydantic models' JSON (``+08:00``) with ``--json``.
Complaints about a value name the flag that gave it (a field from ``submit --file`` keeps its JSON path).
Exit codes:

- 0: done;
- 1: anything else failed (``RPCError``: an unexpected server answer; ``QueryFailed``: e.g. a case
  still being registered), explained on the error line;
- 2: refused by the engine (its error type: ``NotAllowed``, also for a closed case, ``SeparationOfDuties``,
  ``UnknownMatter``, ``AlreadySubmitted``, ``IdempotencyKeyReused``, ...) or bad input (``Usage``,
  ``InvalidInput``, ``InvalidCommand``, ``CalendarDataInvalid``, ``CalendarNotPublished``,
  ``UnknownNamespace``);
- 3: no application with that number the person may read (``UnknownApplication``);
- 4: Temporal cannot be reached (``CannotConnect``);
- 5: ``verify`` found a case's record altered, or events a reset dropped (the first bad event is named).

``KeysUnusable`` (exit 2): this machine's keys are missing (``make run`` creates development keys).

Every error is one line on stderr: ``error: <Type>: <message>``.

The command line lives in ``cli/``, one module per resource:

- ``cli/__init__.py``: ``build_parser``, ``run``, ``main``, ``script``;
- ``cli/calendar.py``: ``due``, ``calendar load``;
- ``cli/catalogue.py``: ``matters``;
- ``cli/submit.py``: ``submit``;
- ``cli/actions.py``: the actions as data (``ACTIONS``), and the ``may now`` verbs they make;
- ``cli/reading.py``: ``status``, ``events``, ``list``;
- ``cli/security.py``: ``token``, ``verify``;
- ``cli/arguments.py``: flag values (``--as``, instants, numbers) and errors named by flag;
- ``cli/connection.py``: the Temporal flags and the connection;
- ``cli/render.py``: tables and texts for people;
- ``cli/errors.py``: the CLI's own error types and the exit-code table.
"""

from __future__ import annotations

from cli import build_parser, main, run, script

__all__ = ["build_parser", "main", "run", "script"]

if __name__ == "__main__":
    script()
