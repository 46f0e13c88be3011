"""The package's architecture, checked from its source.

- No import cycle between any two modules of ``ortools_lag``: the graph is built here from the
  source with :mod:`ast` (every ``import``, inside functions too; only imports under
  ``if TYPE_CHECKING:`` are left out, since they never run), and its strongly connected
  components must all be single modules. The builder is first shown to find a cycle that is
  there, on a small package written for the purpose.
- Every module imports on its own.
- Every public name that the README, ``examples/``, ``problems/README.md``, the YAML files and
  the docstrings use still imports from where they say it is.

The layering itself (which package may import which) is ``lint-imports``'s work, with the
contracts in ``pyproject.toml``; CI runs it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import networkx as nx
import pytest

import ortools_lag
import ortools_lag.problems

ROOT = Path(ortools_lag.__file__).parent


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree`` except those under ``if TYPE_CHECKING:``."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def import_graph(root: Path, package: str) -> nx.DiGraph:
    """The module import graph of the package at ``root`` (edges: importer -> imported)."""
    modules = {_module_name(p, root, package): p for p in root.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor if is_pkg else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base]) if base else ".".join(anchor)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` names a.b.c or a parent
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph.add_edge(name, target)
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "demo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from demo.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n    return a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from demo import a\n"
    )
    (pkg / "d.py").write_text("import demo.c\n")
    graph = import_graph(pkg, "demo")
    assert cycles(graph) == [["demo.a", "demo.sub.b"]]
    assert not graph.has_edge("demo.c", "demo.a")  # annotation-only imports are not edges
    assert graph.has_edge("demo.d", "demo.c")


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph(ROOT, "ortools_lag")
    assert graph.number_of_edges() > 300  # the builder did read the package
    found = cycles(graph)
    where = [" <-> ".join(c) for c in found]
    assert not found, "import cycles: " + "; ".join(where)


#: ``ortools_lag.torch`` needs the optional torch extra: listed only where torch is installed
TORCH = importlib.util.find_spec("torch") is not None


def _all_modules() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages([str(ROOT)], prefix="ortools_lag.")
        if not m.name.endswith("__main__") and (TORCH or not m.name.startswith("ortools_lag.torch"))
    ]
    return sorted(names)


@pytest.mark.parametrize("name", _all_modules())
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


#: Public names, by the module that users import them from (README, examples/,
#: problems/README.md, the YAML files, the docstrings and the benchmarks).
PUBLIC: dict[str, list[str]] = {
    "ortools_lag": [
        "Model", "Problem", "Relaxation", "solve", "Solution", "Status", "Termination",
        "KKTReport", "History", "OrtoolsLagError", "ModelError", "SpecError", "OptionError",
        "UnknownSolverError", "BackendUnavailableError", "NotSupportedError", "__version__",
    ],
    "ortools_lag.cli": ["main"],
    "ortools_lag.model": ["Model", "to_standard_form", "StandardForm", "functions"],
    "ortools_lag.model.functions": ["tanh", "relu", "sigmoid", "exp", "log"],
    "ortools_lag.model.ufunc_threads": ["get_num_threads", "set_num_threads", "background"],
    "ortools_lag.kkt": ["certify", "certify_feasible"],
    "ortools_lag.lagrangian": ["Lagrangian"],
    "ortools_lag.parallel": ["ProcessExecutor", "DaskExecutor", "make_executor"],
    "ortools_lag.plot": ["convergence"],
    "ortools_lag.io": ["read_mps"],
    "ortools_lag.io.gap": ["read_gap"],
    "ortools_lag.io.tsplib": ["read_tsplib"],
    "ortools_lag.io.dimacs": ["read_gr", "read_min"],
    "ortools_lag.arrays": ["to_numpy"],
    "ortools_lag.solvers": ["solve", "available", "names", "register"],
    "ortools_lag.solvers.registry": ["names", "get", "available", "register"],
    "ortools_lag.solvers.pdhg": ["pdhg_solve"],
    "ortools_lag.problems": ["KINDS", "kinds", "module", "describe"],
    "ortools_lag.problems.constrained_learning": ["dual_ascent", "norm_budget_least_squares"],
    "ortools_lag.algorithms.shortest_paths": ["shortest_paths", "check_potentials"],
    "ortools_lag.algorithms.assignment": ["auction", "check_assignment", "linear_assignment"],
    "ortools_lag.algorithms.knapsack": ["KnapsackBatch"],
    "ortools_lag.solvers.backends.ipopt": ["IpoptSolver", "IpoptOptions"],
}  # fmt: skip
if TORCH:
    PUBLIC["ortools_lag.torch"] = [
        "ConstrainedProblem", "GradientAscent", "PI", "AugmentedLagrangian", "train",
        "lagrangian_view", "LagrangianView", "Multipliers", "certify",
    ]  # fmt: skip


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_import(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in PUBLIC[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lacks {missing}"


@pytest.mark.parametrize(
    "kind", [k for k in ortools_lag.problems.KINDS if k not in ("model", "mps")]
)
def test_every_problem_kind_builds_and_reads(kind: str) -> None:
    family = ortools_lag.problems.module(kind)
    assert callable(family.build)
    assert callable(getattr(family, "read", None)) or kind in ("nn_training",)


def test_every_registered_solver_loads() -> None:
    from ortools_lag.solvers import registry

    for name in registry.names():
        solver = registry.get(name)
        assert solver.name == name
