"""onewindow's modules compiled once per process, however often the workflow sandbox re-imports them.

The sandbox runs a workflow's module afresh for every case it creates (a replay, a read of a case evicted
from the cache), so that no two cases share classes or globals. Each of those imports used to read the
module's bytecode from disk and unmarshal new code objects: 115 of the 235 KB a cached case kept in memory
(tracemalloc, 100 cases). Code objects are immutable, so sharing them keeps the isolation (the
module, its classes and functions are still new for every case) and drops that cost. A source edited while
a worker runs is picked up when it restarts, as every module passed through the sandbox already was.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import CodeType, ModuleType

_PACKAGE = "workflows"
_SOURCE = importlib.machinery.SourceFileLoader


class _CompiledOnceLoader(_SOURCE):
    """A source loader that returns the code it compiled the first time it was asked for a path."""

    _codes: dict[str, CodeType] = {}  # noqa: RUF012 - the process-wide cache is the point
    _lock = threading.Lock()

    def get_code(self, fullname: str) -> CodeType:
        with self._lock:
            code = self._codes.get(self.path)
            if code is None:
                loaded = super().get_code(fullname)
                if loaded is None:
                    raise ImportError(f"no code for {fullname}", name=fullname)
                code = self._codes[self.path] = loaded
            return code


class _CompiledOnceFinder(importlib.abc.MetaPathFinder):
    """Finds onewindow's own modules as the path finder does, to be loaded by ``_CompiledOnceLoader``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _PACKAGE and not fullname.startswith(f"{_PACKAGE}."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.origin is None or not isinstance(spec.loader, _SOURCE):
            return spec
        spec.loader = _CompiledOnceLoader(fullname, spec.origin)
        return spec


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once): every later import of onewindow's modules, the
    sandbox's included, shares the compiled code."""
    if not any(isinstance(finder, _CompiledOnceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CompiledOnceFinder())
