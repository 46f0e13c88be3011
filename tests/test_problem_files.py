"""Every YAML file under ``problems/`` solved by ``ortools-lag solve`` (a subprocess) and checked.

The recorded answer (``expect:``) of each file cites its source (MANIFEST.md, a paper, a hand
derivation); this test compares it with the JSON output of the command line, with its own
arithmetic. Files added later are picked up automatically; ``tags: [slow]`` marks the slow ones.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from ortools_lag import problems as kinds

ROOT = Path(__file__).parents[1]
PROBLEMS = ROOT / "problems"
FILES = sorted(PROBLEMS.rglob("*.yaml"))
CLI = [sys.executable, "-m", "ortools_lag.cli"]


def _doc(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def _cases() -> list[Any]:
    out = []
    for path in FILES:
        tags = _doc(path).get("tags") or []
        marks = [pytest.mark.slow] if "slow" in tags else []
        out.append(pytest.param(path, id=str(path.relative_to(PROBLEMS)), marks=marks))
    return out


def _close(got: Any, want: float, rel: float, abs_: float) -> bool:
    if isinstance(got, str):  # non-finite numbers are written as strings
        got = float(got)
    if math.isinf(want):
        return bool(got == want)
    return math.isfinite(got) and abs(got - want) <= abs_ + rel * abs(want)


def test_the_catalogue_has_files_with_sources() -> None:
    assert any(p.parent.name == "model" for p in FILES) and any(
        p.parent.name == "mps" for p in FILES
    )
    for path in FILES:
        doc = _doc(path)
        assert doc.get("schema_version") == 1, path
        expect = doc.get("expect") or {}
        assert len(str(expect.get("source", ""))) > 10, f"{path}: expect.source must cite"
        checked = {"status", "objective", "bound", "bound_at_most", "bound_at_least", "multipliers"}
        assert checked & set(expect), f"{path}: expect records no value"


def test_every_installed_kind_has_a_file() -> None:
    used = {_doc(p).get("kind") for p in FILES}
    missing = [k for k in kinds.kinds() if kinds.installed(k) and k not in used]
    assert not missing, f"installed kinds without a file under problems/: {missing}"


def test_one_file_uses_a_parameter_file_and_one_relaxes_a_group() -> None:
    docs = [_doc(p) for p in FILES if _doc(p).get("kind") == "model"]
    params = [v for d in docs for v in (d.get("parameters") or {}).values()]
    assert any(isinstance(v, dict) and "file" in v for v in params)
    groups = [g for d in docs for g in (d.get("constraints") or {}).values()]
    assert any(isinstance(g, dict) and g.get("relax") is True for g in groups)


def test_validate_all_files() -> None:
    res = subprocess.run(
        [*CLI, "validate", *map(str, FILES)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("\nok    ") + res.stdout.startswith("ok    ") == len(FILES)


@pytest.mark.parametrize("path", _cases())
def test_solve_gives_the_recorded_value(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    res = subprocess.run(
        [*CLI, "solve", str(path), "--json", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    result = json.loads(out.read_text())
    assert result["schema_version"] == 1
    expect = _doc(path)["expect"]
    rel, abs_ = float(expect.get("rel_tol", 1e-6)), float(expect.get("abs_tol", 1e-6))
    if "status" in expect:
        assert result["status"] == expect["status"]
    for key in ("objective", "bound"):
        if key in expect:
            assert _close(result[key], float(expect[key]), rel, abs_), (key, result[key])
    bound = float(result["bound"])
    if "bound_at_most" in expect:
        assert bound <= float(expect["bound_at_most"]) + abs_ + rel * abs(bound)
    if "bound_at_least" in expect:
        assert bound >= float(expect["bound_at_least"]) - abs_ - rel * abs(bound)
    for group, want in (expect.get("multipliers") or {}).items():
        got = np.asarray(result["multipliers"][group], dtype=float)
        w = np.asarray(want, dtype=float)
        assert got.size == w.size and np.all(np.abs(got - w) <= abs_ + rel * np.abs(w)), group
