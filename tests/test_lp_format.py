"""CPLEX LP files: the Netlib LPs written as LP and read back solve to the published optima;
row names become groups; ``relax=`` patterns select the right rows; YAML ``kind: mps`` takes
``.lp`` files with ``relax: [patterns]``."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Model, Status, solve
from ortools_lag.errors import ModelError, SpecError
from ortools_lag.io import read_lp, read_model, read_mps, write_lp
from ortools_lag.io.row_groups import group_rows
from ortools_lag.lagrangian import relaxed_group_names

from .certificates import check_solution
from .test_netlib import DATA, E226_CONSTANT, OPTIMA


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_netlib_through_lp_format(name: str, tmp_path: Path) -> None:
    write_lp(read_mps(DATA / f"{name}.mps.gz"), tmp_path / f"{name}.lp")
    model = read_lp(tmp_path / f"{name}.lp")
    sol = solve(model, "highs")
    assert sol.status == Status.OPTIMAL
    want = OPTIMA[name] + (E226_CONSTANT if name == "e226" else 0.0)
    assert sol.objective == pytest.approx(want, rel=1e-6)
    check_solution(model, sol)


def _mps_row_names(name: str) -> list[str]:
    """The ROWS section of the MPS file, read as text (not through HiGHS)."""
    lines = gzip.open(DATA / f"{name}.mps.gz", "rt").read().splitlines()
    start, stop = lines.index("ROWS") + 1, lines.index("COLUMNS")
    rows = [ln.split() for ln in lines[start:stop]]
    return [r[1] for r in rows if r[0] != "N"]


def test_row_name_patterns_select_the_right_rows(tmp_path: Path) -> None:
    names = _mps_row_names("stocfor1")
    write_lp(read_mps(DATA / "stocfor1.mps.gz"), tmp_path / "stocfor1.lp")
    model = read_lp(tmp_path / "stocfor1.lp")
    assert sorted(model.groups) == sorted({"BOUND", "REGEN", "YIELD", "TFLOW"})
    picked = relaxed_group_names(model, ["REGEN*", "YIELD*"])
    rows = [r for g in picked for r in model.group_labels[g]]
    assert sorted(rows) == sorted(n for n in names if n.startswith(("REGEN", "YIELD")))
    with pytest.raises(ModelError, match="matches only some rows of group 'BOUND'"):
        relaxed_group_names(model, ["BOUND3*"])
    with pytest.raises(ModelError, match="matches no group.*valid choices: BOUND"):
        relaxed_group_names(model, ["CAP*"])
    sol = solve(model, "bundle", relax=["REGEN*"], max_iter=60)
    assert sol.bound <= OPTIMA["stocfor1"] + 1e-6 * abs(OPTIMA["stocfor1"])
    by_row = read_lp(tmp_path / "stocfor1.lp", groups="row")
    assert list(by_row.groups)[:2] == [n for n in names[:2]] and by_row.m == len(names)
    split = read_lp(tmp_path / "stocfor1.lp", groups={"early": "BOUND[34]*"})
    assert {"early", "BOUND"} <= set(split.groups)


def test_ranged_rows_round_trip_as_one_row(tmp_path: Path) -> None:
    """boeing1's ranged rows: HiGHS writes Nlo/Nup, read_lp joins them (one signed lam)."""
    src = read_mps(DATA / "boeing1.mps.gz")
    write_lp(src, tmp_path / "b.lp")
    back = read_lp(tmp_path / "b.lp")
    assert back.m == src.m
    assert sum(g.sense == "range" for g in back.groups.values()) > 0


