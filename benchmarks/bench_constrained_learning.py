"""Constrained learning: ``ortools_lag.torch.train`` vs Cooper (``cooper-optim``) on two tasks.

Both libraries train the same model from the same initial weights (``torch.manual_seed``) on
the same batches in the same order, with the same primal optimiser (Adam, same learning rate
and weight decay), the same dual rule (projected gradient ascent on the multipliers with the
same step size) and the same number of epochs. ``--mode simultaneous`` (default): ours
``GradientAscent(lr)``, Cooper's ``SimultaneousOptimizer`` with ``SGD(lr, maximize=True)`` on
``DenseMultiplier``\\ s; ``--mode alternating``: ours ``GradientAscent(lr, alternating=True)``,
Cooper's ``AlternatingPrimalDualOptimizer`` (with a ``compute_violations`` that skips the
loss). Every constraint is a *proxy* constraint: a differentiable surrogate (sigmoid rates)
drives the primal step and the true rate (thresholded predictions) moves the multiplier (ours:
``surrogate=``; Cooper: ``ConstraintState(violation=surrogate, strict_violation=true)``); both
sides call the very same Python callables for the objective and the constraints.

1. *fairness* (demographic parity) on a synthetic set generated here: a protected attribute
   ``a ~ Bernoulli(1/2)`` (not a feature), eight standard Gaussian features of which the first
   three are shifted by ``a / 2`` (the features reveal the attribute) and a label
   ``y = 1[x . w - 1.5 + noise > 0]`` leaning on the shifted features; 4000 training samples
   in batches of 200, 2000 held out. An unconstrained MLP 8-16-1 (ReLU) predicts positives
   far more often for ``a = 1``: its parity gap, printed, is about 0.27. Constraint
   ``|P(yhat = 1 | a = 0) - P(yhat = 1 | a = 1)| <= 0.02`` as two ``<=`` groups
   (``gap <= 0.02`` and ``-gap <= 0.02``), each with its own multiplier.
2. *recall*: logistic regression on scikit-learn's breast-cancer data (a stratified 70/30
   split, standardised by the training statistics, batches of 50), the malignant class as the
   positive one, ``recall >= 0.98`` on it, and Adam's weight decay 0.05 (without it the
   training set is nearly separable: the unconstrained training recall, 0.988, is above the
   target); the unconstrained model's training recall is printed (below the target: the
   constraint binds).

Printed per task and library: the objective (mean logistic loss) on the held-out data, the
constraint's held-out value and violation (``max(0, g)``, ``g <= 0`` the convention of both
libraries), the final multipliers, each the mean over the rounds, and the wall time of one
epoch: the median over every epoch of every round. Ours is read from
``Solution.history.seconds`` (the whole loop of ``train``: bookkeeping and history included);
Cooper's is the loop of ``roll`` calls a user writes (nothing else in it). What comes after
the epochs is reported apart (``end ms``, median): ours is ``train``'s certificate (the KKT
conditions measured on the held-out set) and the assembly of its ``Solution``; Cooper's is the
held-out loss and rates measured here. ``total s`` (mean) is the epochs plus that end. The
ratio is ours/Cooper of the time per epoch.

Round ``r`` uses seed ``r`` (the data of the fairness task, the split of the recall task, the
initial weights) on both sides; the rounds alternate between the libraries (ours first in even
rounds, Cooper first in odd ones, each after a pause) after one untimed warm-up run of each on
seed 0, whose parameters and multipliers must agree between the libraries (they do to
rounding). Over hundreds of steps that rounding eventually flips a thresholded prediction
and the two runs part; hence several seeds, and the per-seed differences are printed. Both
libraries run with ``torch.set_num_threads(--threads)`` (default 1). Ours must match its own
``Solution`` (the held-out objective and constraint values recomputed here from the model).

The held-out tolerance of a constraint is two binomial standard errors of its held-out
estimate at the target (:func:`held_out_tolerance`): a held-out violation within it is as close
to the target as the held-out sample can tell; whether each library meets it on every seed is
printed. Goal: the same or a better held-out violation and objective than Cooper's, and a wall
time per epoch at most 1.1x Cooper's. ``--quick`` (CI): fewer epochs and two rounds, under a minute.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

PAUSE = 0.25  # seconds before each timed round
TARGET_GAP = 0.02
TARGET_RECALL = 0.98
TOL = 0.02  # our certificate's tolerance (only its status depends on it)
AGREE = 1e-4  # parameters and multipliers of the two libraries after the warm-up epochs

Batch = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class Group:
    """One proxy constraint ``fn(out, batch) {sense} rhs``, ``surrogate`` driving the primal."""

    name: str
    fn: Callable[[torch.Tensor, Batch], torch.Tensor]
    surrogate: Callable[[torch.Tensor, Batch], torch.Tensor]
    sense: str
    rhs: float

    def g(self, value: Any) -> Any:
        """The violation in the ``g <= 0`` convention."""
        return self.rhs - value if self.sense == ">=" else value - self.rhs


@dataclass(frozen=True)
class Task:
    name: str
    make_model: Callable[[], torch.nn.Module]
    batches: list[Batch]
    held_out: Batch
    groups: list[Group]
    label: str  # what the constraint column shows
    shown: Callable[[dict[str, float]], float]  # that value from the groups' values
    lr: float
    dual_lr: float
    epochs: int
    weight_decay: float = 0.0
    seed: int = 0


def forward(net: torch.nn.Module) -> Callable[[Batch], torch.Tensor]:
    return lambda b: net(b[0]).squeeze(-1)


def objective(out: torch.Tensor, b: Batch) -> torch.Tensor:
    return torch.nn.functional.binary_cross_entropy_with_logits(out, b[1])


def soft_rate(out: torch.Tensor, b: Batch) -> torch.Tensor:
    """``<sigmoid(out), b[2]>``: a rate (or a difference of rates) of predicted positives."""
    return (torch.sigmoid(out) * b[2]).sum()


def true_rate(out: torch.Tensor, b: Batch) -> torch.Tensor:
    """``<1[out > 0], b[2]>``: the same with thresholded predictions."""
    return ((out > 0).to(out.dtype) * b[2]).sum()


def minus(fn: Callable[[torch.Tensor, Batch], torch.Tensor]) -> Callable[..., torch.Tensor]:
    return lambda out, b: -fn(out, b)


def batches_of(tensors: tuple[torch.Tensor, ...], size: int) -> list[tuple[torch.Tensor, ...]]:
    n = tensors[0].shape[0]
    return [tuple(t[i : i + size] for t in tensors) for i in range(0, n, size)]


def fairness_task(seed: int, epochs: int, n_train: int = 4000, batch: int = 200) -> Task:
    """Batches ``(X, y, d)``, ``d = a / n_1 - (1 - a) / n_0``: ``<p, d>`` is the rate gap."""
    rng = np.random.default_rng(seed)
    n = n_train + n_train // 2
    a = rng.integers(0, 2, size=n).astype(np.float32)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    X[:, :3] += 0.5 * a[:, None]
    w = np.array([1.5, 1.0, 1.0, -1.0, 0.5, 0.0, 0.0, 0.5], dtype=np.float32)
    y = (X @ w - 1.5 + 0.5 * rng.normal(size=n) > 0).astype(np.float32)

    def with_gap(X: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> Batch:
        return X, y, a / a.sum() - (1 - a) / (1 - a).sum()

    T = [torch.from_numpy(v) for v in (X, y, a)]
    train = tuple(t[:n_train] for t in T)
    batches = [with_gap(*b) for b in batches_of(train, batch)]

    def mlp() -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    groups = [
        Group("gap_up", true_rate, soft_rate, "<=", TARGET_GAP),
        Group("gap_down", minus(true_rate), minus(soft_rate), "<=", TARGET_GAP),
    ]
    return Task(
        "fairness", mlp, batches, with_gap(*(t[n_train:] for t in T)), groups, "|DP gap|",
        lambda v: max(v["gap_up"], v["gap_down"]), lr=1e-2, dual_lr=0.05, epochs=epochs,
        seed=seed,
    )  # fmt: skip


def recall_task(seed: int, epochs: int, batch: int = 50) -> Task:
    """Batches ``(X, y, y / n_pos)``: ``<p, y / n_pos>`` is the recall."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, t = load_breast_cancer(return_X_y=True)
    y = (t == 0).astype(np.float64)  # malignant is class 0 in scikit-learn
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    Xtr_, ytr_, Xte_, yte_ = (
        torch.tensor(v, dtype=torch.float32) for v in ((Xtr - mu) / sd, ytr, (Xte - mu) / sd, yte)
    )

    def with_pos(X: torch.Tensor, y: torch.Tensor) -> Batch:
        return X, y, y / y.sum()

    batches = [with_pos(*b) for b in batches_of((Xtr_, ytr_), batch)]
    groups = [Group("recall", true_rate, soft_rate, ">=", TARGET_RECALL)]
    return Task(
        "recall", lambda: torch.nn.Linear(30, 1), batches, with_pos(Xte_, yte_), groups,
        "recall", lambda v: v["recall"], lr=1e-2, dual_lr=0.1, epochs=epochs,
        weight_decay=0.05, seed=seed,
    )  # fmt: skip


