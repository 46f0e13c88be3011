"""A Dask cluster as users run it: ``dask scheduler`` and two ``dask worker`` processes.

The cluster is started here on 127.0.0.1 with free ports (``python -m distributed.cli...``)
and always shut down by the fixture's finalizer. A YAML model (OR-Library gap1 problem 1,
minimisation: one binary knapsack block per agent once the assignment rows are relaxed) names
the cluster with ``executor: {kind: dask, address: tcp://...}``. Known answers: the Lagrangian
dual value 260 of the issue's table (see ``test_dual_gap.py``), and the bound and multipliers of
the same run on the serial executor. One worker is then killed mid-solve: Dask recomputes its
resident blocks on the other worker and the solve ends with the same answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from ortools_lag import solve
from ortools_lag.io.gap import read_gap
from ortools_lag.spec.loader import load_file

from .certificates import check_solution
from .test_dual_gap import DATA, DUAL

pytest.importorskip("distributed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_workers(address: str, n: int, timeout: float = 20.0) -> list[str]:
    from dask.distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(n, timeout=timeout)
        return sorted(client.scheduler_info()["workers"])


@pytest.fixture(scope="module")
def cluster():
    """``(address, worker processes)`` of a scheduler and two single-threaded workers."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                 "--port", str(port), "--dashboard-address", ":0", "--no-show"],
                **quiet,
            )
        )  # fmt: skip
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address,
                     "--nthreads", "1", "--nworkers", "1", "--no-nanny",
                     "--host", "127.0.0.1", "--dashboard-address", ":0"],
                    **quiet,
                )
            )  # fmt: skip
        _wait_for_workers(address, 2)
        yield address, procs[1:]
    finally:
        for p in reversed(procs):  # the workers first, then the scheduler
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _gap_yaml(path: Path, executor: dict | None) -> Path:
    inst = read_gap(DATA / "gap" / "gap1.txt", 1)
    doc = {
        "schema_version": 1,
        "kind": "model",
        "name": "gap1_1",
        "variables": {"x": {"shape": list(inst.shape), "domain": "binary"}},
        "parameters": {
            "c": inst.cost.tolist(),
            "w": inst.weight.tolist(),
            "b": inst.capacity.tolist(),
        },
        "minimize": "sum(c * x)",
        "constraints": {
            "assign": {"expr": "sum(x, axis=0) == 1", "relax": True},
            "capacity": "sum(w * x, axis=1) <= b",
        },
        "solver": {
            "name": "bundle",
            "options": {"max_iter": 300, **({"executor": executor} if executor else {})},
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def _solve_file(path: Path, **extra):
    loaded = load_file(path)
    return loaded.problem, solve(
        loaded.problem, loaded.solver.name, **{**loaded.solver.options, **extra}
    )


def test_yaml_solve_on_a_cluster_survives_a_lost_worker(cluster, tmp_path: Path) -> None:
    address, workers = cluster
    problem, serial = _solve_file(_gap_yaml(tmp_path / "serial.yaml", None))
    spec = {"kind": "dask", "address": address}
    _, remote = _solve_file(_gap_yaml(tmp_path / "cluster.yaml", spec))
    for sol in (serial, remote):
        assert sol.bound == pytest.approx(DUAL["gap1"][0], rel=1e-4)
        assert sol.info["inner"] == "highs blocks (5)"
        # no point: a plain model has no heuristic; the bound is re-evaluated by HiGHS
        assert sol.kkt is not None and sol.kkt.certified
        assert sol.kkt.dual_objective == pytest.approx(sol.bound, rel=1e-6)
        if sol.ok:
            check_solution(problem.model, sol, duals=False)
    assert remote.bound == pytest.approx(serial.bound, rel=1e-9)
    np.testing.assert_allclose(remote.multipliers["assign"], serial.multipliers["assign"])
    assert remote.iterations == serial.iterations

    killed: list[int] = []

    def kill_one(progress) -> None:
        if progress.iteration == 5 and not killed:
            workers[0].kill()  # SIGKILL: no goodbye to the scheduler
            workers[0].wait()
            killed.append(progress.iteration)

    t0 = time.perf_counter()
    _, survived = _solve_file(tmp_path / "cluster.yaml", callback=kill_one)
    assert killed == [5] and workers[0].poll() is not None
    assert survived.bound == pytest.approx(serial.bound, rel=1e-9)
    np.testing.assert_allclose(survived.multipliers["assign"], serial.multipliers["assign"])
    assert survived.iterations == serial.iterations
    assert time.perf_counter() - t0 < 60
