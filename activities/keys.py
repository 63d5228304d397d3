"""The worker's keys as a case sees them: read when it registers and when its trusted keys rotate.

The results are recorded in the case's history (encrypted), so replay never reads a key file again and a
rotation on disk changes no running case until an authorised command asks it to.
"""

from __future__ import annotations

import asyncio

from temporalio import activity

from workflows.identity import TrustedKeys
from workflows.messages import SecurityContext, SecurityRequest
from workflows.security import Security


class KeyActivities:
    """The trust store, the pseudonym key and the chain's hash of one worker."""

    def __init__(self, security: Security) -> None:
        self._security = security

    @activity.defn(name="security_context")
    async def security_context(self, request: SecurityRequest) -> SecurityContext:
        """What a registering case keeps: the keys it trusts, its applicant's pseudonym, its chain's hash."""
        return SecurityContext(
            trusted=await self.trusted_keys(),
            applicant_key=self._security.pseudonyms.of(request.applicant_id),
            chain_hash=self._security.chain_hash,
        )

    @activity.defn(name="trusted_keys")
    async def trusted_keys(self) -> TrustedKeys:
        """The trust store as it is now (a file that does not load fails the call, retried until it does)."""
        return await asyncio.to_thread(self._security.trusted_keys)