# -- the two libraries -----------------------------------------------------------------------


@dataclass
class Run:
    objective: float
    values: dict[str, float]  # each group's held-out constraint value
    multipliers: dict[str, float]
    epoch_s: list[float]
    end_s: float
    params: list[torch.Tensor]

    def violation(self, task: Task) -> float:
        return max(max(0.0, g.g(self.values[g.name])) for g in task.groups)


def model_and_adam(task: Task) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(task.seed)
    net = task.make_model()
    adam = torch.optim.Adam(net.parameters(), lr=task.lr, weight_decay=task.weight_decay)
    return net, adam


@torch.no_grad()
def held_out(net: torch.nn.Module, task: Task) -> tuple[float, dict[str, float]]:
    """The held-out objective and constraint values, measured here on the trained model."""
    b = task.held_out
    out = forward(net)(b)
    return float(objective(out, b)), {g.name: float(g.fn(out, b)) for g in task.groups}


def run_ours(task: Task, epochs: int, alternating: bool) -> Run:
    from ortools_lag.torch import ConstrainedProblem, GradientAscent, train

    net, adam = model_and_adam(task)
    p = ConstrainedProblem(objective, forward=forward(net), name=task.name)
    for g in task.groups:
        p.add(g.name, g.fn, g.sense, g.rhs, surrogate=g.surrogate)  # type: ignore[arg-type]
    rule = GradientAscent(lr=task.dual_lr, alternating=alternating)
    sol = train(
        p, net, adam, task.batches, rule=rule, epochs=epochs, eval_data=[task.held_out], tol=TOL
    )
    seconds = np.asarray(sol.history.seconds)
    f, values = held_out(net, task)
    assert math.isclose(sol.objective, f, rel_tol=1e-5, abs_tol=1e-7), (sol.objective, f)
    for k, v in values.items():
        ours = float(sol.info["constraint_values"][k])
        assert math.isclose(ours, v, abs_tol=1e-6), (k, ours, v)
    return Run(
        f,
        values,
        {k: float(np.asarray(v).reshape(-1)[0]) for k, v in sol.multipliers.items()},
        list(np.diff(seconds, prepend=0.0)),
        sol.seconds - float(seconds[-1]),
        [q.detach().clone() for q in net.parameters()],
    )


