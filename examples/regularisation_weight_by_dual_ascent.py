"""The ridge weight is the multiplier of a norm budget: one dual solve instead of a search.

Least squares with a budget on the squared norm of the weights::

    min_w ||Xw - y||^2   s.t.   ||w||^2 <= c          (multiplier lambda >= 0)

has the Lagrangian ``L(w, lambda) = ||Xw - y||^2 + lambda (||w||^2 - c)``, whose minimiser in
``w`` is the ridge solution ``w(lambda) = (X^T X + lambda I)^{-1} X^T y``. The dual function
``q(lambda) = L(w(lambda), lambda)`` is concave; its maximiser ``lambda*`` is the ridge weight
``alpha(c)`` whose solution meets the budget exactly (when the budget binds). Dual ascent finds
it in a few evaluations of ``q``; the usual way -- a ridge fit for one ``alpha`` after another
(here by scipy, on the normal equations) until ``||w(alpha)||^2 = c`` -- needs many fits and
lands on the same weight. ``lambda*`` is also the shadow price of the budget: ``-d f*/d c``.

Run: ``python examples/regularisation_weight_by_dual_ascent.py``
(writes ``regularisation_weight_by_dual_ascent.png``).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import solve as linear_solve

from ortools_lag.problems.constrained_learning import dual_ascent, norm_budget_least_squares


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """40 samples of 10 correlated features and a noisy linear target."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(40, 3))
    X = base @ rng.normal(size=(3, 10)) + 0.3 * rng.normal(size=(40, 10))
    y = X @ rng.normal(size=10) + 0.5 * rng.normal(size=40)
    return X, y


def ridge_norm2(X: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """||w||^2 of the ridge fit ``min ||y - Xw||^2 + alpha ||w||^2``: one linear solve of the
    normal equations ``(X^T X + alpha I) w = X^T y`` (scipy, Cholesky)."""
    w = linear_solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y, assume_a="pos")
    return float(w @ w)


def search_alpha(X: np.ndarray, y: np.ndarray, budget: float) -> tuple[float, list[float]]:
    """Bisection on log(alpha) until the ridge solution meets the budget (one fit per probe)."""
    lo, hi, probes = 1e-6, 1e6, []
    while hi - lo > 1e-10 * hi:
        mid = float(np.sqrt(lo * hi))
        probes.append(mid)
        if ridge_norm2(X, y, mid) > budget:
            lo = mid  # too little regularisation
        else:
            hi = mid
    return 0.5 * (lo + hi), probes


def main() -> None:
    X, y = make_data()
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    budget = 0.25 * float(w_ls @ w_ls)  # a budget that binds: a quarter of the LS norm
    problem = norm_budget_least_squares(X, y, budget=budget)
    sol = dual_ascent(problem)
    lam = float(sol.multipliers["budget"])
    w = sol.x["w"]
    alpha, probes = search_alpha(X, y, budget)
    print("least squares with ||w||^2 <= c, c = a quarter of the least-squares norm")
    print(f"   budget_c = {budget:.10f}")
    print(f"   status = {sol.status.value}   (dual ascent, {sol.iterations} evaluations of q)")
    print(f"   lambda_star = {lam:.12f}")
    print(f"   norm2_w = {float(w @ w):.12f}")
    print(f"   objective = {sol.objective:.12f}")
    print(f"   dual_bound = {sol.bound:.12f}")
    print(f"   dual_iterations = {sol.iterations}")
    print(f"   alpha_search = {alpha:.12f}   (bisection on log alpha, one ridge fit per probe)")
    print(f"   search_fits = {len(probes)}")
    print(f"   abs_diff_alpha = {abs(alpha - lam):.3e}")
    check = ridge_norm2(X, y, lam)
    print(f"   ridge_norm2_at_lambda = {check:.12f}   (a scipy ridge fit at alpha = lambda*)")
    draw(problem, X, y, budget, lam, alpha, probes, sol.objective)


def draw(problem, X, y, budget, lam, alpha, probes, fstar) -> None:
    oracle = problem.relaxation().oracle
    grid = np.linspace(0.0, 3.0 * lam, 200)
    q = [oracle({"budget": np.array(t)})[1] for t in grid]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax1.plot(grid, q, color="C0", label="dual function q(λ)")
    ax1.axhline(fstar, color="C3", ls="--", lw=1, label=f"primal optimum f* = {fstar:.3f}")
    ax1.plot([lam], [oracle({"budget": np.array(lam)})[1]], "ko", label=f"λ* = {lam:.4f}")
    ax1.set_xlabel("multiplier λ of the budget (= ridge weight α)")
    ax1.set_ylabel("q(λ) = min_w ||Xw − y||² + λ(||w||² − c)")
    ax1.set_title("The dual: one concave function of λ, maximum at λ*")
    ax1.legend(fontsize="small")
    alphas = np.logspace(-3, 3, 200)
    norms = [ridge_norm2(X, y, a) for a in alphas]
    ax2.semilogx(alphas, norms, color="C0", label="ridge path ||w(α)||²")
    ax2.axhline(budget, color="C2", ls="--", label=f"budget c = {budget:.3f}")
    ax2.axvline(lam, color="k", lw=0.8, label="α = λ* (dual ascent)")
    shown = [p for p in probes if 1e-3 <= p <= 1e3]
    ax2.plot(
        shown,
        [ridge_norm2(X, y, p) for p in shown],
        "x",
        color="C1",
        label=f"bisection probes ({len(probes)} fits)",
    )
    ax2.set_xlabel("ridge weight α")
    ax2.set_ylabel("||w(α)||²")
    ax2.set_title("The search: many ridge fits to meet the budget")
    ax2.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig("regularisation_weight_by_dual_ascent.png", dpi=110)
    print("saved regularisation_weight_by_dual_ascent.png")


if __name__ == "__main__":
    main()
