"""The workflows every onewindow worker runs, and the sandbox they run in."""

from __future__ import annotations

import gc

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

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
# Signature checks and hashes run in workflow code, deterministically; their native modules must be
# imported once per process (a second, sandboxed import of cryptography's Rust core aborts the process).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
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
