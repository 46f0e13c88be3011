r"""The forward pass of an expression graph, and the adjoint recursion over its stored values.

:func:`run_forward` evaluates the nodes of a graph in topological order into a :class:`Tape`;
:meth:`Tape.backward` solves the graph's KKT system for the multipliers by back-substitution,
``adj(arg) += vjp_op(adj(node))`` from the root to the leaves (see
:mod:`~ortools_lag.model.nonlinear`: ``lambda_k = -adj(v_k)``); :meth:`Tape.tangent` propagates
tangents forward; :meth:`Tape.sparse_jacobian` runs the recursion with sparse matrix adjoints.

Second order, forward-over-reverse on the same tape: :meth:`Tape.hvp` differentiates the
adjoint recursion along a direction ``v``. The node adjoints of the first-order sweep
(:meth:`Tape.adjoints`, kept for all nodes and reusable across directions) and the node tangents
of a forward tangent pass (:meth:`Tape.tangents`) feed one reverse sweep of adjoint tangents,
``d adj(arg) += vjp_op(d adj(node)) + vjp_tangent_op(adj(node), tangents)``, which ends at the
variables with ``H(w) v``, ``H(w) = sum_i w_i Hessian(root_i)`` for the root adjoint ``w``.
The second-order rules read what the first-order ones read, so the in-place plan serves both.

In-place plan (numpy): a node may write its value into the buffer of an argument when that
argument's operation allocated it (``Op.fresh``), the node is its only reader, and neither rule
needs it later (the node's adjoint rule reads no argument values: ``keeps_args`` false; the
argument's own rule does not read its value: ``keeps_out`` false). In a layer
``tanh(W @ z + b)`` the sum and the ``tanh`` then reuse the buffer of ``W @ z``: one new array
instead of three, the same values. The plan is static (cached per root); each in-place kernel
checks the run-time arrays (type, shape, dtype) and otherwise allocates as usual.

>>> from ortools_lag import Model
>>> from ortools_lag.model import functions as F
>>> m = Model(); W = m.var("W", (2, 2), lb=None); x = m.var("x", (2, 3), lb=None)
>>> phi = F.tanh(W @ x + 1.0)
>>> [n.op.name for n in phi.args[0].args], len(inplace_plan(topological_order(phi)))
(['matmul', 'const'], 2)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ortools_lag.arrays import is_numpy

if TYPE_CHECKING:
    from ortools_lag.model.nonlinear import NonlinearExpr
    from ortools_lag.model.ops import Ctx
    from ortools_lag.model.variables import Var

__all__ = ["Tape", "inplace_plan", "run_forward", "topological_order"]

Array = Any


def topological_order(root: NonlinearExpr) -> list[NonlinearExpr]:
    """Nodes in topological order (arguments first), each once (cached: graphs are immutable)."""
    if root._order is None:
        root._order = _toposort(root)
    return root._order


def _toposort(root: NonlinearExpr) -> list[NonlinearExpr]:
    order: list[NonlinearExpr] = []
    seen: set[int] = set()
    stack: list[tuple[NonlinearExpr, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if id(a) not in seen)
    return order


def inplace_plan(order: list[NonlinearExpr]) -> dict[int, int]:
    """``{id(node): i}``: nodes whose value may overwrite argument ``i``'s buffer (see above)."""
    readers = Counter(id(a) for node in order for a in node.args)
    plan: dict[int, int] = {}
    for node in order:
        if node.op.keeps_args:
            continue
        for i in node.op.inplace_args(node):
            a = node.args[i]
            if a.op.fresh and not a.op.keeps_out and readers[id(a)] == 1:
                plan[id(node)] = i
                break
    return plan


def _plan(root: NonlinearExpr) -> dict[int, int]:
    if root._plan is None:
        root._plan = inplace_plan(topological_order(root))
    return root._plan


def run_forward(root: NonlinearExpr, ctx: Ctx) -> Tape:
    """Evaluate every node of ``root``'s graph; numpy values follow the in-place plan."""
    order = topological_order(root)
    plan = _plan(root) if is_numpy(ctx.xp) else {}
    vals: dict[int, Array] = {}
    for node in order:
        args = [vals[id(a)] for a in node.args]
        i = plan.get(id(node))
        op = node.op
        vals[id(node)] = op.forward(ctx, args) if i is None else op.forward_into(ctx, args, i)
    return Tape(root, order, vals, ctx.xp)


