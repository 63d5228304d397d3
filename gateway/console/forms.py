"""The console's forms: which fields each command's form has, and how a posted form becomes its body.

A form is only another way to write the HTTP API's body: its fields are turned into the same JSON
(``{"kind": ..., ...}``) and validated by the same ``gateway.bodies`` in strict mode, so a number typed
as ``abc`` is refused as the API refuses ``"abc"``, with the field named. Nothing is converted that the
engine would not accept from a JSON client; only the shapes HTML forms cannot write (a number, a yes or
no, a list) are written as JSON writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.console import labels
from workflows.domain.application import ApprovalStep
from workflows.domain.catalogue import Matter

MAX_FORM_BYTES = 16 * 1024
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


class Widget(StrEnum):
    """How a field is written in HTML, and so how its text becomes JSON."""

    TEXT = "text"  # a string, as typed
    NUMBER = "number"  # an integer when it is one, else the text (refused by the engine's validation)
    YES_NO = "yes_no"  # true or false
    CHOICE = "choice"  # one of the options
    MANY = "many"  # checkboxes: a list of the options ticked


class Options(StrEnum):
    """Where a choice's options come from: the case in hand."""

    NONE = "none"
    MISSING = "missing"  # the materials the case lacks
    MATERIALS = "materials"  # every material of the case's matter
    STEPS = "steps"  # the reader's approval steps awaiting a decision
    PENDING_STEPS = "pending_steps"  # every step awaiting a decision (催办)
    PAUSES = "pauses"  # R-XK-45 and the matter's own pauses
    CHANNELS = "channels"  # online or at the window


@dataclass(frozen=True)
class Field:
    """One field of a command's form."""

    name: str
    label: str
    widget: Widget = Widget.TEXT
    options: Options = Options.NONE
    required: bool = False


_REASON = Field("reason", "理由")
FORMS: Mapping[str, tuple[Field, ...]] = {
    "accept_application": (_REASON,),
    "accept_with_deficiencies": (
        Field("missing", "容缺材料", Widget.MANY, Options.MISSING, required=True),
        Field("supplement_within", "补齐期限（工作日）", Widget.NUMBER, required=True),
        Field("commitment", "容缺受理承诺书编号", required=True),
        _REASON,
    ),
    "request_correction": (
        Field("missing", "须补正的材料（一次性告知）", Widget.MANY, Options.MATERIALS, required=True),
        _REASON,
    ),
    "reject_application": (Field("reason", "不予受理的理由", required=True),),
    "refer_elsewhere": (Field("competent_organ", "有权机关", required=True), _REASON),
    "supplement_materials": (
        Field("materials", "补交的材料", Widget.MANY, Options.MISSING, required=True),
        Field("channel", "补交方式", Widget.CHOICE, Options.CHANNELS),
        _REASON,
    ),
    "record_approval": (
        Field("step", "审批环节", Widget.CHOICE, Options.STEPS, required=True),
        Field("approved", "意见", Widget.YES_NO, required=True),
        _REASON,
    ),
    "suspend_clock": (
        Field("pause", "不计时事由", Widget.CHOICE, Options.PAUSES, required=True),
        Field("expected_working_days", "预计所需工作日", Widget.NUMBER, required=True),
        _REASON,
    ),
    "resume_clock": (_REASON,),
    "extend_deadline": (Field("working_days", "延长工作日", Widget.NUMBER, required=True), _REASON),
    "return_to_window": (
        Field("materials", "退回补充的材料", Widget.MANY, Options.MATERIALS, required=True),
        Field("supplement_within", "补充期限（工作日）", Widget.NUMBER, required=True),
        _REASON,
    ),
    "urge_step": (Field("step", "催办环节", Widget.CHOICE, Options.PENDING_STEPS, required=True), _REASON),
    "explain_overdue": (Field("explanation", "超期原因（将公开）", required=True),),
    "withdraw_application": (_REASON,),
}
assert set(FORMS) == set(labels.COMMANDS)  # noqa: S101 - every command offered has its form and name


@dataclass(frozen=True)
class Choice:
    """One option of a choice: the value sent, and what people read."""

    value: str
    label: str


@dataclass(frozen=True)
class Offer:
    """A form on a page: the command, its name, its fields with their options."""

    kind: str
    title: str
    fields: tuple[tuple[Field, tuple[Choice, ...]], ...]


def offer(
    kind: str,
    *,
    matter: Matter,
    missing: Sequence[str],
    steps: Sequence[ApprovalStep],
    pending_steps: Sequence[ApprovalStep],
    department_name: Mapping[str, str],
) -> Offer:
    """The form of ``kind`` for a case of ``matter``, its options read off the case."""
    names = {m.code: m.name for m in matter.materials}

    def step_choices(chosen: Sequence[ApprovalStep]) -> tuple[Choice, ...]:
        return tuple(Choice(s.code, department_name.get(s.department, s.department)) for s in chosen)

    sources: dict[Options, tuple[Choice, ...]] = {
        Options.NONE: (),
        Options.MISSING: tuple(Choice(code, names.get(code, code)) for code in missing),
        Options.MATERIALS: tuple(Choice(m.code, m.name) for m in matter.materials),
        Options.STEPS: step_choices(steps),
        Options.PENDING_STEPS: step_choices(pending_steps),
        Options.PAUSES: tuple(Choice(code, name) for code, name in matter.pause_reasons.items()),
        Options.CHANNELS: tuple(Choice(channel.value, name) for channel, name in labels.CHANNELS.items()),
    }
    fields = tuple((field, sources[field.options]) for field in FORMS[kind])
    return Offer(kind, labels.COMMANDS[kind], fields)


def body_of_form(kind: str, posted: Mapping[str, Sequence[str]]) -> bytes:
    """The JSON body the HTTP API would take for this command, written from the posted form.

    An empty optional field is left out, as a JSON client leaves it out; an empty required one too, so
    the engine's validation names it as missing. Text is sent as typed: the engine refuses what it refuses
    from a JSON client (a control character, say), nothing is cleaned away first.
    """
    body: dict[str, Any] = {"kind": kind}
    for field in FORMS[kind]:
        values = list(posted.get(field.name, ()))
        if field.widget is Widget.MANY:
            if values:
                body[field.name] = values
            continue
        text = values[0] if values else ""
        if not text:
            continue
        body[field.name] = _json_value(field.widget, text)
    return json.dumps(body, ensure_ascii=False).encode()


def _json_value(widget: Widget, text: str) -> object:
    """The value as JSON writes it: a whole number as a number, 是/否 as a boolean, else the text."""
    if widget is Widget.NUMBER and _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    if widget is Widget.YES_NO and text in ("true", "false"):
        return text == "true"
    return text


def problems_in_chinese(kind: str, errors: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each validation problem as a line people read: the field's label and what is wrong with it."""
    field_labels = {field.name: field.label for field in FORMS.get(kind, ())}
    lines = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        name = location[0] if location else ""
        label = field_labels.get(name, name or "表单")
        lines.append(f"{label}：{labels.field_error(str(error.get('type', '')), error.get('ctx') or {})}")
    return lines
