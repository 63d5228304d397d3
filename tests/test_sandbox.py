"""The workers' sandbox (``workflows.registry``) refuses what would make a replay differ. Passing every module
through it (``with_passthrough_all_modules``) would be faster and lets both calls below through: this
keeps that trade from being made unnoticed."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError, SandboxedWorkflowRunner

from workflows.registry import WORKFLOW_RUNNER, CaseRunner

with workflow.unsafe.imports_passed_through():
    import random


@workflow.defn(sandboxed=True)
class ReadsTheWallClock:
    """Does what no workflow may: reads the machine's clock or its randomness."""

    @workflow.run
    async def run(self, what: str) -> str:
        if what == "clock":
            return datetime.now().isoformat()  # noqa: DTZ005 - the call under test
        return str(random.random())  # noqa: S311 - the call under test


@pytest.mark.parametrize("what", ["clock", "random"])
async def test_a_nondeterministic_call_fails_the_workflow(dev_server: WorkflowEnvironment, what: str) -> None:
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(
        dev_server.client,
        task_queue=queue,
        workflows=[ReadsTheWallClock],
        workflow_runner=WORKFLOW_RUNNER,
        workflow_failure_exception_types=[RestrictedWorkflowAccessError],
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await dev_server.client.execute_workflow(
                ReadsTheWallClock.run, what, id=f"sandbox-{uuid.uuid4().hex}", task_queue=queue
            )
    assert "RestrictedWorkflowAccessError" in str(failed.value.cause)


def test_what_the_sdk_does_to_a_sandbox_keeps_the_runner_and_its_restrictions() -> None:
    """Debug mode (and a plugin) replace a ``SandboxedWorkflowRunner``'s restrictions with
    ``dataclasses.replace``: the workers' runner is one, and stays ``CaseRunner``, its passthroughs kept."""
    assert isinstance(WORKFLOW_RUNNER, SandboxedWorkflowRunner)
    relaxed = dataclasses.replace(
        WORKFLOW_RUNNER, restrictions=WORKFLOW_RUNNER.restrictions.with_passthrough_modules("_pydevd_bundle")
    )
    assert type(relaxed) is CaseRunner
    assert {"jwt", "cryptography", "_pydevd_bundle"} <= relaxed.restrictions.passthrough_modules
