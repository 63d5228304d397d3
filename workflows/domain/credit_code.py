"""统一社会信用代码 (GB 32100-2015): the 18-character code business registration yields (DESIGN.md section 9).

Registration authority (1) + entity category (1) + administrative division (6) + entity identifier (9, the
organisation code of GB 11714 with its own check character) + check character (1), over the 31-character
alphabet without I, O, S, V, Z. The rule reproduces the standard's published example, 91350100M000100Y43.
"""

from __future__ import annotations

import hashlib
import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = tuple(pow(3, position, 31) for position in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
PREFIX_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}$"  # authority, category, division
_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def check_character(first_17: str) -> str:
    """The 18th character: 31 minus the weighted sum mod 31 (31 itself is 0)."""
    total = sum(
        ALPHABET.index(character) * weight for character, weight in zip(first_17, _WEIGHTS, strict=True)
    )
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check(body: str) -> str:
    """GB 11714: the organisation code's 9th character over its first 8 (10 is X, 11 is 0)."""
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    remainder = 11 - sum(v * w for v, w in zip(values, _ORGANISATION_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def is_valid(code: str) -> bool:
    """Whether ``code`` is well formed and both its check characters hold."""
    return (
        bool(_CODE.fullmatch(code))
        and organisation_check(code[8:16]) == code[16]
        and check_character(code[:17]) == code[17]
    )


def candidate(prefix: str, seed: str, attempt: int) -> str:
    """A code for the entity registered by ``seed`` (its establishment's number), the ``attempt``-th:
    an 8-digit organisation body drawn from the seed, its check, then the code's own check. Candidates
    differ by attempt, so a code already held is passed over for the next (uniqueness is claimed in
    Temporal by the workflow: ``number_claim``)."""
    digest = hashlib.sha256(f"{seed}:{attempt}".encode()).hexdigest()
    body = f"{int(digest, 16) % 10**8:08d}"
    first_17 = f"{prefix}{body}{organisation_check(body)}"
    return first_17 + check_character(first_17)
