"""``matters [CODE]``: the matter catalogue the window works from, read where the worker reads it.

The shipped file or ``$ONEWINDOW_CATALOGUE``, so the codes and materials shown are the ones ``submit``
checks against; no server is needed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from cli.arguments import Commands, Parser, subcommand
from cli.connection import Connection
from cli.errors import EXIT_OK
from cli.render import catalogue_text, matter_text
from workflows.domain.catalogue import Catalogue, Matter
from workflows.reference_data import load_catalogue


def _entry(catalogue: Catalogue, code: str) -> Matter:
    """A matter by its code, types and all, or one type by ``CODE.TYPE``; else the nearest codes."""
    listed = next((matter for matter in catalogue.matters if matter.code == code), None)
    return listed or catalogue.matter(code)


async def matters(args: argparse.Namespace, _connection: Connection) -> int:
    """The whole catalogue, or one matter in detail."""
    catalogue = load_catalogue()
    if args.code is None:
        print(catalogue.model_dump_json(indent=2) if args.json else catalogue_text(catalogue))
        return EXIT_OK
    matter = _entry(catalogue, args.code)
    print(matter.model_dump_json(indent=2) if args.json else matter_text(matter))
    return EXIT_OK


def add_matters(commands: Commands, parents: Sequence[Parser]) -> None:
    """``matters [CODE]``."""
    command = subcommand(
        commands,
        "matters",
        matters,
        "the matter catalogue: codes, materials, limits (no server needed)",
        description=(
            "The matter catalogue (the shipped file or $ONEWINDOW_CATALOGUE): each matter's code, name, "
            "departments, promised and statutory limits in working days, materials marked core or "
            "secondary, and its types (give CODE.TYPE to submit)."
        ),
        parents=parents,
    )
    command.add_argument("code", nargs="?", metavar="CODE", help="one matter in detail, CODE or CODE.TYPE")
