"""The teaching examples: each runs as a script in a fresh folder, exits 0, writes its figure, and
the numbers it prints hold against answers from outside the code (closed forms, hand
derivations, published optima, torch autograd, scikit-learn, networkx, scipy)."""

from __future__ import annotations

import math
import os
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "data"
_PAIR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)")


def _value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


NAMES = (
    "backprop_is_lagrangian",
    "backprop_cnn_is_lagrangian",
    "regularisation_weight_by_dual_ascent",
    "particle_on_a_circle",
    "kkt_inequalities",
    "shortest_path_duality",
    "constrained_shortest_path",
    "held_karp",
    "spin_glass_maxcut",
    "dual_ascent_vs_backend",
    "gap_three_ways",
)


def _run(name: str, folder: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, folder


class Runs:
    """The selected examples, started up front two at a time (each is one process, mostly
    imports): a test waits for its own."""

    def __init__(self, names: list[str], factory: pytest.TempPathFactory) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)))
        self.futures = {n: self.pool.submit(_run, n, factory.mktemp(n)) for n in names}

    def values(self, name: str) -> dict[str, float | str]:
        """Wait for ``name``; check its exit and PNG; return its printed ``key = value`` pairs
        (several on a line when three spaces part them; the first wins when a key repeats) and
        under ``_line_<key>`` the rest of each line after its first ``=``."""
        proc, folder = self.futures[name].result()
        assert proc.returncode == 0, proc.stderr[-3000:]
        _check_png(folder / f"{name}.png")
        out: dict[str, float | str] = {}
        for line in proc.stdout.splitlines():
            key, _, rest = line.partition("=")
            out.setdefault(f"_line_{key.strip()}", rest.strip())
            for chunk in re.split(r"\s{3,}", line.strip()):
                m = _PAIR.match(chunk)
                if m and m.group(1) not in out:
                    out[m.group(1)] = _value(m.group(2))
        return out


def _check_png(png: Path) -> None:
    assert png.is_file(), f"no {png.name} written"
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", head[16:24])
    assert 500 <= width <= 3000 and 400 <= height <= 2000, (width, height)
    assert png.stat().st_size > 20_000, "the figure looks empty"


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    here = request.module.__name__
    wanted = {
        it.name.removeprefix("test_")
        for it in request.session.items
        if getattr(it, "module", None) is not None and it.module.__name__ == here
    }
    r = Runs([n for n in NAMES if n in wanted], tmp_path_factory)
    yield r
    r.pool.shutdown(wait=True)


def num(v: dict[str, float | str], key: str) -> float:
    value = v[key]
    assert isinstance(value, float), f"{key} = {value!r} is not a number"
    return value


def test_backprop_is_lagrangian(runs: Runs) -> None:
    pytest.importorskip("torch")
    v = runs.values("backprop_is_lagrangian")
    x = 0.3
    u = math.exp(x) + math.exp(2 * x)  # c = a + a^2 with a = e^x
    dfdx = (math.exp(u) + math.cos(u)) * (math.exp(x) + 2 * math.exp(2 * x))  # hand derivation
    assert v["status"] == "locally_optimal"  # exp/sin layers: convexity is not proven
    assert math.isclose(num(v, "f_value"), math.exp(u) + math.sin(u), rel_tol=1e-12)
    assert math.isclose(num(v, "lambda_input"), -dfdx, rel_tol=1e-11)
    assert math.isclose(num(v, "lambda_c"), -(math.exp(u) + math.cos(u)), rel_tol=1e-11)
    assert num(v, "lambda_f") == -1.0
    assert num(v, "vieira_max_abs_diff_vs_torch") <= 1e-10
    assert num(v, "mlp_max_rel_diff_vs_torch") <= 1e-10
    assert num(v, "mlp_weight_grad_rel_diff") <= 1e-10


def test_backprop_cnn_is_lagrangian(runs: Runs) -> None:
    pytest.importorskip("torch")
    v = runs.values("backprop_cnn_is_lagrangian")
    assert num(v, "layers") == 9  # conv, bn, relu, pool, conv, relu, pool, flatten, linear
    assert num(v, "cnn_max_rel_diff_vs_autograd") <= 1e-10  # lambda_l against -d loss / d z_l
    assert num(v, "cnn_param_grad_rel_diff") <= 1e-10  # -J_theta^T lambda_l against autograd
    # lambda_L against the hand formula of cross-entropy, -(softmax - onehot) / N
    assert num(v, "cross_entropy_hand_formula_rel_diff") <= 1e-10
    # weight gradients assembled by hand from the multipliers, against autograd
    assert num(v, "fc_weight_grad_from_multipliers_rel_diff") <= 1e-10
    assert num(v, "conv1_weight_grad_from_multipliers_rel_diff") <= 1e-10
    assert abs(num(v, "lagrangian_minus_loss")) <= 1e-12  # the constraints hold: L = loss
    assert num(v, "max_constraint_residual") == 0.0
    assert 0 < num(v, "loss") < math.log(3)  # trained a little: below chance, not yet zero


