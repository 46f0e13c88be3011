"""Bad input gets the project's own error naming what is wrong (issue "Trust", items 10-16).

Each case here escaped before as a bare ``OSError``/``TypeError``/``MemoryError`` or was silently
accepted; the CLI cases check the exit code (2: bad input) and the ``file:line:col: field``
message, never "internal error" (exit 3).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from ortools_lag import Model, solve
from ortools_lag.errors import ModelError, SpecError
from ortools_lag.io.dimacs import parse_dimacs
from ortools_lag.io.number_tokens import parse_numbers
from ortools_lag.io.tsplib import parse_tsplib
from ortools_lag.problems import max_flow, shortest_path
from ortools_lag.spec.loader import load as load_problem
from tests.certificates import check_solution


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ortools_lag.cli", "solve", str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=120,
    )


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


# -- 10: paths -------------------------------------------------------------------------------------
def test_instance_path_longer_than_the_os_allows_is_a_spec_error(tmp_path: Path) -> None:
    f = _write(tmp_path, "p.yaml", f"schema_version: 1\nkind: tsp\ninstance: {'a' * 5000}.tsp\n")
    with pytest.raises(SpecError, match=r"p.yaml:3:11: instance: instance file not found"):
        load_problem(f)
    out = _cli(f)
    assert out.returncode == 2, out.stderr
    assert "internal error" not in out.stderr and len(out.stderr) < 1000


# -- 11: sizes -------------------------------------------------------------------------------------
def test_an_outer_product_of_30000_squared_is_refused_before_allocating(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "a.csv", np.ones(30000), delimiter=",")
    f = _write(
        tmp_path,
        "p.yaml",
        "schema_version: 1\nkind: model\nparameters:\n  a: {file: a.csv}\n"
        "variables:\n  x: {shape: 2}\n"
        'minimize: "sum(reshape(a,30000,1) * reshape(a,1,30000)) * x[0]"\n',
    )
    with pytest.raises(SpecError, match=r"p.yaml:7:\d+: minimize: .*900000000 entries.*limit"):
        load_problem(f)


def test_a_huge_variable_from_python_is_refused_with_its_size() -> None:
    with pytest.raises(ModelError, match=r"1000000000000 entries \(the limit is"):
        Model().var("x", (10**6, 10**6))


def test_a_dimacs_header_claiming_a_billion_nodes_is_refused() -> None:
    with pytest.raises(SpecError, match=r"big.gr:1: p: 1000000000 nodes declared: the limit"):
        parse_dimacs("p sp 1000000000 1\na 1 2 3\n", "big.gr")


def test_a_shape_dimension_of_1e30_is_named_as_too_large(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "p.yaml",
        "schema_version: 1\nkind: model\nvariables:\n  x: {shape: [0, 1e30]}\n"
        'minimize: "x.sum()"\n',
    )
    with pytest.raises(SpecError, match=r"x.shape\[1\]: a dimension must be at most"):
        load_problem(f)


# -- 12: non-finite data ---------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["-inf", "inf", "nan", "1e999", "1e308"])
def test_tsplib_coordinates_must_be_finite_and_bounded(token: str) -> None:
    text = (
        "NAME: t\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
        f"1 0 0\n2 {token} 1\n3 1 2\nEOF\n"
    )
    with pytest.raises(SpecError, match=r"t.tsp:7: NODE_COORD_SECTION: expected a finite number"):
        parse_tsplib(text, file="t.tsp")


@pytest.mark.parametrize("token", ["inf", "-inf", "1e999", "nan"])
def test_orlib_numbers_must_be_finite(token: str) -> None:
    with pytest.raises(SpecError, match=rf"cap.txt:2: expected a finite number, found '{token}'"):
        parse_numbers(f"1 2\n3 {token}\n", "cap.txt")


def test_ufl_reader_refuses_an_infinite_cost(tmp_path: Path) -> None:
    from ortools_lag.problems import facility_location

    # 2 sites, 2 customers: capacity/fixed cost per site, then demand and costs per customer
    f = _write(tmp_path, "cap.txt", "2 2\n10 5\n10 7\n1\n3 inf\n1\n2 4\n")
    with pytest.raises(SpecError, match=r"cap.txt:5: expected a finite number, found 'inf'"):
        facility_location.read(f)


# -- 13: YAML booleans are not numbers -------------------------------------------------------------
def test_yaml_booleans_are_refused_where_numbers_are_expected(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "k.yaml",
        "schema_version: 1\nkind: knapsack\ndata:\n  values: [5, true]\n"
        "  weights: [1, 2]\n  capacity: 2\n",
    )
    with pytest.raises(SpecError, match=r"k.yaml:4:\d+: data.values: .*values\[1\].*boolean"):
        load_problem(f)
    g = _write(
        tmp_path,
        "m.yaml",
        "schema_version: 1\nkind: model\nparameters:\n  c: [1, false]\n"
        'variables:\n  x: {shape: 2}\nminimize: "c @ x"\n',
    )
    with pytest.raises(SpecError, match=r"m.yaml:4:\d+: parameters.c: .*boolean"):
        load_problem(g)


# -- 14: Python API --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [3.5, None, "12", (2, 1.5), (True, 2)])
def test_a_shape_that_is_not_ints_is_a_model_error(shape: object) -> None:
    with pytest.raises(ModelError, match="shape"):
        Model().var("x", shape)  # type: ignore[arg-type]


def test_an_overflowing_coefficient_is_a_model_error() -> None:
    x = Model().var("x", 3)
    with pytest.raises(ModelError, match=r"too large for a float"):
        _ = 10**400 * x[0]


def test_a_comparison_of_constants_is_not_a_constraint() -> None:
    m = Model()
    m.var("x", 2)
    with pytest.raises(ModelError, match=r"group 'c': expected a constraint.*bool True"):
        m.add("c", 1 <= 2)  # type: ignore[arg-type]


# -- 15: messages on one line with line:column -----------------------------------------------------
def test_a_control_character_is_reported_on_one_line_with_its_position(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "c.yaml",
        b'schema_version: 1\nkind: model\nvariables:\n  x: {shape: 2}\nminimize: "x[0]\x01"\n',
    )
    with pytest.raises(SpecError) as err:
        load_problem(f)
    text = str(err.value)
    assert "\n" not in text
    assert "c.yaml:5:16:" in text and "U+0001" in text


def test_a_key_holding_a_newline_is_echoed_escaped(tmp_path: Path) -> None:
    f = _write(
        tmp_path,
        "k.yaml",
        'schema_version: 1\nkind: model\nvariables:\n  "x\\ny": {shape: 2}\nminimize: "x[0]"\n',
    )
    with pytest.raises(SpecError) as err:
        load_problem(f)
    assert "\n" not in str(err.value) and r"'x\ny'" in str(err.value)


# -- 16: networkx conventions ----------------------------------------------------------------------
def test_max_flow_takes_missing_capacities_as_infinite_like_networkx() -> None:
    g = nx.DiGraph()
    g.add_edge("s", "a", capacity=3)
    g.add_edge("a", "t")  # no capacity: unlimited
    g.add_edge("s", "t", capacity=1)
    p = max_flow.build(graph=g, source="s", sink="t")
    for solver in (None, "highs"):
        sol = solve(p) if solver is None else solve(p, solver)
        assert sol.objective == pytest.approx(nx.maximum_flow_value(g, "s", "t"))
        assert sol.kkt is not None and sol.kkt.certified
        answer = p.decode(sol)
        assert answer.cut_capacity == pytest.approx(answer.value)


def test_shortest_path_takes_missing_weights_as_one_like_networkx() -> None:
    g = nx.DiGraph([(0, 1), (1, 2), (0, 2)])
    g.add_edge(2, 3, weight=5)
    p = shortest_path.build(graph=g, source=0)
    sol = solve(p)
    check_solution(p.model, sol)
    want = nx.single_source_dijkstra_path_length(g, 0)
    got = p.decode(sol).distance
    assert [got[k] for k in range(4)] == [want[k] for k in range(4)]


def test_an_empty_range_is_refused_when_declared() -> None:
    m = Model()
    x = m.var("x", 2, ub=5)
    with pytest.raises(ModelError, match=r"lo > hi"):
        m.add("r", x.sum().between(3, 1))
    with pytest.raises(ModelError, match=r"lb > ub"):
        m.var("y", 2, lb=3, ub=1)
