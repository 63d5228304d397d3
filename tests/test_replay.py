"""Determinism guard: recorded histories replay on the current workflow code without divergence.

The recordings in ``tests/histories/`` come from earlier versions of the code (see its ``record.py``): a
change that would break the cases running when it is deployed fails here.
"""

from __future__ import annotations

import importlib.abc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType

import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from tests.conftest import RunWorker, StartAt
from tests.histories.record import (
    NUMBERS,
    RECEIVED,
    RECORDING_KEYS,
    drive_reference_cases,
    drive_reference_commitment,
    drive_reference_complaints,
    drive_reference_consultation,
    drive_reference_establishment,
    drive_reference_green,
    drive_reference_office,
    drive_reference_project,
    drive_reference_woken,
    recording_keys,
)
from workflows import compiled_once
from workflows.codec import PayloadKeys, data_converter
from workflows.messages import EffectBatch
from workflows.orchestration import VERSIONS_OF_8_DECEMBER
from workflows.registry import WORKFLOWS
from workflows.testkit import kit_security, onewindow_replayer

RECORDINGS = sorted(
    path for path in (Path(__file__).parent / "histories").glob("*.json") if path != RECORDING_KEYS
)
# Recordings from before issue 8 are plain JSON, later ones encrypted with the recordings' public key;
# the histories run now, with the kit's key.
_KEYS = PayloadKeys(
    kit_security().payload_keys.current,
    dict(kit_security().payload_keys.items()) | dict(recording_keys().items()),
)
_CONVERTER = data_converter(_KEYS)
REPLAYER = onewindow_replayer(_CONVERTER)


@pytest.mark.parametrize("recording", RECORDINGS, ids=[path.stem for path in RECORDINGS])
async def test_a_history_recorded_by_an_earlier_version_replays_on_this_code(recording: Path) -> None:
    """A case running across a deployment carries on: this code gives the same commands in the same order."""
    result = await REPLAYER.replay_workflow(_recorded(recording), raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_a_replay_runs_afresh_only_the_workflow_classes_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sandbox runs the modules of a case's workflow class and its bases again for every case it
    creates; a pure module imported by a workflow is passed through, imported once per worker."""
    run: list[str] = []
    loader = compiled_once._CompiledOnceLoader
    exec_module = loader.exec_module

    def counted(self: importlib.abc.Loader, module: ModuleType) -> None:
        run.append(module.__name__)
        exec_module(self, module)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "exec_module", counted)
    results = await REPLAYER.replay_workflows(_every_recording(), raise_on_replay_failure=False)
    assert not results.replay_failures
    workflow_modules = {base.__module__ for workflow in WORKFLOWS for base in workflow.__mro__}
    assert "workflows.application_workflow" in run
    assert set(run) <= workflow_modules | {"workflows"}


def _recorded(recording: Path) -> WorkflowHistory:
    """A recording's history, under the case's own number (REF-FOOD for ...-food.json): a case's commands
    name it (its number's claim)."""
    number = NUMBERS[recording.stem.rsplit("-", 1)[1]]
    return WorkflowHistory.from_json(number, recording.read_text(encoding="utf-8"))


async def _every_recording() -> AsyncIterator[WorkflowHistory]:
    """Every recording's history, as ``Replayer.replay_workflows`` takes them (an async iterator)."""
    for recording in RECORDINGS:
        yield _recorded(recording)


def test_there_are_recordings_to_replay() -> None:
    """The parametrised test above must not pass by having nothing to replay."""
    assert len(RECORDINGS) >= 14


Drive = Callable[[WorkflowEnvironment, str], Awaitable[dict[str, WorkflowHistory]]]


async def _run_now(drive: Drive, time_skipping_at: StartAt, run_worker: RunWorker) -> list[WorkflowHistory]:
    """The reference cases ``drive`` makes, run on this code from the recordings' instant; each replayed."""
    async with time_skipping_at(RECEIVED) as env, run_worker(env.client) as task_queue:
        histories = list((await drive(env, task_queue)).values())
    for history in histories:
        assert (await REPLAYER.replay_workflow(history, raise_on_replay_failure=False)).replay_failure is None
        assert _patches(history) == [VERSIONS_OF_8_DECEMBER], history.workflow_id  # one marker, every version
    return histories


def _patches(history: WorkflowHistory) -> list[str]:
    """The patch markers a history records, in order (each also costs an upsert of its own)."""
    return [
        json.loads(event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"
    ]


@pytest.mark.parametrize(
    ("drive", "activities"),
    [
        # Deadline plans, warnings, a suspension, an extension, 容缺, green channel and issuance.
        (drive_reference_cases, {"issue_licence", "escalate", "set_case_priority", "notify_applicant"}),
        # A project whose matters are started, read, paused and ended with it, and one matter.
        (drive_reference_project, {"read_parts", "read_project", "perform_effects", "notify_applicant"}),
        # 告知承诺制: the credit check at registration, a verification warning, a finding, the revocation.
        (drive_reference_commitment, {"check_credit", "revoke_licence", "write_credit_record"}),
        # 催办, 转办, 退回 and the supplement, 加签, 或签 and the decisions.
        (drive_reference_office, {"notify_department", "push_to_supervision", "issue_licence"}),
        # 提前介入: a consultation, and the green-channel application whose registration reads its
        # findings and holds its steward's slot.
        (
            drive_reference_consultation,
            {"read_consultation", "notify_department", "hold_steward", "release_steward"},
        ),
        # A green-channel case that accepts, waits past a warning and is decided.
        (drive_reference_green, {"notify_applicant", "issue_licence"}),
        # 12345/8890: a complaint checked against its application, read and linked by it, reopened and
        # closed; another returned, re-dispatched, escalated and merged.
        (
            drive_reference_complaints,
            {"concerned_application", "read_complaint", "notify_department", "escalate"},
        ),
        # Two deadlines due at one wake: both recorded in one task, their effects in one activity.
        (drive_reference_woken, {"perform_effects", "escalate", "issue_licence"}),
    ],
    ids=["cases", "project", "commitment", "office", "consultation", "green", "complaints", "woken"],
)
async def test_the_reference_cases_as_run_now_replay_deterministically(
    time_skipping_at: StartAt, run_worker: RunWorker, drive: Drive, activities: set[str]
) -> None:
    """What each reference drive exercises, run now and replayed without divergence."""
    histories = await _run_now(drive, time_skipping_at, run_worker)
    kinds = {kind for history in histories for kind in await _calls_made(history)}
    assert activities <= kinds


async def _calls_made(history: WorkflowHistory) -> set[str]:
    """The activities a history schedules, and the calls its effect batches make (as their own
    activities would)."""
    kinds = set()
    for event in history.events:
        if not event.HasField("activity_task_scheduled_event_attributes"):
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        kinds.add(scheduled.activity_type.name)
        if scheduled.activity_type.name == "perform_effects":
            (batch,) = await _CONVERTER.decode(scheduled.input.payloads, [EffectBatch])
            kinds |= {call.activity for call in batch.calls}
    return kinds


async def test_a_reference_establishment_as_run_now_replays_deterministically(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    """An establishment through its credit code (claimed), its parallel matters, the bank and the release."""
    (history,) = await _run_now(drive_reference_establishment, time_skipping_at, run_worker)
    markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")]
    assert markers, "the credit code's claim is a local activity"
