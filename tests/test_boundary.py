"""No request can harm a case (issue 7): every start and update payload a stranger may send, through a raw
Temporal client, is refused with a typed error or applied; no workflow task ever fails, and every case
still answers its ``state`` query afterwards.

The unit tests decode payloads without a server. The fuzz runs on the embedded dev server, which refuses
an update over 1 MiB before any worker sees it (``workflows.boundary.SERVER_DYNAMIC_CONFIG``); hypothesis
draws the categories issue 7 lists (malformed bytes, unknown encodings, lone surrogates, oversized and
control-laden strings, words for booleans, numbers for instants, unknown kinds and fields) and random JSON.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.enums.v1 import EventType, UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import Input, Meta, WaitPolicy
from temporalio.api.update.v1 import Request as UpdateRequest
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import RawValue, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.outbox import Outbox
from tests.builders import APPLICANT_ID, all_materials
from workflows.application_workflow import ApplicationWorkflow
from workflows.boundary import MAX_MESSAGE_BYTES, MAX_REFUSAL_CHARS, decode
from workflows.domain.application import PEOPLE_COMMANDS
from workflows.domain.commands import ApplicationCommand
from workflows.domain.errors import OneWindowError
from workflows.domain.events import Role
from workflows.messages import NOT_YET_REGISTERED, Intake
from workflows.testkit import onewindow_worker

pytestmark = pytest.mark.devserver

COMMANDS: TypeAdapter[ApplicationCommand] = TypeAdapter(ApplicationCommand)


def _error_types(root: type[OneWindowError]) -> set[str]:
    found = {root.__name__}
    for sub in root.__subclasses__():
        found |= _error_types(sub)
    return found


# Every type a refusal may carry: the domain's errors (and the client's, which share the root).
TYPED_REFUSALS = _error_types(OneWindowError) | {NOT_YET_REGISTERED}


def _raw(data: bytes, encoding: bytes = b"json/plain") -> RawValue:
    return RawValue(Payload(metadata={"encoding": encoding} if encoding else {}, data=data))


def _intake(**changes: Any) -> dict[str, Any]:
    return {
        "actor": {"id": "intake-portal", "role": "system"},
        "applicant": {"id_number": APPLICANT_ID, "name": "大连示例食品有限公司", "contact": "0411-0000000"},
        "matter_code": "FOOD-BUSINESS",
        "materials": list(all_materials("FOOD-BUSINESS")[:-1]),
        "channel": "online",
        "received_at": datetime.now(UTC).isoformat(),
    } | changes


# --- decoding, without a server ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (_raw(b'{"kind": "accept_application"', b"json/plain"), "Invalid JSON"),
        (_raw(b'{"kind": "accept_application"}', b"binary/plain"), "encoding json/plain"),
        (_raw(b'{"kind": "accept_application"}', b""), "encoding json/plain"),
        (_raw(b'"\\ud800"'), "Invalid JSON"),
        (_raw(b"\xff\xfe{}"), "Invalid JSON"),
        (_raw(b'{"kind": "x", "pad": "' + b"a" * MAX_MESSAGE_BYTES + b'"}'), "at most 65536"),
        (
            _raw(
                b'{"kind": "record_approval", "actor": {"id": "a", "role": "approver", "department": "x"},'
                b' "step": "health", "approved": "yes"}'
            ),
            "approved: Input should be a valid boolean",
        ),
        (_raw(b'{"kind": "launch_rocket", "actor": {"id": "a", "role": "applicant"}}'), "kind: one of"),
    ],
    ids=[
        "truncated",
        "binary-encoding",
        "no-encoding",
        "lone-surrogate",
        "not-utf8",
        "oversized",
        "yes",
        "kind",
    ],
)
def test_a_payload_that_is_not_a_valid_command_is_refused_invalid_command_saying_why(
    payload: RawValue, says: str
) -> None:
    """The refusal is typed, says what is wrong, and is short."""
    with pytest.raises(ApplicationError) as refused:
        decode(payload, COMMANDS, "command", PEOPLE_COMMANDS)
    assert refused.value.type == "InvalidCommand"
    assert says in refused.value.message
    assert len(refused.value.message) <= MAX_REFUSAL_CHARS


def test_a_refusal_never_repeats_what_it_was_given() -> None:
    """A 60 KB field name or value is not echoed back (an echo could exceed Temporal's payload limit)."""
    secret = "秘" * 20_000
    body = {"kind": "withdraw_application", "actor": {"id": "a", "role": "applicant"}, secret: secret}
    with pytest.raises(ApplicationError) as refused:
        decode(_raw(json.dumps(body, ensure_ascii=False).encode()), COMMANDS, "command", PEOPLE_COMMANDS)
    assert "秘" * 41 not in refused.value.message
    assert len(refused.value.message) <= MAX_REFUSAL_CHARS


# --- through a raw client, on the dev server --------------------------------------------------------


@dataclass
class Target:
    """The dev server's client, a worker's task queue, and one long-lived case to throw updates at."""

    client: Client
    task_queue: str
    case: WorkflowHandle[Any, Any]


FIGURES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_outbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outbox]:
    """The outbox of the module's worker."""
    store = Outbox(Path(tmp_path_factory.mktemp("fuzz")) / "outbox.sqlite")
    yield store
    store.close()


