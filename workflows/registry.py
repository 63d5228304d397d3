"""The workflows every onewindow worker runs, and the sandbox they run in."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    SerializationContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
    WorkflowSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import Info

from workflows import compiled_once
from workflows.application_workflow import ApplicationWorkflow
from workflows.complaint_workflow import ComplaintWorkflow
from workflows.consultation_workflow import ConsultationWorkflow
from workflows.credit_register import CreditRegister
from workflows.establishment_workflow import EstablishmentWorkflow
from workflows.number_claim import NumberClaim
from workflows.project_workflow import ProjectWorkflow
from workflows.steward_register import StewardLoad

WORKFLOWS = (
    ApplicationWorkflow,
    ProjectWorkflow,
    EstablishmentWorkflow,
    ConsultationWorkflow,
    ComplaintWorkflow,
    NumberClaim,
    CreditRegister,
    StewardLoad,
)
# The sandbox re-imports a workflow's module for every case; it shares the compiled code, not the module.
compiled_once.install()


class _CaseInSandbox(WorkflowInstance):
    """A sandboxed case that tells the SDK itself which serialization and storage context a payload has.

    The SDK asks the serialization context for each payload field a workflow task carries in or out, and
    the storage context for each on the way out, and the sandbox answers each question by compiling and
    running a line of code inside it: 23 % of the worker's main thread in a (d) profile (BENCHMARKS.md).
    The answers pick the codec a payload goes through and where it would be stored outside the history,
    and onewindow's are the same for every context: its payload codec takes none and nothing is stored
    externally (``test_codec`` checks both), and the SDK's converter for a task's payloads consults only
    those two (temporalio 1.35's ``_CommandAwareDataConverter``: check it again on an upgrade). So the
    case's own contexts, the SDK's answers for payloads no command owns, are the answers for all.
    Everything else is the sandbox's.
    """

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self._sandboxed = sandboxed
        info = sandboxed.get_info()
        self._context = WorkflowSerializationContext(namespace=info.namespace, workflow_id=info.workflow_id)
        self._store = StorageDriverStoreContext(
            target=StorageDriverWorkflowInfo(
                id=info.workflow_id, run_id=info.run_id, type=info.workflow_type, namespace=info.namespace
            )
        )

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._sandboxed.activate(act)

    def get_serialization_context(self, command_info: CommandInfo | None) -> SerializationContext | None:
        return self._context

    def get_external_store_context(self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        return self._store

    def get_info(self) -> Info:
        return self._sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self._sandboxed.get_thread_id()


@dataclass(frozen=True)
class CaseRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox, whose cases answer the SDK's questions of context outside it. A subclass, so
    that what the SDK does to a sandbox (debug mode's passthroughs, a plugin's) it still does to this one."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CaseInSandbox(super().create_instance(det))


# Signature checks and hashes run in workflow code, deterministically; their native modules must be
# imported once per process (a second, sandboxed import of cryptography's Rust core aborts the process).
#
# A workflow module imports what it passes through by the module's full name (``import workflows.x as x``,
# ``from workflows.x import y``): ``from workflows import x`` asks the sandbox for the package, which it has
# already re-run for the case, and Python then runs ``x`` afresh beside it, unasked (``test_replay`` lists
# which modules a replay runs again).
WORKFLOW_RUNNER = CaseRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("jwt", "cryptography")
)

# The cases a worker keeps in memory between their tasks (Temporal's sticky cache; the SDK's default is
# 1,000). Reads come from the memo (``workflows.read_model``), so the cache serves the cases that are moving.
# With 10,000 open, 300 held decisions to p99 95 ms where 1,000 held 707 ms: each cached case adds some 500
# objects that every full collection of the garbage collector walks, pausing the worker's one thread.
CACHED_CASES = 300


def freeze_start_up_heap() -> None:
    """Leave what a worker loaded as it started (modules, catalogue, calendar, keys: some 100,000 objects
    that live as long as the process) out of every later garbage collection, which then walks only what
    cases made. Called once, when the worker is ready to poll."""
    gc.collect()
    gc.freeze()
