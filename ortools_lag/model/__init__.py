"""The modeling layer: variable blocks, vectorised expressions, named constraint groups."""

from ortools_lag.model.constraints import Constraint
from ortools_lag.model.expressions import (
    AffineExpr,
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
