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

Leaves of kind *data* (:func:`data`) hold a default array that a caller may replace at evaluation
time (a mini-batch of inputs): every operation except explicit indexing takes the shapes of the
arrays it receives, so one graph serves any batch size.

>>> from ortools_lag import Model
>>> from ortools_lag.model import functions as F
>>> m = Model(); x = m.var("x", 2, lb=None)
>>> e = F.exp(x).sum() + x[0] * x[1]
>>> z = np.array([0.0, 1.0])
>>> float(e.value(z)[0]), e.vjp(z, np.ones(1)).tolist()
(3.718281828459045, [2.0, 2.718281828459045])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import asarray_like, device_of, is_numpy, namespace, scatter_add, to_numpy
from ortools_lag.arrays import sparse_matvec as _spmv
from ortools_lag.errors import ModelError
from ortools_lag.model.expressions import AffineExpr, Expr, QuadExpr, Shape, as_constant
from ortools_lag.model.tape import Tape, run_forward, topological_order

if TYPE_CHECKING:
    from ortools_lag.model.variables import Var

__all__ = [
    "NonlinearExpr",
    "Op",
    "Tape",
    "as_nonlinear",
    "data",
    "jvp",
    "scale_columns",
    "vjp",
]

Array = Any


@dataclass
class Ctx:
    """What leaves read during a forward pass: variable values and data by name."""

    xp: ModuleType
    values: Mapping[str, Array]
    data: Mapping[str, Array] = field(default_factory=dict)
    like: Array | None = None


class Op:
    """One operation of the graph: value, vector-Jacobian product, tangent and local Jacobians.

    ``vjp`` receives the adjoint ``g`` of the node's output and returns the adjoints of its
    arguments (``None`` where ``needs`` is false); ``local`` returns sparse Jacobians of the
    output with respect to each argument, for numpy values at the node's static shapes.

    For the tape's in-place plan (numpy): ``fresh`` (``forward`` returns a new array),
    ``keeps_args`` / ``keeps_out`` (``vjp``, ``jvp``, ``local`` and ``pull`` read the argument
    values / the node's own value, not only shapes), ``inplace_args`` (arguments whose buffer
    ``forward_into`` can write the value into).
    """

    name = "op"
    var: Var | None = None  # the variable of a leaf
    fresh = False
    keeps_args = True
    keeps_out = False

    def inplace_args(self, node: NonlinearExpr) -> tuple[int, ...]:
        return ()

    def forward_into(self, ctx: Ctx, args: list[Array], i: int) -> Array:
        """``forward``, free to write into ``args[i]`` (numpy; nothing else reads it)."""
        return self.forward(ctx, args)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        raise NotImplementedError

    def vjp(
        self, xp: ModuleType, g: Array, args: list[Array], out: Array, needs: list[bool]
    ) -> list[Array | None]:
        raise NotImplementedError

    def jvp(self, xp: ModuleType, ts: list[Array | None], args: list[Array], out: Array) -> Array:
        raise NotImplementedError

    def local(self, node: NonlinearExpr, args: list[np.ndarray], out: np.ndarray) -> list[Any]:
        raise NotImplementedError

    def pull(
        self, A: sp.csr_matrix, node: NonlinearExpr, args: list[np.ndarray], out: np.ndarray
    ) -> list[sp.csr_matrix | None]:
        """``A @ local_i`` for each argument (matrix adjoints; fast paths override this)."""
        return [None if L is None else sp.csr_matrix(A @ L) for L in self.local(node, args, out)]


def scale_columns(A: sp.csr_matrix, d: Any) -> sp.csr_matrix:
    """``A @ diag(d)`` without building the diagonal matrix."""
    B = A.copy()
    B.data = B.data * np.asarray(d, dtype=float).ravel()[B.indices]
    return B


def remap_columns(
    A: sp.csr_matrix, idx: np.ndarray, n: int, scale: np.ndarray | None = None
) -> sp.csr_matrix:
    """``A @ S`` for the selection ``S[j, idx[j]] = scale[j]`` (gathers, broadcasts, transposes):
    column ``j`` of ``A`` moves to column ``idx[j]``, duplicates summed."""
    data = A.data.copy() if scale is None else A.data * scale[A.indices]  # B is sorted in place
    B = sp.csr_matrix((data, idx[A.indices], A.indptr.copy()), shape=(A.shape[0], n))
    B.sum_duplicates()
    return B


# -- shape helpers ------------------------------------------------------------------------------
def _shape(a: Array) -> Shape:
    return tuple(getattr(a, "shape", ()))


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


# -- structural and algebraic operations --------------------------------------------------------
class Take(Op):
    """``out = a.ravel()[idx].reshape(shape)`` (indexing, broadcasting of a fixed shape)."""

    name = "take"

    def __init__(self, idx: np.ndarray, shape: Shape) -> None:
        self.idx, self.shape = np.asarray(idx, dtype=np.int64), shape

    def _index(self, xp: ModuleType, a: Array) -> Array:
        if is_numpy(xp):
            return np.asarray(a).reshape(-1)[self.idx].reshape(self.shape)
        flat = xp.reshape(a, (-1,))
        return xp.reshape(xp.take(flat, xp.asarray(self.idx, device=device_of(a))), self.shape)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return self._index(ctx.xp, args[0])

    def vjp(self, xp, g, args, out, needs):
        a = args[0]
        size = math.prod(_shape(a))
        return [xp.reshape(scatter_add(xp, self.idx, xp.reshape(g, (-1,)), size), _shape(a))]

    def jvp(self, xp, ts, args, out):
        return self._index(xp, ts[0])

    def pull(self, A, node, args, out):
        return [remap_columns(A, self.idx, node.args[0].size)]


