"""Executors: the same blocks, the same answers, serially, in threads, processes and on Dask.

The Dask path runs against a ``LocalCluster`` started here. The answers compared are the
Lagrangian dual values of OR-Library GAP instances (see ``test_dual_gap.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ortools_lag import ModelError, solve
from ortools_lag.lagrangian import Lagrangian
from ortools_lag.parallel import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    ThreadExecutor,
    make_executor,
)

from .test_dual_gap import DUAL, gap_model, lp_bound


@pytest.fixture(scope="module")
def cluster():
    from dask import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as lc:
        yield lc


@pytest.fixture(scope="module")
def processes():
    with ProcessExecutor(workers=2) as ex:
        yield ex


def _square(v: float) -> float:
    return v * v


def test_make_executor_choices() -> None:
    ex, owned = make_executor(None)
    assert isinstance(ex, SerialExecutor) and owned
    th, owned = make_executor("threads", workers=2)
    assert isinstance(th, ThreadExecutor) and th.workers == 2 and owned
    assert th.map(_square, [1.0, 2.0, 3.0]) == [1.0, 4.0, 9.0]
    th.close()
    mine = SerialExecutor()
    assert make_executor(mine) == (mine, False)
    with pytest.raises(ModelError, match="valid choices: serial, threads, processes, dask"):
        make_executor("gpu")


def test_process_executor_keeps_order(processes: ProcessExecutor) -> None:
    assert processes.map(_square, list(range(7))) == [float(i * i) for i in range(7)]


def test_dask_executor_from_address(cluster) -> None:
    ex, owned = make_executor(cluster.scheduler_address)
    assert isinstance(ex, DaskExecutor) and owned and ex.workers == 2
    assert ex.map(_square, [2.0, 3.0]) == [4.0, 9.0]
    ex.close()


def test_same_dual_values_on_every_executor(cluster, processes: ProcessExecutor) -> None:
    from dask.distributed import Client

    model = gap_model("gap1", 2)
    rng = np.random.default_rng(7)
    lams = [-rng.uniform(5, 40, 15) for _ in range(3)]
    with Client(cluster) as client:
        values = {}
        for name, ex in [
            ("serial", None),
            ("threads", "threads"),
            ("processes", processes),
            ("dask", client),
        ]:
            lag = Lagrangian(model, relax=["assign"], executor=ex, workers=2)
            pts = [lag.evaluate(lam) for lam in lams]
            values[name] = [(p.lower, p.x) for p in pts]
            lag.close()
    for name, pts in values.items():
        for (q, x), (q0, x0) in zip(pts, values["serial"]):
            assert q == pytest.approx(q0, rel=1e-12), name
            np.testing.assert_array_equal(x, x0)


def _same_bounds(model, k: int, processes: ProcessExecutor, cluster, **kw) -> None:
    from dask.distributed import Client

    serial = solve(model, "bundle", relax=["assign"], max_iter=300, **kw)
    proc = solve(model, "bundle", relax=["assign"], max_iter=300, executor=processes, **kw)
    with Client(cluster) as client:
        dask = solve(model, "bundle", relax=["assign"], max_iter=300, executor=client, **kw)
    for sol in (serial, proc, dask):
        assert sol.bound == pytest.approx(DUAL["gap1"][k - 1], rel=1e-4)
        assert sol.kkt is not None and sol.kkt.certified
    assert proc.bound == pytest.approx(serial.bound, rel=1e-9)
    assert dask.bound == pytest.approx(serial.bound, rel=1e-9)
    assert proc.iterations == serial.iterations == dask.iterations


def test_same_bounds_serial_processes_dask(cluster, processes: ProcessExecutor) -> None:
    model = gap_model("gap1", 1)
    _, lam = lp_bound(model)  # a warm start from HiGHS's LP duals keeps the run short
    _same_bounds(model, 1, processes, cluster, warm_start=lam)


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_same_bounds_cold(k: int, cluster, processes: ProcessExecutor) -> None:
    _same_bounds(gap_model("gap1", k), k, processes, cluster)
