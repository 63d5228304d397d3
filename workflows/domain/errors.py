"""One exception root for the domain; each error carries the context a caller needs to act on it.

The workflow layer translates these into ``ApplicationError(type=<class name>)`` so that callers in any
language can branch on the type.
"""

from __future__ import annotations

from datetime import date, datetime


class OneWindowError(Exception):
    """Root of every error the engine raises on purpose."""

    @property
    def type(self) -> str:
        """The stable name callers branch on (the class name)."""
        return type(self).__name__


class CalendarNotPublished(OneWindowError):
    """Nothing is known about a year's working days: no notice and no provisional data (R-CAL-4)."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no working-day calendar for {year}: neither a State Council notice nor provisional data is "
            f"loaded; add a calendar data file for {year}"
        )
        self.year = year


class CalendarDataInvalid(OneWindowError):
    """A calendar data file is malformed; start-up stops rather than count with wrong days."""


class CatalogueInvalid(OneWindowError):
    """The matter catalogue is malformed; the message names the entry and the field."""


class UnknownMatter(OneWindowError):
    """The matter code is not in the catalogue in force; the nearest codes are suggested."""

    def __init__(self, code: str, suggestions: tuple[str, ...] = (), why: str = "") -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown matter code {code!r}{f' ({why})' if why else ''}{hint}")
        self.code = code
        self.suggestions = suggestions


class UnknownApplication(OneWindowError):
    """No application with this number, or none the caller's role covers: the same answer, on purpose."""


class NotAllowed(OneWindowError):
    """The command is not allowed in the application's current status (the transition table)."""

    def __init__(self, command: str, status: str) -> None:
        super().__init__(f"{command} is not allowed while the application is {status}")
        self.command = command
        self.status = status


class RepeatLimitReached(OneWindowError):
    """The case has recorded this command as often as a case may (``application.REPEAT_LIMITS``)."""

    def __init__(self, command: str, limit: int) -> None:
        super().__init__(f"{command} has been recorded {limit} times on this case, the most a case allows")
        self.command = command
        self.limit = limit


class NotAuthorised(OneWindowError):
    """The actor's role, department or identity does not permit the command."""

    def __init__(self, actor_id: str, reason: str) -> None:
        # The message never names the actor: an applicant's id is their identity number, and a refusal
        # at registration is kept in the case's history as written.
        super().__init__(f"not authorised: {reason}")
        self.actor_id = actor_id
        self.reason = reason


class AlreadySubmitted(OneWindowError):
    """An application with this number exists already; the first one carries on unharmed."""


class Unauthenticated(OneWindowError):
    """The command carries no valid signed assertion of its actor (``workflows.identity``)."""


class SeparationOfDuties(NotAuthorised):
    """受审分离: whoever decided acceptance, or acted as window officer, may not approve."""


class InvalidCommand(OneWindowError):
    """The command is well-formed but breaks a rule of the matter (e.g. a core material is missing)."""


class DeadlineOutOfRange(InvalidCommand):
    """A requested period exceeds what the law or the matter allows."""

    def __init__(self, what: str, requested: int | date, limit: int | date | str) -> None:
        super().__init__(f"{what}: {requested} exceeds the limit of {limit}")
        self.what = what
        self.requested = requested
        self.limit = limit


class MaterialsIncomplete(InvalidCommand):
    """Acceptance needs every material; say which are missing (or use 补正 / 容缺)."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(f"materials missing: {', '.join(missing)}")
        self.missing = missing


class CorrectionNotOneTime(InvalidCommand):
    """R-XK-32: a later correction notice may not ask for items the first notice did not list."""

    def __init__(self, new_items: tuple[str, ...]) -> None:
        super().__init__(
            f"R-XK-32 requires one notice listing every missing item; not on the first notice: "
            f"{', '.join(new_items)}"
        )
        self.new_items = new_items


class DeficiencyNotTolerable(InvalidCommand):
    """容缺 refused: the matter does not allow it, a core material is missing, or the applicant's credit."""


class CommitmentNotAllowed(InvalidCommand):
    """告知承诺制 refused: the matter does not offer it or is excluded (safety, health, ecology), or the
    applicant's credit bars it (a bad record or a past false commitment)."""


class StewardAtCapacity(OneWindowError):
    """绿色通道: the steward already holds as many open cases as one steward may (configurable)."""


class ReceiptOutOfRange(InvalidCommand):
    """A receipt instant in the future, or before the calendar data begins: no period can run from it."""


class IdempotencyKeyReused(OneWindowError):
    """An idempotency key already gave a different command on this case; a retry must repeat it exactly."""


class AcceptanceDeemed(OneWindowError):
    """The time to decide on acceptance has passed: by law the application is accepted as of receipt."""

    def __init__(self, command: str, deadline: datetime) -> None:
        super().__init__(
            f"{command}: no acceptance decision was given by {deadline.isoformat()}, so the application is "
            "accepted as of its receipt (R-XK-32; real estate: 不动产登记暂行条例 第17条)"
        )
