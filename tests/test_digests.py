"""The digest every pseudonym, token digest and version is made with: checked against its test vector."""

from __future__ import annotations

from workflows.domain.digests import sha256_hex


def test_sha256_of_abc_is_the_published_test_vector() -> None:
    """FIPS 180-2's example: SHA-256("abc") = ba7816bf…f20015ad; a shortened digest is its prefix."""
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex("abc", 16) == "ba7816bf8f01cfea"
