"""Everything a onewindow process needs to be trusted, loaded in one place: ``Security``.

- the signer of its commands' assertions (``workflows.identity``), if this process gives commands;
- the trust store its worker records in each case;
- the payload keys that encrypt personal data in Temporal's history (``workflows.codec``);
- the pseudonym key: the applicant appears in search attributes only as a keyed HMAC;
- the hash of each case's event chain (``workflows.domain.chain``).

Each comes from an environment variable or a file in the keys directory (``workflows.keys``);
``Security.development`` creates missing development keys there first (``make run``, the test kit).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.converter import DataConverter

from workflows.codec import PayloadKeys, data_converter
from workflows.domain.chain import ChainHash
from workflows.domain.commands import Command
from workflows.domain.values import person_key
from workflows.identity import (
    Clock,
    Signer,
    TrustedKeys,
    TrustStore,
    signing_key_path,
    trusted_keys_path,
    wall_clock,
)
from workflows.keys import keys_directory, write_secret

PSEUDONYM_KEY_VARIABLE = "ONEWINDOW_PSEUDONYM_KEY"
CHAIN_HASH_VARIABLE = "ONEWINDOW_CHAIN_HASH"
PSEUDONYM_CHARS = 16  # hexadecimal digits: 64 bits of a keyed HMAC, short enough for OwReaders


class Pseudonyms:
    """Keyed stand-ins for identity numbers: HMAC-SHA-256 under a secret key, searchable by equality.

    Without the key no one can tell whose number a pseudonym is, unlike a plain hash of a number drawn
    from a small space (an identity number is inverted in seconds).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a pseudonym key has at least 32 bytes")
        self._key = key

    def of(self, identifier: str) -> str:
        """The pseudonym of an identifier, compared as identities are (``person_key``)."""
        mac = hmac.new(self._key, person_key(identifier).encode(), hashlib.sha256)
        return mac.hexdigest()[:PSEUDONYM_CHARS]

    @classmethod
    def load(cls, directory: Path) -> Pseudonyms:
        """From ``$ONEWINDOW_PSEUDONYM_KEY`` (base64), else ``pseudonym.key`` in ``directory``."""
        given = os.environ.get(PSEUDONYM_KEY_VARIABLE)
        source = PSEUDONYM_KEY_VARIABLE if given else str(directory / "pseudonym.key")
        try:
            text = given or (directory / "pseudonym.key").read_text()
            return cls(base64.b64decode(text.strip(), validate=True))
        except (OSError, binascii.Error, ValueError) as error:
            raise ValueError(f"pseudonym key {source}: {getattr(error, 'strerror', None) or error}") from None


@dataclass(frozen=True)
class Security:
    """The keys of one process (see the module's docstring)."""

    payload_keys: PayloadKeys
    pseudonyms: Pseudonyms
    trusted_keys_file: Path
    signer: Signer | None
    chain_hash: ChainHash = ChainHash.SHA256
    clock: Clock = field(default=wall_clock, compare=False)
    _trust_store: TrustStore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_trust_store", TrustStore(self.trusted_keys_file))

    @classmethod
    def load(cls, directory: Path | None = None, *, signing: bool = True) -> Security:
        """The keys as configured; ``ValueError`` naming what is missing (``make run`` creates them).

        ``signing`` is False for a process that gives no commands (a worker alone).
        """
        directory = directory or keys_directory()
        return cls(
            payload_keys=PayloadKeys.load(directory),
            pseudonyms=Pseudonyms.load(directory),
            trusted_keys_file=trusted_keys_path(directory),
            signer=Signer.load(signing_key_path(directory)) if signing else None,
            chain_hash=ChainHash(os.environ.get(CHAIN_HASH_VARIABLE) or ChainHash.SHA256.value),
        )

    @classmethod
    def development(cls, directory: Path | None = None) -> Security:
        """Create the development keys missing in ``directory`` (once), then load them."""
        directory = directory or keys_directory()
        PayloadKeys.create_development(directory / "payload-keys.json")
        write_secret(directory / "pseudonym.key", base64.b64encode(secrets.token_bytes(32)) + b"\n")
        Signer.create_development(directory)
        return cls.load(directory)

    def trusted_keys(self) -> TrustedKeys:
        """The trust store as it is now (at each case's registration and each rotation)."""
        return self._trust_store.current()

    def data_converter(self) -> DataConverter:
        """pydantic JSON payloads, encrypted with the payload keys."""
        return data_converter(self.payload_keys)

    def client_interceptors(self) -> Sequence[Interceptor]:
        """What a client needs to give commands: its signer, if it has one."""
        return [SigningInterceptor(self.signer, self.clock)] if self.signer else []

    def with_clock(self, clock: Clock) -> Security:
        """The same keys, assertions dated by ``clock`` (a time-skipping server's)."""
        return dataclasses.replace(self, clock=clock)


class SigningInterceptor(Interceptor):
    """Signs, on the way out, every command and intake that names an actor but carries no assertion."""

    def __init__(self, signer: Signer, clock: Clock = wall_clock) -> None:
        self._signer = signer
        self._clock = clock

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        """The outbound interceptor adding assertions."""
        return _Signing(next, self._signer, self._clock)


class _Signing(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, signer: Signer, clock: Clock) -> None:
        super().__init__(next)
        self._signer = signer
        self._clock = clock

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.args = [await self._signed(argument, input.id) for argument in input.args]
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.args = [await self._signed(argument, input.id) for argument in input.args]
        return await super().start_workflow_update(input)

    async def _signed(self, argument: object, application_id: str) -> object:
        """``argument`` with an assertion of its actor for this case alone, if it carries none."""
        if not isinstance(argument, Command) or argument.assertion is not None:
            return argument
        assertion = self._signer.issue(argument.actor, await self._clock(), application_id=application_id)
        return argument.model_copy(update={"assertion": assertion})