class Reshape(Op):
    """``out = reshape(a, shape)`` (C order)."""

    name = "reshape"

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return ctx.xp.reshape(args[0], self.shape)

    def vjp(self, xp, g, args, out, needs):
        return [xp.reshape(g, _shape(args[0]))]

    def jvp(self, xp, ts, args, out):
        return xp.reshape(ts[0], self.shape)

    def pull(self, A, node, args, out):
        return [A]


class Transpose(Op):
    """``out = a.T`` for a 2-D ``a`` (any batch size)."""

    name = "transpose"

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return args[0].T

    def vjp(self, xp, g, args, out, needs):
        return [g.T]

    def jvp(self, xp, ts, args, out):
        return ts[0].T

    def pull(self, A, node, args, out):
        m, p = node.args[0].shape
        return [remap_columns(A, np.arange(m * p).reshape(m, p).T.ravel(), m * p)]


class Linear(Op):
    """``out = T @ a.ravel()`` for a constant sparse ``T`` (sums and maps of the base class)."""

    name = "linear"

    def __init__(self, T: sp.spmatrix, shape: Shape) -> None:
        self.T, self.shape = sp.csr_matrix(T), shape
        self.Tt = sp.csr_matrix(self.T.T)

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return ctx.xp.reshape(_spmv(self.T, ctx.xp.reshape(args[0], (-1,))), self.shape)

    def vjp(self, xp, g, args, out, needs):
        return [xp.reshape(_spmv(self.Tt, xp.reshape(g, (-1,))), _shape(args[0]))]

    def jvp(self, xp, ts, args, out):
        return xp.reshape(_spmv(self.T, xp.reshape(ts[0], (-1,))), self.shape)

    def local(self, node, args, out):
        return [self.T]


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
        if is_numpy(xp):
            out = np.zeros(len(z))
        else:
            out = xp.zeros(_shape(z), dtype=z.dtype, device=device_of(z))
        for v in vs:
            if v.name in grads:
                out[v.offset : v.offset + v.size] = xp.reshape(grads[v.name], (-1,))
        return out

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
        return _fn().reduce_sum(self, axis)

    def mean(self, axis: int | None = None) -> NonlinearExpr:
        """Mean of all entries, or along ``axis`` (divides by the run-time count)."""
        return _fn().reduce_sum(self, axis, mean=True)

    @property
    def T(self) -> NonlinearExpr:
        """Transpose (2-D)."""
        if self.ndim != 2:
            return super().T  # type: ignore[return-value]
        return _node(Transpose(), [self], self.shape[::-1])

    # -- arithmetic (the operations live in ``functions.py``) ----------------------------------
    def __add__(self, other: Any) -> NonlinearExpr:
        return _fn().add(self, other)

    def __radd__(self, other: Any) -> NonlinearExpr:
        return _fn().add(other, self)

    def __sub__(self, other: Any) -> NonlinearExpr:
        return _fn().subtract(self, other)

    def __rsub__(self, other: Any) -> NonlinearExpr:
        return _fn().subtract(other, self)

    def __mul__(self, other: Any) -> NonlinearExpr:
        return _fn().multiply(self, other)

    def __rmul__(self, other: Any) -> NonlinearExpr:
        return _fn().multiply(other, self)

    def __neg__(self) -> NonlinearExpr:
        return _fn().multiply(self, -1.0)

    def __truediv__(self, other: Any) -> NonlinearExpr:
        if isinstance(other, Expr):
            return self * _fn().power(other, -1.0)
        return self * (1.0 / as_constant(other, "divisor"))

    def __rtruediv__(self, other: Any) -> NonlinearExpr:
        return _fn().power(self, -1.0) * other

    def __pow__(self, p: Any) -> NonlinearExpr:
        return _fn().power(self, p)

    def __matmul__(self, other: Any) -> NonlinearExpr:
        return _fn().matmul(self, other)

    def __rmatmul__(self, other: Any) -> NonlinearExpr:
        return _fn().matmul(other, self)

    def __repr__(self) -> str:
        return f"NonlinearExpr({self.op.name}, shape={self.shape})"


# -- construction -------------------------------------------------------------------------------
def _fn() -> ModuleType:
    from ortools_lag.model import (
        functions,  # the arithmetic ops use this module's graph: imported on use
    )

    return functions


def _node(op: Op, args: Sequence[NonlinearExpr], shape: Shape) -> NonlinearExpr:
    return NonlinearExpr(op, args, tuple(shape))


def _topo(root: NonlinearExpr) -> list[NonlinearExpr]:
    return topological_order(root)


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
    from ortools_lag.model.variables import Var

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
