"""12345/8890 complaints (DESIGN.md sections 8 and 9): the closed loop's rules, refusals and deadlines, then
the workflow on the time-skipping server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from activities.outbox import Outbox
from tests.builders import (
    approver,
    department_head,
    shipped_catalogue,
    shipped_rules,
    supervisor,
    system,
    window_officer,
)
from tests.case_helpers import registration_failure
from tests.conftest import RunWorker
from tests.test_workflow_acceptance import MONDAY, desk_at, intake_of, until
from workflows.client import Complaints
from workflows.domain.calendar import SHANGHAI, end_of_day
from workflows.domain.catalogue import UnknownComplaintCategory
from workflows.domain.clock import WarningLevel
from workflows.domain.commands import AcceptApplication, Command, RecordApproval
from workflows.domain.complaint import (
    AUTHORISED_ROLES,
    TRANSITIONS,
    Caller,
    ComplaintChannel,
    ComplaintState,
    ComplaintStatus,
    ComplaintView,
    ExtendHandling,
    MergeComplaint,
    RaiseHandlingWarning,
    Rating,
    RecordCallback,
    RedispatchComplaint,
    RegisterComplaint,
    ReplyComplaint,
    ReturnComplaint,
    ReturnWindowPassed,
    SignComplaint,
    SuperviseComplaint,
    decide,
    evolve,
    handling_due,
    handling_marks,
    next_warning,
    report_facts,
    start,
    view_of,
)
from workflows.domain.errors import (
    InvalidCommand,
    NotAllowed,
    NotAuthorised,
    OneWindowError,
    UnknownApplication,
)
from workflows.domain.events import Actor, Role
from workflows.messages import ComplaintIntake
from workflows.testkit import kit_cases

MARKET = "market_regulation"
OPERATOR = Actor(id="hotline-1", role=Role.HOTLINE_OPERATOR)
CALLER = Caller(name="王女士", phone="13800000000")
DISPATCHED = MONDAY  # Monday 2 March 2026, 09:00


def _registration(at_category: str = "business_environment", **changes: Any) -> RegisterComplaint:
    command = RegisterComplaint(
        actor=OPERATOR,
        complaint_id="GD-0001",
        caller=CALLER,
        channel=ComplaintChannel.HOTLINE_12345,
        content="窗口要求重复提交材料",
        category=shipped_catalogue().complaint_category(at_category),
        catalogue_version="test",
        rules=shipped_rules(),
        application_id="APP-0001",
    )
    return command.model_copy(update=changes)


def _registered(at: datetime = DISPATCHED) -> ComplaintState:
    (event,) = decide(None, _registration(), at)
    return start(event)  # type: ignore[arg-type]


def _then(state: ComplaintState, command: Command, at: datetime | None = None) -> ComplaintState:
    for event in decide(state, command, at or state.dispatched_at + timedelta(hours=1)):  # type: ignore[arg-type]
        state = evolve(state, event)
    return state


def _refused(state: ComplaintState | None, command: Command, at: datetime = DISPATCHED) -> OneWindowError:
    with pytest.raises(OneWindowError) as refused:
        decide(state, command, at)  # type: ignore[arg-type]
    return refused.value


def test_the_dispatch_table_sends_each_category_to_its_department_and_refuses_an_unknown_one() -> None:
    """派单 by the catalogue: 不动产登记 goes to natural_resources; a typo is refused, the nearest named."""
    catalogue = shipped_catalogue()
    assert catalogue.complaint_category("real_estate_registration").department == "natural_resources"
    food = catalogue.complaint_category("food_safety")
    assert (food.handling_days, food.extension_days, food.misroute_hours) == (5, 5, 24)
    with pytest.raises(UnknownComplaintCategory, match="food_safety"):
        catalogue.complaint_category("food_safty")


def test_a_hotline_operator_registers_it_and_it_is_dispatched_at_once() -> None:
    """Registered by the hotline only; dispatched to the category's department at registration."""
    state = _registered()
    assert (state.status, state.department, state.dispatched_at) == (
        ComplaintStatus.DISPATCHED,
        MARKET,
        DISPATCHED,
    )
    assert isinstance(_refused(None, _registration(actor=approver(MARKET))), NotAuthorised)
    assert isinstance(_refused(None, _registration(content="   ")), InvalidCommand)
    assert isinstance(_refused(state, _registration()), NotAllowed)


