r"""The operations of the expression graph: the :class:`Op` protocol, and the structural and
arithmetic operations.

An :class:`Op` is what one node ``v = phi(args)`` of a
:class:`~ortools_lag.model.nonlinear.NonlinearExpr` computes: its value (``forward``), the
adjoints of its arguments (``vjp``), its tangent (``jvp``), its local sparse Jacobians
(``local``, ``pull``), and for second derivatives the tangent of its adjoint rule
(``vjp_tangent``) and two structural rules on 0/1 patterns (``dependencies``: which variables
each output entry may depend on; ``couplings``: which variable pairs its second-order rule may
couple), from which :mod:`~ortools_lag.model.hessian` builds a Hessian's sparsity. The tape
(:mod:`~ortools_lag.model.tape`) runs them; the nodes are built in
:mod:`~ortools_lag.model.nonlinear`, the elementwise operation is in
:mod:`~ortools_lag.model.elementwise`. This module holds the protocol (:class:`Op`, the context
:class:`Ctx` of a forward pass, sparse helpers for the matrix adjoints and 0/1 patterns), the
structural operations (row selections, reshapes, transposes and constant linear maps: indexing
and sums of :class:`~ortools_lag.model.expressions.Expr`) and the arithmetic (``a + b`` and
``a * b`` with broadcasting, sums and means, matrix products: the operators of
``NonlinearExpr``).

Read as constraints ``v = phi(args)`` with multiplier ``lambda_v``, each operation's adjoint
rule gives its arguments' multipliers: ``a + b`` passes ``lambda_v`` to both (summed over
broadcast axes), ``a * b`` gives ``lambda_v * b`` and ``lambda_v * a``, ``a @ b`` gives
``lambda_v @ b^T`` and ``a^T @ lambda_v``, a sum spreads ``lambda_v`` over its entries. On numpy
arrays the products call numpy/BLAS directly (into reused buffers:
:mod:`~ortools_lag.model.buffers`) and a sum ``a + b`` may write into the buffer of a fresh
argument that nothing else reads (the tape's in-place plan).

The second-order rules (the tangent of each adjoint rule along the argument tangents
``a_dot``, ``b_dot`` with the output adjoint ``g`` held fixed; forward-over-reverse in
:meth:`~ortools_lag.model.tape.Tape.hvp`): zero for the linear operations (selections,
reshapes, transposes, constant maps, sums, ``a + b``); the product rule for ``a * b``
(``g * b_dot`` and ``g * a_dot``, summed over broadcast axes); the bilinear rule for ``a @ b``
(``g @ b_dot^T`` and ``a_dot^T @ g``). Structurally ``a * b`` couples the variables of ``a_i``
with those of ``b_i``, ``a @ b`` those of column ``j`` of ``a`` with those of row ``j`` of ``b``.
Leaves (variables, constants, data) have no rules: the tape and the pattern builder treat them.

>>> add = Add()
>>> a, b = np.ones(2), np.ones((3, 1))
>>> add.forward(Ctx(np, {}), [a, b]).shape
(3, 2)
>>> [g.shape for g in add.vjp(np, np.ones((3, 2)), [a, b], None, [True, True])]
[(2,), (3, 1)]
>>> x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])  # d(g * y) along y_dot = g * y_dot
>>> [t.tolist() for t in Mul().vjp_tangent(np, np.ones(2), [x, y], x * y, [x, y], [True] * 2)]
[[3.0, 4.0], [1.0, 2.0]]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import device_of, is_numpy, scatter_add
from ortools_lag.arrays import sparse_matvec as _spmv
from ortools_lag.model import buffers
from ortools_lag.model.tape import _add_opt

if TYPE_CHECKING:
    from ortools_lag.model.expressions import Shape
    from ortools_lag.model.nonlinear import NonlinearExpr
    from ortools_lag.model.variables import Var

__all__ = [
    "Add",
    "Ctx",
    "Linear",
    "LinearOp",
    "MatMul",
    "Mul",
    "Op",
    "Reshape",
    "Sum",
    "Take",
    "Transpose",
    "ones_pattern",
    "remap_columns",
    "scale_columns",
]

Array = Any


# -- the protocol -------------------------------------------------------------------------------
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

    # -- second order (forward-over-reverse; see :meth:`~ortools_lag.model.tape.Tape.hvp`) ----
    def vjp_tangent(
        self,
        xp: ModuleType,
        g: Array,
        args: list[Array],
        out: Array,
        ts: list[Array | None],
        needs: list[bool],
    ) -> list[Array | None]:
        """The second-order rule: the tangent of ``vjp(g, args)`` along argument tangents
        ``ts`` with the adjoint ``g`` held fixed, ``d/de vjp(g, args + e ts)`` at ``e = 0``
        (``None`` for a zero part, for an argument whose tangent is ``None``, or where
        ``needs`` is false).

        It reads what :meth:`vjp` reads (the arguments if ``keeps_args``, the output if
        ``keeps_out``), so the tape's in-place plan stays valid. The tangent of an argument's
        adjoint is then ``vjp(g_dot, args) + vjp_tangent(g, args, ts)``.

        Examples
        --------
        >>> a, b = np.eye(2), np.ones((2, 1))  # d(g @ b^T) = g @ b_dot^T; d(a^T @ g) = a_dot^T @ g
        >>> ga, gb = MatMul().vjp_tangent(np, np.ones((2, 1)), [a, b], a @ b, [a, b], [True] * 2)
        >>> ga.tolist(), gb.tolist()  # shaped as a and as b
        ([[1.0, 1.0], [1.0, 1.0]], [[1.0], [1.0]])
        """
        raise NotImplementedError(f"operation {self.name!r} has no second-order rule")

    def dependencies(
        self, node: NonlinearExpr, deps: list[sp.csr_matrix | None]
    ) -> sp.csr_matrix | None:
        """Structural: which variables each entry of the output may depend on.

        ``deps[i]`` is the 0/1 pattern (``size(arg_i) x N``, ``None``: no variable) of the
        argument entries on the ``N`` variables of the expression; the result is the output's
        (``node.size x N``), from the static shapes only (no values).

        Examples
        --------
        >>> from ortools_lag import Model
        >>> from ortools_lag.model.nonlinear import as_nonlinear
        >>> m = Model(); x = m.var("x", 3, lb=None)
        >>> node = as_nonlinear(x)[::-1]  # a selection: entry i depends on variable 2 - i
        >>> node.op.dependencies(node, [sp.identity(3, format="csr")]).indices.tolist()
        [2, 1, 0]
        """
        raise NotImplementedError(f"operation {self.name!r} has no structural rule")

    def couplings(
        self, node: NonlinearExpr, deps: list[sp.csr_matrix | None]
    ) -> sp.csr_matrix | None:
        """Structural: the variable pairs that this node's second-order rule may couple (an
        ``N x N`` 0/1 pattern, ``None``: none), a superset for any output adjoint. Linear
        operations couple nothing (the default).

        Examples
        --------
        >>> from ortools_lag import Model
        >>> from ortools_lag.model.nonlinear import multiply
        >>> m = Model(); x = m.var("x", 2, lb=None); y = m.var("y", 2, lb=None)
        >>> node = multiply(x, y)  # x_i y_i: variable i (of x) meets variable 2 + i (of y)
        >>> D = sp.identity(4, format="csr")
        >>> node.op.couplings(node, [D[:2], D[2:]]).toarray().astype(int).tolist()
        [[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]
        """
        return None


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


def ones_pattern(M: Any) -> sp.csr_matrix:
    """The 0/1 pattern of the nonzeros of ``M`` (csr, canonical, data all ones).

    >>> ones_pattern(np.array([[2.0, 0.0], [0.0, -3.0]])).toarray().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    P = sp.csr_matrix(M, dtype=float, copy=True)
    P.sum_duplicates()
    P.eliminate_zeros()
    P.data = np.ones(P.nnz)
    return P


def _rows(D: sp.csr_matrix | None, idx: np.ndarray) -> sp.csr_matrix | None:
    """Rows ``idx`` of a pattern (broadcasts, gathers)."""
    return None if D is None else sp.csr_matrix(D[idx])


def _union(parts: list[sp.csr_matrix | None]) -> sp.csr_matrix | None:
    found = [p for p in parts if p is not None]
    if not found:
        return None
    out = found[0]
    for p in found[1:]:
        out = out + p
    return ones_pattern(out)


def _symmetric(C: sp.csr_matrix) -> sp.csr_matrix:
    return ones_pattern(C + C.T)


# -- shape helpers ------------------------------------------------------------------------------
def _shape(a: Array) -> Shape:
    return tuple(getattr(a, "shape", ()))


class LinearOp(Op):
    """An operation linear in its arguments: no second-order term, no coupling."""

    def vjp_tangent(self, xp, g, args, out, ts, needs):
        return [None] * len(args)


# -- structural and algebraic operations --------------------------------------------------------
class Take(LinearOp):
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

    def dependencies(self, node, deps):
        return _rows(deps[0], self.idx)


class Reshape(LinearOp):
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

    def dependencies(self, node, deps):
        return deps[0]


class Transpose(LinearOp):
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

    def dependencies(self, node, deps):
        return _rows(deps[0], np.arange(math.prod(node.shape)).reshape(node.shape[::-1]).T.ravel())


class Linear(LinearOp):
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

    def dependencies(self, node, deps):
        return None if deps[0] is None else ones_pattern(abs(self.T) @ deps[0])


# -- arithmetic, reductions and products (the operators of NonlinearExpr) -----------------------
def _bcast_index(src: Shape, dst: Shape) -> np.ndarray:
    return np.broadcast_to(np.arange(math.prod(src)).reshape(src), dst).ravel()


def _spread_rows(D: sp.csr_matrix | None, src: Shape, dst: Shape) -> sp.csr_matrix | None:
    """The pattern of an argument broadcast from ``src`` to ``dst``."""
    if D is None or tuple(src) == tuple(dst):
        return D
    return _rows(D, _bcast_index(src, dst))


def _broadcast_dependencies(
    node: NonlinearExpr, deps: list[sp.csr_matrix | None]
) -> sp.csr_matrix | None:
    """Entry ``i`` of a broadcasting elementwise ``a op b`` depends on ``a_i`` and ``b_i``."""
    return _union([_spread_rows(d, a.shape, node.shape) for a, d in zip(node.args, deps)])


def _unbroadcast(xp: ModuleType, g: Array, shape: Shape) -> Array:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``g.shape``."""
    gshape = _shape(g)
    if gshape == tuple(shape):
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = xp.sum(g, axis=axes)
    return xp.reshape(g, tuple(shape))


def _fit(xp: ModuleType, t: Array, shape: Shape) -> Array:
    return t if _shape(t) == tuple(shape) else xp.broadcast_to(t, tuple(shape))


def _writable(buf: Any) -> bool:
    """A numpy array that a kernel may overwrite (the in-place plan checks who else reads it)."""
    return type(buf) is np.ndarray and buf.ndim > 0 and buf.flags.writeable


def _np_matmul(a: Array, b: Array) -> Array:
    """``a @ b`` by BLAS (no array-API wrapper), 2-D results into a reused buffer."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == b.ndim == 2:
        out = buffers.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
        return np.matmul(a, b, out=out)
    return np.matmul(a, b)


def _reshaped(xp: ModuleType, a: Array, shape: Shape) -> Array:
    return a if _shape(a) == tuple(shape) else xp.reshape(a, shape)


class Sum(LinearOp):
    """Sum (or mean, dividing by the run-time count) over all entries or along one axis."""

    name = "sum"

    def __init__(self, axis: int | None, mean: bool = False) -> None:
        self.axis, self.mean = axis, mean

    def _count(self, a: Array) -> int:
        shp = _shape(a)
        return math.prod(shp) if self.axis is None else shp[self.axis]

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        s = ctx.xp.sum(args[0], axis=self.axis)
        return s / self._count(args[0]) if self.mean else s

    def _spread(self, xp: ModuleType, g: Array, a: Array) -> Array:
        shp = _shape(a)
        g = (
            xp.reshape(g, (1,) * len(shp))
            if self.axis is None
            else xp.expand_dims(g, axis=self.axis)
        )
        g = xp.broadcast_to(g, shp)
        return g / self._count(a) if self.mean else g

    def vjp(self, xp, g, args, out, needs):
        return [self._spread(xp, g, args[0])]

    def jvp(self, xp, ts, args, out):
        s = xp.sum(ts[0], axis=self.axis)
        return s / self._count(args[0]) if self.mean else s

    def local(self, node, args, out):
        shape = node.args[0].shape
        n = math.prod(shape)
        if self.axis is None:
            rows = np.zeros(n, dtype=np.int64)
        else:  # entry (..., i_axis, ...) adds into output entry (...) without i_axis
            out_idx = np.arange(max(node.size, 1)).reshape(node.shape)
            rows = np.broadcast_to(np.expand_dims(out_idx, self.axis), shape).ravel()
        scale = 1.0 / self._count(args[0]) if self.mean else 1.0
        T = sp.csr_matrix((np.full(n, scale), (rows, np.arange(n))), shape=(max(node.size, 1), n))
        return [T]

    def dependencies(self, node, deps):
        if deps[0] is None:
            return None
        (T,) = self.local(node, [np.broadcast_to(0.0, node.args[0].shape)], None)
        return ones_pattern(abs(T) @ deps[0])


class Add(LinearOp):
    """``out = a + sign * b`` with numpy broadcasting."""

    name = "add"

    fresh = True
    keeps_args = False  # the adjoint rule reads only the arguments' shapes

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        a, b = args
        return a + b if self.sign == 1.0 else a - b

    def inplace_args(self, node: NonlinearExpr) -> tuple[int, ...]:
        return tuple(i for i, a in enumerate(node.args) if a.shape == node.shape)

    def forward_into(self, ctx: Ctx, args: list[Array], i: int) -> Array:
        a, b = args
        buf = args[i]
        if _writable(buf) and buf.shape == np.broadcast_shapes(np.shape(a), np.shape(b)):
            if buf.dtype == np.result_type(a, b):
                return (np.add if self.sign == 1.0 else np.subtract)(a, b, out=buf)
        return self.forward(ctx, args)

    def vjp(self, xp, g, args, out, needs):
        ga = _unbroadcast(xp, g, _shape(args[0])) if needs[0] else None
        gb = _unbroadcast(xp, g, _shape(args[1])) if needs[1] else None
        return [ga, gb if gb is None or self.sign == 1.0 else -gb]

    def jvp(self, xp, ts, args, out):
        tb = ts[1] if ts[1] is None or self.sign == 1.0 else -ts[1]
        return _fit(xp, _add_opt(ts[0], tb), _shape(out))

    def pull(self, A, node, args, out):
        parts: list[sp.csr_matrix | None] = []
        for a in node.args:
            if not a.needs_grad:
                parts.append(None)
            elif a.shape == node.shape:
                parts.append(A)
            else:
                parts.append(remap_columns(A, _bcast_index(a.shape, node.shape), a.size))
        pb = parts[1]
        return [parts[0], pb if pb is None or self.sign == 1.0 else -pb]

    def dependencies(self, node, deps):
        return _broadcast_dependencies(node, deps)


class Mul(Op):
    """``out = a * b`` elementwise with numpy broadcasting."""

    name = "mul"
    fresh = True

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        return args[0] * args[1]

    def vjp(self, xp, g, args, out, needs):
        a, b = args
        ga = _unbroadcast(xp, g * b, _shape(a)) if needs[0] else None
        gb = _unbroadcast(xp, g * a, _shape(b)) if needs[1] else None
        return [ga, gb]

    def jvp(self, xp, ts, args, out):
        a, b = args
        ta = None if ts[0] is None else ts[0] * b
        tb = None if ts[1] is None else a * ts[1]
        return _fit(xp, _add_opt(ta, tb), _shape(out))

    def pull(self, A, node, args, out):
        (a, b), (av, bv) = node.args, args
        parts: list[sp.csr_matrix | None] = []
        for arg, other in ((a, bv), (b, av)):
            if not arg.needs_grad:
                parts.append(None)
                continue
            scale = np.broadcast_to(np.asarray(other, dtype=float), node.shape).ravel()
            idx = _bcast_index(arg.shape, node.shape)
            parts.append(remap_columns(A, idx, arg.size, scale))
        return parts

    def vjp_tangent(self, xp, g, args, out, ts, needs):
        """Product rule: ``d(g * b) = g * b_dot``, ``d(g * a) = g * a_dot`` (summed over the
        broadcast axes, as the first-order rule)."""
        (a, b), (ta, tb) = args, ts
        ga = None if not needs[0] or tb is None else _unbroadcast(xp, g * tb, _shape(a))
        gb = None if not needs[1] or ta is None else _unbroadcast(xp, g * ta, _shape(b))
        return [ga, gb]

    def dependencies(self, node, deps):
        return _broadcast_dependencies(node, deps)

    def couplings(self, node, deps):
        """Entry ``e = a_i b_j`` couples every variable of ``a_i`` with every one of ``b_j``."""
        Ba, Bb = (_spread_rows(d, a.shape, node.shape) for a, d in zip(node.args, deps))
        if Ba is None or Bb is None:
            return None
        return _symmetric(Ba.T @ Bb)


class MatMul(Op):
    """``out = a @ b`` for 1-D or 2-D operands (products of two variable blocks: ``W @ z``)."""

    name = "matmul"
    fresh = True

    def forward(self, ctx: Ctx, args: list[Array]) -> Array:
        if is_numpy(ctx.xp):
            return _np_matmul(args[0], args[1])
        return ctx.xp.matmul(args[0], args[1])

    @staticmethod
    def _as2d(xp: ModuleType, a: Array, b: Array) -> tuple[Array, Array]:
        a2 = a if len(_shape(a)) == 2 else xp.reshape(a, (1, -1))
        b2 = b if len(_shape(b)) == 2 else xp.reshape(b, (-1, 1))
        return a2, b2

    def vjp(self, xp, g, args, out, needs):
        a, b = args
        a2, b2 = self._as2d(xp, a, b)
        g2 = xp.reshape(g, (_shape(a2)[0], _shape(b2)[1]))
        mm = _np_matmul if is_numpy(xp) else xp.matmul  # transposes are views: BLAS flags
        ga = _reshaped(xp, mm(g2, b2.T), _shape(a)) if needs[0] else None
        gb = _reshaped(xp, mm(a2.T, g2), _shape(b)) if needs[1] else None
        return [ga, gb]

    def jvp(self, xp, ts, args, out):
        a, b = args
        ta = None if ts[0] is None else xp.matmul(ts[0], b)
        tb = None if ts[1] is None else xp.matmul(a, ts[1])
        return _add_opt(ta, tb)

    def pull(self, A, node, args, out):
        """Entry ``(i, (r, c))`` of ``A`` spreads to ``(i, (r, k))`` with weight ``b[k, c]``
        and to ``(i, (k, c))`` with weight ``a[r, k]`` (``O(nnz(A) k)``, no Kronecker)."""
        a2, b2 = self._as2d(np, np.asarray(args[0]), np.asarray(args[1]))
        m, k = a2.shape
        p = b2.shape[1]
        coo = A.tocoo()
        r, c = np.divmod(coo.col, p)
        kk = np.arange(k)
        parts: list[sp.csr_matrix | None] = [None, None]
        if node.args[0].needs_grad:
            vals = (coo.data[:, None] * b2[:, c].T).ravel()
            cols = (r[:, None] * k + kk).ravel()
            rows = np.repeat(coo.row, k)
            parts[0] = sp.csr_matrix((vals, (rows, cols)), shape=(A.shape[0], m * k))
        if node.args[1].needs_grad:
            vals = (coo.data[:, None] * a2[r, :]).ravel()
            cols = (kk * p + c[:, None]).ravel()
            rows = np.repeat(coo.row, k)
            parts[1] = sp.csr_matrix((vals, (rows, cols)), shape=(A.shape[0], k * p))
        return parts

    def vjp_tangent(self, xp, g, args, out, ts, needs):
        """Bilinear rule: ``d(g @ b^T) = g @ b_dot^T``, ``d(a^T @ g) = a_dot^T @ g``."""
        (a, b), (ta, tb) = args, ts
        m = _shape(a)[0] if len(_shape(a)) == 2 else 1
        p = _shape(b)[1] if len(_shape(b)) == 2 else 1
        g2 = xp.reshape(g, (m, p))
        ga = gb = None
        if needs[0] and tb is not None:
            tb2 = tb if len(_shape(tb)) == 2 else xp.reshape(tb, (-1, 1))
            ga = _reshaped(xp, xp.matmul(g2, tb2.T), _shape(a))
        if needs[1] and ta is not None:
            ta2 = ta if len(_shape(ta)) == 2 else xp.reshape(ta, (1, -1))
            gb = _reshaped(xp, xp.matmul(ta2.T, g2), _shape(b))
        return [ga, gb]

    @staticmethod
    def _dims(node: NonlinearExpr) -> tuple[int, int, int]:
        sa, sb = node.args[0].shape, node.args[1].shape
        return (sa[0] if len(sa) == 2 else 1), sa[-1], (sb[1] if len(sb) == 2 else 1)

    def dependencies(self, node, deps):
        """Entry ``(r, c)`` depends on row ``r`` of ``a`` and column ``c`` of ``b``."""
        m, k, p = self._dims(node)
        Ma = sp.kron(sp.identity(m), np.ones((p, k)), format="csr")  # (r, c) <- (r, .)
        Mb = sp.kron(np.ones((m, k)), sp.identity(p), format="csr")  # (r, c) <- (., c)
        da, db = deps
        return _union([None if da is None else Ma @ da, None if db is None else Mb @ db])

    def couplings(self, node, deps):
        """``a[r, j]`` meets ``b[j, c]`` for every ``r, c``: the variables of column ``j`` of
        ``a`` couple with those of row ``j`` of ``b``."""
        da, db = deps
        if da is None or db is None:
            return None
        m, k, p = self._dims(node)
        Ra = sp.kron(np.ones((1, m)), sp.identity(k), format="csr")  # column j of a
        Rb = sp.kron(sp.identity(k), np.ones((1, p)), format="csr")  # row j of b
        return _symmetric((Ra @ da).T @ (Rb @ db))
