"""``ortools-lag explain``: the model, its Lagrangian and its KKT conditions, in mathematics.

For a minimisation ``min f(x)`` with groups held as ``c_g(x) <= 0`` (``lhs <= rhs`` as
``lhs - rhs``, ``lhs >= rhs`` as ``rhs - lhs``) or ``c_g(x) = 0``, and the relaxed set ``R``:

    L(x, λ) = f(x) + Σ_{g in R} λ_g · c_g(x),     q(λ) = min { L(x, λ) : x in X }

with ``X`` the kept groups, the bounds and the domains; ``λ_g >= 0`` on inequality groups, free
on equalities, signed (``μ_upper - μ_lower``) on two-sided groups. A maximisation is written as
the minimisation of ``-f``, so its dual bound is an upper bound. Expressions written in a YAML
file are rendered from their syntax tree (text, or LaTeX with ``latex=True``); models without
source text (MPS, library kinds) are described by their groups' sizes.

>>> from ortools_lag import Model, Problem
>>> m = Model("tiny"); x = m.var("x", 2)
>>> m.minimize(x.sum()); _ = m.add("cover", x[0] + x[1] >= 1)
>>> "L(x, λ) = f(x) + λ_cover · c_cover(x)" in explain(Problem(m))
True
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ortools_lag.errors import ModelError

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.problem import Problem

__all__ = ["explain", "to_latex"]

_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "theta",
    "kappa",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "phi",
    "chi",
    "psi",
    "omega",
}
_FUNCS = {"exp", "log", "tanh", "sin", "cos"}
_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.MatMult: 2, ast.Pow: 4}


def _name(name: str) -> str:
    if name in _GREEK:
        return "\\" + name
    if name == "inf":
        return "\\infty"
    if len(name) == 1:
        return name
    return "\\mathrm{" + name.replace("_", "\\_") + "}"


class _Latex:
    """LaTeX from a parsed expression (``ndim`` tells vectors from matrices for ``@``)."""

    def __init__(self, ndim: dict[str, int]) -> None:
        self.ndim = ndim

    def __call__(self, node: ast.AST, parent: int = 0) -> str:
        method = getattr(self, f"v_{type(node).__name__}", None)
        return ast.unparse(node) if method is None else method(node, parent)

    def v_Expression(self, node: ast.Expression, parent: int) -> str:
        return self(node.body)

    def v_Constant(self, node: ast.Constant, parent: int) -> str:
        return f"{node.value:g}" if isinstance(node.value, float) else str(node.value)

    def v_Name(self, node: ast.Name, parent: int) -> str:
        return _name(node.id)

    def v_UnaryOp(self, node: ast.UnaryOp, parent: int) -> str:
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        text = sign + self(node.operand, 3)
        return f"\\left({text}\\right)" if parent >= 2 else text

    def v_BinOp(self, node: ast.BinOp, parent: int) -> str:
        prec = _PREC.get(type(node.op), 1)
        a, b = self(node.left, prec), self(node.right, prec + 1)
        if isinstance(node.op, ast.Add):
            text = f"{a} + {b}"
        elif isinstance(node.op, ast.Sub):
            text = f"{a} - {b}"
        elif isinstance(node.op, ast.Mult):
            text = f"{a} \\, {b}"
        elif isinstance(node.op, ast.Div):
            return f"\\frac{{{self(node.left)}}}{{{self(node.right)}}}"
        elif isinstance(node.op, ast.Pow):
            return f"{self(node.left, 5)}^{{{self(node.right)}}}"
        else:
            vec = isinstance(node.left, ast.Name) and self.ndim.get(node.left.id) == 1
            text = f"{a}^\\top {b}" if vec else f"{a} {b}"
        return f"\\left({text}\\right)" if prec < parent else text

    def v_Subscript(self, node: ast.Subscript, parent: int) -> str:
        idx = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return f"{self(node.value, 5)}_{{{','.join(ast.unparse(i) for i in idx)}}}"

    def v_Call(self, node: ast.Call, parent: int) -> str:
        f = node.func.id if isinstance(node.func, ast.Name) else "?"
        args = [self(a) for a in node.args]
        if f == "sum" and args:
            axis = [ast.unparse(k.value) for k in node.keywords if k.arg == "axis"]
            sub = f"_{{\\text{{axis }}{axis[0]}}}" if axis else ""
            return f"\\sum{sub} {self(node.args[0], 3)}"
        if f == "sum_squares" and args:
            return f"\\left\\lVert {args[0]} \\right\\rVert_2^2"
        if f == "quad_form" and len(args) == 2:
            return f"{self(node.args[0], 5)}^\\top {args[1]} \\, {self(node.args[0], 5)}"
        if f == "transpose" and args:
            return f"{self(node.args[0], 5)}^\\top"
        if f == "sqrt" and args:
            return f"\\sqrt{{{args[0]}}}"
        if f == "abs" and args:
            return f"\\left|{args[0]}\\right|"
        if f == "sigmoid" and args:
            return f"\\sigma\\left({args[0]}\\right)"
        head = f"\\{f}" if f in _FUNCS else f"\\operatorname{{{f}}}"
        return f"{head}\\left({', '.join(args)}\\right)"

    def v_Compare(self, node: ast.Compare, parent: int) -> str:
        ops = {ast.LtE: "\\le", ast.GtE: "\\ge", ast.Eq: "="}
        parts = [self(node.left)]
        for op, right in zip(node.ops, node.comparators):
            parts += [ops.get(type(op), "?"), self(right)]
        return " ".join(parts)

    def v_List(self, node: ast.List, parent: int) -> str:
        return "\\left[" + ", ".join(self(e) for e in node.elts) + "\\right]"


def to_latex(text: str, ndim: dict[str, int] | None = None) -> str:
    """LaTeX of an expression string of a YAML file.

    >>> to_latex("profit @ x + sum(y) <= 2 * cap", {"profit": 1})
    '\\\\mathrm{profit}^\\\\top x + \\\\sum y \\\\le 2 \\\\, \\\\mathrm{cap}'
    """
    return _Latex(ndim or {})(ast.parse(text.strip(), mode="eval"))


@dataclass(frozen=True)
class _Group:
    name: str
    sense: str
    rows: int
    stated: str  # the group as written
    held: str  # c_g(x) in the held form (without "<= 0")
    relaxed: bool


def _held(text: str, sense: str, latex: bool, ndim: dict[str, int]) -> tuple[str, str]:
    """The group as written and its held form ``c_g`` (``lhs - rhs`` or ``rhs - lhs``)."""
    tree = ast.parse(text.strip(), mode="eval").body
    show = (lambda n: _Latex(ndim)(n)) if latex else ast.unparse
    stated = show(tree)
    if not isinstance(tree, ast.Compare) or len(tree.ops) != 1:
        return stated, ""
    lhs, rhs = tree.left, tree.comparators[0]
    a, b = (lhs, rhs) if sense != ">=" else (rhs, lhs)
    if sense == ">=" and isinstance(tree.ops[0], ast.LtE):  # written "rhs <= lhs"
        a, b = lhs, rhs
    if sense == "<=" and isinstance(tree.ops[0], ast.GtE):
        a, b = rhs, lhs
    right = show(b)
    simple = isinstance(b, (ast.Name, ast.Constant, ast.Subscript, ast.Call))
    if not simple:
        right = f"\\left({right}\\right)" if latex else f"({right})"
    return stated, f"{show(a)} - {right}"


def _groups(problem: Problem, relaxed: Sequence[str], latex: bool) -> list[_Group]:
    m = problem.model
    source = problem.metadata.get("source", {}) if isinstance(problem.metadata, dict) else {}
    texts = source.get("constraints", {}) if isinstance(source, dict) else {}
    ndim = {k: len(v) for k, v in source.get("parameters", {}).items()} if source else {}
    ndim.update({k: len(v.shape) for k, v in m.variables.items()})
    out = []
    for name, g in m.groups.items():
        if name in texts:
            stated, held = _held(texts[name], g.sense, latex, ndim)
        else:
            stated = _structural(m, name, latex)
            held = ""
        out.append(_Group(name, g.sense, g.size, stated, held, name in relaxed))
    return out


def _structural(m: Model, name: str, latex: bool) -> str:
    from ortools_lag.model import AffineExpr

    g = m.groups[name]
    body = g.body
    nnz = ""
    if isinstance(body, AffineExpr):
        nnz = f", {body.matrix(m.n).nnz} nonzeros"
        what = f"A_{{{name}}} z" if latex else f"A_{name} z"
    else:
        what = f"g_{{{name}}}(z)" if latex else f"g_{name}(z)"
    sym = {"<=": "\\le" if latex else "<=", ">=": "\\ge" if latex else ">=", "==": "="}
    if g.sense == "range":
        le = "\\le" if latex else "<="
        rel = f"l {le} {what} {le} u"
    else:
        rel = f"{what} {sym[g.sense]} b"
    return rel + ("" if latex or not nnz else f"   ({nnz.lstrip(', ')})")


def _bounds_text(m: Model, latex: bool) -> list[str]:
    out = []
    for name, v in m.variables.items():
        lo, hi = np.unique(v.lb), np.unique(v.ub)
        dom = {"continuous": "ℝ", "integer": "ℤ", "binary": "{0,1}"}[v.domain]
        if latex:
            dom = {"continuous": "\\mathbb{R}", "integer": "\\mathbb{Z}", "binary": "\\{0,1\\}"}[
                v.domain
            ]
        shape = "×".join(str(s) for s in v.shape) or "1"
        lo_t = f"{lo[0]:g}" if lo.size == 1 else f"lb_{name}"
        hi_t = f"{hi[0]:g}" if hi.size == 1 else f"ub_{name}"
        le = "\\le" if latex else "<="
        nm = _name(name) if latex else name
        parts = [] if lo_t == "-inf" else [_tex_num(lo_t) if latex else lo_t]
        parts.append(nm)
        if hi_t != "inf":
            parts.append(_tex_num(hi_t) if latex else hi_t)
        bound = f" {le} ".join(parts) if len(parts) > 1 else f"{nm} free"
        if latex:
            shape = shape.replace("×", "\\times ")
            out.append(f"{nm} \\in {dom}^{{{shape}}}, \\quad {bound}")
        else:
            out.append(f"{name} ∈ {dom}^{shape},  {bound}")
    return out


def _tex_num(text: str) -> str:
    return {"inf": "\\infty", "-inf": "-\\infty"}.get(text, text.replace("_", "\\_"))


def _sign(g: _Group, latex: bool) -> str:
    lam = f"\\lambda_{{{_name(g.name)}}}" if latex else f"λ_{g.name}"
    if g.sense in ("<=", ">="):
        return f"{lam} \\ge 0" if latex else f"{lam} >= 0"
    if g.sense == "==":
        return f"{lam} \\text{{ free}}" if latex else f"{lam} free"
    return f"{lam} = \\mu^+ - \\mu^- \\text{{ (signed)}}" if latex else f"{lam} = μ+ − μ− (signed)"


def _relaxed(problem: Problem, relax: Sequence[str] | None) -> tuple[str, list[str]]:
    groups = list(problem.model.groups)
    if relax is not None:
        bad = [g for g in relax if g not in groups]
        if bad:
            raise ModelError(
                f"unknown group(s) {bad} to relax (valid choices: {', '.join(groups)})"
            )
        return "given by --relax", list(relax)
    if problem.default_relaxation is not None:
        return f"plan {problem.default_relaxation!r}", list(problem.relaxation().relax)
    return "every group (the full Lagrangian)", groups


def explain(problem: Problem, relax: Sequence[str] | None = None, *, latex: bool = False) -> str:
    """The model, the Lagrangian of the chosen relaxation and the KKT conditions.

    Parameters
    ----------
    problem
        The problem (a YAML file's problem carries the expressions as written).
    relax
        Groups to relax; default: the problem's default relaxation, else every group.
    latex
        LaTeX (``align*`` blocks) instead of plain text.
    """
    which, relaxed = _relaxed(problem, relax)
    groups = _groups(problem, relaxed, latex)
    render = _latex_doc if latex else _text_doc
    return render(problem, groups, which)


def _objective(problem: Problem, latex: bool) -> str:
    source = problem.metadata.get("source", {}) if isinstance(problem.metadata, dict) else {}
    text = source.get("objective") if isinstance(source, dict) else None
    if not text:
        degree = problem.model.objective.degree
        if degree == 1:
            return "c^\\top z" if latex else "cᵀz + c₀"
        kind = {0: "constant", 2: "quadratic"}.get(degree, "nonlinear")
        return f"f(z)\\ \\text{{({kind})}}" if latex else f"f(z) ({kind})"
    if not latex:
        return ast.unparse(ast.parse(text.strip(), mode="eval"))
    ndim = {k: len(v) for k, v in source.get("parameters", {}).items()}
    ndim.update({k: len(v.shape) for k, v in problem.model.variables.items()})
    return to_latex(text, ndim)


def _text_doc(problem: Problem, groups: list[_Group], which: str) -> str:
    m = problem.model
    sense = "maximize" if m.sense == "max" else "minimize"
    held_f = "f(x) = −(objective)" if m.sense == "max" else "f(x) = objective"
    lines = [f"Model {problem.metadata.get('name', m.name)} ({problem.kind})", ""]
    lines += [f"  {sense}  {_objective(problem, False)}", "  subject to"]
    for g in groups:
        mark = "  [relaxed]" if g.relaxed else ""
        rows = f"{g.rows} row" + ("s" if g.rows != 1 else "")
        lines.append(f"    {g.name}: {g.stated}{mark}   ({rows}; {_sign(g, False)})")
    lines += [f"    {b}" for b in _bounds_text(m, False)]
    lines += ["", f"Held as a minimisation: {held_f}; each group as c_g(x) <= 0 or c_g(x) = 0:"]
    for g in groups:
        if g.held:
            rel = "= 0" if g.sense == "==" else "<= 0"
            lines.append(f"    c_{g.name}(x) = {g.held} {rel}")
    rel_ = [g for g in groups if g.relaxed]
    kept = [g.name for g in groups if not g.relaxed]
    terms = " + ".join(f"λ_{g.name} · c_{g.name}(x)" for g in rel_) or "0"
    kept_text = ", ".join([*kept, "bounds", "domains"])
    lines += [
        "",
        f"Lagrangian (relaxed: {which}: {', '.join(g.name for g in rel_) or 'none'})",
        f"    L(x, λ) = f(x) + {terms}",
        f"    q(λ) = min {{ L(x, λ) : x in X }},  X = {{ {kept_text} }}",
        "    weak duality: q(λ) <= f(x*) for every admissible λ"
        + (" (so −q(λ) is an upper bound of the maximum)" if m.sense == "max" else ""),
        "    admissible λ: " + ", ".join(_sign(g, False) for g in rel_),
        "",
        "KKT conditions (r: the bound multipliers = reduced costs)",
        "    stationarity     ∇f(x) + Σ_g J_g(x)ᵀ λ_g = r;  r_j >= 0 at a lower bound,"
        " r_j <= 0 at an upper bound, r_j = 0 strictly between",
        "    primal           c_g(x) <= 0 (inequalities), c_g(x) = 0 (equalities), lb <= x <= ub",
        "    dual             " + ", ".join(_sign(g, False) for g in groups),
        "    complementarity  λ_g ⊙ c_g(x) = 0 for every inequality group",
    ]
    if m.is_integer:
        lines.append(
            "    (integer variables: these hold for the continuous relaxation; the Lagrangian "
            "bound may leave a duality gap)"
        )
    return "\n".join(lines)


def _latex_doc(problem: Problem, groups: list[_Group], which: str) -> str:
    m = problem.model
    op = "\\max" if m.sense == "max" else "\\min"
    rows = [f"{op}_{{x}} \\quad & {_objective(problem, True)} \\\\"]
    for g in groups:
        tag = "\\ \\text{(relaxed)}" if g.relaxed else ""
        rows.append(f"\\text{{{_esc(g.name)}:}} \\quad & {g.stated} && {_sign(g, True)}{tag} \\\\")
    rows += [f"& {b} \\\\" for b in _bounds_text(m, True)]
    fmin = "-\\left(" + _objective(problem, True) + "\\right)" if m.sense == "max" else "f(x)"
    rel_ = [g for g in groups if g.relaxed]
    terms = " + ".join(f"\\lambda_{{{_name(g.name)}}} \\, c_{{{_name(g.name)}}}(x)" for g in rel_)
    held = [
        f"c_{{{_name(g.name)}}}(x) &= {g.held} {_rel_tex(g.sense)} \\\\" for g in groups if g.held
    ]
    kept = ", ".join(_esc(g.name) for g in groups if not g.relaxed) or "bounds"
    out = [
        f"% ortools-lag explain: {_esc(str(problem.metadata.get('name', m.name)))}",
        "\\begin{align*}",
        *rows,
        "\\end{align*}",
        "Held as $c_g(x) \\le 0$ or $c_g(x) = 0$:",
        "\\begin{align*}",
        f"f(x) &= {fmin} \\\\",
        *held,
        "\\end{align*}",
        f"Lagrangian (relaxed: {_esc(which)}):",
        "\\begin{align*}",
        f"L(x, \\lambda) &= f(x) + {terms or '0'} \\\\",
        f"q(\\lambda) &= \\min_{{x \\in X}} L(x, \\lambda), \\quad X: \\text{{{kept}, bounds}}",
        "\\end{align*}",
        "KKT conditions:",
        "\\begin{align*}",
        "& \\nabla f(x) + \\textstyle\\sum_g J_g(x)^\\top \\lambda_g = r, \\quad "
        "r_j \\ge 0 \\text{ at } l_j,\\ r_j \\le 0 \\text{ at } u_j \\\\",
        "& c_g(x) \\le 0 \\ (\\text{inequalities}), \\quad c_g(x) = 0 \\ (\\text{equalities}) \\\\",
        "& " + ", \\ ".join(_sign(g, True) for g in groups) + " \\\\",
        "& \\lambda_g \\odot c_g(x) = 0",
        "\\end{align*}",
    ]
    return "\n".join(out)


def _rel_tex(sense: str) -> str:
    return "= 0" if sense == "==" else "\\le 0"


def _esc(text: str) -> str:
    return re.sub(r"([_%&#$])", r"\\\1", text)
