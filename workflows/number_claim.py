"""NumberClaim: an application number, once registered, is never given to another case.

A raw Temporal client chooses its own id-reuse policy (``ALLOW_DUPLICATE``, ``TERMINATE_IF_RUNNING``), and
the server enforces none per workflow type. So each case, as it registers, starts this child under the id
``claim:<number>`` with ``REJECT_DUPLICATE``: the server refuses a second start for as long as it keeps
the first claim, whatever became of the case. A later run of the same number finds the claim taken and
fails ``AlreadySubmitted``; the claim's result names the run that holds the number, which is how readers
find the original record behind it. A case refused at registration never claims, so its number stays free.
"""

from __future__ import annotations

from temporalio import workflow

CLAIM_PREFIX = "claim:"


def claim_id(application_number: str) -> str:
    """The workflow id of a number's claim."""
    return f"{CLAIM_PREFIX}{application_number}"


@workflow.defn
class NumberClaim:
    """Holds one number for the run that registered it (the claim completes at once: it is a record)."""

    @workflow.run
    async def run(self, holder_run_id: str) -> str:
        """The run id of the case that holds the number."""
        return holder_run_id
