"""The workflows every onewindow worker runs, and the sandbox they run in."""

from __future__ import annotations

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
