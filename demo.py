"""``make demo``: with ``make run`` up, open a few cases, walk part of each, and show the window's view.

Four matters that exist in the catalogue: a 1-day enterprise establishment, a 5-day real-estate mortgage
registration, a 20-day outdoor-advertising permit, and a food licence accepted with a deficiency (容缺).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime

from workflows.client import Cases, connect_cases, exit_process
from workflows.domain.calendar import SHANGHAI, deadline_text
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ApplicationCommand,
    RecordApproval,
    RequestCorrection,
)
from workflows.domain.events import Actor, Applicant, Channel, Role
from workflows.messages import ApplicationView, Intake
from workflows.reference_data import load_catalogue

UI = "http://localhost:8233/namespaces/default/workflows"
PORTAL = Actor(id="dalian-portal", role=Role.SYSTEM, name="大连政务服务网")
OFFICER = Actor(id="window-07", role=Role.WINDOW_OFFICER, name="综合窗口 7号")
REGISTRAR = Actor(id="wang.li", role=Role.APPROVER, department="market_regulation", name="王丽")


def _materials(matter_code: str, *, leave_out_secondary: bool = False) -> tuple[str, ...]:
    matter = load_catalogue().matter(matter_code)
    kept = [m for m in matter.materials if not (leave_out_secondary and m.importance == "secondary")]
    return tuple(m.code for m in kept)


def _secondary(matter_code: str) -> tuple[str, ...]:
    return tuple(
        m.code for m in load_catalogue().matter(matter_code).materials if m.importance == "secondary"
    )


async def _open(cases: Cases, number: str, matter_code: str, name: str, materials: tuple[str, ...]) -> None:
    applicant = Applicant(
        id_number=f"91210200DEMO{uuid.uuid4().hex[:6].upper()}", name=name, contact="0411-0000000"
    )
    intake = Intake(
        actor=PORTAL,
        applicant=applicant,
        matter_code=matter_code,
        materials=materials,
        channel=Channel.ONLINE,
        received_at=datetime.now(UTC),
    )
    await cases.submit(number, intake)


async def _walk(
    cases: Cases, number: str, first: ApplicationCommand, *then: ApplicationCommand
) -> ApplicationView:
    """Give the commands in order (an update waits until the case is registered); the last view."""
    view = await cases.act(number, first)
    for command in then:
        view = await cases.act(number, command)
    return view


def _row(view: ApplicationView) -> str:
    due = deadline_text(view.due_at) if view.due_at else "-"
    left = "-" if view.working_days_left is None else str(view.working_days_left)
    next_steps = ", ".join(action.command for action in view.pending_actions) or "-"
    columns = f"{view.application_id:<28} {view.matter_code:<22} {view.status:<21} {due:<16} {left:>4}"
    return f"{columns}  {next_steps}"


async def demo() -> None:
    """Open the four cases, walk them, print the window officer's list."""
    cases = await connect_cases()
    run = datetime.now(SHANGHAI).strftime("%m%d-%H%M%S")
    enterprise, mortgage, advert, food = (f"DEMO-{run}-{n}" for n in ("ENT", "RE", "AD", "FOOD"))
    await _open(
        cases,
        enterprise,
        "ENTERPRISE-ESTABLISH",
        "大连示例科技有限公司（设立）",
        _materials("ENTERPRISE-ESTABLISH"),
    )
    await _open(
        cases, mortgage, "REAL-ESTATE.mortgage", "张三（抵押登记）", _materials("REAL-ESTATE.mortgage")
    )
    advert_materials = _materials("OUTDOOR-ADVERTISING")
    await _open(cases, advert, "OUTDOOR-ADVERTISING", "大连示例广告有限公司", advert_materials[:-1])
    await _open(
        cases,
        food,
        "FOOD-BUSINESS",
        "大连海鲜餐饮有限公司",
        _materials("FOOD-BUSINESS", leave_out_secondary=True),
    )

    views = [
        await _walk(
            cases,
            enterprise,
            AcceptApplication(actor=OFFICER),
            RecordApproval(actor=REGISTRAR, step="business_licence", approved=True, reason="核准设立登记"),
        ),
        await _walk(cases, mortgage, AcceptApplication(actor=OFFICER)),
        await _walk(cases, advert, RequestCorrection(actor=OFFICER, missing=advert_materials[-1:])),
    ]
    views.append(
        await _walk(
            cases,
            food,
            AcceptWithDeficiencies(
                actor=OFFICER,
                missing=_secondary("FOOD-BUSINESS"),
                supplement_within=5,
                commitment="容缺受理承诺书 DEMO-001",
            ),
        )
    )
    print("What window 7 sees (due = 24:00 Shanghai of the last working day; left = working days):\n")
    print(f"{'application':<28} {'matter':<22} {'status':<21} {'due':<16} {'left':>4}  next")
    for view in views:
        print(_row(view))
    print(f"\nEvery case, its history and its timers: {UI}")
    print(f"Audit trail of one case: .venv/bin/onewindow events {enterprise} --as zhao.min:supervisor")


def main() -> int:
    """Run the demo; a one-line error if the server is not up."""
    try:
        asyncio.run(demo())
    except (RuntimeError, OSError) as error:
        print(
            f"error: cannot reach Temporal on localhost:7233 ({error}); start it with `make run`",
            file=sys.stderr,
        )
        return 4
    return 0


if __name__ == "__main__":
    exit_process(main())
