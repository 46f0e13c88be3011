"""The ``ortools-lag`` command line (the YAML front end extends this module)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _solve(args: argparse.Namespace) -> int:
    from .errors import OrtoolsLagError
    from .io import read_mps
    from .solvers.dispatch import solve

    try:
        model = read_mps(args.file)
        sol = solve(model, args.solver)
    except OrtoolsLagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(sol.to_dict()))
    else:
        print(f"status     {sol.status}")
        print(f"objective  {sol.objective:.10g}")
        print(f"bound      {sol.bound:.10g}")
        print(f"gap        {sol.gap:.3g}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="ortools-lag")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("solve", help="solve an MPS file")
    p.add_argument("file")
    p.add_argument("--solver", default="auto")
    p.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return _solve(args)


if __name__ == "__main__":
    sys.exit(main())
