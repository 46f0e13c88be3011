"""LaTeX of the expressions written in YAML problem files, from their Python syntax tree.

:func:`to_latex` renders an expression string (``profit @ x + sum(y) <= 2 * cap``);
:func:`held_form` splits a written constraint into the form the sign convention holds
(``lhs - rhs`` for ``<=`` and ``==``, ``rhs - lhs`` for ``>=``), as text or LaTeX. Every command
emitted is one that both LaTeX and matplotlib's mathtext accept (``\\leq``, not ``\\le``).

>>> held_form("x[0] + x[1] == 0", "==", latex=False)
('x[0] + x[1] == 0', 'x[0] + x[1]')
"""

from __future__ import annotations

import ast

__all__ = ["held_form", "tex_name", "to_latex"]

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


def tex_name(name: str) -> str:
    """A name in LaTeX: Greek letters as commands, one letter italic, longer ones upright."""
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
        return tex_name(node.id)

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
            return f"\\left\\| {args[0]} \\right\\|_2^2"
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
        ops = {ast.LtE: "\\leq", ast.GtE: "\\geq", ast.Eq: "="}
        parts = [self(node.left)]
        for op, right in zip(node.ops, node.comparators):
            parts += [ops.get(type(op), "?"), self(right)]
        return " ".join(parts)

    def v_List(self, node: ast.List, parent: int) -> str:
        return "\\left[" + ", ".join(self(e) for e in node.elts) + "\\right]"


def to_latex(text: str, ndim: dict[str, int] | None = None) -> str:
    """LaTeX of an expression string of a YAML file.

    >>> to_latex("profit @ x + sum(y) <= 2 * cap", {"profit": 1})
    '\\\\mathrm{profit}^\\\\top x + \\\\sum y \\\\leq 2 \\\\, \\\\mathrm{cap}'
    """
    return _Latex(ndim or {})(ast.parse(text.strip(), mode="eval"))


def held_form(
    text: str, sense: str, latex: bool, ndim: dict[str, int] | None = None
) -> tuple[str, str]:
    """The group as written and its held form ``c_g`` (``lhs - rhs`` or ``rhs - lhs``).

    A zero on the subtracted side is dropped (``x - 0`` is ``x``); ``("", "")`` never occurs:
    a text that is not one comparison gives an empty held form.
    """
    ndim = ndim or {}
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
    if isinstance(b, ast.Constant) and b.value == 0:
        return stated, show(a)
    right = show(b)
    if isinstance(a, ast.Constant) and a.value == 0:
        if not _simple(b):
            right = f"\\left({right}\\right)" if latex else f"({right})"
        return stated, f"-{right}"
    if not _simple(b):
        right = f"\\left({right}\\right)" if latex else f"({right})"
    return stated, f"{show(a)} - {right}"


def _simple(node: ast.AST) -> bool:
    return isinstance(node, (ast.Name, ast.Constant, ast.Subscript, ast.Call))
