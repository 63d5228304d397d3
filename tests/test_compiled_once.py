"""The sandbox re-imports a workflow's module for every case: each gets its own module, classes and
globals, and all share the code compiled once (``workflows.compiled_once``)."""

from __future__ import annotations

import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

from workflows import compiled_once


def _spec(name: str) -> ModuleSpec:
    """The spec the first finder on ``sys.meta_path`` gives ``name``, as for a module not imported yet."""
    parent = importlib.import_module(name.rpartition(".")[0])
    specs = (finder.find_spec(name, parent.__path__) for finder in sys.meta_path)
    found = next(spec for spec in specs if spec is not None)
    assert found.loader is not None
    return found


def _imported_afresh(name: str) -> ModuleType:
    """``name`` imported as the sandbox imports it for a case: found again, run in a new module."""
    spec = _spec(name)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_each_import_is_a_module_of_its_own_sharing_the_compiled_code() -> None:
    compiled_once.install()
    first, second = (_imported_afresh("workflows.orchestration") for _ in range(2))
    assert first is not second
    assert first.CaseWorkflow is not second.CaseWorkflow
    assert vars(first) is not vars(second)
    assert first.gather_all is not second.gather_all
    assert first.gather_all.__code__ is second.gather_all.__code__


def test_installing_twice_puts_one_finder_on_the_path() -> None:
    compiled_once.install()
    compiled_once.install()
    finders = [finder for finder in sys.meta_path if type(finder).__module__ == compiled_once.__name__]
    assert len(finders) == 1


def test_modules_of_other_packages_are_left_to_the_usual_finders() -> None:
    compiled_once.install()
    assert type(_spec("tests.test_compiled_once").loader).__module__ != compiled_once.__name__
