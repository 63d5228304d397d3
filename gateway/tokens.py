"""The token file: bearer tokens and the actors they stand for.

Each ``[[tokens]]`` entry is an actor as the engine validates one (a bounded identifier in NFKC, no
invisible, control, space or quote character; a department for the roles that need one) and exactly one
of ``token`` or its ``token_sha256``. Only digests are kept in memory.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.errors import TokenFileInvalid
from workflows.domain.digests import sha256_hex
from workflows.domain.events import Actor
from workflows.reference_data import DATA_DIR

EXAMPLE_TOKENS = DATA_DIR / "gateway_tokens.example.toml"
TOKENS_VARIABLE = "ONEWINDOW_GATEWAY_TOKENS"
MIN_TOKEN_LENGTH = 16


def token_digest(token: str) -> str:
    """The SHA-256 a token file may store instead of the token itself."""
    return sha256_hex(token)


class TokenEntry(Actor):
    """One ``[[tokens]]`` entry: the actor (``id``, ``role``, ``department``, ``name``) and its token."""

    token: str | None = Field(default=None, min_length=MIN_TOKEN_LENGTH)
    token_sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _exactly_one_token(self) -> Self:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of token and token_sha256")
        return self

    def actor(self) -> Actor:
        """The actor every command given with this token carries."""
        return Actor.model_validate(self.model_dump(include=set(Actor.model_fields)))

    def digest(self) -> str:
        """The token's SHA-256, however the file gave it."""
        return self.token_sha256 or token_digest(self.token or "")


class TokenFile(BaseModel):
    """The token file: ``insecure_example`` marks the shipped example, which must never serve production."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insecure_example: bool = False
    tokens: tuple[TokenEntry, ...] = ()


class TokenBook:
    """Bearer tokens and the actors they stand for, by the tokens' SHA-256 digests."""

    def __init__(self, actors: Mapping[str, Actor], *, insecure_example: bool = False) -> None:
        """``actors`` maps each token's SHA-256 (``token_digest``) to its actor."""
        self._actors = dict(actors)
        self.insecure_example = insecure_example

    @classmethod
    def of(cls, tokens: Mapping[str, Actor]) -> TokenBook:
        """A book from plain tokens (tests, embedding)."""
        return cls({token_digest(token): actor for token, actor in tokens.items()})

    @classmethod
    def from_toml(cls, text: str, source: str = "<token file>") -> TokenBook:
        """Parse and validate a token file; errors name the entry (``tokens[2].role``) and the field."""
        try:
            parsed = TokenFile.model_validate(tomllib.loads(text))
        except tomllib.TOMLDecodeError as error:
            raise TokenFileInvalid(f"{source}: not TOML: {error}") from error
        except ValidationError as error:
            problems = "; ".join(f"{_dotted(e['loc'])}: {e['msg']}" for e in error.errors())
            raise TokenFileInvalid(f"{source}: {problems}") from error
        if not parsed.tokens:
            raise TokenFileInvalid(f"{source}: no [[tokens]] entry")
        actors: dict[str, Actor] = {}
        for index, entry in enumerate(parsed.tokens):
            digest = entry.digest()
            if digest in actors:
                raise TokenFileInvalid(f"{source}: tokens[{index}]: the same token is given twice")
            actors[digest] = entry.actor()
        return cls(actors, insecure_example=parsed.insecure_example)

    @classmethod
    def load(cls, path: Path) -> TokenBook:
        """Read a token file."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise TokenFileInvalid(f"{path}: {getattr(error, 'strerror', None) or error}") from error
        return cls.from_toml(text, str(path))

    def actor(self, token: str) -> Actor | None:
        """The actor for ``token``, or None for a token the file does not list."""
        return self._actors.get(token_digest(token))

    def __len__(self) -> int:
        return len(self._actors)


def _dotted(loc: Sequence[str | int]) -> str:
    """A pydantic location as a reader of the file writes it: ``tokens[2].role``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(file)"
