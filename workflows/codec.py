"""AES-256-GCM encryption of every payload onewindow stores in Temporal.

A case's inputs, events and failures name people (names, identity numbers, decisions); Temporal's history
would hold them in clear for whoever reads its database or UI. ``EncryptionCodec`` encrypts each payload
before it leaves the process, so the server keeps ciphertext and the key id only. Keys rotate: the ring's
current key encrypts, its older keys still decrypt, and payloads recorded before encryption replay as
they are.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

from workflows.keys import keys_directory, write_secret

KEYS_VARIABLE = "ONEWINDOW_PAYLOAD_KEYS"  # kid1:BASE64KEY,kid2:BASE64KEY, the first one current
KEYS_FILE_VARIABLE = "ONEWINDOW_PAYLOAD_KEYS_FILE"
KEYS_FILE_NAME = "payload-keys.json"
ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_KEYS = 16
MAX_KEYS_FILE_BYTES = 64 * 1024
KEY_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"
_KEY_ID = re.compile(KEY_ID_PATTERN)
_KEY_ID_RULE = "1 to 64 of A-Z a-z 0-9 . _ -"


class PayloadKeysUnusable(ValueError):
    """The payload keys given are missing or malformed; the message names the source and the fault."""


class PayloadUndecryptable(ValueError):
    """An encrypted payload this key ring cannot open: an unknown key id, or a failed authentication."""


def default_keys_file(directory: Path | None = None) -> Path:
    """The key file read when no environment variable gives the keys (in ``directory``, else the keys
    directory)."""
    given = os.environ.get(KEYS_FILE_VARIABLE)
    return Path(given) if given else (directory or keys_directory()) / KEYS_FILE_NAME


class PayloadKeys:
    """A ring of AES-256 keys by key id: the current one encrypts, every one decrypts (rotation)."""

    __slots__ = ("_current", "_keys")

    def __init__(self, current: str, keys: Mapping[str, bytes], *, source: str = "payload keys") -> None:
        """``keys`` by key id, ``current`` among them; ``PayloadKeysUnusable`` naming ``source`` if not."""
        if not keys:
            raise PayloadKeysUnusable(f"{source}: no key")
        if len(keys) > MAX_KEYS:
            raise PayloadKeysUnusable(f"{source}: {len(keys)} keys; a ring holds at most {MAX_KEYS}")
        for kid, key in keys.items():
            if not _valid_key_id(kid):
                raise PayloadKeysUnusable(f"{source}: a key id is not {_KEY_ID_RULE}")
            if len(key) != KEY_BYTES:
                raise PayloadKeysUnusable(
                    f"{source}: key {kid!r} has {len(key)} bytes; AES-256 needs {KEY_BYTES}"
                )
        if current not in keys:
            raise PayloadKeysUnusable(f"{source}: the current key {current!r} is not among the keys")
        self._current = current
        self._keys = {kid: bytes(key) for kid, key in keys.items()}

    @property
    def current(self) -> str:
        """The id of the key that encrypts."""
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id in the ring."""
        return tuple(self._keys)

    def key(self, kid: str) -> bytes | None:
        """The key with id ``kid``, or None."""
        return self._keys.get(kid)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Each key id with its key."""
        return iter(self._keys.items())

    def __repr__(self) -> str:
        return f"PayloadKeys(current={self._current!r}, ids={self.ids!r})"  # never the key material

    @classmethod
    def load(cls, directory: Path | None = None) -> PayloadKeys:
        """From ``$ONEWINDOW_PAYLOAD_KEYS`` if set, else the JSON file ``$ONEWINDOW_PAYLOAD_KEYS_FILE`` or
        ``payload-keys.json`` in ``directory`` (the keys directory by default)."""
        given = os.environ.get(KEYS_VARIABLE, "").strip()
        if given:
            return cls.from_text(given, KEYS_VARIABLE)
        return cls.read(default_keys_file(directory))

    @classmethod
    def from_text(cls, text: str, source: str = KEYS_VARIABLE) -> PayloadKeys:
        """``kid1:BASE64KEY,kid2:BASE64KEY``, the first key current."""
        keys: dict[str, bytes] = {}
        entries = text.split(",")
        if len(entries) > MAX_KEYS:
            raise PayloadKeysUnusable(f"{source}: {len(entries)} keys; a ring holds at most {MAX_KEYS}")
        for number, entry in enumerate(entries, start=1):
            kid, colon, encoded = entry.strip().partition(":")
            where = f"{source}: entry {number}"
            if not colon:
                raise PayloadKeysUnusable(f"{where} is not kid:base64key")
            if not _valid_key_id(kid):
                raise PayloadKeysUnusable(f"{where}: the key id is not {_KEY_ID_RULE}")
            if kid in keys:
                raise PayloadKeysUnusable(f"{where}: key id {kid!r} is given twice")
            keys[kid] = _key_bytes(encoded, f"{where} ({kid!r})")
        return cls(next(iter(keys)), keys, source=source)

    @classmethod
    def from_json(cls, text: str, source: str = KEYS_FILE_NAME) -> PayloadKeys:
        """``{"current": "kid", "keys": {"kid": "base64 of 32 bytes", ...}}``."""
        try:
            document: Any = json.loads(text, object_pairs_hook=_unique_keys(source))
        except PayloadKeysUnusable:
            raise
        except (ValueError, RecursionError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deep"
            raise PayloadKeysUnusable(f"{source}: not JSON ({reason})") from None
        if not isinstance(document, dict) or set(document) != {"current", "keys"}:
            raise PayloadKeysUnusable(
                f'{source}: expected {{"current": "<key id>", "keys": {{"<key id>": "<base64 key>"}}}}'
            )
        current, given = document["current"], document["keys"]
        if not isinstance(current, str):
            raise PayloadKeysUnusable(f"{source}: current is not a key id")
        if not isinstance(given, dict):
            raise PayloadKeysUnusable(f"{source}: keys is not an object of key id to base64 key")
        if len(given) > MAX_KEYS:
            raise PayloadKeysUnusable(f"{source}: {len(given)} keys; a ring holds at most {MAX_KEYS}")
        keys: dict[str, bytes] = {}
        for kid, encoded in given.items():
            if not _valid_key_id(kid):
                raise PayloadKeysUnusable(f"{source}: a key id is not {_KEY_ID_RULE}")
            if not isinstance(encoded, str):
                raise PayloadKeysUnusable(f"{source}: key {kid!r} is not a base64 string")
            keys[kid] = _key_bytes(encoded, f"{source}: key {kid!r}")
        return cls(current, keys, source=source)

    @classmethod
    def read(cls, path: Path) -> PayloadKeys:
        """The JSON key file at ``path``."""
        try:
            with path.open("rb") as file:
                content = file.read(MAX_KEYS_FILE_BYTES + 1)
        except FileNotFoundError:
            raise PayloadKeysUnusable(
                f"{path}: no such payload key file; set {KEYS_VARIABLE} or {KEYS_FILE_VARIABLE}, "
                "or create development keys (make run does)"
            ) from None
        except OSError as error:
            raise PayloadKeysUnusable(f"{path}: {error.strerror or error}") from None
        if len(content) > MAX_KEYS_FILE_BYTES:
            raise PayloadKeysUnusable(f"{path}: larger than {MAX_KEYS_FILE_BYTES} bytes, not a key file")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadKeysUnusable(f"{path}: not UTF-8 text") from None
        return cls.from_json(text, str(path))

    @classmethod
    def create_development(cls, path: Path | None = None) -> PayloadKeys:
        """Create ``path`` (the default key file) once, readable by its owner only, holding one random key
        ``dev-<8 hex>``; an existing file is kept. The keys the file then holds."""
        target = path or default_keys_file()
        kid = f"dev-{secrets.token_hex(4)}"
        key = base64.b64encode(AESGCM.generate_key(bit_length=8 * KEY_BYTES)).decode("ascii")
        write_secret(target, (json.dumps({"current": kid, "keys": {kid: key}}, indent=2) + "\n").encode())
        return cls.read(target)


class EncryptionCodec(PayloadCodec):
    """Each payload, serialised whole, sealed with AES-256-GCM under the ring's current key.

    The result is ``binary/encrypted`` with the key id in ``encryption-key-id``; its data is a 12-byte
    random nonce then the ciphertext and tag, the key id authenticated with them. Decoding passes payloads
    of any other encoding through unchanged (histories recorded before encryption).
    """

    def __init__(self, keys: PayloadKeys) -> None:
        """A codec encrypting with ``keys.current`` and decrypting with any key of ``keys``."""
        self.keys = keys
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Every payload encrypted with the current key."""
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Every encrypted payload opened; others as they are. ``PayloadUndecryptable`` if one cannot be."""
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        kid = self.keys.current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(nonce, payload.SerializeToString(), kid.encode("ascii"))
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: kid.encode("ascii")}, data=nonce + sealed
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        given = payload.metadata.get(KEY_ID_METADATA)
        if given is None:
            raise PayloadUndecryptable(f"an encrypted payload without {KEY_ID_METADATA}")
        kid = given.decode("ascii", errors="replace")
        if not _valid_key_id(kid):
            raise PayloadUndecryptable(f"an encrypted payload whose {KEY_ID_METADATA} is not {_KEY_ID_RULE}")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise PayloadUndecryptable(
                f"a payload encrypted with key {kid!r}, which this key ring does not hold "
                f"(it holds {', '.join(self.keys.ids)}): add that key to the ring to read it"
            )
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadUndecryptable(f"a payload encrypted with key {kid!r} is truncated")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, kid.encode("ascii"))
        except InvalidTag:
            raise PayloadUndecryptable(
                f"a payload encrypted with key {kid!r} fails authentication: altered, or sealed with "
                "another key of the same id"
            ) from None
        try:
            return Payload.FromString(plain)
        except DecodeError:
            raise PayloadUndecryptable(f"a payload decrypted with key {kid!r} is not a payload") from None


def data_converter(keys: PayloadKeys) -> DataConverter:
    """pydantic JSON payloads encrypted with ``keys``.

    Failure messages stay readable: a query's failure reaches its caller as a bare message, which the
    client must read (``NotYetRegistered``), so instead no refusal names a person (``domain.errors``).
    """
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keys))


def _valid_key_id(kid: object) -> bool:
    return isinstance(kid, str) and _KEY_ID.fullmatch(kid) is not None


def _unique_keys(source: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A JSON object hook refusing a name given twice (JSON would keep the last one silently)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                shown = repr(name) if _valid_key_id(name) else "a name"
                raise PayloadKeysUnusable(f"{source}: {shown} is given twice")
            seen.add(name)
        return dict(pairs)

    return unique


def _key_bytes(encoded: str, where: str) -> bytes:
    """A key given in base64, checked to be an AES-256 key; the message never repeats it."""
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PayloadKeysUnusable(f"{where}: not base64") from None
    if len(key) != KEY_BYTES:
        raise PayloadKeysUnusable(f"{where}: {len(key)} bytes; AES-256 needs {KEY_BYTES}, in base64")
    return key
