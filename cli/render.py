"""What people read: aligned tables and short texts, in Shanghai time, apart from how the data arrived.

``--json`` bypasses all of this and prints the models, with their ``+08:00`` offsets.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from enum import Enum

from workflows.client import CaseSummary
from workflows.domain.calendar import SHANGHAI, deadline_text
from workflows.domain.catalogue import Catalogue, Importance, Matter, Variant
from workflows.domain.clock import DeadlinePlan, DeadlineRules
from workflows.domain.complaint import ComplaintEvent, ComplaintView
from workflows.domain.composite import CompositePlan, Part, PartReading
from workflows.domain.consultation import ConsultationEvent, ConsultationView
from workflows.domain.establishment import EstablishmentEvent, EstablishmentProgress
from workflows.domain.events import Actor, Applicant, ApplicationEvent
from workflows.domain.project import ProjectEvent, ProjectProgress
from workflows.messages import ApplicationView

NO_VALUE = "—"

# The events of every process: the audit trail prints them alike.
AnyEvent = ApplicationEvent | ProjectEvent | EstablishmentEvent | ConsultationEvent | ComplaintEvent


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def table(headers: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned by display width, two spaces apart; no trailing blanks."""
    lines = [list(headers), *map(list, rows)] if headers else [list(row) for row in rows]
    widths = [max(_width(line[column]) for line in lines) for column in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(line)).rstrip()
        for line in lines
    )


