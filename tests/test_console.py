"""The console without a server: its Chinese is total over the engine's codes, its forms write exactly
the API's bodies, its notices are the events that made them, and its door (sign-in, sessions, forms'
anti-forgery tokens) refuses before the engine is asked (``NoEngine`` fails the test if it is)."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi.exceptions import RequestValidationError
from temporalio.client import Client

from gateway import errors as gateway_errors
from gateway.app import create_app
from gateway.bodies import APPLICATION_BODIES
from gateway.console import STATIC, labels
from gateway.console.forms import FORMS, body_of_form, problems_in_chinese
from gateway.console.messages import Names, in_chinese
from gateway.console.pages import COOKIE, START_PAGES
from gateway.limits import RateLimiter, RateLimits
from gateway.sessions import MAX_SESSIONS, MAX_SESSIONS_PER_ACTOR, Sessions, SessionsFull
from tests.builders import (
    Case,
    approver,
    department_head,
    government_leader,
    opened,
    shipped_catalogue,
    shipped_matter,
    submit,
    then,
    window_officer,
)
from tests.test_gateway import SUPERVISOR, TOKENS, NoEngine, client_of
from workflows.client import Cases
from workflows.domain import errors as domain_errors
from workflows.domain.application import Status, notice_number
from workflows.domain.clock import WarningLevel, WarningSubject
from workflows.domain.commands import (
    AcceptApplication,
    AcceptWithDeficiencies,
    ApplicationCommand,
    CreditStanding,
    ExtendDeadline,
    RecordApproval,
    RejectApplication,
    RequestCorrection,
    SupplementMaterials,
)
from workflows.domain.complaint import ComplaintStatus
from workflows.domain.events import ApplicationEvent, Role
from workflows.domain.notices import NoticeKind, notices
from workflows.domain.project import ProjectStatus

OFFICER = "example-window-officer-li"
TEMPLATES = Path(STATIC).parent / "templates"


# --- the Chinese is total ---------------------------------------------------------------------------------


def _event_kinds() -> set[str]:
    union = typing.get_args(ApplicationEvent)[0]
    return {event.model_fields["kind"].default for event in typing.get_args(union)}


def test_every_status_event_role_warning_and_refusal_has_its_chinese_name() -> None:
    for statuses in (Status, ComplaintStatus, ProjectStatus):
        assert {s.value for s in statuses} <= set(labels.STATUSES)
    assert _event_kinds() == set(labels.EVENTS)
    assert set(Role) == set(labels.ROLES)
    assert set(WarningLevel) == set(labels.WARNINGS)
    assert set(WarningSubject) == set(labels.WARNING_SUBJECTS)
    engine_types = {
        name
        for module in (domain_errors, gateway_errors)
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, domain_errors.OneWindowError)
    }
    unnamed = (engine_types | set(gateway_errors.STATUS_OF_TYPE)) - set(labels.REFUSALS)
    assert unnamed <= {"OneWindowError", "TokenFileInvalid", "CatalogueInvalid", "CalendarDataInvalid"}
    assert set(FORMS) == set(labels.COMMANDS)


def test_a_field_error_names_its_bound_and_an_unknown_one_says_only_that_it_is_wrong() -> None:
    assert labels.field_error("less_than_equal", {"le": 10_000}) == "不能大于 10000"
    assert labels.field_error("greater_than_equal", {}) == "不能小于"
    assert labels.field_error("some_future_type", {}) == "格式不正确"


# --- forms write the API's bodies -------------------------------------------------------------------------


def test_a_form_is_written_as_the_json_a_client_would_send() -> None:
    posted = {
        "missing": ["food_safety_rules", "agent_authorisation"],
        "supplement_within": ["5"],
        "commitment": ["RQ-1"],
        "reason": [""],
    }
    assert json.loads(body_of_form("accept_with_deficiencies", posted)) == {
        "kind": "accept_with_deficiencies",
        "missing": ["food_safety_rules", "agent_authorisation"],
        "supplement_within": 5,
        "commitment": "RQ-1",
    }
    assert json.loads(body_of_form("extend_deadline", {"working_days": ["-3"]}))["working_days"] == -3
    for typed in ("1e3", " 5 ", "５"):  # as text, refused as text is: no number a JSON client cannot write
        assert json.loads(body_of_form("extend_deadline", {"working_days": [typed]}))["working_days"] == typed
    assert json.loads(body_of_form("record_approval", {"approved": ["false"], "step": ["health"]})) == {
        "kind": "record_approval",
        "step": "health",
        "approved": False,
    }
    assert json.loads(body_of_form("record_approval", {"approved": ["yes"]}))["approved"] == "yes"
    # A field the form does not have is not sent: the console is never more permissive than the API.
    assert "actor" not in json.loads(body_of_form("accept_application", {"actor": ["someone"]}))


def _refused(kind: str, posted: dict[str, list[str]]) -> list[str]:
    with pytest.raises(RequestValidationError) as refused:
        APPLICATION_BODIES.command_from(body_of_form(kind, posted), window_officer())
    return problems_in_chinese(kind, refused.value.errors())


def test_a_form_is_refused_by_the_apis_own_validation_in_chinese() -> None:
    assert _refused("accept_with_deficiencies", {"supplement_within": ["abc"]}) == [
        "容缺材料：必须填写",
        "补齐期限（工作日）：应为整数",
        "容缺受理承诺书编号：必须填写",
    ]
    assert _refused("extend_deadline", {"working_days": ["0"]}) == ["延长工作日：不能小于 1"]
    assert _refused("record_approval", {"step": ["health"], "approved": ["maybe"]}) == ["意见：应为是或否"]
    long = "长" * 5000
    assert _refused("refer_elsewhere", {"competent_organ": [long]}) == ["有权机关：过长"]


def test_a_valid_form_gives_the_command_the_api_gives_for_the_same_json() -> None:
    posted = {"missing": ["food_safety_rules"], "supplement_within": ["5"], "commitment": ["RQ-1"]}
    body = body_of_form("accept_with_deficiencies", posted)
    command = APPLICATION_BODIES.command_from(body, window_officer())
    assert isinstance(command, AcceptWithDeficiencies)
    assert command == AcceptWithDeficiencies(
        actor=window_officer(), missing=("food_safety_rules",), supplement_within=5, commitment="RQ-1"
    )


# --- notices are the events that made them ----------------------------------------------------------------


def test_notices_carry_the_engines_numbers_and_list_every_item_once() -> None:
    matter = shipped_matter("FOOD-BUSINESS")
    given = tuple(
        m.code for m in matter.materials if m.code not in ("premises_and_layout", "food_safety_rules")
    )
    case = opened(submit(matter, materials=given))
    case = then(
        case,
        RequestCorrection(
            actor=window_officer(), missing=("premises_and_layout", "food_safety_rules"), reason="缺两项"
        ),
    )
    case = then(
        case,
        SupplementMaterials(actor=window_officer(), materials=("premises_and_layout",)),
    )
    case = then(
        case,
        AcceptWithDeficiencies(
            actor=window_officer(),
            missing=("food_safety_rules",),
            supplement_within=5,
            commitment="RQ-9",
            credit=CreditStanding(eligible=True),  # the engine's own check, as the workflow adds it
        ),
    )
    made = notices(case.events)
    assert [n.kind for n in made] == [NoticeKind.CORRECTION, NoticeKind.DEFICIENCY_ACCEPTANCE]
    correction, accepted = made
    names = {m.code: m.name for m in matter.materials}
    assert correction.items == (names["premises_and_layout"], names["food_safety_rules"])
    assert correction.number == case.events[1].notice_number  # type: ignore[union-attr]
    assert correction.number == notice_number("APP-0001", 2)
    assert correction.reason == "缺两项"
    assert accepted.number == case.events[-1].notice_number  # type: ignore[union-attr]
    assert (accepted.items, accepted.supplement_within, accepted.commitment) == (
        (names["food_safety_rules"],),
        5,
        "RQ-9",
    )
    assert accepted.applicant == case.events[0].applicant.name  # type: ignore[union-attr]
    assert notices(()) == ()


# --- the door ---------------------------------------------------------------------------------------------


@pytest.fixture
async def door() -> AsyncIterator[httpx.AsyncClient]:
    """The console over ``NoEngine``: whatever reaches the engine fails the test."""
    async with client_of(create_app(Cases(cast(Client, NoEngine())), TOKENS)) as client:
        yield client


async def _signed_in(door: httpx.AsyncClient, token: str = OFFICER, next_page: str = "") -> httpx.Response:
    return await door.post("/console/signin", data={"token": token, "next": next_page})


async def test_signing_in_gives_an_httponly_strict_cookie_and_the_roles_start_page(
    door: httpx.AsyncClient,
) -> None:
    answered = await _signed_in(door)
    assert answered.status_code == 303
    assert answered.headers["location"] == START_PAGES[Role.WINDOW_OFFICER] == "/console/acceptance"
    cookie = answered.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "Path=/console", "SameSite=strict", "Max-Age=28800"):
        assert flag in cookie
    assert OFFICER not in cookie  # the session id, never the token


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/console/\\evil", "/docs"])
async def test_signing_in_goes_on_only_to_the_consoles_own_pages(
    door: httpx.AsyncClient, target: str
) -> None:
    answered = await _signed_in(door, next_page=target)
    assert answered.headers["location"] == "/console/acceptance"
    kept = await _signed_in(door, next_page="/console/cases/APP-1")
    assert kept.headers["location"] == "/console/cases/APP-1"


@pytest.mark.parametrize("token", ["example-intake-portal", "not-a-token", ""])
async def test_a_system_token_or_an_unknown_one_opens_no_session(door: httpx.AsyncClient, token: str) -> None:
    answered = await _signed_in(door, token=token)
    assert answered.status_code == 403
    assert "set-cookie" not in answered.headers
    assert "令牌无效" in answered.text


async def test_without_a_session_a_page_sends_the_browser_to_the_sign_in_form(
    door: httpx.AsyncClient,
) -> None:
    answered = await door.get("/console/cases/APP-1")
    assert answered.status_code == 303
    assert answered.headers["location"] == "/console/signin?next=/console/cases/APP-1"
    forged = await door.post("/console/cases/APP-1/actions", data={"kind": "accept_application"})
    assert forged.status_code == 303  # no session, no command


@pytest.mark.parametrize("csrf", [None, "", "the-wrong-token"])
async def test_a_form_without_its_sessions_token_is_refused_before_the_engine(
    door: httpx.AsyncClient, csrf: str | None
) -> None:
    await _signed_in(door)
    form = {"kind": "accept_application", **({"csrf": csrf} if csrf is not None else {})}
    answered = await door.post("/console/cases/APP-1/actions", data=form)
    assert answered.status_code == 403
    assert answered.headers["content-type"].startswith("text/html")
    assert "表单已失效" in answered.text


async def test_a_huge_form_is_refused_as_too_large(door: httpx.AsyncClient) -> None:
    await _signed_in(door)
    answered = await door.post("/console/cases/APP-1/actions", data={"reason": "长" * 20_000})
    assert answered.status_code == 413
    assert answered.headers["content-type"].startswith("text/html")


async def test_signing_out_ends_the_session(door: httpx.AsyncClient) -> None:
    await _signed_in(door)
    session = door.cookies[COOKIE]
    shown = (await door.get("/console/review")).text  # any page: its sign-out form carries the token
    csrf = re.search(r'name="csrf" value="([^"]+)"', shown)
    assert csrf is not None
    signed_out = await door.post("/console/signout", data={"csrf": csrf.group(1)})
    assert signed_out.status_code == 303
    assert "Path=/console" in signed_out.headers["set-cookie"]
    assert "HttpOnly" in signed_out.headers["set-cookie"]
    door.cookies.set(COOKIE, session, path="/console")  # the old cookie, kept by a careless browser
    answered = await door.get("/console/review")
    assert answered.status_code == 303
    assert answered.headers["location"].startswith("/console/signin")


async def test_a_role_opens_only_its_own_work_pages(door: httpx.AsyncClient) -> None:
    await _signed_in(door)
    refused = await door.get("/console/review")  # an approver's queue, refused before any list is read
    assert refused.status_code == 403
    assert "无权办理" in refused.text


async def test_the_console_answers_with_pages_and_the_api_still_with_json(door: httpx.AsyncClient) -> None:
    missing = await door.get("/console/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "没有此页面" in missing.text
    api = await door.get("/applications/APP-1")
    assert api.status_code == 401
    assert api.json()["type"] == "Unauthenticated"
    assert (await door.get("/nowhere")).json()["type"] == "NotFound"


async def test_every_asset_is_shipped_none_from_another_site(door: httpx.AsyncClient) -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), template.name
    for asset in ("console.css", "console.js"):
        answered = await door.get(f"/console/static/{asset}")
        assert answered.status_code == 200
        assert "http" not in answered.text


def test_sessions_expire_and_one_person_signing_in_again_ends_only_their_own_oldest() -> None:
    now = [0.0]
    sessions = Sessions(clock=lambda: now[0])
    other = sessions.open(window_officer("someone.else"), "other-digest")
    first = sessions.open(window_officer(), "digest")
    assert sessions.actor(first) == window_officer()
    again = [sessions.open(window_officer(), "digest") for _ in range(MAX_SESSIONS_PER_ACTOR)]
    assert sessions.session(first) is None  # the sixth of one person's sessions ended their first
    assert all(sessions.session(session_id) for session_id in again)
    assert sessions.actor(other) == window_officer("someone.else")  # nobody else's
    now[0] = 8 * 3600 + 1
    assert sessions.session(other) is None


def test_when_every_session_is_in_use_a_sign_in_is_refused_not_someone_else_signed_out() -> None:
    sessions = Sessions()
    kept = [sessions.open(window_officer(f"officer-{n}"), "d") for n in range(MAX_SESSIONS)]
    with pytest.raises(SessionsFull):
        sessions.open(window_officer("one-more"), "d")
    assert all(sessions.session(session_id) for session_id in kept)


async def test_a_post_from_another_sites_page_is_refused(door: httpx.AsyncClient) -> None:
    cross = {"Sec-Fetch-Site": "cross-site"}
    answered = await door.post("/console/signin", data={"token": OFFICER}, headers=cross)
    assert answered.status_code == 403
    assert "set-cookie" not in answered.headers
    foreign = await door.post(
        "/console/signin", data={"token": OFFICER}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    await _signed_in(door)
    out = await door.post("/console/signout", headers=cross)
    assert out.status_code == 403
    forged_out = await door.post("/console/signout", data={"csrf": "wrong"})
    assert forged_out.status_code == 403
    assert (await door.get("/console/acceptance")).status_code != 303  # still signed in


async def test_sign_in_attempts_are_limited_per_address_not_for_everyone() -> None:
    app = create_app(Cases(cast(Client, NoEngine())), TOKENS, limiter=RateLimiter(RateLimits(1, 3)))
    guesser = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("10.0.0.9", 5000))
    async with httpx.AsyncClient(transport=guesser, base_url="http://test") as http:
        tries = [(await http.post("/console/signin", data={"token": "x" * 20})).status_code for _ in range(4)]
    assert tries == [403, 403, 403, 429]
    officer = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("10.0.0.7", 5000))
    async with httpx.AsyncClient(transport=officer, base_url="http://test") as http:
        assert (await http.post("/console/signin", data={"token": OFFICER})).status_code == 303


@pytest.mark.parametrize(
    "body",
    [
        "&".join(f"f{n}=1" for n in range(201)).encode(),  # more fields than any form has
        b"reason=%FF%FE",  # not UTF-8
        "reason=理由".encode(),  # raw bytes no browser sends in a form
    ],
)
async def test_a_form_no_browser_writes_is_refused_not_cleaned(door: httpx.AsyncClient, body: bytes) -> None:
    await _signed_in(door)
    answered = await door.post(
        "/console/cases/APP-1/actions",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answered.status_code == 422
    assert "表单格式有误" in answered.text


async def test_a_form_posted_after_the_session_ended_returns_to_its_case_once_signed_in(
    door: httpx.AsyncClient,
) -> None:
    answered = await door.post("/console/cases/APP-1/actions", data={"kind": "accept_application"})
    assert answered.headers["location"] == "/console/signin?next=/console/cases/APP-1"
    kept = await door.get("/console/dashboard", params={"from": "2026-01-01", "to": "2026-02-01"})
    assert (
        kept.headers["location"]
        == "/console/signin?next=/console/dashboard%3Ffrom%3D2026-01-01%26to%3D2026-02-01"
    )
    signed = await _signed_in(door, token=SUPERVISOR, next_page="/console/dashboard?from=2026-01-01")
    assert signed.headers["location"] == "/console/dashboard?from=2026-01-01"
    assert (await _signed_in(door, next_page="/console/../docs")).headers["location"] == "/console/acceptance"


async def test_pages_are_never_cached_framed_or_given_foreign_scripts(door: httpx.AsyncClient) -> None:
    answered = await door.get("/console/signin")
    assert answered.headers["cache-control"] == "no-store"
    assert answered.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answered.headers["content-security-policy"]
    assert "default-src 'self'" in answered.headers["content-security-policy"]


# --- the engine's refusals in Chinese -----------------------------------------------------------------------


def _said(case: Case, command: ApplicationCommand) -> str:
    """The engine's sentence refusing ``command`` on ``case``, in Chinese (None: no pattern knows it)."""
    with pytest.raises(domain_errors.OneWindowError) as refused:
        then(case, command)
    names = Names({m.code: m.name for m in case.state.matter.materials}, shipped_catalogue().department_name)
    chinese = in_chinese(str(refused.value), names)
    assert chinese is not None, f"no Chinese for the engine's {str(refused.value)!r}"
    return chinese


