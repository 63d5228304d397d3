"""Enterprise establishment end to end on the time-skipping server (DESIGN.md sections 7 and 9): one form,
one window, one working day from acceptance; business registration first, the credit code, the rest in
parallel, the bank tracked, one release."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.builders import all_materials, applicant, applicant_actor, approver, window_officer
from tests.conftest import RunWorker, StartAt
from tests.test_workflow_project import child, child_act
from workflows.domain.calendar import SHANGHAI
from workflows.domain.clock import day_under_way
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.credit_code import is_valid
from workflows.domain.establishment import (
    AcceptEstablishment,
    EstablishmentCommand,
    EstablishmentProgress,
    EstablishmentStatus,
    ReleaseResults,
    TrackService,
    WithdrawEstablishment,
)
from workflows.domain.events import Channel
from workflows.establishment_workflow import EstablishmentWorkflow
from workflows.messages import ProjectIntake

Handle = WorkflowHandle[EstablishmentWorkflow, EstablishmentProgress]
OFFICER = window_officer("window-kaiban-1")
FEBRUARY_13 = datetime(2026, 2, 13, 9, 30, tzinfo=SHANGHAI)  # a Friday; Saturday 02-14 is worked
PARALLEL = ("seal_engraving", "tax_invoice", "social_insurance_registration", "housing_fund_registration")


async def open_establishment(env: WorkflowEnvironment, task_queue: str) -> Handle:
    intake = ProjectIntake(
        actor=OFFICER,
        applicant=applicant(),
        materials=all_materials("ENTERPRISE-ESTABLISH"),
        channel=Channel.WINDOW,
        received_at=await env.get_current_time(),
        matter_code="ENTERPRISE-ESTABLISH",
    )
    return await env.client.start_workflow(
        EstablishmentWorkflow.run, intake, id=f"EST-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )


async def until(
    handle: Handle, wanted: Callable[[EstablishmentProgress], bool], what: str
) -> EstablishmentProgress:
    progress = None
    for _ in range(300):
        try:
            progress = await handle.query(EstablishmentWorkflow.state)
        except Exception:
            progress = None
        if progress is not None and wanted(progress):
            return progress
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} never reached {what}: {progress}")


async def act(handle: Handle, command: EstablishmentCommand) -> EstablishmentProgress:
    await until(handle, lambda _: True, "registration")
    try:
        return await handle.execute_update(EstablishmentWorkflow.act, command)
    except WorkflowUpdateFailedError as error:
        raise AssertionError(f"{command.kind} was refused: {error.cause}") from error


def registered(codes: tuple[str, ...]) -> Callable[[EstablishmentProgress], bool]:
    return lambda p: all(i.status not in ("started", "not_started") for i in p.items if i.code in codes)


async def decide(env: WorkflowEnvironment, number: str, item: str, department: str) -> None:
    handle = await child(env, f"{number}.{item}")
    await child_act(handle, AcceptApplication(actor=OFFICER))
    await child_act(handle, RecordApproval(actor=approver(department), step=department, approved=True))


async def test_an_enterprise_accepted_on_02_13_is_due_at_the_end_of_the_02_14_make_up_saturday(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    async with time_skipping_at(FEBRUARY_13) as env, run_worker(env.client) as task_queue:
        establishment = await open_establishment(env, task_queue)
        progress = await act(establishment, AcceptEstablishment(actor=OFFICER))
        assert progress.status is EstablishmentStatus.REGISTERING
        assert progress.due_at is not None
        assert day_under_way(progress.due_at) == date(2026, 2, 14)  # R-CAL-1: the make-up Saturday
        await until(establishment, registered(("business_licence",)), "registration's application")
        with pytest.raises(WorkflowUpdateFailedError) as early:  # the bank needs the licence first
            await establishment.execute_update(
                EstablishmentWorkflow.act,
                TrackService(actor=OFFICER, item="bank_account_appointment", reference="BANK-1"),
            )
        assert isinstance(early.value.cause, ApplicationError)
        assert early.value.cause.type == "NotAllowed"
        await decide(env, establishment.id, "business_licence", "market_regulation")
        progress = await until(establishment, registered(PARALLEL), "the parallel matters registered")
        assert progress.status is EstablishmentStatus.IN_PARALLEL
        assert progress.credit_code is not None
        assert is_valid(progress.credit_code)
        assert progress.credit_code.startswith("91210200")
        departments = {
            "seal_engraving": "public_security",
            "tax_invoice": "tax",
            "social_insurance_registration": "human_resources_social_security",
            "housing_fund_registration": "housing_fund",
        }
        for item, department in departments.items():
            await decide(env, establishment.id, item, department)
        waiting = await until(
            establishment,
            lambda p: all(i.status == "issued" for i in p.items if i.code in PARALLEL),
            "issued",
        )
        assert waiting.status is EstablishmentStatus.IN_PARALLEL  # the bank appointment is still owed
        bank = next(i for i in waiting.items if i.code == "bank_account_appointment")
        assert bank.status == "awaiting_service"
        ready = await act(
            establishment, TrackService(actor=OFFICER, item="bank_account_appointment", reference="BANK-1")
        )
        assert ready.status is EstablishmentStatus.READY
        released = await act(establishment, ReleaseResults(actor=OFFICER))
        assert released.status is EstablishmentStatus.RELEASED
        final = await asyncio.wait_for(establishment.result(), timeout=30)
        events = await establishment.query(EstablishmentWorkflow.events)
    assert final.working_days_used <= 1
    assert [i.status for i in final.items] == ["issued", "issued", "issued", "issued", "issued", "tracked"]
    assert [e.kind for e in events if e.kind in ("credit_code_assigned", "results_released")] == [
        "credit_code_assigned",
        "results_released",
    ]


async def test_withdrawing_an_establishment_ends_its_open_matters(
    time_skipping_at: StartAt, run_worker: RunWorker
) -> None:
    async with time_skipping_at(FEBRUARY_13) as env, run_worker(env.client) as task_queue:
        establishment = await open_establishment(env, task_queue)
        await act(establishment, AcceptEstablishment(actor=OFFICER))
        await until(establishment, registered(("business_licence",)), "registration's application")
        await act(establishment, WithdrawEstablishment(actor=applicant_actor(), reason="不再开办"))
        final = await asyncio.wait_for(establishment.result(), timeout=30)
    assert final.status is EstablishmentStatus.WITHDRAWN
    assert next(i for i in final.items if i.code == "business_licence").status == "ended_with_project"
