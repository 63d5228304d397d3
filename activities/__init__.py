"""Activities: the only code that talks to systems outside the workflow (one module per system)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.adapters import AdapterSettings, outside_systems
from activities.audit import AuditActivities, AuditLog
from activities.catalogue import CatalogueActivities
from activities.claims import claim_number
from activities.credit import CreditActivities, CreditPlatform
from activities.deadlines import DeadlineActivities
from activities.effects import EffectActivities, performer
from activities.keys import KeyActivities
from activities.licensing import LicensingActivities
from activities.notification import NotificationActivities
from activities.outbox import Outbox
from activities.peers import (
    concerned_application,
    read_complaint,
    read_consultation,
    read_parts,
    read_project,
)
from activities.scheduling import set_case_priority
from activities.stewards import StewardActivities
from activities.supervision import SupervisionActivities
from workflows.domain.calendar import RestDayReceipt
from workflows.domain.catalogue import Catalogue
from workflows.domain.clock import WarningPolicy
from workflows.domain.credit import DEFAULT_BAR_MONTHS
from workflows.messages import (
    ApplicantNotice,
    CreditEntry,
    DepartmentNotice,
    Escalation,
    LicenceRevocation,
    PriorityChange,
    SupervisionPush,
)
from workflows.reference_data import CalendarSource
from workflows.security import Security
from workflows.steward_register import DEFAULT_CAPACITY


def all_activities(
    catalogue: Catalogue,
    calendar: CalendarSource,
    outbox: Outbox,
    policy: WarningPolicy,
    *,
    security: Security,
    audit: AuditLog,
    receipt_policy: RestDayReceipt = RestDayReceipt.NEXT_WORKING_DAY_IS_DAY_ONE,
    credit_bar_months: int = DEFAULT_BAR_MONTHS,
    credit_platform: CreditPlatform | None = None,
    steward_capacity: int = DEFAULT_CAPACITY,
    adapters: AdapterSettings | None = None,
) -> list[Callable[..., Any]]:
    """Every activity a onewindow worker registers, wired to its outside systems and its keys.

    Notification, licensing and supervision are told over HTTP where ``adapters`` gives them an endpoint,
    else through ``outbox``. Credit records go to ``credit_platform`` (the city's), else to the register
    embedded in Temporal; a steward holds at most ``steward_capacity`` open cases at once.
    """
    keys = KeyActivities(security)
    systems = outside_systems(outbox, adapters)
    notification = NotificationActivities(systems)
    licensing = LicensingActivities(systems)
    supervision = SupervisionActivities(systems)
    credit = CreditActivities(
        outbox, security.pseudonyms.of, platform=credit_platform, bar_months=credit_bar_months
    )
    stewards = StewardActivities(steward_capacity)
    catalogue_activities = CatalogueActivities(catalogue)
    effects = EffectActivities(
        audit,
        {
            "notify_applicant": performer(ApplicantNotice, notification.notify_applicant),
            "notify_department": performer(DepartmentNotice, notification.notify_department),
            "push_to_supervision": performer(SupervisionPush, supervision.push_to_supervision),
            "escalate": performer(Escalation, supervision.escalate),
            "revoke_licence": performer(LicenceRevocation, licensing.revoke_licence),
            "write_credit_record": performer(CreditEntry, credit.write_credit_record),
            "set_case_priority": performer(PriorityChange, set_case_priority),
        },
    )
    return [
        effects.perform_effects,
        catalogue_activities.lookup_matter,
        catalogue_activities.lookup_complaint_category,
        DeadlineActivities(calendar, policy, receipt_policy).deadline_rules,
        licensing.issue_licence,
        licensing.revoke_licence,
        supervision.push_to_supervision,
        supervision.escalate,
        notification.notify_applicant,
        notification.notify_department,
        credit.write_credit_record,
        credit.check_credit,
        stewards.hold_steward,
        stewards.release_steward,
        set_case_priority,
        keys.security_context,
        keys.trusted_keys,
        AuditActivities(audit).record_audit,
        claim_number,
        read_parts,
        read_project,
        read_consultation,
        read_complaint,
        concerned_application,
    ]
