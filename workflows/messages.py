"""The workflow's wire contract: the intake message that starts a case and the view a query returns.

Plain pydantic models, so every payload is plain JSON that the ``temporal`` CLI can send and read.
"""

from __future__ import annotations

import hashlib

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.domain.application import ApplicationState, ApprovalStep, Status
from workflows.domain.catalogue import Matter
from workflows.domain.events import Actor, Applicant, Channel

TASK_QUEUE = "onewindow"


class Intake(BaseModel):
    """What an intake system sends to open a case; the workflow id is the application number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor = Field(description="The intake system or window officer submitting.")
    applicant: Applicant
    matter_code: str = Field(min_length=1, description="Catalogue code, 'CODE' or 'CODE.TYPE'.")
    materials: tuple[str, ...] = ()
    channel: Channel
    received_at: AwareDatetime
    green_channel: bool = False
    steward: Actor | None = None


class CatalogueEntry(BaseModel):
    """The catalogue entry in force when a case starts, with the catalogue's version."""

    model_config = ConfigDict(frozen=True)

    catalogue_version: str
    matter: Matter


class ApplicationView(BaseModel):
    """What supervisors and portals read of a case (the ``state`` query)."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    matter_code: str
    matter_name: str
    status: Status
    closed: bool
    green_channel: bool
    missing: tuple[str, ...]
    outstanding: tuple[str, ...]
    pending_steps: tuple[ApprovalStep, ...]
    licence_number: str | None
    event_count: int

    @classmethod
    def of(cls, state: ApplicationState) -> ApplicationView:
        """The view derived from the folded state; nothing is stored twice."""
        return cls(
            application_id=state.application_id,
            matter_code=state.matter.code,
            matter_name=state.matter.name,
            status=state.status,
            closed=state.closed,
            green_channel=state.green_channel,
            missing=state.missing,
            outstanding=state.outstanding,
            pending_steps=state.pending_steps,
            licence_number=state.licence_number,
            event_count=state.version,
        )


def applicant_hash(id_number: str) -> str:
    """A stable pseudonym for the applicant's identity number, searchable without exposing it."""
    return hashlib.sha256(id_number.encode()).hexdigest()[:16]
