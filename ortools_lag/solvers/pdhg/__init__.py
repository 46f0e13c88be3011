"""Restarted PDHG for large LPs, in the style of PDLP, on numpy/scipy or torch (CPU or CUDA).

- :mod:`.restarted`: the restarted iteration, its termination tests and :func:`pdhg_solve`;
- :mod:`.halpern`: the reflected restarted Halpern variant (``method="halpern"``);
- :mod:`.scaling`: the scaled LP (Ruiz, Pock-Chambolle, l2) and its measures in original units;
- :mod:`.arrays`: the thin array adapter (numpy + scipy.sparse, or torch);
- :mod:`.solver`: the registered ``pdhg`` solver on the standard form, with its certificate.
- :mod:`.crossover`: HiGHS's simplex warm-started from a PDHG point (``crossover=True``).
"""

from ortools_lag.solvers.pdhg.restarted import pdhg_solve

__all__ = ["pdhg_solve"]
