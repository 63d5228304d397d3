"""The written notices and decisions a case has made, read off its events (R-XK-32b, R-XK-38).

Nothing here is stored twice: a notice is the event that made it, with the number the engine gave it
(``notice_number``: the event's place in the log, so unique per case and stable under replay), its date,
its officer and its reason, and the items it lists. The approval and denial decisions carry no number
field of their own; the same rule numbers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from workflows.domain.application import notice_number
from workflows.domain.events import (
    AcceptedWithDeficiencies,
    Actor,
    ApplicationAccepted,
    ApplicationApproved,
    ApplicationDenied,
    ApplicationEvent,
    ApplicationNotAccepted,
    ApplicationReferred,
    ApplicationSubmitted,
    ApprovalRecorded,
    CorrectionRequested,
)


class NoticeKind(StrEnum):
    """Which document it is, named as the law names it."""

    ACCEPTANCE = "受理通知书"
    DEFICIENCY_ACCEPTANCE = "容缺受理通知书"
    CORRECTION = "补正材料告知书"
    NOT_ACCEPTED = "不予受理决定书"
    REFERRAL = "不予受理告知书"  # R-XK-32c: not this organ's competence; apply to the competent one
    APPROVAL = "准予行政许可决定书"
    DENIAL = "不予行政许可决定书"


class Notice(BaseModel):
    """One written notice or decision, as handed to the applicant."""

    model_config = ConfigDict(frozen=True)

    number: str
    kind: NoticeKind
    issued_at: datetime
    issued_by: Actor
    reason: str
    applicant: str
    matter_name: str
    items: tuple[str, ...] = ()  # materials to bring (补正, 容缺), each once, by name
    supplement_within: int | None = None  # 容缺: working days after acceptance
    commitment: str | None = None  # 容缺: the signed 承诺书's reference
    departments: tuple[str, ...] = ()  # the deciding departments (codes), for a decision
    competent_organ: str | None = None  # R-XK-32c: where to apply instead


def notices(events: Sequence[ApplicationEvent]) -> tuple[Notice, ...]:
    """Every notice the case has made, in the order it made them."""
    if not events or not isinstance(events[0], ApplicationSubmitted):
        return ()
    opened = events[0]
    names = {material.code: material.name for material in opened.matter.materials}
    deciders: list[str] = []
    found: list[Notice] = []
    for sequence, event in enumerate(events, start=1):
        if isinstance(event, ApprovalRecorded) and event.department not in deciders:
            deciders.append(event.department)
        kind, items, fields = _notice_of(event, deciders)
        if kind is None:
            continue
        found.append(
            Notice(
                number=notice_number(opened.application_id, sequence),
                kind=kind,
                issued_at=event.at,
                issued_by=event.actor,
                reason=event.reason,
                applicant=opened.applicant.name,
                matter_name=opened.matter.name,
                items=tuple(dict.fromkeys(names.get(code, code) for code in items)),
                **fields,
            )
        )
    return tuple(found)


_KINDS: dict[type[BaseModel], NoticeKind] = {
    ApplicationAccepted: NoticeKind.ACCEPTANCE,
    AcceptedWithDeficiencies: NoticeKind.DEFICIENCY_ACCEPTANCE,
    CorrectionRequested: NoticeKind.CORRECTION,
    ApplicationNotAccepted: NoticeKind.NOT_ACCEPTED,
    ApplicationReferred: NoticeKind.REFERRAL,
    ApplicationApproved: NoticeKind.APPROVAL,
    ApplicationDenied: NoticeKind.DENIAL,
}


def _notice_of(
    event: ApplicationEvent, deciders: Sequence[str]
) -> tuple[NoticeKind | None, Sequence[str], dict[str, object]]:
    """The kind of notice ``event`` made (None: no notice), the materials it lists, and its own fields."""
    kind = _KINDS.get(type(event))
    fields: dict[str, object] = {}
    items: Sequence[str] = ()
    if isinstance(event, AcceptedWithDeficiencies):
        fields = {"supplement_within": event.supplement_within, "commitment": event.commitment}
    if isinstance(event, AcceptedWithDeficiencies | CorrectionRequested):
        items = event.missing
    if isinstance(event, ApplicationReferred):
        fields = {"competent_organ": event.competent_organ}
    if kind in (NoticeKind.APPROVAL, NoticeKind.DENIAL):
        fields = {"departments": tuple(deciders)}
    return kind, items, fields