def run_cooper(task: Task, epochs: int, alternating: bool) -> Run:
    import cooper

    net, adam = model_and_adam(task)
    fwd = forward(net)

    class CMP(cooper.ConstrainedMinimizationProblem):
        def __init__(self) -> None:
            super().__init__()
            self.pairs = []
            for g in task.groups:
                c = cooper.Constraint(
                    constraint_type=cooper.ConstraintType.INEQUALITY,
                    formulation_type=cooper.formulations.Lagrangian,
                    multiplier=cooper.multipliers.DenseMultiplier(num_constraints=1),
                )
                setattr(self, g.name, c)  # registers the constraint under its name
                self.pairs.append((g, c))

        def compute_cmp_state(self, batch: Batch) -> cooper.CMPState:
            out = fwd(batch)
            observed = {}
            for g, c in self.pairs:
                sur = g.g(g.surrogate(out, batch))
                with torch.no_grad():
                    strict = g.g(g.fn(out, batch))
                observed[c] = cooper.ConstraintState(violation=sur, strict_violation=strict)
            return cooper.CMPState(loss=objective(out, batch), observed_constraints=observed)

        def compute_violations(self, batch: Batch) -> cooper.CMPState:  # alternating only
            out = fwd(batch)
            observed = {c: cooper.ConstraintState(violation=g.g(g.fn(out, batch)))
                        for g, c in self.pairs}  # fmt: skip
            return cooper.CMPState(observed_constraints=observed)

    cmp = CMP()
    dual = torch.optim.SGD(cmp.dual_parameters(), lr=task.dual_lr, maximize=True)
    kind = "AlternatingPrimalDualOptimizer" if alternating else "SimultaneousOptimizer"
    opt = getattr(cooper.optim, kind)(cmp, adam, dual)
    kwargs: dict[str, Any] = {}
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for b in task.batches:
            kwargs["compute_cmp_state_kwargs"] = {"batch": b}
            if alternating:
                kwargs["compute_violations_kwargs"] = {"batch": b}
            opt.roll(**kwargs)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    f, values = held_out(net, task)
    lam = {k: float(m.weight.detach().reshape(-1)[0]) for k, m in cmp.named_multipliers()}
    end = time.perf_counter() - t0
    return Run(f, values, lam, times, end, [q.detach().clone() for q in net.parameters()])


