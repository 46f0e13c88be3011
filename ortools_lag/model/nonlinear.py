r"""Nonlinear expressions: a graph of array operations, differentiated by the adjoint recursion.

A :class:`NonlinearExpr` is a node ``v_k = phi_k(v_{pa(k)})`` of a directed acyclic graph whose
leaves are variable blocks, constants and named data. Read every node as an equality constraint
``v_k - phi_k(v_{pa(k)}) == 0`` and the root ``v_N`` weighted by ``w`` as an objective:

.. math::

    L = w \cdot v_N + \sum_k \lambda_k \cdot (v_k - \phi_k(v_{pa(k)})).

Stationarity of ``L`` in each intermediate ``v_k`` is a triangular system, solved by
back-substitution from the root to the leaves:

.. math::

    \bar v_k := -\lambda_k
             = \delta_{kN} w + \sum_{j:\,k \in pa(j)} (\partial\phi_j/\partial v_k)^T \bar v_j,

and at a variable leaf ``x`` it gives ``w^T d v_N / d x`` (a vector-Jacobian product). So the
multipliers of the graph's constraints are minus the adjoints of reverse-mode differentiation:
backpropagation is this KKT system (LeCun 1988; T. Vieira, "Backprop is not just the chain rule",
2017). :meth:`NonlinearExpr.forward` returns a :class:`~ortools_lag.model.tape.Tape` whose
:meth:`~ortools_lag.model.tape.Tape.backward` runs the recursion with dense adjoints (numpy, or
torch on CPU/CUDA through :mod:`ortools_lag.arrays`; on numpy, without avoidable temporaries);
:meth:`NonlinearExpr.jacobian` runs the same recursion with sparse matrix adjoints (seed: the
identity), and :meth:`NonlinearExpr.jvp` propagates tangents forward.

Second derivatives are the tangent of that recursion (forward-over-reverse):
:meth:`NonlinearExpr.hvp` gives ``H(w) v`` for ``H(w) = sum_i w_i Hessian(e_i)(z)``, and
:meth:`NonlinearExpr.hessian` (``hessian(w, n, z)``, the protocol of the NLP backends) the
sparse symmetric ``H(w)``: its structural pattern and a star colouring of it are computed once
per expression (:mod:`~ortools_lag.model.hessian`), then each call takes one product per colour.

Leaves of kind *data* (:func:`data`) hold a default array that a caller may replace at evaluation
time (a mini-batch of inputs): every operation except explicit indexing takes the shapes of the
arrays it receives, so one graph serves any batch size.

This module holds the node type :class:`NonlinearExpr`, its leaves (variable blocks, constants,
:func:`data`), :func:`as_nonlinear` (which it registers with
:mod:`~ortools_lag.model.expressions` for the products, quotients and powers that leave the
polynomial algebra) and the constructors of its operators (``+``, ``-``, ``*``, ``@``, ``**``,
sums). What each node computes is its :class:`~ortools_lag.model.ops.Op`
(:mod:`~ortools_lag.model.ops`, :mod:`~ortools_lag.model.elementwise`); the function library
(``tanh``, ``norm``, losses ...) is :mod:`~ortools_lag.model.functions`.

>>> from ortools_lag import Model
>>> from ortools_lag.model import functions as F
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> e = F.exp(x).sum() + x[0] * x[1]
>>> z = np.array([0.0, 1.0])
>>> float(e.value(z)[0]), e.vjp(z, np.ones(1)).tolist()
(3.718281828459045, [2.0, 2.718281828459045])
>>> e.hessian(np.ones(1), 2, z).toarray().tolist()
[[1.0, 1.0], [1.0, 2.718281828459045]]
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import asarray_like, device_of, is_numpy, namespace, to_numpy
from ortools_lag.errors import ModelError
from ortools_lag.model.elementwise import Elementwise
from ortools_lag.model.expressions import (
    AffineExpr,
    Expr,
    QuadExpr,
    Shape,
    as_constant,
    register_nonlinear,
)
from ortools_lag.model.hessian import HessianStructure, hessian_structure
from ortools_lag.model.ops import (
    Add,
    Ctx,
    Linear,
    MatMul,
    Mul,
    Op,
    Reshape,
    Sum,
    Take,
    Transpose,
    _shape,
    remap_columns,
    scale_columns,
)
from ortools_lag.model.tape import Tape, run_forward, topological_order
from ortools_lag.model.variables import Var

__all__ = [
    "Ctx",
    "NonlinearExpr",
    "Op",
    "Tape",
    "add",
    "apply_unary",
    "as_nonlinear",
    "data",
    "jvp",
    "matmul",
    "multiply",
    "power",
    "reduce_sum",
    "remap_columns",
    "scale_columns",
    "subtract",
    "vjp",
]

Array = Any


# -- leaves -------------------------------------------------------------------------------------
class VarOp(Op):
    """A variable block (read from ``ctx.values`` by name)."""

    name = "var"

    def __init__(self, var: Var) -> None:
        self.var = var
        self.label = var.name

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        try:
            return ctx.values[self.label]
        except KeyError:
            raise ModelError(f"no value for variable {self.label!r}") from None


def _float_dtype(like: Array) -> np.dtype | None:
    """The dtype of a numpy floating array other than float64 (constants follow it), or None."""
    dt = getattr(like, "dtype", None)
    if isinstance(like, np.ndarray) and dt is not None and dt.kind == "f" and dt != np.float64:
        return np.dtype(dt)
    return None


class ConstOp(Op):
    """A constant array (converted once per device and dtype; float32 values: float32)."""

    name = "const"

    def __init__(self, value: np.ndarray) -> None:
        self.value = value
        self._cache: dict[tuple[str, str], Array] = {}

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        if ctx.like is None or is_numpy(ctx.xp):
            dt = _float_dtype(ctx.like)
            if dt is None or self.value.dtype.kind != "f":
                return self.value
            key = ("numpy", str(dt))
            if key not in self._cache:
                self._cache[key] = self.value.astype(dt)
            return self._cache[key]
        key = (str(device_of(ctx.like)), str(ctx.like.dtype))
        if key not in self._cache:
            self._cache[key] = asarray_like(ctx.xp, self.value, ctx.like)
        return self._cache[key]


class DataOp(ConstOp):
    """Named data with a default value, replaceable at evaluation (``ctx.data[name]``)."""

    name = "data"

    def __init__(self, label: str, value: np.ndarray) -> None:
        super().__init__(value)
        self.label = label

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        if self.label in ctx.data:
            value = asarray_like(ctx.xp, ctx.data[self.label], ctx.like)
            dt = _float_dtype(ctx.like) if is_numpy(ctx.xp) else None
            return value if dt is None else value.astype(dt, copy=False)
        return super().forward(ctx, args)


# -- the expression -----------------------------------------------------------------------------
class NonlinearExpr(Expr):
    """A node of the expression graph: an :class:`Op` applied to argument nodes.

    Parameters
    ----------
    op
        The operation.
    args
        Argument nodes (empty for leaves).
    shape
        Static shape of the node's value (at the model's own data).
    """

    def __init__(self, op: Op, args: Sequence[NonlinearExpr], shape: Shape) -> None:
        self.op = op
        self.args = tuple(args)
        self.shape = tuple(int(s) for s in shape)
        self.needs_grad: bool = isinstance(op, VarOp) or any(a.needs_grad for a in self.args)
        self._order: list[NonlinearExpr] | None = None
        self._plan: dict[int, int] | None = None
        self._hess: HessianStructure | None = None

    @property
    def degree(self) -> int:
        return 3

    def variables(self) -> list[Var]:
        found = {id(v): v for n in _topo(self) if (v := n.op.var) is not None}
        return list(found.values())

    # -- evaluation -----------------------------------------------------------------------------
    def forward(
        self,
        values: Mapping[str, Array],
        data: Mapping[str, Array] | None = None,
        *,
        like: Array | None = None,
    ) -> Tape:
        """Evaluate every node; ``values`` by variable name, ``data`` replaces named data.

        Returns
        -------
        Tape
            The node values, with ``value`` (the root) and ``backward(seed)``.
        """
        if like is None:
            like = next((v for v in values.values() if hasattr(v, "shape")), None)
        xp = namespace(*([like] if like is not None else []))
        return run_forward(self, Ctx(xp, values, data or {}, like))

    def evaluate(self, values: Mapping[str, Array], data: Mapping[str, Array] | None = None) -> Any:
        """The value (in its shape) for variable values by name."""
        return self.forward(values, data).value

    def value(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        out = self.forward(_split(self.variables(), z), like=z).value
        return xp.reshape(xp.asarray(out), (-1,))

    def vjp(self, z: np.ndarray, w: Any) -> np.ndarray:
        """``w^T J(z)`` as a dense vector of length ``len(z)`` (one adjoint pass)."""
        xp = namespace(z)
        vs = self.variables()
        tape = self.forward(_split(vs, z), like=z)
        grads = tape.backward(xp.reshape(asarray_like(xp, w, z), self.shape))
        return _scatter(xp, vs, grads, z)

    def jvp(self, z: np.ndarray, v: Any) -> np.ndarray:
        """``J(z) @ v`` (flat) by forward propagation of tangents."""
        xp = namespace(z)
        vs = self.variables()
        tape = self.forward(_split(vs, z), like=z)
        tangents = _split(vs, asarray_like(xp, v, z))
        return xp.reshape(tape.tangent(tangents), (-1,))

    def jacobian(self, z: np.ndarray, n: int) -> sp.csr_matrix:
        z = np.asarray(to_numpy(z), dtype=float)
        tape = self.forward(_split(self.variables(), z), like=z)
        return tape.sparse_jacobian(n)

    # -- second order -----------------------------------------------------------------------
    def hvp(self, z: Any, w: Any, v: Any) -> Any:
        """``H(w) @ v`` with ``H(w) = sum_i w_i Hessian(e_i)(z)``, by forward-over-reverse.

        One forward pass, one adjoint pass and one tangent-of-the-adjoint pass on the same
        tape (:meth:`~ortools_lag.model.tape.Tape.hvp`); numpy or torch, like :meth:`vjp`.

        Parameters
        ----------
        z
            The point (the model's variable vector).
        w
            One weight per entry of the expression (flattened in C order; a scalar for a
            scalar expression).
        v
            The direction, of the length of ``z``.

        Returns
        -------
        numpy.ndarray
            ``H(w) v``, dense, of the length of ``z`` (zero outside the expression's variables).

        Examples
        --------
        >>> from ortools_lag import Model
        >>> m = Model(); x = m.var("x", 2, lb=None)
        >>> e = x[0] * x[0] * x[1]  # Hessian [[2 x1, 2 x0], [2 x0, 0]]
        >>> e.hvp(np.array([1.0, 2.0]), 1.0, np.array([1.0, 0.0])).tolist()
        [4.0, 2.0]
        """
        xp = namespace(z)
        vs = self.variables()
        tape = self.forward(_split(vs, z), like=z)
        seed = xp.reshape(asarray_like(xp, w, z), self.shape)
        parts = tape.hvp(seed, _split(vs, asarray_like(xp, v, z)))
        return _scatter(xp, vs, parts, z)

    def hessian_structure(self) -> HessianStructure:
        """The structural pattern, its star colouring and the recovery map of this
        expression's Hessians (:mod:`~ortools_lag.model.hessian`), computed on first use and
        kept: the graph is immutable."""
        if self._hess is None:
            self._hess = hessian_structure(self)
        return self._hess

    def hessian_pattern(self, n: int) -> sp.csr_matrix:
        """The structural pattern (0/1, ``n x n``): a superset of the nonzeros of every
        :meth:`hessian`.

        >>> from ortools_lag import Model
        >>> m = Model(); x = m.var("x", 3, lb=None)
        >>> as_nonlinear(x[0] * x[2]).hessian_pattern(3).toarray().astype(int).tolist()
        [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
        """
        return self.hessian_structure().global_pattern(n)

    def hessian(self, w: Any, n: int, z: Any) -> sp.csr_matrix:
        """``sum_i w_i Hessian(e_i)(z)`` as a symmetric sparse ``n x n`` matrix.

        The pattern and its star colouring are computed once per expression
        (:meth:`hessian_structure`); each call runs one forward and one adjoint pass, then one
        Hessian-vector product per colour (not one per variable), and reads every entry of the
        pattern from those products.

        Parameters
        ----------
        w
            One weight per entry of the expression (flattened in C order).
        n
            The model's variable count.
        z
            The point.

        Returns
        -------
        scipy.sparse.csr_matrix
            The weighted Hessian (exactly symmetric), the pattern's entries stored.

        Examples
        --------
        >>> from ortools_lag import Model
        >>> from ortools_lag.model import functions as F
        >>> m = Model(); x = m.var("x", 3, lb=None)
        >>> e = F.exp(x).sum() + x[0] * x[1]
        >>> e.hessian(np.ones(1), 3, np.zeros(3)).toarray().tolist()
        [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        """
        st = self.hessian_structure()
        zn = np.asarray(to_numpy(z), dtype=float)
        if st.n_colors == 0:
            return st.assemble(np.zeros((st.size, 0)), n)
        vs = self.variables()
        tape = self.forward(_split(vs, zn), like=zn)
        seed = np.asarray(to_numpy(w), dtype=float).reshape(self.shape)
        adj = tape.adjoints(seed)
        B = np.empty((st.size, st.n_colors))
        for c in range(st.n_colors):
            B[:, c] = st.gather(tape.hvp(seed, st.split(st.seed(c)), adj))
        return st.assemble(B, n)

    # -- structure --------------------------------------------------------------------------
    def _take(self, idx: np.ndarray, shape: Shape) -> NonlinearExpr:
        idx = np.asarray(idx).ravel()
        if idx.size == self.size and np.array_equal(idx, np.arange(self.size)):
            return (
                self if tuple(shape) == self.shape else _node(Reshape(tuple(shape)), [self], shape)
            )
        return _node(Take(idx, tuple(shape)), [self], shape)

    def _apply(self, T: sp.csr_matrix, shape: Shape) -> NonlinearExpr:
        return _node(Linear(T, tuple(shape)), [self], shape)

    def sum(self, axis: int | None = None) -> NonlinearExpr:
        """Sum of all entries, or along ``axis`` (any batch size)."""
        return reduce_sum(self, axis)

    def mean(self, axis: int | None = None) -> NonlinearExpr:
        """Mean of all entries, or along ``axis`` (divides by the run-time count)."""
        return reduce_sum(self, axis, mean=True)

    @property
    def T(self) -> NonlinearExpr:
        """Transpose (2-D)."""
        if self.ndim != 2:
            return super().T  # type: ignore[return-value]
        return _node(Transpose(), [self], self.shape[::-1])

    # -- arithmetic (the constructors are below, the operations in ``ops.py``) ------------
    def __add__(self, other: Any) -> NonlinearExpr:
        return add(self, other)

    def __radd__(self, other: Any) -> NonlinearExpr:
        return add(other, self)

    def __sub__(self, other: Any) -> NonlinearExpr:
        return subtract(self, other)

    def __rsub__(self, other: Any) -> NonlinearExpr:
        return subtract(other, self)

    def __mul__(self, other: Any) -> NonlinearExpr:
        return multiply(self, other)

    def __rmul__(self, other: Any) -> NonlinearExpr:
        return multiply(other, self)

    def __neg__(self) -> NonlinearExpr:
        return multiply(self, -1.0)

    def __truediv__(self, other: Any) -> NonlinearExpr:
        if isinstance(other, Expr):
            return self * power(other, -1.0)
        return self * (1.0 / as_constant(other, "divisor"))

    def __rtruediv__(self, other: Any) -> NonlinearExpr:
        return power(self, -1.0) * other

    def __pow__(self, p: Any) -> NonlinearExpr:
        return power(self, p)

    def __matmul__(self, other: Any) -> NonlinearExpr:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> NonlinearExpr:
        return matmul(other, self)

    def __repr__(self) -> str:
        return f"NonlinearExpr({self.op.name}, shape={self.shape})"


# -- construction -------------------------------------------------------------------------------
def _node(op: Op, args: Sequence[NonlinearExpr], shape: Shape) -> NonlinearExpr:
    return NonlinearExpr(op, args, tuple(shape))


def _topo(root: NonlinearExpr) -> list[NonlinearExpr]:
    return topological_order(root)


def _scatter(xp: Any, vs: list[Var], parts: Mapping[str, Any], z: Any) -> Any:
    """A vector like ``z`` holding each variable's block of ``parts`` (zero elsewhere)."""
    if is_numpy(xp):
        out = np.zeros(len(z))
    else:
        out = xp.zeros(_shape(z), dtype=z.dtype, device=device_of(z))
    for v in vs:
        if v.name in parts:
            out[v.offset : v.offset + v.size] = xp.reshape(parts[v.name], (-1,))
    return out


def _split(variables: list[Var], z: Array) -> dict[str, Array]:
    return {v.name: z[v.offset : v.offset + v.size].reshape(v.shape) for v in variables}


def data(label: str, value: Any) -> NonlinearExpr:
    """A named data leaf: ``value`` by default, replaceable at evaluation (mini-batches).

    >>> X = data("X", np.ones((2, 3)))
    >>> X.shape, float(X.sum().evaluate({}, {"X": np.ones((2, 5))}))
    ((2, 3), 10.0)
    """
    arr = as_constant(value, f"data {label!r}")
    return _node(DataOp(label, arr), [], arr.shape)


def as_nonlinear(e: Any) -> NonlinearExpr:
    """An expression (affine, quadratic, nonlinear) or a constant as a graph node.

    Affine parts become variable leaves with row selections (or sparse maps); quadratic terms
    ``S @ (L z * R z)`` become products of affine leaves.
    """
    if isinstance(e, NonlinearExpr):
        return e
    if isinstance(e, Var):
        return _node(VarOp(e), [], e.shape)
    if isinstance(e, AffineExpr):
        return _from_affine(e)
    if isinstance(e, QuadExpr):
        out = _from_affine(e.affine)
        for L, R, S in e.terms:
            prod = as_nonlinear(L) * as_nonlinear(R)
            out = out + _node(Linear(S, e.shape), [prod], e.shape)
        return out
    if isinstance(e, Expr):
        raise ModelError(f"cannot use {type(e).__name__} in a nonlinear expression")
    arr = as_constant(e)
    return _node(ConstOp(arr), [], arr.shape)


def _from_affine(e: AffineExpr) -> NonlinearExpr:
    parts = [_mapped(as_nonlinear(v), A, e.shape) for v, A in e.coeffs.items()]
    const = e.const.reshape(e.shape)
    if not parts:
        return _node(ConstOp(const), [], e.shape)
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out + const if np.any(const != 0) else out


def _mapped(leaf: NonlinearExpr, A: sp.spmatrix, shape: Shape) -> NonlinearExpr:
    A = sp.csr_matrix(A)
    rows = A.shape[0]
    selection = (
        A.nnz == rows and np.all(A.data == 1.0) and np.array_equal(A.indptr, np.arange(rows + 1))
    )
    if selection:
        return leaf._take(A.indices, shape)
    return _node(Linear(A, shape), [leaf], shape)


# -- the operators: ``+``, ``-``, ``*``, ``@``, ``**`` and sums as graph nodes ------------------
def _binary(op: Op, a: Any, b: Any) -> NonlinearExpr:
    na, nb = as_nonlinear(a), as_nonlinear(b)
    try:
        shape = np.broadcast_shapes(na.shape, nb.shape)
    except ValueError as exc:
        raise ModelError(f"shape mismatch: {na.shape} and {nb.shape} do not broadcast") from exc
    return _node(op, [na, nb], shape)


def add(a: Any, b: Any) -> NonlinearExpr:
    """``a + b`` with numpy broadcasting (the ``+`` of nonlinear expressions)."""
    return _binary(Add(1.0), a, b)


def subtract(a: Any, b: Any) -> NonlinearExpr:
    """``a - b`` with numpy broadcasting."""
    return _binary(Add(-1.0), a, b)


def multiply(a: Any, b: Any) -> NonlinearExpr:
    """``a * b`` elementwise with numpy broadcasting (products of two blocks: ``x * y``)."""
    return _binary(Mul(), a, b)


def reduce_sum(e: Any, axis: int | None = None, mean: bool = False) -> NonlinearExpr:
    """Sum (or mean) of all entries or along ``axis``, as a graph node."""
    ne = as_nonlinear(e)
    if axis is None:
        return _node(Sum(None, mean), [ne], ())
    if not -ne.ndim <= axis < ne.ndim:
        raise ModelError(f"axis {axis} out of range for shape {ne.shape}")
    axis %= ne.ndim
    return _node(Sum(axis, mean), [ne], ne.shape[:axis] + ne.shape[axis + 1 :])


def matmul(a: Any, b: Any) -> NonlinearExpr:
    """``a @ b`` as a graph node, for 1-D or 2-D expressions or constants (``W @ z``).

    >>> from ortools_lag import Model
    >>> m = Model(); W = m.var("W", (2, 3), lb=None); Z = m.var("Z", (3, 4), lb=None)
    >>> matmul(W, Z).shape
    (2, 4)
    """
    na, nb = as_nonlinear(a), as_nonlinear(b)
    if not (1 <= na.ndim <= 2 and 1 <= nb.ndim <= 2):
        raise ModelError(f"@ needs 1-D or 2-D operands, got {na.shape} and {nb.shape}")
    inner_a = na.shape[-1]
    inner_b = nb.shape[0]
    if inner_a != inner_b:
        raise ModelError(f"shape mismatch in @: {na.shape} and {nb.shape}")
    shape = na.shape[:-1] + nb.shape[1:]
    return _node(MatMul(), [na, nb], shape)


def apply_unary(op: Op, x: Any) -> Any:
    """``op`` applied to one argument: a graph node for an expression, the numpy value for a
    constant (the elementwise functions of :mod:`~ortools_lag.model.functions`)."""
    if not isinstance(x, Expr):
        arr = as_constant(x)
        return np.asarray(op.forward(Ctx(np, {}), [arr]))
    nx = as_nonlinear(x)
    return _node(op, [nx], nx.shape)


def power(x: Any, p: float) -> Any:
    """``x ** p`` for a constant exponent ``p``, with ``d/dx = p x^(p-1)`` and
    ``d2/dx2 = p (p - 1) x^(p-2)`` (zero for ``p`` 0 or 1); quotients are powers ``-1``.

    >>> power(2.0, 3).tolist()
    8.0
    """
    try:
        q = float(p)
    except (TypeError, ValueError, OverflowError):  # not one real number, or an int too large
        got = reprlib.repr(p)
        raise ModelError(f"power: the exponent must be a real number, got {got}") from None
    if not np.isfinite(q):
        raise ModelError(f"power: exponent {p!r} is not finite")
    op = Elementwise(
        f"power({q:g})",
        lambda xp, v: v**q,
        lambda xp, v, y: q * v ** (q - 1.0),
        d2f=lambda xp, v, y: q * (q - 1.0) * v ** (q - 2.0),
        flat=q in (0.0, 1.0),
    )
    return apply_unary(op, x)


# -- products for any expression ----------------------------------------------------------------
def vjp(expr: Expr, z: np.ndarray, w: Any) -> np.ndarray:
    """``w^T J(z)`` for any expression (dense, length ``len(z)``).

    >>> from ortools_lag import Model
    >>> m = Model(); x = m.var("x", 2)
    >>> vjp(3 * x, np.zeros(2), np.array([1.0, 2.0])).tolist()
    [3.0, 6.0]
    """
    if isinstance(expr, NonlinearExpr) or not is_numpy(namespace(z)):
        return as_nonlinear(expr).vjp(z, w)
    J = expr.jacobian(np.asarray(z, dtype=float), len(z))
    return np.asarray(J.T @ np.asarray(w, dtype=float).ravel())


def jvp(expr: Expr, z: np.ndarray, v: Any) -> np.ndarray:
    """``J(z) @ v`` for any expression (flat)."""
    if isinstance(expr, NonlinearExpr) or not is_numpy(namespace(z)):
        return as_nonlinear(expr).jvp(z, v)
    J = expr.jacobian(np.asarray(z, dtype=float), len(z))
    return np.asarray(J @ np.asarray(v, dtype=float).ravel())


register_nonlinear(as_nonlinear)  # the polynomial algebra hands what leaves it to the graph