def test_r_cal_1_handling_ends_on_the_fifth_working_day_after_dispatch() -> None:
    """Dispatched Monday 2 March 2026: due 24:00 on Monday 9 March."""
    assert handling_due(_registered()) == end_of_day(date(2026, 3, 9))


def test_r_cal_1_national_day_handling_counts_the_make_up_working_day() -> None:
    """Dispatched 30 September 2026: 10 October is a make-up working day, so due 24:00 on 13 October."""
    assert handling_due(_registered(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))) == end_of_day(
        date(2026, 10, 13)
    )


def test_the_closed_loop_sign_reply_and_a_satisfied_call_back_close_it() -> None:
    state = _then(_registered(), SignComplaint(actor=approver(MARKET)))
    assert state.status is ComplaintStatus.HANDLING
    state = _then(state, ReplyComplaint(actor=approver(MARKET), reply="已责成窗口一次性告知"))
    assert state.status is ComplaintStatus.REPLIED
    assert handling_due(state) is None
    closed = _then(state, RecordCallback(actor=OPERATOR, rating=Rating.BASICALLY_SATISFIED))
    assert (closed.status, closed.closed, closed.rating) == (
        ComplaintStatus.CLOSED,
        True,
        Rating.BASICALLY_SATISFIED,
    )
    assert [r.chinese for r in Rating] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


def test_a_dissatisfied_call_back_reopens_it_with_a_new_period_from_the_reopening() -> None:
    state = _then(_registered(), SignComplaint(actor=approver(MARKET)))
    state = _then(state, ReplyComplaint(actor=approver(MARKET), reply="已处理"))
    reopened_at = datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)  # Thursday
    state = _then(state, RecordCallback(actor=OPERATOR, rating=Rating.VERY_DISSATISFIED), reopened_at)
    assert (state.status, state.reopen_count, state.rating) == (
        ComplaintStatus.HANDLING,
        1,
        Rating.VERY_DISSATISFIED,
    )
    assert handling_due(state) == end_of_day(date(2026, 3, 12))


def test_a_reopening_keeps_a_late_reply_late_and_every_rating_counts() -> None:
    """Replied after the period (due 9 March), reopened 非常不满意, replied in the new period, closed
    基本满意: still late, due 9 March for the figures, and both call-backs counted."""
    state = _then(_registered(), SignComplaint(actor=approver(MARKET)))
    late = datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)
    state = _then(state, ReplyComplaint(actor=approver(MARKET), reply="已处理"), late)
    state = _then(state, RecordCallback(actor=OPERATOR, rating=Rating.VERY_DISSATISFIED), late)
    state = _then(state, ReplyComplaint(actor=approver(MARKET), reply="再次处理"), late + timedelta(days=1))
    state = _then(
        state, RecordCallback(actor=OPERATOR, rating=Rating.BASICALLY_SATISFIED), late + timedelta(days=1)
    )
    facts = report_facts(state)
    assert (facts.on_time, facts.deadline) == (False, end_of_day(date(2026, 3, 9)))
    assert facts.ratings == ("very_dissatisfied", "basically_satisfied")


def test_a_returned_complaint_counts_against_no_department_and_the_hotline_corrects_a_dispatch() -> None:
    returned = _then(_registered(), ReturnComplaint(actor=approver(MARKET), reason="属不动产登记"))
    assert report_facts(returned).departments == ()
    corrected = _then(_registered(), RedispatchComplaint(actor=OPERATOR, department="natural_resources"))
    again = _then(corrected, RedispatchComplaint(actor=OPERATOR, department="urban_management"))
    assert (again.status, again.department) == (ComplaintStatus.DISPATCHED, "urban_management")


