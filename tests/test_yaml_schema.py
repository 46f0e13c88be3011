"""YAML problem files: schema, positions, parameters, library kinds, presets, error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ortools_lag import Model, Problem, Relaxation, SpecError, solve
from ortools_lag import problems as kinds
from ortools_lag.spec.loader import load, load_file, resolve_solver
from ortools_lag.spec.yaml_positions import MAX_FILE_BYTES, Located, read_yaml

ROOT = Path(__file__).parents[1]

GOOD = """\
schema_version: 1
kind: model
name: tiny
parameters:
  c: [2, 3]
variables:
  x: {shape: 2}
minimize: c @ x
constraints:
  cov: x[0] + x[1] >= 4
  prot: {expr: "x[0] + 3*x[1] >= 6", relax: true}
solver: highs
"""


def _write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _error(tmp_path: Path, text: str, **kw: object) -> str:
    p = _write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_file(p, **kw)  # type: ignore[arg-type]
    return str(info.value).replace(str(p), "p.yaml")


# -- what a good file builds -------------------------------------------------------------------
def test_good_file_builds_the_model(tmp_path: Path) -> None:
    problem, solver = load(_write(tmp_path, GOOD))
    m = problem.model
    assert (m.n, m.m, m.sense, list(m.groups)) == (2, 2, "min", ["cov", "prot"])
    assert problem.relaxation().relax == ("prot",)
    assert solver.name == "highs" and solver.options == {}
    sol = solve(problem, solver.name)
    # diet LP (hand derivation): both rows bind at x = (3, 1), cost 9, duals 1.5 and 0.5
    assert sol.objective == pytest.approx(9.0)
    assert float(sol.multipliers["cov"]) == pytest.approx(1.5)
    assert float(sol.multipliers["prot"]) == pytest.approx(0.5)


def test_positions_of_nodes() -> None:
    doc = Located.from_text(GOOD, "p.yaml")
    assert doc.positions[("constraints", "prot", "expr")] == (11, 16)
    assert doc.key_positions[("constraints", "cov")] == (10, 3)
    assert doc.positions[("parameters", "c", 1)] == (5, 10)


def test_parameters_from_csv_and_npy(tmp_path: Path) -> None:
    (tmp_path / "A.csv").write_text("# rows\n1,1\n1,3\n")
    np.save(tmp_path / "b.npy", np.array([4.0, 6.0]))
    text = GOOD.replace(
        "  c: [2, 3]\n",
        "  c: [2, 3]\n  A: {file: A.csv, shape: [2, 2]}\n  b: {file: b.npy}\n",
    ).replace(
        'constraints:\n  cov: x[0] + x[1] >= 4\n  prot: {expr: "x[0] + 3*x[1] >= 6", relax: true}',
        "constraints:\n  rows: A @ x >= b",
    )
    problem, _ = load(_write(tmp_path, text))
    sol = solve(problem, "highs")
    assert sol.objective == pytest.approx(9.0)
    assert np.asarray(sol.multipliers["rows"]).tolist() == pytest.approx([1.5, 0.5])


def test_bounds_shapes_and_names_from_parameters(tmp_path: Path) -> None:
    text = """\
schema_version: 1
kind: model
parameters: {n: 3, cap: [1, 2, 3]}
variables:
  x: {shape: n, lb: -inf, ub: 2 * cap}
  y: {shape: [n, 2], domain: binary}
minimize: sum(x) + sum(y)
"""
    problem, _ = load(_write(tmp_path, text))
    x = problem.model.variables["x"]
    assert x.shape == (3,) and x.ub.tolist() == [2.0, 4.0, 6.0] and np.isneginf(x.lb).all()
    assert problem.model.variables["y"].shape == (3, 2)


def test_set_overrides(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD)
    loaded = load_file(p, overrides=["parameters.c=[5, 1]", "time_limit=3"])
    assert loaded.problem.data["parameters"]["c"].tolist() == [5.0, 1.0]
    assert loaded.solver.options == {"time_limit": 3}
    with pytest.raises(SpecError) as info:
        load_file(p, overrides=["variables.x.shape=[2, n]"])
    assert str(info.value) == (
        f"{p}: variables.x.shape[1]: unknown name 'n' (value given by --set) "
        "(valid choices: c, inf, pi)"
    )


# -- library kinds through a fake family module (this test module) ---------------------------
def build(values: np.ndarray, capacity: float, scale: float = 1.0) -> Problem:
    """A knapsack LP relaxation built from arrays: the shape of a family module's builder."""
    v = np.asarray(values, dtype=float)
    m = Model("demo")
    x = m.var("x", v.size, ub=1)
    m.maximize(scale * v @ x)
    m.add("cap", x.sum() <= capacity)
    return Problem(m, relaxations={"lr": Relaxation(relax=("cap",))}, kind="demo_family")


