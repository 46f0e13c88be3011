"""Test-suite set-up: deselect tests whose hardware or executable this machine lacks.

Tests of Pyomo's Ipopt path carry the ``ipopt`` marker, tests of the ``ipopt`` backend the
``cyipopt`` marker and GPU tests the ``gpu`` marker; where no ``ipopt`` executable is on PATH,
cyipopt is not installed (the ``ipopt`` extra) or no CUDA device is present, they are
deselected, and the count is reported, rather than skipped from inside the test.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = []
    if any(it.get_closest_marker("ipopt") for it in items) and shutil.which("ipopt") is None:
        missing.append("ipopt")
    if any(it.get_closest_marker("cyipopt") for it in items) and not _has("cyipopt"):
        missing.append("cyipopt")
    if any(it.get_closest_marker("gpu") for it in items) and not _cuda():
        missing.append("gpu")
    if not missing:
        return
    keep, drop = [], []
    for it in items:
        (drop if any(it.get_closest_marker(m) for m in missing) else keep).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"deselected {len(drop)} tests needing: {', '.join(missing)}")