@dataclass
class Tape:
    """The values of one forward pass, and the adjoint recursion over them.

    ``values`` maps ``id(node)`` to its value; a node whose buffer a consumer overwrote (the
    in-place plan) holds that consumer's value: only the shapes of such nodes are read later.
    """

    root: NonlinearExpr
    order: list[NonlinearExpr]
    values: dict[int, Array]
    xp: ModuleType

    @property
    def value(self) -> Array:
        """The root's value, in its shape."""
        return self.values[id(self.root)]

    def backward(self, seed: Array | None = None) -> dict[str, Array]:
        """Adjoints of the variables (by name) for the root adjoint ``seed`` (default: ones).

        The recursion ``adj(arg) += vjp_op(adj(node))`` visits the nodes from the root to the
        leaves: back-substitution in the graph's KKT system (see the module docstring).
        """
        return self._reverse(seed, keep=False)[1]

    def _reverse(
        self, seed: Array | None, *, keep: bool
    ) -> tuple[dict[int, Array], dict[str, Array]]:
        """The reverse sweep: every node's adjoint (kept when ``keep``, else freed as soon as it
        is used) and the variables' adjoints by name."""
        xp, vals = self.xp, self.values
        if seed is None:
            seed = xp.ones_like(xp.asarray(self.value))
        adj: dict[int, Array] = {id(self.root): seed}
        grads: dict[str, Array] = {}
        take = adj.get if keep else adj.pop  # chosen once: the loop is a hot path
        for node in reversed(self.order):
            g = take(id(node), None)
            if g is None or not node.needs_grad:
                continue
            var = node.op.var
            if var is not None:
                grads[var.name] = g if var.name not in grads else grads[var.name] + g
                continue
            needs = [a.needs_grad for a in node.args]
            args = [vals[id(a)] for a in node.args]
            parts = node.op.vjp(xp, g, args, vals[id(node)], needs)
            for a, p in zip(node.args, parts):
                if p is not None and a.needs_grad:
                    adj[id(a)] = p if id(a) not in adj else adj[id(a)] + p
        return adj, grads

    def tangent(self, tangents: Mapping[str, Array]) -> Array:
        """The root's tangent for tangents of the variables by name (forward mode)."""
        out = self.tangents(tangents)[id(self.root)]
        return self.xp.zeros_like(self.xp.asarray(self.value)) if out is None else out

    # -- second order: forward-over-reverse ---------------------------------------------------
    def adjoints(self, seed: Array | None = None) -> dict[int, Array]:
        """The adjoint of every node (``id(node) -> adj``) for the root adjoint ``seed``.

        The recursion of :meth:`backward`, keeping each node's adjoint: the first-order half of
        :meth:`hvp`, which does not depend on the direction (compute it once for many).

        >>> from ortools_lag import Model
        >>> m = Model(); x = m.var("x", 2, lb=None)
        >>> e = (x * x * x).sum()
        >>> tape = e.forward({"x": np.array([1.0, 2.0])})
        >>> float(tape.adjoints()[id(e)])
        1.0
        """
        return self._reverse(seed, keep=True)[0]

    def tangents(self, tangents: Mapping[str, Array]) -> dict[int, Array | None]:
        """The tangent of every node (``id(node) -> tangent``, ``None``: none) for tangents of
        the variables by name: :meth:`tangent`, keeping each node's.

        >>> from ortools_lag import Model
        >>> m = Model(); x = m.var("x", 2, lb=None)
        >>> e = (x * x * x).sum()
        >>> tape = e.forward({"x": np.array([1.0, 2.0])})
        >>> float(tape.tangents({"x": np.array([1.0, 0.0])})[id(e)])  # 3 x0^2
        3.0
        """
        ts: dict[int, Array | None] = {}
        for node in self.order:
            var = node.op.var
            if var is not None:
                ts[id(node)] = tangents.get(var.name)
            elif not node.needs_grad:
                ts[id(node)] = None
            else:
                targs = [ts[id(a)] for a in node.args]
                args = [self.values[id(a)] for a in node.args]
                ts[id(node)] = node.op.jvp(self.xp, targs, args, self.values[id(node)])
        return ts

    def hvp(
        self,
        seed: Array | None,
        tangents: Mapping[str, Array],
        adjoints: dict[int, Array] | None = None,
    ) -> dict[str, Array]:
        r"""Hessian-vector product by forward-over-reverse on this tape, by variable name.

        For the root adjoint ``seed`` (weights ``w`` in the root's shape) and the variable
        tangents ``v``, returns ``H(w) v`` with ``H(w) = sum_i w_i Hessian(root_i)`` at the
        tape's point: the tangent of the adjoint recursion. Each node's adjoint ``g`` (from
        :meth:`adjoints`, reusable across directions) and tangent ``g_dot`` run back together,

        .. math::

            \dot{\bar a} = \mathrm{vjp}(\dot g, a) + \mathrm{vjp\_tangent}(g, a, \dot a),

        with ``g_dot = 0`` at the root and the argument tangents ``a_dot`` of a forward tangent
        pass (:meth:`tangents`); at a variable leaf ``g_dot`` is the product. Variables the
        product does not reach are missing from the result (zero).

        Parameters
        ----------
        seed
            The root adjoint (default ones).
        tangents
            The direction, one array per variable name (every variable of the graph).
        adjoints
            :meth:`adjoints` for ``seed``, when already computed.

        Examples
        --------
        >>> from ortools_lag import Model
        >>> m = Model(); x = m.var("x", 2, lb=None)
        >>> e = (x * x * x).sum()  # Hessian diag(6 x)
        >>> tape = e.forward({"x": np.array([1.0, 2.0])})
        >>> tape.hvp(None, {"x": np.array([1.0, 1.0])})["x"].tolist()
        [6.0, 12.0]
        """
        xp, vals = self.xp, self.values
        adj = self.adjoints(seed) if adjoints is None else adjoints
        ts = self.tangents(tangents)
        dadj: dict[int, Array] = {}
        out: dict[str, Array] = {}
        for node in reversed(self.order):
            if not node.needs_grad:
                continue
            gd = dadj.pop(id(node), None)
            var = node.op.var
            if var is not None:
                if gd is not None:
                    out[var.name] = gd if var.name not in out else out[var.name] + gd
                continue
            g = adj.get(id(node))
            targs = [ts[id(a)] for a in node.args]
            curved = g is not None and any(t is not None for t in targs)
            if gd is None and not curved:
                continue  # neither term reaches the arguments
            needs = [a.needs_grad for a in node.args]
            args = [vals[id(a)] for a in node.args]
            value = vals[id(node)]
            parts: list[Array | None] = (
                [None] * len(node.args) if gd is None else node.op.vjp(xp, gd, args, value, needs)
            )
            if curved:
                second = node.op.vjp_tangent(xp, g, args, value, targs, needs)
                parts = [_add_opt(p, q) for p, q in zip(parts, second)]
            for a, p in zip(node.args, parts):
                if p is not None and a.needs_grad:
                    dadj[id(a)] = p if id(a) not in dadj else dadj[id(a)] + p
        return out

    def sparse_jacobian(self, n: int) -> sp.csr_matrix:
        """The root's Jacobian (``size x n``) by the adjoint recursion with matrix adjoints."""
        root, vals = self.root, self.values
        adj: dict[int, sp.csr_matrix] = {id(root): sp.identity(root.size, format="csr")}
        blocks: dict[str, tuple[Var, sp.csr_matrix]] = {}
        for node in reversed(self.order):
            A = adj.pop(id(node), None)
            if A is None or not node.needs_grad:
                continue
            v = node.op.var
            if v is not None:
                prev = blocks.get(v.name)
                blocks[v.name] = (v, A if prev is None else prev[1] + A)
                continue
            args = [np.asarray(vals[id(a)]) for a in node.args]
            pulled = node.op.pull(A, node, args, np.asarray(vals[id(node)]))
            for a, P in zip(node.args, pulled):
                if P is not None and a.needs_grad:
                    adj[id(a)] = P if id(a) not in adj else adj[id(a)] + P
        rows, cols, data = [np.zeros(0, int)], [np.zeros(0, int)], [np.zeros(0)]
        for v, B in blocks.values():
            coo = B.tocoo()
            rows.append(coo.row)
            cols.append(coo.col + v.offset)
            data.append(coo.data)
        r, c, d = (np.concatenate(p) for p in (rows, cols, data))
        return sp.csr_matrix((d, (r, c)), shape=(root.size, n))


def _add_opt(a: Array | None, b: Array | None) -> Array | None:
    if a is None:
        return b
    return a if b is None else a + b
