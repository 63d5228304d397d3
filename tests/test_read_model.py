"""A case's state in its memo (``workflows.read_model``): the same view its query gives, encrypted, written
only when it changes, and readable with no worker running (so no read replays the case)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from tests.builders import (
    APPLICANT_ID,
    Case,
    all_materials,
    applicant,
    approver,
    drive_to,
    shipped_matter,
    window_officer,
)
from tests.conftest import RunWorker
from workflows import read_model
from workflows.application_workflow import ApplicationWorkflow
from workflows.client import UnknownApplication
from workflows.domain.application import Status
from workflows.domain.commands import AcceptApplication
from workflows.domain.events import Actor, Channel, Role
from workflows.messages import ApplicationView, Intake, ReadRequest
from workflows.read_model import APPLICATION_READS
from workflows.server_limits import DYNAMIC_CONFIG
from workflows.testkit import kit_cases

MATTER = "ENTERPRISE-ESTABLISH"  # reaches every status
STRANGER = approver("natural_resources")  # a department the matter does not name


def _case(status: Status) -> Case:
    return drive_to(status, shipped_matter(MATTER))


@pytest.mark.parametrize("status", list(Status), ids=lambda status: status.value)
def test_the_memo_gives_back_the_state_it_was_written_from(status: Status) -> None:
    """Every status, its state written to the memo's parts and read back: the same state, the same view."""
    state = _case(status).state
    kept = APPLICATION_READS.state_of(APPLICATION_READS.changes(state))
    assert kept == state
    at = state.received_at + timedelta(days=3)
    assert APPLICATION_READS.view_for(kept, at, reader=None) == ApplicationView.of(state, at)


def test_the_pinned_rules_are_written_apart_and_again_only_when_they_change() -> None:
    """The calendar (most of a state) is an entry of its own, so a change rewrites only the rest: a few KB."""
    received = _case(Status.RECEIVED).state
    accepted = _case(Status.UNDER_REVIEW).state
    first = APPLICATION_READS.changes(received)
    assert set(first) == {"state", "state.rules"}
    assert "rules" not in first["state"]
    assert len(str(first["state"])) < 8 * 1024
    assert set(APPLICATION_READS.changes(accepted, received)) == {"state"}
    revised = accepted.model_copy(update={"rules": accepted.rules.model_copy(update={"warnings": None})})
    assert set(APPLICATION_READS.changes(revised, accepted)) == {"state", "state.rules"}


def test_the_most_a_change_writes_stays_under_the_servers_memo_warning() -> None:
    """A first change (the state at its bound and the rules) is under the warning the dev server is given,
    so the server logs no warning per change; a state beyond the bound is not written at all."""
    first = APPLICATION_READS.changes(_case(Status.RECEIVED).state)
    rules = len(json.dumps(first["state.rules"]).encode())
    assert read_model.MAX_STATE_BYTES + rules + 1024 < DYNAMIC_CONFIG["limit.memoSize.warn"]


def test_a_reader_the_case_does_not_concern_gets_nothing() -> None:
    """The scope is the query's: a stranger None, a reader of the case its view."""
    state = _case(Status.UNDER_REVIEW).state
    at = state.received_at
    assert APPLICATION_READS.view_for(state, at, STRANGER) is None
    assert APPLICATION_READS.view_for(state, at, window_officer()) == ApplicationView.of(state, at)


def test_a_state_too_large_for_a_memo_is_left_out_and_read_through_the_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the bound the entry is removed (``None``), never half-written; the reader then asks the case."""
    monkeypatch.setattr(read_model, "MAX_STATE_BYTES", 100)
    parts = APPLICATION_READS.changes(_case(Status.RECEIVED).state)
    assert parts["state"] is None
    assert APPLICATION_READS.state_of(parts) is None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda parts: {},  # a case from before STATE_IN_MEMO, or not registered yet
        lambda parts: {"state": parts["state"]},  # the rules missing
        lambda parts: {**parts, "state": {**parts["state"], "status": "no such status"}},
        lambda parts: {**parts, "state": "not a state"},
    ],
    ids=["empty", "no rules", "unreadable", "not an object"],
)
def test_a_memo_without_a_readable_state_says_so(spoil: object) -> None:
    """None, not an error: the client falls back to the query, which answers or says why not."""
    parts = APPLICATION_READS.changes(_case(Status.RECEIVED).state)
    assert callable(spoil)
    assert APPLICATION_READS.state_of(spoil(parts)) is None


def _intake() -> Intake:
    return Intake(
        actor=Actor(id="intake-portal", role=Role.SYSTEM),
        applicant=applicant(),
        matter_code=MATTER,
        materials=all_materials(MATTER),
        channel=Channel.ONLINE,
        received_at=datetime.now(UTC),
    )


@pytest.mark.devserver
async def test_a_case_is_read_from_its_memo_encrypted_in_history_with_no_worker_running(
    dev_server: WorkflowEnvironment, run_worker: RunWorker
) -> None:
    """The view the memo gives equals the query's after each change; the memo's payloads hold no personal
    data in clear; the rules are written once; and with the worker stopped the case is still read."""
    number = f"MEMO-{uuid.uuid4().hex[:8]}"
    handle = dev_server.client.get_workflow_handle(number)
    async with run_worker(dev_server.client) as task_queue:
        cases = kit_cases(dev_server.client, task_queue)
        await cases.submit(number, _intake())
        await cases.registered(number, reader=None)
        for step in (None, AcceptApplication(actor=window_officer())):
            if step is not None:
                await cases.act(number, step)
            at = datetime.now(UTC)
            asked = await handle.query(ApplicationWorkflow.state_for, ReadRequest(reader=None, at=at))
            assert await cases.state(number, at, reader=None) == asked
        last = await cases.state(number, at, reader=window_officer())
    history = await handle.fetch_history()
    modified = [
        event.workflow_properties_modified_event_attributes.upserted_memo.fields
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED
    ]
    assert len(modified) >= 2  # registered, then accepted
    assert [fields for fields in modified if "state.rules" in fields] == modified[:1]  # the rules once
    for fields in modified:
        for payload in fields.values():
            assert payload.metadata["encoding"] == b"binary/encrypted"
            assert APPLICANT_ID.encode() not in payload.data
    async with asyncio.timeout(10):  # no worker: a query would wait for one; the memo needs none
        assert await cases.state(number, at, reader=window_officer()) == last
        with pytest.raises(UnknownApplication):
            await cases.state(number, at, reader=STRANGER)
