"""What the command line prints: the solve summary and the versioned result document.

The ``explain`` text and LaTeX are in :mod:`ortools_lag.cli.explain`.

>>> from ortools_lag import Model, solve
>>> m = Model("tiny"); x = m.var("x", 2)
>>> m.minimize(x.sum()); _ = m.add("cover", x[0] + x[1] >= 1)
>>> sol = solve(m, "highs")
>>> print(largest_multipliers(sol, m)[0])
cover    1 row      |λ|     1            (>= 0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ortools_lag.problem import Problem
    from ortools_lag.result import Solution
    from ortools_lag.spec.yaml_schema import ExpectSpec

__all__ = [
    "RESULT_SCHEMA_VERSION",
    "largest_multipliers",
    "listing",
    "plural",
    "result_document",
    "summary",
]

#: Version of the ``--json``/``--yaml`` result document.
RESULT_SCHEMA_VERSION = 1


def _num(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value + 0.0:.10g}"


def _sign_note(sense: str) -> str:
    return {"<=": "(>= 0)", ">=": "(>= 0)", "==": "(free)", "range": "(signed)"}.get(sense, "")


def largest_multipliers(sol: Solution, problem: Any = None, k: int = 8) -> list[str]:
    """One line per group: size, the largest ``|λ|`` and where, by decreasing ``|λ|``.

    ``problem`` (a Problem or a Model) adds each group's sign rule.
    """
    rows = []
    width = max([8, *(len(str(name)) for name in sol.multipliers)])
    model = getattr(problem, "model", problem)
    groups = model.groups if model is not None else {}
    for name, lam in sol.multipliers.items():
        arr = np.asarray(lam, dtype=float)
        if arr.size == 0:
            continue
        flat = np.abs(arr).ravel()
        i = int(np.nanargmax(flat)) if np.isfinite(flat).any() else 0
        at = tuple(int(j) for j in np.unravel_index(i, arr.shape)) if arr.ndim else None
        where = "" if at is None else f"at {at[0] if len(at) == 1 else at}"
        sense = groups[name].sense if name in groups else ""
        size = plural(arr.size, "row")
        label = "max |λ|" if arr.size > 1 else "|λ|    "
        line = f"{name:<{width}} {size:<10} {label} {_num(float(flat[i])):<12} {where:<9} "
        rows.append((float(flat[i]) if np.isfinite(flat[i]) else -1.0, line + _sign_note(sense)))
    rows.sort(key=lambda r: -r[0])
    out = [r[1].rstrip() for r in rows[:k]]
    if len(rows) > k:
        out.append(f"... and {len(rows) - k} more groups")
    return out


def _status_line(sol: Solution) -> str:
    from ortools_lag.result import Status

    notes = {
        Status.INFEASIBLE: "the problem has no feasible point",
        Status.UNBOUNDED: "the objective is unbounded",
        Status.INFEASIBLE_OR_UNBOUNDED: "the problem is infeasible or unbounded",
        Status.NO_SOLUTION: "no feasible point was found",
    }
    text = f"{sol.status.value} ({sol.termination.value})"
    if sol.status in notes:
        text += f": {notes[sol.status]}"
    return text


def plural(count: int, noun: str) -> str:
    """``1 constraint``, ``2 constraints``: a count and its noun.

    >>> plural(1, "group"), plural(3, "group")
    ('1 group', '3 groups')
    """
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _residual(value: float) -> str:
    """A relative residual: two digits, and 0 below 1e-12 (round-off, never ``-0``)."""
    return "0" if abs(value) < 1e-12 else f"{value:.2g}"


def _gap(sol: Solution) -> str:
    """``objective − bound`` and its relative size; round-off below 1e-9 relative shows as 0."""
    if not math.isfinite(sol.gap):
        return "n/a"
    rel = sol.rel_gap
    if abs(rel) < 1e-9:
        return "0 (objective − bound; relative < 1e-9)"
    return f"{_num(sol.gap)} (objective − bound; relative {rel:.3g})"


#: The certificate's residuals as the summary names them (one label for each kind of gap:
#: ``gap`` is objective − bound, ``Lagrangian dual gap`` the certificate's relative
#: ``|objective − q(λ)| / (1 + |objective|)`` at the reported multipliers).
_RESIDUALS = (
    ("primal", "primal_residual"),
    ("stationarity", "stationarity"),
    ("complementarity", "complementarity"),
    ("Lagrangian dual gap", "duality_gap"),
)


def _certificate(sol: Solution) -> str:
    rep = sol.kkt
    if rep is None:
        return "none"
    verdict = "certified" if rep.certified else "not certified"
    parts = [
        f"{name} {_residual(getattr(rep, attr))}"
        for name, attr in _RESIDUALS
        if math.isfinite(getattr(rep, attr))
    ]
    rel = f" (relative residuals: {', '.join(parts)})" if parts else ""
    return f"{rep.kind}: {verdict}{rel}"


def summary(
    problem: Problem,
    sol: Solution,
    *,
    file: str | None = None,
    expect: ExpectSpec | None = None,
) -> str:
    """The readable summary of a solve: status, objective, bound, gap, time, multipliers."""
    m = problem.model
    name = problem.metadata.get("name", m.name)
    head = f"{name} ({problem.kind}{', ' + file if file else ''}): {m.sense}, "
    head += f"{plural(m.n, 'variable')}, {plural(m.m, 'constraint')} in "
    head += plural(len(m.groups), "group")
    lines = [
        f"problem     {head}",
        f"solver      {sol.solver}",
        f"status      {_status_line(sol)}",
    ]
    if sol.ok or math.isfinite(sol.bound):
        lines += [
            f"objective   {_num(sol.objective)}",
            f"bound       {_num(sol.bound)}"
            + ("  (upper bound)" if m.sense == "max" else "  (lower bound)"),
            f"gap         {_gap(sol)}",
        ]
    its = f", {plural(sol.iterations, 'iteration')}" if sol.iterations else ""
    lines.append(f"time        {sol.seconds:.3g} s{its}")
    lines.append(f"certificate {_certificate(sol)}")
    mults = largest_multipliers(sol, problem)
    if mults:
        lines.append(
            "multipliers (largest |λ| by group; λ >= 0 on inequalities, signs as in the README)"
        )
        lines += [f"  {row}" for row in mults]
    if problem.relaxations and problem.default_relaxation:
        rel_ = problem.relaxation()
        lines.append(f"relaxation  {problem.default_relaxation}: relaxes {', '.join(rel_.relax)}")
    if expect is not None:
        lines.append(_expect_line(expect, sol))
    if sol.message:
        lines.append(f"message     {sol.message}")
    return "\n".join(lines)


def _expect_line(expect: ExpectSpec, sol: Solution) -> str:
    missed = expect.check(sol.status.value, sol.objective, sol.bound, dict(sol.multipliers))
    verdict = "agrees" if not missed else "DIFFERS: " + "; ".join(missed)
    source = expect.source if len(expect.source) <= 100 else expect.source[:99] + "…"
    return f"expected    {verdict} (source: {source})"


def _plain(value: Any) -> Any:
    """JSON-safe values: arrays to lists, non-finite floats to the strings 'nan'/'inf'/'-inf'."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    return str(value)


