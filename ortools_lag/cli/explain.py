"""``ortools-lag explain``: the Lagrangian and the KKT conditions of the model in hand.

For the model ``min φ`` (a maximisation is held as the minimisation of ``-f``) with each group
held as ``c_g <= 0`` (``lhs - rhs`` for ``<=``, ``rhs - lhs`` for ``>=``), ``c_g = 0`` or, for a
two-sided group, ``l_g <= a_g <= u_g``, :func:`kkt_conditions` writes out, group by group and
block by block (never row by row, so an MPS file of any size stays short):

- the model as stated and as held;
- the Lagrangian of the chosen relaxation ``R``, ``L = φ + Σ_{g in R} λ_gᵀ c_g``, and its dual
  function ``q(λ) = min {L : the kept groups, the bounds, the domains}``;
- per group, the sign of its multiplier and its complementarity;
- per variable block ``b``, stationarity ``∇_b φ + Σ_g J_{g,b}ᵀ λ_g = r_b`` (``J_{g,b}`` the
  Jacobian of ``c_g`` in ``b``: ``A_{g,b}`` for a linear group, ``-A_{g,b}`` for ``>=``) and the
  sign and complementarity of its bound multipliers ``r_b`` (the reduced costs).

Expressions written in a YAML file are shown as written; other models (MPS, problem families)
by their structure (``A_g x - b_g``). Every formula comes as text and as LaTeX that LaTeX and
matplotlib's mathtext both accept; :func:`explain_model` renders them, :func:`explain` is the
command's entry point.

>>> from ortools_lag import Model
>>> m = Model("tiny"); x = m.var("x", 2)
>>> m.minimize(x.sum()); _ = m.add("cover", x[0] + x[1] >= 1)
>>> text = explain_model(m, relax=["cover"])
>>> "L(x, λ) = φ(x) + λ_cover · c_cover(x)" in text
True
>>> print(kkt_conditions(m).find("stationarity", "x").text)
c_x - A_coverᵀ λ_cover = r_x
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ortools_lag.cli.explain_doc import Condition, Explanation
from ortools_lag.cli.expr_latex import held_form, tex_name, to_latex
from ortools_lag.errors import ModelError

if TYPE_CHECKING:
    from ortools_lag.model import Model
    from ortools_lag.model.expressions import Constraint, Expr
    from ortools_lag.problem import Problem

__all__ = ["Condition", "Explanation", "explain", "explain_model", "kkt_conditions", "to_latex"]


# -- the pieces of a formula ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Sym:
    """Symbols in text and LaTeX: one per group, block and the argument list."""

    text: str
    tex: str

    def __add__(self, other: _Sym) -> _Sym:
        return _Sym(self.text + other.text, self.tex + other.tex)


def _sym(text: str, tex: str | None = None) -> _Sym:
    return _Sym(text, text if tex is None else tex)


def _sub(head: str, tex_head: str, *names: str) -> _Sym:
    """``head_name`` (``A_degree``; ``A_{\\mathrm{degree}}`` in LaTeX)."""
    return _Sym(f"{head}_{','.join(names)}", f"{tex_head}_{{{','.join(map(tex_name, names))}}}")


class _Args:
    """The argument list of every function: the blocks a function depends on."""

    def __init__(self, model: Model) -> None:
        self.blocks = list(model.variables)
        self.many = len(self.blocks) > 4
        avoid = set(self.blocks)
        self.whole = next((s for s in ("z", "w", "v", "u") if s not in avoid), "z_all")

    def of(self, names: Sequence[str]) -> _Sym:
        if self.many or not names:
            return _sym(self.whole, tex_name(self.whole))
        return _Sym(", ".join(names), ", ".join(tex_name(n) for n in names))


def _blocks_of(expr: Expr, order: list[str]) -> list[str]:
    used = {v.name for v in expr.variables()}
    return [b for b in order if b in used]


def _rows(n: int) -> str:
    return f"{n} row" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class _Group:
    name: str
    sense: str
    rows: int
    blocks: list[str]
    linear: bool
    zero_rhs: bool
    source: str | None


def _group_info(m: Model, name: str, g: Constraint, texts: dict[str, str]) -> _Group:
    from ortools_lag.model import AffineExpr

    linear = isinstance(g.body, AffineExpr)
    if linear:
        lo, hi = g.bounds_without_constant()
    else:
        lo, hi = g.lo, g.hi
    side = hi if g.sense in ("<=", "==") else lo
    zero = g.sense != "range" and bool(np.all(np.asarray(side) == 0))
    blocks = _blocks_of(g.body, list(m.variables))
    return _Group(name, g.sense, g.size, blocks, linear, zero, texts.get(name))


def _body(g: _Group, args: _Args) -> _Sym:
    """``A_g x`` (or ``A_{g,x} x + A_{g,f} f``) for a linear body, ``h_g(args)`` otherwise."""
    if not g.linear:
        return (
            _sub("h", "h", g.name)
            + _sym(f"({args.of(g.blocks).text})", "")
            + _Sym("", f"\\left({args.of(g.blocks).tex}\\right)")
        )
    if len(g.blocks) <= 1:
        b = g.blocks[0] if g.blocks else args.whole
        return _sub("A", "A", g.name) + _Sym(f" {b}", f" {tex_name(b)}")
    parts = [_sub("A", "A", g.name, b) + _Sym(f" {b}", f" {tex_name(b)}") for b in g.blocks]
    return _Sym(" + ".join(p.text for p in parts), " + ".join(p.tex for p in parts))


def _held(g: _Group, args: _Args, ndim: dict[str, int]) -> tuple[_Sym, _Sym]:
    """The group as stated and ``c_g`` in its held form (without ``<= 0``)."""
    if g.source is not None:
        stated_t, held_t = held_form(g.source, g.sense, False)
        stated_l, held_l = held_form(g.source, g.sense, True, ndim)
        if held_t:
            return _Sym(stated_t, stated_l), _Sym(held_t, held_l)
    a = _body(g, args)
    b, lo, hi = _sub("b", "b", g.name), _sub("l", "l", g.name), _sub("u", "u", g.name)
    le = _Sym(" <= ", " \\leq ")
    if g.sense == "range":
        return lo + le + a + le + hi, a
    rel = {"<=": le, ">=": _Sym(" >= ", " \\geq "), "==": _sym(" = ")}[g.sense]
    stated = a + rel + (_sym("0") if g.zero_rhs else b)
    if g.sense == ">=":
        held = (
            _Sym("-(", "-\\left(") + a + _Sym(")", "\\right)")
            if g.zero_rhs
            else b + _sym(" - ") + _Sym("(", "\\left(") + a + _Sym(")", "\\right)")
        )
        if len(g.blocks) <= 1 and g.linear:
            held = _sym("-") + a if g.zero_rhs else b + _sym(" - ") + a
        return stated, held
    return stated, a if g.zero_rhs else a + _sym(" - ") + b


def _lam(name: str) -> _Sym:
    return _sub("λ", "\\lambda", name)


def _c(g: _Group, args: _Args) -> _Sym:
    a = args.of(g.blocks)
    return _sub("c", "c", g.name) + _Sym(f"({a.text})", f"({a.tex})")


# -- the sections ------------------------------------------------------------------------------
def _objective(m: Model, source: dict, args: _Args, ndim: dict[str, int]) -> tuple[_Sym, str]:
    """The objective as written (or by its structure) and a word on its kind."""
    text = source.get("objective") if source else None
    if text:
        tree = ast.parse(str(text).strip(), mode="eval")
        return _Sym(ast.unparse(tree), to_latex(str(text), ndim)), "as written"
    obj = m.objective
    blocks = _blocks_of(obj, list(m.variables))
    degree = obj.degree
    if degree == 0:
        return _sym("constant"), "a constant objective: a feasibility problem"
    if degree == 1:
        parts = [_sub("c", "c", b) + _Sym(f"ᵀ{b}", f"^\\top {tex_name(b)}") for b in blocks]
        return _Sym(" + ".join(p.text for p in parts), " + ".join(p.tex for p in parts)), "linear"
    w = args.of(blocks)
    if degree == 2:
        vec = w if len(blocks) == 1 else _Sym(f"({w.text})", f"\\left({w.tex}\\right)")
        return (
            _Sym(
                f"½ {vec.text}ᵀ Q {vec.text} + cᵀ{vec.text}",
                f"\\frac{{1}}{{2}} {vec.tex}^\\top Q {vec.tex} + c^\\top {vec.tex}",
            ),
            "quadratic",
        )
    return _Sym(f"f({w.text})", f"f\\left({w.tex}\\right)"), "nonlinear"


def _domain(m: Model, name: str) -> tuple[_Sym, _Sym, str]:
    """``x ∈ {0,1}^91`` and the bounds ``0 <= x <= 1`` of one block."""
    v = m.variables[name]
    sets = {
        "continuous": ("ℝ", "\\mathbb{R}"),
        "integer": ("ℤ", "\\mathbb{Z}"),
        "binary": ("{0,1}", "\\{0,1\\}"),
    }[v.domain]
    shape = "×".join(str(s) for s in v.shape) or "1"
    tex = tex_name(name)
    tex_shape = shape.replace("×", "\\times ")
    dom = _Sym(f"{name} ∈ {sets[0]}^{shape}", f"{tex} \\in {sets[1]}^{{{tex_shape}}}")
    lo, hi = np.unique(v.lb), np.unique(v.ub)
    lo_s = _num(lo, "l", name)
    hi_s = _num(hi, "u", name)
    parts = [p for p in (lo_s, _Sym(name, tex), hi_s) if p is not None]
    if len(parts) == 1:
        return dom, _Sym(f"{name} free", tex), "free"
    bound = _Sym(" <= ".join(p.text for p in parts), " \\leq ".join(p.tex for p in parts))
    return dom, bound, ""


def _num(values: np.ndarray, head: str, name: str) -> _Sym | None:
    if values.size == 1 and not np.isfinite(values[0]):
        return None
    if values.size == 1:
        return _sym(f"{values[0]:g}")
    return _sub(head, head, name)


def _relaxed(problem: Problem, relax: Sequence[str] | None) -> tuple[str, list[str]]:
    groups = list(problem.model.groups)
    if relax is not None:
        bad = [g for g in relax if g not in groups]
        if bad:
            raise ModelError(
                f"unknown group(s) {bad} to relax (valid choices: {', '.join(groups)})"
            )
        return "given by --relax: " + (", ".join(relax) or "none"), list(relax)
    if problem.default_relaxation is not None:
        rel = list(problem.relaxation().relax)
        return f"plan {problem.default_relaxation!r}: {', '.join(rel)}", rel
    return "every group (the full Lagrangian)", groups


def kkt_conditions(model: Model | Problem, relax: Sequence[str] | None = None) -> Explanation:
    """The Lagrangian and every KKT condition of ``model``, group by group and block by block.

    Parameters
    ----------
    model
        A Model, or a Problem (a YAML file's problem carries its expressions as written and
        its relaxation plan).
    relax
        The groups to relax; default: the problem's default plan, else every group.

    Returns
    -------
    Explanation
        Its ``conditions`` hold text and LaTeX for each formula; ``to_text``/``to_latex``
        render the document.

    Raises
    ------
    ModelError
        When ``relax`` names a group the model does not have.
    """
    from ortools_lag.problem import as_problem

    problem = as_problem(model)
    m = problem.model
    which, relaxed = _relaxed(problem, relax)
    meta = problem.metadata if isinstance(problem.metadata, dict) else {}
    raw = meta.get("source")
    source: dict = raw if isinstance(raw, dict) else {}
    texts = dict(source.get("constraints", {})) if source else {}
    ndim = {k: len(v) for k, v in source.get("parameters", {}).items()} if source else {}
    ndim.update({k: len(v.shape) for k, v in m.variables.items()})
    args = _Args(m)
    groups = [_group_info(m, name, g, texts) for name, g in m.groups.items()]
    every = args.of(list(m.variables))
    phi = _Sym(f"φ({every.text})", f"\\varphi({every.tex})")
    out: list[Condition] = []
    notes: list[str] = []
    if args.many:
        notes.append(f"{args.whole} = ({', '.join(m.variables)}): all the variable blocks.")

    obj, kind = _objective(m, source, args, ndim)
    sense = "maximize" if m.sense == "max" else "minimize"
    out.append(
        Condition("model", "", f"{sense}  {obj.text}", f"\\{sense[:3]} \\quad {obj.tex}", kind)
    )
    held: list[tuple[_Group, _Sym]] = []
    for g in groups:
        stated, c = _held(g, args, ndim)
        held.append((g, c))
        mark = "relaxed" if g.name in relaxed else "kept"
        out.append(Condition("model", g.name, stated.text, stated.tex, f"{_rows(g.rows)}, {mark}"))
    for name in m.variables:
        dom, bound, free = _domain(m, name)
        out.append(
            Condition(
                "model", name, f"{dom.text},  {bound.text}", f"{dom.tex}, \\quad {bound.tex}", free
            )
        )

    held_obj = _Sym(f"-({obj.text})", f"-\\left({obj.tex}\\right)") if m.sense == "max" else obj
    out.append(
        Condition(
            "held",
            "",
            f"{phi.text} = {held_obj.text}",
            f"{phi.tex} = {held_obj.tex}",
            "the maximum is minus this minimum" if m.sense == "max" else "",
        )
    )
    for g, c in held:
        cg = _c(g, args)
        if g.sense == "range":
            a = c
            lo, hi = _sub("l", "l", g.name), _sub("u", "u", g.name)
            out.append(
                Condition(
                    "held",
                    g.name,
                    f"{lo.text} <= {a.text} <= {hi.text}",
                    f"{lo.tex} \\leq {a.tex} \\leq {hi.tex}",
                    "two-sided",
                )
            )
            continue
        rel = _sym(" = 0") if g.sense == "==" else _Sym(" <= 0", " \\leq 0")
        out.append(
            Condition(
                "held", g.name, f"{cg.text} = {c.text}{rel.text}", f"{cg.tex} = {c.tex}{rel.tex}"
            )
        )

    rel_groups = [g for g in groups if g.name in relaxed]
    lam_all = _Sym("λ", "\\lambda")
    lhs = _Sym(f"L({every.text}, λ)", f"L({every.tex}, \\lambda)")
    terms = [_term(g, args, ndim) for g in rel_groups]
    rhs = _Sym(
        " + ".join([phi.text, *(t.text for t in terms)]),
        " + ".join([phi.tex, *(t.tex for t in terms)]),
    )
    out.append(
        Condition(
            "lagrangian",
            "",
            f"{lhs.text} = {rhs.text}",
            f"{lhs.tex} = {rhs.tex}",
            "" if terms else "no group relaxed: L is the objective",
        )
    )
    kept = [g.name for g in groups if g.name not in relaxed]
    x_set = (f"the kept groups {', '.join(kept)}, " if kept else "") + "the bounds and the domains"
    out.append(
        Condition(
            "lagrangian",
            "",
            f"q(λ) = min {{ {lhs.text} : {_tuple(every.text)} ∈ X }}",
            f"q({lam_all.tex}) = \\min_{{{_tuple(every.tex)} \\in X}} {lhs.tex}",
            f"X: {x_set}",
        )
    )
    bound_word = (
        "minus it bounds the maximum from above"
        if m.sense == "max"
        else ("a lower bound of the minimum")
    )
    out.append(
        Condition(
            "lagrangian",
            "",
            "q(λ) <= φ*",
            f"q({lam_all.tex}) \\leq \\varphi^\\star",
            f"weak duality (φ* the least φ), for every admissible multiplier: {bound_word}",
        )
    )

    for g in groups:
        lam = _lam(g.name)
        vec = f"{lam.text} ∈ ℝ^{g.rows}"
        if g.sense in ("<=", ">="):
            out.append(
                Condition(
                    "sign",
                    g.name,
                    f"{lam.text} >= 0",
                    f"{lam.tex} \\geq 0",
                    f"{_rows(g.rows)}, an inequality",
                )
            )
            cg = _c(g, args)
            dot = _Sym(" ⊙ ", " \\odot ") if g.rows > 1 else _Sym(" · ", " \\, ")
            out.append(
                Condition(
                    "complementarity",
                    g.name,
                    f"{lam.text}{dot.text}{cg.text} = 0",
                    f"{lam.tex}{dot.tex}{cg.tex} = 0",
                    "each row: slack, or its multiplier is 0",
                )
            )
        elif g.sense == "==":
            out.append(
                Condition(
                    "sign",
                    g.name,
                    f"{vec} free",
                    f"{lam.tex} \\in \\mathbb{{R}}^{{{g.rows}}}",
                    f"{_rows(g.rows)}, an equality: any sign",
                )
            )
        else:
            mu_p, mu_m = _sub("μ⁺", "\\mu^{+}", g.name), _sub("μ⁻", "\\mu^{-}", g.name)
            out.append(
                Condition(
                    "sign",
                    g.name,
                    f"{lam.text} = {mu_p.text} - {mu_m.text},  {mu_p.text} >= 0,  {mu_m.text} >= 0",
                    f"{lam.tex} = {mu_p.tex} - {mu_m.tex}, \\quad {mu_p.tex} \\geq 0, "
                    f"\\quad {mu_m.tex} \\geq 0",
                    f"{_rows(g.rows)}, two-sided: positive where the upper side binds",
                )
            )
            a = _held(g, args, ndim)[1]
            lo, hi = _sub("l", "l", g.name), _sub("u", "u", g.name)
            out.append(
                Condition(
                    "complementarity",
                    g.name,
                    f"{mu_p.text} ⊙ ({a.text} - {hi.text}) = 0,  "
                    f"{mu_m.text} ⊙ ({lo.text} - {a.text}) = 0",
                    f"{mu_p.tex} \\odot \\left({a.tex} - {hi.tex}\\right) = 0, "
                    f"\\quad {mu_m.tex} \\odot \\left({lo.tex} - {a.tex}\\right) = 0",
                )
            )

    grad_obj = _blocks_of(m.objective, list(m.variables))
    for name in m.variables:
        out.append(_stationarity(m, name, groups, args, source, name in grad_obj))
        out.append(_bound_condition(m, name))
    if m.is_integer:
        notes.append(
            "Integer variables: the KKT conditions hold for the continuous relaxation; the "
            "Lagrangian bound q(λ) may leave a duality gap."
        )
    return Explanation(
        name=str(meta.get("name", m.name)),
        kind=problem.kind,
        sense=m.sense,
        relaxed=tuple(relaxed),
        which=which,
        conditions=tuple(out),
        notes=tuple(notes),
    )


def _tuple(args: str) -> str:
    return f"({args})" if "," in args else args


def _term(g: _Group, args: _Args, ndim: dict[str, int]) -> _Sym:
    lam, c = _lam(g.name), _c(g, args)
    if g.sense == "range":
        a = _held(g, args, ndim)[1]
        mu_p, mu_m = _sub("μ⁺", "\\mu^{+}", g.name), _sub("μ⁻", "\\mu^{-}", g.name)
        lo, hi = _sub("l", "l", g.name), _sub("u", "u", g.name)
        return _Sym(
            f"{mu_p.text}ᵀ ({a.text} - {hi.text}) + {mu_m.text}ᵀ ({lo.text} - {a.text})",
            f"{{{mu_p.tex}}}^\\top \\left({a.tex} - {hi.tex}\\right) + {{{mu_m.tex}}}^\\top "
            f"\\left({lo.tex} - {a.tex}\\right)",
        )
    if g.rows == 1:
        return _Sym(f"{lam.text} · {c.text}", f"{lam.tex} \\, {c.tex}")
    return _Sym(f"{lam.text}ᵀ {c.text}", f"{lam.tex}^\\top {c.tex}")


def _stationarity(
    m: Model, name: str, groups: list[_Group], args: _Args, source: dict, in_obj: bool
) -> Condition:
    """``∇_b φ + Σ_g J_{g,b}ᵀ λ_g = r_b`` for block ``name``, concrete where the model is linear."""
    from ortools_lag.model import AffineExpr

    tex = tex_name(name)
    every = args.of(list(m.variables))
    if not in_obj:
        grad = _sym("0")
    elif isinstance(m.objective, AffineExpr) and not (source and source.get("objective")):
        grad = _sub("c", "c", name)
    else:
        grad = _Sym(f"∇_{name} φ({every.text})", f"\\nabla_{{{tex}}} \\varphi({every.tex})")
    if m.sense == "max" and grad.text.startswith("c_"):  # φ = -f: its gradient is -c
        grad = _sym("-") + grad
    terms: list[_Sym] = []
    for g in groups:
        if name not in g.blocks:
            continue
        lam = _lam(g.name)
        if g.linear:
            a = _sub("A", "A", g.name) if len(g.blocks) == 1 else _sub("A", "A", g.name, name)
            jac = a + _Sym("ᵀ ", "^\\top ")
        else:
            a = _sub("J", "J", g.name, name)
            jac = a + _Sym(f"({every.text})ᵀ ", f"({every.tex})^\\top ")
        sign = " - " if g.sense == ">=" else " + "
        terms.append(_sym(sign) + jac + lam)
    lhs = grad
    for t in terms:
        lhs = lhs + t
    text, tex_ = lhs.text, lhs.tex
    if text.startswith("0 "):  # a block absent from the objective
        text, tex_ = text[2:].lstrip("+ "), tex_[2:].lstrip("+ ")
    r = _sub("r", "r", name)
    note = "J_{g,b}: the Jacobian of c_g in the block" if any(not g.linear for g in groups) else ""
    return Condition("stationarity", name, f"{text} = {r.text}", f"{tex_} = {r.tex}", note)


def _bound_condition(m: Model, name: str) -> Condition:
    v = m.variables[name]
    r, tex = _sub("r", "r", name), tex_name(name)
    lo, hi = np.unique(v.lb), np.unique(v.ub)
    has_lo, has_hi = bool(np.isfinite(lo).any()), bool(np.isfinite(hi).any())
    lo_s = _num(lo, "l", name) or _sym("-inf", "-\\infty")
    hi_s = _num(hi, "u", name) or _sym("inf", "\\infty")
    if not has_lo and not has_hi:
        return Condition("bounds", name, f"{r.text} = 0", f"{r.tex} = 0", "no bounds: free")
    if has_lo and not has_hi:
        d = (
            _Sym(name, tex)
            if lo_s.text == "0"
            else _Sym(f"({name} - {lo_s.text})", f"\\left({tex} - {lo_s.tex}\\right)")
        )
        return Condition(
            "bounds",
            name,
            f"{r.text} >= 0,  {r.text} ⊙ {d.text} = 0",
            f"{r.tex} \\geq 0, \\quad {r.tex} \\odot {d.tex} = 0",
            "positive only where the lower bound binds",
        )
    if has_hi and not has_lo:
        d = _Sym(f"({hi_s.text} - {name})", f"\\left({hi_s.tex} - {tex}\\right)")
        return Condition(
            "bounds",
            name,
            f"{r.text} <= 0,  {r.text} ⊙ {d.text} = 0",
            f"{r.tex} \\leq 0, \\quad {r.tex} \\odot {d.tex} = 0",
            "negative only where the upper bound binds",
        )
    return Condition(
        "bounds",
        name,
        f"{r.text} >= 0 where {name} = {lo_s.text},  {r.text} <= 0 where {name} = {hi_s.text},  "
        f"{r.text} = 0 in between",
        f"{r.tex} \\geq 0 \\text{{ where }} {tex} = {lo_s.tex}, \\quad {r.tex} \\leq 0 "
        f"\\text{{ where }} {tex} = {hi_s.tex}, \\quad {r.tex} = 0 \\text{{ in between}}",
        "entry by entry",
    )


def explain_model(
    model: Model | Problem,
    relax: Sequence[str] | None = None,
    fmt: Literal["text", "latex"] = "text",
) -> str:
    """The Lagrangian and KKT conditions of ``model`` as a text or LaTeX document.

    Parameters
    ----------
    model
        A Model or a Problem.
    relax
        Groups to relax (default: the problem's plan, else every group).
    fmt
        ``"text"`` or ``"latex"`` (an ``amsmath`` fragment of ``align*`` blocks).
    """
    if fmt not in ("text", "latex"):
        raise ModelError(f"unknown format {fmt!r} (valid choices: text, latex)")
    ex = kkt_conditions(model, relax)
    return ex.to_latex() if fmt == "latex" else ex.to_text()


def explain(problem: Problem, relax: Sequence[str] | None = None, *, latex: bool = False) -> str:
    """``ortools-lag explain``: :func:`explain_model` of a loaded problem."""
    return explain_model(problem, relax, "latex" if latex else "text")
