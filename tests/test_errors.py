"""Bad input raises the project's errors with actionable messages."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ortools_lag import (
    Model,
    NotSupportedError,
    OptionError,
    OrtoolsLagError,
    SpecError,
    UnknownSolverError,
    solve,
)
from ortools_lag.io import read_mps


def _tiny() -> Model:
    m = Model()
    x = m.var("x", 2)
    m.minimize(x.sum())
    m.add("c", x.sum() >= 1)
    return m


def test_unknown_solver_lists_names() -> None:
    with pytest.raises(
        UnknownSolverError, match=r"unknown solver 'gurobi'.*valid choices: auto,.*highs"
    ):
        solve(_tiny(), "gurobi")


def test_unknown_option_lists_options() -> None:
    with pytest.raises(OptionError, match=r"unknown option 'presolv'.*valid options:.*presolve"):
        solve(_tiny(), "highs", presolv="off")


def test_wrong_option_type() -> None:
    with pytest.raises(OptionError, match="time_limit"):
        solve(_tiny(), "highs", time_limit="soon")


def test_highs_refuses_quadratic_constraints() -> None:
    m = Model()
    x = m.var("x", 2, lb=None)
    m.minimize(x.sum())
    m.add("circle", (x * x).sum() == 1)
    with pytest.raises(NotSupportedError, match="circle"):
        solve(m, "highs")


def test_missing_mps(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        read_mps(tmp_path / "nope.mps")


def test_malformed_mps(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mps.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write("NAME bad\nROWS\n what is this\nCOLUMNS\n x y z w v\nENDATA\n")
    with pytest.raises(SpecError, match="bad.mps.gz"):
        read_mps(bad)
    notgz = tmp_path / "plain.mps.gz"
    notgz.write_text("not gzip")
    with pytest.raises(SpecError, match="gzip"):
        read_mps(notgz)


def test_errors_share_one_base() -> None:
    for cls in (SpecError, UnknownSolverError, OptionError, NotSupportedError):
        assert issubclass(cls, OrtoolsLagError)