def test_regularisation_weight_by_dual_ascent(runs: Runs) -> None:
    v = runs.values("regularisation_weight_by_dual_ascent")
    c, lam = num(v, "budget_c"), num(v, "lambda_star")
    assert v["status"] == "optimal"
    assert lam > 0  # the budget binds
    assert abs(num(v, "alpha_search") - lam) <= 1e-6  # scipy's ridge search lands on lambda*
    assert abs(num(v, "abs_diff_alpha")) <= 1e-6
    assert math.isclose(num(v, "norm2_w"), c, rel_tol=1e-8)  # complementarity: on the budget
    assert math.isclose(num(v, "ridge_norm2_at_lambda"), c, rel_tol=1e-8)  # scipy's ridge fit
    assert math.isclose(num(v, "objective"), num(v, "dual_bound"), rel_tol=1e-8)  # no gap
    assert num(v, "search_fits") > 2 * num(v, "dual_iterations")


def test_particle_on_a_circle(runs: Runs) -> None:
    v = runs.values("particle_on_a_circle")
    mass, g, r = 2.0, 9.81, 1.5  # the example's data
    assert v["status"] == "optimal"
    assert abs(num(v, "x")) <= 1e-7 and math.isclose(num(v, "y"), -r, rel_tol=1e-9)
    assert math.isclose(num(v, "lambda"), mass * g / (2 * r), rel_tol=1e-8)  # stationarity in y
    assert math.isclose(num(v, "objective"), -mass * g * r, rel_tol=1e-9)
    assert math.isclose(num(v, "bound"), -mass * g * r, rel_tol=1e-9)
    assert math.isclose(num(v, "force_2_lambda_r"), mass * g, rel_tol=1e-8)
    assert math.isclose(num(v, "constraint_force_y"), mass * g, rel_tol=1e-8)
    assert abs(num(v, "constraint_force_x")) <= 1e-6
    assert math.isclose(num(v, "lambda_top"), -mass * g / (2 * r), rel_tol=1e-8)
    assert num(v, "radii_max_abs_err") <= 1e-6


def test_kkt_inequalities(runs: Runs) -> None:
    v = runs.values("kkt_inequalities")
    # hand derivation: projection of (3, 2) on x + y = 4; grad f = (-1, -1) = -1 * (1, 1)
    assert v["status"] == "optimal"
    assert math.isclose(num(v, "x"), 2.5, abs_tol=1e-8)
    assert math.isclose(num(v, "y"), 1.5, abs_tol=1e-8)
    assert math.isclose(num(v, "objective"), 0.5, abs_tol=1e-9)
    assert math.isclose(num(v, "lambda_budget"), 1.0, abs_tol=1e-8)
    assert abs(num(v, "lambda_floor")) <= 1e-9
    assert abs(num(v, "slack_budget")) <= 1e-8
    assert math.isclose(num(v, "slack_floor"), 1.0, abs_tol=1e-8)
    assert num(v, "complementarity_budget") <= 1e-9
    assert num(v, "complementarity_floor") <= 1e-9
    assert num(v, "stationarity_residual") <= 1e-8
    assert math.isclose(num(v, "highs_lambda_budget"), 1.0, abs_tol=1e-5)
    assert abs(num(v, "highs_lambda_floor")) <= 1e-6
    assert math.isclose(num(v, "shadow_price_budget"), -1.0, abs_tol=1e-8)
    # f*(4 + e) = 2 (1/2 - e/2)^2, so (f*(4 + e) - f*(4)) / e = -1 + e/2 with e = 1e-4
    assert math.isclose(num(v, "finite_difference_budget"), -1 + 0.5e-4, abs_tol=2e-6)


