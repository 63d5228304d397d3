"""Bounded value types for everything that reaches a case from outside (DESIGN.md sections 1 and 2).

Every string has a maximum length and an alphabet, every list a maximum size, every instant a time zone
and a sane year. A value outside them is refused when a message is decoded, before any rule runs, so no
caller can grow a case's history or echo a huge value back through a refusal.

Identifiers are compared as people are (受审分离 must not be fooled by ``W1``, ``w1 `` or full-width
``ｗ1``): ``person_key`` is their NFKC case-folded form, and an identifier with an invisible, control or
space character inside it is refused outright.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from workflows.domain.calendar import SHANGHAI

MAX_CODE = 64  # catalogue codes: matters, materials, departments, steps, pauses
MAX_ID = 64  # a person's or system's identifier, an identity number, a credit code
MAX_NAME = 200  # a name, a contact, an organ, a reference number
MAX_TEXT = 2000  # a reason or commitment told to the applicant and kept in the record
MAX_ITEMS = 64  # codes in one list (no matter lists more materials)
MAX_WORKING_DAYS = 10_000  # a period's length; the calendar data bounds it much sooner
EARLIEST_YEAR = 1970  # instants outside these years are refused as types; the calendar is stricter
LATEST_YEAR = 2199

_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_MATTER_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)?$"
# Unicode general categories refused inside an identifier: other (control, format such as U+200B,
# surrogate, private use, unassigned) and separators (spaces). In free text only control characters other
# than tab and line breaks, and surrogates, are refused.
_NOT_IN_IDENTIFIERS = ("C", "Z")
# Quotes and backslashes have no place in an identifier and would need escaping wherever one is quoted
# (a visibility query, a log line): refused too.
_QUOTING = frozenset("'\"\\`")
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")


def _identifier(text: str) -> str:
    """NFKC-normalised and stripped; refused if anything invisible or blank remains inside."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised:
        raise ValueError("an identifier may not be blank")
    if len(normalised) > MAX_ID:
        raise ValueError(f"an identifier has at most {MAX_ID} characters")
    for character in normalised:
        if unicodedata.category(character)[0] in _NOT_IN_IDENTIFIERS or character in _QUOTING:
            raise ValueError(
                f"an identifier may not contain quotes, invisible, control or space characters "
                f"(U+{ord(character):04X})"
            )
    return normalised


def _text(text: str) -> str:
    for character in text:
        category = unicodedata.category(character)
        if category == "Cs" or (category == "Cc" and character not in _TEXT_CONTROLS_ALLOWED):
            raise ValueError(f"text may not contain control characters (U+{ord(character):04X})")
    return text


def _application_number(text: str) -> str:
    if len(text) > MAX_NAME:
        raise ValueError(f"an application number has at most {MAX_NAME} characters")
    for character in text:
        if (
            character == "/"
            or character in _QUOTING
            or unicodedata.category(character)[0] in _NOT_IN_IDENTIFIERS
        ):
            raise ValueError(f"an application number may not contain {character!r} (U+{ord(character):04X})")
    return text


def _in_shanghai(instant: datetime) -> datetime:
    """Every instant is kept in Asia/Shanghai (+08:00), where the one window counts its days."""
    if not EARLIEST_YEAR <= instant.year <= LATEST_YEAR:
        raise ValueError(f"the year must lie between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return instant.astimezone(SHANGHAI)


def _unique(codes: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValueError(f"codes repeated: {', '.join(repeated)}")
    return codes


def person_key(identifier: str) -> str:
    """The form identities are compared in: NFKC, case-folded, without surrounding space."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", identifier).strip().casefold())


Code = Annotated[str, Field(min_length=1, max_length=MAX_CODE, pattern=_CODE)]
MatterCode = Annotated[str, Field(min_length=1, max_length=2 * MAX_CODE + 1, pattern=_MATTER_CODE)]
Codes = Annotated[tuple[Code, ...], Field(max_length=MAX_ITEMS), AfterValidator(_unique)]
ApplicationNumber = Annotated[str, Field(min_length=1), AfterValidator(_application_number)]
Identifier = Annotated[str, Field(min_length=1, max_length=4 * MAX_ID), AfterValidator(_identifier)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_text)]
Label = Annotated[str, Field(max_length=MAX_NAME), AfterValidator(_text)]  # a name that may be left empty
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_text)]
WorkingDays = Annotated[int, Field(ge=1, le=MAX_WORKING_DAYS)]
Instant = Annotated[AwareDatetime, AfterValidator(_in_shanghai)]
