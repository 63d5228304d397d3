"""NumberClaim: an application number, once registered, is never given to another case.

A raw Temporal client chooses its own id-reuse policy (``ALLOW_DUPLICATE``, ``TERMINATE_IF_RUNNING``), and
the server enforces none per workflow type. So each case, as it registers, has its worker start this
workflow under the id ``claim:<number>`` with ``REJECT_DUPLICATE`` (``activities.claims``): the server
refuses a second start for as long as it keeps the first claim, whatever became of the case. A later run
of the same number finds the claim taken and fails ``AlreadySubmitted``; the claim's result names the
case's chain of runs (its first run's id, which a reset or a retried start keeps), which is how readers
find the original record behind a refused duplicate. A case refused at registration never claims, so its
number stays free.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import workflow

CLAIM_PREFIX = "claim:"


def claim_id(application_number: str) -> str:
    """The workflow id of a number's claim."""
    return f"{CLAIM_PREFIX}{application_number}"


class Claim(BaseModel):
    """A case asking to hold its number: the number and the first run of the case's chain. The same
    claim holds any other value that must be unique in the namespace (a unified social credit code),
    its holder then ``<workflow id>/<first run id>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_number: str
    holder: str


# It only returns its input: no sandbox needed, and none paid for (a fresh one per run costs real time).
@workflow.defn(sandboxed=False)
class NumberClaim:
    """Holds one number for the chain of runs that registered it (it completes at once: it is a record)."""

    @workflow.run
    async def run(self, holder: str) -> str:
        """The first run id of the case that holds the number."""
        return holder
