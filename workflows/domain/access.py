"""Who reads which case (DESIGN.md section 1): each person only what their role covers.

A case names its readers as keys (``case_readers``), a person holds keys (``reader_keys``), and one key in
common lets them read it. The same keys are the case's ``OwReaders`` search attribute, so a list is
filtered by the very rule that a single read is checked by.

- supervisors, hotline operators and the government's leaders (本级人民政府负责人) read every case;
- an applicant reads their own cases, a steward the cases assigned to them;
- an approver or department head reads the cases of their department's matters;
- a window officer reads the cases at the window (awaiting acceptance, awaiting materials still missing
  or promised, or approved and awaiting release) and every case they have acted on;
- an intake system reads the cases it submitted.

Whoever may give a command on a case may read it, so a command from anyone else is answered as if the
case did not exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from workflows.domain.application import ApplicationState, Status
from workflows.domain.events import Actor, Role
from workflows.domain.values import person_key

READS_EVERYTHING = frozenset({Role.SUPERVISOR, Role.HOTLINE_OPERATOR, Role.GOVERNMENT_LEADER})
AT_THE_WINDOW = frozenset({Status.RECEIVED, Status.CORRECTION_REQUESTED, Status.APPROVED})


def applicant_pseudonym(id_number: str) -> str:
    """A stable pseudonym for an identity number, searchable without exposing it."""
    return hashlib.sha256(person_key(id_number).encode()).hexdigest()[:16]


def case_readers(state: ApplicationState) -> tuple[str, ...]:
    """The keys that may read the case (besides the roles that read everything), in a stable order."""
    keys = [f"applicant:{applicant_pseudonym(state.applicant.id_number)}"]
    if state.submitted_by.role is Role.SYSTEM:  # people who submit read through their own role's key
        keys.append(f"submitter:{state.submitted_by.key}")
    keys += [f"department:{department}" for department in state.matter.departments]
    if state.steward is not None:
        keys.append(f"steward:{state.steward.key}")
    if state.status in AT_THE_WINDOW or state.missing or state.outstanding:
        keys.append("window")
    keys += [f"window:{officer}" for officer in sorted(state.window_officers)]
    return tuple(dict.fromkeys(keys))


# The keys each role's reader holds, as data (the roles in READS_EVERYTHING hold none: they need none).
_KEYS_OF_ROLE: Mapping[Role, Callable[[Actor], tuple[str, ...]]] = {
    Role.APPLICANT: lambda reader: (f"applicant:{applicant_pseudonym(reader.id)}",),
    Role.STEWARD: lambda reader: (f"steward:{reader.key}",),
    Role.APPROVER: lambda reader: (f"department:{reader.department}",),
    Role.DEPARTMENT_HEAD: lambda reader: (f"department:{reader.department}",),
    Role.WINDOW_OFFICER: lambda reader: ("window", f"window:{reader.key}"),
    Role.SYSTEM: lambda reader: (f"submitter:{reader.key}",),
}


def reader_keys(reader: Actor) -> tuple[str, ...] | None:
    """The keys ``reader`` holds; None for a role that reads every case."""
    if reader.role in READS_EVERYTHING:
        return None
    return _KEYS_OF_ROLE[reader.role](reader)


def may_read(state: ApplicationState, reader: Actor) -> bool:
    """Whether ``reader`` may read the case: their role reads everything, or they share a key with it."""
    keys = reader_keys(reader)
    return keys is None or not set(keys).isdisjoint(case_readers(state))
