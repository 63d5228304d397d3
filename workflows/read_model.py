"""A case's state kept in its memo, so a read is one ``DescribeWorkflowExecution`` and not a replay.

A query on a case the worker has evicted from its cache replays the whole history (about 37 ms of the
worker's one Python thread per read, with 10,000 cases open). The case therefore writes its state into its
memo whenever it changes (the same workflow task that records the change, so a decision is readable the
moment it is answered), and the client derives the view at the caller's instant and the reader's scope
with the same pure functions the ``state_for`` query uses. The memo is a payload like any other: the
codec encrypts it in history and in visibility.

Parts that rarely change (the pinned calendar, 15 of a state's 19 KB) sit under their own key and are
written again only when they change; the rest of the state is a few KB per change. A case started before
``STATE_IN_MEMO``, or a state too large for a memo, has no state there and is read through the query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from workflows.domain.access import may_read
from workflows.domain.application import ApplicationState
from workflows.domain.events import Actor
from workflows.messages import ApplicationView

# The patch cases record as they start; histories recorded before replay without writing any memo.
STATE_IN_MEMO = "state-in-memo"
# The server refuses a memo over 2 MB (limit.memoSize.error) and its log warns over limit.memoSize.warn
# (server_limits): a state past this bound is left out (readers fall back to the query) rather than risk
# the case's workflow task.
MAX_STATE_BYTES = 96 * 1024
_STATE = "state"

_S = TypeVar("_S", bound=BaseModel)
_V = TypeVar("_V", bound=BaseModel)


@dataclass(frozen=True)
class MemoReads(Generic[_S, _V]):
    """How one process keeps its state in the memo, and how a reader's view is derived from it."""

    state_type: type[_S]
    view: Callable[[_S, datetime], _V]
    may_read: Callable[[_S, Actor], bool]
    apart: tuple[str, ...] = ()  # fields under their own memo key, written only when they change

    def changes(self, state: _S, written: _S | None = None) -> dict[str, Any]:
        """The memo entries that bring the memo from ``written`` (the state last written, None at first)
        to ``state``: the state without its ``apart`` fields, and each of those that changed.

        A state too large for a memo is written as ``None``, which removes the entry: readers then ask the
        case itself rather than read a stale state.
        """
        rest = state.model_dump(mode="json", exclude=set(self.apart))
        changes: dict[str, Any] = {_STATE: rest if len(to_json(rest)) <= MAX_STATE_BYTES else None}
        for name in self.apart:
            value = getattr(state, name)
            if written is None or getattr(written, name) != value:
                changes[f"{_STATE}.{name}"] = value.model_dump(mode="json")
        return changes

    def state_of(self, memo: Mapping[str, Any]) -> _S | None:
        """The state the memo holds; None if it holds none (a case from before ``STATE_IN_MEMO``, one not
        registered yet, a state too large) or one this release cannot read."""
        rest = memo.get(_STATE)
        kept = {name: memo.get(f"{_STATE}.{name}") for name in self.apart}
        if not isinstance(rest, dict) or any(value is None for value in kept.values()):
            return None
        try:
            return self.state_type.model_validate({**rest, **kept})
        except ValidationError:
            return None

    def view_for(self, state: _S, at: datetime, reader: Actor | None) -> _V | None:
        """The view at ``at`` as ``reader`` may see it (None if the case is not theirs), as ``state_for``
        answers it; ``reader=None`` reads unscoped."""
        if reader is not None and not self.may_read(state, reader):
            return None
        return self.view(state, at)


# An application: its view and scope as its ``state_for`` query answers them; the pinned rules apart.
APPLICATION_READS = MemoReads(ApplicationState, ApplicationView.of, may_read, apart=("rules",))