def test_only_the_dispatched_department_signs_and_returns_within_its_misroute_hours() -> None:
    state = _registered()
    assert isinstance(_refused(state, SignComplaint(actor=approver("health"))), NotAuthorised)
    assert isinstance(_refused(state, ReturnComplaint(actor=approver(MARKET))), InvalidCommand)  # no reason
    late = DISPATCHED + timedelta(hours=24, minutes=1)
    refused = _refused(state, ReturnComplaint(actor=approver(MARKET), reason="非本部门职责"), late)
    assert isinstance(refused, ReturnWindowPassed)
    returned = _then(state, ReturnComplaint(actor=approver(MARKET), reason="属不动产登记"))
    assert returned.status is ComplaintStatus.RETURNED
    assert handling_due(returned) is None
    same = RedispatchComplaint(actor=OPERATOR, department=MARKET)
    assert isinstance(_refused(returned, same), InvalidCommand)
    redispatched_at = datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)
    again = _then(
        returned, RedispatchComplaint(actor=OPERATOR, department="natural_resources"), redispatched_at
    )
    assert (again.status, again.department, again.readers) == (
        ComplaintStatus.DISPATCHED,
        "natural_resources",
        ("department:natural_resources",),
    )
    assert handling_due(again) == end_of_day(date(2026, 3, 10))
    assert not again.may_read(approver(MARKET))
    assert again.may_read(approver("natural_resources"))


def test_the_department_head_extends_it_once_with_a_reason() -> None:
    state = _then(_registered(), SignComplaint(actor=approver(MARKET)))
    assert isinstance(_refused(state, ExtendHandling(actor=department_head(MARKET))), InvalidCommand)
    assert isinstance(_refused(state, ExtendHandling(actor=approver(MARKET), reason="复杂")), NotAuthorised)
    other = ExtendHandling(actor=department_head("health"), reason="复杂")
    assert isinstance(_refused(state, other), NotAuthorised)
    extended = _then(state, ExtendHandling(actor=department_head(MARKET), reason="需现场核查"))
    assert handling_due(extended) == end_of_day(date(2026, 3, 16))
    again = ExtendHandling(actor=department_head(MARKET), reason="再延")
    assert isinstance(_refused(extended, again), InvalidCommand)


def test_warnings_fire_on_the_handling_period_notice_yellow_red() -> None:
    """5 days: notice at the end of day 4 (one day left), yellow at day 4 (80 %), red at the deadline."""
    marks = handling_marks(_registered())
    assert [(m.level, m.at) for m in marks] == [
        (WarningLevel.NOTICE, end_of_day(date(2026, 3, 6))),
        (WarningLevel.YELLOW, end_of_day(date(2026, 3, 6))),
        (WarningLevel.RED, end_of_day(date(2026, 3, 9))),
    ]
    state = _registered()
    early = RaiseHandlingWarning(actor=system(), level=WarningLevel.NOTICE)
    assert isinstance(_refused(state, early), InvalidCommand)
    state = _then(state, early, end_of_day(date(2026, 3, 6)))
    following = next_warning(state)
    assert following is not None
    assert following.level is WarningLevel.YELLOW


def test_merge_and_joint_supervision() -> None:
    state = _registered()
    assert isinstance(_refused(state, MergeComplaint(actor=OPERATOR, into="GD-0001")), InvalidCommand)
    merged = _then(state, MergeComplaint(actor=OPERATOR, into="GD-0000"))
    assert (merged.status, merged.merged_into, merged.closed) == (ComplaintStatus.MERGED, "GD-0000", True)
    assert isinstance(_refused(merged, SignComplaint(actor=approver(MARKET))), NotAllowed)
    assert isinstance(_refused(state, SuperviseComplaint(actor=supervisor())), InvalidCommand)
    supervised = _then(state, SuperviseComplaint(actor=supervisor(), reason="重点诉求"))
    assert supervised.supervised
    assert isinstance(
        _refused(supervised, SuperviseComplaint(actor=supervisor(), reason="再")), InvalidCommand
    )


def test_a_stranger_learns_nothing_and_the_engines_commands_are_its_own() -> None:
    state = _registered()
    with pytest.raises(UnknownApplication):
        state.admit(SignComplaint(actor=approver("health")))
    with pytest.raises((UnknownApplication, NotAuthorised)):  # a system actor reads no complaint
        state.admit(RaiseHandlingWarning(actor=system(), level=WarningLevel.RED))
    state.admit(SignComplaint(actor=approver(MARKET)))
    state.admit(SuperviseComplaint(actor=supervisor(), reason="x"))


