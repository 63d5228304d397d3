"""Bounded value types for everything that reaches a case from outside (DESIGN.md sections 1 and 2).

Every string has a maximum length and an alphabet, every list a maximum size, every instant a time zone
and a sane year. A value outside them is refused when a message is decoded, before any rule runs, so no
caller can grow a case's history or echo a huge value back through a refusal.

Identifiers are compared as people are (受审分离 must not be fooled by ``W1``, ``w1 `` or full-width
``ｗ1``): ``person_key`` is their NFKC case-folded form. Their alphabet is an allow-list, ASCII letters,
digits and ``. _ - @ +`` after NFKC, and the CJK ideographs, so no invisible character (a joiner, a
variation selector, a filler, a combining mark) can make one person look like two.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from workflows.domain.calendar import SHANGHAI

MAX_CODE = 64  # catalogue codes: matters, materials, departments, steps, pauses
MAX_ID = 64  # a person's or system's identifier, an identity number, a credit code
MAX_IDEMPOTENCY_KEY = 200  # a caller's retry key (a UUID has 36 characters)
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]+$"  # printable ASCII without spaces, as an HTTP header carries it
MAX_NAME = 200  # a name, a contact, an organ, a reference number
MAX_TEXT = 2000  # a reason or commitment told to the applicant and kept in the record
MAX_ITEMS = 64  # codes in one list (no matter lists more materials)
MAX_WORKING_DAYS = 10_000  # a period's length; the calendar data bounds it much sooner
EARLIEST_YEAR = 1970  # instants outside these years are refused as types; the calendar is stricter
LATEST_YEAR = 2199

_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_MATTER_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)?$"
# What an identifier (and an application number) may hold: ASCII letters and digits, a few marks found in
# staff ids and e-mail addresses, and the CJK Unified Ideographs (with extension A). Nothing invisible,
# nothing that needs quoting (a visibility query, a log line), and not ':' or '#', which separate an
# actor from its role on the command line and a key from its digest in an update id.
_IDENTIFIER = re.compile(r"[A-Za-z0-9._@+\-\u3400-\u4dbf\u4e00-\u9fff]+")
_APPLICATION_NUMBER = re.compile(r"[A-Za-z0-9._@+\-\u3400-\u4dbf\u4e00-\u9fff()（）]+")
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")
_NOT_AN_INSTANT = "an instant is written as ISO 8601 with its offset, e.g. 2026-11-26T09:00:00+08:00"
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
# Letters and symbols that show nothing: the Hangul fillers, the blank Braille pattern, a blank musical
# notehead. A reason of these alone says nothing, as one of spaces or zero-width characters does not.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\U0001d159")
# Bidirectional overrides and isolates make a notice read otherwise than it is written.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _identifier(text: str) -> str:
    """NFKC-normalised and stripped, within the identifier alphabet: one spelling per person."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised:
        raise ValueError("an identifier may not be blank")
    if len(normalised) > MAX_ID:
        raise ValueError(f"an identifier has at most {MAX_ID} characters")
    if not _IDENTIFIER.fullmatch(normalised):
        raise ValueError(
            "an identifier holds only letters, digits, CJK ideographs and . _ - @ + (no space, quote, "
            "control or invisible character)"
        )
    return normalised


def _application_number(text: str) -> str:
    """An application number as given, which is already its only spelling (the workflow id keeps it)."""
    if len(text) > MAX_NAME:
        raise ValueError(f"an application number has at most {MAX_NAME} characters")
    if unicodedata.normalize("NFKC", text) != text or not _APPLICATION_NUMBER.fullmatch(text):
        raise ValueError(
            "an application number holds only ASCII letters and digits, CJK ideographs, brackets and "
            ". _ - @ +, as written in NFKC (no full-width or invisible character)"
        )
    return text


def _text(text: str) -> str:
    """Free text may span lines; no other control character, no bidi override, no surrogate."""
    for character in text:
        category = unicodedata.category(character)
        if (
            category == "Cs"
            or (category == "Cc" and character not in _TEXT_CONTROLS_ALLOWED)
            or character in _BIDI_CONTROLS
        ):
            raise ValueError(f"text may not contain control characters (U+{ord(character):04X})")
    return text


def _iso_8601(value: object) -> object:
    """An instant is a datetime or ISO 8601 text (a date and a time): a number or digits alone are none."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(_NOT_AN_INSTANT)
    try:
        if _ISO_INSTANT.match(value):
            return datetime.fromisoformat(value)
    except ValueError:
        pass  # its message repeats the value, which may be long
    raise ValueError(_NOT_AN_INSTANT)


def _in_shanghai(instant: datetime) -> datetime:
    """Every instant is kept in Asia/Shanghai (+08:00), where the one window counts its days."""
    if not EARLIEST_YEAR <= instant.year <= LATEST_YEAR:
        raise ValueError(f"the year must lie between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return instant.astimezone(SHANGHAI)


def repeated(codes: tuple[str, ...] | list[str]) -> list[str]:
    """The codes that occur more than once, sorted."""
    return sorted({code for code in codes if codes.count(code) > 1})


def _unique(codes: tuple[str, ...]) -> tuple[str, ...]:
    """A list of codes names each at most once (a supplement of ``a, a`` would record ``a`` twice)."""
    if twice := repeated(codes):
        raise ValueError(f"codes repeated: {', '.join(twice)}")
    return codes


def person_key(identifier: str) -> str:
    """The form identities are compared in: NFKC, case-folded, without surrounding space."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", identifier).strip().casefold())


def visible(text: str) -> bool:
    """Whether ``text`` shows anything: a reason of spaces, zero-width or blank-looking characters (the
    Hangul fillers, the blank Braille pattern) says nothing."""
    return any(
        unicodedata.category(character)[0] in ("L", "N", "P", "S") and character not in _BLANK_LOOKING
        for character in text
    )


Code = Annotated[str, Field(min_length=1, max_length=MAX_CODE, pattern=_CODE)]
MatterCode = Annotated[str, Field(min_length=1, max_length=2 * MAX_CODE + 1, pattern=_MATTER_CODE)]
Codes = Annotated[tuple[Code, ...], Field(max_length=MAX_ITEMS), AfterValidator(_unique)]
ApplicationNumber = Annotated[str, Field(min_length=1), AfterValidator(_application_number)]
Identifier = Annotated[str, Field(min_length=1, max_length=4 * MAX_ID), AfterValidator(_identifier)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_text)]
Label = Annotated[str, Field(max_length=MAX_NAME), AfterValidator(_text)]  # a name that may be left empty
Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_text)]
IdempotencyKey = Annotated[
    str, Field(min_length=1, max_length=MAX_IDEMPOTENCY_KEY, pattern=IDEMPOTENCY_KEY_PATTERN)
]
WorkingDays = Annotated[int, Field(ge=1, le=MAX_WORKING_DAYS)]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_in_shanghai)]

# A signed assertion of who gives a command: a compact JWT (``workflows.identity``), its size bounded.
ASSERTION_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
MAX_ASSERTION_CHARS = 2048
Assertion = Annotated[str, Field(min_length=5, max_length=MAX_ASSERTION_CHARS, pattern=ASSERTION_PATTERN)]
# A key's id, as a JWK names it: the signer of an assertion, a key a case trusts.
KeyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
# A digest as the event chain writes it: the hash's name and its hexadecimal digits.
Digest = Annotated[str, Field(pattern=r"^[a-z0-9]{2,10}:[0-9a-f]{64}$")]
