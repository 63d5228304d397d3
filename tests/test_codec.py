"""Payload encryption (``workflows.codec``) and the remote codec endpoints (``gateway.routers.codec``).

No Temporal server: the codec works on payloads alone, and the endpoints run in an app of their own (the
gateway's token book, rate limiter and error handlers, the codec router and its CORS) through httpx's ASGI
transport.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import WithSerializationContext

from gateway import EXAMPLE_TOKENS, RateLimiter, RateLimits, TokenBook
from gateway.errors import add_handlers
from gateway.routers import codec as codec_router
from gateway.routers.codec import (
    COOKIE,
    DEVELOPMENT_UI_ORIGINS,
    MAX_CODEC_BODY_BYTES,
    MAX_PAYLOADS,
    allow_ui_origins,
)
from gateway.sessions import Sessions
from workflows.codec import (
    ENCODING,
    KEY_ID_METADATA,
    KEYS_FILE_VARIABLE,
    KEYS_VARIABLE,
    MAX_KEYS,
    EncryptionCodec,
    PayloadKeys,
    PayloadKeysUnusable,
    PayloadUndecryptable,
    data_converter,
)
from workflows.keys import KEYS_DIR_VARIABLE

TOKENS = TokenBook.load(EXAMPLE_TOKENS)
SUPERVISOR = "example-supervisor-zhao"
OFFICER = "example-window-officer-li"
UI = "http://localhost:8233"
PERSONAL = "李娜 210203198001011234".encode()
KEY_A, KEY_B = AESGCM.generate_key(bit_length=256), AESGCM.generate_key(bit_length=256)


def b64(raw: bytes) -> str:
    """Standard base64, as key files and protobuf JSON write bytes."""
    return base64.b64encode(raw).decode()


def ring(current: str = "a", **keys: bytes) -> PayloadKeys:
    """A key ring; by default key ``a`` alone."""
    return PayloadKeys(current, keys or {"a": KEY_A})


def plain(data: bytes = b'{"name": "' + PERSONAL + b'"}', encoding: bytes = b"json/plain") -> Payload:
    """A payload as the pydantic converter writes one."""
    return Payload(metadata={"encoding": encoding}, data=data)


# --- the codec ---------------------------------------------------------------------------------------------


async def test_payloads_round_trip_whole_including_metadata_and_empty_data() -> None:
    codec = EncryptionCodec(ring())
    given = [plain(), plain(b"", b"binary/null"), Payload(metadata={"encoding": b"json/plain", "x": b"1"})]
    encoded = await codec.encode(given)
    assert len(encoded) == len(given)
    assert await codec.decode(encoded) == given


async def test_the_ciphertext_holds_no_plaintext_and_names_its_key() -> None:
    codec = EncryptionCodec(ring("b", a=KEY_A, b=KEY_B))
    first, second = await codec.encode([plain(), plain()])
    assert dict(first.metadata) == {"encoding": ENCODING, KEY_ID_METADATA: b"b"}
    for fragment in (PERSONAL, "李娜".encode(), b"name", b"json/plain"):
        assert fragment not in first.data
        assert fragment not in first.SerializeToString()
    assert first.data[:12] != second.data[:12]  # a fresh nonce each time
    assert first.data != second.data


async def test_a_rotated_ring_decrypts_old_payloads_and_encrypts_with_the_new_key() -> None:
    old = await EncryptionCodec(ring("a", a=KEY_A)).encode([plain()])
    rotated = EncryptionCodec(ring("b", b=KEY_B, a=KEY_A))
    assert await rotated.decode(old) == [plain()]
    new = await rotated.encode([plain()])
    assert new[0].metadata[KEY_ID_METADATA] == b"b"
    retired = EncryptionCodec(ring("b", b=KEY_B))
    with pytest.raises(PayloadUndecryptable, match="key 'a', which this key ring does not hold") as refused:
        await retired.decode(old)
    assert b64(KEY_A) not in str(refused.value)
    assert b64(KEY_B) not in str(refused.value)


async def test_a_tampered_payload_is_refused_without_repeating_anything_of_it() -> None:
    codec = EncryptionCodec(ring("a", a=KEY_A, b=KEY_B))
    (sealed,) = await codec.encode([plain()])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    relabelled = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"b"}, data=sealed.data)
    truncated = Payload(metadata=sealed.metadata, data=sealed.data[:20])
    unlabelled = Payload(metadata={"encoding": ENCODING}, data=sealed.data)
    forged_id = Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: b"../../etc"}, data=sealed.data)
    cases = {
        "fails authentication": Payload(metadata=sealed.metadata, data=bytes(flipped)),
        "fails authentication: altered": relabelled,  # the key id is authenticated too
        "truncated": truncated,
        f"without {KEY_ID_METADATA}": unlabelled,
        "is not 1 to 64": forged_id,
    }
    for reason, payload in cases.items():
        with pytest.raises(PayloadUndecryptable, match=reason) as refused:
            await codec.decode([payload])
        assert "李娜" not in str(refused.value)
        assert b64(KEY_A) not in str(refused.value)


async def test_a_payload_that_is_not_encrypted_passes_through_unchanged() -> None:
    codec = EncryptionCodec(ring())
    recorded = [plain(), plain(b"", b"binary/null"), Payload()]
    assert await codec.decode(recorded) == recorded


async def test_the_data_converter_encrypts_values() -> None:
    converter = data_converter(ring())
    assert converter.payload_converter_class is PydanticPayloadConverter
    (payload,) = await converter.encode([{"name": "李娜"}])
    assert payload.metadata["encoding"] == ENCODING
    assert await converter.decode([payload]) == [{"name": "李娜"}]
    assert "李娜".encode() not in payload.SerializeToString()


def test_every_payload_goes_through_the_same_codec_whatever_its_serialization_context() -> None:
    """The workers' cases (``workflows.registry``) answer every payload's serialization context with their
    own (and their own storage context) instead of asking the sandbox: right only while the codec reads no
    context and nothing is stored outside the history, which this checks."""
    converter = data_converter(ring())
    assert not isinstance(converter.payload_codec, WithSerializationContext)
    assert converter.external_storage is None


def test_a_ring_never_shows_its_keys() -> None:
    keys = ring("b", a=KEY_A, b=KEY_B)
    assert repr(keys) == "PayloadKeys(current='b', ids=('a', 'b'))"
    assert keys.current == "b"
    assert keys.key("a") == KEY_A
    assert keys.key("c") is None


# --- loading the keys --------------------------------------------------------------------------------------


@pytest.fixture
def keys_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key variable set; the keys directory is a fresh one. Its payload key file's path."""
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)
    monkeypatch.delenv(KEYS_FILE_VARIABLE, raising=False)
    monkeypatch.setenv(KEYS_DIR_VARIABLE, str(tmp_path / "keys"))
    return tmp_path / "keys" / "payload-keys.json"


