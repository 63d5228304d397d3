"""Builders shared by the test suites: actors, a submission for a matter, and a case driven to any status.

Everything here goes through ``decide`` and ``evolve``, so a state built for a test is one the engine could
really reach; nothing constructs an ``ApplicationState`` by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pytest

from workflows.domain.application import ApplicationState, Status, decide, evolve, start
from workflows.domain.calendar import SHANGHAI
from workflows.domain.catalogue import Catalogue, Importance, Matter
from workflows.domain.clock import DeadlineRules
from workflows.domain.commands import (
    AbandonApplication,
    AcceptApplication,
    AcceptWithDeficiencies,
    ApplicationCommand,
    CreditStanding,
    EndWithProject,
    IssueLicence,
    RecordApproval,
    ReferElsewhere,
    RejectApplication,
    RequestCorrection,
    ReturnToWindow,
    RevocationCause,
    RevokeLicence,
    SubmitApplication,
    SuspendClock,
    VerifyCommitment,
    WithdrawApplication,
)
from workflows.domain.events import (
    Actor,
    Applicant,
    ApplicationEvent,
    ApplicationSubmitted,
    Channel,
    Role,
)
from workflows.reference_data import CALENDAR_DIRS_VARIABLE, load_calendar, load_catalogue

# A Monday, an ordinary working day in 2026, so no calendar rule muddies a domain test.
RECEIVED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
APPLICANT_ID = "91210200MA0000001X"
WINDOW_OFFICER_ID = "window-1"
STEWARD_ID = "steward-1"
COMMITMENT = "告知承诺书-0001"  # the applicant's signed written commitment (告知承诺制)
APPLICANT_KEY = "0123456789abcdef"  # the applicant's keyed pseudonym, as a worker would make it


@cache
def shipped_catalogue() -> Catalogue:
    """The catalogue shipped in ``workflows/data/catalogue.toml``, loaded once per test session."""
    return load_catalogue()


@cache
def shipped_rules() -> DeadlineRules:
    """The deadline rules a case pins: the shipped calendar (every year it holds), default thresholds."""
    with pytest.MonkeyPatch.context() as patch:  # a developer's own calendar directories must not count
        patch.delenv(CALENDAR_DIRS_VARIABLE, raising=False)
        return DeadlineRules(calendar=load_calendar().snapshot(2004))


def shipped_matter(code: str) -> Matter:
    """One entry (``CODE`` or ``CODE.VARIANT``) of the shipped catalogue."""
    return shipped_catalogue().matter(code)


# --- actors ----------------------------------------------------------------------------------------------


def applicant(id_number: str = APPLICANT_ID) -> Applicant:
    """The legal person applying."""
    return Applicant(id_number=id_number, name="大连示例科技有限公司", contact="0411-0000000")


def applicant_actor(id_number: str = APPLICANT_ID) -> Actor:
    """The applicant acting on their own case (their actor id is their identity number)."""
    return Actor(id=id_number, role=Role.APPLICANT)


def steward(actor_id: str = STEWARD_ID) -> Actor:
    """A green-channel steward (项目管家)."""
    return Actor(id=actor_id, role=Role.STEWARD)


def window_officer(actor_id: str = WINDOW_OFFICER_ID) -> Actor:
    """A front-desk officer of the one window."""
    return Actor(id=actor_id, role=Role.WINDOW_OFFICER)


def approver(department: str, actor_id: str | None = None) -> Actor:
    """A back-office approver of ``department``; by default one person per department."""
    return Actor(id=actor_id or f"approver-{department}", role=Role.APPROVER, department=department)


def department_head(department: str) -> Actor:
    """The head of ``department`` (R-XK-42a extensions)."""
    return Actor(id=f"head-{department}", role=Role.DEPARTMENT_HEAD, department=department)


def government_leader() -> Actor:
    """A leader of the people's government at this level (R-XK-42b extensions)."""
    return Actor(id="leader-1", role=Role.GOVERNMENT_LEADER)


def supervisor() -> Actor:
    """An officer of the business-environment bureau (营商局): designates key projects, supervises."""
    return Actor(id="supervisor-1", role=Role.SUPERVISOR)


def system() -> Actor:
    """The engine itself: timers."""
    return Actor(id="onewindow", role=Role.SYSTEM)


def intake_system() -> Actor:
    """The online service hall (一网通办) submitting applications."""
    return Actor(id="intake-portal", role=Role.SYSTEM)


def actor_in(role: Role, department: str = "market_regulation") -> Actor:
    """Someone in ``role``; department roles get ``department``."""
    needs_department = role in (Role.APPROVER, Role.DEPARTMENT_HEAD)
    return Actor(id=f"{role.value}-1", role=role, department=department if needs_department else None)


# --- commands and cases ----------------------------------------------------------------------------------


def all_materials(matter_code: str) -> tuple[str, ...]:
    """Every material a shipped matter asks for: a complete application."""
    return tuple(m.code for m in shipped_matter(matter_code).materials)


def secondary_materials(matter: Matter) -> tuple[str, ...]:
    """The codes the matter marks secondary, the only ones 容缺 tolerates missing."""
    return tuple(m.code for m in matter.materials if m.importance is Importance.SECONDARY)