@pytest.fixture(scope="module")
async def target(dev_server: WorkflowEnvironment, fuzz_outbox: Outbox) -> AsyncIterator[Target]:
    """onewindow's worker on the dev server, and a case received now that every update is tried on."""
    async with onewindow_worker(dev_server.client, fuzz_outbox) as cases:
        case_id = f"FUZZ-{uuid.uuid4().hex[:8]}"
        await dev_server.client.start_workflow(
            "ApplicationWorkflow",
            _raw(json.dumps(_intake()).encode()),
            id=case_id,
            task_queue=cases.task_queue,
        )
        await cases.registered(case_id)
        yield Target(dev_server.client, cases.task_queue, dev_server.client.get_workflow_handle(case_id))


async def _answers(handle: WorkflowHandle[Any, Any]) -> None:
    """The case answers its state query (a frozen case answers 'Workflow Task in failed state')."""
    await asyncio.wait_for(handle.query("state"), timeout=10)


async def _no_task_failed(handle: WorkflowHandle[Any, Any]) -> None:
    events = [event.event_type async for event in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in events


async def _update_once(target: Target, payload: RawValue) -> None:
    """The ``act`` update sent as one raw request: the SDK client would retry the server's refusal of an
    oversized update (RESOURCE_EXHAUSTED) as a transient error for many seconds."""
    request = UpdateWorkflowExecutionRequest(
        namespace=target.client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=target.case.id),
        request=UpdateRequest(
            meta=Meta(update_id=str(uuid.uuid4()), identity="fuzz"),
            input=Input(name="act", args=Payloads(payloads=[payload.payload])),
        ),
        wait_policy=WaitPolicy(
            lifecycle_stage=UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
        ),
    )
    response = await target.client.workflow_service.update_workflow_execution(request, retry=False)
    if response.outcome.HasField("failure"):
        raise WorkflowUpdateFailedError(ApplicationError(response.outcome.failure.message))


async def _outcome(update: Awaitable[object]) -> str:
    """'applied', or the type of the refusal."""
    try:
        await update
    except WorkflowUpdateFailedError as failed:
        return _typed(failed.cause) or f"untyped: {failed.cause}"
    return "applied"


