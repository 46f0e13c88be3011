"""The modeling layer: variable blocks, vectorised expressions, named constraint groups.

The modules, each importing only those listed before it:

- ``buffers``, ``ufunc_threads``: reused numpy buffers, threaded numpy kernels;
- ``expressions``: the algebra of affine and quadratic expressions (``Expr``, ``AffineExpr``,
  ``QuadExpr``) and the ``Constraint`` its comparisons build;
- ``variables``: the variable block ``Var``, an affine expression;
- ``stacking``, ``model``, ``standard_form``: stacking, the ``Model``, its standard form;
- ``tape``: the forward pass and the adjoint recursion over an expression graph;
- ``ops``, ``elementwise``: what the graph's nodes compute (the ``Op`` protocol, structural and
  arithmetic operations; the elementwise functions and their numpy kernels; their first- and
  second-order rules);
- ``hessian``: sparse Hessians of a graph (the structural pattern, its star colouring, the
  recovery of the entries from Hessian-vector products);
- ``nonlinear``: the graph node ``NonlinearExpr``, its leaves and operators, ``as_nonlinear``
  (registered with ``expressions`` for what leaves the polynomial algebra);
- ``functions``: the function library on expressions (``tanh``, ``norm``, losses ...).
"""

from ortools_lag.model.expressions import (
    AffineExpr,
    Constraint,
    Expr,
    QuadExpr,
    as_expr,
    quad_form,
    sum_squares,
)
from ortools_lag.model.functions import matmul
from ortools_lag.model.model import Model
from ortools_lag.model.nonlinear import NonlinearExpr, as_nonlinear, data
from ortools_lag.model.stacking import concatenate, hstack, vstack
from ortools_lag.model.standard_form import Layout, StandardForm, layout, to_standard_form
from ortools_lag.model.variables import Var

__all__ = [
    "AffineExpr",
    "Constraint",
    "Expr",
    "Layout",
    "Model",
    "NonlinearExpr",
    "QuadExpr",
    "StandardForm",
    "Var",
    "as_expr",
    "as_nonlinear",
    "concatenate",
    "data",
    "hstack",
    "layout",
    "matmul",
    "quad_form",
    "sum_squares",
    "to_standard_form",
    "vstack",
]