def submit(
    matter: Matter,
    *,
    materials: tuple[str, ...] | None = None,
    actor: Actor | None = None,
    received_at: datetime = RECEIVED_AT,
    green_channel: bool = False,
    assigned_steward: Actor | None = None,
    simulated: bool = False,
    committed: bool = False,
) -> SubmitApplication:
    """A submission of ``matter`` by the applicant (by the intake system for a green-channel case: an
    applicant does not designate their own), with every material unless ``materials`` says; ``committed``
    on a written 告知承诺 commitment (its proofs left out) of an applicant in good credit."""
    if materials is None:
        materials = tuple(m.code for m in matter.materials if not (committed and m.replaced_by_commitment))
    return SubmitApplication(
        actor=actor or (intake_system() if green_channel else applicant_actor()),
        application_id="APP-0001",
        applicant=applicant(),
        matter=matter,
        catalogue_version=shipped_catalogue().version,
        rules=shipped_rules(),
        materials=materials,
        channel=Channel.WINDOW,
        received_at=received_at,
        green_channel=green_channel,
        steward=assigned_steward,
        applicant_key=APPLICANT_KEY,
        simulated=simulated,
        commitment=COMMITMENT if committed else None,
        credit=CreditStanding(eligible=True) if committed else None,
        internal_targets=True,  # as the engine registers cases now
    )


@dataclass(frozen=True)
class Case:
    """An application as the engine holds it: its event log and the state folded from it."""

    events: tuple[ApplicationEvent, ...]
    state: ApplicationState

    @property
    def now(self) -> datetime:
        """The instant the next command is decided at: one minute per event after receipt."""
        return RECEIVED_AT + timedelta(minutes=len(self.events))


def opened(command: SubmitApplication) -> Case:
    """The case a submission opens."""
    (event,) = decide(None, command, command.received_at)
    assert isinstance(event, ApplicationSubmitted)
    return Case(events=(event,), state=start(event))


def then(case: Case, command: ApplicationCommand) -> Case:
    """The case after ``command`` is decided at ``case.now`` and its events are applied."""
    new = decide(case.state, command, case.now)
    state = case.state
    for event in new:
        state = evolve(state, event)
    return Case(events=case.events + new, state=state)


def drive_to(  # noqa: PLR0911, PLR0912 - one path per status, read top to bottom
    status: Status,
    matter: Matter,
    *,
    deficient: bool = False,
    simulated: bool = False,
    committed: bool = False,
) -> Case:
    """A case of ``matter`` brought to ``status`` by the usual people through ``decide``/``evolve``.

    ``deficient`` leaves the matter's secondary materials (lacking any, its last material) out of the
    submission; from acceptance on, the case is accepted with deficiencies (容缺) and they stay
    outstanding. ABANDONED is reached only through a broken 容缺 promise, so it is always deficient; so is
    REVOKED, unless ``committed`` (a 告知承诺 commitment found untrue), and CORRECTION_REQUESTED, which the
    complete supplement leaves for RECEIVED (R-XK-32).
    """
    deficient = deficient or status is Status.ABANDONED or (status is Status.REVOKED and not committed)
    left_out = secondary_materials(matter) or (matter.materials[-1].code,)
    if not (deficient or status is Status.CORRECTION_REQUESTED):
        left_out = ()
    replaced = matter.commitment_proofs if committed else ()
    materials = tuple(m.code for m in matter.materials if m.code not in (*left_out, *replaced))
    case = opened(submit(matter, materials=materials, simulated=simulated, committed=committed))
    officer = window_officer()
    match status:
        case Status.RECEIVED:
            return case
        case Status.CORRECTION_REQUESTED:
            return then(case, RequestCorrection(actor=officer, missing=left_out))
        case Status.NOT_ACCEPTED:
            return then(case, RejectApplication(actor=officer, reason="申请事项依法不需要取得行政许可"))
        case Status.REFERRED:
            return then(case, ReferElsewhere(actor=officer, competent_organ="省市场监督管理局"))
        case Status.WITHDRAWN:
            return then(case, WithdrawApplication(actor=applicant_actor()))
        case Status.ENDED_WITH_PROJECT:
            return then(case, EndWithProject(actor=system(), reason="项目已撤回", project_status="withdrawn"))
    if deficient:
        acceptance: ApplicationCommand = AcceptWithDeficiencies(
            actor=officer,
            missing=left_out,
            supplement_within=max(matter.limit, 1),
            commitment="容缺承诺-0001",
            credit=CreditStanding(eligible=True),
        )
    else:
        acceptance = AcceptApplication(actor=officer)
    case = then(case, acceptance)
    match status:
        case Status.UNDER_REVIEW:
            return case
        case Status.SUSPENDED:
            reviewing = case.state.pending_steps[0].department
            return then(
                case, SuspendClock(actor=approver(reviewing), pause="expert_review", expected_working_days=5)
            )
        case Status.RETURNED:
            reviewing = case.state.pending_steps[0].department
            back = ReturnToWindow(
                actor=approver(reviewing),
                materials=(materials[0],),
                supplement_within=1,
                reason="申请书未签字，请重新提交",
            )
            return then(case, back)
        case Status.ABANDONED:
            return then(case, AbandonApplication(actor=system()))
        case Status.DENIED:
            step = case.state.pending_steps[0]
            refusal = RecordApproval(
                actor=approver(step.department), step=step.code, approved=False, reason="不符合法定条件"
            )
            return then(case, refusal)
    while case.state.pending_steps:
        for step in case.state.pending_steps:
            case = then(case, RecordApproval(actor=approver(step.department), step=step.code, approved=True))
    if status is Status.APPROVED:
        return case
    case = then(case, IssueLicence(actor=system(), licence_number="LIC-0001"))
    if status is Status.ISSUED:
        return case
    if committed:
        case = then(case, found_untrue(matter))
        return then(case, RevokeLicence(actor=system(), cause=RevocationCause.COMMITMENT))
    return then(case, RevokeLicence(actor=system()))


def found_untrue(matter: Matter) -> VerifyCommitment:
    """The department's verification finding a 告知承诺 commitment untrue."""
    return VerifyCommitment(
        actor=approver(matter.departments[0]), kept=False, reason="现场核查：经营布局与承诺不符"
    )
