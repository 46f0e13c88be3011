"""Start-up of the command line: ``ortools-lag solve`` on a 2-variable LP against ``import numpy``.

All commands run as fresh processes, in alternating rounds (so that a busy machine slows them
alike); the script prints the median wall time of each and the ratios. The target is a ratio
of at most 3 to ``import numpy``: the CLI imports only what the chosen solver needs (check with
``python -X importtime -m ortools_lag.cli solve problems/model/reddy_mikks.yaml -q``).

Two reference commands put the ratio in context, since the machine's load moves it:

* ``import numpy, scipy.sparse`` -- the model layer stores constraint matrices as scipy.sparse
  arrays, and importing scipy.sparse alone loads ``numpy.f2py`` and ``numpy.testing`` (scipy's
  array-API layer touches every public attribute of numpy); the CLI's ratio to this command
  depends much less on the load than its ratio to ``import numpy``;
* ``dependency floor`` -- the third-party packages a YAML solve with HiGHS cannot do without
  (numpy, scipy.sparse, pydantic models for the file schema and the solver options, PyYAML,
  highspy): the CLI cannot start faster than this.

Every command runs with its bytecode cached, as an installed package runs: the script drops
``PYTHONDONTWRITEBYTECODE`` and keeps the ``.pyc`` files in a temporary ``PYTHONPYCACHEPREFIX``
(written by the warm-up round), so that compiling the sources is not timed (``--as-is`` keeps
the environment as it is: with ``PYTHONDONTWRITEBYTECODE=1`` and no ``.pyc`` files the package's
own modules are compiled on every start, some 0.1-0.2 s).

``--before DIR`` adds the CLI of another checkout (a directory holding ``ortools_lag/``), run in
the same rounds, to compare two versions under the same load.

    python benchmarks/bench_cli_startup.py            # 15 rounds
    python benchmarks/bench_cli_startup.py --quick    # 5 rounds
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LP = ROOT / "problems" / "model" / "reddy_mikks.yaml"  # max 5a + 4b, two rows: 2 variables
CLI = [sys.executable, "-m", "ortools_lag.cli", "solve", str(LP), "-q"]
FLOOR = "import numpy, scipy.sparse, yaml, highspy; from pydantic import BaseModel"
COMMANDS = {
    "import numpy": [sys.executable, "-c", "import numpy"],
    "numpy+scipy.sparse": [sys.executable, "-c", "import numpy, scipy.sparse"],
    "dependency floor": [sys.executable, "-c", FLOOR],
    "ortools-lag solve": CLI,
}


def _env(root: Path, cache: str | None) -> dict[str, str]:
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    if cache is not None:
        env["PYTHONPYCACHEPREFIX"] = cache
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _once(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    res = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    parser.add_argument("--rounds", type=int, default=None, help="number of rounds")
    parser.add_argument(
        "--before", type=Path, default=None, help="another checkout whose CLI runs alongside"
    )
    parser.add_argument(
        "--as-is", action="store_true", help="leave PYTHONDONTWRITEBYTECODE and the .pyc cache"
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    with tempfile.TemporaryDirectory(prefix="bench_cli_pyc_") as cache:
        med = _run(rounds, args.before, None if args.as_is else cache)
    return _print_ratios(med)


def _run(rounds: int, before: Path | None, cache: str | None) -> dict[str, float]:
    here = None if cache is None else os.path.join(cache, "here")
    runs = {name: (cmd, _env(ROOT, here)) for name, cmd in COMMANDS.items()}
    if before is not None:
        there = None if cache is None else os.path.join(cache, "before")
        runs["ortools-lag (before)"] = (CLI, _env(before.resolve(), there))
    times: dict[str, list[float]] = {name: [] for name in runs}
    for cmd, env in runs.values():  # one warm-up each (file cache, .pyc)
        _once(cmd, env)
    for _ in range(rounds):
        for name, (cmd, env) in runs.items():
            times[name].append(_once(cmd, env))
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(
            f"{name:<22} median {med[name]:.3f} s  (min {min(t):.3f}, max {max(t):.3f}, "
            f"{rounds} rounds)"
        )
    return med


def _print_ratios(med: dict[str, float]) -> int:
    base = med["import numpy"]
    print(f"ratio to import numpy: CLI {med['ortools-lag solve'] / base:.2f} (target <= 3)", end="")
    if "ortools-lag (before)" in med:
        print(f", before {med['ortools-lag (before)'] / base:.2f}", end="")
    print(f", floor {med['dependency floor'] / base:.2f}")
    sparse = med["numpy+scipy.sparse"]
    print(f"ratio to numpy+scipy.sparse: CLI {med['ortools-lag solve'] / sparse:.2f}", end="")
    if "ortools-lag (before)" in med:
        print(f", before {med['ortools-lag (before)'] / sparse:.2f}", end="")
    print(f", floor {med['dependency floor'] / sparse:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