def result_document(
    problem: Problem,
    sol: Solution,
    *,
    file: str | Path | None,
    solver: str,
    options: Mapping[str, Any],
    expect: ExpectSpec | None = None,
) -> dict[str, Any]:
    """The versioned, machine-readable result (``--json``/``--yaml``).

    Holds ``schema_version``, the problem's identity, the solver and options, and every field
    of :meth:`Solution.to_dict` (status, objective, bound, gap, x, multipliers, kkt, history...).
    """
    from ortools_lag import __version__

    m = problem.model
    doc: dict[str, Any] = {
        "schema_version": RESULT_SCHEMA_VERSION,
        "ortools_lag": __version__,
        "file": None if file is None else str(file),
        "problem": {
            "name": problem.metadata.get("name", m.name),
            "kind": problem.kind,
            "sense": m.sense,
            "variables": m.n,
            "constraints": m.m,
            "groups": list(m.groups),
            "relaxation": problem.default_relaxation,
        },
        "solver_options": {k: v for k, v in options.items() if k != "callback"},
    }
    doc.update(sol.to_dict())
    if expect is not None:
        missed = expect.check(sol.status.value, sol.objective, sol.bound, dict(sol.multipliers))
        doc["expect"] = {**expect.model_dump(), "agrees": not missed, "differences": missed}
    return _plain(doc)  # type: ignore[no-any-return]


