"""The whole 90-working-day construction project under time skipping: its wall time, stage by stage.

Four stages from 2026-01-05: every matter accepted at the window and, two to four weeks later, approved by
each of its departments, side by side as 并联审批 has it (9 applications, 15 decisions); three weeks of the
applicant's time between stages and six months of building before completion acceptance, all skipped.
The figure is wall time.

    .venv/bin/python -m bench.project [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from workflows.client import Cases, Projects, UnknownApplication
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.domain.project import AcceptStage, ProjectProgress, ProjectStatus, SubmitStage
from workflows.messages import ProjectIntake
from workflows.reference_data import load_catalogue
from workflows.registry import freeze_start_up_heap
from workflows.testkit import onewindow_test_environment

START = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
OFFICER = Actor(id="bench-window", role=Role.WINDOW_OFFICER)
APPLICANT = Applicant(id_number="91210200MA00000B1X", name="压测置业有限公司", contact="0411")
# What the applicant does between stages, in days of the calendar: preparing materials, then building.
BETWEEN_STAGES = (timedelta(days=21), timedelta(days=21), timedelta(days=183))
# How long the departments take over each stage's matters, in days of the calendar.
REVIEW = (timedelta(days=28), timedelta(days=21), timedelta(days=14), timedelta(days=14))


async def _until(projects: Projects, number: str, done: Callable[[ProjectProgress], bool]) -> ProjectProgress:
    while True:
        progress = await projects.state(number, reader=None)
        if done(progress):
            return progress
        await asyncio.sleep(0.02)


async def _accept(cases: Cases, application_id: str) -> None:
    """Accept a matter's application at the window once the project has started it."""
    while True:
        try:
            await cases.act(application_id, AcceptApplication(actor=OFFICER))
            return
        except UnknownApplication:  # not started yet: the project starts it in a moment
            await asyncio.sleep(0.01)


async def _stage(env: WorkflowEnvironment, cases: Cases, projects: Projects, number: str, index: int) -> None:
    """Accept stage ``index``, decide every matter, and wait for the project to complete the stage."""
    progress = await projects.act(number, AcceptStage(actor=OFFICER))
    matters = progress.stages[index].matters
    # 并联审批: the window accepts every matter as soon as its application exists, side by side.
    await asyncio.gather(*(_accept(cases, f"{number}.{m.code}") for m in matters))
    await env.sleep(REVIEW[index])
    await asyncio.gather(
        *(
            cases.act(f"{number}.{m.code}", RecordApproval(actor=_approver(d), step=d, approved=True))
            for m in matters
            for d in m.departments
        )
    )
    await _until(projects, number, lambda p: p.stages[index].status == "completed")


def _approver(department: str) -> Actor:
    return Actor(id=f"bench-{department}", role=Role.APPROVER, department=department)


async def one_project() -> tuple[float, list[float], ProjectProgress]:
    """The wall time of one whole project, of each stage, and its final progress."""
    matter = load_catalogue().matter("CONSTRUCTION-PROJECT")
    materials = [tuple(m.code for m in matter.stage_materials(stage)) for stage in matter.stages]
    async with onewindow_test_environment(START) as kit:
        freeze_start_up_heap()  # as worker.py does once it polls
        cases, projects = kit.cases, kit.cases.projects()
        number = f"BENCH-{uuid.uuid4().hex[:8]}"
        began = time.perf_counter()
        intake = ProjectIntake(
            actor=OFFICER,
            applicant=APPLICANT,
            materials=materials[0],
            channel=Channel.WINDOW,
            received_at=await kit.env.get_current_time(),
            matter_code=matter.code,
        )
        await projects.submit(number, intake)
        stages = []
        for index in range(len(matter.stages)):
            stage_began = time.perf_counter()
            if index:
                await kit.env.sleep(BETWEEN_STAGES[index - 1])
                applicant = Actor(id=APPLICANT.id_number, role=Role.APPLICANT)
                await projects.act(number, SubmitStage(actor=applicant, materials=materials[index]))
            await _stage(kit.env, cases, projects, number, index)
            stages.append(time.perf_counter() - stage_began)
        final = await _until(projects, number, lambda p: p.status is ProjectStatus.COMPLETED)
        return time.perf_counter() - began, stages, final


async def main(rounds: int) -> None:
    """``rounds`` whole projects, one after another, each on a fresh time-skipping server."""
    results = [await one_project() for _ in range(rounds)]
    totals = [total for total, _, _ in results]
    _, stages, final = results[-1]
    print("whole 90-working-day project under time skipping (wall seconds)")
    median = statistics.median(totals)
    print(f"  rounds {rounds}: min {min(totals):.2f}  median {median:.2f}  max {max(totals):.2f}")
    for stage, seconds in zip(final.stages, stages, strict=True):
        used = f"{stage.working_days_used} of {stage.working_days_budget} days"
        print(f"  {stage.code:<24} {seconds:6.2f} s  {used}")
    print(
        f"  counted {final.working_days_used} of {final.working_days_budget} working days;"
        f" {final.working_days_elapsed} elapsed; status {final.status.value}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