def test_the_refusals_of_the_consoles_commands_read_in_chinese_with_their_materials_named() -> None:
    matter = shipped_matter("FOOD-BUSINESS")
    names = {m.code: m.name for m in matter.materials}
    officer, eligible = window_officer(), CreditStanding(eligible=True)
    lacking = opened(submit(matter, materials=tuple(c for c in names if c not in ("food_safety_rules",))))
    assert (
        _said(lacking, AcceptApplication(actor=officer)) == f"材料不齐全，缺少：{names['food_safety_rules']}"
    )
    assert _said(lacking, RejectApplication(actor=officer)) == "不予受理须说明理由（R-XK-32b）"
    too_long = AcceptWithDeficiencies(
        actor=officer, missing=("food_safety_rules",), supplement_within=999, commitment="RQ", credit=eligible
    )
    assert _said(lacking, too_long) == "补齐期限（工作日）：999 超过上限 5"
    two_short = opened(
        submit(
            matter, materials=tuple(c for c in names if c not in ("food_safety_rules", "premises_and_layout"))
        )
    )
    partly = RequestCorrection(actor=officer, missing=("food_safety_rules",))
    assert _said(two_short, partly) == (
        f"R-XK-32：补正告知须一次列明全部所缺材料，请一并列入：{names['premises_and_layout']}"
    )
    core = AcceptWithDeficiencies(
        actor=officer,
        missing=("food_safety_rules", "premises_and_layout"),
        supplement_within=5,
        commitment="RQ",
        credit=eligible,
    )
    assert _said(two_short, core) == f"缺少主要材料，不能容缺受理：{names['premises_and_layout']}"

    accepted = then(opened(submit(matter)), AcceptApplication(actor=officer))
    assert _said(accepted, AcceptApplication(actor=officer)) == "案件处于“审批中”时不能办理“受理”"
    as_approver = approver("market_regulation", actor_id=officer.id)
    assert _said(accepted, RecordApproval(actor=as_approver, step="market_regulation", approved=True)) == (
        "受审分离：受理本案或在窗口经办过本案的人员不得审批"
    )
    assert _said(accepted, RecordApproval(actor=officer, step="market_regulation", approved=True)) == (
        "“审批意见”须由审批人员办理，您的岗位是综合窗口"
    )
    elsewhere = approver("health")
    assert _said(accepted, RecordApproval(actor=elsewhere, step="market_regulation", approved=True)) == (
        "此审批环节属于市场监督管理局"
    )
    deciding = approver("market_regulation")
    assert _said(accepted, RecordApproval(actor=deciding, step="market_regulation", approved=False)) == (
        "不予许可须说明理由"
    )
    assert _said(accepted, ExtendDeadline(actor=deciding, working_days=5, reason="r")) == (
        "“延长期限”须由部门负责人或政府负责人办理，您的岗位是审批人员"
    )
    leader = government_leader()
    assert _said(accepted, ExtendDeadline(actor=leader, working_days=5, reason="r")) == (
        "R-XK-42a：本事项的延长期限由部门负责人批准"
    )
    head = department_head("market_regulation")
    assert _said(accepted, ExtendDeadline(actor=head, working_days=11, reason="r")) == (
        "延长期限（工作日）：11 超过上限 10"
    )
    assert (
        _said(accepted, ExtendDeadline(actor=head, working_days=5)) == "延长期限须说明理由，理由将告知申请人"
    )


def test_a_sentence_no_pattern_knows_is_left_as_the_engine_wrote_it() -> None:
    assert in_chinese("something new the engine says", Names({}, str)) is None


async def test_behind_tls_the_session_cookie_is_never_sent_in_the_clear() -> None:
    app = create_app(Cases(cast(Client, NoEngine())), TOKENS)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.example") as http:
        answered = await http.post("/console/signin", data={"token": OFFICER})
    assert "Secure" in answered.headers["set-cookie"]
