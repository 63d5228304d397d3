"""The console in a real headless browser (Debian's Chromium, driven by Playwright), on the dev server: a
window officer, an approver and a supervisor each sign in, do a day's work and read what it left.

Every expectation is read from elsewhere than the page: the notice numbers from the case's own events,
the countdowns from the working-day rule (a case received today has its acceptance due in 5 working days),
the dashboard's figures from ``GET /report`` for the same range. The screenshots are checked as images:
the chart's bars are drawn in their colours, and Chinese text is drawn as glyphs, not as missing-glyph
boxes (two different characters give two different pictures).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from cli import run
from gateway.app import create_app
from tests.browser import CHROMIUM_FLAGS, chromium, served
from tests.conftest import RunWorker
from tests.test_gateway import SUPERVISOR, TOKENS, bearer
from tests.test_report_entry_points import without_instant
from tests.test_workflow_acceptance import intake_of
from workflows.client import Cases
from workflows.domain.application import notice_number
from workflows.domain.calendar import SHANGHAI
from workflows.domain.commands import AcceptApplication, RecordApproval
from workflows.domain.complaint import Caller, ComplaintChannel
from workflows.domain.events import Actor, ApplicationEvent, Channel, Role
from workflows.messages import ComplaintIntake, ProjectIntake
from workflows.reference_data import load_calendar
from workflows.testkit import kit_cases

# One xdist worker runs every browser test: one apt-get install of Chromium on a clean machine, not two.
pytestmark = [pytest.mark.devserver, pytest.mark.xdist_group("browser")]

OFFICER = "example-window-officer-li"
OFFICER_AS_APPROVER = "example-approver-li-health"
APPROVER = "example-approver-wang-health"
HEAD = "example-head-chen-health"
APPLICANT = "example-applicant-dalian-food"
LI_NA = Actor(id="li.na", role=Role.WINDOW_OFFICER, name="李娜")  # the officer token's actor
WANG_FANG = Actor(id="wang.fang", role=Role.APPROVER, department="health", name="王芳")
FOOD_SAFETY_RULES = (
    "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度目录"
)
SCREENSHOTS = os.environ.get("ONEWINDOW_SCREENSHOTS")  # keep the screenshots there (the README's)
RED = (0xC6, 0x28, 0x28)  # console.css: --red, a missed target's bar


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, for the whole session."""
    executable = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_FLAGS), headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
async def console(dev_server: WorkflowEnvironment, run_worker: RunWorker) -> AsyncIterator[tuple[Cases, str]]:
    """The cases of a fresh worker, and the gateway over them served on loopback: its base URL."""
    async with run_worker(dev_server.client) as task_queue:
        cases = kit_cases(dev_server.client, task_queue)
        async with served(create_app(cases, TOKENS)) as base:
            yield cases, base


@pytest.fixture
async def tab(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) and page; a confirmation asked by the page is accepted."""
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    yield page
    await context.close()


async def sign_in(tab: Page, base: str, token: str) -> None:
    """Sign in on the form, as a person would."""
    await tab.goto(f"{base}/console/signin")
    await tab.fill("input[name=token]", token)
    await tab.click("button:has-text('登录')")
    await tab.wait_for_load_state()


async def sign_out(tab: Page) -> None:
    await tab.click("button:has-text('退出')")
    await tab.wait_for_load_state()


async def until_shown(tab: Page, url: str, text: str, within: str = "main") -> None:
    """Open ``url`` until ``text`` shows in it: lists follow the cases by a moment (visibility)."""
    for _ in range(100):
        await tab.goto(url)
        if text in await tab.locator(within).inner_text():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{text} never showed on {url}")


async def act(tab: Page, kind: str, **fields: str | list[str]) -> None:
    """Fill the form of ``kind`` on the case page and send it."""
    form = tab.locator(f"form.action[data-kind={kind}]")
    for name, value in fields.items():
        if isinstance(value, list):
            for box in await form.locator(f"input[name={name}]").all():
                if await box.get_attribute("value") in value:
                    await box.check()
                else:
                    await box.uncheck()
        elif await form.locator(f"select[name={name}]").count():
            await form.locator(f"select[name={name}]").select_option(value)
        elif await form.locator(f"input[type=radio][name={name}]").count():
            await form.locator(f"input[type=radio][name={name}][value={value}]").check()
        else:
            await form.locator(f"input[name={name}]").fill(value)
    await form.locator("button[type=submit]").click()
    await tab.wait_for_load_state()


async def refusal(tab: Page) -> str:
    return await tab.locator(".refused").inner_text()


def numbered(events: list[ApplicationEvent], kind: str) -> str:
    """The number the engine gave the notice of the case's event of ``kind`` (its place in the log)."""
    position = next(i for i, event in enumerate(events, start=1) if event.kind == kind)
    return notice_number(events[0].application_id, position)  # type: ignore[union-attr]


