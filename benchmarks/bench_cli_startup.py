"""Start-up of the command line: ``ortools-lag solve`` on a 2-variable LP against ``import numpy``.

Both commands run as fresh processes, in alternating rounds (so that a busy machine slows both
alike); the script prints the median wall time of each and their ratio. The target is a ratio
of at most 3: the CLI imports only what the chosen solver needs (check with
``python -X importtime -m ortools_lag.cli solve problems/model/reddy_mikks.yaml -q``).

    python benchmarks/bench_cli_startup.py            # 15 rounds
    python benchmarks/bench_cli_startup.py --quick    # 5 rounds
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LP = ROOT / "problems" / "model" / "reddy_mikks.yaml"  # max 5a + 4b, two rows: 2 variables
COMMANDS = {
    "import numpy": [sys.executable, "-c", "import numpy"],
    "ortools-lag solve": [sys.executable, "-m", "ortools_lag.cli", "solve", str(LP), "-q"],
}


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
    args = parser.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 15)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for cmd in COMMANDS.values():  # one warm-up each (file cache, .pyc)
        _once(cmd, env)
    for _ in range(rounds):
        for name, cmd in COMMANDS.items():
            times[name].append(_once(cmd, env))
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(
            f"{name:<18} median {med[name]:.3f} s  (min {min(t):.3f}, max {max(t):.3f}, "
            f"{rounds} rounds)"
        )
    ratio = med["ortools-lag solve"] / med["import numpy"]
    print(f"ratio              {ratio:.2f}  (target <= 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
