"""The pure parts of issue 8, without a server: assertions, pseudonyms, the event chain, the audit log."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from activities.audit import SqliteAuditLog
from tests.builders import APPLICANT_ID, approver, opened, shipped_matter, submit, window_officer
from workflows.domain import chain
from workflows.domain.application import ENGINE
from workflows.domain.chain import AuditRecord, ChainHash, _plain, canonical, link, verify
from workflows.domain.errors import Unauthenticated
from workflows.domain.events import ApplicationEvent, ApplicationWithdrawn
from workflows.identity import Signer, TrustedKeys, TrustStore, key_id_of, trust
from workflows.identity import verify as verify_assertion
from workflows.security import Pseudonyms, Security

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OFFICER = window_officer()


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    """A development key in a directory of its own."""
    return Signer.create_development(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def trusted(signer: Signer) -> TrustedKeys:
    """The keys a case trusts: the signer's alone."""
    return TrustedKeys(keys=(signer.public_key(),))


# --- assertions ---------------------------------------------------------------------------------------------


def test_an_assertion_of_the_actor_verifies_and_names_its_key(signer: Signer, trusted: TrustedKeys) -> None:
    assertion = signer.issue(OFFICER, NOW)
    assert verify_assertion(assertion, OFFICER, trusted, NOW + timedelta(minutes=4)) == signer.kid
    assert key_id_of(assertion) == signer.kid
    department_head = approver("health")
    assert verify_assertion(signer.issue(department_head, NOW), department_head, trusted, NOW) == signer.kid


@pytest.mark.parametrize(
    ("forge", "says"),
    [
        (lambda s: None, "no signed assertion"),
        (lambda s: "not.a.token", "not a signed token"),
        (lambda s: s.issue(OFFICER, NOW - timedelta(minutes=6)), "expired"),
        (lambda s: s.issue(OFFICER, NOW + timedelta(minutes=2)), "in the future"),
        (lambda s: s.issue(OFFICER, NOW, timedelta(hours=1)), "at most 15 min"),
        (lambda s: s.issue(window_officer("window-2"), NOW), "another actor"),
        (lambda s: s.issue(OFFICER, NOW)[:-6] + "AAAAAA", "does not verify"),
        (lambda s: Signer(Ed25519PrivateKey.generate(), s.kid).issue(OFFICER, NOW), "does not verify"),
        (lambda s: Signer(Ed25519PrivateKey.generate(), "ed25519-other").issue(OFFICER, NOW), "not trust"),
    ],
    ids=[
        "none",
        "garbage",
        "expired",
        "future",
        "long-lived",
        "other-actor",
        "tampered",
        "forged",
        "unknown",
    ],
)
def test_a_forged_or_stale_assertion_is_unauthenticated(
    signer: Signer, trusted: TrustedKeys, forge: object, says: str
) -> None:
    assert callable(forge)
    with pytest.raises(Unauthenticated, match=says):
        verify_assertion(forge(signer), OFFICER, trusted, NOW)


def test_an_algorithm_that_does_not_fit_its_key_and_another_cases_assertion_are_unauthenticated(
    signer: Signer, trusted: TrustedKeys
) -> None:
    """ES256 claimed for an Ed25519 key (PyJWT would raise a key error, untyped); ``aud`` for another case."""
    p256 = ec.generate_private_key(ec.SECP256R1())
    claims = {"sub": OFFICER.id, "role": "window_officer", "iat": int(NOW.timestamp()), "exp": 2**31}
    mismatched = jwt.encode(claims, p256, algorithm="ES256", headers={"kid": signer.kid})
    with pytest.raises(Unauthenticated, match="does not fit"):
        verify_assertion(mismatched, OFFICER, trusted, NOW)
    for_another = signer.issue(OFFICER, NOW, application_id="APP-1")
    assert verify_assertion(for_another, OFFICER, trusted, NOW, "APP-1") == signer.kid
    with pytest.raises(Unauthenticated, match="another application"):
        verify_assertion(for_another, OFFICER, trusted, NOW, "APP-2")


def test_an_assertion_names_its_actor_as_the_engine_compares_people(
    signer: Signer, trusted: TrustedKeys
) -> None:
    """Ids are case-folded NFKC for every rule (受审分离 among them): the assertion check is no stricter."""
    assert verify_assertion(signer.issue(window_officer("WINDOW-1"), NOW), OFFICER, trusted, NOW)


def test_a_trust_store_with_two_keys_of_one_id_is_refused(signer: Signer) -> None:
    with pytest.raises(ValueError, match="same kid"):
        TrustedKeys(keys=(signer.public_key(), signer.public_key()))


def test_the_trust_store_gains_a_key_once_and_a_development_key_is_made_once(tmp_path: Path) -> None:
    first = Signer.create_development(tmp_path)
    again = Signer.create_development(tmp_path)
    assert first.kid == again.kid
    other = Signer(Ed25519PrivateKey.generate(), "ed25519-rotated")
    trust(tmp_path / "trusted-keys.json", other.public_key())
    trust(tmp_path / "trusted-keys.json", other.public_key())
    assert TrustedKeys.load(tmp_path / "trusted-keys.json").key_ids == (first.kid, "ed25519-rotated")
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o077 == 0


