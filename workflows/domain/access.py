"""Who reads which case, and who may address it at all (DESIGN.md section 1): each person only what their
role covers.

A case names its readers as keys (``case_readers``), a person holds keys (``reader_keys``), and one key in
common lets them read it. The same keys are the case's ``OwReaders`` search attribute, so a list is
filtered by the very rule that a single read is checked by.

- supervisors, hotline operators and the government's leaders (本级人民政府负责人) read every case;
- an applicant reads their own cases, a steward the cases assigned to them;
- an approver or department head reads the cases of their department's matters, and those a step was
  added to their department on (加签);
- a window officer reads the cases at the window (awaiting acceptance, returned or awaiting materials
  still missing or promised, or approved and awaiting release), the cases they accepted or refused, and
  the cases they have acted on among the first ``MAX_WINDOW_READERS`` officers to act;
- an intake system reads the cases it submitted.

Whoever may give a command on a case may read it, so a command from anyone else is answered as if the
case did not exist (``admit``). A person appears in the keys by a digest of their identifier, never the
identifier itself: no identity number reaches a search attribute, and every key has the same short length,
so the attribute stays within Temporal's limit for one value however the ids are spelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from workflows.domain.application import ApplicationState, Status
from workflows.domain.commands import AcceptWithDeficiencies, ApplicationCommand, ReviseTrustedKeys
from workflows.domain.digests import sha256_hex
from workflows.domain.errors import InvalidCommand, NotAuthorised, UnknownApplication
from workflows.domain.events import Actor, Role
from workflows.domain.values import person_key

READS_EVERYTHING = frozenset({Role.SUPERVISOR, Role.HOTLINE_OPERATOR, Role.GOVERNMENT_LEADER})
AT_THE_WINDOW = frozenset({Status.RECEIVED, Status.CORRECTION_REQUESTED, Status.RETURNED, Status.APPROVED})
# The window officers who keep a key of their own on a case: the first ones to act on it, and whoever
# decided its acceptance; any later one reads it while it is at the window. Bounds OwReaders, whose value
# Temporal limits to 2 KB (32 keys of 23 characters leave room for the case's other readers).
MAX_WINDOW_READERS = 32


def pseudonym(identifier: str) -> str:
    """A stable, short stand-in for a staff member's or a system's identifier, searchable by equality.

    An applicant's identity number is never digested this way (a plain hash of a number drawn from a
    small space is inverted in seconds): the case keeps the keyed pseudonym its worker made.
    """
    return sha256_hex(person_key(identifier), 16)


Pseudonymiser = Callable[[str], str]


def case_readers(state: ApplicationState) -> tuple[str, ...]:
    """The keys that may read the case (besides the roles that read everything), in a stable order."""
    keys = [f"applicant:{state.applicant_key}"] if state.applicant_key else []
    if state.submitted_by.role is Role.SYSTEM:  # people who submit read through their own role's key
        keys.append(f"submitter:{pseudonym(state.submitted_by.id)}")
    keys += [f"department:{department}" for department in state.departments]
    if state.steward is not None:
        keys.append(f"steward:{pseudonym(state.steward.id)}")
    if state.status in AT_THE_WINDOW or state.missing or state.outstanding:
        keys.append("window")
    officers = list(state.window_officers[:MAX_WINDOW_READERS])
    if state.acceptance_decided_by in state.window_officers[MAX_WINDOW_READERS:]:
        officers.append(state.acceptance_decided_by)
    keys += [f"window:{pseudonym(officer)}" for officer in officers]
    return tuple(dict.fromkeys(keys))


# The keys each role's reader holds, as data (the roles in READS_EVERYTHING hold none: they need none).
_KEYS_OF_ROLE: Mapping[Role, Callable[[Actor, Pseudonymiser], tuple[str, ...]]] = {
    Role.APPLICANT: lambda reader, keyed: (f"applicant:{keyed(reader.id)}",),
    Role.STEWARD: lambda reader, _: (f"steward:{pseudonym(reader.id)}",),
    Role.APPROVER: lambda reader, _: (f"department:{reader.department}",),
    Role.DEPARTMENT_HEAD: lambda reader, _: (f"department:{reader.department}",),
    Role.WINDOW_OFFICER: lambda reader, _: ("window", f"window:{pseudonym(reader.id)}"),
    Role.SYSTEM: lambda reader, _: (f"submitter:{pseudonym(reader.id)}",),
}


def reader_keys(reader: Actor, keyed: Pseudonymiser) -> tuple[str, ...] | None:
    """The keys ``reader`` holds (an applicant's by ``keyed``, the keyed pseudonym); None for a role that
    reads every case."""
    if reader.role in READS_EVERYTHING:
        return None
    return _KEYS_OF_ROLE[reader.role](reader, keyed)


def may_read(state: ApplicationState, reader: Actor) -> bool:
    """Whether ``reader`` may read the case: their role reads everything, it is the applicant's own, or
    they share a key with it (the case compares an applicant directly: it holds no pseudonym key)."""
    if reader.role is Role.APPLICANT:
        return reader.key == state.applicant.key
    keys = reader_keys(reader, pseudonym)
    return keys is None or not set(keys).isdisjoint(case_readers(state))


def admit(state: ApplicationState, command: ApplicationCommand) -> None:
    """What a person's command must be before the case's rules even look at it.

    A stranger to the case learns nothing of it, not even its status (``UnknownApplication``); the engine's
    role and the credit standing of 容缺 are the engine's own to give.
    """
    actor = command.actor
    if not may_read(state, actor):
        raise UnknownApplication(f"no application {state.application_id}")
    if actor.role is Role.SYSTEM:
        raise NotAuthorised(actor.id, "system actions are the engine's own")
    if isinstance(command, AcceptWithDeficiencies) and command.credit is not None:
        raise InvalidCommand("credit: the engine runs the credit check itself; leave it out")
    if isinstance(command, ReviseTrustedKeys) and command.trusted_keys:
        raise InvalidCommand("trusted_keys: the engine reads the trust store itself; leave it out")