async def _settled(handle: WorkflowHandle[Any, Any]) -> str:
    """A new case's fate: the type it failed with, or 'registered' (then ended, to leave nothing behind)."""
    for _ in range(200):
        if (await handle.describe()).status is WorkflowExecutionStatus.FAILED:
            try:
                await handle.result()
            except WorkflowFailureError as failed:
                return _typed(failed) or f"untyped: {failed.cause}"
        try:
            await handle.query("state")
        except WorkflowQueryFailedError:  # not registered yet
            await asyncio.sleep(0.025)
            continue
        await handle.terminate("fuzz: a valid intake drawn by chance")
        return "registered"
    return "neither failed nor registered"


def _typed(error: BaseException) -> str | None:
    """The domain type of a failure, wherever in its cause chain it is."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type:
            assert len(cause.message) <= MAX_REFUSAL_CHARS
            return cause.type
        cause = cause.cause if isinstance(cause, FailureError) else cause.__cause__
    return None


_NASTY_TEXT = st.one_of(
    st.text(max_size=24),
    st.sampled_from(
        ["", " ", "w1\u200b", "\ud800", "ｗ1", "\x00", '"', "'", "\\", "公示", "yes", "2026-11-26"]
    ),
    st.integers(100, 80_000).map(lambda n: "x" * n),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _NASTY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_NASTY_TEXT, children, max_size=4),
    max_leaves=10,
)
_NASTY = st.one_of(
    _NASTY_TEXT,
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.lists(_NASTY_TEXT, max_size=70),
    _JSON,
)
_ACTOR = st.fixed_dictionaries(
    {"id": _NASTY_TEXT, "role": st.sampled_from([*(role.value for role in Role), "king"])},
    optional={"department": _NASTY, "name": _NASTY},
)
_FIELDS = (
    "reason",
    "missing",
    "materials",
    "step",
    "approved",
    "pause",
    "expected_working_days",
    "working_days",
    "supplement_within",
    "commitment",
    "competent_organ",
    "green_channel",
    "steward",
    "credit",
    "surplus",
)
_COMMAND_LIKE = st.fixed_dictionaries(
    {
        "kind": st.sampled_from([*PEOPLE_COMMANDS, "deem_accepted", "issue_licence", "raise_warning", "x"]),
        "actor": st.one_of(_ACTOR, _NASTY),
    },
    optional=dict.fromkeys(_FIELDS, _NASTY),
)
_INTAKE_LIKE = st.builds(
    lambda changes: _intake(**changes),
    st.dictionaries(
        st.sampled_from(
            [
                "actor",
                "applicant",
                "matter_code",
                "materials",
                "channel",
                "received_at",
                "green_channel",
                "steward",
                "surplus",
            ]
        ),
        _NASTY,
        max_size=3,
    ),
)


def _encoded(document: object, ascii_only: bool) -> bytes:
    """JSON as Python writes it (lone surrogates as \\ud800 escapes), or as raw UTF-8 that may not decode."""
    if ascii_only:
        return json.dumps(document).encode()
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")


_PAYLOADS = st.one_of(
    st.builds(lambda doc, ascii_only: _raw(_encoded(doc, ascii_only)), _COMMAND_LIKE | _JSON, st.booleans()),
    st.builds(_raw, st.binary(max_size=200)),
    st.builds(lambda doc, cut: _raw(json.dumps(doc).encode()[:cut]), _COMMAND_LIKE, st.integers(0, 40)),
    st.builds(
        lambda doc, encoding: _raw(json.dumps(doc).encode(), encoding),
        _COMMAND_LIKE,
        st.sampled_from([b"binary/plain", b"json/protobuf", b"binary/null", b""]),
    ),
)
_FUZZ = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@_FUZZ
@given(payload=_PAYLOADS)
async def test_any_update_payload_is_refused_typed_or_applied_and_the_case_keeps_answering(
    target: Target, payload: RawValue
) -> None:
    """Whatever a stranger sends as ``act``, the answer is a typed refusal (or, by chance, it is valid)."""
    FIGURES["update payloads"] += 1
    outcome = await _outcome(target.case.execute_update("act", payload))
    assert outcome in {*TYPED_REFUSALS, "applied"}, outcome
    FIGURES["updates applied" if outcome == "applied" else "updates refused"] += 1
    await _answers(target.case)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_INTAKE_LIKE | _JSON, ascii_only=st.booleans())
async def test_any_start_payload_fails_the_case_at_once_with_a_typed_error_or_registers_it(
    target: Target, document: object, ascii_only: bool
) -> None:
    """A start whose input does not decode ends the case with a typed failure, its number free again."""
    FIGURES["start payloads"] += 1
    case_id = f"FUZZ-START-{uuid.uuid4().hex[:10]}"
    handle = await target.client.start_workflow(
        "ApplicationWorkflow", _raw(_encoded(document, ascii_only)), id=case_id, task_queue=target.task_queue
    )
    outcome = await _settled(handle)
    assert outcome in {*TYPED_REFUSALS, "registered"}, outcome
    FIGURES["starts registered" if outcome == "registered" else "starts refused"] += 1
    await _no_task_failed(handle)


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b'"\\ud800"',
        json.dumps(_intake(received_at="9999-12-31T00:00:00+08:00")).encode(),
        json.dumps(_intake(received_at="1900-01-01T00:00:00+08:00")).encode(),
        json.dumps(_intake(received_at=1764118800)).encode(),
    ],
    ids=["malformed", "lone-surrogate", "year-9999", "year-1900", "number-for-instant"],
)
async def test_an_intake_that_cannot_be_decoded_closes_the_case_at_once_and_frees_its_number(
    target: Target, data: bytes
) -> None:
    """Failed with InvalidCommand, no task failure; the same number then opens a proper case."""
    case_id = f"FUZZ-BAD-{uuid.uuid4().hex[:8]}"
    handle = await target.client.start_workflow(
        "ApplicationWorkflow", _raw(data), id=case_id, task_queue=target.task_queue
    )
    assert await _settled(handle) == "InvalidCommand"
    await _no_task_failed(handle)
    again = await target.client.start_workflow(
        ApplicationWorkflow.run,
        Intake.model_validate(_intake()),
        id=case_id,
        task_queue=target.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    )
    await asyncio.sleep(0.2)
    await _answers(again)
    await again.terminate("done")


@pytest.mark.parametrize(
    ("size", "refused"), [(500_000, WorkflowUpdateFailedError), (1_500_000, RPCError), (2_500_000, RPCError)]
)
async def test_an_oversized_update_is_refused_and_the_case_keeps_answering(
    target: Target, size: int, refused: type[Exception]
) -> None:
    """A 500 KB reason on a withdrawal is refused by the case; 1.5 and 2.5 MB by the server, before any
    worker sees it (an update that large would otherwise come back too large to refuse, and freeze it)."""
    actor = {"id": APPLICANT_ID, "role": "applicant"}
    body = {"kind": "withdraw_application", "actor": actor, "reason": "x" * size}
    with pytest.raises(refused):
        await _update_once(target, _raw(json.dumps(body).encode()))
    await _answers(target.case)
    assert (await target.case.query(ApplicationWorkflow.state)).status.value == "received"


async def test_a_signal_with_anything_attached_changes_nothing_and_fails_no_task(target: Target) -> None:
    """calendar_revised carries nothing; arguments a sender adds, even malformed, are ignored."""
    await target.case.signal("calendar_revised", "junk")
    await target.case.signal("calendar_revised", args=[{"a": 1}, 2, [3]])
    await target.case.signal("calendar_revised", _raw(b"{not json"))
    await asyncio.sleep(0.3)
    await _answers(target.case)


async def test_after_all_of_it_no_workflow_task_failed_and_every_case_answers(target: Target) -> None:
    """The fuzzed case's history holds no failed workflow task; the figures of the run are printed."""
    await _answers(target.case)
    await _no_task_failed(target.case)
    print(f"\nboundary fuzz: {dict(FIGURES)}")
