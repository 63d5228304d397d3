"""Bounded values (DESIGN.md sections 1 and 2): every message's strings, lists and instants have limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from workflows.domain.events import Actor, Role
from workflows.domain.values import (
    MAX_ID,
    MAX_ITEMS,
    MAX_TEXT,
    Codes,
    Identifier,
    Instant,
    Text,
    person_key,
)

IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
TEXT: TypeAdapter[str] = TypeAdapter(Text)
CODES: TypeAdapter[tuple[str, ...]] = TypeAdapter(Codes)
INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


@pytest.mark.parametrize("spelling", ["w1", "W1", "w1 ", " w1", "ｗ１", "Ｗ1"])
def test_one_person_spelled_in_case_width_or_surrounding_space_has_one_key(spelling: str) -> None:
    """受审分离 compares people, not strings: NFKC, case-folded, stripped (``ｗ1`` is ``w1``)."""
    assert person_key(IDENTIFIER.validate_python(spelling)) == "w1"


@pytest.mark.parametrize(
    "forged",
    [
        "w1\u200b",
        "w\u200d1",
        "w1\u00ad",
        "w\x001",
        "w\t1",
        "w 1",
        "w\u30001",
        "w\u20281",
        "w'1",
        'w"1',
        "w\\1",
    ],
    ids=[
        "zero-width-space",
        "zero-width-joiner",
        "soft-hyphen",
        "nul",
        "tab",
        "space",
        "ideographic-space",
        "line-separator",
        "quote",
        "double-quote",
        "backslash",
    ],
)
def test_an_identifier_with_an_invisible_control_space_or_quote_character_is_refused(forged: str) -> None:
    """An id that would look like another person's, or need escaping, is refused outright, not cleaned."""
    with pytest.raises(ValidationError, match="identifier"):
        IDENTIFIER.validate_python(forged)


def test_an_identifier_is_bounded_after_normalisation() -> None:
    """At most MAX_ID characters, counted after NFKC (a compatibility character may expand)."""
    assert IDENTIFIER.validate_python("a" * MAX_ID) == "a" * MAX_ID
    with pytest.raises(ValidationError):
        IDENTIFIER.validate_python("a" * (MAX_ID + 1))


def test_an_actor_keeps_the_normalised_id_and_compares_by_its_key() -> None:
    """What the log records is the NFKC form; comparisons use the case-folded key."""
    actor = Actor(id=" Ｗindow-7 ", role=Role.WINDOW_OFFICER)
    assert actor.id == "Window-7"
    assert actor.key == "window-7"


def test_free_text_keeps_line_breaks_but_no_other_control_character_and_is_bounded() -> None:
    """A reason may span lines; NUL, escape codes and a 1.5 MB reason are refused."""
    assert TEXT.validate_python("第一行\n第二行\t完") == "第一行\n第二行\t完"
    for refused in ("a\x00b", "a\x1b[31mb", "a" * (MAX_TEXT + 1)):
        with pytest.raises(ValidationError):
            TEXT.validate_python(refused)


def test_a_list_of_codes_is_bounded_and_names_each_code_once() -> None:
    """Materials and missing items: codes only, no repeats, at most MAX_ITEMS."""
    assert CODES.validate_python(["a", "b"]) == ("a", "b")
    for refused in (["a", "a"], ["a b"], ["公示"], [f"c{i}" for i in range(MAX_ITEMS + 1)]):
        with pytest.raises(ValidationError):
            CODES.validate_python(refused)


def test_an_instant_is_kept_in_shanghai_time_and_needs_its_offset() -> None:
    """+08:00 in every JSON the engine writes; a naive time or an absurd year is refused."""
    instant = INSTANT.validate_python(datetime(2026, 11, 26, 1, tzinfo=UTC))
    assert instant.utcoffset() == timedelta(hours=8)
    assert instant.isoformat() == "2026-11-26T09:00:00+08:00"
    for refused in (
        datetime(2026, 11, 26, 9),  # noqa: DTZ001 - the naive time being refused
        datetime(9999, 12, 31, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
    ):
        with pytest.raises(ValidationError):
            INSTANT.validate_python(refused)


@pytest.mark.parametrize("raw", ['"2026-11-26"', "1764118800", '"yesterday"'])
def test_strictly_from_json_an_instant_is_an_iso_date_and_time_with_an_offset(raw: str) -> None:
    """A number is not an instant and a date is not a time, as the boundary decodes messages (strict)."""
    with pytest.raises(ValidationError):
        INSTANT.validate_json(raw, strict=True)


@pytest.mark.parametrize(
    "raw", [1764118800, 1764118800.5, "1764118800", "20261126", "2026-11-26", "9" * 5000]
)
def test_a_number_or_digits_are_no_instant_even_when_read_leniently(raw: object) -> None:
    """Lenient pydantic reads ``1764118800`` as a Unix time; the engine does not: an instant says its date."""
    with pytest.raises(ValidationError) as refused:
        INSTANT.validate_python(raw)
    assert "ISO 8601" in str(refused.value)
    assert "9" * 50 not in str(refused.value)  # the message does not repeat what was sent