def _fields(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of the rows that have a value."""
    return table(None, [row for row in rows if row[1]])


def _moment(instant: datetime | None) -> str:
    """An instant in Shanghai time, to the second (the audit trail's precision)."""
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if instant else NO_VALUE


def _deadline(instant: datetime | None) -> str:
    """A deadline in Shanghai time; one at midnight reads as 24:00 of its last day, as the law counts."""
    return NO_VALUE if instant is None else deadline_text(instant)


def _actor(actor: Actor) -> str:
    role = f"{actor.role.value}/{actor.department}" if actor.department else actor.role.value
    return f"{actor.id} ({role})"


def _plan(plan: DeadlinePlan) -> str:
    parts = []
    if plan.acceptance_by:
        parts.append(f"acceptance by {_deadline(plan.acceptance_by)}")
    if plan.decision:
        parts.append(f"decision by {_deadline(plan.decision.due_at)}")
    if plan.stage and plan.stage_due_at:
        parts.append(f"stage {plan.stage} by {_deadline(plan.stage_due_at)}")
    if plan.supplement_by:
        parts.append(f"supplement by {_deadline(plan.supplement_by)}")
    if plan.delivery_by:
        parts.append(f"delivery by {_deadline(plan.delivery_by)}")
    parts.append(f"calendar {plan.calendar_version}{' provisional' if plan.provisional else ''}")
    return ", ".join(parts)


def _value(value: object) -> str:  # noqa: PLR0911, PLR0912 - one return per kind of value, a table
    """One field of an event, short: a matter by its code, a person by id and role, a plan by its dates."""
    match value:
        case DeadlinePlan():
            return _plan(value)
        case CompositePlan():
            stage = f"stage by {_deadline(value.stage_due_at)}, " if value.stage_due_at else ""
            return f"{stage}whole by {_deadline(value.due_at)}" if value.due_at else "no clock running"
        case Part():  # a matter of a composite process: its application
            return value.application_id + (" (simulated)" if value.simulated else "")
        case PartReading():
            return f"{value.application_id} {value.status.value}"
        case DeadlineRules():  # the calendar pinned in the case (R-CAL-4): its version and years suffice
            years = [year.year for year in value.calendar.years]
            return f"calendar {value.version} ({min(years, default='-')}-{max(years, default='-')})"
        case Actor():
            return _actor(value)
        case Matter():  # the whole catalogue entry copied into the first event: its code is enough here
            return value.code
        case Applicant():
            return value.name
        case bool():
            return "yes" if value else "no"
        case datetime():
            return _moment(value)
        case Enum():
            return str(value.value)
        case tuple():
            return ",".join(_value(item) for item in value)
        case _:
            return str(value)


_COMMON_EVENT_FIELDS = frozenset({"kind", "at", "actor", "reason", "application_id"})


def _details(event: AnyEvent) -> str:
    return " ".join(
        f"{name}={_value(value)}"
        for name, value in event
        if name not in _COMMON_EVENT_FIELDS and value not in (None, (), "")
    )


def _counted(view: ApplicationView) -> str:
    if view.working_days_used is None:
        return ""
    left = NO_VALUE if view.working_days_left is None else view.working_days_left
    text = f"{view.working_days_used} used, {left} left, {view.working_days_suspended} suspended"
    return text + (f", {view.working_days_overdue} overdue" if view.working_days_overdue else "")


def view_text(view: ApplicationView, may_now: Sequence[str]) -> str:
    """The state view as a two-column table, empty fields left out, ending with the reader's verbs."""
    due = _deadline(view.due_at) + (" (provisional calendar)" if view.provisional else "")
    rows: list[tuple[str, str]] = [
        ("application", view.application_id),
        ("matter", f"{view.matter_code} {view.matter_name}"),
        ("status", view.status.value + (" (closed)" if view.closed else "")),
        ("green channel", "yes" if view.green_channel else "no"),
        ("steward", _actor(view.steward) if view.steward else ""),
        ("received", _moment(view.received_at)),
        ("acceptance by", _deadline(view.acceptance_by) if view.acceptance_by else ""),
        ("due", due if view.due_at else ""),
        (
            "internal target",
            f"{_deadline(view.internal_target_by)} ({view.internal_target_days} working days; warning "
            f"{view.internal_warning_level.value})"
            if view.internal_target_by
            else "",
        ),
        ("working days", _counted(view)),
        ("resume by", _deadline(view.resume_expected_by) if view.resume_expected_by else ""),
        ("warning", view.warning_level.value),
        ("stage", f"{view.stage} by {_deadline(view.stage_due_at)}" if view.stage_due_at else ""),
        ("missing", ", ".join(view.missing)),
        ("outstanding", ", ".join(view.outstanding)),
        ("supplement by", _deadline(view.supplement_by) if view.supplement_by else ""),
        ("delivery by", _deadline(view.delivery_by) if view.delivery_by else ""),
        ("returned for", ", ".join(view.returned)),
        *[("handed on", f"{step} to {', '.join(who)}") for step, who in view.assignments.items()],
        *[("urged", f"{step} ×{count}") for step, count in view.urges.items()],
        ("consultation", view.consultation_id or ""),
        ("checked before", ", ".join(view.checked_in_consultation)),
        *[("opinion", f"{o.department} ({o.given_by}): {o.opinion}") for o in view.opinions],
        ("commitment", view.commitment or ""),
        ("verification", view.verification.value if view.verification else ""),
        ("verify by", _deadline(view.verification_by) if view.verification_by else ""),
        ("rectify by", _deadline(view.rectification_by) if view.rectification_by else ""),
        ("decided", _moment(view.decided_at) if view.decided_at else ""),
        ("issued", _moment(view.issued_at) if view.issued_at else ""),
        ("closed", _moment(view.closed_at) if view.closed_at else ""),
        ("licence", view.licence_number or ""),
        ("calendar", view.calendar_version or ""),
        ("events", str(view.event_count)),
    ]
    rows += [("may now", verb) for verb in may_now]
    return _fields(rows)


def progress_text(progress: ProjectProgress, may_now: Sequence[str]) -> str:
    """A project's progress: the whole, then one row per stage and one per matter, and the reader's verbs."""
    left = progress.working_days_left
    rows: list[tuple[str, str]] = [
        ("project", progress.project_id),
        ("matter", f"{progress.matter_code} {progress.matter_name}"),
        ("type", progress.project_type or ""),
        ("status", progress.status.value + (" (closed)" if progress.closed else "")),
        ("waiting for", "the applicant (the clock stands)" if progress.waiting_for_applicant else ""),
        ("due", _deadline(progress.due_at) if progress.due_at else ""),
        (
            "working days",
            f"{progress.working_days_used} of {progress.working_days_budget} used, {left} left;"
            f" {progress.working_days_elapsed} elapsed",
        ),
        ("warning", progress.warning_level.value),
        ("reason", progress.reason),
        ("events", str(progress.event_count)),
    ]
    rows += [("may now", verb) for verb in may_now]
    stages = [
        (
            stage.code,
            stage.status,
            NO_VALUE if stage.working_days_used is None else str(stage.working_days_used),
            NO_VALUE if stage.working_days_budget is None else str(stage.working_days_budget),
            _deadline(stage.due_at) if stage.due_at else NO_VALUE,
            stage.warning_level.value,
            ", ".join(stage.materials_missing),
        )
        for stage in progress.stages
    ]
    matters = [
        (
            stage.code,
            matter.code,
            matter.status,
            matter.application_id or NO_VALUE,
            matter.licence_number or "",
        )
        for stage in progress.stages
        for matter in stage.matters
    ]
    return "\n\n".join(
        (
            _fields(rows),
            table(("stage", "status", "used", "budget", "due", "warning", "missing"), stages),
            table(("stage", "matter", "status", "application", "licence"), matters),
        )
    )


def establishment_text(progress: EstablishmentProgress, may_now: Sequence[str]) -> str:
    """An establishment: the whole and its one clock, then one row per sub-item, and the reader's verbs."""
    rows: list[tuple[str, str]] = [
        ("establishment", progress.establishment_id),
        ("matter", f"{progress.matter_code} {progress.matter_name}"),
        ("status", progress.status.value + (" (closed)" if progress.closed else "")),
        ("credit code", progress.credit_code or ""),
        ("accepted", _moment(progress.accepted_at) if progress.accepted_at else ""),
        ("due", _deadline(progress.due_at) if progress.due_at else ""),
        (
            "working days",
            f"{progress.working_days_used} of {progress.working_days_budget} used,"
            f" {progress.working_days_left} left; {progress.working_days_elapsed} elapsed",
        ),
        ("warning", progress.warning_level.value),
        ("missing", ", ".join(progress.missing)),
        ("reason", progress.reason),
        ("events", str(progress.event_count)),
    ]
    rows += [("may now", verb) for verb in may_now]
    items = [
        (item.code, item.status, item.application_id or NO_VALUE, item.licence_number or "")
        for item in progress.items
    ]
    return "\n\n".join(
        (_fields(rows), table(("item", "status", "application", "licence / reference"), items))
    )


def consultation_text(view: ConsultationView, may_now: Sequence[str]) -> str:
    """A consultation (提前介入): what was brought and checked, the opinions, who is awaited, the verbs."""
    rows: list[tuple[str, str]] = [
        ("consultation", view.consultation_id),
        ("matter", f"{view.matter_code} {view.matter_name}"),
        ("status", view.status.value + (" (closed)" if view.closed else "")),
        ("steward", _actor(view.steward) if view.steward else ""),
        ("opened", _moment(view.opened_at)),
        ("lapses", _deadline(view.lapses_at) if view.lapses_at else ""),
        ("brought", ", ".join(view.materials)),
        ("checked", ", ".join(view.checked)),
        ("unchecked", ", ".join(view.unchecked)),
        ("awaited", ", ".join(view.departments_awaited)),
        *[("opinion", f"{o.department} ({o.given_by}): {o.opinion}") for o in view.opinions],
        ("events", str(view.event_count)),
    ]
    rows += [("may now", verb) for verb in may_now]
    return _fields(rows)


def complaint_text(view: ComplaintView, may_now: Sequence[str]) -> str:
    """A 12345/8890 complaint: where it is dispatched, its handling deadline, the reply and rating."""
    rows: list[tuple[str, str]] = [
        ("complaint", view.complaint_id),
        ("category", f"{view.category_code} {view.category_name}"),
        ("status", view.status.value + (" (closed)" if view.closed else "")),
        ("department", view.department),
        ("concerns", view.application_id or ""),
        ("dispatched", _moment(view.dispatched_at)),
        ("return until", _moment(view.misroute_until) if view.misroute_until else ""),
        ("handle by", _deadline(view.handling_due_at) if view.handling_due_at else ""),
        ("working days", _used(view.working_days_used, view.working_days_left)),
        ("warning", view.warning_level.value if view.warning_level.value != "none" else ""),
        ("reopened", str(view.reopen_count) if view.reopen_count else ""),
        ("reply", view.reply or ""),
        ("rating", view.rating.chinese if view.rating else ""),
        ("merged into", view.merged_into or ""),
        ("supervised", "jointly (督办)" if view.supervised else ""),
        ("events", str(view.event_count)),
    ]
    rows += [("may now", verb) for verb in may_now]
    return _fields(rows)


def _used(used: int | None, left: int | None) -> str:
    return "" if used is None else f"{used} used, {left} left"


def events_text(events: Sequence[AnyEvent]) -> str:
    """The audit trail, one numbered row per event."""
    rows = [
        (str(number), _moment(event.at), _actor(event.actor), event.kind, event.reason, _details(event))
        for number, event in enumerate(events, start=1)
    ]
    return table(("#", "at (Shanghai)", "actor", "event", "reason", "details"), rows)


def cases_text(cases: Sequence[CaseSummary]) -> str:
    """One row per case of a list, or a word when there is none."""
    if not cases:
        return "no cases"
    rows = [
        (
            case.application_id,
            case.status or NO_VALUE,
            case.matter or NO_VALUE,
            ",".join(case.departments) or NO_VALUE,
            _deadline(case.due_at),
            case.warning_level or NO_VALUE,
            "yes" if case.green_channel else "no",
        )
        for case in cases
    ]
    return table(("application", "status", "matter", "departments", "due", "warning", "green"), rows)


# --- the catalogue ------------------------------------------------------------------------------------------


def _limits(promised: int | None, statutory: int) -> str:
    """A matter's limits in working days (R-XK-82): the promise the engine enforces, and the law's."""
    if promised is None:
        return f"{_days(statutory)} (statutory)"
    return f"{_days(promised)} promised, {statutory} statutory"


def _days(days: int) -> str:
    return "1 working day" if days == 1 else f"{days} working days"


def _materials(matter: Matter, importance: Importance) -> str:
    return ", ".join(m.code for m in matter.materials if m.importance is importance)


def _summary_rows(matter: Matter) -> list[tuple[str, str]]:
    """What a listing says of each matter: enough to fill ``submit``'s flags."""
    return [
        ("departments", ", ".join(matter.departments)),
        ("limits", _limits(matter.promised_limit, matter.statutory_limit)),
        ("core", _materials(matter, Importance.CORE)),
        ("secondary", _materials(matter, Importance.SECONDARY)),
        ("types", ", ".join(f"{matter.code}.{variant.code}" for variant in matter.variants)),
    ]


def catalogue_text(catalogue: Catalogue) -> str:
    """Every matter of the catalogue: code and name, then its departments, limits, materials and types."""
    blocks = [
        f"{matter.code}  {matter.name}\n" + _indented(_fields(_summary_rows(matter)))
        for matter in catalogue.matters
    ]
    return f"catalogue {catalogue.version}\n\n" + "\n\n".join(blocks)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _variant(matter: Matter, variant: Variant) -> str:
    """A type as ``submit --matter`` takes it, with its own limits (the matter's statutory one if unset)."""
    limits = _limits(variant.promised_limit, variant.statutory_limit or matter.statutory_limit)
    return f"{matter.code}.{variant.code} {variant.name}: {limits}"


def matter_text(matter: Matter) -> str:
    """One matter in full: its law, how it is decided, each material, type, pause and stage."""
    extension = f"+{_days(matter.extension_limit)} (its own law)" if matter.extension_limit else ""
    rows = [
        ("matter", f"{matter.code} {matter.name}"),
        ("legal basis", matter.legal_basis),
        ("departments", ", ".join(matter.departments)),
        ("approval", matter.approval.value),
        ("limits", _limits(matter.promised_limit, matter.statutory_limit)),
        ("extension", extension),
        ("acceptance", matter.acceptance.value),
        ("容缺", matter.deficiency_mode.value),
        ("告知承诺", "allowed" if matter.commitment_allowed else "not allowed"),
    ]
    rows += [("material", f"{m.code} ({m.importance.value}) {m.name}") for m in matter.materials]
    rows += [("type", _variant(matter, variant)) for variant in matter.variants]
    rows += [("pause", f"{p.code} {p.name} ({p.legal_basis})") for p in matter.clock_pauses]
    rows += [
        (
            "stage",
            f"{s.code} {s.name}, led by {s.lead_department}"
            + (f", {s.working_days} working days" if s.working_days else "")
            + ": "
            + ", ".join(f"{m.code} ({m.department})" for m in s.matters),
        )
        for s in matter.stages
    ]
    return _fields(rows)