def key_file(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_the_environment_variable_gives_the_ring_its_first_key_current(
    keys_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file(keys_env, {"current": "file", "keys": {"file": b64(KEY_A)}})
    monkeypatch.setenv(KEYS_VARIABLE, f"new:{b64(KEY_B)}, old:{b64(KEY_A)}")
    keys = PayloadKeys.load()
    assert (keys.current, keys.ids) == ("new", ("new", "old"))
    assert keys.key("old") == KEY_A


def test_the_key_file_is_read_from_its_variable_else_the_keys_directory(
    keys_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_file(keys_env, {"current": "dir", "keys": {"old": b64(KEY_A), "dir": b64(KEY_B)}})
    keys = PayloadKeys.load()
    assert (keys.current, keys.ids) == ("dir", ("old", "dir"))
    elsewhere = key_file(tmp_path / "elsewhere.json", {"current": "other", "keys": {"other": b64(KEY_A)}})
    monkeypatch.setenv(KEYS_FILE_VARIABLE, str(elsewhere))
    assert PayloadKeys.load().current == "other"


_SHORT_KEY = b64(os.urandom(16))
_MANY = {f"k{n}": b64(KEY_A) for n in range(MAX_KEYS + 1)}


@pytest.mark.parametrize(
    ("variable", "named"),
    [
        ("a", "entry 1 is not kid:base64key"),
        (f"a:{b64(KEY_A)},", "entry 2 is not kid:base64key"),
        ("a:not base64!", r"entry 1 \('a'\): not base64"),
        (f"a:{_SHORT_KEY}", "16 bytes; AES-256 needs 32"),
        (f"bad id:{b64(KEY_A)}", "the key id is not 1 to 64"),
        (f"{'k' * 65}:{b64(KEY_A)}", "the key id is not 1 to 64"),
        (f"a:{b64(KEY_A)},a:{b64(KEY_B)}", "key id 'a' is given twice"),
        (",".join(f"k{n}:{b64(KEY_A)}" for n in range(MAX_KEYS + 1)), "at most 16"),
    ],
    # The keys are drawn afresh in each process: ids of their own keep the collection the same everywhere.
    ids=["no-key", "empty-entry", "not-base64", "short-key", "bad-id", "long-id", "id-twice", "too-many"],
)
def test_a_malformed_key_variable_is_refused_naming_it_and_the_fault(
    keys_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, named: str
) -> None:
    monkeypatch.setenv(KEYS_VARIABLE, variable)
    with pytest.raises(PayloadKeysUnusable, match=named) as refused:
        PayloadKeys.load()
    assert str(refused.value).startswith(KEYS_VARIABLE)
    assert isinstance(refused.value, ValueError)
    assert _SHORT_KEY not in str(refused.value)
    assert b64(KEY_A) not in str(refused.value)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("{not json", "not JSON"),
        ("[1]", "expected {"),
        ({"current": "a", "keys": {"a": b64(KEY_A)}, "extra": 1}, "expected {"),
        ({"keys": {"a": b64(KEY_A)}}, "expected {"),
        ({"current": 1, "keys": {"a": b64(KEY_A)}}, "current is not a key id"),
        ({"current": "a", "keys": [b64(KEY_A)]}, "keys is not an object"),
        ({"current": "a", "keys": {}}, "no key"),
        ({"current": "b", "keys": {"a": b64(KEY_A)}}, "the current key 'b' is not among the keys"),
        ({"current": "a", "keys": {"a": _SHORT_KEY}}, "key 'a': 16 bytes; AES-256 needs 32"),
        ({"current": "a", "keys": {"a": "%%%"}}, "key 'a': not base64"),
        ({"current": "a", "keys": {"a": 5}}, "key 'a' is not a base64 string"),
        ({"current": "a", "keys": {"a b": b64(KEY_A)}}, "a key id is not 1 to 64"),
        ({"current": "k0", "keys": _MANY}, "17 keys; a ring holds at most 16"),
        (f'{{"current": "a", "keys": {{"a": "{b64(KEY_A)}", "a": "{b64(KEY_B)}"}}}}', "'a' is given twice"),
    ],
)
def test_a_malformed_key_file_is_refused_naming_it_and_the_fault(
    keys_env: Path, document: object, named: str
) -> None:
    key_file(keys_env, document)
    with pytest.raises(PayloadKeysUnusable, match=named) as refused:
        PayloadKeys.load()
    assert str(refused.value).startswith(str(keys_env))
    assert _SHORT_KEY not in str(refused.value)
    assert b64(KEY_A) not in str(refused.value)


def test_a_missing_unreadable_or_binary_key_file_is_refused_naming_it(keys_env: Path, tmp_path: Path) -> None:
    with pytest.raises(
        PayloadKeysUnusable, match=f"{keys_env}: no such payload key file; set {KEYS_VARIABLE}"
    ):
        PayloadKeys.load()
    keys_env.mkdir(parents=True)
    with pytest.raises(PayloadKeysUnusable, match=f"{keys_env}: Is a directory"):
        PayloadKeys.load()
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(PayloadKeysUnusable, match="not UTF-8"):
        PayloadKeys.read(binary)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (64 * 1024 + 1))
    with pytest.raises(PayloadKeysUnusable, match="not a key file"):
        PayloadKeys.read(huge)


