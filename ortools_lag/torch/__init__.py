"""Constrained learning on any PyTorch model, and the Lagrangian view of a torch network.

This package imports torch (install it with ``pip install ortools_lag[torch]``); nothing else
in ``ortools_lag`` imports this package.

- :mod:`.problem`: :class:`ConstrainedProblem`, an objective and named constraint groups
  (``<=``, ``>=``, ``==`` with a right-hand side; scalar, shaped or indexed; with a
  differentiable surrogate for a rate), in the project's sign convention;
- :mod:`.multipliers`: the multipliers and the dual rules that move them:
  :class:`GradientAscent` (simultaneous or alternating), :class:`PI` (the nuPI family) and
  :class:`AugmentedLagrangian`;
- :mod:`.evaluation`: one batch's objective, violations and primal loss;
- :mod:`.training`: :func:`train`, the one loop (the user's optimiser for the primal, the rule
  for the dual) that returns a :class:`~ortools_lag.result.Solution`;
- :mod:`.certificate`: the KKT conditions measured on held-out data;
- :mod:`.lagrangian_view`: :func:`lagrangian_view`, the multipliers of the layer constraints
  of a ``torch.nn.Sequential`` by the adjoint recursion (they are minus backprop's gradients).
"""

from ortools_lag.torch.certificate import certify
from ortools_lag.torch.lagrangian_view import LagrangianView, lagrangian_view
from ortools_lag.torch.multipliers import (
    PI,
    AugmentedLagrangian,
    DualRule,
    GradientAscent,
    Multipliers,
)
from ortools_lag.torch.problem import ConstrainedProblem, ConstraintGroup
from ortools_lag.torch.training import train

__all__ = [
    "PI",
    "AugmentedLagrangian",
    "ConstrainedProblem",
    "ConstraintGroup",
    "DualRule",
    "GradientAscent",
    "LagrangianView",
    "Multipliers",
    "certify",
    "lagrangian_view",
    "train",
]
