"""The licensing system (电子证照): issue and revoke licences."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from activities.outbox import Outbox
from workflows.messages import LicenceRequest, LicenceRevocation

SYSTEM = "licensing"


class LicensingActivities:
    """Issues and revokes through the outbox; a retry returns the licence number first issued."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    @activity.defn(name="issue_licence")
    async def issue_licence(self, request: LicenceRequest) -> str:
        """The licence number for the case (one per case, however often retried)."""
        number = f"{request.matter_code.split('.')[0]}-{request.application_id}"
        payload = {"action": "issue", "licence_number": number, **request.model_dump(mode="json")}
        stored = await self._outbox.record(
            SYSTEM, request.key, request.application_id, datetime.now(UTC), payload
        )
        activity.logger.info(
            "licence_issued", extra={"application_id": request.application_id, "licence": number}
        )
        return str(stored["licence_number"])

    @activity.defn(name="revoke_licence")
    async def revoke_licence(self, request: LicenceRevocation) -> None:
        """Revoke the licence (recorded once)."""
        payload = {"action": "revoke", **request.model_dump(mode="json")}
        await self._outbox.record(SYSTEM, request.key, request.application_id, datetime.now(UTC), payload)
