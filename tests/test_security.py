"""Issue 8 on the dev server, through a raw Temporal client as a stranger would send it: forged commands are
refused ``Unauthenticated`` before history, a decided number is never given again, no identity number,
name or contact is stored in plain text, and the event chain matches the audit log until a reset."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.audit import SqliteAuditLog
from activities.outbox import Outbox
from cli import run
from tests.builders import (
    APPLICANT_ID,
    all_materials,
    applicant,
    applicant_actor,
    supervisor,
    window_officer,
)
from workflows import search_attributes
from workflows.application_workflow import ApplicationWorkflow
from workflows.client import Cases, Refused
from workflows.domain.application import Status
from workflows.domain.chain import verify
from workflows.domain.commands import AcceptApplication, ReviseTrustedKeys, WithdrawApplication
from workflows.domain.events import Actor, Channel, Role, TrustedKeysRevised
from workflows.identity import Signer, trust
from workflows.messages import Intake
from workflows.testkit import kit_cases, kit_security, onewindow_worker

pytestmark = pytest.mark.devserver

OFFICER = window_officer()


@dataclass
class Desk:
    """A worker on the dev server with its audit log, the kit's client, and a raw client that signs
    nothing and sees payloads as stored (no codec)."""

    cases: Cases
    audit: SqliteAuditLog
    audit_path: Path
    stranger: Client
    storage: Client

    async def open(self) -> str:
        number = f"SEC-{uuid.uuid4().hex[:10]}"
        await self.cases.submit(number, _intake())
        await self.cases.registered(number, reader=None)
        return number


def _intake() -> Intake:
    return Intake(
        actor=Actor(id="intake-portal", role=Role.SYSTEM),
        applicant=applicant(),
        matter_code="PUBLIC-PLACE-HYGIENE",
        materials=all_materials("PUBLIC-PLACE-HYGIENE"),
        channel=Channel.ONLINE,
        received_at=datetime.now(UTC),
    )


@pytest.fixture
async def desk(dev_server: WorkflowEnvironment, outbox: Outbox, tmp_path: Path) -> AsyncIterator[Desk]:
    """The desk, with an audit log of its own."""
    audit = SqliteAuditLog(tmp_path / "audit.sqlite")
    config: dict[str, Any] = dict(dev_server.client.config())
    stranger = Client(**(config | {"interceptors": []}))
    storage = Client(**(config | {"interceptors": [], "data_converter": pydantic_data_converter}))
    try:
        async with onewindow_worker(dev_server.client, outbox, audit=audit) as cases:
            yield Desk(cases, audit, tmp_path / "audit.sqlite", stranger, storage)
    finally:
        audit.close()


async def _reset_before_last_update(desk: Desk, number: str) -> None:
    """What an operator with raw access can do: reset the case to the task before its last command."""
    history = await desk.cases.client.get_workflow_handle(number).fetch_history()
    updates = [
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    completed = [
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and event.event_id < updates[-1]
    ]
    await desk.cases.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=desk.cases.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=number),
            reason="operator reset past the last command",
            workflow_task_finish_event_id=completed[-1],
            request_id=str(uuid.uuid4()),
        )
    )


async def _failed_with(handle: WorkflowHandle[Any, Any]) -> str | None:
    """The typed failure a case's run ended with (within 15 s: never waiting on a frozen case)."""
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), timeout=15)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type


def _now() -> datetime:
    return datetime.now(UTC)


def _forgeries() -> dict[str, str | None]:
    signer = kit_security().signer
    assert signer is not None
    stranger_key = Signer(Ed25519PrivateKey.generate(), "ed25519-not-trusted")
    return {
        "unsigned": None,
        "expired": signer.issue(OFFICER, _now() - timedelta(minutes=10)),
        "issued in the future": signer.issue(OFFICER, _now() + timedelta(minutes=10)),
        "too long-lived": signer.issue(OFFICER, _now(), lifetime=timedelta(hours=8)),
        "unknown key": stranger_key.issue(OFFICER, _now()),
        "another actor": signer.issue(window_officer("window-2"), _now()),
        "tampered": signer.issue(OFFICER, _now())[:-4] + "AAAA",
    }