def test_the_trust_store_is_parsed_again_only_when_its_file_changes(tmp_path: Path) -> None:
    """Every registering case asks for the trust store: a stat, and a parse only after a change."""
    signer = Signer.create_development(tmp_path)
    store = TrustStore(tmp_path / "trusted-keys.json")
    first = store.current()
    assert store.current() is first
    trust(
        tmp_path / "trusted-keys.json", Signer(Ed25519PrivateKey.generate(), "ed25519-rotated").public_key()
    )
    assert store.current().key_ids == (signer.kid, "ed25519-rotated")


def test_missing_keys_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"trusted-keys\.json"):
        TrustedKeys.load(tmp_path / "trusted-keys.json")
    with pytest.raises(ValueError, match=r"payload-keys\.json"):
        Security.load(tmp_path)


# --- pseudonyms ---------------------------------------------------------------------------------------------


def test_a_pseudonym_is_keyed_stable_and_compares_ids_as_identities_do() -> None:
    one, other = Pseudonyms(b"k" * 32), Pseudonyms(b"j" * 32)
    assert one.of(APPLICANT_ID) == one.of(APPLICANT_ID.lower())  # person_key: case does not matter
    assert one.of(APPLICANT_ID) != other.of(APPLICANT_ID)
    assert len(one.of(APPLICANT_ID)) == 16
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonyms(b"short")


# --- the chain ----------------------------------------------------------------------------------------------


def _chain(chain_hash: ChainHash = ChainHash.SHA256) -> list[ApplicationEvent]:
    submitted = submit(shipped_matter("PUBLIC-PLACE-HYGIENE"))
    events: list[ApplicationEvent] = []
    for event in (
        *opened(submitted).events,
        ApplicationWithdrawn(at=NOW, actor=ENGINE, reason="撤回"),
    ):
        events.append(link(event, events[-1].digest if events else None, chain_hash))
    return events


def _audit(events: list[ApplicationEvent]) -> list[AuditRecord]:
    return [
        AuditRecord(application_id="APP-0001", sequence=n, kind=e.kind, digest=e.digest or "")
        for n, e in enumerate(events, start=1)
    ]


def test_an_intact_chain_verifies_against_its_audit_log() -> None:
    events = _chain()
    verdict = verify(events, _audit(events))
    assert verdict.intact, verdict.problem
    assert (verdict.events, verdict.audited) == (len(events), len(events))


def test_an_edited_event_is_named_whether_its_digest_was_kept_or_made_again() -> None:
    events = _chain()
    audit = _audit(events)
    kept = [*events[:-1], events[-1].model_copy(update={"reason": "改写"})]
    verdict = verify(kept, audit)
    assert (verdict.first_bad, "edited" in verdict.problem) == (len(events), True)
    relinked = [*events[:-1], link(kept[-1], events[-2].digest, ChainHash.SHA256)]
    verdict = verify(relinked, audit)
    assert (verdict.first_bad, "history was edited" in verdict.problem) == (len(events), True)


def test_a_removed_event_and_events_a_reset_dropped_are_named() -> None:
    events = _chain()
    audit = _audit(events)
    assert verify([events[0], *events[2:]], audit).first_bad == 2
    shorter = verify(events[:-1], audit)
    assert shorter.first_bad == len(events)
    assert "no longer has" in shorter.problem
    replaced = [*audit, audit[-1].model_copy(update={"digest": "sha256:" + "0" * 64})]
    assert "another version" in verify(events, replaced).problem


def test_sm3_chains_name_their_hash_and_meet_the_standards_test_vector() -> None:
    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert ChainHash.SM3.hex(b"abc") == digest.finalize().hex()
    assert ChainHash.SM3.hex(b"abc").startswith("66c7f0f4")
    events = _chain(ChainHash.SM3)
    assert all(event.digest and event.digest.startswith("sm3:") for event in events)
    assert verify(events, _audit(events)).intact


def test_the_canonical_form_writes_sets_sorted() -> None:
    """A frozenset's order changes between processes; the digest must not."""
    event = _chain()[0]
    assert canonical(event) == canonical(type(event).model_validate_json(event.model_dump_json()))
    assert _plain({"at": frozenset({"c", "a", "b"}), "nested": [{frozenset({2, 1})}]}) == {
        "at": ["a", "b", "c"],
        "nested": [[[1, 2]]],
    }