def _rome_distance(source: int, target: int) -> float:
    """d(source, target) on rome99 by our own reading and scipy's Dijkstra (parallel arcs: min)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    rows = [
        ln.split()[1:4]
        for ln in (DATA / "dimacs" / "rome99.gr").read_text().splitlines()
        if ln.startswith("a ")
    ]
    u, w, c = (np.array(col, dtype=float) for col in zip(*rows))
    n = int(max(u.max(), w.max()))
    order = np.lexsort((c, w, u))  # the cheapest of parallel arcs first
    u, w, c = u[order], w[order], c[order]
    first = np.r_[True, (np.diff(u) != 0) | (np.diff(w) != 0)]
    g = csr_matrix((c[first], (u[first] - 1, w[first] - 1)), shape=(n, n))
    return float(dijkstra(g, indices=source - 1)[target - 1])


def test_shortest_path_duality(runs: Runs) -> None:
    v = runs.values("shortest_path_duality")
    d = _rome_distance(1, 3353)
    assert v["status"] == "optimal"
    assert num(v, "distance") == d
    assert num(v, "potential_difference") == d  # the dual value pi_t - pi_s
    assert num(v, "min_reduced_cost") >= -1e-9  # dual feasibility
    assert num(v, "max_reduced_cost_on_path") <= 1e-9  # complementary slackness
    assert num(v, "reachable_nodes") == 3353
    assert num(v, "potentials_vs_networkx_dijkstra_max_abs_diff") <= 1e-9
    assert num(v, "shadow_price_max_abs_err") <= 1e-6
    # a cost change delta = -0.5 moves the distance by delta * flow
    assert num(v, "arc_on_path_flow") == 1 and num(v, "arc_on_path_distance_change") == -0.5
    assert num(v, "arc_off_path_flow") == 0 and num(v, "arc_off_path_distance_change") == 0.0


def test_constrained_shortest_path(runs: Runs) -> None:
    v = runs.values("constrained_shortest_path")
    # Ahuja, Magnanti & Orlin (1993), ch. 16: L* = 7 at mu = 2, optimum 13 (path 1-3-2-4-6)
    assert num(v, "envelope_max") == pytest.approx(7.0, abs=1e-9)
    assert num(v, "envelope_argmax_mu") == pytest.approx(2.0, abs=1e-9)
    assert num(v, "best_feasible_by_enumeration") == 13
    # hand: 13 - mu against the envelope, closest at mu = 2: 11 - 7 = 4
    assert num(v, "optimum_line_min_height_above_envelope") == pytest.approx(4.0, abs=1e-9)
    assert 7.0 - 1e-3 <= num(v, "subgradient_bound") <= 7.0 + 1e-9
    assert num(v, "subgradient_heuristic") >= 13
    assert v["exact_solver"] == "csp_exact" and v["status"] == "optimal"
    assert num(v, "exact_objective") == 13 and num(v, "exact_bound") == 13
    assert num(v, "exact_lagrangian_bound") == pytest.approx(7.0, abs=1e-6)
    assert v["exact_path"] == "0-2-1-3-5"


def _berlin_length(tour: list[int]) -> float:
    """A tour's length with TSPLIB's EUC_2D rule (nint of the Euclidean distance)."""
    lines = (DATA / "tsplib" / "berlin52.tsp").read_text().splitlines()
    start = lines.index("NODE_COORD_SECTION") + 1
    xy = np.array([[float(t) for t in ln.split()[1:3]] for ln in lines[start : start + 52]])
    a = xy[tour]
    b = xy[np.roll(tour, -1)]
    return float(np.sum(np.floor(np.sqrt(np.sum((a - b) ** 2, axis=1)) + 0.5)))


def test_held_karp(runs: Runs) -> None:
    v = runs.values("held_karp")
    optimum = 7542  # TSPLIB's published optimum for berlin52
    tour = [int(t) for t in str(v["_line_tour"]).split()]
    assert sorted(tour) == list(range(52))
    assert _berlin_length(tour) == optimum  # recomputed with TSPLIB's rounding rule
    assert num(v, "tour_length") == optimum
    assert num(v, "held_karp_bound") <= optimum + 1e-6  # a valid lower bound
    assert (optimum - num(v, "held_karp_bound")) / optimum <= 0.005
    assert num(v, "bound_gap_percent") <= 0.5
    assert num(v, "plain_one_tree") < num(v, "held_karp_bound")


def test_spin_glass_maxcut(runs: Runs) -> None:
    v = runs.values("spin_glass_maxcut")
    n = 9
    sum_w = num(v, "ring_sum_w")
    # frustrated ring: one broken bond, anywhere of n, times the global flip
    assert num(v, "ring_ground_states") == 2 * n
    assert num(v, "ring_solver_ground_states") == 2 * n
    assert num(v, "ring_ground_energy") == -(n - 2)
    assert num(v, "ring_max_cut") == pytest.approx((sum_w + n - 2) / 2, abs=1e-9)
    # SDP: unit vectors turning by pi/n per bond, energy -n cos(pi/n)
    sdp_cut = (sum_w + n * math.cos(math.pi / n)) / 2
    assert num(v, "ring_sdp_energy_bound") == pytest.approx(-n * math.cos(math.pi / n), abs=1e-5)
    assert num(v, "ring_sdp_value") == pytest.approx(sdp_cut, abs=1e-5)
    assert num(v, "ring_sdp_bound") >= sdp_cut - 1e-9  # a certified bound is never below
    assert num(v, "ring_eigenvalue_bound") >= num(v, "ring_sdp_bound") - 1e-9
    gw, best = num(v, "glass_gw_cut"), num(v, "glass_max_cut_enumeration")
    sdp, eig = num(v, "glass_sdp_bound"), num(v, "glass_eigenvalue_bound")
    assert gw <= best + 1e-9 <= sdp + 2e-9
    assert sdp <= num(v, "glass_eigenvalue_bound_optimised") + 1e-5
    assert num(v, "glass_eigenvalue_bound_optimised") <= eig + 1e-9
    assert num(v, "glass_bound") >= best - 1e-9
    assert num(v, "glass_ground_states") == 2  # Gaussian couplings: no degeneracy but s, -s


def _gap_lp_bound(path: Path, problem: int) -> float:
    """The LP relaxation of an OR-Library GAP instance (minimisation), by scipy's linprog."""
    from scipy.optimize import linprog

    tokens = [int(t) for t in path.read_text().split()]
    pos = 1
    for _ in range(problem):
        m, n = tokens[pos], tokens[pos + 1]
        c = np.array(tokens[pos + 2 : pos + 2 + m * n], dtype=float).reshape(m, n)
        a = np.array(tokens[pos + 2 + m * n : pos + 2 + 2 * m * n], dtype=float).reshape(m, n)
        b = np.array(tokens[pos + 2 + 2 * m * n : pos + 2 + 2 * m * n + m], dtype=float)
        pos += 2 + 2 * m * n + m
    a_eq = np.kron(np.ones((1, m)), np.eye(n))  # sum_i x_ij = 1
    a_ub = np.kron(np.eye(m), np.ones((1, n))) * a.ravel()  # sum_j a_ij x_ij <= b_i
    res = linprog(c.ravel(), A_ub=a_ub, b_ub=b, A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1))
    assert res.status == 0
    return float(res.fun)