@pytest.mark.parametrize("status", list(ComplaintStatus))
@pytest.mark.parametrize("kind", sorted(AUTHORISED_ROLES))
def test_every_row_of_the_transition_table_names_known_commands(status: ComplaintStatus, kind: str) -> None:
    """The table names only commands the roles table knows, and terminal statuses allow nothing."""
    assert TRANSITIONS[status] <= set(AUTHORISED_ROLES)
    if status in (ComplaintStatus.CLOSED, ComplaintStatus.MERGED):
        assert kind not in TRANSITIONS[status]


def test_the_view_counts_working_days_and_names_the_application() -> None:
    view = view_of(_registered(), datetime(2026, 3, 4, 12, 0, tzinfo=SHANGHAI))
    assert (view.working_days_used, view.working_days_left, view.application_id) == (2, 3, "APP-0001")
    assert view.handling_due_at == end_of_day(date(2026, 3, 9))
    assert "sign_complaint" in view.may_now


# --- on the time-skipping server ------------------------------------------------------------------------


def _intake(category: str = "business_environment", concerns: str | None = None) -> ComplaintIntake:
    return ComplaintIntake(
        actor=OPERATOR,
        caller=CALLER,
        channel=ComplaintChannel.HOTLINE_12345,
        content="审批窗口要求重复提交材料",
        category_code=category,
        concerns=concerns,
    )


async def _until(
    complaints: Complaints, number: str, predicate: Callable[[ComplaintView], bool]
) -> ComplaintView:
    view = await complaints.state(number, reader=None)
    for _ in range(200):
        if predicate(view):
            return view
        await asyncio.sleep(0.025)
        view = await complaints.state(number, reader=None)
    raise AssertionError(f"never reached; last view {view}")