def test_development_keys_are_created_once_readable_by_their_owner_only(keys_env: Path) -> None:
    created = PayloadKeys.create_development(keys_env)
    assert stat.S_IMODE(keys_env.stat().st_mode) == 0o600
    assert created.current.startswith("dev-")
    assert len(created.current) == len("dev-") + 8
    int(created.current.removeprefix("dev-"), 16)
    assert len(created.key(created.current) or b"") == 32
    content = keys_env.read_bytes()
    again = PayloadKeys.create_development(keys_env)
    assert keys_env.read_bytes() == content
    assert again.current == created.current
    assert again.key(again.current) == created.key(created.current)
    assert PayloadKeys.load().current == created.current  # the default path is the keys directory's


def test_an_existing_key_file_is_kept_as_it_is(keys_env: Path) -> None:
    mine = key_file(keys_env, {"current": "prod-2026", "keys": {"prod-2026": b64(KEY_A)}})
    mine.chmod(0o640)
    kept = PayloadKeys.create_development(keys_env)
    assert (kept.current, kept.key("prod-2026")) == ("prod-2026", KEY_A)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o640


# --- the codec endpoints -----------------------------------------------------------------------------------


def codec_app(codec: EncryptionCodec | None) -> FastAPI:
    """The codec router and its CORS over the gateway's tokens, rate limiter and error handlers."""
    app = FastAPI()
    app.state.tokens = TOKENS
    app.state.limiter = RateLimiter(RateLimits())
    app.state.codec = codec
    app.state.codec_sessions = Sessions()
    app.include_router(codec_router.router)
    add_handlers(app)
    allow_ui_origins(app, DEVELOPMENT_UI_ORIGINS)
    return app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(codec_app(EncryptionCodec(ring()))) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Namespace": "default"}