async def test_a_forged_command_is_refused_unauthenticated_before_history(desk: Desk) -> None:
    """Unsigned, expired, future, long-lived, foreign, mismatched and tampered assertions: all refused
    typed, none in history; the genuine one is applied and its event names the key that vouched."""
    number = await desk.open()
    handle = desk.stranger.get_workflow_handle_for(ApplicationWorkflow.run, number)
    before = len(await handle.query(ApplicationWorkflow.events))
    for forgery, assertion in _forgeries().items():
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                ApplicationWorkflow.act, AcceptApplication(actor=OFFICER, assertion=assertion)
            )
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError), forgery
        assert cause.type == "Unauthenticated", forgery
    history = await handle.fetch_history()
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    assert not [event for event in history.events if event.event_type == accepted]
    assert len(await handle.query(ApplicationWorkflow.events)) == before

    view = await desk.cases.act(number, AcceptApplication(actor=OFFICER))
    assert view.status is Status.UNDER_REVIEW
    accepted_event = (await desk.cases.events(number, reader=None))[before]
    signer = kit_security().signer
    assert signer is not None
    assert accepted_event.signed_by == signer.kid


async def test_a_decided_number_is_never_given_again_whatever_the_reuse_policy(desk: Desk) -> None:
    """A withdrawn case's number started again with ALLOW_DUPLICATE fails AlreadySubmitted; the first
    record stays, and reading the number still reads it."""
    number = await desk.open()
    await desk.cases.act(number, WithdrawApplication(actor=applicant_actor(), reason="撤回"))
    await desk.cases.client.get_workflow_handle(number).result()
    second = await desk.cases.client.start_workflow(
        ApplicationWorkflow.run,
        _intake(),
        id=number,
        task_queue=desk.cases.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    assert await _failed_with(second) == "AlreadySubmitted"
    assert (await desk.cases.state(number, reader=None)).status is Status.WITHDRAWN
    assert [event.kind for event in await desk.cases.events(number, reader=None)][-1] == (
        "application_withdrawn"
    )


async def test_no_identity_number_name_or_contact_is_stored_in_plain_text(desk: Desk) -> None:
    """Every payload of the stored history, read without the codec, holds none of them; the search
    attribute is a keyed HMAC, not the plain hash that was inverted in a second."""
    number = await desk.open()
    await desk.cases.act(number, AcceptApplication(actor=OFFICER))
    await desk.cases.act(number, WithdrawApplication(actor=applicant_actor(), reason="撤回"))
    await desk.cases.client.get_workflow_handle(number).result()
    person = applicant()
    secrets = [person.id_number.encode(), person.name.encode(), person.contact.encode()]
    history = await desk.storage.get_workflow_handle(number).fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    assert stored  # the history was read
    assert [secret for secret in secrets if secret in stored] == []
    attributes = (await desk.storage.get_workflow_handle(number).describe()).typed_search_attributes
    applicant_key = attributes.get(search_attributes.APPLICANT_HASH)
    assert applicant_key == kit_security().pseudonyms.of(APPLICANT_ID)
    assert applicant_key != hashlib.sha256(APPLICANT_ID.encode()).hexdigest()[:16]


async def test_the_chain_matches_the_audit_log_until_a_reset_drops_events(desk: Desk) -> None:
    """An intact case verifies; reset to before its withdrawal, the audit log still holds what the reset
    dropped or replaced, and verification names the first event that differs."""
    number = await desk.open()
    await desk.cases.act(number, AcceptApplication(actor=OFFICER))
    await desk.cases.act(number, WithdrawApplication(actor=applicant_actor(), reason="撤回"))
    await desk.cases.client.get_workflow_handle(number).result()
    events = await desk.cases.events(number, reader=None)
    verdict = verify(events, await desk.audit.records(number))
    assert verdict.intact, verdict.problem
    assert verdict.audited == len(events)

    await _reset_before_last_update(desk, number)
    # The reset run replays the case up to the chosen point; what came after is gone from it, or done
    # again with other instants, while the audit log keeps the original digests.
    for _ in range(200):
        after = verify(await desk.cases.events(number, reader=None), await desk.audit.records(number))
        if not after.intact:
            break
        await asyncio.sleep(0.05)
    assert not after.intact
    assert after.first_bad is not None
    assert after.first_bad <= len(events)
    assert "audit log" in after.problem


async def test_onewindow_verify_exits_0_on_an_intact_case_and_5_naming_the_first_bad_event(
    desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's verdict on the same audit log: intact, then after a reset past the withdrawal."""
    number = await desk.open()
    await desk.cases.act(number, WithdrawApplication(actor=applicant_actor(), reason="撤回"))
    await desk.cases.client.get_workflow_handle(number).result()
    audit_log = ["--audit-log", str(desk.audit_path)]
    assert await run(["verify", number, *audit_log], cases=desk.cases) == 0
    assert "intact" in capsys.readouterr().out
    await _reset_before_last_update(desk, number)
    for _ in range(200):
        code = await run(["verify", number, *audit_log], cases=desk.cases)
        printed = capsys.readouterr().out
        if code != 0:
            break
        await asyncio.sleep(0.05)
    assert code == 5
    assert printed.startswith(f"{number}: event ")


async def test_an_unsigned_intake_fails_the_case_unauthenticated_and_frees_its_number(desk: Desk) -> None:
    """A start is in history by nature: the case refuses it at registration, before claiming its number."""
    number = f"SEC-{uuid.uuid4().hex[:10]}"
    handle = await desk.stranger.start_workflow(
        ApplicationWorkflow.run, _intake(), id=number, task_queue=desk.cases.task_queue
    )
    assert await _failed_with(handle) == "Unauthenticated"
    await desk.cases.submit(number, _intake())
    assert (await desk.cases.registered(number, reader=None)).status is Status.RECEIVED


async def test_a_token_printed_by_the_cli_drives_a_case_through_a_raw_client(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    """``onewindow token --as`` gives the assertion a ``temporal workflow update`` would carry."""
    number = await desk.open()
    assert await run(["token", "--as", "window-1:window_officer"]) == 0
    assertion = capsys.readouterr().out.strip()
    handle = desk.stranger.get_workflow_handle_for(ApplicationWorkflow.run, number)
    view = await handle.execute_update(
        ApplicationWorkflow.act, AcceptApplication(actor=OFFICER, assertion=assertion)
    )
    assert view.status is Status.UNDER_REVIEW


async def test_a_rotation_is_an_audited_command_and_only_then_does_a_new_key_count(
    dev_server: WorkflowEnvironment, outbox: Outbox, tmp_path: Path
) -> None:
    """A key added to the trust store counts for a running case only after a supervisor's signed
    revise_trusted_keys, which the log records with the keys now trusted."""
    store = tmp_path / "trusted-keys.json"
    store.write_bytes(kit_security().trusted_keys_file.read_bytes())
    security = dataclasses.replace(kit_security(), trusted_keys_file=store)
    new_key = Signer(Ed25519PrivateKey.generate(), "ed25519-rotated")
    audit = SqliteAuditLog(tmp_path / "audit.sqlite")
    try:
        async with onewindow_worker(dev_server.client, outbox, security=security, audit=audit) as cases:
            number = f"SEC-{uuid.uuid4().hex[:10]}"
            await cases.submit(number, _intake())
            await cases.registered(number, reader=None)
            trust(store, new_key.public_key())
            signed_by_new = AcceptApplication(actor=OFFICER, assertion=new_key.issue(OFFICER, _now()))
            with pytest.raises(Refused) as refused:
                await cases.act(number, signed_by_new)
            assert refused.value.type == "Unauthenticated"
            await cases.act(number, ReviseTrustedKeys(actor=supervisor(), reason="年度密钥轮换"))
            revised = (await cases.events(number, reader=None))[-1]
            assert isinstance(revised, TrustedKeysRevised)
            assert revised.trusted_keys == (*kit_security().trusted_keys().key_ids, "ed25519-rotated")
            assert revised.actor == supervisor()
            view = await cases.act(
                number, AcceptApplication(actor=OFFICER, assertion=new_key.issue(OFFICER, _now()))
            )
            assert view.status is Status.UNDER_REVIEW
            (accepted,) = [
                e for e in await cases.events(number, reader=None) if e.kind == "application_accepted"
            ]
            assert accepted.signed_by == "ed25519-rotated"
    finally:
        audit.close()


async def test_an_unknown_matter_fails_the_case_at_once_though_the_keys_were_read_beside_it(
    desk: Desk,
) -> None:
    """Registration reads the keys, the catalogue and the calendar side by side: the catalogue's refusal
    ends the case typed, once the other reads have ended, and no workflow task fails."""
    number = f"SEC-{uuid.uuid4().hex[:10]}"
    intake = _intake().model_copy(update={"matter_code": "NO-SUCH-MATTER"})
    handle = await desk.cases.client.start_workflow(
        ApplicationWorkflow.run, intake, id=number, task_queue=desk.cases.task_queue
    )
    assert await _failed_with(handle) == "UnknownMatter"
    history = await handle.fetch_history()
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in [event.event_type for event in history.events]


async def test_an_intake_whose_algorithm_does_not_fit_its_key_fails_typed_and_frees_its_number(
    desk: Desk,
) -> None:
    """ES256 under the id of an Ed25519 key: Unauthenticated at once, not a workflow task failing for ever."""
    signer = kit_security().signer
    assert signer is not None
    issued = int(_now().timestamp())
    claims = {"sub": "intake-portal", "role": "system", "iat": issued, "exp": issued + 120}
    p256 = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, p256, algorithm="ES256", headers={"kid": signer.kid})
    number = f"SEC-{uuid.uuid4().hex[:10]}"
    handle = await desk.stranger.start_workflow(
        ApplicationWorkflow.run,
        _intake().model_copy(update={"assertion": forged}),
        id=number,
        task_queue=desk.cases.task_queue,
    )
    assert await _failed_with(handle) == "Unauthenticated"
    await desk.cases.submit(number, _intake())
    assert (await desk.cases.registered(number, reader=None)).status is Status.RECEIVED


async def test_a_claim_someone_else_started_is_refused_typed_instead_of_waited_on(desk: Desk) -> None:
    """``claim:<number>`` squatted by a workflow no worker runs: the case fails NumberClaimCorrupt at once
    (an operator deletes the squatter), rather than waiting for ever."""
    number = f"SEC-{uuid.uuid4().hex[:10]}"
    await desk.stranger.start_workflow("Nothing", id=f"claim:{number}", task_queue="nobody-listens")
    await desk.cases.submit(number, _intake())
    with pytest.raises(Refused) as refused:
        await asyncio.wait_for(desk.cases.registered(number, reader=None), timeout=15)
    assert refused.value.type == "NumberClaimCorrupt"


async def test_an_assertion_lifted_from_one_case_serves_on_no_other(desk: Desk) -> None:
    """The client binds each assertion to its case (``aud``): a copy taken from one history is refused."""
    first, second = await desk.open(), await desk.open()
    signer = kit_security().signer
    assert signer is not None
    lifted = signer.issue(OFFICER, _now(), application_id=first)
    handle = desk.stranger.get_workflow_handle_for(ApplicationWorkflow.run, second)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            ApplicationWorkflow.act, AcceptApplication(actor=OFFICER, assertion=lifted)
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "Unauthenticated"


async def test_an_intake_a_backlog_kept_from_workers_past_its_assertion_is_registered(
    dev_server: WorkflowEnvironment, outbox: Outbox
) -> None:
    """The server took the submission while its assertion was fresh; no worker reached the case until
    the assertion had expired (an intake backlog). It is registered, not refused Unauthenticated."""
    queue, number = f"backlog-{uuid.uuid4().hex[:8]}", f"SEC-{uuid.uuid4().hex[:10]}"
    intake = _intake()
    signer = kit_security().signer
    assert signer is not None
    assertion = signer.issue(intake.actor, _now(), timedelta(seconds=6), application_id=number)
    await kit_cases(dev_server.client, queue).submit(
        number, intake.model_copy(update={"assertion": assertion})
    )
    await asyncio.sleep(8)  # no worker polls the queue meanwhile: the assertion expires unread
    async with onewindow_worker(dev_server.client, outbox, task_queue=queue) as cases:
        view = await asyncio.wait_for(cases.registered(number, reader=None), timeout=60)
    assert view.status is Status.RECEIVED
