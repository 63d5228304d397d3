"""The CLI's own errors and the exit-code table: every failure ends as one line on stderr and its code.

Scripts branch on the code and on the type named in ``error: <Type>: <message>``; the types are the
engine's (``NotAllowed``, ``UnknownMatter``, ...) or the few below that only a command line can meet.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from workflows.client import UnknownApplication
from workflows.domain.errors import OneWindowError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_NOT_FOUND = 3
EXIT_UNREACHABLE = 4
EXIT_TAMPERED = 5

EPILOG = """\
exit codes: 0 done; 1 anything else failed; 2 refused by the engine or bad input; 3 no application with
that number; 4 Temporal cannot be reached; 5 a case's record does not verify. Errors are one line on
stderr: "error: <Type>: <message>".
"""


class InvalidInput(OneWindowError):
    """A file or flag the CLI cannot use (unreadable, not JSON, a missing application number)."""


class CannotConnect(OneWindowError):
    """Temporal does not answer at the address given."""


class KeysUnusable(OneWindowError):
    """This machine's keys are missing or unusable (``make run`` creates development keys)."""


class Usage(OneWindowError):
    """The command line itself is wrong (argparse's complaint, on one line)."""


def _namespace_missing(error: RPCError) -> bool:
    """A mistyped namespace is NOT_FOUND too, which the client would report as an unknown application."""
    return error.status is RPCStatusCode.NOT_FOUND and "namespace" in error.message.lower()


def _fail(error_type: str, message: str, code: int) -> int:
    print(f"error: {error_type}: {' '.join(message.split())}", file=sys.stderr)
    return code


async def answered(  # noqa: PLR0911 - one return per row of the exit-code table
    work: Callable[[], Awaitable[int]],
) -> int:
    """``work``'s exit code; each failure a script can meet becomes its one error line and code."""
    try:
        return await work()
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_OK
    except UnknownApplication as error:
        cause = error.__cause__
        if isinstance(cause, RPCError) and _namespace_missing(cause):
            return _fail("UnknownNamespace", cause.message, EXIT_REFUSED)
        return _fail(error.type, str(error), EXIT_NOT_FOUND)
    except CannotConnect as error:
        return _fail(error.type, str(error), EXIT_UNREACHABLE)
    except OneWindowError as error:
        return _fail(error.type, str(error), EXIT_REFUSED)
    except RPCError as error:
        if _namespace_missing(error):
            return _fail("UnknownNamespace", error.message, EXIT_REFUSED)
        unreachable = error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)
        status = error.status.name if error.status else "UNKNOWN"
        return _fail(
            "RPCError", f"{status}: {error.message}", EXIT_UNREACHABLE if unreachable else EXIT_FAILED
        )
    except WorkflowQueryFailedError as error:
        return _fail("QueryFailed", str(error), EXIT_FAILED)
    except OSError as error:  # e.g. the calendar directory is not writable
        return _fail(type(error).__name__, str(error), EXIT_FAILED)