def read(path: str, scale: float = 1.0) -> Problem:
    """A reader: one line of values, one line with the capacity."""
    lines = Path(path).read_text().split("\n")
    return build(np.array(lines[0].split(), dtype=float), float(lines[1]), scale)


@pytest.fixture
def demo_kind(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(kinds.KINDS, "demo_family", __name__)
    return "demo_family"


def test_library_kind_inline_data(tmp_path: Path, demo_kind: str) -> None:
    text = f"""\
schema_version: 1
kind: {demo_kind}
data: {{values: [3, 1, 2], capacity: 2}}
relaxation: lr
"""
    problem, _ = load(_write(tmp_path, text))
    assert problem.default_relaxation == "lr"
    # LP relaxation of a knapsack with unit weights: take the two largest values, 3 + 2
    assert solve(problem, "highs").objective == pytest.approx(5.0)


def test_library_kind_instance_and_options(tmp_path: Path, demo_kind: str) -> None:
    (tmp_path / "inst.txt").write_text("3 1 2\n1\n")
    text = f"schema_version: 1\nkind: {demo_kind}\ninstance: inst.txt\noptions: {{scale: 2}}\n"
    problem, _ = load(_write(tmp_path, text))
    assert solve(problem, "highs").objective == pytest.approx(6.0)


def test_library_kind_errors(tmp_path: Path, demo_kind: str) -> None:
    head = f"schema_version: 1\nkind: {demo_kind}\n"
    assert _error(tmp_path, head + "data: {values: [1], capcity: 2}\n") == (
        "p.yaml:3:21: data.capcity: unknown field for demo_family.build "
        "(valid choices: values, capacity, scale)"
    )
    assert _error(tmp_path, head + "data: {values: [1]}\n") == (
        "p.yaml:3:7: data: demo_family.build needs capacity"
    )
    msg = _error(tmp_path, head + "data: {values: [1], capacity: lots}\n")
    assert msg.startswith("p.yaml:3:31: data.capacity: expected float, found 'lots'")
    assert _error(tmp_path, head + "data: {values: [1], capacity: 1}\nrelaxation: nope\n") == (
        "p.yaml:4:13: relaxation: unknown relaxation 'nope' (valid choices: lr)"
    )
    msg = _error(tmp_path, head + "instance: inst.txt\n")
    assert (
        msg == f"p.yaml:3:11: instance: instance file not found: inst.txt ({tmp_path / 'inst.txt'})"
    )
    assert _error(tmp_path, head + "instance: a\ndata: {}\n") == (
        "p.yaml:1:1: give exactly one of 'instance' (a file) and 'data' (inline)"
    )


def test_missing_mps_instance(tmp_path: Path) -> None:
    text = "schema_version: 1\nkind: mps\ninstance: nope.mps.gz\n"
    assert _error(tmp_path, text) == (
        f"p.yaml:3:11: instance: instance file not found: nope.mps.gz ({tmp_path / 'nope.mps.gz'})"
    )


def test_planned_kind_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(kinds.KINDS, "future_kind", "ortools_lag.problems.future_kind")
    msg = _error(tmp_path, "schema_version: 1\nkind: future_kind\ninstance: x\n")
    assert msg.startswith(
        "p.yaml:2:7: kind: problem kind 'future_kind' is planned but its module "
        "ortools_lag.problems.future_kind is not installed yet (valid choices: model, mps"
    )


# -- the solver section and presets ------------------------------------------------------------
def test_presets_resolve() -> None:
    spec = resolve_solver("polyak", base=ROOT / "problems")
    assert spec.name == "subgradient" and spec.options["step_rule"] == "polyak"
    assert spec.preset is not None and spec.preset.endswith("polyak.yaml")
    exact = ROOT / "ortools_lag" / "presets" / "highs-exact.yaml"
    spec = resolve_solver(str(exact), {"threads": 1})
    assert spec.name == "highs" and spec.options["threads"] == 1
    assert resolve_solver("highs").options == {}


def test_every_preset_is_valid() -> None:
    from ortools_lag.solvers import registry
    from ortools_lag.solvers.base import parse_options

    presets = sorted((ROOT / "ortools_lag" / "presets").glob("*.yaml"))
    assert {"polyak.yaml", "bundle.yaml", "highs-exact.yaml"} <= {p.name for p in presets}
    for p in presets:
        spec = resolve_solver(str(p))
        parse_options(spec.name, registry.get(spec.name).Options, spec.options)


def test_solver_errors(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("solver: highs", "solver: gurobi")).startswith(
        "p.yaml:12:9: solver.name: unknown solver or preset 'gurobi' (valid choices: auto, "
    )
    text = GOOD.replace("solver: highs", "solver: {name: highs, options: {presolv: 'off'}}")
    assert _error(tmp_path, text) == (
        "p.yaml:12:42: solver.options.presolv: unknown option 'presolv' for solver 'highs' "
        "(valid options: dual_feasibility_tolerance, method, mip_rel_gap, presolve, "
        "primal_feasibility_tolerance, threads, time_limit, tolerance, verbose)"
    )
    text = GOOD.replace("solver: highs", "solver: {name: highs, options: {time_limit: soon}}")
    assert _error(tmp_path, text).startswith(
        "p.yaml:12:45: solver.options.time_limit: option 'time_limit' of solver 'highs': "
        "Input should be a valid number"
    )
    text = GOOD.replace("solver: highs", "solver: {name: highs, preset: bundle}")
    assert _error(tmp_path, text) == "p.yaml:12:9: solver: give either 'name' or 'preset', not both"


# -- the listed bad inputs, each with its exact message ----------------------------------------
def test_unknown_kind(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("kind: model", "kind: modle")) == (
        "p.yaml:2:7: kind: unknown problem kind 'modle' (valid choices: "
        + ", ".join(kinds.kinds())
        + ")"
    )


def test_unknown_field(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("{shape: 2}", "{shape: 2, domian: binary}")) == (
        "p.yaml:7:17: variables.x.domian: unknown field 'domian' "
        "(valid choices: description, domain, labels, lb, shape, ub)"
    )
    assert _error(tmp_path, GOOD + "objective: x\n") == (
        "p.yaml:13:1: objective: unknown field 'objective' (valid choices: constraints, "
        "description, expect, kind, maximize, minimize, name, parameters, schema_version, "
        "solver, tags, variables)"
    )


def test_wrong_type(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("relax: true", "relax: maybe")) == (
        "p.yaml:11:45: constraints.prot.relax: expected a boolean (true or false), found 'maybe'"
    )
    assert _error(tmp_path, GOOD.replace("{shape: 2}", "{shape: 2.5}")) == (
        "p.yaml:7:14: variables.x.shape: expected an integer or a string or a list, found 2.5"
    )
    assert _error(tmp_path, GOOD.replace("{shape: 2}", "{shape: 2, domain: real}")) == (
        "p.yaml:7:25: variables.x.domain: expected 'continuous', 'integer' or 'binary', "
        "found 'real'"
    )
    assert _error(tmp_path, GOOD.replace("c: [2, 3]", "c: [2, three]")) == (
        "p.yaml:5:6: parameters.c: expected a number or a rectangular list of numbers, "
        "found [2, 'three']"
    )


def test_wrong_shape(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("{shape: 2}", "{shape: 2, lb: [0, 0, 0]}")) == (
        "p.yaml:7:21: variables.x.lb: expected shape (2,) (or one that broadcasts), found (3,)"
    )
    assert _error(tmp_path, GOOD.replace("c: [2, 3]", "c: {value: [2, 3], shape: [3]}")) == (
        "p.yaml:5:29: parameters.c.shape: expected shape (3,), found (2,)"
    )
    assert _error(tmp_path, GOOD.replace("c: [2, 3]", "c: [2, 3, 4]")) == (
        "p.yaml:8:11: minimize: shape mismatch in @: (2,) and (3,)"
    )
    assert _error(tmp_path, GOOD.replace("c: [2, 3]", "c: [[1, 2], [3]]")) == (
        "p.yaml:5:6: parameters.c: expected a number or a rectangular list of numbers, "
        "found [[1, 2], [3]]"
    )


def test_missing_parameter_file(tmp_path: Path) -> None:
    text = GOOD.replace("c: [2, 3]", "c: {file: costs.csv}")
    assert _error(tmp_path, text) == (
        f"p.yaml:5:13: parameters.c.file: parameter file not found: costs.csv "
        f"({tmp_path / 'costs.csv'})"
    )


def test_yaml_syntax_error(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("{shape: 2}", "{shape: 2")) == (
        "p.yaml:8:9: YAML syntax error: while parsing a flow mapping (from line 7, column 6): "
        "did not find expected ',' or '}'"
    )
    assert _error(tmp_path, GOOD.replace("kind: model", "kind: model\n  oops: 1")) == (
        "p.yaml:3:7: YAML syntax error: mapping values are not allowed in this context"
    )
    assert _error(tmp_path, GOOD + "kind: model\n") == "p.yaml:13:1: kind: duplicate key 'kind'"


def test_undeclared_variable(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("minimize: c @ x", "minimize: c @ x + y")) == (
        "p.yaml:8:19: minimize: unknown name 'y' (valid choices: x, c, inf, pi)"
    )
    text = GOOD.replace('"x[0] + 3*x[1] >= 6"', '"x[0] + 3*w[1] >= 6"')
    assert _error(tmp_path, text) == (
        "p.yaml:11:26: constraints.prot.expr: unknown name 'w' (valid choices: x, c, inf, pi)"
    )


def test_import_and_attribute_access_rejected(tmp_path: Path) -> None:
    text = GOOD.replace("minimize: c @ x", "minimize: \"__import__('os').system('true')\"")
    assert _error(tmp_path, text) == (
        "p.yaml:8:12: minimize: name '__import__' is not allowed "
        "(names starting with '__' are reserved)"
    )
    assert _error(tmp_path, GOOD.replace("minimize: c @ x", "minimize: c @ x.T")) == (
        "p.yaml:8:15: minimize: attribute access ('x.T') is not allowed; write transpose(x)"
    )
    assert _error(tmp_path, GOOD.replace("cov: x[0]", "cov: x.__class__[0]")) == (
        "p.yaml:10:8: constraints.cov: attribute access ('x.__class__') is not allowed; "
        "use functions"
    )


def test_oversized_file(tmp_path: Path) -> None:
    text = GOOD + "# " + "x" * MAX_FILE_BYTES + "\n"
    p = _write(tmp_path, text)
    size = p.stat().st_size
    with pytest.raises(SpecError) as info:
        read_yaml(p)
    assert str(info.value) == f"{p}: file too large: {size} bytes (the limit is {MAX_FILE_BYTES})"


def test_schema_version_and_header(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("schema_version: 1", "schema_version: 2")) == (
        "p.yaml:1:17: schema_version: schema_version 2 is not supported (this version reads 1)"
    )
    assert _error(tmp_path, GOOD.replace("schema_version: 1\n", "")) == (
        "p.yaml:1:1: schema_version: this field is required (this version reads 1)"
    )
    assert _error(tmp_path, "- 1\n- 2\n") == (
        "p.yaml:1:1: expected a mapping at the top of the file, found a list"
    )
    assert _error(tmp_path, GOOD.replace("minimize: c @ x", "")) == (
        "p.yaml:1:1: give exactly one of 'minimize' and 'maximize'"
    )


def test_reserved_and_clashing_names(tmp_path: Path) -> None:
    assert _error(tmp_path, GOOD.replace("  c: [2, 3]", "  sum: [2, 3]")) == (
        "p.yaml:5:3: parameters.sum: the name 'sum' is reserved"
    )
    assert _error(tmp_path, GOOD.replace("  cov:", "  x:")) == (
        "p.yaml:10:3: constraints.x: the group name 'x' is already used"
    )


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for k in range(1, 8):
        prev = f"*a{k - 1}"
        lines.append(f"a{k}: &a{k} [{', '.join([prev] * 10)}]")
    msg = _error(tmp_path, "\n".join(lines) + "\n")
    assert msg.startswith("p.yaml: document too large (more than 500000 nodes; aliases count)")
