"""The modeling layer: variable blocks, vectorised expressions, named constraint groups."""

from .constraints import Constraint
from .expressions import AffineExpr, Expr, QuadExpr, as_expr, quad_form, sum_squares
from .functions import matmul
from .model import Model
from .nonlinear import NonlinearExpr, as_nonlinear, data
from .stacking import concatenate, hstack, vstack
from .standard_form import Layout, StandardForm, layout, to_standard_form
from .variables import Var

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
