"""The licensing system (电子证照): issue and revoke licences."""

from __future__ import annotations

from temporalio import activity

from activities.adapters import OutsideSystem, reached
from activities.outbox import Outbox
from workflows.messages import LicenceRequest, LicenceRevocation

SYSTEM = "licensing"


class LicensingActivities:
    """Issues and revokes through the outside-system adapter; a retry returns the licence number first
    issued (and tells the licensing system that number again, under the same key)."""

    def __init__(self, systems: OutsideSystem | Outbox) -> None:
        self._systems = reached(systems)

    @activity.defn(name="issue_licence")
    async def issue_licence(self, request: LicenceRequest) -> str:
        """The licence number for the case (one per case, however often retried)."""
        number = f"{request.matter_code.split('.')[0]}-{request.application_id}"
        payload = {"action": "issue", "licence_number": number, **request.model_dump(mode="json")}
        stored = await self._systems.deliver(SYSTEM, request.key, request.application_id, payload)
        activity.logger.info(
            "licence_issued", extra={"application_id": request.application_id, "licence": number}
        )
        return str(stored["licence_number"])

    @activity.defn(name="revoke_licence")
    async def revoke_licence(self, request: LicenceRevocation) -> None:
        """Revoke the licence (recorded once)."""
        payload = {"action": "revoke", **request.model_dump(mode="json")}
        await self._systems.deliver(SYSTEM, request.key, request.application_id, payload)
