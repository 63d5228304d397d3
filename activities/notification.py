"""The notification channels: the applicant's (SMS / portal message / written notice) and the
departments' (a step given to them, or urged)."""

from __future__ import annotations

from temporalio import activity

from activities.adapters import OutsideSystem, reached
from activities.outbox import Outbox
from workflows.messages import ApplicantNotice, DepartmentNotice

SYSTEM = "notification"
DEPARTMENTS = "department"


class NotificationActivities:
    """Sends each written notice once."""

    def __init__(self, systems: OutsideSystem | Outbox) -> None:
        self._systems = reached(systems)

    @activity.defn(name="notify_applicant")
    async def notify_applicant(self, notice: ApplicantNotice) -> None:
        """Tell the applicant (the notice kind and text name the decision and any deadline)."""
        await self._systems.deliver(SYSTEM, notice.key, notice.application_id, notice.model_dump(mode="json"))

    @activity.defn(name="notify_department")
    async def notify_department(self, notice: DepartmentNotice) -> None:
        """Tell a department of a step it was given or urged on (its work queue, in a deployment)."""
        await self._systems.deliver(
            DEPARTMENTS, notice.key, notice.application_id, notice.model_dump(mode="json")
        )
