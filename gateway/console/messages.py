"""The engine's refusals in Chinese: each sentence the rules of the console's commands refuse with, as
a pattern over the engine's own words and its Chinese, with the codes it names (materials, departments,
statuses, commands) put back into the names people read.

The engine keeps its sentences (the API, the CLI and the logs give them as they are); the console shows
this translation above the original. A sentence no pattern knows is shown as the engine wrote it, under
its type's Chinese heading. ``tests/test_console`` drives the rules into their refusals, so a pattern
that stops matching the engine's words fails there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.console import labels


@dataclass(frozen=True)
class Names:
    """How the codes a sentence names are read on this case."""

    materials: Mapping[str, str]
    departments: Callable[[str], str]


def _listed(codes: str, name: Callable[[str], str]) -> str:
    return "、".join(name(code.strip()) for code in codes.split(",") if code.strip())


def _roles(text: str) -> str:
    known = {role.value: name for role, name in labels.ROLES.items()}
    return "或".join(known.get(role, role) for role in text.split(", "))


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Names], str]]


def _rule(pattern: str, render: Callable[[re.Match[str], Names], str]) -> _Rule:
    return re.compile(f"^{pattern}$"), render


def _named(sentence: str, group: str = "codes") -> Callable[[re.Match[str], Names], str]:
    return lambda m, names: sentence.format(_listed(m[group], lambda c: names.materials.get(c, c)))


def _status(code: str) -> str:
    return labels.STATUSES.get(code, code)


def _command(code: str) -> str:
    return labels.COMMANDS.get(code, code)


_AMOUNTS = {
    "supplement deadline (working days)": "补齐期限（工作日）",
    "supplement (working days)": "补充期限（工作日）",
    "pause (expected working days)": "中止计时（预计工作日）",
    "extension (working days)": "延长期限（工作日）",
    "rectification (working days)": "整改期限（工作日）",
    "departments on one case": "一案的部门数",
}

# The sentences the engine always writes the same way, and theirs in Chinese.
FIXED: Mapping[str, str] = {
    "not authorised: an applicant acts only on their own application": "申请人只能办理本人的申请",
    "not authorised: a steward acts only on the green-channel cases assigned to them": (
        "项目管家只能办理指派给本人的绿色通道案件"
    ),
    "not authorised: 受审分离: who accepted, or acted at the window, may not approve": (
        "受审分离：受理本案或在窗口经办过本案的人员不得审批"
    ),
    "not authorised: a case is returned by an approver of a department reviewing it": (
        "退回须由正在审查本案的部门的审批人员办理"
    ),
    "the applicant has already been told of these items; the notice stands": (
        "已告知申请人补正这些材料，原告知书仍然有效"
    ),
    "不动产登记暂行条例 第17条: incomplete materials are refused in writing on the spot, listing every item "
    "to correct (reject_application); there is no later correction period": (
        "不动产登记暂行条例第17条：材料不全的，当场书面告知不予受理，并一次性告知需补正的全部内容，不设补正期"
    ),
    "nothing is missing: accept the application instead": "材料齐全，请直接受理",
    "容缺 needs the applicant's credit check, which has not been made": "容缺受理须先核查申请人信用",
    "a decision not to accept must state its reason (R-XK-32b)": "不予受理须说明理由（R-XK-32b）",
    "a refusal must state its reason": "不予许可须说明理由",
    "a return must state its reason, which the applicant is told": "退回须说明理由，理由将告知申请人",
    "the deadline has already been extended once (R-XK-42)": "期限已延长过一次（R-XK-42），不得再次延长",
    "an extension must give the reason told to the applicant": "延长期限须说明理由，理由将告知申请人",
    "the case is not overdue: nothing to explain": "本案未超期，无需说明",
    "the delay is explained already": "超期原因已说明过",
    "explanation: say why the case is late": "请说明超期原因",
}

# The sentences that name something: a pattern, and how it reads in Chinese.
PATTERNS: tuple[_Rule, ...] = (
    _rule(
        r"(?P<command>\w+) is not allowed while the application is (?P<status>[\w ]+)",
        lambda m, _: f"案件处于“{_status(m['status'])}”时不能办理“{_command(m['command'])}”",
    ),
    _rule(
        r"(?P<command>\w+) has been recorded (?P<limit>\d+) times on this case, the most a case allows",
        lambda m, _: f"本案“{_command(m['command'])}”已办理 {m['limit']} 次，已达上限",
    ),
    _rule(
        r"not authorised: (?P<command>\w+) needs the role (?P<roles>[\w, ]+), not (?P<role>\w+)",
        lambda m, _: f"“{_command(m['command'])}”须由{_roles(m['roles'])}办理，您的岗位是{_roles(m['role'])}",
    ),
    _rule(
        r"not authorised: department '(?P<department>\w+)' is not responsible for this matter",
        lambda m, names: f"{names.departments(m['department'])}不负责本事项",
    ),
    _rule(
        r"not authorised: step (?P<step>\w+) belongs to department (?P<department>\w+)",
        lambda m, names: f"此审批环节属于{names.departments(m['department'])}",
    ),
    _rule(
        r"not authorised: step (?P<step>\w+) was handed to (?P<who>.+)",
        lambda m, _: f"此环节已转交{m['who']}办理",
    ),
    _rule(
        r"not authorised: the clock is stopped by an approver of a department whose step is under review "
        r"\((?P<departments>[\w, ]+)\)",
        lambda m, names: (
            f"中止计时须由正在审查的部门（{_listed(m['departments'], names.departments)}）的审批人员办理"
        ),
    ),
    _rule(
        r"not authorised: the pause is resumed by an approver of (?P<department>\w+), who stopped the clock",
        lambda m, names: f"恢复计时须由中止计时的{names.departments(m['department'])}审批人员办理",
    ),
    _rule(
        r"not authorised: (?P<rule>R-XK-42[ab]): the extension of (?P<handling>.+) "
        r"is granted by a (?P<role>\w+)",
        lambda m, _: f"{m['rule']}：本事项的延长期限由{_roles(m['role'])}批准",
    ),
    _rule(
        r"(?P<what>[\w ()]+): (?P<requested>\d+) exceeds the limit of (?P<limit>.+)",
        lambda m, _: f"{_AMOUNTS.get(m['what'], m['what'])}：{m['requested']} 超过上限 {m['limit']}",
    ),
    _rule(r"materials missing: (?P<codes>.+)", _named("材料不齐全，缺少：{}")),
    _rule(
        r"R-XK-32 requires one notice listing every missing item; not on the first notice: (?P<codes>.+)",
        _named("R-XK-32：补正须一次性告知，以下材料首次告知时未列出，不得再行补正：{}"),
    ),
    _rule(
        r"R-XK-32: the notice must list every missing item at once; add (?P<codes>.+)",
        _named("R-XK-32：补正告知须一次列明全部所缺材料，请一并列入：{}"),
    ),
    _rule(
        r"提前介入: checked in the consultation, not examined again: (?P<codes>.+)",
        _named("提前介入时已核验的材料不再审查：{}"),
    ),
    _rule(r"replaced by the applicant's commitment: (?P<codes>.+)", _named("已由申请人的告知承诺替代：{}")),
    _rule(r"matter (?P<matter>\S+) does not allow 容缺受理", lambda *_: "本事项不适用容缺受理"),
    _rule(
        r"the 容缺 notice must list every missing item at once: (?P<codes>.+)",
        _named("容缺受理须一次列明全部所缺材料：{}"),
    ),
    _rule(r"core materials are missing: (?P<codes>.+)", _named("缺少主要材料，不能容缺受理：{}")),
    _rule(
        r"applicant not eligible for 容缺: (?P<detail>.+)",
        lambda m, _: f"申请人信用不符合容缺受理条件：{m['detail']}",
    ),
    _rule(r"already provided, nothing to supplement: (?P<codes>.+)", _named("已提交，无需补交：{}")),
    _rule(
        r"the case is at the window for (?P<codes>.+): refuse, or wait",
        _named("案件已退回窗口补充材料（{}）：请等待补齐，或作出不予许可决定"),
    ),
    _rule(
        r"step '(?P<step>\w+)' is not awaiting a decision \(pending: (?P<pending>.*)\)",
        lambda *_: "此审批环节不在待审批中",
    ),
    _rule(r"not in hand, nothing to return for: (?P<codes>.+)", _named("以下材料尚未收到，不能退回补充：{}")),
    _rule(
        r"R-XK-45: '(?P<pause>\w+)' does not stop the clock on this matter \((?P<allowed>.*)\)",
        lambda *_: "R-XK-45：此事由不能中止本事项的计时",
    ),
    _rule(
        r"R-XK-42: an extension is granted within the period, which ended at (?P<due>.+)",
        lambda *_: "R-XK-42：延长期限须在办理期限内决定，期限已届满",
    ),
)


def in_chinese(sentence: str, names: Names) -> str | None:
    """The engine's sentence in Chinese, its codes named; None for a sentence no pattern knows."""
    fixed = FIXED.get(sentence)
    if fixed is not None:
        return fixed
    for pattern, render in PATTERNS:
        found = pattern.match(sentence)
        if found:
            return render(found, names)
    return None