def test_the_canonical_form_of_each_kind_of_value() -> None:
    """Each kind is made plain by a rule chosen once per type (``chain._plain``): a subclass takes its
    base's, a str enum is its value (not the str it also is), a set is sorted as JSON, anything else its
    str; a model leaves out an ``ADDED_LATER`` field holding its default."""

    class Colour(StrEnum):
        RED = "red"

    class Size(IntEnum):
        LARGE = 3

    class Mode(Enum):
        FAST = (1, "x")

    class Point(BaseModel):
        x: int
        y: float | None = None

    class Tagged(dict[str, object]):
        pass

    value = {
        "enum": Colour.RED,
        "int-enum": Size.LARGE,
        "enum-of-tuples": Mode.FAST,
        "flags": (True, False, 0, 1.5, None),
        "when": [datetime(2026, 3, 2, 9, 0, tzinfo=UTC), date(2026, 3, 2)],
        "set": {"b", "a", "10", "9"},
        "points": frozenset({(2, 1), (1, 2)}),
        "model": Point(x=1),
        "tagged": Tagged({"k": Decimal("1.10")}),
        7: Path("a/b"),
    }
    plain = _plain(value)
    assert plain == {
        "enum": "red",
        "int-enum": 3,
        "enum-of-tuples": [1, "x"],
        "flags": [True, False, 0, 1.5, None],
        "when": ["2026-03-02T09:00:00+00:00", "2026-03-02"],
        "set": ["10", "9", "a", "b"],
        "points": [[1, 2], [2, 1]],
        "model": {"x": 1, "y": None},
        "tagged": {"k": "1.10"},
        "7": "a/b",
    }
    assert isinstance(plain, dict)
    kinds = [type(plain["enum"]), type(plain["int-enum"]), *(type(flag) for flag in plain["flags"])]
    assert kinds == [str, int, bool, bool, int, float, type(None)]  # an enum is its value, a bool stays one
    submitted = opened(submit(shipped_matter("PUBLIC-PLACE-HYGIENE"))).events[0]
    assert "simulated" not in json.loads(canonical(submitted))
    assert json.loads(canonical(submitted.model_copy(update={"simulated": True})))["simulated"] is True


def test_an_event_hashes_as_it_did_when_chains_were_first_made() -> None:
    """Digests in audit logs were made by earlier code: the canonical form of an event must not change."""
    withdrawn = ApplicationWithdrawn(at=NOW, actor=ENGINE, reason="撤回")
    linked = link(withdrawn, None, ChainHash.SHA256)
    assert (
        canonical(linked)
        == (
            '{"actor":{"department":null,"id":"onewindow","name":"onewindow engine","role":"system"},'
            '"at":"2026-12-01T17:00:00+08:00","kind":"application_withdrawn","previous":null,"reason":"撤回",'
            '"signed_by":null}'
        ).encode()
    )
    assert linked.digest == "sha256:0c4e3369935d218485260a2ab6d8aa193d1cd140e15fdd50272e817577014694"
    sm3 = "sm3:e94e5dc6fd7da524ea917f106ff86689d0b91c490a35c16f891f5f20a8b15ae0"
    assert link(withdrawn, None, ChainHash.SM3).digest == sm3


# --- the audit log ------------------------------------------------------------------------------------------


async def test_the_audit_log_is_append_only_and_idempotent(tmp_path: Path) -> None:
    log = SqliteAuditLog(tmp_path / "audit.sqlite")
    records = _audit(_chain())
    try:
        await log.append(records)
        await log.append(records)  # a retried activity
        assert await log.records("APP-0001") == records
    finally:
        log.close()
    database = sqlite3.connect(tmp_path / "audit.sqlite")
    try:
        for statement in ("UPDATE audit SET digest = 'x'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                database.execute(statement)
    finally:
        database.close()


def test_a_worker_that_gives_no_command_loads_its_keys_without_a_signing_key(tmp_path: Path) -> None:
    """A worker alone (no gateway beside it) signs nothing: its keys load without ``signing-key.pem``."""
    Security.development(tmp_path)
    (tmp_path / "signing-key.pem").unlink()
    assert Security.load(tmp_path, signing=False).signer is None
    with pytest.raises(ValueError, match=r"signing-key\.pem"):
        Security.load(tmp_path)


def test_fields_added_to_the_events_later_leave_an_older_event_hashing_as_it_did() -> None:
    """A case replayed on newer code keeps the digests its audit log holds (``chain.ADDED_LATER``)."""
    event = opened(submit(shipped_matter("REAL-ESTATE.mortgage"))).events[0]  # no 告知承诺 either way
    event = event.model_copy(update={"internal_targets": False})  # as registered before internal targets
    before = event.model_dump(mode="python", exclude={"digest"})
    for later in chain.ADDED_LATER["ApplicationSubmitted"]:
        del before[later]
    for later in chain.ADDED_LATER["Matter"]:
        del before["matter"][later]
    for material in before["matter"]["materials"]:
        del material["replaced_by_commitment"]
    as_linked = json.dumps(chain._plain(before), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert chain.canonical(event) == as_linked.encode()
    assert chain.canonical(event.model_copy(update={"simulated": True})) != as_linked.encode()
