"""Our dual methods: the one loop, its ``init``/``step`` protocol, and the methods it drives.

- :mod:`.protocol`: common options, the frozen :class:`~.protocol.DualState`, the
  :class:`~.protocol.DualMethod` base (``init(lagrangian, lam0)`` / ``step(lagrangian, state)``);
- :mod:`.loop`: the one loop (limits, history, projection, primal recovery, certification) and
  :class:`~.loop.DualSolver`, the registered solver that runs a method through it;
- the methods: :mod:`.subgradient`, :mod:`.bundle`, :mod:`.alm`, :mod:`.admm` (with
  :mod:`.admm_blocks`), and the methods that carry their own primal iterate
  (:mod:`.iterate_method`);
- the bases of the families' own Lagrangian solves: :mod:`.lagrangian_heuristic` (a family's
  ascent plus heuristic, certified by our code), :mod:`.lagrangian_closing` (those whose gap an
  exact method may close) and :mod:`.ascent_termination`.

A new dual method is one module here: a ``DualMethod`` with its options and state, and a
``DualSolver`` subclass named in :data:`ortools_lag.solvers.registry.REGISTRY`; the contract
test runs every registered method.
"""
