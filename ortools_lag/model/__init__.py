"""The modeling layer: variable blocks, vectorised expressions, named constraint groups."""

from .constraints import Constraint
from .expressions import (
    AffineExpr,
    Expr,
    QuadExpr,
    as_expr,
    concatenate,
    hstack,
    quad_form,
    sum_squares,
    vstack,
)
from .model import Model
from .standard_form import StandardForm, to_standard_form
from .variables import Var

__all__ = [
    "AffineExpr",
    "Constraint",
    "Expr",
    "Model",
    "QuadExpr",
    "StandardForm",
    "Var",
    "as_expr",
    "concatenate",
    "hstack",
    "quad_form",
    "sum_squares",
    "to_standard_form",
    "vstack",
]