_BACKENDS = ("highspy", "scipy", "cvxpy", "pyomo", "torch", "dask", "distributed", "ortools")


def _installed(package: str) -> str | None:
    import importlib.metadata
    import importlib.util

    try:
        if importlib.util.find_spec(package) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def _fields(kind: str) -> str:
    """The YAML fields of a library kind: its builder's and its reader's keyword arguments."""
    import inspect

    from ortools_lag import problems

    try:
        mod = problems.module(kind)
    except Exception as exc:
        return f"cannot be imported: {exc}"
    parts = []
    for field, fn, skip in (("data", "build", False), ("options", "read", True)):
        func = getattr(mod, fn, None)
        if func is None:
            continue
        names = [
            f"{k}{'' if req else '?'}"
            for k, req in problems.parameters(func, skip_first=skip).items()
        ]
        params = inspect.signature(func).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            names.append("...")
        parts.append(f"{field}: {', '.join(names) or '-'}")
    return "; ".join(parts) + "  (? optional)"


def _table(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Rows of cells aligned in columns (each column as wide as its widest cell)."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def listing() -> str:
    """``ortools-lag list``: problem kinds, solvers, presets and installed backends."""
    from ortools_lag import problems
    from ortools_lag.solvers import registry
    from ortools_lag.spec.loader import PRESET_DIR, preset_names, resolve_solver

    kinds: list[tuple[str, ...]] = []
    fields: dict[int, str] = {}
    for kind in problems.kinds():
        state = (
            "built in"
            if kind in problems.BUILTIN
            else ("installed" if problems.installed(kind) else "planned")
        )
        kinds.append((kind, state, problems.describe(kind)))
        if state == "installed":
            fields[len(kinds) - 1] = _fields(kind)
    lines = ["problem kinds (kind: in a YAML file)"]
    table = _table(kinds)
    pad = " " * (2 + max(len(k[0]) for k in kinds) + 2 + max(len(k[1]) for k in kinds) + 2)
    for i, row in enumerate(table):
        lines.append(row)
        if i in fields:
            lines.append(pad + fields[i])
    solvers: list[tuple[str, ...]] = []
    for name, reason in registry.available().items():
        if reason is None:
            impl = registry.get(name)
            solvers.append((name, impl.family or "-", impl.description or "available"))
        else:
            solvers.append((name, "-", reason))
    lines.append("solvers (--solver NAME)")
    lines += _table(solvers)
    presets: list[tuple[str, ...]] = []
    for p in preset_names():
        try:
            spec = resolve_solver(p, preset=True)
            where = "" if Path(spec.preset or "").parent == PRESET_DIR else f"  ({spec.preset})"
            opts = ", ".join(f"{k}={v}" for k, v in spec.options.items())
            presets.append((p, spec.name, opts + where))
        except Exception as exc:
            presets.append((p, "invalid", str(exc)))
    lines.append("presets (--solver PRESET; shipped in ortools_lag/presets, or ./solvers)")
    lines += _table(presets)
    lines.append("backends")
    lines += _table([(pkg, _installed(pkg) or "not installed") for pkg in _BACKENDS])
    return "\n".join(lines)
