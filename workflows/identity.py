"""Proven identity: the signed assertion every person's command carries, and the keys a case trusts.

An assertion is a compact JWT (EdDSA with Ed25519, or ES256) naming its actor (``sub``, ``role``,
``dept``), when it was issued and when it expires; the header names the key that signed it (``kid``). The
gateway, the CLI or the organisation's identity provider issues it (``Signer``); the case verifies it in its
update validator (``verify``) against the public keys recorded in the case (``TrustedKeys``), with the
workflow's own clock, so replay never depends on a file or a clock that changed. PyJWT and
``cryptography`` do the cryptography.

``verify`` is deterministic: the same assertion, keys and instant give the same answer on every worker.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Self

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workflows.domain.digests import sha256_hex
from workflows.domain.errors import Unauthenticated
from workflows.domain.events import Actor
from workflows.domain.values import KeyId, person_key
from workflows.keys import keys_directory, write_secret

MAX_TRUSTED_KEYS = 16
DEFAULT_LIFETIME = timedelta(minutes=5)
MAX_LIFETIME = timedelta(minutes=15)  # a longer-lived assertion is refused: it is a password by another name
CLOCK_SKEW = timedelta(minutes=1)  # an issuer's clock may run this far ahead of the case's
SIGNING_KEY_VARIABLE = "ONEWINDOW_SIGNING_KEY_FILE"
TRUSTED_KEYS_VARIABLE = "ONEWINDOW_TRUSTED_KEYS_FILE"
_ALGORITHMS = ("EdDSA", "ES256")
_KEY_TYPES = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}  # what each algorithm's key must be


class TrustedKey(BaseModel):
    """One public key as a JWK (RFC 7517): Ed25519 (``OKP``) or P-256 (``EC``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kid: KeyId
    kty: Literal["OKP", "EC"]
    crv: Literal["Ed25519", "P-256"]
    x: str = Field(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    y: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")

    def jwk(self) -> dict[str, str]:
        """The key as PyJWT reads it."""
        return self.model_dump(exclude_none=True)


class TrustedKeys(BaseModel):
    """The public keys whose assertions a case accepts (a JWK set), recorded in the case."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    keys: tuple[TrustedKey, ...] = Field(min_length=1, max_length=MAX_TRUSTED_KEYS)

    @model_validator(mode="after")
    def _one_key_per_id(self) -> Self:
        if len(set(self.key_ids)) != len(self.keys):
            raise ValueError("two keys have the same kid: an assertion must name one key")
        return self

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the keys, as events record them."""
        return tuple(key.kid for key in self.keys)

    def find(self, kid: str) -> TrustedKey | None:
        """The key with id ``kid``, if trusted."""
        return next((key for key in self.keys if key.kid == kid), None)

    @classmethod
    def load(cls, path: Path | None = None) -> TrustedKeys:
        """The trust store: a JWK set file (``$ONEWINDOW_TRUSTED_KEYS_FILE``, else ``trusted-keys.json``
        in the keys directory); ``ValueError`` naming the file when it is missing or unusable."""
        path = path or trusted_keys_path()
        try:
            return cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as error:
            reason = getattr(error, "strerror", None) or str(error).splitlines()[0]
            raise ValueError(f"trusted keys {path}: {reason}") from None


class TrustStore:
    """The trust store file, parsed again only when it changed: a stat per registering case, not a read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._keys: TrustedKeys | None = None

    def current(self) -> TrustedKeys:
        """The keys as the file holds them now (``ValueError`` naming it when it is missing or unusable)."""
        try:
            stat = self.path.stat()
        except OSError:
            return TrustedKeys.load(self.path)  # says why, naming the file
        mark = (stat.st_mtime_ns, stat.st_size)
        if self._keys is None or mark != self._seen:
            self._keys, self._seen = TrustedKeys.load(self.path), mark
        return self._keys


def trusted_keys_path(directory: Path | None = None) -> Path:
    """Where this process finds the trust store (``$ONEWINDOW_TRUSTED_KEYS_FILE``, else in ``directory``)."""
    return Path(
        os.environ.get(TRUSTED_KEYS_VARIABLE) or (directory or keys_directory()) / "trusted-keys.json"
    )


def signing_key_path(directory: Path | None = None) -> Path:
    """Where this process finds its signing key (``$ONEWINDOW_SIGNING_KEY_FILE``, else in ``directory``)."""
    given = os.environ.get(SIGNING_KEY_VARIABLE)
    return Path(given) if given else (directory or keys_directory()) / "signing-key.pem"


Clock = Callable[[], Awaitable[datetime]]


async def wall_clock() -> datetime:
    """The machine's time (a time-skipping test server has a clock of its own instead)."""
    return datetime.now(UTC)


class Signer:
    """Issues assertions with one Ed25519 private key, named by its key id."""

    def __init__(self, private_key: Ed25519PrivateKey, kid: str) -> None:
        self._private_key = private_key
        self.kid = kid

    @classmethod
    def load(cls, path: Path | None = None) -> Signer:
        """The signing key in a PEM file (PKCS#8); its key id is derived from the public key."""
        path = path or signing_key_path()
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as error:
            raise ValueError(f"signing key {path}: {getattr(error, 'strerror', None) or error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"signing key {path}: an Ed25519 private key is needed")
        return cls(key, _key_id(key))

    @classmethod
    def create_development(cls, directory: Path) -> Signer:
        """A local development key in ``directory`` (created once), trusted by its ``trusted-keys.json``."""
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_secret(directory / "signing-key.pem", pem)
        signer = cls.load(directory / "signing-key.pem")
        trust(directory / "trusted-keys.json", signer.public_key())
        return signer

    def public_key(self) -> TrustedKey:
        """The public half, as a case trusts it."""
        return TrustedKey(kid=self.kid, kty="OKP", crv="Ed25519", x=_raw_public(self._private_key))

    def issue(
        self,
        actor: Actor,
        now: datetime,
        lifetime: timedelta = DEFAULT_LIFETIME,
        *,
        application_id: str | None = None,
    ) -> str:
        """An assertion of ``actor`` issued at ``now``, valid for ``lifetime``; with ``application_id``,
        for that case only (``aud``), so that a copy lifted from one case's history serves on no other."""
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "sub": actor.id,
            "role": actor.role.value,
            "iat": issued,
            "exp": issued + int(lifetime.total_seconds()),
        }
        if actor.department:
            claims["dept"] = actor.department
        if application_id is not None:
            claims["aud"] = application_id
        return jwt.encode(claims, self._private_key, algorithm="EdDSA", headers={"kid": self.kid})


def trust(path: Path, key: TrustedKey) -> None:
    """Add ``key`` to the trust store at ``path`` (created if absent), replacing the file whole."""
    try:
        current = TrustedKeys.model_validate_json(path.read_bytes()).keys
    except (OSError, ValidationError):
        current = ()
    if key in current:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    aside.write_text(TrustedKeys(keys=(*current, key)).model_dump_json(indent=2, exclude_none=True) + "\n")
    aside.replace(path)


def verify(
    assertion: str | None,
    actor: Actor,
    trusted: TrustedKeys,
    now: datetime,
    application_id: str | None = None,
) -> str:
    """The id of the key that vouches for ``actor`` in ``assertion`` at ``now``; ``Unauthenticated`` if
    there is none, it does not verify, it has expired, it names someone else, or it is for another case
    than ``application_id`` (an assertion without ``aud`` serves on any case)."""
    if assertion is None:
        raise Unauthenticated("the command carries no signed assertion of its actor")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise Unauthenticated("the assertion is not a signed token") from None
    kid, algorithm = header.get("kid"), header.get("alg")
    if algorithm not in _ALGORITHMS:
        raise Unauthenticated(f"the assertion must be signed with {' or '.join(_ALGORITHMS)}")
    key = trusted.find(kid) if isinstance(kid, str) else None
    if key is None:
        raise Unauthenticated("the assertion is signed by a key this case does not trust")
    if (key.kty, key.crv) != _KEY_TYPES[algorithm]:
        raise Unauthenticated("the assertion's algorithm does not fit the key it names")
    try:
        claims = jwt.decode(
            assertion,
            jwt.PyJWK(key.jwk(), algorithm=algorithm).key,
            algorithms=[algorithm],
            # Times are checked below against the case's clock, never the worker's.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
        )
    except jwt.PyJWTError:  # a bad signature, and any key or token the library cannot use
        raise Unauthenticated("the assertion's signature does not verify") from None
    _check_times(claims, now)
    subject = claims.get("sub")
    # Ids are compared as the engine compares people (case-folded NFKC: ``person_key``); the identity
    # provider must keep its ids distinct that way.
    if not isinstance(subject, str) or person_key(subject) != actor.key:
        raise Unauthenticated("the assertion vouches for another actor than the command names")
    if (claims.get("role"), claims.get("dept")) != (actor.role.value, actor.department):
        raise Unauthenticated("the assertion vouches for another role than the command names")
    audience = claims.get("aud")
    if audience is not None and audience != application_id:
        raise Unauthenticated("the assertion is for another application")
    return key.kid


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise Unauthenticated("the assertion must state when it was issued and when it expires")
    moment = now.timestamp()
    if expires <= moment:
        raise Unauthenticated("the assertion has expired")
    if issued > moment + CLOCK_SKEW.total_seconds():
        raise Unauthenticated("the assertion is issued in the future")
    if expires - issued > MAX_LIFETIME.total_seconds():
        raise Unauthenticated(f"an assertion may live at most {int(MAX_LIFETIME.total_seconds() // 60)} min")


def key_id_of(assertion: str | None) -> str | None:
    """The key id an assertion names, unverified: a handler reads which key its validator accepted."""
    if assertion is None:
        return None
    try:
        kid = jwt.get_unverified_header(assertion).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def _raw_public(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _key_id(private_key: Ed25519PrivateKey) -> str:
    """A key id that says which key it is: ``ed25519-`` and the start of its public key's SHA-256."""
    return f"ed25519-{sha256_hex(_raw_public(private_key), 16)}"
