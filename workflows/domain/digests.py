"""The one place onewindow makes digests (STYLE.md 17): SHA-256 of text, as hexadecimal.

Digests stand in for values that must be compared or looked up without being shown: a pseudonym for a
person in search attributes, a token in memory, a command inside an update id, a calendar's version.
"""

from __future__ import annotations

import hashlib


def sha256_hex(text: str, length: int = 64) -> str:
    """The SHA-256 of ``text`` (UTF-8), as its first ``length`` hexadecimal digits."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]
