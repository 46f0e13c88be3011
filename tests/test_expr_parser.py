"""The safe expression parser: what it builds, and what it refuses (with which message)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ortools_lag import Model, SpecError
from ortools_lag.spec.expr_parser import (
    MAX_CHARS,
    MAX_DEPTH,
    ExpressionError,
    Scope,
    check_syntax,
    parse_constant,
    parse_constraint,
    parse_expression,
)


def _scope() -> tuple[Model, Scope]:
    m = Model()
    m.var("x", 3, lb=None)
    m.var("y", (2, 3))
    params = {
        "c": np.array([1.0, 2.0, 3.0]),
        "A": np.arange(6.0).reshape(2, 3),
        "b": np.array([4.0, 5.0]),
        "idx": np.array([0.0, 2.0]),
        "T": np.array(7.0),
    }
    return m, Scope(variables=m.variables, parameters=params)


Z = np.array([1.0, -2.0, 0.5, 1, 2, 3, 4, 5, 6])  # x then y (C order)


def _val(text: str) -> np.ndarray:
    _, scope = _scope()
    return parse_expression(text, scope).value(Z)


def test_affine_values_match_numpy() -> None:
    x, y = Z[:3], Z[3:].reshape(2, 3)
    A, c = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    assert np.allclose(_val("c @ x + 1"), c @ x + 1)
    assert np.allclose(_val("A @ x - 2 * x[0:2]"), A @ x - 2 * x[:2])
    assert np.allclose(_val("sum(y, axis=0)"), y.sum(axis=0))
    assert np.allclose(_val("sum(y)"), y.sum())
    assert np.allclose(_val("x[idx]"), x[[0, 2]])
    assert np.allclose(_val("y[1, :] / 2 - x"), y[1] / 2 - x)
    assert np.allclose(_val("-x[-1]"), -x[-1])
    assert np.allclose(_val("transpose(y)[0]"), y.T[0])
    assert np.allclose(_val("reshape(y, 3, 2)[2, 1]"), y.reshape(3, 2)[2, 1])
    assert np.allclose(_val("hstack([x, 2 * x])"), np.hstack([x, 2 * x]))
    assert np.allclose(_val("dot(c, x)"), c @ x)


def test_quadratic_values_and_degree() -> None:
    m, scope = _scope()
    e = parse_expression("sum_squares(x - c) + x[0] * x[1]", scope)
    x = Z[:3]
    assert e.degree == 2
    assert np.allclose(e.value(Z), ((x - [1, 2, 3]) ** 2).sum() + x[0] * x[1])
    q = parse_expression("quad_form(x, transpose(A) @ A)", scope)
    A = np.arange(6.0).reshape(2, 3)
    assert np.allclose(q.value(Z), x @ (A.T @ A) @ x)
    assert np.allclose(parse_expression("x[0] ** 2", scope).value(Z), x[0] ** 2)


def test_jacobian_of_affine_expression() -> None:
    m, scope = _scope()
    e = parse_expression("A @ x + b", scope)
    J = e.jacobian(Z, m.n)
    assert sp.issparse(J)
    assert np.allclose(J.toarray()[:, :3], np.arange(6.0).reshape(2, 3))


def test_constraints_and_senses() -> None:
    _, scope = _scope()
    assert parse_constraint("A @ x <= b", scope).sense == "<="
    assert parse_constraint("b >= A @ x", scope).sense == "<="  # constant on the left
    assert parse_constraint("c @ x >= T", scope).sense == ">="
    assert parse_constraint("sum(x) == 1", scope).sense == "=="
    ranged = parse_constraint("-1 <= x <= c", scope)
    assert ranged.sense == "range" and ranged.hi.tolist() == [1.0, 2.0, 3.0]
    ranged = parse_constraint("c >= x >= -1", scope)
    assert ranged.sense == "range" and ranged.lo.tolist() == [-1.0] * 3


def test_constants() -> None:
    _, scope = _scope()
    assert parse_constant("-inf", scope).item() == -np.inf
    assert np.allclose(parse_constant("2 * b + T", scope), [15.0, 17.0])
    assert np.allclose(parse_constant("exp(0) + sqrt(4) + pi", scope), 3 + np.pi)
    with pytest.raises(ExpressionError, match=r"^expected a constant"):
        parse_constant("2 * x", Scope(variables=_scope()[0].variables))


def test_nonlinear_function_on_variables() -> None:
    _, scope = _scope()
    e = parse_expression("sum(exp(x)) + tanh(x[0])", scope)
    x = Z[:3]
    assert np.allclose(e.value(Z), np.exp(x).sum() + np.tanh(x[0]))
    assert e.degree == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "__import__('os')",
            "name '__import__' is not allowed (names starting with '__' are reserved)",
        ),
        (
            "__import__('os').system('ls')",
            "name '__import__' is not allowed (names starting with '__' are reserved)",
        ),
        ("x.T", "attribute access ('x.T') is not allowed; write transpose(x)"),
        ("x.sum()", "attribute access ('x.sum') is not allowed; write sum(x)"),
        ("x.__class__", "attribute access ('x.__class__') is not allowed; use functions"),
        ("open('f')", "only numbers are allowed as literals, found 'f'"),
        ("eval(1)", "unknown function 'eval' (valid choices: sum, dot"),
        ("(lambda: 1)()", "only named functions can be called, found 'lambda: 1'"),
        ("[v for v in x]", "ListComp ('[v for v in x]') is not allowed in expressions"),
        ("x < 1", "only the comparisons <=, >= and == are allowed (constraints are not strict)"),
        ("z + 1", "unknown name 'z' (valid choices: x, y, c, A, b, idx, T, inf, pi)"),
        ("True * x", "only numbers are allowed as literals, found True"),
        ("x +", "invalid syntax"),
        ("", "empty expression"),
        ("1 <= 2", "this comparison involves no variable"),
        ("x[0.5]", "an index must be an integer"),
        ("1 / x", "division by an expression is not supported"),
        ("x ** x", "the exponent must be a constant"),
        ("sum(x, axes=0)", "sum() got an unknown keyword 'axes' (valid choices: axis)"),
        ("sum(x, 1, 2)", "sum() takes 1 positional argument(s)"),
        ("A @ b", "cannot evaluate 'A @ b'"),
        ("x @ A", "shape mismatch in @"),
        ("sum", "'sum' is a function: call it as sum(...)"),
        ("9.0 ** 9.0 ** 9.0 + x", "arithmetic error on constants"),
        ("x[10]", "out of range"),
        ("(x <= 1) + 1", "a constraint cannot be used inside an expression"),
    ],
)
def test_refused_with_message(text: str, message: str) -> None:
    _, scope = _scope()
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, scope)
    assert message in str(info.value)
    assert isinstance(info.value, SpecError)


def test_offset_points_at_the_culprit() -> None:
    _, scope = _scope()
    with pytest.raises(ExpressionError) as info:
        parse_expression("2 * x[0] + zz", scope)
    assert info.value.offset == 11
    with pytest.raises(ExpressionError) as info:
        parse_expression("  x.T", scope)
    assert info.value.offset == 2


def test_limits() -> None:
    _, scope = _scope()
    with pytest.raises(ExpressionError, match=rf"expression too long: {MAX_CHARS + 1} characters"):
        check_syntax("x" * (MAX_CHARS + 1))
    deep = "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        check_syntax(deep)
    chain = " + ".join(["x[0]"] * (MAX_DEPTH + 5))
    with pytest.raises(ExpressionError, match=r"nested too deeply .*sum\(\.\.\.\)"):
        check_syntax(chain)
    assert parse_expression(" + ".join(["x[0]"] * 50), scope).degree == 1


def test_objective_must_be_scalar() -> None:
    from ortools_lag.spec.expr_parser import as_objective

    _, scope = _scope()
    with pytest.raises(
        ExpressionError, match=r"the objective must be a scalar, found shape \(3,\)"
    ):
        as_objective(parse_expression("x", scope))