def keep(name: str, picture: bytes) -> Image.Image:
    """The screenshot as an image, kept in ``$ONEWINDOW_SCREENSHOTS`` when set."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        (Path(SCREENSHOTS) / name).write_bytes(picture)
    return Image.open(io.BytesIO(picture)).convert("RGB")


def pixels_near(image: Image.Image, colour: tuple[int, int, int]) -> int:
    """How many pixels are (almost) ``colour``."""
    return sum(
        1
        for pixel in image.get_flattened_data()
        if isinstance(pixel, tuple) and all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))
    )


async def glyphs_drawn(tab: Page) -> bool:
    """Whether two different Chinese characters render differently in the console's font: a missing CJK
    font draws both as the same empty box."""
    await tab.evaluate(
        """() => { for (const [id, text] of [["glyph-a", "受"], ["glyph-b", "理"]]) {
            const span = document.createElement("span"); span.id = id; span.textContent = text;
            span.style.fontSize = "40px"; document.querySelector("main").prepend(span); } }"""
    )
    first = await tab.locator("#glyph-a").screenshot()
    second = await tab.locator("#glyph-b").screenshot()
    return first != second and len(set(keep("glyph.png", first).get_flattened_data())) > 2


# --- the window officer ------------------------------------------------------------------------------------


async def test_a_window_officer_asks_for_a_correction_refuses_bad_input_and_accepts(
    console: tuple[Cases, str], tab: Page
) -> None:
    cases, base = console
    tag = uuid.uuid4().hex[:6]
    complete, partial = f"WIN-{tag}-A", f"WIN-{tag}-B"
    now = datetime.now(SHANGHAI)
    await cases.submit(complete, intake_of("FOOD-BUSINESS", now))
    submitted = intake_of("FOOD-BUSINESS", now, leave_out=("food_safety_rules",))
    await cases.submit(partial, submitted)
    for number in (complete, partial):
        await cases.registered(number, reader=None)

    await sign_in(tab, base, OFFICER)
    assert tab.url == f"{base}/console/acceptance"  # the window officer's start page
    await until_shown(tab, f"{base}/console/acceptance", partial)
    await until_shown(tab, f"{base}/console/acceptance", complete)
    row = tab.locator("tr", has_text=partial)
    # Received today: acceptance is due by the end of the 5th working day after (R-XK-32).
    assert await row.locator(".countdown").inner_text() == "5 个工作日"
    assert "待受理" in await row.inner_text()

    await row.locator("a").click()
    await tab.wait_for_load_state()
    assert "剩余 5 个工作日" in await tab.locator("#acceptance-countdown").inner_text()
    assert FOOD_SAFETY_RULES in await tab.locator(".summary").inner_text()  # 缺少材料, by name
    offered = {await f.get_attribute("data-kind") for f in await tab.locator("form.action").all()}
    assert {"request_correction", "accept_with_deficiencies"} <= offered
    assert "accept_application" not in offered  # a material is missing: the materials do not allow it
    assert "record_approval" not in offered  # an approver's command: not offered at the window
    before = len(await cases.events(partial, reader=None))

    # The form's mistakes, refused by the engine's own validation, in Chinese; nothing recorded.
    await act(tab, "accept_with_deficiencies", missing=["food_safety_rules"], supplement_within="abc")
    shown = await refusal(tab)
    assert "未办理：填写有误" in shown
    assert "补齐期限（工作日）：应为整数" in shown
    assert "容缺受理承诺书编号：必须填写" in shown
    refused_form = tab.locator("form.action[data-kind=accept_with_deficiencies]")
    assert await refused_form.locator("input[name=supplement_within]").input_value() == "abc"  # kept
    assert await refused_form.locator("input[name=missing]").is_checked()
    window = keep("console-window.png", await tab.screenshot(full_page=True))
    assert len(set(window.get_flattened_data())) > 50  # the refusal, the summary and the forms, drawn
    await act(
        tab,
        "accept_with_deficiencies",
        missing=["food_safety_rules"],
        supplement_within="0",
        commitment="RQ-1",
    )
    assert "补齐期限（工作日）：不能小于 1" in await refusal(tab)
    # The engine's own rule, past the form's validation.
    await act(
        tab,
        "accept_with_deficiencies",
        missing=["food_safety_rules"],
        supplement_within="999",
        commitment="RQ-1",
    )
    shown = await refusal(tab)
    assert "未办理：期限超出允许范围" in shown
    assert "补齐期限（工作日）：999 超过上限 5" in shown  # the engine's sentence, in Chinese
    assert "原文：supplement deadline (working days): 999 exceeds the limit of 5" in shown
    await act(tab, "request_correction", missing=["application_form"])
    shown = await refusal(tab)  # the engine's rule: one notice lists every missing item (R-XK-32)
    assert "未办理：不符合办理规则" in shown
    assert f"R-XK-32：补正告知须一次列明全部所缺材料，请一并列入：{FOOD_SAFETY_RULES}" in shown
    assert len(await cases.events(partial, reader=None)) == before

    # 一次性告知: on a fresh page the missing material is ticked already.
    await tab.goto(f"{base}/console/cases/{partial}")
    assert await tab.locator(
        "form.action[data-kind=request_correction] input[value=food_safety_rules]"
    ).is_checked()
    await act(tab, "request_correction", reason="缺少食品安全规章制度")
    assert "已办理：一次性告知补正" in await tab.locator(".done").inner_text()
    assert "待补正" in await tab.locator(".summary .status").inner_text()
    events = await cases.events(partial, reader=None)
    correction = numbered(events, "correction_requested")
    timeline = await tab.locator("table.timeline").inner_text()
    assert "一次性告知补正" in timeline
    assert "李娜" in timeline
    assert "缺少食品安全规章制度" in timeline
    await tab.click("a:has-text('补正材料告知书')")
    await tab.wait_for_load_state()
    notice = tab.locator("article.notice")
    assert await notice.locator("h2").inner_text() == "补正材料告知书"
    assert await notice.locator(".number").inner_text() == f"编号：{correction}"
    assert await notice.locator("ol.items li").all_inner_texts() == [FOOD_SAFETY_RULES]  # every item, once
    assert f"{submitted.applicant.name}：" in await notice.inner_text()
    today = now.date()
    assert await notice.locator(".date").inner_text() == f"{today.year}年{today.month}月{today.day}日"

    # The complete case: accepted, and its 受理通知书.
    await tab.goto(f"{base}/console/cases/{complete}")
    await act(tab, "accept_application")
    assert "已办理：受理" in await tab.locator(".done").inner_text()
    accepted = numbered(await cases.events(complete, reader=None), "application_accepted")
    await tab.click("a:has-text('受理通知书')")
    await tab.wait_for_load_state()
    assert await tab.locator("article.notice .number").inner_text() == f"编号：{accepted}"
    assert "决定予以受理" in await tab.locator("article.notice").inner_text()

    # A third case refused at the window: its 不予受理决定书 gives the reason.
    refused_number = f"WIN-{tag}-C"
    await cases.submit(refused_number, intake_of("FOOD-BUSINESS", now))
    await cases.registered(refused_number, reader=None)
    await tab.goto(f"{base}/console/cases/{refused_number}")
    await act(tab, "reject_application", reason="申请事项不属于许可范围")
    not_accepted = numbered(await cases.events(refused_number, reader=None), "application_not_accepted")
    await tab.click("a:has-text('不予受理决定书')")
    await tab.wait_for_load_state()
    text = await tab.locator("article.notice").inner_text()
    assert f"编号：{not_accepted}" in text
    assert "理由：申请事项不属于许可范围" in text
    assert "行政复议" in text

    # The window reads no city figures.
    response = await tab.goto(f"{base}/console/dashboard")
    assert response is not None
    assert response.status == 403
    assert "无权办理" in await tab.locator(".refused").inner_text()


# --- the approver and the department head ------------------------------------------------------------------


async def test_an_approver_pauses_resumes_and_approves_and_a_head_extends(
    console: tuple[Cases, str], tab: Page
) -> None:
    cases, base = console
    tag = uuid.uuid4().hex[:6]
    first, second = f"REV-{tag}-A", f"REV-{tag}-B"
    for number in (first, second):
        await cases.submit(number, intake_of("PUBLIC-PLACE-HYGIENE", datetime.now(SHANGHAI)))
        await cases.registered(number, reader=None)
        await cases.act(number, AcceptApplication(actor=LI_NA))

    # 受审分离: li.na accepted the case at the window; as an approver she may not decide it.
    await sign_in(tab, base, OFFICER_AS_APPROVER)
    assert tab.url == f"{base}/console/review"
    await until_shown(tab, f"{base}/console/review", first)
    await tab.goto(f"{base}/console/cases/{first}")
    before = len(await cases.events(first, reader=None))
    await act(tab, "record_approval", approved="true")
    assert "受审分离：受理本案或在窗口经办过本案的人员不得审批" in await refusal(tab)
    assert len(await cases.events(first, reader=None)) == before
    await sign_out(tab)

    await sign_in(tab, base, APPROVER)
    await until_shown(tab, f"{base}/console/review", second)
    view = await cases.state(first, reader=None)
    row = tab.locator("tr", has_text=first)
    assert await row.locator(".countdown").inner_text() == f"{view.working_days_left} 个工作日"
    assert view.working_days_left == 5  # accepted today: the promised 5 working days
    await row.locator("a").click()
    await tab.wait_for_load_state()
    offered = {await f.get_attribute("data-kind") for f in await tab.locator("form.action").all()}
    assert {"record_approval", "suspend_clock", "return_to_window"} <= offered
    assert "extend_deadline" not in offered  # the head's (R-XK-42a)

    await act(tab, "suspend_clock", pause="expert_review", expected_working_days="0")
    assert "预计所需工作日：不能小于 1" in await refusal(tab)
    await act(
        tab,
        "suspend_clock",
        pause="expert_review",
        expected_working_days="5",
        reason="请专家评审卫生评价报告",
    )
    assert "中止计时" in await tab.locator(".summary .status").inner_text()
    await act(tab, "resume_clock", reason="专家评审完成")
    await act(tab, "record_approval", approved="true", reason="符合卫生要求")
    # Approved, or already issued (and closed): the licence is issued beside the approval's effects.
    assert (await tab.locator(".summary .status").inner_text()).startswith(("准予许可", "已出证"))
    events = await cases.events(first, reader=None)
    timeline = await tab.locator("table.timeline").inner_text()
    assert "专家评审，预计 5 个工作日" in timeline
    assert "王芳" in timeline
    assert "卫生健康委员会：同意" in timeline
    await tab.click("a:has-text('准予行政许可决定书')")
    await tab.wait_for_load_state()
    notice = await tab.locator("article.notice").inner_text()
    assert f"编号：{numbered(events, 'application_approved')}" in notice
    assert "卫生健康委员会" in notice
    await tab.goto(f"{base}/console/cases/{first}")
    picture = keep("console-case.png", await tab.screenshot(full_page=True))
    assert picture.width == 1280
    assert len(set(picture.get_flattened_data())) > 50  # a drawn page, not a blank one
    assert await glyphs_drawn(tab)
    await sign_out(tab)

    await sign_in(tab, base, HEAD)
    assert tab.url == f"{base}/console/review"
    await tab.goto(f"{base}/console/cases/{second}")
    await act(tab, "extend_deadline", working_days="11")
    assert "延长期限（工作日）：11 超过上限 10" in await refusal(tab)
    await act(tab, "extend_deadline", working_days="10", reason="现场核查需要")
    assert "已办理：延长期限" in await tab.locator(".done").inner_text()
    extended = await cases.state(second, reader=None)
    assert extended.working_days_left == 15
    assert "延长 10 个工作日" in await tab.locator("table.timeline").inner_text()

    # A head reads their own department's figures, no other department's.
    await tab.click("header a:has-text('监督看板')")
    await tab.wait_for_load_state()
    rows = tab.locator("table.figures[data-groups=department] tbody tr")
    assert {await row.get_attribute("data-group") for row in await rows.all()} == {"health"}
    await sign_out(tab)

    # The second case denied: its 不予行政许可决定书 gives the reason.
    await sign_in(tab, base, APPROVER)
    await tab.goto(f"{base}/console/cases/{second}")
    await act(tab, "record_approval", approved="false")
    assert "不予许可须说明理由" in await refusal(tab)  # the engine's rule, in Chinese
    await act(tab, "record_approval", approved="false", reason="卫生评价报告结论不合格")
    assert "不予许可" in await tab.locator(".summary .status").inner_text()
    denied = numbered(await cases.events(second, reader=None), "application_denied")
    await tab.click("a:has-text('不予行政许可决定书')")
    await tab.wait_for_load_state()
    text = await tab.locator("article.notice").inner_text()
    assert f"编号：{denied}" in text
    assert "理由：卫生评价报告结论不合格" in text


# --- the supervisor ----------------------------------------------------------------------------------------


def _received_working_days_ago(days: int) -> datetime:
    """10:00 Shanghai on the working day ``days`` working days before today."""
    calendar = load_calendar()
    today = datetime.now(SHANGHAI).date()
    day = today
    while calendar.working_days_between(day, today).days < days or not calendar.day(day).working:
        day -= timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=SHANGHAI)


async def _seed_supervision(cases: Cases, tag: str) -> dict[str, str]:
    """Red: received a month ago and never decided; yellow: 9 of its 10 working days gone; done: decided
    in time by the same department as red; an open complaint about the red case; an open project."""
    numbers = {name: f"SUP-{tag}-{name}" for name in ("red", "yellow", "done", "complaint", "project")}
    await cases.submit(numbers["done"], intake_of("PUBLIC-PLACE-HYGIENE", datetime.now(SHANGHAI)))
    await cases.registered(numbers["done"], reader=None)
    await cases.act(numbers["done"], AcceptApplication(actor=LI_NA))
    await cases.act(numbers["done"], RecordApproval(actor=WANG_FANG, step="health", approved=True))
    red = intake_of("PUBLIC-PLACE-HYGIENE", datetime.now(SHANGHAI) - timedelta(days=30))
    await cases.submit(numbers["red"], red)
    await cases.submit(numbers["yellow"], intake_of("DRAINAGE-PERMIT", _received_working_days_ago(9)))
    await cases.complaints().submit(
        numbers["complaint"],
        ComplaintIntake(
            actor=Actor(id="chen.jing", role=Role.HOTLINE_OPERATOR),
            caller=Caller(name="王女士", phone="13800000001"),
            channel=ComplaintChannel.HOTLINE_12345,
            content="许可迟迟未办",
            category_code="business_environment",
            concerns=numbers["red"],
        ),
    )
    await cases.projects().submit(
        numbers["project"],
        ProjectIntake(
            actor=LI_NA,
            applicant=intake_of("FOOD-BUSINESS", datetime.now(SHANGHAI)).applicant,
            materials=(
                "project_approval_documents",
                "site_pre_review_application",
                "land_use_documents",
                "agent_authorisation",
            ),
            channel=Channel.WINDOW,
            received_at=datetime.now(SHANGHAI),
            matter_code="CONSTRUCTION-PROJECT",
        ),
    )
    return numbers


def _cells(report: dict[str, Any], section: str) -> dict[tuple[str, str], list[str]]:
    """What the dashboard must print for each group of ``section``: due, in progress, and the rates."""
    expected = {}
    for group in report[section]:
        rates = {rate["name"]: rate for rate in group["rates"]}
        cells = [str(group["counts"]["due"]), str(group["in_progress"])]
        for name in ("办结率", "按时办结率", "满意率"):
            rate = rates.get(name)
            if rate is None:
                cells.append("—")
                continue
            share = "—" if rate["value"] is None else f"{rate['value']:.1%}"
            verdict = "" if rate["met"] is None else (" 达标" if rate["met"] else " 未达标")
            cells.append(f"{rate['numerator']}/{rate['denominator']} {share}{verdict}")
        expected[(group["kind"], group["group"])] = cells
    return expected


async def _printed(tab: Page, section: str) -> dict[tuple[str, str], list[str]]:
    printed = {}
    for row in await tab.locator(f"table.figures[data-groups={section}] tbody tr").all():
        key = (await row.get_attribute("data-kind") or "", await row.get_attribute("data-group") or "")
        cells = [await row.locator(".due").inner_text(), await row.locator(".in-progress").inner_text()]
        cells += await row.locator(".rate").all_inner_texts()
        printed[key] = cells
    return printed


async def test_a_supervisor_reads_the_figures_the_lists_and_the_chart(
    console: tuple[Cases, str], tab: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    cases, base = console
    numbers = await _seed_supervision(cases, uuid.uuid4().hex[:6])
    today = datetime.now(SHANGHAI).date()
    first, last = today - timedelta(days=60), today + timedelta(days=120)
    url = f"{base}/console/dashboard?from={first}&to={last}"

    await sign_in(tab, base, SUPERVISOR)
    assert tab.url.startswith(f"{base}/console/dashboard")
    await until_shown(tab, url, numbers["red"], "#red")
    await until_shown(tab, url, numbers["yellow"], "#yellow")
    await until_shown(tab, url, numbers["complaint"], "#complaints")
    await until_shown(tab, url, numbers["project"], "#projects")
    assert numbers["yellow"] not in await tab.locator("#red").inner_text()
    assert (await cases.state(numbers["red"], reader=None)).warning_level.value == "red"
    assert (await cases.state(numbers["yellow"], reader=None)).warning_level.value == "yellow"
    projects = await tab.locator("#projects").inner_text()
    assert "工程建设项目" in projects or "CONSTRUCTION" in projects

    async with httpx.AsyncClient(base_url=base) as http:
        answered = await http.get(
            "/report", params={"from": str(first), "to": str(last)}, headers=bearer(SUPERVISOR)
        )
    assert answered.status_code == 200, answered.text
    report = answered.json()
    capsys.readouterr()
    argv = ["report", "--from", str(first), "--to", str(last), "--as", "zhao.min:supervisor", "--json"]
    assert await run(argv, cases=cases) == 0
    printed = json.loads(capsys.readouterr().out)  # onewindow report: the same figures as GET /report
    assert without_instant(printed) == without_instant(report)
    await tab.goto(url)
    for section, key in (("totals", "totals"), ("department", "by_department"), ("matter", "by_matter")):
        assert await _printed(tab, section) == _cells(report, key), section
    overdue = await tab.locator("table.overdue").inner_text()
    assert numbers["red"] in overdue
    assert "应说明" in overdue  # 第36条: owed by the health commission

    # The chart: one bar per department, as wide as its on-time rate.
    bars = {
        group["group"]: next(r for r in group["rates"] if r["name"] == "按时办结率")
        for group in report["by_department"]
        if group["kind"] == "application"
    }
    health = tab.locator("svg.chart rect.bar[data-department=health]")
    assert float(await health.get_attribute("width") or "-1") == round(
        (bars["health"]["value"] or 0) * 420, 1
    )
    assert "卫生健康委员会" in (await tab.locator("svg.chart").text_content() or "")
    chart = keep("console-chart.png", await tab.locator("svg.chart").screenshot())
    assert (bars["health"]["numerator"], bars["health"]["denominator"]) == (1, 2)  # done in time; red late
    assert pixels_near(chart, RED) > 1000  # its bar: half the track, drawn as a missed target
    picture = keep("console-dashboard.png", await tab.screenshot(full_page=True))
    assert picture.width == 1280
    assert picture.height > 900  # figures, chart, lists: more than one screen
    assert await glyphs_drawn(tab)


async def test_each_reader_sees_and_may_do_only_their_own(console: tuple[Cases, str], tab: Page) -> None:
    cases, base = console
    tag = uuid.uuid4().hex[:6]
    own, other = f"OWN-{tag}", f"OTH-{tag}"
    mine = "91210200MA0000000X"  # the applicant token's id
    await cases.submit(own, intake_of("FOOD-BUSINESS", datetime.now(SHANGHAI), applicant_id=mine))
    await cases.submit(other, intake_of("FOOD-BUSINESS", datetime.now(SHANGHAI)))
    for number in (own, other):
        await cases.registered(number, reader=None)

    await sign_in(tab, base, APPLICANT)
    assert tab.url == f"{base}/console/cases"
    await until_shown(tab, f"{base}/console/cases", own)
    assert other not in await tab.locator("main").inner_text()
    response = await tab.goto(f"{base}/console/cases/{other}")
    assert response is not None
    assert response.status == 404  # as a missing case is
    await tab.goto(f"{base}/console/cases/{own}")
    offered = {await f.get_attribute("data-kind") for f in await tab.locator("form.action").all()}
    assert offered <= {"supplement_materials", "withdraw_application"}
    assert "accept_application" not in offered

    await sign_out(tab)
    await tab.goto(f"{base}/console/review")
    assert "/console/signin" in tab.url  # signed out: back to the sign-in form
    await tab.fill("input[name=token]", "example-intake-portal")  # a system's token has no console
    await tab.click("button:has-text('登录')")
    assert "令牌无效" in await tab.locator(".refused").inner_text()
