"""Where a onewindow process finds its keys: ``$ONEWINDOW_KEYS_DIR`` (default ``.onewindow/keys``).

``make run`` and the test kit create development keys there once (``workflows.identity``,
``workflows.codec``); a deployment puts its own keys there, or gives them in environment variables.
Every file holding a secret is created readable by its owner only.
"""

from __future__ import annotations

import os
from pathlib import Path

KEYS_DIR_VARIABLE = "ONEWINDOW_KEYS_DIR"
DEFAULT_KEYS_DIR = Path(".onewindow/keys")


def keys_directory() -> Path:
    """The directory of this process's keys."""
    return Path(os.environ.get(KEYS_DIR_VARIABLE) or DEFAULT_KEYS_DIR)


def write_secret(path: Path, content: bytes) -> None:
    """Create ``path`` holding ``content``, readable by its owner only; an existing file is kept.

    The file appears whole or not at all (written aside, then linked into place), so when two processes
    create the same key at once the first wins and the second reads that key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