def test_hand_written_lp_file(tmp_path: Path) -> None:
    """max 3a + 2b, cap_1: a <= 4, cap_2: b <= 6, mix: a + b <= 8: a = 4, b = 4, value 20;
    lam(cap_1) = 1, lam(cap_2) = 0, lam(mix) = 2 (by hand)."""
    text = "maximize\n obj: 3 a + 2 b\nsubject to\n cap_1: a <= 4\n cap_2: b <= 6\n"
    text += " mix: a + b <= 8\nbounds\n a >= 0\n b >= 0\nend\n"
    (tmp_path / "h.lp").write_text(text)
    m = read_lp(tmp_path / "h.lp")
    assert list(m.groups) == ["cap", "mix"] and m.group_labels["cap"] == ["cap_1", "cap_2"]
    sol = solve(m, "highs")
    assert sol.objective == pytest.approx(20.0)
    assert np.asarray(sol.multipliers["cap"]) == pytest.approx([1.0, 0.0])
    assert np.asarray(sol.multipliers["mix"]) == pytest.approx([2.0])
    check_solution(m, sol)
    dual = solve(m, "bundle", relax=["cap_*"])
    assert dual.bound == pytest.approx(20.0, rel=1e-7)
    assert set(dual.multipliers) == {"cap"}


def test_own_model_round_trip_milp_qp(tmp_path: Path) -> None:
    for integer in (False, True):  # a QP, then the MILP with the linear part of its objective
        m = Model("mix")
        x = m.var("x", 3, ub=5, domain="integer" if integer else "continuous")
        y = m.var("y", 2, lb=-4, ub=4)
        lin = x.sum() - 2 * x[0] - y[0] + 4
        m.minimize(lin if integer else lin + (y * y).sum())
        m.add("cover", x[1] + x[2] + y[1] >= 3.5)
        m.add("band", (x[0] - y[0]).between(-1, 2))
        write_lp(m, tmp_path / "mix.lp")
        back = read_lp(tmp_path / "mix.lp")
        assert int(back.integrality().sum()) == (3 if integer else 0)
        assert back.groups["band"].sense == "range" and back.groups["cover"].sense == ">="
        s0, s1 = solve(m, "highs"), solve(back, "highs")
        assert s1.objective == pytest.approx(s0.objective, rel=1e-7)
        check_solution(back, s1, duals=not integer)


def test_read_model_suffixes_and_errors(tmp_path: Path) -> None:
    assert list(read_model(DATA / "afiro.mps.gz").groups) == ["rows"]
    assert set(read_model(DATA / "afiro.mps.gz", groups="prefix").groups) == {"R", "X"}
    with pytest.raises(SpecError, match=r"valid choices: \.mps"):
        read_model(tmp_path / "model.txt")
    with pytest.raises(SpecError, match="file not found"):
        read_lp(tmp_path / "none.lp")
    with pytest.raises(ModelError, match="valid choices: prefix, row, single"):
        group_rows(["a"], groups="stem")


def test_yaml_lp_file_with_relax_patterns(tmp_path: Path) -> None:
    from ortools_lag.spec.loader import load

    (tmp_path / "h.lp").write_text(
        "maximize\n obj: 3 a + 2 b\nsubject to\n cap_1: a <= 4\n cap_2: b <= 6\n"
        " mix: a + b <= 8\nend\n"
    )
    (tmp_path / "h.yaml").write_text(
        "schema_version: 1\nkind: mps\nname: h\ninstance: h.lp\nrelax: ['cap_*']\n"
    )
    problem, _ = load(tmp_path / "h.yaml")
    assert problem.relaxation().relax == ("cap",)
    (tmp_path / "bad.yaml").write_text(
        "schema_version: 1\nkind: mps\nname: h\ninstance: h.lp\nrelax: ['flow_*']\n"
    )
    with pytest.raises(SpecError, match="relax.*matches no group"):
        load(tmp_path / "bad.yaml")


def test_a_qp_written_as_mps_keeps_its_quadratic_objective(tmp_path: Path) -> None:
    from ortools_lag.cli.export import write_mps

    # min (x0 - 1)^2 + (x1 - 2)^2 s.t. x0 + x1 <= 2: the projection of (1, 2), optimum (0.5, 1.5)
    m = Model("proj")
    x = m.var("x", 2, lb=None)
    m.minimize(x[0] * x[0] + x[1] * x[1] - 2 * x[0] - 4 * x[1] + 5)
    m.add("cap", x.sum() <= 2)
    write_mps(m, tmp_path / "proj.mps")
    back = read_mps(tmp_path / "proj.mps")
    sol = solve(back, "highs")
    check_solution(back, sol)
    assert sol.objective == pytest.approx(0.5, rel=1e-7)  # 0.5^2 + 0.5^2, by hand