def as_json(*payloads: Payload) -> dict[str, Any]:
    """Payloads in protobuf JSON, as the UI and the CLI send them."""
    return {
        "payloads": [
            {"metadata": {key: b64(value) for key, value in p.metadata.items()}, "data": b64(p.data)}
            for p in payloads
        ]
    }


async def test_the_codec_needs_a_known_bearer_token(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-known-token-at-all"}, {"Authorization": SUPERVISOR}):
        refused = await http.post("/codec/decode", json=as_json(plain()), headers=headers)
        assert (refused.status_code, refused.json()["type"]) == (401, "Unauthenticated")
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


async def test_only_a_supervisor_may_use_the_codec(http: httpx.AsyncClient) -> None:
    for path in ("/codec/encode", "/codec/decode"):
        refused = await http.post(path, json=as_json(plain()), headers=bearer(OFFICER))
        assert (refused.status_code, refused.json()["type"]) == (403, "NotAuthorised")
        assert "supervisors" in refused.json()["detail"]


async def test_a_supervisor_encodes_and_decodes_through_the_endpoints(http: httpx.AsyncClient) -> None:
    given = as_json(plain(), plain(b"", b"binary/null"))
    encoded = await http.post("/codec/encode", json=given, headers=bearer(SUPERVISOR))
    assert encoded.status_code == 200
    sealed = encoded.json()["payloads"]
    assert len(sealed) == 2
    assert {base64.b64decode(p["metadata"]["encoding"]) for p in sealed} == {ENCODING}
    assert {base64.b64decode(p["metadata"][KEY_ID_METADATA]) for p in sealed} == {b"a"}
    assert "李娜".encode() not in base64.b64decode(sealed[0]["data"])
    decoded = await http.post("/codec/decode", json=encoded.json(), headers=bearer(SUPERVISOR))
    assert decoded.status_code == 200
    assert decoded.json() == given
    passed = await http.post("/codec/decode", json=given, headers=bearer(SUPERVISOR))
    assert passed.json() == given  # recorded before encryption: as it was
    empty = await http.post("/codec/decode", json={"payloads": []}, headers=bearer(SUPERVISOR))
    assert empty.json() == {"payloads": []}


async def test_the_endpoint_decodes_what_the_workers_codec_encrypted(http: httpx.AsyncClient) -> None:
    """The worker and the gateway share the ring: the UI reads what the worker wrote."""
    (sealed,) = await EncryptionCodec(ring()).encode([plain()])
    decoded = await http.post("/codec/decode", json=as_json(sealed), headers=bearer(SUPERVISOR))
    assert decoded.json() == as_json(plain())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"payloads": [{"data": "not base64 !"}]}',
        b'{"payloads": [{"unknown": ""}]}',
        b'{"payloads": {}}',
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
    ],
)
async def test_a_malformed_body_is_refused_400(http: httpx.AsyncClient, body: bytes) -> None:
    refused = await http.post("/codec/decode", content=body, headers=bearer(SUPERVISOR))
    assert (refused.status_code, refused.json()["type"]) == (400, "InvalidPayloads")
    assert len(refused.json()["detail"]) < 200


