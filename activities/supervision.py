"""The supervision platform (电子监察 / 审批监管联动): approval results and escalations (督办)."""

from __future__ import annotations

from temporalio import activity

from activities.adapters import OutsideSystem, reached
from activities.outbox import Outbox
from workflows.messages import Escalation, SupervisionPush

SYSTEM = "supervision"


class SupervisionActivities:
    """Pushes results and escalations to the supervising departments, once per key."""

    def __init__(self, systems: OutsideSystem | Outbox) -> None:
        self._systems = reached(systems)

    @activity.defn(name="push_to_supervision")
    async def push_to_supervision(self, push: SupervisionPush) -> None:
        """审批监管联动: supervisors read the result and must not ask the applicant again."""
        payload = {"action": "result", **push.model_dump(mode="json")}
        await self._systems.deliver(SYSTEM, push.key, push.application_id, payload)

    @activity.defn(name="escalate")
    async def escalate(self, escalation: Escalation) -> None:
        """督办: an overdue case is escalated and needs a published explanation (优化营商环境条例 第36条)."""
        payload = {"action": "escalate", **escalation.model_dump(mode="json")}
        await self._systems.deliver(SYSTEM, escalation.key, escalation.application_id, payload)
        activity.logger.warning(
            "case_escalated",
            extra={"application_id": escalation.application_id, "subject": escalation.subject},
        )