def unconstrained(task: Task) -> tuple[float, float]:
    """The constraint's value (training set, held-out set) when trained without it."""
    net, adam = model_and_adam(task)
    fwd = forward(net)
    for _ in range(task.epochs):
        for b in task.batches:
            adam.zero_grad(set_to_none=True)
            objective(fwd(b), b).backward()
            adam.step()
    n = sum(b[0].shape[0] for b in task.batches)
    with torch.no_grad():
        train = {g.name: sum(float(g.fn(fwd(b), b)) * b[0].shape[0] / n for b in task.batches)
                 for g in task.groups}  # fmt: skip
    return task.shown(train), task.shown(held_out(net, task)[1])


# -- the report ------------------------------------------------------------------------------

RUNNERS = {"ours": run_ours, "cooper": run_cooper}


def agreement(a: Run, b: Run) -> float:
    dp = max(float((p - q).abs().max()) for p, q in zip(a.params, b.params))
    return max(dp, *(abs(a.multipliers[k] - b.multipliers[k]) for k in a.multipliers))


def held_out_tolerance(task: Task) -> float:
    """Two binomial standard errors of the held-out estimate of the constraint at its target:
    ``sqrt(r (1 - r) / n_pos)`` for a recall ``r`` on ``n_pos`` held-out positives, and at most
    ``sqrt(0.25 (1 / n_0 + 1 / n_1))`` for a difference of two groups' positive rates. A
    held-out value within it of the target is as close as that sample can tell."""
    d = task.held_out[2]
    target = abs(task.groups[0].rhs)
    if bool((d < 0).any()):  # a difference of rates: d = a / n_1 - (1 - a) / n_0
        n1, n0 = int((d > 0).sum()), int((d < 0).sum())
        return 2.0 * math.sqrt(0.25 * (1.0 / n1 + 1.0 / n0))
    n_pos = int((d > 0).sum())
    return 2.0 * math.sqrt(target * (1.0 - target) / n_pos)