def test_dual_ascent_vs_backend(runs: Runs) -> None:
    v = runs.values("dual_ascent_vs_backend")
    optimum = 261  # OR-Library gap1 problem 1, minimisation (MANIFEST.md)
    assert v["highs_status"] == "optimal" and num(v, "highs_objective") == optimum
    bound, heur = num(v, "lagrangian_bound"), num(v, "heuristic_value")
    assert bound <= optimum + 1e-9 <= heur + 2e-9
    assert num(v, "lagrangian_bound_ceil") <= optimum
    assert num(v, "gap") == pytest.approx(heur - bound, abs=1e-5)
    # the knapsack relaxation is at least as strong as the LP relaxation (Geoffrion 1974)
    assert bound >= _gap_lp_bound(DATA / "gap" / "gap1.txt", 1) - 1e-6


def test_gap_three_ways(runs: Runs) -> None:
    v = runs.values("gap_three_ways")
    optimum = 261  # OR-Library gap1 problem 1, minimisation (MANIFEST.md)
    assert v["highs_status"] == "optimal" and num(v, "highs_objective") == optimum
    # the Lagrangian dual 260 (the Lagrangian-engine issue), reached by bundle and by the
    # master, and at least the LP relaxation's value (Geoffrion 1974)
    for key in ("bundle_bound", "dw_bound", "dw_master_value", "dw_certified_bound"):
        assert num(v, key) == pytest.approx(260.0, abs=1e-6), key
    assert num(v, "dw_bound") >= _gap_lp_bound(DATA / "gap" / "gap1.txt", 1) - 1e-6
    # the master's point: the relaxed rows and the capacities hold, its cost is the bound,
    # and it is fractional (260 < 261: a duality gap)
    assert num(v, "fractional_cost") == pytest.approx(260.0, abs=1e-6)
    assert num(v, "relaxed_rows_max_violation") <= 1e-9
    assert num(v, "capacity_max_excess") <= 1e-9
    assert num(v, "fractional_jobs") >= 1
    assert num(v, "dw_point_value") >= optimum and num(v, "bundle_heuristic_value") >= optimum
    # branch-and-bound closes the gap at the published optimum
    assert v["bnb_status"] == "optimal"
    assert num(v, "bnb_objective") == optimum and num(v, "bnb_bound") == optimum
    assert num(v, "bnb_root_bound") <= 260.0 + 1e-6 and num(v, "bnb_nodes") >= 2