async def _records(outbox: Outbox, system_name: str, number: str, count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        found = [payload for _, payload in outbox.records(system_name, number)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.025)
    return [payload for _, payload in outbox.records(system_name, number)]


async def test_the_whole_closed_loop_with_a_reopening_on_the_time_skipping_server(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """Registered → dispatched → signed → replied → 不满意 → reopened (1) → replied → 满意 → closed."""
    async with desk_at(run_worker, MONDAY) as desk:
        complaints = kit_cases(desk.env.client, desk.task_queue).complaints()
        await complaints.submit("GD-2026-1", _intake())
        view = await complaints.registered("GD-2026-1", reader=None)
        assert (view.status, view.department) == (ComplaintStatus.DISPATCHED, MARKET)
        assert view.handling_due_at == end_of_day(date(2026, 3, 9))
        told = await _records(outbox, "department", "GD-2026-1", 1)
        assert told[0]["notice"] == "complaint_registered"
        assert CALLER.phone not in str(told)
        with pytest.raises(OneWindowError) as stranger:
            await complaints.act("GD-2026-1", SignComplaint(actor=approver("health")))
        assert stranger.value.type == "UnknownApplication"
        await complaints.act("GD-2026-1", SignComplaint(actor=approver(MARKET)))
        await complaints.act("GD-2026-1", ReplyComplaint(actor=approver(MARKET), reply="已整改"))
        view = await complaints.act("GD-2026-1", RecordCallback(actor=OPERATOR, rating=Rating.DISSATISFIED))
        assert (view.status, view.reopen_count) == (ComplaintStatus.HANDLING, 1)
        await complaints.act("GD-2026-1", ReplyComplaint(actor=approver(MARKET), reply="已再次整改"))
        view = await complaints.act("GD-2026-1", RecordCallback(actor=OPERATOR, rating=Rating.SATISFIED))
        assert (view.status, view.closed, view.rating) == (ComplaintStatus.CLOSED, True, Rating.SATISFIED)
        kinds = [event.kind for event in await complaints.events("GD-2026-1", reader=None)]
        assert kinds[-2:] == ["callback_recorded", "complaint_closed"]


async def test_returned_redispatched_and_the_24_hours_passed_on_the_time_skipping_server(
    run_worker: RunWorker,
) -> None:
    async with desk_at(run_worker, MONDAY) as desk:
        complaints = kit_cases(desk.env.client, desk.task_queue).complaints()
        await complaints.submit("GD-2026-2", _intake())
        await complaints.registered("GD-2026-2", reader=None)
        returned = ReturnComplaint(actor=approver(MARKET), reason="属不动产登记")
        view = await complaints.act("GD-2026-2", returned)
        assert view.status is ComplaintStatus.RETURNED
        redispatch = RedispatchComplaint(actor=OPERATOR, department="natural_resources")
        view = await complaints.act("GD-2026-2", redispatch)
        assert (view.status, view.department) == (ComplaintStatus.DISPATCHED, "natural_resources")
        await desk.env.sleep(timedelta(hours=25))
        late = ReturnComplaint(actor=approver("natural_resources"), reason="非本部门")
        with pytest.raises(OneWindowError) as refused:
            await complaints.act("GD-2026-2", late)
        assert refused.value.type == "ReturnWindowPassed"


async def test_handling_warnings_escalate_red_and_the_extension_and_supervision_on_the_server(
    run_worker: RunWorker, outbox: Outbox
) -> None:
    """Notice and yellow at the end of day 4, red (督办) at the end of day 5 in the supervision outbox; a
    second complaint is extended (+5) and jointly supervised; a third is merged."""
    async with desk_at(run_worker, MONDAY) as desk:
        complaints = kit_cases(desk.env.client, desk.task_queue).complaints()
        await complaints.submit("GD-2026-3", _intake())
        await complaints.submit("GD-2026-4", _intake())
        await complaints.submit("GD-2026-5", _intake())
        await complaints.registered("GD-2026-3", reader=None)
        await complaints.act("GD-2026-4", SignComplaint(actor=approver(MARKET)))
        extend = ExtendHandling(actor=department_head(MARKET), reason="需现场核查")
        view = await complaints.act("GD-2026-4", extend)
        assert (view.extended, view.handling_due_at) == (True, end_of_day(date(2026, 3, 16)))
        view = await complaints.act("GD-2026-4", SuperviseComplaint(actor=supervisor(), reason="重点诉求"))
        assert view.supervised
        merged = await complaints.act("GD-2026-5", MergeComplaint(actor=OPERATOR, into="GD-2026-3"))
        assert (merged.status, merged.merged_into) == (ComplaintStatus.MERGED, "GD-2026-3")

        await desk.env.sleep(end_of_day(date(2026, 3, 9)) - await desk.now() + timedelta(minutes=1))
        view = await _until(complaints, "GD-2026-3", lambda v: v.warning_level is WarningLevel.RED)
        assert view.working_days_left == 0
        escalated = await _records(outbox, "supervision", "GD-2026-3", 1)
        assert [(e["action"], e["subject"]) for e in escalated] == [("escalate", "handling")]
        levels = [
            e.level
            for e in await complaints.events("GD-2026-3", reader=None)
            if e.kind == "handling_warning_raised"
        ]
        assert levels == [WarningLevel.NOTICE, WarningLevel.YELLOW, WarningLevel.RED]
        pushed = await _records(outbox, "supervision", "GD-2026-4", 1)
        assert [(p["action"], p["result"]) for p in pushed] == [("result", "joint_supervision")]
        extended = await complaints.state("GD-2026-4", reader=None)
        assert extended.warning_level is not WarningLevel.RED  # its deadline is 16 March


async def test_a_complaint_about_an_application_shows_in_its_events_and_view(run_worker: RunWorker) -> None:
    """The application reads the complaint that says it concerns it and records the link; a complaint
    naming no application that exists is refused at registration, its number free again."""
    async with desk_at(run_worker, MONDAY) as desk:
        cases = kit_cases(desk.env.client, desk.task_queue)
        await cases.submit("APP-GD-1", intake_of("FOOD-BUSINESS", await desk.now()))
        await cases.registered("APP-GD-1", reader=None)
        complaints = cases.complaints()
        await complaints.submit("GD-2026-6", _intake(concerns="APP-GD-1"))
        await complaints.registered("GD-2026-6", reader=None)
        handle = desk.env.client.get_workflow_handle("APP-GD-1")
        view = await until(handle, lambda v: v.complaints == ("GD-2026-6",), "linked")
        assert view.complaints == ("GD-2026-6",)
        linked = [e for e in await cases.events("APP-GD-1", reader=None) if e.kind == "complaint_linked"]
        assert [(e.complaint_id, e.department) for e in linked] == [("GD-2026-6", MARKET)]
        assert CALLER.phone not in str(linked)
        await cases.act("APP-GD-1", AcceptApplication(actor=window_officer()))
        await cases.act("APP-GD-1", RecordApproval(actor=approver(MARKET), step=MARKET, approved=True))
        await until(handle, lambda v: v.closed, "closed")
        closed = await cases.state("APP-GD-1", reader=None)  # no visibility here: the log's links only
        assert closed.complaints == ("GD-2026-6",)

        await complaints.submit("GD-2026-7", _intake(concerns="APP-NOT-THERE"))
        failed = await registration_failure(desk.env.client.get_workflow_handle("GD-2026-7"))
        assert failed.type == "UnknownApplication"
        await complaints.submit("GD-2026-7", _intake())  # the number is free again
        assert (await complaints.registered("GD-2026-7", reader=None)).application_id is None


async def test_a_forged_signal_links_nothing(run_worker: RunWorker) -> None:
    """Anyone may say a complaint concerns a case; the case links only a complaint that names it."""
    async with desk_at(run_worker, MONDAY) as desk:
        cases = kit_cases(desk.env.client, desk.task_queue)
        await cases.submit("APP-GD-2", intake_of("FOOD-BUSINESS", await desk.now()))
        await cases.registered("APP-GD-2", reader=None)
        complaints = cases.complaints()
        await complaints.submit("GD-2026-8", _intake())  # about no application
        await complaints.registered("GD-2026-8", reader=None)
        handle = desk.env.client.get_workflow_handle("APP-GD-2")
        for forged in ("GD-2026-8", "APP-GD-2", "no-such-complaint", {"x": 1}, "长" * 500):
            await handle.signal("complaint_filed", forged)
        await complaints.submit("GD-2026-9", _intake(concerns="APP-GD-2"))
        view = await until(handle, lambda v: bool(v.complaints), "linked")
        assert view.complaints == ("GD-2026-9",)


async def test_merging_needs_an_open_complaint_and_a_failed_one_freezes_no_case(
    run_worker: RunWorker,
) -> None:
    """并单 into a complaint that does not exist or is closed is refused; a complaint that failed to
    register, named in a signal, is read as none at once and the case goes on linking real ones; a
    stranger learns nothing of which application numbers exist."""
    async with desk_at(run_worker, MONDAY) as desk:
        cases = kit_cases(desk.env.client, desk.task_queue)
        complaints = cases.complaints()
        await complaints.submit("GD-M-1", _intake())
        await complaints.registered("GD-M-1", reader=None)
        with pytest.raises(OneWindowError) as nowhere:
            await complaints.act("GD-M-1", MergeComplaint(actor=OPERATOR, into="GD-NOWHERE"))
        assert nowhere.value.type == "UnknownApplication"
        await complaints.submit("GD-M-2", _intake())
        await complaints.registered("GD-M-2", reader=None)
        await complaints.act("GD-M-2", MergeComplaint(actor=OPERATOR, into="GD-M-1"))
        with pytest.raises(OneWindowError, match="closed or merged"):
            await complaints.act("GD-M-1", MergeComplaint(actor=OPERATOR, into="GD-M-2"))

        await cases.submit("APP-F-1", intake_of("FOOD-BUSINESS", await desk.now()))
        await cases.registered("APP-F-1", reader=None)
        await complaints.submit("GD-BAD-1", _intake(concerns="APP-NOT-THERE"))
        assert (await registration_failure(desk.env.client.get_workflow_handle("GD-BAD-1"))).type == (
            "UnknownApplication"
        )
        handle = desk.env.client.get_workflow_handle("APP-F-1")
        await handle.signal("complaint_filed", "GD-BAD-1")
        await complaints.submit("GD-OK-1", _intake(concerns="APP-F-1"))
        assert (await until(handle, lambda v: bool(v.complaints), "linked")).complaints == ("GD-OK-1",)

        stranger = Actor(id="91210200MA0000000X", role=Role.APPLICANT)
        for number, concerns in (("GD-S-1", "APP-F-1"), ("GD-S-2", "APP-NOT-THERE")):
            await complaints.submit(number, _intake(concerns=concerns).model_copy(update={"actor": stranger}))
            failed = await registration_failure(desk.env.client.get_workflow_handle(number))
            assert failed.type == "NotAuthorised"  # the same answer, whether the number exists or not