async def test_a_body_or_a_payload_count_beyond_the_limits_is_refused_413(http: httpx.AsyncClient) -> None:
    headers = bearer(SUPERVISOR) | {"Content-Length": str(MAX_CODEC_BODY_BYTES + 1)}
    declared = await http.post("/codec/decode", content=b"{}", headers=headers)
    assert (declared.status_code, declared.json()["type"]) == (413, "BodyTooLarge")
    streamed = await http.post(
        "/codec/decode", content=b" " * (MAX_CODEC_BODY_BYTES + 1), headers=bearer(SUPERVISOR)
    )
    assert (streamed.status_code, streamed.json()["type"]) == (413, "BodyTooLarge")
    many = {"payloads": [{"data": ""}] * (MAX_PAYLOADS + 1)}
    counted = await http.post("/codec/decode", json=many, headers=bearer(SUPERVISOR))
    assert (counted.status_code, counted.json()["type"]) == (413, "BodyTooLarge")


async def test_a_payload_the_ring_cannot_open_is_refused_422(http: httpx.AsyncClient) -> None:
    (foreign,) = await EncryptionCodec(ring("x", x=KEY_B)).encode([plain()])
    refused = await http.post("/codec/decode", json=as_json(foreign), headers=bearer(SUPERVISOR))
    assert (refused.status_code, refused.json()["type"]) == (422, "PayloadUndecryptable")
    assert "'x'" in refused.json()["detail"]


async def test_a_gateway_without_a_codec_answers_404_after_authentication() -> None:
    async with client_of(codec_app(None)) as http:
        anonymous = await http.post("/codec/decode", json=as_json(plain()))
        assert anonymous.status_code == 401
        missing = await http.post("/codec/decode", json=as_json(plain()), headers=bearer(SUPERVISOR))
        assert (missing.status_code, missing.json()["type"]) == (404, "CodecNotConfigured")


async def test_the_web_ui_origin_may_call_the_codec_from_the_browser(http: httpx.AsyncClient) -> None:
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    allowed = await http.options("/codec/decode", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= set(
        allowed_headers.replace(" ", "").split(",")
    )
    other = await http.options("/codec/decode", headers=preflight | {"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    answered = await http.post(
        "/codec/decode", json=as_json(plain()), headers=bearer(SUPERVISOR) | {"Origin": UI}
    )
    assert answered.status_code == 200
    assert answered.headers["access-control-allow-origin"] == UI


async def test_only_the_codec_paths_answer_cross_origin_requests(http: httpx.AsyncClient) -> None:
    preflight = {"Origin": UI, "Access-Control-Request-Method": "POST"}
    elsewhere = await http.options("/applications", headers=preflight)
    assert "access-control-allow-origin" not in elsewhere.headers


@pytest.mark.parametrize(
    "origin", ["*", "http://localhost:8233/ui", "localhost:8233", "ftp://x", "http://a:b@x", "http://x:99999"]
)
def test_an_origin_that_is_not_one_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="is not a web origin"):
        allow_ui_origins(FastAPI(), [origin])


async def test_the_openapi_document_describes_the_codec(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    for path in ("/codec/encode", "/codec/decode"):
        operation = document["paths"][path]["post"]
        assert {"200", "400", "401", "403", "404", "413", "422", "429"} <= set(operation["responses"])
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["payloads"]["maxItems"] == MAX_PAYLOADS


async def test_the_web_ui_signs_in_once_with_a_supervisors_token_and_decodes_with_the_cookie(
    http: httpx.AsyncClient,
) -> None:
    """The UI sends our codec no bearer token: a supervisor signs in at /codec/session, and the UI's
    calls (with "include cross-origin credentials") carry the session cookie instead."""
    form = await http.get("/codec/session")
    assert form.status_code == 200
    assert 'name="token"' in form.text
    refused = await http.post("/codec/session", data={"token": "example-approver-wang-health"})
    assert refused.status_code == 403
    assert COOKIE not in refused.cookies
    signed_in = await http.post("/codec/session", data={"token": "example-supervisor-zhao"})
    assert signed_in.status_code == 200
    cookie = signed_in.headers["set-cookie"].lower()
    assert {"httponly", "path=/codec", "samesite=lax"} <= {part.strip() for part in cookie.split(";")}
    assert signed_in.cookies[COOKIE]
    sealed = await EncryptionCodec(ring()).encode([plain()])
    opened = await http.post("/codec/decode", json=as_json(*sealed), headers={"Origin": UI})  # the jar's
    assert opened.status_code == 200
    assert opened.headers["access-control-allow-credentials"] == "true"
    assert opened.json() == as_json(plain())
    http.cookies.clear()
    http.cookies.set(COOKIE, "made-up")
    forged = await http.post("/codec/decode", json=as_json(*sealed))
    assert (forged.status_code, forged.json()["type"]) == (401, "Unauthenticated")