def report(make: Callable[[int], Task], repeat: int, alternating: bool) -> None:
    warm = make(0)
    w = {k: fn(warm, min(2, warm.epochs), alternating) for k, fn in RUNNERS.items()}
    diff = agreement(w["ours"], w["cooper"])
    assert diff < AGREE, f"{warm.name}: the libraries part after the warm-up epochs ({diff:.1e})"
    runs: dict[str, list[Run]] = {k: [] for k in RUNNERS}
    tasks, free = [], []
    for r in range(repeat):
        task = make(r)
        tasks.append(task)
        free.append(unconstrained(task))
        for name in list(RUNNERS) if r % 2 == 0 else list(RUNNERS)[::-1]:
            time.sleep(PAUSE)
            runs[name].append(RUNNERS[name](task, task.epochs, alternating))
    g0 = warm.groups[0]
    print(
        f"\n{warm.name}: {warm.epochs} epochs x {len(warm.batches)} batches, Adam lr "
        f"{warm.lr:g} (weight decay {warm.weight_decay:g}), dual lr {warm.dual_lr:g}; "
        f"constraint {g0.sense} {g0.rhs:g}; seeds 0-{repeat - 1}"
    )
    print(
        f"  unconstrained {warm.label}: {statistics.mean(f[0] for f in free):.4f} (train), "
        f"{statistics.mean(f[1] for f in free):.4f} (held-out); the two libraries after "
        f"{min(2, warm.epochs)} warm-up epochs: max |difference| {diff:.1e}"
    )
    print(
        f"  {'library':7s} {'objective':>9s} {warm.label:>9s} {'violation':>9s} "
        f"{'multipliers':>13s} {'ms/epoch':>9s} {'end ms':>7s} {'total s':>8s}"
    )
    per_epoch = {}
    for name, rs in runs.items():
        per_epoch[name] = statistics.median(t for r in rs for t in r.epoch_s)
        lam = ",".join(
            f"{statistics.mean(r.multipliers[g.name] for r in rs):.3f}" for g in warm.groups
        )
        print(
            f"  {name:7s} {statistics.mean(r.objective for r in rs):9.4f} "
            f"{statistics.mean(t.shown(r.values) for t, r in zip(tasks, rs)):9.4f} "
            f"{statistics.mean(r.violation(t) for t, r in zip(tasks, rs)):9.4f} {lam:>13s} "
            f"{1e3 * per_epoch[name]:9.3f} {1e3 * statistics.median(r.end_s for r in rs):7.2f} "
            f"{statistics.mean(sum(r.epoch_s) + r.end_s for r in rs):8.3f}"
        )
    pairs = list(zip(tasks, runs["ours"], runs["cooper"]))
    d_obj = " ".join(f"{o.objective - c.objective:+.1e}" for _, o, c in pairs)
    d_viol = " ".join(f"{o.violation(t) - c.violation(t):+.1e}" for t, o, c in pairs)
    print(f"  ours - cooper per seed: objective {d_obj}; violation {d_viol}")
    tol = statistics.mean(held_out_tolerance(t) for t in tasks)
    meets = {
        name: all(r.violation(t) <= held_out_tolerance(t) for t, r in zip(tasks, rs))
        for name, rs in runs.items()
    }
    for name, rs in runs.items():
        shown = " ".join(f"{t.shown(r.values):.4f}" for t, r in zip(tasks, rs))
        print(f"  {name} held-out {warm.label} per seed: {shown}")
    print(
        f"  held-out tolerance (two standard errors of the held-out estimate): {tol:.4f}; "
        + ", ".join(f"{k} meets it on every seed: {'yes' if v else 'no'}" for k, v in meets.items())
    )
    print(f"  ours/cooper time per epoch: {per_epoch['ours'] / per_epoch['cooper']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer epochs and rounds, for CI")
    ap.add_argument("--repeat", type=int, default=5, help="timed rounds (seeds) of each library")
    ap.add_argument("--threads", type=int, default=1, help="torch threads, both libraries")
    ap.add_argument("--mode", choices=["simultaneous", "alternating"], default="simultaneous")
    ap.add_argument("--tasks", nargs="+", choices=["fairness", "recall"], default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import cooper

    scale = 0.2 if args.quick else 1.0
    repeat = 2 if args.quick else args.repeat
    makers: dict[str, Callable[[int], Task]] = {
        "fairness": lambda seed: fairness_task(seed, max(2, round(40 * scale))),
        "recall": lambda seed: recall_task(seed, max(2, round(100 * scale))),
    }
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); cooper "
        f"{cooper.__version__}; {args.mode} gradient ascent; {repeat} timed rounds each "
        "(alternating between the libraries)"
    )
    for name in args.tasks or list(makers):
        report(makers[name], repeat, args.mode == "alternating")


if __name__ == "__main__":
    main()
