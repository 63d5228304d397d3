"""Flag values and the fields they fill: parsing ``--as``, instants and numbers, and naming errors by flag.

A flag that fills a field of a command or of the ``Intake`` has that field's path as its ``dest``
(``--within`` is ``supplement_within``, ``--applicant-id`` is ``applicant.id_number``), so the values go
where they belong without a mapping of their own, and a complaint about a field names the flag the person
typed: the parser's own definitions are the mapping, which cannot drift from them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias, TypeVar

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from cli.errors import EPILOG, Usage
from workflows.boundary import summary
from workflows.domain.calendar import SHANGHAI
from workflows.domain.errors import InvalidCommand
from workflows.domain.events import Actor, Role
from workflows.domain.values import Code, MatterCode

if TYPE_CHECKING:
    from cli.connection import Handler

_T = TypeVar("_T")


class Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is raised (one line, exit 2) instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        """Raise argparse's complaint as ``Usage``, pointing at ``--help``."""
        raise Usage(f"{message} (see `{self.prog} --help`)")

    def flags_for(self, path: str, given: Collection[str] | None = None) -> tuple[str, ...]:
        """The options that fill the field at ``path`` (``materials.0`` is ``--material``; ``applicant``
        is ``--applicant-id``, ``--applicant-name`` and ``--contact``), of the ``given`` dests if named.
        """
        return tuple(
            max(action.option_strings, key=len)
            for action in self._actions
            if action.option_strings
            and _related(action.dest, path)
            and (given is None or action.dest in given)
        )


Commands: TypeAlias = "argparse._SubParsersAction[Parser]"


def _related(dest: str, path: str) -> bool:
    """The flag's field is at ``path``, holds it (``materials`` of ``materials.0``) or is inside it."""
    return path == dest or path.startswith(f"{dest}.") or dest.startswith(f"{path}.")


def subcommand(
    commands: Commands,
    name: str,
    handler: Handler,
    summary: str,
    *,
    description: str | None = None,
    parents: Sequence[Parser] = (),
) -> Parser:
    """A subcommand run by ``handler``; it keeps its own parser, so errors can name its flags."""
    command = commands.add_parser(
        name, help=summary, description=description or summary, epilog=EPILOG, parents=list(parents)
    )
    command.set_defaults(handler=handler, command_parser=command)
    return command


def output_options() -> Parser:
    """``--json``, for every subcommand that prints models."""
    options = Parser(add_help=False)
    options.add_argument("--json", action="store_true", help="print the models' JSON instead of a table")
    return options


def add_as(command: Parser, purpose: str, *, required: bool = True) -> None:
    """``--as ID:ROLE[:DEPARTMENT]``: the person on whose behalf the subcommand acts or reads."""
    command.add_argument(
        "--as", dest="actor", type=actor, required=required, metavar="ID:ROLE[:DEPARTMENT]", help=purpose
    )


def fields(args: argparse.Namespace, field_names: Collection[str]) -> dict[str, Any]:
    """The flags' values by the field path they fill (``applicant.id_number``), of those given."""
    return {
        dest: value
        for dest, value in vars(args).items()
        if dest.partition(".")[0] in field_names and value is not None
    }


def nested(by_path: Mapping[str, Any]) -> dict[str, Any]:
    """``{"applicant.name": v}`` as ``{"applicant": {"name": v}}``, for a model to validate."""
    tree: dict[str, Any] = {}
    for path, value in by_path.items():
        *parents, leaf = path.split(".")
        branch = tree
        for parent in parents:
            branch = branch.setdefault(parent, {})
        branch[leaf] = value
    return tree


def flag_names(args: argparse.Namespace, *, only_given: bool = False) -> Callable[[str], str]:
    """Names a field by the flags that fill it (``only_given``: of those given), else by its path."""
    parser: Parser = args.command_parser
    given = {dest for dest, value in vars(args).items() if value is not None} if only_given else None

    def name(path: str) -> str:
        return ", ".join(parser.flags_for(path, given)) or path

    return name


def validated(
    adapter: TypeAdapter[_T], data: object, name: Callable[[str], str], *, strict_json: bool = False
) -> _T:
    """``data`` as ``adapter``'s type, or one ``InvalidCommand`` line naming each place by ``name``.

    ``strict_json``: validated as the engine decodes a payload, as strict JSON of ``data`` (for input a
    person wrote as JSON, where a flag's typed value is written out as JSON first).
    """
    try:
        if strict_json:
            return adapter.validate_json(json.dumps(to_jsonable_python(data)), strict=True)
        return adapter.validate_python(data)
    except ValidationError as error:
        raise InvalidCommand(summary(error, name=name)) from None


# --- parsing flag values ------------------------------------------------------------------------------------


def actor(spec: str) -> Actor:
    """``ID:ROLE[:DEPARTMENT]``, e.g. ``window-7:window_officer`` or ``zhang:approver:health``."""
    parts = spec.split(":")
    roles = ", ".join(role.value for role in Role)
    if len(parts) not in (2, 3) or not all(parts):
        raise argparse.ArgumentTypeError(f"{spec!r} is not ID:ROLE[:DEPARTMENT] (roles: {roles})")
    try:
        role = Role(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"unknown role {parts[1]!r} (roles: {roles})") from None
    return _actor(parts[0], role, parts[2] if len(parts) == 3 else None)


def steward(actor_id: str) -> Actor:
    """A steward (项目管家) named by id alone, as a supervisor assigns one."""
    return _actor(actor_id, Role.STEWARD)


def _actor(actor_id: str, role: Role, department: str | None = None) -> Actor:
    try:
        return Actor(id=actor_id, role=role, department=department)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(summary(error)) from None


def instant(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is Shanghai time, the one window's clock."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is less than {least}")
    return value


def non_negative(text: str) -> int:
    """A whole number of at least 0 (a period's working days, where 0 is the trigger day itself)."""
    return _whole(text, 0)


def positive(text: str) -> int:
    """A whole number of at least 1."""
    return _whole(text, 1)


def _checked(adapter: TypeAdapter[str], what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        try:
            return adapter.validate_python(text)
        except ValidationError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {what} (letters, digits, '_' and '-')"
            ) from None

    return check


code = _checked(TypeAdapter(Code), "a catalogue code")
matter_code = _checked(TypeAdapter(MatterCode), "a matter code, CODE or CODE.TYPE")
